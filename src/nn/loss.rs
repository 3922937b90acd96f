//! Loss functions, each recorded as one fused node, and L2 regularisation.
//!
//! | loss | per output `o` (score or logit) with target `t` | local derivative |
//! |---|---|---|
//! | [`mse`] | `(o - t)^2` | `2 (o - t)` |
//! | [`hinge`] | `max(0, 1 - t o)`, `t` is -1 or +1 | `-t` where `1 - t o > 0`, else 0 |
//! | [`bce_with_logits`] | `max(o, 0) - o t + ln(1 + e^-abs(o))`, `t` in [0, 1] | `sigmoid(o) - t` |
//!
//! Each is the mean over the outputs (each derivative is divided by their number `n`).
//! [`l2`] adds `lambda * sum p^2` over a model's parameters.

use crate::engine::record::Records;
use crate::engine::{Op, Tape, Value};
use crate::error::{Error, Result};

/// The loss a [`Trainer`](crate::Trainer) minimises.
///
/// ```
/// use tapegrad::Loss;
/// assert_eq!(Loss::Mse.eval(&[0.5, 1.0], &[1.0, 1.0])?, 0.125);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Loss {
    /// Mean squared error over the outputs, [`mse`].
    #[default]
    Mse,
    /// Hinge (max-margin) loss on scores with -1/+1 labels, [`hinge`].
    Hinge,
    /// Binary cross-entropy on logits with labels in [0, 1], [`bce_with_logits`].
    BceWithLogits,
}

impl Loss {
    /// The loss of plain outputs against targets.
    ///
    /// # Errors
    ///
    /// [`Error::TargetSize`] if the lengths differ, [`Error::EmptyDataset`] if both are empty,
    /// [`Error::InvalidTarget`] if a target does not suit the loss ([`Loss::check_targets`]).
    ///
    /// ```
    /// assert!(tapegrad::Loss::Mse.eval(&[1.0], &[1.0, 2.0]).is_err());
    /// ```
    pub fn eval(self, outputs: &[f64], targets: &[f64]) -> Result<f64> {
        check_lengths(outputs.len(), targets.len())?;
        self.check_targets(0, targets)?;
        Ok(self.rule(outputs, targets, |_, _| {}))
    }

    /// Whether the loss is a two-class classification loss, for which an accuracy makes sense:
    /// an output counts as right when it is on the target's side of the boundary (score > 0
    /// for target +1 with [`Loss::Hinge`], logit > 0 for target > 0.5 with
    /// [`Loss::BceWithLogits`]).
    ///
    /// ```
    /// use tapegrad::Loss;
    /// assert!(!Loss::Mse.is_classification());
    /// assert!(Loss::Hinge.is_classification());
    /// assert_eq!(Loss::BceWithLogits.is_correct(0.3, 1.0), Some(true));
    /// assert_eq!(Loss::Hinge.is_correct(0.3, -1.0), Some(false));
    /// assert_eq!(Loss::Mse.is_correct(0.3, 1.0), None);
    /// ```
    #[must_use]
    pub fn is_classification(self) -> bool {
        !matches!(self, Loss::Mse)
    }

    /// Whether `output` classifies `target` correctly (see [`Loss::is_classification`]);
    /// `None` for a regression loss.
    ///
    /// ```
    /// assert_eq!(tapegrad::Loss::Hinge.is_correct(-2.0, -1.0), Some(true));
    /// ```
    #[must_use]
    pub fn is_correct(self, output: f64, target: f64) -> Option<bool> {
        match self {
            Loss::Mse => None,
            Loss::Hinge => Some((output > 0.0) == (target > 0.0)),
            Loss::BceWithLogits => Some((output > 0.0) == (target > 0.5)),
        }
    }

    /// Checks that every target is one this loss accepts: finite for [`Loss::Mse`], -1 or +1
    /// for [`Loss::Hinge`], in [0, 1] for [`Loss::BceWithLogits`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTarget`] naming `sample` and the position of the first bad target.
    ///
    /// ```
    /// use tapegrad::{Error, Loss};
    /// assert!(Loss::Hinge.check_targets(0, &[1.0, -1.0]).is_ok());
    /// let err = Loss::Hinge.check_targets(7, &[1.0, 0.0]).unwrap_err();
    /// assert_eq!(err.to_string(), "sample 7 has target 0 at position 1, but the hinge loss needs -1 or +1");
    /// ```
    pub fn check_targets(self, sample: usize, targets: &[f64]) -> Result<()> {
        let (ok, requirement): (fn(f64) -> bool, &'static str) = match self {
            Loss::Mse => (f64::is_finite, "the mse loss needs a finite value"),
            Loss::Hinge => (|t| t == 1.0 || t == -1.0, "the hinge loss needs -1 or +1"),
            Loss::BceWithLogits => (
                |t| (0.0..=1.0).contains(&t),
                "binary cross-entropy needs a value in [0, 1]",
            ),
        };
        match targets.iter().position(|&t| !ok(t)) {
            None => Ok(()),
            Some(position) => Err(Error::InvalidTarget {
                sample,
                position,
                value: targets[position],
                requirement,
            }),
        }
    }

    /// The loss's forward rule; `edge(k, d)` receives each output's partial derivative.
    #[inline]
    fn rule(self, outputs: &[f64], targets: &[f64], edge: impl FnMut(usize, f64)) -> f64 {
        match self {
            Loss::Mse => mse_rule(outputs, targets, edge),
            Loss::Hinge => hinge_rule(outputs, targets, edge),
            Loss::BceWithLogits => bce_rule(outputs, targets, edge),
        }
    }

    /// Records the loss of `outputs` (nodes and their values) against `targets`; lengths must
    /// already be checked.
    pub(crate) fn record(
        self,
        r: &mut Records,
        nodes: &[u32],
        values: &[f64],
        targets: &[f64],
    ) -> (u32, f64) {
        let loss = self.rule(values, targets, |k, d| r.edge(nodes[k], d));
        (r.finish(Op::Loss, loss), loss)
    }
}

/// MSE = (1/n) * sum_k (o_k - t_k)^2, summed left to right;  dMSE/do_k = (1/n) * 2 (o_k - t_k)
///
/// `edge(k, d)` receives each output's partial derivative.
#[inline]
fn mse_rule(outputs: &[f64], targets: &[f64], mut edge: impl FnMut(usize, f64)) -> f64 {
    let scale = 1.0 / outputs.len() as f64;
    let mut sum = 0.0;
    for (k, (o, t)) in outputs.iter().zip(targets).enumerate() {
        let d = o - t;
        sum += d * d;
        edge(k, scale * (2.0 * d));
    }
    scale * sum
}

/// hinge = (1/n) * sum_k max(0, 1 - t_k o_k);  d/do_k = (1/n) * (-t_k if 1 - t_k o_k > 0 else 0)
///
/// The margin is computed as `1 + (-t) * o`, the order of micrograd's demo.
#[inline]
fn hinge_rule(outputs: &[f64], targets: &[f64], mut edge: impl FnMut(usize, f64)) -> f64 {
    let scale = 1.0 / outputs.len() as f64;
    let mut sum = 0.0;
    for (k, (o, t)) in outputs.iter().zip(targets).enumerate() {
        let (h, d) = crate::engine::ops::relu(1.0 + (-t) * o);
        sum += h;
        edge(k, scale * (d * -t));
    }
    scale * sum
}

/// bce = (1/n) * sum_k [max(z_k, 0) - z_k t_k + ln(1 + e^-|z_k|)];  d/dz_k = (1/n) (sigmoid(z_k) - t_k)
///
/// The stable form of `-t ln(sigmoid(z)) - (1 - t) ln(1 - sigmoid(z))`: `e^-|z|` never
/// overflows and `ln_1p` keeps precision when it is tiny, so no `ln 0` and no overflow: each
/// term is finite for every finite logit (at z = +-1000 it is exactly 1000 or 0 and the
/// derivative exactly +-1 or 0).
#[inline]
fn bce_rule(outputs: &[f64], targets: &[f64], mut edge: impl FnMut(usize, f64)) -> f64 {
    let scale = 1.0 / outputs.len() as f64;
    let mut sum = 0.0;
    for (k, (&z, &t)) in outputs.iter().zip(targets).enumerate() {
        sum += z.max(0.0) - z * t + (-z.abs()).exp().ln_1p();
        let (s, _) = crate::engine::ops::sigmoid(z);
        edge(k, scale * (s - t));
    }
    scale * sum
}

pub(crate) fn check_lengths(outputs: usize, targets: usize) -> Result<()> {
    if outputs != targets {
        return Err(Error::TargetSize { outputs, targets });
    }
    if outputs == 0 {
        return Err(Error::EmptyDataset);
    }
    Ok(())
}

/// Mean squared error `(1/n) * sum_k (o_k - t_k)^2`, recorded as one node with derivative
/// `(2/n) (o_k - t_k)` for each output. For one output it is the seed's per-sample loss
/// `(y_true - y_pred)^2`.
///
/// # Errors
///
/// [`Error::TargetSize`] if `outputs` and `targets` differ in length, [`Error::EmptyDataset`] if
/// they are empty.
///
/// # Panics
///
/// If the outputs are from different tapes.
///
/// ```
/// use tapegrad::{mse, Tape};
/// let tape = Tape::new();
/// let y_pred = tape.var(0.25);
/// let loss = mse(&[y_pred], &[1.0])?;
/// assert_eq!(loss.value(), 0.5625); // (1 - 0.25)^2
/// assert_eq!(loss.backward()[y_pred], -1.5); // -2 (1 - 0.25)
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[track_caller]
pub fn mse<'t>(outputs: &[Value<'t>], targets: &[f64]) -> Result<Value<'t>> {
    check_lengths(outputs.len(), targets.len())?;
    record_loss(Loss::Mse, outputs, targets)
}

/// Hinge (max-margin) loss `(1/n) * sum_k max(0, 1 - t_k o_k)` of scores against -1/+1 labels,
/// recorded as one node: the loss of micrograd's moons demo, `relu(1 - y * score)` averaged.
/// Derivative `-t_k / n` where the margin `1 - t_k o_k` is positive, 0 elsewhere (also at
/// exactly 0, as `relu`'s).
///
/// # Errors
///
/// [`Error::TargetSize`] / [`Error::EmptyDataset`] as [`mse`]; [`Error::InvalidTarget`] if a
/// label is not -1 or +1 (reported as sample 0).
///
/// # Panics
///
/// If the outputs are from different tapes.
///
/// ```
/// use tapegrad::{hinge, Tape};
/// let tape = Tape::new();
/// let s = tape.vars(&[0.5, 2.0]);
/// let loss = hinge(&s, &[1.0, 1.0])?; // (max(0, 0.5) + max(0, -1)) / 2
/// assert_eq!(loss.value(), 0.25);
/// let g = loss.backward();
/// assert_eq!((g[s[0]], g[s[1]]), (-0.5, 0.0)); // only the sample inside the margin pulls
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[track_caller]
pub fn hinge<'t>(scores: &[Value<'t>], labels: &[f64]) -> Result<Value<'t>> {
    check_lengths(scores.len(), labels.len())?;
    Loss::Hinge.check_targets(0, labels)?;
    record_loss(Loss::Hinge, scores, labels)
}

/// Binary cross-entropy of logits `z` against labels `t` in [0, 1], as one numerically stable
/// node: `(1/n) * sum_k [max(z_k, 0) - z_k t_k + ln(1 + e^-|z_k|)]`, which equals
/// `-t ln(sigmoid(z)) - (1 - t) ln(1 - sigmoid(z))` but never takes `ln 0` or overflows. The
/// derivative with respect to each logit is `(sigmoid(z_k) - t_k) / n`.
///
/// Feed it the raw output of a linear last layer ([`Activation::Identity`](crate::Activation)),
/// not a sigmoid's output.
///
/// # Errors
///
/// [`Error::TargetSize`] / [`Error::EmptyDataset`] as [`mse`]; [`Error::InvalidTarget`] if a
/// label is outside [0, 1] or NaN (reported as sample 0).
///
/// # Panics
///
/// If the outputs are from different tapes.
///
/// ```
/// use tapegrad::{bce_with_logits, Tape};
/// let tape = Tape::new();
/// let z = tape.vars(&[0.0, 1000.0, -1000.0]);
/// let loss = bce_with_logits(&z, &[1.0, 1.0, 1.0])?;
/// // ln 2 for the undecided logit, 0 for the confident right one, 1000 for the confident wrong one.
/// assert!((loss.value() - (2f64.ln() + 0.0 + 1000.0) / 3.0).abs() < 1e-12);
/// let g = loss.backward();
/// assert_eq!([g[z[0]], g[z[1]], g[z[2]]], [-0.5 / 3.0, 0.0, -1.0 / 3.0]); // (sigmoid(z) - 1) / 3
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[track_caller]
pub fn bce_with_logits<'t>(logits: &[Value<'t>], labels: &[f64]) -> Result<Value<'t>> {
    check_lengths(logits.len(), labels.len())?;
    Loss::BceWithLogits.check_targets(0, labels)?;
    record_loss(Loss::BceWithLogits, logits, labels)
}

/// L2 regularisation `lambda * sum_k p_k^2` over parameters (for a model, bound with
/// [`Mlp::bind`](crate::Mlp::bind), pass [`Bound::parameters`](crate::Bound::parameters)),
/// summed left to right and recorded as one node with derivative `2 lambda p_k`. Add it to the
/// data loss.
///
/// # Errors
///
/// [`Error::InvalidHyperparameter`] if `lambda` is not finite or is negative;
/// [`Error::EmptyDataset`] if `params` is empty.
///
/// # Panics
///
/// If the parameters are from different tapes.
///
/// ```
/// use tapegrad::{l2, Activation, Neuron, Tape};
/// let neuron = Neuron::new(vec![3.0, -1.0], 2.0, Activation::Identity);
/// let tape = Tape::new();
/// let p = neuron.bind(&tape).parameters();
/// let reg = l2(&p, 1e-4)?;
/// assert_eq!(reg.value(), 1e-4 * (9.0 + 1.0 + 4.0));
/// let g = reg.backward();
/// assert_eq!(g[p[0]], 2.0 * 1e-4 * 3.0);
/// assert!(l2(&p, -1.0).is_err());
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[track_caller]
pub fn l2<'t>(params: &[Value<'t>], lambda: f64) -> Result<Value<'t>> {
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(Error::InvalidHyperparameter {
            name: "l2 coefficient",
            requirement: "finite and >= 0",
            value: lambda,
        });
    }
    let Some(first) = params.first() else {
        return Err(Error::EmptyDataset);
    };
    let tape: &'t Tape = first.tape;
    // reg = lambda * sum p^2;  d/dp_k = 2 lambda p_k
    let mut sum = 0.0;
    for p in params {
        tape.check_same(p.tape);
        sum += p.value * p.value;
    }
    let value = lambda * sum;
    let index = tape.with_records(|r| {
        for p in params {
            r.edge(p.index, 2.0 * lambda * p.value);
        }
        r.finish(Op::Loss, value)
    });
    Ok(Value::new(tape, index, value))
}

#[track_caller]
fn record_loss<'t>(loss: Loss, outputs: &[Value<'t>], targets: &[f64]) -> Result<Value<'t>> {
    let tape: &'t Tape = outputs[0].tape;
    let mut nodes = Vec::with_capacity(outputs.len());
    let mut values = Vec::with_capacity(outputs.len());
    for v in outputs {
        tape.check_same(v.tape);
        nodes.push(v.index);
        values.push(v.value);
    }
    let (index, value) = tape.with_records(|r| loss.record(r, &nodes, &values, targets));
    Ok(Value::new(tape, index, value))
}
