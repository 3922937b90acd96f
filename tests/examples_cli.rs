//! The examples' command lines: `--help` prints the usage and succeeds; an output that cannot
//! be written is reported before any training, naming the path; an impossible network size is
//! an error message, not an abort. Runs the example binaries `cargo test` builds.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The example binary `name` (built by `cargo test` next to this test's directory).
fn example(name: &str) -> Command {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let path: PathBuf = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is not built", path.display());
    let mut cmd = Command::new(path);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// The examples with a command line.
const EXAMPLES: [&str; 5] = [
    "gender_classifier",
    "moons",
    "digits",
    "train_csv",
    "predict",
];

fn run(name: &str, args: &[&str]) -> (Output, String, String) {
    let out = example(name).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

#[test]
fn help_prints_the_usage_and_succeeds() {
    for name in EXAMPLES {
        let (out, stdout, stderr) = run(name, &["--help"]);
        assert!(out.status.success(), "{name} --help: {stderr}");
        assert!(
            stdout.starts_with("usage: "),
            "{name} --help printed {stdout:?}"
        );
        assert!(stderr.is_empty(), "{name} --help: {stderr}");
    }
}

#[test]
fn an_unwritable_output_is_reported_before_training_naming_the_path() {
    // A directory inside a regular file cannot exist, for root too.
    let blocked = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml/out");
    for (name, args) in [
        ("gender_classifier", vec!["--out", blocked]),
        ("moons", vec!["--out", blocked]),
        ("digits", vec!["--out", blocked]),
        (
            "gender_classifier",
            vec![
                "--out",
                "target",
                "--save",
                concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml/m.safetensors"),
            ],
        ),
        (
            "train_csv",
            vec![
                "examples/data/people.csv",
                "--target",
                "female",
                "--save",
                concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml/m.safetensors"),
            ],
        ),
    ] {
        let (out, stdout, stderr) = run(name, &args);
        assert!(!out.status.success(), "{name} {args:?}");
        assert!(stderr.contains("Cargo.toml/"), "{name}: {stderr}");
        assert!(!stderr.contains("Os {"), "{name}: {stderr}");
        assert!(
            !stdout.contains("loss"),
            "{name} trained before checking its output: {stdout}"
        );
    }
}

#[test]
fn an_impossible_network_is_an_error_message() {
    let (out, _, stderr) = run(
        "train_csv",
        &[
            "examples/data/people.csv",
            "--target",
            "female",
            "--hidden",
            "1000000000000",
            "--epochs",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot allocate memory"), "{stderr}");
}

#[test]
fn an_unknown_argument_is_a_usage_error() {
    for name in EXAMPLES {
        let (out, stdout, stderr) = run(name, &["--no-such-flag"]);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains("--no-such-flag"), "{name}: {stderr}");
        assert!(stderr.contains("usage: "), "{name}: {stderr}");
        assert!(
            !stderr.contains("Error: \""),
            "{name} printed a Debug string: {stderr}"
        );
        assert!(stdout.is_empty(), "{name}: {stdout}");
    }
}

/// predict: a file that is no model is the run's error (exit 1, the reason, no usage); only a
/// missing model or an unknown flag is a usage error.
#[test]
fn predict_tells_a_bad_model_from_a_usage_error() {
    let (out, _, stderr) = run("predict", &["README.md", "1", "2"]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not a safetensors model file"), "{stderr}");
    assert!(!stderr.contains("usage:"), "{stderr}");
    let (out, _, stderr) = run("predict", &[]);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("usage:"), "{stderr}");
}
