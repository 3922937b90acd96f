//! `cross_entropy`'s gradient against two oracles that use no tape: central finite differences
//! of its plain-`f64` value, and forward-mode dual numbers through the textbook formula
//! `ln(sum_k e^(z_k - m)) - (z_c - m)`; over random logits that include +-1000. And the
//! class's derivative where the class is nearly certain, against the two-class closed form.

mod common;

use common::{config, Dual, Scalar};
use proptest::prelude::*;
use tapegrad::{cross_entropy, log_softmax, softmax, Loss, Tape};

/// A logit: mostly ordinary sizes, sometimes exactly +-1000 or in between.
fn logit() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -8.0..8.0f64,
        2 => -60.0..60.0f64,
        1 => Just(1000.0),
        1 => Just(-1000.0),
        1 => -1000.0..1000.0f64,
    ]
}

/// Logits for 2 to 10 classes and a class among them.
fn case() -> impl Strategy<Value = (Vec<f64>, usize)> {
    prop::collection::vec(logit(), 2..=10).prop_flat_map(|z| {
        let n = z.len();
        (Just(z), 0..n)
    })
}

/// The loss by the textbook formula, on any number type (the largest logit subtracted as a
/// constant, which changes nothing but the range of the exponentials).
fn textbook<S: Scalar>(z: &[S], class: usize) -> S {
    let m = z.iter().map(|v| v.val()).fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<S> = z.iter().map(|v| v.sub_c(m).exp()).collect();
    S::sum(&e).ln().sub(z[class].sub_c(m))
}

fn tape_loss_and_gradient(z: &[f64], class: usize) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let vars = tape.vars(z);
    let loss = cross_entropy(&vars, class).unwrap();
    let g = loss.backward();
    (loss.value(), vars.iter().map(|&v| g[v]).collect())
}

proptest! {
    #![proptest_config(config("proptest-regressions/prop_cross_entropy.txt", 256))]

    /// The fused node's value and gradient equal the dual-number ones through the textbook
    /// formula, to a few roundings of the terms summed; the value is finite at +-1000.
    #[test]
    fn gradient_equals_dual_derivative((z, class) in case()) {
        let (value, grads) = tape_loss_and_gradient(&z, class);
        prop_assert!(value.is_finite() && value >= 0.0, "loss {} at {:?}", value, z);
        let plain: Vec<f64> = z.clone();
        let reference = textbook(&plain, class);
        prop_assert!(
            (value - reference).abs() <= 1e-12 * reference.abs().max(1.0),
            "value {} vs textbook {} at {:?}, class {}", value, reference, z, class
        );
        for (j, &g) in grads.iter().enumerate() {
            let duals: Vec<Dual> = z
                .iter()
                .enumerate()
                .map(|(k, &v)| if k == j { Dual::variable(v) } else { Dual::constant(v) })
                .collect();
            let dual = textbook(&duals, class);
            prop_assert!(
                (g - dual.d).abs() <= 1e-12 * dual.m + f64::MIN_POSITIVE,
                "d/dz{} tape {:e} vs dual {:e} at {:?}, class {}", j, g, dual.d, z, class
            );
        }
    }

    /// The gradient agrees with central differences of the plain-`f64` loss.
    #[test]
    fn gradient_equals_finite_differences((z, class) in case()) {
        let (_, grads) = tape_loss_and_gradient(&z, class);
        let f = |z: &[f64]| Loss::CrossEntropy.eval(z, &[class as f64]).unwrap();
        let h = 1e-3;
        for (j, &g) in grads.iter().enumerate() {
            let (mut up, mut down) = (z.clone(), z.clone());
            up[j] += h;
            down[j] -= h;
            let fd = (f(&up) - f(&down)) / (2.0 * h);
            // Rounding of losses up to ~2000 over 2h, plus h^2 |f'''| / 6 (|f'''| < 0.1).
            prop_assert!(
                (g - fd).abs() <= 1e-6,
                "d/dz{} tape {:e} vs finite differences {:e} at {:?}, class {}", j, g, fd, z, class
            );
        }
        // The gradient of softmax cross-entropy sums to 0 (probabilities sum to 1).
        let sum: f64 = grads.iter().sum();
        prop_assert!(sum.abs() <= 1e-12, "gradient sums to {:e}", sum);
    }

    /// Where the class is nearly certain, its derivative keeps its relative precision: for two
    /// logits (d, 0) and class 0 it is -1 / (1 + e^d) = -e^-d / (1 + e^-d), down to e^-700.
    #[test]
    fn nearly_certain_class_keeps_relative_precision(d in 0.0..700.0f64) {
        let (loss, grads) = tape_loss_and_gradient(&[d, 0.0], 0);
        let t = (-d).exp();
        let exact = -t / (1.0 + t);
        prop_assert!((grads[0] - exact).abs() <= 1e-15 * exact.abs(), "{:e} vs {:e}", grads[0], exact);
        prop_assert!((grads[1] + exact).abs() <= 1e-15 * exact.abs());
        // The loss ln(1 + e^-d) too (where `ln(sum) - d` would give 0 or noise).
        let exact_loss = t.ln_1p();
        prop_assert!((loss - exact_loss).abs() <= 1e-15 * exact_loss, "{:e} vs {:e}", loss, exact_loss);
    }

    /// softmax sums to 1 and log_softmax is its logarithm, finite at +-1000; their gradients
    /// agree with dual numbers.
    #[test]
    fn softmax_and_log_softmax((z, class) in case()) {
        let tape = Tape::new();
        let vars = tape.vars(&z);
        let p = softmax(&vars);
        let lp = log_softmax(&vars);
        let total: f64 = p.iter().map(|v| v.value()).sum();
        prop_assert!((total - 1.0).abs() <= 1e-14 * z.len() as f64, "sums to {}", total);
        // -log_softmax(z)_c is the cross-entropy loss.
        let ce = Loss::CrossEntropy.eval(&z, &[class as f64]).unwrap();
        prop_assert!(lp[class].value().is_finite());
        prop_assert!((-lp[class].value() - ce).abs() <= 1e-12 * ce.max(1.0));
        let g = lp[class].backward();
        for j in 0..z.len() {
            let duals: Vec<Dual> = z
                .iter()
                .enumerate()
                .map(|(k, &v)| if k == j { Dual::variable(v) } else { Dual::constant(v) })
                .collect();
            let dual = textbook(&duals, class);
            prop_assert!(
                (g[vars[j]] + dual.d).abs() <= 1e-12 * dual.m + f64::MIN_POSITIVE,
                "d log_softmax_{}/dz{}: {:e} vs {:e}", class, j, g[vars[j]], -dual.d
            );
        }
    }
}
