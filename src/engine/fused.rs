//! Fused runs: a range of nodes whose gradients one vector rule passes back.
//!
//! A run takes the indices from `first` up to the next elementary node or run
//! ([`Records::run_end`](super::record::Records::run_end)) and stores what its rule needs. The reverse
//! sweep runs the rule when it reaches the run, which is after every node that uses its outputs
//! and before any of its inputs. The rules, by shape:
//!
//! ```text
//! Leaves              nothing to pass back (inputs, parameters, constants)
//! Edges   y           grad[x_k] += p_k * grad[y]         n-ary: sum, dot, losses, custom ops
//! Affine  a_j = act(z_j),  z_j = b_j + sum_k w_jk x_k     a dense layer over a block of leaves
//!         g_j = grad[a_j] * act'(z_j)
//!         grad[b_j] += g_j,  grad[w_jk] += g_j x_k,  grad[x_k] += g_j w_jk
//! ```
//!
//! An `Affine` run's weights are the leaves `weights + j * (inputs + 1) + k` (row j: its
//! weights, then its bias), whose values were stored once with [`Fused::keep`] so that every
//! use of the layer refers to one copy.

use super::trace::Op;

/// Where a dense layer's inputs come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum AffineInputs {
    /// Plain numbers: no gradient flows to them.
    Constants,
    /// The nodes `first..first + inputs`.
    Range(u32),
    /// The nodes listed at `Fused::listed[at..at + inputs]`.
    Listed(u32),
}

/// A dense layer applied to one input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Affine {
    pub(crate) inputs: u32,
    pub(crate) outputs: u32,
    pub(crate) input_nodes: AffineInputs,
    /// The leaf holding row 0's first weight.
    pub(crate) weights: u32,
    /// Where the weights' values are in `Fused::data` (same layout as the leaves).
    pub(crate) weights_at: u32,
    /// Where the input values, then each output's `act'(z_j)`, are in `Fused::data`.
    pub(crate) data_at: u32,
    /// The activation applied to `z`, for inspection.
    pub(crate) activation: Option<Op>,
}

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
    pub(crate) data: Vec<f64>,
    pub(crate) listed: Vec<u32>,
}

impl Fused {
    /// Starts a run at node `first`; its rule is leaves until one is set.
    pub(crate) fn begin(&mut self, first: u32, nodes_before: usize) {
        self.runs.push(Run {
            first,
            nodes_before: nodes_before as u32,
            rule: Rule::Leaves,
        });
    }

    fn set_rule(&mut self, rule: Rule) {
        if let Some(last) = self.runs.last_mut() {
            last.rule = rule;
        }
    }

    #[inline]
    pub(crate) fn edge(&mut self, input: u32, partial: f64) {
        self.edge_inputs.push(input);
        self.edge_partials.push(partial);
    }

    /// Makes the edges appended since the last n-ary node the rule of the run just begun.
    pub(crate) fn close_edges(&mut self) {
        let end = self.edge_inputs.len() as u32;
        let rule = Rule::Edges {
            at: self.open,
            len: end - self.open,
        };
        self.open = end;
        self.set_rule(rule);
    }

    /// Stores values a rule will refer to; returns where they start.
    pub(crate) fn keep(&mut self, values: &[f64]) -> u32 {
        let at = self.data.len() as u32;
        self.data.extend_from_slice(values);
        at
    }

    /// Makes a dense layer the rule of the run just begun: `x` are its input values, `nodes`
    /// their nodes (`None` for constants), `derivatives` each output's `act'(z_j)`.
    pub(crate) fn affine(
        &mut self,
        mut layer: Affine,
        nodes: Option<&[u32]>,
        x: &[f64],
        derivatives: &[f64],
    ) {
        layer.input_nodes = match nodes {
            None => AffineInputs::Constants,
            Some(nodes) if is_range(nodes) => {
                AffineInputs::Range(nodes.first().copied().unwrap_or(0))
            }
            Some(nodes) => {
                let at = self.listed.len() as u32;
                self.listed.extend_from_slice(nodes);
                AffineInputs::Listed(at)
            }
        };
        layer.inputs = x.len() as u32;
        layer.outputs = derivatives.len() as u32;
        layer.data_at = self.keep(x);
        self.data.extend_from_slice(derivatives);
        self.set_rule(Rule::Affine(layer));
    }

    /// Runs `run`'s rule; `g` holds node `i`'s gradient at `g[i]`.
    pub(crate) fn backward(&self, run: &Run, g: &mut [f64]) {
        match run.rule {
            Rule::Leaves => {}
            Rule::Edges { at, len } => {
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
            Rule::Affine(layer) => self.affine_backward(run, &layer, g),
        }
    }

    /// The dense rule (module docs), rows from the last to the first as an unfused sweep
    /// would visit them.
    fn affine_backward(&self, run: &Run, layer: &Affine, g: &mut [f64]) {
        let (inputs, outputs) = (layer.inputs as usize, layer.outputs as usize);
        let width = inputs + 1;
        let data = &self.data[layer.data_at as usize..];
        let (x, d) = (&data[..inputs], &data[inputs..inputs + outputs]);
        let weights = &self.data[layer.weights_at as usize..][..outputs * width];
        for j in (0..outputs).rev() {
            let gj = g[run.first as usize + j] * d[j];
            if gj == 0.0 {
                continue;
            }
            let row = &weights[j * width..(j + 1) * width];
            let p = layer.weights as usize + j * width;
            for (gw, xk) in g[p..p + inputs].iter_mut().zip(x) {
                *gw += gj * xk;
            }
            g[p + inputs] += gj;
            match layer.input_nodes {
                AffineInputs::Constants => {}
                AffineInputs::Range(first) => {
                    let first = first as usize;
                    for (gx, w) in g[first..first + inputs].iter_mut().zip(row) {
                        *gx += gj * w;
                    }
                }
                AffineInputs::Listed(at) => {
                    let nodes = &self.listed[at as usize..][..inputs];
                    for (&node, w) in nodes.iter().zip(row) {
                        g[node as usize] += gj * w;
                    }
                }
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.runs.clear();
        self.edge_inputs.clear();
        self.edge_partials.clear();
        self.open = 0;
        self.data.clear();
        self.listed.clear();
    }

    /// Bytes allocated.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.runs.capacity() * size_of::<Run>()
            + self.edge_inputs.capacity() * 4
            + self.edge_partials.capacity() * 8
            + self.data.capacity() * 8
            + self.listed.capacity() * 4
    }

    /// Room for `edges` more edges, as far as memory allows.
    pub(crate) fn reserve_edges(&mut self, edges: usize) {
        let _ = self.edge_inputs.try_reserve(edges);
        let _ = self.edge_partials.try_reserve(edges);
    }
}

/// Whether `nodes` are consecutive indices `first, first + 1, ...`.
fn is_range(nodes: &[u32]) -> bool {
    nodes.windows(2).all(|w| w[1] == w[0].wrapping_add(1))
}

/// A dense layer's pre-activations into `z`: for each row j,
/// `z_j = ((b_j + w_j0 x0) + w_j1 x1) + ...`, summed left to right from the bias. `weights`
/// holds the rows one after another, each as its weights then its bias.
///
/// Each row's sum is one chain of dependent adds; four rows are summed side by side so that
/// four chains are in flight at once, each still in its own left-to-right order.
#[inline]
pub(crate) fn affine_forward(weights: &[f64], x: &[f64], outputs: usize, z: &mut Vec<f64>) {
    let n = x.len();
    let width = n + 1;
    z.clear();
    let rows = &weights[..outputs * width];
    let mut quads = rows.chunks_exact(4 * width);
    for quad in &mut quads {
        let (r0, rest) = quad.split_at(width);
        let (r1, rest) = rest.split_at(width);
        let (r2, r3) = rest.split_at(width);
        let mut acc = [r0[n], r1[n], r2[n], r3[n]];
        let terms = x.iter().zip(r0).zip(r1).zip(r2).zip(r3);
        for ((((xk, w0), w1), w2), w3) in terms {
            acc[0] += w0 * xk;
            acc[1] += w1 * xk;
            acc[2] += w2 * xk;
            acc[3] += w3 * xk;
        }
        z.extend_from_slice(&acc);
    }
    z.extend(quads.remainder().chunks_exact(width).map(|row| {
        let (w, bias) = row.split_at(n);
        let mut zj = bias[0];
        for (wk, xk) in w.iter().zip(x) {
            zj += wk * xk;
        }
        zj
    }));
}
