//! Graphviz export: the part of a tape that leads to a [`Value`], as DOT text.
//!
//! ```text
//! digraph tape {
//!   n0 [shape=ellipse, label="w1\nvalue 0.5\ngrad 2"];     leaf: its name, or "leaf #0"
//!   n2 [shape=box, label="mul #2\nvalue 1.5\ngrad 1"];      op: its name and node index
//!   n0 -> n2;                                              operand -> result
//! }
//! ```
//!
//! Only a [traced](Tape::traced) tape keeps each node's op and forward value, so only its values
//! can be exported; on a plain tape [`Graphviz::render`] returns [`Error::UntracedTape`] (tracing
//! cannot be switched on after the fact). Nodes that do not lead to the output are left out.
//! Nodes come in creation order and edges in recording order, so the same graph always gives
//! the same text. Render it with `dot -Tsvg graph.dot -o graph.svg`.

use crate::engine::{Gradients, Op, Tape, Value};
use crate::error::{Error, Result};
use std::fmt::Write as _;

/// A DOT export of everything that leads to one [`Value`] on a [traced](Tape::traced) tape.
///
/// Each op is one node labelled with its op name, node index, forward value and (when
/// [`Graphviz::gradients`] are given) gradient; leaves are ellipses labelled with their
/// [name](Value::named) or `leaf #i`; the output has a double border. Edges go from operands to
/// results, one per recorded edge (so `x * x` draws two).
///
/// ```
/// use tapegrad::{Graphviz, Tape};
/// let tape = Tape::traced();
/// let a = tape.var(2.0).named("a");
/// let b = tape.var(3.0).named("b");
/// let y = (a * b).named("y");
/// let grads = y.backward();
/// let dot = Graphviz::new(y).gradients(&grads).render()?;
/// assert!(dot.starts_with("digraph tape {"));
/// assert!(dot.contains("n0 [shape=ellipse, label=\"a\\nvalue 2\\ngrad 3\"];"));
/// assert!(dot.contains("n2 [shape=box, peripheries=2, label=\"y: mul #2\\nvalue 6\\ngrad 1\"];"));
/// assert!(dot.contains("n0 -> n2;") && dot.contains("n1 -> n2;"));
/// # Ok::<(), tapegrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Graphviz<'a, 't> {
    output: Value<'t>,
    grads: Option<&'a Gradients>,
    digits: Option<usize>,
}

impl<'a, 't> Graphviz<'a, 't> {
    /// An export of the graph that leads to `output`, numbers to 4 significant digits, no
    /// gradients.
    #[must_use]
    pub fn new(output: Value<'t>) -> Self {
        Graphviz {
            output,
            grads: None,
            digits: Some(4),
        }
    }

    /// Adds each node's gradient (from a reverse sweep on the same recording) to its label.
    #[must_use]
    pub fn gradients(mut self, grads: &'a Gradients) -> Self {
        self.grads = Some(grads);
        self
    }

    /// Significant digits for values and gradients (default 4), taken as 1 to 17 (an `f64`
    /// holds no more than 17); `None` prints the shortest text that reads back as the same
    /// `f64`.
    ///
    /// ```
    /// let tape = tapegrad::Tape::traced();
    /// let y = tape.var(1.0 / 3.0);
    /// let full = tapegrad::Graphviz::new(y).precision(None).render()?;
    /// assert!(full.contains("value 0.3333333333333333\""));
    /// assert!(tapegrad::Graphviz::new(y).precision(Some(2)).render()?.contains("value 0.33\""));
    /// # Ok::<(), tapegrad::Error>(())
    /// ```
    #[must_use]
    pub fn precision(mut self, digits: Option<usize>) -> Self {
        self.digits = digits.map(|d| d.clamp(1, 17));
        self
    }

    /// The DOT text.
    ///
    /// # Errors
    ///
    /// - [`Error::UntracedTape`] if the output's tape was not made with [`Tape::traced`].
    /// - [`Error::ForeignGradients`] if the gradients come from another tape or from before a
    ///   [`Tape::clear`].
    ///
    /// ```
    /// use tapegrad::{Graphviz, Error, Tape};
    /// let plain = Tape::new();
    /// let y = plain.var(1.0) + 1.0;
    /// assert_eq!(Graphviz::new(y).render(), Err(Error::UntracedTape));
    /// ```
    pub fn render(&self) -> Result<String> {
        let tape = self.output.tape();
        if !tape.is_traced() {
            return Err(Error::UntracedTape);
        }
        if let Some(g) = self.grads {
            if !g.is_for(tape) {
                return Err(Error::ForeignGradients);
            }
        }
        let out = self.output.index();
        let edges: Vec<Vec<(usize, f64)>> = (0..=out)
            .map(|i| tape.edges(i).unwrap_or_default())
            .collect();
        let needed = reachable(&edges, out);

        // A fused layer's outputs are drawn as one box, named after its first output.
        let box_of = |i: usize| tape.fused_run(i).map_or(i, |run| run.0);
        let mut dot = String::from("digraph tape {\n  rankdir=LR;\n");
        dot.push_str("  node [fontname=\"Helvetica\", fontsize=10];\n");
        for i in (0..=out).filter(|&i| needed[i]) {
            match tape.fused_run(i) {
                Some(run) if run.0 == i => self.write_fused(&mut dot, tape, run),
                Some(_) => {}
                None => self.write_node(&mut dot, tape, i),
            }
        }
        let mut drawn = std::collections::BTreeSet::new();
        for (i, parents) in edges.iter().enumerate().filter(|&(i, _)| needed[i]) {
            for &(p, _) in parents {
                let (from, to) = (box_of(p), box_of(i));
                if drawn.insert((from, to)) || from == p && to == i {
                    let _ = writeln!(dot, "  n{from} -> n{to};");
                }
            }
        }
        dot.push_str("}\n");
        Ok(dot)
    }

    /// One box for a fused dense layer: its op and sizes, then each output's value (and
    /// gradient).
    fn write_fused(
        &self,
        dot: &mut String,
        tape: &Tape,
        (first, outputs, inputs, act): (usize, usize, usize, Option<Op>),
    ) {
        let act = act.map_or(String::new(), |op| format!(" {}", op.name()));
        let last = first + outputs - 1;
        let mut label = format!(
            "{} {inputs}->{outputs}{act} #{first}..{last}",
            Op::Dense.name()
        );
        let list = |xs: &mut dyn Iterator<Item = f64>| {
            xs.map(|x| number(x, self.digits))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let values = list(&mut (first..=last).map(|i| tape.value_of(i).unwrap_or(f64::NAN)));
        let _ = write!(label, "\\nvalues {values}");
        if let Some(g) = self.grads {
            let grad = |i: usize| g.as_slice().get(i).copied().unwrap_or(0.0);
            let _ = write!(label, "\\ngrads {}", list(&mut (first..=last).map(grad)));
        }
        let border = if (first..=last).contains(&self.output.index()) {
            ", peripheries=2"
        } else {
            ""
        };
        let _ = writeln!(dot, "  n{first} [shape=box3d{border}, label=\"{label}\"];");
    }

    fn write_node(&self, dot: &mut String, tape: &Tape, i: usize) {
        let op = tape.op_at(i).unwrap_or(Op::Leaf);
        let name = tape.name_of(i);
        let mut label = match (op, name) {
            (Op::Leaf, Some(name)) => escape(&name),
            (Op::Leaf, None) => format!("leaf #{i}"),
            (op, Some(name)) => format!("{}: {} #{i}", escape(&name), op.name()),
            (op, None) => format!("{} #{i}", op.name()),
        };
        let value = tape.value_of(i).unwrap_or(f64::NAN);
        let _ = write!(label, "\\nvalue {}", number(value, self.digits));
        if let Some(g) = self.grads {
            let grad = g.as_slice().get(i).copied().unwrap_or(0.0);
            let _ = write!(label, "\\ngrad {}", number(grad, self.digits));
        }
        let shape = if op == Op::Leaf { "ellipse" } else { "box" };
        let border = if i == self.output.index() {
            ", peripheries=2"
        } else {
            ""
        };
        let _ = writeln!(dot, "  n{i} [shape={shape}{border}, label=\"{label}\"];");
    }
}

/// Marks every node from which `out` can be reached (including `out`), by one reverse pass:
/// parents always come before their children.
fn reachable(edges: &[Vec<(usize, f64)>], out: usize) -> Vec<bool> {
    let mut needed = vec![false; out + 1];
    needed[out] = true;
    for i in (0..=out).rev() {
        if needed[i] {
            for &(p, _) in &edges[i] {
                needed[p] = true;
            }
        }
    }
    needed
}

/// Makes `name` safe inside a DOT double-quoted label: `\` and `"` are escaped, a newline
/// becomes a label line break, and other control characters become spaces.
fn escape(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c if c.is_control() => s.push(' '),
            c => s.push(c),
        }
    }
    s
}

/// `x` to `digits` significant digits (like C's `%g`, trailing zeros dropped), or the shortest
/// round-trip text when `digits` is `None`.
fn number(x: f64, digits: Option<usize>) -> String {
    let Some(d) = digits else {
        return format!("{x:?}").trim_end_matches(".0").to_string();
    };
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    // Round first, then read the exponent of the rounded number (9.99995 -> 1.000e1).
    let sci = format!("{x:.*e}", d - 1);
    let exp: i32 = sci
        .split_once('e')
        .map_or(0, |(_, e)| e.parse().unwrap_or(0));
    if exp < -4 || exp >= d as i32 {
        return sci;
    }
    let decimals = (d as i32 - 1 - exp).max(0) as usize;
    let fixed = format!("{x:.decimals$}");
    if fixed.contains('.') {
        fixed
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        fixed
    }
}

#[cfg(test)]
mod tests {
    use super::{escape, number};

    #[test]
    fn numbers_round_to_significant_digits() {
        assert_eq!(number(0.5236951740839997, Some(4)), "0.5237");
        assert_eq!(number(1.0, Some(4)), "1");
        assert_eq!(number(-20.0, Some(4)), "-20");
        assert_eq!(number(123456.0, Some(4)), "1.235e5");
        assert_eq!(number(0.00001234, Some(3)), "1.23e-5");
        assert_eq!(number(9.99995, Some(4)), "10");
        assert_eq!(number(f64::NAN, Some(4)), "NaN");
        assert_eq!(number(f64::NEG_INFINITY, Some(4)), "-inf");
        assert_eq!(number(1.0 / 3.0, None), "0.3333333333333333");
        assert_eq!(number(2.0, None), "2");
        assert_eq!(number(1e-7, None), "1e-7");
    }

    #[test]
    fn escaping_keeps_quotes_and_backslashes_literal() {
        assert_eq!(escape(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(escape("two\nlines\t!"), "two\\nlines !");
    }
}
