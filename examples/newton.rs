//! Newton's method with the tape's Hessian, beside the seed's stochastic gradient descent.
//!
//! One sigmoid neuron on the seed's four people, `p = sigmoid(w1 x1 + w2 x2 + b)` with
//! `x = (weight - 135, height - 66)`: logistic regression. The loss is the mean binary
//! cross-entropy, written from scalar ops as `softplus(z) - y z` (the same function as
//! `-(y ln p + (1 - y) ln(1 - p))`, without rounding `p` to 1), so [`tapegrad::hessian`]
//! can differentiate it twice. It is convex, so a Newton step is a descent direction; each
//! step is damped by halving it until the loss falls.
//!
//! SGD runs the seed's schedule (learning rate 0.1, one sample at a time, 1000 epochs); Newton
//! starts from the same three standard-normal draws and stops once its loss is at most SGD's
//! final loss. Run with `cargo run --release --example newton`; it prints
//!
//! ```text
//! SGD (lr 0.1): 1000 epochs = 4000 steps -> mean BCE 0.000404
//! Newton step 1: step size 1, mean BCE 0.028835
//! ...
//! Newton step 6: step size 1, mean BCE 0.000177
//! Newton reached SGD's loss in 6 steps (SGD: 4000)
//! ```
//!
//! The four people are linearly separable, so the loss has no minimum: it falls toward 0 as the
//! weights grow, and each Newton step divides it by about e. `tests/higher_order.rs` runs both.

use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use tapegrad::{hessian, Tape, Value};

/// Alice, Bob, Charlie and Diana: (weight - 135 lb, height - 66 in) -> 1 if female.
const PEOPLE: [([f64; 2], f64); 4] = [
    ([-2.0, -1.0], 1.0),
    ([25.0, 6.0], 0.0),
    ([17.0, 4.0], 0.0),
    ([-15.0, -6.0], 1.0),
];

/// Binary cross-entropy of the neuron `[w1, w2, b]` on one person: `ln(1 + e^z) - y z`.
fn bce<'t>(p: &[Value<'t>], ([x1, x2], y): ([f64; 2], f64)) -> Value<'t> {
    let z = p[0] * x1 + p[1] * x2 + p[2];
    (1.0 + z.exp()).ln() - y * z
}

/// The mean cross-entropy over the four people.
fn mean_bce<'t>(p: &[Value<'t>]) -> Value<'t> {
    PEOPLE
        .iter()
        .map(|&person| bce(p, person))
        .sum::<Value<'t>>()
        / PEOPLE.len() as f64
}

/// The mean cross-entropy at plain parameters.
pub fn loss_at(p: &[f64]) -> f64 {
    let tape = Tape::new();
    mean_bce(&tape.vars(p)).value()
}

/// The gradient of the mean cross-entropy at `p`.
fn gradient_at(p: &[f64]) -> Vec<f64> {
    let tape = Tape::new();
    let params = tape.vars(p);
    let grads = mean_bce(&params).backward();
    params.iter().map(|&q| grads[q]).collect()
}

/// Solves `a d = b` for a small dense system by Gaussian elimination with partial pivoting;
/// `None` if `a` is singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col].clone();
        for row in col + 1..n {
            let f = a[row][col] / pivot_row[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut d = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * d[k]).sum();
        d[row] = (b[row] - s) / a[row][row];
    }
    Some(d)
}

/// The seed's SGD from `start`: one sample at a time, learning rate 0.1, 1000 epochs.
pub fn sgd(start: &[f64]) -> Vec<f64> {
    let mut p = start.to_vec();
    for _ in 0..1000 {
        for &person in &PEOPLE {
            let tape = Tape::new();
            let params = tape.vars(&p);
            let grads = bce(&params, person).backward();
            for (q, v) in p.iter_mut().zip(&params) {
                *q -= 0.1 * grads[*v];
            }
        }
    }
    p
}

/// Damped Newton from `start` until the mean loss is at most `target` (at most 100 steps):
/// `d = -H^-1 g`, halved until the loss falls. Returns the loss after each step.
///
/// # Errors
///
/// As [`tapegrad::hessian`] (never, for this loss).
pub fn newton(start: &[f64], target: f64) -> tapegrad::Result<Vec<(f64, f64)>> {
    let mut p = start.to_vec();
    let mut loss = loss_at(&p);
    let mut steps = Vec::new();
    while loss > target && steps.len() < 100 {
        let h = hessian(mean_bce, &p)?;
        let g = gradient_at(&p);
        let Some(d) = solve(h, g.iter().map(|gi| -gi).collect()) else {
            break;
        };
        let mut t = 1.0;
        let mut next: Vec<f64> = p.iter().zip(&d).map(|(q, dq)| q + t * dq).collect();
        while loss_at(&next) >= loss && t > 1e-10 {
            t /= 2.0;
            next = p.iter().zip(&d).map(|(q, dq)| q + t * dq).collect();
        }
        p = next;
        loss = loss_at(&p);
        steps.push((t, loss));
    }
    Ok(steps)
}

/// The three standard-normal draws both methods start from.
pub fn start() -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(42);
    (0..3).map(|_| StandardNormal.sample(&mut rng)).collect()
}

fn main() -> tapegrad::Result<()> {
    let start = start();
    println!(
        "start [w1, w2, b] = {start:.4?}, mean BCE {:.6}",
        loss_at(&start)
    );
    let target = loss_at(&sgd(&start));
    println!("SGD (lr 0.1): 1000 epochs = 4000 steps -> mean BCE {target:.6}");
    let steps = newton(&start, target)?;
    for (k, (t, loss)) in steps.iter().enumerate() {
        println!("Newton step {}: step size {t}, mean BCE {loss:.6}", k + 1);
    }
    println!(
        "Newton reached SGD's loss in {} steps (SGD: 4000)",
        steps.len()
    );
    Ok(())
}
