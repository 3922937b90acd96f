//! Inspection: what a [traced](Tape::traced) tape keeps (each node's op, forward value and
//! name), and what any tape reports about its recording (edges, sizes). Tracing changes nothing
//! else: the same nodes are recorded and the same gradients come out.

use super::affine::AffineInputs;
use super::fused::{Fused, Rule, Run};
use super::record::{Node, Records, SINK};
use super::{fused, Tape, Value};
use std::collections::BTreeMap;

/// What produced a node; kept only by a [traced](Tape::traced) tape, for inspection.
///
/// ```
/// use tapegrad::{Op, Tape};
/// let tape = Tape::traced();
/// let y = tape.var(2.0).sigmoid();
/// assert_eq!(tape.op(y), Some(Op::Sigmoid));
/// assert_eq!(Op::Sigmoid.name(), "sigmoid");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// An input: a variable or constant created with [`Tape::var`].
    Leaf,
    /// `a + b`, or a `Value` plus a constant.
    Add,
    /// `a - b`, or a `Value` minus a constant (or a constant minus a `Value`).
    Sub,
    /// `a * b`, or a `Value` times a constant.
    Mul,
    /// `a / b`, or a division with a constant on one side.
    Div,
    /// `-a`.
    Neg,
    /// [`Value::sigmoid`].
    Sigmoid,
    /// [`Value::tanh`].
    Tanh,
    /// [`Value::relu`].
    Relu,
    /// [`Value::exp`].
    Exp,
    /// [`Value::ln`].
    Ln,
    /// [`Value::powf`].
    Powf,
    /// [`Value::powi`].
    Powi,
    /// [`Value::sin`].
    Sin,
    /// [`Value::cos`].
    Cos,
    /// [`Value::sqrt`].
    Sqrt,
    /// [`Value::abs`].
    Abs,
    /// [`Value::square`].
    Square,
    /// [`Value::max`].
    Max,
    /// [`Value::min`].
    Min,
    /// [`Value::detach`]: a new leaf holding another node's value.
    Detach,
    /// A node recorded with [`Tape::custom`].
    Custom,
    /// [`Tape::sum`], or the [`Sum`](std::iter::Sum) of an iterator of values.
    Sum,
    /// [`Tape::dot`].
    Dot,
    /// One output of a fused dense layer, `act(W x + b)` (recorded by a bound model's forward
    /// pass).
    Dense,
    /// A fused loss node such as [`mse`](crate::mse).
    Loss,
}

impl Op {
    /// The op's short lowercase name, as used in graph exports.
    ///
    /// ```
    /// assert_eq!(tapegrad::Op::Add.name(), "add");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Op::Leaf => "leaf",
            Op::Add => "add",
            Op::Sub => "sub",
            Op::Mul => "mul",
            Op::Div => "div",
            Op::Neg => "neg",
            Op::Sigmoid => "sigmoid",
            Op::Tanh => "tanh",
            Op::Relu => "relu",
            Op::Exp => "exp",
            Op::Ln => "ln",
            Op::Powf => "powf",
            Op::Powi => "powi",
            Op::Sin => "sin",
            Op::Cos => "cos",
            Op::Sqrt => "sqrt",
            Op::Abs => "abs",
            Op::Square => "square",
            Op::Max => "max",
            Op::Min => "min",
            Op::Detach => "detach",
            Op::Custom => "custom",
            Op::Sum => "sum",
            Op::Dot => "dot",
            Op::Dense => "dense",
            Op::Loss => "loss",
        }
    }
}

/// Each node's op and forward value, by node index, and the names given with [`Value::named`].
#[derive(Debug, Default)]
pub(crate) struct Trace {
    pub(crate) ops: Vec<Op>,
    pub(crate) values: Vec<f64>,
    pub(crate) names: BTreeMap<u32, String>,
    /// `(node, constant)` for the nodes whose derivative needs more than their op and inputs
    /// to be re-recorded by [`Value::grad`]: `powi`'s and `powf`'s exponent, `c / x`'s `c`, and
    /// a 1 marking a dot of two value slices. In node order.
    pub(crate) notes: Vec<(u32, f64)>,
}

impl Trace {
    #[inline]
    pub(crate) fn push(&mut self, op: Op, value: f64) {
        self.ops.push(op);
        self.values.push(value);
    }

    /// Keeps the ops and values of a run of nodes.
    pub(crate) fn extend(&mut self, op: Op, values: &[f64]) {
        self.ops.extend(std::iter::repeat_n(op, values.len()));
        self.values.extend_from_slice(values);
    }

    /// Keeps elementary node `index`'s op and value, and the constant its derivative needs.
    #[inline]
    pub(crate) fn record(&mut self, index: u32, op: Op, value: f64, constant: Option<f64>) {
        self.push(op, value);
        if let Some(c) = constant {
            self.notes.push((index, c));
        }
    }

    pub(crate) fn clear(&mut self) {
        self.ops.clear();
        self.values.clear();
        self.names.clear();
        self.notes.clear();
    }

    /// The constant noted for node `index`, if any.
    pub(crate) fn note(&self, index: u32) -> Option<f64> {
        let k = self.notes.partition_point(|&(i, _)| i < index);
        self.notes
            .get(k)
            .filter(|&&(i, _)| i == index)
            .map(|&(_, c)| c)
    }
}

impl Tape {
    /// An empty tape that also keeps each node's op, forward value and name, for inspection
    /// ([`Tape::op`], [`Tape::value_of`], [`Graphviz`](crate::Graphviz)). It records the same nodes and
    /// gives the same gradients as any other tape. What it keeps is also what [`Value::grad`]
    /// (second derivatives) needs.
    ///
    /// ```
    /// let tape = tapegrad::Tape::traced();
    /// let y = tape.var(3.0) * 2.0;
    /// assert_eq!(tape.value_of(y.index()), Some(6.0));
    /// ```
    #[must_use]
    pub fn traced() -> Self {
        let tape = Self::new();
        tape.records_mut().start_trace();
        tape
    }

    /// The op that produced `value`, if this tape is [traced](Tape::traced).
    ///
    /// # Panics
    ///
    /// If `value` is from another tape.
    ///
    /// ```
    /// let tape = tapegrad::Tape::traced();
    /// let x = tape.var(1.0);
    /// assert_eq!(tape.op(x.exp()), Some(tapegrad::Op::Exp));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn op(&self, value: Value<'_>) -> Option<Op> {
        self.check_same(value.tape);
        self.op_at(value.index as usize)
    }

    /// The op of node `index`, if this tape is traced and the node exists.
    pub(crate) fn op_at(&self, index: usize) -> Option<Op> {
        let r = self.records_ref();
        r.trace.as_ref().and_then(|t| t.ops.get(index).copied())
    }

    /// The forward value of node `index`, if this tape is [traced](Tape::traced) and the node
    /// exists.
    ///
    /// ```
    /// let tape = tapegrad::Tape::traced();
    /// let y = tape.var(2.0).powi(3);
    /// assert_eq!(tape.value_of(y.index()), Some(8.0));
    /// ```
    #[must_use]
    pub fn value_of(&self, index: usize) -> Option<f64> {
        let r = self.records_ref();
        r.trace.as_ref().and_then(|t| t.values.get(index).copied())
    }

    /// Whether this tape keeps each node's op, value and name ([`Tape::traced`]).
    #[must_use]
    pub fn is_traced(&self) -> bool {
        self.records_ref().trace.is_some()
    }

    /// The name given to node `index` with [`Value::named`], if any (only a
    /// [traced](Tape::traced) tape keeps names).
    ///
    /// ```
    /// let tape = tapegrad::Tape::traced();
    /// let w = tape.var(0.5).named("w1");
    /// assert_eq!(tape.name_of(w.index()).as_deref(), Some("w1"));
    /// ```
    #[must_use]
    pub fn name_of(&self, index: usize) -> Option<String> {
        let r = self.records_ref();
        let index = u32::try_from(index).ok()?;
        r.trace.as_ref().and_then(|t| t.names.get(&index).cloned())
    }
}

impl<'t> Value<'t> {
    /// Gives this node a name for [graph exports](crate::Graphviz) and returns the value unchanged,
    /// so it chains: `tape.var(0.5).named("w1")`. Naming a node again replaces its name.
    ///
    /// Names are part of the trace: a tape made with [`Tape::new`] does not keep them (the call
    /// does nothing there), one made with [`Tape::traced`] does, until [`Tape::clear`].
    ///
    /// ```
    /// let tape = tapegrad::Tape::traced();
    /// let w = tape.var(0.5).named("w1");
    /// assert_eq!(w.value(), 0.5);
    /// assert_eq!(tape.name_of(w.index()).as_deref(), Some("w1"));
    /// ```
    pub fn named(self, name: impl Into<String>) -> Value<'t> {
        if let Some(trace) = &mut self.tape.records_mut().trace {
            trace.names.insert(self.index, name.into());
        }
        self
    }
}

impl Tape {
    /// Number of edges (input links, one partial derivative each) the recording stands for;
    /// a fused dense layer counts the edges its unfused recording would store.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(1.0);
    /// let _y = x * x; // one node, two edges
    /// let _z = -x;    // one node, one edge
    /// assert_eq!(tape.edge_count(), 3);
    /// ```
    #[must_use]
    pub fn edge_count(&self) -> usize {
        let r = self.records_ref();
        let real = |n: &Node| n.inputs.iter().filter(|&&i| i != SINK).count();
        r.elementary().iter().map(real).sum::<usize>() + r.fused.edge_count()
    }

    /// Bytes the current recording takes (what [`Tape::memory_bytes`] counts, without the spare
    /// capacity).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(1.0); // a run of leaves: one run record, however many leaves
    /// let one_run = tape.bytes_used();
    /// let _y = x * x;        // an elementary node: 24 bytes
    /// assert_eq!(tape.bytes_used(), one_run + 24);
    /// ```
    #[must_use]
    pub fn bytes_used(&self) -> usize {
        let r = self.records_ref();
        let trace = r
            .trace
            .as_ref()
            .map_or(0, |t| t.ops.len() * (size_of::<Op>() + 8));
        size_of_val(r.elementary()) + r.fused.bytes_used() + trace
    }

    /// Bytes of memory the tape holds (allocated capacity, not just the used part).
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        self.records_ref().capacity_bytes()
    }

    /// The inputs of node `index` with the local partial derivatives recorded for them, or
    /// `None` if there is no such node.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.var(3.0);
    /// let b = tape.var(5.0);
    /// let c = a * b;
    /// assert_eq!(tape.edges(c.index()), Some(vec![(a.index(), 5.0), (b.index(), 3.0)]));
    /// ```
    #[must_use]
    pub fn edges(&self, index: usize) -> Option<Vec<(usize, f64)>> {
        let r = self.records_ref();
        let index = u32::try_from(index).ok().filter(|&i| i < r.len())?;
        if let Some(run) = r.run_of(index) {
            return Some(r.fused.edges(run, index));
        }
        let node = r.elementary()[r.position(index)];
        let real = node
            .inputs
            .iter()
            .zip(node.partials)
            .filter(|(&i, _)| i != SINK);
        Some(real.map(|(&i, d)| (i as usize - 1, d)).collect())
    }

    /// The fused run holding node `index`, as `(first node, outputs, inputs, op)`, if any.
    pub(crate) fn fused_run(&self, index: usize) -> Option<(usize, usize, usize, Option<Op>)> {
        let r = self.records_ref();
        let run = r.run_of(u32::try_from(index).ok()?)?;
        match run.rule {
            fused::Rule::Affine(l) => Some((
                run.first as usize,
                l.outputs as usize,
                l.inputs as usize,
                l.activation,
            )),
            _ => None,
        }
    }
}

impl Records {
    /// Makes this recording keep each node's op, value and name from now on.
    pub(crate) fn start_trace(&mut self) {
        self.nodes.truncate(self.used);
        self.open_leaves = 0;
        let mut trace = self.idle_trace.take().unwrap_or_default();
        trace.clear();
        self.trace = Some(trace);
    }

    /// Notes a constant node `index`'s derivative needs (see [`Trace::notes`]); only a traced
    /// tape keeps it.
    #[inline]
    pub(crate) fn note(&mut self, index: u32, constant: f64) {
        if let Some(trace) = &mut self.trace {
            trace.notes.push((index, constant));
        }
    }

    /// Bytes allocated.
    pub(crate) fn capacity_bytes(&self) -> usize {
        let trace = (self.trace.iter().chain(&self.idle_trace))
            .map(|t| t.ops.capacity() * size_of::<Op>() + t.values.capacity() * 8)
            .sum::<usize>();
        self.nodes.capacity() * size_of::<Node>()
            + self.fused.capacity_bytes()
            + self.sum_inputs.capacity() * 4
            + trace
    }

    /// The index after fused run `k`'s last output: its outputs run up to the next run, less
    /// the elementary nodes recorded between the two.
    pub(crate) fn run_end(&self, k: usize) -> u32 {
        let runs = &self.fused.runs;
        let (next, nodes_next) = runs
            .get(k + 1)
            .map_or((self.len(), self.elementary().len() as u32), |n| {
                (n.first, n.nodes_before)
            });
        next - (nodes_next - runs[k].nodes_before)
    }

    /// The fused run holding node `index`, if one does.
    pub(crate) fn run_of(&self, index: u32) -> Option<&Run> {
        let runs = &self.fused.runs;
        let k = runs.partition_point(|r| r.first <= index).checked_sub(1)?;
        (index < self.run_end(k)).then_some(&runs[k])
    }

    /// Where elementary node `index` is in [`Records::elementary`].
    pub(crate) fn position(&self, index: u32) -> usize {
        let runs = &self.fused.runs;
        match runs.partition_point(|r| r.first <= index).checked_sub(1) {
            Some(k) => (runs[k].nodes_before + (index - self.run_end(k))) as usize,
            None => index as usize,
        }
    }
}

impl Fused {
    /// The edges `(input, partial)` of node `index`, which `run` holds.
    pub(crate) fn edges(&self, run: &Run, index: u32) -> Vec<(usize, f64)> {
        match run.rule {
            Rule::Leaves => Vec::new(),
            Rule::Edges { at, len } => {
                let (at, end) = (at as usize, (at + len) as usize);
                let inputs = self.edge_inputs[at..end].iter();
                inputs
                    .zip(&self.edge_partials[at..end])
                    .map(|(&x, &p)| (x as usize, p))
                    .collect()
            }
            Rule::Affine(layer) => {
                let (j, inputs) = ((index - run.first) as usize, layer.inputs as usize);
                let width = inputs + 1;
                let data = &self.data[layer.data_at as usize..];
                let (x, d) = (&data[..inputs], data[inputs + j]);
                // A layer over constants has no weights kept (and passes nothing to them).
                let at = layer.weights_at as usize + j * width;
                let row = self.data.get(at..at + width).unwrap_or(&[]);
                let p = layer.weights as usize + j * width;
                let mut edges = vec![(p + inputs, d)];
                edges.extend(x.iter().enumerate().map(|(k, xk)| (p + k, d * xk)));
                let node = |k: usize| match layer.input_nodes {
                    AffineInputs::Constants => None,
                    AffineInputs::Range(first) => Some(first as usize + k),
                    AffineInputs::Listed(at) => Some(self.listed[at as usize + k] as usize),
                };
                let weighted = row[..inputs].iter().enumerate();
                edges.extend(weighted.filter_map(|(k, w)| node(k).map(|n| (n, d * w))));
                edges
            }
        }
    }

    /// Edges the runs stand for, counted as an unfused recording would store them.
    pub(crate) fn edge_count(&self) -> usize {
        let per_run = |run: &Run| match run.rule {
            Rule::Leaves => 0,
            Rule::Edges { len, .. } => len as usize,
            Rule::Affine(l) => {
                let per_input = if l.input_nodes == AffineInputs::Constants {
                    1
                } else {
                    2
                };
                (l.outputs * l.batch) as usize * (1 + per_input * l.inputs as usize)
            }
        };
        self.runs.iter().map(per_run).sum()
    }

    /// Bytes in use.
    pub(crate) fn bytes_used(&self) -> usize {
        let run = size_of::<Run>();
        self.runs.len() * run
            + self.edge_inputs.len() * 12
            + self.data.len() * 8
            + self.listed.len() * 4
    }

    /// Bytes allocated.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.runs.capacity() * size_of::<Run>()
            + self.edge_inputs.capacity() * 4
            + self.edge_partials.capacity() * 8
            + self.data.capacity() * 8
            + self.listed.capacity() * 4
            + self.kept_weights.capacity() * 8
    }
}
