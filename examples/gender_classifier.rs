//! The seed's network, trained with tapegrad: predict gender from weight and height.
//!
//! Victor Zhou's "Machine Learning for Beginners: An Introduction to Neural Networks" derives
//! every partial derivative of a 2-2-1 sigmoid network by hand. Here the tape derives them.
//!
//! Run with `cargo run --release --example gender_classifier`. It writes the loss curve,
//! `gender_loss.svg`, to the current directory (or to `--out DIR`).
//!
//! Options: `--out DIR` puts the files it writes there; `--save PATH` writes the trained model as
//! safetensors (load it with `cargo run --example predict -- PATH -7 -3`); `--graph` writes
//! `gender_graph.dot`, the graph of the first training step (Alice, initial weights) with every
//! value and gradient, for `dot -Tpng gender_graph.dot -o gender_graph.png`.

#[allow(dead_code)] // the tests include this file for its functions, not for main
#[path = "shared/outputs.rs"]
mod outputs;
#[allow(dead_code)] // the tests include this file for its functions, not for the plot
#[path = "shared/plots.rs"]
mod plots;

use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use tapegrad::{mse, Activation, Dataset, Graphviz, Loss, Mlp, Sgd, Tape, TrainConfig, Trainer};

/// The seed for the initial weights; `tests/example.rs` checks that seven seeds converge.
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

/// The DOT graph of one training step: `model` on input `x` with target `y`, with the seed's
/// names on the parameters (w1..w6, b1..b3), inputs (x1, x2) and neurons (h1, h2, o1), and
/// every value and gradient shown. The layers are bound one at a time so that the hidden
/// neurons are values that can be named.
pub fn step_graph(model: &Mlp, x: [f64; 2], y: f64) -> tapegrad::Result<String> {
    let (Some(hidden), Some(output)) = (model.layer(0), model.layer(1)) else {
        return Err(tapegrad::Error::Architecture(
            "step_graph draws a 2-2-1 network".into(),
        ));
    };
    let tape = Tape::traced();
    let inputs = [tape.var(x[0]).named("x1"), tape.var(x[1]).named("x2")];
    let (hidden, output) = (hidden.bind(&tape), output.bind(&tape));
    let params = hidden.parameters().into_iter().chain(output.parameters());
    for (p, name) in params.zip(["w1", "w2", "b1", "w3", "w4", "b2", "w5", "w6", "b3"]) {
        let _ = p.named(name);
    }
    let h: Vec<_> = hidden.forward_unfused(&inputs)?;
    let h = [h[0].named("h1"), h[1].named("h2")];
    let o1 = output.forward_unfused(&h)?[0].named("o1");
    let loss = mse(&[o1], &[y])?.named("mse");
    let grads = loss.backward();
    Graphviz::new(loss).gradients(&grads).render()
}

const USAGE: &str = "usage: gender_classifier [--out DIR] [--save PATH] [--graph]
  --out DIR    where gender_loss.svg (and gender_graph.dot) go (default: .)
  --save PATH  write the trained model there as safetensors
  --graph      write one training step as Graphviz DOT, gender_graph.dot";

/// Command-line options: `--out DIR`, `--save PATH`, `--graph`; `None` for `--help`.
#[allow(dead_code)]
struct Options {
    out: std::path::PathBuf,
    save: Option<std::path::PathBuf>,
    graph: bool,
}

#[allow(dead_code)]
fn options() -> Result<Option<Options>, String> {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        out: ".".into(),
        save: None,
        graph: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => o.out = args.next().ok_or("--out needs a directory")?.into(),
            "--save" => {
                o.save = Some(
                    args.next()
                        .ok_or("--save needs a path, e.g. --save gender.safetensors")?
                        .into(),
                )
            }
            "--graph" => o.graph = true,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Some(o))
}

#[allow(dead_code)] // the tests include this file for its functions, not for main
fn main() -> std::process::ExitCode {
    outputs::exit("gender_classifier", USAGE, options(), |opts| run(&opts))
}

#[allow(dead_code)]
fn run(opts: &Options) -> Result<(), Box<dyn std::error::Error>> {
    // Every output is checked before the training, so a bad path is reported at once.
    outputs::check_dir(&opts.out)?;
    if let Some(path) = &opts.save {
        outputs::check_file(path)?;
    }
    let data = people()?;
    let mut model = network(SEED)?;
    if opts.graph {
        let path = opts.out.join("gender_graph.dot");
        std::fs::write(&path, step_graph(&model, [-2.0, -1.0], 1.0)?)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!(
            "wrote {} (one training step: Alice, initial weights)",
            path.display()
        );
    }
    let mut losses = Vec::with_capacity(1000);
    train(&mut model, &data, |epoch, mse| {
        losses.push(mse);
        if epoch % 10 == 0 {
            println!("Epoch {epoch} loss: {mse:.3}");
        }
    })?;
    let curve = opts.out.join("gender_loss.svg");
    plots::loss_curve(
        &curve,
        "gender classifier: MSE after each epoch, log scale",
        "epoch",
        &losses,
        plots::Scale::Log,
    )?;
    println!("wrote {}", curve.display());
    for (name, x) in [("Emily", [-7.0, -3.0]), ("Frank", [20.0, 2.0])] {
        let p = model.predict(&x)?[0];
        let call = if p > 0.5 { 'F' } else { 'M' };
        println!("{name}: {p:.3} ({call})");
    }
    if let Some(path) = &opts.save {
        #[cfg(feature = "safetensors")]
        {
            model.save(path)?;
            println!("saved the model to {}", path.display());
        }
        #[cfg(not(feature = "safetensors"))]
        return Err(format!(
            "cannot save {}: built without tapegrad's `safetensors` feature",
            path.display()
        )
        .into());
    }
    Ok(())
}
