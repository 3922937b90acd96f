//! Algebraic properties of the reverse sweep on random expressions: linearity of the gradient,
//! the product and chain rules, and repeated backward giving identical results.
//!
//! f and g are two nodes of one random expression (the output and another node picked at
//! random), recorded once. Each rule is checked twice: between the tape's own gradients (the
//! property), and against forward-mode dual numbers written in tests/common (an oracle outside
//! the tape, so that a wrong local derivative cannot satisfy both sides). Tolerances are
//! relative to the size of the chain-rule terms, carried by the dual numbers' `m`.

mod common;

use common::{config, expr, Dual, Expr};
use proptest::prelude::*;
use proptest::sample::Index;
use tapegrad::{Gradients, Tape};

const REL: f64 = 1e-12;

/// Dual numbers for every node of `e`, differentiated along input `k`.
fn duals(e: &Expr, k: usize) -> Vec<Dual> {
    e.eval_all(&e.dual_inputs(k))
}

proptest! {
    #![proptest_config(config("proptest-regressions/prop_algebra.txt", 128))]

    /// grad(a f + b g) = a grad f + b grad g.
    #[test]
    fn gradient_is_linear(e in expr(8), pick in any::<Index>(), a in -3.0..3.0f64, b in -3.0..3.0f64) {
        let tape = Tape::new();
        let xs = tape.vars(&e.point);
        let nodes = e.eval_all(&xs);
        let (f, g) = (*nodes.last().unwrap(), nodes[pick.index(nodes.len())]);
        let y = a * f + b * g;
        let (gy, gf, gg) = (y.backward(), f.backward(), g.backward());
        for (k, &x) in xs.iter().enumerate() {
            let d = duals(&e, k);
            let scale = a.abs() * d.last().unwrap().m + b.abs() * d[pick.index(nodes.len())].m;
            prop_assert!(
                (gy[x] - (a * gf[x] + b * gg[x])).abs() <= REL * scale,
                "{:?}: d/dx{} of a f + b g is {:e}, a f' + b g' is {:e}",
                e, k, gy[x], a * gf[x] + b * gg[x]
            );
            // And against the dual numbers, an oracle outside the tape.
            let oracle = a * d.last().unwrap().d + b * d[pick.index(nodes.len())].d;
            prop_assert!(
                (gy[x] - oracle).abs() <= 2.0 * REL * scale,
                "{:?}: d/dx{} of a f + b g is {:e}, the duals' {:e}", e, k, gy[x], oracle
            );
        }
    }

    /// grad(f g) = f grad g + g grad f.
    #[test]
    fn product_rule(e in expr(8), pick in any::<Index>()) {
        let tape = Tape::new();
        let xs = tape.vars(&e.point);
        let nodes = e.eval_all(&xs);
        let (f, g) = (*nodes.last().unwrap(), nodes[pick.index(nodes.len())]);
        let (gy, gf, gg) = ((f * g).backward(), f.backward(), g.backward());
        for (k, &x) in xs.iter().enumerate() {
            let d = duals(&e, k);
            let scale = g.value().abs() * d.last().unwrap().m
                + f.value().abs() * d[pick.index(nodes.len())].m;
            let expected = f.value() * gg[x] + g.value() * gf[x];
            prop_assert!(
                (gy[x] - expected).abs() <= REL * scale,
                "{:?}: d/dx{} of f g is {:e}, f g' + g f' is {:e}", e, k, gy[x], expected
            );
            // And with f' and g' from the dual numbers, an oracle outside the tape.
            let oracle = f.value() * d[pick.index(nodes.len())].d + g.value() * d.last().unwrap().d;
            prop_assert!(
                (gy[x] - oracle).abs() <= 2.0 * REL * scale,
                "{:?}: d/dx{} of f g is {:e}, with the duals' f' and g' {:e}", e, k, gy[x], oracle
            );
        }
    }

    /// grad(h(f)) = h'(f) grad f, with h' written out here for each unary op.
    #[test]
    fn chain_rule(e in expr(8), h in 0..5usize) {
        let tape = Tape::new();
        let xs = tape.vars(&e.point);
        let f = e.on_tape(&xs);
        let v = f.value();
        let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
        let (y, dh) = match h {
            0 => (f.sigmoid(), sig(v) * sig(-v)), // s (1 - s), as 1 - s(v) = s(-v)
            1 => (f.tanh(), 1.0 / (v.cosh() * v.cosh())),
            2 => (f.exp(), v.exp()),
            3 => (f.powi(3), 3.0 * v * v),
            _ => (f * f.tanh(), v.tanh() + v / (v.cosh() * v.cosh())), // (f tanh f)'
        };
        // The expressions keep f within 1e3, but exp(f) still overflows past ~709.78: there the
        // chain rule compares inf with inf, which says nothing.
        prop_assume!(y.value().is_finite() && dh.is_finite());
        let (gy, gf) = (y.backward(), f.backward());
        for (k, &x) in xs.iter().enumerate() {
            let dual = *duals(&e, k).last().unwrap();
            let m = dual.m;
            // Below f64::MIN_POSITIVE (subnormals) a number has no relative precision left:
            // 1/cosh(370)^2 underflows to 0 here while the tape's tanh' keeps 1e-318.
            prop_assert!(
                (gy[x] - dh * gf[x]).abs() <= REL * dh.abs() * m + f64::MIN_POSITIVE * m,
                "{:?}: h #{}: d/dx{} of h(f) is {:e}, h'(f) f' is {:e}", e, h, k, gy[x], dh * gf[x]
            );
            // And h'(f) times the duals' f', both written outside the tape.
            prop_assert!(
                (gy[x] - dh * dual.d).abs() <= 2.0 * REL * dh.abs() * m + f64::MIN_POSITIVE * m,
                "{:?}: h #{}: d/dx{} of h(f) is {:e}, h'(f) times the duals' f' {:e}",
                e, h, k, gy[x], dh * dual.d
            );
        }
    }

    /// `a op= b` is `a op b`, `iter().sum()` (by value or by reference) is `Tape::sum`, and
    /// the custom `sin` and `a * b` are the built-in ops: the same nodes, values and gradients,
    /// bit for bit (except that a sum may start from -0.0 where `Tape::sum` starts from 0.0,
    /// so a zero may differ in sign: zeros compare equal here).
    #[test]
    fn sugar_records_what_the_plain_ops_record(e in expr(8)) {
        let plain = e.desugared();
        let (t1, t2) = (Tape::new(), Tape::new());
        let (x1, x2) = (t1.vars(&e.point), t2.vars(&e.point));
        let (y1, y2) = (e.on_tape(&x1), plain.on_tape(&x2));
        prop_assert_eq!(t1.len(), t2.len(), "{:?}", e);
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a == 0.0 && b == 0.0);
        prop_assert!(same(y1.value(), y2.value()), "{:?}: {} vs {}", e, y1.value(), y2.value());
        let (g1, g2) = (y1.backward(), y2.backward());
        for (k, (a, b)) in g1.as_slice().iter().zip(g2.as_slice()).enumerate() {
            prop_assert!(same(*a, *b), "{:?}: node {}: gradient {:e} vs {:e}", e, k, a, b);
        }
    }

    /// backward twice, into a reused buffer, and after more nodes were recorded: the same
    /// gradients, bit for bit, and 0 for the nodes recorded later.
    #[test]
    fn repeated_backward_is_identical(e in expr(8)) {
        let tape = Tape::new();
        let xs = tape.vars(&e.point);
        let y = e.on_tape(&xs);
        let doubled = y * 2.0;
        let first = y.backward();
        let second = y.backward();
        prop_assert_eq!(&first, &second);
        let mut reused = Gradients::new();
        doubled.backward_into(&mut reused);
        y.backward_into(&mut reused);
        prop_assert_eq!(&first, &reused);
        let later = e.on_tape(&xs) + y;
        let third = y.backward();
        prop_assert_eq!(first.as_slice(), &third.as_slice()[..first.as_slice().len()]);
        prop_assert!(third.as_slice()[first.as_slice().len()..].iter().all(|&g| g == 0.0));
        prop_assert_eq!(third[later], 0.0);
    }
}
