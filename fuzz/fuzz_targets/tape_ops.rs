//! Bytes become a little program over the tape's public API: leaves, every unary and binary op,
//! constants on either side, `sum`/`dot`, backward, and clear-and-reuse.
//!
//! Asserts: no panic; every recorded value is what plain `f64` arithmetic gives (so finite
//! inputs through finite-result ops stay finite); backward twice, and into a reused buffer,
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
        let op = b.u8() % 26;
        if op == 25 {
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
                        let n = i32::from(b.u8() as i8 % 8);
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
                check_value(v, expected, tape, nodes.len());
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

/// The new node's value is the plain-`f64` result, and it sits at the next index.
fn check_value(v: Value<'_>, expected: f64, tape: &Tape, index: usize) {
    assert!(
        same(v.value(), expected),
        "value {} but plain f64 gives {}",
        v.value(),
        expected
    );
    assert_eq!(v.index(), index);
    if expected.is_finite() {
        assert!(v.value().is_finite());
    }
    if let Some(traced) = tape.value_of(index) {
        assert!(same(traced, expected));
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
    let reference: Vec<u64> = reference.iter().map(|x| x.to_bits()).collect();
    assert_eq!(
        bits(&first),
        reference,
        "backward differs from a naive sweep"
    );
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
