//! The engine: the [`Tape`] (a Wengert list), the [`Value`] handle and the reverse sweep. It
//! knows nothing of models.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | [`Tape`], [`Value`], [`Gradients`] |
//! | `record.rs` | appending nodes |
//! | `pool.rs` | a dropped tape's buffers handed to the thread's next tape |
//! | `backward.rs` | the one reverse loop |
//! | `fused.rs` | fused runs: leaves and n-ary nodes, each with its vector rule |
//! | `affine.rs` | the dense-layer rule (`act(W x + b)`, one sample or a batch) and its kernels |
//! | `ops.rs` | every scalar op: its rule and local derivative side by side, the operators |
//! | `trace.rs` | ops, values and names kept for inspection ([`Tape::traced`]) |
//! | `higher.rs` | the reverse sweep recorded as values, for second derivatives ([`Value::grad`]) |
//!
//! An elementary op stores its two inputs and the partial derivative with respect to each,
//! computed when it runs: 24 bytes, one append. Forward values live in the [`Value`] handles,
//! not on the tape, unless the tape is traced.

pub(crate) mod affine;
mod backward;
pub(crate) mod fused;
mod higher;
pub(crate) mod ops;
mod pool;
pub(crate) mod record;
mod tanh;
mod trace;

pub use trace::Op;

use record::Records;
use std::cell::{Ref, RefCell, RefMut};

use std::fmt;
use std::ops::Index;
use std::sync::atomic::{AtomicU64, Ordering};

/// Numbers tapes and their recordings, for the "values of two tapes were mixed" checks.
static NEXT_TAPE_ID: AtomicU64 = AtomicU64::new(1);

/// A Wengert list: the record of every operation on its [`Value`]s.
///
/// Create values with [`Tape::var`], combine them with operators and methods, then call
/// [`Value::backward`] on a result. Recording needs only `&Tape` (interior mutability); a tape
/// is `Send` but not `Sync` (give each thread its own).
///
/// # Reuse
///
/// [`Tape::clear`] forgets every node but keeps the memory. It takes `&mut self`, so the
/// compiler rejects any [`Value`] still alive from before the clear:
///
/// ```compile_fail
/// use tapegrad::Tape;
/// let mut tape = Tape::new();
/// let x = tape.var(1.0);
/// tape.clear();
/// let y = x * 2.0; // error: `tape` is borrowed by `x`
/// ```
///
/// A fresh tape per step costs no allocation either once warm: a dropped tape gives its buffers
/// to its thread, and the thread's next [`Tape::new`] takes them. A thread keeps the buffers of
/// at most 4 tapes and 4 [`Gradients`], each only up to 64 MiB; bigger ones are freed.
///
/// ```
/// use tapegrad::Tape;
/// for step in 0..3 {
///     let tape = Tape::new(); // reuses the last step's buffers
///     let x = tape.var(step as f64);
///     assert_eq!((x * x).backward()[x], 2.0 * step as f64);
/// }
/// ```
///
/// # Panics
///
/// A tape holds at most 2^32 - 2 nodes (a node is named by a `u32`); recording one more
/// panics with "tape is full" (as would a `Vec` past its capacity), whichever op records it.
pub struct Tape {
    id: u64,
    /// Names this tape's current recording among every tape's: a new number at each
    /// [`Tape::clear`], so one comparison tells whether [`Gradients`] belong to it.
    recording: u64,
    records: RefCell<Records>,
}

impl Tape {
    /// An empty tape.
    #[must_use]
    pub fn new() -> Self {
        // Tape ids and recording numbers come from one counter, so a new tape's first
        // recording can take its id.
        let id = NEXT_TAPE_ID.fetch_add(1, Ordering::Relaxed);
        Tape {
            id,
            recording: id,
            records: RefCell::new(pool::take_records()),
        }
    }

    /// An empty tape with room for `nodes` elementary nodes and `edges` edges of n-ary nodes
    /// before it reallocates.
    ///
    /// The sizes are a hint: if that much memory cannot be had, the tape starts with less and
    /// grows as it records (no error, no abort).
    ///
    /// ```
    /// let tape = tapegrad::Tape::with_capacity(1_000, 2_000);
    /// assert!(tape.memory_bytes() >= 1_000 * 24 + 2_000 * 12);
    /// ```
    #[must_use]
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        let tape = Self::new();
        tape.records_mut().reserve(nodes, edges);
        tape
    }

    /// Records a leaf: an input, a parameter or a constant. Its gradient is what
    /// [`Value::backward`] reports for it.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(-4.0);
    /// assert_eq!(x.value(), -4.0);
    /// ```
    #[inline(always)]
    #[must_use]
    pub fn var(&self, value: f64) -> Value<'_> {
        let index = self.records_mut().leaves(Op::Leaf, [value]);
        Value::new(self, index, value)
    }

    /// Records one leaf per value and returns them in order.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let xs = tape.vars(&[1.0, 2.0]);
    /// assert_eq!(xs[1].value(), 2.0);
    /// ```
    #[must_use]
    pub fn vars(&self, values: &[f64]) -> Vec<Value<'_>> {
        let first = self.records_mut().leaves(Op::Leaf, values);
        let leaf = |(k, &v): (usize, &f64)| Value::new(self, first + k as u32, v);
        values.iter().enumerate().map(leaf).collect()
    }

    /// Number of nodes recorded since creation or the last [`Tape::clear`].
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(1.0);
    /// let _y = x + x;
    /// assert_eq!(tape.len(), 2);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.records_ref().len() as usize
    }

    /// Whether no node has been recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every node, keeping the allocated memory for the next recording.
    ///
    /// Takes `&mut self`, so no [`Value`] of the old recording can be used afterwards (see the
    /// type-level docs). [`Gradients`] computed before the clear can be refilled with
    /// [`Value::backward_into`] but not indexed by new values.
    ///
    /// ```
    /// let mut tape = tapegrad::Tape::new();
    /// let _ = tape.var(1.0);
    /// let bytes = tape.memory_bytes();
    /// tape.clear();
    /// assert!(tape.is_empty());
    /// assert_eq!(tape.memory_bytes(), bytes);
    /// ```
    pub fn clear(&mut self) {
        self.records.get_mut().clear();
        self.recording = NEXT_TAPE_ID.fetch_add(1, Ordering::Relaxed);
    }

    /// How far the (untraced) recording has got, for [`Tape::rewind`].
    pub(crate) fn mark(&self) -> record::Mark {
        self.records_ref().mark()
    }

    /// Forgets the nodes recorded after `mark` (taken on this tape since its last
    /// [`Tape::clear`]), keeping the ones before: a new recording, as after a clear, for
    /// the [`Gradients`] checks.
    #[inline]
    pub(crate) fn rewind(&mut self, mark: &record::Mark) {
        self.records.get_mut().rewind(mark);
        self.recording = NEXT_TAPE_ID.fetch_add(1, Ordering::Relaxed);
    }

    #[inline(always)]
    pub(crate) fn records_ref(&self) -> Ref<'_, Records> {
        self.records.borrow()
    }

    #[inline(always)]
    pub(crate) fn records_mut(&self) -> RefMut<'_, Records> {
        self.records.borrow_mut()
    }

    /// Runs `f` with mutable access to the records (crate-internal recording).
    #[inline(always)]
    pub(crate) fn with_records<R>(&self, f: impl FnOnce(&mut Records) -> R) -> R {
        f(&mut self.records_mut())
    }

    /// Panics unless `other` is this tape.
    #[inline]
    #[track_caller]
    pub(crate) fn check_same(&self, other: &Tape) {
        if !std::ptr::eq(self, other) {
            mixed_tapes(self.id, other.id);
        }
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn mixed_tapes(a: u64, b: u64) -> ! {
    panic!(
        "tapegrad: values from two different tapes were combined (tape #{a} and tape #{b}); \
         every Value in one expression must come from the same Tape"
    )
}

impl Default for Tape {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Tape {
    fn drop(&mut self) {
        pool::give_records(std::mem::take(self.records.get_mut()));
    }
}

impl fmt::Debug for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tape")
            .field("id", &self.id)
            .field("nodes", &self.len())
            .finish()
    }
}

/// A scalar recorded on a [`Tape`]: a small `Copy` handle (tape, node index, forward value).
///
/// Arithmetic with `+ - * /` (and `+= -= *= /=`) and unary `-` works between two values and
/// between a value and an `f64` on either side; see the methods for the other ops and
/// [`Value::backward`] for the reverse sweep.
///
/// # Panics
///
/// Combining values recorded on two different tapes is a programmer error and panics with a
/// message naming both tapes:
///
/// ```should_panic
/// use tapegrad::Tape;
/// let (t1, t2) = (Tape::new(), Tape::new());
/// let _ = t1.var(1.0) + t2.var(2.0); // panics: two different tapes
/// ```
#[derive(Clone, Copy)]
pub struct Value<'t> {
    pub(crate) tape: &'t Tape,
    pub(crate) index: u32,
    pub(crate) value: f64,
}

impl<'t> Value<'t> {
    #[inline]
    pub(crate) fn new(tape: &'t Tape, index: u32, value: f64) -> Self {
        Value { tape, index, value }
    }

    /// The forward value.
    #[inline]
    #[must_use]
    pub fn value(self) -> f64 {
        self.value
    }

    /// The node's position on its tape (creation order).
    #[inline]
    #[must_use]
    pub fn index(self) -> usize {
        self.index as usize
    }

    /// The tape this value is recorded on.
    #[must_use]
    pub fn tape(self) -> &'t Tape {
        self.tape
    }

    /// Reverse sweep: the gradient of `self` with respect to every node recorded before it.
    ///
    /// One loop over the tape from this node down to the first, in reverse creation order: no
    /// recursion (a chain of ten million nodes is fine) and no topological sort.
    ///
    /// The tape is not consumed or changed: calling `backward` twice, or on several outputs of
    /// the same tape, gives each output's own gradients every time (nothing accumulates across
    /// calls, unlike micrograd's `.grad` fields). Nodes that do not lead to `self`, including
    /// nodes created after it, have gradient 0.
    ///
    /// # Panics
    ///
    /// If the 8 bytes of gradient per node of the tape cannot be allocated (a tape of
    /// billions of nodes, such as many [`Mlp::bind`](crate::Mlp::bind)s of a large model
    /// without [`Tape::clear`]: leaves cost the tape almost nothing, their gradients do not),
    /// with that size in the message, instead of aborting the process.
    ///
    /// ```
    /// use tapegrad::Tape;
    /// let tape = Tape::new();
    /// let x = tape.var(3.0);
    /// let y = x * x + x; // dy/dx = 2x + 1
    /// assert_eq!(y.backward()[x], 7.0);
    /// assert_eq!(y.backward()[x], 7.0); // same again: backward does not accumulate
    /// ```
    #[must_use]
    pub fn backward(self) -> Gradients {
        let mut grads = Gradients::default();
        grads.values = pool::take_gradients();
        self.backward_into(&mut grads);
        grads
    }

    /// Like [`Value::backward`], but reuses `grads`' memory (no allocation once it is large
    /// enough). Whatever `grads` held before is overwritten.
    ///
    /// # Panics
    ///
    /// As [`Value::backward`], if `grads` must grow and the gradients cannot be allocated.
    ///
    /// ```
    /// use tapegrad::{Gradients, Tape};
    /// let tape = Tape::new();
    /// let x = tape.var(2.0);
    /// let mut grads = Gradients::new();
    /// (x * x).backward_into(&mut grads);
    /// assert_eq!(grads[x], 4.0);
    /// ```
    #[inline]
    pub fn backward_into(self, grads: &mut Gradients) {
        grads.tape_id = self.tape.id;
        grads.recording = self.tape.recording;
        self.tape
            .records_ref()
            .backward(self.index, &mut grads.values);
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value(#{} = {})", self.index, self.value)
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value, f)
    }
}

/// The result of a reverse sweep: one gradient per node, indexed by [`Value`].
///
/// `grads[x]` and `grads.wrt(x)` give d(output)/dx. A value that does not lead to the output
/// (or was created after it) has gradient 0.
///
/// # Panics
///
/// Indexing with a value from another tape, or from a recording made after the tape was
/// cleared, panics: those indices would silently name the wrong nodes.
///
/// ```
/// use tapegrad::Tape;
/// let tape = Tape::new();
/// let a = tape.var(2.0);
/// let b = tape.var(5.0);
/// let unrelated = tape.var(1.0);
/// let grads = (a * b).backward();
/// assert_eq!((grads[a], grads.wrt(b), grads[unrelated]), (5.0, 2.0, 0.0));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gradients {
    tape_id: u64,
    recording: u64,
    /// `values[0]` is the sink of padding edges; node `i`'s gradient is `values[i + 1]`.
    values: Vec<f64>,
}

impl Gradients {
    /// An empty buffer for [`Value::backward_into`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The gradient with respect to `value`.
    ///
    /// # Panics
    ///
    /// If `value` is from another tape or from after a [`Tape::clear`].
    #[inline]
    #[must_use]
    #[track_caller]
    pub fn wrt(&self, value: Value<'_>) -> f64 {
        self[value]
    }

    /// Gradients of every node of the tape, by node index.
    ///
    /// ```
    /// let tape = tapegrad::Tape::new();
    /// let x = tape.var(1.0);
    /// let y = x * 3.0;
    /// let _later = x + 1.0;
    /// let grads = y.backward();
    /// assert_eq!(grads.as_slice(), &[3.0, 1.0, 0.0]);
    /// ```
    #[must_use]
    pub fn as_slice(&self) -> &[f64] {
        self.values.get(1..).unwrap_or(&[])
    }

    /// Whether these gradients were computed on `tape`'s current recording.
    pub(crate) fn is_for(&self, tape: &Tape) -> bool {
        self.recording == tape.recording
    }

    #[inline]
    #[track_caller]
    pub(crate) fn check_tape(&self, tape: &Tape) {
        if self.recording != tape.recording {
            self.wrong_tape(tape);
        }
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn wrong_tape(&self, tape: &Tape) -> ! {
        if self.tape_id != tape.id {
            panic!(
                "tapegrad: gradients of tape #{} indexed with a value of tape #{}",
                self.tape_id, tape.id
            );
        }
        panic!(
            "tapegrad: these gradients were computed before the tape was cleared; \
             run backward again on the new recording"
        );
    }
}

impl Drop for Gradients {
    fn drop(&mut self) {
        pool::give_gradients(std::mem::take(&mut self.values));
    }
}

impl Index<Value<'_>> for Gradients {
    type Output = f64;

    #[inline]
    #[track_caller]
    fn index(&self, value: Value<'_>) -> &f64 {
        self.check_tape(value.tape);
        self.values.get(value.index as usize + 1).unwrap_or(&0.0)
    }
}
