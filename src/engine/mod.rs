//! The tape (a Wengert list), the [`Value`] handle, and the reverse sweep.
//!
//! Every node records, at the moment it is created, the indices of its parents and the local
//! partial derivative of its output with respect to each parent. The tape stores them in three
//! flat arrays (struct of arrays):
//!
//! ```text
//! node i's edges:  offsets[i] .. offsets[i + 1]
//! edge k:          parents[k] (u32 index)   partials[k] (f64, d node / d parent)
//! ```
//!
//! A binary node therefore costs 4 + 2 * (4 + 8) = 28 bytes of tape, a leaf 4 bytes, an n-ary
//! `sum`/`dot` node 4 bytes plus 12 per input. Forward values live in the [`Value`] handles, not on
//! the tape, unless the tape was made with [`Tape::traced`] (which also keeps each node's value
//! and op for inspection).
//!
//! Backward is one reverse loop, `grad[parent] += partial * grad[node]`: creation order is a
//! topological order, so no sort and no recursion is needed.
//!
//! A dense layer recorded by a bound model is the exception: it is one block (see
//! [`crate::engine::fused`]) whose outputs are nodes without stored edges; the loop runs the block's
//! backprop rule when it reaches them.

mod fused;
pub(crate) mod ops;

use fused::DenseBlocks;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Index;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies a tape for the "values of two tapes were mixed" checks.
static NEXT_TAPE_ID: AtomicU64 = AtomicU64::new(1);

/// What produced a node; kept only by a [traced](Tape::traced) tape, for inspection.
///
/// ```
/// use tapegrad::{Op, Tape};
/// let tape = Tape::traced();
/// let x = tape.var(2.0);
/// let y = x.sigmoid();
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
    /// [`Tape::sum`].
    Sum,
    /// [`Tape::dot`], and (on a traced tape) a neuron's weighted sum `b + w . x`.
    Dot,
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
            Op::Sum => "sum",
            Op::Dot => "dot",
            Op::Loss => "loss",
        }
    }
}

/// What a traced tape keeps beside the edges: each node's op and forward value, and the names
/// given with [`Value::named`].
#[derive(Debug, Default)]
struct Trace {
    ops: Vec<Op>,
    values: Vec<f64>,
    names: BTreeMap<u32, String>,
}

/// The recorded graph: CSR edge lists in creation order.
#[derive(Debug)]
pub(crate) struct Records {
    /// `offsets[i]..offsets[i + 1]` are node i's edges; always starts with a 0.
    offsets: Vec<u32>,
    /// The parent of each edge.
    parents: Vec<u32>,
    /// d(node) / d(parent) for each edge, computed at record time.
    partials: Vec<f64>,
    /// Dense layers recorded whole (untraced tapes only).
    dense: DenseBlocks,
    trace: Option<Trace>,
}

impl Records {
    fn new(nodes: usize, edges: usize, traced: bool) -> Self {
        let mut offsets = Vec::with_capacity(nodes + 1);
        offsets.push(0);
        Records {
            offsets,
            parents: Vec::with_capacity(edges),
            partials: Vec::with_capacity(edges),
            dense: DenseBlocks::default(),
            trace: traced.then(Trace::default),
        }
    }

    /// Whether this recording keeps ops, values and names.
    pub(crate) fn is_traced(&self) -> bool {
        self.trace.is_some()
    }

    /// Number of nodes recorded.
    pub(crate) fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Appends one edge of the node being recorded; [`Records::finish`] closes the node.
    #[inline]
    pub(crate) fn edge(&mut self, parent: u32, partial: f64) {
        self.parents.push(parent);
        self.partials.push(partial);
    }

    /// Appends edges to the consecutive parents `first, first + 1, ...`, one per partial
    /// (a neuron's weights): one capacity check and a copy instead of a push per edge.
    #[inline]
    pub(crate) fn edge_span(&mut self, first: u32, partials: &[f64]) {
        self.parents.extend(first..first + partials.len() as u32);
        self.partials.extend_from_slice(partials);
    }

    /// Appends one edge per `(parents[k], partials[k])` pair, copied in bulk.
    #[inline]
    pub(crate) fn edge_slices(&mut self, parents: &[u32], partials: &[f64]) {
        debug_assert_eq!(parents.len(), partials.len());
        self.parents.extend_from_slice(parents);
        self.partials.extend_from_slice(partials);
    }

    /// Closes the node whose edges were just pushed and returns its index.
    #[inline]
    pub(crate) fn finish(&mut self, op: Op, value: f64) -> u32 {
        let index = self.len();
        let end = self.parents.len();
        assert!(
            end <= u32::MAX as usize && index < u32::MAX as usize,
            "tapegrad: tape is full (at most 2^32 - 1 nodes and edges)"
        );
        self.offsets.push(end as u32);
        if let Some(trace) = &mut self.trace {
            trace.ops.push(op);
            trace.values.push(value);
        }
        index as u32
    }

    /// Records `n` leaves at once and returns the index of the first.
    pub(crate) fn leaves(&mut self, values: impl ExactSizeIterator<Item = f64>) -> u32 {
        let n = values.len();
        let first = self.edgeless_nodes(n);
        if let Some(trace) = &mut self.trace {
            trace.ops.extend(std::iter::repeat_n(Op::Leaf, n));
            trace.values.extend(values);
        }
        first
    }

    /// Appends `n` nodes without stored edges; returns the first one's index.
    fn edgeless_nodes(&mut self, n: usize) -> u32 {
        let first = self.len() as u32;
        let end = self.parents.len() as u32;
        assert!(
            self.len() + n < u32::MAX as usize,
            "tapegrad: tape is full (at most 2^32 - 1 nodes and edges)"
        );
        self.offsets.extend(std::iter::repeat_n(end, n));
        first
    }

    /// Records a bound model's parameters as leaves, keeping a copy of their values for the
    /// dense-layer blocks recorded with them. Returns the first leaf and where the copy is.
    pub(crate) fn bind_parameters(&mut self, params: &[f64]) -> (u32, usize) {
        let first = self.leaves(params.iter().copied());
        let at = if self.is_traced() {
            usize::MAX
        } else {
            self.dense.keep_parameters(params)
        };
        (first, at)
    }

    /// Records a dense layer as one block (see [`crate::engine::fused`]): its outputs become the nodes
    /// returned onwards, `derivatives.len()` of them, with no stored edges. The layer's
    /// parameters are the leaves from `params_first`, whose values were kept at `weights_at`
    /// by [`Records::bind_parameters`].
    pub(crate) fn dense_layer(
        &mut self,
        params_first: u32,
        weights_at: usize,
        input_nodes: Option<&[u32]>,
        input_values: &[f64],
        derivatives: &[f64],
    ) -> u32 {
        debug_assert!(
            !self.is_traced(),
            "a traced tape records layers node by node"
        );
        let first = self.edgeless_nodes(derivatives.len());
        self.dense.record(
            first,
            params_first,
            weights_at,
            input_nodes,
            input_values,
            derivatives,
        );
        first
    }
}

/// A Wengert list: the record of every operation on its [`Value`]s.
///
/// Create values with [`Tape::var`], combine them with operators and methods, then call
/// [`Value::backward`] on a result. The tape uses interior mutability, so recording needs only
/// `&Tape`; it is `Send` but not `Sync` (give each thread its own tape).
///
/// # Reuse
///
/// [`Tape::clear`] forgets every node but keeps the memory, so a training loop can record each
/// step on the same tape without allocating. It takes `&mut self`, so the compiler rejects any
/// [`Value`] still alive from before the clear:
///
/// ```compile_fail
/// use tapegrad::Tape;
/// let mut tape = Tape::new();
/// let x = tape.var(1.0);
/// tape.clear();
/// let y = x * 2.0; // error: `tape` is borrowed by `x`
/// ```
///
/// # Example
///
/// ```
/// use tapegrad::Tape;
///
/// let mut tape = Tape::new();
/// for step in 0..3 {
///     let x = tape.var(step as f64);
///     let y = x * x;
///     assert_eq!(y.backward()[x], 2.0 * step as f64);
///     tape.clear(); // keeps its capacity
/// }
/// ```
pub struct Tape {
    id: u64,
    generation: u64,
    records: RefCell<Records>,
}

impl Tape {
    /// An empty tape.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert!(tape.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(0, 0)
    }

    /// An empty tape with room for `nodes` nodes and `edges` edges before it reallocates.
    ///
    /// ```
    /// let tape = tapegrad::Tape::with_capacity(1_000, 2_000);
    /// assert!(tape.is_empty());
    /// ```
    #[must_use]
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        Self::build(nodes, edges, false)
    }

    /// An empty tape that also keeps each node's op and forward value, for inspection
    /// ([`Tape::op`], [`Tape::value_of`]). It costs 9 more bytes per node.
    ///
    /// ```
    /// let tape = tapegrad::Tape::traced();
    /// let y = tape.var(3.0) * 2.0;
    /// assert_eq!(tape.value_of(y.index()), Some(6.0));
    /// ```
    #[must_use]
    pub fn traced() -> Self {
        Self::build(0, 0, true)
    }

    fn build(nodes: usize, edges: usize, traced: bool) -> Self {
        Tape {
            id: NEXT_TAPE_ID.fetch_add(1, Ordering::Relaxed),
            generation: 0,
            records: RefCell::new(Records::new(nodes, edges, traced)),
        }
    }

    /// Records a leaf: an input, a parameter or a constant. Its gradient is what
    /// [`Value::backward`] reports for it.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(-4.0);
    /// assert_eq!(x.value(), -4.0);
    /// ```
    #[must_use]
    pub fn var(&self, value: f64) -> Value<'_> {
        let index = self.records.borrow_mut().finish(Op::Leaf, value);
        Value::new(self, index, value)
    }

    /// Records one leaf per value and returns them in order.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let xs = tape.vars(&[1.0, 2.0]);
    /// assert_eq!(xs[1].value(), 2.0);
    /// ```
    #[must_use]
    pub fn vars(&self, values: &[f64]) -> Vec<Value<'_>> {
        let first = self.records.borrow_mut().leaves(values.iter().copied());
        values
            .iter()
            .enumerate()
            .map(|(k, &v)| Value::new(self, first + k as u32, v))
            .collect()
    }

    /// Number of nodes recorded since creation or the last [`Tape::clear`].
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(1.0);
    /// let _y = x + x;
    /// assert_eq!(tape.len(), 2);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.borrow().len()
    }

    /// Whether no node has been recorded.
    ///
    /// ```
    /// assert!(tapegrad::Tape::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of edges (parent links, one stored partial derivative each) recorded.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(1.0);
    /// let _y = x * x; // one node, two edges
    /// assert_eq!(tape.edge_count(), 2);
    /// ```
    #[must_use]
    pub fn edge_count(&self) -> usize {
        let r = self.records.borrow();
        r.parents.len() + r.dense.edge_count()
    }

    /// Bytes the current recording takes (what [`Tape::memory_bytes`] counts, without the spare
    /// capacity).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(1.0);
    /// let _y = x * x; // a leaf (4 bytes) and a binary node (4 + 2 x 12)
    /// assert_eq!(tape.bytes_used(), 4 + 28);
    /// ```
    #[must_use]
    pub fn bytes_used(&self) -> usize {
        let r = self.records.borrow();
        let trace = r.trace.as_ref().map_or(0, |t| {
            t.ops.len() * std::mem::size_of::<Op>() + t.values.len() * 8
        });
        (r.offsets.len() - 1) * 4 + r.parents.len() * 12 + r.dense.bytes_used() + trace
    }

    /// Bytes of memory the tape currently holds (allocated capacity, not just the used part).
    ///
    /// ```
    /// let tape = tapegrad::Tape::with_capacity(100, 200);
    /// assert!(tape.memory_bytes() >= 100 * 4 + 200 * 12);
    /// ```
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        let r = self.records.borrow();
        let trace = r.trace.as_ref().map_or(0, |t| {
            t.ops.capacity() * std::mem::size_of::<Op>() + t.values.capacity() * 8
        });
        r.offsets.capacity() * 4
            + r.parents.capacity() * 4
            + r.partials.capacity() * 8
            + r.dense.bytes_allocated()
            + trace
    }

    /// Forgets every node, keeping the allocated memory for the next recording.
    ///
    /// Takes `&mut self`, so no [`Value`] of the old recording can be used afterwards (see the
    /// type-level docs). [`Gradients`] computed before the clear can be refilled with
    /// [`Value::backward_into`] but not indexed by new values.
    ///
    /// ```
    /// let mut tape = tapegrad::Tape::new();
    /// let _ = tape.var(1.0);
    /// let bytes = tape.memory_bytes();
    /// tape.clear();
    /// assert!(tape.is_empty());
    /// assert_eq!(tape.memory_bytes(), bytes);
    /// ```
    pub fn clear(&mut self) {
        let r = self.records.get_mut();
        r.offsets.truncate(1);
        r.parents.clear();
        r.partials.clear();
        r.dense.clear();
        if let Some(trace) = &mut r.trace {
            trace.ops.clear();
            trace.values.clear();
            trace.names.clear();
        }
        self.generation += 1;
    }

    /// The op that produced `value`, if this tape is [traced](Tape::traced).
    ///
    /// ```
    /// let tape = tapegrad::Tape::traced();
    /// let x = tape.var(1.0);
    /// assert_eq!(tape.op(x.exp()), Some(tapegrad::Op::Exp));
    /// ```
    #[must_use]
    pub fn op(&self, value: Value<'_>) -> Option<Op> {
        self.check_same(value.tape);
        let r = self.records.borrow();
        r.trace.as_ref().map(|t| t.ops[value.index as usize])
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
        let r = self.records.borrow();
        r.trace.as_ref().and_then(|t| t.values.get(index).copied())
    }

    /// Whether this tape keeps each node's op, value and name ([`Tape::traced`]).
    ///
    /// ```
    /// assert!(tapegrad::Tape::traced().is_traced());
    /// assert!(!tapegrad::Tape::new().is_traced());
    /// ```
    #[must_use]
    pub fn is_traced(&self) -> bool {
        self.records.borrow().trace.is_some()
    }

    /// The name given to node `index` with [`Value::named`], if any (only a
    /// [traced](Tape::traced) tape keeps names).
    ///
    /// ```
    /// let tape = tapegrad::Tape::traced();
    /// let w = tape.var(0.5).named("w1");
    /// assert_eq!(tape.name_of(w.index()), Some("w1".to_string()));
    /// assert_eq!(tape.name_of(w.index() + 1), None);
    /// ```
    #[must_use]
    pub fn name_of(&self, index: usize) -> Option<String> {
        let r = self.records.borrow();
        let index = u32::try_from(index).ok()?;
        r.trace.as_ref().and_then(|t| t.names.get(&index).cloned())
    }

    /// The op of node `index`, if this tape is traced and the node exists.
    pub(crate) fn op_at(&self, index: usize) -> Option<Op> {
        let r = self.records.borrow();
        r.trace.as_ref().and_then(|t| t.ops.get(index).copied())
    }

    /// The parents of node `index` with the local partial derivatives recorded for them, or
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
        let r = self.records.borrow();
        if index >= r.len() {
            return None;
        }
        let (start, end) = (r.offsets[index] as usize, r.offsets[index + 1] as usize);
        if start == end {
            // A dense layer's output has its edges implied by its block.
            if let Some(edges) = r.dense.edges(index) {
                return Some(edges);
            }
        }
        Some(
            r.parents[start..end]
                .iter()
                .zip(&r.partials[start..end])
                .map(|(&p, &d)| (p as usize, d))
                .collect(),
        )
    }

    /// Runs `f` with mutable access to the records (crate-internal recording fast path).
    #[inline]
    pub(crate) fn with_records<R>(&self, f: impl FnOnce(&mut Records) -> R) -> R {
        f(&mut self.records.borrow_mut())
    }

    /// Panics unless `other` is this tape.
    #[inline]
    #[track_caller]
    pub(crate) fn check_same(&self, other: &Tape) {
        assert!(
            std::ptr::eq(self, other),
            "tapegrad: values from two different tapes were combined (tape #{} and tape #{}); \
             every Value in one expression must come from the same Tape",
            self.id,
            other.id
        );
    }

    /// One reverse sweep from node `output`, writing into `grads`.
    fn backward_from(&self, output: u32, grads: &mut Gradients) {
        let r = self.records.borrow();
        let n = output as usize + 1;
        grads.tape_id = self.id;
        grads.generation = self.generation;
        let g = &mut grads.values;
        g.clear();
        // Every node gets an entry; those after the output keep gradient 0.
        g.resize(r.len(), 0.0);
        g[n - 1] = 1.0;
        // Nodes before the first one with an edge are leaves with nothing to pass back; a bound
        // model's parameters sit there, so a step's sweep skips them all at once instead of
        // visiting thousands of empty edge lists. (`offsets` is sorted: binary search.)
        let first_with_edges = r.offsets.partition_point(|&o| o == 0).saturating_sub(1);
        // Nodes lo..hi, from the top down.
        let sweep = |lo: usize, hi: usize, g: &mut [f64]| {
            for i in (lo.max(first_with_edges)..hi).rev() {
                let gi = g[i];
                // A node whose adjoint is exactly zero has nothing to pass back. Skipping it
                // also keeps an infinite partial behind a closed relu from turning 0 * inf
                // into NaN.
                if gi == 0.0 {
                    continue;
                }
                let (start, end) = (r.offsets[i] as usize, r.offsets[i + 1] as usize);
                for (&parent, &partial) in r.parents[start..end].iter().zip(&r.partials[start..end])
                {
                    g[parent as usize] += partial * gi;
                }
            }
        };
        // Without blocks this is one call: sweep(0, n).
        r.dense.sweep(n, g, sweep);
    }
}

impl Default for Tape {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tape")
            .field("id", &self.id)
            .field("nodes", &self.len())
            .field("edges", &self.edge_count())
            .finish()
    }
}

/// A scalar recorded on a [`Tape`]: a small `Copy` handle (tape, node index, forward value).
///
/// Arithmetic with `+ - * /` and unary `-` works between two values and between a value and an
/// `f64` on either side; see the methods for the other ops and
/// [`Value::backward`] for the reverse sweep.
///
/// # Panics
///
/// Combining values recorded on two different tapes is a programmer error and panics with a
/// message naming both tapes:
///
/// ```should_panic
/// use tapegrad::Tape;
/// let (t1, t2) = (Tape::new(), Tape::new());
/// let _ = t1.var(1.0) + t2.var(2.0); // panics: two different tapes
/// ```
#[derive(Clone, Copy)]
pub struct Value<'t> {
    pub(crate) tape: &'t Tape,
    pub(crate) index: u32,
    pub(crate) value: f64,
}

impl<'t> Value<'t> {
    #[inline]
    pub(crate) fn new(tape: &'t Tape, index: u32, value: f64) -> Self {
        Value { tape, index, value }
    }

    /// The forward value.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// assert_eq!((tape.var(2.0) * 3.0).value(), 6.0);
    /// ```
    #[inline]
    #[must_use]
    pub fn value(self) -> f64 {
        self.value
    }

    /// The node's position on its tape (creation order).
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let a = tape.var(1.0);
    /// let b = tape.var(2.0);
    /// assert_eq!((a.index(), b.index()), (0, 1));
    /// ```
    #[inline]
    #[must_use]
    pub fn index(self) -> usize {
        self.index as usize
    }

    /// The tape this value is recorded on.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(1.0);
    /// assert!(std::ptr::eq(x.tape(), &tape));
    /// ```
    #[must_use]
    pub fn tape(self) -> &'t Tape {
        self.tape
    }

    /// Gives this node a name for [graph exports](crate::Dot) and returns the value unchanged,
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
        if let Some(trace) = &mut self.tape.records.borrow_mut().trace {
            trace.names.insert(self.index, name.into());
        }
        self
    }

    /// Reverse sweep: the gradient of `self` with respect to every node recorded before it.
    ///
    /// One loop over the tape from this node down to the first, in reverse creation order: no
    /// recursion (a chain of ten million nodes is fine) and no topological sort.
    ///
    /// The tape is not consumed or changed: calling `backward` twice, or on several outputs of
    /// the same tape, gives each output's own gradients every time (nothing accumulates across
    /// calls, unlike micrograd's `.grad` fields). Nodes that do not lead to `self`, including
    /// nodes created after it, have gradient 0.
    ///
    /// ```
    /// use tapegrad::Tape;
    /// let tape = Tape::new();
    /// let x = tape.var(3.0);
    /// let y = x * x + x; // dy/dx = 2x + 1
    /// let g1 = y.backward();
    /// let g2 = y.backward();
    /// assert_eq!(g1[x], 7.0);
    /// assert_eq!(g2[x], 7.0); // same again: backward does not accumulate
    /// ```
    #[must_use]
    pub fn backward(self) -> Gradients {
        let mut grads = Gradients::new();
        self.backward_into(&mut grads);
        grads
    }

    /// Like [`Value::backward`], but reuses `grads`' memory (no allocation once it is large
    /// enough). Whatever `grads` held before is overwritten.
    ///
    /// ```
    /// use tapegrad::{Gradients, Tape};
    /// let tape = Tape::new();
    /// let x = tape.var(2.0);
    /// let mut grads = Gradients::new();
    /// (x * x).backward_into(&mut grads);
    /// assert_eq!(grads[x], 4.0);
    /// ```
    pub fn backward_into(self, grads: &mut Gradients) {
        self.tape.backward_from(self.index, grads);
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value(#{} = {})", self.index, self.value)
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value, f)
    }
}

/// The result of a reverse sweep: one gradient per node, indexed by [`Value`].
///
/// `grads[x]` and `grads.wrt(x)` give d(output)/dx. A value that does not lead to the output
/// (or was created after it) has gradient 0.
///
/// # Panics
///
/// Indexing with a value from another tape, or from a recording made after the tape was
/// cleared, panics: those indices would silently name the wrong nodes.
///
/// ```
/// use tapegrad::Tape;
/// let tape = Tape::new();
/// let a = tape.var(2.0);
/// let b = tape.var(5.0);
/// let unrelated = tape.var(1.0);
/// let grads = (a * b).backward();
/// assert_eq!((grads[a], grads.wrt(b), grads[unrelated]), (5.0, 2.0, 0.0));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gradients {
    tape_id: u64,
    generation: u64,
    values: Vec<f64>,
}

impl Gradients {
    /// An empty buffer for [`Value::backward_into`].
    ///
    /// ```
    /// let grads = tapegrad::Gradients::new();
    /// assert!(grads.as_slice().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The gradient with respect to `value`.
    ///
    /// # Panics
    ///
    /// If `value` is from another tape or from after a [`Tape::clear`].
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(4.0);
    /// assert_eq!(x.powf(0.5).backward().wrt(x), 0.25); // d sqrt(x) / dx = 1 / (2 sqrt(x))
    /// ```
    #[inline]
    #[must_use]
    #[track_caller]
    pub fn wrt(&self, value: Value<'_>) -> f64 {
        self[value]
    }

    /// Gradients of every node of the tape, by node index.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(1.0);
    /// let y = x * 3.0;
    /// let _later = x + 1.0;
    /// let grads = y.backward();
    /// assert_eq!(grads.as_slice(), &[3.0, 1.0, 0.0]);
    /// ```
    #[must_use]
    pub fn as_slice(&self) -> &[f64] {
        &self.values
    }

    /// Gradients of the `len` consecutive nodes starting at `first`.
    pub(crate) fn range(&self, first: usize, len: usize) -> &[f64] {
        &self.values[first..first + len]
    }

    /// Whether these gradients were computed on `tape`'s current recording.
    pub(crate) fn is_for(&self, tape: &Tape) -> bool {
        self.tape_id == tape.id && self.generation == tape.generation
    }

    #[track_caller]
    pub(crate) fn check_tape(&self, tape: &Tape) {
        assert!(
            self.tape_id == tape.id,
            "tapegrad: gradients of tape #{} indexed with a value of tape #{}",
            self.tape_id,
            tape.id
        );
        assert!(
            self.generation == tape.generation,
            "tapegrad: these gradients were computed before the tape was cleared; \
             run backward again on the new recording"
        );
    }
}

static ZERO: f64 = 0.0;

impl Index<Value<'_>> for Gradients {
    type Output = f64;

    #[inline]
    #[track_caller]
    fn index(&self, value: Value<'_>) -> &f64 {
        self.check_tape(value.tape);
        self.values.get(value.index as usize).unwrap_or(&ZERO)
    }
}
