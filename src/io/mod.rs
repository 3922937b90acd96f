//! Model files: an [`Mlp`](crate::Mlp) saved to and loaded from the [safetensors] format.
//!
//! A file holds, for each layer `l` (from 0), two little-endian `F64` tensors:
//!
//! | tensor | shape | contents |
//! |---|---|---|
//! | `layers.{l}.weight` | `[outputs, inputs]` | row `j` is neuron `j`'s weights, row-major |
//! | `layers.{l}.bias` | `[outputs]` | each neuron's bias |
//!
//! and the architecture in the file's string metadata (`__metadata__`):
//!
//! | key | example | meaning |
//! |---|---|---|
//! | `format` | `tapegrad.mlp` | what the file holds |
//! | `format_version` | `1` | this layout; other versions are refused |
//! | `sizes` | `2,2,1` | layer sizes, inputs first |
//! | `activations` | `sigmoid,sigmoid` | one per layer: `sigmoid`, `tanh`, `relu`, `identity` |
//!
//! So PyTorch (`safetensors.torch.load_file`) and NumPy (`safetensors.numpy.load_file`) read the
//! weights directly: layer `l` computes `act(W @ x + b)`, as in `torch.nn.Linear`.
//! [`Neuron`](crate::Neuron) and [`Layer`](crate::Layer) are saved by converting them into an
//! `Mlp` (`Mlp::from(layer)`).
//!
//! Loading trusts nothing: the file's length against its header, the header's JSON and offsets,
//! the metadata, every tensor's presence, dtype and shape, and every value's finiteness are
//! checked, each failure with its own [`ModelFileError`](crate::ModelFileError) variant. Nothing is allocated beyond what the
//! file's own bytes justify. Saving writes a temporary file in the same directory, syncs it, and
//! renames it over the target, so a crash leaves either the old file or the new one.
//!
//! ```
//! use tapegrad::{Activation, Error, ModelFileError, Mlp};
//! let model = Mlp::zeros(&[2, 3, 1], Activation::Tanh, Activation::Identity)?;
//! let bytes = model.to_safetensors()?;
//! assert_eq!(Mlp::from_safetensors(&bytes)?, model);
//! let cut = &bytes[..bytes.len() - 1];
//! let err = Mlp::from_safetensors(cut).unwrap_err();
//! assert!(matches!(err, Error::ModelFile(ModelFileError::Truncated { .. })));
//! # Ok::<(), Error>(())
//! ```
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

mod safetensors;

pub use safetensors::{MODEL_FORMAT, MODEL_FORMAT_VERSION};
