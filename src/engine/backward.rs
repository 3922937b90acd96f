//! The reverse sweep: one loop from the output down to the first node.
//!
//! Creation order is a topological order, so no sort and no recursion is needed. Elementary
//! nodes pass their stored partials back, `grad[input] += partial * grad[node]`; a fused run's
//! rule runs when the sweep reaches it. A node whose gradient is exactly 0 passes nothing back,
//! so an infinite partial behind a closed `relu` does not turn into NaN.

use super::fused::Rule;
use super::record::{Node, Records};
use std::cell::Cell;

impl Records {
    /// Fills `g` with the gradient of node `output` with respect to every node: `g[0]` is the
    /// sink for padding edges and node `i`'s gradient is `g[i + 1]`.
    pub(crate) fn backward(&self, output: u32, g: &mut Vec<f64>) {
        let slots = self.len() as usize + 1;
        g.clear();
        if g.try_reserve(slots).is_err() {
            no_room_for_gradients(slots);
        }
        g.resize(slots, 0.0);
        g[output as usize + 1] = 1.0;
        let nodes = self.elementary();
        // Walk the runs from the last; between two runs lie elementary nodes, `nodes[lo..hi]`
        // with the indices `first..end`.
        let (mut hi, mut end) = (nodes.len(), self.len());
        for run in self.fused.runs.iter().rev() {
            let lo = run.nodes_before as usize;
            let first = end - (hi - lo) as u32;
            if hi > lo && first <= output {
                let n = (hi - lo).min((output + 1 - first) as usize);
                sweep(&nodes[lo..lo + n], first, g);
            }
            if run.first <= output && !matches!(run.rule, Rule::Leaves) {
                self.fused.backward(run, &mut g[1..]);
            }
            (hi, end) = (lo, run.first);
        }
        let n = hi.min(output as usize + 1);
        sweep(&nodes[..n], 0, g);
    }
}

/// Passes back the gradients of `nodes`, whose indices start at `first`, from the last.
#[inline]
fn sweep(nodes: &[Node], first: u32, g: &mut [f64]) {
    // Cells: the nodes' own gradients are read in step with `nodes` while their inputs'
    // gradients (any earlier slot) are added to.
    let g = Cell::from_mut(g).as_slice_of_cells();
    let own = &g[first as usize + 1..][..nodes.len()];
    for (node, gi) in nodes.iter().zip(own).rev() {
        let gi = gi.get();
        if gi == 0.0 {
            continue;
        }
        let [a, b] = node.inputs.map(|slot| &g[slot as usize]);
        a.set(a.get() + node.partials[0] * gi);
        b.set(b.get() + node.partials[1] * gi);
    }
}

#[cold]
#[inline(never)]
fn no_room_for_gradients(slots: usize) -> ! {
    panic!(
        "tapegrad: backward cannot allocate {slots} gradients ({} bytes), one per node of the tape",
        slots.saturating_mul(8)
    )
}
