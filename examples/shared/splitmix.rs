//! SplitMix64 and the deterministic "moons" data of `benches/WORKLOADS.md` (W2), shared by
//! `examples/moons.rs` and the tests.
//!
//! SplitMix64 is tiny and fully specified, so any language reproduces the same data and the same
//! initial weights bit for bit; that is what lets the moons demo match its reference numbers.

/// SplitMix64: a 64-bit state advanced by a constant, then mixed (wrapping arithmetic).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 53 bits times 2^-53.
    pub fn uniform01(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform01()
    }

    /// Standard normal by Box-Muller, cosine branch only (two uniforms, the first drawn first).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform01();
        let u2 = self.uniform01();
        (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// W2's moons: `n` points (50 per moon for n = 100), Gaussian noise `noise`, from SplitMix64
/// seeded with `seed`. Returns the points and their labels, -1 (outer moon) or +1 (inner).
pub fn make_moons(n: usize, noise: f64, seed: u64) -> (Vec<[f64; 2]>, Vec<f64>) {
    use std::f64::consts::PI;
    let half = n / 2;
    let last = (half - 1) as f64;
    let mut points = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..half {
        let t = PI * i as f64 / last;
        points.push([t.cos(), t.sin()]);
        labels.push(-1.0);
    }
    for i in 0..n - half {
        let t = PI * i as f64 / last;
        points.push([1.0 - t.cos(), 1.0 - t.sin() - 0.5]);
        labels.push(1.0);
    }
    let mut rng = SplitMix64::new(seed);
    for p in &mut points {
        p[0] += noise * rng.normal();
        p[1] += noise * rng.normal();
    }
    (points, labels)
}
