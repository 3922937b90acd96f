//! The crate's one error type.
//!
//! Scalar ops never fail (they follow IEEE 754, see the [numerics table](crate::numerics)); everything that takes
//! user data, shapes or hyperparameters returns [`Result`] instead of panicking.

/// Everything that can go wrong with user-supplied data, shapes and hyperparameters.
///
/// Messages are lowercase and carry the numbers needed to find the problem.
///
/// ```
/// use tapegrad::{Activation, Error, Mlp};
/// let model = Mlp::zeros(&[2, 1], Activation::Identity, Activation::Identity)?;
/// let err = model.predict(&[1.0, 2.0, 3.0]).unwrap_err();
/// assert_eq!(err, Error::InputSize { expected: 2, found: 3 });
/// assert_eq!(err.to_string(), "input has 3 values but the model takes 2");
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input's length differs from the model's input size.
    #[error("input has {found} values but the model takes {expected}")]
    InputSize {
        /// The model's input size.
        expected: usize,
        /// The input's length.
        found: usize,
    },

    /// Targets and outputs have different lengths.
    #[error("{targets} targets given for {outputs} outputs")]
    TargetSize {
        /// Number of outputs (of the model, or passed to a loss).
        outputs: usize,
        /// Number of targets.
        targets: usize,
    },

    /// A dataset sample's inputs or targets have a different length than the first sample's.
    #[error("sample {sample} has {found} {what} but sample 0 has {expected}")]
    RaggedSample {
        /// Index of the offending sample.
        sample: usize,
        /// `"inputs"` or `"targets"`.
        what: &'static str,
        /// Length in sample 0.
        expected: usize,
        /// Length in this sample.
        found: usize,
    },

    /// A dataset has a different number of input rows and target rows.
    #[error("dataset has {inputs} input rows but {targets} target rows")]
    DatasetLength {
        /// Number of input rows.
        inputs: usize,
        /// Number of target rows.
        targets: usize,
    },

    /// A range of samples is empty or reaches past the end of the dataset.
    #[error("samples {start}..{end} are not a non-empty range within the dataset's {len} samples")]
    SampleRange {
        /// First sample of the range.
        start: usize,
        /// One past the last sample of the range.
        end: usize,
        /// Number of samples in the dataset.
        len: usize,
    },

    /// A dataset value is NaN or infinite.
    #[error("sample {sample} has a non-finite {what} value {value} at position {position}")]
    NonFiniteData {
        /// Index of the offending sample.
        sample: usize,
        /// `"input"` or `"target"`.
        what: &'static str,
        /// Position within the sample's inputs or targets.
        position: usize,
        /// The value.
        value: f64,
    },

    /// A target does not suit the loss: not -1/+1 for the hinge loss, outside [0, 1] for
    /// binary cross-entropy, not finite for MSE.
    #[error("sample {sample} has target {value} at position {position}, but {requirement}")]
    InvalidTarget {
        /// Index of the offending sample (0 for a single loss call).
        sample: usize,
        /// Position within the sample's targets.
        position: usize,
        /// The target.
        value: f64,
        /// What the loss needs, e.g. `"the hinge loss needs -1 or +1"`.
        requirement: &'static str,
    },

    /// A cross-entropy target row is not a single class index below the number of outputs.
    #[error(
        "sample {sample} has targets {found}, but cross-entropy over {classes} outputs needs \
         one target: the class index, a whole number from 0 to {last}",
        last = .classes.saturating_sub(1)
    )]
    ClassTarget {
        /// Index of the offending sample (0 for a single loss call).
        sample: usize,
        /// The target row as written, e.g. `"[10]"` or `"[0, 1, 0]"` (long rows shortened).
        found: String,
        /// Number of outputs (classes).
        classes: usize,
    },

    /// A dataset, a loss's outputs (or batch), or `l2`'s parameters are empty.
    #[error("dataset is empty")]
    EmptyDataset,

    /// A hyperparameter is out of range (learning rate not finite or <= 0, batch size 0, ...).
    #[error("{name} must be {requirement}, got {value}")]
    InvalidHyperparameter {
        /// The hyperparameter's name, e.g. `"learning rate"`.
        name: &'static str,
        /// What it must be, e.g. `"finite and > 0"`.
        requirement: &'static str,
        /// The value given.
        value: f64,
    },

    /// A network's shape is unusable (fewer than two sizes, a zero width, parameter counts or
    /// layer sizes that do not fit together).
    #[error("invalid architecture: {0}")]
    Architecture(String),

    /// A parameter vector of the wrong length was given.
    #[error("{found} parameters given for a model with {expected}")]
    ParameterCount {
        /// The model's parameter count.
        expected: usize,
        /// The number given.
        found: usize,
    },

    /// A parameter given to a model is NaN or infinite.
    #[error("parameter {index} is {value}, but parameters must be finite")]
    InvalidParameter {
        /// Index of the parameter, in `parameters()` order.
        index: usize,
        /// The value.
        value: f64,
    },

    /// The loss became NaN or infinite during training. Training stopped before the step that
    /// would have used it, so the model holds its last finite parameters.
    #[error(
        "loss is {loss} at epoch {epoch}, sample {sample}; \
         training stopped with the model at its last finite parameters"
    )]
    NonFiniteLoss {
        /// Epoch (from 0).
        epoch: usize,
        /// Index of the first sample of the step (from 0).
        sample: usize,
        /// The loss value.
        loss: f64,
    },

    /// An optimizer that keeps per-parameter state (momentum, Adam's moments) was given a
    /// model of another size than the one it stepped before.
    #[error(
        "the optimizer keeps state for {expected} parameters but was given {found}; \
         use one optimizer per model"
    )]
    OptimizerState {
        /// Parameters the optimizer's state is sized for.
        expected: usize,
        /// Parameters given.
        found: usize,
    },

    /// A learning-rate [`Schedule`](crate::Schedule) gave a rate that is not finite or is
    /// negative; the step was not applied.
    #[error("the learning-rate schedule gives {rate} at step {step}, but a rate must be finite and >= 0")]
    InvalidSchedule {
        /// The optimizer step (from 0).
        step: usize,
        /// The rate the schedule gave.
        rate: f64,
    },

    /// A value given for prediction or a recorded forward pass is NaN or infinite.
    #[error("input has a non-finite value {value} at position {position}")]
    NonFiniteInput {
        /// Position within the input.
        position: usize,
        /// The value.
        value: f64,
    },

    /// Memory for a model, dataset or buffer of the size asked for could not be allocated
    /// (or its size does not fit in `usize`); nothing was changed.
    #[error("cannot allocate memory for {count} {what}")]
    Allocation {
        /// What was being allocated, e.g. `"parameters"`.
        what: &'static str,
        /// How many of them.
        count: usize,
    },

    /// The operating system could not start the threads of a
    /// [`BatchGradient`](crate::BatchGradient).
    #[cfg(feature = "parallel")]
    #[error("could not start the gradient threads: {0}")]
    ThreadPool(String),

    /// A gradient or an updated parameter would be NaN or infinite. The step was not applied,
    /// so the model holds its last finite parameters.
    #[error(
        "parameter {parameter} would become non-finite at epoch {epoch}, sample {sample}; \
         training stopped with the model at its last finite parameters"
    )]
    NonFiniteUpdate {
        /// Epoch (from 0).
        epoch: usize,
        /// Index of the first sample of the step (from 0).
        sample: usize,
        /// Index of the parameter, in `parameters()` order.
        parameter: usize,
    },

    /// An optimizer step would make a parameter (or the optimizer's state for it) NaN or
    /// infinite; nothing was changed.
    #[error("parameter {parameter} would become non-finite; the step was not applied")]
    NonFiniteParameter {
        /// Index of the first such parameter, in `parameters()` order.
        parameter: usize,
    },

    /// An optimizer step was given a different number of gradients than parameters.
    #[error("{gradients} gradients given for {parameters} parameters")]
    GradientCount {
        /// Number of parameters.
        parameters: usize,
        /// Number of gradients.
        gradients: usize,
    },

    /// [`TrainConfig::restore_best`](crate::TrainConfig::restore_best) was asked for without
    /// validation data to judge by.
    #[error("restoring the best parameters needs validation data (Trainer::with_validation)")]
    NoValidation,

    /// A graph export needs each node's op and value, which only a [`Tape::traced`] tape keeps.
    ///
    /// [`Tape::traced`]: crate::Tape::traced
    #[error("graph export needs a traced tape (made with Tape::traced); this tape keeps no ops or values")]
    UntracedTape,

    /// Gradients given to a graph export come from another tape or from before a `clear`.
    #[error("these gradients were not computed on this recording of the exported value's tape")]
    ForeignGradients,

    /// A model file could not be read or written, or its bytes are not a model this build
    /// reads: [`ModelFileError`] says which.
    #[cfg(feature = "safetensors")]
    #[error(transparent)]
    ModelFile(#[from] ModelFileError),

    /// [`gradcheck`](crate::check::gradcheck)'s function is NaN or infinite at the point, so
    /// there is no gradient to check.
    #[error("gradcheck: the function is {value} at {point:?}; pick a point where it is finite")]
    NonFiniteFunction {
        /// The function's value.
        value: f64,
        /// The point it was evaluated at.
        point: Vec<f64>,
    },

    /// [`gradcheck`](crate::check::gradcheck) was given a point with no coordinates.
    #[error("gradcheck: the point has no inputs to check")]
    EmptyPoint,

    /// [`Value::grad`](crate::Value::grad) was called on a tape that keeps no ops or values.
    #[error("Value::grad needs a tape made with Tape::traced: it re-records each node's derivative from the node's op and values, which only a traced tape keeps")]
    GradNeedsTrace,

    /// [`Value::grad`](crate::Value::grad) met a node whose derivative it cannot record as
    /// tape ops (a custom op's partials are plain numbers; fused layers and losses have no
    /// recordable rule yet).
    #[error("node {node} ({op}) has no derivative recordable on the tape, so it cannot be differentiated twice; build it from scalar ops (Bound::forward_unfused, or the loss written out) instead")]
    NoSecondDerivative {
        /// The node's op name, as [`Op::name`](crate::Op::name).
        op: &'static str,
        /// The node's index on its tape.
        node: usize,
    },

    /// A direction or second point has a different length than the point.
    #[error("the direction has {found} values but the point has {expected}")]
    DirectionSize {
        /// The point's length.
        expected: usize,
        /// The direction's length.
        found: usize,
    },
}

/// What went wrong with a model file: [`Error::ModelFile`] holds one.
///
/// Loading checks the file's length against its header, the header itself, the metadata, and
/// every tensor's presence, dtype, shape and values, each with its own variant.
///
/// ```
/// use tapegrad::{Error, ModelFileError, Mlp};
/// let err = Mlp::from_safetensors(b"\x10\0\0\0\0\0\0\0{}").unwrap_err();
/// let expected = ModelFileError::HeaderTooLarge { claimed: 16, available: 2 };
/// assert_eq!(err, Error::ModelFile(expected));
/// assert_eq!(err.to_string(), "model file header claims 16 bytes but only 2 are available");
/// ```
#[cfg(feature = "safetensors")]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelFileError {
    /// Reading or writing the file failed at the operating-system level.
    #[error(transparent)]
    Io(ModelIoError),

    /// The file ends before the data its header describes (or before the 8-byte header
    /// length).
    #[error("model file is truncated: {expected} bytes expected, {found} found")]
    Truncated {
        /// Bytes the file should have.
        expected: u64,
        /// Bytes it has.
        found: u64,
    },

    /// The file has bytes after the data its header describes.
    #[error("model file is oversized: {expected} bytes expected, {found} found")]
    Oversized {
        /// Bytes the file should have.
        expected: u64,
        /// Bytes it has.
        found: u64,
    },

    /// The file is not in the safetensors format at all: the byte after the 8-byte header
    /// length is not the `{` that starts the JSON header.
    #[error(
        "not a safetensors model file: byte 8 should start its JSON header with '{{', found {found:#04x}"
    )]
    NotSafetensors {
        /// The byte found there.
        found: u8,
    },

    /// The header length claims more bytes than the file holds (or more than the format's
    /// 100 MB header limit); nothing that large is allocated.
    #[error("model file header claims {claimed} bytes but only {available} are available")]
    HeaderTooLarge {
        /// The header length written in the file's first 8 bytes.
        claimed: u64,
        /// Bytes available for it: those after the length, and at most the format's 100 MB.
        available: u64,
    },

    /// The header is not valid safetensors (bad JSON, overlapping offsets, ...).
    #[error("model file is not valid safetensors: {0}")]
    Format(String),

    /// The file says it is of a format version this build does not know.
    #[error("model file has format version {found:?} but this build reads version {supported}")]
    Version {
        /// The version found (as written in the metadata).
        found: String,
        /// The version this build reads.
        supported: u32,
    },

    /// The metadata (architecture) is missing or malformed.
    #[error("model file metadata: {0}")]
    Metadata(String),

    /// A tensor the architecture needs is not in the file.
    #[error("model file has no tensor {name:?}")]
    MissingTensor {
        /// The tensor's name, e.g. `"layers.0.weight"`.
        name: String,
    },

    /// The file holds a tensor the architecture has no place for.
    #[error("model file has an unexpected tensor {name:?}")]
    UnexpectedTensor {
        /// The tensor's name.
        name: String,
    },

    /// A tensor has a dtype other than F64.
    #[error("tensor {name:?} has dtype {found} but models are stored as F64")]
    TensorDtype {
        /// The tensor's name.
        name: String,
        /// The dtype found, e.g. `"F32"`.
        found: String,
    },

    /// A tensor's shape disagrees with the architecture in the metadata.
    #[error("tensor {name:?} has shape {found:?} but the architecture needs {expected:?}")]
    TensorShape {
        /// The tensor's name.
        name: String,
        /// The shape the metadata implies.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },

    /// A weight or bias is NaN or infinite.
    #[error("tensor {name:?} has a non-finite value {value} at flat position {position}")]
    NonFiniteWeight {
        /// The tensor's name.
        name: String,
        /// Row-major position within the tensor.
        position: usize,
        /// The value.
        value: f64,
    },
}

/// Reading or writing a model file failed at the operating-system level: the step, the file,
/// and the operating system's [`std::io::Error`] as the error's
/// [`source`](std::error::Error::source).
///
/// The message names the step and the file; the operating system's reason is the source (print
/// the chain, or ask [`kind`](ModelIoError::kind)). Two of these are equal when step, file and
/// [`ErrorKind`](std::io::ErrorKind) agree (an `io::Error` itself has no equality); clones
/// share the one `io::Error`.
///
/// ```
/// use std::error::Error as _;
/// use tapegrad::{Error, ModelFileError, Mlp};
/// let err = Mlp::load("no/such/model.safetensors").unwrap_err();
/// let Error::ModelFile(ModelFileError::Io(err)) = err else { panic!("{err:?}") };
/// assert_eq!((err.action(), err.kind()), ("read", std::io::ErrorKind::NotFound));
/// assert_eq!(err.to_string(), "cannot read model file no/such/model.safetensors");
/// let os = err.source().unwrap().downcast_ref::<std::io::Error>().unwrap();
/// assert_eq!(os.kind(), std::io::ErrorKind::NotFound);
/// ```
#[cfg(feature = "safetensors")]
#[derive(Debug, Clone)]
pub struct ModelIoError {
    action: &'static str,
    path: std::path::PathBuf,
    source: std::sync::Arc<std::io::Error>,
}

#[cfg(feature = "safetensors")]
impl ModelIoError {
    pub(crate) fn new(
        action: &'static str,
        path: &std::path::Path,
        source: std::io::Error,
    ) -> Self {
        ModelIoError {
            action,
            path: path.to_path_buf(),
            source: std::sync::Arc::new(source),
        }
    }

    /// The step that failed: `"read"`, `"follow"` (a symbolic link), `"inspect"`, `"replace"`
    /// (a path that is not a regular file), `"create"`, `"set permissions of"`, `"write"`,
    /// `"flush"`, `"sync"` or `"rename"`.
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The file (while saving, possibly its temporary file beside the target).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The operating system's error kind, e.g. [`NotFound`](std::io::ErrorKind::NotFound).
    pub fn kind(&self) -> std::io::ErrorKind {
        self.source.kind()
    }
}

#[cfg(feature = "safetensors")]
impl std::fmt::Display for ModelIoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot {} model file {}",
            self.action,
            self.path.display()
        )
    }
}

#[cfg(feature = "safetensors")]
impl std::error::Error for ModelIoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

#[cfg(feature = "safetensors")]
impl PartialEq for ModelIoError {
    fn eq(&self, other: &Self) -> bool {
        self.action == other.action && self.path == other.path && self.kind() == other.kind()
    }
}

#[cfg(feature = "safetensors")]
impl From<ModelIoError> for Error {
    fn from(e: ModelIoError) -> Self {
        Error::ModelFile(ModelFileError::Io(e))
    }
}

/// `Result` with this crate's [`Error`].
///
/// ```
/// fn check(lr: f64) -> tapegrad::Result<tapegrad::Sgd> { tapegrad::Sgd::new(lr) }
/// assert!(check(0.1).is_ok());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;
