//! Neurons, layers and multi-layer perceptrons.
//!
//! A model owns its parameters as plain `f64`s (so it is `Clone + Send + Sync`, printable and
//! comparable). For a training step it is *bound* onto a [`Tape`]: its parameters become leaves,
//! in [`parameters()`](Mlp::parameters) order, and the forward pass is recorded. After
//! [`Value::backward`], [`Bound::gradients`] reads every parameter's gradient in that same order.
//!
//! Parameter order, everywhere: layer by layer, neuron by neuron, each neuron's weights (one per
//! input, in input order) then its bias.
//!
//! A neuron's pre-activation is `z = ((b + w0 x0) + w1 x1) + ...`, summed left to right, and is
//! one tape node (see [`Tape::dot`]); plain-`f64` prediction computes exactly the same sums, so
//! predictions and recorded forward passes agree bit for bit.

use crate::error::{Error, Result};
use crate::ops::{self, layer_affine, record_affine, record_unary, Inputs};
use crate::tape::{Gradients, Op, Records, Tape, Value};
use smallvec::SmallVec;
use std::fmt;

/// A neuron's activation function. See the [numerics table](crate::ops) for the edge cases.
///
/// ```
/// use tapegrad::Activation;
/// assert_eq!(Activation::Relu.apply(-3.0), 0.0);
/// assert_eq!(Activation::Sigmoid.apply(0.0), 0.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `1 / (1 + e^-x)`, the seed's activation.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `max(0, x)` (with derivative 0 at 0).
    Relu,
    /// No activation: the pre-activation itself (a linear output layer). Records no node.
    Identity,
}

impl Activation {
    /// Applies the activation to a plain number.
    ///
    /// ```
    /// assert_eq!(tapegrad::Activation::Tanh.apply(0.0), 0.0);
    /// ```
    #[must_use]
    pub fn apply(self, x: f64) -> f64 {
        match self.rule(x) {
            Some((_, (v, _))) => v,
            None => x,
        }
    }

    /// Applies the activation to a recorded value (no new node for [`Activation::Identity`]).
    ///
    /// ```
    /// use tapegrad::{Activation, Tape};
    /// let tape = Tape::new();
    /// let x = tape.var(0.0);
    /// assert_eq!(Activation::Sigmoid.on(x).backward()[x], 0.25);
    /// ```
    #[must_use]
    pub fn on(self, x: Value<'_>) -> Value<'_> {
        match self {
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Relu => x.relu(),
            Activation::Identity => x,
        }
    }

    /// The lowercase name (`"sigmoid"`, `"tanh"`, `"relu"`, `"identity"`).
    ///
    /// ```
    /// assert_eq!(tapegrad::Activation::Relu.name(), "relu");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Identity => "identity",
        }
    }

    /// The op and its `(value, derivative)` at `x`, or `None` for the identity.
    #[inline]
    fn rule(self, x: f64) -> Option<(Op, (f64, f64))> {
        match self {
            Activation::Sigmoid => Some((Op::Sigmoid, ops::sigmoid(x))),
            Activation::Tanh => Some((Op::Tanh, ops::tanh(x))),
            Activation::Relu => Some((Op::Relu, ops::relu(x))),
            Activation::Identity => None,
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The shape of one dense layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) inputs: usize,
    pub(crate) outputs: usize,
    pub(crate) activation: Activation,
}

impl Shape {
    fn parameter_count(self) -> usize {
        self.outputs * (self.inputs + 1)
    }
}

/// One layer's outputs: node indices and values.
#[derive(Debug, Default, Clone)]
struct LayerOutputs {
    nodes: Vec<u32>,
    values: Vec<f64>,
}

impl LayerOutputs {
    fn clear(&mut self) {
        self.nodes.clear();
        self.values.clear();
    }
}

/// Reusable buffers for forward passes.
///
/// Two [`LayerOutputs`] alternate as a layer's inputs and outputs; `cur` says which holds the
/// outputs of the layer just computed. (Swapping the vectors instead, three `mem::swap`s of
/// adjacent headers per layer, stalled on store forwarding: a fifth of W1's time in a profile.)
#[derive(Debug, Default, Clone)]
pub(crate) struct Scratch {
    layers: [LayerOutputs; 2],
    cur: usize,
    /// The pre-activations of the layer being computed.
    z: Vec<f64>,
    /// The activation derivatives of the layer being recorded.
    d: Vec<f64>,
}

impl Scratch {
    /// Node indices of the last forward pass's outputs.
    pub(crate) fn output_nodes(&self) -> &[u32] {
        &self.layers[self.cur].nodes
    }
    /// Values of the last forward pass's outputs.
    pub(crate) fn output_values(&self) -> &[f64] {
        &self.layers[self.cur].values
    }
    /// The outputs of the last layer computed, and the buffer for the next layer's (cleared).
    fn split(layers: &mut [LayerOutputs; 2], cur: usize) -> (&LayerOutputs, &mut LayerOutputs) {
        let [a, b] = layers;
        let (done, next) = if cur == 0 { (a, b) } else { (b, a) };
        next.clear();
        (done, next)
    }
}

/// Plain-`f64` forward pass through a stack of dense layers; see [`Scratch::output_values`].
fn predict_stack(shapes: &[Shape], params: &[f64], x: &[f64], s: &mut Scratch) -> Result<()> {
    check_input(shapes, x.len())?;
    let mut offset = 0;
    for (l, shape) in shapes.iter().enumerate() {
        let (done, next) = Scratch::split(&mut s.layers, s.cur);
        let inputs = if l == 0 { x } else { &done.values[..] };
        let layer = &params[offset..offset + shape.parameter_count()];
        layer_affine(layer, inputs, shape.outputs, &mut s.z);
        next.values
            .extend(s.z.iter().map(|&z| shape.activation.apply(z)));
        s.cur = 1 - s.cur;
        offset += layer.len();
    }
    Ok(())
}

/// Where a bound model's parameters are: the leaf of the first, and (untraced tapes) where the
/// copy of their values kept for dense-layer blocks starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leaves {
    first: u32,
    values_at: usize,
}

/// Recorded forward pass. Inputs are tape nodes (`input_nodes`) or constants (`None`). See
/// [`Scratch::output_nodes`] for the outputs.
///
/// On an untraced tape each layer is one block (see [`crate::dense`]); a traced tape records
/// every neuron as a `dot` node and an activation node, so that every op can be inspected.
pub(crate) fn record_stack(
    r: &mut Records,
    shapes: &[Shape],
    params: &[f64],
    leaves: Leaves,
    input_nodes: Option<&[u32]>,
    input_values: &[f64],
    s: &mut Scratch,
) -> Result<()> {
    check_input(shapes, input_values.len())?;
    let traced = r.is_traced();
    let mut offset = 0;
    for (l, shape) in shapes.iter().enumerate() {
        let (done, next) = Scratch::split(&mut s.layers, s.cur);
        let (nodes, values) = if l == 0 {
            (input_nodes, input_values)
        } else {
            (Some(&done.nodes[..]), &done.values[..])
        };
        let layer = &params[offset..offset + shape.parameter_count()];
        let params_first = leaves.first + offset as u32;
        layer_affine(layer, values, shape.outputs, &mut s.z);
        if traced {
            let inputs = nodes.map_or(Inputs::Constants, Inputs::Nodes);
            for (&z, p) in s.z.iter().zip(layer.chunks_exact(shape.inputs + 1)) {
                let first = params_first + (next.nodes.len() * p.len()) as u32;
                let z_node = record_affine(r, first, p, inputs, values, z);
                let (node, value) = match shape.activation.rule(z) {
                    Some((op, rule)) => record_unary(r, op, z_node, rule),
                    None => (z_node, z),
                };
                next.nodes.push(node);
                next.values.push(value);
            }
        } else {
            // a_j = act(z_j), and d_j = act'(z_j) for the block's reverse rule
            s.d.clear();
            for &z in &s.z {
                let (v, d) = shape.activation.rule(z).map_or((z, 1.0), |(_, rule)| rule);
                next.values.push(v);
                s.d.push(d);
            }
            let first = r.dense_layer(params_first, leaves.values_at + offset, nodes, values, &s.d);
            next.nodes.extend(first..first + shape.outputs as u32);
        }
        s.cur = 1 - s.cur;
        offset += layer.len();
    }
    Ok(())
}

fn check_input(shapes: &[Shape], found: usize) -> Result<()> {
    let expected = shapes[0].inputs;
    if found == expected {
        Ok(())
    } else {
        Err(Error::InputSize { expected, found })
    }
}

/// A model's parameters bound onto a tape as leaves, ready for recorded forward passes.
///
/// Made by [`Neuron::bind`], [`Layer::bind`] or [`Mlp::bind`]. Bind once per step; a mini-batch
/// calls [`Bound::forward`] once per sample on the same binding.
///
/// ```
/// use tapegrad::{mse, Activation, Mlp, Tape};
/// let model = Mlp::zeros(&[2, 3, 1], Activation::Tanh, Activation::Identity)?;
/// let tape = Tape::new();
/// let bound = model.bind(&tape);
/// let out = bound.forward(&[0.5, -1.0])?;
/// let loss = mse(&out, &[1.0])?;
/// let grads = loss.backward();
/// assert_eq!(bound.gradients(&grads).len(), model.parameter_count());
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Bound<'t, 'm> {
    tape: &'t Tape,
    shapes: &'m [Shape],
    params: &'m [f64],
    leaves: Leaves,
}

impl<'t, 'm> Bound<'t, 'm> {
    fn new(tape: &'t Tape, shapes: &'m [Shape], params: &'m [f64]) -> Self {
        let (first, values_at) = tape.with_records(|r| r.bind_parameters(params));
        Bound {
            tape,
            shapes,
            params,
            leaves: Leaves { first, values_at },
        }
    }

    /// Records a forward pass on plain inputs (constants: they get no gradient).
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] if `x` does not have the model's input size.
    ///
    /// ```
    /// use tapegrad::{Activation, Neuron, Tape};
    /// let neuron = Neuron::new(vec![0.0, 1.0], 4.0, Activation::Sigmoid);
    /// let tape = Tape::new();
    /// let y = neuron.bind(&tape).forward(&[2.0, 3.0])?;
    /// assert_eq!(y[0].value(), 0.9990889488055994);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn forward(&self, x: &[f64]) -> Result<Vec<Value<'t>>> {
        // A per-thread scratch: a profile of per-sample `forward` calls (W2 in the workloads
        // bench) showed four buffer allocations per call costing more than small layers'
        // arithmetic. Only the returned `Vec` is allocated.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
        }
        SCRATCH.with(|s| {
            let s = &mut s.borrow_mut();
            self.record(None, x, s)?;
            Ok(self.wrap(s))
        })
    }

    /// Records a forward pass on recorded inputs, so gradients flow into them too.
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] if `x` does not have the model's input size.
    ///
    /// # Panics
    ///
    /// If an input is from another tape.
    ///
    /// ```
    /// use tapegrad::{Activation, Neuron, Tape};
    /// let neuron = Neuron::new(vec![2.0], 0.0, Activation::Identity);
    /// let tape = Tape::new();
    /// let x = tape.var(3.0);
    /// let y = neuron.bind(&tape).forward_values(&[x])?;
    /// assert_eq!(y[0].backward()[x], 2.0);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[track_caller]
    pub fn forward_values(&self, x: &[Value<'t>]) -> Result<Vec<Value<'t>>> {
        let nodes: Vec<u32> = x
            .iter()
            .map(|v| {
                self.tape.check_same(v.tape);
                v.index
            })
            .collect();
        let values: Vec<f64> = x.iter().map(|v| v.value).collect();
        let mut s = Scratch::default();
        self.record(Some(&nodes), &values, &mut s)?;
        Ok(self.wrap(&s))
    }

    /// Allocation-free forward pass for the training loop.
    pub(crate) fn record(&self, nodes: Option<&[u32]>, x: &[f64], s: &mut Scratch) -> Result<()> {
        self.tape
            .with_records(|r| record_stack(r, self.shapes, self.params, self.leaves, nodes, x, s))
    }

    fn wrap(&self, s: &Scratch) -> Vec<Value<'t>> {
        s.output_nodes()
            .iter()
            .zip(s.output_values())
            .map(|(&i, &v)| Value::new(self.tape, i, v))
            .collect()
    }

    /// The bound parameters as values, in [`parameters()`](Mlp::parameters) order.
    ///
    /// ```
    /// use tapegrad::{Activation, Neuron, Tape};
    /// let neuron = Neuron::new(vec![0.5, -1.0], 2.0, Activation::Identity);
    /// let tape = Tape::new();
    /// let p = neuron.bind(&tape).parameters();
    /// assert_eq!(p.iter().map(|v| v.value()).collect::<Vec<_>>(), [0.5, -1.0, 2.0]);
    /// ```
    #[must_use]
    pub fn parameters(&self) -> Vec<Value<'t>> {
        self.params
            .iter()
            .enumerate()
            .map(|(k, &v)| Value::new(self.tape, self.leaves.first + k as u32, v))
            .collect()
    }

    /// Every parameter's gradient, in [`parameters()`](Mlp::parameters) order.
    ///
    /// # Panics
    ///
    /// If `grads` come from another tape or from before a [`Tape::clear`].
    ///
    /// ```
    /// use tapegrad::{Activation, Neuron, Tape};
    /// let neuron = Neuron::new(vec![0.5, -1.0], 2.0, Activation::Identity);
    /// let tape = Tape::new();
    /// let bound = neuron.bind(&tape);
    /// let y = bound.forward(&[3.0, 4.0])?;
    /// let grads = y[0].backward();
    /// assert_eq!(bound.gradients(&grads), &[3.0, 4.0, 1.0]); // dy/dw = x, dy/db = 1
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    #[track_caller]
    pub fn gradients<'g>(&self, grads: &'g Gradients) -> &'g [f64] {
        grads.check_tape(self.tape);
        grads.range(self.leaves.first as usize, self.params.len())
    }
}

impl fmt::Debug for Bound<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bound")
            .field("first", &self.leaves.first)
            .field("parameters", &self.params.len())
            .finish()
    }
}

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
    shape: [Shape; 1],
    params: Vec<f64>,
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
    ///
    /// ```
    /// let n = tapegrad::Neuron::new(vec![3.0], 0.0, tapegrad::Activation::Identity);
    /// assert_eq!(n.weights(), &[3.0]);
    /// ```
    #[must_use]
    pub fn weights(&self) -> &[f64] {
        &self.params[..self.shape[0].inputs]
    }

    /// The bias.
    ///
    /// ```
    /// let n = tapegrad::Neuron::new(vec![3.0], -1.0, tapegrad::Activation::Identity);
    /// assert_eq!(n.bias(), -1.0);
    /// ```
    #[must_use]
    pub fn bias(&self) -> f64 {
        self.params[self.shape[0].inputs]
    }

    /// The activation.
    ///
    /// ```
    /// let n = tapegrad::Neuron::new(vec![], 0.0, tapegrad::Activation::Tanh);
    /// assert_eq!(n.activation(), tapegrad::Activation::Tanh);
    /// ```
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
    ///
    /// ```
    /// let mut n = tapegrad::Neuron::new(vec![1.0], 0.0, tapegrad::Activation::Identity);
    /// n.parameters_mut()[1] = 5.0;
    /// assert_eq!(n.bias(), 5.0);
    /// ```
    pub fn parameters_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }

    /// Plain-`f64` output for one input.
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] if `x` does not have one value per weight.
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
    shape: [Shape; 1],
    params: Vec<f64>,
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
    ///
    /// ```
    /// # use tapegrad::{Activation, Layer, Neuron};
    /// let layer = Layer::new(vec![Neuron::new(vec![1.0; 3], 0.0, Activation::Tanh)])?;
    /// assert_eq!(layer.inputs(), 3);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn inputs(&self) -> usize {
        self.shape[0].inputs
    }

    /// Number of neurons (outputs).
    ///
    /// ```
    /// # use tapegrad::{Activation, Layer, Neuron};
    /// let layer = Layer::new(vec![Neuron::new(vec![1.0; 3], 0.0, Activation::Tanh)])?;
    /// assert_eq!(layer.outputs(), 1);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn outputs(&self) -> usize {
        self.shape[0].outputs
    }

    /// The activation.
    ///
    /// ```
    /// # use tapegrad::{Activation, Layer, Neuron};
    /// let layer = Layer::new(vec![Neuron::new(vec![1.0], 0.0, Activation::Tanh)])?;
    /// assert_eq!(layer.activation(), Activation::Tanh);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
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
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn neuron(&self, j: usize) -> Option<Neuron> {
        let width = self.inputs() + 1;
        let p = self.params.get(j * width..(j + 1) * width)?;
        Some(Neuron::new(
            p[..width - 1].to_vec(),
            p[width - 1],
            self.activation(),
        ))
    }

    /// The parameters, neuron by neuron (weights then bias).
    ///
    /// ```
    /// # use tapegrad::{Activation, Layer, Neuron};
    /// let layer = Layer::new(vec![Neuron::new(vec![1.0], 2.0, Activation::Tanh)])?;
    /// assert_eq!(layer.parameters(), &[1.0, 2.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn parameters(&self) -> &[f64] {
        &self.params
    }

    /// Plain-`f64` outputs for one input.
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] if `x` does not have the layer's input size.
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
    /// Whether this is a bias.
    ///
    /// ```
    /// let slot = tapegrad::ParamSlot { layer: 0, neuron: 0, input: None, fan_in: 2 };
    /// assert!(slot.is_bias());
    /// ```
    #[must_use]
    pub fn is_bias(&self) -> bool {
        self.input.is_none()
    }
}

/// A multi-layer perceptron: dense layers, one activation for the hidden layers and one for the
/// output layer.
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
    shapes: SmallVec<[Shape; 4]>,
    params: Vec<f64>,
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
    /// [`Error::Architecture`] if `sizes` has fewer than two entries or a zero.
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
        mut init: impl FnMut(ParamSlot) -> f64,
    ) -> Result<Self> {
        let shapes = shapes_for(sizes, hidden, output)?;
        let mut params = Vec::with_capacity(shapes.iter().map(|s| s.parameter_count()).sum());
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
    /// [`Error::Architecture`] if `sizes` has fewer than two entries or a zero.
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
    /// [`Error::Architecture`] if `sizes` has fewer than two entries or a zero.
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
        use rand::RngExt;
        Self::with_init(sizes, hidden, output, |slot| {
            if slot.is_bias() {
                0.0
            } else {
                rng.random_range(-1.0..1.0) / (slot.fan_in as f64).sqrt()
            }
        })
    }

    /// An MLP with explicit parameters in [`parameters()`](Mlp::parameters) order.
    ///
    /// # Errors
    ///
    /// [`Error::Architecture`] for bad `sizes`, [`Error::ParameterCount`] if `params` has the
    /// wrong length.
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

    /// Layer sizes, inputs first (e.g. `[2, 2, 1]`).
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp};
    /// let m = Mlp::zeros(&[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid)?;
    /// assert_eq!(m.sizes(), vec![2, 2, 1]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.shapes[0].inputs)
            .chain(self.shapes.iter().map(|s| s.outputs))
            .collect()
    }

    /// Number of inputs.
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp};
    /// assert_eq!(Mlp::zeros(&[3, 1], Activation::Relu, Activation::Identity)?.input_size(), 3);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn input_size(&self) -> usize {
        self.shapes[0].inputs
    }

    /// Number of outputs.
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp};
    /// assert_eq!(Mlp::zeros(&[3, 2], Activation::Relu, Activation::Identity)?.output_size(), 2);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn output_size(&self) -> usize {
        self.shapes[self.shapes.len() - 1].outputs
    }

    /// The activation of each layer, in order.
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp};
    /// let m = Mlp::zeros(&[2, 3, 1], Activation::Relu, Activation::Identity)?;
    /// assert_eq!(m.activations(), vec![Activation::Relu, Activation::Identity]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
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
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp};
    /// // 2-2-1: 2 * (2 + 1) + 1 * (2 + 1)
    /// assert_eq!(Mlp::zeros(&[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid)?.parameter_count(), 9);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
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
    ///
    /// ```
    /// # use tapegrad::{Activation, Mlp};
    /// let mut m = Mlp::zeros(&[1, 1], Activation::Identity, Activation::Identity)?;
    /// m.parameters_mut()[0] = 3.0;
    /// assert_eq!(m.predict(&[2.0])?, vec![6.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn parameters_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }

    /// Replaces all parameters.
    ///
    /// # Errors
    ///
    /// [`Error::ParameterCount`] if `params` has the wrong length (the model is unchanged).
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
        self.params.copy_from_slice(params);
        Ok(())
    }

    /// Plain-`f64` outputs for one input (no tape).
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] if `x` does not have the model's input size.
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
    Ok(sizes
        .windows(2)
        .enumerate()
        .map(|(l, w)| Shape {
            inputs: w[0],
            outputs: w[1],
            activation: if l + 1 == layers { output } else { hidden },
        })
        .collect())
}
