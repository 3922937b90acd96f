//! Loads a model saved as safetensors and predicts for values given on the command line.
//!
//! ```text
//! cargo run --release --example gender_classifier -- --save gender.safetensors
//! cargo run --release --example predict -- gender.safetensors -7 -3 20 2
//! ```
//!
//! The values are split into rows of the model's input size (here two rows: Emily and Frank),
//! and each row's outputs are printed on one line.

use std::process::ExitCode;
use tapegrad::Mlp;

const USAGE: &str = "usage: predict MODEL.safetensors VALUE...";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    // A usage error (exit 2, with the usage) is a missing model or an unknown flag; a model
    // that does not load or values that do not fit it are the run's own errors (exit 1).
    let flag = args.iter().find(|a| a.starts_with("--"));
    let usage = match (args.first(), flag) {
        (None, _) => Some("no model file given".to_string()),
        (_, Some(flag)) => Some(format!("unknown argument {flag:?}")),
        _ => None,
    };
    if let Some(message) = usage {
        eprintln!("predict: {message}");
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("predict: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (path, values) = args.split_first().ok_or("no model file given")?;
    let model = Mlp::load(path).map_err(|e| e.to_string())?;
    let values = values
        .iter()
        .map(|v| {
            v.parse::<f64>()
                .map_err(|_| format!("{v:?} is not a number"))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    let n = model.input_size();
    if values.is_empty() || values.len() % n != 0 {
        return Err(format!(
            "{model} takes {n} values per input, got {}",
            values.len()
        ));
    }
    println!("{model}");
    for x in values.chunks(n) {
        let y = model.predict(x).map_err(|e| e.to_string())?;
        let show = |v: &[f64]| {
            v.iter()
                .map(|f| format!("{f:.6}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!("{} -> {}", show(x), show(&y));
    }
    Ok(())
}
