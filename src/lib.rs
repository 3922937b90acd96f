//! # tapegrad
//!
//! A scalar reverse-mode automatic-differentiation engine on a tape, with small neural networks
//! built on top.
//!
//! Every arithmetic op on a [`Value`] is recorded on a [`Tape`] (a Wengert list) together with
//! its local partial derivatives; one reverse sweep over the tape, [`Value::backward`], gives the
//! gradient of a result with respect to everything that led to it.
//!
//! ```
//! use tapegrad::{Tape, Value};
//!
//! let tape = Tape::new();
//! let x = tape.var(-4.0);            // a leaf
//! let z = 2.0 * x + 2.0 + x;         // f64 on either side of + - * /
//! let q = z.relu() + z * x;
//! let h = (z * z).relu();
//! let y = h + q + q * x;
//! let grads = y.backward();          // one reverse sweep
//! assert_eq!(y.value(), -20.0);
//! assert_eq!(grads[x], 46.0);        // Index<Value>, and grads.wrt(x) too
//! assert_eq!(grads.wrt(x), 46.0);
//! # let _: Value = y;
//! ```
//!
//! ## Networks
//!
//! [`Neuron`], [`Layer`] and [`Mlp`] own their parameters as plain `f64`. For a training step a
//! model is [bound](Mlp::bind) onto a tape, the forward pass and the loss are recorded, and the
//! reverse sweep gives every parameter's gradient: backprop without deriving anything by hand.
//!
//! ```
//! use tapegrad::{mse, Activation, Mlp, Optimizer, Sgd, Tape};
//!
//! // The seed's 2-2-1 sigmoid network, every weight 1 and every bias 0, on Alice (-2, -1) -> 1.
//! let mut net = Mlp::from_parameters(
//!     &[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid,
//!     &[1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0],
//! )?;
//! let tape = Tape::new();
//! let bound = net.bind(&tape);
//! let y_pred = bound.forward(&[-2.0, -1.0])?;
//! let loss = mse(&y_pred, &[1.0])?;
//! let grads = loss.backward();
//! let dl_dw = bound.gradients(&grads);
//! assert!((dl_dw[0] - 0.0214695352658).abs() < 1e-12); // the seed's dL/dw1
//! Sgd::new(0.1)?.step(net.parameters_mut(), dl_dw)?;
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! For whole training runs use [`Trainer`] (or [`train`]) with a [`Dataset`].
//!
//! New to neural networks? The [`tutorial`] retells the seed's post step by step with tapegrad.
//!
//! ## Inspecting and saving
//!
//! [`Graphviz`] exports the part of a [traced](Tape::traced) tape that leads to a value as DOT
//! text, with names from [`Value::named`]; `Mlp::save` and `Mlp::load` keep a model in the
//! safetensors format that PyTorch and NumPy read (layout in the `io` module).
//!
//! ## Cargo features
//!
//! All three are on by default; with `default-features = false` the crate builds with smallvec,
//! rand, thiserror and pulp (the batched kernels' AVX2 dispatch) alone.
//!
//! - `parallel`: `BatchGradient`, a mini-batch's mean gradient on a pool of threads (rayon).
//! - `safetensors`: `Mlp::save`, `Mlp::load`, `Mlp::to_safetensors`, `Mlp::from_safetensors`,
//!   the `io` module and `ModelFileError` (safetensors and serde_json).
//! - `progress`: the bar [`TrainConfig::progress`] draws on a terminal (indicatif); without it
//!   the setting is accepted and draws nothing.
//!
//! ## rand
//!
//! [`Mlp::random`] and [`Trainer::fit_shuffled`] take a generator from **rand 0.10**, re-exported
//! as [`tapegrad::rand`](rand), so no version can be mismatched: a generator from another rand
//! (0.9, say) fails with an error like `the trait DerefMut is not implemented for StdRng`. Use the
//! re-export, or depend on `rand = "0.10"` yourself.
//!
//! ```
//! use tapegrad::rand::{rngs::StdRng, SeedableRng};
//! use tapegrad::{Activation, Mlp};
//! let model = Mlp::random(&[2, 3, 1], Activation::Tanh, Activation::Identity, &mut StdRng::seed_from_u64(7))?;
//! assert_eq!(model.parameter_count(), 13);
//! # Ok::<(), tapegrad::Error>(())
//! ```

//! ## Checking gradients
//!
//! [`check::gradcheck`] compares the tape's gradient of any function with central finite
//! differences, the way this crate's own property tests do:
//!
//! ```
//! let report = tapegrad::check::gradcheck(|x| (x[0] * x[1]).tanh() / x[1], &[0.3, 2.0])?;
//! assert!(report.passed(), "{report}");
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! ## Second derivatives
//!
//! On a [traced](Tape::traced) tape, [`Value::grad`] records the reverse sweep itself, so a
//! gradient is a [`Value`] that can be differentiated again; [`hessian`] and [`hvp`] are built on
//! it, and [`check::gradgradcheck`] tests them against finite differences of the gradient:
//!
//! ```
//! // Rosenbrock at its minimum (1, 1): H = [[802, -400], [-400, 200]]
//! let h = tapegrad::hessian(|v| (1.0 - v[0]).square() + 100.0 * (v[1] - v[0].square()).square(), &[1.0, 1.0])?;
//! assert_eq!(h, vec![vec![802.0, -400.0], vec![-400.0, 200.0]]);
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! ## How the tape works
//!
//! A node stores its parents' indices and the partial derivative with respect to each, computed
//! when the op runs. Nodes are appended in creation order, which is already a topological order,
//! so the reverse sweep is one loop from the output down to the first node:
//! `grad[parent] += partial * grad[node]`. No recursion, no sort, no closures. See
//! the [numerics table](numerics) for each op's rule and its behaviour at the edges (sigmoid at +-1000, `ln 0`, overflow).
//!
//! Everything else is a fused run with one vector rule: runs of leaves, n-ary nodes (`sum`,
//! `dot`, the losses, [`Tape::custom`] with three or more inputs), and a bound model's dense
//! layers, whose rule is the backprop one writes by hand (`g_j = grad[a_j] * act'(z_j)`,
//! `grad[w_jk] += g_j x_k`, `grad[x_k] += g_j w_jk`). [`Bound::forward_unfused`] records the
//! same network neuron by neuron from public ops; both give the same bits. A
//! [traced](Tape::traced) tape records exactly the same nodes and also keeps their ops, values
//! and names.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod engine;
mod error;
mod inspect;
#[cfg(feature = "safetensors")]
#[cfg_attr(docsrs, doc(cfg(feature = "safetensors")))]
pub mod io;
mod nn;
mod optim;
mod size;
mod train;
pub mod tutorial;

/// What every op does at its edges: infinities, zeros, saturation, NaN.
#[doc = include_str!("numerics.md")]
pub mod numerics {}

pub use engine::ops::Operand;
pub use engine::{Gradients, Op, Tape, Value};
pub use error::{Error, Result};
#[cfg(feature = "safetensors")]
#[cfg_attr(docsrs, doc(cfg(feature = "safetensors")))]
pub use error::{ModelFileError, ModelIoError};
pub use inspect::gradcheck as check;
pub use inspect::graphviz::Graphviz;
pub use inspect::hessian::{hessian, hvp};
pub use nn::loss::{bce_with_logits, cross_entropy, hinge, l2, log_softmax, mse, softmax, Loss};
pub use nn::{Activation, Bound, Layer, Mlp, MlpBuilder, Neuron, ParamSlot};
pub use optim::{Adam, Optimizer, Schedule, Sgd};
#[cfg(feature = "parallel")]
#[cfg_attr(docsrs, doc(cfg(feature = "parallel")))]
pub use train::parallel::BatchGradient;
pub use train::{
    train, Dataset, EpochControl, EpochReport, Metrics, TrainConfig, TrainSummary, Trainer,
};

/// The generator crate [`Mlp::random`] and [`Trainer::fit_shuffled`] take, version 0.10.
pub use rand;

/// The README's code blocks, compiled and run as doc tests.
#[cfg(all(doctest, feature = "parallel", feature = "safetensors"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
