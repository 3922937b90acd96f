use super::dense::{predict_stack, Leaves, Scratch, Shape};
use super::{Activation, Bound, Layer, Neuron};
use crate::engine::Tape;
use crate::error::{Error, Result};
use smallvec::SmallVec;
use std::fmt;

/// Where a parameter sits, as passed to an [`Mlp::with_init`] initialiser.
///
/// ```
/// use tapegrad::{Activation, Mlp};
/// // Weights 1/fan-in, biases 0.
/// let m = Mlp::with_init(&[4, 1], Activation::Identity, Activation::Identity, |slot| {
///     if slot.is_bias() { 0.0 } else { 1.0 / slot.fan_in as f64 }
/// })?;
/// assert_eq!(m.parameters(), &[0.25, 0.25, 0.25, 0.25, 0.0]);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParamSlot {
    /// Layer index (from 0).
    pub layer: usize,
    /// Neuron index within the layer.
    pub neuron: usize,
    /// Input index for a weight, `None` for the bias.
    pub input: Option<usize>,
    /// The layer's number of inputs.
    pub fan_in: usize,
}

impl ParamSlot {
    /// Whether this is a bias (`input` is `None`).
    #[must_use]
    pub fn is_bias(&self) -> bool {
        self.input.is_none()
    }
}

/// A multi-layer perceptron: dense layers, each with its own activation. [`Mlp::builder`] lists
/// the layers one by one; the constructors taking `sizes` give every hidden layer one
/// activation and the output layer another.
///
/// ```
/// use tapegrad::{Activation, Mlp};
/// // The seed's 2-2-1 network with every neuron w = [0, 1], b = 0, on x = [2, 3].
/// let params = [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0];
/// let net = Mlp::from_parameters(&[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid, &params)?;
/// assert_eq!(net.predict(&[2.0, 3.0])?, vec![0.7216325609518421]);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    pub(super) shapes: SmallVec<[Shape; 4]>,
    pub(super) params: Vec<f64>,
}

impl Mlp {
    /// An MLP made of these layers, in order.
    ///
    /// # Errors
    ///
    /// [`Error::Architecture`] if there are no layers or a layer's input count differs from the
    /// previous layer's output count.
    ///
    /// ```
    /// use tapegrad::{Activation, Layer, Mlp, Neuron};
    /// let hidden = Layer::new(vec![Neuron::new(vec![1.0], 0.0, Activation::Relu); 2])?;
    /// let out = Layer::new(vec![Neuron::new(vec![1.0, 1.0], 0.0, Activation::Identity)])?;
    /// let m = Mlp::new(vec![hidden, out])?;
    /// assert_eq!(m.sizes(), vec![1, 2, 1]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn new(layers: Vec<Layer>) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::Architecture(
                "an MLP needs at least one layer".into(),
            ));
        }
        for (l, pair) in layers.windows(2).enumerate() {
            if pair[1].inputs() != pair[0].outputs() {
                return Err(Error::Architecture(format!(
                    "layer {} takes {} inputs but layer {l} has {} outputs",
                    l + 1,
                    pair[1].inputs(),
                    pair[0].outputs()
                )));
            }
        }
        Ok(Mlp {
            shapes: layers.iter().map(|l| l.shape[0]).collect(),
            params: layers
                .iter()
                .flat_map(|l| l.params.iter().copied())
                .collect(),
        })
    }

    /// An MLP with layer sizes `sizes` (inputs first), every parameter given by `init`, called
    /// once per parameter in [`parameters()`](Mlp::parameters) order.
    ///
    /// # Errors
    ///
    /// [`Error::Architecture`] if `sizes` has fewer than two entries or a zero;
    /// [`Error::Allocation`] if the parameter count overflows `usize` or the parameters cannot
    /// be allocated.
    ///
    /// ```
    /// use rand::{rngs::StdRng, RngExt, SeedableRng};
    /// use tapegrad::{Activation, Mlp};
    /// let mut rng = StdRng::seed_from_u64(7);
    /// let m = Mlp::with_init(&[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid, |_| {
    ///     rng.random_range(-1.0..1.0)
    /// })?;
    /// assert_eq!(m.parameter_count(), 9);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn with_init(
        sizes: &[usize],
        hidden: Activation,
        output: Activation,
        init: impl FnMut(ParamSlot) -> f64,
    ) -> Result<Self> {
        Self::init_shapes(shapes_for(sizes, hidden, output)?, init)
    }

    /// An MLP of these (checked) layer shapes, every parameter given by `init` in order.
    ///
    /// # Errors
    ///
    /// [`Error::Allocation`] if the parameter count overflows `usize` or the parameters cannot
    /// be allocated.
    pub(super) fn init_shapes(
        shapes: SmallVec<[Shape; 4]>,
        mut init: impl FnMut(ParamSlot) -> f64,
    ) -> Result<Self> {
        let mut count = 0usize;
        for s in &shapes {
            let layer = crate::size::add("parameters", s.inputs, 1)
                .and_then(|width| crate::size::mul("parameters", s.outputs, width))?;
            count = crate::size::add("parameters", count, layer)?;
        }
        let mut params = crate::size::with_capacity(count, "parameters")?;
        for (layer, s) in shapes.iter().enumerate() {
            for neuron in 0..s.outputs {
                for input in (0..s.inputs).map(Some).chain([None]) {
                    params.push(init(ParamSlot {
                        layer,
                        neuron,
                        input,
                        fan_in: s.inputs,
                    }));
                }
            }
        }
        Ok(Mlp { shapes, params })
    }

    /// An MLP with every parameter 0.
    ///
    /// # Errors
    ///
    /// [`Error::Architecture`] if `sizes` has fewer than two entries or a zero;
    /// [`Error::Allocation`] if the parameter count overflows `usize` or the parameters cannot
    /// be allocated.
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp};
    /// let m = Mlp::zeros(&[3, 1], Activation::Identity, Activation::Identity)?;
    /// assert_eq!(m.parameters(), &[0.0; 4]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn zeros(sizes: &[usize], hidden: Activation, output: Activation) -> Result<Self> {
        Self::with_init(sizes, hidden, output, |_| 0.0)
    }

    /// Random initialisation from the caller's generator: each weight uniform in
    /// `[-1, 1) / sqrt(fan_in)`, each bias 0. The same seed gives the same model, bit for bit.
    ///
    /// # Errors
    ///
    /// [`Error::Architecture`] if `sizes` has fewer than two entries or a zero;
    /// [`Error::Allocation`] if the parameter count overflows `usize` or the parameters cannot
    /// be allocated.
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use tapegrad::{Activation, Mlp};
    /// let a = Mlp::random(&[2, 4, 1], Activation::Tanh, Activation::Identity, &mut StdRng::seed_from_u64(1))?;
    /// let b = Mlp::random(&[2, 4, 1], Activation::Tanh, Activation::Identity, &mut StdRng::seed_from_u64(1))?;
    /// assert_eq!(a, b);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn random<R: rand::Rng + ?Sized>(
        sizes: &[usize],
        hidden: Activation,
        output: Activation,
        rng: &mut R,
    ) -> Result<Self> {
        Self::with_init(sizes, hidden, output, random_init(rng))
    }

    /// An MLP with explicit parameters in [`parameters()`](Mlp::parameters) order.
    ///
    /// # Errors
    ///
    /// [`Error::Architecture`] for bad `sizes`, [`Error::Allocation`] for sizes too large to
    /// allocate, [`Error::ParameterCount`] if `params` has the wrong length,
    /// [`Error::InvalidParameter`] if one is NaN or infinite (it could not be saved).
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp};
    /// let m = Mlp::from_parameters(&[1, 1], Activation::Identity, Activation::Identity, &[2.0, 1.0])?;
    /// assert_eq!(m.predict(&[3.0])?, vec![7.0]);
    /// assert!(Mlp::from_parameters(&[1, 1], Activation::Identity, Activation::Identity, &[2.0]).is_err());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn from_parameters(
        sizes: &[usize],
        hidden: Activation,
        output: Activation,
        params: &[f64],
    ) -> Result<Self> {
        let mut m = Self::zeros(sizes, hidden, output)?;
        m.set_parameters(params)?;
        Ok(m)
    }

    /// The model with these layers, `(inputs, outputs, activation)` each, and `params` in
    /// [`parameters()`](Mlp::parameters) order; the caller has checked that they fit.
    #[cfg(feature = "safetensors")]
    pub(crate) fn from_layers(
        layers: &[(usize, usize, Activation)],
        params: Vec<f64>,
    ) -> Result<Self> {
        let mut shapes = SmallVec::new();
        crate::size::reserve_small(&mut shapes, layers.len(), "layers")?;
        shapes.extend(layers.iter().map(|&(inputs, outputs, activation)| Shape {
            inputs,
            outputs,
            activation,
        }));
        Ok(Mlp { shapes, params })
    }

    /// Layer sizes, inputs first (e.g. `[2, 2, 1]`).
    #[must_use]
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.shapes[0].inputs)
            .chain(self.shapes.iter().map(|s| s.outputs))
            .collect()
    }

    /// Number of inputs.
    #[must_use]
    pub fn input_size(&self) -> usize {
        self.shapes[0].inputs
    }

    /// Number of outputs.
    #[must_use]
    pub fn output_size(&self) -> usize {
        self.shapes[self.shapes.len() - 1].outputs
    }

    /// The activation of each layer, in order.
    #[must_use]
    pub fn activations(&self) -> Vec<Activation> {
        self.shapes.iter().map(|s| s.activation).collect()
    }

    /// Layer `l` (a copy), or `None` if there is no such layer.
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp};
    /// let m = Mlp::zeros(&[2, 3, 1], Activation::Relu, Activation::Identity)?;
    /// assert_eq!(m.layer(0).map(|l| l.outputs()), Some(3));
    /// assert!(m.layer(2).is_none());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn layer(&self, l: usize) -> Option<Layer> {
        let shape = *self.shapes.get(l)?;
        let start: usize = self.shapes[..l].iter().map(|s| s.parameter_count()).sum();
        Some(Layer {
            shape: [shape],
            params: self.params[start..start + shape.parameter_count()].to_vec(),
        })
    }

    /// Number of parameters.
    #[must_use]
    pub fn parameter_count(&self) -> usize {
        self.params.len()
    }

    /// All parameters: layer by layer, neuron by neuron, weights then bias.
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp};
    /// let m = Mlp::from_parameters(&[1, 1], Activation::Identity, Activation::Identity, &[2.0, 1.0])?;
    /// assert_eq!(m.parameters(), &[2.0, 1.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn parameters(&self) -> &[f64] {
        &self.params
    }

    /// All parameters, mutably, in [`parameters()`](Mlp::parameters) order.
    pub fn parameters_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }

    /// Exchanges the parameter vector with `other` (same length), in O(1): the trainer's
    /// double buffer.
    pub(crate) fn swap_parameters(&mut self, other: &mut Vec<f64>) {
        debug_assert_eq!(other.len(), self.params.len());
        std::mem::swap(&mut self.params, other);
    }

    /// Replaces all parameters.
    ///
    /// # Errors
    ///
    /// [`Error::ParameterCount`] if `params` has the wrong length, [`Error::InvalidParameter`]
    /// if one is NaN or infinite (the model is unchanged either way).
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp};
    /// let mut m = Mlp::zeros(&[1, 1], Activation::Identity, Activation::Identity)?;
    /// m.set_parameters(&[1.0, 2.0])?;
    /// assert!(m.set_parameters(&[1.0]).is_err());
    /// assert_eq!(m.parameters(), &[1.0, 2.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn set_parameters(&mut self, params: &[f64]) -> Result<()> {
        if params.len() != self.params.len() {
            return Err(Error::ParameterCount {
                expected: self.params.len(),
                found: params.len(),
            });
        }
        if let Some(index) = params.iter().position(|p| !p.is_finite()) {
            return Err(Error::InvalidParameter {
                index,
                value: params[index],
            });
        }
        self.params.copy_from_slice(params);
        Ok(())
    }

    /// Plain-`f64` outputs for one input (no tape).
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] if `x` does not have the model's input size,
    /// [`Error::NonFiniteInput`] naming the first NaN or infinite value.
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp};
    /// let m = Mlp::from_parameters(&[2, 1], Activation::Identity, Activation::Identity, &[1.0, 1.0, 0.0])?;
    /// assert_eq!(m.predict(&[2.0, 3.0])?, vec![5.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn predict(&self, x: &[f64]) -> Result<Vec<f64>> {
        let mut s = Scratch::default();
        self.predict_with(x, &mut s)?;
        Ok(s.output_values().to_vec())
    }

    /// Allocation-free prediction into reusable buffers.
    pub(crate) fn predict_with<'s>(&self, x: &[f64], s: &'s mut Scratch) -> Result<&'s [f64]> {
        predict_stack(&self.shapes, &self.params, x, s)?;
        Ok(s.output_values())
    }

    /// Binds the parameters onto `tape` as leaves for recorded forward passes.
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp, Tape};
    /// let m = Mlp::from_parameters(&[1, 1], Activation::Identity, Activation::Identity, &[2.0, 1.0])?;
    /// let tape = Tape::new();
    /// let bound = m.bind(&tape);
    /// let y = bound.forward(&[3.0])?[0];
    /// assert_eq!(bound.gradients(&y.backward()), &[3.0, 1.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn bind<'t, 'm>(&'m self, tape: &'t Tape) -> Bound<'t, 'm> {
        Bound::new(tape, &self.shapes, &self.params)
    }

    /// [`Mlp::bind`] onto the leaves of an earlier binding of a model of this shape, which
    /// `tape` still holds (see [`Bound::rebind`]).
    #[inline]
    pub(crate) fn rebind<'t, 'm>(&'m self, tape: &'t Tape, leaves: Leaves) -> Bound<'t, 'm> {
        Bound::rebind(tape, &self.shapes, &self.params, leaves)
    }
}

impl From<Neuron> for Mlp {
    /// A one-neuron MLP.
    fn from(n: Neuron) -> Self {
        Mlp {
            shapes: SmallVec::from_slice(&n.shape),
            params: n.params,
        }
    }
}

impl From<Layer> for Mlp {
    /// A one-layer MLP.
    fn from(l: Layer) -> Self {
        Mlp {
            shapes: SmallVec::from_slice(&l.shape),
            params: l.params,
        }
    }
}

impl fmt::Display for Mlp {
    /// `Mlp(2-2-1, sigmoid/sigmoid, 9 parameters)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<String> = self.sizes().iter().map(ToString::to_string).collect();
        let acts: Vec<&str> = self.shapes.iter().map(|s| s.activation.name()).collect();
        write!(
            f,
            "Mlp({}, {}, {} parameters)",
            sizes.join("-"),
            acts.join("/"),
            self.params.len()
        )
    }
}

/// [`Mlp::random`]'s initialiser: weights uniform in `[-1, 1) / sqrt(fan_in)`, biases 0.
pub(super) fn random_init<R: rand::Rng + ?Sized>(rng: &mut R) -> impl FnMut(ParamSlot) -> f64 + '_ {
    use rand::RngExt;
    |slot| {
        if slot.is_bias() {
            0.0
        } else {
            rng.random_range(-1.0..1.0) / (slot.fan_in as f64).sqrt()
        }
    }
}

/// The layer shapes for `sizes` (their parameter count is checked when they are filled).
fn shapes_for(
    sizes: &[usize],
    hidden: Activation,
    output: Activation,
) -> Result<SmallVec<[Shape; 4]>> {
    if sizes.len() < 2 {
        return Err(Error::Architecture(format!(
            "sizes need an input size and at least one layer, got {sizes:?}"
        )));
    }
    if let Some(k) = sizes.iter().position(|&n| n == 0) {
        return Err(Error::Architecture(format!(
            "size {k} is zero in {sizes:?}"
        )));
    }
    let layers = sizes.len() - 1;
    let mut shapes = SmallVec::new();
    crate::size::reserve_small(&mut shapes, layers, "layers")?;
    shapes.extend(sizes.windows(2).enumerate().map(|(l, w)| Shape {
        inputs: w[0],
        outputs: w[1],
        activation: if l + 1 == layers { output } else { hidden },
    }));
    Ok(shapes)
}
