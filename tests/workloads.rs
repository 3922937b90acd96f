//! The workloads of `benches/WORKLOADS.md`, written with tapegrad's public API, reproduce the
//! reference results (1e-9 relative); hand-derived gradients are the oracle for W4 and for
//! `BatchGradient`, whose result must not depend on the thread count by a single bit.

#[path = "../benches/common/mod.rs"]
mod common;

use common::by_hand;
#[cfg(feature = "parallel")]
use common::by_hand::{Act, HandMlp};
use common::data::*;
use common::with_tape;
#[cfg(feature = "parallel")] // only the BatchGradient tests use these
use tapegrad::{Activation, BatchGradient, Dataset, Error, Loss, Mlp};

fn assert_close(what: &str, found: f64, expected: f64) {
    let err = relative_error(found, expected);
    assert!(
        err <= 1e-9,
        "{what}: {found} vs {expected} (relative error {err:e})"
    );
}

#[test]
fn generators_match_the_published_values() {
    let mut rng = common::splitmix::SplitMix64::new(0);
    assert_eq!(rng.next_u64(), 0xE220A8397B1DCDAF);
    assert_eq!(rng.next_u64(), 0x6E789E6AA1B965F4);
    assert_eq!(rng.next_u64(), 0x06C45D188009454F);
    // W1's nine normal draws as benches/WORKLOADS.md lists them, in parameter order
    // (w1 w2 b1, w3 w4 b2, w5 w6 b3).
    let expected = [
        0.8822489062222688,
        -0.4508498757188601,
        -1.1907770929543502,
        0.1883526341159315,
        0.219586379190761,
        0.42664665906935234,
        -0.6703714655421094,
        -0.676527986719054,
        -0.46744487648429395,
    ];
    assert_eq!(w1_parameters(), expected);
    assert_eq!(w2_parameters().len(), 337);
    assert_eq!(w3_parameters().len(), 3466);
}

#[test]
fn w1_reproduces_the_reference() {
    let mut w = with_tape::W1::new();
    w.train();
    let o = w.outcome();
    assert_close("W1 final MSE", o.loss, W1_MSE);
    assert_close("W1 Emily", o.predictions[0], W1_EMILY);
    assert_close("W1 Frank", o.predictions[1], W1_FRANK);
    let mut h = by_hand::W1::new();
    h.train();
    assert_close("W1 by hand", h.outcome().loss, W1_MSE);
}

#[test]
fn w2_reproduces_the_reference() {
    let mut w = with_tape::W2::new();
    w.train();
    let o = w.outcome();
    assert_close("W2 final loss", o.loss, W2_LOSS);
    assert_eq!(o.accuracy, Some(W2_ACCURACY));
    let mut h = by_hand::W2::new();
    h.train();
    assert_close("W2 by hand", h.outcome().loss, W2_LOSS);
}

#[test]
fn w3_reproduces_the_reference() {
    let mut w = with_tape::Wide3::new(1);
    w.train();
    let o = w.outcome();
    assert_close("W3 final MSE", o.loss, W3_MSE);
    assert_eq!(o.accuracy, Some(W3_ACCURACY));
    let mut h = by_hand::Wide3::new(1);
    h.train();
    assert_close("W3 by hand", h.outcome().loss, W3_MSE);
}

#[test]
#[cfg(feature = "parallel")] // BatchGradient
fn w4_parallel_training_is_bit_identical_for_any_thread_count() {
    let mut hand = by_hand::Wide3::new(W4_BATCH);
    hand.train();
    let oracle = hand.outcome();
    let mut trainer = with_tape::Wide3::new(W4_BATCH);
    trainer.train();
    assert_close("W4 Trainer vs by hand", trainer.outcome().loss, oracle.loss);
    let runs: Vec<Vec<f64>> = [1, 2, 3]
        .iter()
        .map(|&threads| {
            let mut w = with_tape::W4Parallel::new(threads);
            w.train();
            let o = w.outcome();
            assert_close(&format!("W4 x{threads} vs by hand"), o.loss, oracle.loss);
            o.parameters
        })
        .collect();
    for (k, run) in runs.iter().enumerate().skip(1) {
        let differ = (run.iter().zip(&runs[0])).filter(|(a, b)| a.to_bits() != b.to_bits());
        assert_eq!(differ.count(), 0, "{} threads differ from 1 thread", k + 1);
    }
}

/// The mean gradient of samples `range` of W3's data, by hand.
#[cfg(feature = "parallel")]
fn hand_mean_gradient(params: &[f64], data: &Wide, range: std::ops::Range<usize>) -> Vec<f64> {
    let mut net = HandMlp::new(&W3_SIZES, Act::Tanh, Act::Identity, params.to_vec());
    let scale = 1.0 / range.len() as f64;
    for i in range {
        let out = net.forward(&data.inputs[i]).to_vec();
        // d/do_k of 0.1 sum_k (o_k - t_k)^2, over the batch mean.
        let d: Vec<f64> = (out.iter().zip(&data.targets[i]))
            .map(|(o, t)| scale * (0.2 * (o - t)))
            .collect();
        net.backward(&d);
    }
    net.grads
}

#[test]
#[cfg(feature = "parallel")] // BatchGradient
fn batch_gradient_matches_hand_derived_gradients() {
    let wide = w3_data();
    let params = w3_parameters();
    let model =
        Mlp::from_parameters(&W3_SIZES, Activation::Tanh, Activation::Identity, &params).unwrap();
    let data = Dataset::new(&wide.inputs, &wide.targets).unwrap();
    // Uneven splits too, and more threads than samples.
    for (range, threads) in [
        (0..32, 1),
        (0..32, 2),
        (5..12, 3),
        (5..12, 8),
        (255..256, 2),
    ] {
        let mut g = vec![f64::NAN; params.len()];
        let loss = BatchGradient::new(threads)
            .unwrap()
            .mean_gradient(&model, &data, range.clone(), Loss::Mse, &mut g)
            .unwrap();
        let oracle = hand_mean_gradient(&params, &wide, range.clone());
        let scale = oracle.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for (k, (a, b)) in g.iter().zip(&oracle).enumerate() {
            assert!(
                (a - b).abs() <= 1e-12 * scale,
                "parameter {k}: {a} vs {b} ({range:?}, {threads} threads)"
            );
        }
        let mean_loss = range
            .clone()
            .map(|i| {
                let out = model.predict(data.input(i)).unwrap();
                Loss::Mse.eval(&out, data.target(i)).unwrap()
            })
            .sum::<f64>()
            / range.len() as f64;
        assert!(
            (loss - mean_loss).abs() <= 1e-14,
            "loss {loss} vs {mean_loss}"
        );
    }
}

#[test]
#[cfg(feature = "parallel")] // BatchGradient
fn batch_gradient_rejects_bad_arguments() {
    let model = Mlp::zeros(&[2, 1], Activation::Identity, Activation::Identity).unwrap();
    let data = Dataset::new(&[[1.0, 2.0], [3.0, 4.0]], &[[0.0], [1.0]]).unwrap();
    let mut g = [0.0; 3];
    assert!(matches!(
        BatchGradient::new(0),
        Err(Error::InvalidHyperparameter { .. })
    ));
    let mut b = BatchGradient::new(2).unwrap();
    assert!(matches!(
        b.mean_gradient(&model, &data, 1..1, Loss::Mse, &mut g),
        Err(Error::SampleRange {
            start: 1,
            end: 1,
            len: 2
        })
    ));
    assert!(matches!(
        b.mean_gradient(&model, &data, 1..3, Loss::Mse, &mut g),
        Err(Error::SampleRange {
            start: 1,
            end: 3,
            len: 2
        })
    ));
    assert!(matches!(
        b.mean_gradient(&model, &data, 0..2, Loss::Mse, &mut [0.0; 2]),
        Err(Error::ParameterCount {
            expected: 3,
            found: 2
        })
    ));
    let wide = Mlp::zeros(&[3, 1], Activation::Identity, Activation::Identity).unwrap();
    assert!(matches!(
        b.mean_gradient(&wide, &data, 0..2, Loss::Mse, &mut [0.0; 4]),
        Err(Error::InputSize {
            expected: 3,
            found: 2
        })
    ));
    // A sample whose loss overflows is named in the error.
    let huge = Mlp::from_parameters(
        &[2, 1],
        Activation::Identity,
        Activation::Identity,
        &[1e300, 1e300, 0.0],
    )
    .unwrap();
    assert!(matches!(
        b.mean_gradient(&huge, &data, 0..2, Loss::Mse, &mut g),
        Err(Error::NonFiniteLoss { sample: 0, .. })
    ));
}

#[test]
#[cfg(feature = "parallel")] // BatchGradient
fn batch_gradient_reports_the_earliest_failure_whatever_the_thread_count() {
    // 24 samples = 3 groups of 8, taken by whichever thread is free. Whatever thread meets a
    // failure, the error names the first bad sample of the earliest failing group, for any
    // thread count and on every repetition; and no failure lingers: the next call on good
    // data succeeds with the same gradient as a fresh one-thread BatchGradient.
    let model = Mlp::from_parameters(
        &[1, 1],
        Activation::Identity,
        Activation::Identity,
        &[1.0, 0.0],
    )
    .unwrap();
    let xs: Vec<[f64; 1]> = (0..24).map(|i| [i as f64]).collect();
    let ys: Vec<[f64; 1]> = (0..24).map(|_| [0.0]).collect();
    let good = Dataset::new(&xs[..16], &ys[..16]).unwrap();
    let mut expected = [0.0; 2];
    let expected_loss = BatchGradient::new(1)
        .unwrap()
        .mean_gradient(&model, &good, 0..16, Loss::Mse, &mut expected)
        .unwrap();
    // (samples overflowing the squared error, the sample the error must name)
    let cases: [(&[usize], usize); 4] =
        [(&[20], 20), (&[3, 20], 3), (&[20, 12], 12), (&[21, 20], 20)];
    for threads in 1..=3 {
        let mut b = BatchGradient::new(threads).unwrap();
        let mut g = [0.0; 2];
        for _ in 0..20 {
            for (bad, named) in cases {
                let mut bad_xs = xs.clone();
                for &i in bad {
                    bad_xs[i] = [1e200];
                }
                let data = Dataset::new(&bad_xs, &ys).unwrap();
                match b.mean_gradient(&model, &data, 0..24, Loss::Mse, &mut g) {
                    Err(Error::NonFiniteLoss { sample, .. }) => {
                        assert_eq!(sample, named, "{threads} threads, bad samples {bad:?}");
                    }
                    other => panic!("{threads} threads, bad samples {bad:?}: {other:?}"),
                }
            }
            let loss = b
                .mean_gradient(&model, &good, 0..16, Loss::Mse, &mut g)
                .unwrap();
            assert_eq!((loss, g), (expected_loss, expected));
        }
    }
    // d/dw mean (w x)^2 = mean 2 w x^2 = 2 * (0 + 1 + ... + 225) / 16 at w = 1
    let sum_sq: f64 = (0..16).map(|i| (i * i) as f64).sum();
    assert_eq!(expected[0], 2.0 * sum_sq / 16.0);
}

#[test]
fn sgd_still_names_the_first_non_finite_parameter_and_changes_nothing() {
    // The bench's profile made Sgd's finiteness check a branch-free pass; its contract stays.
    use tapegrad::{Optimizer, Sgd};
    let mut params = [1.0, 2.0, 1e308, -1e308, 5.0];
    let before = params;
    // 1e308 - 10 * (-1.7e308) overflows to +inf; so does parameter 3 (-inf); 4 is fine.
    let grads = [0.5, 0.5, -1.7e308, 1.7e308, 0.5];
    assert_eq!(
        Sgd::new(10.0).unwrap().step(&mut params, &grads),
        Err(tapegrad::Error::NonFiniteParameter { parameter: 2 })
    );
    assert_eq!(params, before);
    let mut nan = [1.0, 2.0, 3.0];
    assert_eq!(
        Sgd::new(0.1).unwrap().step(&mut nan, &[0.0, f64::NAN, 0.0]),
        Err(tapegrad::Error::NonFiniteParameter { parameter: 1 })
    );
    assert_eq!(nan, [1.0, 2.0, 3.0]);
    let mut ok = [1.0, 2.0];
    assert_eq!(Sgd::new(0.5).unwrap().step(&mut ok, &[2.0, -2.0]), Ok(()));
    assert_eq!(ok, [0.0, 3.0]);
}
