//! `sin`, `cos`, `sqrt`, `abs`, `square`, `max`, `min`, `detach`, `Tape::custom`, `Sum` and the
//! assign operators: values and derivatives at ordinary points against closed forms and central
//! differences, at the edges the [numerics table](tapegrad::numerics) documents (zeros of both
//! signs, subnormals, huge values, infinities, NaN, kinks and ties), and their panics.

use tapegrad::check::gradcheck;
use tapegrad::{Op, Tape, Value};

/// Central difference of a scalar function (an oracle independent of the tape).
fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = f64::EPSILON.cbrt() * x.abs().max(1.0);
    let (hi, lo) = (x + h, x - h);
    (f(hi) - f(lo)) / (hi - lo)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

/// A unary op's value and derivative at `x` (one leaf, one op, one backward).
fn at(op: impl for<'t> Fn(Value<'t>) -> Value<'t>, x: f64) -> (f64, f64) {
    let tape = Tape::new();
    let v = tape.var(x);
    let y = op(v);
    (y.value(), y.backward()[v])
}

/// Asserts `at(op, x)` is `(value, derivative)` exactly: bit for bit, any NaN matching NaN.
fn assert_at(op: impl for<'t> Fn(Value<'t>) -> Value<'t>, x: f64, value: f64, derivative: f64) {
    let (v, d) = at(op, x);
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    assert!(same(v, value), "value at {x:e}: {v:e}, expected {value:e}");
    assert!(
        same(d, derivative),
        "derivative at {x:e}: {d:e}, expected {derivative:e}"
    );
}

#[test]
fn new_unary_ops_match_closed_forms_and_central_differences() {
    type Case = (
        &'static str,
        fn(Value<'_>) -> Value<'_>,
        fn(f64) -> f64,
        fn(f64) -> f64,
    );
    let cases: [Case; 7] = [
        ("sin", |v| v.sin(), f64::sin, f64::cos),
        ("cos", |v| v.cos(), f64::cos, |x| -x.sin()),
        ("abs", |v| v.abs(), f64::abs, f64::signum),
        ("square", |v| v.square(), |x| x * x, |x| 2.0 * x),
        (
            "max(0.5)",
            |v| v.max(0.5),
            |x| x.max(0.5),
            |x| f64::from(x > 0.5),
        ),
        (
            "min(0.5)",
            |v| v.min(0.5),
            |x| x.min(0.5),
            |x| f64::from(x < 0.5),
        ),
        ("custom sin", custom_sin, f64::sin, f64::cos),
    ];
    for (name, op, f, df) in cases {
        for x in [-3.5, -1.0, -0.25, 0.3, 1.0, 2.75] {
            let (v, d) = at(op, x);
            assert_eq!(v, f(x), "{name} at {x}");
            assert!(close(d, df(x), 1e-15), "{name}' at {x}: {d} vs {}", df(x));
            assert!(
                close(d, central(f, x), 1e-6),
                "{name}' at {x}: {d} vs central"
            );
        }
    }
    for x in [0.1, 0.5, 1.0, 3.0, 40.0] {
        let (v, d) = at(|v| v.sqrt(), x);
        assert_eq!(v, x.sqrt());
        assert!(close(d, x.sqrt() / (2.0 * x), 1e-15), "sqrt' at {x}: {d}");
        assert!(close(d, central(f64::sqrt, x), 1e-6), "sqrt' at {x}: {d}");
    }
}

/// `sin` as a custom op of one input.
fn custom_sin(x: Value<'_>) -> Value<'_> {
    x.tape().custom(x.value().sin(), &[(x, x.value().cos())])
}

#[test]
fn sin_and_cos_edges() {
    let pi = std::f64::consts::PI;
    // Zeros: sin keeps the sign of zero; cos' = -sin(0) = -0.0, which the sweep adds to 0.
    assert_at(|v| v.sin(), 0.0, 0.0, 1.0);
    assert_at(|v| v.sin(), -0.0, -0.0, 1.0);
    assert_at(|v| v.cos(), 0.0, 1.0, 0.0);
    assert_at(|v| v.cos(), -0.0, 1.0, 0.0);
    // +-pi: pi is not exactly pi, so sin(pi) is the distance to it, 1.2246e-16.
    assert_at(|v| v.sin(), pi, 1.2246467991473532e-16, -1.0);
    assert_at(|v| v.sin(), -pi, -1.2246467991473532e-16, -1.0);
    assert_at(|v| v.cos(), pi, -1.0, -1.2246467991473532e-16);
    assert_at(|v| v.cos(), -pi, -1.0, 1.2246467991473532e-16);
    // Huge argument: the reduction mod 2 pi is exact (libm); reference values from mpmath at
    // 400 bits, allowed 1 ulp for other libms.
    let (s, ds) = at(|v| v.sin(), 1e300);
    let (c, dc) = at(|v| v.cos(), 1e300);
    let ulp = |x: f64, y: f64| (x - y).abs() <= 1.2e-16 * y.abs();
    assert!(ulp(s, -0.8178819121159085), "sin(1e300) = {s}");
    assert!(ulp(c, -0.5753861119575491), "cos(1e300) = {c}");
    assert_eq!((ds, dc), (c, -s), "sin' = cos, cos' = -sin at 1e300");
    // Subnormal: sin x = x, cos x = 1 exactly.
    assert_at(|v| v.sin(), 5e-324, 5e-324, 1.0);
    assert_at(|v| v.cos(), 5e-324, 1.0, -5e-324);
    // No value at infinity; NaN stays NaN.
    for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        assert_at(|v| v.sin(), x, f64::NAN, f64::NAN);
        assert_at(|v| v.cos(), x, f64::NAN, f64::NAN);
    }
}

#[test]
fn sqrt_edges() {
    assert_at(|v| v.sqrt(), 0.0, 0.0, f64::INFINITY);
    // sqrt(-0.0) is -0.0 (IEEE); its derivative is +inf as at 0, not -inf.
    assert_at(|v| v.sqrt(), -0.0, -0.0, f64::INFINITY);
    assert_at(|v| v.sqrt(), -1.0, f64::NAN, f64::NAN);
    assert_at(|v| v.sqrt(), -5e-324, f64::NAN, f64::NAN);
    assert_at(|v| v.sqrt(), f64::NEG_INFINITY, f64::NAN, f64::NAN);
    assert_at(|v| v.sqrt(), f64::NAN, f64::NAN, f64::NAN);
    // The smallest subnormal: a normal root and a large but finite derivative.
    let (r, d) = at(|v| v.sqrt(), 5e-324);
    assert_eq!(r, 2.2227587494850775e-162);
    assert!(close(d, 2.2494568972715982e161, 1e-15), "{d:e}");
    assert_at(|v| v.sqrt(), f64::INFINITY, f64::INFINITY, 0.0);
    assert_at(
        |v| v.sqrt(),
        f64::MAX,
        f64::MAX.sqrt(),
        0.5 / f64::MAX.sqrt(),
    );
}

#[test]
fn abs_edges() {
    // The kink: derivative 0 at both zeros, and abs(-0.0) is +0.0.
    assert_at(|v| v.abs(), 0.0, 0.0, 0.0);
    assert_at(|v| v.abs(), -0.0, 0.0, 0.0);
    assert_at(|v| v.abs(), 5e-324, 5e-324, 1.0);
    assert_at(|v| v.abs(), -5e-324, 5e-324, -1.0);
    assert_at(|v| v.abs(), f64::INFINITY, f64::INFINITY, 1.0);
    assert_at(|v| v.abs(), f64::NEG_INFINITY, f64::INFINITY, -1.0);
    // NaN: the value stays NaN, the derivative is 0 (NaN has no sign), as relu's.
    assert_at(|v| v.abs(), f64::NAN, f64::NAN, 0.0);
}

#[test]
fn square_edges() {
    // Overflow: the value is inf while the derivative 2x is still finite.
    assert_at(|v| v.square(), 1e200, f64::INFINITY, 2e200);
    assert_at(|v| v.square(), -1e200, f64::INFINITY, -2e200);
    // Subnormals: the square underflows to 0, the derivative is the (exact) double.
    assert_at(|v| v.square(), 5e-324, 0.0, 1e-323);
    assert_at(|v| v.square(), -5e-324, 0.0, -1e-323);
    assert_at(|v| v.square(), 1e-160, 1e-160 * 1e-160, 2e-160);
    // 2 * -0.0 = -0.0, which the sweep adds to its initial 0.0.
    assert_at(|v| v.square(), -0.0, 0.0, 0.0);
    assert_at(
        |v| v.square(),
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    assert_at(|v| v.square(), f64::NAN, f64::NAN, f64::NAN);
    // One node, and the same value and gradient as x * x.
    for x in [-3.0, 0.1, 1.5e150, 7e-170] {
        let tape = Tape::new();
        let v = tape.var(x);
        let before = tape.len();
        let (s, m) = (v.square(), v * v);
        assert_eq!(tape.len(), before + 2);
        assert_eq!(s.value().to_bits(), m.value().to_bits());
        assert_eq!(s.backward()[v].to_bits(), m.backward()[v].to_bits());
    }
}

/// `a.max(b)` (or `min`) of two leaves: the value and both derivatives.
fn extremum(max: bool, a: f64, b: f64) -> (f64, f64, f64) {
    let tape = Tape::new();
    let (x, y) = (tape.var(a), tape.var(b));
    let m = if max { x.max(y) } else { x.min(y) };
    let g = m.backward();
    (m.value(), g[x], g[y])
}

/// `a.max(c)` (or `min`) with an `f64` on the right: the value and d/da.
fn extremum_c(max: bool, a: f64, c: f64) -> (f64, f64) {
    at(|v| if max { v.max(c) } else { v.min(c) }, a)
}

fn same3(got: (f64, f64, f64), want: (f64, f64, f64)) -> bool {
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    same(got.0, want.0) && same(got.1, want.1) && same(got.2, want.2)
}

#[test]
fn max_and_min_pick_a_side_and_split_ties() {
    for (max, a, b, want) in [
        (true, 3.0, 1.0, (3.0, 1.0, 0.0)),
        (true, 1.0, 3.0, (3.0, 0.0, 1.0)),
        (false, 3.0, 1.0, (1.0, 0.0, 1.0)),
        (false, 1.0, 3.0, (1.0, 1.0, 0.0)),
        // A tie splits the gradient.
        (true, 2.0, 2.0, (2.0, 0.5, 0.5)),
        (false, 2.0, 2.0, (2.0, 0.5, 0.5)),
        // Infinities are ordinary ordered values; inf against inf is a tie.
        (true, f64::INFINITY, 1.0, (f64::INFINITY, 1.0, 0.0)),
        (true, f64::NEG_INFINITY, 1.0, (1.0, 0.0, 1.0)),
        (false, f64::NEG_INFINITY, 1.0, (f64::NEG_INFINITY, 1.0, 0.0)),
        (false, f64::INFINITY, 1.0, (1.0, 0.0, 1.0)),
        (
            true,
            f64::INFINITY,
            f64::INFINITY,
            (f64::INFINITY, 0.5, 0.5),
        ),
        (
            false,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
            (f64::NEG_INFINITY, 0.5, 0.5),
        ),
        // -0.0 == 0.0, so they tie: 1/2 each, and the value is the left operand's zero.
        (true, -0.0, 0.0, (-0.0, 0.5, 0.5)),
        (true, 0.0, -0.0, (0.0, 0.5, 0.5)),
        (false, -0.0, 0.0, (-0.0, 0.5, 0.5)),
        (false, 0.0, -0.0, (0.0, 0.5, 0.5)),
        // Subnormals are ordered like any other value.
        (true, 5e-324, 0.0, (5e-324, 1.0, 0.0)),
        (false, -5e-324, -0.0, (-5e-324, 1.0, 0.0)),
    ] {
        let got = extremum(max, a, b);
        assert!(
            same3(got, want),
            "max={max} ({a:e}, {b:e}): {got:?}, expected {want:?}"
        );
        // The same with the right side as an f64 constant: d/da as for two values.
        let (v, da) = extremum_c(max, a, b);
        assert!(
            same3((v, da, 0.0), (want.0, want.1, 0.0)),
            "max={max} ({a:e}, {b:e}) by f64"
        );
    }
    // A value against itself: the two halves add back to 1.
    let tape = Tape::new();
    let x = tape.var(1.5);
    assert_eq!(x.max(x).backward()[x], 1.0);
    assert_eq!(x.min(x).backward()[x], 1.0);
}

#[test]
fn max_and_min_with_nan_are_nan_everywhere() {
    for max in [true, false] {
        for (a, b) in [(f64::NAN, 1.0), (1.0, f64::NAN), (f64::NAN, f64::NAN)] {
            let (v, da, db) = extremum(max, a, b);
            assert!(
                v.is_nan() && da.is_nan() && db.is_nan(),
                "max={max} ({a}, {b})"
            );
            let (v, da) = extremum_c(max, a, b);
            assert!(v.is_nan() && da.is_nan(), "max={max} ({a}, {b}) by f64");
        }
        let (v, da, db) = extremum(max, f64::NAN, f64::INFINITY);
        assert!(v.is_nan() && da.is_nan() && db.is_nan());
    }
}

#[test]
fn detach_is_a_leaf_and_blocks_the_gradient() {
    let tape = Tape::traced();
    let x = tape.var(3.0);
    let d = x.detach();
    assert_eq!(d.value(), 3.0);
    assert_ne!(d.index(), x.index(), "a new node");
    assert_eq!(tape.op(d), Some(Op::Detach));
    assert_eq!(
        tape.edges(d.index()),
        Some(vec![]),
        "no inputs: nothing flows back"
    );
    // y = x * stop(x): the tape sees the detached copy as a constant.
    let y = x * d;
    let g = y.backward();
    assert_eq!(g[x], 3.0);
    assert_eq!(g[d], 3.0, "the detached leaf's own gradient is reported");
    // Everything behind a detach gets nothing.
    let s = d.sin() * 2.0;
    let g = s.backward();
    assert_eq!(g[x], 0.0);
    assert_eq!(g[d], 2.0 * 3.0f64.cos());
    // Edge values pass through unchanged.
    for v in [-0.0, 5e-324, f64::INFINITY] {
        assert_eq!(tape.var(v).detach().value().to_bits(), v.to_bits());
    }
    assert!(tape.var(f64::NAN).detach().value().is_nan());
}

#[test]
fn custom_ops_pass_gradcheck() {
    // One input: sin.
    for x in [-2.0, -0.3, 0.0, 0.7, 3.0] {
        let report = gradcheck(|v| custom_sin(v[0]), &[x]).unwrap();
        assert!(report.passed(), "{report}");
        assert_eq!(report.inputs[0].tape, x.cos());
    }
    // The same input twice accumulates: x * x with the partial x listed once per factor.
    fn square<'t>(v: &[Value<'t>]) -> Value<'t> {
        let x = v[0];
        x.tape()
            .custom(x.value() * x.value(), &[(x, x.value()), (x, x.value())])
    }
    let report = gradcheck(square, &[1.25]).unwrap();
    assert!(report.passed(), "{report}");
    assert_eq!(report.inputs[0].tape, 2.5);
    // Three inputs (an n-ary node): f = a b + sin(c) a, inside a larger expression.
    fn f<'t>(v: &[Value<'t>]) -> Value<'t> {
        let (a, b, c) = (v[0], v[1], v[2]);
        let (x, y, z) = (a.value(), b.value(), c.value());
        let value = x * y + z.sin() * x;
        let node = a
            .tape()
            .custom(value, &[(a, y + z.sin()), (b, x), (c, z.cos() * x)]);
        node.tanh() + a * c
    }
    let report = gradcheck(f, &[0.8, -1.3, 0.4]).unwrap();
    assert!(report.passed(), "{report}");
    // Four entries, one input repeated: g = a^2 b c, written as a * a * b * c.
    fn g<'t>(v: &[Value<'t>]) -> Value<'t> {
        let (a, b, c) = (v[0], v[1], v[2]);
        let (x, y, z) = (a.value(), b.value(), c.value());
        a.tape().custom(
            x * x * y * z,
            &[
                (a, x * y * z),
                (b, x * x * z),
                (a, x * y * z),
                (c, x * x * y),
            ],
        )
    }
    let report = gradcheck(g, &[1.1, 0.6, -2.0]).unwrap();
    assert!(report.passed(), "{report}");
}

#[test]
fn custom_records_one_node_with_its_edges() {
    let tape = Tape::traced();
    let xs = tape.vars(&[1.0, 2.0, 3.0]);
    for k in 0..=4 {
        let partials: Vec<(Value, f64)> = (0..k).map(|j| (xs[j % 3], j as f64 + 0.5)).collect();
        let before = tape.len();
        let y = tape.custom(10.0, &partials);
        assert_eq!(tape.len(), before + 1, "{k} inputs: one node");
        assert_eq!(y.value(), 10.0);
        assert_eq!(tape.op(y), Some(Op::Custom));
        let edges: Vec<(usize, f64)> = partials.iter().map(|(x, d)| (x.index(), *d)).collect();
        assert_eq!(tape.edges(y.index()), Some(edges), "{k} inputs");
        let g = y.backward();
        for (j, x) in xs.iter().enumerate() {
            let expected: f64 = partials
                .iter()
                .filter(|(p, _)| p.index() == x.index())
                .map(|(_, d)| d)
                .sum();
            assert_eq!(g[*x], expected, "{k} inputs, d/dx{j}");
        }
    }
    // No inputs: a constant leaf, whose own gradient is 1.
    let c = tape.custom(f64::NAN, &[]);
    assert!(c.value().is_nan());
    assert_eq!(c.backward()[c], 1.0);
}

#[test]
fn iterator_sums_are_one_node() {
    let tape = Tape::new();
    let xs = tape.vars(&[1.0, -2.0, 0.5]);
    let by_ref_input = [xs[0], xs[1], xs[0], xs[2]];
    let before = tape.len();
    let s: Value = by_ref_input.iter().sum();
    assert_eq!(tape.len(), before + 1, "Sum<&Value> is one node");
    assert_eq!(s.value(), 0.5);
    let g = s.backward();
    assert_eq!((g[xs[0]], g[xs[1]], g[xs[2]]), (2.0, 1.0, 1.0));
    assert_eq!(s.value(), tape.sum(&by_ref_input).value());
    // Sum<Value> over an iterator that records nodes itself: the squares first, then the sum.
    let before = tape.len();
    let t: Value = xs.iter().map(|&x| x.square()).sum();
    assert_eq!(tape.len(), before + 4);
    assert_eq!(t.value(), 5.25);
    let g = t.backward();
    assert_eq!((g[xs[0]], g[xs[1]], g[xs[2]]), (2.0, -4.0, 1.0));
    // One value: the sum is that value (including the sign of zero).
    let z = tape.var(-0.0);
    let one: Value = std::iter::once(z).sum();
    assert_eq!(one.value().to_bits(), (-0.0f64).to_bits());
    assert_eq!(one.backward()[z], 1.0);
}

#[test]
#[should_panic(
    expected = "the sum of an empty iterator of values has no tape to record on; use Tape::sum"
)]
fn sum_of_an_empty_iterator_panics() {
    let _: Value = Vec::<Value>::new().into_iter().sum();
}

#[test]
#[should_panic(expected = "use Tape::sum")]
fn sum_of_an_empty_iterator_of_references_panics() {
    let empty: [Value; 0] = [];
    let _: Value = empty.iter().sum();
}

#[test]
fn assign_ops_equal_the_plain_ops_bit_for_bit() {
    let edges = [
        1.75,
        -0.625,
        0.0,
        -0.0,
        5e-324,
        1e300,
        -1e-300,
        f64::INFINITY,
        f64::NAN,
    ];
    // Bits, except that NaN matches NaN (Rust leaves a NaN result's sign unspecified).
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    for &a0 in &edges {
        for &b0 in &edges {
            for op in 0..4 {
                let tape = Tape::new();
                let (a, b) = (tape.var(a0), tape.var(b0));
                let mut by_value = a;
                let mut by_f64 = a;
                let (plain, plain_c) = match op {
                    0 => {
                        by_value += b;
                        by_f64 += b0;
                        (a + b, a + b0)
                    }
                    1 => {
                        by_value -= b;
                        by_f64 -= b0;
                        (a - b, a - b0)
                    }
                    2 => {
                        by_value *= b;
                        by_f64 *= b0;
                        (a * b, a * b0)
                    }
                    _ => {
                        by_value /= b;
                        by_f64 /= b0;
                        (a / b, a / b0)
                    }
                };
                let case = format!("op {op} on ({a0:e}, {b0:e})");
                assert!(same(by_value.value(), plain.value()), "{case}");
                assert!(same(by_f64.value(), plain_c.value()), "{case} by f64");
                assert_eq!(tape.len(), 6, "{case}: each assign op is one node");
                let (g1, g2) = (by_value.backward(), plain.backward());
                assert!(
                    same(g1[a], g2[a]) && same(g1[b], g2[b]),
                    "{case}: gradients"
                );
                let (g1, g2) = (by_f64.backward(), plain_c.backward());
                assert!(same(g1[a], g2[a]), "{case}: gradient by f64");
                assert_eq!(g1[b], 0.0, "{case}: a constant gets no edge");
            }
        }
    }
}

#[test]
fn finite_inputs_give_no_nan_where_the_result_is_finite() {
    let tape = Tape::new();
    for &x in &[
        -1e308, -1000.0, -1.0, -5e-324, 0.0, 5e-324, 1.0, 1000.0, 1e308,
    ] {
        let v = tape.var(x);
        let c = tape.var(0.5);
        let mut ys = vec![v.sin(), v.cos(), v.abs(), v.max(c), v.min(0.5), v.detach()];
        if x > 0.0 {
            ys.push(v.sqrt());
        }
        if x.abs() < 1e154 {
            ys.push(v.square());
        }
        for y in ys {
            let d = y.backward()[v];
            assert!(!y.value().is_nan() && !d.is_nan(), "NaN at {x:e}");
        }
    }
}

#[test]
#[should_panic(expected = "two different tapes")]
fn max_across_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _ = t1.var(1.0).max(t2.var(2.0));
}

#[test]
#[should_panic(expected = "two different tapes")]
fn min_across_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _ = t1.var(1.0).min(t2.var(2.0));
}

#[test]
#[should_panic(expected = "two different tapes")]
fn custom_across_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _ = t1.custom(1.0, &[(t1.var(1.0), 1.0), (t2.var(2.0), 1.0)]);
}

#[test]
#[should_panic(expected = "two different tapes")]
fn custom_of_another_tapes_value_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _ = t1.custom(1.0, &[(t2.var(2.0), 1.0)]);
}

#[test]
#[should_panic(expected = "two different tapes")]
fn sum_across_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _: Value = [t1.var(1.0), t2.var(2.0)].into_iter().sum();
}

#[test]
#[should_panic(expected = "two different tapes")]
fn sum_of_references_across_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _: Value = [t1.var(1.0), t2.var(2.0)].iter().sum();
}

#[test]
#[should_panic(expected = "two different tapes")]
fn assign_op_across_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let mut a = t1.var(1.0);
    a += t2.var(2.0);
}
