//! The workloads with hand-derived gradients and no tape: the limit a tape can approach.
//!
//! Same math, same initial weights and the same forward summation order as the tapegrad
//! versions; only the gradient bookkeeping differs.

use super::data::*;
use super::with_tape::w2_outcome;
use super::Outcome;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// W1 as Victor Zhou writes it: nine named parameters and the chain rule spelled out.
pub struct W1 {
    initial: [f64; 9],
    /// w1 w2 b1, w3 w4 b2, w5 w6 b3 (the `Mlp::parameters()` order).
    pub p: [f64; 9],
}

impl W1 {
    pub fn new() -> Self {
        let initial: [f64; 9] = w1_parameters().try_into().unwrap();
        W1 {
            initial,
            p: initial,
        }
    }

    pub fn reset(&mut self) {
        self.p = self.initial;
    }

    fn feedforward(&self, x: [f64; 2]) -> f64 {
        let [w1, w2, b1, w3, w4, b2, w5, w6, b3] = self.p;
        let h1 = sigmoid(b1 + w1 * x[0] + w2 * x[1]);
        let h2 = sigmoid(b2 + w3 * x[0] + w4 * x[1]);
        sigmoid(b3 + w5 * h1 + w6 * h2)
    }

    pub fn train(&mut self) {
        for _ in 0..W1_EPOCHS {
            for (x, &y) in W1_INPUTS.iter().zip(&W1_TARGETS) {
                let [w1, w2, b1, w3, w4, b2, w5, w6, b3] = self.p;
                let h1 = sigmoid(b1 + w1 * x[0] + w2 * x[1]);
                let h2 = sigmoid(b2 + w3 * x[0] + w4 * x[1]);
                let o1 = sigmoid(b3 + w5 * h1 + w6 * h2);
                // dL/do1 = 2 (o1 - y); sigmoid'(z) = s (1 - s).
                let d_o1 = 2.0 * (o1 - y) * (o1 * (1.0 - o1));
                let d_h1 = d_o1 * w5 * (h1 * (1.0 - h1));
                let d_h2 = d_o1 * w6 * (h2 * (1.0 - h2));
                let g = [
                    d_h1 * x[0],
                    d_h1 * x[1],
                    d_h1,
                    d_h2 * x[0],
                    d_h2 * x[1],
                    d_h2,
                    d_o1 * h1,
                    d_o1 * h2,
                    d_o1,
                ];
                for (p, g) in self.p.iter_mut().zip(g) {
                    *p -= W1_LR * g;
                }
            }
        }
    }

    pub fn outcome(&self) -> Outcome {
        let loss = W1_INPUTS
            .iter()
            .zip(&W1_TARGETS)
            .map(|(&x, &y)| (self.feedforward(x) - y).powi(2))
            .fold(0.0, |s, l| s + l)
            / 4.0;
        Outcome {
            loss,
            accuracy: None,
            predictions: vec![
                self.feedforward([-7.0, -3.0]),
                self.feedforward([20.0, 2.0]),
            ],
            parameters: self.p.to_vec(),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Act {
    Tanh,
    Relu,
    Identity,
}

impl Act {
    fn apply(self, z: f64) -> f64 {
        match self {
            Act::Tanh => z.tanh(),
            Act::Relu => {
                if z < 0.0 {
                    0.0
                } else {
                    z
                }
            }
            Act::Identity => z,
        }
    }

    /// The derivative, from the activation's output `a`.
    fn derivative(self, a: f64) -> f64 {
        match self {
            Act::Tanh => 1.0 - a * a,
            Act::Relu => {
                if a > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Act::Identity => 1.0,
        }
    }
}

/// A dense MLP with hand-written backprop over flat buffers (parameters in `Mlp` order).
pub struct HandMlp {
    sizes: Vec<usize>,
    hidden: Act,
    output: Act,
    pub params: Vec<f64>,
    pub grads: Vec<f64>,
    /// `acts[l]`: the input of layer l (`acts[0]` is the sample), `acts[L]` the output.
    acts: Vec<Vec<f64>>,
    /// dLoss/d(activation) of each layer's output, then reused for dLoss/dz.
    deltas: Vec<Vec<f64>>,
}

impl HandMlp {
    pub fn new(sizes: &[usize], hidden: Act, output: Act, params: Vec<f64>) -> Self {
        HandMlp {
            sizes: sizes.to_vec(),
            hidden,
            output,
            grads: vec![0.0; params.len()],
            params,
            acts: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            deltas: sizes.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    fn act(&self, l: usize) -> Act {
        if l + 2 == self.sizes.len() {
            self.output
        } else {
            self.hidden
        }
    }

    /// z = ((b + w0 x0) + w1 x1) + ..., a = act(z), layer by layer; returns the output.
    pub fn forward(&mut self, x: &[f64]) -> &[f64] {
        self.acts[0].copy_from_slice(x);
        let mut offset = 0;
        for l in 0..self.sizes.len() - 1 {
            let (nin, act) = (self.sizes[l], self.act(l));
            let (before, after) = self.acts.split_at_mut(l + 1);
            let (input, out) = (&before[l], &mut after[0]);
            // All pre-activations first, then the activations: a libm call between two
            // neurons' chains of additions keeps the CPU from overlapping them.
            for a in out.iter_mut() {
                let p = &self.params[offset..offset + nin + 1];
                let mut z = p[nin];
                for (w, x) in p[..nin].iter().zip(input) {
                    z += w * x;
                }
                *a = z;
                offset += nin + 1;
            }
            for a in out.iter_mut() {
                *a = act.apply(*a);
            }
        }
        &self.acts[self.sizes.len() - 1]
    }

    /// Adds d(loss)/d(params) to `grads`, given d(loss)/d(output) of the last `forward`.
    pub fn backward(&mut self, d_output: &[f64]) {
        let layers = self.sizes.len() - 1;
        self.deltas[layers].copy_from_slice(d_output);
        let mut end = self.params.len();
        for l in (0..layers).rev() {
            let (nin, act) = (self.sizes[l], self.act(l));
            let nout = self.sizes[l + 1];
            let start = end - nout * (nin + 1);
            let (lower, upper) = self.deltas.split_at_mut(l + 1);
            let (d_in, d_out) = (&mut lower[l], &mut upper[0]);
            d_in.fill(0.0);
            let (input, output) = (&self.acts[l], &self.acts[l + 1]);
            let params = &self.params[start..end];
            let grads = &mut self.grads[start..end];
            for j in 0..nout {
                // dL/dz_j = dL/da_j * act'(a_j); a closed ReLU (or a zero error) adds nothing
                let dz = d_out[j] * act.derivative(output[j]);
                if dz == 0.0 {
                    continue;
                }
                let w = &params[j * (nin + 1)..j * (nin + 1) + nin];
                let g = &mut grads[j * (nin + 1)..(j + 1) * (nin + 1)];
                // dL/dw_ji = dz_j * x_i, dL/db_j = dz_j, dL/dx_i += dz_j * w_ji (not needed for
                // the first layer, whose inputs are data)
                if l == 0 {
                    for (g, x) in g.iter_mut().zip(input) {
                        *g += dz * x;
                    }
                } else {
                    for ((g, x), (d, w)) in g.iter_mut().zip(input).zip(d_in.iter_mut().zip(w)) {
                        *g += dz * x;
                        *d += dz * w;
                    }
                }
                g[nin] += dz;
            }
            end = start;
        }
    }

    /// `p -= lr * g` for every parameter, then zero the gradients.
    pub fn sgd(&mut self, lr: f64) {
        for (p, g) in self.params.iter_mut().zip(&mut self.grads) {
            *p -= lr * *g;
            *g = 0.0;
        }
    }
}

/// W2 by hand: hinge loss and L2 gradients derived by hand.
pub struct W2 {
    initial: Vec<f64>,
    pub net: HandMlp,
    moons: Moons,
}

impl W2 {
    pub fn new() -> Self {
        let initial = w2_parameters();
        W2 {
            net: HandMlp::new(&W2_SIZES, Act::Relu, Act::Identity, initial.clone()),
            initial,
            moons: w2_moons(),
        }
    }

    pub fn reset(&mut self) {
        self.net.params.copy_from_slice(&self.initial);
    }

    pub fn train(&mut self) {
        let scale = 1.0 / self.moons.labels.len() as f64;
        for k in 0..W2_STEPS {
            for (x, &y) in self.moons.points.iter().zip(&self.moons.labels) {
                let score = self.net.forward(x)[0];
                // d/dscore (1/n) relu(1 - y score) = -y / n where the hinge is open, else 0.
                if 1.0 + (-y) * score > 0.0 {
                    self.net.backward(&[scale * -y]);
                }
            }
            // d/dp alpha sum p^2 = 2 alpha p
            for (g, p) in self.net.grads.iter_mut().zip(&self.net.params) {
                *g += 2.0 * W2_ALPHA * p;
            }
            self.net.sgd(w2_learning_rate(k));
        }
    }

    pub fn outcome(&mut self) -> Outcome {
        let scores: Vec<f64> = (0..self.moons.points.len())
            .map(|i| self.net.forward(&self.moons.points[i])[0])
            .collect();
        w2_outcome(&self.moons, &scores, &self.net.params)
    }
}

/// W3 (batch 1) and W4 (batch 32) by hand.
pub struct Wide3 {
    initial: Vec<f64>,
    pub net: HandMlp,
    data: Wide,
    batch: usize,
    epochs: usize,
    d_out: Vec<f64>,
}

impl Wide3 {
    pub fn new(batch: usize) -> Self {
        let initial = w3_parameters();
        Wide3 {
            net: HandMlp::new(&W3_SIZES, Act::Tanh, Act::Identity, initial.clone()),
            initial,
            data: w3_data(),
            batch,
            epochs: if batch == 1 { W3_EPOCHS } else { W4_EPOCHS },
            d_out: vec![0.0; 10],
        }
    }

    pub fn reset(&mut self) {
        self.net.params.copy_from_slice(&self.initial);
    }

    pub fn train(&mut self) {
        let n = self.data.inputs.len();
        // Per-sample loss 0.1 sum_k (o_k - t_k)^2; the step's loss is the batch mean.
        let scale = 1.0 / self.batch as f64;
        for _ in 0..self.epochs {
            for start in (0..n).step_by(self.batch) {
                for i in start..(start + self.batch).min(n) {
                    let out = self.net.forward(&self.data.inputs[i]);
                    for ((d, o), t) in self.d_out.iter_mut().zip(out).zip(&self.data.targets[i]) {
                        *d = scale * (0.1 * (2.0 * (o - t)));
                    }
                    self.net.backward(&self.d_out);
                }
                self.net.sgd(W3_LR);
            }
        }
    }

    pub fn outcome(&mut self) -> Outcome {
        let n = self.data.inputs.len();
        let mut total = 0.0;
        let mut correct = 0;
        for i in 0..n {
            let out = self.net.forward(&self.data.inputs[i]);
            let sum = out
                .iter()
                .zip(&self.data.targets[i])
                .fold(0.0, |s, (o, t)| s + (o - t) * (o - t));
            total += 0.1 * sum;
            correct += usize::from(argmax(out.iter().copied()) == self.data.labels[i]);
        }
        Outcome {
            loss: total / n as f64,
            accuracy: Some(correct as f64 / n as f64),
            predictions: Vec::new(),
            parameters: self.net.params.clone(),
        }
    }
}
