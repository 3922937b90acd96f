//! A training step in steady state makes no heap allocation: the tape, the gradient buffer and
//! the scratch space are reused. Proved with a counting global allocator for the W1 and W3
//! workloads of benches/WORKLOADS.md (not by timing).
//!
//! The allocator counts only on the thread that armed it, so the other tests running in
//! parallel do not disturb the count.

#[path = "../benches/common/mod.rs"]
mod common;

use common::data::W3_LR;
use common::with_tape;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator can run while thread locals are being torn down.
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only
// const-initialised thread locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap allocations (alloc, alloc_zeroed, realloc) made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    COUNT.with(Cell::get)
}

#[test]
fn the_counter_sees_allocations() {
    // Otherwise the zero counts below would prove nothing.
    let n = allocations(|| {
        let v: Vec<f64> = Vec::with_capacity(std::hint::black_box(16));
        std::hint::black_box(&v);
    });
    assert_eq!(n, 1);
    let tape = tapegrad::Tape::new();
    let n = allocations(|| {
        let x = tape.var(1.0); // an empty tape grows on its first node
        std::hint::black_box(x);
    });
    assert!(n > 0);
}

#[test]
fn w1_steady_state_step_does_not_allocate() {
    let mut w = with_tape::W1::new();
    // Warm up: the first steps size the tape, gradients and scratch.
    for i in 0..4 {
        w.trainer
            .step(&mut w.model, &mut w.sgd, &w.data, i..i + 1)
            .unwrap();
    }
    let n = allocations(|| {
        for _ in 0..10 {
            for i in 0..4 {
                w.trainer
                    .step(&mut w.model, &mut w.sgd, &w.data, i..i + 1)
                    .unwrap();
            }
        }
    });
    assert_eq!(n, 0, "W1: 40 per-sample SGD steps allocated {n} times");
    // The whole training loop too (`fit`, 1000 epochs, with a per-epoch callback). The first
    // `fit` sizes the trainer's sample-order buffer; the second must not allocate at all.
    w.trainer
        .fit(&mut w.model, &mut w.sgd, &w.data, |_| {})
        .unwrap();
    let mut losses = 0.0;
    let n = allocations(|| {
        w.trainer
            .fit(&mut w.model, &mut w.sgd, &w.data, |r| losses += r.loss)
            .unwrap();
    });
    assert_eq!(n, 0, "W1: Trainer::fit allocated {n} times");
    assert!(losses.is_finite() && losses > 0.0);
}

#[test]
fn w3_steady_state_step_does_not_allocate() {
    let mut w = with_tape::Wide3::new(1);
    let before = w.model.parameters().to_vec();
    w.trainer
        .step(&mut w.model, &mut w.sgd, &w.data, 0..1)
        .unwrap();
    let n = allocations(|| {
        for i in 1..w.data.len() {
            w.trainer
                .step(&mut w.model, &mut w.sgd, &w.data, i..i + 1)
                .unwrap();
        }
    });
    assert_eq!(n, 0, "W3: 255 per-sample SGD steps allocated {n} times");
    // The steps did train: most parameters moved.
    let moved = (before.iter().zip(w.model.parameters()))
        .filter(|(a, b)| a != b)
        .count();
    assert!(moved > before.len() / 2, "only {moved} parameters changed");
    assert_eq!(w.sgd.learning_rate(), W3_LR);
}

#[test]
fn w4_mini_batch_step_does_not_allocate() {
    // The Trainer's mini-batch step (W4: 32 samples, mean loss) reuses its buffers too.
    let mut w = with_tape::Wide3::new(32);
    w.trainer
        .step(&mut w.model, &mut w.sgd, &w.data, 0..32)
        .unwrap();
    let n = allocations(|| {
        for start in (32..w.data.len()).step_by(32) {
            w.trainer
                .step(&mut w.model, &mut w.sgd, &w.data, start..start + 32)
                .unwrap();
        }
    });
    assert_eq!(n, 0, "W4: 7 mini-batch steps allocated {n} times");
}

/// micrograd's README expression, recorded on `tape`, with `y.backward()`; returns dg/db.
fn micrograd_step(tape: &tapegrad::Tape) -> f64 {
    let a = tape.var(-4.0);
    let b = tape.var(2.0);
    let c = a + b;
    let d = a * b + b.powi(3);
    let c = c + (c + 1.0);
    let c = c + (1.0 + c + (-a));
    let d = d + (d * 2.0 + (b + a).relu());
    let d = d + (3.0 * d + (b - a).relu());
    let f = (c - d).powi(2);
    let g = f / 2.0 + 10.0 / f;
    g.backward()[b]
}

#[test]
fn a_fresh_tape_per_step_does_not_allocate_once_warm() {
    // The micrograd habit: `Tape::new()` and `y.backward()` every step. A dropped tape and a
    // dropped `Gradients` give their buffers to the thread, and the next ones take them.
    let warm = micrograd_step(&tapegrad::Tape::new());
    assert!(
        (warm - 645.5773).abs() < 5e-5,
        "micrograd's README: 645.5773, got {warm}"
    );
    let n = allocations(|| {
        for _ in 0..100 {
            let tape = tapegrad::Tape::new();
            assert_eq!(micrograd_step(&tape), warm);
        }
    });
    assert_eq!(n, 0, "100 fresh tapes allocated {n} times");
    // The same with a larger graph and a traced tape in between, which must not poison the
    // buffers a plain tape takes (a traced tape's trace is its own).
    let big = |tape: &tapegrad::Tape| {
        let xs: [tapegrad::Value; 64] = std::array::from_fn(|k| tape.var(k as f64 / 64.0));
        let y: tapegrad::Value = xs.iter().map(|&x| (x * x).tanh()).sum();
        y.backward()[xs[0]]
    };
    let expected = big(&tapegrad::Tape::new());
    let _ = big(&tapegrad::Tape::traced());
    let n = allocations(|| {
        for _ in 0..10 {
            assert_eq!(big(&tapegrad::Tape::new()), expected);
        }
    });
    assert_eq!(n, 0, "10 fresh tapes with n-ary sums allocated {n} times");
    // A traced tape per step (what second-derivative code makes) keeps its trace buffers with
    // the records it gives back, so the next traced tape does not regrow them.
    let n = allocations(|| {
        for _ in 0..10 {
            assert_eq!(big(&tapegrad::Tape::traced()), expected);
        }
    });
    assert_eq!(n, 0, "10 fresh traced tapes allocated {n} times");
}

#[test]
fn the_buffers_a_thread_keeps_are_bounded() {
    // A tape bigger than the kept maximum (64 MiB) is freed when dropped: the next tape starts
    // empty and has to allocate again.
    std::thread::spawn(|| {
        let huge = tapegrad::Tape::with_capacity(3_000_000, 0); // 3e6 x 24 bytes = 72 MB
        assert!(huge.memory_bytes() > 64 << 20);
        drop(huge);
        let next = tapegrad::Tape::new();
        assert_eq!(next.memory_bytes(), 0, "a 72 MB tape was kept");
        let small = tapegrad::Tape::with_capacity(1_000, 0);
        let bytes = small.memory_bytes();
        drop(small);
        drop(next);
        // `small` and then `next` (empty) were given back; new tapes take the last one first.
        let (first, second) = (tapegrad::Tape::new(), tapegrad::Tape::new());
        assert_eq!((first.memory_bytes(), second.memory_bytes()), (0, bytes));
    })
    .join()
    .unwrap();
}
