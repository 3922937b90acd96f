//! Fused runs: a range of nodes whose gradients one vector rule passes back.
//!
//! A run takes the indices from `first` up to the next elementary node or run and stores what
//! its rule needs. The reverse sweep runs the rule when it reaches the run, which is after
//! every node that uses its outputs and before any of its inputs. The rules, by shape:
//!
//! ```text
//! Leaves              nothing to pass back (inputs, parameters, constants)
//! Edges   y           grad[x_k] += p_k * grad[y]         n-ary: sum, dot, losses, custom ops
//! Affine  a = act(W x + b)                                a dense layer (affine.rs)
//! ```

use super::affine::Affine;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Rule {
    Leaves,
    /// The edges `Fused::edge_inputs[at..at + len]` with their partials.
    Edges {
        at: u32,
        len: u32,
    },
    Affine(Affine),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub(crate) first: u32,
    /// How many elementary nodes were recorded before this run.
    pub(crate) nodes_before: u32,
    pub(crate) rule: Rule,
}

/// Every fused run of a recording, in creation order, and the numbers their rules use.
#[derive(Debug, Default)]
pub(crate) struct Fused {
    pub(crate) runs: Vec<Run>,
    pub(crate) edge_inputs: Vec<u32>,
    pub(crate) edge_partials: Vec<f64>,
    /// Where the edges of the n-ary node being recorded start.
    open: u32,
    /// The numbers rules refer to (a dense layer's inputs, derivatives and kept weights).
    pub(crate) data: Vec<f64>,
    pub(crate) listed: Vec<u32>,
    /// Weights kept on demand by [`Fused::keep_weights`]: (first leaf, where in `data`).
    pub(crate) kept_weights: Vec<(u32, u32)>,
}

impl Fused {
    /// Starts a run at node `first`.
    pub(crate) fn begin(&mut self, first: u32, nodes_before: u32, rule: Rule) {
        self.runs.push(Run {
            first,
            nodes_before,
            rule,
        });
    }

    #[inline]
    pub(crate) fn edge(&mut self, input: u32, partial: f64) {
        self.edge_inputs.push(input);
        self.edge_partials.push(partial);
    }

    /// The rule of the edges appended since the last n-ary node.
    pub(crate) fn close_edges(&mut self) -> Rule {
        let (at, end) = (self.open, self.edge_inputs.len() as u32);
        self.open = end;
        Rule::Edges { at, len: end - at }
    }

    /// Stores values a rule will refer to; returns where they start.
    pub(crate) fn keep(&mut self, values: &[f64]) -> u32 {
        let at = self.data.len() as u32;
        self.data.extend_from_slice(values);
        at
    }

    /// Runs `run`'s rule; `g` holds node `i`'s gradient at `g[i]`.
    pub(crate) fn backward(&self, run: &Run, g: &mut [f64]) {
        match &run.rule {
            Rule::Leaves => {}
            &Rule::Edges { at, len } => {
                let gy = g[run.first as usize];
                if gy == 0.0 {
                    return;
                }
                let (at, end) = (at as usize, (at + len) as usize);
                for (&x, &p) in self.edge_inputs[at..end]
                    .iter()
                    .zip(&self.edge_partials[at..end])
                {
                    g[x as usize] += p * gy;
                }
            }
            Rule::Affine(layer) => self.affine_backward(run, layer, g),
        }
    }

    /// The lengths of every list, for [`Fused::rewind`] (taken between nodes, when no n-ary
    /// node is open).
    pub(crate) fn mark(&self) -> [u32; 5] {
        [
            self.runs.len() as u32,
            self.edge_inputs.len() as u32,
            self.data.len() as u32,
            self.listed.len() as u32,
            self.kept_weights.len() as u32,
        ]
    }

    /// Forgets everything stored after `mark` was taken.
    #[inline]
    pub(crate) fn rewind(&mut self, mark: &[u32; 5]) {
        let [runs, edges, data, listed, kept] = mark.map(|n| n as usize);
        self.runs.truncate(runs);
        self.edge_inputs.truncate(edges);
        self.edge_partials.truncate(edges);
        self.open = edges as u32;
        self.data.truncate(data);
        self.listed.truncate(listed);
        self.kept_weights.truncate(kept);
    }
}
