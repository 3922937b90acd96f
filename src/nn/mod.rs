//! Neurons, layers and multi-layer perceptrons.
//!
//! A model owns its parameters as plain `f64`s (so it is `Clone + Send + Sync`, printable and
//! comparable). For a training step it is *bound* onto a [`Tape`]: its parameters become leaves,
//! in [`parameters()`](Mlp::parameters) order, and the forward pass is recorded. After
//! [`Value::backward`], [`Bound::gradients`] reads every parameter's gradient in that same order.
//!
//! Parameter order, everywhere: layer by layer, neuron by neuron, each neuron's weights (one per
//! input, in input order) then its bias.
//!
//! A neuron's pre-activation is `z = ((b + w0 x0) + w1 x1) + ...`, summed left to right. A
//! recorded layer is one fused node per sample ([`Bound::forward`]) or per batch
//! ([`Bound::forward_batch`], whose rules are matrix products); plain-`f64` prediction computes
//! exactly the same sums, so predictions and recorded forward passes agree bit for bit.

mod activation;
mod bind;
mod builder;
mod dense;
mod layer;
pub(crate) mod loss;
mod mlp;
mod neuron;

pub use activation::Activation;
pub use bind::Bound;
pub use builder::MlpBuilder;
pub(crate) use dense::{BatchScratch, Leaves, Scratch};
pub use layer::Layer;
pub use mlp::{Mlp, ParamSlot};
pub use neuron::Neuron;
