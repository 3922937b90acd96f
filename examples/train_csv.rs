//! Train a small network on your own CSV file.
//!
//! ```text
//! cargo run --release --example train_csv -- examples/data/people.csv --target female --hidden 8,8 --epochs 500
//! ```
//!
//! The file needs a header row; lines starting with `#` are comments. Every column but the
//! target is a numeric feature. A target with exactly two distinct values (numbers or text)
//! makes a binary classifier (binary cross-entropy on one logit); a text target with more
//! values makes a multi-class classifier (softmax cross-entropy, one logit per class); a
//! numeric target with more values makes a regressor (MSE), or with `--classify` a multi-class
//! classifier of its distinct values. Features are standardised with the training rows' mean
//! and standard deviation, a validation split is held out (the model ends at the epoch with the
//! lowest validation loss), progress and final metrics are printed, and with `--save PATH` the
//! model is written as a safetensors file (`cargo run --example predict -- PATH ...` reads it;
//! it takes the standardised features, whose statistics are printed). Bad input gets a message
//! naming the file, line and column.

#[path = "shared/csv_data.rs"]
mod csv_data;
#[allow(dead_code)] // check_dir: this example writes no directory
#[path = "shared/outputs.rs"]
mod outputs;

use csv_data::{Table, Task};
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use tapegrad::{Activation, Adam, Dataset, Loss, Mlp, TrainConfig, Trainer};

const USAGE: &str = "usage: train_csv FILE.csv --target COLUMN [--hidden 8] [--epochs 500] \
[--lr 0.01] [--batch-size 8] [--validation 0.25] [--seed 1] [--classify] [--save MODEL.safetensors]";

/// The command line.
#[derive(Debug)]
struct Args {
    file: std::path::PathBuf,
    target: String,
    hidden: Vec<usize>,
    epochs: usize,
    lr: f64,
    batch_size: usize,
    validation: f64,
    seed: u64,
    classify: bool,
    save: Option<std::path::PathBuf>,
}

/// The command line, or `None` for `--help`.
fn parse_args() -> Result<Option<Args>, String> {
    let mut args = std::env::args().skip(1);
    let (mut file, mut target) = (None, None);
    let mut parsed = Args {
        file: Default::default(),
        target: String::new(),
        hidden: vec![8],
        epochs: 500,
        lr: 0.01,
        batch_size: 8,
        validation: 0.25,
        seed: 1,
        classify: false,
        save: None,
    };
    fn value<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse().map_err(|_| format!("{flag}: cannot read {v:?}"))
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--target" => target = Some(value::<String>("--target", args.next())?),
            "--hidden" => {
                let v: String = value("--hidden", args.next())?;
                parsed.hidden = if v.is_empty() || v == "none" {
                    Vec::new()
                } else {
                    v.split(',')
                        .map(|w| value("--hidden", Some(w.trim().to_string())))
                        .collect::<Result<_, _>>()?
                };
            }
            "--epochs" => parsed.epochs = value("--epochs", args.next())?,
            "--lr" => parsed.lr = value("--lr", args.next())?,
            "--batch-size" => parsed.batch_size = value("--batch-size", args.next())?,
            "--validation" => parsed.validation = value("--validation", args.next())?,
            "--seed" => parsed.seed = value("--seed", args.next())?,
            "--classify" => parsed.classify = true,
            "--save" => parsed.save = Some(value::<String>("--save", args.next())?.into()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}\n{USAGE}")),
            path if file.is_none() => file = Some(path.into()),
            extra => return Err(format!("unexpected argument {extra:?}\n{USAGE}")),
        }
    }
    parsed.file = file.ok_or_else(|| format!("no CSV file given\n{USAGE}"))?;
    parsed.target = target.ok_or_else(|| format!("--target COLUMN is required\n{USAGE}"))?;
    if !(0.0..1.0).contains(&parsed.validation) {
        return Err("--validation must be a fraction in [0, 1)".into());
    }
    if parsed.hidden.contains(&0) {
        return Err("--hidden: every layer needs at least one neuron".into());
    }
    Ok(Some(parsed))
}

/// Mean and standard deviation (population) of column `c` over `rows`; a constant column gets
/// a standard deviation of 1 so it standardises to 0.
fn mean_std(rows: &[&Vec<f64>], c: usize) -> (f64, f64) {
    let n = rows.len() as f64;
    let mean = rows.iter().map(|r| r[c]).sum::<f64>() / n;
    let var = rows.iter().map(|r| (r[c] - mean).powi(2)).sum::<f64>() / n;
    (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
}

/// Metrics of `model` on `data`: (loss, accuracy for a classifier or RMSE in target units).
fn metrics(
    model: &Mlp,
    data: &Dataset,
    loss: Loss,
    target_scale: f64,
) -> tapegrad::Result<(f64, f64)> {
    let l = model.loss(data, loss)?;
    let second = match model.accuracy(data, loss)? {
        Some(accuracy) => accuracy,
        None => l.sqrt() * target_scale,
    };
    Ok((l, second))
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    // The model file is checked before the training, so a bad path is reported at once.
    if let Some(path) = &args.save {
        outputs::check_file(path)?;
    }
    let mut table: Table = csv_data::load(&args.file, &args.target)?;
    if args.classify {
        table = table.into_classes()?;
    }
    let n = table.rows.len();
    let classes = match &table.task {
        Task::Classify { classes } => {
            let names: Vec<String> = classes
                .iter()
                .enumerate()
                .map(|(k, c)| format!("{c:?} -> {k}"))
                .collect();
            println!(
                "{n} rows, features {:?}; target {:?} has {} classes: classifier, {}",
                table.features,
                table.target,
                classes.len(),
                names.join(", ")
            );
            classes.len()
        }
        Task::Regress => {
            println!(
                "{n} rows, features {:?}; target {:?} is numeric: regressor",
                table.features, table.target
            );
            0
        }
    };
    let classify = classes > 0;

    // Hold out a random validation split (reproducible with --seed).
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let n_val = if args.validation > 0.0 && n >= 2 {
        ((n as f64 * args.validation).round() as usize).clamp(1, n - 1)
    } else {
        0
    };
    let (val_idx, train_idx) = order.split_at(n_val);

    // Standardise with the training rows' statistics only.
    let train_rows: Vec<&Vec<f64>> = train_idx.iter().map(|&i| &table.rows[i]).collect();
    let stats: Vec<(f64, f64)> = (0..table.features.len())
        .map(|c| mean_std(&train_rows, c))
        .collect();
    let (t_mean, t_std) = if classify {
        (0.0, 1.0)
    } else {
        let targets: Vec<Vec<f64>> = train_idx.iter().map(|&i| vec![table.targets[i]]).collect();
        mean_std(&targets.iter().collect::<Vec<_>>(), 0)
    };
    let dataset = |idx: &[usize]| -> tapegrad::Result<Dataset> {
        let inputs: Vec<Vec<f64>> = idx
            .iter()
            .map(|&i| {
                table.rows[i]
                    .iter()
                    .zip(&stats)
                    .map(|(x, (m, s))| (x - m) / s)
                    .collect()
            })
            .collect();
        // A class index for a classifier (0 / 1 for the binary one), the standardised value
        // for a regressor.
        let targets: Vec<[f64; 1]> = idx
            .iter()
            .map(|&i| [(table.targets[i] - t_mean) / t_std])
            .collect();
        Dataset::new(&inputs, &targets)
    };
    let train = dataset(train_idx)?;
    let val = if n_val > 0 {
        Some(dataset(val_idx)?)
    } else {
        None
    };
    println!("training on {} rows, validating on {n_val}", train.len());

    let (outputs, loss) = match classes {
        0 => (1, Loss::Mse),
        2 => (1, Loss::BceWithLogits),
        k => (k, Loss::CrossEntropy),
    };
    let mut builder = Mlp::builder(table.features.len());
    for &h in &args.hidden {
        builder = builder.dense(h, Activation::Tanh);
    }
    let mut model = builder
        .dense(outputs, Activation::Identity)
        .random(&mut rng)?;
    let config = TrainConfig::default()
        .epochs(args.epochs)
        .batch_size(args.batch_size)
        .loss(loss)
        .restore_best(val.is_some())
        .progress(true);
    let mut optimizer = Adam::new(args.lr)?;
    println!(
        "network {:?} (tanh hidden, linear output), {} parameters; {:?}, Adam lr {}, batch {}",
        model.sizes(),
        model.parameter_count(),
        loss,
        args.lr,
        args.batch_size
    );

    let second_name = if classify { "accuracy" } else { "rmse" };
    let show = |x: f64| {
        if classify {
            format!("{:.1}%", 100.0 * x)
        } else {
            format!("{x:.4}")
        }
    };
    let every = (args.epochs / 10).max(1);
    let mut trainer = Trainer::new(config)?;
    if let Some(val) = &val {
        trainer = trainer.with_validation(val.clone());
    }
    let summary = trainer.fit_shuffled(&mut model, &mut optimizer, &train, &mut rng, |r| {
        if r.epoch % every == 0 || r.epoch + 1 == args.epochs {
            let mut line = format!("epoch {:4}: train loss {:.4}", r.epoch, r.loss);
            if let Some(acc) = r.accuracy {
                line += &format!(" accuracy {}", show(acc));
            }
            if let Some(v) = r.validation {
                // The RMSE in target units for a regressor, from the standardised MSE.
                let second = v.accuracy.unwrap_or(v.loss.sqrt() * t_std);
                line += &format!(
                    " | validation loss {:.4} {second_name} {}",
                    v.loss,
                    show(second)
                );
            }
            println!("{line}");
        }
    })?;
    if let Some((epoch, _)) = summary.best {
        println!("kept the parameters of epoch {epoch}, the lowest validation loss");
    }

    let (l, m) = metrics(&model, &train, loss, t_std)?;
    println!("final: train loss {l:.4} {second_name} {}", show(m));
    if let Some(val) = &val {
        let (l, m) = metrics(&model, val, loss, t_std)?;
        println!("final: validation loss {l:.4} {second_name} {}", show(m));
    }
    if let Some(path) = &args.save {
        model.save(path)?;
        println!(
            "saved the model to {}; it takes standardised features:",
            path.display()
        );
        for (name, (m, s)) in table.features.iter().zip(&stats) {
            println!("  {name}: subtract {m}, then divide by {s}");
        }
    }
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
