//! Random expression DAGs over every op (assign ops, iterator sums, custom ops and `detach`
//! included): each input's tape gradient passes the public gradient checker (central finite
//! differences).

mod common;

use common::{config, expr};
use proptest::prelude::*;
use tapegrad::check::gradcheck;

proptest! {
    #![proptest_config(config("proptest-regressions/prop_expressions.txt", 256))]

    /// Every leaf's gradient of a random expression agrees with finite differences.
    ///
    /// `detach` stays in: the function checked is [`common::Expr::on_tape_frozen`], which is
    /// the recorded expression at the point (real `detach` nodes, so the tape gradient is the
    /// one under test) and holds each detached node at its value there when gradcheck probes
    /// nearby points. That is what a gradient through `detach` means (detached parts are
    /// constants); a finite difference of the unfrozen expression would treat `detach` as the
    /// identity and disagree by design. A `detach` that leaked gradient fails here.
    #[test]
    fn every_leaf_gradient_passes_gradcheck(e in expr(8)) {
        let report = gradcheck(|xs| e.on_tape_frozen(xs), &e.point)
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert!(report.passed(), "{:?}\n{}", e, report);
    }

    /// The recorded forward value is the plain-f64 value of the same expression.
    #[test]
    fn recorded_value_matches_plain_evaluation(e in expr(8)) {
        let (value, _) = common::tape_gradient(&e);
        let plain = e.at(&e.point);
        prop_assert!(
            (value - plain).abs() <= 1e-12 * plain.abs().max(1.0),
            "{:?}: tape {} vs plain {}", e, value, plain
        );
    }
}
