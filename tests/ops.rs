//! Each op's value and derivative against closed forms and central differences, plus the
//! tape's contracts: fan-out, unrelated leaves, repeated backward, reuse after clear, deep chains,
//! and the numeric edges documented in `tapegrad::ops`.

use tapegrad::{Gradients, Tape, Value};

/// Central difference of a scalar function (an oracle independent of the tape).
fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = f64::EPSILON.cbrt() * x.abs().max(1.0);
    let (hi, lo) = (x + h, x - h);
    (f(hi) - f(lo)) / (hi - lo)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

/// Checks a unary op's value and derivative at `x` against `f` and its closed-form derivative.
fn check_unary(
    op: impl for<'t> Fn(Value<'t>) -> Value<'t>,
    f: impl Fn(f64) -> f64,
    df: impl Fn(f64) -> f64,
    x: f64,
) {
    let tape = Tape::new();
    let v = tape.var(x);
    let y = op(v);
    let g = y.backward()[v];
    assert_eq!(y.value(), f(x), "value at {x}");
    assert!(
        close(g, df(x), 1e-14),
        "derivative at {x}: tape {g}, exact {}",
        df(x)
    );
    assert!(
        close(g, central(&f, x), 1e-6),
        "derivative at {x}: tape {g} vs central difference"
    );
}

#[test]
fn unary_ops_match_closed_forms() {
    for &x in &[-3.5, -1.0, -0.25, 0.3, 1.0, 2.75] {
        let s = |x: f64| 1.0 / (1.0 + (-x).exp());
        check_unary(|v| v.sigmoid(), s, |x| s(x) * (1.0 - s(x)), x);
        // tanh is tapegrad's own, not libm's (tests/tanh.rs measures it in ulps against
        // 50-digit references), so its value may differ from f64::tanh in the last bits.
        let tape = Tape::new();
        let v = tape.var(x);
        let t = v.tanh();
        assert!(
            close(t.value(), x.tanh(), 1e-15),
            "tanh({x}) = {}",
            t.value()
        );
        let d = t.backward()[v];
        assert!(close(d, 1.0 / x.cosh().powi(2), 1e-14), "tanh'({x}) = {d}");
        assert!(close(d, central(f64::tanh, x), 1e-6), "tanh'({x}) = {d}");
        check_unary(|v| v.exp(), f64::exp, f64::exp, x);
        check_unary(|v| -v, |x| -x, |_| -1.0, x);
        check_unary(|v| v.powi(3), |x| x.powi(3), |x| 3.0 * x * x, x);
        check_unary(|v| v.powi(-2), |x| x.powi(-2), |x| -2.0 / x.powi(3), x);
        check_unary(|v| v * 2.5, |x| x * 2.5, |_| 2.5, x);
        check_unary(|v| 2.5 * v, |x| 2.5 * x, |_| 2.5, x);
        check_unary(|v| v + 2.5, |x| x + 2.5, |_| 1.0, x);
        check_unary(|v| 2.5 + v, |x| 2.5 + x, |_| 1.0, x);
        check_unary(|v| v - 2.5, |x| x - 2.5, |_| 1.0, x);
        check_unary(|v| 2.5 - v, |x| 2.5 - x, |_| -1.0, x);
        check_unary(|v| v / 2.5, |x| x / 2.5, |_| 1.0 / 2.5, x);
        check_unary(|v| 2.5 / v, |x| 2.5 / x, |x| -2.5 / (x * x), x);
    }
    for &x in &[0.1, 0.5, 1.0, 3.0, 40.0] {
        check_unary(|v| v.ln(), f64::ln, |x| 1.0 / x, x);
        check_unary(|v| v.powf(0.5), f64::sqrt, |x| 0.5 / x.sqrt(), x);
        check_unary(
            |v| v.powf(-1.5),
            |x| x.powf(-1.5),
            |x| -1.5 * x.powf(-2.5),
            x,
        );
    }
    for &x in &[-2.0, -0.5, 0.5, 2.0] {
        check_unary(|v| v.relu(), |x| x.max(0.0), |x| f64::from(x > 0.0), x);
    }
}

#[test]
fn binary_ops_match_closed_forms() {
    let tape = Tape::new();
    let (a0, b0) = (1.75, -0.625);
    let a = tape.var(a0);
    let b = tape.var(b0);
    let cases: [(Value, f64, f64, f64); 4] = [
        (a + b, a0 + b0, 1.0, 1.0),
        (a - b, a0 - b0, 1.0, -1.0),
        (a * b, a0 * b0, b0, a0),
        (a / b, a0 / b0, 1.0 / b0, -a0 / (b0 * b0)),
    ];
    for (k, (y, value, da, db)) in cases.into_iter().enumerate() {
        let g = y.backward();
        assert_eq!(y.value(), value, "case {k}");
        assert!(close(g[a], da, 1e-15), "case {k}: d/da {} vs {da}", g[a]);
        assert!(close(g[b], db, 1e-15), "case {k}: d/db {} vs {db}", g[b]);
    }
}

#[test]
fn micrograd_readme_example() {
    // Numbers from micrograd's README (checked there against PyTorch).
    let tape = Tape::new();
    let a = tape.var(-4.0);
    let b = tape.var(2.0);
    let mut c = a + b;
    let mut d = a * b + b.powi(3);
    c = c + c + 1.0;
    c = c + 1.0 + c + (-a);
    d = d + d * 2.0 + (b + a).relu();
    d = d + 3.0 * d + (b - a).relu();
    let e = c - d;
    let f = e.powi(2);
    let mut g = f / 2.0;
    g += 10.0 / f;
    let grads = g.backward();
    // micrograd's README prints four decimals: each value is within half a unit of the last.
    let printed = |v: f64, shown: f64| (v - shown).abs() <= 5e-5;
    assert!(printed(g.value(), 24.7041), "{}", g.value());
    assert!(printed(grads[a], 138.8338), "{}", grads[a]);
    assert!(printed(grads[b], 645.5773), "{}", grads[b]);
}

#[test]
fn reuse_accumulates_in_either_operand_order() {
    let tape = Tape::new();
    let x = tape.var(3.0);
    assert_eq!((x + x).backward()[x], 2.0);
    assert_eq!((x * x).backward()[x], 6.0);
    assert_eq!((x - x).backward()[x], 0.0);
    assert_eq!((x / x).backward()[x], 0.0);
    // A node feeding two branches, used on the left in one and the right in the other.
    let h = x.tanh();
    let y = h * 2.0 + (5.0 * h) * h;
    // sech^2, not 1 - h^2, which loses digits to cancellation at x = 3 (h = 0.995)
    let dh = 1.0 / 3.0f64.cosh().powi(2);
    let expect = (2.0 + 10.0 * h.value()) * dh;
    assert!(close(y.backward()[x], expect, 1e-15));
}

#[test]
fn unrelated_and_later_leaves_get_zero() {
    let tape = Tape::new();
    let x = tape.var(2.0);
    let unrelated = tape.var(7.0);
    let _also_unrelated = unrelated.exp();
    let y = x * 3.0;
    let later = tape.var(1.0);
    let _after = later + x;
    let grads = y.backward();
    assert_eq!(grads[x], 3.0);
    assert_eq!(grads[unrelated], 0.0);
    assert_eq!(grads[later], 0.0);
}

#[test]
fn backward_twice_and_on_several_outputs_gives_the_same_answers() {
    let tape = Tape::new();
    let x = tape.var(0.7);
    let w = tape.var(-1.3);
    let y1 = (x * w).sigmoid();
    let y2 = x.powi(2) + w;
    let first = (y1.backward(), y2.backward());
    let second = (y1.backward(), y2.backward());
    assert_eq!(first, second);
    let s = y1.value();
    assert_eq!(first.0[x], s * (1.0 - s) * -1.3);
    assert_eq!(first.1[x], 2.0 * 0.7);
    assert_eq!(first.1[w], 1.0);
    // backward_into overwrites, it does not add.
    let mut buf = Gradients::new();
    y2.backward_into(&mut buf);
    y2.backward_into(&mut buf);
    assert_eq!(buf[x], 2.0 * 0.7);
}

#[test]
fn sum_and_dot_nodes() {
    let tape = Tape::new();
    let xs = tape.vars(&[1.0, -2.0, 0.5]);
    let ws = tape.vars(&[3.0, 0.25, -4.0]);
    let before = tape.len();
    let d = tape.dot(&ws, &xs);
    assert_eq!(tape.len(), before + 1, "dot is one node");
    assert_eq!(d.value(), 3.0 - 0.5 - 2.0);
    let g = d.backward();
    for k in 0..3 {
        assert_eq!(g[ws[k]], xs[k].value());
        assert_eq!(g[xs[k]], ws[k].value());
    }
    let dc = tape.dot(&ws, &[1.0, -2.0, 0.5]);
    assert_eq!(dc.value(), d.value());
    assert_eq!(dc.backward()[ws[1]], -2.0);
    let s = tape.sum(&[xs[0], xs[1], xs[0]]);
    let g = s.backward();
    assert_eq!(
        (s.value(), g[xs[0]], g[xs[1]], g[xs[2]]),
        (0.0, 2.0, 1.0, 0.0)
    );
    assert_eq!(tape.sum(&[]).value(), 0.0);
}

#[test]
fn deep_chain_of_ten_million_nodes() {
    let tape = Tape::with_capacity(10_000_001, 10_000_000);
    let x = tape.var(1.0);
    let mut y = x;
    for _ in 0..10_000_000 {
        y *= 1.0;
    }
    let grads = y.backward();
    assert_eq!(tape.len(), 10_000_001);
    assert_eq!(grads[x], 1.0);
}

#[test]
fn clear_reuses_memory_and_gives_fresh_answers() {
    let mut tape = Tape::new();
    let mut first = None;
    for round in 0..3 {
        let x = tape.var(round as f64 + 1.0);
        let y = (x * x).exp() * 0.0 + x.powi(3);
        let g = y.backward();
        assert_eq!(g[x], 3.0 * (round as f64 + 1.0).powi(2));
        assert_eq!(tape.len(), 6);
        let bytes = tape.memory_bytes();
        tape.clear();
        assert!(tape.is_empty());
        assert_eq!(tape.memory_bytes(), bytes, "clear keeps the memory");
        if let Some(b) = first {
            assert_eq!(bytes, b, "same recording, no growth");
        }
        first = Some(bytes);
    }
}

#[test]
#[should_panic(expected = "two different tapes")]
fn mixing_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _ = t1.var(1.0) * t2.var(2.0);
}

#[test]
#[should_panic(expected = "two different tapes")]
fn dot_across_tapes_panics() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let _ = t1.dot(&[t1.var(1.0)], &[t2.var(2.0)]);
}

#[test]
#[should_panic(expected = "different lengths")]
fn dot_length_mismatch_panics() {
    let tape = Tape::new();
    let _ = tape.dot(&[tape.var(1.0)], &[1.0, 2.0]);
}

#[test]
#[should_panic(expected = "before the tape was cleared")]
fn stale_gradients_panic() {
    let mut tape = Tape::new();
    let grads = {
        let x = tape.var(1.0);
        (x * 2.0).backward()
    };
    tape.clear();
    let y = tape.var(1.0);
    let _ = grads[y];
}

#[test]
#[should_panic(expected = "gradients of tape")]
fn gradients_of_another_tape_panic() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let grads = (t1.var(1.0) * 2.0).backward();
    let _ = grads[t2.var(1.0)];
}

#[test]
fn sigmoid_is_stable_at_both_ends() {
    let tape = Tape::new();
    for (x, value) in [(-1000.0, 0.0), (1000.0, 1.0), (-745.5, 0.0), (40.0, 1.0)] {
        let v = tape.var(x);
        let y = v.sigmoid();
        let d = y.backward()[v];
        assert_eq!(y.value(), value, "sigmoid({x})");
        assert!(d.is_finite() && d >= 0.0, "derivative at {x} is {d}");
        assert!(d < 1e-16, "derivative at {x} is {d}");
    }
    // Moderately large inputs keep full relative precision on the small side.
    let y = tape.var(-30.0).sigmoid().value();
    assert!(close(y, (-30.0f64).exp() / (1.0 + (-30.0f64).exp()), 1e-15));
}

#[test]
fn tanh_and_relu_edges() {
    let tape = Tape::new();
    for x in [-1000.0, 1000.0] {
        let v = tape.var(x);
        let t = v.tanh();
        assert_eq!(t.value(), x.signum());
        assert_eq!(t.backward()[v], 0.0);
    }
    let z = tape.var(0.0);
    let r = z.relu();
    assert_eq!(
        (r.value(), r.backward()[z]),
        (0.0, 0.0),
        "relu kink: derivative 0"
    );
    assert!(
        tape.var(f64::NAN).relu().value().is_nan(),
        "relu keeps NaN visible"
    );
}

#[test]
fn ln_follows_f64_ln() {
    let tape = Tape::new();
    let zero = tape.var(0.0);
    let y = zero.ln();
    assert_eq!(y.value(), f64::NEG_INFINITY);
    assert_eq!(y.backward()[zero], f64::INFINITY);
    assert!(tape.var(-1.0).ln().value().is_nan());
}

#[test]
fn pow_edges_follow_f64() {
    let tape = Tape::new();
    let zero = tape.var(0.0);
    // x^0 = 1 everywhere, derivative 0 (not 0 * inf = NaN).
    for y in [zero.powf(0.0), zero.powi(0)] {
        assert_eq!((y.value(), y.backward()[zero]), (1.0, 0.0));
    }
    let y = zero.powf(0.5);
    assert_eq!((y.value(), y.backward()[zero]), (0.0, f64::INFINITY));
    assert!(
        tape.var(-8.0).powf(1.0 / 3.0).value().is_nan(),
        "as f64::powf"
    );
    let y = zero.powi(2);
    assert_eq!((y.value(), y.backward()[zero]), (0.0, 0.0));
}

#[test]
fn exp_overflow_and_division_edges() {
    let tape = Tape::new();
    let big = tape.var(710.0);
    let e = big.exp();
    assert_eq!(e.value(), f64::INFINITY);
    assert_eq!(e.backward()[big], f64::INFINITY);
    // a / b with a huge b: the true derivative -a/b^2 underflows to 0, it must not be NaN.
    let a = tape.var(1e300);
    let b = tape.var(1e300);
    let q = a / b;
    let g = q.backward();
    assert_eq!(q.value(), 1.0);
    assert!(close(g[b], -1e-300, 1e-12) && close(g[a], 1e-300, 1e-12));
    let zero = tape.var(0.0);
    assert_eq!((1.0 / zero).value(), f64::INFINITY);
}

#[test]
fn closed_relu_blocks_infinite_partials() {
    // relu(ln(0)) = 0 with derivative 0; the ln's infinite partial must not produce NaN.
    let tape = Tape::new();
    let x = tape.var(0.0);
    let y = x.ln().relu() + x;
    assert_eq!(y.backward()[x], 1.0);
}

#[test]
fn finite_inputs_give_no_nan_where_the_result_is_finite() {
    let tape = Tape::new();
    for &x in &[-1e308, -1000.0, -1.0, 0.0, 1.0, 1000.0, 1e308] {
        let v = tape.var(x);
        for y in [v.sigmoid(), v.tanh(), v.relu(), v * 0.5, v / 3.0, -v] {
            let d = y.backward()[v];
            assert!(!y.value().is_nan() && !d.is_nan(), "NaN at {x}");
        }
    }
}

#[test]
fn traced_tape_keeps_ops_and_values() {
    let tape = Tape::traced();
    let x = tape.var(2.0);
    let y = (x * 3.0).sigmoid();
    assert_eq!(tape.op(x), Some(tapegrad::Op::Leaf));
    assert_eq!(tape.op(y), Some(tapegrad::Op::Sigmoid));
    assert_eq!(tape.value_of(y.index()), Some(y.value()));
    let plain = Tape::new();
    let v = plain.var(1.0);
    assert_eq!(plain.op(v), None);
    assert_eq!(plain.value_of(v.index()), None);
}
