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
}

// ---------------------------------------------------------------------------------------------
// Forward-mode dual numbers: value, derivative along one input, and a magnitude.
// ---------------------------------------------------------------------------------------------

/// A dual number `v + d ε` (ε² = 0), carried through every op by the chain rule, forward: an
/// exact derivative with no tape. `m` carries the same sums with every term's absolute value
/// (`m = Σ |∂| m_parent`): the size of the terms that were added, which bounds the rounding
/// error of `d` (and of the tape's reverse sum of the same terms) when they cancel.
///
/// Derivative formulas here are written independently of `src/ops.rs`: `tanh' = 1 / cosh²`,
/// `sigmoid' = e^-|x| / (1 + e^-|x|)²`, `(a/b)' = (a' b - a b') / b²`.
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
}

/// A binary op between two earlier nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
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
    ]
}

fn binary() -> impl Strategy<Value = Binary> {
    prop_oneof![
        Just(Binary::Add),
        Just(Binary::Sub),
        Just(Binary::Mul),
        Just(Binary::Div),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        4 => (unary(), any::<Index>()).prop_map(|(u, a)| Node::Unary(u, a)),
        4 => (binary(), any::<Index>(), any::<Index>()).prop_map(|(b, x, y)| Node::Binary(b, x, y)),
        1 => prop::collection::vec(any::<Index>(), 1..4).prop_map(Node::Sum),
        1 => prop::collection::vec((any::<Index>(), any::<Index>()), 1..4).prop_map(Node::Dot),
        1 => prop::collection::vec((any::<Index>(), constant()), 1..4).prop_map(Node::DotC),
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
        let mut vals: Vec<S> = inputs.to_vec();
        for node in &self.nodes {
            let n = vals.len();
            let at = |i: &Index| vals[i.index(n)];
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
                    }
                }
                Node::Binary(b, x, y) => {
                    let (x, y) = (at(x), at(y));
                    match b {
                        Binary::Add => x.add(y),
                        Binary::Sub => x.sub(y),
                        Binary::Mul => x.mul(y),
                        Binary::Div => x.div(y),
                    }
                }
                Node::Sum(xs) => S::sum(&xs.iter().map(at).collect::<Vec<_>>()),
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
    /// for a finite difference: `ln`, `powf` and negative `powi` on values >= 0.05, divisors
    /// of size >= 0.05, `relu` at least 0.01 from its kink, every intermediate of size <= 1e3.
    pub fn domain_ok(&self) -> bool {
        let vals = self.eval_all(&self.point);
        let n0 = self.point.len();
        let ok_pos = |v: f64| v >= 0.05;
        let ok_div = |v: f64| v.abs() >= 0.05;
        for (j, node) in self.nodes.iter().enumerate() {
            let n = n0 + j;
            let at = |i: &Index| vals[i.index(n)];
            let fine = match node {
                Node::Unary(u, a) => {
                    let a = at(a);
                    match *u {
                        Unary::Ln | Unary::Powf(_) => ok_pos(a),
                        Unary::Powi(k) if k < 0 => ok_div(a),
                        Unary::CDiv(_) => ok_div(a),
                        Unary::Relu => a.abs() >= 0.01,
                        _ => true,
                    }
                }
                Node::Binary(Binary::Div, _, y) => ok_div(at(y)),
                _ => true,
            };
            if !fine || !vals[n].is_finite() || vals[n].abs() > 1e3 {
                return false;
            }
        }
        true
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
                    }
                }
                Node::Binary(b, x, y) => {
                    let op = match b {
                        Binary::Add => "+",
                        Binary::Sub => "-",
                        Binary::Mul => "*",
                        Binary::Div => "/",
                    };
                    format!("{} {op} {}", r(x), r(y))
                }
                Node::Sum(xs) => {
                    let xs: Vec<String> = xs.iter().map(r).collect();
                    format!("sum[{}]", xs.join(", "))
                }
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
                Node::Sum(xs) => xs.iter().for_each(&mut mark),
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
