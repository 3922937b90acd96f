//! Random multi-layer perceptrons: the gradient of the MSE loss with respect to every parameter
//! passes the gradient checker, against finite differences of plain `predict` calls.

mod common;

use common::{activation, config};
use proptest::prelude::*;
use tapegrad::check::{check_gradient, Tolerance};
use tapegrad::{mse, Activation, Loss, Mlp, Tape};

/// A network, an input and a target.
#[derive(Debug, Clone)]
struct Case {
    sizes: Vec<usize>,
    hidden: Activation,
    output: Activation,
    params: Vec<f64>,
    x: Vec<f64>,
    target: Vec<f64>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        1..=4usize,
        prop::collection::vec(1..=8usize, 0..=2),
        1..=3usize,
        activation(),
        activation(),
    )
        .prop_flat_map(|(inputs, hidden_sizes, outputs, hidden, output)| {
            let mut sizes = vec![inputs];
            sizes.extend(hidden_sizes);
            sizes.push(outputs);
            let n_params: usize = sizes.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
            (
                Just(sizes),
                Just(hidden),
                Just(output),
                prop::collection::vec(-1.5..1.5f64, n_params),
                prop::collection::vec(-2.0..2.0f64, inputs),
                prop::collection::vec(-1.0..1.0f64, outputs),
            )
        })
        .prop_map(|(sizes, hidden, output, params, x, target)| Case {
            sizes,
            hidden,
            output,
            params,
            x,
            target,
        })
        .prop_filter("relu pre-activations away from the kink", away_from_kinks)
}

/// Whether every relu neuron's pre-activation is at least 0.01 from 0, computed here from the
/// parameters (layer by layer, neuron by neuron, weights then bias), not by the library.
fn away_from_kinks(c: &Case) -> bool {
    let mut a = c.x.clone();
    let mut p = c.params.iter();
    let layers = c.sizes.len() - 1;
    for l in 0..layers {
        let act = if l + 1 == layers { c.output } else { c.hidden };
        let mut next = Vec::with_capacity(c.sizes[l + 1]);
        for _ in 0..c.sizes[l + 1] {
            let z = a.iter().map(|x| x * p.next().unwrap()).sum::<f64>() + p.next().unwrap();
            if act == Activation::Relu && z.abs() < 0.01 {
                return false;
            }
            next.push(act.apply(z));
        }
        a = next;
    }
    true
}

proptest! {
    #![proptest_config(config("proptest-regressions/prop_mlp.txt", 64))]

    /// dLoss/dparameter from the tape agrees with finite differences of the plain loss.
    #[test]
    fn every_parameter_gradient_passes_gradcheck(c in case()) {
        let model = Mlp::from_parameters(&c.sizes, c.hidden, c.output, &c.params).unwrap();
        let tape = Tape::new();
        let bound = model.bind(&tape);
        let out = bound.forward(&c.x).unwrap();
        let loss = mse(&out, &c.target).unwrap();
        let grads = loss.backward();
        let tape_grads = bound.gradients(&grads).to_vec();

        let plain_loss = |p: &[f64]| {
            let m = Mlp::from_parameters(&c.sizes, c.hidden, c.output, p).unwrap();
            Loss::Mse.eval(&m.predict(&c.x).unwrap(), &c.target).unwrap()
        };
        prop_assert_eq!(plain_loss(&c.params), loss.value());
        let report = check_gradient(plain_loss, &c.params, &tape_grads, Tolerance::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(report.passed(), "{:?}\n{}", c, report);
    }

    /// With recorded inputs, the gradient with respect to the inputs passes too.
    #[test]
    fn every_input_gradient_passes_gradcheck(c in case()) {
        let model = Mlp::from_parameters(&c.sizes, c.hidden, c.output, &c.params).unwrap();
        let tape = Tape::new();
        let bound = model.bind(&tape);
        let xs = tape.vars(&c.x);
        let loss = mse(&bound.forward_values(&xs).unwrap(), &c.target).unwrap();
        let grads = loss.backward();
        let tape_grads: Vec<f64> = xs.iter().map(|&x| grads[x]).collect();
        let plain_loss = |x: &[f64]| Loss::Mse.eval(&model.predict(x).unwrap(), &c.target).unwrap();
        let report = check_gradient(plain_loss, &c.x, &tape_grads, Tolerance::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(report.passed(), "{:?}\n{}", c, report);
    }
}
