//! Loss functions, each recorded as one fused node, and L2 regularisation.
//!
//! | loss | per output `o` (score or logit) with target `t` | local derivative |
//! |---|---|---|
//! | [`mse`] | `(o - t)^2` | `2 (o - t)` |
//! | [`hinge`] | `max(0, 1 - t o)`, `t` is -1 or +1 | `-t` where `1 - t o > 0`, else 0 |
//! | [`bce_with_logits`] | `max(o, 0) - o t + ln(1 + e^-abs(o))`, `t` in [0, 1] | `sigmoid(o) - t` |
//! | [`cross_entropy`] | `ln(sum_k e^(o_k)) - o_c` for the class `c` (one per sample) | `softmax(o)_k - [k = c]` |
//!
//! The first three are the mean over the outputs (each derivative is divided by their number
//! `n`); cross-entropy is one number per sample, over all its outputs. [`l2`] adds
//! `lambda * sum p^2` over a model's parameters. [`softmax`] and [`log_softmax`] turn logits
//! into (log-)probabilities for use outside a loss.

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
    /// Softmax cross-entropy over all outputs (logits, one per class), [`cross_entropy`]. Each
    /// sample's target row is one number, its class index (`[3.0]` for class 3), as in
    /// PyTorch's `CrossEntropyLoss`; accuracy counts a sample as right when its largest output
    /// is the target class.
    CrossEntropy,
}

impl Loss {
    /// The loss of plain outputs against targets.
    ///
    /// # Errors
    ///
    /// [`Error::TargetSize`] if the lengths differ, [`Error::EmptyDataset`] if both are empty,
    /// [`Error::InvalidTarget`] if a target does not suit the loss ([`Loss::check_targets`]);
    /// for [`Loss::CrossEntropy`], [`Error::ClassTarget`] unless `targets` is one class index
    /// below `outputs.len()`.
    ///
    /// ```
    /// use tapegrad::Loss;
    /// assert!(Loss::Mse.eval(&[1.0], &[1.0, 2.0]).is_err());
    /// // ln(e^0 + e^0) - 0: two equally likely classes.
    /// assert_eq!(Loss::CrossEntropy.eval(&[0.0, 0.0], &[1.0])?, 2f64.ln());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn eval(self, outputs: &[f64], targets: &[f64]) -> Result<f64> {
        self.check(0, outputs.len(), targets)?;
        Ok(self.rule(outputs, targets, |_, _| {}))
    }

    /// The loss of targets already checked with [`Loss::check`].
    pub(crate) fn eval_unchecked(self, outputs: &[f64], targets: &[f64]) -> f64 {
        self.rule(outputs, targets, |_, _| {})
    }

    /// Checks one sample's targets against `outputs` model outputs: the lengths (one class
    /// index for cross-entropy, one target per output otherwise) and the values.
    pub(crate) fn check(self, sample: usize, outputs: usize, targets: &[f64]) -> Result<()> {
        if self == Loss::CrossEntropy {
            if outputs == 0 {
                return Err(Error::EmptyDataset);
            }
            return match targets {
                [c] if is_class_index(*c, outputs) => Ok(()),
                _ => Err(class_target(sample, outputs, targets)),
            };
        }
        check_lengths(outputs, targets.len())?;
        self.check_targets(sample, targets)
    }

    /// The number of correct answers and the number counted for one sample: each output for
    /// the two-class losses, the sample itself (largest output is the class) for
    /// cross-entropy; `None` for a regression loss. Targets must already be checked.
    pub(crate) fn count_correct(self, outputs: &[f64], targets: &[f64]) -> Option<(usize, usize)> {
        match self {
            Loss::Mse => None,
            Loss::CrossEntropy => Some((usize::from(argmax(outputs) == targets[0] as usize), 1)),
            _ => Some((
                outputs
                    .iter()
                    .zip(targets)
                    .filter(|&(&o, &t)| self.is_correct(o, t) == Some(true))
                    .count(),
                outputs.len(),
            )),
        }
    }

    /// Whether the loss is a classification loss, for which an accuracy makes sense: for the
    /// two-class losses an output counts as right when it is on the target's side of the
    /// boundary (score > 0 for target +1 with [`Loss::Hinge`], logit > 0 for target > 0.5
    /// with [`Loss::BceWithLogits`]); for [`Loss::CrossEntropy`] a sample is right when its
    /// largest output is its class ([`Mlp::accuracy`](crate::Mlp::accuracy)).
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
    /// `None` for a regression loss, and for [`Loss::CrossEntropy`], whose answer is the
    /// largest of all outputs rather than one output's side of a boundary.
    ///
    /// ```
    /// assert_eq!(tapegrad::Loss::Hinge.is_correct(-2.0, -1.0), Some(true));
    /// ```
    #[must_use]
    pub fn is_correct(self, output: f64, target: f64) -> Option<bool> {
        match self {
            Loss::Mse | Loss::CrossEntropy => None,
            Loss::Hinge => Some((output > 0.0) == (target > 0.0)),
            Loss::BceWithLogits => Some((output > 0.0) == (target > 0.5)),
        }
    }

    /// Checks that every target is one this loss accepts: finite for [`Loss::Mse`], -1 or +1
    /// for [`Loss::Hinge`], in [0, 1] for [`Loss::BceWithLogits`], a whole number >= 0 for
    /// [`Loss::CrossEntropy`] (a class index; whether it is below the number of outputs, and
    /// that there is one per sample, is checked where the outputs are known).
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
            Loss::CrossEntropy => (
                |t| is_class_index(t, usize::MAX),
                "cross-entropy needs a class index (a whole number >= 0)",
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
            Loss::CrossEntropy => cross_entropy_rule(outputs, targets[0] as usize, edge),
        }
    }

    /// Records the loss of `outputs` (nodes and their values) against `targets`; lengths must
    /// already be checked.
    #[inline]
    pub(crate) fn record(
        self,
        r: &mut Records,
        nodes: &[u32],
        values: &[f64],
        targets: &[f64],
    ) -> (u32, f64) {
        if let [node] = *nodes {
            // One output (per-sample SGD on one target): an elementary node, one append, and
            // swept with the elementary nodes.
            let mut partial = 0.0;
            let loss = self.rule(values, targets, |_, d| partial += d);
            return (r.unary(Op::Loss, loss, (node, partial), None), loss);
        }
        let loss = self.rule(values, targets, |k, d| r.fused.edge(nodes[k], d));
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
    let terms = outputs
        .iter()
        .zip(targets)
        .map(|(o, t)| (scale * (o - t)) * (o - t));
    mean_of(scale, sum, || terms.fold(0.0, |s, term| s + term))
}

/// `scale * sum`, or, where that overflows, the terms scaled one by one and summed again
/// (`rescaled`, run only then) if that is finite: the mean is infinite only where the true
/// mean is, and every other case keeps the plain form's bits.
#[inline(always)]
pub(crate) fn mean_of(scale: f64, sum: f64, rescaled: impl FnOnce() -> f64) -> f64 {
    let plain = scale * sum;
    if plain.is_infinite() {
        let again = rescaled();
        if again.is_finite() {
            return again;
        }
    }
    plain
}

/// hinge = (1/n) * sum_k max(0, 1 - t_k o_k);  d/do_k = (1/n) * (-t_k if 1 - t_k o_k > 0 else 0)
///
/// The margin is computed as `1 + (-t) * o`, the order of micrograd's demo.
#[inline]
fn hinge_rule(outputs: &[f64], targets: &[f64], mut edge: impl FnMut(usize, f64)) -> f64 {
    let scale = 1.0 / outputs.len() as f64;
    let margin = |o: f64, t: f64| crate::engine::ops::relu(1.0 + (-t) * o);
    let mut sum = 0.0;
    for (k, (&o, &t)) in outputs.iter().zip(targets).enumerate() {
        let (h, d) = margin(o, t);
        sum += h;
        edge(k, scale * (d * -t));
    }
    let terms = outputs
        .iter()
        .zip(targets)
        .map(|(&o, &t)| scale * margin(o, t).0);
    mean_of(scale, sum, || terms.fold(0.0, |s, term| s + term))
}

/// bce = (1/n) * sum_k [max(z_k, 0) - z_k t_k + ln(1 + e^-|z_k|)];  d/dz_k = (1/n) (sigmoid(z_k) - t_k)
///
/// The stable form of `-t ln(sigmoid(z)) - (1 - t) ln(1 - sigmoid(z))`: `e^-|z|` never
/// overflows and `ln_1p` keeps precision when it is tiny, so no `ln 0` and no overflow: each
/// term is finite for every finite logit (at z = +-1000 it is exactly 1000 or 0 and the
/// derivative exactly +-1 or 0). For z >= 0 the first two terms are `z (1 - t)` and the
/// derivative `(1 - t) - (1 - s)` with `1 - s = e^-z s` (the sigmoid rule's own form): at
/// t = 1 neither subtracts two nearly equal numbers, so a confident right answer keeps its
/// small loss and gradient to full relative precision (`s - 1` computed directly is 0.1% off
/// at z = 30 and exactly 0 from z = 37).
#[inline]
fn bce_rule(outputs: &[f64], targets: &[f64], mut edge: impl FnMut(usize, f64)) -> f64 {
    let scale = 1.0 / outputs.len() as f64;
    let mut sum = 0.0;
    for (k, (&z, &t)) in outputs.iter().zip(targets).enumerate() {
        let (value, d) = bce_term(z, t);
        sum += value;
        edge(k, scale * d);
    }
    let terms = outputs
        .iter()
        .zip(targets)
        .map(|(&z, &t)| scale * bce_term(z, t).0);
    mean_of(scale, sum, || terms.fold(0.0, |s, term| s + term))
}

/// One output's binary cross-entropy on logit `z` with target `t`, and its derivative.
#[inline]
pub(crate) fn bce_term(z: f64, t: f64) -> (f64, f64) {
    let e = (-z.abs()).exp();
    let soft = e.ln_1p();
    if z >= 0.0 {
        // s = 1 / (1 + e), 1 - s = e s
        let one_minus_s = e / (1.0 + e);
        (z * (1.0 - t) + soft, (1.0 - t) - one_minus_s)
    } else {
        // s = e / (1 + e)
        let s = e / (1.0 + e);
        (-z * t + soft, s - t)
    }
}

/// ce = ln(sum_k e^z_k) - z_c = ln(1 + r) - (z_c - m), with m = max_k z_k at k = top and
/// r = sum_{k != top} e^(z_k - m);  d/dz_k = p_k = e^(z_k - m) / (1 + r) for k != c, and
/// d/dz_c = p_c - 1 = -sum_{k != c} p_k.
///
/// Every exponent is <= 0, so nothing overflows (logits of +-1000 give exactly 2000 or 0);
/// `ln_1p` keeps the loss's precision when it is tiny (the class is nearly certain), and the
/// class's derivative is the sum of the other probabilities, all positive, so it does not
/// cancel where `p_c` is near 1 (as `p_c - 1` would).
#[inline]
fn cross_entropy_rule(logits: &[f64], class: usize, mut edge: impl FnMut(usize, f64)) -> f64 {
    let top = argmax(logits);
    let m = logits[top];
    let mut rest = 0.0;
    for (k, &z) in logits.iter().enumerate() {
        if k != top {
            rest += (z - m).exp();
        }
    }
    let total = 1.0 + rest;
    let mut others = 0.0;
    for (k, &z) in logits.iter().enumerate() {
        if k != class {
            let p = if k == top { 1.0 } else { (z - m).exp() } / total;
            others += p;
            edge(k, p);
        }
    }
    edge(class, -others);
    rest.ln_1p() - (logits[class] - m)
}

/// The index of the largest value, the first one on a tie; NaNs are passed over (0 if all
/// are NaN, or for an empty slice).
pub(crate) fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (k, &v) in values.iter().enumerate() {
        if v > values[best] || values[best].is_nan() {
            best = k;
        }
    }
    best
}

/// Whether `t` is a whole number in `0..classes`.
fn is_class_index(t: f64, classes: usize) -> bool {
    t >= 0.0 && t.fract() == 0.0 && t < classes as f64
}

/// The error for a cross-entropy target row that is not one class index below `classes`.
fn class_target(sample: usize, classes: usize, targets: &[f64]) -> Error {
    const SHOWN: usize = 12;
    let mut found: Vec<String> = targets.iter().take(SHOWN).map(f64::to_string).collect();
    if targets.len() > SHOWN {
        found.push(format!("... ({} in all)", targets.len()));
    }
    Error::ClassTarget {
        sample,
        found: format!("[{}]", found.join(", ")),
        classes,
    }
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
/// they are empty, [`Error::InvalidTarget`] if a target is NaN or infinite (reported as
/// sample 0).
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
    Loss::Mse.check(0, outputs.len(), targets)?;
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
    Loss::Hinge.check(0, scores.len(), labels)?;
    record_loss(Loss::Hinge, scores, labels)
}

/// Binary cross-entropy of logits `z` against labels `t` in [0, 1], as one numerically stable
/// node: `(1/n) * sum_k [max(z_k, 0) - z_k t_k + ln(1 + e^-|z_k|)]`, which equals
/// `-t ln(sigmoid(z)) - (1 - t) ln(1 - sigmoid(z))` but never takes `ln 0` or overflows. The
/// derivative with respect to each logit is `(sigmoid(z_k) - t_k) / n`.
///
/// Feed it the raw output of a linear last layer ([`Activation::Identity`](crate::Activation::Identity)),
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
    Loss::BceWithLogits.check(0, logits.len(), labels)?;
    record_loss(Loss::BceWithLogits, logits, labels)
}

/// Softmax cross-entropy of logits `z` against the class `class`, as one numerically stable
/// node: `ln(sum_k e^z_k) - z_c`, the negative log-probability softmax gives the class. The
/// derivative with respect to each logit is `softmax(z)_k - [k = class]`.
///
/// Computed with the largest logit `m` subtracted first, so no exponential overflows (logits of
/// +-1000 are fine); the class's derivative `p_c - 1` is computed as minus the sum of the other
/// classes' probabilities, so it keeps its precision where the class is nearly certain. Feed it
/// the raw output of a linear last layer ([`Activation::Identity`](crate::Activation::Identity)).
///
/// # Errors
///
/// [`Error::EmptyDataset`] if `logits` is empty; [`Error::ClassTarget`] if `class` is not below
/// `logits.len()` (reported as sample 0).
///
/// # Panics
///
/// If the logits are from different tapes.
///
/// ```
/// use tapegrad::{cross_entropy, Tape};
/// let tape = Tape::new();
/// let z = tape.vars(&[1000.0, -1000.0, 0.0]);
/// let loss = cross_entropy(&z, 1)?; // the least likely class
/// assert_eq!(loss.value(), 2000.0); // ln(e^1000 + ...) - (-1000), without overflow
/// let g = loss.backward();
/// assert_eq!([g[z[0]], g[z[1]], g[z[2]]], [1.0, -1.0, 0.0]); // softmax(z) - onehot(1)
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[track_caller]
pub fn cross_entropy<'t>(logits: &[Value<'t>], class: usize) -> Result<Value<'t>> {
    if logits.is_empty() {
        return Err(Error::EmptyDataset);
    }
    if class >= logits.len() {
        // The index as given (through f64, usize::MAX would print as 18446744073709552000).
        return Err(Error::ClassTarget {
            sample: 0,
            found: format!("[{class}]"),
            classes: logits.len(),
        });
    }
    record_loss(Loss::CrossEntropy, logits, &[class as f64])
}

/// The softmax of logits, `p_k = e^z_k / sum_j e^z_j`: probabilities that sum to 1, recorded
/// from public ops (so a [traced](Tape::traced) tape shows every step):
/// `e_k = exp(z_k - m)` with `m` the largest logit (a plain number, so nothing overflows and
/// the gradient is unchanged), `s = sum(e)`, `p_k = e_k / s`. An empty slice gives an empty
/// vector.
///
/// Its gradient is the chain rule through those ops, accurate to a rounding of 1 rather than
/// of `1 - p_k` where `p_k` is near 1; to train a classifier use [`cross_entropy`], one node
/// whose gradient is exact there.
///
/// # Panics
///
/// If the logits are from different tapes.
///
/// ```
/// use tapegrad::{softmax, Tape};
/// let tape = Tape::new();
/// let z = tape.vars(&[0.0, 2f64.ln()]);
/// let p = softmax(&z);
/// assert!((p[0].value() - 1.0 / 3.0).abs() < 1e-15 && (p[1].value() - 2.0 / 3.0).abs() < 1e-15);
/// let g = p[0].backward(); // dp_0/dz = p_0 (onehot(0) - p)
/// assert!((g[z[0]] - 2.0 / 9.0).abs() < 1e-15 && (g[z[1]] + 2.0 / 9.0).abs() < 1e-15);
/// ```
#[must_use]
#[track_caller]
pub fn softmax<'t>(logits: &[Value<'t>]) -> Vec<Value<'t>> {
    let Some((e, s)) = shifted_exps(logits) else {
        return Vec::new();
    };
    e.into_iter().map(|e| e / s).collect()
}

/// The log-softmax of logits, `ln p_k = z_k - ln(sum_j e^z_j)`, recorded from public ops as
/// `(z_k - m) - ln(sum_j exp(z_j - m))` with `m` the largest logit (a plain number): finite for
/// logits of +-1000, where `ln(softmax(z))` would take `ln 0`. An empty slice gives an empty
/// vector. Its gradient `[j = k] - p_j` is the chain rule through those ops (see [`softmax`]
/// on precision; [`cross_entropy`] is the fused loss).
///
/// # Panics
///
/// If the logits are from different tapes.
///
/// ```
/// use tapegrad::{log_softmax, Tape};
/// let tape = Tape::new();
/// let z = tape.vars(&[1000.0, -1000.0]);
/// let lp = log_softmax(&z);
/// assert_eq!((lp[0].value(), lp[1].value()), (0.0, -2000.0));
/// let g = lp[1].backward(); // [j = 1] - p_j
/// assert_eq!((g[z[0]], g[z[1]]), (-1.0, 1.0));
/// ```
#[must_use]
#[track_caller]
pub fn log_softmax<'t>(logits: &[Value<'t>]) -> Vec<Value<'t>> {
    let Some(first) = logits.first() else {
        return Vec::new();
    };
    let tape: &'t Tape = first.tape;
    let m = max_value(logits);
    let shifted: Vec<Value<'t>> = logits.iter().map(|&z| z - m).collect();
    let e: Vec<Value<'t>> = shifted.iter().map(|z| z.exp()).collect();
    let log_s = tape.sum(&e).ln();
    shifted.into_iter().map(|z| z - log_s).collect()
}

/// The largest logit's value (NaNs passed over).
fn max_value(logits: &[Value<'_>]) -> f64 {
    logits.iter().fold(f64::NEG_INFINITY, |m, z| m.max(z.value))
}

/// `exp(z_k - m)` for each logit, with `m` the largest, and their sum; `None` for no logits.
#[track_caller]
fn shifted_exps<'t>(logits: &[Value<'t>]) -> Option<(Vec<Value<'t>>, Value<'t>)> {
    let tape: &'t Tape = logits.first()?.tape;
    let m = max_value(logits);
    let e: Vec<Value<'t>> = logits.iter().map(|&z| (z - m).exp()).collect();
    let s = tape.sum(&e);
    Some((e, s))
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
    // reg = lambda * sum p^2;  d/dp_k = 2 lambda p_k. The tapes are checked in their own loop:
    // a sum in a loop that may panic is kept in memory, a store and a load on every add.
    for p in params {
        tape.check_same(p.tape);
    }
    let sum = params.iter().fold(0.0, |s, p| s + p.value * p.value);
    let value = lambda * sum;
    let index = tape.with_records(|r| {
        for p in params {
            r.fused.edge(p.index, 2.0 * lambda * p.value);
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
