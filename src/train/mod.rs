//! Datasets and the training loop.
//!
//! A [`Trainer`] owns a [`Tape`], a [`Gradients`] buffer and scratch space, and reuses them for
//! every step: once warm, a training step allocates nothing.

pub(crate) mod parallel;

use crate::engine::{Gradients, Op, Tape};
use crate::error::{Error, Result};
use crate::nn::loss::{check_lengths, Loss};
use crate::nn::{Mlp, Scratch};
use crate::optim::Optimizer;

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
    /// [`Error::NonFiniteData`] for a NaN or infinite value.
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
        let mut data = Dataset {
            inputs: Vec::with_capacity(inputs.len() * input_size),
            targets: Vec::with_capacity(targets.len() * target_size),
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
    ///
    /// ```
    /// let data = tapegrad::Dataset::new(&[[1.0]], &[[2.0]])?;
    /// assert_eq!(data.len(), 1);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: a dataset has at least one sample.
    ///
    /// ```
    /// assert!(!tapegrad::Dataset::new(&[[1.0]], &[[2.0]])?.is_empty());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per input row.
    ///
    /// ```
    /// assert_eq!(tapegrad::Dataset::new(&[[1.0, 2.0]], &[[0.0]])?.input_size(), 2);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn input_size(&self) -> usize {
        self.input_size
    }

    /// Values per target row.
    ///
    /// ```
    /// assert_eq!(tapegrad::Dataset::new(&[[1.0, 2.0]], &[[0.0]])?.target_size(), 1);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn target_size(&self) -> usize {
        self.target_size
    }

    /// Sample `i`'s inputs.
    ///
    /// # Panics
    ///
    /// If `i >= len()`.
    ///
    /// ```
    /// let data = tapegrad::Dataset::new(&[[1.0], [2.0]], &[[0.0], [1.0]])?;
    /// assert_eq!(data.input(1), &[2.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn input(&self, i: usize) -> &[f64] {
        &self.inputs[i * self.input_size..(i + 1) * self.input_size]
    }

    /// Sample `i`'s targets.
    ///
    /// # Panics
    ///
    /// If `i >= len()`.
    ///
    /// ```
    /// let data = tapegrad::Dataset::new(&[[1.0], [2.0]], &[[0.0], [1.0]])?;
    /// assert_eq!(data.target(1), &[1.0]);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn target(&self, i: usize) -> &[f64] {
        &self.targets[i * self.target_size..(i + 1) * self.target_size]
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

    /// Checks that `model` takes this dataset's inputs and produces its targets' length.
    pub(crate) fn check_model(&self, model: &Mlp) -> Result<()> {
        if model.input_size() != self.input_size {
            return Err(Error::InputSize {
                expected: model.input_size(),
                found: self.input_size,
            });
        }
        check_lengths(model.output_size(), self.target_size)
    }
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
    /// [`Error::InputSize`] or [`Error::TargetSize`] if the model does not fit the data.
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
        data.check_model(self)?;
        let mut s = Scratch::default();
        let mut total = 0.0;
        for i in 0..data.len() {
            let out = self.predict_with(data.input(i), &mut s)?;
            total += loss.eval(out, data.target(i))?;
        }
        Ok(total / data.len() as f64)
    }
}

/// How to train: epochs, batch size and loss. Checked by [`Trainer::new`].
///
/// ```
/// use tapegrad::{Loss, TrainConfig};
/// let config = TrainConfig { epochs: 1000, batch_size: 1, loss: Loss::Mse };
/// assert_eq!(config, TrainConfig::default().epochs(1000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Passes over the dataset.
    pub epochs: usize,
    /// Samples per step: 1 is per-sample SGD (the seed's), `n` averages the loss over `n`
    /// consecutive samples (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// The loss to minimise.
    pub loss: Loss,
}

impl Default for TrainConfig {
    /// One epoch, per-sample updates, MSE.
    fn default() -> Self {
        TrainConfig {
            epochs: 1,
            batch_size: 1,
            loss: Loss::Mse,
        }
    }
}

impl TrainConfig {
    /// Sets the number of epochs.
    ///
    /// ```
    /// assert_eq!(tapegrad::TrainConfig::default().epochs(5).epochs, 5);
    /// ```
    #[must_use]
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Sets the batch size.
    ///
    /// ```
    /// assert_eq!(tapegrad::TrainConfig::default().batch_size(32).batch_size, 32);
    /// ```
    #[must_use]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the loss.
    ///
    /// ```
    /// use tapegrad::{Loss, TrainConfig};
    /// assert_eq!(TrainConfig::default().loss(Loss::Mse).loss, Loss::Mse);
    /// ```
    #[must_use]
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
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
pub struct EpochReport<'m> {
    /// The epoch that just ended (from 0).
    pub epoch: usize,
    /// Mean of the step losses during the epoch, each measured before its update (free: no
    /// extra forward pass). For the loss of the model as it stands, use
    /// [`Mlp::loss`] on `model`.
    pub loss: f64,
    /// For a classification loss ([`Loss::is_classification`]), the fraction of outputs on the
    /// right side of the boundary, counted like `loss` (each before its step's update);
    /// `None` for a regression loss.
    pub accuracy: Option<f64>,
    /// The model after the epoch.
    pub model: &'m Mlp,
}

/// Summary returned by [`Trainer::fit`].
///
/// ```
/// use tapegrad::{Activation, Dataset, Mlp, Sgd, TrainConfig, Trainer};
/// let mut model = Mlp::zeros(&[1, 1], Activation::Identity, Activation::Identity)?;
/// let data = Dataset::new(&[[1.0], [2.0]], &[[2.0], [4.0]])?;
/// let summary = Trainer::new(TrainConfig::default().epochs(2))?
///     .fit(&mut model, &mut Sgd::new(0.1)?, &data, |_| {})?;
/// assert_eq!(summary.steps, 4);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainSummary {
    /// Epochs completed.
    pub epochs: usize,
    /// Optimizer steps taken.
    pub steps: usize,
    /// The last epoch's [`EpochReport::loss`] (NaN if no epoch ran).
    pub last_loss: f64,
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
    scratch: Scratch,
    losses: Vec<u32>,
    /// Sample order of the current epoch.
    order: Vec<usize>,
    /// The parameters of the last step whose loss was finite, and whether they are set.
    last_good: Vec<f64>,
    has_last_good: bool,
    /// Correct and counted outputs of the current epoch (classification losses).
    correct: usize,
    counted: usize,
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
            scratch: Scratch::default(),
            losses: Vec::new(),
            order: Vec::new(),
            last_good: Vec::new(),
            has_last_good: false,
            correct: 0,
            counted: 0,
        })
    }

    /// The configuration.
    ///
    /// ```
    /// use tapegrad::{TrainConfig, Trainer};
    /// assert_eq!(Trainer::new(TrainConfig::default())?.config().batch_size, 1);
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Runs `config.epochs` epochs over `data` in order (no shuffling, as the seed), one
    /// optimizer step per batch, calling `on_epoch` after each epoch with the epoch's loss and,
    /// for a classification loss, its accuracy.
    ///
    /// # Errors
    ///
    /// [`Error::InputSize`] / [`Error::TargetSize`] if the model does not fit the data, and
    /// [`Error::InvalidTarget`] if a target does not suit the loss (all checked before any
    /// step). [`Error::NonFiniteLoss`] if a step's loss is NaN or infinite: training stops and
    /// the model is put back to the parameters of the last step whose loss was finite (the
    /// optimizer's own state, such as momentum, is not rolled back).
    /// [`Error::NonFiniteUpdate`] if a gradient or an updated parameter would be NaN or
    /// infinite: that step is not applied. Both errors name the epoch and the step's first
    /// sample.
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
    pub fn fit<O: Optimizer + ?Sized>(
        &mut self,
        model: &mut Mlp,
        optimizer: &mut O,
        data: &Dataset,
        on_epoch: impl FnMut(&EpochReport<'_>),
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
    pub fn fit_shuffled<O: Optimizer + ?Sized, R: rand::Rng + ?Sized>(
        &mut self,
        model: &mut Mlp,
        optimizer: &mut O,
        data: &Dataset,
        rng: &mut R,
        on_epoch: impl FnMut(&EpochReport<'_>),
    ) -> Result<TrainSummary> {
        let mut shuffle = |order: &mut [usize]| rand::seq::SliceRandom::shuffle(order, rng);
        self.run(model, optimizer, data, Some(&mut shuffle), on_epoch)
    }

    fn run<O: Optimizer + ?Sized>(
        &mut self,
        model: &mut Mlp,
        optimizer: &mut O,
        data: &Dataset,
        mut shuffle: Option<Shuffle<'_>>,
        mut on_epoch: impl FnMut(&EpochReport<'_>),
    ) -> Result<TrainSummary> {
        data.check_model(model)?;
        for i in 0..data.len() {
            self.config.loss.check_targets(i, data.target(i))?;
        }
        self.has_last_good = false;
        let batch = self.config.batch_size;
        let mut summary = TrainSummary {
            epochs: 0,
            steps: 0,
            last_loss: f64::NAN,
        };
        let mut order = std::mem::take(&mut self.order);
        for epoch in 0..self.config.epochs {
            order.clear();
            order.extend(0..data.len());
            if let Some(shuffle) = shuffle.as_mut() {
                shuffle(&mut order);
            }
            (self.correct, self.counted) = (0, 0);
            // The mean of the step losses: their sum over the count, or, if the sum of finite
            // losses overflows, the sum of each over the count (never above the largest).
            let mut total = 0.0;
            let mut scaled = 0.0;
            let per_epoch = order.chunks(batch).len() as f64;
            let mut steps = 0;
            for chunk in order.chunks(batch) {
                let result =
                    self.step_unchecked(model, optimizer, data, chunk.iter().copied(), epoch);
                match result {
                    Ok(loss) => {
                        total += loss;
                        scaled += loss / per_epoch;
                    }
                    Err(e) => {
                        if matches!(e, Error::NonFiniteLoss { .. }) && self.has_last_good {
                            model.parameters_mut().copy_from_slice(&self.last_good);
                        }
                        self.order = order;
                        return Err(e);
                    }
                }
                steps += 1;
            }
            summary.epochs += 1;
            summary.steps += steps;
            summary.last_loss = if total.is_finite() {
                total / steps as f64
            } else {
                scaled
            };
            let accuracy = (self.counted > 0).then(|| self.correct as f64 / self.counted as f64);
            on_epoch(&EpochReport {
                epoch,
                loss: summary.last_loss,
                accuracy,
                model,
            });
        }
        self.order = order;
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
        data.check_model(model)?;
        data.check_range(&samples)?;
        for i in samples.clone() {
            self.config.loss.check_targets(i, data.target(i))?;
        }
        self.has_last_good = false;
        self.step_unchecked(model, optimizer, data, samples, 0)
    }

    fn step_unchecked<O: Optimizer + ?Sized>(
        &mut self,
        model: &mut Mlp,
        optimizer: &mut O,
        data: &Dataset,
        samples: impl Iterator<Item = usize> + Clone,
        epoch: usize,
    ) -> Result<f64> {
        let first_sample = samples.clone().next().unwrap_or(0);
        let loss_kind = self.config.loss;
        let classify = loss_kind.is_classification();
        self.tape.clear();
        let tape = &self.tape;
        let bound = model.bind(tape);
        self.losses.clear();
        let mut loss_sum = 0.0;
        for i in samples.clone() {
            bound.record(None, data.input(i), &mut self.scratch)?;
            let s = &self.scratch;
            let (node, value) = tape.with_records(|r| {
                loss_kind.record(r, s.output_nodes(), s.output_values(), data.target(i))
            });
            if classify {
                for (&o, &t) in s.output_values().iter().zip(data.target(i)) {
                    self.correct += usize::from(loss_kind.is_correct(o, t) == Some(true));
                    self.counted += 1;
                }
            }
            self.losses.push(node);
            loss_sum += value;
        }
        // Mean over the batch: (1/B) * (l0 + l1 + ...); a single sample's loss is used as is.
        let (output, loss) = if self.losses.len() == 1 {
            (self.losses[0], loss_sum)
        } else {
            let scale = 1.0 / self.losses.len() as f64;
            let losses = &self.losses;
            let node = tape.with_records(|r| {
                for &l in losses {
                    r.edge(l, scale);
                }
                r.finish(Op::Loss, scale * loss_sum)
            });
            (node, scale * loss_sum)
        };
        if !loss.is_finite() {
            return Err(Error::NonFiniteLoss {
                epoch,
                sample: first_sample,
                loss,
            });
        }
        crate::engine::Value::new(tape, output, loss).backward_into(&mut self.grads);
        let grads = bound.gradients(&self.grads);
        // This step's loss is finite: remember its parameters before they change.
        self.last_good.clear();
        self.last_good.extend_from_slice(model.parameters());
        self.has_last_good = true;
        // A branch-free pass first (it vectorizes; `position` alone cost as much as the update
        // in a profile of W3), the position only on the rare failing step.
        let any_bad = grads.iter().fold(false, |bad, g| bad | !g.is_finite());
        let grads_ok = any_bad
            .then(|| grads.iter().position(|g| !g.is_finite()))
            .flatten();
        let result = match grads_ok {
            Some(k) => Err(k),
            None => optimizer.step(model.parameters_mut(), grads),
        };
        result.map_err(|parameter| Error::NonFiniteUpdate {
            epoch,
            sample: first_sample,
            parameter,
        })?;
        Ok(loss)
    }
}

/// Trains `model` on `data` with `optimizer` as `config` says; shorthand for
/// [`Trainer::new`] then [`Trainer::fit`].
///
/// # Errors
///
/// As [`Trainer::new`] and [`Trainer::fit`].
///
/// ```
/// use tapegrad::{train, Activation, Dataset, Mlp, Sgd, TrainConfig};
/// let mut model = Mlp::zeros(&[1, 1], Activation::Sigmoid, Activation::Sigmoid)?;
/// let data = Dataset::new(&[[-1.0], [1.0]], &[[0.0], [1.0]])?;
/// train(&mut model, &data, &mut Sgd::new(1.0)?, TrainConfig::default().epochs(200), |_| {})?;
/// assert!(model.predict(&[1.0])?[0] > 0.9);
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn train<O: Optimizer + ?Sized>(
    model: &mut Mlp,
    data: &Dataset,
    optimizer: &mut O,
    config: TrainConfig,
    on_epoch: impl FnMut(&EpochReport<'_>),
) -> Result<TrainSummary> {
    Trainer::new(config)?.fit(model, optimizer, data, on_epoch)
}
