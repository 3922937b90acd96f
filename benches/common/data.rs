//! The workloads' data and initial weights, generated exactly as benches/WORKLOADS.md says.

use super::splitmix::SplitMix64;

/// W1: the seed's four people, (weight - 135, height - 66) -> female.
pub const W1_INPUTS: [[f64; 2]; 4] = [[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]];
pub const W1_TARGETS: [f64; 4] = [1.0, 0.0, 0.0, 1.0];
pub const W1_EPOCHS: usize = 1000;
pub const W1_LR: f64 = 0.1;
/// Reference results (benches/WORKLOADS.md W1).
pub const W1_MSE: f64 = 0.0023276758466228313;
pub const W1_EMILY: f64 = 0.9488972676278918;
pub const W1_FRANK: f64 = 0.039365481724227096;

/// W1's nine initial parameters in `Mlp::parameters()` order (w1 w2 b1, w3 w4 b2, w5 w6 b3),
/// from nine `normal()` draws of seed 42 made in Victor's order w1..w6, b1..b3.
pub fn w1_parameters() -> Vec<f64> {
    let mut rng = SplitMix64::new(42);
    let d: Vec<f64> = (0..9).map(|_| rng.normal()).collect();
    let (w, b) = (&d[..6], &d[6..]);
    vec![w[0], w[1], b[0], w[2], w[3], b[1], w[4], w[5], b[2]]
}

/// W2: 100 noisy points of two moons, labels -1 (outer) and +1 (inner).
pub struct Moons {
    pub points: Vec<[f64; 2]>,
    pub labels: Vec<f64>,
}

pub const W2_SIZES: [usize; 4] = [2, 16, 16, 1];
pub const W2_STEPS: usize = 100;
pub const W2_ALPHA: f64 = 1e-4;
pub const W2_LOSS: f64 = 0.01192329337071667;
pub const W2_ACCURACY: f64 = 1.0;

pub fn w2_moons() -> Moons {
    let (points, labels) = super::splitmix::make_moons(100, 0.1, 1337);
    Moons { points, labels }
}

/// The learning rate of W2's step k: `1.0 - 0.9 k / 100`.
pub fn w2_learning_rate(k: usize) -> f64 {
    1.0 - 0.9 * k as f64 / 100.0
}

/// `benches/WORKLOADS.md` 0.2 "uniform(seed, scale)", in `Mlp::parameters()` order (weights
/// then a 0 bias per neuron); `fan_in_scale` picks `s = 1 / sqrt(nin)` over `s = 1`.
pub fn uniform_init(sizes: &[usize], seed: u64, fan_in_scale: bool) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    let mut params = Vec::new();
    for w in sizes.windows(2) {
        let (nin, nout) = (w[0], w[1]);
        let s = if fan_in_scale {
            1.0 / (nin as f64).sqrt()
        } else {
            1.0
        };
        for _ in 0..nout {
            for _ in 0..nin {
                params.push(rng.uniform(-1.0, 1.0) * s);
            }
            params.push(0.0);
        }
    }
    params
}

pub fn w2_parameters() -> Vec<f64> {
    uniform_init(&W2_SIZES, 1338, false)
}

/// W3: 256 samples of 64 inputs, labelled by a random linear "teacher", one-hot targets.
pub struct Wide {
    pub inputs: Vec<Vec<f64>>,
    pub targets: Vec<Vec<f64>>,
    pub labels: Vec<usize>,
}

pub const W3_SIZES: [usize; 4] = [64, 32, 32, 10];
pub const W3_EPOCHS: usize = 5;
pub const W3_LR: f64 = 0.1;
pub const W3_MSE: f64 = 0.05484475483098978;
pub const W3_ACCURACY: f64 = 0.83203125;

/// W4: W3's data and network, mini-batches of 32 (mean of the per-sample losses).
pub const W4_BATCH: usize = 32;
pub const W4_EPOCHS: usize = 5;
pub const W4_LR: f64 = 0.1;

pub fn w3_data() -> Wide {
    let mut rng = SplitMix64::new(2024);
    let inputs: Vec<Vec<f64>> = (0..256)
        .map(|_| (0..64).map(|_| rng.uniform(-1.0, 1.0)).collect())
        .collect();
    let teacher: Vec<Vec<f64>> = (0..10)
        .map(|_| (0..64).map(|_| rng.uniform(-1.0, 1.0)).collect())
        .collect();
    let labels: Vec<usize> = inputs
        .iter()
        .map(|x| {
            let scores = teacher
                .iter()
                .map(|t| t.iter().zip(x).fold(0.0, |s, (t, x)| s + t * x));
            argmax(scores)
        })
        .collect();
    let targets = labels
        .iter()
        .map(|&l| (0..10).map(|k| if k == l { 1.0 } else { 0.0 }).collect())
        .collect();
    Wide {
        inputs,
        targets,
        labels,
    }
}

pub fn w3_parameters() -> Vec<f64> {
    uniform_init(&W3_SIZES, 2025, true)
}

/// Index of the first maximum.
pub fn argmax(values: impl IntoIterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (k, v) in values.into_iter().enumerate() {
        if v > best.1 {
            best = (k, v);
        }
    }
    best.0
}

/// `|a - b| / |b|`.
pub fn relative_error(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}
