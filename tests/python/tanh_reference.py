"""High-precision references for tests/tanh.rs: tanh(x) and its derivative sech(x)^2 at a
few thousand points covering both of tapegrad's forms (|x| <= 0.55 and above), the switch,
saturation, the derivative's underflow and the subnormals.

Run:  python3 -m venv /tmp/mp && /tmp/mp/bin/pip install mpmath
      /tmp/mp/bin/python tests/python/tanh_reference.py > tests/data/tanh.csv

Each row: x, then each reference as two f64s, the nearest one and the rest (reference minus
it), so that the test can measure errors in units in the last place to a fraction of one.
mpmath at 50 digits; points from a fixed seed.
"""
import math
import random
from mpmath import mp, mpf

mp.dps = 50

def split(v):
    hi = float(v)
    return repr(hi), repr(float(v - mpf(hi)))

rng = random.Random(12)
points = [0.0, 5e-324, 1e-320, 2.2250738585072014e-308, 1e-300, 1e-20, 1e-8, 0.25, 0.5,
          0.5493061443340549, 0.55, math.nextafter(0.55, 0.0), math.nextafter(0.55, 1.0),
          1.0, 2.0, 10.0, 18.5, 19.0, 19.1, 20.0, 36.0, 100.0, 354.0, 360.0, 370.0, 372.0,
          372.5, 373.0]
points += [rng.uniform(0.0, 0.55) for _ in range(400)]
points += [rng.uniform(0.55, 3.0) for _ in range(400)]
points += [rng.uniform(3.0, 20.0) for _ in range(150)]
points += [rng.uniform(20.0, 373.0) for _ in range(150)]
points += [math.ldexp(rng.random(), -rng.randint(1, 1060)) for _ in range(100)]

print("x,tanh,tanh_rest,derivative,derivative_rest")
for p in points:
    for x in (p, -p):
        v = mpf(x)
        t = split(mp.tanh(v))
        d = split(mp.sech(v) ** 2)
        print(f"{x!r},{t[0]},{t[1]},{d[0]},{d[1]}")
