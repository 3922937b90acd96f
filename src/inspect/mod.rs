//! Looking inside a recording: Graphviz export of a traced tape, and gradient checks against
//! finite differences.

pub(crate) mod dot;
pub mod gradcheck;
