//! The baseline a pull request is compared with: each case's pooled samples from the
//! recent runs of a branch in the history store, or a committed file saved by `evalgate
//! baseline save`. Comparing (`compare`) gives each case a one-sided p-value for a drop,
//! valid for how its samples were taken, adjusted over the run's compared cases so that a
//! run with nothing changed turns red with probability at most α. `judge` is the same
//! comparison while a case runs: when to stop sampling, and whether a failing case is red.

mod compare;
pub(crate) mod judge;
pub mod plan;
use evalgate_core::config::baseline as policy;
mod resolve;

pub use crate::record::{CaseJudgement, Judge};
pub use compare::{BaselineComparison, CaseChange, Change, compare};
pub use policy::{ADAPTIVE_DROP, BaselinePolicy};
pub use resolve::{Baseline, BaselineCase, Resolved, Subject, resolve, short_commit};
