//! Second derivatives ([`Value::grad`], `hessian`, `hvp`, `gradgradcheck`) against oracles that
//! use no tape: hyper-dual numbers over random expression DAGs, closed forms (Rosenbrock, the
//! derivatives of sigmoid, tanh, ln, powers), and central differences of the first-order
//! gradient for the seed's 2-2-1 network.

mod common;

use common::{config, expr, Binary, Expr, Node, Scalar, Unary};
use proptest::prelude::*;
use tapegrad::check::gradgradcheck;
use tapegrad::{hessian, hvp, Error, Tape, Value};

// ---------------------------------------------------------------------------------------------
// Hyper-dual numbers: v + d1 e1 + d2 e2 + d12 e1 e2 with e1^2 = e2^2 = 0, so that seeding
// x_i along e1 and x_j along e2 gives d2f / dx_i dx_j in d12, exactly (no tape, no step).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
struct HyperDual {
    v: f64,
    d1: f64,
    d2: f64,
    d12: f64,
}

impl HyperDual {
    fn constant(v: f64) -> Self {
        HyperDual {
            v,
            d1: 0.0,
            d2: 0.0,
            d12: 0.0,
        }
    }

    /// A function of one argument with value `f`, derivative `df` and second derivative `ddf`.
    fn chain(self, f: f64, df: f64, ddf: f64) -> Self {
        HyperDual {
            v: f,
            d1: df * self.d1,
            d2: df * self.d2,
            d12: df * self.d12 + ddf * self.d1 * self.d2,
        }
    }

    fn recip(self) -> Self {
        let x = self.v;
        self.chain(1.0 / x, -1.0 / (x * x), 2.0 / (x * x * x))
    }
}

impl Scalar for HyperDual {
    fn val(self) -> f64 {
        self.v
    }
    fn add(self, o: Self) -> Self {
        HyperDual {
            v: self.v + o.v,
            d1: self.d1 + o.d1,
            d2: self.d2 + o.d2,
            d12: self.d12 + o.d12,
        }
    }
    fn sub(self, o: Self) -> Self {
        self.add(o.neg())
    }
    fn mul(self, o: Self) -> Self {
        HyperDual {
            v: self.v * o.v,
            d1: self.d1 * o.v + self.v * o.d1,
            d2: self.d2 * o.v + self.v * o.d2,
            d12: self.d12 * o.v + self.d1 * o.d2 + self.d2 * o.d1 + self.v * o.d12,
        }
    }
    fn div(self, o: Self) -> Self {
        self.mul(o.recip())
    }
    fn add_c(self, c: f64) -> Self {
        self.add(Self::constant(c))
    }
    fn c_add(c: f64, x: Self) -> Self {
        Self::constant(c).add(x)
    }
    fn sub_c(self, c: f64) -> Self {
        self.sub(Self::constant(c))
    }
    fn c_sub(c: f64, x: Self) -> Self {
        Self::constant(c).sub(x)
    }
    fn mul_c(self, c: f64) -> Self {
        self.mul(Self::constant(c))
    }
    fn c_mul(c: f64, x: Self) -> Self {
        Self::constant(c).mul(x)
    }
    fn div_c(self, c: f64) -> Self {
        self.mul_c(1.0 / c)
    }
    fn c_div(c: f64, x: Self) -> Self {
        Self::constant(c).mul(x.recip())
    }
    fn neg(self) -> Self {
        self.chain(-self.v, -1.0, 0.0)
    }
    fn sigmoid(self) -> Self {
        // s' = s (1 - s), s'' = s (1 - s) (1 - 2 s), with 1 - s = sigmoid(-x) computed directly
        let s = 1.0 / (1.0 + (-self.v).exp());
        let t = 1.0 / (1.0 + self.v.exp());
        self.chain(s, s * t, s * t * (t - s))
    }
    fn tanh(self) -> Self {
        // tanh' = sech^2, tanh'' = -2 tanh sech^2
        let sech = 1.0 / self.v.cosh();
        let t = self.v.tanh();
        self.chain(t, sech * sech, -2.0 * t * sech * sech)
    }
    fn relu(self) -> Self {
        if self.v > 0.0 {
            self
        } else {
            self.chain(0.0, 0.0, 0.0)
        }
    }
    fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e, e)
    }
    fn ln(self) -> Self {
        let x = self.v;
        self.chain(x.ln(), 1.0 / x, -1.0 / (x * x))
    }
    fn powf(self, p: f64) -> Self {
        let x = self.v;
        let y = x.powf(p);
        self.chain(y, p * y / x, p * (p - 1.0) * y / (x * x))
    }
    fn powi(self, n: i32) -> Self {
        // repeated multiplication, independent of f64::powi's use in the engine
        let x = self.v;
        let power = |k: i32| {
            let base = if k >= 0 { x } else { 1.0 / x };
            (0..k.abs()).fold(1.0, |acc, _| acc * base)
        };
        let n_f = f64::from(n);
        self.chain(
            power(n),
            n_f * power(n - 1),
            n_f * (n_f - 1.0) * power(n - 2),
        )
    }
    fn sin(self) -> Self {
        let x = self.v;
        self.chain(x.sin(), x.cos(), -x.sin())
    }
    fn cos(self) -> Self {
        let x = self.v;
        self.chain(x.cos(), -x.sin(), -x.cos())
    }
    fn sqrt(self) -> Self {
        // sqrt' = 1 / (2 r), sqrt'' = -1 / (4 r^3)
        let r = self.v.sqrt();
        self.chain(r, 0.5 / r, -0.25 / (r * r * r))
    }
    fn abs(self) -> Self {
        let sign = if self.v > 0.0 {
            1.0
        } else if self.v < 0.0 {
            -1.0
        } else {
            0.0
        };
        self.chain(self.v.abs(), sign, 0.0)
    }
    fn square(self) -> Self {
        self.chain(self.v * self.v, 2.0 * self.v, 2.0)
    }
    fn max(self, o: Self) -> Self {
        // the larger side whole; a tie averages both (the engine's symmetric subgradient)
        if self.v > o.v {
            self
        } else if o.v > self.v {
            o
        } else {
            let half = |a: f64, b: f64| (a + b) / 2.0;
            HyperDual {
                v: self.v,
                d1: half(self.d1, o.d1),
                d2: half(self.d2, o.d2),
                d12: half(self.d12, o.d12),
            }
        }
    }
    fn min(self, o: Self) -> Self {
        self.neg().max(o.neg()).neg()
    }
    fn max_c(self, c: f64) -> Self {
        self.max(Self::constant(c))
    }
    fn min_c(self, c: f64) -> Self {
        self.min(Self::constant(c))
    }
    fn detach(self, frozen: Option<f64>) -> Self {
        Self::constant(frozen.unwrap_or(self.v))
    }
    // Custom ops: the right numbers, but the tape cannot differentiate them twice (the test
    // expects an error wherever one feeds the output).
    fn custom_sin(self) -> Self {
        self.sin()
    }
    fn custom_mul(self, o: Self) -> Self {
        self.mul(o)
    }
    fn custom_product(xs: &[Self]) -> Self {
        xs.iter().copied().reduce(Scalar::mul).expect("non-empty")
    }
    fn sum(xs: &[Self]) -> Self {
        xs.iter().copied().reduce(Scalar::add).expect("non-empty")
    }
    fn dot(a: &[Self], b: &[Self]) -> Self {
        let terms: Vec<Self> = a.iter().zip(b).map(|(&x, &y)| x.mul(y)).collect();
        Self::sum(&terms)
    }
    fn dot_c(a: &[Self], b: &[f64]) -> Self {
        let terms: Vec<Self> = a.iter().zip(b).map(|(&x, &y)| x.mul_c(y)).collect();
        Self::sum(&terms)
    }
}

/// The inputs as hyper-duals seeded along `e1 = e_i` and `e2 = e_j`.
fn seeded(point: &[f64], i: usize, j: usize) -> Vec<HyperDual> {
    let one = |k: usize, at: usize| if k == at { 1.0 } else { 0.0 };
    let seed = |(k, &v): (usize, &f64)| HyperDual {
        v,
        d1: one(k, i),
        d2: one(k, j),
        d12: 0.0,
    };
    point.iter().enumerate().map(seed).collect()
}

/// The Hessian of `expr` at its point by hyper-dual numbers.
fn hyper_dual_hessian(expr: &Expr) -> Vec<Vec<f64>> {
    let n = expr.point.len();
    let entry = |i: usize, j: usize| expr.eval(&seeded(&expr.point, i, j)).d12;
    (0..n)
        .map(|i| (0..n).map(|j| entry(i, j)).collect())
        .collect()
}

/// `|a - b| <= tol * max(1, |b|)` for every entry; returns the worst error relative to that scale.
fn assert_matrix_close(a: &[Vec<f64>], b: &[Vec<f64>], tol: f64, what: &str) -> f64 {
    let mut worst: f64 = 0.0;
    for (i, (ra, rb)) in a.iter().zip(b).enumerate() {
        for (j, (&x, &y)) in ra.iter().zip(rb).enumerate() {
            let err = (x - y).abs() / y.abs().max(1.0);
            assert!(
                err <= tol,
                "{what}: entry ({i}, {j}) is {x:e}, the oracle says {y:e} (error {err:e})"
            );
            worst = worst.max(err);
        }
    }
    worst
}

fn assert_symmetric(h: &[Vec<f64>], tol: f64) {
    for (i, row) in h.iter().enumerate() {
        for (j, &hij) in row.iter().enumerate().take(i) {
            let hji = h[j][i];
            let scale = hij.abs().max(hji.abs()).max(1.0);
            assert!(
                (hij - hji).abs() <= tol * scale,
                "H[{i}][{j}] = {hij:e} but H[{j}][{i}] = {hji:e}"
            );
        }
    }
}

/// Whether a custom op feeds the output other than through a detach (so `Value::grad` may
/// fail: its partials are plain numbers).
fn custom_reaches_output(e: &Expr) -> bool {
    let n0 = e.point.len();
    let mut live = vec![false; e.nodes.len()];
    if let Some(last) = live.last_mut() {
        *last = true;
    }
    let mut custom = false;
    for j in (0..e.nodes.len()).rev() {
        if !live[j] {
            continue;
        }
        let n = n0 + j;
        let mut inputs: Vec<usize> = Vec::new();
        match &e.nodes[j] {
            Node::Unary(Unary::Detach, _) => {}
            Node::Unary(u, a) => {
                custom |= *u == Unary::CustomSin;
                inputs.push(a.index(n));
            }
            Node::Binary(b, x, y) => {
                custom |= *b == Binary::CustomMul;
                inputs.extend([x.index(n), y.index(n)]);
            }
            Node::CustomProduct(_) => custom = true,
            Node::Sum(xs) | Node::IterSum(xs, _) => inputs.extend(xs.iter().map(|i| i.index(n))),
            Node::Dot(pairs) => pairs
                .iter()
                .for_each(|(i, k)| inputs.extend([i.index(n), k.index(n)])),
            Node::DotC(pairs) => inputs.extend(pairs.iter().map(|(i, _)| i.index(n))),
        }
        for k in inputs {
            if k >= n0 {
                live[k - n0] = true;
            }
        }
    }
    custom
}

proptest! {
    #![proptest_config(config("proptest-regressions/higher_order.txt", 192))]

    /// Every op of the expression generator: the tape's Hessian equals the hyper-dual one to
    /// 1e-10 (relative, or absolute below 1) and is symmetric.
    #[test]
    fn hessian_of_random_expressions_matches_hyper_duals(e in expr(12)) {
        let h = hessian(|x| e.on_tape(x), &e.point);
        // An error only where a custom op feeds the output; where one feeds it only through a
        // zero partial (max's losing side, a closed relu) the result must still be right.
        // Such a case is checked for its error, then drawn again (prop_assume), so that every
        // counted case compares a Hessian.
        if let Err(err) = &h {
            prop_assert!(matches!(err, Error::NoSecondDerivative { op: "custom", .. }), "{err}");
            prop_assert!(custom_reaches_output(&e));
        }
        prop_assume!(h.is_ok());
        let h = h.unwrap();
        let oracle = hyper_dual_hessian(&e);
        prop_assume!(oracle.iter().flatten().all(|v| v.is_finite() && v.abs() < 1e8));
        assert_matrix_close(&h, &oracle, 1e-10, &format!("{e:?}"));
        assert_symmetric(&h, 1e-10);
    }

    /// `hvp` equals the hyper-dual Hessian times a vector, and `Value::grad`'s values equal
    /// the first-order sweep's.
    #[test]
    fn hvp_and_gradient_values_match(e in expr(12), v in prop::collection::vec(-2.0..2.0f64, 3)) {
        let v = &v[..e.point.len()];
        let oracle = hyper_dual_hessian(&e);
        prop_assume!(oracle.iter().flatten().all(|v| v.is_finite() && v.abs() < 1e8));
        let hv = hvp(|x| e.on_tape(x), &e.point, v);
        if hv.is_err() {
            prop_assert!(custom_reaches_output(&e));
        }
        prop_assume!(hv.is_ok()); // checked for its error above, then drawn again
        let hv = hv.unwrap();
        for (i, row) in oracle.iter().enumerate() {
            let want: f64 = row.iter().zip(v).map(|(h, v)| h * v).sum();
            let scale = row.iter().zip(v).map(|(h, v)| (h * v).abs()).sum::<f64>().max(1.0);
            common::close(hv[i], want, 1e-10, scale)?;
        }
        let tape = Tape::traced();
        let x = tape.vars(&e.point);
        let y = e.on_tape(&x);
        let first = y.backward();
        for (xi, gi) in x.iter().zip(y.grad(&x).unwrap()) {
            common::close(gi.value(), first[*xi], 1e-12, first[*xi].abs().max(1.0))?;
        }
    }
}

#[test]
fn rosenbrock_hessian_is_the_closed_form() {
    // f = (1 - x)^2 + 100 (y - x^2)^2
    // H = [[2 - 400 (y - x^2) + 800 x^2, -400 x], [-400 x, 200]]
    fn f<'t>(v: &[Value<'t>]) -> Value<'t> {
        (1.0 - v[0]).powi(2) + 100.0 * (v[1] - v[0].powi(2)).powi(2)
    }
    let mut worst: f64 = 0.0;
    for &(x, y) in &[(1.0, 1.0), (-1.2, 1.0), (0.3, -0.7), (2.0, 3.5), (0.0, 0.0)] {
        let want = vec![
            vec![2.0 - 400.0 * (y - x * x) + 800.0 * x * x, -400.0 * x],
            vec![-400.0 * x, 200.0],
        ];
        let h = hessian(f, &[x, y]).unwrap();
        worst = worst.max(assert_matrix_close(&h, &want, 1e-13, "rosenbrock"));
        assert_symmetric(&h, 0.0);
        let hv = hvp(f, &[x, y], &[0.5, -2.0]).unwrap();
        for i in 0..2 {
            let want_i = want[i][0] * 0.5 - want[i][1] * 2.0;
            assert!((hv[i] - want_i).abs() <= 1e-12 * want_i.abs().max(1.0));
        }
    }
    println!("rosenbrock: worst relative error {worst:e}");
}

/// The seed's 2-2-1 sigmoid network and mean squared error over its four people, from scalar
/// ops, as a function of its 9 parameters `[w1, w2, b1, w3, w4, b2, w5, w6, b3]`.
fn seed_loss<S: Scalar>(p: &[S]) -> S {
    const PEOPLE: [([f64; 2], f64); 4] = [
        ([-2.0, -1.0], 1.0),
        ([25.0, 6.0], 0.0),
        ([17.0, 4.0], 0.0),
        ([-15.0, -6.0], 1.0),
    ];
    let errors: Vec<S> = PEOPLE
        .iter()
        .map(|&([x1, x2], y)| {
            let h1 = p[0].mul_c(x1).add(p[1].mul_c(x2)).add(p[2]).sigmoid();
            let h2 = p[3].mul_c(x1).add(p[4].mul_c(x2)).add(p[5]).sigmoid();
            let o = p[6].mul(h1).add(p[7].mul(h2)).add(p[8]).sigmoid();
            let e = S::c_sub(y, o);
            e.mul(e)
        })
        .collect();
    S::sum(&errors).div_c(4.0)
}

const SEED_POINTS: [[f64; 9]; 3] = [
    [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0],
    [0.1, -0.3, 0.2, -0.25, 0.4, -0.1, 0.7, -1.1, 0.3],
    [-0.05, 0.12, 0.5, 0.08, -0.2, -0.4, -1.5, 2.0, 0.1],
];

#[test]
fn seed_network_hessian_matches_central_differences_and_hyper_duals() {
    for p in &SEED_POINTS {
        let report = gradgradcheck(|x| seed_loss(x), p).unwrap();
        assert!(report.passed(), "{report}");
        let worst = report.worst().unwrap();
        println!(
            "seed 2-2-1 net: worst |tape - central difference| = {:e} at H[{}][{}]",
            worst.abs_error, worst.row, worst.col
        );
        let h = hessian(|x| seed_loss(x), p).unwrap();
        let oracle: Vec<Vec<f64>> = (0..9)
            .map(|i| (0..9).map(|j| seed_loss(&seeded(p, i, j)).d12).collect())
            .collect();
        let err = assert_matrix_close(&h, &oracle, 1e-10, "seed net vs hyper-duals");
        println!("seed 2-2-1 net: worst relative error vs hyper-duals {err:e}");
        assert_symmetric(&h, 1e-12);
    }
}

#[test]
fn the_seed_network_through_the_model_api_on_a_traced_tape() {
    // A bound model's unfused forward pass is scalar ops, so Value::grad goes through it;
    // the fused one is an error (not a wrong zero).
    use tapegrad::{Activation, Mlp};
    let p = SEED_POINTS[1];
    let net =
        Mlp::from_parameters(&[2, 2, 1], Activation::Sigmoid, Activation::Sigmoid, &p).unwrap();
    let tape = Tape::traced();
    let bound = net.bind(&tape);
    let params = bound.parameters();
    let fused = (1.0 - bound.forward(&[-2.0, -1.0]).unwrap()[0]).square();
    assert!(matches!(
        fused.grad(&params),
        Err(Error::NoSecondDerivative { op: "dense", .. })
    ));
    let o = bound.forward_unfused(&[-2.0, -1.0]).unwrap()[0];
    let loss = (1.0 - o).square();
    let g = loss.grad(&params).unwrap();
    fn by_hand<'t>(q: &[Value<'t>]) -> Value<'t> {
        let h1 = (q[0] * -2.0 + q[1] * -1.0 + q[2]).sigmoid();
        let h2 = (q[3] * -2.0 + q[4] * -1.0 + q[5]).sigmoid();
        let o = (q[6] * h1 + q[7] * h2 + q[8]).sigmoid();
        (1.0 - o).square()
    }
    let h = hessian(by_hand, &p).unwrap();
    for (i, gi) in g.iter().enumerate() {
        let row = gi.backward();
        for (j, pj) in params.iter().enumerate() {
            assert!((row[*pj] - h[i][j]).abs() <= 1e-13 * h[i][j].abs().max(1.0));
        }
    }
}

#[test]
fn third_derivatives_by_differentiating_twice() {
    // d3/dx3 of each function at x, against its closed form.
    type F = for<'t> fn(Value<'t>) -> Value<'t>;
    type Case = (&'static str, F, fn(f64) -> f64);
    let cases: [Case; 6] = [
        ("x^5", |x| x.powi(5), |x| 60.0 * x * x),
        ("ln", |x| x.ln(), |x| 2.0 / (x * x * x)),
        ("exp(2x)", |x| (x * 2.0).exp(), |x| 8.0 * (2.0 * x).exp()),
        (
            "sigmoid",
            |x| x.sigmoid(),
            |x| {
                let s = 1.0 / (1.0 + (-x).exp());
                s * (1.0 - s) * (1.0 - 6.0 * s + 6.0 * s * s)
            },
        ),
        (
            "tanh",
            |x| x.tanh(),
            |x| {
                let t = x.tanh();
                (1.0 - t * t) * (6.0 * t * t - 2.0)
            },
        ),
        ("sin", |x| x.sin(), |x| -x.cos()),
    ];
    for (name, f, want) in cases {
        for &x0 in &[0.3, 1.7, -0.8] {
            if name == "ln" && x0 < 0.0 {
                continue;
            }
            let tape = Tape::traced();
            let x = tape.var(x0);
            let d1 = f(x).grad(&[x]).unwrap()[0];
            let d2 = d1.grad(&[x]).unwrap()[0];
            let d3 = d2.backward()[x];
            let w = want(x0);
            assert!(
                (d3 - w).abs() <= 1e-12 * w.abs().max(1.0),
                "{name}''' at {x0}: tape {d3:e}, closed form {w:e}"
            );
        }
    }
}

#[test]
fn the_other_ops_second_derivatives_are_their_closed_forms() {
    // (function, its second derivative), at x = 0.7.
    type F = for<'t> fn(Value<'t>) -> Value<'t>;
    let x0: f64 = 0.7;
    let cases: [(&str, F, f64); 8] = [
        ("sin", |x| x.sin(), -x0.sin()),
        ("cos", |x| x.cos(), -x0.cos()),
        ("sqrt", |x| x.sqrt(), -0.25 * x0.powf(-1.5)),
        ("square", |x| x.square(), 2.0),
        ("powf", |x| x.powf(2.5), 2.5 * 1.5 * x0.powf(0.5)),
        ("c / x", |x| 3.0 / x, 6.0 / (x0 * x0 * x0)),
        ("x * detach(x)", |x| x * x.detach(), 0.0),
        ("max(x^2, x / 2)", |x| x.square().max(x * 0.5), 2.0),
    ];
    for (name, f, want) in cases {
        let h = hessian(|v| f(v[0]), &[x0]).unwrap()[0][0];
        assert!((h - want).abs() <= 1e-13, "{name}'' = {h:e}, want {want:e}");
    }
    // A dot of two value slices and a sum.
    let h = hessian(
        |v| {
            let t = v[0].tape();
            t.dot(&[v[0], v[1]], &[v[1], v[0] * v[0]]) + t.sum(&[v[0], v[1]]).square()
        },
        &[0.5, -1.5],
    )
    .unwrap();
    // f = 2 x y + x^3 + (x + y)^2 (the dot is x y + y x^2... written out:)
    // dot = x*y + y*x^2;  f = x y + x^2 y + (x + y)^2
    let (x, y) = (0.5, -1.5);
    let want = vec![
        vec![2.0 * y + 2.0, 1.0 + 2.0 * x + 2.0],
        vec![1.0 + 2.0 * x + 2.0, 2.0],
    ];
    assert_matrix_close(&h, &want, 1e-14, "dot and sum");
}

#[test]
fn value_grad_takes_the_ops_own_fallbacks_at_their_edges() {
    // Value::grad re-records each first derivative; where the plain formula overflows, the op's
    // first-order rule takes a fallback, and grad must give the same number as backward.
    type F = for<'t> fn(Value<'t>) -> Value<'t>;
    let cases: [(&str, f64, F); 4] = [
        // n = i32::MIN: n - 1 does not exist; x^(n + 1) / x^2 instead
        ("powi(i32::MIN)", 0.5, |x| x.powi(i32::MIN)),
        ("powi(i32::MIN) at 1", 1.0, |x| x.powi(i32::MIN)),
        // x^(p - 1) overflows at the smallest subnormal; p x^p / x is finite
        ("powf(1e-20) at 5e-324", 5e-324, |x| x.powf(1e-20)),
        // sqrt(-0) = -0: backward's 0.5 / |r| is +inf, not -inf
        ("sqrt at -0", -0.0, |x| x.sqrt()),
    ];
    for (name, x0, f) in cases {
        let tape = Tape::new();
        let x = tape.var(x0);
        let want = f(x).backward()[x];
        let traced = Tape::traced();
        let x = traced.var(x0);
        let got = f(x).grad(&[x]).unwrap()[0].value();
        assert_eq!(
            got.to_bits(),
            want.to_bits(),
            "{name}: grad {got:e}, backward {want:e}"
        );
    }
    // The second derivative of x^n at 1 is n (n - 1) = +4.6e18 for n = i32::MIN (it wrapped to
    // i32::MAX before, with the sign of a derivative of x^(2^31 - 1)).
    let n = f64::from(i32::MIN);
    let h = hessian(|v| v[0].powi(i32::MIN), &[1.0]).unwrap()[0][0];
    let want = n * (n - 1.0);
    assert!(
        (h - want).abs() <= 1e-12 * want,
        "powi(i32::MIN)'' at 1 = {h:e}, want {want:e}"
    );
    // sqrt'' at +0 stays -inf (the sign fix must not put a kink's 0 into it).
    let h = hessian(|v| v[0].sqrt(), &[0.0]).unwrap()[0][0];
    assert_eq!(h, f64::NEG_INFINITY, "sqrt'' at +0");
}

#[test]
fn kinks_have_second_derivative_zero_and_the_first_derivative_of_backward() {
    // relu and abs at 0, max and min at a tie: the first derivative is backward's one-sided
    // choice, the second is 0.
    type F = for<'t> fn(&[Value<'t>]) -> Value<'t>;
    let cases: [(&str, F); 4] = [
        ("relu", |v| v[0].relu() * v[0].relu().exp()),
        ("abs", |v| v[0].abs() * 3.0),
        ("max", |v| v[0].max(v[1]) * 2.0),
        ("min", |v| v[0].min(v[1]) * 2.0),
    ];
    for (name, f) in cases {
        let h = hessian(f, &[0.0, 0.0]).unwrap();
        assert!(h.iter().flatten().all(|&e| e == 0.0), "{name}: {h:?}");
    }
}

#[test]
fn unsupported_nodes_are_errors_not_zeros() {
    let tape = Tape::new();
    let x = tape.var(1.0);
    assert_eq!((x * x).grad(&[x]).unwrap_err(), Error::GradNeedsTrace);

    let custom = hessian(
        |v| {
            v[0].tape()
                .custom(v[0].value().sin(), &[(v[0], v[0].value().cos())])
        },
        &[0.5],
    );
    assert_eq!(
        custom.unwrap_err(),
        Error::NoSecondDerivative {
            op: "custom",
            node: 1
        }
    );
    let loss = hessian(
        |v| tapegrad::mse(&[v[0] * v[1]], &[1.0]).unwrap(),
        &[0.5, 2.0],
    );
    assert!(
        matches!(loss, Err(Error::NoSecondDerivative { op: "loss", .. })),
        "{loss:?}"
    );
    assert!(loss.unwrap_err().to_string().contains("(loss)"));
    assert_eq!(hessian(|v| v[0], &[]).unwrap_err(), Error::EmptyPoint);
    assert_eq!(
        hvp(|v| v[0], &[1.0], &[1.0, 2.0]).unwrap_err(),
        Error::DirectionSize {
            expected: 1,
            found: 2
        }
    );
}

#[test]
fn gradgradcheck_catches_a_wrong_second_derivative() {
    // f(x) = x^2 detach(x): the tape's gradient at a point p is 2 p^2, whose central
    // difference is 4 p, while the Hessian treats the detached factor as a constant: 2 p.
    let report = gradgradcheck(|v| v[0].square() * v[0].detach(), &[1.5]).unwrap();
    assert!(!report.passed(), "{report}");
    assert!(gradgradcheck(|v| v[0].powi(3), &[1.5]).unwrap().passed());
}

#[test]
fn grad_with_respect_to_nodes_after_the_output_is_zero() {
    let tape = Tape::traced();
    let x = tape.var(2.0);
    let y = x * 3.0;
    let later = tape.var(1.0);
    let g = y.grad(&[x, later]).unwrap();
    assert_eq!((g[0].value(), g[1].value()), (3.0, 0.0));
    assert!(y.grad(&[]).unwrap().is_empty());
}

#[allow(dead_code)]
#[path = "../examples/newton.rs"]
mod newton;

#[test]
fn newton_on_the_seeds_neuron_reaches_sgds_loss_in_a_handful_of_steps() {
    let start = newton::start();
    let target = newton::loss_at(&newton::sgd(&start));
    assert!(target < 1e-3, "SGD's final loss {target}");
    let steps = newton::newton(&start, target).unwrap();
    assert!(steps.len() <= 8, "{steps:?}");
    let losses: Vec<f64> = steps.iter().map(|s| s.1).collect();
    assert!(losses.windows(2).all(|w| w[1] < w[0]), "{losses:?}");
    assert!(*losses.last().unwrap() <= target);
}
