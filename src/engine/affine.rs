//! The dense-layer rule: `a = act(W x + b)` over a block of weight leaves, for one sample or a
//! batch, and the kernels that compute it. One fused rule among the others (see
//! [`fused`](super::fused)); it knows shapes, not models.
//!
//! ```text
//! Affine  a_j = act(z_j),  z_j = b_j + sum_k w_jk x_k
//!         g_j = grad[a_j] * act'(z_j)
//!         grad[b_j] += g_j,  grad[w_jk] += g_j x_k,  grad[x_k] += g_j w_jk
//! ```
//!
//! An `Affine` run's weights are the leaves `weights + j * (inputs + 1) + k` (row j: its
//! weights, then its bias). A layer over recorded inputs needs their values for
//! `grad[x_k]`; they are stored once ([`Fused::keep`], [`Fused::keep_weights`]) so that every
//! use of the layer refers to one copy. A layer over constants reads no weights.

use super::fused::{Fused, Rule, Run};
use super::record::Records;
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
    /// Samples: 1 for one input. A batch of `B` samples is stored feature by feature: node
    /// `first + j * B + i` is output j of sample i, input k of sample i is at `k * B + i`
    /// (values and, for recorded inputs, node `Range` start), and so are the derivatives.
    pub(crate) batch: u32,
    /// For a batch: whether its inputs and weights were all finite when it was recorded, so
    /// that a zero `G` entry times them is 0 (else the rule skips zeros one by one, as the
    /// single-sample rule does, so that `0 * inf` does not make a NaN).
    pub(crate) finite: bool,
    /// The activation applied to `z`, for inspection.
    pub(crate) activation: Option<Op>,
}

impl Records {
    /// Appends leaves whose values from `kept` on are also stored for the fused rules that
    /// read them (the weights of layers over recorded inputs); returns the first leaf and
    /// where the stored values are.
    pub(crate) fn kept_leaves(&mut self, values: &[f64], kept: usize) -> (u32, u32) {
        let first = self.leaves(Op::Leaf, values);
        (first, self.fused.keep(&values[kept..]))
    }

    /// Writes new values over the ones [`Records::kept_leaves`] stored at `at` (parameters
    /// changed between two recordings that share the leaves).
    #[inline]
    pub(crate) fn rewrite_kept(&mut self, at: u32, values: &[f64]) {
        self.fused.data[at as usize..][..values.len()].copy_from_slice(values);
    }

    /// Appends a dense layer over one sample as one fused run: `x` are its input values
    /// (`layer.input_nodes` says where they come from, [`Fused::inputs`]), and
    /// `activate(d)` appends each output's `act'(z_j)` to `d` and returns the outputs `a`.
    /// The derivatives go straight into the rule's data, after `x`: no copy through a buffer.
    #[inline]
    pub(crate) fn dense<'a>(
        &mut self,
        mut layer: Affine,
        x: &[f64],
        activate: impl FnOnce(&mut Vec<f64>) -> &'a [f64],
    ) -> u32 {
        layer.inputs = x.len() as u32;
        layer.data_at = self.fused.keep(x);
        let a = activate(&mut self.fused.data);
        layer.outputs = a.len() as u32;
        self.fused_run(Op::Dense, a, |_| Rule::Affine(layer))
    }
}

impl Fused {
    /// Where the values of the weights whose first leaf is `leaf` are kept, storing `values`
    /// the first time a layer asks (a layer over constants never needs its weights kept: its
    /// rule passes nothing back to its inputs).
    pub(crate) fn keep_weights(&mut self, leaf: u32, values: &[f64]) -> u32 {
        if let Some(&(_, at)) = self.kept_weights.iter().find(|(l, _)| *l == leaf) {
            return at;
        }
        let at = self.keep(values);
        self.kept_weights.push((leaf, at));
        at
    }

    /// Where a layer's inputs recorded as `nodes` (`None` for constants) come from, listing
    /// them unless they are consecutive.
    pub(crate) fn inputs(&mut self, nodes: Option<&[u32]>) -> AffineInputs {
        match nodes {
            None => AffineInputs::Constants,
            Some(nodes) if is_range(nodes) => {
                AffineInputs::Range(nodes.first().copied().unwrap_or(0))
            }
            Some(nodes) => {
                let at = self.listed.len() as u32;
                self.listed.extend_from_slice(nodes);
                AffineInputs::Listed(at)
            }
        }
    }

    /// A dense layer's rule over a batch (layout in
    /// [`Affine::batch`]): `xt` are its inputs feature by feature, `first_input` the node of
    /// input 0 of sample 0 if they are recorded, `derivatives` each output's `act'(z)`;
    /// `layer.finite` says whether the weights and `xt` are all finite.
    pub(crate) fn affine_batch(
        &mut self,
        mut layer: Affine,
        first_input: Option<u32>,
        xt: &[f64],
        derivatives: &[f64],
    ) -> Rule {
        let b = layer.batch as usize;
        let n = xt.len() / b;
        layer.input_nodes = first_input.map_or(AffineInputs::Constants, AffineInputs::Range);
        layer.inputs = n as u32;
        layer.outputs = (derivatives.len() / b) as u32;
        layer.data_at = self.keep(xt);
        self.data.extend_from_slice(derivatives);
        Rule::Affine(layer)
    }

    /// The dense rule (module docs), rows from the last to the first as an unfused sweep
    /// would visit them.
    pub(crate) fn affine_backward(&self, run: &Run, layer: &Affine, g: &mut [f64]) {
        if layer.batch > 1 {
            self.affine_batch_backward(run, layer, g);
        } else {
            self.affine_sample_backward(run, layer, g);
        }
    }

    /// The dense rule for one sample. A layer of a few inputs takes a copy of the rule for
    /// its input count, whose rows are unrolled: no loop set-up, which would cost more than
    /// the arithmetic of a row of one to four weights.
    #[inline]
    fn affine_sample_backward(&self, run: &Run, layer: &Affine, g: &mut [f64]) {
        match layer.inputs {
            1 => self.affine_sample_backward_of::<1>(run, layer, g),
            2 => self.affine_sample_backward_of::<2>(run, layer, g),
            3 => self.affine_sample_backward_of::<3>(run, layer, g),
            4 => self.affine_sample_backward_of::<4>(run, layer, g),
            _ => self.affine_sample_backward_any(run, layer, g),
        }
    }

    /// [`Fused::affine_sample_backward`] of a layer of `N` inputs: the same products and
    /// sums, in the same order, with `N` known.
    #[inline(never)]
    fn affine_sample_backward_of<const N: usize>(&self, run: &Run, layer: &Affine, g: &mut [f64]) {
        let outputs = layer.outputs as usize;
        let (x, d) = self.data[layer.data_at as usize..][..N + outputs].split_at(N);
        let x: &[f64; N] = x.try_into().expect("N inputs");
        // The weights and inputs were recorded before the layer: the gradients the rule adds
        // to are all below its outputs' (read only).
        let (g, ga) = g.split_at_mut(run.first as usize);
        let rows = (ga[..outputs].iter().zip(d).enumerate().rev())
            .map(|(j, (ga, d))| (j, ga * d))
            .filter(|&(_, gj)| gj != 0.0);
        // grad[w_jk] += g_j x_k, grad[b_j] += g_j
        let weight_grads = |g: &mut [f64], j: usize, gj: f64| {
            let p = layer.weights as usize + j * (N + 1);
            let (gw, gb) = g[p..p + N + 1].split_at_mut(N);
            for (gw, xk) in gw.iter_mut().zip(x) {
                *gw += gj * xk;
            }
            gb[0] += gj;
        };
        let weights = || &self.data[layer.weights_at as usize..][..outputs * (N + 1)];
        match layer.input_nodes {
            AffineInputs::Constants => rows.for_each(|(j, gj)| weight_grads(g, j, gj)),
            AffineInputs::Range(first) => {
                let weights = weights();
                for (j, gj) in rows {
                    weight_grads(g, j, gj);
                    let row: &[f64; N] = weights[j * (N + 1)..][..N].try_into().expect("N weights");
                    let gx: &mut [f64; N] = (&mut g[first as usize..][..N])
                        .try_into()
                        .expect("N inputs");
                    for (gx, w) in gx.iter_mut().zip(row) {
                        *gx += gj * w;
                    }
                }
            }
            AffineInputs::Listed(at) => {
                let (weights, nodes) = (weights(), &self.listed[at as usize..][..N]);
                for (j, gj) in rows {
                    weight_grads(g, j, gj);
                    let row = &weights[j * (N + 1)..][..N];
                    for (&node, w) in nodes.iter().zip(row) {
                        g[node as usize] += gj * w;
                    }
                }
            }
        }
    }

    /// [`Fused::affine_sample_backward`] of a layer of any number of inputs.
    #[inline(never)] // kept apart from the small layers' copies, whose code would crowd it
    fn affine_sample_backward_any(&self, run: &Run, layer: &Affine, g: &mut [f64]) {
        let (inputs, outputs) = (layer.inputs as usize, layer.outputs as usize);
        let width = inputs + 1;
        let data = &self.data[layer.data_at as usize..];
        let (x, d) = (&data[..inputs], &data[inputs..inputs + outputs]);
        // Only a layer over recorded inputs has its weights kept (it needs them for them).
        let weights = match layer.input_nodes {
            AffineInputs::Constants => &[][..],
            _ => &self.data[layer.weights_at as usize..][..outputs * width],
        };
        for j in (0..outputs).rev() {
            let gj = g[run.first as usize + j] * d[j];
            if gj == 0.0 {
                continue;
            }
            let p = layer.weights as usize + j * width;
            add_scaled(&mut g[p..p + inputs], gj, x);
            g[p + inputs] += gj;
            match layer.input_nodes {
                AffineInputs::Constants => {}
                AffineInputs::Range(first) => {
                    let row = &weights[j * width..j * width + inputs];
                    let first = first as usize;
                    add_scaled(&mut g[first..first + inputs], gj, row);
                }
                AffineInputs::Listed(at) => {
                    let row = &weights[j * width..(j + 1) * width];
                    let nodes = &self.listed[at as usize..][..inputs];
                    for (&node, w) in nodes.iter().zip(row) {
                        g[node as usize] += gj * w;
                    }
                }
            }
        }
    }

    /// The dense rule over a batch (layouts in [`Affine::batch`]), with
    /// `G = grad[a] * act'(z)` (outputs by samples): `grad[b] += G 1`, `grad[W] += G X`,
    /// `grad[X] += W^T G`, as blocked matrix products. Each sum runs over the samples (or the
    /// rows) in a fixed order, so a batch gives the same bits every time, though not the bits
    /// of its samples swept one by one.
    #[inline(never)] // kept out of the single-sample rule, whose loops it would crowd
    fn affine_batch_backward(&self, run: &Run, layer: &Affine, g: &mut [f64]) {
        let (n, b) = (layer.inputs as usize, layer.batch as usize);
        let outputs = layer.outputs as usize;
        let width = n + 1;
        let data = &self.data[layer.data_at as usize..];
        let (x, d) = (&data[..n * b], &data[n * b..(n + outputs) * b]);
        thread_local! {
            static WORK: std::cell::RefCell<BatchWork> = std::cell::RefCell::default();
        }
        WORK.with(|cell| {
            let w = &mut *cell.borrow_mut();
            let first = run.first as usize;
            w.gt.clear();
            let grads = g[first..first + outputs * b].iter().zip(d);
            w.gt.extend(grads.map(|(ga, d)| ga * d));
            if !layer.finite {
                return self.affine_batch_backward_skipping_zeros(layer, &w.gt, x, g);
            }
            // Samples whose G column is all zero (closed hinges, closed ReLUs) pass nothing
            // back: the products run over the others only, gathered.
            // The bits of each column's entries, ORed without the sign: nonzero if one is
            // (a branch-free pass over the rows, which vectorizes).
            w.mask.clear();
            w.mask.resize(b, 0);
            for row in w.gt.chunks_exact(b) {
                for (m, v) in w.mask.iter_mut().zip(row) {
                    *m |= v.to_bits() << 1;
                }
            }
            w.live.clear();
            w.live.extend((0..b).filter(|&i| w.mask[i] != 0));
            let live = w.live.len();
            if live == 0 {
                return;
            }
            // The live samples' inputs, sample by sample (the layout `outer_products` reads),
            // and their column of G.
            w.xc.clear();
            for &i in &w.live {
                w.xc.extend((0..n).map(|k| x[k * b + i]));
            }
            let gt = if live == b {
                &w.gt[..]
            } else {
                w.gc.clear();
                for j in 0..outputs {
                    w.gc.extend(w.live.iter().map(|&i| w.gt[j * b + i]));
                }
                &w.gc[..]
            };
            let x = &w.xc[..];
            let p = layer.weights as usize;
            outer_products(gt, x, n, live, &mut g[p..p + outputs * width]);
            if let AffineInputs::Range(first_input) = layer.input_nodes {
                let weights = &self.data[layer.weights_at as usize..][..outputs * width];
                let gx = &mut g[first_input as usize..][..n * b];
                if live == b {
                    weights_transposed_times(weights, n, gt, b, gx);
                } else {
                    w.gxc.clear();
                    w.gxc.resize(n * live, 0.0);
                    weights_transposed_times(weights, n, gt, live, &mut w.gxc);
                    for (gxk, gck) in gx.chunks_exact_mut(b).zip(w.gxc.chunks_exact(live)) {
                        for (&i, v) in w.live.iter().zip(gck) {
                            gxk[i] += v;
                        }
                    }
                }
            }
        });
    }

    /// [`Fused::affine_batch_backward`] for a batch with a non-finite input or weight: sample
    /// by sample from the last, each as the single-sample rule, skipping zero entries of `G`.
    fn affine_batch_backward_skipping_zeros(
        &self,
        layer: &Affine,
        gt: &[f64],
        x: &[f64],
        g: &mut [f64],
    ) {
        let (n, b) = (layer.inputs as usize, layer.batch as usize);
        let (width, outputs) = (n + 1, gt.len() / b);
        for i in (0..b).rev() {
            for j in (0..outputs).rev() {
                let gij = gt[j * b + i];
                if gij == 0.0 {
                    continue;
                }
                let p = layer.weights as usize + j * width;
                for (k, gw) in g[p..p + n].iter_mut().enumerate() {
                    *gw += gij * x[k * b + i];
                }
                g[p + n] += gij;
                if let AffineInputs::Range(first) = layer.input_nodes {
                    let w = &self.data[layer.weights_at as usize + j * width..][..n];
                    for (k, wk) in w.iter().enumerate() {
                        g[first as usize + k * b + i] += gij * wk;
                    }
                }
            }
        }
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
/// Each row's sum is one chain of dependent adds; eight rows are summed side by side so that
/// eight chains are in flight at once (enough to keep both adders busy through their
/// latency), each still in its own left-to-right order.
///
/// A layer of a few inputs sums its rows one after another (each a chain of one to four adds,
/// which the core overlaps on its own), with the input count known: no block set-up, and no
/// call (its loop is shorter than one).
#[inline(always)]
pub(crate) fn affine_forward(weights: &[f64], x: &[f64], outputs: usize, z: &mut Vec<f64>) {
    match x.len() {
        1 => rows_of::<1>(weights, x, outputs, z),
        2 => rows_of::<2>(weights, x, outputs, z),
        3 => rows_of::<3>(weights, x, outputs, z),
        4 => rows_of::<4>(weights, x, outputs, z),
        _ => rows_in_blocks(weights, x, outputs, z),
    }
}

/// [`affine_forward`] of a layer of more than four inputs.
#[inline(never)]
fn rows_in_blocks(weights: &[f64], x: &[f64], outputs: usize, z: &mut Vec<f64>) {
    let width = x.len() + 1;
    z.clear();
    let mut blocks = weights[..outputs * width].chunks_exact(8 * width);
    for block in &mut blocks {
        z.extend_from_slice(&rows_side_by_side::<8>(block, x));
    }
    let mut quads = blocks.remainder().chunks_exact(4 * width);
    for quad in &mut quads {
        z.extend_from_slice(&rows_side_by_side::<4>(quad, x));
    }
    for row in quads.remainder().chunks_exact(width) {
        z.extend_from_slice(&rows_side_by_side::<1>(row, x));
    }
}

/// [`affine_forward`] of a layer of `N` inputs: row by row, written over `z` (made `outputs`
/// long, a no-op when it already is, as from one sample to the next).
#[inline(always)]
fn rows_of<const N: usize>(weights: &[f64], x: &[f64], outputs: usize, z: &mut Vec<f64>) {
    let x: &[f64; N] = x.try_into().expect("N inputs");
    z.resize(outputs, 0.0);
    let rows = weights[..outputs * (N + 1)].chunks_exact(N + 1);
    for (z, row) in z.iter_mut().zip(rows) {
        let (w, b) = row.split_at(N);
        *z = w.iter().zip(x).fold(b[0], |z, (w, x)| z + w * x);
    }
}

/// The pre-activations of the `R` rows in `rows` (each `x.len()` weights then a bias), one
/// chain each, summed side by side.
#[inline(always)]
fn rows_side_by_side<const R: usize>(block: &[f64], x: &[f64]) -> [f64; R] {
    let n = x.len();
    let width = n + 1;
    let rows: [&[f64]; R] = std::array::from_fn(|r| &block[r * width..r * width + n]);
    let mut acc: [f64; R] = std::array::from_fn(|r| block[r * width + n]);
    // Two inputs at a time: each row's pair of weights is one load.
    let pairs = n / 2;
    for q in 0..pairs {
        let k = 2 * q;
        let (x0, x1) = (x[k], x[k + 1]);
        let w: [[f64; 2]; R] = std::array::from_fn(|r| [rows[r][k], rows[r][k + 1]]);
        for r in 0..R {
            acc[r] += w[r][0] * x0;
        }
        for r in 0..R {
            acc[r] += w[r][1] * x1;
        }
    }
    if n % 2 == 1 {
        let k = n - 1;
        for r in 0..R {
            acc[r] += rows[r][k] * x[k];
        }
    }
    acc
}

/// A thread's scratch for the batched dense rule.
#[derive(Debug, Default)]
struct BatchWork {
    /// `G = grad[a] * act'(z)`, outputs by samples.
    gt: Vec<f64>,
    /// Per sample, nonzero if its column of `G` has a nonzero entry; those samples.
    mask: Vec<u64>,
    live: Vec<usize>,
    /// `G`, the inputs and the input gradients of the live samples, gathered.
    gc: Vec<f64>,
    xc: Vec<f64>,
    gxc: Vec<f64>,
}

/// `y += a x`, element by element: one contiguous loop the compiler vectorizes.
#[inline(always)]
fn add_scaled(y: &mut [f64], a: f64, x: &[f64]) {
    for (yk, xk) in y.iter_mut().zip(x) {
        *yk += a * xk;
    }
}

/// Whether every value is finite (a branch-free pass: it vectorizes).
pub(crate) fn all_finite(values: &[f64]) -> bool {
    !values.iter().fold(false, |bad, v| bad | !v.is_finite())
}

// The batched kernels below are plain loops over fixed-size blocks, which the compiler turns
// into vector instructions. A portable build may only assume SSE2 (two lanes), so each kernel
// is entered through `pulp::Arch::dispatch`, which picks, once per call, a copy of it compiled
// for the widest instruction set this CPU has (AVX2: four lanes) and falls back to the
// portable one. Every copy performs the same IEEE operations in the same order (separate
// multiplies and adds, never a fused multiply-add), so the results have the same bits on
// every machine.

/// `gw[j][k] += sum_i gt[j][i] x[i][k]` and `gw[j][n] += sum_i gt[j][i]` for the rows `gw[j]`
/// (`n` weights then a bias) of `gw`: `gt` is outputs by samples, `x` samples by inputs. Four
/// rows and eight inputs at a time in registers, each summed over the samples in order.
fn outer_products(gt: &[f64], x: &[f64], n: usize, b: usize, gw: &mut [f64]) {
    struct Kernel<'a>(&'a [f64], &'a [f64], usize, usize, &'a mut [f64]);
    impl pulp::WithSimd for Kernel<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            let Kernel(gt, x, n, b, gw) = self;
            let width = n + 1;
            let mut rows = gw.chunks_exact_mut(4 * width);
            let mut grows = gt.chunks_exact(4 * b);
            for (block, g) in (&mut rows).zip(&mut grows) {
                outer_rows::<4>(g, x, n, b, block);
            }
            let rest = rows.into_remainder();
            let grest = grows.remainder();
            for (row, g) in rest.chunks_exact_mut(width).zip(grest.chunks_exact(b)) {
                outer_rows::<1>(g, x, n, b, row);
            }
        }
    }
    pulp::Arch::new().dispatch(Kernel(gt, x, n, b, gw));
}

/// [`outer_products`] for the `R` rows of `gw` (`R * (n + 1)` values) whose `G` rows are `g`
/// (`R * b`).
#[inline(always)]
fn outer_rows<const R: usize>(g: &[f64], x: &[f64], n: usize, b: usize, gw: &mut [f64]) {
    let width = n + 1;
    let g: [&[f64]; R] = std::array::from_fn(|r| &g[r * b..(r + 1) * b]);
    let x = &x[..n * b];
    let mut k0 = 0;
    while k0 + 8 <= n {
        let mut acc: [[f64; 8]; R] =
            std::array::from_fn(|r| gw[r * width + k0..][..8].try_into().unwrap_or([0.0; 8]));
        for (i, xi) in x.chunks_exact(n).enumerate() {
            let xi: &[f64; 8] = xi[k0..k0 + 8].try_into().unwrap_or(&[0.0; 8]);
            for r in 0..R {
                let s = g[r][i];
                for l in 0..8 {
                    acc[r][l] += s * xi[l];
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            gw[r * width + k0..][..8].copy_from_slice(a);
        }
        k0 += 8;
    }
    for k in k0..n {
        for (r, gr) in g.iter().enumerate() {
            let w = &mut gw[r * width + k];
            *w = x
                .chunks_exact(n)
                .zip(*gr)
                .fold(*w, |s, (xi, gi)| s + gi * xi[k]);
        }
    }
    for (r, gr) in g.iter().enumerate() {
        gw[r * width + n] += gr.iter().fold(0.0, |s, v| s + v);
    }
}

/// `gx[k * b + i] += sum_j w_jk gt[j * b + i]` for the rows `w_j` of `weights` (each `n`
/// weights then a bias), summed over j from the last row to the first as the single-sample
/// rule does; four inputs and eight samples at a time in registers.
fn weights_transposed_times(weights: &[f64], n: usize, gt: &[f64], b: usize, gx: &mut [f64]) {
    struct Kernel<'a>(&'a [f64], usize, &'a [f64], usize, &'a mut [f64]);
    impl pulp::WithSimd for Kernel<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            let Kernel(weights, n, gt, b, gx) = self;
            let mut blocks = gx[..n * b].chunks_exact_mut(4 * b);
            let mut k0 = 0;
            for block in &mut blocks {
                transposed_inputs::<4>(weights, n, k0, gt, b, block);
                k0 += 4;
            }
            for row in blocks.into_remainder().chunks_exact_mut(b) {
                transposed_inputs::<1>(weights, n, k0, gt, b, row);
                k0 += 1;
            }
        }
    }
    pulp::Arch::new().dispatch(Kernel(weights, n, gt, b, gx));
}

/// [`weights_transposed_times`] for the `K` inputs from `k0` on (`gx`: `K * b` values).
#[inline(always)]
fn transposed_inputs<const K: usize>(
    weights: &[f64],
    n: usize,
    k0: usize,
    gt: &[f64],
    b: usize,
    gx: &mut [f64],
) {
    let width = n + 1;
    let outputs = gt.len() / b;
    // Column k0.. of each row: the K weights the block multiplies by.
    let column = |j: usize| -> [f64; K] { std::array::from_fn(|q| weights[j * width + k0 + q]) };
    let mut i0 = 0;
    while i0 + 8 <= b {
        let mut acc: [[f64; 8]; K] =
            std::array::from_fn(|q| gx[q * b + i0..][..8].try_into().unwrap_or([0.0; 8]));
        for j in (0..outputs).rev() {
            let w = column(j);
            let gj: &[f64; 8] = gt[j * b + i0..][..8].try_into().unwrap_or(&[0.0; 8]);
            for q in 0..K {
                for l in 0..8 {
                    acc[q][l] += w[q] * gj[l];
                }
            }
        }
        for (q, a) in acc.iter().enumerate() {
            gx[q * b + i0..][..8].copy_from_slice(a);
        }
        i0 += 8;
    }
    for i in i0..b {
        for j in (0..outputs).rev() {
            let (w, gji) = (column(j), gt[j * b + i]);
            for q in 0..K {
                gx[q * b + i] += w[q] * gji;
            }
        }
    }
}

/// A dense layer's pre-activations for a batch of `b` samples stored feature by feature
/// (`xt[k * b + i]` is input k of sample i) into `zt` (`zt[j * b + i]`), each
/// `z = ((b_j + w_j0 x0) + w_j1 x1) + ...` summed left to right from the bias: the order of
/// [`affine_forward`], so a sample's outputs have the same bits in a batch or alone. Four rows
/// and eight samples at a time, in registers.
pub(crate) fn affine_forward_batch(
    weights: &[f64],
    xt: &[f64],
    b: usize,
    outputs: usize,
    zt: &mut Vec<f64>,
) {
    struct Kernel<'a>(&'a [f64], &'a [f64], usize, &'a mut [f64]);
    impl pulp::WithSimd for Kernel<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            let Kernel(rows, xt, b, zt) = self;
            let width = xt.len() / b + 1;
            let mut blocks = rows.chunks_exact(4 * width);
            let mut zblocks = zt.chunks_exact_mut(4 * b);
            for (block, z) in (&mut blocks).zip(&mut zblocks) {
                forward_rows::<4>(block, xt, b, z);
            }
            let rest = blocks.remainder().chunks_exact(width);
            for (row, z) in rest.zip(zblocks.into_remainder().chunks_exact_mut(b)) {
                forward_rows::<1>(row, xt, b, z);
            }
        }
    }
    let width = xt.len() / b + 1;
    zt.clear();
    zt.resize(outputs * b, 0.0);
    pulp::Arch::new().dispatch(Kernel(&weights[..outputs * width], xt, b, zt));
}

/// [`affine_forward_batch`] for the `R` rows in `block` (each `n` weights then a bias) into
/// `z` (`R * b` values).
#[inline(always)]
fn forward_rows<const R: usize>(block: &[f64], xt: &[f64], b: usize, z: &mut [f64]) {
    let n = xt.len() / b;
    let width = n + 1;
    let rows: [&[f64]; R] = std::array::from_fn(|r| &block[r * width..r * width + n]);
    let bias: [f64; R] = std::array::from_fn(|r| block[r * width + n]);
    let mut i0 = 0;
    while i0 + 8 <= b {
        let mut acc: [[f64; 8]; R] = std::array::from_fn(|r| [bias[r]; 8]);
        for k in 0..n {
            let x: &[f64; 8] = xt[k * b + i0..][..8].try_into().unwrap_or(&[0.0; 8]);
            for r in 0..R {
                let w = rows[r][k];
                for l in 0..8 {
                    acc[r][l] += w * x[l];
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            z[r * b + i0..][..8].copy_from_slice(a);
        }
        i0 += 8;
    }
    for i in i0..b {
        for r in 0..R {
            z[r * b + i] = (0..n).fold(bias[r], |s, k| s + rows[r][k] * xt[k * b + i]);
        }
    }
}
