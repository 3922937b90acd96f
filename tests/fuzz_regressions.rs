//! Inputs found by the fuzz targets in `fuzz/`, kept as tests of the library's contract.

use tapegrad::{Activation, Dataset, Error, Mlp, Sgd, TrainConfig, Trainer};

/// `fuzz/fuzz_targets/mlp.rs`, crash-36184e3734267bfc5f8c4e78f3f78f457f6d7579 (bytes
/// `00 5b 5b 5b 5b 5b 00 e7 01 00 00 00 9d 9d 9d 9d 9d e7 00 e7 e7 e7 e7 e7 e7`): a 1-1 network
/// trained on a dataset whose rows have two inputs. The dataset is consistent on its own, so
/// only the training step can notice; it must return `InputSize` and change nothing. (The crash
/// was the harness's: it had not expected this error. The library behaved.)
#[test]
fn mlp_dataset_wider_than_the_model_is_an_error_not_a_change() {
    let mut model = Mlp::from_parameters(
        &[1, 1],
        Activation::Identity,
        Activation::Identity,
        &[10.3, -12.8],
    )
    .unwrap();
    let data = Dataset::new(&[[2.9, 2.9]], &[[10.3]]).unwrap();
    let mut sgd = Sgd::new(10.3).unwrap();
    let config = TrainConfig::default().epochs(1).batch_size(1);
    let mut trainer = Trainer::new(config).unwrap();
    let err = trainer.step(&mut model, &mut sgd, &data, 0..1).unwrap_err();
    assert_eq!(
        err,
        Error::InputSize {
            expected: 1,
            found: 2
        }
    );
    assert_eq!(model.parameters(), &[10.3, -12.8]);
    let err = trainer
        .fit(&mut model, &mut sgd, &data, |_| {})
        .unwrap_err();
    assert!(matches!(err, Error::InputSize { .. }), "{err}");
    assert_eq!(model.parameters(), &[10.3, -12.8]);
}

/// `fuzz/fuzz_targets/mlp.rs`, crash-3489975285dc168742eafdd8fe5bda539fd3eba7: every step's
/// loss was finite, but the epoch's reported mean was `inf`, because the sum of the step
/// losses overflowed before the division. The mean of finite numbers is at most the largest of
/// them; the report now says so. Here: two samples with loss 1e308 each (their sum is inf),
/// and a learning rate so small that the parameters barely move.
#[test]
fn mlp_epoch_mean_of_huge_finite_losses_is_finite() {
    let mut model = Mlp::from_parameters(
        &[1, 1],
        Activation::Identity,
        Activation::Identity,
        &[1e150, 0.0],
    )
    .unwrap();
    // o = 1e150 * 1e4 = 1e154, loss (o - 0)^2 = 1e308; dL/dw = 2 o x = 2e158 (finite)
    let data = Dataset::new(&[[1e4], [1e4]], &[[0.0], [0.0]]).unwrap();
    let mut sgd = Sgd::new(1e-300).unwrap();
    let mut trainer = Trainer::new(TrainConfig::default().epochs(1).batch_size(1)).unwrap();
    let mut reported = Vec::new();
    let summary = trainer
        .fit(&mut model, &mut sgd, &data, |r| reported.push(r.loss))
        .unwrap();
    assert_eq!(reported.len(), 1);
    let mean = reported[0];
    assert!(mean.is_finite(), "{mean}");
    // both losses are 1e308 to within the tiny update: so is their mean
    assert!((mean / 1e308 - 1.0).abs() < 1e-12, "{mean}");
    assert_eq!(summary.last_loss, mean);
}

/// Inputs that aborted or panicked before the hardening issue (each is also covered, with its
/// neighbours, in tests/hardening.rs or the numerics table): a model size whose parameter
/// count overflows, one too large to allocate, and `powi` at `i32::MIN`, whose `n - 1`
/// overflowed (a panic in debug, a wrong derivative in release).
#[test]
fn sizes_and_exponents_that_crashed() {
    use tapegrad::Tape;
    let id = Activation::Identity;
    assert!(matches!(
        Mlp::zeros(&[usize::MAX, 1], id, id),
        Err(Error::Allocation { .. })
    ));
    assert!(matches!(
        Mlp::zeros(&[1, 1 << 40, 1], id, id),
        Err(Error::Allocation { .. })
    ));
    let tape = Tape::new();
    let x = tape.var(-1.0);
    let y = x.powi(i32::MIN);
    // (-1)^MIN = 1; d/dx = MIN * (-1)^(MIN - 1) = -MIN = 2^31
    assert_eq!((y.value(), y.backward()[x]), (1.0, 2147483648.0));
}

/// `fuzz/fuzz_targets/mlp.rs`, crash-dadc7ea23329b0b2c9e46a4f16cda5c3f826ec53: a 1-5 network
/// whose second logit has the bias `f64::MAX`, trained with cross-entropy towards class 2, so
/// that every step's loss is `f64::MAX` itself (finite). The epoch's mean was reported as
/// `inf`: the sum overflows, and the fallback, each loss over the count summed, rounded past
/// `f64::MAX` too. The mean of finite numbers is at most the largest of them, and is now
/// reported as such; the same for the validation loss.
#[test]
fn mlp_epoch_mean_of_losses_at_f64_max_is_finite() {
    let params = [
        1.2,
        1.2,
        -3.0,
        f64::MAX,
        -6.9,
        -12.7,
        -12.8,
        -12.8,
        -12.8,
        -12.8,
    ];
    let (sigmoid, id) = (Activation::Sigmoid, Activation::Identity);
    let mut model = Mlp::from_parameters(&[1, 5], sigmoid, id, &params).unwrap();
    let data = Dataset::new(&[[-12.8], [1.2], [-0.6]], &[[2.0], [2.0], [2.0]]).unwrap();
    let mut sgd = Sgd::new(1.2).unwrap();
    let config = TrainConfig::default()
        .loss(tapegrad::Loss::CrossEntropy)
        .epochs(3)
        .batch_size(1);
    let mut trainer = Trainer::new(config).unwrap().with_validation(data.clone());
    // Each step's loss: the logit f64::MAX minus a small one, which rounds to f64::MAX.
    assert_eq!(
        trainer.step(&mut model, &mut sgd, &data, 0..1),
        Ok(f64::MAX)
    );
    let mut reported = Vec::new();
    let summary = trainer
        .fit(&mut model, &mut sgd, &data, |r| {
            reported.push((r.loss, r.validation.map(|v| v.loss)))
        })
        .unwrap();
    assert_eq!(
        reported,
        vec![(f64::MAX, Some(f64::MAX)); 3],
        "the mean of losses that are all f64::MAX is f64::MAX"
    );
    assert_eq!(summary.last_loss, f64::MAX);
}
