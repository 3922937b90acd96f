//! Bytes become a network (sizes, activations, parameters), a loss (mse, hinge, binary or
//! softmax cross-entropy), a dataset and hyperparameters, all capped small; then a few
//! training steps.
//!
//! Asserts: no panic; a network recorded with dense-layer blocks and node by node gives the
//! same values and gradients, bit for bit; bad shapes, data and hyperparameters come back as errors; a step either
//! succeeds with a finite loss and finite parameters, or fails with the library's error and
//! leaves the parameters exactly as they were before that step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapegrad::{mse, Activation, Dataset, Error, Loss, Mlp, Sgd, Tape, TrainConfig, Trainer};

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

fuzz_target!(|data: &[u8]| run(data));

fn activation(b: &mut Bytes) -> Activation {
    match b.u8() % 4 {
        0 => Activation::Sigmoid,
        1 => Activation::Tanh,
        2 => Activation::Relu,
        _ => Activation::Identity,
    }
}

fn run(data: &[u8]) {
    let mut b = Bytes::new(data);
    // Sizes: 2 to 4 layers of width 0 to 8 (0 is invalid and must be an error).
    let layers = 2 + usize::from(b.u8() % 3);
    let sizes: Vec<usize> = (0..layers).map(|_| usize::from(b.u8() % 9)).collect();
    let (hidden, output) = (activation(&mut b), activation(&mut b));
    let count: usize = sizes.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
    // Sometimes one parameter too many or too few.
    let count = match b.u8() {
        0 => count + 1,
        1 => count.saturating_sub(1),
        _ => count,
    };
    let params: Vec<f64> = (0..count).map(|_| b.f64()).collect();
    let mut model = match Mlp::from_parameters(&sizes, hidden, output, &params) {
        Ok(model) => model,
        // A NaN or infinite parameter is refused (it could not be saved and loaded back).
        Err(
            Error::Architecture(_) | Error::ParameterCount { .. } | Error::InvalidParameter { .. },
        ) => return,
        Err(e) => panic!("unexpected error building the model: {e}"),
    };

    let loss = match b.u8() % 4 {
        0 => Loss::Mse,
        1 => Loss::Hinge,
        2 => Loss::BceWithLogits,
        _ => Loss::CrossEntropy,
    };
    let rows = 1 + usize::from(b.u8() % 4);
    let (inputs, outputs) = (model.input_size(), model.output_size());
    // A cross-entropy target is one class index; the other losses take one per output.
    let target_width = if loss == Loss::CrossEntropy {
        1
    } else {
        outputs
    };
    // Occasionally a row of the wrong width.
    let width = |b: &mut Bytes, n: usize| if b.u8() == 0 { n + 1 } else { n };
    let xs: Vec<Vec<f64>> = (0..rows)
        .map(|_| {
            let n = width(&mut b, inputs);
            (0..n).map(|_| b.f64()).collect()
        })
        .collect();
    let ys: Vec<Vec<f64>> = (0..rows)
        .map(|_| {
            let n = width(&mut b, target_width);
            (0..n).map(|_| target(&mut b, loss, outputs)).collect()
        })
        .collect();
    let Ok(data) = Dataset::new(&xs, &ys) else {
        return;
    };
    if data.input_size() == inputs && data.target_size() == outputs && outputs == target_width {
        blocks_match_nodes(&model, data.input(0), data.target(0));
    }
    let lr = b.f64();
    let Ok(mut sgd) = Sgd::new(lr) else {
        assert!(!(lr.is_finite() && lr > 0.0), "Sgd::new rejected {lr}");
        return;
    };
    let config = TrainConfig::default()
        .loss(loss)
        .epochs(1 + usize::from(b.u8() % 3))
        .batch_size(usize::from(b.u8() % 5));
    let batch_size = config.batch_size;
    let Ok(mut trainer) = Trainer::new(config) else {
        // The only thing Trainer::new refuses in this config is a batch size of 0.
        assert_eq!(
            batch_size, 0,
            "Trainer::new refused batch size {batch_size}"
        );
        return;
    };

    // Step by step, so the parameters before a failed step can be compared.
    let batch = config_batch(&mut b, rows);
    for start in (0..rows).step_by(batch) {
        let end = (start + batch).min(rows);
        let before = model.parameters().to_vec();
        match trainer.step(&mut model, &mut sgd, &data, start..end) {
            Ok(loss) => {
                assert!(
                    loss.is_finite(),
                    "a non-finite loss {loss} must be an error"
                );
                assert!(model.parameters().iter().all(|p| p.is_finite()));
            }
            Err(Error::NonFiniteLoss { loss, .. }) => {
                assert!(!loss.is_finite());
                assert_same(&before, model.parameters());
                return;
            }
            Err(Error::NonFiniteUpdate { .. }) => {
                assert_same(&before, model.parameters());
                return;
            }
            // Rows of another width than the model's: an error naming the sizes.
            Err(Error::InputSize { .. } | Error::TargetSize { .. }) => {
                assert_same(&before, model.parameters());
                assert!(data.input_size() != inputs || data.target_size() != target_width);
                return;
            }
            // A target the loss cannot use (not +-1 for hinge, outside [0, 1] for binary
            // cross-entropy, not a class index below the output count, not finite).
            Err(Error::InvalidTarget { .. } | Error::ClassTarget { .. }) => {
                assert_same(&before, model.parameters());
                return;
            }
            Err(e) => panic!("unexpected error from a step: {e}"),
        }
    }

    // And whole epochs: every reported loss finite, or an error.
    let result = trainer.fit(&mut model, &mut sgd, &data, |report| {
        assert!(
            report.loss.is_finite(),
            "epoch {} loss {}",
            report.epoch,
            report.loss
        );
    });
    match result {
        Ok(summary) => assert!(summary.last_loss.is_finite()),
        Err(Error::NonFiniteLoss { .. } | Error::NonFiniteUpdate { .. }) => {}
        Err(e) => panic!("unexpected error from fit: {e}"),
    }
    assert!(model.parameters().iter().all(|p| p.is_finite()));
}

/// A forward pass and its gradients, recorded with fused dense layers and node by node from
/// public ops (`forward_unfused`): the same bits, whatever the numbers (NaN for NaN).
fn blocks_match_nodes(model: &Mlp, x: &[f64], target: &[f64]) {
    let run = |fused: bool| {
        let tape = Tape::new();
        let bound = model.bind(&tape);
        let xs = tape.vars(x);
        let out = if fused {
            bound.forward_values(&xs).unwrap()
        } else {
            bound.forward_unfused(&xs).unwrap()
        };
        let loss = mse(&out, target).unwrap();
        let grads = loss.backward();
        let mut all: Vec<f64> = out.iter().map(|o| o.value()).collect();
        all.push(loss.value());
        all.extend_from_slice(bound.gradients(&grads));
        all.extend(xs.iter().map(|&v| grads[v]));
        all
    };
    let (blocks, nodes) = (run(true), run(false));
    let same = |a: &f64, b: &f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    assert!(
        blocks.iter().zip(&nodes).all(|(a, b)| same(a, b)),
        "blocks {blocks:?}\nnodes  {nodes:?}"
    );
}

/// A target for `loss`: mostly one it accepts, sometimes any number (which it may refuse).
fn target(b: &mut Bytes, loss: Loss, outputs: usize) -> f64 {
    if b.u8() == 0 {
        return b.f64();
    }
    match loss {
        Loss::Hinge => [1.0, -1.0][usize::from(b.u8() & 1)],
        Loss::BceWithLogits => f64::from(b.u8()) / 255.0,
        // Sometimes one past the last class.
        Loss::CrossEntropy => (usize::from(b.u8()) % (outputs + 1)) as f64,
        _ => b.f64(),
    }
}

fn config_batch(b: &mut Bytes, rows: usize) -> usize {
    1 + usize::from(b.u8()) % rows
}

/// Bit-for-bit equal parameters (NaN included).
fn assert_same(before: &[f64], after: &[f64]) {
    let bits = |p: &[f64]| p.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(before),
        bits(after),
        "a failed step changed the parameters"
    );
}
