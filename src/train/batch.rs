//! The batch loss, recorded one way for [`Trainer`](crate::Trainer) and
//! [`BatchGradient`](crate::BatchGradient), and the one check of what they are given.

use crate::engine::Op;
use crate::error::{Error, Result};
use crate::nn::loss::Loss;
use crate::nn::{BatchScratch, Bound, Mlp, Scratch};
use crate::train::Dataset;
use std::ops::Range;

/// Checks everything a batch computation takes before it starts: the model fits the data,
/// `samples` is a non-empty range of it, and every target of those samples suits `loss`
/// ([`Loss::check`], the same rule the free losses and [`Loss::eval`] apply).
pub(crate) fn check_samples(
    model: &Mlp,
    data: &Dataset,
    samples: &Range<usize>,
    loss: Loss,
) -> Result<()> {
    data.check_model(model, loss)?;
    data.check_range(samples)?;
    samples
        .clone()
        .try_for_each(|i| loss.check(i, model.output_size(), data.target(i)))
}

/// Reusable buffers of a batch recording.
#[derive(Debug, Default)]
pub(crate) struct BatchBuffers {
    pub(crate) scratch: Scratch,
    batch: BatchScratch,
    /// The loss node of each sample recorded so far.
    losses: Vec<u32>,
}

/// Records, on `bound`'s tape, each sample's loss and then one node for
/// `scale * (l_0 + l_1 + ...)` (summed left to right; a single sample's loss with scale 1 is
/// used as is), and returns that node and its value. `on_sample(outputs, targets)` sees each
/// sample's outputs. Several samples go through the model as one batch (one node per layer,
/// matrix products), one sample as one vector.
///
/// # Errors
///
/// [`Error::NonFiniteLoss`] (with `epoch`) naming the first sample whose loss is NaN or
/// infinite, or the first sample of the batch if only the scaled sum overflows. The samples
/// must have passed [`check_samples`] (their inputs are not checked again).
#[allow(clippy::too_many_arguments)]
#[inline(always)] // a per-sample step is mostly calls: this one is not needed
pub(crate) fn record_loss(
    bound: &Bound<'_, '_>,
    data: &Dataset,
    samples: impl Iterator<Item = usize> + Clone,
    loss: Loss,
    scale: f64,
    epoch: usize,
    buffers: &mut BatchBuffers,
    mut on_sample: impl FnMut(&[f64], &[f64]),
) -> Result<(u32, f64)> {
    let mut one = samples.clone();
    if let (Some(i), None) = (one.next(), one.next()) {
        if scale == 1.0 {
            // One sample (per-sample SGD): its loss node is the batch's, checked once.
            bound.record_checked(None, data.input(i), &mut buffers.scratch);
            let s = &buffers.scratch;
            let (nodes, outputs) = (s.output_nodes(), s.output_values());
            let tape = bound.tape();
            return sample_loss(tape, nodes, outputs, data, i, loss, epoch, &mut on_sample);
        }
    }
    record_batch_loss(bound, data, samples, loss, scale, epoch, buffers, on_sample)
}

/// [`record_loss`] of more than one sample, or of one scaled.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn record_batch_loss(
    bound: &Bound<'_, '_>,
    data: &Dataset,
    samples: impl Iterator<Item = usize> + Clone,
    loss: Loss,
    scale: f64,
    epoch: usize,
    buffers: &mut BatchBuffers,
    mut on_sample: impl FnMut(&[f64], &[f64]),
) -> Result<(u32, f64)> {
    let tape = bound.tape();
    let batch = samples.clone().count();
    buffers.losses.clear();
    let mut first = None;
    let (mut sum, mut scaled) = (0.0, 0.0);
    if batch > 1 {
        let rows = samples.clone().map(|i| data.input(i));
        bound.record_batch(rows, batch, &mut buffers.batch);
    }
    for (k, i) in samples.enumerate() {
        first.get_or_insert(i);
        let (nodes, outputs) = if batch > 1 {
            buffers.batch.sample(k)
        } else {
            bound.record_checked(None, data.input(i), &mut buffers.scratch);
            let s = &buffers.scratch;
            (s.output_nodes(), s.output_values())
        };
        let (node, value) =
            sample_loss(tape, nodes, outputs, data, i, loss, epoch, &mut on_sample)?;
        buffers.losses.push(node);
        sum += value;
        scaled += scale * value;
    }
    // b = scale * (l_0 + l_1 + ...);  db/dl_i = scale
    // (the samples' losses are not kept, so their scaled sum is taken on the way)
    let value = crate::nn::loss::mean_of(scale, sum, || scaled);
    let node = tape.with_records(|r| {
        for &l in &buffers.losses {
            r.fused.edge(l, scale);
        }
        r.finish(Op::Loss, value)
    });
    if !value.is_finite() {
        return Err(Error::NonFiniteLoss {
            epoch,
            sample: first.unwrap_or(0),
            loss: value,
        });
    }
    Ok((node, value))
}

/// Records sample `i`'s loss on its model outputs (`nodes`, `outputs`), checks it and shows
/// the outputs to `on_sample`; returns the loss node and value.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn sample_loss(
    tape: &crate::engine::Tape,
    nodes: &[u32],
    outputs: &[f64],
    data: &Dataset,
    i: usize,
    loss: Loss,
    epoch: usize,
    on_sample: &mut impl FnMut(&[f64], &[f64]),
) -> Result<(u32, f64)> {
    let targets = data.target(i);
    let (node, value) = tape.with_records(|r| loss.record(r, nodes, outputs, targets));
    if !value.is_finite() {
        return Err(Error::NonFiniteLoss {
            epoch,
            sample: i,
            loss: value,
        });
    }
    on_sample(outputs, targets);
    Ok((node, value))
}
