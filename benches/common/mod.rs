//! Shared by the `workloads` bench and the tests: WORKLOADS.md's generators, and each workload
//! written twice (with tapegrad, and by hand).
#![allow(dead_code)]

pub mod by_hand;
pub mod data;
// SplitMix64 and the moons data: the same file the moons example uses.
#[path = "../../examples/shared/splitmix.rs"]
pub mod splitmix;
pub mod with_tape;

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
