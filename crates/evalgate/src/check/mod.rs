//! Checks: evaluating a case's expectations against one observation. Each result says what
//! was expected, what was observed, and where in the YAML the expectation is written.

mod evaluate;
mod refusal;
mod snapshot;

pub use crate::record::CheckResult;
pub(crate) use evaluate::{evaluate, excerpt, memory_set};
pub(crate) use refusal::RefusalDetector;
pub(crate) use snapshot::snapshot;
