//! tanh and its derivative (tapegrad's own, not libm's: `src/engine/tanh.rs`) against 50-digit
//! references at 2,456 points, `tests/data/tanh.csv`, written by
//! `tests/python/tanh_reference.py`: both forms, the switch between them at |x| = 0.55,
//! saturation, the derivative's underflow near |x| = 373 and subnormal inputs.
//!
//! Errors are in units in the last place of the reference (for a subnormal reference, units
//! of the smallest subnormal). The bounds are the ones src/numerics.md documents.

use tapegrad::{Activation, Tape};

/// The documented bounds: tanh within 2 ulp, its derivative within 4 ulp (the form
/// `4u / (1 + u)^2` has four roundings and `u`'s own error).
const TANH_ULPS: f64 = 2.0;
const DERIVATIVE_ULPS: f64 = 4.0;

/// The distance from `found` to the reference `hi + lo`, in units in the last place of `hi`.
fn ulps(found: f64, hi: f64, lo: f64) -> f64 {
    // 2^(e - 52) for hi in [2^e, 2^(e + 1)): biased exponent E - 52, or the subnormal
    // 2^(E - 1075) below; 2^-1074 for a subnormal hi
    let biased = hi.abs().to_bits() >> 52;
    let ulp = match biased {
        0 => 5e-324,
        1..=52 => f64::from_bits(1 << (biased - 1)),
        _ => f64::from_bits((biased - 52) << 52),
    };
    // found - hi is exact where they are close (Sterbenz); far apart, the result is large anyway
    ((found - hi) - lo).abs() / ulp
}

/// `(x, tanh, tanh rest, derivative, derivative rest)` for each row.
fn table() -> Vec<[f64; 5]> {
    let text = include_str!("data/tanh.csv");
    text.lines()
        .skip(1)
        .map(|line| {
            let v: Vec<f64> = line.split(',').map(|f| f.parse().unwrap()).collect();
            [v[0], v[1], v[2], v[3], v[4]]
        })
        .collect()
}

#[test]
fn tanh_and_its_derivative_are_within_their_documented_ulps() {
    let rows = table();
    assert!(rows.len() > 2000, "the table has {} rows", rows.len());
    let (mut worst_t, mut worst_d) = ((0.0, 0.0), (0.0, 0.0));
    let mut libm_worst: f64 = 0.0;
    for &[x, t_hi, t_lo, d_hi, d_lo] in &rows {
        let tape = Tape::new();
        let v = tape.var(x);
        let y = v.tanh();
        let (t, d) = (y.value(), y.backward()[v]);
        let (et, ed) = (ulps(t, t_hi, t_lo), ulps(d, d_hi, d_lo));
        assert!(
            et <= TANH_ULPS,
            "tanh({x:e}) = {t:e}, reference {t_hi:e}: {et:.2} ulp"
        );
        assert!(
            ed <= DERIVATIVE_ULPS,
            "tanh'({x:e}) = {d:e}, reference {d_hi:e}: {ed:.2} ulp"
        );
        if et > worst_t.0 {
            worst_t = (et, x);
        }
        if ed > worst_d.0 {
            worst_d = (ed, x);
        }
        // A plain activation and a recorded one agree bit for bit.
        assert_eq!(
            Activation::Tanh.apply(x).to_bits(),
            t.to_bits(),
            "x = {x:e}"
        );
        libm_worst = libm_worst.max(ulps(x.tanh(), t_hi, t_lo));
    }
    println!(
        "worst tanh error {:.3} ulp at x = {:e}, derivative {:.3} ulp at x = {:e} \
         (libm's tanh on the same points: {libm_worst:.3} ulp)",
        worst_t.0, worst_t.1, worst_d.0, worst_d.1
    );
    // The table reaches both forms' worst regions: a bound far above what is found would
    // mean the table no longer tests them.
    assert!(worst_t.0 > 0.5 && worst_d.0 > 1.0);
}

#[test]
fn tanh_edges_keep_signs_saturate_and_propagate_nan() {
    let at = |x: f64| {
        let tape = Tape::new();
        let v = tape.var(x);
        let y = v.tanh();
        (y.value(), y.backward()[v])
    };
    let (t, d) = at(-0.0);
    assert_eq!((t.to_bits(), d), ((-0.0f64).to_bits(), 1.0));
    assert_eq!(at(5e-324), (5e-324, 1.0));
    assert_eq!(at(-5e-324), (-5e-324, 1.0));
    assert_eq!(at(f64::INFINITY), (1.0, 0.0));
    assert_eq!(at(f64::NEG_INFINITY), (-1.0, 0.0));
    assert_eq!(at(f64::MAX), (1.0, 0.0));
    // Saturated, but the derivative keeps its precision until it underflows.
    let (t, d) = at(-30.0);
    assert_eq!(t, -1.0);
    assert!((d / 3.502604305078608e-26 - 1.0).abs() < 1e-15, "{d:e}");
    assert_eq!(at(380.0), (1.0, 0.0));
    // Exactly 1 from |x| ~ 18.71 (2 e^(-2x) below 2^-53), where the correctly rounded value,
    // as glibc's, is still 1 - 2^-53 (it reaches 1 at |x| ~ 19.06): 1 ulp apart in between,
    // as the numerics table says.
    let below_one = 1.0 - f64::EPSILON / 2.0;
    assert_eq!(at(18.70).0, below_one);
    assert_eq!(at(18.72).0, 1.0);
    assert_eq!(at(-18.72).0, -1.0);
    assert_eq!(18.72f64.tanh(), below_one);
    let (t, d) = at(f64::NAN);
    assert!(t.is_nan() && d.is_nan());
}

/// A tanh layer applies the rule to its pre-activations several at a time (and a batch to
/// all of its samples' at once): each value and derivative has the bits of `Value::tanh`.
#[test]
fn a_tanh_layer_gives_the_bits_of_value_tanh() {
    let rows = table();
    // One layer over the input 1.0 with biases 0: z_j = 0 + w_j * 1 (= w_j, but +0 for
    // -0). Seven neurons: one block of four, then three one by one.
    for chunk in rows.chunks(7) {
        let n = chunk.len();
        let params: Vec<f64> = chunk.iter().flat_map(|r| [r[0], 0.0]).collect();
        let model =
            tapegrad::Mlp::from_parameters(&[1, n], Activation::Tanh, Activation::Tanh, &params)
                .unwrap();
        for batch in [1, 2] {
            let tape = Tape::new();
            let bound = model.bind(&tape);
            let out = bound.forward_batch(&vec![[1.0]; batch]).unwrap();
            let grads = tape.sum(&out).backward();
            let g = bound.gradients(&grads);
            for (j, r) in chunk.iter().enumerate() {
                let scalar = Tape::new();
                let v = scalar.var(0.0 + r[0]);
                let y = v.tanh();
                let (t, d) = (y.value(), y.backward()[v]);
                for i in 0..batch {
                    assert_eq!(
                        out[i * n + j].value().to_bits(),
                        t.to_bits(),
                        "x = {:e}",
                        r[0]
                    );
                }
                // d/dw_j of the sum over the batch: the derivative once per sample
                let want = (0..batch).fold(0.0, |s, _| s + d);
                assert_eq!(g[2 * j].to_bits(), want.to_bits(), "x = {:e}", r[0]);
            }
        }
    }
}
