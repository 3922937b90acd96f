//! Loading a CSV file for `examples/train_csv.rs`: a header row, numeric feature columns and one
//! target column, with every problem reported by file, line and column.
//!
//! Lines starting with `#` are comments. Line and column numbers count from 1 and count every
//! line of the file, comments included, so they match what an editor shows.

use std::fmt;
use std::path::Path;

/// What the target column asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// Exactly two distinct target values, or text with more: a classifier. Class `k` is
    /// `classes[k]`, in sorted order (numbers by value, text alphabetically); two classes make
    /// a binary classifier, more a multi-class one.
    Classify {
        /// The classes as written in the file.
        classes: Vec<String>,
    },
    /// More than two distinct numbers: a regressor (see [`Table::into_classes`]).
    Regress,
}

/// A loaded table: feature rows and targets (the class index for a classifier).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Names of the feature columns, in file order.
    pub features: Vec<String>,
    /// Name of the target column.
    pub target: String,
    /// One row of features per data line.
    pub rows: Vec<Vec<f64>>,
    /// One target per data line.
    pub targets: Vec<f64>,
    /// Classifier or regressor.
    pub task: Task,
}

/// A problem with the file, as a message naming the file, line and column.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError(pub String);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}

/// The most classes a numeric target may be turned into.
pub const MAX_CLASSES: usize = 100;

impl Table {
    /// A regression table's numeric targets taken as classes instead (each distinct value one
    /// class, in increasing order); a classifier's table as it is.
    pub fn into_classes(mut self) -> Result<Table, LoadError> {
        if let Task::Regress = self.task {
            let mut values = self.targets.clone();
            values.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
            values.dedup();
            if values.len() > MAX_CLASSES {
                return Err(LoadError(format!(
                    "column {:?} has {} distinct values, too many to be classes (at most {MAX_CLASSES})",
                    self.target,
                    values.len()
                )));
            }
            for t in &mut self.targets {
                *t = values.partition_point(|v| v < t) as f64;
            }
            self.task = Task::Classify {
                classes: values.iter().map(|v| v.to_string()).collect(),
            };
        }
        Ok(self)
    }
}

/// Reads the CSV file at `path` with `target` as the column to predict.
pub fn load(path: &Path, target: &str) -> Result<Table, LoadError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| LoadError(format!("{name}: cannot open the file: {e}")))?;
    parse(&name, file, target)
}

/// Parses CSV text from `reader`; `name` is the file name used in messages.
pub fn parse(name: &str, mut reader: impl std::io::Read, target: &str) -> Result<Table, LoadError> {
    let err = |msg: String| LoadError(format!("{name}, {msg}"));
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .map_err(|e| LoadError(format!("{name}: cannot read the file as UTF-8 text: {e}")))?;
    let line_of = |record: &csv::StringRecord| line_of(&text, record);
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .comment(Some(b'#'))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = csv.records();
    let header = match records.next() {
        None => {
            return Err(LoadError(format!(
                "{name}: the file is empty; expected a header row"
            )))
        }
        Some(r) => r.map_err(|e| err(csv_error(&e)))?,
    };
    let header_line = line_of(&header);
    let columns: Vec<String> = header.iter().map(str::to_string).collect();
    let Some(t) = columns.iter().position(|c| c == target) else {
        return Err(err(format!(
            "line {header_line}: no column named {target:?}; the header has {}",
            quoted(&columns)
        )));
    };
    if columns.len() < 2 {
        return Err(err(format!(
            "line {header_line}: the only column is the target {target:?}; there is nothing to predict it from"
        )));
    }

    let mut rows = Vec::new();
    let mut raw_targets = Vec::new(); // (text, line)
    for record in records {
        let record = record.map_err(|e| err(csv_error(&e)))?;
        let line = line_of(&record);
        if record.len() != columns.len() {
            let (n, h) = (record.len(), columns.len());
            let detail = if n < h {
                format!("column {} ({:?}) is missing", n + 1, columns[n])
            } else {
                format!("column {} has no header", h + 1)
            };
            return Err(err(format!(
                "line {line}: {n} fields but the header has {h}: {detail}"
            )));
        }
        let mut row = Vec::with_capacity(columns.len() - 1);
        for (c, cell) in record.iter().enumerate() {
            if c == t {
                raw_targets.push((cell.to_string(), line));
            } else {
                row.push(number(cell).ok_or_else(|| {
                    err(format!(
                        "line {line}, column {} ({:?}): {}",
                        c + 1,
                        columns[c],
                        not_a_number(cell)
                    ))
                })?);
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(err(format!(
            "line {header_line}: a header row but no data rows"
        )));
    }

    let column = format!("column {} ({target:?})", t + 1);
    let mut distinct: Vec<&str> = raw_targets.iter().map(|(s, _)| s.as_str()).collect();
    let numeric = raw_targets.iter().all(|(s, _)| number(s).is_some());
    if numeric {
        distinct.sort_by(|a, b| number(a).partial_cmp(&number(b)).expect("finite"));
        distinct.dedup_by(|a, b| number(a) == number(b));
    } else {
        distinct.sort_unstable();
        distinct.dedup();
    }
    if distinct.len() == 1 {
        return Err(err(format!(
            "{column}: every row has the value {:?}, a single class; there is nothing to learn",
            distinct[0]
        )));
    }
    let (targets, task) = if numeric && distinct.len() > 2 {
        let targets = raw_targets
            .iter()
            .map(|(s, _)| number(s).expect("numeric"))
            .collect();
        (targets, Task::Regress)
    } else {
        if distinct.len() > MAX_CLASSES {
            return Err(err(format!(
                "{column}: {} distinct text values, too many to be classes (at most {MAX_CLASSES})",
                distinct.len()
            )));
        }
        let targets = raw_targets
            .iter()
            .map(|(s, _)| {
                let k = if numeric {
                    distinct.iter().position(|d| number(d) == number(s))
                } else {
                    distinct.iter().position(|d| d == s)
                };
                k.expect("every value is among the distinct ones") as f64
            })
            .collect();
        let classes = distinct.iter().map(|d| d.to_string()).collect();
        (targets, Task::Classify { classes })
    };
    let features = columns
        .iter()
        .enumerate()
        .filter(|&(c, _)| c != t)
        .map(|(_, n)| n.clone())
        .collect();
    Ok(Table {
        features,
        target: target.to_string(),
        rows,
        targets,
        task,
    })
}

/// A finite number, or `None` (so "NaN" and "inf" count as not numbers).
fn number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn not_a_number(cell: &str) -> String {
    if cell.is_empty() {
        "the cell is empty, expected a number".to_string()
    } else {
        format!("{cell:?} is not a finite number")
    }
}

/// The line a record starts on. The csv crate's position is where the reader stood after the
/// previous record, before any blank or comment lines it then skipped; skip them here too.
fn line_of(text: &str, record: &csv::StringRecord) -> u64 {
    let Some(pos) = record.position() else {
        return 0;
    };
    let (mut byte, mut line) = (pos.byte() as usize, pos.line());
    while let Some(rest) = text.get(byte..) {
        let end = rest.find('\n').map_or(rest.len(), |k| k + 1);
        let this = rest[..end].trim_end_matches(['\n', '\r']);
        if !(this.is_empty() || this.starts_with('#')) || end == rest.len() {
            break;
        }
        byte += end;
        line += 1;
    }
    line
}

fn quoted(columns: &[String]) -> String {
    let names: Vec<String> = columns.iter().map(|c| format!("{c:?}")).collect();
    names.join(", ")
}

/// The csv crate's own errors (bad UTF-8, I/O), with its position when it has one.
fn csv_error(e: &csv::Error) -> String {
    match e.position() {
        Some(p) => format!("line {}: {e}", p.line()),
        None => format!("{e}"),
    }
}
