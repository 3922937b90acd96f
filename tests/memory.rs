//! Memory bounds, measured by a peak-bytes allocator: `BatchGradient` grows with threads and
//! parameters, not with the batch; loading a model file stays within a small multiple of the
//! file's size. (Its own test binary, and its tests take turns: the allocator counts every
//! thread's bytes, so nothing else may run beside a measurement.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tapegrad::{Activation, BatchGradient, Dataset, Error, Loss, Mlp, ModelFileError};

/// Held by each test for its whole run.
static TURN: Mutex<()> = Mutex::new(());

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
    let _turn = TURN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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
    println!("BatchGradient peak: {small} bytes for 2000 samples, {large} for 20000");
    // One row per group (the old layout) would make `large` about ten times `small`.
    assert!(
        large < small + small / 4,
        "peak {large} bytes for 20000 samples, {small} for 2000"
    );
}

#[test]
fn loading_a_header_of_millions_of_layers_stays_within_a_few_times_its_size() {
    let _turn = TURN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // 2 million layers in the metadata, no tensors: 14 MB. Building every tensor's name and
    // shape before looking at the tensors took 3.6 GB for the 98 MB version of this file.
    let layers = 2_000_000;
    let sizes = vec!["1"; layers + 1].join(",");
    let acts = vec!["tanh"; layers].join(",");
    let mut header = format!(
        r#"{{"__metadata__":{{"format":"tapegrad.mlp","format_version":"1","sizes":"{sizes}","activations":"{acts}"}}}}"#
    )
    .into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&header);
    drop(header);
    let mut result = None;
    let peak = peak_of(|| result = Some(Mlp::from_safetensors(&bytes)));
    assert_eq!(
        result.unwrap().unwrap_err(),
        Error::ModelFile(ModelFileError::MissingTensor {
            name: "layers.0.weight".into()
        })
    );
    println!(
        "loading a {}-byte header of {layers} layers peaked at {peak} bytes",
        bytes.len()
    );
    assert!(
        peak < 4 * bytes.len(),
        "peak {peak} bytes for a {}-byte file",
        bytes.len()
    );
}
