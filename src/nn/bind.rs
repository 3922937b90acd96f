use super::dense::{
    check_input, record_stack, record_stack_batch, BatchScratch, Leaves, Scratch, Shape,
};
use crate::engine::ops::Operand;
use crate::engine::{Gradients, Tape, Value};
use crate::error::{Error, Result};
use std::fmt;

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
        // Layers after the first always take recorded inputs, so their rules read their
        // weights: those are stored now. The first layer's are stored only if a forward pass
        // gives it recorded inputs (`record_stack`).
        let later = shapes[0].parameter_count();
        let (first, values_at) = tape.with_records(|r| r.kept_leaves(params, later));
        Bound {
            tape,
            shapes,
            params,
            leaves: Leaves { first, values_at },
        }
    }

    /// The binding of `params` (with the layers `shapes`) to the leaves `leaves`, already on
    /// `tape` from an earlier [`Bound::new`] of a model of these shapes: the values its layers'
    /// rules read are rewritten from `params`; nothing is recorded.
    #[inline]
    pub(crate) fn rebind(
        tape: &'t Tape,
        shapes: &'m [Shape],
        params: &'m [f64],
        leaves: Leaves,
    ) -> Self {
        let later = shapes[0].parameter_count();
        tape.with_records(|r| r.rewrite_kept(leaves.values_at, &params[later..]));
        Bound {
            tape,
            shapes,
            params,
            leaves,
        }
    }

    /// Where the parameters are on the tape.
    pub(crate) fn leaves(&self) -> Leaves {
        self.leaves
    }

    /// Records a forward pass on plain inputs (constants: they get no gradient).
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`](crate::Error::InputSize) if `x` does not have the model's input size,
    /// [`Error::NonFiniteInput`](crate::Error::NonFiniteInput) naming the first NaN or infinite
    /// value.
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
        // A per-thread scratch, so that per-sample calls do not allocate the layer buffers
        // each time (for small layers that costs more than the arithmetic). Only the returned
        // `Vec` is allocated.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
        }
        SCRATCH.with(|s| {
            let s = &mut s.borrow_mut();
            self.record(None, x, s)?;
            Ok(self.wrap(s))
        })
    }

    /// Records a forward pass of a batch of plain inputs (constants, one row per sample),
    /// each layer one node over the whole batch, whose rules are matrix products. The outputs
    /// come sample by sample: with `m` model outputs, sample i's are `out[i * m..(i + 1) * m]`.
    ///
    /// Each output has the same value, bit for bit, as [`Bound::forward`] gives for its row
    /// alone; the gradients agree to rounding (the batch sums over its samples in another
    /// order; where they overflow, one may be inf where the other is NaN). A [traced](Tape::traced) tape records the rows one by one, as
    /// [`Bound::forward`] would, so that every node can be inspected.
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`](crate::Error::InputSize) if a row does not have the model's input
    /// size, [`Error::NonFiniteData`](crate::Error::NonFiniteData) naming the sample and
    /// position of the first NaN or infinite value.
    ///
    /// ```
    /// use tapegrad::{hinge, Activation, Mlp, Tape};
    /// let model = Mlp::from_parameters(&[2, 1], Activation::Identity, Activation::Identity, &[1.0, -1.0, 0.5])?;
    /// let tape = Tape::new();
    /// let bound = model.bind(&tape);
    /// let scores = bound.forward_batch(&[[1.0, 2.0], [3.0, 0.5], [0.0, 0.0]])?;
    /// assert_eq!(scores.iter().map(|s| s.value()).collect::<Vec<_>>(), [-0.5, 3.0, 0.5]);
    /// let loss = hinge(&scores, &[1.0, 1.0, -1.0])?; // (1.5 + 0 + 1.5) / 3
    /// assert_eq!(loss.value(), 1.0);
    /// assert_eq!(bound.gradients(&loss.backward()), &[-1.0 / 3.0, -2.0 / 3.0, 0.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn forward_batch<X: AsRef<[f64]>>(&self, rows: &[X]) -> Result<Vec<Value<'t>>> {
        for (sample, row) in rows.iter().enumerate() {
            check_input(self.shapes, row.as_ref()).map_err(|e| match e {
                Error::NonFiniteInput { position, value } => Error::NonFiniteData {
                    sample,
                    what: "input",
                    position,
                    value,
                },
                other => other,
            })?;
        }
        let outputs = self.shapes[self.shapes.len() - 1].outputs;
        let mut out = Vec::with_capacity(rows.len() * outputs);
        if rows.len() <= 1 || self.tape.is_traced() {
            for row in rows {
                out.extend(self.forward(row.as_ref())?);
            }
            return Ok(out);
        }
        thread_local! {
            static BATCH: std::cell::RefCell<BatchScratch> = std::cell::RefCell::default();
        }
        BATCH.with(|s| {
            let s = &mut s.borrow_mut();
            self.record_batch(rows.iter().map(AsRef::as_ref), rows.len(), s);
            for i in 0..rows.len() {
                let (nodes, values) = s.sample(i);
                let value = |(&node, &v): (&u32, &f64)| Value::new(self.tape, node, v);
                out.extend(nodes.iter().zip(values).map(value));
            }
        });
        Ok(out)
    }

    /// Records a forward pass on recorded inputs, so gradients flow into them too.
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`](crate::Error::InputSize) if `x` does not have the model's input size,
    /// [`Error::NonFiniteInput`](crate::Error::NonFiniteInput) naming the first NaN or infinite
    /// value.
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

    /// Records the same forward pass as [`Bound::forward`] (or [`Bound::forward_values`], for
    /// recorded inputs) from public scalar ops, neuron by
    /// neuron (`z = ((b + w0 x0) + w1 x1) + ...`, then the activation), instead of one fused
    /// node per layer: the graph a learner draws by hand, for [graph exports](crate::Graphviz). The
    /// values and gradients are the same bit for bit: each fused rule multiplies the same
    /// numbers in the same order as the chain of scalar nodes, whose adds pass gradients on
    /// times exactly 1. (Where a pre-activation overflows, so that the outputs are already
    /// NaN or infinite, the two may differ as NaN against 0 or inf: the chain of scalar nodes
    /// skips a zero gradient node by node where the fused rule multiplies it out.)
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`](crate::Error::InputSize) if `x` does not have the model's input size,
    /// [`Error::NonFiniteInput`](crate::Error::NonFiniteInput) naming the first NaN or infinite
    /// value.
    ///
    /// # Panics
    ///
    /// If an input is a `Value` from another tape.
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp, Tape};
    /// let net = Mlp::from_parameters(&[2, 1], Activation::Sigmoid, Activation::Sigmoid, &[0.0, 1.0, 4.0])?;
    /// let tape = Tape::traced();
    /// let bound = net.bind(&tape);
    /// let fused = bound.forward(&[2.0, 3.0])?[0];
    /// let unfused = bound.forward_unfused(&[2.0, 3.0])?[0];
    /// assert_eq!(fused.value(), unfused.value());
    /// assert_eq!(bound.gradients(&fused.backward()), bound.gradients(&unfused.backward()));
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[track_caller]
    pub fn forward_unfused<X: Operand>(&self, x: &[X]) -> Result<Vec<Value<'t>>> {
        let values: Vec<f64> = x.iter().map(|v| v.value()).collect();
        check_input(self.shapes, &values)?;
        let params = self.parameters();
        // w * x for a recorded input, w times a constant for a plain one.
        let times = |w: Value<'t>, x: X| match x.node(self.tape) {
            Some(node) => w * Value::new(self.tape, node, x.value()),
            None => w * x.value(),
        };
        let mut layer_inputs: Vec<Value<'t>> = Vec::new();
        let mut offset = 0;
        for (l, shape) in self.shapes.iter().enumerate() {
            let layer = &params[offset..offset + shape.parameter_count()];
            let neuron = |row: &[Value<'t>]| {
                let (weights, bias) = row.split_at(shape.inputs);
                let mut z = bias[0];
                for (k, &w) in weights.iter().enumerate() {
                    z += if l == 0 {
                        times(w, x[k])
                    } else {
                        w * layer_inputs[k]
                    };
                }
                shape.activation.on(z)
            };
            let outputs = layer.chunks_exact(shape.inputs + 1).map(neuron).collect();
            layer_inputs = outputs;
            offset += layer.len();
        }
        Ok(layer_inputs)
    }

    /// Allocation-free forward pass of inputs `x` (the values of `nodes`, or constants), after
    /// checking them.
    pub(crate) fn record(&self, nodes: Option<&[u32]>, x: &[f64], s: &mut Scratch) -> Result<()> {
        check_input(self.shapes, x)?;
        self.record_checked(nodes, x, s);
        Ok(())
    }

    /// [`Bound::record`] of inputs already checked: the training loop's, whose rows come from
    /// a [`Dataset`](crate::Dataset) (finite by construction) checked against the model
    /// before the first step.
    #[inline]
    pub(crate) fn record_checked(&self, nodes: Option<&[u32]>, x: &[f64], s: &mut Scratch) {
        self.tape
            .with_records(|r| record_stack(r, self.shapes, self.params, self.leaves, nodes, x, s));
    }

    /// Allocation-free forward pass of a batch of plain inputs (sizes and values already
    /// checked) for the training loop: each layer one node over the batch.
    pub(crate) fn record_batch<'x>(
        &self,
        rows: impl Iterator<Item = &'x [f64]>,
        batch: usize,
        s: &mut BatchScratch,
    ) {
        self.tape.with_records(|r| {
            record_stack_batch(r, self.shapes, self.params, self.leaves, rows, batch, s)
        });
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
    #[inline]
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
        &grads.as_slice()[first..first + self.params.len()]
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
