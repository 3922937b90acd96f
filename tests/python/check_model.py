"""Cross-check a tapegrad model file with an independent reader: safetensors + NumPy.

Usage: python check_model.py MODEL.safetensors CASES.txt
       python check_model.py --write MODEL.safetensors CASES.txt


CASES.txt has one case per line: the inputs, a '|', then tapegrad's predictions, all as
round-trip decimal text. This script loads the weights with safetensors' NumPy loader, reads
the architecture from the file's metadata, recomputes every forward pass with NumPy
(act(W @ x + b) per layer, as torch.nn.Linear does) and fails unless every prediction agrees
with tapegrad's to 1e-12.

With --write it goes the other way: it writes a model with NumPy's safetensors writer and the
NumPy predictions for some inputs, for tapegrad to load and recompute.
"""

import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

TOLERANCE = 1e-12

ACTIVATIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
}


def load(path):
    with safe_open(path, framework="np") as f:
        meta = f.metadata()
    assert meta["format"] == "tapegrad.mlp", meta
    assert meta["format_version"] == "1", meta
    sizes = [int(s) for s in meta["sizes"].split(",")]
    acts = meta["activations"].split(",")
    tensors = load_file(path)
    layers = []
    for l, act in enumerate(acts):
        w = tensors.pop(f"layers.{l}.weight")
        b = tensors.pop(f"layers.{l}.bias")
        assert w.dtype == np.float64 and b.dtype == np.float64
        assert w.shape == (sizes[l + 1], sizes[l]), (w.shape, sizes)
        assert b.shape == (sizes[l + 1],), (b.shape, sizes)
        layers.append((w, b, ACTIVATIONS[act]))
    assert not tensors, f"unexpected tensors {sorted(tensors)}"
    return sizes, acts, layers


def forward(layers, x):
    for w, b, act in layers:
        x = act(w @ x + b)
    return x


def main(model_path, cases_path):
    sizes, acts, layers = load(model_path)
    worst = 0.0
    count = 0
    with open(cases_path) as f:
        for line in f:
            if not line.strip():
                continue
            xs, ys = line.split("|")
            x = np.array([float(v) for v in xs.split()], dtype=np.float64)
            expected = np.array([float(v) for v in ys.split()], dtype=np.float64)
            got = forward(layers, x)
            diff = float(np.max(np.abs(got - expected)))
            if not diff <= TOLERANCE:
                print(f"MISMATCH {model_path}: x={x} numpy={got} tapegrad={expected} diff={diff:e}")
                return 1
            worst = max(worst, diff)
            count += 1
    arch = "-".join(map(str, sizes))
    print(
        f"{model_path.rsplit('/', 1)[-1]}: {arch} {'/'.join(acts)}: {count} cases, "
        f"max |numpy - tapegrad| = {worst:.3e} (tolerance {TOLERANCE:g})"
    )
    return 0


def write(model_path, cases_path):
    rng = np.random.default_rng(2019)
    sizes, acts = [3, 4, 2], ["tanh", "sigmoid"]
    tensors = {}
    layers = []
    for l, act in enumerate(acts):
        w = rng.standard_normal((sizes[l + 1], sizes[l]))
        b = rng.standard_normal(sizes[l + 1])
        tensors[f"layers.{l}.weight"], tensors[f"layers.{l}.bias"] = w, b
        layers.append((w, b, ACTIVATIONS[act]))
    meta = {
        "format": "tapegrad.mlp",
        "format_version": "1",
        "sizes": ",".join(map(str, sizes)),
        "activations": ",".join(acts),
    }
    save_file(tensors, model_path, metadata=meta)
    with open(cases_path, "w") as f:
        for _ in range(50):
            x = rng.uniform(-3, 3, sizes[0])
            y = forward(layers, x)
            f.write(" ".join(map(repr, map(float, x))) + " | " + " ".join(map(repr, map(float, y))) + "\n")
    print(f"wrote {model_path.rsplit('/', 1)[-1]}: 3-4-2 tanh/sigmoid with NumPy, 50 cases")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "--write":
        sys.exit(write(sys.argv[2], sys.argv[3]))
    sys.exit(main(sys.argv[1], sys.argv[2]))
