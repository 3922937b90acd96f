//! Gradients as values: the reverse sweep recorded on the tape itself, so that it can be
//! differentiated again ([`Value::grad`]).
//!
//! The first-order sweep multiplies plain partials that were computed when each op ran. To
//! differentiate the sweep, each partial must instead be a recorded [`Value`] that depends on
//! the op's inputs: `d(a * b)/da` is the node `b`, `sigmoid'(a)` is `s * sigmoid(-a)` from the
//! output `s`, and so on. A [traced](Tape::traced) tape keeps what that needs: each node's op
//! and forward value (9 bytes a node), plus one `(node, constant)` note (16 bytes) for each
//! `powi`, `powf`, `c / x` and dot of two value slices. An untraced tape records none of it;
//! its only extra cost is one never-taken branch in those four ops.
//!
//! Partials that are constants where the op is differentiable (`+`, `-`, times or divided by
//! a constant, `relu`, `abs`, `max`, `min`, `sum`, a dot with constants) are reused as they
//! are, so their second derivative is 0: exact away from the kinks, and the one-sided value
//! the first-order rule picked at a kink (`relu` and `abs` at 0, `max`/`min` at a tie).

use super::fused::Rule;
use super::record::{Records, SINK};
use super::{Op, Tape, Value};
use crate::error::{Error, Result};

/// What the sweep needs to know about one node: its inputs with their constant partials, or
/// with the values from which its partials are re-recorded.
enum Local {
    /// A leaf or a detached value: nothing to pass back.
    Leaf,
    /// A one- or two-input op; `b` is `None` for one input. Values are the inputs' and output's
    /// forward values.
    Elementary {
        op: Op,
        a: (u32, f64, f64),
        b: Option<(u32, f64, f64)>,
        y: f64,
        note: Option<f64>,
    },
    /// An n-ary node: `(input, partial, input value)` per edge; `paired` for a dot of two value
    /// slices, whose edges come in pairs `(a_k, b_k)`, `(b_k, a_k)`.
    Edges {
        op: Op,
        edges: Vec<(u32, f64, f64)>,
        paired: bool,
    },
    /// A fused dense layer output.
    Dense,
}

impl Records {
    /// Node `index`'s description, or `None` if the tape is not traced.
    fn local(&self, index: u32) -> Option<Local> {
        let trace = self.trace.as_ref()?;
        let value = |i: u32| trace.values[i as usize];
        let op = trace.ops[index as usize];
        if let Some(run) = self.run_of(index) {
            return Some(match run.rule {
                Rule::Leaves => Local::Leaf,
                Rule::Affine(_) => Local::Dense,
                Rule::Edges { .. } => {
                    let edges = self.fused.edges(run, index);
                    let edges = edges.into_iter().map(|(i, p)| {
                        let i = i as u32;
                        (i, p, value(i))
                    });
                    Local::Edges {
                        op,
                        edges: edges.collect(),
                        paired: op == Op::Dot && trace.note(index).is_some(),
                    }
                }
            });
        }
        let node = self.elementary()[self.position(index)];
        let input = |k: usize| {
            let slot = node.inputs[k];
            (slot != SINK).then(|| (slot - 1, node.partials[k], value(slot - 1)))
        };
        Some(Local::Elementary {
            op,
            a: input(0)?,
            b: input(1),
            y: value(index),
            note: trace.note(index),
        })
    }
}

impl<'t> Value<'t> {
    /// The gradient of `self` with respect to each of `wrt`, as [`Value`]s recorded on the
    /// same tape: the reverse sweep itself, op by op, so each gradient can be combined and
    /// differentiated again (PyTorch's `autograd.grad(..., create_graph=True)`).
    /// `g[0].backward()[x]` is then a second derivative; [`hessian`](crate::hessian) and
    /// [`hvp`](crate::hvp) are built on it.
    ///
    /// Needs a [traced](Tape::traced) tape, which keeps each node's op and value (9 bytes a
    /// node over the 24 of an untraced one). The sweep records a few nodes per node it passes
    /// (one to four for an elementary op), and only for nodes from the lowest of `wrt` up to
    /// `self`. The values equal [`Value::backward`]'s up to rounding (the partials are
    /// recomputed, sometimes in another form: `sigmoid'` as `s * sigmoid(-x)`, `tanh'` as
    /// `1 - t^2`).
    ///
    /// Second derivatives through `relu`, `abs`, `max` and `min` are 0: exact away from
    /// their kinks; at a kink or a tie the first derivative is the one [`Value::backward`]
    /// picks (see the [numerics table](crate::numerics)) and it is constant nearby.
    ///
    /// # Errors
    ///
    /// - [`Error::GradNeedsTrace`] if the tape is not traced.
    /// - [`Error::NoSecondDerivative`] for a node between `wrt` and `self` whose derivative
    ///   is not recordable: a [`Tape::custom`] op (its partials are plain numbers), a fused
    ///   dense layer or a fused loss (such as [`mse`](crate::mse)). Build those from scalar
    ///   ops instead ([`Bound::forward_unfused`](crate::Bound::forward_unfused) for a model,
    ///   and the loss written out).
    ///
    /// # Panics
    ///
    /// If a value of `wrt` is from another tape.
    ///
    /// ```
    /// let tape = tapegrad::Tape::traced();
    /// let x = tape.var(2.0);
    /// let y = x.powi(3);                      // y = x^3
    /// let dy = y.grad(&[x])?[0];              // 3 x^2, a value on the tape
    /// assert_eq!(dy.value(), 12.0);
    /// assert_eq!(dy.backward()[x], 12.0);     // d2y/dx2 = 6 x
    /// assert_eq!(dy.grad(&[x])?[0].backward()[x], 6.0); // d3y/dx3
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[track_caller]
    pub fn grad(self, wrt: &[Value<'t>]) -> Result<Vec<Value<'t>>> {
        let tape = self.tape;
        for w in wrt {
            tape.check_same(w.tape);
        }
        if !tape.is_traced() {
            return Err(Error::GradNeedsTrace);
        }
        let zero = || tape.var(0.0);
        let Some(lowest) = wrt.iter().map(|w| w.index).min() else {
            return Ok(Vec::new());
        };
        let out = self.index;
        if lowest > out {
            return Ok(wrt.iter().map(|_| zero()).collect());
        }
        let mut adjoint: Vec<Option<Value<'t>>> = vec![None; out as usize + 1];
        adjoint[out as usize] = Some(tape.var(1.0));
        for i in (lowest..=out).rev() {
            let Some(g) = adjoint[i as usize] else {
                continue;
            };
            let local = tape.records_ref().local(i).ok_or(Error::GradNeedsTrace)?;
            pass_back(tape, i, g, local, &mut adjoint)?;
        }
        let result = wrt
            .iter()
            .map(|w| adjoint.get(w.index as usize).copied().flatten());
        Ok(result.map(|g| g.unwrap_or_else(zero)).collect())
    }
}

/// Adds `g`'s contributions to node `i`'s inputs' adjoints.
fn pass_back<'t>(
    tape: &'t Tape,
    i: u32,
    g: Value<'t>,
    local: Local,
    adjoint: &mut [Option<Value<'t>>],
) -> Result<()> {
    let value = |(index, _, v): (u32, f64, f64)| Value::new(tape, index, v);
    let mut add = |input: u32, contribution: Value<'t>| {
        let slot = &mut adjoint[input as usize];
        *slot = Some(match *slot {
            Some(sum) => sum + contribution,
            None => contribution,
        });
    };
    // A constant partial: g * p, skipped where p is 0 (a closed relu, max's other side).
    let constant = |add: &mut dyn FnMut(u32, Value<'t>), input: u32, p: f64| {
        if p == 1.0 {
            add(input, g);
        } else if p != 0.0 {
            add(input, g * p);
        }
    };
    let unsupported = |op: Op| Error::NoSecondDerivative {
        op: op.name(),
        node: i as usize,
    };
    match local {
        Local::Leaf => {}
        Local::Dense => return Err(unsupported(Op::Dense)),
        Local::Edges { op, edges, paired } => match op {
            Op::Sum => {
                for (input, p, _) in edges {
                    constant(&mut add, input, p);
                }
            }
            Op::Dot if paired => {
                for pair in edges.chunks_exact(2) {
                    add(pair[0].0, g * value(pair[1]));
                    add(pair[1].0, g * value(pair[0]));
                }
            }
            Op::Dot => {
                for (input, p, _) in edges {
                    constant(&mut add, input, p);
                }
            }
            _ => return Err(unsupported(op)),
        },
        Local::Elementary { op, a, b, y, note } => {
            let (x, y) = (value(a), Value::new(tape, i, y));
            match (op, b) {
                // Constant partials.
                (Op::Add | Op::Sub | Op::Neg | Op::Relu | Op::Abs | Op::Max | Op::Min, _)
                | (Op::Mul, None) => {
                    constant(&mut add, a.0, a.1);
                    if let Some(b) = b {
                        constant(&mut add, b.0, b.1);
                    }
                }
                (Op::Div, None) => match note {
                    // y = c / x;  dy/dx = -y / x
                    Some(_) => add(a.0, -(g * y / x)),
                    // y = x / c;  dy/dx = 1 / c
                    None => constant(&mut add, a.0, a.1),
                },
                // y = a b;  dy/da = b, dy/db = a
                (Op::Mul, Some(b)) => {
                    add(a.0, g * value(b));
                    add(b.0, g * x);
                }
                // y = a / b;  dy/da = 1 / b, dy/db = -y / b
                (Op::Div, Some(b)) => {
                    let b_value = value(b);
                    add(a.0, g / b_value);
                    add(b.0, -(g * y / b_value));
                }
                // s' = s (1 - s) = s sigmoid(-x), without the cancellation of 1 - s near 1
                (Op::Sigmoid, None) => add(a.0, g * (y * (-x).sigmoid())),
                (Op::Tanh, None) => add(a.0, g * (1.0 - y.square())),
                (Op::Exp, None) => add(a.0, g * y),
                (Op::Ln, None) => add(a.0, g / x),
                (Op::Powf | Op::Powi, None) => {
                    let p = note.unwrap_or(0.0);
                    if p == 1.0 {
                        add(a.0, g);
                    } else if p != 0.0 {
                        // p x^(p - 1), in the form the op's own rule took (ops::powi: x^(n + 1)
                        // / x^2 for n = i32::MIN; ops::powf_slope: p x^p / x where x^(p - 1)
                        // overflows)
                        let derivative = match op {
                            Op::Powi if p == f64::from(i32::MIN) => {
                                (x.powi(i32::MIN + 1) / (x * x)) * p
                            }
                            Op::Powi => x.powi(p as i32 - 1) * p,
                            _ if super::ops::powf_slope(x.value(), p, y.value()).1 => (y * p) / x,
                            _ => x.powf(p - 1.0) * p,
                        };
                        add(a.0, g * derivative);
                    }
                }
                (Op::Sin, None) => add(a.0, g * x.cos()),
                (Op::Cos, None) => add(a.0, -(g * x.sin())),
                // sqrt' = 1 / (2 sqrt x) = 0.5 / y; y + 0 turns sqrt(-0) = -0 into +0, so that
                // the derivative there is +inf, as backward gives (an abs would put its kink's
                // 0 partial into the second derivative at x = 0)
                (Op::Sqrt, None) => add(a.0, g * 0.5 / (y + 0.0)),
                (Op::Square, None) => add(a.0, g * x * 2.0),
                (op, _) => return Err(unsupported(op)),
            }
        }
    }
    Ok(())
}
