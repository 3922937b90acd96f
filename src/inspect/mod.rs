//! Looking inside a recording: Graphviz export of a traced tape, and gradient checks against
//! finite differences.

pub mod gradcheck;
pub(crate) mod graphviz;
pub(crate) mod hessian;
