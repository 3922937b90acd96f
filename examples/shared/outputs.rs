//! Checks the examples make before any work: every place they will write to takes a new file,
//! so a bad `--out` or `--save` is reported at once, naming the path, not after training.

use std::path::Path;

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
