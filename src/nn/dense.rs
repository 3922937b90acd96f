//! A stack of dense layers: the plain forward pass, and the recorded one, where each layer is
//! one fused node (the engine's affine rule) over the bound parameters.

use super::Activation;
use crate::engine::affine::{
    affine_forward, affine_forward_batch, all_finite, Affine, AffineInputs,
};
use crate::engine::record::Records;
use crate::engine::Op;
use crate::error::{Error, Result};

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
/// outputs of the layer just computed (an index flip instead of swapping the vectors' headers,
/// which stalls on store forwarding).
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
        affine_forward(layer, inputs, shape.outputs, &mut s.z);
        next.values
            .extend(s.z.iter().map(|&z| shape.activation.apply(z)));
        s.cur = 1 - s.cur;
        offset += layer.len();
    }
    Ok(())
}

/// Where a bound model's parameters are: the leaf of the first, and where the engine keeps
/// the values of the layers after the first for their rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leaves {
    pub(crate) first: u32,
    pub(crate) values_at: u32,
}

/// Recorded forward pass, each layer one fused node. Inputs are tape nodes (`input_nodes`) or
/// constants (`None`), already checked ([`check_input`]). See [`Scratch::output_nodes`] for
/// the outputs.
pub(crate) fn record_stack(
    r: &mut Records,
    shapes: &[Shape],
    params: &[f64],
    leaves: Leaves,
    input_nodes: Option<&[u32]>,
    input_values: &[f64],
    s: &mut Scratch,
) {
    let mut offset = 0;
    // Where the inputs of the layer being recorded come from: after the first layer, the
    // last layer's outputs, a range.
    let mut inputs = r.fused.inputs(input_nodes);
    // Each pass starts from the same buffer, so that the last layer's nodes always go into
    // the same one (which then never grows again).
    s.cur = 0;
    for (l, shape) in shapes.iter().enumerate() {
        let (done, next) = Scratch::split(&mut s.layers, s.cur);
        let values = if l == 0 {
            input_values
        } else {
            &done.values[..]
        };
        let layer = &params[offset..offset + shape.parameter_count()];
        affine_forward(layer, values, shape.outputs, &mut s.z);
        // a_j = act(z_j), and d_j = act'(z_j) for the rule's reverse sweep
        let op = activate(shape.activation, &s.z, &mut next.values, &mut s.d);
        let weights = leaves.first + offset as u32;
        let weights_at = match (l, inputs) {
            (0, AffineInputs::Constants) => 0, // not read: no gradient flows to constants
            (0, _) => r.fused.keep_weights(weights, layer),
            _ => leaves.values_at + (offset - shapes[0].parameter_count()) as u32,
        };
        let affine = Affine {
            inputs: 0,
            outputs: 0,
            input_nodes: inputs,
            weights,
            weights_at,
            data_at: 0,
            batch: 1,
            finite: true,
            activation: op,
        };
        let first = r.dense(affine, values, &next.values, &s.d);
        inputs = AffineInputs::Range(first);
        if l + 1 == shapes.len() {
            next.nodes.extend(first..first + shape.outputs as u32);
        }
        s.cur = 1 - s.cur;
        offset += layer.len();
    }
}

/// Reusable buffers for recording a batch; values are stored feature by feature (value k of
/// sample i at `k * batch + i`), the layout of a batched dense node.
#[derive(Debug, Default, Clone)]
pub(crate) struct BatchScratch {
    /// The batch's inputs.
    inputs: Vec<f64>,
    /// A layer's inputs and outputs, alternating after the first layer; `cur` holds the last
    /// layer's outputs.
    values: [Vec<f64>; 2],
    cur: usize,
    z: Vec<f64>,
    d: Vec<f64>,
    /// The last layer's first output node, its outputs and the batch size.
    first: u32,
    outputs: usize,
    batch: usize,
    /// One sample's outputs, gathered by [`BatchScratch::sample`].
    nodes: Vec<u32>,
    outputs_of_sample: Vec<f64>,
}

impl BatchScratch {
    /// Sample `i`'s output nodes and values from the last [`record_stack_batch`].
    pub(crate) fn sample(&mut self, i: usize) -> (&[u32], &[f64]) {
        let (b, values) = (self.batch, &self.values[self.cur]);
        let first = self.first;
        self.nodes.clear();
        self.nodes
            .extend((0..self.outputs).map(|j| first + (j * b + i) as u32));
        self.outputs_of_sample.clear();
        self.outputs_of_sample
            .extend((0..self.outputs).map(|j| values[j * b + i]));
        (&self.nodes, &self.outputs_of_sample)
    }
}

/// Recorded forward pass of a batch of constant inputs (`rows`: `batch` rows, sizes and
/// values checked by the caller), each layer one fused node over the whole batch: its
/// pre-activations a matrix product, summed in the order of [`record_stack`], so each
/// sample's outputs have the same bits as there. See [`BatchScratch::sample`] for the
/// outputs.
pub(crate) fn record_stack_batch<'x>(
    r: &mut Records,
    shapes: &[Shape],
    params: &[f64],
    leaves: Leaves,
    rows: impl Iterator<Item = &'x [f64]>,
    batch: usize,
    s: &mut BatchScratch,
) {
    let n = shapes[0].inputs;
    // Every entry is written below (`batch` rows of `n`), so the buffer is zero-filled only
    // when its size changes.
    let xt = &mut s.inputs;
    if xt.len() != n * batch {
        xt.clear();
        xt.resize(n * batch, 0.0);
    }
    for (i, row) in rows.enumerate() {
        for (k, &x) in row.iter().enumerate() {
            xt[k * batch + i] = x;
        }
    }
    s.cur = 0;
    s.batch = batch;
    let mut first_input = None;
    let mut offset = 0;
    let later = shapes[0].parameter_count();
    for (l, shape) in shapes.iter().enumerate() {
        let [a, b] = &mut s.values;
        let (done, next) = if s.cur == 0 { (a, b) } else { (b, a) };
        let x = if l == 0 { &s.inputs } else { &*done };
        let layer = &params[offset..offset + shape.parameter_count()];
        affine_forward_batch(layer, x, batch, shape.outputs, &mut s.z);
        next.clear();
        let op = activate(shape.activation, &s.z, next, &mut s.d);
        let affine = Affine {
            inputs: 0,
            outputs: 0,
            input_nodes: AffineInputs::Constants,
            weights: leaves.first + offset as u32,
            // The first layer's inputs are constants: its rule reads no weights.
            weights_at: if l == 0 {
                0
            } else {
                leaves.values_at + (offset - later) as u32
            },
            data_at: 0,
            batch: batch as u32,
            // The first layer's weights are not read, and its inputs were checked.
            finite: l == 0 || (all_finite(layer) && all_finite(x)),
            activation: op,
        };
        let d = &s.d;
        let first = r.fused_run(Op::Dense, next, |f| {
            f.affine_batch(affine, first_input, x, d)
        });
        first_input = Some(first);
        s.first = first;
        s.outputs = shape.outputs;
        s.cur = 1 - s.cur;
        offset += layer.len();
    }
}

/// Appends `act(z)` to `values` and `act'(z)` to `d` (cleared first) for every `z`, one tight
/// loop per activation; returns the activation's op (`None` for the identity).
fn activate(act: Activation, z: &[f64], values: &mut Vec<f64>, d: &mut Vec<f64>) -> Option<Op> {
    /// For rules that call libm (no loop over them vectorizes): room made once, then pushed (a
    /// predictable branch each), with no zero-fill first, which costs more than the arithmetic
    /// for a layer of a handful of values.
    #[inline(always)]
    fn each(rule: impl Fn(f64) -> (f64, f64), z: &[f64], values: &mut Vec<f64>, d: &mut Vec<f64>) {
        values.reserve(z.len());
        d.reserve(z.len());
        for &z in z {
            let (v, dv) = rule(z);
            values.push(v);
            d.push(dv);
        }
    }
    /// For a rule that vectorizes: sized first, then written in place, so that the loop has
    /// no capacity check per value.
    #[inline(always)]
    fn in_place(
        rule: impl Fn(f64) -> (f64, f64),
        z: &[f64],
        values: &mut Vec<f64>,
        d: &mut Vec<f64>,
    ) {
        let start = values.len();
        values.resize(start + z.len(), 0.0);
        d.resize(z.len(), 0.0);
        for ((v, dv), &z) in values[start..].iter_mut().zip(d.iter_mut()).zip(z) {
            (*v, *dv) = rule(z);
        }
    }
    use crate::engine::ops;
    d.clear();
    match act {
        Activation::Sigmoid => each(ops::sigmoid, z, values, d),
        Activation::Tanh => {
            let start = values.len();
            values.resize(start + z.len(), 0.0);
            d.resize(z.len(), 0.0);
            ops::tanh_slice(z, &mut values[start..], d);
        }
        Activation::Relu => in_place(ops::relu, z, values, d),
        Activation::Identity => {
            values.extend_from_slice(z);
            d.resize(z.len(), 1.0);
        }
    }
    act.op()
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
