//! micrograd's moons demo, in Rust: a 2-16-16-1 ReLU network learns to separate two
//! interleaved half-moons with the hinge loss, then draws its decision boundary.
//!
//! The data, the initial weights and the training run are exactly W2 of
//! `benches/WORKLOADS.md` (deterministic moons from SplitMix64 seed 1337, weights
//! uniform(-1, 1) from seed 1338, 100 full-batch steps with the learning rate falling from 1.0
//! to 0.1), so the run reproduces the reference: final loss 0.01192329337071667, accuracy 100%.
//!
//! Run with `cargo run --release --example moons` (add `-- --out DIR` to write the pictures
//! somewhere other than the current directory). Writes `moons.svg` and `moons_loss.svg`.

#[allow(dead_code)] // the tests include this file for its functions, not for main
#[path = "shared/outputs.rs"]
mod outputs;
#[allow(dead_code)] // the tests include this file for its functions, not for main
#[path = "shared/plots.rs"]
mod plots;
#[allow(dead_code)]
#[path = "shared/splitmix.rs"]
pub mod splitmix;

use tapegrad::{hinge, l2, Activation, Loss, Mlp, Optimizer, Schedule, Sgd, Tape};

/// W2's reference: the final total loss of the trained model (independent implementations
/// agree to ~1e-17).
pub const REFERENCE_LOSS: f64 = 0.01192329337071667;
/// The L2 coefficient of the demo.
pub const ALPHA: f64 = 1e-4;
/// Full-batch steps.
pub const STEPS: usize = 100;

/// The demo's data: 100 points, noise 0.1, SplitMix64 seed 1337; labels -1 / +1.
pub fn moons() -> (Vec<[f64; 2]>, Vec<f64>) {
    splitmix::make_moons(100, 0.1, 1337)
}

/// micrograd's `MLP(2, [16, 16, 1])`: ReLU hidden layers, a linear output, every weight
/// uniform(-1, 1) from SplitMix64 seed 1338 (layer, neuron, input order), every bias 0.
pub fn network() -> tapegrad::Result<Mlp> {
    let mut rng = splitmix::SplitMix64::new(1338);
    Mlp::with_init(
        &[2, 16, 16, 1],
        Activation::Relu,
        Activation::Identity,
        |slot| {
            if slot.is_bias() {
                0.0
            } else {
                rng.uniform(-1.0, 1.0)
            }
        },
    )
}

/// The demo's loss of the model as it stands: mean hinge loss + 1e-4 * sum of squared
/// parameters, and the accuracy (fraction of points with the score's sign right).
pub fn evaluate(model: &Mlp, points: &[[f64; 2]], labels: &[f64]) -> tapegrad::Result<(f64, f64)> {
    let scores = points
        .iter()
        .map(|p| Ok(model.predict(p)?[0]))
        .collect::<tapegrad::Result<Vec<f64>>>()?;
    let data_loss = Loss::Hinge.eval(&scores, labels)?;
    let reg_loss = ALPHA * model.parameters().iter().fold(0.0, |s, p| s + p * p);
    let correct = scores
        .iter()
        .zip(labels)
        .filter(|(s, y)| (**s > 0.0) == (**y > 0.0));
    Ok((
        data_loss + reg_loss,
        correct.count() as f64 / labels.len() as f64,
    ))
}

/// The demo's training loop: `STEPS` full-batch steps of gradient descent on hinge + L2 with
/// the learning rate 1.0 - 0.9 k / 100. `on_step(k, loss, accuracy)` sees each step's loss and
/// accuracy, measured before its update.
pub fn train(
    model: &mut Mlp,
    points: &[[f64; 2]],
    labels: &[f64],
    mut on_step: impl FnMut(usize, f64, f64),
) -> tapegrad::Result<()> {
    let mut sgd = Sgd::with_schedule(Schedule::linear(1.0, 0.1, STEPS)?);
    let mut tape = Tape::new();
    for k in 0..STEPS {
        {
            let bound = model.bind(&tape);
            let mut scores = Vec::with_capacity(points.len());
            for p in points {
                scores.push(bound.forward(p)?[0]);
            }
            let data_loss = hinge(&scores, labels)?; // mean of relu(1 - y * score)
            let reg_loss = l2(&bound.parameters(), ALPHA)?; // 1e-4 * sum p^2
            let total = data_loss + reg_loss;
            let correct = scores
                .iter()
                .zip(labels)
                .filter(|(s, y)| (s.value() > 0.0) == (**y > 0.0))
                .count();
            on_step(k, total.value(), correct as f64 / labels.len() as f64);
            let grads = total.backward();
            let dl_dp = bound.gradients(&grads);
            sgd.step(model.parameters_mut(), dl_dp)?;
        }
        tape.clear(); // keep the memory for the next step
    }
    Ok(())
}

const USAGE: &str = "usage: moons [--out DIR]
  --out DIR  where moons.svg and moons_loss.svg go (default: .)";

#[allow(dead_code)]
fn main() -> std::process::ExitCode {
    let args = outputs::out_dir_only(USAGE);
    outputs::exit("moons", USAGE, args, |out| run(&out))
}

#[allow(dead_code)]
fn run(out: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    // The output directory is checked before the training.
    outputs::check_dir(out)?;
    let (points, labels) = moons();
    let mut model = network()?;
    println!("{} parameters", model.parameter_count());
    let mut losses = Vec::with_capacity(STEPS);
    train(&mut model, &points, &labels, |k, loss, accuracy| {
        losses.push(loss);
        if k % 10 == 0 || k == STEPS - 1 {
            println!(
                "step {k:3} loss {loss:.6}, accuracy {:.0}%",
                accuracy * 100.0
            );
        }
    })?;
    let (loss, accuracy) = evaluate(&model, &points, &labels)?;
    losses.push(loss);
    println!(
        "trained: loss {loss:.17}, accuracy {:.0}%",
        accuracy * 100.0
    );
    println!(
        "reference (benches/WORKLOADS.md W2): loss {REFERENCE_LOSS}, accuracy 100% (difference {:.1e})",
        (loss - REFERENCE_LOSS).abs()
    );

    let boundary = out.join("moons.svg");
    plots::decision_boundary(
        &boundary,
        "moons: decision boundary after 100 steps",
        (-1.5..2.5, -1.0..1.5),
        120,
        |x, y| model.predict(&[x, y]).map_or(f64::NAN, |s| s[0]),
        &points,
        &labels,
        ["outer moon", "inner moon"],
    )?;
    let curve = out.join("moons_loss.svg");
    plots::loss_curve(
        &curve,
        "moons: loss (hinge + L2), log scale",
        "step",
        &losses,
        plots::Scale::Log,
    )?;
    println!("wrote {} and {}", boundary.display(), curve.display());

    if (loss - REFERENCE_LOSS).abs() > 1e-9 || accuracy != 1.0 {
        return Err("the run does not reproduce the W2 reference".into());
    }
    Ok(())
}
