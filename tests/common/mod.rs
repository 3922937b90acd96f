//! Shared helpers for the property suites: proptest configuration, a random expression DAG and
//! its interpreter, and forward-mode dual numbers (an oracle that uses no tape).
//!
//! Each suite includes this with `mod common;` and uses a part of it.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;
use std::fmt;
use tapegrad::{Activation, Tape, Value};

// ---------------------------------------------------------------------------------------------
// Configuration.
// ---------------------------------------------------------------------------------------------

/// proptest configuration for a suite: `PROPTEST_CASES` if set (proptest reads it), otherwise
/// `default_cases`, small enough that `cargo test` stays quick in debug. Failures are persisted
/// under `proptest-regressions/<file>.txt` (committed), named explicitly so proptest does not
/// warn about source files in `tests/`.
/// Any of the four activations.
pub fn activation() -> impl Strategy<Value = Activation> {
    prop_oneof![
        Just(Activation::Sigmoid),
        Just(Activation::Tanh),
        Just(Activation::Relu),
        Just(Activation::Identity),
    ]
}

pub fn config(file: &'static str, default_cases: u32) -> ProptestConfig {
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default().cases
    } else {
        default_cases
    };
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        // Suites draw a case again (prop_assume) where its check would say nothing, about one
        // in four at most; proptest's default of 1024 rejects would cap a deep run's cases.
        max_global_rejects: cases.saturating_mul(2).max(1024),
        ..ProptestConfig::default()
    }
}

/// `|a - b| <= rel * scale`, with a message naming both.
pub fn close(a: f64, b: f64, rel: f64, scale: f64) -> Result<(), TestCaseError> {
    if (a - b).abs() <= rel * scale {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!(
            "{a:e} and {b:e} differ by {:e}, more than {rel:e} * {scale:e}",
            (a - b).abs()
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// Something the expression interpreter can run on: f64, tape values, dual numbers.
// ---------------------------------------------------------------------------------------------

/// The operations of the engine, as an interface the interpreter can run on several number
/// types. `Value` maps each to the engine's op; `f64` and [`Dual`] are independent.
pub trait Scalar: Copy {
    fn val(self) -> f64;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn add_c(self, c: f64) -> Self;
    fn c_add(c: f64, x: Self) -> Self;
    fn sub_c(self, c: f64) -> Self;
    fn c_sub(c: f64, x: Self) -> Self;
    fn mul_c(self, c: f64) -> Self;
    fn c_mul(c: f64, x: Self) -> Self;
    fn div_c(self, c: f64) -> Self;
    fn c_div(c: f64, x: Self) -> Self;
    fn neg(self) -> Self;
    fn sigmoid(self) -> Self;
    fn tanh(self) -> Self;
    fn relu(self) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn powf(self, p: f64) -> Self;
    fn powi(self, n: i32) -> Self;
    fn sum(xs: &[Self]) -> Self;
    fn dot(a: &[Self], b: &[Self]) -> Self;
    fn dot_c(a: &[Self], b: &[f64]) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    fn square(self) -> Self;
    fn max(self, o: Self) -> Self;
    fn min(self, o: Self) -> Self;
    fn max_c(self, c: f64) -> Self;
    fn min_c(self, c: f64) -> Self;
    /// The same value with no derivative. `frozen` is the value this node had at the
    /// expression's point, for the gradcheck suite (see [`Expr::eval_frozen`]); `None` elsewhere.
    fn detach(self, frozen: Option<f64>) -> Self;
    /// `sin` as a one-input custom op (`Tape::custom` on a tape).
    fn custom_sin(self) -> Self;
    /// `a * b` as a two-input custom op (the same input twice accumulates).
    fn custom_mul(self, o: Self) -> Self;
    /// The product of 3 or more values as one n-ary custom op.
    fn custom_product(xs: &[Self]) -> Self;
    /// The sum of the values through `Iterator::sum`, by value or by reference.
    fn iter_sum(xs: &[Self], by_ref: bool) -> Self {
        let _ = by_ref;
        Self::sum(xs)
    }
    // `a op= b`: the plain op, except on the tape, where it goes through the assign operator.
    fn add_assign(self, o: Self) -> Self {
        self.add(o)
    }
    fn sub_assign(self, o: Self) -> Self {
        self.sub(o)
    }
    fn mul_assign(self, o: Self) -> Self {
        self.mul(o)
    }
    fn div_assign(self, o: Self) -> Self {
        self.div(o)
    }
    fn add_assign_c(self, c: f64) -> Self {
        self.add_c(c)
    }
    fn sub_assign_c(self, c: f64) -> Self {
        self.sub_c(c)
    }
    fn mul_assign_c(self, c: f64) -> Self {
        self.mul_c(c)
    }
    fn div_assign_c(self, c: f64) -> Self {
        self.div_c(c)
    }
}

impl Scalar for f64 {
    fn val(self) -> f64 {
        self
    }
    fn add(self, o: Self) -> Self {
        self + o
    }
    fn sub(self, o: Self) -> Self {
        self - o
    }
    fn mul(self, o: Self) -> Self {
        self * o
    }
    fn div(self, o: Self) -> Self {
        self / o
    }
    fn add_c(self, c: f64) -> Self {
        self + c
    }
    fn c_add(c: f64, x: Self) -> Self {
        c + x
    }
    fn sub_c(self, c: f64) -> Self {
        self - c
    }
    fn c_sub(c: f64, x: Self) -> Self {
        c - x
    }
    fn mul_c(self, c: f64) -> Self {
        self * c
    }
    fn c_mul(c: f64, x: Self) -> Self {
        c * x
    }
    fn div_c(self, c: f64) -> Self {
        self / c
    }
    fn c_div(c: f64, x: Self) -> Self {
        c / x
    }
    fn neg(self) -> Self {
        -self
    }
    fn sigmoid(self) -> Self {
        1.0 / (1.0 + (-self).exp())
    }
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    fn relu(self) -> Self {
        if self > 0.0 {
            self
        } else {
            0.0
        }
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn powf(self, p: f64) -> Self {
        f64::powf(self, p)
    }
    fn powi(self, n: i32) -> Self {
        f64::powi(self, n)
    }
    fn sum(xs: &[Self]) -> Self {
        xs.iter().sum()
    }
    fn dot(a: &[Self], b: &[Self]) -> Self {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }
    fn dot_c(a: &[Self], b: &[f64]) -> Self {
        Self::dot(a, b)
    }
    fn sin(self) -> Self {
        f64::sin(self)
    }
    fn cos(self) -> Self {
        f64::cos(self)
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn abs(self) -> Self {
        f64::abs(self)
    }
    fn square(self) -> Self {
        self * self
    }
    fn max(self, o: Self) -> Self {
        f64::max(self, o)
    }
    fn min(self, o: Self) -> Self {
        f64::min(self, o)
    }
    fn max_c(self, c: f64) -> Self {
        f64::max(self, c)
    }
    fn min_c(self, c: f64) -> Self {
        f64::min(self, c)
    }
    fn detach(self, frozen: Option<f64>) -> Self {
        frozen.unwrap_or(self)
    }
    fn custom_sin(self) -> Self {
        f64::sin(self)
    }
    fn custom_mul(self, o: Self) -> Self {
        self * o
    }
    fn custom_product(xs: &[Self]) -> Self {
        xs.iter().product()
    }
}

impl<'t> Scalar for Value<'t> {
    fn val(self) -> f64 {
        self.value()
    }
    fn add(self, o: Self) -> Self {
        self + o
    }
    fn sub(self, o: Self) -> Self {
        self - o
    }
    fn mul(self, o: Self) -> Self {
        self * o
    }
    fn div(self, o: Self) -> Self {
        self / o
    }
    fn add_c(self, c: f64) -> Self {
        self + c
    }
    fn c_add(c: f64, x: Self) -> Self {
        c + x
    }
    fn sub_c(self, c: f64) -> Self {
        self - c
    }
    fn c_sub(c: f64, x: Self) -> Self {
        c - x
    }
    fn mul_c(self, c: f64) -> Self {
        self * c
    }
    fn c_mul(c: f64, x: Self) -> Self {
        c * x
    }
    fn div_c(self, c: f64) -> Self {
        self / c
    }
    fn c_div(c: f64, x: Self) -> Self {
        c / x
    }
    fn neg(self) -> Self {
        -self
    }
    fn sigmoid(self) -> Self {
        Value::sigmoid(self)
    }
    fn tanh(self) -> Self {
        Value::tanh(self)
    }
    fn relu(self) -> Self {
        Value::relu(self)
    }
    fn exp(self) -> Self {
        Value::exp(self)
    }
    fn ln(self) -> Self {
        Value::ln(self)
    }
    fn powf(self, p: f64) -> Self {
        Value::powf(self, p)
    }
    fn powi(self, n: i32) -> Self {
        Value::powi(self, n)
    }
    fn sum(xs: &[Self]) -> Self {
        xs[0].tape().sum(xs)
    }
    fn dot(a: &[Self], b: &[Self]) -> Self {
        a[0].tape().dot(a, b)
    }
    fn dot_c(a: &[Self], b: &[f64]) -> Self {
        a[0].tape().dot(a, b)
    }
    fn sin(self) -> Self {
        Value::sin(self)
    }
    fn cos(self) -> Self {
        Value::cos(self)
    }
    fn sqrt(self) -> Self {
        Value::sqrt(self)
    }
    fn abs(self) -> Self {
        Value::abs(self)
    }
    fn square(self) -> Self {
        Value::square(self)
    }
    fn max(self, o: Self) -> Self {
        Value::max(self, o)
    }
    fn min(self, o: Self) -> Self {
        Value::min(self, o)
    }
    fn max_c(self, c: f64) -> Self {
        Value::max(self, c)
    }
    fn min_c(self, c: f64) -> Self {
        Value::min(self, c)
    }
    fn detach(self, frozen: Option<f64>) -> Self {
        match frozen {
            // Away from the point (a finite-difference probe): the value detach had at the
            // point, as a constant (a custom op of no inputs is a constant leaf).
            Some(v) if v.to_bits() != self.value().to_bits() => self.tape().custom(v, &[]),
            _ => Value::detach(self),
        }
    }
    fn custom_sin(self) -> Self {
        let x = self.value();
        self.tape().custom(x.sin(), &[(self, x.cos())])
    }
    fn custom_mul(self, o: Self) -> Self {
        let (a, b) = (self.value(), o.value());
        self.tape().custom(a * b, &[(self, b), (o, a)])
    }
    fn custom_product(xs: &[Self]) -> Self {
        // d/dxk of x0 x1 ... xn is the product of the others (no division, so zeros are fine).
        let value = xs.iter().map(|x| x.value()).product();
        let partials: Vec<(Value<'t>, f64)> = (0..xs.len())
            .map(|k| {
                let others = (0..xs.len()).filter(|&j| j != k);
                (xs[k], others.map(|j| xs[j].value()).product())
            })
            .collect();
        xs[0].tape().custom(value, &partials)
    }
    fn iter_sum(xs: &[Self], by_ref: bool) -> Self {
        if by_ref {
            xs.iter().sum()
        } else {
            xs.iter().copied().sum()
        }
    }
    fn add_assign(mut self, o: Self) -> Self {
        self += o;
        self
    }
    fn sub_assign(mut self, o: Self) -> Self {
        self -= o;
        self
    }
    fn mul_assign(mut self, o: Self) -> Self {
        self *= o;
        self
    }
    fn div_assign(mut self, o: Self) -> Self {
        self /= o;
        self
    }
    fn add_assign_c(mut self, c: f64) -> Self {
        self += c;
        self
    }
    fn sub_assign_c(mut self, c: f64) -> Self {
        self -= c;
        self
    }
    fn mul_assign_c(mut self, c: f64) -> Self {
        self *= c;
        self
    }
    fn div_assign_c(mut self, c: f64) -> Self {
        self /= c;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Forward-mode dual numbers: value, derivative along one input, and a magnitude.
// ---------------------------------------------------------------------------------------------

/// A dual number `v + d ε` (ε² = 0), carried through every op by the chain rule, forward: an
/// exact derivative with no tape. `m` carries the same sums with every term's absolute value
/// (`m = Σ |∂| m_parent`): the size of the terms that were added, which bounds the rounding
/// error of `d` (and of the tape's reverse sum of the same terms) when they cancel.
///
/// Derivative formulas here are written independently of `src/engine/ops.rs`:
/// `tanh' = 1 / cosh²`, `sigmoid' = e^-|x| / (1 + e^-|x|)²`, `(a/b)' = (a' b - a b') / b²`,
/// `sqrt' = sqrt(x) / (2x)` (from `r² = x`), `|x|' = signum(x)`, `(x²)' = x' x + x x'` (the
/// product rule), `cos' = sin(-x)`; `max`/`min` pass the chosen side's dual through whole;
/// `detach` is a constant (derivative 0); the custom ops are the duals of the ops they stand
/// for (`sin`, `*`, a chain of `*`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dual {
    pub v: f64,
    pub d: f64,
    pub m: f64,
}

impl Dual {
    pub fn constant(v: f64) -> Dual {
        Dual { v, d: 0.0, m: 0.0 }
    }
    pub fn variable(v: f64) -> Dual {
        Dual { v, d: 1.0, m: 1.0 }
    }
    /// Applies a function of one argument with value `v` and derivative `dv`.
    fn chain(self, v: f64, dv: f64) -> Dual {
        Dual {
            v,
            d: dv * self.d,
            m: dv.abs() * self.m,
        }
    }
}

impl Scalar for Dual {
    fn val(self) -> f64 {
        self.v
    }
    fn add(self, o: Self) -> Self {
        Dual {
            v: self.v + o.v,
            d: self.d + o.d,
            m: self.m + o.m,
        }
    }
    fn sub(self, o: Self) -> Self {
        Dual {
            v: self.v - o.v,
            d: self.d - o.d,
            m: self.m + o.m,
        }
    }
    fn mul(self, o: Self) -> Self {
        // (a b)' = a' b + a b'
        Dual {
            v: self.v * o.v,
            d: self.d * o.v + self.v * o.d,
            m: self.m * o.v.abs() + self.v.abs() * o.m,
        }
    }
    fn div(self, o: Self) -> Self {
        // (a / b)' = (a' b - a b') / b^2
        let b2 = o.v * o.v;
        Dual {
            v: self.v / o.v,
            d: (self.d * o.v - self.v * o.d) / b2,
            m: (self.m * o.v.abs() + self.v.abs() * o.m) / b2,
        }
    }
    fn add_c(self, c: f64) -> Self {
        Dual {
            v: self.v + c,
            ..self
        }
    }
    fn c_add(c: f64, x: Self) -> Self {
        Dual { v: c + x.v, ..x }
    }
    fn sub_c(self, c: f64) -> Self {
        Dual {
            v: self.v - c,
            ..self
        }
    }
    fn c_sub(c: f64, x: Self) -> Self {
        x.chain(c - x.v, -1.0)
    }
    fn mul_c(self, c: f64) -> Self {
        self.chain(self.v * c, c)
    }
    fn c_mul(c: f64, x: Self) -> Self {
        x.chain(c * x.v, c)
    }
    fn div_c(self, c: f64) -> Self {
        self.chain(self.v / c, 1.0 / c)
    }
    fn c_div(c: f64, x: Self) -> Self {
        // (c / x)' = -c x' / x^2
        x.chain(c / x.v, -c / (x.v * x.v))
    }
    fn neg(self) -> Self {
        self.chain(-self.v, -1.0)
    }
    fn sigmoid(self) -> Self {
        let e = (-self.v.abs()).exp();
        self.chain(1.0 / (1.0 + (-self.v).exp()), e / ((1.0 + e) * (1.0 + e)))
    }
    fn tanh(self) -> Self {
        let sech = 1.0 / self.v.cosh();
        self.chain(self.v.tanh(), sech * sech)
    }
    fn relu(self) -> Self {
        if self.v > 0.0 {
            self.chain(self.v, 1.0)
        } else {
            self.chain(0.0, 0.0)
        }
    }
    fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }
    fn ln(self) -> Self {
        self.chain(self.v.ln(), 1.0 / self.v)
    }
    fn powf(self, p: f64) -> Self {
        // d/dx x^p = p x^p / x   (x > 0 in the generated expressions)
        let y = self.v.powf(p);
        self.chain(y, p * y / self.v)
    }
    fn powi(self, n: i32) -> Self {
        let mut d = 0.0;
        if n != 0 {
            // n x^(n-1), the power by repeated multiplication
            let base = if n > 1 { self.v } else { 1.0 / self.v };
            d = f64::from(n) * (0..(n - 1).abs()).fold(1.0, |acc, _| acc * base);
        }
        self.chain(self.v.powi(n), d)
    }
    fn sum(xs: &[Self]) -> Self {
        xs.iter()
            .copied()
            .reduce(Scalar::add)
            .expect("sum of at least one value")
    }
    fn dot(a: &[Self], b: &[Self]) -> Self {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| x.mul(y))
            .reduce(Scalar::add)
            .expect("dot of at least one pair")
    }
    fn dot_c(a: &[Self], b: &[f64]) -> Self {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| x.mul_c(y))
            .reduce(Scalar::add)
            .expect("dot of at least one pair")
    }
    fn sin(self) -> Self {
        self.chain(self.v.sin(), self.v.cos())
    }
    fn cos(self) -> Self {
        // cos' = -sin, written as sin(-x)
        self.chain(self.v.cos(), (-self.v).sin())
    }
    fn sqrt(self) -> Self {
        // r = sqrt(x): r^2 = x, so 2 r r' = 1 and r' = r / (2 x)   (x >= 0.05 here)
        let r = self.v.sqrt();
        self.chain(r, r / (2.0 * self.v))
    }
    fn abs(self) -> Self {
        // |x| = sign(x) x; kinks are kept away by the domain filter
        self.chain(self.v.abs(), self.v.signum())
    }
    fn square(self) -> Self {
        self.mul(self)
    }
    fn max(self, o: Self) -> Self {
        // The larger side, whole; a tie (only of a node with itself here) averages both.
        if self.v > o.v {
            self
        } else if o.v > self.v {
            o
        } else {
            Dual {
                v: self.v,
                d: (self.d + o.d) / 2.0,
                m: (self.m + o.m) / 2.0,
            }
        }
    }
    fn min(self, o: Self) -> Self {
        if self.v < o.v {
            self
        } else if o.v < self.v {
            o
        } else {
            Dual {
                v: self.v,
                d: (self.d + o.d) / 2.0,
                m: (self.m + o.m) / 2.0,
            }
        }
    }
    fn max_c(self, c: f64) -> Self {
        self.max(Dual::constant(c))
    }
    fn min_c(self, c: f64) -> Self {
        self.min(Dual::constant(c))
    }
    fn detach(self, frozen: Option<f64>) -> Self {
        Dual::constant(frozen.unwrap_or(self.v))
    }
    fn custom_sin(self) -> Self {
        self.sin()
    }
    fn custom_mul(self, o: Self) -> Self {
        self.mul(o)
    }
    fn custom_product(xs: &[Self]) -> Self {
        xs.iter()
            .copied()
            .reduce(Scalar::mul)
            .expect("product of at least one value")
    }
}

// ---------------------------------------------------------------------------------------------
// Random expression DAGs.
// ---------------------------------------------------------------------------------------------

/// A unary op, with its constant where it has one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unary {
    Neg,
    Sigmoid,
    Tanh,
    Relu,
    Exp,
    Ln,
    Powf(f64),
    Powi(i32),
    AddC(f64),
    CAdd(f64),
    SubC(f64),
    CSub(f64),
    MulC(f64),
    CMul(f64),
    DivC(f64),
    CDiv(f64),
    Sin,
    Cos,
    Sqrt,
    Abs,
    Square,
    MaxC(f64),
    MinC(f64),
    Detach,
    /// `sin` recorded with `Tape::custom` (one input).
    CustomSin,
    AddAssignC(f64),
    SubAssignC(f64),
    MulAssignC(f64),
    DivAssignC(f64),
}

/// A binary op between two earlier nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
    /// `a * b` recorded with `Tape::custom` (two inputs, possibly the same node).
    CustomMul,
    AddAssign,
    SubAssign,
    MulAssign,
    DivAssign,
}

/// One node of an expression; `Index`es pick earlier nodes (inputs first), so the same node
/// can be used by several later ones and a failure shrinks to a small graph such as `x0 + x0`.
#[derive(Clone, Debug)]
pub enum Node {
    Unary(Unary, Index),
    Binary(Binary, Index, Index),
    Sum(Vec<Index>),
    Dot(Vec<(Index, Index)>),
    DotC(Vec<(Index, f64)>),
    /// `Iterator::sum` over the values, by reference (`Sum<&Value>`) or by value.
    IterSum(Vec<Index>, bool),
    /// The product of 3 or more values as one n-ary `Tape::custom` node.
    CustomProduct(Vec<Index>),
}

/// An expression over `point.len()` inputs: the nodes in order; the last one is the output
/// (the first input when there are no nodes).
#[derive(Clone)]
pub struct Expr {
    pub point: Vec<f64>,
    pub nodes: Vec<Node>,
}

fn constant() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(1.0),
        Just(-1.0),
        Just(0.5),
        Just(2.0),
        (-3.0..3.0f64).prop_filter("constant away from 0", |c| c.abs() > 0.1),
    ]
}

fn unary() -> impl Strategy<Value = Unary> {
    prop_oneof![
        Just(Unary::Neg),
        Just(Unary::Sigmoid),
        Just(Unary::Tanh),
        Just(Unary::Relu),
        Just(Unary::Exp),
        Just(Unary::Ln),
        (-2.5..2.5f64).prop_map(Unary::Powf),
        (-3..=4i32).prop_map(Unary::Powi),
        constant().prop_map(Unary::AddC),
        constant().prop_map(Unary::CAdd),
        constant().prop_map(Unary::SubC),
        constant().prop_map(Unary::CSub),
        constant().prop_map(Unary::MulC),
        constant().prop_map(Unary::CMul),
        constant().prop_map(Unary::DivC),
        constant().prop_map(Unary::CDiv),
        Just(Unary::Sin),
        Just(Unary::Cos),
        Just(Unary::Sqrt),
        Just(Unary::Abs),
        Just(Unary::Square),
        constant().prop_map(Unary::MaxC),
        constant().prop_map(Unary::MinC),
        Just(Unary::Detach),
        Just(Unary::CustomSin),
        constant().prop_map(Unary::AddAssignC),
        constant().prop_map(Unary::SubAssignC),
        constant().prop_map(Unary::MulAssignC),
        constant().prop_map(Unary::DivAssignC),
    ]
}

fn binary() -> impl Strategy<Value = Binary> {
    prop_oneof![
        Just(Binary::Add),
        Just(Binary::Sub),
        Just(Binary::Mul),
        Just(Binary::Div),
        Just(Binary::Max),
        Just(Binary::Min),
        Just(Binary::CustomMul),
        Just(Binary::AddAssign),
        Just(Binary::SubAssign),
        Just(Binary::MulAssign),
        Just(Binary::DivAssign),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        5 => (unary(), any::<Index>()).prop_map(|(u, a)| Node::Unary(u, a)),
        4 => (binary(), any::<Index>(), any::<Index>()).prop_map(|(b, x, y)| Node::Binary(b, x, y)),
        1 => prop::collection::vec(any::<Index>(), 1..4).prop_map(Node::Sum),
        1 => prop::collection::vec((any::<Index>(), any::<Index>()), 1..4).prop_map(Node::Dot),
        1 => prop::collection::vec((any::<Index>(), constant()), 1..4).prop_map(Node::DotC),
        1 => (prop::collection::vec(any::<Index>(), 1..4), any::<bool>())
            .prop_map(|(xs, by_ref)| Node::IterSum(xs, by_ref)),
        1 => prop::collection::vec(any::<Index>(), 3..5).prop_map(Node::CustomProduct),
    ]
}

/// Random expressions over 1 to 3 inputs in [-2, 2] with up to `max_nodes` nodes, filtered to
/// those whose every op is used inside its domain with a margin (see [`Expr::domain_ok`]).
pub fn expr(max_nodes: usize) -> impl Strategy<Value = Expr> {
    (
        prop::collection::vec(-2.0..2.0f64, 1..=3),
        prop::collection::vec(node(), 1..=max_nodes),
    )
        .prop_map(|(point, nodes)| Expr { point, nodes })
        .prop_filter("ops used inside their domains", Expr::domain_ok)
}

impl Expr {
    /// Runs the expression on `inputs` (one per input) in any [`Scalar`]; returns every node's
    /// result, inputs first.
    pub fn eval_all<S: Scalar>(&self, inputs: &[S]) -> Vec<S> {
        self.eval_all_with(inputs, None)
    }

    /// [`Expr::eval_all`], with each `detach` holding the value in `frozen` (every node's plain
    /// value at `self.point`, inputs first) when given.
    fn eval_all_with<S: Scalar>(&self, inputs: &[S], frozen: Option<&[f64]>) -> Vec<S> {
        let mut vals: Vec<S> = inputs.to_vec();
        for node in &self.nodes {
            let n = vals.len();
            let at = |i: &Index| vals[i.index(n)];
            let all = |xs: &[Index]| xs.iter().map(at).collect::<Vec<_>>();
            let v = match node {
                Node::Unary(u, a) => {
                    let a = at(a);
                    match *u {
                        Unary::Neg => a.neg(),
                        Unary::Sigmoid => a.sigmoid(),
                        Unary::Tanh => a.tanh(),
                        Unary::Relu => a.relu(),
                        Unary::Exp => a.exp(),
                        Unary::Ln => a.ln(),
                        Unary::Powf(p) => a.powf(p),
                        Unary::Powi(k) => a.powi(k),
                        Unary::AddC(c) => a.add_c(c),
                        Unary::CAdd(c) => S::c_add(c, a),
                        Unary::SubC(c) => a.sub_c(c),
                        Unary::CSub(c) => S::c_sub(c, a),
                        Unary::MulC(c) => a.mul_c(c),
                        Unary::CMul(c) => S::c_mul(c, a),
                        Unary::DivC(c) => a.div_c(c),
                        Unary::CDiv(c) => S::c_div(c, a),
                        Unary::Sin => a.sin(),
                        Unary::Cos => a.cos(),
                        Unary::Sqrt => a.sqrt(),
                        Unary::Abs => a.abs(),
                        Unary::Square => a.square(),
                        Unary::MaxC(c) => a.max_c(c),
                        Unary::MinC(c) => a.min_c(c),
                        Unary::Detach => a.detach(frozen.map(|f| f[n])),
                        Unary::CustomSin => a.custom_sin(),
                        Unary::AddAssignC(c) => a.add_assign_c(c),
                        Unary::SubAssignC(c) => a.sub_assign_c(c),
                        Unary::MulAssignC(c) => a.mul_assign_c(c),
                        Unary::DivAssignC(c) => a.div_assign_c(c),
                    }
                }
                Node::Binary(b, x, y) => {
                    let (x, y) = (at(x), at(y));
                    match b {
                        Binary::Add => x.add(y),
                        Binary::Sub => x.sub(y),
                        Binary::Mul => x.mul(y),
                        Binary::Div => x.div(y),
                        Binary::Max => x.max(y),
                        Binary::Min => x.min(y),
                        Binary::CustomMul => x.custom_mul(y),
                        Binary::AddAssign => x.add_assign(y),
                        Binary::SubAssign => x.sub_assign(y),
                        Binary::MulAssign => x.mul_assign(y),
                        Binary::DivAssign => x.div_assign(y),
                    }
                }
                Node::Sum(xs) => S::sum(&all(xs)),
                Node::Dot(pairs) => {
                    let a: Vec<S> = pairs.iter().map(|(i, _)| at(i)).collect();
                    let b: Vec<S> = pairs.iter().map(|(_, j)| at(j)).collect();
                    S::dot(&a, &b)
                }
                Node::DotC(pairs) => {
                    let a: Vec<S> = pairs.iter().map(|(i, _)| at(i)).collect();
                    let b: Vec<f64> = pairs.iter().map(|&(_, c)| c).collect();
                    S::dot_c(&a, &b)
                }
                Node::IterSum(xs, by_ref) => S::iter_sum(&all(xs), *by_ref),
                Node::CustomProduct(xs) => S::custom_product(&all(xs)),
            };
            vals.push(v);
        }
        vals
    }

    /// The output of the expression.
    pub fn eval<S: Scalar>(&self, inputs: &[S]) -> S {
        *self.eval_all(inputs).last().expect("at least one input")
    }

    /// Records the expression on the inputs' tape.
    pub fn on_tape<'t>(&self, inputs: &[Value<'t>]) -> Value<'t> {
        self.eval(inputs)
    }

    /// Records the expression with every `detach` frozen at its value at `self.point`: at the
    /// point itself this is [`Expr::on_tape`] (each `detach` is a real `Value::detach`), and
    /// anywhere else each detached node is a constant holding that value.
    ///
    /// This is what the gradient of an expression with `detach` means: the derivative with the
    /// detached subexpressions held constant. A finite difference of [`Expr::on_tape`] would
    /// instead see `detach` as the identity and disagree with the tape by design; a finite
    /// difference of this function is the right oracle, so the gradcheck suite keeps `detach`.
    pub fn on_tape_frozen<'t>(&self, inputs: &[Value<'t>]) -> Value<'t> {
        let frozen = self.eval_all(&self.point);
        *self
            .eval_all_with(inputs, Some(&frozen))
            .last()
            .expect("at least one input")
    }

    /// The expression at `point` as plain `f64`.
    pub fn at(&self, point: &[f64]) -> f64 {
        self.eval(point)
    }

    /// The inputs as dual numbers, differentiating along input `k`.
    pub fn dual_inputs(&self, k: usize) -> Vec<Dual> {
        let seed = |(i, &v): (usize, &f64)| {
            if i == k {
                Dual::variable(v)
            } else {
                Dual::constant(v)
            }
        };
        self.point.iter().enumerate().map(seed).collect()
    }

    /// The derivative of the output with respect to input `k`, by dual numbers.
    pub fn dual(&self, k: usize) -> Dual {
        self.eval(&self.dual_inputs(k))
    }

    /// Whether every op at `self.point` is used where it is smooth and well conditioned enough
    /// for a finite difference: `ln`, `powf`, `sqrt` and negative `powi` on values >= 0.05,
    /// divisors of size >= 0.05, `relu` and `abs` at least 0.01 from their kinks, `max` and
    /// `min` at least 0.01 from a tie (or of a node with itself, which is smooth), `sin` and
    /// `cos` of arguments within +-10, every intermediate of size <= 1e3.
    pub fn domain_ok(&self) -> bool {
        let vals = self.eval_all(&self.point);
        let n0 = self.point.len();
        let ok_pos = |v: f64| v >= 0.05;
        let ok_div = |v: f64| v.abs() >= 0.05;
        let ok_kink = |v: f64| v.abs() >= 0.01;
        // sin(g(x)) has third derivative ~ g'^3; past a few turns a steep g makes it oscillate
        // faster than a finite-difference step can follow.
        let ok_angle = |v: f64| v.abs() <= 10.0;
        for (j, node) in self.nodes.iter().enumerate() {
            let n = n0 + j;
            let at = |i: &Index| vals[i.index(n)];
            let fine = match node {
                Node::Unary(u, a) => {
                    let a = at(a);
                    match *u {
                        Unary::Ln | Unary::Powf(_) | Unary::Sqrt => ok_pos(a),
                        Unary::Powi(k) if k < 0 => ok_div(a),
                        Unary::CDiv(_) => ok_div(a),
                        Unary::Relu | Unary::Abs => ok_kink(a),
                        Unary::Sin | Unary::Cos | Unary::CustomSin => ok_angle(a),
                        Unary::MaxC(c) | Unary::MinC(c) => ok_kink(a - c),
                        _ => true,
                    }
                }
                Node::Binary(Binary::Div | Binary::DivAssign, _, y) => ok_div(at(y)),
                Node::Binary(Binary::Max | Binary::Min, x, y) => {
                    x.index(n) == y.index(n) || ok_kink(at(x) - at(y))
                }
                _ => true,
            };
            if !fine || !vals[n].is_finite() || vals[n].abs() > 1e3 {
                return false;
            }
        }
        true
    }

    /// The same expression with every assign op, iterator sum and one- or two-input custom op
    /// replaced by the built-in op it stands for (`a += b` by `a + b`, `iter().sum()` by
    /// `Tape::sum`, the custom `sin` by `sin`, the custom `a * b` by `*`). The custom product of 3
    /// or more inputs has no built-in twin and stays.
    pub fn desugared(&self) -> Expr {
        let unary = |u: Unary| match u {
            Unary::AddAssignC(c) => Unary::AddC(c),
            Unary::SubAssignC(c) => Unary::SubC(c),
            Unary::MulAssignC(c) => Unary::MulC(c),
            Unary::DivAssignC(c) => Unary::DivC(c),
            Unary::CustomSin => Unary::Sin,
            u => u,
        };
        let binary = |b: Binary| match b {
            Binary::AddAssign => Binary::Add,
            Binary::SubAssign => Binary::Sub,
            Binary::MulAssign => Binary::Mul,
            Binary::DivAssign => Binary::Div,
            Binary::CustomMul => Binary::Mul,
            b => b,
        };
        let nodes = self
            .nodes
            .iter()
            .map(|node| match node {
                Node::Unary(u, a) => Node::Unary(unary(*u), *a),
                Node::Binary(b, x, y) => Node::Binary(binary(*b), *x, *y),
                Node::IterSum(xs, _) => Node::Sum(xs.clone()),
                other => other.clone(),
            })
            .collect();
        Expr {
            point: self.point.clone(),
            nodes,
        }
    }
}

impl fmt::Debug for Expr {
    /// Prints the expression as a little program, e.g. `x0 = 1.5; n1 = x0 + x0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |i: usize| {
            if i < self.point.len() {
                format!("x{i}")
            } else {
                format!("n{i}")
            }
        };
        for (i, x) in self.point.iter().enumerate() {
            write!(f, "x{i} = {x:?}; ")?;
        }
        let live = self.live();
        let dead = live.iter().filter(|&&l| !l).count();
        for (j, node) in self.nodes.iter().enumerate() {
            let n = self.point.len() + j;
            if !live[j] {
                continue;
            }
            let r = |i: &Index| name(i.index(n));
            let list = |xs: &[Index]| xs.iter().map(r).collect::<Vec<_>>().join(", ");
            let rhs = match node {
                Node::Unary(u, a) => {
                    let a = r(a);
                    match u {
                        Unary::Neg => format!("-{a}"),
                        Unary::Sigmoid => format!("{a}.sigmoid()"),
                        Unary::Tanh => format!("{a}.tanh()"),
                        Unary::Relu => format!("{a}.relu()"),
                        Unary::Exp => format!("{a}.exp()"),
                        Unary::Ln => format!("{a}.ln()"),
                        Unary::Powf(p) => format!("{a}.powf({p:?})"),
                        Unary::Powi(k) => format!("{a}.powi({k})"),
                        Unary::AddC(c) => format!("{a} + {c:?}"),
                        Unary::CAdd(c) => format!("{c:?} + {a}"),
                        Unary::SubC(c) => format!("{a} - {c:?}"),
                        Unary::CSub(c) => format!("{c:?} - {a}"),
                        Unary::MulC(c) => format!("{a} * {c:?}"),
                        Unary::CMul(c) => format!("{c:?} * {a}"),
                        Unary::DivC(c) => format!("{a} / {c:?}"),
                        Unary::CDiv(c) => format!("{c:?} / {a}"),
                        Unary::Sin => format!("{a}.sin()"),
                        Unary::Cos => format!("{a}.cos()"),
                        Unary::Sqrt => format!("{a}.sqrt()"),
                        Unary::Abs => format!("{a}.abs()"),
                        Unary::Square => format!("{a}.square()"),
                        Unary::MaxC(c) => format!("{a}.max({c:?})"),
                        Unary::MinC(c) => format!("{a}.min({c:?})"),
                        Unary::Detach => format!("{a}.detach()"),
                        Unary::CustomSin => format!("custom_sin({a})"),
                        Unary::AddAssignC(c) => format!("{{{a} += {c:?}}}"),
                        Unary::SubAssignC(c) => format!("{{{a} -= {c:?}}}"),
                        Unary::MulAssignC(c) => format!("{{{a} *= {c:?}}}"),
                        Unary::DivAssignC(c) => format!("{{{a} /= {c:?}}}"),
                    }
                }
                Node::Binary(b, x, y) => {
                    let (x, y) = (r(x), r(y));
                    match b {
                        Binary::Add => format!("{x} + {y}"),
                        Binary::Sub => format!("{x} - {y}"),
                        Binary::Mul => format!("{x} * {y}"),
                        Binary::Div => format!("{x} / {y}"),
                        Binary::Max => format!("{x}.max({y})"),
                        Binary::Min => format!("{x}.min({y})"),
                        Binary::CustomMul => format!("custom_mul({x}, {y})"),
                        Binary::AddAssign => format!("{{{x} += {y}}}"),
                        Binary::SubAssign => format!("{{{x} -= {y}}}"),
                        Binary::MulAssign => format!("{{{x} *= {y}}}"),
                        Binary::DivAssign => format!("{{{x} /= {y}}}"),
                    }
                }
                Node::Sum(xs) => format!("sum[{}]", list(xs)),
                Node::Dot(pairs) => {
                    let a: Vec<String> = pairs.iter().map(|(i, _)| r(i)).collect();
                    let b: Vec<String> = pairs.iter().map(|(_, j)| r(j)).collect();
                    format!("dot[{}][{}]", a.join(", "), b.join(", "))
                }
                Node::DotC(pairs) => {
                    let a: Vec<String> = pairs.iter().map(|(i, _)| r(i)).collect();
                    let b: Vec<String> = pairs.iter().map(|(_, c)| format!("{c:?}")).collect();
                    format!("dot[{}][{}]", a.join(", "), b.join(", "))
                }
                Node::IterSum(xs, true) => format!("[{}].iter().sum()", list(xs)),
                Node::IterSum(xs, false) => format!("[{}].into_iter().sum()", list(xs)),
                Node::CustomProduct(xs) => format!("custom_product[{}]", list(xs)),
            };
            write!(f, "n{n} = {rhs}; ")?;
        }
        if dead > 0 {
            write!(f, "({dead} nodes that do not reach the output not shown)")?;
        }
        Ok(())
    }
}

impl Expr {
    /// For each node, whether the output depends on it (the output itself included).
    pub fn live(&self) -> Vec<bool> {
        let n0 = self.point.len();
        let mut live = vec![false; self.nodes.len()];
        if let Some(last) = live.last_mut() {
            *last = true;
        }
        for j in (0..self.nodes.len()).rev() {
            if !live[j] {
                continue;
            }
            let n = n0 + j;
            let mut mark = |i: &Index| {
                let k = i.index(n);
                if k >= n0 {
                    live[k - n0] = true;
                }
            };
            match &self.nodes[j] {
                Node::Unary(_, a) => mark(a),
                Node::Binary(_, x, y) => {
                    mark(x);
                    mark(y);
                }
                Node::Sum(xs) | Node::IterSum(xs, _) | Node::CustomProduct(xs) => {
                    xs.iter().for_each(&mut mark)
                }
                Node::Dot(pairs) => pairs.iter().for_each(|(i, k)| {
                    mark(i);
                    mark(k);
                }),
                Node::DotC(pairs) => pairs.iter().for_each(|(i, _)| mark(i)),
            }
        }
        live
    }
}

/// Records `expr` on a fresh tape at its point; returns the output value and each input's
/// gradient.
pub fn tape_gradient(expr: &Expr) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let xs = tape.vars(&expr.point);
    let y = expr.on_tape(&xs);
    let grads = y.backward();
    (y.value(), xs.iter().map(|&x| grads[x]).collect())
}
