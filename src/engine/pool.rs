//! Handing a dropped tape's buffers to the next one: the thread's next [`Tape::new`](super::Tape)
//! and [`Value::backward`](super::Value::backward) take what a dropped tape or
//! [`Gradients`](super::Gradients) gave back, so a fresh tape per step allocates nothing once warm.

use super::record::Records;
use std::cell::RefCell;
use std::thread::LocalKey;

/// The most buffers a thread keeps for later tapes and gradients, of each kind.
const SPARE_COUNT: usize = 4;
/// The largest buffer (in bytes) a thread keeps; a bigger one is freed when dropped.
const SPARE_BYTES: usize = 64 << 20;

thread_local! {
    static SPARE_RECORDS: RefCell<Vec<Records>> = const { RefCell::new(Vec::new()) };
    static SPARE_GRADIENTS: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
}

// The four entry points stay out of line: inlined, they make `Tape::new` and the drops slower.

/// Empty records, reusing a dropped tape's buffers when this thread has some.
#[inline(never)]
pub(crate) fn take_records() -> Records {
    take(&SPARE_RECORDS)
}

/// Keeps `records`' buffers for this thread's next tape, within the bounds above.
#[inline(never)]
pub(crate) fn give_records(mut records: Records) {
    if records.capacity_bytes() <= SPARE_BYTES {
        records.retire();
        keep(&SPARE_RECORDS, records);
    }
}

/// An empty gradient buffer, reusing a dropped one's memory when this thread has some.
#[inline(never)]
pub(crate) fn take_gradients() -> Vec<f64> {
    take(&SPARE_GRADIENTS)
}

/// Keeps a gradient buffer for this thread's next [`Gradients`](super::Gradients).
#[inline(never)]
pub(crate) fn give_gradients(mut values: Vec<f64>) {
    if values.capacity() > 0 && values.capacity() * 8 <= SPARE_BYTES {
        values.clear();
        keep(&SPARE_GRADIENTS, values);
    }
}

/// The last buffer `spares` holds, or a new empty one. (`try_with`: during thread exit the
/// list may be gone already.)
fn take<T: Default>(spares: &'static LocalKey<RefCell<Vec<T>>>) -> T {
    let spare = spares.try_with(|s| s.borrow_mut().pop());
    spare.ok().flatten().unwrap_or_default()
}

/// Adds `buffer` to `spares` unless it holds [`SPARE_COUNT`] already.
fn keep<T>(spares: &'static LocalKey<RefCell<Vec<T>>>, buffer: T) {
    let _ = spares.try_with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < SPARE_COUNT {
            s.push(buffer);
        }
    });
}
