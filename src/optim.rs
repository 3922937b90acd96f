//! Optimizers: how a step turns gradients into new parameters.

use crate::error::{Error, Result};

/// An update rule over a flat parameter vector.
///
/// Contract: `step` either updates every parameter or, when an update would produce a NaN or
/// infinite parameter, changes nothing and returns `Err(k)` with the first such parameter's
/// index. So a failed step leaves the model at its last good parameters.
///
/// ```
/// use tapegrad::{Optimizer, Sgd};
/// let mut params = [1.0, 2.0];
/// Sgd::new(0.5)?.step(&mut params, &[2.0, -2.0]).unwrap();
/// assert_eq!(params, [0.0, 3.0]);
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub trait Optimizer {
    /// Applies one update of `params` from `grads` (same length, same order).
    ///
    /// # Errors
    ///
    /// `Err(k)`, with nothing changed, if parameter `k` would become non-finite.
    fn step(&mut self, params: &mut [f64], grads: &[f64]) -> std::result::Result<(), usize>;
}

/// Plain stochastic gradient descent, the seed's rule: `p <- p - lr * dL/dp`.
///
/// ```
/// use tapegrad::{Optimizer, Sgd};
/// let mut sgd = Sgd::new(0.1)?;
/// let mut p = [1.0];
/// sgd.step(&mut p, &[10.0]).unwrap();
/// assert_eq!(p, [0.0]);
/// assert!(Sgd::new(0.0).is_err());
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd {
    learning_rate: f64,
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
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(Error::InvalidHyperparameter {
                name: "learning rate",
                requirement: "finite and > 0",
                value: learning_rate,
            });
        }
        Ok(Sgd { learning_rate })
    }

    /// The learning rate.
    ///
    /// ```
    /// assert_eq!(tapegrad::Sgd::new(0.1)?.learning_rate(), 0.1);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [f64], grads: &[f64]) -> std::result::Result<(), usize> {
        assert_eq!(
            params.len(),
            grads.len(),
            "tapegrad: one gradient per parameter"
        );
        let lr = self.learning_rate;
        // Check every new value first, so a failing step changes nothing. A branch-free pass
        // (it vectorizes; an early-exit `position` cost twice the update itself in a profile),
        // then the position only on the rare failing step.
        let new_value = |(p, g): (&f64, &f64)| p - lr * g;
        let any_bad =
            (params.iter().zip(grads)).fold(false, |bad, pg| bad | !new_value(pg).is_finite());
        if let Some(k) = any_bad
            .then(|| {
                params
                    .iter()
                    .zip(grads)
                    .position(|pg| !new_value(pg).is_finite())
            })
            .flatten()
        {
            return Err(k);
        }
        for (p, g) in params.iter_mut().zip(grads) {
            *p -= lr * g;
        }
        Ok(())
    }
}
