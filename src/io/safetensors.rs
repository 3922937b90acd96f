//! The safetensors reader and writer behind [`Mlp::save`] and [`Mlp::load`].

use crate::error::{Error, ModelFileError, ModelIoError, Result};
use crate::nn::{Activation, Mlp};
use safetensors::tensor::{TensorInfo, TensorView};
use safetensors::Dtype;
use std::collections::HashMap;
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
    /// [`ModelFileError::NonFiniteWeight`] if a parameter is NaN or infinite (set through
    /// [`Mlp::parameters_mut`] or a [`Neuron`](crate::Neuron)'s): [`Mlp::load`] would refuse the
    /// file, so it is not written. [`ModelFileError::Format`] if the safetensors writer refuses the
    /// data (it does not for any model this crate can build).
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let sizes = self.sizes();
        if let Some(k) = self.parameters().iter().position(|p| !p.is_finite()) {
            return Err(non_finite_at(&sizes, k, self.parameters()[k]));
        }
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
            .map_err(|e| Error::ModelFile(ModelFileError::Format(e.to_string())))?;
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
    /// - [`ModelFileError::Truncated`] / [`ModelFileError::Oversized`]: the length disagrees with the header.
    /// - [`ModelFileError::NotSafetensors`]: no JSON header follows the 8-byte length.
    /// - [`ModelFileError::HeaderTooLarge`]: the header length is more than the bytes that follow it.
    /// - [`ModelFileError::Format`]: the header is not valid safetensors.
    /// - [`ModelFileError::Metadata`], [`ModelFileError::Version`]: the architecture is missing, malformed
    ///   or of an unknown format version.
    /// - [`ModelFileError::MissingTensor`], [`ModelFileError::UnexpectedTensor`], [`ModelFileError::TensorDtype`],
    ///   [`ModelFileError::TensorShape`], [`ModelFileError::NonFiniteWeight`]: the tensors do not fit it.
    /// - [`Error::Allocation`]: the parameters cannot be allocated.
    ///
    /// ```
    /// use tapegrad::{Error, ModelFileError, Mlp};
    /// let cut = Mlp::from_safetensors(b"\x10\0\0\0\0\0\0\0{}");
    /// let expected = ModelFileError::HeaderTooLarge { claimed: 16, available: 2 };
    /// assert_eq!(cut, Err(Error::ModelFile(expected)));
    /// ```
    pub fn from_safetensors(bytes: &[u8]) -> Result<Mlp> {
        let mut reader = bytes;
        let mut io = |e: std::io::Error| Error::ModelFile(ModelFileError::Format(e.to_string()));
        let mut header = read_header(&mut reader, bytes.len() as u64, &mut io)?;
        let plan = plan(&mut header)?;
        read_parameters(&mut reader, &header, &plan, &mut io)
    }

    /// Saves the model to `path` as safetensors, atomically: the bytes go to a temporary file in
    /// the same directory, which is flushed, synced and then renamed over `path`. A crash
    /// leaves either the old file or the complete new one, never a mix.
    ///
    /// Saving over an existing file keeps what the user had: the file is replaced only if the
    /// user could have written it in place (the operating system is asked, by opening it for
    /// writing), and the new file gets the old one's permissions (and, where allowed, its owner
    /// and group); a symbolic link is followed, so the link stays and its target is replaced.
    /// Anything at `path` that is not a regular file (a directory, a device such as
    /// `/dev/null`, a pipe, a socket) is refused before anything is written.
    ///
    /// # Errors
    ///
    /// [`ModelFileError::Io`] naming the step and file if the file system refuses, including
    /// `"write"` for an existing file the user may not write and `"replace"` for a path that is
    /// not a regular file (the temporary file is removed, the old file untouched);
    /// [`ModelFileError::NonFiniteWeight`] as [`Mlp::to_safetensors`].
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
        // A link to a file: replace the file it points to, not the link.
        let resolved;
        let path = match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                resolved = fs::canonicalize(path).map_err(|e| io("follow", path, e))?;
                resolved.as_path()
            }
            _ => path,
        };
        let file_name = path.file_name().ok_or_else(|| {
            let e = std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name");
            io("write", path, e)
        })?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // The file being replaced: may the user write it, and with what permissions?
        let old = match fs::metadata(path) {
            // A directory, device, pipe or socket: renaming over it would replace it.
            Ok(m) if !m.is_file() => {
                let why = "not a regular file: a model is saved only as or over a regular file";
                let e = std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
                return Err(io("replace", path, e));
            }
            Ok(m) => {
                fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| io("write", path, e))?;
                Some(m)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("inspect", path, e)),
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
            if let Some(old) = &old {
                keep_owner_and_permissions(&file, old)
                    .map_err(|e| io("set permissions of", &temp, e))?;
            }
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
    /// The file is read in order, each part only once the parts before it are checked: the
    /// 8-byte prefix, then the header if its length fits the file, which is checked against
    /// the file's length and then against the architecture its metadata describes; only then
    /// are the tensors' values read, straight into the model's parameters. So a file that is
    /// not a tapegrad model (a large PyTorch checkpoint, say) is refused without reading its
    /// data, memory stays within a small multiple of the file's size, and time is linear in it.
    ///
    /// # Errors
    ///
    /// [`ModelFileError::Io`] if the file cannot be read (or changes length while it is read), else
    /// as [`Mlp::from_safetensors`].
    ///
    /// ```
    /// use tapegrad::{Error, ModelFileError, Mlp};
    /// let err = Mlp::load("no/such/model.safetensors").unwrap_err();
    /// assert!(matches!(err, Error::ModelFile(ModelFileError::Io(ref e)) if e.action() == "read"));
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Mlp> {
        let path = path.as_ref();
        let mut io = |e: std::io::Error| -> Error { ModelIoError::new("read", path, e).into() };
        let file = fs::File::open(path).map_err(&mut io)?;
        let total = file.metadata().map_err(&mut io)?.len();
        let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
        let mut header = read_header(&mut reader, total, &mut io)?;
        let plan = plan(&mut header)?;
        let model = read_parameters(&mut reader, &header, &plan, &mut io)?;
        // The file may have grown while it was read.
        let mut extra = [0u8; 1];
        if reader.read(&mut extra).map_err(&mut io)? != 0 {
            return Err(io(std::io::Error::other(
                "the file changed while it was read",
            )));
        }
        Ok(model)
    }
}

/// Gives the new file `file` the permissions of the `old` one it replaces and, where the
/// user may (root, or a group the user is in), its owner and group.
fn keep_owner_and_permissions(file: &fs::File, old: &fs::Metadata) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Not permitted for an ordinary user saving over someone else's file: it then gets
        // the user's own, as any new file would.
        let _ = std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()));
    }
    file.set_permissions(old.permissions())
}

/// A parsed header: the metadata, and every tensor entry sorted by its data offsets.
struct Header {
    metadata: Option<HashMap<String, String>>,
    tensors: Vec<(String, TensorInfo)>,
}

/// Reads the length prefix and the header from `r`, the start of `total` bytes, and checks
/// the header's offsets and that the bytes are exactly as long as the header says. `io` turns
/// a read error into the caller's error.
fn read_header(
    r: &mut impl Read,
    total: u64,
    io: &mut impl FnMut(std::io::Error) -> Error,
) -> Result<Header> {
    if total < 8 {
        return Err(Error::ModelFile(ModelFileError::Truncated {
            expected: 8,
            found: total,
        }));
    }
    let mut prefix = [0u8; 8];
    r.read_exact(&mut prefix).map_err(&mut *io)?;
    let claimed = u64::from_le_bytes(prefix);
    let available = total - 8;
    // The JSON header starts with '{' (the format says so): a file that does not is no model
    // file, whatever its first 8 bytes claim as a length.
    let mut first = [0u8; 1];
    if available > 0 {
        r.read_exact(&mut first).map_err(&mut *io)?;
        if first[0] != b'{' {
            let found = first[0];
            return Err(Error::ModelFile(ModelFileError::NotSafetensors { found }));
        }
    }
    if claimed > available || claimed > MAX_HEADER {
        return Err(Error::ModelFile(ModelFileError::HeaderTooLarge {
            claimed,
            available: available.min(MAX_HEADER),
        }));
    }
    // At most 100 MB, and no more than the file holds.
    let mut text = crate::size::with_capacity(claimed as usize, "header bytes")?;
    if claimed > 0 {
        text.push(first[0]);
        r.take(claimed - 1)
            .read_to_end(&mut text)
            .map_err(&mut *io)?;
    }
    if text.len() as u64 != claimed {
        return Err(Error::ModelFile(ModelFileError::Truncated {
            expected: 8 + claimed,
            found: 8 + text.len() as u64,
        }));
    }
    let text = std::str::from_utf8(&text).map_err(|e| {
        Error::ModelFile(ModelFileError::Format(format!("header is not UTF-8: {e}")))
    })?;
    let mut header = serde_json::from_str::<HeaderJson>(text)
        .map_err(|e| Error::ModelFile(ModelFileError::Format(format!("header: {e}"))))?
        .0;
    header.tensors.sort_by_key(|(_, info)| info.data_offsets);
    // Offsets: contiguous from 0, each tensor exactly as long as its dtype and shape say.
    let mut end = 0usize;
    for (name, info) in &header.tensors {
        let (start, stop) = info.data_offsets;
        if start != end || stop < start {
            return Err(Error::ModelFile(ModelFileError::Format(format!(
                "tensor {name:?} has data offsets {start}..{stop}, but the data before it ends at {end}"
            ))));
        }
        let bytes = info
            .shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .and_then(|n| n.checked_mul(info.dtype.bitsize()))
            .filter(|bits| bits % 8 == 0)
            .map(|bits| bits / 8);
        if bytes != Some(stop - start) {
            return Err(Error::ModelFile(ModelFileError::Format(format!(
                "tensor {name:?} of dtype {} and shape {:?} does not fill its {} data bytes",
                info.dtype,
                info.shape,
                stop - start
            ))));
        }
        end = stop;
    }
    let expected = (8 + claimed).saturating_add(end as u64);
    if total < expected {
        return Err(Error::ModelFile(ModelFileError::Truncated {
            expected,
            found: total,
        }));
    }
    if total > expected {
        return Err(Error::ModelFile(ModelFileError::Oversized {
            expected,
            found: total,
        }));
    }
    Ok(header)
}

/// The header's JSON object: `__metadata__` and the tensor entries, read one by one into a
/// list (no intermediate tree of the whole header).
struct HeaderJson(Header);

impl<'de> serde::Deserialize<'de> for HeaderJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = HeaderJson;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a safetensors header object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<HeaderJson, A::Error> {
                let mut header = Header {
                    metadata: None,
                    tensors: Vec::new(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    if key == "__metadata__" {
                        if header.metadata.is_some() {
                            return Err(serde::de::Error::custom("__metadata__ appears twice"));
                        }
                        header.metadata = Some(map.next_value()?);
                    } else {
                        header.tensors.push((key, map.next_value()?));
                    }
                }
                Ok(HeaderJson(header))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// Where each layer's tensors are in the header and its parameters in the model.
struct Plan {
    /// `(inputs, outputs, activation)` of each layer.
    layers: Vec<(usize, usize, Activation)>,
    /// For each tensor of the header (in offset order): its layer, and whether it is the bias.
    slots: Vec<(u32, bool)>,
    /// Where each layer's parameters start; the last entry is the parameter count.
    starts: Vec<usize>,
}

/// Checks the header against the architecture in its metadata, in time and memory linear in
/// the header: every tensor the architecture needs, with its dtype and shape, and no other.
/// (The metadata is taken out of `header`: it is not needed after this.)
fn plan(header: &mut Header) -> Result<Plan> {
    let (sizes, activations) = architecture(header.metadata.take().as_ref())?;
    let layers = activations.len();
    // Each layer's two tensors, as indices into the header's list (u32::MAX: not there). The
    // header holds the metadata's sizes and activations, at least seven bytes a layer, so this
    // is bounded by the header's size; nothing else is sized by the layer count until every
    // tensor is found.
    let mut found = crate::size::with_capacity::<[u32; 2]>(layers, "layers")?;
    found.resize(layers, [u32::MAX; 2]);
    let mut unexpected: Option<&str> = None;
    for (k, (name, _)) in header.tensors.iter().enumerate() {
        let Some((l, bias)) = parse_name(name).filter(|&(l, _)| l < layers) else {
            unexpected = Some(unexpected.map_or(name.as_str(), |u| u.min(name.as_str())));
            continue;
        };
        let entry = &mut found[l][usize::from(bias)];
        if *entry != u32::MAX {
            return Err(Error::ModelFile(ModelFileError::Format(format!(
                "tensor {name:?} appears twice"
            ))));
        }
        *entry = u32::try_from(k)
            .map_err(|_| Error::ModelFile(ModelFileError::Format("too many tensors".into())))?;
    }
    for (l, pair) in sizes.windows(2).enumerate() {
        let (inputs, outputs) = (pair[0], pair[1]);
        for (bias, expected) in [(false, &[outputs, inputs][..]), (true, &[outputs][..])] {
            let name = || if bias { bias_name(l) } else { weight_name(l) };
            let (_, info) = header
                .tensors
                .get(found[l][usize::from(bias)] as usize)
                .ok_or_else(|| Error::ModelFile(ModelFileError::MissingTensor { name: name() }))?;
            if info.dtype != Dtype::F64 {
                return Err(Error::ModelFile(ModelFileError::TensorDtype {
                    name: name(),
                    found: info.dtype.to_string(),
                }));
            }
            if info.shape != expected {
                return Err(Error::ModelFile(ModelFileError::TensorShape {
                    name: name(),
                    expected: expected.to_vec(),
                    found: info.shape.clone(),
                }));
            }
        }
    }
    if let Some(name) = unexpected {
        return Err(Error::ModelFile(ModelFileError::UnexpectedTensor {
            name: name.into(),
        }));
    }
    // Every tensor is there and as the architecture says; each holds its layer's data.
    let mut slots = crate::size::with_capacity(header.tensors.len(), "tensors")?;
    slots.resize(header.tensors.len(), (0u32, false));
    let mut starts = crate::size::with_capacity(layers + 1, "layers")?;
    starts.push(0usize);
    let mut plan_layers = crate::size::with_capacity(layers, "layers")?;
    for (l, (pair, &activation)) in sizes.windows(2).zip(&activations).enumerate() {
        let (inputs, outputs) = (pair[0], pair[1]);
        for bias in [false, true] {
            slots[found[l][usize::from(bias)] as usize] = (l as u32, bias);
        }
        let count = crate::size::mul("parameters", outputs, inputs + 1)?;
        let last = starts[l];
        starts.push(crate::size::add("parameters", last, count)?);
        plan_layers.push((inputs, outputs, activation));
    }
    Ok(Plan {
        layers: plan_layers,
        slots,
        starts,
    })
}

/// `layers.{l}.weight` or `layers.{l}.bias`, spelled exactly as [`weight_name`] and
/// [`bias_name`] spell them: `(l, is_bias)`.
fn parse_name(name: &str) -> Option<(usize, bool)> {
    let (l, kind) = name.strip_prefix("layers.")?.split_once('.')?;
    let bias = match kind {
        "weight" => false,
        "bias" => true,
        _ => return None,
    };
    let index: usize = l.parse().ok()?;
    (index.to_string() == l).then_some((index, bias))
}

/// Reads the tensors' values, in file order, straight into the parameters of the model `plan`
/// describes, checking that each is finite.
fn read_parameters(
    r: &mut impl Read,
    header: &Header,
    plan: &Plan,
    io: &mut impl FnMut(std::io::Error) -> Error,
) -> Result<Mlp> {
    let count = plan.starts[plan.layers.len()];
    let mut params = crate::size::with_capacity(count, "parameters")?;
    params.resize(count, 0.0);
    let mut chunk = vec![0u8; 1 << 16];
    for ((name, info), &(l, bias)) in header.tensors.iter().zip(&plan.slots) {
        let (inputs, _, _) = plan.layers[l as usize];
        let width = inputs + 1;
        let start = plan.starts[l as usize];
        // Value k of the weight tensor is neuron k / inputs's weight k % inputs; value k of
        // the bias tensor is neuron k's bias, right after its weights.
        let place = |k: usize| {
            if bias {
                start + k * width + inputs
            } else {
                start + (k / inputs) * width + k % inputs
            }
        };
        let mut left = info.data_offsets.1 - info.data_offsets.0;
        let mut k = 0;
        while left > 0 {
            let n = left.min(chunk.len());
            r.read_exact(&mut chunk[..n]).map_err(&mut *io)?;
            for b in chunk[..n].chunks_exact(8) {
                let value = f64::from_le_bytes(b.try_into().unwrap_or([0xff; 8]));
                if !value.is_finite() {
                    return Err(Error::ModelFile(ModelFileError::NonFiniteWeight {
                        name: name.clone(),
                        position: k,
                        value,
                    }));
                }
                params[place(k)] = value;
                k += 1;
            }
            left -= n;
        }
    }
    Mlp::from_layers(&plan.layers, params)
}

/// The file's name and position for parameter `k` of a model with layer sizes `sizes`.
fn non_finite_at(sizes: &[usize], mut k: usize, value: f64) -> Error {
    for (l, pair) in sizes.windows(2).enumerate() {
        let (inputs, outputs) = (pair[0], pair[1]);
        let count = outputs * (inputs + 1);
        if k < count {
            let (neuron, slot) = (k / (inputs + 1), k % (inputs + 1));
            let (name, position) = if slot == inputs {
                (bias_name(l), neuron)
            } else {
                (weight_name(l), neuron * inputs + slot)
            };
            return Error::ModelFile(ModelFileError::NonFiniteWeight {
                name,
                position,
                value,
            });
        }
        k -= count;
    }
    Error::ModelFile(ModelFileError::NonFiniteWeight {
        name: String::new(),
        position: k,
        value,
    })
}

fn weight_name(l: usize) -> String {
    format!("layers.{l}.weight")
}

fn bias_name(l: usize) -> String {
    format!("layers.{l}.bias")
}

/// Checks the metadata and returns the layer sizes and per-layer activations.
fn architecture(meta: Option<&HashMap<String, String>>) -> Result<(Vec<usize>, Vec<Activation>)> {
    let meta = meta.ok_or_else(|| {
        Error::ModelFile(ModelFileError::Metadata("the file has no metadata".into()))
    })?;
    let get = |key: &str| {
        meta.get(key).ok_or_else(|| {
            Error::ModelFile(ModelFileError::Metadata(format!("key {key:?} is missing")))
        })
    };
    let format = get("format")?;
    if format != MODEL_FORMAT {
        return Err(Error::ModelFile(ModelFileError::Metadata(format!(
            "format is {format:?}, expected {MODEL_FORMAT:?}"
        ))));
    }
    let version = get("format_version")?;
    if version.parse::<u32>() != Ok(MODEL_FORMAT_VERSION) {
        return Err(Error::ModelFile(ModelFileError::Version {
            found: version.clone(),
            supported: MODEL_FORMAT_VERSION,
        }));
    }
    let sizes_text = get("sizes")?;
    // Every layer has at least one neuron; the input size may be 0 (a model of neurons with
    // no weights, `Mlp::from(Neuron::new(vec![], b, act))`, is a constant and saves as such).
    let sizes = sizes_text
        .split(',')
        .enumerate()
        .map(|(k, s)| s.trim().parse::<usize>().ok().filter(|&n| n > 0 || k == 0))
        .collect::<Option<Vec<usize>>>()
        .filter(|s| s.len() >= 2)
        .ok_or_else(|| {
            Error::ModelFile(ModelFileError::Metadata(format!(
                "sizes {sizes_text:?} is not a list of at least two integers, positive after the first"
            )))
        })?;
    let acts_text = get("activations")?;
    let activations = acts_text
        .split(',')
        .map(|name| match name.trim() {
            "sigmoid" => Ok(Activation::Sigmoid),
            "tanh" => Ok(Activation::Tanh),
            "relu" => Ok(Activation::Relu),
            "identity" => Ok(Activation::Identity),
            other => Err(Error::ModelFile(ModelFileError::Metadata(format!(
                "unknown activation {other:?}"
            )))),
        })
        .collect::<Result<Vec<_>>>()?;
    if activations.len() != sizes.len() - 1 {
        return Err(Error::ModelFile(ModelFileError::Metadata(format!(
            "{} activations for {} layers",
            activations.len(),
            sizes.len() - 1
        ))));
    }
    Ok((sizes, activations))
}
