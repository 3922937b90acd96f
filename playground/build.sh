#!/usr/bin/env bash
# Builds the browser playground into target/playground/ (serve it with playground/serve.sh).
#
# Installs what it needs: the wasm32-unknown-unknown target (rustup), wasm-bindgen-cli at the
# version playground/Cargo.toml pins (crates.io), and the page's npm packages (from the lock file).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/playground

version="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' playground/Cargo.toml)"
[ -n "$version" ] || { echo "build.sh: no exact wasm-bindgen version in playground/Cargo.toml" >&2; exit 1; }

rustup target add wasm32-unknown-unknown
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $version" ]; then
    # The CLI must match the crate exactly (it checks the schema version embedded in the wasm).
    # --locked first, for the dependency versions the release was tested with; if the registry
    # cannot serve one of those exact versions, let cargo resolve compatible ones. --debug: it
    # compiles without optimisation (16 minutes on a busy two-core machine where the release
    # build took 20) and writes the same bytes for this small module in under a second.
    cargo install --debug --locked wasm-bindgen-cli --version "$version" \
        || cargo install --debug wasm-bindgen-cli --version "$version"
fi

cargo build -p tapegrad-playground --release --target wasm32-unknown-unknown
rm -rf "$out"
mkdir -p "$out/pkg" "$out/vendor"
wasm-bindgen --target web --no-typescript --out-dir "$out/pkg" \
    target/wasm32-unknown-unknown/release/tapegrad_playground.wasm

(cd playground && npm ci --no-audit --no-fund --loglevel=error)
# Graphviz compiled to WebAssembly, one self-contained ES module: served from here, no CDN.
cp playground/node_modules/@viz-js/viz/dist/viz.js "$out/vendor/viz.js"
cp playground/web/* "$out/"
echo "built $out ($(du -sh "$out" | cut -f1)); serve it with: playground/serve.sh"
