//! Dense layers recorded as fused nodes ([`Bound::forward_values`]) against the same layers
//! recorded node by node from public ops ([`Bound::forward_unfused`]), which must give the same
//! bits, and against finite differences.

mod common;

use common::{activation, config};
use proptest::prelude::*;
use tapegrad::check::{check_gradient, Tolerance};
use tapegrad::{hinge, mse, Activation, Error, Layer, Loss, Mlp, Neuron, Tape, Value};

/// A random MLP, one input and one target for it.
/// Whether every relu pre-activation of `model` at `x` is at least 0.01 from the kink.
fn away_from_kinks(model: &Mlp, x: &[f64]) -> bool {
    let mut a = x.to_vec();
    for layer in (0..).map_while(|l| model.layer(l)) {
        let mut next = Vec::with_capacity(layer.outputs());
        for neuron in (0..layer.outputs()).map(|j| layer.neuron(j).unwrap()) {
            let weighted = neuron.weights().iter().zip(&a).map(|(w, x)| w * x);
            let z = weighted.sum::<f64>() + neuron.bias();
            if layer.activation() == Activation::Relu && z.abs() < 0.01 {
                return false;
            }
            next.push(layer.activation().apply(z));
        }
        a = next;
    }
    true
}

fn case() -> impl Strategy<Value = (Mlp, Vec<f64>, Vec<f64>)> {
    case_up_to(5)
}

/// A random MLP with layers of up to `width` neurons.
fn case_up_to(width: usize) -> impl Strategy<Value = (Mlp, Vec<f64>, Vec<f64>)> {
    (
        prop::collection::vec(1..=width, 2..=4),
        activation(),
        activation(),
    )
        .prop_flat_map(|(sizes, hidden, output)| {
            let n: usize = sizes.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
            (
                prop::collection::vec(-1.5..1.5f64, n),
                prop::collection::vec(-2.0..2.0f64, sizes[0]),
                prop::collection::vec(-1.0..1.0f64, *sizes.last().unwrap()),
                Just((sizes, hidden, output)),
            )
        })
        .prop_map(|(params, x, target, (sizes, hidden, output))| {
            let model = Mlp::from_parameters(&sizes, hidden, output, &params).unwrap();
            (model, x, target)
        })
}

/// The loss's gradient with respect to the parameters and to the inputs, with the inputs
/// recorded in reverse order (so the first layer's input nodes are not consecutive).
fn gradients(fused: bool, model: &Mlp, x: &[f64], target: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    let tape = Tape::new();
    let reversed: Vec<f64> = x.iter().rev().copied().collect();
    let vars = tape.vars(&reversed);
    let inputs: Vec<_> = vars.iter().rev().copied().collect();
    let bound = model.bind(&tape);
    let outputs = if fused {
        bound.forward_values(&inputs)
    } else {
        bound.forward_unfused(&inputs)
    };
    let loss = mse(&outputs.unwrap(), target).unwrap();
    let grads = loss.backward();
    let params = bound.gradients(&grads).to_vec();
    let inputs = inputs.iter().map(|&v| grads[v]).collect();
    (loss.value(), params, inputs)
}

proptest! {
    #![proptest_config(config("proptest-regressions/prop_dense.txt", 128))]

    /// Fused and node-by-node recording give the same loss and gradients, bit for bit, and the
    /// input gradient (inputs listed out of order) passes finite differences.
    #[test]
    fn fused_layers_agree_with_nodes_and_finite_differences((model, x, target) in case()) {
        let (loss, params, inputs) = gradients(true, &model, &x, &target);
        let (loss_t, params_t, inputs_t) = gradients(false, &model, &x, &target);
        prop_assert_eq!(loss, loss_t);
        // The same products summed in the same order: the same bits.
        for (a, b) in params.iter().zip(&params_t).chain(inputs.iter().zip(&inputs_t)) {
            prop_assert_eq!(a.to_bits(), b.to_bits(), "{} vs {}", a, b);
        }
        // relu kinks make finite differences meaningless right at them: such cases are drawn
        // again, every other one is checked
        prop_assume!(away_from_kinks(&model, &x));
        let plain = |x: &[f64]| Loss::Mse.eval(&model.predict(x).unwrap(), &target).unwrap();
        let report = check_gradient(plain, &x, &inputs, Tolerance::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(report.passed(), "{}", report);
    }
}

proptest! {
    #![proptest_config(config("proptest-regressions/prop_dense.txt", 32))]

    /// Layers of up to 21 neurons, so that the forward pass's blocks of eight and four rows
    /// and their remainders all run, over inputs recorded in order and out of order: still the
    /// bits of node-by-node recording.
    #[test]
    fn wide_fused_layers_agree_with_nodes((model, x, target) in case_up_to(21)) {
        let (loss, params, inputs) = gradients(true, &model, &x, &target);
        let (loss_t, params_t, inputs_t) = gradients(false, &model, &x, &target);
        prop_assert_eq!(loss.to_bits(), loss_t.to_bits());
        for (a, b) in params.iter().zip(&params_t).chain(inputs.iter().zip(&inputs_t)) {
            prop_assert_eq!(a.to_bits(), b.to_bits(), "{} vs {}", a, b);
        }
    }
}

#[test]
fn a_fused_output_reports_its_implied_edges() {
    // one tanh layer of two neurons over two recorded inputs, given in order (consecutive
    // nodes) and reversed (listed nodes)
    let (w, b) = ([[0.5, -1.5], [2.0, 0.75]], [0.25, -1.0]);
    let layer = Layer::new(vec![
        Neuron::new(w[0].to_vec(), b[0], Activation::Tanh),
        Neuron::new(w[1].to_vec(), b[1], Activation::Tanh),
    ])
    .unwrap();
    for reversed in [false, true] {
        let (tape, unfused) = (Tape::new(), Tape::new());
        fn inputs(t: &Tape, reversed: bool) -> Vec<Value<'_>> {
            let mut x = t.vars(&[0.3, -0.7]);
            if reversed {
                x.reverse();
            }
            x
        }
        let x = inputs(&tape, reversed);
        let bound = layer.bind(&tape);
        let out = bound.forward_values(&x).unwrap();
        let out_u = layer
            .bind(&unfused)
            .forward_unfused(&inputs(&unfused, reversed))
            .unwrap();
        let params = bound.parameters();
        for (j, (a, a_u)) in out.iter().zip(&out_u).enumerate() {
            assert_eq!(a.value(), a_u.value());
            // unfused: a = tanh(z), one edge (z, tanh'(z))
            let [(_, d)] = unfused.edges(a_u.index()).unwrap()[..] else {
                panic!("tanh has one input")
            };
            let mut expected = vec![(params[3 * j + 2].index(), d)];
            for k in 0..2 {
                expected.push((params[3 * j + k].index(), d * x[k].value()));
            }
            for k in 0..2 {
                expected.push((x[k].index(), d * w[j][k]));
            }
            assert_eq!(
                tape.edges(a.index()).unwrap(),
                expected,
                "reversed {reversed}"
            );
        }
        assert_eq!(tape.edge_count(), 2 * (1 + 2 + 2));
    }
}

#[test]
fn backward_from_one_output_of_a_layer_ignores_the_others_and_later_passes() {
    let model = Mlp::from_parameters(
        &[2, 3],
        Activation::Tanh,
        Activation::Sigmoid,
        &[0.1, 0.2, 0.3, -0.4, 0.5, -0.6, 0.7, 0.8, -0.9],
    )
    .unwrap();
    for traced in [false, true] {
        let tape = if traced { Tape::traced() } else { Tape::new() };
        let bound = model.bind(&tape);
        let out = bound.forward(&[1.0, -2.0]).unwrap();
        let _later = bound.forward(&[3.0, 4.0]).unwrap();
        let grads = out[1].backward();
        let g = bound.gradients(&grads);
        // d sigmoid(z1)/d params: only neuron 1's (w10, w11, b1) = s'(z1) * (x0, x1, 1)
        let z1 = -0.4 * 1.0 + 0.5 * -2.0 - 0.6;
        let s = 1.0 / (1.0 + f64::exp(-z1));
        let ds = s * (1.0 - s);
        let expected = [0.0, 0.0, 0.0, ds, -2.0 * ds, ds, 0.0, 0.0, 0.0];
        for (a, b) in g.iter().zip(expected) {
            assert!(
                (a - b).abs() < 1e-15,
                "traced {traced}: {g:?} vs {expected:?}"
            );
        }
    }
}

#[test]
fn a_recording_keeps_the_weights_it_was_made_with() {
    let params = [0.5, -0.25, 0.1, 1.5, 0.75, -0.3, 0.2, -0.9, 0.05];
    let mut model =
        Mlp::from_parameters(&[2, 2, 1], Activation::Tanh, Activation::Identity, &params).unwrap();
    let fresh = |m: &Mlp| {
        let tape = Tape::new();
        let bound = m.bind(&tape);
        let x = tape.vars(&[0.4, -1.2]);
        let loss = mse(&bound.forward_values(&x).unwrap(), &[0.5]).unwrap();
        let grads = loss.backward();
        (bound.gradients(&grads).to_vec(), grads[x[0]], grads[x[1]])
    };
    let before = fresh(&model);

    let tape = Tape::new();
    let x = tape.vars(&[0.4, -1.2]);
    let (loss, first) = {
        let bound = model.bind(&tape);
        let loss = mse(&bound.forward_values(&x).unwrap(), &[0.5]).unwrap();
        (loss, bound.parameters()[0])
    };
    model.parameters_mut().iter_mut().for_each(|p| *p *= -3.0);
    assert_ne!(fresh(&model), before, "the change matters");
    let grads = loss.backward();
    let params_grads: Vec<f64> = (0..params.len())
        .map(|k| grads.as_slice()[first.index() + k])
        .collect();
    assert_eq!((params_grads, grads[x[0]], grads[x[1]]), before);
}

/// A batch of rows through `forward_batch` against each row through `forward`: the same output
/// bits, and the hinge loss's parameter gradients equal to rounding, 1e-12 relative to the sum
/// of the per-row gradients' absolute values (the batch sums its rows in another order; plain
/// relative error means nothing where they cancel).
fn batch_agrees_with_rows(model: &Mlp, rows: &[Vec<f64>], labels: &[f64]) {
    let tape = Tape::new();
    let bound = model.bind(&tape);
    let scores = bound.forward_batch(rows).unwrap();
    let batch_grads = bound
        .gradients(&hinge(&scores, labels).unwrap().backward())
        .to_vec();
    let single = Tape::new();
    let one = model.bind(&single);
    let each: Vec<Value> = rows.iter().map(|r| one.forward(r).unwrap()[0]).collect();
    for (a, b) in scores.iter().zip(&each) {
        assert_eq!(a.value().to_bits(), b.value().to_bits());
    }
    let row_grads = one
        .gradients(&hinge(&each, labels).unwrap().backward())
        .to_vec();
    let mut size = vec![0.0; model.parameter_count()];
    for (i, row) in rows.iter().enumerate() {
        let t = Tape::new();
        let b = model.bind(&t);
        let loss =
            hinge(&b.forward(row).unwrap(), &labels[i..=i]).unwrap() * (1.0 / rows.len() as f64);
        for (s, g) in size.iter_mut().zip(b.gradients(&loss.backward())) {
            *s += g.abs();
        }
    }
    for (k, (a, b)) in batch_grads.iter().zip(&row_grads).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * size[k],
            "parameter {k}: {a} vs {b}"
        );
    }
}

#[test]
fn a_batch_gives_each_rows_outputs_and_their_gradients() {
    let sizes = [3, 17, 9, 1];
    let count: usize = sizes.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
    let params: Vec<f64> = (0..count).map(|k| (k as f64 * 0.77).sin()).collect();
    let rows: Vec<Vec<f64>> = (0..37)
        .map(|i| (0..3).map(|k| ((3 * i + k) as f64 * 1.9).cos()).collect())
        .collect();
    let last = count - (9 + 1);
    for (hidden, scale) in [
        (Activation::Tanh, 1.0),
        (Activation::Relu, 1.0),
        (Activation::Relu, 50.0),
    ] {
        // Scores scaled up by `scale`, labels on the side of each score but every fifth:
        // with a large scale most hinges are closed (the rule then goes sample by sample,
        // skipping the zeros).
        let scaled: Vec<f64> = (params.iter().enumerate())
            .map(|(k, p)| if k >= last { p * scale } else { *p })
            .collect();
        let model = Mlp::from_parameters(&sizes, hidden, Activation::Identity, &scaled).unwrap();
        let labels: Vec<f64> = (rows.iter().enumerate())
            .map(|(i, r)| {
                let side = model.predict(r).unwrap()[0].signum();
                if i % 5 == 0 {
                    -side
                } else {
                    side
                }
            })
            .collect();
        batch_agrees_with_rows(&model, &rows, &labels);
    }
}

#[test]
fn a_batch_names_the_sample_of_a_bad_row_and_a_traced_tape_records_rows() {
    let model = Mlp::zeros(&[2, 3, 1], Activation::Tanh, Activation::Identity).unwrap();
    let tape = Tape::new();
    let bound = model.bind(&tape);
    let err = bound
        .forward_batch(&[[1.0, 2.0], [0.0, f64::NAN]])
        .unwrap_err();
    assert!(
        matches!(err, Error::NonFiniteData { sample: 1, what: "input", position: 1, value } if value.is_nan()),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "sample 1 has a non-finite input value NaN at position 1"
    );
    let short: &[&[f64]] = &[&[1.0, 2.0], &[1.0]];
    assert_eq!(
        bound.forward_batch(short).unwrap_err(),
        Error::InputSize {
            expected: 2,
            found: 1
        }
    );
    assert!(bound.forward_batch::<[f64; 2]>(&[]).unwrap().is_empty());
    // Traced: each row is its own fused node per layer, so each output has its edges.
    let traced = Tape::traced();
    let out = model
        .bind(&traced)
        .forward_batch(&[[1.0, 2.0], [3.0, 4.0]])
        .unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(traced.edges(out[1].index()).unwrap().len(), 1 + 2 * 3);
}
