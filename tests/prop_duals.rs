//! The exact oracle: forward-mode dual numbers (tests/common, no tape) against the tape's
//! reverse sweep on random expressions. Finite differences catch gross errors; this catches
//! subtle ones (a derivative off in the ninth digit, a lost term).

mod common;

use common::{config, expr, tape_gradient, Scalar};
use proptest::prelude::*;

/// Allowed difference, relative to the size of the terms summed (`Dual::m`): the two
/// computations add the same chain-rule terms in different orders, so they may differ by a
/// few roundings of those terms, and by nothing more.
const REL: f64 = 1e-12;

proptest! {
    #![proptest_config(config("proptest-regressions/prop_duals.txt", 256))]

    /// d(output)/d(input k) from the tape equals the dual-number derivative to ~1e-12.
    #[test]
    fn tape_gradient_equals_dual_derivative(e in expr(10)) {
        let (value, grads) = tape_gradient(&e);
        for (k, &g) in grads.iter().enumerate() {
            let dual = e.dual(k);
            prop_assert!(
                (value - dual.val()).abs() <= REL * value.abs().max(1e-300),
                "{:?}: value {} vs dual {}", e, value, dual.v
            );
            prop_assert!(
                (g - dual.d).abs() <= REL * dual.m,
                "{:?}: d/dx{} tape {:e} vs dual {:e} (terms of size {:e})",
                e, k, g, dual.d, dual.m
            );
        }
    }
}

proptest! {
    #![proptest_config(config("proptest-regressions/prop_duals.txt", 256))]

    /// sigmoid' and tanh' keep their relative precision far into saturation, where `s (1 - s)`
    /// and `1 - t^2` would cancel to nothing (the dual formulas use `e^-|x|` and `cosh`).
    #[test]
    fn saturated_activations_keep_relative_precision(x in -350.0..350.0f64) {
        let tape = tapegrad::Tape::new();
        let v = tape.var(x);
        let sig = common::Dual::variable(x).sigmoid().d;
        prop_assert!((v.sigmoid().backward()[v] - sig).abs() <= 1e-14 * sig, "sigmoid' at {}", x);
        // |x| <= 350 keeps both derivatives normal numbers (>= 4e-304): below that, subnormals
        // have no relative precision to keep.
        let th = common::Dual::variable(x).tanh().d;
        prop_assert!((v.tanh().backward()[v] - th).abs() <= 1e-14 * th, "tanh' at {}", x);
    }
}
