//! Every scalar op's value and derivative, and every fused loss's, against high-precision
//! references (mpmath, 80 digits) over a grid with zeros, subnormals, saturation points and the
//! largest finite values: `tests/data/numerics.csv`, written by
//! `tests/python/numerics_reference.py`.
//!
//! The rule for each number: NaN exactly where the true result is not a real number; the
//! infinity where the true result is beyond f64's range (or is that limit, as `ln 0`); else
//! finite, within a relative 1e-12 of the reference or 4 units of the smallest subnormal
//! (which is all the precision f64 has there), or within the row's documented absolute bound
//! (src/numerics.md says which ops have one, and why).

use tapegrad::{bce_with_logits, hinge, mse, Tape};

const REL: f64 = 1e-12;
const SUBNORMAL_FLOOR: f64 = 4.0 * 5e-324;

/// One row of the table.
struct Row<'a> {
    line: usize,
    op: &'a str,
    a: f64,
    b: Option<&'a str>,
    want: [Option<f64>; 3],
    abs_tol: f64,
}

fn parse(x: &str) -> f64 {
    x.parse().unwrap_or_else(|_| panic!("not a number: {x:?}"))
}

/// The op's value and partial derivatives, computed on a tape.
fn compute(op: &str, a: f64, b: Option<&str>) -> [f64; 3] {
    let tape = Tape::new();
    let x = tape.var(a);
    let unary = |y: tapegrad::Value<'_>| [y.value(), y.backward()[x], f64::NAN];
    let b_num = || parse(b.expect("a second operand"));
    match op {
        "sigmoid" => unary(x.sigmoid()),
        "tanh" => unary(x.tanh()),
        "relu" => unary(x.relu()),
        "exp" => unary(x.exp()),
        "ln" => unary(x.ln()),
        "sin" => unary(x.sin()),
        "cos" => unary(x.cos()),
        "sqrt" => unary(x.sqrt()),
        "abs" => unary(x.abs()),
        "square" => unary(x.square()),
        "neg" => unary(-x),
        "powf" => unary(x.powf(b_num())),
        "powi" => unary(x.powi(b.unwrap().parse().unwrap())),
        "bce" => unary(bce_with_logits(&[x], &[b_num()]).unwrap()),
        "hinge" => unary(hinge(&[x], &[b_num()]).unwrap()),
        "mse" => unary(mse(&[x], &[b_num()]).unwrap()),
        _ => {
            let y = tape.var(b_num());
            let out = match op {
                "add" => x + y,
                "sub" => x - y,
                "mul" => x * y,
                "div" => x / y,
                "max" => x.max(y),
                "min" => x.min(y),
                other => panic!("unknown op {other}"),
            };
            let g = out.backward();
            [out.value(), g[x], g[y]]
        }
    }
}

/// Why `got` is not acceptable for `want`, if it is not; else its relative error (0 for exact
/// or non-finite agreement, and for results in the subnormal range).
fn check(got: f64, want: f64, abs_tol: f64) -> Result<Checked, String> {
    if want.is_nan() {
        return if got.is_nan() {
            Ok(Checked::Exact)
        } else {
            Err("expected NaN".into())
        };
    }
    if want.is_infinite() {
        return if got == want {
            Ok(Checked::Exact)
        } else {
            Err(format!("expected {want}"))
        };
    }
    if !got.is_finite() {
        return Err("not finite where the true result is".into());
    }
    let err = (got - want).abs();
    // A reference of exactly 0 has no relative error to spare: only the subnormal floor or a
    // documented bound admits anything but 0 there.
    let rel = match (want == 0.0, err == 0.0) {
        (_, true) => 0.0,
        (true, false) => f64::INFINITY,
        (false, false) => err / want.abs(),
    };
    if rel <= REL && want.abs() >= f64::MIN_POSITIVE {
        Ok(Checked::Relative(rel))
    } else if err <= SUBNORMAL_FLOOR {
        Ok(Checked::Exact)
    } else if rel <= REL {
        Ok(Checked::Relative(rel))
    } else if err <= abs_tol {
        Ok(Checked::Documented(rel))
    } else {
        Err(format!("relative error {rel:.3e}"))
    }
}

/// How a number passed.
enum Checked {
    /// Equal, NaN as expected, the expected infinity, or within the subnormal floor.
    Exact,
    /// Within the relative bound, with this relative error.
    Relative(f64),
    /// Only within the row's documented absolute bound, with this relative error.
    Documented(f64),
}

#[test]
fn every_op_and_loss_matches_the_high_precision_table() {
    let text = include_str!("data/numerics.csv");
    let mut rows = Vec::new();
    for (k, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 8, "line {}: {line}", k + 1);
        let opt = |s: &str| (!s.is_empty()).then(|| parse(s));
        rows.push(Row {
            line: k + 1,
            op: f[0],
            a: parse(f[1]),
            b: (!f[2].is_empty()).then_some(f[2]),
            want: [opt(f[3]), opt(f[4]), opt(f[5])],
            abs_tol: opt(f[6]).unwrap_or(0.0),
        });
    }
    let mut failures = Vec::new();
    let mut worst = (0.0, String::new());
    let mut documented = Vec::new();
    let mut ops = std::collections::BTreeMap::<&str, usize>::new();
    for row in &rows {
        *ops.entry(row.op).or_default() += 1;
        let got = compute(row.op, row.a, row.b);
        for (i, (what, want)) in ["value", "d/da", "d/db"].iter().zip(row.want).enumerate() {
            let Some(want) = want else { continue };
            let context = || {
                format!(
                    "line {}: {}({:?}{}) {what}: got {:e}, want {want:e}",
                    row.line,
                    row.op,
                    row.a,
                    row.b.map(|b| format!(", {b}")).unwrap_or_default(),
                    got[i]
                )
            };
            match check(got[i], want, row.abs_tol) {
                Ok(Checked::Relative(rel)) if rel > worst.0 => worst = (rel, context()),
                Ok(Checked::Documented(rel)) => {
                    documented.push(format!("{} (relative {rel:.3e})", context()))
                }
                Ok(_) => {}
                Err(why) => failures.push(format!("{}: {why}", context())),
            }
        }
    }
    println!("{} rows over {} ops: {ops:?}", rows.len(), ops.len());
    println!("worst relative error {:.3e} ({})", worst.0, worst.1);
    println!(
        "{} numbers within only their documented bound:\n{}",
        documented.len(),
        documented.join("\n")
    );
    assert!(
        rows.len() > 3000,
        "the table is incomplete: {} rows",
        rows.len()
    );
    // Every op the table is meant to cover, each over its grid (a regenerated table that lost
    // one would otherwise still pass on the others' rows).
    let expected = [
        "abs", "add", "bce", "cos", "div", "exp", "hinge", "ln", "max", "min", "mse", "mul", "neg",
        "powf", "powi", "relu", "sigmoid", "sin", "sqrt", "square", "sub", "tanh",
    ];
    for op in expected {
        let n = ops.get(op).copied().unwrap_or(0);
        assert!(n >= 70, "the table has {n} rows of {op}");
    }
    assert_eq!(ops.len(), expected.len(), "ops in the table: {ops:?}");
    assert!(
        failures.is_empty(),
        "{} of {} rows fail:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
