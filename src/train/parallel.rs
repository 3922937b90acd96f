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
//! waking a sleeping thread costs about as much as a small group's work.
//!
//! Each thread owns a [`Tape`] and scratch space; each group of a window keeps its gradient
//! row, one value per parameter (all reused from step to step); the model is shared read-only.
//! A large batch is computed in windows of [`ROWS_PER_THREAD`] groups per thread, each added to
//! the running column sums before the next starts, so memory is O(threads x parameters).
//!
//! The threads are a persistent pool (rayon), started once per [`BatchGradient`]: starting
//! scoped threads on every step costs several times more than waking a pool, a large share of
//! a small mini-batch step (figures in the README's performance section).
//!
//! Groups rather than single samples: a sweep and a gradient row cost one pass over every
//! parameter, which for W4 (3466 parameters, 32 samples) was a quarter of the work when paid
//! per sample.

use crate::engine::{Gradients, Tape, Value};
use crate::error::{Error, Result};
use crate::nn::loss::Loss;
use crate::nn::Mlp;
use crate::train::batch::{check_samples, record_loss, BatchBuffers};
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
    buffers: BatchBuffers,
    /// The sweep of the group being computed (one gradient per node of its recording).
    sweep: Gradients,
    /// The group this thread stopped at, and why, if it failed.
    failure: Option<(usize, Error)>,
}

/// Samples per group: a group is recorded on one tape and swept once.
pub(crate) const GROUP: usize = 8;

/// Group rows kept per thread: a batch is computed in windows of `threads * ROWS_PER_THREAD`
/// groups, so memory is O(threads x parameters) whatever the batch size.
const ROWS_PER_THREAD: usize = 4;

/// One group's result, kept between calls: the gradient of the sum of its samples' losses
/// (one per parameter) and that sum.
#[derive(Debug, Default)]
struct GroupRow {
    gradient: Vec<f64>,
    loss: f64,
}

/// How far a window has got, shared by its threads.
struct Progress {
    /// The next group of the window nobody has taken.
    next: AtomicUsize,
    /// Groups of the window finished.
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
/// tapes and buffers, until the `BatchGradient` is dropped. Memory grows with the thread count
/// and the model, not with the batch: groups are computed in windows of four per thread, each
/// window added to the running sum before the next starts.
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
    /// One row per group of a window, whichever thread computes it.
    rows: Vec<Mutex<GroupRow>>,
    /// `None` for one thread: everything runs on the calling thread.
    pool: Option<rayon::ThreadPool>,
}

impl BatchGradient {
    /// The most threads a `BatchGradient` starts: more cannot help on any machine this crate
    /// targets, and each costs a stack and a workspace.
    ///
    /// ```
    /// assert!(tapegrad::BatchGradient::new(tapegrad::BatchGradient::MAX_THREADS + 1).is_err());
    /// ```
    pub const MAX_THREADS: usize = 1024;

    /// A workspace for `threads` threads (1 computes on the calling thread), at most
    /// [`BatchGradient::MAX_THREADS`] (1024).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if `threads` is 0 or more than 1024,
    /// [`Error::ThreadPool`] if the operating system cannot start the threads.
    ///
    /// ```
    /// assert!(tapegrad::BatchGradient::new(0).is_err());
    /// assert!(tapegrad::BatchGradient::new(1 << 40).is_err());
    /// assert_eq!(tapegrad::BatchGradient::new(2)?.threads(), 2);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn new(threads: usize) -> Result<Self> {
        if threads == 0 || threads > Self::MAX_THREADS {
            return Err(Error::InvalidHyperparameter {
                name: "thread count",
                requirement: "between 1 and 1024",
                value: threads as f64,
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
    /// [`Error::InvalidTarget`] / [`Error::ClassTarget`] if a target does not suit the loss (checked as
    /// [`Trainer`](crate::Trainer) checks them, before any work),
    /// [`Error::SampleRange`] for an empty range or one past the end of the data,
    /// [`Error::ParameterCount`] if `grads` does not have one slot per parameter,
    /// [`Error::Allocation`] if the per-group gradient rows cannot be allocated, and
    /// [`Error::NonFiniteLoss`] (epoch 0, the offending sample) if a sample's loss is NaN or
    /// infinite: the first such sample of the earliest group that has one, whatever the
    /// thread count (the batch's first sample if only the sum overflows). `grads` is then
    /// left unspecified.
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
        check_samples(model, data, &samples, loss)?;
        let p = model.parameter_count();
        if grads.len() != p {
            return Err(Error::ParameterCount {
                expected: p,
                found: grads.len(),
            });
        }
        let batch = samples.len();
        let groups = batch.div_ceil(GROUP);
        let window = groups.min(self.spaces.len() * ROWS_PER_THREAD);
        if self.rows.len() < window {
            let more = window - self.rows.len();
            crate::size::reserve(&mut self.rows, more, "gradient rows")?;
            self.rows.resize_with(window, Mutex::default);
        }
        // grads[c] = ((0 + row_0[c]) + row_1[c]) + ..., rows in group order across windows,
        // then scaled: the same bits whatever the window and thread count.
        grads.fill(0.0);
        let mut total = 0.0;
        let mut first = 0;
        while first < groups {
            let count = window.min(groups - first);
            self.window(model, data, &samples, loss, first..first + count, grads)?;
            total = self.rows[..count]
                .iter()
                .fold(total, |s, r| s + lock(r).loss);
            first += count;
        }
        let scale = 1.0 / batch as f64;
        for g in grads.iter_mut() {
            *g *= scale;
        }
        let mean = scale * total;
        if !mean.is_finite() {
            return Err(Error::NonFiniteLoss {
                epoch: 0,
                sample: samples.start,
                loss: mean,
            });
        }
        Ok(mean)
    }

    /// Computes groups `window` into the first rows and adds them, in group order, to `grads`.
    fn window(
        &mut self,
        model: &Mlp,
        data: &Dataset,
        samples: &Range<usize>,
        loss: Loss,
        window: Range<usize>,
        grads: &mut [f64],
    ) -> Result<()> {
        let p = grads.len();
        let groups = window.len();
        let threads = self.spaces.len().min(groups);
        let rows = &self.rows[..groups];
        // Each thread takes the next group nobody has taken until none is left, so a thread
        // that starts late or runs on a slower core does fewer groups. When every group is
        // done, thread t adds its own range of parameter columns over the group rows, in group
        // order: the same bits whichever thread computed a group or sums a column.
        let progress = Progress {
            next: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
            finished: AtomicUsize::new(0),
        };
        let work = |space: &mut Workspace, columns: &mut [f64], first_column: usize| {
            let _unblock = Unblock(&progress.failed);
            space.failure = space
                .take_groups(rows, model, data, samples, &window, loss, &progress)
                .err();
            if space.failure.is_some() {
                progress.failed.store(true, Ordering::Relaxed);
            } else if progress.wait_for(&progress.done, groups) {
                add_columns(rows, columns, first_column);
            }
            progress.finished.fetch_add(1, Ordering::Release);
        };
        // Column ranges: thread t sums columns [p * t / threads, p * (t + 1) / threads).
        let mut rest = grads;
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
        match failed.min_by_key(|(g, _)| *g) {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

impl Progress {
    /// Waits until `counter` reaches `target` (true) or a group has failed (false). What it
    /// waits for takes microseconds to tens of microseconds, so the wait spins rather than
    /// sleeps, which would cost about as much to wake from; after a few spins it yields, in
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

/// `columns[c] += row_0[first + c] + row_1[first + c] + ...`, added one row at a time in
/// group order.
fn add_columns(rows: &[Mutex<GroupRow>], columns: &mut [f64], first: usize) {
    for row in rows {
        let row = lock(row);
        let g = &row.gradient[first..first + columns.len()];
        for (o, v) in columns.iter_mut().zip(g) {
            *o += v;
        }
    }
}

/// Locks a group row. A row is only written by the thread that took its group, so a poisoned
/// lock (a panic in another thread while writing) leaves nothing worth protecting.
fn lock(row: &Mutex<GroupRow>) -> std::sync::MutexGuard<'_, GroupRow> {
    row.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Workspace {
    /// Takes groups of `window` until none is left (or one fails), recording and sweeping each
    /// on a fresh recording of this tape, and writes its gradient row and loss sum into `rows`
    /// (row `k` for the window's `k`-th group).
    #[allow(clippy::too_many_arguments)]
    fn take_groups(
        &mut self,
        rows: &[Mutex<GroupRow>],
        model: &Mlp,
        data: &Dataset,
        samples: &Range<usize>,
        window: &Range<usize>,
        loss: Loss,
        progress: &Progress,
    ) -> std::result::Result<(), (usize, Error)> {
        loop {
            if progress.failed.load(Ordering::Relaxed) {
                return Ok(());
            }
            let k = progress.next.fetch_add(1, Ordering::Relaxed);
            if k >= rows.len() {
                return Ok(());
            }
            let start = samples.start + (window.start + k) * GROUP;
            let group = start..(start + GROUP).min(samples.end);
            self.group(&mut lock(&rows[k]), model, data, group, loss)
                .map_err(|e| (k, e))?;
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
        self.tape.clear();
        let bound = model.bind(&self.tape);
        let (node, sum) = record_loss(
            &bound,
            data,
            samples,
            loss,
            1.0,
            0,
            &mut self.buffers,
            |_, _| {},
        )?;
        Value::new(&self.tape, node, sum).backward_into(&mut self.sweep);
        let gradient = bound.gradients(&self.sweep);
        row.gradient.clear();
        crate::size::reserve(&mut row.gradient, gradient.len(), "gradient values")?;
        row.gradient.extend_from_slice(gradient);
        row.loss = sum;
        Ok(())
    }
}
