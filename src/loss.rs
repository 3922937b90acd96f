//! Loss functions, each recorded as one fused node.

use crate::error::{Error, Result};
use crate::tape::{Op, Records, Tape, Value};

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
}

impl Loss {
    /// The loss of plain outputs against targets.
    ///
    /// # Errors
    ///
    /// [`Error::TargetSize`] if the lengths differ, [`Error::EmptyDataset`] if both are empty.
    ///
    /// ```
    /// assert!(tapegrad::Loss::Mse.eval(&[1.0], &[1.0, 2.0]).is_err());
    /// ```
    pub fn eval(self, outputs: &[f64], targets: &[f64]) -> Result<f64> {
        check_lengths(outputs.len(), targets.len())?;
        Ok(match self {
            Loss::Mse => mse_rule(outputs, targets, |_, _| {}),
        })
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
        match self {
            Loss::Mse => {
                let loss = mse_rule(values, targets, |k, d| r.edge(nodes[k], d));
                (r.finish(Op::Loss, loss), loss)
            }
        }
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
