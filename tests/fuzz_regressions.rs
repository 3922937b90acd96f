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
