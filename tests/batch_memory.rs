//! `BatchGradient`'s memory grows with threads and parameters, not with the batch: a peak-bytes
//! allocator measures one call on a batch ten times larger than another. (Its own test binary:
//! the allocator counts every thread's bytes, so nothing else may run beside it.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use tapegrad::{Activation, BatchGradient, Dataset, Loss, Mlp};

struct Peak;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are atomics.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        grow(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Peak = Peak;

/// Bytes allocated at the peak of `f`, above what was live when it started.
fn peak_of(f: impl FnOnce()) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    f();
    PEAK.load(Ordering::Relaxed) - base
}

#[test]
fn batch_gradient_memory_does_not_grow_with_the_batch() {
    let model = Mlp::zeros(&[16, 32, 32, 4], Activation::Tanh, Activation::Identity).unwrap();
    let peak = |n: usize| {
        let inputs = vec![[0.25; 16]; n];
        let targets = vec![[1.0; 4]; n];
        let data = Dataset::new(&inputs, &targets).unwrap();
        let mut g = vec![0.0; model.parameter_count()];
        peak_of(|| {
            let mut batch = BatchGradient::new(2).unwrap();
            batch
                .mean_gradient(&model, &data, 0..n, Loss::Mse, &mut g)
                .unwrap();
        })
    };
    let (small, large) = (peak(2_000), peak(20_000));
    // One row per group (the old layout) would make `large` about ten times `small`.
    assert!(
        large < small + small / 4,
        "peak {large} bytes for 20000 samples, {small} for 2000"
    );
}
