//! A stack of dense layers: the plain forward pass, and the recorded one, where each layer is
//! one fused node (the engine's affine rule) over the bound parameters.

use super::Activation;
use crate::engine::fused::{affine_forward, Affine, AffineInputs};
use crate::engine::record::Records;
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
/// their values for the layers' rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leaves {
    pub(crate) first: u32,
    pub(crate) values_at: u32,
}

/// Recorded forward pass, each layer one fused node. Inputs are tape nodes (`input_nodes`) or
/// constants (`None`). See [`Scratch::output_nodes`] for the outputs.
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
    let mut offset = 0;
    for (l, shape) in shapes.iter().enumerate() {
        let (done, next) = Scratch::split(&mut s.layers, s.cur);
        let (nodes, values) = if l == 0 {
            (input_nodes, input_values)
        } else {
            (Some(&done.nodes[..]), &done.values[..])
        };
        let layer = &params[offset..offset + shape.parameter_count()];
        affine_forward(layer, values, shape.outputs, &mut s.z);
        // a_j = act(z_j), and d_j = act'(z_j) for the rule's reverse sweep
        s.d.clear();
        let op = shape.activation.rule(0.0).map(|(op, _)| op);
        for &z in &s.z {
            let (v, d) = shape.activation.rule(z).map_or((z, 1.0), |(_, rule)| rule);
            next.values.push(v);
            s.d.push(d);
        }
        let affine = Affine {
            inputs: 0,
            outputs: 0,
            input_nodes: AffineInputs::Constants,
            weights: leaves.first + offset as u32,
            weights_at: leaves.values_at + offset as u32,
            data_at: 0,
            activation: op,
        };
        let first = r.dense(affine, nodes, values, &next.values, &s.d);
        next.nodes.extend(first..first + shape.outputs as u32);
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
