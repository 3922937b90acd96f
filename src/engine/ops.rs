//! Every op: its forward rule and its local derivative side by side.
//!
//! Each rule is a plain function returning `(value, partials)`; the [`Value`] operators and
//! methods below record its result and partials on the tape. The same functions serve
//! plain-`f64` inference, so a prediction and a recorded forward pass agree bit for bit.
//!
//! What each op does at its edges is in the [numerics table](crate::numerics).

use super::{Op, Tape, Value};
use std::ops::{Add, Div, Mul, Neg, Sub};

// ---------------------------------------------------------------------------------------------
// Forward rules and local derivatives.
// ---------------------------------------------------------------------------------------------

/// sigmoid(x) = 1 / (1 + e^-x);  d/dx = s (1 - s), with 1 - s = e^-x s for x >= 0
///
/// For x >= 0, `s` is within half an ulp of 1 and `1 - s` would keep almost none of its
/// digits (at x = 30 it is off by 0.1%, from x = 37 it is 0); `e^-x s` is the same number
/// computed without the cancellation.
///
/// Below x ~ -709.78, `e^-x` overflows and `1 / (1 + inf)` would be 0, though s is still a
/// (subnormal) number there: then s = e^x to within a relative e^x, and so is its derivative.
#[inline]
pub(crate) fn sigmoid(x: f64) -> (f64, f64) {
    let e = (-x).exp();
    if e.is_infinite() {
        let s = x.exp();
        return (s, s);
    }
    let s = 1.0 / (1.0 + e);
    let one_minus_s = if x >= 0.0 { e * s } else { 1.0 - s };
    (s, s * one_minus_s)
}

/// tanh(x);  d/dx = 1 - tanh(x)^2 = 4 u / (1 + u)^2 with u = e^(-2|x|)
///
/// `1 - t^2` cancels once |t| nears 1 (relative error ~ eps e^(2|x|), all of it from x = 19
/// on); past |x| = 0.55 (|t| ~ 1/2) the second form, which has no cancellation, is used
/// instead. Computed without libm, branch-free (see [`super::tanh`]).
#[inline]
pub(crate) fn tanh(x: f64) -> (f64, f64) {
    super::tanh::tanh(x)
}

/// [`tanh`] of each `z` into `t` and `d` (all of one length), several values at a time.
pub(crate) fn tanh_slice(z: &[f64], t: &mut [f64], d: &mut [f64]) {
    super::tanh::tanh_slice(z, t, d);
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
    let v = x.powf(p);
    (v, powf_slope(x, p, v).0)
}

/// powf's derivative at `x`, given `v = x^p`, and whether it took the fallback form: for a
/// tiny x and a small p, `x^(p - 1)` can overflow though `p x^(p - 1)` does not (x = 5e-324,
/// p = 1e-20: 2e303); the derivative is then computed as `(p x^p) / x`.
#[inline]
pub(crate) fn powf_slope(x: f64, p: f64, v: f64) -> (f64, bool) {
    let d = if p == 0.0 { 0.0 } else { p * x.powf(p - 1.0) };
    if d.is_infinite() && x != 0.0 && x.is_finite() {
        ((p * v) / x, true)
    } else {
        (d, false)
    }
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

/// sin(x);  d/dx = cos(x)
#[inline]
pub(crate) fn sin(x: f64) -> (f64, f64) {
    (x.sin(), x.cos())
}

/// cos(x);  d/dx = -sin(x)
#[inline]
pub(crate) fn cos(x: f64) -> (f64, f64) {
    (x.cos(), -x.sin())
}

/// sqrt(x);  d/dx = 1 / (2 sqrt(x))  (+inf at 0; NaN below 0)
///
/// `sqrt(-0.0)` is `-0.0` (IEEE), and `0.5 / -0.0` would be -inf: the wrong sign for an
/// increasing function, so the divisor is `|r|`.
#[inline]
pub(crate) fn sqrt(x: f64) -> (f64, f64) {
    let r = x.sqrt();
    (r, 0.5 / r.abs())
}

/// |x|;  d/dx = sign(x), and 0 at the kink x = 0 (and for NaN)
#[inline]
pub(crate) fn abs(x: f64) -> (f64, f64) {
    let d = if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    };
    (x.abs(), d)
}

/// x^2;  d/dx = 2x
#[inline]
pub(crate) fn square(x: f64) -> (f64, f64) {
    (x * x, 2.0 * x)
}

/// max(a, b);  d/da = 1 where a > b, 0 where a < b, 1/2 at a tie; NaN if either is NaN
#[inline]
pub(crate) fn max(a: f64, b: f64) -> (f64, f64, f64) {
    if a > b {
        (a, 1.0, 0.0)
    } else if b > a {
        (b, 0.0, 1.0)
    } else if a == b {
        (a, 0.5, 0.5)
    } else {
        (f64::NAN, f64::NAN, f64::NAN)
    }
}

/// min(a, b) = -max(-a, -b);  d/da = 1 where a < b, 0 where a > b, 1/2 at a tie
#[inline]
pub(crate) fn min(a: f64, b: f64) -> (f64, f64, f64) {
    let (m, da, db) = max(-a, -b);
    (-m, da, db)
}

// ---------------------------------------------------------------------------------------------
// Recording.
// ---------------------------------------------------------------------------------------------

impl<'t> Value<'t> {
    /// Records a node with one input and its `(value, derivative)`.
    #[inline(always)]
    fn unary(self, op: Op, (value, d): (f64, f64)) -> Value<'t> {
        let index = (self.tape.records_mut()).unary(op, value, (self.index, d), None);
        Value::new(self.tape, index, value)
    }

    /// Records a node with one input, noting `constant` for [`Value::grad`] on a traced tape.
    #[inline(always)]
    fn unary_noted(self, op: Op, (value, d): (f64, f64), constant: f64) -> Value<'t> {
        let index = (self.tape.records_mut()).unary(op, value, (self.index, d), Some(constant));
        Value::new(self.tape, index, value)
    }

    /// Records a node with two inputs (which may be the same node: `a + a`).
    #[inline(always)]
    #[track_caller]
    fn binary(self, other: Value<'t>, op: Op, value: f64, da: f64, db: f64) -> Value<'t> {
        self.tape.check_same(other.tape);
        let inputs = ((self.index, da), (other.index, db));
        let index = self
            .tape
            .records_mut()
            .binary(op, value, inputs.0, inputs.1);
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
    #[inline]
    pub fn sigmoid(self) -> Value<'t> {
        self.unary(Op::Sigmoid, sigmoid(self.value))
    }

    /// Hyperbolic tangent.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(0.0);
    /// assert_eq!(x.tanh().backward()[x], 1.0); // 1 - tanh^2
    /// ```
    #[must_use]
    #[inline]
    pub fn tanh(self) -> Value<'t> {
        self.unary(Op::Tanh, tanh(self.value))
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
    #[inline]
    pub fn relu(self) -> Value<'t> {
        self.unary(Op::Relu, relu(self.value))
    }

    /// `e^x`; overflows to +inf above about 709.78.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(0.0);
    /// assert_eq!(x.exp().backward()[x], 1.0);
    /// ```
    #[must_use]
    #[inline]
    pub fn exp(self) -> Value<'t> {
        self.unary(Op::Exp, exp(self.value))
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
    #[inline]
    pub fn ln(self) -> Value<'t> {
        self.unary(Op::Ln, ln(self.value))
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
    #[inline]
    pub fn powf(self, p: f64) -> Value<'t> {
        self.unary_noted(Op::Powf, powf(self.value, p), p)
    }

    /// `x^n` for a constant integer exponent, as `f64::powi`.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(3.0);
    /// assert_eq!(x.powi(2).backward()[x], 6.0);
    /// ```
    #[must_use]
    #[inline]
    pub fn powi(self, n: i32) -> Value<'t> {
        self.unary_noted(Op::Powi, powi(self.value, n), f64::from(n))
    }

    /// Sine (radians).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(0.0);
    /// assert_eq!(x.sin().backward()[x], 1.0); // cos 0
    /// ```
    #[must_use]
    #[inline]
    pub fn sin(self) -> Value<'t> {
        self.unary(Op::Sin, sin(self.value))
    }

    /// Cosine (radians); its derivative is `-sin`.
    #[must_use]
    #[inline]
    pub fn cos(self) -> Value<'t> {
        self.unary(Op::Cos, cos(self.value))
    }

    /// Square root, as `f64::sqrt`: NaN below 0; at 0 the value is 0 and the derivative +inf
    /// (at -0.0 too, whose root is -0.0).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(4.0);
    /// assert_eq!(x.sqrt().backward()[x], 0.25); // 1 / (2 sqrt x)
    /// ```
    #[must_use]
    #[inline]
    pub fn sqrt(self) -> Value<'t> {
        self.unary(Op::Sqrt, sqrt(self.value))
    }

    /// Absolute value; its derivative is the sign of x, and 0 at the kink x = 0 (as for
    /// [`Value::relu`]).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(-3.0);
    /// assert_eq!(x.abs().backward()[x], -1.0);
    /// ```
    #[must_use]
    #[inline]
    pub fn abs(self) -> Value<'t> {
        self.unary(Op::Abs, abs(self.value))
    }

    /// `x * x` as one node (derivative `2x`).
    #[must_use]
    #[inline]
    pub fn square(self) -> Value<'t> {
        self.unary(Op::Square, square(self.value))
    }

    /// The larger of `self` and `other` (a [`Value`] or an `f64`). The gradient goes to the
    /// larger one; at a tie each side gets half of it (a symmetric subgradient, as PyTorch's
    /// `maximum`); if either side is NaN the result and its derivatives are NaN.
    ///
    /// # Panics
    ///
    /// If `other` is a [`Value`] from another tape.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let (a, b) = (tape.var(2.0), tape.var(2.0));
    /// let g = a.max(b).backward();
    /// assert_eq!((g[a], g[b]), (0.5, 0.5)); // a tie splits the gradient
    /// assert_eq!(a.max(3.0).value(), 3.0);
    /// ```
    #[must_use]
    #[track_caller]
    #[inline]
    pub fn max(self, other: impl Operand) -> Value<'t> {
        self.extremum(other, Op::Max, max)
    }

    /// The smaller of `self` and `other` (a [`Value`] or an `f64`); ties, NaN and panics as
    /// for [`Value::max`].
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(-1.0);
    /// assert_eq!(x.min(0.0).backward()[x], 1.0);
    /// ```
    #[must_use]
    #[track_caller]
    #[inline]
    pub fn min(self, other: impl Operand) -> Value<'t> {
        self.extremum(other, Op::Min, min)
    }

    #[track_caller]
    #[inline]
    fn extremum(
        self,
        other: impl Operand,
        op: Op,
        rule: fn(f64, f64) -> (f64, f64, f64),
    ) -> Value<'t> {
        let (v, da, db) = rule(self.value, other.value());
        match other.node(self.tape) {
            Some(b) => self.binary(Value::new(self.tape, b, other.value()), op, v, da, db),
            None => self.unary(op, (v, da)),
        }
    }

    /// The same value as a new leaf: no gradient flows back through it (PyTorch's `detach`,
    /// JAX's `stop_gradient`).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(3.0);
    /// let y = x * x.detach(); // d/dx treats the detached x as a constant
    /// assert_eq!(y.backward()[x], 3.0);
    /// ```
    #[must_use]
    #[inline]
    pub fn detach(self) -> Value<'t> {
        let index = self
            .tape
            .with_records(|r| r.leaves(Op::Detach, [self.value]));
        Value::new(self.tape, index, self.value)
    }
}

// ---------------------------------------------------------------------------------------------
// Compound assignment: `a op= b` is `a = a op b`, a new node (the old one is kept on the tape).
// ---------------------------------------------------------------------------------------------

macro_rules! assign_ops {
    ($($trait:ident $method:ident $op:tt),*) => {$(
        impl<'t> std::ops::$trait for Value<'t> {
            #[track_caller]
            #[inline]
            fn $method(&mut self, rhs: Value<'t>) {
                *self = *self $op rhs;
            }
        }
        impl std::ops::$trait<f64> for Value<'_> {
            #[inline]
            fn $method(&mut self, rhs: f64) {
                *self = *self $op rhs;
            }
        }
    )*};
}

assign_ops!(AddAssign add_assign +, SubAssign sub_assign -, MulAssign mul_assign *, DivAssign div_assign /);

// a + b;  d/da = 1, d/db = 1
impl<'t> Add for Value<'t> {
    type Output = Value<'t>;
    #[track_caller]
    #[inline]
    fn add(self, rhs: Value<'t>) -> Value<'t> {
        self.binary(rhs, Op::Add, self.value + rhs.value, 1.0, 1.0)
    }
}

// a + c;  d/da = 1
impl<'t> Add<f64> for Value<'t> {
    type Output = Value<'t>;
    #[inline]
    fn add(self, c: f64) -> Value<'t> {
        self.unary(Op::Add, (self.value + c, 1.0))
    }
}

// c + a;  d/da = 1
impl<'t> Add<Value<'t>> for f64 {
    type Output = Value<'t>;
    #[inline]
    fn add(self, a: Value<'t>) -> Value<'t> {
        a.unary(Op::Add, (self + a.value, 1.0))
    }
}

// a - b;  d/da = 1, d/db = -1
impl<'t> Sub for Value<'t> {
    type Output = Value<'t>;
    #[track_caller]
    #[inline]
    fn sub(self, rhs: Value<'t>) -> Value<'t> {
        self.binary(rhs, Op::Sub, self.value - rhs.value, 1.0, -1.0)
    }
}

// a - c;  d/da = 1
impl<'t> Sub<f64> for Value<'t> {
    type Output = Value<'t>;
    #[inline]
    fn sub(self, c: f64) -> Value<'t> {
        self.unary(Op::Sub, (self.value - c, 1.0))
    }
}

// c - a;  d/da = -1
impl<'t> Sub<Value<'t>> for f64 {
    type Output = Value<'t>;
    #[inline]
    fn sub(self, a: Value<'t>) -> Value<'t> {
        a.unary(Op::Sub, (self - a.value, -1.0))
    }
}

// a * b;  d/da = b, d/db = a
impl<'t> Mul for Value<'t> {
    type Output = Value<'t>;
    #[track_caller]
    #[inline]
    fn mul(self, rhs: Value<'t>) -> Value<'t> {
        self.binary(rhs, Op::Mul, self.value * rhs.value, rhs.value, self.value)
    }
}

// a * c;  d/da = c
impl<'t> Mul<f64> for Value<'t> {
    type Output = Value<'t>;
    #[inline]
    fn mul(self, c: f64) -> Value<'t> {
        self.unary(Op::Mul, (self.value * c, c))
    }
}

// c * a;  d/da = c
impl<'t> Mul<Value<'t>> for f64 {
    type Output = Value<'t>;
    #[inline]
    fn mul(self, a: Value<'t>) -> Value<'t> {
        a.unary(Op::Mul, (self * a.value, self))
    }
}

// a / b;  d/da = 1/b, d/db = -a/b^2
impl<'t> Div for Value<'t> {
    type Output = Value<'t>;
    #[track_caller]
    #[inline]
    fn div(self, rhs: Value<'t>) -> Value<'t> {
        let (q, da, db) = div(self.value, rhs.value);
        self.binary(rhs, Op::Div, q, da, db)
    }
}

// a / c;  d/da = 1/c
impl<'t> Div<f64> for Value<'t> {
    type Output = Value<'t>;
    #[inline]
    fn div(self, c: f64) -> Value<'t> {
        let (q, da, _) = div(self.value, c);
        self.unary(Op::Div, (q, da))
    }
}

// c / a;  d/da = -c/a^2
impl<'t> Div<Value<'t>> for f64 {
    type Output = Value<'t>;
    #[inline]
    fn div(self, a: Value<'t>) -> Value<'t> {
        let (q, _, da) = div(self, a.value);
        a.unary_noted(Op::Div, (q, da), self)
    }
}

// -a;  d/da = -1
impl<'t> Neg for Value<'t> {
    type Output = Value<'t>;
    #[inline]
    fn neg(self) -> Value<'t> {
        self.unary(Op::Neg, (-self.value, -1.0))
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
    /// each input is 1. The sum of no values is a node with no inputs holding 0 (its op is
    /// [`Op::Sum`](crate::Op::Sum)).
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
                r.fused.edge(v.index, 1.0);
            }
            r.finish(Op::Sum, s)
        });
        Value::new(self, index, s)
    }

    /// One node for the dot product `a0 b0 + a1 b1 + ...` (accumulated left to right). The
    /// derivative with respect to `ak` is `bk` and, when `b` holds values, with respect to `bk`
    /// it is `ak`.
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
            let mut paired = false;
            for (x, &y) in a.iter().zip(b) {
                r.fused.edge(x.index, y.value());
                if let Some(node) = y.node(self) {
                    r.fused.edge(node, x.value);
                    paired = true;
                }
            }
            let index = r.finish(Op::Dot, d);
            if paired {
                r.note(index, 1.0);
            }
            index
        });
        Value::new(self, index, d)
    }
    /// Records a node from its value and its local partial derivatives, one `(input, d value /
    /// d input)` pair per input: your own op, with the engine doing the chain rule. The same
    /// input listed twice accumulates, as in `x * x`. With no inputs it is a constant leaf.
    ///
    /// # Panics
    ///
    /// If an input is from another tape.
    ///
    /// ```
    /// use tapegrad::{Tape, Value};
    /// // sin as a custom op: value sin(x), local derivative cos(x).
    /// fn my_sin(x: Value<'_>) -> Value<'_> {
    ///     x.tape().custom(x.value().sin(), &[(x, x.value().cos())])
    /// }
    /// let tape = Tape::new();
    /// let x = tape.var(0.5);
    /// assert_eq!(my_sin(x).backward()[x], 0.5f64.cos());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn custom<'t>(&'t self, value: f64, partials: &[(Value<'t>, f64)]) -> Value<'t> {
        for (x, _) in partials {
            self.check_same(x.tape);
        }
        let index = self.with_records(|r| match *partials {
            [] => r.leaves(Op::Custom, [value]),
            [(a, da)] => r.unary(Op::Custom, value, (a.index, da), None),
            [(a, da), (b, db)] => r.binary(Op::Custom, value, (a.index, da), (b.index, db)),
            _ => {
                for &(x, d) in partials {
                    r.fused.edge(x.index, d);
                }
                r.finish(Op::Custom, value)
            }
        });
        Value::new(self, index, value)
    }
}

/// The sum of an iterator of values is one n-ary node (summed left to right, derivative 1 for
/// each input), like [`Tape::sum`].
///
/// # Panics
///
/// An empty iterator has no tape to record on, so its sum panics; use [`Tape::sum`] (whose sum
/// of no values is a leaf holding 0) where the iterator may be empty. Values from two tapes
/// panic as for the operators.
///
/// ```
/// let tape = tapegrad::Tape::new();
/// let xs = tape.vars(&[1.0, 2.0, 3.0]);
/// let total: tapegrad::Value = xs.iter().map(|&x| x * x).sum();
/// assert_eq!(total.value(), 14.0);
/// assert_eq!(total.backward()[xs[2]], 6.0);
/// ```
impl<'t> std::iter::Sum for Value<'t> {
    #[track_caller]
    fn sum<I: Iterator<Item = Value<'t>>>(mut values: I) -> Self {
        let Some(first) = values.next() else {
            panic!("tapegrad: the sum of an empty iterator of values has no tape to record on; use Tape::sum");
        };
        let tape = first.tape;
        // The iterator may record nodes itself, so its items are collected (into the tape's
        // reusable list) before recording.
        let mut inputs = tape.with_records(|r| std::mem::take(&mut r.sum_inputs));
        inputs.clear();
        inputs.push(first.index);
        let mut s = first.value;
        for v in values {
            tape.check_same(v.tape);
            inputs.push(v.index);
            s += v.value;
        }
        let index = tape.with_records(|r| {
            for &x in &inputs {
                r.fused.edge(x, 1.0);
            }
            r.sum_inputs = inputs;
            r.finish(Op::Sum, s)
        });
        Value::new(tape, index, s)
    }
}

impl<'a, 't: 'a> std::iter::Sum<&'a Value<'t>> for Value<'t> {
    #[track_caller]
    fn sum<I: Iterator<Item = &'a Value<'t>>>(values: I) -> Self {
        values.copied().sum()
    }
}
