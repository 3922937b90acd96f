//! Handwritten digits: a 64-32-10 tanh network learns the UCI optical digits (8x8 images of
//! the digits 0-9) with softmax cross-entropy and Adam on shuffled mini-batches of 16, then draws its
//! confusion matrix and the test images it gets wrong.
//!
//! ```text
//! cargo run --release --example digits            # add -- --out DIR to put the pictures elsewhere
//! ```
//!
//! The data is `examples/data/digits.csv.gz` (1797 images; source and license in
//! `examples/data/README.md`). A fixed, seeded split holds out 20% as the test set, which the
//! network never trains on; it is evaluated after every epoch to show progress. Writes
//! `digits_confusion.svg` and `digits_mistakes.svg`.

#[allow(dead_code)]
#[path = "shared/grids.rs"]
mod grids;
#[allow(dead_code)] // check_file: this example writes no single file
#[path = "shared/outputs.rs"]
mod outputs;

use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tapegrad::{Activation, Adam, Dataset, Loss, Mlp, Schedule, TrainConfig, Trainer};

/// Pixels per image (8 x 8), each a count from 0 to 16.
pub const PIXELS: usize = 64;
/// The largest pixel value.
pub const MAX_PIXEL: f64 = 16.0;
/// Seed of the split, the initial weights and the batch order.
pub const SEED: u64 = 2024;
/// Passes over the training set.
pub const EPOCHS: usize = 30;

/// The images (pixels 0..16, row by row) and their digits, in file order.
pub fn load(path: &Path) -> Result<(Vec<Vec<f64>>, Vec<usize>), String> {
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .map_err(|e| format!("{name}: cannot decompress: {e}"))?;
    let (mut images, mut digits) = (Vec::new(), Vec::new());
    for (k, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let bad = |what: String| format!("{name}, line {}: {what}", k + 1);
        if cells.len() != PIXELS + 1 {
            return Err(bad(format!(
                "{} fields, expected {}",
                cells.len(),
                PIXELS + 1
            )));
        }
        let number = |c: &str| {
            c.trim()
                .parse::<f64>()
                .map_err(|_| bad(format!("{c:?} is not a number")))
        };
        let pixels = cells[..PIXELS]
            .iter()
            .map(|c| number(c))
            .collect::<Result<_, _>>()?;
        let digit = number(cells[PIXELS])?;
        if !(0.0..=9.0).contains(&digit) || digit.fract() != 0.0 {
            return Err(bad(format!("the label {digit} is not a digit")));
        }
        images.push(pixels);
        digits.push(digit as usize);
    }
    Ok((images, digits))
}

/// The shipped data file.
pub fn data_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/digits.csv.gz")
}

/// Sample indices split 80/20 into (train, test), shuffled with `rng`.
pub fn split(n: usize, rng: &mut StdRng) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let test = order.split_off(n - n / 5);
    (order, test)
}

/// A dataset of the chosen images, pixels scaled to [0, 1], each target its digit.
pub fn dataset(images: &[Vec<f64>], digits: &[usize], idx: &[usize]) -> tapegrad::Result<Dataset> {
    let inputs: Vec<Vec<f64>> = idx
        .iter()
        .map(|&i| images[i].iter().map(|p| p / MAX_PIXEL).collect())
        .collect();
    let targets: Vec<[f64; 1]> = idx.iter().map(|&i| [digits[i] as f64]).collect();
    Dataset::new(&inputs, &targets)
}

/// The 64-32-10 network: tanh hidden layer, linear output (one logit per digit).
pub fn network(rng: &mut StdRng) -> tapegrad::Result<Mlp> {
    Mlp::builder(PIXELS)
        .dense(32, Activation::Tanh)
        .dense(10, Activation::Identity)
        .random(rng)
}

/// Trains `model` on `train`, evaluating on `test` after each epoch; `on_epoch` gets the epoch,
/// the training loss and accuracy and the test loss and accuracy.
pub fn train(
    model: &mut Mlp,
    train: &Dataset,
    test: &Dataset,
    rng: &mut StdRng,
    mut on_epoch: impl FnMut(usize, f64, f64, f64, f64),
) -> tapegrad::Result<()> {
    let batch = 16;
    let config = TrainConfig::default()
        .epochs(EPOCHS)
        .batch_size(batch)
        .loss(Loss::CrossEntropy)
        .progress(true);
    // Adam's rate falls from 0.02 to 0.001 over the run: big steps first, then settling.
    let steps = EPOCHS * train.len().div_ceil(batch);
    let mut adam = Adam::with_schedule(Schedule::linear(0.02, 0.001, steps)?);
    Trainer::new(config)?
        .with_validation(test.clone())
        .fit_shuffled(model, &mut adam, train, rng, |r| {
            let test = r.validation.expect("validation data was given");
            on_epoch(
                r.epoch,
                r.loss,
                r.accuracy.unwrap_or(f64::NAN),
                test.loss,
                test.accuracy.unwrap_or(f64::NAN),
            );
        })?;
    Ok(())
}

const USAGE: &str = "usage: digits [--out DIR]
  --out DIR  where digits_confusion.svg and digits_mistakes.svg go (default: .)";

#[allow(dead_code)]
fn main() -> std::process::ExitCode {
    let args = outputs::out_dir_only(USAGE);
    outputs::exit("digits", USAGE, args, |out| run(&out))
}

#[allow(dead_code)]
fn run(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    // The output directory is checked before the training.
    outputs::check_dir(out)?;
    let start = Instant::now();
    let (images, digits) = load(&data_path())?;
    let mut rng = StdRng::seed_from_u64(SEED);
    let (train_idx, test_idx) = split(images.len(), &mut rng);
    let train_set = dataset(&images, &digits, &train_idx)?;
    let test_set = dataset(&images, &digits, &test_idx)?;
    let mut model = network(&mut rng)?;
    println!(
        "{} images: training on {}, testing on {}; {model}",
        images.len(),
        train_set.len(),
        test_set.len()
    );
    let training = Instant::now();
    train(
        &mut model,
        &train_set,
        &test_set,
        &mut rng,
        |epoch, loss, acc, test_loss, test_acc| {
            println!(
            "epoch {:2}: train loss {loss:.4} accuracy {:5.1}% | test loss {test_loss:.4} accuracy {:5.1}%",
            epoch + 1,
            100.0 * acc,
            100.0 * test_acc
        );
        },
    )?;
    let trained_in = training.elapsed();

    let mut confusion = vec![vec![0usize; 10]; 10];
    let mut mistakes = Vec::new();
    for &i in &test_idx {
        let x: Vec<f64> = images[i].iter().map(|p| p / MAX_PIXEL).collect();
        let predicted = model.classify(&x)?;
        confusion[digits[i]][predicted] += 1;
        if predicted != digits[i] {
            mistakes.push((
                images[i].clone(),
                format!("true {}, predicted {predicted}", digits[i]),
            ));
        }
    }
    let correct: usize = (0..10).map(|d| confusion[d][d]).sum();
    let accuracy = correct as f64 / test_idx.len() as f64;
    println!(
        "test accuracy {:.2}% ({correct} of {}), {} mistakes; trained in {:.2} s, {:.2} s in all",
        100.0 * accuracy,
        test_idx.len(),
        mistakes.len(),
        trained_in.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );

    let confusion_path = out.join("digits_confusion.svg");
    grids::confusion_matrix(
        &confusion_path,
        &format!(
            "digits: test set confusion matrix ({:.1}% right)",
            100.0 * accuracy
        ),
        &confusion,
    )?;
    let mistakes_path = out.join("digits_mistakes.svg");
    grids::image_grid(
        &mistakes_path,
        &format!("digits: the {} misclassified test images", mistakes.len()),
        &mistakes,
        (8, 8),
        MAX_PIXEL,
    )?;
    println!(
        "wrote {} and {}",
        confusion_path.display(),
        mistakes_path.display()
    );
    if accuracy < 0.97 {
        return Err(format!("test accuracy {:.2}% is below 97%", 100.0 * accuracy).into());
    }
    Ok(())
}
