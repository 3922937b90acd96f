//! Checked sizes and fallible allocation for everything sized by user data.
//!
//! A size that overflows `usize`, or an allocation the allocator refuses, is an
//! [`Error::Allocation`]: an impossible model, dataset or buffer is an error in debug and
//! release builds alike, never an abort or a wrapped count.

use crate::error::{Error, Result};

/// `a * b`, or [`Error::Allocation`] of `what` if it overflows.
pub(crate) fn mul(what: &'static str, a: usize, b: usize) -> Result<usize> {
    a.checked_mul(b).ok_or(Error::Allocation {
        what,
        count: usize::MAX,
    })
}

/// `a + b`, or [`Error::Allocation`] of `what` if it overflows.
pub(crate) fn add(what: &'static str, a: usize, b: usize) -> Result<usize> {
    a.checked_add(b).ok_or(Error::Allocation {
        what,
        count: usize::MAX,
    })
}

/// Reserves room for `additional` more elements, or [`Error::Allocation`] of `what`.
pub(crate) fn reserve<T>(v: &mut Vec<T>, additional: usize, what: &'static str) -> Result<()> {
    v.try_reserve_exact(additional)
        .map_err(|_| Error::Allocation {
            what,
            count: additional,
        })
}

/// An empty vector with room for `len` elements, or [`Error::Allocation`] of `what`.
pub(crate) fn with_capacity<T>(len: usize, what: &'static str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    reserve(&mut v, len, what)?;
    Ok(v)
}

/// Fills an empty `state` with `len` zeros, allocating fallibly.
pub(crate) fn zeros_into(state: &mut Vec<f64>, len: usize, what: &'static str) -> Result<()> {
    reserve(state, len, what)?;
    state.resize(len, 0.0);
    Ok(())
}

/// [`reserve`] for a `SmallVec`.
pub(crate) fn reserve_small<A: smallvec::Array>(
    v: &mut smallvec::SmallVec<A>,
    additional: usize,
    what: &'static str,
) -> Result<()> {
    v.try_reserve_exact(additional)
        .map_err(|_| Error::Allocation {
            what,
            count: additional,
        })
}
