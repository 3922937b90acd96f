//! Hinge, binary cross-entropy from logits and L2: values against closed forms written out here,
//! gradients against central finite differences of those closed forms, and the numeric edges.
#![allow(clippy::needless_range_loop)] // index loops read like the formulas

use proptest::prelude::*;
use tapegrad::{bce_with_logits, hinge, l2, Error, Loss, Tape};

/// Central finite difference of `f` at `x` in coordinate `k`, step cbrt(eps) * max(1, |x_k|).
fn finite_difference(f: &dyn Fn(&[f64]) -> f64, x: &[f64], k: usize) -> f64 {
    let h = f64::EPSILON.cbrt() * x[k].abs().max(1.0);
    let (mut up, mut down) = (x.to_vec(), x.to_vec());
    up[k] += h;
    down[k] -= h;
    (f(&up) - f(&down)) / (2.0 * h)
}

/// The hinge loss as the demo writes it, in plain f64.
fn hinge_reference(scores: &[f64], labels: &[f64]) -> f64 {
    let terms: f64 = scores
        .iter()
        .zip(labels)
        .map(|(s, y)| (1.0 - y * s).max(0.0))
        .sum();
    terms / scores.len() as f64
}

/// Binary cross-entropy the textbook way, `-t ln p - (1 - t) ln(1 - p)` with `p = sigmoid(z)`
/// and `1 - p` computed as `sigmoid(-z)` (fine for moderate logits).
fn bce_reference(logits: &[f64], labels: &[f64]) -> f64 {
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let terms: f64 = logits
        .iter()
        .zip(labels)
        .map(|(&z, &t)| -(t * sigmoid(z).ln() + (1.0 - t) * sigmoid(-z).ln()))
        .sum();
    terms / logits.len() as f64
}

fn values_and_grads(
    f: impl for<'t> Fn(&[tapegrad::Value<'t>]) -> tapegrad::Value<'t>,
    x: &[f64],
) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let vars = tape.vars(x);
    let y = f(&vars);
    let g = y.backward();
    (y.value(), vars.iter().map(|&v| g[v]).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hinge_matches_its_closed_form_and_finite_differences(
        cases in prop::collection::vec((-3.0..3.0f64, prop::bool::ANY), 1..8)
    ) {
        let scores: Vec<f64> = cases.iter().map(|c| c.0).collect();
        let labels: Vec<f64> = cases.iter().map(|c| if c.1 { 1.0 } else { -1.0 }).collect();
        // Stay away from the kink, where the derivative is not defined.
        prop_assume!(scores.iter().zip(&labels).all(|(s, y)| (1.0 - y * s).abs() > 1e-3));
        let (value, grads) = values_and_grads(|v| hinge(v, &labels).unwrap(), &scores);
        prop_assert!((value - hinge_reference(&scores, &labels)).abs() < 1e-15);
        let f = |s: &[f64]| hinge_reference(s, &labels);
        for k in 0..scores.len() {
            let fd = finite_difference(&f, &scores, k);
            prop_assert!((grads[k] - fd).abs() < 1e-8, "k {k}: {} vs {fd}", grads[k]);
        }
    }

    #[test]
    fn bce_matches_the_textbook_form_and_finite_differences(
        cases in prop::collection::vec((-15.0..15.0f64, 0.0..=1.0f64), 1..8)
    ) {
        let logits: Vec<f64> = cases.iter().map(|c| c.0).collect();
        let labels: Vec<f64> = cases.iter().map(|c| c.1).collect();
        let (value, grads) = values_and_grads(|v| bce_with_logits(v, &labels).unwrap(), &logits);
        let reference = bce_reference(&logits, &labels);
        prop_assert!((value - reference).abs() < 1e-12 * reference.max(1.0), "{value} vs {reference}");
        let f = |z: &[f64]| bce_reference(z, &labels);
        let n = logits.len() as f64;
        for k in 0..logits.len() {
            // Closed form: (sigmoid(z) - t) / n, and finite differences of the textbook loss.
            let closed = (1.0 / (1.0 + (-logits[k]).exp()) - labels[k]) / n;
            prop_assert!((grads[k] - closed).abs() < 1e-15);
            let fd = finite_difference(&f, &logits, k);
            prop_assert!((grads[k] - fd).abs() < 1e-7, "k {k}: {} vs {fd}", grads[k]);
        }
    }

    #[test]
    fn l2_matches_its_closed_form_and_finite_differences(
        params in prop::collection::vec(-10.0..10.0f64, 1..10),
        lambda in 0.0..1.0f64,
    ) {
        let (value, grads) = values_and_grads(|v| l2(v, lambda).unwrap(), &params);
        let f = |p: &[f64]| lambda * p.iter().map(|x| x * x).sum::<f64>();
        prop_assert!((value - f(&params)).abs() <= 1e-12 * f(&params).max(1.0));
        for k in 0..params.len() {
            prop_assert!((grads[k] - 2.0 * lambda * params[k]).abs() < 1e-15);
            let fd = finite_difference(&f, &params, k);
            prop_assert!((grads[k] - fd).abs() < 1e-6 * fd.abs().max(1.0), "k {k}: {} vs {fd}", grads[k]);
        }
    }
}

#[test]
fn bce_at_logits_of_plus_minus_1000_is_exact_and_finite() {
    // (logit, label, loss, d loss / d logit): ln(1 + e^-1000) is 0 in f64.
    let cases = [
        (1000.0, 1.0, 0.0, 0.0),
        (1000.0, 0.0, 1000.0, 1.0),
        (-1000.0, 0.0, 0.0, 0.0),
        (-1000.0, 1.0, 1000.0, -1.0),
        (1000.0, 0.5, 500.0, 0.5),
        (0.0, 1.0, std::f64::consts::LN_2, -0.5),
        (0.0, 0.0, std::f64::consts::LN_2, 0.5),
    ];
    for (z, t, loss, d) in cases {
        let (value, grads) = values_and_grads(|v| bce_with_logits(v, &[t]).unwrap(), &[z]);
        assert_eq!((value, grads[0]), (loss, d), "z {z}, t {t}");
        assert_eq!(Loss::BceWithLogits.eval(&[z], &[t]).unwrap(), loss);
    }
    // The textbook form fails exactly here: ln(0) at the confident wrong answer.
    assert_eq!(bce_reference(&[-1000.0], &[1.0]), f64::INFINITY);
    // Even the largest finite logit gives a finite loss and derivative.
    let (value, grads) = values_and_grads(|v| bce_with_logits(v, &[0.0]).unwrap(), &[f64::MAX]);
    assert_eq!((value, grads[0]), (f64::MAX, 1.0));
}

#[test]
fn hinge_gradient_at_and_beyond_the_margin() {
    // Margin exactly 0 (score 1, label 1): relu's convention, derivative 0.
    let (value, grads) =
        values_and_grads(|v| hinge(v, &[1.0, -1.0, -1.0]).unwrap(), &[1.0, 0.5, -3.0]);
    assert_eq!(value, (0.0 + 1.5 + 0.0) / 3.0);
    assert_eq!(grads, [0.0, 1.0 / 3.0, 0.0]);
}

#[test]
fn labels_the_losses_cannot_use_are_errors() {
    let tape = Tape::new();
    let x = tape.vars(&[0.5, 0.5]);
    let err = hinge(&x, &[1.0, 0.0]).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidTarget {
            sample: 0,
            position: 1,
            ..
        }
    ));
    let err = bce_with_logits(&x, &[1.5, 0.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "sample 0 has target 1.5 at position 0, but binary cross-entropy needs a value in [0, 1]"
    );
    assert!(bce_with_logits(&x, &[f64::NAN, 0.0]).is_err());
    assert!(matches!(
        hinge(&x, &[1.0]),
        Err(Error::TargetSize {
            outputs: 2,
            targets: 1
        })
    ));
    assert!(matches!(
        bce_with_logits(&[], &[]),
        Err(Error::EmptyDataset)
    ));
    assert!(matches!(
        l2(&x, f64::NAN),
        Err(Error::InvalidHyperparameter { .. })
    ));
    assert!(matches!(
        l2(&x, -1e-4),
        Err(Error::InvalidHyperparameter { .. })
    ));
    assert!(matches!(l2(&[], 1e-4), Err(Error::EmptyDataset)));
}

#[test]
fn accuracy_rules() {
    assert_eq!(Loss::Hinge.is_correct(0.1, 1.0), Some(true));
    assert_eq!(Loss::Hinge.is_correct(-0.1, 1.0), Some(false));
    assert_eq!(Loss::BceWithLogits.is_correct(-0.1, 0.0), Some(true));
    assert_eq!(Loss::BceWithLogits.is_correct(0.1, 0.0), Some(false));
    assert_eq!(Loss::Mse.is_correct(0.1, 0.0), None);
}

/// A mean whose plain sum overflows is summed again from scaled terms: infinite only where
/// the true mean is (numerics table). The references are the means computed in exact-enough
/// arithmetic by hand: every term here is a power-of-ten-sized finite number.
#[test]
fn a_mean_overflows_only_where_the_true_mean_does() {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs();
    // mse: two squares of 1.69e308 each (their sum is inf); the mean is 1.69e308.
    let m = Loss::Mse.eval(&[1.3e154, 1.3e154], &[0.0, 0.0]).unwrap();
    assert!(close(m, 1.3e154 * 1.3e154), "mse {m:e}");
    // A square that overflows on its own (2.25e308) still has a finite mean over two outputs.
    let m = Loss::Mse.eval(&[1.5e154, 0.0], &[0.0, 0.0]).unwrap();
    assert!(close(m, 1.5e154 * (0.5 * 1.5e154)), "mse {m:e}");
    // hinge and bce: margins of 1e308 + 1.
    let h = Loss::Hinge.eval(&[-1e308, -1e308], &[1.0, 1.0]).unwrap();
    assert!(close(h, 1e308), "hinge {h:e}");
    let b = Loss::BceWithLogits
        .eval(&[-1e308, -1e308], &[1.0, 1.0])
        .unwrap();
    assert!(close(b, 1e308), "bce {b:e}");
    // Where the true mean overflows, it is still inf.
    assert_eq!(Loss::Mse.eval(&[1.5e154], &[0.0]).unwrap(), f64::INFINITY);
    // The usual case keeps the bits of (1/n) * sum.
    let (o, t) = ([0.3, -1.2, 2.5], [0.0, 1.0, 2.0]);
    let sum: f64 = o.iter().zip(&t).map(|(o, t)| (o - t) * (o - t)).sum();
    assert_eq!(Loss::Mse.eval(&o, &t).unwrap(), (1.0 / 3.0) * sum);
}

/// The trainer's mean over a batch likewise: a batch of two samples whose losses are 1.69e308
/// each trains (with a learning rate small enough that the step is finite) instead of
/// stopping with a NonFiniteLoss that no sample has.
#[test]
fn a_batch_mean_of_large_finite_losses_trains() {
    use tapegrad::{Activation, Dataset, Mlp, Sgd, TrainConfig, Trainer};
    let id = Activation::Identity;
    // o = w x = 1.3e154: each loss o^2 = 1.69e308, the gradient 2 o x stays finite.
    let mut model = Mlp::from_parameters(&[1, 1], id, id, &[1.3e154, 0.0]).unwrap();
    let data = Dataset::new(&[[1.0], [1.0]], &[[0.0], [0.0]]).unwrap();
    let config = TrainConfig::default().batch_size(2).epochs(1);
    let mut trainer = Trainer::new(config).unwrap();
    let mut sgd = Sgd::new(1e-320).unwrap();
    let mut loss = None;
    trainer
        .fit(&mut model, &mut sgd, &data, |r| loss = Some(r.loss))
        .unwrap();
    let loss = loss.unwrap();
    assert!((loss - 1.3e154 * 1.3e154).abs() <= 1e-15 * loss, "{loss:e}");
}
