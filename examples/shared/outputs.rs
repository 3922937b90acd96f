//! The examples' command-line plumbing: the checks they make before any work (every place
//! they will write to takes a new file, so a bad `--out` or `--save` is reported at once,
//! naming the path, not after training), and one way for `main` to answer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `main`'s answer to a parsed command line: the usage for `--help` (`Ok(None)`), a usage
/// error (exit 2, with the usage in the message) or `run`'s own error (exit 1), each printed
/// as `name: message`.
pub fn exit<T>(
    name: &str,
    usage: &str,
    parsed: Result<Option<T>, String>,
    run: impl FnOnce(T) -> Result<(), Box<dyn std::error::Error>>,
) -> ExitCode {
    let failed = |message: &dyn std::fmt::Display, code: ExitCode| {
        eprintln!("{name}: {message}");
        code
    };
    match parsed {
        Ok(None) => {
            println!("{usage}");
            ExitCode::SUCCESS
        }
        Err(message) => failed(&message, ExitCode::from(2)),
        Ok(Some(args)) => match run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => failed(&e, ExitCode::FAILURE),
        },
    }
}

/// A command line of `--out DIR` alone (default: the current directory); `None` for
/// `-h`/`--help`.
pub fn out_dir_only(usage: &str) -> Result<Option<PathBuf>, String> {
    let mut args = std::env::args().skip(1);
    let mut out = PathBuf::from(".");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().ok_or("--out needs a directory")?.into(),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}\n{usage}")),
        }
    }
    Ok(Some(out))
}

/// Creates `dir` if needed and checks that it takes new files.
pub fn check_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the output directory {}: {e}", dir.display()))?;
    probe(dir).map_err(|e| format!("cannot write into {}: {e}", dir.display()))
}

/// Checks that a file can be written at `path`: its directory exists and takes new files, and
/// an existing file there may be written.
pub fn check_file(path: &Path) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    if path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(fail)?;
    }
    probe(dir).map_err(fail)
}

/// Creates and removes an empty file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".tapegrad-probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}
