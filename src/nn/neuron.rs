use super::dense::{predict_stack, Scratch, Shape};
use super::{Activation, Bound};
use crate::engine::Tape;
use crate::error::Result;

/// One neuron: `activation(b + w . x)`, the seed's building block.
///
/// ```
/// use tapegrad::{Activation, Neuron};
/// // The seed's example: w = [0, 1], b = 4, x = [2, 3] gives f(7).
/// let neuron = Neuron::new(vec![0.0, 1.0], 4.0, Activation::Sigmoid);
/// assert_eq!(neuron.predict(&[2.0, 3.0])?, 0.9990889488055994);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Neuron {
    pub(super) shape: [Shape; 1],
    pub(super) params: Vec<f64>,
}

impl Neuron {
    /// A neuron with these weights (one per input) and bias.
    ///
    /// ```
    /// let n = tapegrad::Neuron::new(vec![1.0, 2.0], 0.5, tapegrad::Activation::Relu);
    /// assert_eq!(n.weights(), &[1.0, 2.0]);
    /// assert_eq!(n.bias(), 0.5);
    /// ```
    #[must_use]
    pub fn new(weights: Vec<f64>, bias: f64, activation: Activation) -> Self {
        let inputs = weights.len();
        let mut params = weights;
        params.push(bias);
        Neuron {
            shape: [Shape {
                inputs,
                outputs: 1,
                activation,
            }],
            params,
        }
    }

    /// The weights, one per input.
    #[must_use]
    pub fn weights(&self) -> &[f64] {
        &self.params[..self.shape[0].inputs]
    }

    /// The bias.
    #[must_use]
    pub fn bias(&self) -> f64 {
        self.params[self.shape[0].inputs]
    }

    /// The activation.
    #[must_use]
    pub fn activation(&self) -> Activation {
        self.shape[0].activation
    }

    /// The parameters: the weights, then the bias.
    ///
    /// ```
    /// let n = tapegrad::Neuron::new(vec![1.0, 2.0], 3.0, tapegrad::Activation::Identity);
    /// assert_eq!(n.parameters(), &[1.0, 2.0, 3.0]);
    /// ```
    #[must_use]
    pub fn parameters(&self) -> &[f64] {
        &self.params
    }

    /// The parameters, mutably (weights then bias).
    pub fn parameters_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }

    /// Plain-`f64` output for one input.
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`](crate::Error::InputSize) if `x` does not have one value per weight,
    /// [`Error::NonFiniteInput`](crate::Error::NonFiniteInput) naming the first NaN or infinite
    /// value.
    ///
    /// ```
    /// let n = tapegrad::Neuron::new(vec![1.0, 1.0], 0.0, tapegrad::Activation::Identity);
    /// assert_eq!(n.predict(&[2.0, 3.0])?, 5.0);
    /// assert!(n.predict(&[2.0]).is_err());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        let mut s = Scratch::default();
        predict_stack(&self.shape, &self.params, x, &mut s)?;
        Ok(s.output_values()[0])
    }

    /// Binds the parameters onto `tape` for a recorded forward pass.
    ///
    /// ```
    /// use tapegrad::{Activation, Neuron, Tape};
    /// let n = Neuron::new(vec![2.0], 1.0, Activation::Identity);
    /// let tape = Tape::new();
    /// let bound = n.bind(&tape);
    /// let y = bound.forward(&[5.0])?[0];
    /// assert_eq!(bound.gradients(&y.backward()), &[5.0, 1.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn bind<'t, 'm>(&'m self, tape: &'t Tape) -> Bound<'t, 'm> {
        Bound::new(tape, &self.shape, &self.params)
    }
}
