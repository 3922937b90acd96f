//! Shared by the `workloads` bench and the tests: the generators of `benches/WORKLOADS.md`, and
//! each workload written twice (with tapegrad, and by hand).
#![allow(dead_code)]

pub mod by_hand;
pub mod data;
pub mod micrograd_style;
// SplitMix64 and the moons data: the same file the moons example uses.
#[path = "../../examples/shared/splitmix.rs"]
pub mod splitmix;
pub mod with_tape;

/// A training run that can be put back to its initial weights and run again.
pub trait Workload {
    /// Back to the initial weights.
    fn reset(&mut self);
    /// One full training run.
    fn train(&mut self);
}

/// Each workload's inherent `reset` and `train`, as a [`Workload`].
macro_rules! workloads {
    ($($t:ty),*) => {$(
        impl Workload for $t {
            fn reset(&mut self) {
                <$t>::reset(self)
            }
            fn train(&mut self) {
                <$t>::train(self)
            }
        }
    )*};
}

workloads!(
    with_tape::W1,
    with_tape::W2,
    with_tape::Wide3,
    by_hand::W1,
    by_hand::W2,
    by_hand::Wide3,
    micrograd_style::W3Naive
);
#[cfg(feature = "parallel")]
workloads!(with_tape::W4Parallel);

/// What a finished training run reports.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The final loss of the trained model (W1: MSE; W2: total loss; W3/W4: MSE).
    pub loss: f64,
    pub accuracy: Option<f64>,
    /// W1: Emily's and Frank's predictions.
    pub predictions: Vec<f64>,
    pub parameters: Vec<f64>,
}
