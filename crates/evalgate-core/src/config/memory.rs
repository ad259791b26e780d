//! The suite's `memory:` settings. Kept apart from the comparison, which reads records,
//! so the suite file's parser depends on nothing that depends on it.

use serde::{Deserialize, Serialize};

/// When a case's effective past counts as changed (the suite's `memory:`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryPolicy {
    /// The Jaccard divergence of retained sets, beyond the one between samples of the same
    /// run, at which memory counts as changed (between 0 and 1, exclusive).
    pub divergence: f64,
    /// The significance level at which a change in recall of multi-sample cases is real.
    pub alpha: f64,
}

impl Default for MemoryPolicy {
    fn default() -> Self {
        MemoryPolicy {
            divergence: 0.2,
            alpha: 0.05,
        }
    }
}
