//! Optimizers: how a step turns gradients into new parameters, and learning-rate schedules.
//!
//! | optimizer | update of parameter `p` with gradient `g` at step `t` (from 0), rate `lr_t` |
//! |---|---|
//! | [`Sgd`] | `p <- p - lr_t g` |
//! | [`Sgd::with_momentum`] | `v <- mu v + g`, `p <- p - lr_t v` |
//! | [`Adam`] | `m <- b1 m + (1 - b1) g`, `v <- b2 v + (1 - b2) g^2`, `p <- p - lr_t m^ / (sqrt(v^) + eps)` with `m^ = m / (1 - b1^(t+1))`, `v^ = v / (1 - b2^(t+1))` |
//!
//! Every hyperparameter is checked when the optimizer is made; every step checks all new
//! values before writing any, so a failing step changes nothing (the [`Optimizer`] contract).

use crate::error::{Error, Result};
use std::fmt;
use std::sync::Arc;

/// An update rule over a flat parameter vector.
///
/// Contract: `step` either updates every parameter or returns an error and changes nothing
/// (neither the parameters nor its own state). So a failed step leaves the model at its last
/// good parameters.
///
/// ```
/// use tapegrad::{Error, Optimizer, Sgd};
/// let mut params = [1.0, 2.0];
/// Sgd::new(0.5)?.step(&mut params, &[2.0, -2.0])?;
/// assert_eq!(params, [0.0, 3.0]);
/// let err = Sgd::new(0.5)?.step(&mut params, &[1.0]).unwrap_err();
/// assert_eq!(err, Error::GradientCount { parameters: 2, gradients: 1 });
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub trait Optimizer {
    /// Applies one update of `params` from `grads` (same length, same order).
    ///
    /// # Errors
    ///
    /// With nothing changed: [`Error::GradientCount`] if `grads` and `params` differ in length,
    /// [`Error::OptimizerState`] if the optimizer keeps per-parameter state sized for another
    /// model, [`Error::InvalidSchedule`] if the learning-rate schedule gives an unusable rate
    /// for this step, [`Error::NonFiniteParameter`] if a parameter (or the optimizer's state for
    /// it) would become NaN or infinite, and [`Error::Allocation`] if the per-parameter state
    /// (momentum, Adam's moments) cannot be allocated on the first step.
    fn step(&mut self, params: &mut [f64], grads: &[f64]) -> Result<()>;

    /// The same update as [`Optimizer::step`], written into `out` instead of in place:
    /// `params` are read, never changed, so they stay the last good parameters whatever
    /// happens. [`Trainer`](crate::Trainer) uses it to keep the parameters from before each
    /// update without copying them: it swaps the two buffers.
    ///
    /// The default checks that every gradient is finite, copies `params` into `out` and calls
    /// [`Optimizer::step`] on `out`. [`Sgd`] and [`Adam`] override it with one pass that
    /// computes, checks and writes each new value.
    ///
    /// # Errors
    ///
    /// As [`Optimizer::step`], and [`Error::NonFiniteParameter`] naming the first gradient that
    /// is NaN or infinite. On an error the optimizer's state is unchanged and `out` holds
    /// unspecified values.
    ///
    /// # Panics
    ///
    /// If `out` and `params` differ in length.
    ///
    /// ```
    /// use tapegrad::{Optimizer, Sgd};
    /// let (old, mut new) = ([1.0, 2.0], [0.0; 2]);
    /// Sgd::new(0.5)?.step_into(&old, &[2.0, -2.0], &mut new)?;
    /// assert_eq!((old, new), ([1.0, 2.0], [0.0, 3.0]));
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    fn step_into(&mut self, params: &[f64], grads: &[f64], out: &mut [f64]) -> Result<()> {
        if let Some(parameter) = first_non_finite(grads) {
            return Err(Error::NonFiniteParameter { parameter });
        }
        out.copy_from_slice(params);
        self.step(out, grads)
    }
}

/// The index of the first NaN or infinite value: a branch-free pass first (it vectorizes, an
/// early-exit search does not), the position only when there is one.
pub(crate) fn first_non_finite(values: &[f64]) -> Option<usize> {
    let any_bad = values.iter().fold(false, |bad, v| bad | !v.is_finite());
    any_bad
        .then(|| values.iter().position(|v| !v.is_finite()))
        .flatten()
}

/// A learning rate as a function of the step number `t` (0 for the first step).
///
/// ```
/// use tapegrad::Schedule;
/// // micrograd's moons demo: lr_k = 1.0 - 0.9 k / 100.
/// let lr = Schedule::linear(1.0, 0.1, 100)?;
/// assert_eq!(lr.at(0), 1.0);
/// assert_eq!(lr.at(50), 1.0 - 0.9 * 50.0 / 100.0);
/// assert_eq!(lr.at(1000), 0.1); // stays at the end value
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Clone)]
pub struct Schedule(Rate);

#[derive(Clone)]
enum Rate {
    Constant(f64),
    Linear { start: f64, end: f64, steps: usize },
    Closure(Arc<dyn Fn(usize) -> f64 + Send + Sync>),
}

fn check_rate(name: &'static str, value: f64, allow_zero: bool) -> Result<()> {
    let ok = value.is_finite() && (value > 0.0 || (allow_zero && value == 0.0));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidHyperparameter {
            name,
            requirement: if allow_zero {
                "finite and >= 0"
            } else {
                "finite and > 0"
            },
            value,
        })
    }
}

fn check_unit(name: &'static str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidHyperparameter {
            name,
            requirement: "in [0, 1)",
            value,
        })
    }
}

impl Schedule {
    /// The same rate at every step.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if `rate` is not finite or not > 0.
    ///
    /// ```
    /// use tapegrad::Schedule;
    /// assert_eq!(Schedule::constant(0.1)?.at(99), 0.1);
    /// assert!(Schedule::constant(0.0).is_err());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn constant(rate: f64) -> Result<Self> {
        check_rate("learning rate", rate, false)?;
        Ok(Schedule(Rate::Constant(rate)))
    }

    /// Linear decay `start + (end - start) * t / steps` for `t < steps`, then `end`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if `start` is not finite and > 0, `end` not finite and
    /// >= 0, or `steps` is 0.
    ///
    /// ```
    /// use tapegrad::Schedule;
    /// let lr = Schedule::linear(1.0, 0.0, 4)?;
    /// assert_eq!([lr.at(0), lr.at(1), lr.at(3), lr.at(4)], [1.0, 0.75, 0.25, 0.0]);
    /// assert!(Schedule::linear(1.0, 0.1, 0).is_err());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn linear(start: f64, end: f64, steps: usize) -> Result<Self> {
        check_rate("initial learning rate", start, false)?;
        check_rate("final learning rate", end, true)?;
        if steps == 0 {
            return Err(Error::InvalidHyperparameter {
                name: "decay steps",
                requirement: "at least 1",
                value: 0.0,
            });
        }
        Ok(Schedule(Rate::Linear { start, end, steps }))
    }

    /// Any rate as a closure of the step number. The closure cannot be checked in advance: a
    /// step whose rate is not finite or is negative is refused by the optimizer with
    /// [`Error::InvalidSchedule`], nothing changed.
    ///
    /// ```
    /// use tapegrad::Schedule;
    /// let lr = Schedule::from_fn(|t| 0.5_f64.powi(t as i32)); // halve every step
    /// assert_eq!(lr.at(3), 0.125);
    /// ```
    pub fn from_fn(rate: impl Fn(usize) -> f64 + Send + Sync + 'static) -> Self {
        Schedule(Rate::Closure(Arc::new(rate)))
    }

    /// The rate at step `t`.
    ///
    /// ```
    /// assert_eq!(tapegrad::Schedule::linear(2.0, 1.0, 2)?.at(1), 1.5);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn at(&self, t: usize) -> f64 {
        match &self.0 {
            Rate::Constant(rate) => *rate,
            Rate::Linear { start, end, steps } => {
                if t >= *steps {
                    *end
                } else {
                    // (end - start) t overflows only for rates near f64::MAX: then divide first
                    let (t, steps) = (t as f64, *steps as f64);
                    let delta = (end - start) * t;
                    if delta.is_finite() {
                        start + delta / steps
                    } else {
                        start + (end - start) * (t / steps)
                    }
                }
            }
            Rate::Closure(f) => f(t),
        }
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Rate::Constant(rate) => write!(f, "Schedule::constant({rate})"),
            Rate::Linear { start, end, steps } => {
                write!(f, "Schedule::linear({start}, {end}, {steps})")
            }
            Rate::Closure(_) => f.write_str("Schedule::from_fn(..)"),
        }
    }
}

/// The rate for step `t`, or [`Error::InvalidSchedule`] if a closure gave an unusable one.
fn rate_at(schedule: &Schedule, t: usize) -> Result<f64> {
    let lr = schedule.at(t);
    // Finite and >= 0 (NaN fails both comparisons), as two comparisons.
    if (0.0..=f64::MAX).contains(&lr) {
        Ok(lr)
    } else {
        Err(Error::InvalidSchedule { step: t, rate: lr })
    }
}

/// One gradient per parameter.
fn check_lengths(params: &[f64], grads: &[f64]) -> Result<()> {
    if params.len() == grads.len() {
        Ok(())
    } else {
        Err(Error::GradientCount {
            parameters: params.len(),
            gradients: grads.len(),
        })
    }
}

/// Checks that per-parameter state (empty before the first step) fits `len` parameters.
fn check_state(state: &[f64], len: usize) -> Result<()> {
    if state.is_empty() || state.len() == len {
        Ok(())
    } else {
        Err(Error::OptimizerState {
            expected: state.len(),
            found: len,
        })
    }
}

/// Sizes per-parameter state on the first step (fallibly: a huge model is an error, not an
/// abort); [`check_state`] has already passed.
fn size_state(state: &mut Vec<f64>, len: usize) -> Result<()> {
    if state.is_empty() && len > 0 {
        crate::size::zeros_into(state, len, "optimizer state values")?;
    }
    Ok(())
}

/// Stochastic gradient descent, the seed's rule `p <- p - lr * dL/dp`, optionally with
/// momentum and a learning-rate [`Schedule`].
///
/// Default ([`Sgd::default`]): learning rate 0.01, no momentum.
///
/// ```
/// use tapegrad::{Optimizer, Sgd};
/// let mut sgd = Sgd::new(0.1)?;
/// let mut p = [1.0];
/// sgd.step(&mut p, &[10.0])?;
/// assert_eq!(p, [0.0]);
/// assert!(Sgd::new(0.0).is_err());
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sgd {
    schedule: Schedule,
    momentum: f64,
    velocity: Vec<f64>,
    t: usize,
}

impl Default for Sgd {
    /// Learning rate 0.01 (Keras' default; PyTorch has none), no momentum.
    fn default() -> Self {
        Sgd::with_schedule(Schedule(Rate::Constant(0.01)))
    }
}

impl Sgd {
    /// SGD with this learning rate.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if the learning rate is not finite or not > 0.
    ///
    /// ```
    /// assert!(tapegrad::Sgd::new(f64::NAN).is_err());
    /// ```
    pub fn new(learning_rate: f64) -> Result<Self> {
        Ok(Self::with_schedule(Schedule::constant(learning_rate)?))
    }

    /// SGD whose learning rate follows `schedule` (one schedule step per optimizer step).
    ///
    /// ```
    /// use tapegrad::{Optimizer, Schedule, Sgd};
    /// let mut sgd = Sgd::with_schedule(Schedule::linear(1.0, 0.5, 2)?);
    /// let mut p = [0.0];
    /// sgd.step(&mut p, &[1.0])?; // lr 1.0
    /// sgd.step(&mut p, &[1.0])?; // lr 0.75
    /// assert_eq!(p, [-1.75]);
    /// assert_eq!(sgd.learning_rate(), 0.5); // the next step's
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn with_schedule(schedule: Schedule) -> Self {
        Sgd {
            schedule,
            momentum: 0.0,
            velocity: Vec::new(),
            t: 0,
        }
    }

    /// SGD with momentum `mu` (PyTorch's form): `v <- mu v + g`, `p <- p - lr v`, with `v`
    /// starting at 0. `mu = 0` is plain SGD.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if the learning rate is not finite and > 0, or `mu` is
    /// not in [0, 1).
    ///
    /// ```
    /// use tapegrad::{Optimizer, Sgd};
    /// let mut sgd = Sgd::with_momentum(0.1, 0.9)?;
    /// let mut p = [0.0];
    /// sgd.step(&mut p, &[1.0])?; // v = 1
    /// sgd.step(&mut p, &[1.0])?; // v = 0.9 + 1 = 1.9
    /// assert!((p[0] - -(0.1 + 0.19)).abs() < 1e-15);
    /// assert!(Sgd::with_momentum(0.1, 1.0).is_err());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn with_momentum(learning_rate: f64, momentum: f64) -> Result<Self> {
        let sgd = Self::new(learning_rate)?;
        sgd.momentum(momentum)
    }

    /// Sets the momentum `mu` (see [`Sgd::with_momentum`]); combines with any schedule.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if `mu` is not in [0, 1).
    ///
    /// ```
    /// use tapegrad::{Schedule, Sgd};
    /// let sgd = Sgd::with_schedule(Schedule::linear(0.1, 0.01, 100)?).momentum(0.9)?;
    /// assert_eq!(sgd.momentum_factor(), 0.9);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn momentum(mut self, momentum: f64) -> Result<Self> {
        check_unit("momentum", momentum)?;
        self.momentum = momentum;
        Ok(self)
    }

    /// The learning rate of the next step.
    #[must_use]
    pub fn learning_rate(&self) -> f64 {
        self.schedule.at(self.t)
    }

    /// The momentum factor `mu` (0 without momentum).
    #[must_use]
    pub fn momentum_factor(&self) -> f64 {
        self.momentum
    }

    /// Steps taken so far.
    #[must_use]
    pub fn steps(&self) -> usize {
        self.t
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [f64], grads: &[f64]) -> Result<()> {
        check_lengths(params, grads)?;
        let lr = rate_at(&self.schedule, self.t)?;
        let mu = self.momentum;
        if mu == 0.0 {
            // p <- p - lr g. Check every new value first, so a failing step changes nothing: a
            // branch-free pass (it vectorizes, an early-exit search does not), then the
            // position only on the rare failing step.
            let new_value = |(p, g): (&f64, &f64)| p - lr * g;
            let any_bad =
                (params.iter().zip(grads)).fold(false, |bad, pg| bad | !new_value(pg).is_finite());
            if any_bad {
                let k = params
                    .iter()
                    .zip(grads)
                    .position(|pg| !new_value(pg).is_finite());
                return Err(Error::NonFiniteParameter {
                    parameter: k.unwrap_or(0),
                });
            }
            for (p, g) in params.iter_mut().zip(grads) {
                *p -= lr * g;
            }
        } else {
            // v <- mu v + g;  p <- p - lr v
            check_state(&self.velocity, params.len())?;
            let old = |k: usize| self.velocity.get(k).copied().unwrap_or(0.0);
            if let Some(k) = (0..params.len()).position(|k| {
                let vk = mu * old(k) + grads[k];
                !(vk.is_finite() && (params[k] - lr * vk).is_finite())
            }) {
                return Err(Error::NonFiniteParameter { parameter: k });
            }
            size_state(&mut self.velocity, params.len())?;
            let v = &mut self.velocity;
            for k in 0..params.len() {
                v[k] = mu * v[k] + grads[k];
                params[k] -= lr * v[k];
            }
        }
        self.t += 1;
        Ok(())
    }

    fn step_into(&mut self, params: &[f64], grads: &[f64], out: &mut [f64]) -> Result<()> {
        check_lengths(params, grads)?;
        check_out(params, out);
        if self.momentum != 0.0 {
            // The velocity may change only if every value is good, which `step` checks first.
            out.copy_from_slice(params);
            return self.step(out, grads).map_err(|e| gradient_first(e, grads));
        }
        let lr = rate_at(&self.schedule, self.t)?;
        if !sgd_into(lr, params, grads, out) {
            return Err(refused_update(grads, out));
        }
        self.t += 1;
        Ok(())
    }
}

/// `out = params - lr grads`; whether every new value is finite. A finite p' means a finite
/// g too, as lr >= 0 (lr g is inf or NaN for an infinite g).
///
/// Checked as it is written, in one branch-free pass over eight lanes (it vectorizes): each
/// lane sums `p' * 0`, which is 0 for a finite p' and NaN otherwise, and a NaN stays in the
/// sum: two arithmetic ops per value, where a finiteness test and an OR cost four.
#[inline]
fn sgd_into(lr: f64, params: &[f64], grads: &[f64], out: &mut [f64]) -> bool {
    const LANES: usize = 8;
    let mut acc = [0.0; LANES];
    let mut outs = out.chunks_exact_mut(LANES);
    let mut ps = params.chunks_exact(LANES);
    let mut gs = grads.chunks_exact(LANES);
    for ((o, p), g) in (&mut outs).zip(&mut ps).zip(&mut gs) {
        for l in 0..LANES {
            o[l] = p[l] - lr * g[l];
            acc[l] += o[l] * 0.0;
        }
    }
    let rest = outs.into_remainder().iter_mut();
    for ((o, p), g) in rest.zip(ps.remainder()).zip(gs.remainder()) {
        *o = p - lr * g;
        acc[0] += *o * 0.0;
    }
    // Zeros (of either sign) sum to zero; a NaN lane makes the sum NaN.
    acc.iter().sum::<f64>() == 0.0
}

/// The error of an update that made a non-finite value: it names the first non-finite
/// gradient, else the first non-finite new value. Out of line: the step's own path stays
/// small.
#[cold]
#[inline(never)]
fn refused_update(grads: &[f64], out: &[f64]) -> Error {
    let parameter = first_non_finite(grads)
        .or_else(|| first_non_finite(out))
        .unwrap_or(0);
    Error::NonFiniteParameter { parameter }
}

/// Panics unless `out` has one value per parameter (a programmer error of `step_into`).
#[track_caller]
fn check_out(params: &[f64], out: &[f64]) {
    assert_eq!(
        out.len(),
        params.len(),
        "tapegrad: step_into writes {} parameters into a buffer of {}",
        params.len(),
        out.len()
    );
}

/// A refused step names the first non-finite gradient if there is one (as the default
/// `step_into` does), else the parameter the update found.
fn gradient_first(e: Error, grads: &[f64]) -> Error {
    match (e, first_non_finite(grads)) {
        (Error::NonFiniteParameter { .. }, Some(parameter)) => {
            Error::NonFiniteParameter { parameter }
        }
        (e, _) => e,
    }
}

/// Adam (Kingma and Ba, 2015) with bias correction: per-parameter step sizes from running
/// means of the gradient and of its square.
///
/// Defaults ([`Adam::default`]): learning rate 0.001, `beta1` 0.9, `beta2` 0.999, `eps` 1e-8.
///
/// ```
/// use tapegrad::{Adam, Optimizer};
/// let mut adam = Adam::new(0.1)?;
/// let mut p = [1.0, 1.0];
/// adam.step(&mut p, &[3.0, -0.001])?;
/// // The first step moves each parameter by about lr, whatever the gradient's size.
/// assert!((p[0] - 0.9).abs() < 1e-8 && (p[1] - 1.1).abs() < 1e-5);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Adam {
    schedule: Schedule,
    beta1: f64,
    beta2: f64,
    eps: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: usize,
}

impl Default for Adam {
    /// Learning rate 0.001, `beta1` 0.9, `beta2` 0.999, `eps` 1e-8.
    fn default() -> Self {
        Adam {
            schedule: Schedule(Rate::Constant(0.001)),
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        }
    }
}

impl Adam {
    /// Adam with this learning rate and the default betas and epsilon.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if the learning rate is not finite and > 0.
    ///
    /// ```
    /// assert_eq!(tapegrad::Adam::new(0.01)?.learning_rate(), 0.01);
    /// assert!(tapegrad::Adam::new(-0.01).is_err());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn new(learning_rate: f64) -> Result<Self> {
        Ok(Self::with_schedule(Schedule::constant(learning_rate)?))
    }

    /// Adam whose learning rate follows `schedule`, with the default betas and epsilon.
    ///
    /// ```
    /// use tapegrad::{Adam, Schedule};
    /// let adam = Adam::with_schedule(Schedule::linear(0.01, 0.001, 1000)?);
    /// assert_eq!(adam.learning_rate(), 0.01);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn with_schedule(schedule: Schedule) -> Self {
        Adam {
            schedule,
            ..Adam::default()
        }
    }

    /// Sets `beta1` and `beta2`, the decay rates of the running means.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if either is not in [0, 1).
    ///
    /// ```
    /// use tapegrad::Adam;
    /// assert!(Adam::new(0.01)?.betas(0.8, 0.99).is_ok());
    /// let err = Adam::new(0.01)?.betas(0.9, 1.0).unwrap_err();
    /// assert_eq!(err.to_string(), "beta2 must be in [0, 1), got 1");
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Result<Self> {
        check_unit("beta1", beta1)?;
        check_unit("beta2", beta2)?;
        self.beta1 = beta1;
        self.beta2 = beta2;
        Ok(self)
    }

    /// Sets `eps`, added to the root of the second moment to avoid dividing by 0.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if `eps` is not finite and > 0.
    ///
    /// ```
    /// assert!(tapegrad::Adam::new(0.01)?.eps(0.0).is_err());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn eps(mut self, eps: f64) -> Result<Self> {
        check_rate("eps", eps, false)?;
        self.eps = eps;
        Ok(self)
    }

    /// The learning rate of the next step.
    #[must_use]
    pub fn learning_rate(&self) -> f64 {
        self.schedule.at(self.t)
    }

    /// `(beta1, beta2, eps)`.
    #[must_use]
    pub fn hyperparameters(&self) -> (f64, f64, f64) {
        (self.beta1, self.beta2, self.eps)
    }

    /// Steps taken so far.
    #[must_use]
    pub fn steps(&self) -> usize {
        self.t
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [f64], grads: &[f64]) -> Result<()> {
        check_lengths(params, grads)?;
        let lr = rate_at(&self.schedule, self.t)?;
        check_state(&self.m, params.len())?;
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        // Bias corrections 1 - b^(t+1), for step t counted from 0.
        let exponent = i32::try_from(self.t + 1).unwrap_or(i32::MAX);
        let (c1, c2) = (1.0 - b1.powi(exponent), 1.0 - b2.powi(exponent));
        // m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr (m / c1) / (sqrt(v / c2) + eps)
        let update = |m: f64, v: f64, g: f64| {
            let m = b1 * m + (1.0 - b1) * g;
            let v = b2 * v + (1.0 - b2) * (g * g);
            (m, v, lr * (m / c1) / ((v / c2).sqrt() + eps))
        };
        // The state is sized only once the step is known to succeed (a fresh optimizer's
        // moments read as 0), so a refused first step leaves it unsized, as the contract says.
        let moment = |state: &[f64], k: usize| state.get(k).copied().unwrap_or(0.0);
        if let Some(k) = (0..params.len()).position(|k| {
            let (m, v, delta) = update(moment(&self.m, k), moment(&self.v, k), grads[k]);
            !(m.is_finite() && v.is_finite() && (params[k] - delta).is_finite())
        }) {
            return Err(Error::NonFiniteParameter { parameter: k });
        }
        size_state(&mut self.m, params.len())?;
        size_state(&mut self.v, params.len())?;
        for k in 0..params.len() {
            let (m, v, delta) = update(self.m[k], self.v[k], grads[k]);
            self.m[k] = m;
            self.v[k] = v;
            params[k] -= delta;
        }
        self.t += 1;
        Ok(())
    }

    fn step_into(&mut self, params: &[f64], grads: &[f64], out: &mut [f64]) -> Result<()> {
        check_lengths(params, grads)?;
        check_out(params, out);
        // The moments may change only if every value is good, which `step` checks first.
        out.copy_from_slice(params);
        self.step(out, grads).map_err(|e| gradient_first(e, grads))
    }
}
