//! tanh and its derivative from plain arithmetic, without a libm call and without a branch,
//! so that a loop over a layer's pre-activations vectorizes (the dense layers spend most of
//! their activation time here; libm's `tanh` is a call per value through `expm1`).
//!
//! ```text
//! |x| <= 0.55:  t = x + x s P(s), s = x^2 (P fitted to tanh on [0, 0.55], error < 3e-18)
//!               d = 1 - t^2                      (t^2 <= 0.26: no cancellation)
//! |x| >  0.55:  u = e^(-2|x|), t = (1 - u) / (1 + u), d = 4u / (1 + u)^2
//! ```
//!
//! Both forms are computed and one is selected, the sign put back last (so `tanh(-0.0) =
//! -0.0`). `e^y` for `y <= 0`: `y = k ln 2 + r` with `|r| <= ln(2) / 2` (Cody-Waite, `ln 2` in
//! two parts), `e^r` by its Taylor series to degree 13 (remainder < 5e-18), times `2^k` as two
//! factors so that it reaches the subnormals. Accuracy against 50-digit references: see
//! `tests/tanh.rs` and the [numerics table](crate::numerics).

/// Where the polynomial form stops and the exponential form begins (tanh(0.55) ~ 0.5005).
const SMALL: f64 = 0.55;

/// `P(s) = (tanh(sqrt s) / sqrt s - 1) / s` on `[0, 0.55^2]`, highest power first (a
/// Chebyshev fit in 60-digit arithmetic, rounded to f64).
const P: [f64; 11] = [
    -2.060276537636634e-05,
    8.511313685577672e-05,
    -0.0002346347410887237,
    0.0005889360520074057,
    -0.001455661830100716,
    0.003592110378689024,
    -0.008863234397814355,
    0.021869488493666944,
    -0.053968253967434016,
    0.13333333333332714,
    -0.3333333333333333,
];

/// `1 / k!` for k = 13 down to 0.
const EXP: [f64; 14] = [
    1.6059043836821613e-10,
    2.08767569878681e-09,
    2.505210838544172e-08,
    2.755731922398589e-07,
    2.7557319223985893e-06,
    2.48015873015873e-05,
    0.0001984126984126984,
    0.001388888888888889,
    0.008333333333333333,
    0.041666666666666664,
    0.16666666666666666,
    0.5,
    1.0,
    1.0,
];

/// `ln 2` as a head whose low 21 bits are zero (so `k * LN2_HI` is exact for every k here)
/// and the rest.
const LN2_HI: f64 = 0.6931471803691238;
const LN2_LO: f64 = 1.9082149292705877e-10;
/// 1.5 * 2^52: adding it rounds a number of magnitude below 2^51 to an integer, which then
/// sits in the low bits of the sum.
const ROUND: f64 = 6_755_399_441_055_744.0;

/// `(tanh x, 1 - tanh(x)^2)`; NaN gives NaN for both, +-inf gives +-1 and 0.
///
/// Not inlined: one value at a time, the call costs little beside the arithmetic, and a copy of
/// it in every recording of a `tanh` node crowds the caller's loop.
#[inline(never)]
pub(crate) fn tanh(x: f64) -> (f64, f64) {
    let (t, d) = lanes([x]);
    (t[0], d[0])
}

/// [`tanh`] of each `z` into `t` and `d` (all of one length), four values at a time.
///
/// Entered through `pulp::Arch::dispatch`, which runs a copy of the loop compiled for the
/// widest vector instructions the CPU has (AVX2: the four values in one register; a portable
/// build may otherwise only assume SSE2's two lanes). The operations, and so the bits, are the
/// same in every copy.
pub(crate) fn tanh_slice(z: &[f64], t: &mut [f64], d: &mut [f64]) {
    struct Kernel<'a>(&'a [f64], &'a mut [f64], &'a mut [f64]);
    impl pulp::WithSimd for Kernel<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) {
            tanh_slice_kernel(self.0, self.1, self.2)
        }
    }
    pulp::Arch::new().dispatch(Kernel(z, t, d));
}

/// The loop of [`tanh_slice`], inlined into each dispatched copy.
#[inline(always)]
fn tanh_slice_kernel(z: &[f64], t: &mut [f64], d: &mut [f64]) {
    let mut zs = z.chunks_exact(4);
    let mut ts = t.chunks_exact_mut(4);
    let mut ds = d.chunks_exact_mut(4);
    for ((z, t), d) in (&mut zs).zip(&mut ts).zip(&mut ds) {
        let (tl, dl) = lanes([z[0], z[1], z[2], z[3]]);
        t.copy_from_slice(&tl);
        d.copy_from_slice(&dl);
    }
    let rest = zs
        .remainder()
        .iter()
        .zip(ts.into_remainder())
        .zip(ds.into_remainder());
    for ((&z, t), d) in rest {
        (*t, *d) = tanh(z);
    }
}

/// The rule on `L` values side by side, each step a loop over the lanes, which the compiler
/// turns into vector instructions (the same operations on each lane: the same bits as one
/// value alone).
#[inline(always)]
fn lanes<const L: usize>(x: [f64; L]) -> ([f64; L], [f64; L]) {
    let a = each::<L>(|l| x[l].abs());
    let s = each::<L>(|l| a[l] * a[l]);
    let mut p = [P[0]; L];
    for c in &P[1..] {
        p = each::<L>(|l| p[l] * s[l] + c);
    }
    let t_small = each::<L>(|l| a[l] + a[l] * (s[l] * p[l]));
    // Past -760, e^y is 0 in f64 either way; the clamp keeps k in range (NaN passes through).
    let y = each::<L>(|l| {
        let y = -2.0 * a[l];
        if y < -760.0 {
            -760.0
        } else {
            y
        }
    });
    let u = exp_nonpositive(y);
    let t = each::<L>(|l| {
        let large = (1.0 - u[l]) / (1.0 + u[l]);
        let t = if a[l] <= SMALL { t_small[l] } else { large };
        t.copysign(x[l])
    });
    let d = each::<L>(|l| {
        let large = 4.0 * u[l] / ((1.0 + u[l]) * (1.0 + u[l]));
        if a[l] <= SMALL {
            1.0 - t_small[l] * t_small[l]
        } else {
            large
        }
    });
    (t, d)
}

/// `e^y` for `-760 <= y <= 0` (or NaN) in each lane, branch-free.
#[inline(always)]
fn exp_nonpositive<const L: usize>(y: [f64; L]) -> [f64; L] {
    let shifted = each::<L>(|l| y[l] * std::f64::consts::LOG2_E + ROUND);
    let k = each::<L>(|l| shifted[l] - ROUND);
    let r = each::<L>(|l| (y[l] - k[l] * LN2_HI) - k[l] * LN2_LO);
    let mut e = [EXP[0]; L];
    for c in &EXP[1..] {
        e = each::<L>(|l| e[l] * r[l] + c);
    }
    // k as a two's-complement integer (the low bits of `shifted`), split as k1 + k2 with both
    // at least -550, so that each 2^ki is a normal number.
    let power = |k: u64| f64::from_bits(k.wrapping_add(1023) << 52);
    each::<L>(|l| {
        let k = shifted[l].to_bits().wrapping_sub(ROUND.to_bits());
        let k1 = (k.wrapping_add(2048) >> 1).wrapping_sub(1024);
        let k2 = k.wrapping_sub(k1);
        e[l] * power(k2) * power(k1)
    })
}

/// `[f(0), f(1), ..]`: one step of a lane-wise computation.
#[inline(always)]
fn each<const L: usize>(f: impl Fn(usize) -> f64) -> [f64; L] {
    std::array::from_fn(f)
}
