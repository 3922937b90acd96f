//! The seed's network, trained with tapegrad: predict gender from weight and height.
//!
//! Victor Zhou's "Machine Learning for Beginners: An Introduction to Neural Networks" derives
//! every partial derivative of a 2-2-1 sigmoid network by hand. Here the tape derives them.
//!
//! Run with `cargo run --release --example gender_classifier`. It also writes the loss curve,
//! `gender_loss.svg`, to the current directory (or to `--out DIR`).

#[allow(dead_code)] // the tests include this file for its functions, not for the plot
#[path = "shared/plots.rs"]
mod plots;

use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use tapegrad::{Activation, Dataset, Loss, Mlp, Sgd, TrainConfig, Trainer};

/// The seed for the initial weights; any seed converges (see `tests/example.rs`).
pub const SEED: u64 = 42;

/// Alice, Bob, Charlie and Diana: (weight - 135 lb, height - 66 in) -> 1 if female.
pub fn people() -> tapegrad::Result<Dataset> {
    Dataset::new(
        &[[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]],
        &[[1.0], [0.0], [0.0], [1.0]],
    )
}

/// The seed's 2-2-1 sigmoid network with its nine parameters drawn from a standard normal, in
/// the seed's order w1..w6, b1, b2, b3.
pub fn network(seed: u64) -> tapegrad::Result<Mlp> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
    let [w1, w2, w3, w4, w5, w6, b1, b2, b3] = std::array::from_fn(|_| normal());
    // tapegrad's order: neuron by neuron, weights then bias (h1, h2, o1).
    let params = [w1, w2, b1, w3, w4, b2, w5, w6, b3];
    Mlp::from_parameters(
        &[2, 2, 1],
        Activation::Sigmoid,
        Activation::Sigmoid,
        &params,
    )
}

/// The seed's training run: per-sample SGD, learning rate 0.1, 1000 epochs, samples in order.
/// `on_epoch` gets each epoch's index and the MSE over all four samples after it.
pub fn train(
    model: &mut Mlp,
    data: &Dataset,
    mut on_epoch: impl FnMut(usize, f64),
) -> tapegrad::Result<()> {
    let config = TrainConfig::default().epochs(1000).batch_size(1);
    let mut trainer = Trainer::new(config)?;
    let mut failure = None;
    trainer.fit(model, &mut Sgd::new(0.1)?, data, |report| {
        match report.model.loss(data, Loss::Mse) {
            Ok(mse) => on_epoch(report.epoch, mse),
            Err(e) => failure = Some(e),
        }
    })?;
    failure.map_or(Ok(()), Err)
}

/// `--out DIR` (default: the current directory).
#[allow(dead_code)]
fn out_dir() -> Result<std::path::PathBuf, String> {
    let mut args = std::env::args().skip(1);
    let mut out = std::path::PathBuf::from(".");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().ok_or("--out needs a directory")?.into(),
            other => return Err(format!("unknown argument {other:?}; try --out DIR")),
        }
    }
    Ok(out)
}

#[allow(dead_code)] // the tests include this file for its functions, not for main
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = out_dir()?;
    let data = people()?;
    let mut model = network(SEED)?;
    let mut losses = Vec::with_capacity(1000);
    train(&mut model, &data, |epoch, mse| {
        losses.push(mse);
        if epoch % 10 == 0 {
            println!("Epoch {epoch} loss: {mse:.3}");
        }
    })?;
    std::fs::create_dir_all(&out)?;
    let curve = out.join("gender_loss.svg");
    plots::loss_curve(
        &curve,
        "gender classifier: MSE after each epoch",
        "epoch",
        &losses,
    )?;
    println!("wrote {}", curve.display());
    for (name, x) in [("Emily", [-7.0, -3.0]), ("Frank", [20.0, 2.0])] {
        let p = model.predict(&x)?[0];
        let call = if p > 0.5 { 'F' } else { 'M' };
        println!("{name}: {p:.3} ({call})");
    }
    Ok(())
}
