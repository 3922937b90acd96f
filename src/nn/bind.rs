use super::Activation;
use crate::engine::ops::{layer_affine, record_affine, record_unary, Inputs};
use crate::engine::{Gradients, Records, Tape, Value};
use crate::error::{Error, Result};
use std::fmt;

/// The shape of one dense layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) inputs: usize,
    pub(crate) outputs: usize,
    pub(crate) activation: Activation,
}

impl Shape {
    pub(crate) fn parameter_count(self) -> usize {
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
pub(crate) fn predict_stack(
    shapes: &[Shape],
    params: &[f64],
    x: &[f64],
    s: &mut Scratch,
) -> Result<()> {
    check_input(shapes, x)?;
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
/// On an untraced tape each layer is one block (see [`crate::engine::fused`]); a traced tape records
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
    check_input(shapes, input_values)?;
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

/// Checks an input: the model's input size, every value finite.
pub(crate) fn check_input(shapes: &[Shape], x: &[f64]) -> Result<()> {
    let expected = shapes[0].inputs;
    if x.len() != expected {
        return Err(Error::InputSize {
            expected,
            found: x.len(),
        });
    }
    // A branch-free pass first (it vectorizes), the position only for a bad input.
    if x.iter().fold(false, |bad, v| bad | !v.is_finite()) {
        if let Some((position, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFiniteInput { position, value });
        }
    }
    Ok(())
}

/// A model's parameters bound onto a tape as leaves, ready for recorded forward passes.
///
/// Made by [`Neuron::bind`](crate::Neuron::bind), [`Layer::bind`](crate::Layer::bind) or [`Mlp::bind`](crate::Mlp::bind). Bind once per step; a mini-batch
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
    pub(crate) fn new(tape: &'t Tape, shapes: &'m [Shape], params: &'m [f64]) -> Self {
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
    /// [`Error::InputSize`] if `x` does not have the model's input size,
    /// [`Error::NonFiniteInput`] naming the first NaN or infinite value.
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
    /// [`Error::InputSize`] if `x` does not have the model's input size,
    /// [`Error::NonFiniteInput`] naming the first input whose value is NaN or infinite.
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

    /// The tape the parameters are bound on.
    pub(crate) fn tape(&self) -> &'t Tape {
        self.tape
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

    /// The bound parameters as values, in [`parameters()`](crate::Mlp::parameters) order.
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

    /// Every parameter's gradient, in [`parameters()`](crate::Mlp::parameters) order.
    ///
    /// # Panics
    ///
    /// If `grads` come from another tape, from before a [`Tape::clear`], or from a sweep of
    /// a value recorded before this binding (the parameters were not on the tape yet).
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
        let first = self.leaves.first as usize;
        let swept = grads.as_slice().len();
        assert!(
            first + self.params.len() <= swept,
            "tapegrad: these gradients come from a value recorded before the model was bound \
             (the sweep covers nodes 0..{swept}, the parameters start at node {first}); \
             call backward on a value computed from this binding"
        );
        grads.range(first, self.params.len())
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
