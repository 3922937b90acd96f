//! Data-parallel gradients: a mini-batch's mean gradient from several threads, bit for bit the
//! same whatever the thread count.
//!
//! The batch is cut into fixed groups of [`GROUP`] consecutive samples, whatever the thread
//! count. Each group is recorded on one tape and swept once, giving the gradient of the sum of
//! its samples' losses. Each thread takes the next group nobody has taken until none is left
//! (one atomic counter), so a thread that starts late or runs on a slower core does fewer
//! groups instead of holding up the step. Each thread owns a [`Tape`] and
//! scratch space, and keeps one [`Gradients`] buffer per group (all reused from step to step);
//! the model is shared read-only. The threads are a persistent pool (rayon), started once per
//! [`BatchGradient`]: starting scoped threads on every step cost 47-112 us here against about
//! 10 us for waking a pool, and a two-thread W4 step is ~300 us. A group's gradient does not
//! depend on which thread computed it; the group gradients are then summed in group order,
//! `((g0 + g1) + g2) + ...`, and scaled by
//! `1 / batch`: a fixed reduction order, so 1, 2 or 16 threads give identical bits.
//!
//! Groups rather than single samples: a sweep and a gradient row cost one pass over every
//! parameter, which for W4 (3466 parameters, 32 samples) was a quarter of the work when paid
//! per sample.

use crate::error::{Error, Result};
use crate::loss::Loss;
use crate::nn::{Mlp, Scratch};
use crate::tape::{Gradients, Op, Tape, Value};
use crate::train::Dataset;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One thread's reusable workspace. Aligned to 128 bytes so that two threads' workspaces never
/// share a cache line: every recorded node writes the tape's vector lengths and borrow flag.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Workspace {
    tape: Tape,
    scratch: Scratch,
    /// The loss nodes of the group being recorded.
    losses: Vec<u32>,
}

/// Samples per group: a group is recorded on one tape and swept once.
pub(crate) const GROUP: usize = 8;

/// One thread's results: for each group it took, the group's index, gradients (its parameters
/// are the first `parameter_count` nodes of its recording) and loss sum. The buffers are kept
/// between calls.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Rows {
    groups: Vec<usize>,
    gradients: Vec<Gradients>,
    losses: Vec<f64>,
    /// The group this thread's share stopped at, and why, if it failed.
    failure: Option<(usize, Error)>,
}

/// Computes the mean gradient of a mini-batch with a fixed number of threads.
///
/// The samples are cut into fixed groups of 8; each group is recorded and swept on one tape
/// (one tape per thread, reused), and the group gradients are summed in group order: the
/// result is bit-identical for every thread count, so a training run gives the same parameters on 1
/// thread and on 8. The threads are a pool started by [`BatchGradient::new`] and kept, like the
/// tapes and buffers, until the `BatchGradient` is dropped.
///
/// ```
/// use tapegrad::{Activation, BatchGradient, Dataset, Loss, Mlp};
///
/// let model = Mlp::with_init(&[2, 3, 1], Activation::Tanh, Activation::Identity, |s| {
///     0.1 * (s.neuron + 1) as f64 * if s.is_bias() { 0.0 } else { 1.0 }
/// })?;
/// let data = Dataset::new(&[[0.5, -1.0], [1.0, 2.0], [-0.3, 0.7]], &[[1.0], [0.0], [0.5]])?;
/// let mut g1 = vec![0.0; model.parameter_count()];
/// let mut g2 = g1.clone();
/// let loss1 = BatchGradient::new(1)?.mean_gradient(&model, &data, 0..3, Loss::Mse, &mut g1)?;
/// let loss2 = BatchGradient::new(2)?.mean_gradient(&model, &data, 0..3, Loss::Mse, &mut g2)?;
/// assert_eq!((loss1, &g1), (loss2, &g2)); // the same bits
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug)]
pub struct BatchGradient {
    spaces: Vec<Workspace>,
    rows: Vec<Rows>,
    /// Which thread's row holds each group's gradient: (thread, slot).
    order: Vec<(usize, usize)>,
    /// `None` for one thread: everything runs on the calling thread.
    pool: Option<rayon::ThreadPool>,
}

impl BatchGradient {
    /// A workspace for `threads` threads (1 computes on the calling thread).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if `threads` is 0, [`Error::ThreadPool`] if the
    /// operating system cannot start the threads.
    ///
    /// ```
    /// assert!(tapegrad::BatchGradient::new(0).is_err());
    /// assert_eq!(tapegrad::BatchGradient::new(2)?.threads(), 2);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn new(threads: usize) -> Result<Self> {
        if threads == 0 {
            return Err(Error::InvalidHyperparameter {
                name: "thread count",
                requirement: "at least 1",
                value: 0.0,
            });
        }
        let pool = if threads == 1 {
            None
        } else {
            // The calling thread does the first share of the work itself, so the pool needs
            // one thread fewer (and a step wakes one thread fewer).
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads - 1)
                .thread_name(|t| format!("tapegrad-batch-{t}"))
                .build()
                .map_err(|e| Error::ThreadPool(e.to_string()))?;
            Some(pool)
        };
        Ok(BatchGradient {
            spaces: (0..threads).map(|_| Workspace::default()).collect(),
            rows: (0..threads).map(|_| Rows::default()).collect(),
            order: Vec::new(),
            pool,
        })
    }

    /// The number of threads.
    ///
    /// ```
    /// assert_eq!(tapegrad::BatchGradient::new(3)?.threads(), 3);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn threads(&self) -> usize {
        self.spaces.len()
    }

    /// Writes into `grads` the gradient of the mean loss over `samples`,
    /// `(1/B) * (l_0 + l_1 + ...)`, with respect to `model.parameters()`, and returns that mean
    /// loss. The model is not changed: apply the gradient with an
    /// [`Optimizer`](crate::Optimizer).
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] / [`Error::TargetSize`] if the data does not fit the model,
    /// [`Error::SampleRange`] for an empty range or one past the end of the data, [`Error::ParameterCount`] if `grads` does not have one slot per
    /// parameter, and [`Error::NonFiniteLoss`] (epoch 0, the offending sample) if a sample's loss
    /// is NaN or infinite: the first such sample of the earliest group that has one, whatever
    /// the thread count. `grads` is then left unspecified.
    ///
    /// ```
    /// use tapegrad::{Activation, BatchGradient, Dataset, Loss, Mlp};
    /// let model = Mlp::from_parameters(&[1, 1], Activation::Identity, Activation::Identity,
    ///                                  &[2.0, 0.0])?; // y = 2x
    /// let data = Dataset::new(&[[1.0], [3.0]], &[[0.0], [0.0]])?;
    /// let mut g = [0.0; 2];
    /// let loss = BatchGradient::new(2)?.mean_gradient(&model, &data, 0..2, Loss::Mse, &mut g)?;
    /// // mean of (2x)^2 = (4 + 36) / 2; d/dw = mean of 2 (2x) x = (4 + 36) / 2
    /// assert_eq!((loss, g), (20.0, [20.0, 8.0]));
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn mean_gradient(
        &mut self,
        model: &Mlp,
        data: &Dataset,
        samples: Range<usize>,
        loss: Loss,
        grads: &mut [f64],
    ) -> Result<f64> {
        data.check_model(model)?;
        data.check_range(&samples)?;
        let p = model.parameter_count();
        if grads.len() != p {
            return Err(Error::ParameterCount {
                expected: p,
                found: grads.len(),
            });
        }
        let batch = samples.len();
        let groups = batch.div_ceil(GROUP);
        let threads = self.spaces.len().min(groups);
        let (spaces, rows) = (&mut self.spaces[..threads], &mut self.rows[..threads]);
        // Each thread takes the next group not yet taken until none is left, so a thread that
        // runs faster (or starts earlier) does more of them. Then each parameter column is
        // summed over every group's row, in group order, and scaled.
        let next = AtomicUsize::new(0);
        let scale = 1.0 / batch as f64;
        let work = |(space, rows): (&mut Workspace, &mut Rows)| {
            let claim = || {
                let g = next.fetch_add(1, Ordering::Relaxed);
                (g < groups).then(|| {
                    let start = samples.start + g * GROUP;
                    (g, start..(start + GROUP).min(samples.end))
                })
            };
            rows.failure = space
                .group_gradients(rows, model, data, std::iter::from_fn(claim), loss)
                .err();
        };
        match &self.pool {
            Some(pool) if threads > 1 => {
                let work = &work;
                let mut shares = spaces.iter_mut().zip(rows.iter_mut());
                let mine = shares.next();
                pool.in_place_scope(|scope| {
                    for share in shares {
                        scope.spawn(move |_| work(share));
                    }
                    if let Some(share) = mine {
                        work(share);
                    }
                });
            }
            _ => (spaces.iter_mut().zip(rows.iter_mut())).for_each(work),
        }
        // The failure in the earliest group, whichever thread met it: groups are taken in
        // order and a thread stops at its first failure, so every group before the earliest
        // failing one was computed, and the error does not depend on the thread count.
        let failed = rows.iter_mut().filter_map(|r| r.failure.take());
        if let Some((_, e)) = failed.min_by_key(|(g, _)| *g) {
            return Err(e);
        }
        // Where each group's row is: (thread, slot), by group index.
        self.order.clear();
        self.order.resize(groups, (0, 0));
        for (t, r) in rows.iter().enumerate() {
            for (slot, &g) in r.groups.iter().enumerate() {
                self.order[g] = (t, slot);
            }
        }
        // grads[c] = (row_0[c] + row_1[c] + ...) / batch, rows in group order. One row per group
        // (4 for a batch of 32): summing them here costs less than waking the pool a second time.
        grads.fill(0.0);
        let mut total = 0.0;
        for &(t, slot) in &self.order {
            let row = &rows[t].gradients[slot].as_slice()[..p];
            for (o, g) in grads.iter_mut().zip(row) {
                *o += g;
            }
            total += rows[t].losses[slot];
        }
        for o in grads.iter_mut() {
            *o *= scale;
        }
        Ok(scale * total)
    }
}

impl Workspace {
    /// Records and sweeps each group of samples on a fresh recording of this tape, keeping one
    /// gradient row (of the sum of the group's losses) and one loss sum per group in `rows`.
    fn group_gradients(
        &mut self,
        rows: &mut Rows,
        model: &Mlp,
        data: &Dataset,
        groups: impl Iterator<Item = (usize, Range<usize>)>,
        loss: Loss,
    ) -> std::result::Result<(), (usize, Error)> {
        rows.groups.clear();
        rows.losses.clear();
        for (k, (group, samples)) in groups.enumerate() {
            // A fresh recording: the bound parameters are nodes 0..parameter_count.
            self.tape.clear();
            let tape = &self.tape;
            let bound = model.bind(tape);
            self.losses.clear();
            let mut sum = 0.0;
            for i in samples {
                (bound.record(None, data.input(i), &mut self.scratch)).map_err(|e| (group, e))?;
                let s = &self.scratch;
                let (node, value) = tape.with_records(|r| {
                    loss.record(r, s.output_nodes(), s.output_values(), data.target(i))
                });
                if !value.is_finite() {
                    let e = Error::NonFiniteLoss {
                        epoch: 0,
                        sample: i,
                        loss: value,
                    };
                    return Err((group, e));
                }
                self.losses.push(node);
                sum += value;
            }
            // s = l_0 + l_1 + ...;  ds/dl_i = 1
            let losses = &self.losses;
            let node = tape.with_records(|r| {
                for &l in losses {
                    r.edge(l, 1.0);
                }
                r.finish(Op::Sum, sum)
            });
            if rows.gradients.len() == k {
                rows.gradients.push(Gradients::new());
            }
            Value::new(tape, node, sum).backward_into(&mut rows.gradients[k]);
            rows.groups.push(group);
            rows.losses.push(sum);
        }
        Ok(())
    }
}
