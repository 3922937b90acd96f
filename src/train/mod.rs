//! Datasets and the training loop.
//!
//! A [`Trainer`] owns a [`Tape`], a [`Gradients`] buffer and scratch space, and reuses them for
//! every step: once warm, a training step allocates nothing.

pub(crate) mod batch;
#[cfg(feature = "parallel")]
pub(crate) mod parallel;
mod progress;

use crate::engine::record::Mark;
use crate::engine::{Gradients, Tape};
use crate::error::{Error, Result};
use crate::nn::loss::{check_lengths, Loss};
use crate::nn::{Leaves, Mlp, Scratch};
use crate::optim::Optimizer;
use batch::{check_samples, record_loss, BatchBuffers};
use std::ops::ControlFlow;

/// Training data: rows of inputs and rows of targets, checked once on construction.
///
/// ```
/// use tapegrad::Dataset;
/// // The seed's people: (weight - 135, height - 66) -> female.
/// let data = Dataset::new(
///     &[[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]],
///     &[[1.0], [0.0], [0.0], [1.0]],
/// )?;
/// assert_eq!((data.len(), data.input_size(), data.target_size()), (4, 2, 1));
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    inputs: Vec<f64>,
    targets: Vec<f64>,
    input_size: usize,
    target_size: usize,
    len: usize,
}

impl Dataset {
    /// A dataset from rows of inputs and rows of targets.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyDataset`] with no rows; [`Error::DatasetLength`] if the row counts differ;
    /// [`Error::RaggedSample`] if a row's length differs from row 0's;
    /// [`Error::NonFiniteData`] for a NaN or infinite value; [`Error::Allocation`] if the
    /// values cannot be allocated.
    ///
    /// ```
    /// use tapegrad::{Dataset, Error};
    /// let err = Dataset::new(&[vec![1.0, 2.0], vec![3.0]], &[vec![0.0], vec![1.0]]).unwrap_err();
    /// assert_eq!(err.to_string(), "sample 1 has 1 inputs but sample 0 has 2");
    /// ```
    pub fn new<I: AsRef<[f64]>, T: AsRef<[f64]>>(inputs: &[I], targets: &[T]) -> Result<Self> {
        if inputs.len() != targets.len() {
            return Err(Error::DatasetLength {
                inputs: inputs.len(),
                targets: targets.len(),
            });
        }
        if inputs.is_empty() {
            return Err(Error::EmptyDataset);
        }
        let input_size = inputs[0].as_ref().len();
        let target_size = targets[0].as_ref().len();
        let values = |rows: usize, width: usize| {
            crate::size::mul("dataset values", rows, width)
                .and_then(|n| crate::size::with_capacity(n, "dataset values"))
        };
        let mut data = Dataset {
            inputs: values(inputs.len(), input_size)?,
            targets: values(targets.len(), target_size)?,
            input_size,
            target_size,
            len: inputs.len(),
        };
        for (sample, (x, t)) in inputs.iter().zip(targets).enumerate() {
            let (x, t) = (x.as_ref(), t.as_ref());
            check_row(sample, "inputs", input_size, x)?;
            check_row(sample, "targets", target_size, t)?;
            data.inputs.extend_from_slice(x);
            data.targets.extend_from_slice(t);
        }
        Ok(data)
    }

    /// Number of samples (never 0).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: a dataset has at least one sample.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per input row.
    #[must_use]
    pub fn input_size(&self) -> usize {
        self.input_size
    }

    /// Values per target row.
    #[must_use]
    pub fn target_size(&self) -> usize {
        self.target_size
    }

    /// Sample `i`'s inputs.
    ///
    /// # Panics
    ///
    /// If `i >= len()`.
    #[must_use]
    #[inline]
    pub fn input(&self, i: usize) -> &[f64] {
        self.check_index(i);
        &self.inputs[i * self.input_size..(i + 1) * self.input_size]
    }

    /// Sample `i`'s targets.
    ///
    /// # Panics
    ///
    /// If `i >= len()`.
    #[must_use]
    #[inline]
    pub fn target(&self, i: usize) -> &[f64] {
        self.check_index(i);
        &self.targets[i * self.target_size..(i + 1) * self.target_size]
    }

    /// Panics unless sample `i` exists (also for rows of no values, which index any `i`).
    #[inline]
    #[track_caller]
    fn check_index(&self, i: usize) {
        if i >= self.len {
            no_such_sample(i, self.len);
        }
    }

    /// Checks that `samples` is a non-empty range of this dataset's samples.
    pub(crate) fn check_range(&self, samples: &std::ops::Range<usize>) -> Result<()> {
        if samples.is_empty() || samples.end > self.len {
            return Err(Error::SampleRange {
                start: samples.start,
                end: samples.end,
                len: self.len,
            });
        }
        Ok(())
    }

    /// Checks that `model` takes this dataset's inputs and that its targets' length suits the
    /// model's outputs under `loss` (one class index per sample for cross-entropy, one target
    /// per output otherwise).
    pub(crate) fn check_model(&self, model: &Mlp, loss: Loss) -> Result<()> {
        if model.input_size() != self.input_size {
            return Err(Error::InputSize {
                expected: model.input_size(),
                found: self.input_size,
            });
        }
        if loss == Loss::CrossEntropy {
            // Lengths and values together, sample by sample, when the targets are checked.
            return Ok(());
        }
        check_lengths(model.output_size(), self.target_size)
    }

    /// [`check_samples`] over every sample.
    pub(crate) fn check_all(&self, model: &Mlp, loss: Loss) -> Result<()> {
        check_samples(model, self, &(0..self.len), loss)
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn no_such_sample(i: usize, len: usize) -> ! {
    panic!("tapegrad: sample {i} of a dataset of {len} samples")
}

fn check_row(sample: usize, what: &'static str, expected: usize, row: &[f64]) -> Result<()> {
    if row.len() != expected {
        return Err(Error::RaggedSample {
            sample,
            what,
            expected,
            found: row.len(),
        });
    }
    if let Some((position, &value)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFiniteData {
            sample,
            what: if what == "inputs" { "input" } else { "target" },
            position,
            value,
        });
    }
    Ok(())
}

impl Mlp {
    /// The mean of `loss` over every sample of `data` (plain `f64`, no tape).
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] or [`Error::TargetSize`] if the model does not fit the data;
    /// [`Error::InvalidTarget`] or [`Error::ClassTarget`] for a target the loss cannot take.
    ///
    /// ```
    /// use tapegrad::{Activation, Dataset, Loss, Mlp};
    /// // A network that always answers 0 on the seed's data: MSE 0.5, as the seed says.
    /// let m = Mlp::zeros(&[2, 1], Activation::Identity, Activation::Identity)?;
    /// let data = Dataset::new(
    ///     &[[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]],
    ///     &[[1.0], [0.0], [0.0], [1.0]],
    /// )?;
    /// assert_eq!(m.loss(&data, Loss::Mse)?, 0.5);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn loss(&self, data: &Dataset, loss: Loss) -> Result<f64> {
        data.check_all(self, loss)?;
        Ok(evaluate(self, data, loss, &mut Scratch::default()).loss)
    }

    /// The fraction of `data` that the model classifies correctly under a classification
    /// `loss` (see [`Loss::is_classification`]): for [`Loss::CrossEntropy`] the samples whose
    /// largest output ([`Mlp::classify`]) is the target class, for the two-class losses the
    /// outputs on their target's side of the boundary. `None` for a regression loss.
    ///
    /// # Errors
    ///
    /// As [`Mlp::loss`].
    ///
    /// ```
    /// use tapegrad::{Activation, Dataset, Loss, Mlp};
    /// // Three classes; the logits are the inputs themselves.
    /// let m = Mlp::from_parameters(&[2, 3], Activation::Identity, Activation::Identity,
    ///     &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.5])?;
    /// let data = Dataset::new(&[[2.0, 1.0], [0.0, 3.0], [0.0, 0.0]], &[[0.0], [1.0], [0.0]])?;
    /// assert_eq!(m.accuracy(&data, Loss::CrossEntropy)?, Some(2.0 / 3.0)); // the last is class 2
    /// assert_eq!(m.accuracy(&data, Loss::Mse).ok(), None); // 3 outputs, 1 target: an error
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn accuracy(&self, data: &Dataset, loss: Loss) -> Result<Option<f64>> {
        data.check_all(self, loss)?;
        Ok(evaluate(self, data, loss, &mut Scratch::default()).accuracy)
    }

    /// The class the model predicts for `x`: the index of its largest output (the first on a
    /// tie; NaN outputs are passed over).
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] if `x` does not have the model's input size,
    /// [`Error::NonFiniteInput`] naming the first NaN or infinite value.
    ///
    /// ```
    /// use tapegrad::{Activation, Mlp};
    /// let m = Mlp::from_parameters(&[1, 3], Activation::Identity, Activation::Identity,
    ///     &[1.0, 0.0, -1.0, 0.0, 0.0, 0.5])?;
    /// assert_eq!(m.classify(&[2.0])?, 0); // outputs 2, -2, 0.5
    /// assert_eq!(m.classify(&[-2.0])?, 1); // outputs -2, 2, 0.5
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn classify(&self, x: &[f64]) -> Result<usize> {
        let mut s = Scratch::default();
        Ok(crate::nn::loss::argmax(self.predict_with(x, &mut s)?))
    }
}

/// A mean that does not overflow: the sum over the count while the sum is finite; if finite
/// values sum past `f64::MAX`, each over the count, summed, and never above the largest (the
/// mean of finite numbers is finite). A non-finite value makes the mean non-finite.
#[derive(Debug, Clone, Copy)]
struct Mean {
    count: usize,
    total: f64,
    scaled: f64,
    largest: f64,
}

impl Mean {
    /// An empty mean of `count` values to come.
    fn of(count: usize) -> Self {
        let largest = f64::NEG_INFINITY;
        Mean {
            count,
            total: 0.0,
            scaled: 0.0,
            largest,
        }
    }

    #[inline]
    fn add(&mut self, value: f64) {
        self.total += value;
        self.scaled += value / self.count as f64;
        self.largest = self.largest.max(value);
    }

    fn get(&self) -> f64 {
        if self.total.is_finite() || !self.largest.is_finite() || self.scaled.is_nan() {
            self.total / self.count as f64
        } else {
            self.scaled.min(self.largest)
        }
    }
}

/// The mean loss and the accuracy of `model` over `data`; sizes and targets already checked.
fn evaluate(model: &Mlp, data: &Dataset, loss: Loss, s: &mut Scratch) -> Metrics {
    let (mut total, mut correct, mut counted) = (Mean::of(data.len()), 0, 0);
    for i in 0..data.len() {
        let out = model
            .predict_with(data.input(i), s)
            .expect("input size checked");
        total.add(loss.eval_unchecked(out, data.target(i)));
        if let Some((right, n)) = loss.count_correct(out, data.target(i)) {
            (correct, counted) = (correct + right, counted + n);
        }
    }
    Metrics {
        loss: total.get(),
        accuracy: (counted > 0).then(|| correct as f64 / counted as f64),
    }
}

/// A model's loss and accuracy on a dataset, as [`EpochReport::validation`] reports them.
///
/// ```
/// use tapegrad::{Activation, Dataset, Loss, Mlp, Sgd, TrainConfig, Trainer};
/// let mut model = Mlp::zeros(&[1, 2], Activation::Identity, Activation::Identity)?;
/// let train = Dataset::new(&[[-1.0], [1.0]], &[[0.0], [1.0]])?;
/// let mut seen = Vec::new();
/// Trainer::new(TrainConfig::default().epochs(20).loss(Loss::CrossEntropy))?
///     .with_validation(train.clone())
///     .fit(&mut model, &mut Sgd::new(0.5)?, &train, |r| seen.push(r.validation.unwrap()))?;
/// assert_eq!(seen[0].accuracy, Some(1.0));
/// assert!(seen[19].loss < seen[0].loss);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// The mean loss over the samples.
    pub loss: f64,
    /// The fraction classified correctly for a classification loss ([`Mlp::accuracy`]);
    /// `None` for a regression loss.
    pub accuracy: Option<f64>,
}

/// How to train: epochs, batch size and loss, whether to keep the best parameters seen on the
/// validation data, and whether to show a progress bar. Checked by [`Trainer::new`].
///
/// ```
/// use tapegrad::{Loss, TrainConfig};
/// let config = TrainConfig::default().epochs(1000).batch_size(4).loss(Loss::Hinge);
/// assert_eq!((config.epochs, config.batch_size, config.loss), (1000, 4, Loss::Hinge));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct TrainConfig {
    /// Passes over the dataset.
    pub epochs: usize,
    /// Samples per step: 1 is per-sample SGD (the seed's), `n` averages the loss over `n`
    /// consecutive samples (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// The loss to minimise.
    pub loss: Loss,
    /// At the end of training (also when the epoch callback stops it), put the model back to
    /// its parameters after the epoch with the lowest validation loss. Needs validation data
    /// ([`Trainer::with_validation`]).
    pub restore_best: bool,
    /// Draw a progress bar (steps, epoch, loss, time left) on standard output while training,
    /// if standard output is a terminal and the crate's `progress` feature is on (it is by
    /// default); otherwise nothing is drawn, so logs and tests stay clean.
    pub progress: bool,
}

impl Default for TrainConfig {
    /// One epoch, per-sample updates, MSE, no restoring, no progress bar.
    fn default() -> Self {
        TrainConfig {
            epochs: 1,
            batch_size: 1,
            loss: Loss::Mse,
            restore_best: false,
            progress: false,
        }
    }
}

impl TrainConfig {
    /// Sets the number of epochs.
    #[must_use]
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Sets the batch size (0 is refused by [`Trainer::new`]: the setters only record).
    #[must_use]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the loss.
    #[must_use]
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// Sets whether to restore the parameters with the lowest validation loss at the end (see
    /// [`Trainer::with_validation`] for an example).
    ///
    /// ```
    /// assert!(tapegrad::TrainConfig::default().restore_best(true).restore_best);
    /// ```
    #[must_use]
    pub fn restore_best(mut self, restore_best: bool) -> Self {
        self.restore_best = restore_best;
        self
    }

    /// Sets whether to draw a progress bar when standard output is a terminal.
    ///
    /// ```
    /// assert!(tapegrad::TrainConfig::default().progress(true).progress);
    /// ```
    #[must_use]
    pub fn progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }
}

/// What the epoch callback of [`Trainer::fit`] receives.
///
/// ```
/// use tapegrad::{Activation, Dataset, Mlp, Sgd, TrainConfig, Trainer};
/// let mut model = Mlp::zeros(&[1, 1], Activation::Identity, Activation::Identity)?;
/// let data = Dataset::new(&[[1.0]], &[[2.0]])?;
/// let mut losses = Vec::new();
/// Trainer::new(TrainConfig::default().epochs(3))?
///     .fit(&mut model, &mut Sgd::new(0.1)?, &data, |r| losses.push(r.loss))?;
/// assert_eq!(losses.len(), 3);
/// assert!(losses[2] < losses[0]);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct EpochReport<'m> {
    /// The epoch that just ended (from 0).
    pub epoch: usize,
    /// Mean of the step losses during the epoch, each measured before its update (free: no
    /// extra forward pass). For the loss of the model as it stands, use
    /// [`Mlp::loss`] on `model`.
    pub loss: f64,
    /// For a classification loss ([`Loss::is_classification`]), the fraction classified
    /// correctly ([`Mlp::accuracy`]), counted like `loss` (each before its step's update);
    /// `None` for a regression loss.
    pub accuracy: Option<f64>,
    /// The model after the epoch, on the validation data ([`Trainer::with_validation`]);
    /// `None` without validation data.
    pub validation: Option<Metrics>,
    /// The model after the epoch.
    pub model: &'m Mlp,
}

/// What an epoch callback returns: `()` to go on, or a [`ControlFlow`], whose `Break` stops
/// training after this epoch.
///
/// ```
/// use std::ops::ControlFlow;
/// use tapegrad::{Activation, Dataset, Mlp, Sgd, TrainConfig, Trainer};
/// let mut model = Mlp::zeros(&[1, 1], Activation::Identity, Activation::Identity)?;
/// let data = Dataset::new(&[[1.0]], &[[2.0]])?;
/// // Stop once the loss is small: far fewer than the 1000 epochs asked for.
/// let summary = Trainer::new(TrainConfig::default().epochs(1000))?
///     .fit(&mut model, &mut Sgd::new(0.1)?, &data, |r| {
///         if r.loss < 1e-6 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
///     })?;
/// assert!(summary.stopped && summary.epochs < 1000);
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub trait EpochControl {
    /// Whether to go on.
    fn flow(self) -> ControlFlow<()>;
}

impl EpochControl for () {
    fn flow(self) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

impl EpochControl for ControlFlow<()> {
    fn flow(self) -> ControlFlow<()> {
        self
    }
}

/// Summary returned by [`Trainer::fit`].
///
/// ```
/// use tapegrad::{Activation, Dataset, Mlp, Sgd, TrainConfig, Trainer};
/// let mut model = Mlp::zeros(&[1, 1], Activation::Identity, Activation::Identity)?;
/// let data = Dataset::new(&[[1.0], [2.0]], &[[2.0], [4.0]])?;
/// let summary = Trainer::new(TrainConfig::default().epochs(2))?
///     .fit(&mut model, &mut Sgd::new(0.1)?, &data, |_| {})?;
/// assert_eq!((summary.epochs, summary.steps, summary.stopped), (2, 4, false));
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct TrainSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// Optimizer steps taken.
    pub steps: usize,
    /// The last epoch's [`EpochReport::loss`] (NaN if no epoch ran).
    pub last_loss: f64,
    /// Whether the epoch callback stopped training before `epochs` were done.
    pub stopped: bool,
    /// The epoch with the lowest validation loss, and that loss (`None` without validation
    /// data). With [`TrainConfig::restore_best`] the model ends with that epoch's parameters.
    pub best: Option<(usize, f64)>,
}

/// Reorders an epoch's sample indices (the caller's RNG behind it).
type Shuffle<'a> = &'a mut dyn FnMut(&mut [usize]);

/// Reusable training state: a tape, a gradient buffer and scratch buffers.
///
/// ```
/// use tapegrad::{Activation, Dataset, Mlp, Sgd, TrainConfig, Trainer};
/// // Learn y = 2x + 1.
/// let mut model = Mlp::zeros(&[1, 1], Activation::Identity, Activation::Identity)?;
/// let data = Dataset::new(&[[0.0], [1.0], [2.0]], &[[1.0], [3.0], [5.0]])?;
/// let mut trainer = Trainer::new(TrainConfig::default().epochs(500))?;
/// trainer.fit(&mut model, &mut Sgd::new(0.05)?, &data, |_| {})?;
/// assert!((model.parameters()[0] - 2.0).abs() < 1e-6);
/// assert!((model.parameters()[1] - 1.0).abs() < 1e-6);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug)]
pub struct Trainer {
    config: TrainConfig,
    tape: Tape,
    grads: Gradients,
    buffers: BatchBuffers,
    /// Sample order of the current epoch.
    order: Vec<usize>,
    /// The optimizer writes each step's new parameters here from the model's, then the two
    /// vectors are swapped: so after a step this holds the parameters from before it, those of
    /// the last step whose loss was finite (if `has_last_good`), without a copy.
    spare: Vec<f64>,
    has_last_good: bool,
    /// The model's parameter leaves on `tape`, recorded once per run, and the point of the
    /// recording just after them: each step rewinds the tape there instead of clearing it
    /// and binding the model again.
    bound: Option<(Mark, Leaves)>,
    /// Correct and counted answers of the current epoch (classification losses).
    correct: usize,
    counted: usize,
    /// Data to evaluate the model on after every epoch.
    validation: Option<Dataset>,
    /// The parameters after the epoch with the lowest validation loss so far.
    best: Vec<f64>,
}

impl Trainer {
    /// A trainer for `config`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHyperparameter`] if the batch size is 0.
    ///
    /// ```
    /// use tapegrad::{TrainConfig, Trainer};
    /// assert!(Trainer::new(TrainConfig::default().batch_size(0)).is_err());
    /// ```
    pub fn new(config: TrainConfig) -> Result<Self> {
        if config.batch_size == 0 {
            return Err(Error::InvalidHyperparameter {
                name: "batch size",
                requirement: "at least 1",
                value: 0.0,
            });
        }
        Ok(Trainer {
            config,
            tape: Tape::new(),
            grads: Gradients::new(),
            buffers: BatchBuffers::default(),
            order: Vec::new(),
            spare: Vec::new(),
            has_last_good: false,
            bound: None,
            correct: 0,
            counted: 0,
            validation: None,
            best: Vec::new(),
        })
    }

    /// Evaluates the model on `data` after every epoch: its loss and accuracy are in
    /// [`EpochReport::validation`], the best epoch in [`TrainSummary::best`], and with
    /// [`TrainConfig::restore_best`] the model ends at that epoch's parameters. The data is
    /// checked against the model (as the training data is) when training starts.
    ///
    /// ```
    /// use tapegrad::{Activation, Dataset, Mlp, Sgd, TrainConfig, Trainer};
    /// // Fit y = x on one point, validated on another that a bias-only model cannot fit.
    /// let mut model = Mlp::zeros(&[1, 1], Activation::Identity, Activation::Identity)?;
    /// let train = Dataset::new(&[[1.0]], &[[1.0]])?;
    /// let val = Dataset::new(&[[0.0]], &[[0.0]])?;
    /// let summary = Trainer::new(TrainConfig::default().epochs(30).restore_best(true))?
    ///     .with_validation(val)
    ///     .fit(&mut model, &mut Sgd::new(0.3)?, &train, |_| {})?;
    /// let (best_epoch, best_loss) = summary.best.unwrap();
    /// assert!(best_epoch < 29);
    /// assert_eq!(model.predict(&[0.0])?[0].powi(2), best_loss); // the best epoch's model
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn with_validation(mut self, data: Dataset) -> Self {
        self.validation = Some(data);
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Runs `config.epochs` epochs over `data` in order (no shuffling, as the seed), one
    /// optimizer step per batch, calling `on_epoch` after each epoch with the epoch's loss and,
    /// for a classification loss, its accuracy (and the validation metrics, with
    /// [`Trainer::with_validation`]). `on_epoch` returns `()` or a [`ControlFlow`]: `Break`
    /// stops training after that epoch ([`EpochControl`]).
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] / [`Error::TargetSize`] if the model does not fit the data (or the
    /// validation data), [`Error::InvalidTarget`] / [`Error::ClassTarget`] if a target does not
    /// suit the loss, and [`Error::NoValidation`] for [`TrainConfig::restore_best`] without
    /// validation data (all checked before any step). [`Error::NonFiniteLoss`] if a step's loss is NaN or infinite: training stops and
    /// the model is put back to the parameters of the last step whose loss was finite (the
    /// optimizer's own state, such as momentum, is not rolled back).
    /// [`Error::NonFiniteUpdate`] if a gradient or an updated parameter would be NaN or
    /// infinite: that step is not applied. Both errors name the epoch; the first names the
    /// first sample whose loss is not finite (the step's first if only the batch's mean is,
    /// which happens only where the true mean overflows), the second the step's first sample. The
    /// optimizer's own errors ([`Error::OptimizerState`] for an optimizer last used on a model
    /// of another size, [`Error::InvalidSchedule`], [`Error::Allocation`]) come back as they are, with that step not
    /// applied.
    ///
    /// ```
    /// use tapegrad::{Activation, Dataset, Error, Mlp, Sgd, TrainConfig, Trainer};
    /// let mut model = Mlp::from_parameters(&[1, 1], Activation::Identity, Activation::Identity, &[1.0, 0.0])?;
    /// let data = Dataset::new(&[[1e200]], &[[0.0]])?; // (1e200)^2 overflows
    /// let err = Trainer::new(TrainConfig::default())?
    ///     .fit(&mut model, &mut Sgd::new(0.1)?, &data, |_| {})
    ///     .unwrap_err();
    /// assert!(matches!(err, Error::NonFiniteLoss { epoch: 0, sample: 0, .. }));
    /// assert_eq!(model.parameters(), &[1.0, 0.0]); // untouched
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn fit<O: Optimizer + ?Sized, C: EpochControl>(
        &mut self,
        model: &mut Mlp,
        optimizer: &mut O,
        data: &Dataset,
        on_epoch: impl FnMut(&EpochReport<'_>) -> C,
    ) -> Result<TrainSummary> {
        self.run(model, optimizer, data, None, on_epoch)
    }

    /// As [`Trainer::fit`], but visits the samples in a new random order each epoch, drawn
    /// from the caller's generator (so a seeded generator gives a reproducible run).
    ///
    /// # Errors
    ///
    /// As [`Trainer::fit`].
    ///
    /// ```
    /// use rand::{rngs::StdRng, SeedableRng};
    /// use tapegrad::{Activation, Dataset, Loss, Mlp, Sgd, TrainConfig, Trainer};
    /// let data = Dataset::new(&[[-2.0], [-1.0], [1.0], [2.0]], &[[0.0], [0.0], [1.0], [1.0]])?;
    /// let config = TrainConfig::default().epochs(50).loss(Loss::BceWithLogits);
    /// let mut model = Mlp::zeros(&[1, 1], Activation::Identity, Activation::Identity)?;
    /// let mut rng = StdRng::seed_from_u64(7);
    /// let mut accuracy = None;
    /// Trainer::new(config)?.fit_shuffled(&mut model, &mut Sgd::new(0.5)?, &data, &mut rng, |r| {
    ///     accuracy = r.accuracy;
    /// })?;
    /// assert_eq!(accuracy, Some(1.0));
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn fit_shuffled<O: Optimizer + ?Sized, R: rand::Rng + ?Sized, C: EpochControl>(
        &mut self,
        model: &mut Mlp,
        optimizer: &mut O,
        data: &Dataset,
        rng: &mut R,
        on_epoch: impl FnMut(&EpochReport<'_>) -> C,
    ) -> Result<TrainSummary> {
        let mut shuffle = |order: &mut [usize]| rand::seq::SliceRandom::shuffle(order, rng);
        self.run(model, optimizer, data, Some(&mut shuffle), on_epoch)
    }

    fn run<O: Optimizer + ?Sized, C: EpochControl>(
        &mut self,
        model: &mut Mlp,
        optimizer: &mut O,
        data: &Dataset,
        mut shuffle: Option<Shuffle<'_>>,
        mut on_epoch: impl FnMut(&EpochReport<'_>) -> C,
    ) -> Result<TrainSummary> {
        let loss_kind = self.config.loss;
        data.check_all(model, loss_kind)?;
        if let Some(val) = &self.validation {
            val.check_all(model, loss_kind)?;
        } else if self.config.restore_best {
            return Err(Error::NoValidation);
        }
        self.has_last_good = false;
        self.bind(model);
        let batch = self.config.batch_size;
        let mut summary = TrainSummary {
            epochs: 0,
            steps: 0,
            last_loss: f64::NAN,
            stopped: false,
            best: None,
        };
        let per_epoch = data.len().div_ceil(batch);
        let bar = progress::Bar::new(
            self.config.progress,
            self.config.epochs.saturating_mul(per_epoch),
        );
        let mut order = std::mem::take(&mut self.order);
        for epoch in 0..self.config.epochs {
            order.clear();
            order.extend(0..data.len());
            if let Some(shuffle) = shuffle.as_mut() {
                shuffle(&mut order);
            }
            (self.correct, self.counted) = (0, 0);
            // The mean of the step losses (each finite: a non-finite one is an error).
            let mut mean = Mean::of(per_epoch);
            let mut steps = 0;
            for chunk in order.chunks(batch) {
                let result =
                    self.step_unchecked(model, optimizer, data, chunk.iter().copied(), epoch);
                match result {
                    Ok(loss) => mean.add(loss),
                    Err(e) => {
                        if matches!(e, Error::NonFiniteLoss { .. }) && self.has_last_good {
                            model.swap_parameters(&mut self.spare);
                        }
                        self.order = order;
                        return Err(e);
                    }
                }
                steps += 1;
                bar.step();
            }
            summary.epochs += 1;
            summary.steps += steps;
            summary.last_loss = mean.get();
            let accuracy = (self.counted > 0).then(|| self.correct as f64 / self.counted as f64);
            let validation = self
                .validation
                .as_ref()
                .map(|val| evaluate(model, val, loss_kind, &mut self.buffers.scratch));
            if let Some(v) = validation {
                // The first epoch always counts, even with a non-finite loss, so that there is
                // a best to restore; later ones only by being lower.
                if summary.best.is_none_or(|(_, best)| v.loss < best) {
                    summary.best = Some((epoch, v.loss));
                    self.best.clear();
                    self.best.extend_from_slice(model.parameters());
                }
            }
            bar.epoch(epoch, self.config.epochs, summary.last_loss, validation);
            let report = EpochReport {
                epoch,
                loss: summary.last_loss,
                accuracy,
                validation,
                model,
            };
            if bar.suspend(|| on_epoch(&report).flow()).is_break() {
                summary.stopped = epoch + 1 < self.config.epochs;
                break;
            }
        }
        drop(bar);
        self.order = order;
        if self.config.restore_best && summary.best.is_some() {
            model.parameters_mut().copy_from_slice(&self.best);
        }
        Ok(summary)
    }

    /// One optimizer step on samples `samples` of `data` (mean loss over them); returns the
    /// loss measured before the update.
    ///
    /// # Errors
    ///
    /// As [`Trainer::fit`], except that on a non-finite loss the model simply stays as it is
    /// (there is no earlier step to go back to); an empty range, or one past the end of the
    /// data, gives [`Error::SampleRange`]. Errors name epoch 0.
    ///
    /// ```
    /// use tapegrad::{Activation, Dataset, Mlp, Sgd, TrainConfig, Trainer};
    /// let mut model = Mlp::zeros(&[1, 1], Activation::Identity, Activation::Identity)?;
    /// let data = Dataset::new(&[[1.0]], &[[2.0]])?;
    /// let mut trainer = Trainer::new(TrainConfig::default())?;
    /// let loss = trainer.step(&mut model, &mut Sgd::new(0.1)?, &data, 0..1)?;
    /// assert_eq!(loss, 4.0); // (0 - 2)^2
    /// assert_eq!(model.parameters(), &[0.4, 0.4]); // 0 - 0.1 * (-4)
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    pub fn step<O: Optimizer + ?Sized>(
        &mut self,
        model: &mut Mlp,
        optimizer: &mut O,
        data: &Dataset,
        samples: std::ops::Range<usize>,
    ) -> Result<f64> {
        check_samples(model, data, &samples, self.config.loss)?;
        self.has_last_good = false;
        self.bind(model);
        self.step_unchecked(model, optimizer, data, samples, 0)
    }

    /// Records `model`'s parameters as the first leaves of a cleared tape, for the steps
    /// that follow.
    fn bind(&mut self, model: &Mlp) {
        self.tape.clear();
        let leaves = model.bind(&self.tape).leaves();
        self.bound = Some((self.tape.mark(), leaves));
    }

    /// One step on the binding of [`Trainer::bind`], which must be of `model`'s shape.
    fn step_unchecked<O: Optimizer + ?Sized>(
        &mut self,
        model: &mut Mlp,
        optimizer: &mut O,
        data: &Dataset,
        samples: impl ExactSizeIterator<Item = usize> + Clone,
        epoch: usize,
    ) -> Result<f64> {
        let first_sample = samples.clone().next().unwrap_or(0);
        let loss_kind = self.config.loss;
        let classify = loss_kind.is_classification();
        let scale = 1.0 / samples.len() as f64;
        let (mark, leaves) = self
            .bound
            .expect("the trainer binds the model before a step");
        self.tape.rewind(&mark);
        let tape = &self.tape;
        let bound = model.rebind(tape, leaves);
        let (correct, counted) = (&mut self.correct, &mut self.counted);
        let (output, loss) = record_loss(
            &bound,
            data,
            samples,
            loss_kind,
            scale,
            epoch,
            &mut self.buffers,
            |outputs, targets| {
                if classify {
                    if let Some((right, n)) = loss_kind.count_correct(outputs, targets) {
                        *correct += right;
                        *counted += n;
                    }
                }
            },
        )?;
        crate::engine::Value::new(tape, output, loss).backward_into(&mut self.grads);
        let grads = bound.gradients(&self.grads);
        // The new parameters go into the spare buffer (sized once), checked there (the
        // optimizer refuses a non-finite gradient or value); only a good step swaps them in.
        // The old ones stay in the spare buffer as this finite-loss step's.
        let count = grads.len();
        if self.spare.len() != count {
            self.spare.clear();
            self.spare.resize(count, 0.0);
        }
        let result = optimizer.step_into(model.parameters(), grads, &mut self.spare);
        result.map_err(|e| match e {
            Error::NonFiniteParameter { parameter } => Error::NonFiniteUpdate {
                epoch,
                sample: first_sample,
                parameter,
            },
            other => other,
        })?;
        model.swap_parameters(&mut self.spare);
        self.has_last_good = true;
        Ok(loss)
    }
}

/// Trains `model` with `optimizer` on `data` as `config` says; shorthand for
/// [`Trainer::new`] then [`Trainer::fit`] (the same argument order, `config` before the
/// callback).
///
/// # Errors
///
/// As [`Trainer::new`] and [`Trainer::fit`].
///
/// ```
/// use tapegrad::{train, Activation, Dataset, Mlp, Sgd, TrainConfig};
/// let mut model = Mlp::zeros(&[1, 1], Activation::Sigmoid, Activation::Sigmoid)?;
/// let data = Dataset::new(&[[-1.0], [1.0]], &[[0.0], [1.0]])?;
/// train(&mut model, &mut Sgd::new(1.0)?, &data, TrainConfig::default().epochs(200), |_| {})?;
/// assert!(model.predict(&[1.0])?[0] > 0.9);
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn train<O: Optimizer + ?Sized, C: EpochControl>(
    model: &mut Mlp,
    optimizer: &mut O,
    data: &Dataset,
    config: TrainConfig,
    on_epoch: impl FnMut(&EpochReport<'_>) -> C,
) -> Result<TrainSummary> {
    Trainer::new(config)?.fit(model, optimizer, data, on_epoch)
}

#[cfg(test)]
mod tests {
    use crate::{mse, Activation, Gradients, Mlp, Tape};

    /// The trainer's rewind: a step recorded on a tape rewound to just after the parameter
    /// leaves (the kept weights rewritten) has the nodes and gradients of the same step on a
    /// fresh tape, after the parameters changed, and gradients from before the rewind are
    /// refused.
    #[test]
    fn a_rewound_binding_records_what_a_fresh_binding_does() -> crate::Result<()> {
        let (act, first) = (
            Activation::Sigmoid,
            [0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9],
        );
        let mut model = Mlp::from_parameters(&[2, 2, 1], act, act, &first)?;
        let mut tape = Tape::new();
        let leaves = model.bind(&tape).leaves();
        let mark = tape.mark();
        let mut grads = Gradients::new();
        let steps = [
            ([-2.0, -1.0], 1.0, first),
            (
                [25.0, 6.0],
                0.0,
                [1.5, -0.5, 0.25, -1.0, 2.0, 0.5, -3.0, 1.25, -0.75],
            ),
        ];
        for (k, (x, t, params)) in steps.into_iter().enumerate() {
            model.parameters_mut().copy_from_slice(&params);
            tape.rewind(&mark);
            assert!(!grads.is_for(&tape), "step {k}: stale gradients accepted");
            let bound = model.rebind(&tape, leaves);
            mse(&bound.forward(&x)?, &[t])?.backward_into(&mut grads);
            let fresh = Tape::new();
            let fresh_bound = model.bind(&fresh);
            let expected = mse(&fresh_bound.forward(&x)?, &[t])?.backward();
            assert_eq!(tape.len(), fresh.len(), "step {k}");
            assert_eq!(
                bound.gradients(&grads),
                fresh_bound.gradients(&expected),
                "step {k}"
            );
        }
        Ok(())
    }
}
