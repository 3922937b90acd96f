//! Dense layers recorded whole: one block per layer instead of one edge per weight.
//!
//! A neuron `a_j = act(z_j)`, `z_j = b_j + sum_k w_jk x_k`, recorded node by node, stores an edge
//! for its bias, one per weight (partial `x_k`) and one per input (partial `w_jk`): the layer's
//! inputs are copied once per neuron and its weights once per sample. A block stores what those
//! edges are made of, once: the layer's input nodes and values, each neuron's activation
//! derivative `d_j = act'(z_j)`, and where the weights are (a copy of the model's parameters
//! taken once per [`bind`](crate::Mlp::bind)). Its outputs are ordinary tape nodes without stored
//! edges; the reverse sweep runs the block's rule when it reaches them, which is the backprop one
//! writes by hand:
//!
//! ```text
//! g_j = grad[a_j] * d_j                  (skipped when 0, like any node)
//! grad[b_j]  += g_j                      d a_j / d b_j  = d_j
//! grad[w_jk] += g_j * x_k                d a_j / d w_jk = d_j x_k
//! grad[x_k]  += g_j * w_jk               d a_j / d x_k  = d_j w_jk
//! ```
//!
//! [`Tape::edges`](crate::Tape::edges) reports these implied edges for a block's output, so the
//! graph reads the same either way. A [traced](crate::Tape::traced) tape records layers node by
//! node instead, so that every op and value can be inspected.

/// Where a block's inputs come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum BlockInputs {
    /// Plain numbers: no gradient flows to them.
    Constants,
    /// The nodes `first..first + inputs` (the previous layer's outputs).
    Range(u32),
    /// The nodes listed at `DenseBlocks::nodes[at..at + inputs]`.
    Listed(usize),
}

/// One dense layer applied to one input.
#[derive(Debug, Clone, Copy)]
struct Block {
    /// The first output node; the outputs are `outputs_first..outputs_first + outputs`.
    outputs_first: u32,
    outputs: u32,
    inputs: u32,
    /// The leaf of the layer's first parameter (neuron 0's first weight); neuron j's weights
    /// and bias follow at `params_first + j * (inputs + 1)`.
    params_first: u32,
    /// Where the layer's parameter values are in `DenseBlocks::values` (same layout).
    weights_at: usize,
    /// Where the input values (`inputs` of them), then the activation derivatives (`outputs`),
    /// are in `DenseBlocks::values`.
    data_at: usize,
    input_nodes: BlockInputs,
}

/// Every block of a recording, in recording order, and the numbers they refer to.
#[derive(Debug, Default)]
pub(crate) struct DenseBlocks {
    blocks: Vec<Block>,
    values: Vec<f64>,
    nodes: Vec<u32>,
}

impl DenseBlocks {
    pub(crate) fn clear(&mut self) {
        self.blocks.clear();
        self.values.clear();
        self.nodes.clear();
    }

    /// Keeps a copy of a bound model's parameter values; returns where it starts.
    pub(crate) fn keep_parameters(&mut self, params: &[f64]) -> usize {
        let at = self.values.len();
        self.values.extend_from_slice(params);
        at
    }

    /// Records a block whose outputs are the nodes `outputs_first..` (already given their
    /// places on the tape, without edges). `input_nodes` is `None` for constant inputs.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record(
        &mut self,
        outputs_first: u32,
        params_first: u32,
        weights_at: usize,
        input_nodes: Option<&[u32]>,
        input_values: &[f64],
        derivatives: &[f64],
    ) {
        let inputs = input_values.len();
        let input_nodes = match input_nodes {
            None => BlockInputs::Constants,
            Some(nodes) if is_range(nodes) => {
                BlockInputs::Range(nodes.first().copied().unwrap_or(0))
            }
            Some(nodes) => {
                let at = self.nodes.len();
                self.nodes.extend_from_slice(nodes);
                BlockInputs::Listed(at)
            }
        };
        let data_at = self.values.len();
        self.values.extend_from_slice(input_values);
        self.values.extend_from_slice(derivatives);
        self.blocks.push(Block {
            outputs_first,
            outputs: derivatives.len() as u32,
            inputs: inputs as u32,
            params_first,
            weights_at,
            data_at,
            input_nodes,
        });
    }

    /// The reverse sweep over nodes `0..n`: `scalar(lo, hi)` sweeps the ordinary nodes
    /// `lo..hi` (from the top down), and each block's rule runs when the sweep reaches its
    /// outputs, which is after every node that uses them.
    pub(crate) fn sweep(
        &self,
        n: usize,
        g: &mut [f64],
        mut scalar: impl FnMut(usize, usize, &mut [f64]),
    ) {
        let mut hi = n;
        for block in self.blocks.iter().rev() {
            let first = block.outputs_first as usize;
            if first >= n {
                continue;
            }
            let end = (first + block.outputs as usize).min(hi);
            scalar(end, hi, g);
            self.backward(block, g);
            hi = first;
        }
        scalar(0, hi, g);
    }

    /// One block's rule (see the module docs), neurons from the last to the first as a
    /// node-by-node sweep would visit them.
    fn backward(&self, block: &Block, g: &mut [f64]) {
        let (inputs, outputs) = (block.inputs as usize, block.outputs as usize);
        let width = inputs + 1;
        let x = &self.values[block.data_at..block.data_at + inputs];
        let d = &self.values[block.data_at + inputs..block.data_at + inputs + outputs];
        let weights = &self.values[block.weights_at..block.weights_at + outputs * width];
        for j in (0..outputs).rev() {
            let gj = g[block.outputs_first as usize + j] * d[j];
            if gj == 0.0 {
                continue;
            }
            let row = &weights[j * width..(j + 1) * width];
            let p = block.params_first as usize + j * width;
            // grad[w_jk] += g_j x_k, then grad[b_j] += g_j
            for (gw, xk) in g[p..p + inputs].iter_mut().zip(x) {
                *gw += gj * xk;
            }
            g[p + inputs] += gj;
            // grad[x_k] += g_j w_jk
            match block.input_nodes {
                BlockInputs::Constants => {}
                BlockInputs::Range(first) => {
                    let first = first as usize;
                    for (gx, w) in g[first..first + inputs].iter_mut().zip(row) {
                        *gx += gj * w;
                    }
                }
                BlockInputs::Listed(at) => {
                    for (&node, w) in self.nodes[at..at + inputs].iter().zip(row) {
                        g[node as usize] += gj * w;
                    }
                }
            }
        }
    }

    /// The implied edges of node `index` if it is a block's output: `(parent, partial)` for
    /// the bias, each weight, then each input node.
    pub(crate) fn edges(&self, index: usize) -> Option<Vec<(usize, f64)>> {
        let k = self
            .blocks
            .partition_point(|b| b.outputs_first as usize <= index)
            .checked_sub(1)?;
        let block = &self.blocks[k];
        let j = index - block.outputs_first as usize;
        if j >= block.outputs as usize {
            return None;
        }
        let (inputs, width) = (block.inputs as usize, block.inputs as usize + 1);
        let x = &self.values[block.data_at..block.data_at + inputs];
        let d = self.values[block.data_at + inputs + j];
        let row = &self.values[block.weights_at + j * width..][..width];
        let p = block.params_first as usize + j * width;
        let mut edges = vec![(p + inputs, d)];
        edges.extend(x.iter().enumerate().map(|(k, xk)| (p + k, d * xk)));
        let node = |k: usize| match block.input_nodes {
            BlockInputs::Constants => None,
            BlockInputs::Range(first) => Some(first as usize + k),
            BlockInputs::Listed(at) => Some(self.nodes[at + k] as usize),
        };
        let input_edges = row[..inputs].iter().enumerate();
        edges.extend(input_edges.filter_map(|(k, w)| node(k).map(|n| (n, d * w))));
        Some(edges)
    }

    /// Parent links the blocks stand for (as [`Tape::edge_count`](crate::Tape::edge_count)
    /// counts them).
    pub(crate) fn edge_count(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| {
                let per_input = if b.input_nodes == BlockInputs::Constants {
                    1
                } else {
                    2
                };
                b.outputs as usize * (1 + per_input * b.inputs as usize)
            })
            .sum()
    }

    /// Bytes in use (not capacity).
    pub(crate) fn bytes_used(&self) -> usize {
        self.blocks.len() * std::mem::size_of::<Block>()
            + self.values.len() * 8
            + self.nodes.len() * 4
    }

    /// Bytes allocated.
    pub(crate) fn bytes_allocated(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Block>()
            + self.values.capacity() * 8
            + self.nodes.capacity() * 4
    }
}

/// Whether `nodes` are consecutive indices `first, first + 1, ...`.
fn is_range(nodes: &[u32]) -> bool {
    nodes.windows(2).all(|w| w[1] == w[0].wrapping_add(1))
}
