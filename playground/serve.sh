#!/usr/bin/env bash
# Serves the built playground (playground/build.sh) on localhost: playground/serve.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8000}"
dir=target/playground
if [ ! -f "$dir/index.html" ]; then
    echo "serve.sh: $dir is not built yet; run playground/build.sh first" >&2
    exit 1
fi
echo "tapegrad playground: http://127.0.0.1:$port/ (Ctrl-C stops the server)"
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dir"
