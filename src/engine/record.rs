//! Appending nodes to a recording.
//!
//! A node's index is its position in creation order. Elementary ops (one or two inputs) are
//! [`Node`]s in one array: the inputs' gradient slots and the local partials, computed when the
//! op runs, so recording one is one append. Everything else (runs of leaves, n-ary sums and
//! dots, fused layers and losses) is a [fused run](super::fused) that takes a range of indices
//! and no `Node`.

use super::fused::{Fused, Rule};
use super::trace::{Op, Trace};

/// The gradient slot that padding edges point at; node `i`'s gradient is slot `i + 1`.
pub(crate) const SINK: u32 = 0;

/// An elementary op: `grad[inputs[k]] += partials[k] * grad[self]`, with `inputs` as gradient
/// slots (node index + 1). A one-input op's second edge points at [`SINK`] with partial 0; the
/// default node (both edges so) is a spare slot.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Node {
    pub(crate) inputs: [u32; 2],
    pub(crate) partials: [f64; 2],
}

/// The recorded graph, in creation order.
#[derive(Debug, Default)]
pub(crate) struct Records {
    /// The elementary nodes are `nodes[..used]`. The slots after them are spare, written in
    /// place by the next appends; a traced tape keeps none, so that each of its appends takes
    /// the path that also traces.
    pub(super) nodes: Vec<Node>,
    pub(super) used: usize,
    /// Indices taken by fused runs (leaves included).
    fused_count: u32,
    /// `1 + used` while the last run is leaves that the next leaf may join (untraced tapes
    /// only, so that a traced tape's leaves take the path that traces); 0 otherwise.
    pub(super) open_leaves: usize,
    pub(crate) fused: Fused,
    pub(crate) trace: Option<Box<Trace>>,
    /// A dropped traced tape's trace buffers, for the next traced tape these records serve.
    pub(super) idle_trace: Option<Box<Trace>>,
    /// The inputs of a `Sum` of an iterator, collected before it is recorded.
    pub(crate) sum_inputs: Vec<u32>,
}

/// A point of a recording that [`Records::rewind`] goes back to; the default is the start.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mark {
    used: usize,
    fused_count: u32,
    open_leaves: usize,
    fused: [u32; 5],
}

/// The most indices a tape hands out; `u32::MAX` stays free (node `i`'s gradient is slot
/// `i + 1`).
const MAX_NODES: u64 = u32::MAX as u64 - 1;

impl Records {
    /// Number of nodes (elementary and fused).
    #[inline(always)]
    pub(crate) fn len(&self) -> u32 {
        self.used as u32 + self.fused_count
    }

    /// The elementary nodes, in creation order.
    #[inline(always)]
    pub(crate) fn elementary(&self) -> &[Node] {
        &self.nodes[..self.used]
    }

    /// Takes the index of the next `n` nodes for a fused run. Spare slots count as taken, so
    /// that an append into one never needs an overflow check.
    #[inline(always)]
    fn claim(&mut self, n: u32) -> u32 {
        let first = self.len();
        if self.nodes.len() as u64 + u64::from(self.fused_count) + u64::from(n) > MAX_NODES {
            self.nodes.truncate(self.used);
            if u64::from(first) + u64::from(n) > MAX_NODES {
                tape_full();
            }
        }
        self.fused_count += n;
        first
    }

    /// Appends an elementary node; a traced tape also keeps its op, value and, for ops whose
    /// derivative `Value::grad` re-records from a constant, that constant (see `Trace::notes`).
    #[inline(always)]
    fn push(&mut self, op: Op, value: f64, node: Node, constant: Option<f64>) -> u32 {
        let index = self.len();
        // The node goes from registers into its slot: it is never passed to a call, which
        // would build it on the stack first.
        match self.nodes.get_mut(self.used) {
            Some(slot) => *slot = node,
            None => {
                self.make_room(op, value, constant);
                self.nodes[self.used] = node;
            }
        }
        self.used += 1;
        index
    }

    /// Makes the slot for the next elementary node: traces it, or grows the buffer and fills
    /// its capacity with spare slots.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self, op: Op, value: f64, constant: Option<f64>) {
        let index = self.len();
        if u64::from(index) >= MAX_NODES {
            tape_full();
        }
        self.nodes.push(Node::default());
        match &mut self.trace {
            Some(trace) => trace.record(index, op, value, constant),
            None => {
                // Spare slots up to the capacity, at most doubling at a time (a large
                // `Tape::with_capacity` is not written all at once).
                let room = MAX_NODES - u64::from(self.fused_count);
                let slots = (self.nodes.capacity())
                    .min(room as usize)
                    .min(self.nodes.len().saturating_mul(2).max(1024));
                self.nodes.resize(slots, Node::default());
            }
        }
    }

    /// Room for `nodes` more elementary nodes and `edges` edges before the next reallocation,
    /// as far as memory allows (at most the tape's 2^32 - 2 nodes).
    pub(crate) fn reserve(&mut self, nodes: usize, edges: usize) {
        self.nodes.truncate(self.used);
        let _ = self.nodes.try_reserve(nodes.min(MAX_NODES as usize));
        let edges = edges.min(MAX_NODES as usize);
        let _ = self.fused.edge_inputs.try_reserve(edges);
        let _ = self.fused.edge_partials.try_reserve(edges);
    }

    /// Appends an elementary op on the nodes `a` and `b` with partials `da` and `db`.
    #[inline(always)]
    pub(crate) fn binary(
        &mut self,
        op: Op,
        value: f64,
        (a, da): (u32, f64),
        (b, db): (u32, f64),
    ) -> u32 {
        let node = Node {
            inputs: [a + 1, b + 1],
            partials: [da, db],
        };
        self.push(op, value, node, None)
    }

    /// Appends an elementary op on the node `a` with partial `da`. `constant` is what a traced
    /// tape keeps for an op whose derivative `Value::grad` re-records from a constant (see
    /// `Trace::notes`).
    #[inline(always)]
    pub(crate) fn unary(
        &mut self,
        op: Op,
        value: f64,
        (a, da): (u32, f64),
        constant: Option<f64>,
    ) -> u32 {
        let node = Node {
            inputs: [a + 1, SINK],
            partials: [da, 0.0],
        };
        self.push(op, value, node, constant)
    }

    /// Appends `values.len()` leaves; returns the first one's index. Leaves right after leaves
    /// join their run.
    #[inline(always)]
    pub(crate) fn leaves(&mut self, op: Op, values: impl AsRef<[f64]> + Copy) -> u32 {
        let first = self.claim(values.as_ref().len() as u32);
        if self.open_leaves != self.used + 1 {
            self.begin_leaves(first, op, values);
        }
        first
    }

    /// Leaves that cannot join an open run: traces them, and starts a run unless the last one
    /// is leaves ending at `first`.
    #[cold]
    #[inline(never)]
    fn begin_leaves(&mut self, first: u32, op: Op, values: impl AsRef<[f64]>) {
        let joins = self.fused.runs.last().is_some_and(|last| {
            matches!(last.rule, Rule::Leaves) && last.nodes_before as usize == self.used
        });
        if !joins {
            self.fused.begin(first, self.used as u32, Rule::Leaves);
        }
        match &mut self.trace {
            Some(trace) => trace.extend(op, values.as_ref()),
            None => self.open_leaves = self.used + 1,
        }
    }

    /// Appends a fused run of `values.len()` outputs (see [`Fused`]) with the rule `rule` stores.
    #[inline]
    pub(crate) fn fused_run(
        &mut self,
        op: Op,
        values: &[f64],
        rule: impl FnOnce(&mut Fused) -> Rule,
    ) -> u32 {
        let first = self.claim(values.len() as u32);
        let rule = rule(&mut self.fused);
        self.fused.begin(first, self.used as u32, rule);
        self.open_leaves = 0;
        if let Some(trace) = &mut self.trace {
            trace.extend(op, values);
        }
        first
    }

    /// Closes the n-ary node whose edges were just appended with [`Fused::edge`].
    pub(crate) fn finish(&mut self, op: Op, value: f64) -> u32 {
        self.fused_run(op, &[value], Fused::close_edges)
    }

    /// How far this (untraced) recording has got, for [`Records::rewind`].
    pub(crate) fn mark(&self) -> Mark {
        debug_assert!(self.trace.is_none(), "a traced tape is not rewound");
        Mark {
            used: self.used,
            fused_count: self.fused_count,
            open_leaves: self.open_leaves,
            fused: self.fused.mark(),
        }
    }

    /// Forgets every node recorded after `mark`, keeping the memory; `mark` must come from
    /// this recording, untraced, and no [`Records::clear`] since, or be the default (the start;
    /// a trace is then the caller's to clear).
    #[inline]
    pub(crate) fn rewind(&mut self, mark: &Mark) {
        debug_assert!(self.used >= mark.used);
        self.used = mark.used;
        self.fused_count = mark.fused_count;
        self.open_leaves = mark.open_leaves;
        self.fused.rewind(&mark.fused);
    }

    /// Forgets every node, keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.rewind(&Mark::default());
        if let Some(trace) = &mut self.trace {
            self.nodes.clear();
            trace.clear();
        }
    }

    /// Forgets every node and sets a trace aside for the next traced tape, keeping the memory
    /// for the next tape these records serve.
    pub(crate) fn retire(&mut self) {
        self.clear();
        self.idle_trace = self.trace.take().or(self.idle_trace.take());
    }
}

#[cold]
#[inline(never)]
fn tape_full() -> ! {
    panic!("tapegrad: tape is full (at most 2^32 - 2 nodes)")
}
