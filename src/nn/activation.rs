use crate::engine::ops::{self};
use crate::engine::{Op, Value};
use std::fmt;

/// A neuron's activation function. See the [numerics table](crate::numerics) for the edge cases.
///
/// ```
/// use tapegrad::Activation;
/// assert_eq!(Activation::Relu.apply(-3.0), 0.0);
/// assert_eq!(Activation::Sigmoid.apply(0.0), 0.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `1 / (1 + e^-x)`, the seed's activation.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `0 if x < 0 else x` (so NaN and -0.0 pass through), with derivative 0 at 0.
    Relu,
    /// No activation: the pre-activation itself (a linear output layer). Records no node.
    Identity,
}

impl Activation {
    /// Applies the activation to a plain number.
    ///
    /// ```
    /// assert_eq!(tapegrad::Activation::Tanh.apply(0.0), 0.0);
    /// ```
    #[must_use]
    pub fn apply(self, x: f64) -> f64 {
        match self.rule(x) {
            Some((_, (v, _))) => v,
            None => x,
        }
    }

    /// Applies the activation to a recorded value (no new node for [`Activation::Identity`]).
    ///
    /// ```
    /// use tapegrad::{Activation, Tape};
    /// let tape = Tape::new();
    /// let x = tape.var(0.0);
    /// assert_eq!(Activation::Sigmoid.on(x).backward()[x], 0.25);
    /// ```
    #[must_use]
    pub fn on(self, x: Value<'_>) -> Value<'_> {
        match self {
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Relu => x.relu(),
            Activation::Identity => x,
        }
    }

    /// The lowercase name (`"sigmoid"`, `"tanh"`, `"relu"`, `"identity"`).
    ///
    /// ```
    /// assert_eq!(tapegrad::Activation::Relu.name(), "relu");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Identity => "identity",
        }
    }

    /// The op an activated node records, `None` for the identity.
    #[inline]
    pub(crate) fn op(self) -> Option<Op> {
        match self {
            Activation::Sigmoid => Some(Op::Sigmoid),
            Activation::Tanh => Some(Op::Tanh),
            Activation::Relu => Some(Op::Relu),
            Activation::Identity => None,
        }
    }

    /// The op and its `(value, derivative)` at `x`, or `None` for the identity.
    #[inline]
    pub(crate) fn rule(self, x: f64) -> Option<(Op, (f64, f64))> {
        match self {
            Activation::Sigmoid => Some((Op::Sigmoid, ops::sigmoid(x))),
            Activation::Tanh => Some((Op::Tanh, ops::tanh(x))),
            Activation::Relu => Some((Op::Relu, ops::relu(x))),
            Activation::Identity => None,
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
