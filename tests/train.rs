//! Training runs: the seed's 1000-epoch run from the exact parameters of W1 in
//! `benches/WORKLOADS.md`, and every error the training path can give, each produced by the
//! input that should produce it.

use tapegrad::{
    mse, train, Activation, Dataset, Error, Loss, Mlp, Optimizer, Sgd, Tape, TrainConfig, Trainer,
};

fn people() -> Dataset {
    Dataset::new(
        &[[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]],
        &[[1.0], [0.0], [0.0], [1.0]],
    )
    .unwrap()
}

/// benches/WORKLOADS.md W1: nine standard-normal draws from SplitMix64(42), in the seed's order
/// w1..w6, b1..b3, rearranged into tapegrad's order (h1: w1 w2 b1, h2: w3 w4 b2, o1: w5 w6 b3).
fn w1_network() -> Mlp {
    let w = [
        0.8822489062222688,
        -0.4508498757188601,
        0.1883526341159315,
        0.219586379190761,
        -0.6703714655421094,
        -0.676527986719054,
    ];
    let b = [
        -1.1907770929543502,
        0.42664665906935234,
        -0.46744487648429395,
    ];
    Mlp::from_parameters(
        &[2, 2, 1],
        Activation::Sigmoid,
        Activation::Sigmoid,
        &[w[0], w[1], b[0], w[2], w[3], b[1], w[4], w[5], b[2]],
    )
    .unwrap()
}

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs()
}

#[test]
fn seed_run_reproduces_workloads_w1() {
    let data = people();
    let mut model = w1_network();
    let mut epochs = 0;
    train(
        &mut model,
        &mut Sgd::new(0.1).unwrap(),
        &data,
        TrainConfig::default().epochs(1000).batch_size(1),
        |_| epochs += 1,
    )
    .unwrap();
    assert_eq!(epochs, 1000);
    let final_mse = model.loss(&data, Loss::Mse).unwrap();
    let emily = model.predict(&[-7.0, -3.0]).unwrap()[0];
    let frank = model.predict(&[20.0, 2.0]).unwrap()[0];
    assert!(
        rel_close(final_mse, 0.0023276758466228313, 1e-12),
        "{final_mse}"
    );
    assert!(rel_close(emily, 0.9488972676278918, 1e-12), "{emily}");
    assert!(rel_close(frank, 0.039365481724227096, 1e-12), "{frank}");
}

#[test]
fn per_sample_training_is_the_seed_loop_by_hand() {
    // The Trainer's per-sample path equals bind / forward / mse / backward / Sgd written out.
    let data = people();
    let mut by_trainer = w1_network();
    let mut by_hand = w1_network();
    let mut trainer = Trainer::new(TrainConfig::default().epochs(3)).unwrap();
    trainer
        .fit(&mut by_trainer, &mut Sgd::new(0.1).unwrap(), &data, |_| {})
        .unwrap();
    let mut sgd = Sgd::new(0.1).unwrap();
    for _ in 0..3 {
        for i in 0..data.len() {
            let tape = Tape::new();
            let bound = by_hand.bind(&tape);
            let out = bound.forward(data.input(i)).unwrap();
            let loss = mse(&out, data.target(i)).unwrap();
            let grads = loss.backward();
            let g = bound.gradients(&grads).to_vec();
            sgd.step(by_hand.parameters_mut(), &g).unwrap();
        }
    }
    assert_eq!(by_trainer.parameters(), by_hand.parameters());
}

#[test]
fn mini_batch_step_uses_the_mean_gradient() {
    // One batch of all four samples = the mean of the four per-sample gradients.
    let data = people();
    let model = w1_network();
    let mut mean = [0.0; 9];
    for i in 0..4 {
        let tape = Tape::new();
        let bound = model.bind(&tape);
        let loss = mse(&bound.forward(data.input(i)).unwrap(), data.target(i)).unwrap();
        for (m, g) in mean.iter_mut().zip(bound.gradients(&loss.backward())) {
            *m += g / 4.0;
        }
    }
    let mut batched = model.clone();
    let mut trainer = Trainer::new(TrainConfig::default().batch_size(4)).unwrap();
    let summary = trainer
        .fit(&mut batched, &mut Sgd::new(1.0).unwrap(), &data, |_| {})
        .unwrap();
    assert_eq!(summary.steps, 1);
    for (k, m) in mean.iter().enumerate() {
        let step = model.parameters()[k] - batched.parameters()[k];
        assert!((step - m).abs() < 1e-15, "parameter {k}: {step} vs {m}");
    }
}

#[test]
fn epoch_callback_reports_every_epoch_and_the_loss_falls() {
    let data = people();
    let mut model = w1_network();
    let mut reports = Vec::new();
    train(
        &mut model,
        &mut Sgd::new(0.1).unwrap(),
        &data,
        TrainConfig::default().epochs(200),
        |r| reports.push((r.epoch, r.loss, r.model.loss(&data, Loss::Mse).unwrap())),
    )
    .unwrap();
    assert_eq!(reports.len(), 200);
    assert!(reports.iter().enumerate().all(|(i, r)| r.0 == i));
    assert!(
        reports[199].2 < reports[0].2 / 2.0,
        "{:?} {:?}",
        reports[0],
        reports[199]
    );
}

#[test]
fn same_seed_same_run_bit_for_bit() {
    use rand::{rngs::StdRng, SeedableRng};
    let run = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut m =
            Mlp::random(&[2, 3, 1], Activation::Tanh, Activation::Sigmoid, &mut rng).unwrap();
        train(
            &mut m,
            &mut Sgd::new(0.1).unwrap(),
            &people(),
            TrainConfig::default().epochs(50),
            |_| {},
        )
        .unwrap();
        m
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

// ---- errors ---------------------------------------------------------------------------------

#[test]
fn input_size_mismatch() {
    let model = w1_network();
    assert_eq!(
        model.predict(&[1.0]),
        Err(Error::InputSize {
            expected: 2,
            found: 1
        })
    );
    let tape = Tape::new();
    assert!(matches!(
        model.bind(&tape).forward(&[1.0, 2.0, 3.0]),
        Err(Error::InputSize {
            expected: 2,
            found: 3
        })
    ));
    let wide = Dataset::new(&[[1.0, 2.0, 3.0]], &[[1.0]]).unwrap();
    let err = Trainer::new(TrainConfig::default())
        .unwrap()
        .fit(
            &mut w1_network(),
            &mut Sgd::new(0.1).unwrap(),
            &wide,
            |_| {},
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::InputSize {
            expected: 2,
            found: 3
        }
    );
    assert_eq!(err.to_string(), "input has 3 values but the model takes 2");
}

#[test]
fn targets_and_outputs_of_different_lengths() {
    let tape = Tape::new();
    let out = tape.vars(&[0.5]);
    assert_eq!(
        mse(&out, &[1.0, 0.0]).unwrap_err(),
        Error::TargetSize {
            outputs: 1,
            targets: 2
        }
    );
    let two_targets = Dataset::new(&[[1.0, 2.0]], &[[1.0, 0.0]]).unwrap();
    let mut model = w1_network();
    let err = train(
        &mut model,
        &mut Sgd::new(0.1).unwrap(),
        &two_targets,
        TrainConfig::default(),
        |_| {},
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::TargetSize {
            outputs: 1,
            targets: 2
        }
    );
    assert_eq!(model, w1_network(), "nothing trained");
}

#[test]
fn empty_dataset() {
    let none: [[f64; 2]; 0] = [];
    let targets: [[f64; 1]; 0] = [];
    assert_eq!(
        Dataset::new(&none, &targets).unwrap_err(),
        Error::EmptyDataset
    );
    assert_eq!(mse(&[], &[]).unwrap_err(), Error::EmptyDataset);
}

#[test]
fn ragged_and_non_finite_data() {
    let err = Dataset::new(&[vec![1.0, 2.0], vec![1.0]], &[vec![1.0], vec![0.0]]).unwrap_err();
    assert_eq!(
        err,
        Error::RaggedSample {
            sample: 1,
            what: "inputs",
            expected: 2,
            found: 1
        }
    );
    let err = Dataset::new(&[[1.0], [2.0]], &[vec![1.0], vec![]]).unwrap_err();
    assert!(matches!(
        err,
        Error::RaggedSample {
            sample: 1,
            what: "targets",
            ..
        }
    ));
    let err = Dataset::new(&[[1.0, f64::NAN]], &[[1.0]]).unwrap_err();
    assert!(matches!(
        err,
        Error::NonFiniteData {
            sample: 0,
            what: "input",
            position: 1,
            ..
        }
    ));
    assert_eq!(
        Dataset::new(&[[1.0]], &[[1.0], [2.0]]).unwrap_err(),
        Error::DatasetLength {
            inputs: 1,
            targets: 2
        }
    );
}

#[test]
fn learning_rate_must_be_finite_and_positive() {
    for lr in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        let err = Sgd::new(lr).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidHyperparameter {
                    name: "learning rate",
                    ..
                }
            ),
            "{lr}: {err}"
        );
    }
    assert!(Trainer::new(TrainConfig::default().batch_size(0)).is_err());
}

#[test]
fn non_finite_loss_stops_with_epoch_and_sample_and_keeps_last_good_model() {
    // Sample 2 overflows the squared error: (1e200)^2 = inf.
    let data = Dataset::new(&[[1.0], [2.0], [1e200]], &[[1.0], [2.0], [0.0]]).unwrap();
    let mut model = Mlp::from_parameters(
        &[1, 1],
        Activation::Identity,
        Activation::Identity,
        &[0.5, 0.0],
    )
    .unwrap();
    // Where the model should be: the last parameters whose loss was measured finite. Step 0
    // (loss at p0) and step 1 (loss at p1) were finite; p2's loss on sample 2 is not, so the
    // model goes back to p1, the parameters after one good step, done here by hand.
    let mut expected = model.clone();
    let mut trainer = Trainer::new(TrainConfig::default().epochs(3)).unwrap();
    let mut sgd = Sgd::new(0.01).unwrap();
    trainer
        .step(&mut expected, &mut sgd.clone(), &data, 0..1)
        .unwrap();
    let err = trainer
        .fit(&mut model, &mut sgd, &data, |_| {})
        .unwrap_err();
    assert!(
        matches!(err, Error::NonFiniteLoss { epoch: 0, sample: 2, loss } if loss.is_infinite()),
        "{err}"
    );
    assert!(err.to_string().contains("epoch 0, sample 2"), "{err}");
    assert_eq!(model, expected);
    assert!(model.parameters().iter().all(|p| p.is_finite()));
}

#[test]
fn non_finite_update_is_refused_and_names_the_parameter() {
    // The loss is finite but the gradient times the learning rate overflows the weight.
    let data = Dataset::new(&[[1e150]], &[[0.0]]).unwrap();
    let mut model = Mlp::from_parameters(
        &[1, 1],
        Activation::Identity,
        Activation::Identity,
        &[1e-10, 0.0],
    )
    .unwrap();
    let before = model.clone();
    let err = train(
        &mut model,
        &mut Sgd::new(1e20).unwrap(),
        &data,
        TrainConfig::default(),
        |_| {},
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::NonFiniteUpdate {
            epoch: 0,
            sample: 0,
            parameter: 0
        }
    );
    assert_eq!(model, before);
}

#[test]
fn step_rejects_bad_ranges() {
    let data = people();
    let mut model = w1_network();
    let mut trainer = Trainer::new(TrainConfig::default()).unwrap();
    let mut sgd = Sgd::new(0.1).unwrap();
    assert_eq!(
        trainer.step(&mut model, &mut sgd, &data, 2..2).unwrap_err(),
        Error::SampleRange {
            start: 2,
            end: 2,
            len: 4
        }
    );
    let err = trainer.step(&mut model, &mut sgd, &data, 3..9).unwrap_err();
    assert_eq!(
        err,
        Error::SampleRange {
            start: 3,
            end: 9,
            len: 4
        }
    );
    assert_eq!(
        err.to_string(),
        "samples 3..9 are not a non-empty range within the dataset's 4 samples"
    );
    assert_eq!(model, w1_network());
}

#[test]
fn architecture_errors() {
    use tapegrad::{Layer, Neuron};
    assert!(matches!(
        Mlp::zeros(&[2], Activation::Relu, Activation::Relu),
        Err(Error::Architecture(_))
    ));
    assert!(matches!(
        Mlp::zeros(&[2, 0, 1], Activation::Relu, Activation::Relu),
        Err(Error::Architecture(_))
    ));
    assert_eq!(
        Mlp::from_parameters(&[2, 1], Activation::Relu, Activation::Relu, &[1.0]).unwrap_err(),
        Error::ParameterCount {
            expected: 3,
            found: 1
        }
    );
    let l1 = Layer::new(vec![Neuron::new(vec![1.0], 0.0, Activation::Relu)]).unwrap();
    let l2 = Layer::new(vec![Neuron::new(vec![1.0, 1.0], 0.0, Activation::Relu)]).unwrap();
    let err = Mlp::new(vec![l1, l2]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid architecture: layer 1 takes 2 inputs but layer 0 has 1 outputs"
    );
    assert!(Layer::new(vec![]).is_err());
}

#[test]
fn a_refused_update_after_good_steps_leaves_the_model_after_the_last_good_step() {
    // Step 0 moves the bias by -2e-20; on sample 1 the loss (1e140)^2 and the gradient 2e290
    // are finite but the weight's update 1e20 * 2e290 overflows.
    let data = Dataset::new(&[[1e-30], [1e150]], &[[0.0], [0.0]]).unwrap();
    let start = [1e-10, 0.0];
    let mut model =
        Mlp::from_parameters(&[1, 1], Activation::Identity, Activation::Identity, &start).unwrap();
    let mut expected = model.clone();
    let mut sgd = Sgd::new(1e20).unwrap();
    let mut trainer = Trainer::new(TrainConfig::default().epochs(2)).unwrap();
    trainer
        .step(&mut expected, &mut sgd.clone(), &data, 0..1)
        .unwrap();
    let err = trainer
        .fit(&mut model, &mut sgd, &data, |_| {})
        .unwrap_err();
    assert_eq!(
        err,
        Error::NonFiniteUpdate {
            epoch: 0,
            sample: 1,
            parameter: 0
        }
    );
    assert_ne!(expected.parameters(), &start);
    assert_eq!(model, expected);
    assert_eq!(sgd.steps(), 1);
}

/// An optimizer from outside the crate that implements only `step` (the trainer then uses the
/// default `step_into`): plain SGD written out.
struct PlainSgd(f64);

impl tapegrad::Optimizer for PlainSgd {
    fn step(&mut self, params: &mut [f64], grads: &[f64]) -> tapegrad::Result<()> {
        for (p, g) in params.iter_mut().zip(grads) {
            *p -= self.0 * g;
        }
        Ok(())
    }
}

#[test]
fn an_optimizer_with_step_only_trains_as_the_crate_sgd_does() {
    let data = people();
    let (mut ours, mut theirs) = (w1_network(), w1_network());
    let config = TrainConfig::default().epochs(20);
    train(
        &mut ours,
        &mut Sgd::new(0.1).unwrap(),
        &data,
        config,
        |_| {},
    )
    .unwrap();
    train(&mut theirs, &mut PlainSgd(0.1), &data, config, |_| {}).unwrap();
    assert_eq!(ours, theirs);
}

/// The mean over `samples` of the per-sample gradients of the MSE, each recorded on its own
/// (one sample through each fused layer), and the mean of their absolute values.
fn per_sample_mean(
    model: &Mlp,
    data: &Dataset,
    samples: std::ops::Range<usize>,
) -> (Vec<f64>, Vec<f64>) {
    let n = samples.len() as f64;
    let mut mean = vec![0.0; model.parameter_count()];
    let mut size = vec![0.0; model.parameter_count()];
    for i in samples {
        let tape = Tape::new();
        let bound = model.bind(&tape);
        let loss = mse(&bound.forward(data.input(i)).unwrap(), data.target(i)).unwrap();
        let grads = loss.backward();
        for ((m, a), g) in mean.iter_mut().zip(&mut size).zip(bound.gradients(&grads)) {
            *m += g / n;
            *a += g.abs() / n;
        }
    }
    (mean, size)
}

#[test]
fn a_batch_through_matrix_kernels_gives_the_mean_of_per_sample_gradients() {
    // A batch goes through each layer as one node (matrix products, blocked by 2 rows and 8
    // samples or inputs); odd sizes reach every remainder. The batch sums in another order than
    // the samples one by one, so the two agree to rounding: 1e-12 relative to the mean absolute
    // per-sample gradient (plain relative error means nothing where the terms cancel).
    let sizes = [9, 5, 3];
    let count = sizes.windows(2).map(|w| (w[0] + 1) * w[1]).sum::<usize>();
    let wave = |k: usize, f: f64| ((k as f64 + 1.0) * f).sin();
    let params: Vec<f64> = (0..count).map(|k| wave(k, 0.7)).collect();
    for (hidden, batch) in [
        (Activation::Tanh, 11),
        (Activation::Relu, 19),
        (Activation::Sigmoid, 2),
    ] {
        let model = Mlp::from_parameters(&sizes, hidden, Activation::Identity, &params).unwrap();
        let inputs: Vec<Vec<f64>> = (0..batch)
            .map(|i| (0..9).map(|k| wave(9 * i + k, 1.3)).collect())
            .collect();
        let targets: Vec<Vec<f64>> = (0..batch)
            .map(|i| (0..3).map(|k| wave(3 * i + k, 0.4)).collect())
            .collect();
        let data = Dataset::new(&inputs, &targets).unwrap();
        let (mean, size) = per_sample_mean(&model, &data, 0..batch);
        let mut batched = model.clone();
        let mut trainer = Trainer::new(TrainConfig::default().batch_size(batch)).unwrap();
        trainer
            .fit(&mut batched, &mut Sgd::new(1.0).unwrap(), &data, |_| {})
            .unwrap();
        for k in 0..count {
            let step = model.parameters()[k] - batched.parameters()[k];
            let error = (step - mean[k]).abs();
            assert!(
                error <= 1e-12 * size[k] + 1e-300,
                "{hidden:?} parameter {k}: {step} vs {}",
                mean[k]
            );
        }
    }
}

#[test]
fn a_batch_with_an_infinite_hidden_value_passes_back_no_nan() {
    // Sample 0: z = 1e300 * 1e300 = inf, relu(inf) = inf, tanh(inf) = 1 with derivative 0: no
    // gradient reaches that path, and 0 * inf must not make a NaN (the single-sample rule
    // skips zero gradients; the batch rule must too).
    let model = Mlp::from_parameters(
        &[1, 1, 1],
        Activation::Relu,
        Activation::Tanh,
        &[1e300, 0.0, 0.5, 0.1],
    )
    .unwrap();
    let data = Dataset::new(&[[1e300], [0.5]], &[[0.0], [0.2]]).unwrap();
    let (mean, _) = per_sample_mean(&model, &data, 0..2);
    assert!(mean.iter().all(|g| g.is_finite()), "{mean:?}");
    let mut batched = model.clone();
    let mut trainer = Trainer::new(TrainConfig::default().batch_size(2)).unwrap();
    let loss = trainer
        .step(&mut batched, &mut Sgd::new(1.0).unwrap(), &data, 0..2)
        .unwrap();
    assert!(loss.is_finite());
    for (k, m) in mean.iter().enumerate() {
        let step = model.parameters()[k] - batched.parameters()[k];
        assert_eq!(step, *m, "parameter {k}");
    }
}
