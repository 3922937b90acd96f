//! The training toolkit end to end: shuffling, per-epoch accuracy, early stop with rollback,
//! target checks, and micrograd's moons demo reproducing its reference numbers.

#[allow(dead_code)]
#[path = "../examples/moons.rs"]
mod moons;
use moons::splitmix;

use rand::{rngs::StdRng, SeedableRng};
use tapegrad::{Activation, Adam, Dataset, Error, Loss, Mlp, Sgd, TrainConfig, Trainer};

#[test]
fn splitmix64_matches_the_published_sequence() {
    // benches/WORKLOADS.md 0.1: seed 0 gives these three outputs.
    let mut rng = splitmix::SplitMix64::new(0);
    assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
    assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
}

#[test]
fn moons_reproduces_the_w2_reference() {
    let (points, labels) = moons::moons();
    assert_eq!(
        (points.len(), labels.iter().filter(|&&y| y > 0.0).count()),
        (100, 50)
    );
    let mut model = moons::network().unwrap();
    assert_eq!(model.parameter_count(), 337);
    let mut losses = Vec::new();
    moons::train(&mut model, &points, &labels, |_, loss, _| losses.push(loss)).unwrap();
    assert_eq!(losses.len(), 100);
    let (loss, accuracy) = moons::evaluate(&model, &points, &labels).unwrap();
    // The reference comes from independent implementations (benches/WORKLOADS.md W2).
    assert!((loss - moons::REFERENCE_LOSS).abs() < 1e-12, "{loss}");
    assert_eq!(accuracy, 1.0);
}

fn xor_like() -> Dataset {
    let inputs: Vec<[f64; 2]> = (0..16)
        .map(|i| [(i % 4) as f64 - 1.5, (i / 4) as f64 - 1.5])
        .collect();
    let targets: Vec<[f64; 1]> = inputs
        .iter()
        .map(|x| [f64::from(u8::from(x[0] * x[1] > 0.0))])
        .collect();
    Dataset::new(&inputs, &targets).unwrap()
}

fn model(seed: u64) -> Mlp {
    let mut rng = StdRng::seed_from_u64(seed);
    Mlp::random(&[2, 6, 1], Activation::Tanh, Activation::Identity, &mut rng).unwrap()
}

#[test]
fn shuffling_is_off_by_default_and_reproducible_when_on() {
    let data = xor_like();
    let config = TrainConfig::default()
        .epochs(5)
        .batch_size(1)
        .loss(Loss::BceWithLogits);
    let run = |shuffle_seed: Option<u64>| {
        let mut m = model(3);
        let mut trainer = Trainer::new(config).unwrap();
        let mut sgd = Sgd::new(0.1).unwrap();
        match shuffle_seed {
            None => trainer.fit(&mut m, &mut sgd, &data, |_| {}),
            Some(s) => trainer.fit_shuffled(
                &mut m,
                &mut sgd,
                &data,
                &mut StdRng::seed_from_u64(s),
                |_| {},
            ),
        }
        .unwrap();
        m
    };
    // fit visits samples in order: the same as stepping through them one by one by hand.
    let mut by_hand = model(3);
    let mut trainer = Trainer::new(config).unwrap();
    let mut sgd = Sgd::new(0.1).unwrap();
    for _ in 0..5 {
        for i in 0..data.len() {
            trainer
                .step(&mut by_hand, &mut sgd, &data, i..i + 1)
                .unwrap();
        }
    }
    assert_eq!(run(None), by_hand);
    // Shuffled: the same seed gives the same run, another seed another run.
    assert_eq!(run(Some(1)), run(Some(1)));
    assert_ne!(run(Some(1)), run(None));
    assert_ne!(run(Some(1)), run(Some(2)));
}

#[test]
fn a_shuffled_full_batch_sees_every_sample_once() {
    // One full batch: the order only changes the summation order, so the result is the same
    // up to rounding.
    let data = xor_like();
    let config = TrainConfig::default()
        .epochs(3)
        .batch_size(data.len())
        .loss(Loss::BceWithLogits);
    let (mut a, mut b) = (model(5), model(5));
    Trainer::new(config)
        .unwrap()
        .fit(&mut a, &mut Sgd::new(0.5).unwrap(), &data, |_| {})
        .unwrap();
    Trainer::new(config)
        .unwrap()
        .fit_shuffled(
            &mut b,
            &mut Sgd::new(0.5).unwrap(),
            &data,
            &mut StdRng::seed_from_u64(9),
            |_| {},
        )
        .unwrap();
    for (p, q) in a.parameters().iter().zip(b.parameters()) {
        assert!((p - q).abs() < 1e-12, "{p} vs {q}");
    }
}

#[test]
fn the_epoch_report_has_accuracy_for_classification_only() {
    let data = xor_like();
    // Full batch, one epoch: the accuracy is that of the initial model, counted independently.
    let initial = model(11);
    let expected = (0..data.len())
        .filter(|&i| {
            (initial.predict(data.input(i)).unwrap()[0] > 0.0) == (data.target(i)[0] > 0.5)
        })
        .count() as f64
        / data.len() as f64;
    let mut reports = Vec::new();
    let config = TrainConfig::default()
        .batch_size(data.len())
        .loss(Loss::BceWithLogits);
    Trainer::new(config)
        .unwrap()
        .fit(
            &mut initial.clone(),
            &mut Sgd::new(0.1).unwrap(),
            &data,
            |r| reports.push(r.accuracy),
        )
        .unwrap();
    assert_eq!(reports, [Some(expected)]);

    let mut m = model(11);
    let mut accuracy = Some(0.0);
    Trainer::new(TrainConfig::default())
        .unwrap()
        .fit(&mut m, &mut Sgd::new(0.01).unwrap(), &data, |r| {
            accuracy = r.accuracy
        })
        .unwrap();
    assert_eq!(accuracy, None); // MSE: no accuracy

    // And training actually learns the pattern with BCE and Adam.
    let mut m = model(11);
    let mut last = None;
    let config = TrainConfig::default()
        .epochs(300)
        .batch_size(4)
        .loss(Loss::BceWithLogits);
    Trainer::new(config)
        .unwrap()
        .fit_shuffled(
            &mut m,
            &mut Adam::new(0.05).unwrap(),
            &data,
            &mut StdRng::seed_from_u64(1),
            |r| {
                last = r.accuracy;
            },
        )
        .unwrap();
    assert_eq!(last, Some(1.0));
}

#[test]
fn a_non_finite_loss_stops_training_at_the_last_good_parameters() {
    // y = w x + b on x = 1e150: step 0's loss (1e150)^2 = 1e300 is finite, and its update sends
    // w to about -2e299; step 1's output then overflows and its loss is infinite.
    let mut m = Mlp::from_parameters(
        &[1, 1],
        Activation::Identity,
        Activation::Identity,
        &[1.0, 0.0],
    )
    .unwrap();
    let data = Dataset::new(&[[1e150]], &[[0.0]]).unwrap();
    let mut epochs_seen = 0;
    let err = Trainer::new(TrainConfig::default().epochs(5))
        .unwrap()
        .fit(&mut m, &mut Sgd::new(0.1).unwrap(), &data, |_| {
            epochs_seen += 1
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFiniteLoss {
                epoch: 1,
                sample: 0,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(epochs_seen, 1);
    // Back at the parameters whose loss was last finite: the start, not the diverged -2e299.
    assert_eq!(m.parameters(), &[1.0, 0.0]);
}

#[test]
fn targets_the_loss_cannot_use_are_rejected_before_any_step() {
    let data = Dataset::new(&[[1.0], [2.0], [3.0]], &[[1.0], [-1.0], [0.0]]).unwrap();
    let mut m = Mlp::from_parameters(
        &[1, 1],
        Activation::Identity,
        Activation::Identity,
        &[0.5, 0.5],
    )
    .unwrap();
    let err = Trainer::new(TrainConfig::default().loss(Loss::Hinge))
        .unwrap()
        .fit(&mut m, &mut Sgd::new(0.1).unwrap(), &data, |_| {})
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "sample 2 has target 0 at position 0, but the hinge loss needs -1 or +1"
    );
    assert_eq!(m.parameters(), &[0.5, 0.5]);
}
