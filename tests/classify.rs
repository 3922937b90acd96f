//! Many classes: cross-entropy's edges and errors, the Trainer with class targets, validation,
//! early stopping and restoring the best epoch, and models built layer by layer.

use rand::{rngs::StdRng, RngExt, SeedableRng};
use std::ops::ControlFlow;
use tapegrad::{
    cross_entropy, log_softmax, softmax, Activation, Adam, Dataset, Error, Loss, Mlp, Sgd, Tape,
    TrainConfig, Trainer,
};

#[test]
fn cross_entropy_at_the_edges() {
    let tape = Tape::new();
    // Equal logits: ln n, gradient 1/n - onehot.
    let z = tape.vars(&[3.0; 4]);
    let loss = cross_entropy(&z, 2).unwrap();
    assert!((loss.value() - 4f64.ln()).abs() < 1e-15);
    let g = loss.backward();
    assert_eq!(
        [g[z[0]], g[z[1]], g[z[2]], g[z[3]]],
        [0.25, 0.25, -0.75, 0.25]
    );
    // A certain right answer: loss exactly 0 and no gradient, at +-1000.
    let z = tape.vars(&[-1000.0, 1000.0]);
    let loss = cross_entropy(&z, 1).unwrap();
    assert_eq!(loss.value(), 0.0);
    let g = loss.backward();
    assert_eq!((g[z[0]], g[z[1]]), (0.0, 0.0));
    // Nearly certain (p_1 = 1 / (1 + e^-40)): the class's derivative is -e^-40 / (1 + e^-40),
    // to the last bits, not 0 or noise from 1 - p.
    let z = tape.vars(&[0.0, 40.0]);
    let loss = cross_entropy(&z, 1).unwrap();
    let t = (-40f64).exp();
    assert!((loss.value() - t.ln_1p()).abs() <= 1e-15 * t);
    let g = loss.backward();
    assert!(
        (g[z[1]] + t / (1.0 + t)).abs() <= 1e-15 * t,
        "{:e}",
        g[z[1]]
    );
    // One class: nothing to learn, loss 0.
    let z = tape.vars(&[5.0]);
    assert_eq!(cross_entropy(&z, 0).unwrap().value(), 0.0);
    // A NaN logit gives a NaN loss (which the Trainer reports), not a panic.
    let z = tape.vars(&[f64::NAN, 1.0]);
    assert!(cross_entropy(&z, 0).unwrap().value().is_nan());
}

#[test]
fn cross_entropy_errors() {
    let tape = Tape::new();
    let z = tape.vars(&[1.0, 2.0, 3.0]);
    let err = cross_entropy(&z, 3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "sample 0 has targets [3], but cross-entropy over 3 outputs needs one target: \
         the class index, a whole number from 0 to 2"
    );
    assert_eq!(cross_entropy(&[], 0).unwrap_err(), Error::EmptyDataset);
    assert!(Loss::CrossEntropy.eval(&[0.0, 1.0], &[0.5]).is_err());
    assert!(Loss::CrossEntropy.eval(&[0.0, 1.0], &[0.0, 1.0]).is_err()); // one-hot: no
    assert!(Loss::CrossEntropy.check_targets(0, &[-1.0]).is_err());
    assert!(Loss::CrossEntropy.check_targets(0, &[7.0]).is_ok()); // the range needs the outputs
}

#[test]
fn softmax_of_nothing_is_nothing_and_of_extremes_is_finite() {
    assert!(softmax(&[]).is_empty() && log_softmax(&[]).is_empty());
    let tape = Tape::new();
    let z = tape.vars(&[1000.0, -1000.0, 1000.0]);
    let p: Vec<f64> = softmax(&z).iter().map(|v| v.value()).collect();
    assert_eq!(p, [0.5, 0.0, 0.5]);
    let lp: Vec<f64> = log_softmax(&z).iter().map(|v| v.value()).collect();
    assert_eq!(lp, [-(2f64.ln()), -2000.0 - 2f64.ln(), -(2f64.ln())]);
}

/// Three well-separated blobs in the plane, labelled 0, 1, 2.
fn blobs(n: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let centres = [(0.0, 0.0), (3.0, 1.0), (1.0, 3.0)];
    let (mut xs, mut ts) = (Vec::new(), Vec::new());
    for i in 0..n {
        let (cx, cy) = centres[i % 3];
        xs.push([
            cx + rng.random_range(-0.8..0.8),
            cy + rng.random_range(-0.8..0.8),
        ]);
        ts.push([(i % 3) as f64]);
    }
    Dataset::new(&xs, &ts).unwrap()
}

#[test]
fn trainer_learns_three_classes_and_reports_accuracy_as_argmax() {
    let data = blobs(60, 1);
    let mut model = Mlp::builder(2)
        .dense(8, Activation::Tanh)
        .dense(3, Activation::Identity)
        .random(&mut StdRng::seed_from_u64(2))
        .unwrap();
    let before = model.loss(&data, Loss::CrossEntropy).unwrap();
    assert!((before - 3f64.ln()).abs() < 1.0, "{before}");
    let mut accuracies = Vec::new();
    let config = TrainConfig::default()
        .epochs(40)
        .batch_size(8)
        .loss(Loss::CrossEntropy);
    Trainer::new(config)
        .unwrap()
        .fit(&mut model, &mut Adam::new(0.05).unwrap(), &data, |r| {
            accuracies.push(r.accuracy.unwrap())
        })
        .unwrap();
    assert_eq!(
        model.accuracy(&data, Loss::CrossEntropy).unwrap(),
        Some(1.0)
    );
    assert_eq!(*accuracies.last().unwrap(), 1.0);
    assert!(accuracies[0] < 1.0);
    assert!(model.loss(&data, Loss::CrossEntropy).unwrap() < 0.1);
    for i in 0..data.len() {
        assert_eq!(
            model.classify(data.input(i)).unwrap(),
            data.target(i)[0] as usize
        );
    }
}

#[test]
fn class_targets_are_checked_before_any_step_and_name_the_sample() {
    let model = Mlp::builder(1)
        .dense(3, Activation::Identity)
        .zeros()
        .unwrap();
    let config = TrainConfig::default().loss(Loss::CrossEntropy);
    let cases: [(&[[f64; 1]], &str); 3] = [
        (
            &[[0.0], [3.0]],
            "sample 1 has targets [3], but cross-entropy over 3 outputs",
        ),
        (
            &[[1.5], [0.0]],
            "sample 0 has targets [1.5], but cross-entropy over 3 outputs",
        ),
        (
            &[[0.0], [-1.0]],
            "sample 1 has targets [-1], but cross-entropy over 3 outputs",
        ),
    ];
    for (targets, message) in cases {
        let data = Dataset::new(&[[1.0], [2.0]], targets).unwrap();
        let mut m = model.clone();
        let err = Trainer::new(config)
            .unwrap()
            .fit(&mut m, &mut Sgd::new(0.1).unwrap(), &data, |_| {})
            .unwrap_err();
        assert!(err.to_string().starts_with(message), "{err}");
        assert_eq!(m, model, "no step was taken");
        assert!(matches!(
            m.loss(&data, Loss::CrossEntropy),
            Err(Error::ClassTarget { .. })
        ));
    }
    // A one-hot row is not a class index.
    let data = Dataset::new(&[[1.0]], &[[0.0, 1.0, 0.0]]).unwrap();
    let err = Trainer::new(config)
        .unwrap()
        .fit(
            &mut model.clone(),
            &mut Sgd::new(0.1).unwrap(),
            &data,
            |_| {},
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("sample 0 has targets [0, 1, 0]"),
        "{err}"
    );
}

#[test]
fn the_callback_stops_training() {
    let data = blobs(30, 3);
    let mut model = Mlp::builder(2)
        .dense(3, Activation::Identity)
        .zeros()
        .unwrap();
    let mut seen = 0;
    let summary = Trainer::new(TrainConfig::default().epochs(100).loss(Loss::CrossEntropy))
        .unwrap()
        .fit(&mut model, &mut Sgd::new(0.1).unwrap(), &data, |r| {
            seen += 1;
            if r.epoch == 4 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!((seen, summary.epochs, summary.stopped), (5, 5, true));
    assert_eq!(summary.steps, 5 * 30);
    // Breaking after the last epoch is not stopping early.
    let summary = Trainer::new(TrainConfig::default().epochs(2).loss(Loss::CrossEntropy))
        .unwrap()
        .fit(&mut model, &mut Sgd::new(0.1).unwrap(), &data, |_| {
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!((summary.epochs, summary.stopped), (1, true));
}

#[test]
fn validation_is_reported_and_the_best_epoch_restored() {
    let train = blobs(60, 4);
    // Validation data with every third label wrong: as the model grows confident, its
    // validation loss first falls, then rises, so the best epoch is not the last.
    let clean = blobs(30, 5);
    let inputs: Vec<&[f64]> = (0..clean.len()).map(|i| clean.input(i)).collect();
    let labels: Vec<[f64; 1]> = (0..clean.len())
        .map(|i| [((clean.target(i)[0] as usize + usize::from(i % 3 == 0)) % 3) as f64])
        .collect();
    let val = Dataset::new(&inputs, &labels).unwrap();
    let start = Mlp::builder(2)
        .dense(6, Activation::Tanh)
        .dense(3, Activation::Identity)
        .random(&mut StdRng::seed_from_u64(6))
        .unwrap();
    let config = TrainConfig::default()
        .epochs(25)
        .batch_size(4)
        .loss(Loss::CrossEntropy);
    let run = |restore: bool| {
        let mut model = start.clone();
        let mut history = Vec::new();
        let summary = Trainer::new(config.restore_best(restore))
            .unwrap()
            .with_validation(val.clone())
            .fit(&mut model, &mut Sgd::new(0.3).unwrap(), &train, |r| {
                let v = r.validation.unwrap();
                // The report's validation numbers are the model's own, after the epoch.
                assert_eq!(v.loss, r.model.loss(&val, Loss::CrossEntropy).unwrap());
                assert_eq!(
                    v.accuracy,
                    r.model.accuracy(&val, Loss::CrossEntropy).unwrap()
                );
                history.push((v.loss, r.model.clone()));
            })
            .unwrap();
        (model, summary, history)
    };
    let (last, summary, history) = run(false);
    let (best_epoch, best_loss) = summary.best.unwrap();
    let lowest = history.iter().map(|h| h.0).fold(f64::INFINITY, f64::min);
    assert_eq!(best_loss, lowest);
    assert_eq!(history[best_epoch].0, best_loss);
    assert_eq!(
        last,
        history.last().unwrap().1,
        "without restore_best the model is the last"
    );
    assert!(
        best_epoch < 24,
        "the test needs a best epoch before the last: {best_epoch}"
    );
    let (restored, summary2, _) = run(true);
    assert_eq!(summary2.best, summary.best);
    assert_eq!(restored, history[best_epoch].1);
}

#[test]
fn restore_best_needs_validation_data() {
    let data = blobs(6, 7);
    let mut model = Mlp::builder(2)
        .dense(3, Activation::Identity)
        .zeros()
        .unwrap();
    let err = Trainer::new(
        TrainConfig::default()
            .restore_best(true)
            .loss(Loss::CrossEntropy),
    )
    .unwrap()
    .fit(&mut model, &mut Sgd::new(0.1).unwrap(), &data, |_| {})
    .unwrap_err();
    assert_eq!(err, Error::NoValidation);
    // Validation data that does not fit the model is refused before any step.
    let wrong = Dataset::new(&[[1.0, 2.0, 3.0]], &[[0.0]]).unwrap();
    let err = Trainer::new(TrainConfig::default().loss(Loss::CrossEntropy))
        .unwrap()
        .with_validation(wrong)
        .fit(&mut model, &mut Sgd::new(0.1).unwrap(), &data, |_| {})
        .unwrap_err();
    assert_eq!(
        err,
        Error::InputSize {
            expected: 2,
            found: 3
        }
    );
}

#[cfg(feature = "safetensors")] // Mlp::save and Mlp::load
#[test]
fn a_built_model_with_its_own_activations_saves_and_loads() {
    let model = Mlp::builder(3)
        .dense(4, Activation::Relu)
        .dense(5, Activation::Sigmoid)
        .dense(2, Activation::Tanh)
        .dense(3, Activation::Identity)
        .random(&mut StdRng::seed_from_u64(8))
        .unwrap();
    let path = std::env::temp_dir().join(format!(
        "tapegrad-classify-{}.safetensors",
        std::process::id()
    ));
    model.save(&path).unwrap();
    let loaded = Mlp::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(
        loaded.activations(),
        [
            Activation::Relu,
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Identity
        ]
    );
    assert_eq!(
        model.to_string(),
        "Mlp(3-4-5-2-3, relu/sigmoid/tanh/identity, 62 parameters)"
    );
}

#[test]
fn optimizer_step_errors_work_with_the_question_mark() -> Result<(), Error> {
    use tapegrad::Optimizer;
    let mut p = [1.0, 2.0];
    Sgd::new(0.5)?.step(&mut p, &[2.0, -2.0])?;
    assert_eq!(p, [0.0, 3.0]);
    let err = Sgd::new(0.5)?.step(&mut p, &[1.0]).unwrap_err();
    assert_eq!(err.to_string(), "1 gradients given for 2 parameters");
    let err = Adam::new(0.5)?.step(&mut p, &[f64::NAN, 0.0]).unwrap_err();
    assert_eq!(err, Error::NonFiniteParameter { parameter: 0 });
    assert_eq!(p, [0.0, 3.0]);
    Ok(())
}
