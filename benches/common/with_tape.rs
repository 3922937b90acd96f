//! The workloads written with tapegrad's public API, as a user would write them.
//!
//! Setup (data, model, trainer) happens in `new`; `train` is the timed part and starts from the
//! initial weights every time (`reset` copies them back, untimed).

use super::data::*;
use super::Outcome;
#[cfg(feature = "parallel")]
use tapegrad::BatchGradient;
use tapegrad::{
    hinge, l2, Activation, Dataset, Gradients, Loss, Mlp, Optimizer, Sgd, Tape, TrainConfig,
    Trainer, Value,
};

/// W1 with `Trainer`: per-sample SGD, 1000 epochs.
pub struct W1 {
    initial: Vec<f64>,
    pub model: Mlp,
    pub data: Dataset,
    pub trainer: Trainer,
    pub sgd: Sgd,
}

impl W1 {
    pub fn new() -> Self {
        let initial = w1_parameters();
        let model = Mlp::from_parameters(
            &[2, 2, 1],
            Activation::Sigmoid,
            Activation::Sigmoid,
            &initial,
        )
        .unwrap();
        let targets: Vec<[f64; 1]> = W1_TARGETS.iter().map(|&t| [t]).collect();
        W1 {
            initial,
            model,
            data: Dataset::new(&W1_INPUTS, &targets).unwrap(),
            trainer: Trainer::new(TrainConfig::default().epochs(W1_EPOCHS)).unwrap(),
            sgd: Sgd::new(W1_LR).unwrap(),
        }
    }

    pub fn reset(&mut self) {
        self.model.set_parameters(&self.initial).unwrap();
    }

    pub fn train(&mut self) {
        self.trainer
            .fit(&mut self.model, &mut self.sgd, &self.data, |_| {})
            .unwrap();
    }

    pub fn outcome(&self) -> Outcome {
        let predict = |x: [f64; 2]| self.model.predict(&x).unwrap()[0];
        Outcome {
            loss: self.model.loss(&self.data, Loss::Mse).unwrap(),
            accuracy: None,
            predictions: vec![predict([-7.0, -3.0]), predict([20.0, 2.0])],
            parameters: self.model.parameters().to_vec(),
        }
    }

    /// Records one training step (sample 0) on `tape` the way `Trainer` does.
    pub fn record_step(&self, tape: &Tape) {
        let bound = self.model.bind(tape);
        let out = bound.forward(self.data.input(0)).unwrap();
        let _ = tapegrad::mse(&out, self.data.target(0)).unwrap().backward();
    }
}

/// W2 as a user writes it: bound forward passes, the fused `hinge` and `l2` loss nodes, full
/// batch, 100 steps.
pub struct W2 {
    initial: Vec<f64>,
    pub model: Mlp,
    moons: Moons,
    tape: Tape,
    grads: Gradients,
    /// Peak of `tape.memory_bytes()`, then nodes, edges and `bytes_used()` of one step (filled by
    /// `train`).
    pub stats: (usize, usize, usize, usize),
}

impl W2 {
    pub fn new() -> Self {
        let initial = w2_parameters();
        let model =
            Mlp::from_parameters(&W2_SIZES, Activation::Relu, Activation::Identity, &initial)
                .unwrap();
        W2 {
            initial,
            model,
            moons: w2_moons(),
            tape: Tape::new(),
            grads: Gradients::new(),
            stats: (0, 0, 0, 0),
        }
    }

    pub fn reset(&mut self) {
        self.model.set_parameters(&self.initial).unwrap();
    }

    pub fn train(&mut self) {
        for k in 0..W2_STEPS {
            self.tape.clear();
            let tape = &self.tape;
            let bound = self.model.bind(tape);
            // data_loss = (1/n) sum_i relu(1 + (-y_i) * score_i): the full batch through the
            // model at once, then the library's fused hinge node
            let scores = bound.forward_batch(&self.moons.points).unwrap();
            let data_loss = hinge(&scores, &self.moons.labels).unwrap();
            // reg_loss = alpha * sum_p p * p: the library's fused L2 node
            let reg_loss = l2(&bound.parameters(), W2_ALPHA).unwrap();
            let total = data_loss + reg_loss;
            total.backward_into(&mut self.grads);
            self.stats = (
                tape.memory_bytes(),
                tape.len(),
                tape.edge_count(),
                tape.bytes_used(),
            );
            let g = bound.gradients(&self.grads);
            Sgd::new(w2_learning_rate(k))
                .unwrap()
                .step(self.model.parameters_mut(), g)
                .unwrap();
        }
    }

    pub fn outcome(&self) -> Outcome {
        let scores: Vec<f64> = (self.moons.points.iter())
            .map(|x| self.model.predict(x).unwrap()[0])
            .collect();
        w2_outcome(&self.moons, &scores, self.model.parameters())
    }
}

/// W2's final loss and accuracy from the trained model's scores (plain `f64`, the same order
/// of operations as the recorded loss).
pub fn w2_outcome(moons: &Moons, scores: &[f64], params: &[f64]) -> Outcome {
    let mut data_loss = 0.0;
    let mut correct = 0;
    for (&s, &y) in scores.iter().zip(&moons.labels) {
        let m = 1.0 + (-y) * s;
        data_loss += if m < 0.0 { 0.0 } else { m };
        correct += usize::from((y > 0.0) == (s > 0.0));
    }
    let data_loss = data_loss * (1.0 / scores.len() as f64);
    let reg_loss = W2_ALPHA * params.iter().fold(0.0, |s, p| s + p * p);
    Outcome {
        loss: data_loss + reg_loss,
        accuracy: Some(correct as f64 / scores.len() as f64),
        predictions: Vec::new(),
        parameters: params.to_vec(),
    }
}

/// W3 (batch 1) and W4 (batch 32) with `Trainer`.
pub struct Wide3 {
    initial: Vec<f64>,
    pub model: Mlp,
    pub data: Dataset,
    labels: Vec<usize>,
    pub trainer: Trainer,
    pub sgd: Sgd,
}

impl Wide3 {
    pub fn new(batch_size: usize) -> Self {
        let wide = w3_data();
        let initial = w3_parameters();
        let model =
            Mlp::from_parameters(&W3_SIZES, Activation::Tanh, Activation::Identity, &initial)
                .unwrap();
        let epochs = if batch_size == 1 {
            W3_EPOCHS
        } else {
            W4_EPOCHS
        };
        let config = TrainConfig::default().epochs(epochs).batch_size(batch_size);
        Wide3 {
            initial,
            model,
            data: Dataset::new(&wide.inputs, &wide.targets).unwrap(),
            labels: wide.labels,
            trainer: Trainer::new(config).unwrap(),
            sgd: Sgd::new(W3_LR).unwrap(),
        }
    }

    pub fn reset(&mut self) {
        self.model.set_parameters(&self.initial).unwrap();
    }

    pub fn train(&mut self) {
        self.trainer
            .fit(&mut self.model, &mut self.sgd, &self.data, |_| {})
            .unwrap();
    }

    pub fn outcome(&self) -> Outcome {
        wide_outcome(&self.model, &self.data, &self.labels)
    }

    /// Records one training step (the first `batch` samples) on `tape` the way `Trainer` does.
    pub fn record_step(&self, tape: &Tape, batch: usize) {
        let bound = self.model.bind(tape);
        let losses: Vec<Value> = (0..batch)
            .map(|i| {
                let out = bound.forward(self.data.input(i)).unwrap();
                tapegrad::mse(&out, self.data.target(i)).unwrap()
            })
            .collect();
        let mean = if batch == 1 {
            losses[0]
        } else {
            tape.sum(&losses) * (1.0 / batch as f64)
        };
        let _ = mean.backward();
    }
}

/// W4 with `BatchGradient`: each mini-batch's mean gradient computed by `threads` threads.
#[cfg(feature = "parallel")]
pub struct W4Parallel {
    initial: Vec<f64>,
    pub model: Mlp,
    pub data: Dataset,
    labels: Vec<usize>,
    batch: BatchGradient,
    grads: Vec<f64>,
    sgd: Sgd,
}

#[cfg(feature = "parallel")]
impl W4Parallel {
    pub fn new(threads: usize) -> Self {
        let wide = w3_data();
        let initial = w3_parameters();
        let model =
            Mlp::from_parameters(&W3_SIZES, Activation::Tanh, Activation::Identity, &initial)
                .unwrap();
        W4Parallel {
            grads: vec![0.0; initial.len()],
            initial,
            model,
            data: Dataset::new(&wide.inputs, &wide.targets).unwrap(),
            labels: wide.labels,
            batch: BatchGradient::new(threads).unwrap(),
            sgd: Sgd::new(W4_LR).unwrap(),
        }
    }

    pub fn reset(&mut self) {
        self.model.set_parameters(&self.initial).unwrap();
    }

    /// Trains for `epochs` epochs of `data.len() / 32` steps.
    pub fn train_epochs(&mut self, epochs: usize) {
        for _ in 0..epochs {
            for start in (0..self.data.len()).step_by(W4_BATCH) {
                let samples = start..start + W4_BATCH;
                self.batch
                    .mean_gradient(&self.model, &self.data, samples, Loss::Mse, &mut self.grads)
                    .unwrap();
                self.sgd
                    .step(self.model.parameters_mut(), &self.grads)
                    .unwrap();
            }
        }
    }

    pub fn train(&mut self) {
        self.train_epochs(W4_EPOCHS);
    }

    pub fn outcome(&self) -> Outcome {
        wide_outcome(&self.model, &self.data, &self.labels)
    }
}

/// W3/W4's final MSE (mean over samples of `0.1 sum_k (o_k - t_k)^2`) and training accuracy.
pub fn wide_outcome(model: &Mlp, data: &Dataset, labels: &[usize]) -> Outcome {
    let correct = (0..data.len())
        .filter(|&i| argmax(model.predict(data.input(i)).unwrap()) == labels[i])
        .count();
    Outcome {
        loss: model.loss(data, Loss::Mse).unwrap(),
        accuracy: Some(correct as f64 / data.len() as f64),
        predictions: Vec::new(),
        parameters: model.parameters().to_vec(),
    }
}
