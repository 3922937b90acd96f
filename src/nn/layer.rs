use super::dense::{predict_stack, Scratch, Shape};
use super::{Activation, Bound, Neuron};
use crate::engine::Tape;
use crate::error::{Error, Result};

/// A dense layer: `outputs` neurons over the same `inputs`, with one activation.
///
/// ```
/// use tapegrad::{Activation, Layer, Neuron};
/// let layer = Layer::new(vec![
///     Neuron::new(vec![0.0, 1.0], 0.0, Activation::Sigmoid),
///     Neuron::new(vec![0.0, 1.0], 0.0, Activation::Sigmoid),
/// ])?;
/// assert_eq!((layer.inputs(), layer.outputs()), (2, 2));
/// assert_eq!(layer.predict(&[2.0, 3.0])?, vec![0.9525741268224334; 2]);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub(super) shape: [Shape; 1],
    pub(super) params: Vec<f64>,
}

impl Layer {
    /// A layer made of these neurons.
    ///
    /// # Errors
    ///
    /// [`Error::Architecture`] if there are no neurons, or they differ in input count or
    /// activation.
    ///
    /// ```
    /// use tapegrad::{Activation, Layer, Neuron};
    /// let a = Neuron::new(vec![1.0], 0.0, Activation::Relu);
    /// let b = Neuron::new(vec![1.0, 2.0], 0.0, Activation::Relu);
    /// assert!(Layer::new(vec![a, b]).is_err());
    /// ```
    pub fn new(neurons: Vec<Neuron>) -> Result<Self> {
        let first = neurons
            .first()
            .ok_or_else(|| Error::Architecture("a layer needs at least one neuron".into()))?
            .shape[0];
        let mut params = Vec::with_capacity(neurons.len() * (first.inputs + 1));
        for (j, n) in neurons.iter().enumerate() {
            let s = n.shape[0];
            if s.inputs != first.inputs || s.activation != first.activation {
                return Err(Error::Architecture(format!(
                    "neuron {j} has {} inputs and {} activation but neuron 0 has {} and {}",
                    s.inputs, s.activation, first.inputs, first.activation
                )));
            }
            params.extend_from_slice(&n.params);
        }
        Ok(Layer {
            shape: [Shape {
                inputs: first.inputs,
                outputs: neurons.len(),
                activation: first.activation,
            }],
            params,
        })
    }

    /// Number of inputs.
    #[must_use]
    pub fn inputs(&self) -> usize {
        self.shape[0].inputs
    }

    /// Number of neurons (outputs).
    #[must_use]
    pub fn outputs(&self) -> usize {
        self.shape[0].outputs
    }

    /// The activation.
    #[must_use]
    pub fn activation(&self) -> Activation {
        self.shape[0].activation
    }

    /// Neuron `j` (a copy), or `None` if there is no such neuron.
    ///
    /// ```
    /// # use tapegrad::{Activation, Layer, Neuron};
    /// let n = Neuron::new(vec![1.0, 2.0], 3.0, Activation::Tanh);
    /// let layer = Layer::new(vec![n.clone()])?;
    /// assert_eq!(layer.neuron(0), Some(n));
    /// assert_eq!(layer.neuron(1), None);
    /// assert_eq!(layer.neuron(usize::MAX), None);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn neuron(&self, j: usize) -> Option<Neuron> {
        let width = self.inputs() + 1;
        let start = j.checked_mul(width)?;
        let p = self.params.get(start..start.checked_add(width)?)?;
        Some(Neuron::new(
            p[..width - 1].to_vec(),
            p[width - 1],
            self.activation(),
        ))
    }

    /// The parameters, neuron by neuron (weights then bias).
    #[must_use]
    pub fn parameters(&self) -> &[f64] {
        &self.params
    }

    /// Plain-`f64` outputs for one input.
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] if `x` does not have the layer's input size,
    /// [`Error::NonFiniteInput`] naming the first NaN or infinite value.
    ///
    /// ```
    /// # use tapegrad::{Activation, Layer, Neuron};
    /// let layer = Layer::new(vec![Neuron::new(vec![2.0], 1.0, Activation::Identity)])?;
    /// assert_eq!(layer.predict(&[3.0])?, vec![7.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn predict(&self, x: &[f64]) -> Result<Vec<f64>> {
        let mut s = Scratch::default();
        predict_stack(&self.shape, &self.params, x, &mut s)?;
        Ok(s.output_values().to_vec())
    }

    /// Binds the parameters onto `tape` for a recorded forward pass.
    ///
    /// ```
    /// # use tapegrad::{Activation, Layer, Neuron, Tape};
    /// let layer = Layer::new(vec![Neuron::new(vec![2.0], 1.0, Activation::Identity)])?;
    /// let tape = Tape::new();
    /// let y = layer.bind(&tape).forward(&[3.0])?;
    /// assert_eq!(y[0].value(), 7.0);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn bind<'t, 'm>(&'m self, tape: &'t Tape) -> Bound<'t, 'm> {
        Bound::new(tape, &self.shape, &self.params)
    }
}
