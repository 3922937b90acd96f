//! The crate's one error type.
//!
//! Scalar ops never fail (they follow IEEE 754, see [`ops`](crate::ops)); everything that takes
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

    /// A dataset (or a loss's batch) has no samples.
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
}

/// `Result` with this crate's [`Error`].
///
/// ```
/// fn check(lr: f64) -> tapegrad::Result<tapegrad::Sgd> { tapegrad::Sgd::new(lr) }
/// assert!(check(0.1).is_ok());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;
