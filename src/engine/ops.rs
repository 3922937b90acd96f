//! Every op: its forward rule and its local derivative side by side.
//!
//! Each rule is a plain function returning `(value, partials)`; the [`Value`] operators and
//! methods below record its result and partials on the tape. The same functions serve
//! plain-`f64` inference, so a prediction and a recorded forward pass agree bit for bit.
//!
//! What each op does at its edges is in the [numerics table](crate::numerics).

use super::{Op, Records, Tape, Value};
use std::ops::{Add, Div, Mul, Neg, Sub};

// ---------------------------------------------------------------------------------------------
// Forward rules and local derivatives.
// ---------------------------------------------------------------------------------------------

/// sigmoid(x) = 1 / (1 + e^-x);  d/dx = s (1 - s), with 1 - s = e^-x s for x >= 0
///
/// For x >= 0, `s` is within half an ulp of 1 and `1 - s` would keep almost none of its
/// digits (at x = 30 it is off by 0.1%, from x = 37 it is 0); `e^-x s` is the same number
/// computed without the cancellation.
#[inline]
pub(crate) fn sigmoid(x: f64) -> (f64, f64) {
    let e = (-x).exp();
    let s = 1.0 / (1.0 + e);
    let one_minus_s = if x >= 0.0 { e * s } else { 1.0 - s };
    (s, s * one_minus_s)
}

/// tanh(x);  d/dx = 1 - tanh(x)^2 = 4 u / (1 + u)^2 with u = e^(-2|x|)
///
/// `1 - t^2` cancels once |t| nears 1 (relative error ~ eps e^(2|x|), all of it from x = 19
/// on); past |t| = 1/2 the second form, which has no cancellation, is used instead.
#[inline]
pub(crate) fn tanh(x: f64) -> (f64, f64) {
    let t = x.tanh();
    let d = if t.abs() <= 0.5 {
        1.0 - t * t
    } else {
        let u = (-2.0 * x.abs()).exp();
        4.0 * u / ((1.0 + u) * (1.0 + u))
    };
    (t, d)
}

/// relu(x) = 0 if x < 0 else x;  d/dx = 1 if relu(x) > 0 else 0
#[inline]
pub(crate) fn relu(x: f64) -> (f64, f64) {
    let r = if x < 0.0 { 0.0 } else { x };
    (r, if r > 0.0 { 1.0 } else { 0.0 })
}

/// exp(x);  d/dx = exp(x)
#[inline]
pub(crate) fn exp(x: f64) -> (f64, f64) {
    let e = x.exp();
    (e, e)
}

/// ln(x);  d/dx = 1 / x
#[inline]
pub(crate) fn ln(x: f64) -> (f64, f64) {
    (x.ln(), 1.0 / x)
}

/// x^p;  d/dx = p x^(p - 1)  (0 when p = 0)
#[inline]
pub(crate) fn powf(x: f64, p: f64) -> (f64, f64) {
    let d = if p == 0.0 { 0.0 } else { p * x.powf(p - 1.0) };
    (x.powf(p), d)
}

/// x^n;  d/dx = n x^(n - 1)  (0 when n = 0)
///
/// `n - 1` overflows `i32` at `n = i32::MIN`; there `x^(n-1)` is `x^n / x`, computed as
/// `x^(n + 1) / x^2` so that neither power overflows before the other.
#[inline]
pub(crate) fn powi(x: f64, n: i32) -> (f64, f64) {
    let d = match n.checked_sub(1) {
        _ if n == 0 => 0.0,
        Some(m) => f64::from(n) * x.powi(m),
        None => f64::from(n) * (x.powi(n + 1) / (x * x)),
    };
    (x.powi(n), d)
}

/// a / b;  d/da = 1 / b,  d/db = -a / b^2 = -(a / b) / b
#[inline]
fn div(a: f64, b: f64) -> (f64, f64, f64) {
    let q = a / b;
    (q, 1.0 / b, -q / b)
}

// ---------------------------------------------------------------------------------------------
// Recording.
// ---------------------------------------------------------------------------------------------

impl<'t> Value<'t> {
    /// Records a node with one parent.
    #[inline]
    fn unary(self, op: Op, value: f64, d: f64) -> Value<'t> {
        let index = self.tape.with_records(|r| {
            r.edge(self.index, d);
            r.finish(op, value)
        });
        Value::new(self.tape, index, value)
    }

    /// Records a node with two parents (which may be the same node: `a + a`).
    #[inline]
    #[track_caller]
    fn binary(self, other: Value<'t>, op: Op, value: f64, da: f64, db: f64) -> Value<'t> {
        self.tape.check_same(other.tape);
        let index = self.tape.with_records(|r| {
            r.edge(self.index, da);
            r.edge(other.index, db);
            r.finish(op, value)
        });
        Value::new(self.tape, index, value)
    }

    /// The logistic function `1 / (1 + e^-x)`; 0 at x = -1000 and 1 at x = +1000, never NaN
    /// for a non-NaN input. See the [numerics table](crate::numerics).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(0.0);
    /// let s = x.sigmoid();
    /// assert_eq!(s.value(), 0.5);
    /// assert_eq!(s.backward()[x], 0.25); // s (1 - s)
    /// ```
    #[must_use]
    pub fn sigmoid(self) -> Value<'t> {
        let (v, d) = sigmoid(self.value);
        self.unary(Op::Sigmoid, v, d)
    }

    /// Hyperbolic tangent.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(0.0);
    /// assert_eq!(x.tanh().backward()[x], 1.0); // 1 - tanh^2
    /// ```
    #[must_use]
    pub fn tanh(self) -> Value<'t> {
        let (v, d) = tanh(self.value);
        self.unary(Op::Tanh, v, d)
    }

    /// Rectified linear unit, `0 if x < 0 else x`; its derivative at the kink x = 0 is 0.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(-2.0);
    /// let y = x.relu();
    /// assert_eq!((y.value(), y.backward()[x]), (0.0, 0.0));
    /// ```
    #[must_use]
    pub fn relu(self) -> Value<'t> {
        let (v, d) = relu(self.value);
        self.unary(Op::Relu, v, d)
    }

    /// `e^x`; overflows to +inf above about 709.78.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(0.0);
    /// assert_eq!(x.exp().backward()[x], 1.0);
    /// ```
    #[must_use]
    pub fn exp(self) -> Value<'t> {
        let (v, d) = exp(self.value);
        self.unary(Op::Exp, v, d)
    }

    /// Natural logarithm, as `f64::ln`: `ln(0) = -inf`, negative inputs give NaN.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(4.0);
    /// assert_eq!(x.ln().backward()[x], 0.25); // 1 / x
    /// assert_eq!(tape.var(0.0).ln().value(), f64::NEG_INFINITY);
    /// ```
    #[must_use]
    pub fn ln(self) -> Value<'t> {
        let (v, d) = ln(self.value);
        self.unary(Op::Ln, v, d)
    }

    /// `x^p` for a constant exponent, as `f64::powf`.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(9.0);
    /// let y = x.powf(0.5);
    /// assert_eq!(y.value(), 3.0);
    /// assert_eq!(y.backward()[x], 0.5 / 3.0);
    /// ```
    #[must_use]
    pub fn powf(self, p: f64) -> Value<'t> {
        let (v, d) = powf(self.value, p);
        self.unary(Op::Powf, v, d)
    }

    /// `x^n` for a constant integer exponent, as `f64::powi`.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(3.0);
    /// assert_eq!(x.powi(2).backward()[x], 6.0);
    /// ```
    #[must_use]
    pub fn powi(self, n: i32) -> Value<'t> {
        let (v, d) = powi(self.value, n);
        self.unary(Op::Powi, v, d)
    }
}

// a + b;  d/da = 1, d/db = 1
impl<'t> Add for Value<'t> {
    type Output = Value<'t>;
    #[track_caller]
    fn add(self, rhs: Value<'t>) -> Value<'t> {
        self.binary(rhs, Op::Add, self.value + rhs.value, 1.0, 1.0)
    }
}

// a + c;  d/da = 1
impl<'t> Add<f64> for Value<'t> {
    type Output = Value<'t>;
    fn add(self, c: f64) -> Value<'t> {
        self.unary(Op::Add, self.value + c, 1.0)
    }
}

// c + a;  d/da = 1
impl<'t> Add<Value<'t>> for f64 {
    type Output = Value<'t>;
    fn add(self, a: Value<'t>) -> Value<'t> {
        a.unary(Op::Add, self + a.value, 1.0)
    }
}

// a - b;  d/da = 1, d/db = -1
impl<'t> Sub for Value<'t> {
    type Output = Value<'t>;
    #[track_caller]
    fn sub(self, rhs: Value<'t>) -> Value<'t> {
        self.binary(rhs, Op::Sub, self.value - rhs.value, 1.0, -1.0)
    }
}

// a - c;  d/da = 1
impl<'t> Sub<f64> for Value<'t> {
    type Output = Value<'t>;
    fn sub(self, c: f64) -> Value<'t> {
        self.unary(Op::Sub, self.value - c, 1.0)
    }
}

// c - a;  d/da = -1
impl<'t> Sub<Value<'t>> for f64 {
    type Output = Value<'t>;
    fn sub(self, a: Value<'t>) -> Value<'t> {
        a.unary(Op::Sub, self - a.value, -1.0)
    }
}

// a * b;  d/da = b, d/db = a
impl<'t> Mul for Value<'t> {
    type Output = Value<'t>;
    #[track_caller]
    fn mul(self, rhs: Value<'t>) -> Value<'t> {
        self.binary(rhs, Op::Mul, self.value * rhs.value, rhs.value, self.value)
    }
}

// a * c;  d/da = c
impl<'t> Mul<f64> for Value<'t> {
    type Output = Value<'t>;
    fn mul(self, c: f64) -> Value<'t> {
        self.unary(Op::Mul, self.value * c, c)
    }
}

// c * a;  d/da = c
impl<'t> Mul<Value<'t>> for f64 {
    type Output = Value<'t>;
    fn mul(self, a: Value<'t>) -> Value<'t> {
        a.unary(Op::Mul, self * a.value, self)
    }
}

// a / b;  d/da = 1/b, d/db = -a/b^2
impl<'t> Div for Value<'t> {
    type Output = Value<'t>;
    #[track_caller]
    fn div(self, rhs: Value<'t>) -> Value<'t> {
        let (q, da, db) = div(self.value, rhs.value);
        self.binary(rhs, Op::Div, q, da, db)
    }
}

// a / c;  d/da = 1/c
impl<'t> Div<f64> for Value<'t> {
    type Output = Value<'t>;
    fn div(self, c: f64) -> Value<'t> {
        let (q, da, _) = div(self.value, c);
        self.unary(Op::Div, q, da)
    }
}

// c / a;  d/da = -c/a^2
impl<'t> Div<Value<'t>> for f64 {
    type Output = Value<'t>;
    fn div(self, a: Value<'t>) -> Value<'t> {
        let (q, _, da) = div(self, a.value);
        a.unary(Op::Div, q, da)
    }
}

// -a;  d/da = -1
impl<'t> Neg for Value<'t> {
    type Output = Value<'t>;
    fn neg(self) -> Value<'t> {
        self.unary(Op::Neg, -self.value, -1.0)
    }
}

// ---------------------------------------------------------------------------------------------
// n-ary nodes: one node, one edge per input.
// ---------------------------------------------------------------------------------------------

mod sealed {
    pub trait Sealed {}
    impl Sealed for f64 {}
    impl Sealed for crate::Value<'_> {}
}

/// Something that can be the second operand of [`Tape::dot`]: a recorded [`Value`], or a plain
/// `f64` constant (which gets no edge, so data inputs cost nothing in the reverse sweep).
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let w = tape.vars(&[1.0, 2.0]);
/// let by_constant = tape.dot(&w, &[3.0, 4.0]);
/// let by_value = tape.dot(&w, &tape.vars(&[3.0, 4.0]));
/// assert_eq!(by_constant.value(), by_value.value());
/// ```
pub trait Operand: Copy + sealed::Sealed {
    /// The operand's value.
    fn value(self) -> f64;
    /// The operand's node, if it is recorded; `tape` is the tape being recorded on.
    #[doc(hidden)]
    fn node(self, tape: &Tape) -> Option<u32>;
}

impl Operand for f64 {
    #[inline]
    fn value(self) -> f64 {
        self
    }
    #[inline]
    fn node(self, _: &Tape) -> Option<u32> {
        None
    }
}

impl Operand for Value<'_> {
    #[inline]
    fn value(self) -> f64 {
        self.value
    }
    #[inline]
    #[track_caller]
    fn node(self, tape: &Tape) -> Option<u32> {
        tape.check_same(self.tape);
        Some(self.index)
    }
}

impl Tape {
    /// One node for `v0 + v1 + ... + vn` (summed left to right); the derivative with respect to
    /// each input is 1. The sum of no values is a leaf holding 0.
    ///
    /// # Panics
    ///
    /// If a value is from another tape.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let xs = tape.vars(&[1.0, 2.0, 3.0]);
    /// let s = tape.sum(&[xs[0], xs[1], xs[2], xs[0]]);
    /// assert_eq!(s.value(), 7.0);
    /// assert_eq!(s.backward()[xs[0]], 2.0); // used twice
    /// ```
    #[must_use]
    #[track_caller]
    pub fn sum<'t>(&'t self, values: &[Value<'t>]) -> Value<'t> {
        // s = v0 + v1 + ...;  ds/dvk = 1
        let mut s = 0.0;
        for v in values {
            self.check_same(v.tape);
            s += v.value;
        }
        let index = self.with_records(|r| {
            for v in values {
                r.edge(v.index, 1.0);
            }
            r.finish(Op::Sum, s)
        });
        Value::new(self, index, s)
    }

    /// One node for the dot product `a0 b0 + a1 b1 + ...` (accumulated left to right). The
    /// derivative with respect to `ak` is `bk` and, when `b` holds values, with respect to `bk`
    /// it is `ak`. On a traced tape, a neuron's weighted sum is one such node, not 2n.
    ///
    /// # Panics
    ///
    /// If the slices have different lengths (a programmer error), or a value is from another
    /// tape.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let w = tape.vars(&[0.0, 1.0]);
    /// let z = tape.dot(&w, &[2.0, 3.0]) + 4.0; // the seed's neuron: w.x + b = 7
    /// assert_eq!(z.value(), 7.0);
    /// assert_eq!(z.backward()[w[0]], 2.0);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn dot<'t, X: Operand>(&'t self, a: &[Value<'t>], b: &[X]) -> Value<'t> {
        assert_eq!(
            a.len(),
            b.len(),
            "tapegrad: dot of slices with different lengths ({} and {})",
            a.len(),
            b.len()
        );
        // d = sum ak bk;  dd/dak = bk, dd/dbk = ak
        let mut d = 0.0;
        for (x, y) in a.iter().zip(b) {
            self.check_same(x.tape);
            d += x.value * y.value();
        }
        let index = self.with_records(|r| {
            for (x, &y) in a.iter().zip(b) {
                r.edge(x.index, y.value());
                if let Some(node) = y.node(self) {
                    r.edge(node, x.value);
                }
            }
            r.finish(Op::Dot, d)
        });
        Value::new(self, index, d)
    }
}

/// A dense layer's pre-activations into `z`: for each neuron j,
/// `z_j = ((b_j + w_j0 x0) + w_j1 x1) + ...`, summed left to right from the bias. `params` holds
/// the layer's neurons one after another, each as its weights then its bias.
///
/// Computing the whole layer before recording any node keeps this loop free of branches, so
/// the CPU overlaps one neuron's chain of additions with the next one's.
#[inline]
pub(crate) fn layer_affine(params: &[f64], x: &[f64], outputs: usize, z: &mut Vec<f64>) {
    let width = x.len() + 1;
    z.clear();
    z.extend(params.chunks_exact(width).take(outputs).map(|row| {
        let (weights, bias) = row.split_at(width - 1);
        let mut zj = bias[0];
        for (w, xk) in weights.iter().zip(x) {
            zj += w * xk;
        }
        zj
    }));
}

/// The inputs of a neuron being recorded.
#[derive(Clone, Copy)]
pub(crate) enum Inputs<'a> {
    /// Plain numbers (data): only the weights get edges.
    Constants,
    /// Tape nodes, one per input.
    Nodes(&'a [u32]),
}

/// Records a neuron's pre-activation `z` (computed by [`layer_affine`]) as one node.
///
/// The weights are the leaves `params_first..params_first + n` with values `params[..n]`, and
/// the bias is the leaf right after them (`params[n]`): a neuron's parameters in
/// [`parameters()`](crate::Mlp::parameters) order; `input_values` are the inputs' values.
///
/// dz/db = 1;  dz/dwk = xk;  dz/dxk = wk
#[inline]
pub(crate) fn record_affine(
    r: &mut Records,
    params_first: u32,
    params: &[f64],
    inputs: Inputs<'_>,
    input_values: &[f64],
    z: f64,
) -> u32 {
    let n = input_values.len();
    // Edges in bulk (a profile showed a push per edge costing more than the arithmetic):
    // bias, then each weight (partial = its input), then each input node (partial = its weight).
    r.edge(params_first + n as u32, 1.0);
    match inputs {
        Inputs::Constants => r.edge_span(params_first, input_values),
        Inputs::Nodes(nodes) => {
            r.edge_span(params_first, input_values);
            r.edge_slices(&nodes[..n], &params[..n]);
        }
    }
    r.finish(Op::Dot, z)
}

/// Records a one-parent node with a precomputed `(value, derivative)` pair.
#[inline]
pub(crate) fn record_unary(r: &mut Records, op: Op, parent: u32, (v, d): (f64, f64)) -> (u32, f64) {
    r.edge(parent, d);
    (r.finish(op, v), v)
}
