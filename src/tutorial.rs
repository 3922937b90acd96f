//! Placeholder: the tutorial is written below.
