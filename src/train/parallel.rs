//! Data-parallel gradients: a mini-batch's mean gradient from several threads, bit for bit the
//! same whatever the thread count.
//!
//! The batch is cut into fixed groups of [`GROUP`] consecutive samples, whatever the thread
//! count. Each group is recorded on one tape and swept once, giving the gradient of the sum of
//! its samples' losses. Each thread takes the next group nobody has taken until none is left
//! (one atomic counter), so a thread that starts late or runs on a slower core does fewer
//! groups instead of holding up the step. When all groups are done, each thread sums its own
//! range of parameter columns over the group rows, in group order, `((g0 + g1) + g2) + ...`,
//! and scales them by `1 / batch`: a fixed reduction order, so 1, 2 or 16 threads give
//! identical bits. Threads wait for the last group by spinning (then yielding), not sleeping:
//! waking a sleeping thread costs about 10 us here, against tens of microseconds per group.
//!
//! Each thread owns a [`Tape`] and scratch space; each group keeps its gradient row (all
//! reused from step to step); the model is shared read-only. The threads are a persistent pool
//! (rayon), started once per [`BatchGradient`]: starting scoped threads on every step cost
//! 47-112 us here against about 10 us for waking a pool, for a two-thread W4 step of 110-170 us.
//!
//! Groups rather than single samples: a sweep and a gradient row cost one pass over every
//! parameter, which for W4 (3466 parameters, 32 samples) was a quarter of the work when paid
//! per sample.

use crate::engine::{Gradients, Op, Tape, Value};
use crate::error::{Error, Result};
use crate::nn::loss::Loss;
use crate::nn::{Mlp, Scratch};
use crate::train::Dataset;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// One thread's reusable workspace. Aligned to 128 bytes so that two threads' workspaces never
/// share a cache line: every recorded node writes the tape's vector lengths and borrow flag.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Workspace {
    tape: Tape,
    scratch: Scratch,
    /// The loss nodes of the group being recorded.
    losses: Vec<u32>,
    /// The group this thread stopped at, and why, if it failed.
    failure: Option<(usize, Error)>,
}

/// Samples per group: a group is recorded on one tape and swept once.
pub(crate) const GROUP: usize = 8;

/// One group's result: the gradients of its recording (the parameters are its first
/// `parameter_count` nodes) and the sum of its samples' losses. Kept between calls.
#[derive(Debug, Default)]
struct GroupRow {
    gradients: Gradients,
    loss: f64,
}

/// How far a call has got, shared by its threads.
struct Progress {
    /// The next group nobody has taken.
    next: AtomicUsize,
    /// Groups finished.
    done: AtomicUsize,
    /// Whether a group failed (then nobody takes more, and nobody reduces).
    failed: AtomicBool,
    /// Threads whose part (groups and columns) is over.
    finished: AtomicUsize,
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
    /// One row per group, whichever thread computes it.
    rows: Vec<Mutex<GroupRow>>,
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
            rows: Vec::new(),
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
    /// [`Error::SampleRange`] for an empty range or one past the end of the data,
    /// [`Error::InvalidTarget`] / [`Error::ClassTarget`] for a target the loss cannot take,
    /// [`Error::ParameterCount`] if `grads` does not have one slot per
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
        data.check_model(model, loss)?;
        data.check_range(&samples)?;
        for i in samples.clone() {
            loss.check(i, model.output_size(), data.target(i))?;
        }
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
        if self.rows.len() < groups {
            self.rows.resize_with(groups, Mutex::default);
        }
        let rows = &self.rows[..groups];
        // Each thread takes the next group nobody has taken until none is left, so a thread
        // that starts late or runs on a slower core does fewer groups. When every group is
        // done, thread t sums its own range of parameter columns over the group rows, in group
        // order, and scales them: the same bits whichever thread computed a group or sums a
        // column.
        let progress = Progress {
            next: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
            finished: AtomicUsize::new(0),
        };
        let scale = 1.0 / batch as f64;
        let work = |space: &mut Workspace, columns: &mut [f64], first_column: usize| {
            let _unblock = Unblock(&progress.failed);
            space.failure = space
                .take_groups(rows, model, data, &samples, loss, &progress)
                .err();
            if space.failure.is_some() {
                progress.failed.store(true, Ordering::Relaxed);
            } else if progress.wait_for(&progress.done, groups) {
                sum_columns(rows, columns, first_column, scale);
            }
            progress.finished.fetch_add(1, Ordering::Release);
        };
        // Column ranges: thread t sums columns [p * t / threads, p * (t + 1) / threads).
        let mut rest = &mut grads[..];
        let mut shares = self.spaces[..threads]
            .iter_mut()
            .enumerate()
            .map(|(t, space)| {
                let (start, end) = (p * t / threads, p * (t + 1) / threads);
                let (columns, tail) = std::mem::take(&mut rest).split_at_mut(end - start);
                rest = tail;
                (space, columns, start)
            });
        let work = &work;
        match &self.pool {
            Some(pool) if threads > 1 => {
                let mine = shares.next();
                pool.in_place_scope(|scope| {
                    for (space, columns, first) in shares {
                        scope.spawn(move |_| work(space, columns, first));
                    }
                    if let Some((space, columns, first)) = mine {
                        work(space, columns, first);
                    }
                    // Spin until the pool's parts are over too, so that leaving the scope
                    // does not go to sleep on them.
                    progress.wait_for(&progress.finished, threads);
                });
            }
            _ => shares.for_each(|(space, columns, first)| work(space, columns, first)),
        }
        // The failure in the earliest group, whichever thread met it: groups are taken in
        // order, nobody takes more after a failure, and a thread finishes every group it took
        // unless it fails in it, so every group before the earliest failing one was computed.
        let failed = self.spaces.iter_mut().filter_map(|s| s.failure.take());
        if let Some((_, e)) = failed.min_by_key(|(g, _)| *g) {
            return Err(e);
        }
        let total = rows.iter().fold(0.0, |s, r| s + lock(r).loss);
        Ok(scale * total)
    }
}

impl Progress {
    /// Waits until `counter` reaches `target` (true) or a group has failed (false). What it
    /// waits for takes microseconds to tens of microseconds, so the wait spins rather than
    /// sleeps, which would cost about 10 us to wake from here; after a few spins it yields, in
    /// case the thread it waits for shares this core.
    fn wait_for(&self, counter: &AtomicUsize, target: usize) -> bool {
        let mut spins = 0u32;
        loop {
            if counter.load(Ordering::Acquire) == target {
                return true;
            }
            if self.failed.load(Ordering::Relaxed) {
                return false;
            }
            if spins < 64 {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Marks the call failed if its thread unwinds, so that no other thread waits for it forever.
struct Unblock<'a>(&'a AtomicBool);

impl Drop for Unblock<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// `columns[c] = scale * (row_0[first + c] + row_1[first + c] + ...)`, rows in group order.
fn sum_columns(rows: &[Mutex<GroupRow>], columns: &mut [f64], first: usize, scale: f64) {
    columns.fill(0.0);
    for row in rows {
        let row = lock(row);
        let g = &row.gradients.as_slice()[first..first + columns.len()];
        for (o, v) in columns.iter_mut().zip(g) {
            *o += v;
        }
    }
    for o in columns.iter_mut() {
        *o *= scale;
    }
}

/// Locks a group row. A row is only written by the thread that took its group, so a poisoned
/// lock (a panic in another thread while writing) leaves nothing worth protecting.
fn lock(row: &Mutex<GroupRow>) -> std::sync::MutexGuard<'_, GroupRow> {
    row.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Workspace {
    /// Takes groups until none is left (or one fails), recording and sweeping each on a fresh
    /// recording of this tape, and writes its gradient row and loss sum into `rows`.
    fn take_groups(
        &mut self,
        rows: &[Mutex<GroupRow>],
        model: &Mlp,
        data: &Dataset,
        samples: &Range<usize>,
        loss: Loss,
        progress: &Progress,
    ) -> std::result::Result<(), (usize, Error)> {
        loop {
            if progress.failed.load(Ordering::Relaxed) {
                return Ok(());
            }
            let g = progress.next.fetch_add(1, Ordering::Relaxed);
            if g >= rows.len() {
                return Ok(());
            }
            let start = samples.start + g * GROUP;
            let group = start..(start + GROUP).min(samples.end);
            self.group(&mut lock(&rows[g]), model, data, group, loss)
                .map_err(|e| (g, e))?;
            progress.done.fetch_add(1, Ordering::Release);
        }
    }

    /// Records and sweeps one group: `row` gets the gradient of the sum of its losses.
    fn group(
        &mut self,
        row: &mut GroupRow,
        model: &Mlp,
        data: &Dataset,
        samples: Range<usize>,
        loss: Loss,
    ) -> Result<()> {
        // A fresh recording: the bound parameters are nodes 0..parameter_count.
        self.tape.clear();
        let tape = &self.tape;
        let bound = model.bind(tape);
        self.losses.clear();
        let mut sum = 0.0;
        for i in samples {
            bound.record(None, data.input(i), &mut self.scratch)?;
            let s = &self.scratch;
            let (node, value) = tape.with_records(|r| {
                loss.record(r, s.output_nodes(), s.output_values(), data.target(i))
            });
            if !value.is_finite() {
                return Err(Error::NonFiniteLoss {
                    epoch: 0,
                    sample: i,
                    loss: value,
                });
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
        Value::new(tape, node, sum).backward_into(&mut row.gradients);
        row.loss = sum;
        Ok(())
    }
}
