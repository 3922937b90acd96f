//! The reverse sweep: one loop from the output down to the first node.
//!
//! Creation order is a topological order, so no sort and no recursion is needed. Elementary
//! nodes pass their stored partials back, `grad[input] += partial * grad[node]`; a fused run's
//! rule runs when the sweep reaches it. A node whose gradient is exactly 0 passes nothing back,
//! so an infinite partial behind a closed `relu` does not turn into NaN.

use super::fused::Rule;
use super::record::Records;

impl Records {
    /// Fills `g` with the gradient of node `output` with respect to every node: `g[0]` is the
    /// sink for padding edges and node `i`'s gradient is `g[i + 1]`.
    pub(crate) fn backward(&self, output: u32, g: &mut Vec<f64>) {
        g.clear();
        g.resize(self.len as usize + 1, 0.0);
        g[output as usize + 1] = 1.0;
        // Walk the runs from the last; between two runs lie elementary nodes, `nodes[lo..hi]`
        // with indices from `first` on.
        let mut hi = self.nodes.len();
        for run in self.fused.runs.iter().rev() {
            let (lo, first) = (run.nodes_before as usize, run.first + run.count);
            if first <= output {
                let n = (hi - lo).min((output + 1 - first) as usize);
                self.sweep_nodes(lo, first, n, g);
            }
            if run.first <= output && !matches!(run.rule, Rule::Leaves) {
                self.fused.backward(run, &mut g[1..]);
            }
            hi = lo;
        }
        let n = hi.min(output as usize + 1);
        self.sweep_nodes(0, 0, n, g);
    }

    /// Sweeps `nodes[lo..lo + n]`, whose indices start at `first`, from the top down.
    #[inline]
    fn sweep_nodes(&self, lo: usize, first: u32, n: usize, g: &mut [f64]) {
        let slots = first as usize + 1;
        for k in (0..n).rev() {
            let gi = g[slots + k];
            if gi == 0.0 {
                continue;
            }
            let node = &self.nodes[lo + k];
            g[node.inputs[0] as usize] += node.partials[0] * gi;
            g[node.inputs[1] as usize] += node.partials[1] * gi;
        }
    }
}
