//! micrograd's moons demo as a lab: two interleaved half-moons, an MLP with ReLU, tanh or
//! sigmoid hidden layers and a linear output, trained by full-batch gradient descent on the
//! mean hinge loss plus an L2 penalty, one slice of steps at a time.
//!
//! The defaults (100 points, noise 0.1, data seed 1337, 2-16-16-1 ReLU, weights from seed 1338)
//! are `examples/moons.rs`, which is W2 of `WORKLOADS.md`.

use crate::splitmix::{make_moons, SplitMix64};
use tapegrad::{hinge, l2, Activation, Loss, Mlp, Optimizer, Sgd, Tape};

/// Points in the demo's data set.
pub const POINTS: usize = 100;
/// SplitMix64 seed of the data (W2's).
pub const DATA_SEED: u64 = 1337;
/// SplitMix64 seed of the first initial weights (W2's); each reset takes the next seed.
pub const INIT_SEED: u64 = 1338;

/// The activation named on the page: "relu", "tanh" or "sigmoid".
pub fn activation(name: &str) -> Option<Activation> {
    match name {
        "relu" => Some(Activation::Relu),
        "tanh" => Some(Activation::Tanh),
        "sigmoid" => Some(Activation::Sigmoid),
        _ => None,
    }
}

/// One step's numbers, measured before its update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// Mean hinge loss plus the L2 penalty.
    pub loss: f64,
    /// Fraction of points whose score has the label's sign.
    pub accuracy: f64,
}

/// The data, the model and a reusable tape.
pub struct Lab {
    points: Vec<[f64; 2]>,
    labels: Vec<f64>,
    model: Mlp,
    tape: Tape,
    steps: usize,
}

impl Lab {
    /// Moons with this noise (data seed 1337) and a fresh `2-hidden-1` network whose weights
    /// are uniform(-1, 1) from SplitMix64 `init_seed`, biases 0, as micrograd initialises.
    pub fn new(
        hidden: &[usize],
        activation: Activation,
        noise: f64,
        init_seed: u64,
    ) -> tapegrad::Result<Self> {
        let (points, labels) = make_moons(POINTS, noise, DATA_SEED);
        let mut sizes = vec![2];
        sizes.extend_from_slice(hidden);
        sizes.push(1);
        let mut rng = SplitMix64::new(init_seed);
        let model = Mlp::with_init(&sizes, activation, Activation::Identity, |slot| {
            if slot.is_bias() {
                0.0
            } else {
                rng.uniform(-1.0, 1.0)
            }
        })?;
        Ok(Lab {
            points,
            labels,
            model,
            tape: Tape::new(),
            steps: 0,
        })
    }

    /// `n` full-batch gradient-descent steps at `learning_rate` with L2 coefficient `alpha`.
    ///
    /// # Errors
    ///
    /// [`tapegrad::Error::InvalidHyperparameter`] for a learning rate that is not positive and
    /// finite, [`tapegrad::Error::NonFiniteParameter`] if the run diverges (the model keeps the
    /// parameters of its last finite step).
    pub fn train(
        &mut self,
        n: usize,
        learning_rate: f64,
        alpha: f64,
    ) -> tapegrad::Result<Vec<StepReport>> {
        let mut sgd = Sgd::new(learning_rate)?;
        let mut reports = Vec::with_capacity(n);
        for _ in 0..n {
            {
                let bound = self.model.bind(&self.tape);
                let mut scores = Vec::with_capacity(self.points.len());
                for p in &self.points {
                    scores.push(bound.forward(p)?[0]);
                }
                let total = hinge(&scores, &self.labels)? + l2(&bound.parameters(), alpha)?;
                let correct = scores
                    .iter()
                    .zip(&self.labels)
                    .filter(|(s, y)| (s.value() > 0.0) == (**y > 0.0))
                    .count();
                reports.push(StepReport {
                    loss: total.value(),
                    accuracy: correct as f64 / self.labels.len() as f64,
                });
                let grads = total.backward();
                let dl_dp = bound.gradients(&grads);
                sgd.step(self.model.parameters_mut(), dl_dp)?;
            }
            self.tape.clear();
            self.steps += 1;
        }
        Ok(reports)
    }

    /// Loss and accuracy of the model as it stands.
    pub fn evaluate(&self, alpha: f64) -> tapegrad::Result<StepReport> {
        let scores = self.scores_at(&self.points)?;
        let reg = alpha * self.model.parameters().iter().map(|p| p * p).sum::<f64>();
        let correct = scores
            .iter()
            .zip(&self.labels)
            .filter(|(s, y)| (**s > 0.0) == (**y > 0.0))
            .count();
        Ok(StepReport {
            loss: Loss::Hinge.eval(&scores, &self.labels)? + reg,
            accuracy: correct as f64 / self.labels.len() as f64,
        })
    }

    fn scores_at(&self, points: &[[f64; 2]]) -> tapegrad::Result<Vec<f64>> {
        points
            .iter()
            .map(|p| Ok(self.model.predict(p)?[0]))
            .collect()
    }

    /// The score on an `nx` by `ny` grid over `[x0, x1] x [y0, y1]`, row by row from the top
    /// (`y1`) down, each row left to right: a picture's pixel order. Cell centres are sampled.
    pub fn grid(
        &self,
        (x0, x1): (f64, f64),
        (y0, y1): (f64, f64),
        nx: usize,
        ny: usize,
    ) -> tapegrad::Result<Vec<f64>> {
        let mut out = Vec::with_capacity(nx * ny);
        for r in 0..ny {
            let y = y1 - (y1 - y0) * (r as f64 + 0.5) / ny as f64;
            for c in 0..nx {
                let x = x0 + (x1 - x0) * (c as f64 + 0.5) / nx as f64;
                out.push(self.model.predict(&[x, y])?[0]);
            }
        }
        Ok(out)
    }

    /// The points, flattened `x, y, x, y, ...`.
    pub fn points(&self) -> Vec<f64> {
        self.points.iter().flatten().copied().collect()
    }

    /// The labels, -1 (outer moon) or +1 (inner).
    pub fn labels(&self) -> &[f64] {
        &self.labels
    }

    /// Steps taken since the lab was made.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The number of parameters of the model.
    pub fn parameter_count(&self) -> usize {
        self.model.parameter_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page's default settings reach 100% training accuracy, as the browser test expects.
    #[test]
    fn defaults_separate_the_moons() {
        let mut lab = Lab::new(&[16, 16], Activation::Relu, 0.1, INIT_SEED).unwrap();
        let first = lab.train(1, 0.1, 1e-4).unwrap()[0];
        lab.train(299, 0.1, 1e-4).unwrap();
        let last = lab.evaluate(1e-4).unwrap();
        assert!(first.accuracy < 1.0);
        assert_eq!(last.accuracy, 1.0, "after 300 steps: {last:?}");
        assert!(last.loss < first.loss / 10.0, "{first:?} -> {last:?}");
        assert_eq!(lab.steps(), 300);
    }

    /// The grid's pixel order: its first cell is the top-left corner, its last the
    /// bottom-right, each the model's own score there.
    #[test]
    fn grid_is_in_pixel_order() {
        let lab = Lab::new(&[4], Activation::Tanh, 0.1, 7).unwrap();
        let g = lab.grid((-2.0, 2.0), (-1.0, 1.0), 4, 2).unwrap();
        assert_eq!(g.len(), 8);
        assert_eq!(g[0], lab.model.predict(&[-1.5, 0.5]).unwrap()[0]);
        assert_eq!(g[7], lab.model.predict(&[1.5, -0.5]).unwrap()[0]);
    }

    #[test]
    fn the_data_are_the_examples_moons() {
        let lab = Lab::new(&[2], Activation::Relu, 0.1, INIT_SEED).unwrap();
        let (points, labels) = make_moons(100, 0.1, 1337);
        assert_eq!(lab.points().len(), 200);
        assert_eq!(lab.points()[..2], points[0]);
        assert_eq!(lab.labels(), &labels[..]);
        assert_eq!(lab.parameter_count(), 2 * 2 + 2 + 2 + 1);
    }
}
