//! Code written the way micrograd users write it: every parameter a `tape.var` each step,
//! `z = z + w * x` chains, the loss as `+` of squares, SGD by hand from `grads[p]`. This is the
//! engine's general path (no fused layer, no `Mlp`), measured against the same hand-written twin.

use super::data::*;
use super::Outcome;
use tapegrad::{Gradients, Tape, Value};

/// micrograd's README expression with its constants as leaves (as BurTorch builds it), recorded
/// on `tape`; returns `(g, a, b)`. micrograd's README prints g = 24.7041, dg/da = 138.8338 and
/// dg/db = 645.5773.
// Written as micrograd's README writes it (`c += c + 1` is `c = c + (c + 1)`).
#[allow(clippy::misrefactored_assign_op)]
#[inline(always)]
fn expression(tape: &Tape) -> (Value<'_>, Value<'_>, Value<'_>) {
    let a = tape.var(-4.0);
    let b = tape.var(2.0);
    let (one, two, three, ten) = (tape.var(1.0), tape.var(2.0), tape.var(3.0), tape.var(10.0));
    let mut c = a + b;
    let mut d = a * b + b.powi(3);
    c += c + one;
    c += one + c + (-a);
    d += d * two + (b + a).relu();
    d += three * d + (b - a).relu();
    let e = c - d;
    let f = e.powi(2);
    let mut g = f / two;
    g += ten / f;
    (g, a, b)
}

/// The expression's forward and backward on a cleared `tape`, into `grads`; returns
/// `(g, dg/da, dg/db)`.
#[inline(never)]
pub fn micrograd_expression(tape: &Tape, grads: &mut Gradients) -> (f64, f64, f64) {
    let (g, a, b) = expression(tape);
    g.backward_into(grads);
    (g.value(), grads[a], grads[b])
}

/// The same on a new tape with `y.backward()`, the micrograd habit.
#[inline(never)]
pub fn micrograd_expression_new_tape() -> (f64, f64, f64) {
    let tape = Tape::new();
    let (g, a, b) = expression(&tape);
    let grads = g.backward();
    (g.value(), grads[a], grads[b])
}

/// W3 written micrograd-style: the network is `Vec<Vec<Vec<f64>>>` (layer, neuron, weights then
/// bias), put on a tape as leaves every sample.
pub struct W3Naive {
    initial: Vec<Vec<Vec<f64>>>,
    layers: Vec<Vec<Vec<f64>>>,
    data: Wide,
    /// A new `Tape` per sample (the micrograd habit) or one tape cleared between samples.
    new_tape_per_sample: bool,
}

impl W3Naive {
    pub fn new(new_tape_per_sample: bool) -> Self {
        let flat = w3_parameters();
        let mut at = 0;
        let layers: Vec<Vec<Vec<f64>>> = W3_SIZES
            .windows(2)
            .map(|w| {
                (0..w[1])
                    .map(|_| {
                        at += w[0] + 1;
                        flat[at - w[0] - 1..at].to_vec()
                    })
                    .collect()
            })
            .collect();
        W3Naive {
            initial: layers.clone(),
            layers,
            data: w3_data(),
            new_tape_per_sample,
        }
    }

    pub fn reset(&mut self) {
        self.layers.clone_from(&self.initial);
    }

    pub fn train(&mut self) {
        let mut reused = Tape::new();
        for _ in 0..W3_EPOCHS {
            for i in 0..self.data.inputs.len() {
                if self.new_tape_per_sample {
                    self.step(&Tape::new(), i);
                } else {
                    reused.clear();
                    self.step(&reused, i);
                }
            }
        }
    }

    /// One SGD step on sample `i`.
    pub fn step(&mut self, tape: &Tape, i: usize) {
        let params: Vec<Vec<Vec<Value>>> = (self.layers.iter())
            .map(|layer| {
                let neuron = |n: &Vec<f64>| n.iter().map(|&p| tape.var(p)).collect();
                layer.iter().map(neuron).collect()
            })
            .collect();
        let last = params.len() - 1;
        let x = &self.data.inputs[i];
        let mut h: Vec<Value> = Vec::new();
        for (l, layer) in params.iter().enumerate() {
            let out = layer.iter().map(|neuron| {
                let (w, b) = neuron.split_at(neuron.len() - 1);
                let mut z = b[0];
                for (k, &wk) in w.iter().enumerate() {
                    z = if l == 0 { z + wk * x[k] } else { z + wk * h[k] };
                }
                if l == last {
                    z
                } else {
                    z.tanh()
                }
            });
            h = out.collect();
        }
        let t = &self.data.targets[i];
        let mut sum = (-t[0] + h[0]).powi(2);
        for k in 1..h.len() {
            sum += (-t[k] + h[k]).powi(2);
        }
        let loss = 0.1 * sum;
        let grads = loss.backward();
        for (layer, values) in self.layers.iter_mut().zip(&params) {
            for (neuron, values) in layer.iter_mut().zip(values) {
                for (p, &v) in neuron.iter_mut().zip(values) {
                    *p -= W3_LR * grads[v];
                }
            }
        }
    }

    /// The trained network's parameters in `Mlp` order.
    pub fn parameters(&self) -> Vec<f64> {
        self.layers.iter().flatten().flatten().copied().collect()
    }

    pub fn outcome(&self) -> Outcome {
        let model = tapegrad::Mlp::from_parameters(
            &W3_SIZES,
            tapegrad::Activation::Tanh,
            tapegrad::Activation::Identity,
            &self.parameters(),
        )
        .unwrap();
        let dataset = tapegrad::Dataset::new(&self.data.inputs, &self.data.targets).unwrap();
        super::with_tape::wide_outcome(&model, &dataset, &self.data.labels)
    }
}
