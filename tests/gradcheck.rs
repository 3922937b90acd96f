//! The public gradient checker itself: it accepts right gradients, rejects wrong ones, takes
//! the documented step, and reports a non-finite function as an error.

use tapegrad::check::{check_gradient, gradcheck, gradcheck_with, Tolerance};
use tapegrad::Error;

#[test]
fn accepts_known_derivatives() {
    // f(a, b) = a^3 / b + exp(a b): df/da = 3a^2/b + b e^(ab), df/db = -a^3/b^2 + a e^(ab)
    for &(a, b) in &[(0.3, 1.7), (-2.0, 0.5), (1e3, 2e-3), (5.0, -4.0)] {
        let report = gradcheck(|x| x[0].powi(3) / x[1] + (x[0] * x[1]).exp(), &[a, b]).unwrap();
        assert!(report.passed(), "{report}");
        let e = (a * b).exp();
        let fda = 3.0 * a * a / b + b * e;
        let fdb = -a * a * a / (b * b) + a * e;
        assert!((report.inputs[0].tape - fda).abs() <= 1e-12 * fda.abs());
        assert!((report.inputs[1].tape - fdb).abs() <= 1e-12 * fdb.abs().max(1.0));
    }
}

#[test]
fn rejects_a_gradient_off_by_a_relative_1e_4_and_accepts_1e_7() {
    let f = |p: &[f64]| p[0].sin() * p[1];
    let (x, y): (f64, f64) = (0.7, 1.3);
    let exact = [x.cos() * y, x.sin()];
    let tol = Tolerance::default();
    assert!(check_gradient(f, &[x, y], &exact, tol).unwrap().passed());
    let close = [exact[0] * (1.0 + 1e-7), exact[1]];
    assert!(check_gradient(f, &[x, y], &close, tol).unwrap().passed());
    let off = [exact[0], exact[1] * (1.0 + 1e-4)];
    let report = check_gradient(f, &[x, y], &off, tol).unwrap();
    assert!(!report.passed());
    assert!(report.inputs[0].passed && !report.inputs[1].passed);
    assert_eq!(report.worst().unwrap().index, 1);
    assert!(report.to_string().contains("FAILED"), "{report}");
}

#[test]
fn step_is_cbrt_eps_times_max_1_x_as_actually_taken() {
    for &x in &[0.0, 0.25, -3.0, 1e12, -7.5e-300] {
        let report = gradcheck(|v| v[0] * 2.0, &[x]).unwrap();
        let h = f64::EPSILON.cbrt() * x.abs().max(1.0);
        assert_eq!(report.inputs[0].step, (x + h) - (x - h), "at {x}");
        assert!(report.passed(), "{report}");
    }
}

#[test]
fn central_difference_error_is_second_order() {
    // For x^3 the central difference is exactly 3x^2 + h^2: the truncation term, h^2 f'''/6.
    let report = gradcheck(|v| v[0].powi(3), &[1.0]).unwrap();
    let h = report.inputs[0].step / 2.0;
    assert!(
        (report.inputs[0].abs_error - h * h).abs() < 1e-12,
        "{report}"
    );
}

#[test]
fn non_finite_value_is_an_error() {
    let err = gradcheck(|x| x[0].ln(), &[-1.0]).unwrap_err();
    assert!(matches!(err, Error::NonFiniteFunction { ref point, .. } if point == &[-1.0]));
    assert!(err.to_string().contains("NaN"), "{err}");
    let err = gradcheck(|x| 1.0 / x[0], &[0.0]).unwrap_err();
    assert!(matches!(err, Error::NonFiniteFunction { value, .. } if value == f64::INFINITY));
    assert_eq!(gradcheck(|x| x[0], &[]).unwrap_err(), Error::EmptyPoint);
}

#[test]
fn a_kink_inside_the_step_fails_as_documented() {
    // relu at 0: the tape says 0 (its derivative at the kink), the difference says 1/2.
    let report = gradcheck(|x| x[0].relu(), &[0.0]).unwrap();
    assert!(!report.passed());
    assert_eq!(report.inputs[0].tape, 0.0);
    assert!((report.inputs[0].finite_difference - 0.5).abs() < 1e-12);
    // A step away from it, fine.
    assert!(gradcheck(|x| x[0].relu(), &[1e-3]).unwrap().passed());
}

#[test]
fn non_finite_perturbed_value_fails_instead_of_erroring() {
    // ln at 1e-6: x - h is negative, ln of it NaN.
    let report = gradcheck(|x| x[0].ln(), &[1e-6]).unwrap();
    assert!(report.inputs[0].finite_difference.is_nan());
    assert!(!report.passed());
    assert!(report.worst().is_some());
}

#[test]
fn a_looser_tolerance_is_used_for_the_verdict() {
    let strict = Tolerance::default().abs(0.0).rel(0.0);
    assert_eq!((strict.abs, strict.rel), (0.0, 0.0));
    let report = gradcheck_with(|x| x[0].powi(3), &[1.0], strict).unwrap();
    assert!(!report.passed(), "{report}"); // the h^2 truncation error is not 0
    assert_eq!(report.tolerance, strict);
}
