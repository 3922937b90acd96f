//! The safetensors reader and writer behind [`Mlp::save`] and [`Mlp::load`].

use crate::error::{Error, ModelFileError, ModelIoError, Result};
use crate::nn::{Activation, Layer, Mlp, Neuron};
use safetensors::tensor::{Metadata, TensorView};
use safetensors::Dtype;
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The value of the `format` metadata key.
///
/// ```
/// assert_eq!(tapegrad::io::MODEL_FORMAT, "tapegrad.mlp");
/// ```
pub const MODEL_FORMAT: &str = "tapegrad.mlp";

/// The format version this build writes and reads.
///
/// ```
/// assert_eq!(tapegrad::io::MODEL_FORMAT_VERSION, 1);
/// ```
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// The safetensors format's own limit on the header (100 MB).
const MAX_HEADER: u64 = 100_000_000;

/// Distinguishes temporary files of concurrent saves within one process.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

impl Mlp {
    /// The model as safetensors bytes (see the [module docs](crate::io) for the layout).
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp};
    /// let model = Mlp::zeros(&[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid)?;
    /// let bytes = model.to_safetensors()?;
    /// assert_eq!(Mlp::from_safetensors(&bytes)?, model);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ModelFileError::Format`] if the safetensors writer refuses the data (it does not for any
    /// model this crate can build).
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let sizes = self.sizes();
        let mut blobs: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        let mut offset = 0;
        for (l, pair) in sizes.windows(2).enumerate() {
            let (inputs, outputs) = (pair[0], pair[1]);
            let layer = &self.parameters()[offset..offset + outputs * (inputs + 1)];
            offset += layer.len();
            let mut weights = Vec::with_capacity(outputs * inputs * 8);
            let mut biases = Vec::with_capacity(outputs * 8);
            for neuron in layer.chunks_exact(inputs + 1) {
                for w in &neuron[..inputs] {
                    weights.extend_from_slice(&w.to_le_bytes());
                }
                biases.extend_from_slice(&neuron[inputs].to_le_bytes());
            }
            blobs.push((weight_name(l), vec![outputs, inputs], weights));
            blobs.push((bias_name(l), vec![outputs], biases));
        }
        let views = blobs
            .iter()
            .map(|(name, shape, data)| {
                TensorView::new(Dtype::F64, shape.clone(), data).map(|v| (name.clone(), v))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| ModelFileError::Format(e.to_string()))?;
        let join = |xs: Vec<String>| xs.join(",");
        let metadata = [
            ("format".to_string(), MODEL_FORMAT.to_string()),
            (
                "format_version".to_string(),
                MODEL_FORMAT_VERSION.to_string(),
            ),
            (
                "sizes".to_string(),
                join(sizes.iter().map(ToString::to_string).collect()),
            ),
            (
                "activations".to_string(),
                join(
                    self.activations()
                        .iter()
                        .map(|a| a.name().to_string())
                        .collect(),
                ),
            ),
        ]
        .into_iter()
        .collect();
        safetensors::serialize(views, Some(metadata))
            .map_err(|e| ModelFileError::Format(e.to_string()).into())
    }

    /// Reads a model from safetensors bytes, checking everything (see the [module docs](crate::io)).
    ///
    /// # Errors
    ///
    /// [`Error::ModelFile`], whose [`ModelFileError`] says what is wrong:
    ///
    /// - `Truncated` / `Oversized`: the length disagrees with the header.
    /// - `HeaderTooLarge`: the header length is more than the bytes that follow it.
    /// - `Format`: the header is not valid safetensors.
    /// - `Metadata`, `Version`: the architecture is missing, malformed or of an unknown format
    ///   version.
    /// - `MissingTensor`, `UnexpectedTensor`, `TensorDtype`, `TensorShape`, `NonFiniteWeight`:
    ///   the tensors do not fit it.
    ///
    /// ```
    /// use tapegrad::{Error, ModelFileError, Mlp};
    /// let cut = Mlp::from_safetensors(b"\x10\0\0\0\0\0\0\0{}");
    /// let expected = ModelFileError::HeaderTooLarge { claimed: 16, available: 2 };
    /// assert_eq!(cut, Err(Error::ModelFile(expected)));
    /// ```
    pub fn from_safetensors(bytes: &[u8]) -> Result<Mlp> {
        let (header_end, meta) = check_header(bytes, bytes.len() as u64)?;
        let data = &bytes[header_end..];
        let metadata = meta
            .metadata()
            .as_ref()
            .ok_or_else(|| ModelFileError::Metadata("the file has no metadata".into()))?;
        let (sizes, activations) = architecture(|key| metadata.get(key))?;

        let mut wanted = Vec::new();
        for (l, pair) in sizes.windows(2).enumerate() {
            wanted.push((weight_name(l), vec![pair[1], pair[0]]));
            wanted.push((bias_name(l), vec![pair[1]]));
        }
        // Shapes, dtypes and names first: only then are values read (the validated offsets
        // keep every tensor inside the file, so memory stays bounded by its size).
        for (name, shape) in &wanted {
            let info = meta
                .info(name)
                .ok_or_else(|| ModelFileError::MissingTensor { name: name.clone() })?;
            if info.dtype != Dtype::F64 {
                return Err(ModelFileError::TensorDtype {
                    name: name.clone(),
                    found: info.dtype.to_string(),
                }
                .into());
            }
            if &info.shape != shape {
                return Err(ModelFileError::TensorShape {
                    name: name.clone(),
                    expected: shape.clone(),
                    found: info.shape.clone(),
                }
                .into());
            }
        }
        let mut extra: Vec<String> = meta
            .tensors()
            .into_keys()
            .filter(|k| !wanted.iter().any(|(name, _)| name == k))
            .collect();
        extra.sort();
        if let Some(name) = extra.into_iter().next() {
            return Err(ModelFileError::UnexpectedTensor { name }.into());
        }

        let read = |name: &str| -> Result<Vec<f64>> {
            let info = meta
                .info(name)
                .ok_or_else(|| ModelFileError::MissingTensor {
                    name: name.to_string(),
                })?;
            let (start, end) = info.data_offsets;
            let values: Vec<f64> = data[start..end]
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                .collect();
            if let Some((position, &value)) =
                values.iter().enumerate().find(|(_, v)| !v.is_finite())
            {
                return Err(ModelFileError::NonFiniteWeight {
                    name: name.to_string(),
                    position,
                    value,
                }
                .into());
            }
            Ok(values)
        };
        let mut layers = Vec::with_capacity(activations.len());
        for (l, (pair, &activation)) in sizes.windows(2).zip(&activations).enumerate() {
            let inputs = pair[0];
            let weights = read(&weight_name(l))?;
            let biases = read(&bias_name(l))?;
            let neurons = biases
                .iter()
                .enumerate()
                .map(|(j, &b)| {
                    Neuron::new(
                        weights[j * inputs..(j + 1) * inputs].to_vec(),
                        b,
                        activation,
                    )
                })
                .collect();
            layers.push(Layer::new(neurons)?);
        }
        Mlp::new(layers)
    }

    /// Saves the model to `path` as safetensors, atomically: the bytes go to a temporary file in
    /// the same directory, which is flushed, synced and then renamed over `path`. A crash
    /// leaves either the old file or the complete new one, never a mix.
    ///
    /// # Errors
    ///
    /// [`ModelFileError::Io`] naming the step and file, with the operating system's error as its
    /// source, if the file system refuses (the temporary file is removed).
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp};
    /// let model = Mlp::zeros(&[2, 1], Activation::Identity, Activation::Identity)?;
    /// let path = std::env::temp_dir().join(format!("tapegrad-doc-{}.safetensors", std::process::id()));
    /// model.save(&path)?;
    /// assert_eq!(Mlp::load(&path)?, model);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.to_safetensors()?;
        let io = |action: &'static str, p: &Path, e: std::io::Error| -> Error {
            ModelIoError::new(action, p, e).into()
        };
        let file_name = path.file_name().ok_or_else(|| {
            let e = std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name");
            io("write", path, e)
        })?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(file_name);
        temp_name.push(format!(
            ".{}.{}.tmp",
            std::process::id(),
            NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
        ));
        let temp = dir.join(temp_name);
        let written = (|| {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .map_err(|e| io("create", &temp, e))?;
            file.write_all(&bytes).map_err(|e| io("write", &temp, e))?;
            file.flush().map_err(|e| io("flush", &temp, e))?;
            file.sync_all().map_err(|e| io("sync", &temp, e))?;
            fs::rename(&temp, path).map_err(|e| io("rename", path, e))
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
            return written;
        }
        // Make the rename itself durable where the platform allows syncing a directory.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Loads a model saved with [`Mlp::save`] (or any file in the same layout).
    ///
    /// Memory use is bounded by the file's size, and a file whose length disagrees with its
    /// header is refused after reading only the 8-byte prefix and the header: pointing `load`
    /// at a large file that is not a model does not read it into memory.
    ///
    /// # Errors
    ///
    /// [`ModelFileError::Io`] if the file cannot be read, else as [`Mlp::from_safetensors`].
    ///
    /// ```
    /// use tapegrad::{Error, ModelFileError, Mlp};
    /// let err = Mlp::load("no/such/model.safetensors").unwrap_err();
    /// assert!(matches!(err, Error::ModelFile(ModelFileError::Io(ref e)) if e.action() == "read"));
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Mlp> {
        let path = path.as_ref();
        let io = |e: std::io::Error| -> Error { ModelIoError::new("read", path, e).into() };
        let mut file = fs::File::open(path).map_err(io)?;
        let total = file.metadata().map_err(io)?.len();
        // The prefix, then the header if its claimed length fits the file.
        let mut head = Vec::new();
        (&mut file).take(8).read_to_end(&mut head).map_err(io)?;
        if let Ok(prefix) = <[u8; 8]>::try_from(&head[..]) {
            let claimed = u64::from_le_bytes(prefix);
            if claimed <= total.saturating_sub(8) && claimed <= MAX_HEADER {
                (&mut file)
                    .take(claimed)
                    .read_to_end(&mut head)
                    .map_err(io)?;
            }
        }
        check_header(&head, total)?;
        let mut bytes = head;
        bytes.reserve_exact(
            usize::try_from(total)
                .unwrap_or(0)
                .saturating_sub(bytes.len()),
        );
        file.read_to_end(&mut bytes).map_err(io)?;
        // Checked again as a whole, in case the file changed while it was read.
        Mlp::from_safetensors(&bytes)
    }
}

/// Checks the length prefix and header at the start of a file of `total` bytes (`head` holds at
/// least the prefix and, when its claim fits the file, the header) and that the file is exactly
/// as long as the header says. Returns where the data starts and the parsed header.
fn check_header(head: &[u8], total: u64) -> Result<(usize, Metadata), ModelFileError> {
    let Some(prefix) = head.get(..8) else {
        return Err(ModelFileError::Truncated {
            expected: 8,
            found: total,
        });
    };
    let claimed = u64::from_le_bytes(prefix.try_into().unwrap_or([0xff; 8]));
    let available = total.saturating_sub(8);
    if claimed > available || claimed > MAX_HEADER {
        return Err(ModelFileError::HeaderTooLarge { claimed, available });
    }
    let header_end = 8 + claimed as usize;
    let header = head.get(8..header_end).ok_or(ModelFileError::Truncated {
        expected: header_end as u64,
        found: head.len() as u64,
    })?;
    let header = std::str::from_utf8(header)
        .map_err(|e| ModelFileError::Format(format!("header is not UTF-8: {e}")))?;
    let meta: Metadata =
        serde_json::from_str(header).map_err(|e| ModelFileError::Format(format!("header: {e}")))?;
    let expected = (header_end as u64).saturating_add(meta.data_len() as u64);
    if total < expected {
        return Err(ModelFileError::Truncated {
            expected,
            found: total,
        });
    }
    if total > expected {
        return Err(ModelFileError::Oversized {
            expected,
            found: total,
        });
    }
    Ok((header_end, meta))
}

fn weight_name(l: usize) -> String {
    format!("layers.{l}.weight")
}

fn bias_name(l: usize) -> String {
    format!("layers.{l}.bias")
}

/// Checks the metadata (looked up by `entry`) and returns the layer sizes and per-layer
/// activations. A lookup function rather than a map: safetensors' map type depends on whether
/// anything in the build enables its `std` feature.
fn architecture<'a>(
    entry: impl Fn(&str) -> Option<&'a String>,
) -> Result<(Vec<usize>, Vec<Activation>), ModelFileError> {
    let get = |key: &str| {
        entry(key).ok_or_else(|| ModelFileError::Metadata(format!("key {key:?} is missing")))
    };
    let format = get("format")?;
    if format != MODEL_FORMAT {
        return Err(ModelFileError::Metadata(format!(
            "format is {format:?}, expected {MODEL_FORMAT:?}"
        )));
    }
    let version = get("format_version")?;
    if version.parse::<u32>() != Ok(MODEL_FORMAT_VERSION) {
        return Err(ModelFileError::Version {
            found: version.clone(),
            supported: MODEL_FORMAT_VERSION,
        });
    }
    let sizes_text = get("sizes")?;
    let sizes = sizes_text
        .split(',')
        .map(|s| s.trim().parse::<usize>().ok().filter(|&n| n > 0))
        .collect::<Option<Vec<usize>>>()
        .filter(|s| s.len() >= 2)
        .ok_or_else(|| {
            ModelFileError::Metadata(format!(
                "sizes {sizes_text:?} is not a list of at least two positive integers"
            ))
        })?;
    let acts_text = get("activations")?;
    let activations = acts_text
        .split(',')
        .map(|name| match name.trim() {
            "sigmoid" => Ok(Activation::Sigmoid),
            "tanh" => Ok(Activation::Tanh),
            "relu" => Ok(Activation::Relu),
            "identity" => Ok(Activation::Identity),
            other => Err(ModelFileError::Metadata(format!(
                "unknown activation {other:?}"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if activations.len() != sizes.len() - 1 {
        return Err(ModelFileError::Metadata(format!(
            "{} activations for {} layers",
            activations.len(),
            sizes.len() - 1
        )));
    }
    Ok((sizes, activations))
}
