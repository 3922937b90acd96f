//! Building an MLP layer by layer, each layer with its own activation.

use super::dense::Shape;
use super::mlp::random_init;
use super::{Activation, Mlp, ParamSlot};
use crate::error::{Error, Result};
use smallvec::SmallVec;

/// Lists an MLP's layers one by one, each with its own width and activation; made by
/// [`Mlp::builder`]. Nothing is checked until the model is made.
///
/// ```
/// use rand::{rngs::StdRng, SeedableRng};
/// use tapegrad::{Activation, Mlp};
/// let model = Mlp::builder(64)
///     .dense(32, Activation::Tanh)
///     .dense(16, Activation::Relu)
///     .dense(10, Activation::Identity)
///     .random(&mut StdRng::seed_from_u64(1))?;
/// assert_eq!(model.sizes(), [64, 32, 16, 10]);
/// assert_eq!(model.activations(), [Activation::Tanh, Activation::Relu, Activation::Identity]);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct MlpBuilder {
    inputs: usize,
    layers: SmallVec<[(usize, Activation); 4]>,
}

impl Mlp {
    /// Starts an MLP that takes `inputs` values; add layers with [`MlpBuilder::dense`].
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp};
    /// let m = Mlp::builder(2).dense(1, Activation::Sigmoid).zeros()?;
    /// assert_eq!(m.predict(&[3.0, 4.0])?, vec![0.5]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn builder(inputs: usize) -> MlpBuilder {
        MlpBuilder {
            inputs,
            layers: SmallVec::new(),
        }
    }
}

impl MlpBuilder {
    /// Adds a dense layer of `outputs` neurons with `activation`, fed by the previous layer
    /// (or the inputs).
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp};
    /// let m = Mlp::builder(3).dense(4, Activation::Relu).dense(2, Activation::Tanh).zeros()?;
    /// assert_eq!(m.parameter_count(), 4 * (3 + 1) + 2 * (4 + 1));
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn dense(mut self, outputs: usize, activation: Activation) -> Self {
        self.layers.push((outputs, activation));
        self
    }

    /// The model with each parameter from `init`, called once per parameter in
    /// [`Mlp::parameters`] order (as [`Mlp::with_init`]).
    ///
    /// # Errors
    ///
    /// [`Error::Architecture`] if there is no layer, or the inputs or a layer have size 0;
    /// [`Error::Allocation`] if the parameter count overflows `usize` or the parameters cannot
    /// be allocated.
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp};
    /// let m = Mlp::builder(2).dense(1, Activation::Identity).with_init(|s| s.fan_in as f64)?;
    /// assert_eq!(m.parameters(), &[2.0, 2.0, 2.0]);
    /// assert!(Mlp::builder(2).zeros().is_err()); // no layer
    /// assert!(Mlp::builder(0).dense(1, Activation::Identity).zeros().is_err());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn with_init(&self, init: impl FnMut(ParamSlot) -> f64) -> Result<Mlp> {
        Mlp::init_shapes(self.shapes()?, init)
    }

    /// The model with every parameter 0.
    ///
    /// # Errors
    ///
    /// As [`MlpBuilder::with_init`].
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp};
    /// let m = Mlp::builder(1).dense(1, Activation::Identity).zeros()?;
    /// assert_eq!(m.parameters(), &[0.0, 0.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn zeros(&self) -> Result<Mlp> {
        self.with_init(|_| 0.0)
    }

    /// The model with random parameters from the caller's generator, as [`Mlp::random`]:
    /// weights uniform in `[-1, 1) / sqrt(fan_in)`, biases 0.
    ///
    /// # Errors
    ///
    /// As [`MlpBuilder::with_init`].
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use tapegrad::{Activation, Mlp};
    /// let built = Mlp::builder(2).dense(3, Activation::Tanh).dense(1, Activation::Identity)
    ///     .random(&mut StdRng::seed_from_u64(5))?;
    /// let same = Mlp::random(&[2, 3, 1], Activation::Tanh, Activation::Identity,
    ///     &mut StdRng::seed_from_u64(5))?;
    /// assert_eq!(built, same);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn random<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Result<Mlp> {
        self.with_init(random_init(rng))
    }

    /// The model with these parameters, in [`Mlp::parameters`] order.
    ///
    /// # Errors
    ///
    /// As [`MlpBuilder::with_init`]; [`Error::ParameterCount`] if `params` has the wrong
    /// length, [`Error::InvalidParameter`] if one is NaN or infinite.
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp};
    /// let m = Mlp::builder(1).dense(1, Activation::Relu).from_parameters(&[2.0, -1.0])?;
    /// assert_eq!(m.predict(&[3.0])?, vec![5.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn from_parameters(&self, params: &[f64]) -> Result<Mlp> {
        let mut m = self.zeros()?;
        m.set_parameters(params)?;
        Ok(m)
    }

    fn shapes(&self) -> Result<SmallVec<[Shape; 4]>> {
        if self.layers.is_empty() {
            return Err(Error::Architecture(
                "an MLP needs at least one layer: add one with dense".into(),
            ));
        }
        if self.inputs == 0 {
            return Err(Error::Architecture("the input size is zero".into()));
        }
        if let Some(l) = self.layers.iter().position(|&(n, _)| n == 0) {
            return Err(Error::Architecture(format!("layer {l} has zero outputs")));
        }
        let mut inputs = self.inputs;
        Ok(self
            .layers
            .iter()
            .map(|&(outputs, activation)| {
                let shape = Shape {
                    inputs,
                    outputs,
                    activation,
                };
                inputs = outputs;
                shape
            })
            .collect())
    }
}
