//! Second derivatives of a function of a point: its Hessian and Hessian-vector products, from
//! [`Value::grad`] (the reverse sweep recorded on the tape, then swept again).

use crate::engine::{Gradients, Tape, Value};
use crate::error::{Error, Result};

/// Records `f` at `x` on a traced tape and its gradient as values; calls `then` with them.
fn with_gradient<F, R>(
    f: F,
    x: &[f64],
    then: impl FnOnce(&Tape, &[Value<'_>], Vec<Value<'_>>) -> R,
) -> Result<R>
where
    F: for<'t> Fn(&[Value<'t>]) -> Value<'t>,
{
    if x.is_empty() {
        return Err(Error::EmptyPoint);
    }
    let tape = Tape::traced();
    let leaves = tape.vars(x);
    let y = f(&leaves);
    assert!(
        std::ptr::eq(y.tape(), &tape),
        "tapegrad: the function returned a value from another tape"
    );
    let gradient = y.grad(&leaves)?;
    Ok(then(&tape, &leaves, gradient))
}

/// The Hessian of `f` at `x`: `h[i][j] = d2 f / dx_i dx_j`, row `i` being the gradient of
/// `df/dx_i` (one [`Value::grad`] and then one reverse sweep per row).
///
/// `f` receives one leaf per entry of `x` on a fresh [traced](Tape::traced) tape, as for
/// [`gradcheck`](crate::check::gradcheck). Mathematically the matrix is symmetric; the two
/// triangles are computed separately and agree to rounding. Where `f` is not twice
/// differentiable the entries are whatever the ops' rules give (see [`Value::grad`] for the
/// kinks), and NaN or infinite where the ops' derivatives are.
///
/// # Errors
///
/// - [`Error::EmptyPoint`] if `x` is empty.
/// - [`Error::NoSecondDerivative`] if `f` uses an op whose derivative cannot be recorded (a
///   custom op, a fused loss such as [`mse`](crate::mse)).
///
/// # Panics
///
/// If `f` returns a value recorded on a tape other than the one its inputs are on.
///
/// ```
/// // f(x, y) = x^2 y + y^3: H = [[2y, 2x], [2x, 6y]]
/// let h = tapegrad::hessian(|v| v[0].square() * v[1] + v[1].powi(3), &[1.0, 2.0])?;
/// assert_eq!(h, vec![vec![4.0, 2.0], vec![2.0, 12.0]]);
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn hessian<F>(f: F, x: &[f64]) -> Result<Vec<Vec<f64>>>
where
    F: for<'t> Fn(&[Value<'t>]) -> Value<'t>,
{
    with_gradient(f, x, |_, leaves, gradient| {
        let mut grads = Gradients::new();
        let row = |g: &Value<'_>, grads: &mut Gradients| {
            g.backward_into(grads);
            leaves.iter().map(|&l| grads[l]).collect()
        };
        gradient.iter().map(|g| row(g, &mut grads)).collect()
    })
}

/// The Hessian of `f` at `x` times the vector `v`, `H v`, without forming `H`: the gradient
/// of `sum_i v_i df/dx_i`, one [`Value::grad`] and one reverse sweep whatever the number of
/// inputs (a small constant times the cost of one gradient; the bench measures it).
///
/// `f` is called once, as for [`hessian`].
///
/// # Errors
///
/// - [`Error::EmptyPoint`] if `x` is empty.
/// - [`Error::DirectionSize`] if `v` and `x` have different lengths.
/// - [`Error::NoSecondDerivative`] as for [`hessian`].
///
/// # Panics
///
/// If `f` returns a value recorded on a tape other than the one its inputs are on.
///
/// ```
/// // f(x, y) = x^2 y: H = [[2y, 2x], [2x, 0]]
/// let hv = tapegrad::hvp(|v| v[0].square() * v[1], &[3.0, 2.0], &[1.0, -1.0])?;
/// assert_eq!(hv, vec![4.0 - 6.0, 6.0]);
/// # Ok::<(), tapegrad::Error>(())
/// ```
pub fn hvp<F>(f: F, x: &[f64], v: &[f64]) -> Result<Vec<f64>>
where
    F: for<'t> Fn(&[Value<'t>]) -> Value<'t>,
{
    if v.len() != x.len() {
        return Err(Error::DirectionSize {
            expected: x.len(),
            found: v.len(),
        });
    }
    with_gradient(f, x, |tape, leaves, gradient| {
        let directional = tape.dot(&gradient, v);
        let grads = directional.backward();
        leaves.iter().map(|&l| grads[l]).collect()
    })
}
