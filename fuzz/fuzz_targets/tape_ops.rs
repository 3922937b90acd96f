//! Bytes become a little program over the tape's public API: leaves, every unary and binary op
//! (`max`/`min` with a `Value` or an `f64`), constants on either side, `sum`/`dot`, the `Sum`
//! of an iterator (by value and by reference), `Tape::custom` with 0 to 4 inputs, `detach`, the
//! assign operators, backward, and clear-and-reuse.
//!
//! Asserts: no panic; every recorded value is what plain `f64` arithmetic gives (so finite
//! inputs through finite-result ops stay finite); the partials of `abs`, `max`, `min` and
//! `custom` are the documented ones (kinks, ties, NaN); `a op= b` records the same node as
//! `a op b`, bit for bit; backward twice, and into a reused buffer,
//! gives bit-identical gradients, equal to a naive sweep over `Tape::edges`; every node has the
//! parents the program gave it; nodes that do not reach the output have gradient 0; the tape
//! holds exactly the nodes the program recorded, and after a clear its memory does not grow
//! while a round records no more than an earlier one did.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapegrad::{Gradients, Tape, Value};

#[path = "bytes.rs"]
mod bytes;
use bytes::{same, Bytes};

/// Most nodes one round records before it stops.
const MAX_NODES: usize = 512;

fuzz_target!(|data: &[u8]| run(data));

fn run(data: &[u8]) {
    let mut b = Bytes::new(data);
    let mut tape = if b.u8() < 64 {
        Tape::traced()
    } else {
        Tape::new()
    };
    let mut reused = Gradients::new();
    let (mut max_nodes, mut max_edges) = (0, 0);
    loop {
        let memory = tape.memory_bytes();
        let (nodes, edges) = round(&tape, &mut b, &mut reused);
        if nodes <= max_nodes && edges <= max_edges {
            assert_eq!(tape.memory_bytes(), memory, "tape grew after a clear");
        }
        max_nodes = max_nodes.max(nodes);
        max_edges = max_edges.max(edges);
        let before = tape.memory_bytes();
        tape.clear();
        assert!(tape.is_empty());
        assert_eq!(tape.edge_count(), 0);
        assert_eq!(tape.memory_bytes(), before, "clear must keep the memory");
        if b.is_empty() {
            break;
        }
    }
}

/// One recorded node, with what the program expects of it.
struct Node<'t> {
    value: Value<'t>,
    parents: Vec<usize>,
}

/// Records ops until a "clear" op, the end of the input, or `MAX_NODES`; returns the tape's
/// node and edge counts.
fn round<'t>(tape: &'t Tape, b: &mut Bytes, reused: &mut Gradients) -> (usize, usize) {
    let mut nodes: Vec<Node<'t>> = Vec::new();
    while !b.is_empty() && nodes.len() < MAX_NODES {
        let op = b.u8() % 38;
        if op == 37 {
            break; // clear, in the caller
        }
        let ready = !nodes.is_empty();
        let pick = |b: &mut Bytes, nodes: &[Node<'t>]| b.index(nodes.len());
        match op {
            0..=15 if ready => {
                let i = pick(b, &nodes);
                let a = nodes[i].value;
                let x = a.value();
                let c = b.f64();
                let mut n = 0; // powi's exponent
                let (v, expected) = match op {
                    0 => (-a, -x),
                    // e^x where e^-x overflows (a subnormal, not 0: the numerics table)
                    1 => (
                        a.sigmoid(),
                        match (-x).exp() {
                            e if e.is_infinite() => x.exp(),
                            e => 1.0 / (1.0 + e),
                        },
                    ),
                    2 => (a.tanh(), x.tanh()),
                    3 => (a.relu(), if x < 0.0 { 0.0 } else { x }),
                    4 => (a.exp(), x.exp()),
                    5 => (a.ln(), x.ln()),
                    6 => (a.powf(c), x.powf(c)),
                    7 => {
                        n = i32::from(b.u8() as i8 % 8);
                        (a.powi(n), x.powi(n))
                    }
                    8 => (a + c, x + c),
                    9 => (c + a, c + x),
                    10 => (a - c, x - c),
                    11 => (c - a, c - x),
                    12 => (a * c, x * c),
                    13 => (c * a, c * x),
                    14 => (a / c, x / c),
                    _ => (c / a, c / x),
                };
                // tanh is tapegrad's own (within 2 ulp of the true value, numerics table), so
                // it may differ from libm's in the last bits; every other op is libm's or IEEE.
                let ulps = if op == 2 { 4 } else { 0 };
                check_value_within(v, expected, ulps, tape, nodes.len());
                // The local derivative, from textbook formulas written here (not the engine's
                // stable forms), where they are accurate.
                let slope = match op {
                    0 => -1.0,
                    1 => {
                        let e = (-x.abs()).exp();
                        e / ((1.0 + e) * (1.0 + e))
                    }
                    2 => 1.0 / (x.cosh() * x.cosh()),
                    3 => f64::from(u8::from(x > 0.0)),
                    4 => x.exp(),
                    5 => 1.0 / x,
                    6 if c == 0.0 => 0.0,
                    6 => c * x.powf(c - 1.0),
                    7 if n == 0 => 0.0,
                    7 => f64::from(n) * x.powi(n - 1),
                    8..=10 => 1.0,
                    11 => -1.0,
                    12 | 13 => c,
                    14 => 1.0 / c,
                    _ => -(c / x) * (1.0 / x),
                };
                check_slopes(tape, nodes.len(), &[(i, slope)]);
                nodes.push(Node {
                    value: v,
                    parents: vec![i],
                });
            }
            16..=19 if ready => {
                let (i, j) = (pick(b, &nodes), pick(b, &nodes));
                let (p, q) = (nodes[i].value, nodes[j].value);
                let (x, y) = (p.value(), q.value());
                let (v, expected) = match op {
                    16 => (p + q, x + y),
                    17 => (p - q, x - y),
                    18 => (p * q, x * y),
                    _ => (p / q, x / y),
                };
                check_value(v, expected, tape, nodes.len());
                let slopes = match op {
                    16 => [1.0, 1.0],
                    17 => [1.0, -1.0],
                    18 => [y, x],
                    _ => [1.0 / y, -(x / y) * (1.0 / y)],
                };
                check_slopes(tape, nodes.len(), &[(i, slopes[0]), (j, slopes[1])]);
                nodes.push(Node {
                    value: v,
                    parents: vec![i, j],
                });
            }
            20 if ready => {
                let k = usize::from(b.u8() % 5);
                let picked: Vec<usize> = (0..k).map(|_| pick(b, &nodes)).collect();
                let values: Vec<Value<'t>> = picked.iter().map(|&i| nodes[i].value).collect();
                let expected = values.iter().fold(0.0, |s, v| s + v.value());
                let v = tape.sum(&values);
                check_value(v, expected, tape, nodes.len());
                nodes.push(Node {
                    value: v,
                    parents: picked,
                });
            }
            21 | 22 if ready => {
                let k = usize::from(b.u8() % 5);
                let left: Vec<usize> = (0..k).map(|_| pick(b, &nodes)).collect();
                let a: Vec<Value<'t>> = left.iter().map(|&i| nodes[i].value).collect();
                let (v, expected, parents) = if op == 21 {
                    let right: Vec<usize> = (0..k).map(|_| pick(b, &nodes)).collect();
                    let c: Vec<Value<'t>> = right.iter().map(|&i| nodes[i].value).collect();
                    let expected = a
                        .iter()
                        .zip(&c)
                        .fold(0.0, |s, (x, y)| s + x.value() * y.value());
                    (tape.dot(&a, &c), expected, [left, right].concat())
                } else {
                    let c: Vec<f64> = (0..k).map(|_| b.f64()).collect();
                    let expected = a.iter().zip(&c).fold(0.0, |s, (x, y)| s + x.value() * y);
                    (tape.dot(&a, &c), expected, left)
                };
                check_value(v, expected, tape, nodes.len());
                nodes.push(Node { value: v, parents });
            }
            23 if ready => backward(&nodes, pick(b, &nodes), tape, reused),
            25..=31 if ready => {
                let i = pick(b, &nodes);
                let a = nodes[i].value;
                let x = a.value();
                let c = b.f64();
                let (v, expected) = match op {
                    25 => (a.sin(), x.sin()),
                    26 => (a.cos(), x.cos()),
                    27 => (a.sqrt(), x.sqrt()),
                    28 => (a.abs(), x.abs()),
                    29 => (a.square(), x * x),
                    30 => (a.max(c), max_ref(x, c).0),
                    _ => (a.min(c), min_ref(x, c).0),
                };
                check_value(v, expected, tape, nodes.len());
                match op {
                    25 => check_slopes(tape, nodes.len(), &[(i, x.cos())]),
                    26 => check_slopes(tape, nodes.len(), &[(i, -x.sin())]),
                    27 => check_slopes(tape, nodes.len(), &[(i, 0.5 / x.sqrt())]),
                    28 => check_partials(tape, nodes.len(), &[(i, abs_slope(x))]),
                    29 => check_slopes(tape, nodes.len(), &[(i, x + x)]),
                    30 => check_partials(tape, nodes.len(), &[(i, max_ref(x, c).1)]),
                    _ => check_partials(tape, nodes.len(), &[(i, min_ref(x, c).1)]),
                }
                nodes.push(Node {
                    value: v,
                    parents: vec![i],
                });
            }
            32 if ready => {
                // A new leaf with the same value: no parents, so no gradient flows back.
                let i = pick(b, &nodes);
                let v = nodes[i].value.detach();
                check_value(v, nodes[i].value.value(), tape, nodes.len());
                nodes.push(Node {
                    value: v,
                    parents: Vec::new(),
                });
            }
            33 | 34 if ready => {
                let (i, j) = (pick(b, &nodes), pick(b, &nodes));
                let (p, q) = (nodes[i].value, nodes[j].value);
                let (x, y) = (p.value(), q.value());
                let (v, (expected, dx, dy)) = if op == 33 {
                    (p.max(q), max_ref(x, y))
                } else {
                    (p.min(q), min_ref(x, y))
                };
                check_value(v, expected, tape, nodes.len());
                check_partials(tape, nodes.len(), &[(i, dx), (j, dy)]);
                nodes.push(Node {
                    value: v,
                    parents: vec![i, j],
                });
            }
            35 if ready => {
                // Tape::custom with 0 (a constant leaf), 1, 2 (elementary) or 3-4 (n-ary)
                // inputs, any value and partials, inputs possibly repeated.
                let k = usize::from(b.u8() % 5);
                let value = b.f64();
                let edges: Vec<(usize, f64)> = (0..k).map(|_| (pick(b, &nodes), b.f64())).collect();
                let partials: Vec<(Value<'t>, f64)> =
                    edges.iter().map(|&(i, d)| (nodes[i].value, d)).collect();
                let v = tape.custom(value, &partials);
                check_value(v, value, tape, nodes.len());
                check_partials(tape, nodes.len(), &edges);
                nodes.push(Node {
                    value: v,
                    parents: edges.iter().map(|e| e.0).collect(),
                });
            }
            36 if ready => {
                let sugar = b.u8();
                if sugar < 128 {
                    // The Sum of a non-empty iterator, by value or by reference.
                    let k = 1 + usize::from(b.u8() % 4);
                    let picked: Vec<usize> = (0..k).map(|_| pick(b, &nodes)).collect();
                    let values: Vec<Value<'t>> = picked.iter().map(|&i| nodes[i].value).collect();
                    let expected = values[1..]
                        .iter()
                        .fold(values[0].value(), |s, v| s + v.value());
                    let v: Value<'t> = if sugar % 2 == 0 {
                        values.iter().sum()
                    } else {
                        values.iter().copied().sum()
                    };
                    check_value(v, expected, tape, nodes.len());
                    nodes.push(Node {
                        value: v,
                        parents: picked,
                    });
                } else {
                    assign_op(tape, b, &mut nodes, sugar);
                }
            }
            _ => {
                // Leaves: one with `var`, or up to three with `vars`.
                let k = usize::from(b.u8() % 4);
                let values: Vec<f64> = (0..k.max(1)).map(|_| b.f64()).collect();
                let leaves = if k == 0 {
                    vec![tape.var(values[0])]
                } else {
                    tape.vars(&values)
                };
                for (leaf, &x) in leaves.into_iter().zip(&values) {
                    check_value(leaf, x, tape, nodes.len());
                    nodes.push(Node {
                        value: leaf,
                        parents: Vec::new(),
                    });
                }
            }
        }
        assert_eq!(
            tape.len(),
            nodes.len(),
            "the tape holds exactly the recorded nodes"
        );
        let last = nodes.len() - 1;
        let mut recorded: Vec<usize> = tape.edges(last).unwrap().iter().map(|e| e.0).collect();
        let mut expected = nodes[last].parents.clone();
        recorded.sort_unstable();
        expected.sort_unstable();
        assert_eq!(recorded, expected, "node {last} has the wrong parents");
    }
    (tape.len(), tape.edge_count())
}

/// `a op= b` with a `Value` or an `f64` on the right, recorded after the plain `a op b`: two
/// nodes, the same value and the same edges, bit for bit.
fn assign_op<'t>(tape: &'t Tape, b: &mut Bytes, nodes: &mut Vec<Node<'t>>, which: u8) {
    let i = b.index(nodes.len());
    let a = nodes[i].value;
    let x = a.value();
    let mut assigned = a;
    let (plain, expected, parents) = if which % 8 < 4 {
        let j = b.index(nodes.len());
        let q = nodes[j].value;
        let y = q.value();
        let (plain, expected) = match which % 4 {
            0 => (a + q, x + y),
            1 => (a - q, x - y),
            2 => (a * q, x * y),
            _ => (a / q, x / y),
        };
        match which % 4 {
            0 => assigned += q,
            1 => assigned -= q,
            2 => assigned *= q,
            _ => assigned /= q,
        }
        (plain, expected, vec![i, j])
    } else {
        let c = b.f64();
        let (plain, expected) = match which % 4 {
            0 => (a + c, x + c),
            1 => (a - c, x - c),
            2 => (a * c, x * c),
            _ => (a / c, x / c),
        };
        match which % 4 {
            0 => assigned += c,
            1 => assigned -= c,
            2 => assigned *= c,
            _ => assigned /= c,
        }
        (plain, expected, vec![i])
    };
    check_value(plain, expected, tape, nodes.len());
    nodes.push(Node {
        value: plain,
        parents: parents.clone(),
    });
    check_value(assigned, expected, tape, nodes.len());
    assert_eq!(
        assigned.value().to_bits(),
        plain.value().to_bits(),
        "a op= b differs from a op b"
    );
    let bits = |index: usize| -> Vec<(usize, u64)> {
        let edges = tape.edges(index).expect("node exists");
        edges.into_iter().map(|(p, d)| (p, d.to_bits())).collect()
    };
    assert_eq!(
        bits(assigned.index()),
        bits(plain.index()),
        "a op= b has other edges than a op b"
    );
    nodes.push(Node {
        value: assigned,
        parents,
    });
}

/// max(a, b) and its partials, from the documented rule: the larger side gets 1, a tie gives
/// each side 1/2 and keeps the left value (so -0.0 against 0.0 is a tie), NaN poisons all.
fn max_ref(a: f64, b: f64) -> (f64, f64, f64) {
    if a.is_nan() || b.is_nan() {
        (f64::NAN, f64::NAN, f64::NAN)
    } else if a == b {
        (a, 0.5, 0.5)
    } else if a > b {
        (a, 1.0, 0.0)
    } else {
        (b, 0.0, 1.0)
    }
}

/// min(a, b) and its partials: as [`max_ref`] with the smaller side.
fn min_ref(a: f64, b: f64) -> (f64, f64, f64) {
    if a.is_nan() || b.is_nan() {
        (f64::NAN, f64::NAN, f64::NAN)
    } else if a == b {
        (a, 0.5, 0.5)
    } else if a < b {
        (a, 1.0, 0.0)
    } else {
        (b, 0.0, 1.0)
    }
}

/// d|x|/dx as documented: the sign of x, 0 at the kink (both zeros) and for NaN.
fn abs_slope(x: f64) -> f64 {
    if x.is_nan() || x == 0.0 {
        0.0
    } else {
        x.signum()
    }
}

/// Node `index` has exactly these `(parent, partial)` edges, in order (NaN equal to NaN).
fn check_partials(tape: &Tape, index: usize, expected: &[(usize, f64)]) {
    let edges = tape.edges(index).expect("node exists");
    assert_eq!(edges.len(), expected.len(), "node {index}: edges {edges:?}");
    for (&(p, d), &(q, e)) in edges.iter().zip(expected) {
        assert!(
            p == q && same(d, e),
            "node {index}: edge ({p}, {d}) but expected ({q}, {e})"
        );
    }
}

/// Node `index` has these parents, in order, and each partial agrees with the textbook slope
/// given wherever that slope is finite and below 1e300 in size: within 1e-10 relative, or
/// 1e-300 absolute (a subnormal slope has no relative precision). Elsewhere (an overflowing
/// textbook formula, NaN) the engine's stable form may rightly differ, and only the parent is
/// checked.
fn check_slopes(tape: &Tape, index: usize, expected: &[(usize, f64)]) {
    let edges = tape.edges(index).expect("node exists");
    assert_eq!(edges.len(), expected.len(), "node {index}: edges {edges:?}");
    for (&(p, d), &(q, e)) in edges.iter().zip(expected) {
        assert_eq!(p, q, "node {index}: edge to {p}, expected to {q}");
        if e.is_finite() && e.abs() <= 1e300 {
            assert!(
                d.is_finite() && (d - e).abs() <= 1e-10 * d.abs().max(e.abs()) + 1e-300,
                "node {index}: partial {d:e} for parent {p}, textbook slope {e:e}"
            );
        }
    }
}

/// The new node's value is the plain-`f64` result, and it sits at the next index.
fn check_value(v: Value<'_>, expected: f64, tape: &Tape, index: usize) {
    check_value_within(v, expected, 0, tape, index);
}

/// [`check_value`] up to `ulps` units in the last place (same sign, NaN only for NaN).
fn check_value_within(v: Value<'_>, expected: f64, ulps: u64, tape: &Tape, index: usize) {
    let close = |found: f64| {
        same(found, expected)
            || (found.is_sign_negative() == expected.is_sign_negative()
                && !found.is_nan()
                && !expected.is_nan()
                && found.to_bits().abs_diff(expected.to_bits()) <= ulps)
    };
    assert!(
        close(v.value()),
        "value {} but plain f64 gives {} (allowed: {ulps} ulp)",
        v.value(),
        expected
    );
    assert_eq!(v.index(), index);
    if expected.is_finite() {
        assert!(v.value().is_finite());
    }
    if let Some(traced) = tape.value_of(index) {
        assert!(same(traced, v.value()));
    }
}

/// Backward from node `o`: twice and into a reused buffer, identical; 1 at the output; 0 for
/// every node that does not lead to it.
fn backward(nodes: &[Node<'_>], o: usize, tape: &Tape, reused: &mut Gradients) {
    let output = nodes[o].value;
    let first = output.backward();
    let second = output.backward();
    output.backward_into(reused);
    let bits = |g: &Gradients| g.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&first), bits(&second), "backward twice differs");
    assert_eq!(
        bits(&first),
        bits(reused),
        "backward_into a reused buffer differs"
    );
    assert_eq!(first.as_slice().len(), tape.len());
    assert_eq!(first[output], 1.0);
    // A second, naive reverse sweep over the recorded edges (`Tape::edges`): the same sums in
    // the same order, so the same bits. Catches a sweep that overwrites instead of adding.
    let mut reference = vec![0.0; nodes.len()];
    reference[o] = 1.0;
    for i in (0..=o).rev() {
        let gi = reference[i];
        if gi == 0.0 {
            continue; // documented: a zero adjoint passes nothing back (no 0 * inf = NaN)
        }
        for (parent, partial) in tape.edges(i).expect("node exists") {
            reference[parent] += partial * gi;
        }
    }
    // Bits, except that every NaN is one NaN: Rust leaves the sign and payload of a NaN result
    // unspecified (a NaN partial from `max` or `custom` meets a NaN made by the hardware, and
    // which one an addition returns depends on its operand order, which the compiler may
    // swap), so NaN bits can differ between two correct sweeps.
    let canonical = |x: &f64| if x.is_nan() { u64::MAX } else { x.to_bits() };
    let engine: Vec<u64> = first.as_slice().iter().map(canonical).collect();
    let reference: Vec<u64> = reference.iter().map(canonical).collect();
    assert_eq!(engine, reference, "backward differs from a naive sweep");
    let mut reaches = vec![false; nodes.len()];
    reaches[o] = true;
    for i in (0..=o).rev() {
        if reaches[i] {
            for &p in &nodes[i].parents {
                reaches[p] = true;
            }
        }
    }
    for (i, node) in nodes.iter().enumerate() {
        if !reaches[i] {
            assert_eq!(first[node.value], 0.0, "node {i} does not reach node {o}");
        }
    }
}
