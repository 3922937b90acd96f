//! A gradient checker: the tape's gradient against central finite differences.
//!
//! [`gradcheck`] records a function once on a tape, runs the reverse sweep, and compares each
//! input's gradient with a finite-difference estimate computed from plain forward evaluations
//! of the same function. It is how this crate tests its own ops and networks, and it works the
//! same way on your functions:
//!
//! ```
//! use tapegrad::check::gradcheck;
//!
//! // f(a, b) = a * sigmoid(b) + ln(a)
//! let report = gradcheck(|x| x[0] * x[1].sigmoid() + x[0].ln(), &[1.5, -0.3])?;
//! assert!(report.passed(), "{report}");
//! # Ok::<(), tapegrad::Error>(())
//! ```
//!
//! # The finite difference
//!
//! For input `k` at `x` the estimate is the central difference
//!
//! ```text
//! fd = (f(x + h e_k) - f(x - h e_k)) / ((x + h) - (x - h)),   h = cbrt(eps) * max(1, |x_k|)
//! ```
//!
//! Two errors compete. *Truncation*: the central difference is off by about
//! `h^2 |f'''| / 6`, which wants `h` small. *Round-off*: `f` is only known to about
//! `eps |f|`, and dividing by the step amplifies that to `eps |f| / h`, which wants `h` large.
//! The sum is smallest when `h` is proportional to `cbrt(eps)` (about 6e-6 in `f64`), where
//! both are about `eps^(2/3)`, roughly 4e-11 relative. Scaling by `max(1, |x|)` keeps the step
//! meaningful for large inputs (a step of 6e-6 on 1e12 would be lost to rounding) without
//! shrinking it below the absolute scale for small ones. `x + h` is rounded, so the divisor
//! is the step actually taken, `(x + h) - (x - h)`, not `2h`.
//!
//! # Tolerance
//!
//! Input `k` passes when
//!
//! ```text
//! |ad - fd| <= abs * max(1, |f(x)|) + rel * max(|ad|, |fd|)
//! ```
//!
//! with `ad` the tape's gradient and, by default, `abs = 1e-8` and `rel = 1e-5` (see
//! [`Tolerance`]). The first term covers round-off, which scales with `|f|`; the second covers
//! truncation, which scales with the derivatives. Both are far above the `eps^(2/3)` error of a
//! well-behaved function and far below the error of a wrong derivative.
//!
//! # What the caller must avoid
//!
//! A finite difference assumes `f` is smooth (three times differentiable) on `[x - h, x + h]`.
//! Kinks such as `relu` at 0, poles such as `1/x` near 0, and `ln` near 0 break that
//! assumption: the checker then reports a mismatch that is not a bug in the gradient. Choose
//! points at least a few steps away from such places. Functions with huge third derivatives
//! (`exp` of a large argument) or heavy cancellation need a looser [`Tolerance`].

use crate::engine::{Tape, Value};
use crate::error::{Error, Result};
use std::fmt;

/// How close the tape's gradient and the finite difference must be; see the
/// [module docs](crate::check) for the test and why these defaults.
///
/// ```
/// use tapegrad::check::Tolerance;
/// let t = Tolerance::default();
/// assert_eq!((t.abs, t.rel), (1e-8, 1e-5));
/// assert!(t.accepts(1.0, 1.0 + 1e-9, 0.0));
/// assert!(!t.accepts(1.0, 1.001, 0.0));
/// assert_eq!(t.rel(1e-4).rel, 1e-4); // builder-style setters
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Tolerance {
    /// Absolute part, scaled by `max(1, |f(x)|)`.
    pub abs: f64,
    /// Relative part, scaled by `max(|ad|, |fd|)`.
    pub rel: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            abs: 1e-8,
            rel: 1e-5,
        }
    }
}

impl Tolerance {
    /// Sets the absolute part.
    #[must_use]
    pub fn abs(mut self, abs: f64) -> Self {
        self.abs = abs;
        self
    }

    /// Sets the relative part.
    #[must_use]
    pub fn rel(mut self, rel: f64) -> Self {
        self.rel = rel;
        self
    }

    /// The largest `|ad - fd|` accepted for a function whose value is `fx`.
    ///
    /// ```
    /// use tapegrad::check::Tolerance;
    /// let bound = Tolerance::default().bound(2.0, 2.0, 100.0);
    /// assert!((bound - (1e-8 * 100.0 + 1e-5 * 2.0)).abs() < 1e-18);
    /// ```
    #[must_use]
    pub fn bound(&self, ad: f64, fd: f64, fx: f64) -> f64 {
        self.abs * fx.abs().max(1.0) + self.rel * ad.abs().max(fd.abs())
    }

    /// Whether the tape gradient `ad` and the finite difference `fd` agree for a function whose
    /// value is `fx`. Anything non-finite is rejected.
    ///
    /// ```
    /// use tapegrad::check::Tolerance;
    /// assert!(!Tolerance::default().accepts(f64::NAN, f64::NAN, 0.0));
    /// ```
    #[must_use]
    pub fn accepts(&self, ad: f64, fd: f64, fx: f64) -> bool {
        ad.is_finite() && fd.is_finite() && (ad - fd).abs() <= self.bound(ad, fd, fx)
    }
}

/// One input's comparison in a [`GradcheckReport`].
///
/// ```
/// use tapegrad::check::gradcheck;
/// let report = gradcheck(|x| x[0] * x[0], &[3.0])?;
/// let c = &report.inputs[0];
/// assert_eq!(c.tape, 6.0);
/// assert!((c.finite_difference - 6.0).abs() < 1e-8);
/// assert!(c.passed);
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct InputCheck {
    /// The input's position in the point.
    pub index: usize,
    /// The input's value.
    pub x: f64,
    /// The step used, `(x + h) - (x - h)`.
    pub step: f64,
    /// The gradient from the tape's reverse sweep.
    pub tape: f64,
    /// The central finite-difference estimate.
    pub finite_difference: f64,
    /// `|tape - finite_difference|`.
    pub abs_error: f64,
    /// `abs_error / max(|tape|, |finite_difference|)` (0 when both are 0).
    pub rel_error: f64,
    /// Whether this input is within the tolerance.
    pub passed: bool,
}

/// What [`gradcheck`] found: each input's comparison, the worst one, and the verdict.
///
/// Its `Display` prints a table, handy as an assertion message.
///
/// ```
/// use tapegrad::check::gradcheck;
/// let report = gradcheck(|x| x[0].tanh() * x[1], &[0.5, 2.0])?;
/// assert!(report.passed());
/// assert_eq!(report.inputs.len(), 2);
/// assert!(report.worst().unwrap().abs_error < 1e-8);
/// println!("{report}");
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GradcheckReport {
    /// `f(x)`.
    pub value: f64,
    /// One entry per input, in order.
    pub inputs: Vec<InputCheck>,
    /// The tolerance the verdicts were made with.
    pub tolerance: Tolerance,
}

impl GradcheckReport {
    /// Whether every input passed.
    ///
    /// ```
    /// let report = tapegrad::check::gradcheck(|x| x[0].exp(), &[1.0])?;
    /// assert!(report.passed());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn passed(&self) -> bool {
        self.inputs.iter().all(|c| c.passed)
    }

    /// The input furthest from passing: the largest `abs_error` relative to its tolerance
    /// bound (a non-finite error counts as the worst). `None` for a function of no inputs.
    ///
    /// ```
    /// let report = tapegrad::check::gradcheck(|x| x[0] * 2.0 + x[1], &[1.0, 1.0])?;
    /// assert!(report.worst().is_some());
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn worst(&self) -> Option<&InputCheck> {
        let badness = |c: &InputCheck| {
            let b = self
                .tolerance
                .bound(c.tape, c.finite_difference, self.value);
            let r = c.abs_error / b;
            if r.is_nan() {
                f64::INFINITY
            } else {
                r
            }
        };
        self.inputs
            .iter()
            .max_by(|a, b| badness(a).total_cmp(&badness(b)))
    }
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "gradcheck {} at f(x) = {:e} (abs {:e}, rel {:e})",
            if self.passed() { "passed" } else { "FAILED" },
            self.value,
            self.tolerance.abs,
            self.tolerance.rel
        )?;
        writeln!(
            f,
            "{:>5} {:>12} {:>24} {:>24} {:>10} {:>10}",
            "input", "x", "tape", "finite diff", "abs err", "rel err"
        )?;
        for c in &self.inputs {
            writeln!(
                f,
                "{:>5} {:>12.5e} {:>24.16e} {:>24.16e} {:>10.2e} {:>10.2e}{}",
                c.index,
                c.x,
                c.tape,
                c.finite_difference,
                c.abs_error,
                c.rel_error,
                if c.passed { "" } else { "  <- fails" }
            )?;
        }
        Ok(())
    }
}

/// Checks the tape gradient of `f` at `x` against central finite differences, with the
/// default [`Tolerance`]. See [`gradcheck_with`].
///
/// # Errors
///
/// As [`gradcheck_with`].
///
/// # Panics
///
/// As [`gradcheck_with`].
///
/// ```
/// use tapegrad::check::gradcheck;
/// let report = gradcheck(|x| x[0].powi(3) / x[1], &[2.0, 5.0])?;
/// assert!(report.passed(), "{report}");
///
/// // A function whose value is not finite is an error, not a panic.
/// assert!(gradcheck(|x| x[0].ln(), &[-1.0]).is_err());
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn gradcheck<F>(f: F, x: &[f64]) -> Result<GradcheckReport>
where
    F: for<'t> Fn(&[Value<'t>]) -> Value<'t>,
{
    gradcheck_with(f, x, Tolerance::default())
}

/// Checks the tape gradient of `f` at `x` against central finite differences.
///
/// `f` receives one leaf per entry of `x` (all on one fresh tape) and returns the scalar to
/// differentiate. It is called `2 + 2 * x.len()` times, each time on a freshly cleared tape:
/// once for the reverse sweep, once for `f(x)` and then at `x_k + h` and `x_k - h` for each
/// input (see the [module docs](crate::check) for the step and the tolerance). `f` must be a
/// pure function of its inputs.
///
/// # Errors
///
/// - [`Error::NonFiniteFunction`] if `f(x)` is NaN or infinite: there is nothing to compare.
/// - [`Error::EmptyPoint`] if `x` is empty (no inputs, so no tape to give `f`).
///
/// An input whose perturbed values are not finite, or whose tape gradient is not finite, is
/// reported as failing, not as an error.
///
/// # Panics
///
/// If `f` returns a value recorded on a tape other than the one its inputs are on.
///
/// ```
/// use tapegrad::check::{gradcheck_with, Tolerance};
/// // exp of a large argument has a large third derivative: loosen the relative part.
/// let loose = Tolerance::default().rel(1e-4);
/// let report = gradcheck_with(|x| (x[0] * 10.0).exp(), &[2.0], loose)?;
/// assert!(report.passed(), "{report}");
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn gradcheck_with<F>(f: F, x: &[f64], tolerance: Tolerance) -> Result<GradcheckReport>
where
    F: for<'t> Fn(&[Value<'t>]) -> Value<'t>,
{
    if x.is_empty() {
        return Err(Error::EmptyPoint);
    }
    let mut tape = Tape::new();
    let gradient = {
        let leaves = tape.vars(x);
        let y = f(&leaves);
        assert!(
            std::ptr::eq(y.tape(), &tape),
            "tapegrad: gradcheck's function returned a value from another tape"
        );
        let grads = y.backward();
        leaves.iter().map(|&l| grads[l]).collect::<Vec<_>>()
    };
    let plain = |p: &[f64]| {
        tape.clear();
        let leaves = tape.vars(p);
        f(&leaves).value()
    };
    check_gradient(plain, x, &gradient, tolerance)
}

/// Checks a gradient computed elsewhere against central finite differences of `f`.
///
/// This is the comparison inside [`gradcheck_with`], for gradients that do not come from a
/// closure over leaves: a model's parameter gradients from [`Bound::gradients`](crate::Bound::gradients),
/// say, checked against the loss of plain [`predict`](crate::Mlp::predict) calls. `f` is
/// evaluated at `x` and at `x_k +- h` for each input.
///
/// # Errors
///
/// [`Error::NonFiniteFunction`] if `f(x)` is NaN or infinite; [`Error::EmptyPoint`] if `x` is
/// empty.
///
/// # Panics
///
/// If `gradient` and `x` have different lengths.
///
/// ```
/// use tapegrad::check::{check_gradient, Tolerance};
/// let f = |p: &[f64]| p[0] * p[0] + 3.0 * p[1];
/// let good = check_gradient(f, &[2.0, 1.0], &[4.0, 3.0], Tolerance::default())?;
/// assert!(good.passed());
/// let bad = check_gradient(f, &[2.0, 1.0], &[4.0, 3.1], Tolerance::default())?;
/// assert!(!bad.passed());
/// assert_eq!(bad.worst().unwrap().index, 1);
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn check_gradient<F>(
    mut f: F,
    x: &[f64],
    gradient: &[f64],
    tolerance: Tolerance,
) -> Result<GradcheckReport>
where
    F: FnMut(&[f64]) -> f64,
{
    assert_eq!(
        x.len(),
        gradient.len(),
        "tapegrad: check_gradient got {} inputs but {} gradient entries",
        x.len(),
        gradient.len()
    );
    if x.is_empty() {
        return Err(Error::EmptyPoint);
    }
    let value = f(x);
    if !value.is_finite() {
        return Err(Error::NonFiniteFunction {
            value,
            point: x.to_vec(),
        });
    }
    let mut point = x.to_vec();
    let inputs = (0..x.len())
        .map(|k| {
            let (xk, ad) = (x[k], gradient[k]);
            // h = cbrt(eps) * max(1, |x|); divide by the step actually taken.
            let h = f64::EPSILON.cbrt() * xk.abs().max(1.0);
            let (up, down) = (xk + h, xk - h);
            point[k] = up;
            let f_up = f(&point);
            point[k] = down;
            let f_down = f(&point);
            point[k] = xk;
            let step = up - down;
            let fd = (f_up - f_down) / step;
            let abs_error = (ad - fd).abs();
            let scale = ad.abs().max(fd.abs());
            InputCheck {
                index: k,
                x: xk,
                step,
                tape: ad,
                finite_difference: fd,
                abs_error,
                rel_error: if scale == 0.0 { 0.0 } else { abs_error / scale },
                passed: tolerance.accepts(ad, fd, value),
            }
        })
        .collect();
    Ok(GradcheckReport {
        value,
        inputs,
        tolerance,
    })
}

/// One Hessian entry's comparison in a [`GradgradcheckReport`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SecondCheck {
    /// The row: the gradient entry `df/dx_row` that was differentiated.
    pub row: usize,
    /// The column: the input it was differentiated by.
    pub col: usize,
    /// `d2f / dx_row dx_col` from [`hessian`](crate::hessian).
    pub tape: f64,
    /// The central difference of the tape's first-order gradient.
    pub finite_difference: f64,
    /// `|tape - finite_difference|`.
    pub abs_error: f64,
    /// Whether this entry is within the tolerance.
    pub passed: bool,
}

/// What [`gradgradcheck`] found: every Hessian entry's comparison and the verdict.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GradgradcheckReport {
    /// The tape's first-order gradient at the point.
    pub gradient: Vec<f64>,
    /// One entry per `(row, col)`, row by row.
    pub entries: Vec<SecondCheck>,
    /// The tolerance the verdicts were made with.
    pub tolerance: Tolerance,
}

impl GradgradcheckReport {
    /// Whether every entry passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.entries.iter().all(|c| c.passed)
    }

    /// The entry with the largest `abs_error` (a non-finite error counts as the largest).
    #[must_use]
    pub fn worst(&self) -> Option<&SecondCheck> {
        let key = |c: &SecondCheck| {
            if c.abs_error.is_nan() {
                f64::INFINITY
            } else {
                c.abs_error
            }
        };
        self.entries.iter().max_by(|a, b| key(a).total_cmp(&key(b)))
    }
}

impl fmt::Display for GradgradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "gradgradcheck {} (abs {:e}, rel {:e})",
            if self.passed() { "passed" } else { "FAILED" },
            self.tolerance.abs,
            self.tolerance.rel
        )?;
        for c in &self.entries {
            writeln!(
                f,
                "H[{}][{}] tape {:>24.16e} finite diff {:>24.16e} abs err {:>9.2e}{}",
                c.row,
                c.col,
                c.tape,
                c.finite_difference,
                c.abs_error,
                if c.passed { "" } else { "  <- fails" }
            )?;
        }
        Ok(())
    }
}

/// Checks the tape's second derivatives of `f` at `x` (its [`hessian`](crate::hessian),
/// from [`Value::grad`]) against central differences of the tape's first-order gradient, with
/// the default [`Tolerance`].
///
/// Column `j` of the estimate is `(g(x + h e_j) - g(x - h e_j)) / ((x_j + h) - (x_j - h))`,
/// `g` the gradient of an ordinary reverse sweep, with the step of [`gradcheck`]:
/// `h = cbrt(eps) * max(1, |x_j|)`. The argument is the same one level up: the truncation
/// error is about `h^2 |f''''| / 6` and the round-off `eps |g| / h` (the gradient is known to
/// about `eps |g|`), both smallest near `h ~ cbrt(eps)`. Entry `(i, j)` passes when
/// `|ad - fd| <= abs * max(1, |g_i(x)|) + rel * max(|ad|, |fd|)`: the absolute part scales
/// with the gradient, whose round-off the difference amplifies, as [`gradcheck`]'s scales
/// with `f`. The two computations share only the recorded ops' first-order rules, not the
/// re-recorded partials of [`Value::grad`], so a wrong second-derivative rule shows.
///
/// # Errors
///
/// - [`Error::EmptyPoint`] if `x` is empty.
/// - [`Error::NonFiniteFunction`] if `f(x)` is NaN or infinite.
/// - [`Error::NoSecondDerivative`] if `f` uses an op [`Value::grad`] cannot differentiate.
///
/// # Panics
///
/// If `f` returns a value recorded on a tape other than the one its inputs are on.
///
/// ```
/// use tapegrad::check::gradgradcheck;
/// let report = gradgradcheck(|x| (x[0] * x[1]).tanh() + x[0].exp() / x[1], &[0.3, 2.0])?;
/// assert!(report.passed(), "{report}");
/// assert_eq!(report.entries.len(), 4);
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn gradgradcheck<F>(f: F, x: &[f64]) -> Result<GradgradcheckReport>
where
    F: for<'t> Fn(&[Value<'t>]) -> Value<'t>,
{
    gradgradcheck_with(f, x, Tolerance::default())
}

/// [`gradgradcheck`] with a chosen [`Tolerance`].
///
/// # Errors
///
/// As [`gradgradcheck`].
///
/// # Panics
///
/// As [`gradgradcheck`]: if `f` returns a value recorded on a tape other than its inputs'.
///
/// ```
/// use tapegrad::check::{gradgradcheck_with, Tolerance};
/// let report = gradgradcheck_with(|x| (x[0] * 10.0).exp(), &[1.0], Tolerance::default().rel(1e-4))?;
/// assert!(report.passed(), "{report}");
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn gradgradcheck_with<F>(f: F, x: &[f64], tolerance: Tolerance) -> Result<GradgradcheckReport>
where
    F: for<'t> Fn(&[Value<'t>]) -> Value<'t>,
{
    if x.is_empty() {
        return Err(Error::EmptyPoint);
    }
    let mut tape = Tape::new();
    let mut gradient_at = |p: &[f64]| {
        tape.clear();
        let leaves = tape.vars(p);
        let y = f(&leaves);
        assert!(
            std::ptr::eq(y.tape(), &tape),
            "tapegrad: gradgradcheck's function returned a value from another tape"
        );
        let grads = y.backward();
        (
            y.value(),
            leaves.iter().map(|&l| grads[l]).collect::<Vec<_>>(),
        )
    };
    let (value, gradient) = gradient_at(x);
    if !value.is_finite() {
        return Err(Error::NonFiniteFunction {
            value,
            point: x.to_vec(),
        });
    }
    let mut columns = Vec::with_capacity(x.len());
    let mut point = x.to_vec();
    for j in 0..x.len() {
        let xj = x[j];
        let h = f64::EPSILON.cbrt() * xj.abs().max(1.0);
        let (up, down) = (xj + h, xj - h);
        point[j] = up;
        let g_up = gradient_at(&point).1;
        point[j] = down;
        let g_down = gradient_at(&point).1;
        point[j] = xj;
        let step = up - down;
        columns.push(
            (0..x.len())
                .map(|i| (g_up[i] - g_down[i]) / step)
                .collect::<Vec<_>>(),
        );
    }
    let h = crate::hessian(&f, x)?;
    let mut entries = Vec::with_capacity(x.len() * x.len());
    for (i, row) in h.iter().enumerate() {
        for (j, &ad) in row.iter().enumerate() {
            let fd = columns[j][i];
            entries.push(SecondCheck {
                row: i,
                col: j,
                tape: ad,
                finite_difference: fd,
                abs_error: (ad - fd).abs(),
                passed: tolerance.accepts(ad, fd, gradient[i]),
            });
        }
    }
    Ok(GradgradcheckReport {
        gradient,
        entries,
        tolerance,
    })
}
