"""High-precision reference values for tests/numerics.rs: every scalar op's value and
derivative, and every fused loss's, over a grid with extremes and subnormals.

Run:  python3 -m venv /tmp/mp && /tmp/mp/bin/pip install mpmath
      /tmp/mp/bin/python tests/python/numerics_reference.py > tests/data/numerics.csv

Each row: op, a, b, value, d/da, d/db, abs_tol. Inputs are Python reprs (they parse to the
same f64 in Rust); references are mpmath results at 80 significant digits, written with 25, so
they round to the nearest f64 when parsed. `nan` marks a result that is not a real number (the
op must give NaN), `inf`/`-inf` a true result beyond f64's range (the op may give that infinity
or, for a limit such as ln 0, must). abs_tol is empty where the test's rule applies (relative
error <= 1e-12, or a few units of the smallest subnormal); a number where src/numerics.md
documents a looser bound for that row, with the reason in the last column.
"""
import math
import sys
from mpmath import mp, mpf

mp.dps = 80
EPS = 2.0 ** -52
MAX = sys.float_info.max
TINY = 5e-324
MIN_NORMAL = 2.2250738585072014e-308

def fmt(v):
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if mp.isnan(v):
        return "nan"
    if mp.isinf(v):
        return "inf" if v > 0 else "-inf"
    # Beyond f64's range: the true result is not finite in f64.
    if abs(v) >= mpf(MAX) * (1 + mpf(2) ** -54):
        return "inf" if v > 0 else "-inf"
    return mp.nstr(v, 25, strip_zeros=False, min_fixed=1, max_fixed=0)

rows = []

def row(op, a, b, value, da, db=None, tol=None, why=""):
    rows.append((op, repr(a), "" if b is None else repr(b), fmt(value), fmt(da), fmt(db),
                 "" if tol is None else repr(tol), why))

# A grid with zeros, subnormals, the smallest normal, moderate values, the points where the
# ops' forms switch or saturate, and the largest finite values.
mags = [TINY, 1e-320, MIN_NORMAL, 1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.1, 0.25, 0.5,
        0.5493061443340549, 0.55, 1.0, 1.5, 2.0, 3.0, 10.0, 18.5, 19.0, 20.0, 30.0, 36.0,
        37.0, 40.0, 100.0, 354.0, 372.0, 400.0, 700.0, 709.0, 709.78, 709.79, 710.0, 745.0,
        745.2, 746.0, 1000.0, 1e10, 1e20, 1e100, 1e300, MAX]
grid = [0.0, -0.0] + [s * m for m in mags for s in (1.0, -1.0)]

def X(x):
    return mpf(x)

for x in grid:
    v = X(x)
    # sigmoid
    # Stable forms: 1 - s = 1 / (1 + e^x), so no digits are lost however large |x| is.
    s = 1 / (1 + mp.exp(-v))
    row("sigmoid", x, None, s, 1 / ((1 + mp.exp(-v)) * (1 + mp.exp(v))))
    # tanh; d/dx = sech(x)^2 (computed directly, not as 1 - tanh^2)
    row("tanh", x, None, mp.tanh(v), mp.sech(v) ** 2)
    # relu: derivative 1 where the output is > 0, else 0 (0 at the kink)
    row("relu", x, None, v if x > 0 else mpf(0), mpf(1) if x > 0 else mpf(0))
    # exp
    e = mp.exp(v)
    row("exp", x, None, e, e)
    # ln: -inf at 0 (a limit), NaN below 0
    if x > 0:
        row("ln", x, None, mp.log(v), 1 / v)
    elif x == 0:
        row("ln", x, None, "-inf", "inf" if math.copysign(1, x) > 0 else "-inf")
    else:
        row("ln", x, None, "nan", 1 / v)
    # sin, cos
    row("sin", x, None, mp.sin(v), mp.cos(v))
    row("cos", x, None, mp.cos(v), -mp.sin(v))
    # sqrt: +inf derivative at 0, NaN below
    if x > 0:
        r = mp.sqrt(v)
        row("sqrt", x, None, r, 1 / (2 * r))
    elif x == 0:
        # the derivative is the limit from above, +inf, at -0.0 too (src/numerics.md)
        row("sqrt", x, None, mpf(0), "inf")
    else:
        row("sqrt", x, None, "nan", "nan")
    # abs: derivative sign(x), 0 at the kink
    row("abs", x, None, abs(v), mpf(1) if x > 0 else (mpf(-1) if x < 0 else mpf(0)))
    # square
    row("square", x, None, v * v, 2 * v)
    # neg
    row("neg", x, None, -v, mpf(-1))

# Binary ops on pairs from a coarser grid (d/da, d/db).
pair_grid = [0.0, TINY, -1e-320, MIN_NORMAL, 1e-300, -1e-10, 0.3, -0.5, 1.0, 1.0000000000000002,
             -2.0, 3.0, 1e10, -1e155, 1e160, 1e300, -MAX, MAX]
for a in pair_grid:
    for b in pair_grid:
        A, B = X(a), X(b)
        row("add", a, b, A + B, mpf(1), mpf(1))
        row("sub", a, b, A - B, mpf(1), mpf(-1))
        row("mul", a, b, A * B, B, A)
        if b != 0:
            row("div", a, b, A / B, 1 / B, -A / (B * B))
        if a > b:
            row("max", a, b, A, mpf(1), mpf(0))
            row("min", a, b, B, mpf(0), mpf(1))
        elif a < b:
            row("max", a, b, B, mpf(0), mpf(1))
            row("min", a, b, A, mpf(1), mpf(0))
        else:
            row("max", a, b, A, mpf("0.5"), mpf("0.5"))
            row("min", a, b, A, mpf("0.5"), mpf("0.5"))

# powf (x, p), derivative with respect to x; 0 when p = 0.
for x in [TINY, MIN_NORMAL, 1e-300, 1e-5, 0.5, 1.0, 1.0000000000000002, 2.0, 10.0, 1e10, 1e300, MAX]:
    for p in [0.0, 0.5, -0.5, 1.0, 2.0, 3.0, -1.0, -2.0, 1.5, 0.1, 1e-20, 100.0, -100.0, 1e16]:
        X_, P = X(x), X(p)
        d = mpf(0) if p == 0 else P * X_ ** (P - 1)
        row("powf", x, p, X_ ** P, d)
# powi (x, n); derivative 0 when n = 0; n = i32::MIN included.
I32_MIN, I32_MAX = -2 ** 31, 2 ** 31 - 1
for x in [TINY, 1e-300, 0.5, -0.5, 0.9, 1.0, -1.0, 1.0000000000000002, 2.0, -3.0, 10.0, 1e300]:
    for n in [0, 1, 2, 3, -1, -2, 10, -10, 100, 1000, -1000, 2 ** 20, I32_MAX, I32_MIN]:
        X_ = X(x)
        d = mpf(0) if n == 0 else n * X_ ** (n - 1)
        rows.append(("powi", repr(x), str(n), fmt(X_ ** n), fmt(d), "", "", ""))

# Fused losses on one output o with target t (the mean over one output is the term itself).
loss_z = [0.0, -0.0, TINY, -TINY, 1e-300, 1e-10, -1e-10, 0.5, -0.5, 1.0, -1.0, 2.0, 10.0, -10.0,
          20.0, 30.0, -30.0, 36.0, 37.0, 40.0, -40.0, 100.0, -100.0, 700.0, 710.0, -710.0,
          745.0, 746.0, -746.0, 1000.0, -1000.0, 1e10, -1e10, 1e300, -1e300, MAX, -MAX]
for z in loss_z:
    Z = X(z)
    for t in [0.0, 1.0, 0.5, 0.25, 0.9, 1e-10]:
        T = X(t)
        # bce = max(z, 0) - z t + ln(1 + e^-|z|) = -t ln s - (1 - t) ln(1 - s); d/dz = s - t
        value = max(Z, 0) - Z * T + mp.log1p(mp.exp(-abs(Z)))
        # s - t = (1 - t) s - t (1 - s), with s and 1 - s each computed without cancellation
        s, one_minus_s = 1 / (1 + mp.exp(-Z)), 1 / (1 + mp.exp(Z))
        d = (1 - T) * s - T * one_minus_s
        tol, why = None, ""
        # Near s(z) = t the derivative is the difference of two nearly equal numbers whatever
        # the form; its error is then a few ulps of t absolute (src/numerics.md).
        if t not in (0.0, 1.0) and abs(d) < mpf(T) * mpf("1e-3"):
            tol, why = 4 * EPS * t, "bce derivative near its root: s(z) - t cancels"
        rows.append(("bce", repr(z), repr(t), fmt(value), fmt(d), "",
                     "" if tol is None else repr(tol), why))
    for t in [1.0, -1.0]:
        T = X(t)
        m = 1 - T * Z
        rows.append(("hinge", repr(z), repr(t), fmt(max(m, 0)), fmt(-T if m > 0 else mpf(0)),
                     "", "", ""))
    for t in [0.0, 1.0, -2.5, 1e-300, 1e300, -MAX]:
        T = X(t)
        rows.append(("mse", repr(z), repr(t), fmt((Z - T) ** 2), fmt(2 * (Z - T)), "", "", ""))

print("op,a,b,value,da,db,abs_tol,why")
for r in rows:
    print(",".join(r))
