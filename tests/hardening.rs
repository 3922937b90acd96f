//! Bad sizes, values and call orders that once panicked, aborted or gave a wrong answer: each
//! is now an error (or a documented panic with a clear message). One test per finding of the
//! hardening issue, plus the same patterns found elsewhere.

use tapegrad::{
    bce_with_logits, hinge, mse, Activation, Adam, BatchGradient, Dataset, Error, Loss, Mlp,
    Neuron, Optimizer, Schedule, Sgd, Tape, TrainConfig, Trainer,
};

const ID: Activation = Activation::Identity;

// ---- 1. sizes -------------------------------------------------------------------------------

#[test]
fn impossible_model_sizes_are_errors_not_aborts() {
    // 2^40 hidden neurons: ~3.3e12 parameters, 26 TB; the allocator refuses.
    let huge = [1, 1 << 40, 1];
    let alloc = |r: Result<Mlp, Error>| matches!(r, Err(Error::Allocation { .. }));
    assert!(alloc(Mlp::zeros(&huge, ID, ID)));
    assert!(alloc(Mlp::with_init(&huge, ID, ID, |_| 1.0)));
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    assert!(alloc(Mlp::random(&huge, ID, ID, &mut rng)));
    assert!(alloc(Mlp::from_parameters(&huge, ID, ID, &[0.0])));
    // The count itself overflows usize: (usize::MAX + 1) would wrap to 0 in release.
    for sizes in [
        &[usize::MAX, 1][..],
        &[1, usize::MAX][..],
        &[1 << 33, 1 << 33, 1][..],
    ] {
        let err = Mlp::zeros(sizes, ID, ID).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Allocation {
                    what: "parameters",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().starts_with("cannot allocate memory for"),
            "{err}"
        );
    }
}

#[test]
fn a_dataset_larger_than_memory_is_an_error() {
    // 2^22 rows that all borrow one 2^22-value row: 2^44 values (128 TB) to copy.
    let row = vec![0.0; 1 << 22];
    let rows = vec![&row[..]; 1 << 22];
    let targets = vec![[0.0]; 1 << 22];
    let err = Dataset::new(&rows, &targets).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Allocation {
                what: "dataset values",
                ..
            }
        ),
        "{err}"
    );
}

// ---- 3. one validation path -----------------------------------------------------------------

fn one_to_one() -> Mlp {
    Mlp::from_parameters(&[1, 1], ID, ID, &[0.5, 0.0]).unwrap()
}

#[test]
fn batch_gradient_checks_targets_as_the_trainer_does() {
    let model = one_to_one();
    let cases = [
        (Loss::BceWithLogits, [0.0, 5.0], 1),
        (Loss::BceWithLogits, [-3.0, 1.0], 0),
        (Loss::Hinge, [1.0, 0.0], 1),
    ];
    for (loss, targets, bad) in cases {
        let data = Dataset::new(&[[1.0], [2.0]], &[[targets[0]], [targets[1]]]).unwrap();
        let mut g = [0.0; 2];
        let from_batch = BatchGradient::new(2)
            .unwrap()
            .mean_gradient(&model, &data, 0..2, loss, &mut g)
            .unwrap_err();
        let mut m = model.clone();
        let from_trainer = Trainer::new(TrainConfig::default().loss(loss))
            .unwrap()
            .fit(&mut m, &mut Sgd::new(0.1).unwrap(), &data, |_| {})
            .unwrap_err();
        assert_eq!(from_batch, from_trainer);
        assert!(
            matches!(from_batch, Error::InvalidTarget { sample, position: 0, .. } if sample == bad),
            "{from_batch}"
        );
        // Mlp::loss checks them the same way, naming the sample (it said sample 0 before).
        assert_eq!(model.loss(&data, loss).unwrap_err(), from_batch);
    }
}

#[test]
fn free_losses_check_targets_like_the_trainer() {
    let tape = Tape::new();
    let y = tape.vars(&[0.5, 0.25]);
    for bad in [f64::NAN, f64::INFINITY] {
        let err = mse(&y, &[1.0, bad]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidTarget {
                    sample: 0,
                    position: 1,
                    ..
                }
            ),
            "{err}"
        );
        let same = Loss::Mse.check_targets(0, &[1.0, bad]).unwrap_err();
        assert_eq!(err.to_string(), same.to_string()); // (NaN != NaN, so compare the text)
    }
    assert!(hinge(&y, &[1.0, 0.0]).is_err());
    assert!(bce_with_logits(&y, &[1.0, 5.0]).is_err());
}

// ---- 4. panics reachable with bad values ----------------------------------------------------

#[test]
fn optimizer_step_with_mismatched_lengths_is_an_error_and_changes_nothing() {
    let mut p = [1.0, 2.0];
    let expected = Err(Error::GradientCount {
        parameters: 2,
        gradients: 3,
    });
    let optimizers: [Box<dyn Optimizer>; 3] = [
        Box::new(Sgd::new(0.1).unwrap()),
        Box::new(Sgd::with_momentum(0.1, 0.9).unwrap()),
        Box::new(Adam::new(0.1).unwrap()),
    ];
    for mut opt in optimizers {
        assert_eq!(opt.step(&mut p, &[1.0, 1.0, 1.0]), expected);
        assert_eq!(p, [1.0, 2.0]);
    }
}

#[test]
fn one_optimizer_on_two_models_is_an_error_not_an_internal_panic() {
    let data = Dataset::new(&[[1.0]], &[[1.0]]).unwrap();
    let mut small = one_to_one();
    let mut big = Mlp::zeros(&[1, 3, 1], Activation::Tanh, ID).unwrap();
    for mut opt in [
        Box::new(Adam::new(0.01).unwrap()) as Box<dyn Optimizer>,
        Box::new(Sgd::with_momentum(0.1, 0.5).unwrap()),
    ] {
        let mut trainer = Trainer::new(TrainConfig::default()).unwrap();
        trainer.fit(&mut small, &mut *opt, &data, |_| {}).unwrap();
        let before = big.clone();
        let err = trainer.fit(&mut big, &mut *opt, &data, |_| {}).unwrap_err();
        assert_eq!(
            err,
            Error::OptimizerState {
                expected: 2,
                found: 10
            }
        );
        assert!(
            err.to_string().contains("use one optimizer per model"),
            "{err}"
        );
        assert_eq!(big, before);
    }
}

#[test]
#[should_panic(expected = "these gradients come from a value recorded before the model was bound")]
fn gradients_from_before_the_bind_panic_with_a_clear_message() {
    let model = Mlp::zeros(&[1, 1], ID, ID).unwrap();
    let tape = Tape::new();
    let x = tape.var(1.0);
    let stale = (x * 2.0).backward();
    let bound = model.bind(&tape);
    let _ = bound.gradients(&stale);
}

// ---- 8. threads -----------------------------------------------------------------------------

#[test]
fn thread_counts_are_capped() {
    for threads in [0, BatchGradient::MAX_THREADS + 1, 1 << 40, usize::MAX] {
        let err = BatchGradient::new(threads).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidHyperparameter {
                    name: "thread count",
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn a_batch_of_many_windows_gives_the_same_bits_for_every_thread_count() {
    // 1003 samples = 126 groups: 16 windows of 8 groups with two threads, 63 of 2 with one...
    let n = 1003;
    let inputs: Vec<[f64; 2]> = (0..n)
        .map(|i| [(i as f64 * 0.37).sin(), (i as f64 * 0.11).cos()])
        .collect();
    let targets: Vec<[f64; 1]> = (0..n).map(|i| [(i % 3) as f64 * 0.5]).collect();
    let data = Dataset::new(&inputs, &targets).unwrap();
    let model = Mlp::with_init(&[2, 5, 1], Activation::Tanh, ID, |s| {
        0.1 * (s.neuron as f64 + 1.0) - 0.05 * s.input.unwrap_or(3) as f64
    })
    .unwrap();
    // Reference: the same sums, by hand, in group order.
    let mut expected = vec![0.0; model.parameter_count()];
    let mut total = 0.0;
    for start in (0..n).step_by(8) {
        let end = (start + 8).min(n);
        let tape = Tape::new();
        let bound = model.bind(&tape);
        let losses: Vec<_> = (start..end)
            .map(|i| mse(&bound.forward(data.input(i)).unwrap(), data.target(i)).unwrap())
            .collect();
        let sum = if losses.len() == 1 {
            losses[0]
        } else {
            tape.sum(&losses)
        };
        let g = sum.backward();
        for (e, v) in expected.iter_mut().zip(bound.gradients(&g)) {
            *e += v;
        }
        total += sum.value();
    }
    let scale = 1.0 / n as f64;
    expected.iter_mut().for_each(|e| *e *= scale);
    for threads in [1, 2, 3, 7] {
        let mut g = vec![0.0; model.parameter_count()];
        let loss = BatchGradient::new(threads)
            .unwrap()
            .mean_gradient(&model, &data, 0..n, Loss::Mse, &mut g)
            .unwrap();
        assert_eq!(loss, scale * total, "{threads} threads");
        assert_eq!(g, expected, "{threads} threads");
    }
}

// ---- 9. predictions and schedules -----------------------------------------------------------

#[test]
fn predictions_and_forward_passes_reject_non_finite_inputs() {
    let model = Mlp::zeros(&[3, 2, 1], Activation::Tanh, ID).unwrap();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let x = [1.0, bad, 2.0];
        let expected = Error::NonFiniteInput {
            position: 1,
            value: bad,
        };
        assert_eq!(
            model.predict(&x).unwrap_err().to_string(),
            expected.to_string()
        );
        let tape = Tape::new();
        let err = model.bind(&tape).forward(&x).unwrap_err();
        assert!(
            matches!(err, Error::NonFiniteInput { position: 1, .. }),
            "{err}"
        );
        let xs = tape.vars(&x);
        let err = model.bind(&tape).forward_values(&xs).unwrap_err();
        assert!(
            matches!(err, Error::NonFiniteInput { position: 1, .. }),
            "{err}"
        );
        let neuron = Neuron::new(vec![1.0; 3], 0.0, ID);
        assert!(matches!(
            neuron.predict(&x),
            Err(Error::NonFiniteInput { position: 1, .. })
        ));
        let layer = model.layer(0).unwrap();
        assert!(matches!(
            layer.predict(&x),
            Err(Error::NonFiniteInput { position: 1, .. })
        ));
    }
    assert_eq!(
        model
            .predict(&[f64::MAX, f64::MIN_POSITIVE, -0.0])
            .map(|y| y.len()),
        Ok(1)
    );
}

#[test]
fn a_schedule_that_gives_nan_is_a_schedule_error_in_training() {
    let data = Dataset::new(&[[1.0], [2.0]], &[[1.0], [2.0]]).unwrap();
    let mut model = one_to_one();
    let mut sgd = Sgd::with_schedule(Schedule::from_fn(|t| if t == 1 { f64::NAN } else { 0.1 }));
    let mut trainer = Trainer::new(TrainConfig::default()).unwrap();
    let err = trainer
        .fit(&mut model, &mut sgd, &data, |_| {})
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidSchedule { step: 1, rate } if rate.is_nan()),
        "{err}"
    );
    assert!(err.to_string().contains("schedule"), "{err}");
}
