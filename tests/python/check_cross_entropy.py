"""Cross-check tapegrad's softmax cross-entropy and its gradient with NumPy, by hand.

Usage: python check_cross_entropy.py MODEL.safetensors CASES.txt

The model is read as check_model.py reads it (safetensors' NumPy loader, the architecture from
the metadata). CASES.txt has one line per sample, `inputs | class | loss | gradient`, and one
line `batch | loss | gradient` for the mean over all the samples, all as round-trip decimal
text; the gradient is with respect to every parameter in tapegrad's order (layer by layer,
neuron by neuron, its weights then its bias). This script recomputes each forward pass, the
loss ln(sum_k e^(z_k)) - z_c with the largest logit subtracted, and the gradient by
backpropagation written out here (softmax(z) - onehot(c), then each layer's chain rule), and
fails unless every number agrees with tapegrad's to 1e-12.
"""

import sys

import numpy as np

from check_model import load

TOLERANCE = 1e-12

DERIVATIVES = {  # d act(z) / dz, from the activation's output a = act(z) and z
    "sigmoid": lambda a, z: a * (1.0 - a),
    "tanh": lambda a, z: 1.0 - a * a,
    "relu": lambda a, z: (z > 0.0).astype(np.float64),
    "identity": lambda a, z: np.ones_like(z),
}


def loss_and_gradient(layers, acts, x, c):
    # Forward, keeping each layer's input, pre-activation and output.
    tape = []
    a = x
    for (w, b, act), name in zip(layers, acts):
        z = w @ a + b
        out = act(z)
        tape.append((a, z, out, name))
        a = out
    logits = a
    m = np.max(logits)
    e = np.exp(logits - m)
    s = np.sum(e)
    loss = np.log(s) - (logits[c] - m)
    # Backward: dL/dlogits = softmax - onehot, then delta = dL/da * act'(z) per layer.
    grad_a = e / s
    grad_a[c] -= 1.0
    grads = []
    for (w, b, _), (a_in, z, out, name) in reversed(list(zip(layers, tape))):
        delta = grad_a * DERIVATIVES[name](out, z)
        dw = np.outer(delta, a_in)
        db = delta
        grads.append(np.concatenate([dw, db[:, None]], axis=1).ravel())
        grad_a = w.T @ delta
    return loss, np.concatenate(list(reversed(grads)))


def main(model_path, cases_path):
    sizes, acts, layers = load(model_path)
    numbers = lambda s: np.array([float(v) for v in s.split()], dtype=np.float64)
    worst_loss = worst_grad = 0.0
    samples = []
    count = 0
    with open(cases_path) as f:
        for line in f:
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if parts[0] == "batch":
                want_loss, want_grad = float(parts[1]), numbers(parts[2])
                results = [loss_and_gradient(layers, acts, x, c) for x, c in samples]
                got_loss = np.mean([r[0] for r in results])
                got_grad = np.mean([r[1] for r in results], axis=0)
                what = f"batch of {len(samples)}"
            else:
                x, c = numbers(parts[0]), int(parts[1])
                want_loss, want_grad = float(parts[2]), numbers(parts[3])
                samples.append((x, c))
                got_loss, got_grad = loss_and_gradient(layers, acts, x, c)
                what = f"x={x} class {c}"
            dl = abs(got_loss - want_loss)
            dg = float(np.max(np.abs(got_grad - want_grad)))
            if not (dl <= TOLERANCE and dg <= TOLERANCE):
                print(
                    f"MISMATCH {model_path}: {what}: loss numpy={got_loss!r} tapegrad={want_loss!r}, "
                    f"max gradient difference {dg:e}"
                )
                return 1
            worst_loss, worst_grad = max(worst_loss, dl), max(worst_grad, dg)
            count += 1
    arch = "-".join(map(str, sizes))
    print(
        f"cross-entropy {model_path.rsplit('/', 1)[-1]}: {arch} {'/'.join(acts)}: {count} cases, "
        f"max |numpy - tapegrad| loss {worst_loss:.3e}, gradient {worst_grad:.3e} "
        f"(tolerance {TOLERANCE:g})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
