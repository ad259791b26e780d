//! How much the terminal report says: the suite's `output.verbosity`, `EVALGATE_VERBOSITY`
//! and libtest's `--quiet`, and which of the suite's optional features it configures. At the
//! default verbosity the report has a section for a feature the suite configures, or one
//! with something to say (a warning, a finding that counts, a gate that fired), and nothing
//! for the rest: a new suite's green run is a few lines, as `cargo test` users expect.

use std::collections::BTreeSet;

pub use evalgate_core::config::output::{Feature, OutputPolicy};
pub use evalgate_core::verbosity::Verbosity;

/// Which parts of a report to show, at a verbosity, for a suite's configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown<'a> {
    verbosity: Verbosity,
    configured: &'a BTreeSet<Feature>,
}

impl<'a> Shown<'a> {
    pub(crate) fn new(verbosity: Verbosity, output: &'a OutputPolicy) -> Shown<'a> {
        Shown {
            verbosity,
            configured: &output.configured,
        }
    }

    /// The section of `feature`: when the suite configures it (or at verbose).
    pub(crate) fn feature(self, feature: Feature) -> bool {
        match self.verbosity {
            Verbosity::Quiet => false,
            Verbosity::Normal => self.configured.contains(&feature),
            Verbosity::Verbose => true,
        }
    }

    /// What the run must not hide: warnings, findings that count, earlier attempts.
    pub(crate) fn findings(self) -> bool {
        self.verbosity != Verbosity::Quiet
    }

    /// Sections and hints for features the suite does not use.
    pub(crate) fn everything(self) -> bool {
        self.verbosity == Verbosity::Verbose
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_shows_by_configuration_at_normal_and_always_at_verbose() {
        let output = OutputPolicy {
            verbosity: None,
            configured: BTreeSet::from([Feature::Cost]),
        };
        let normal = Shown::new(Verbosity::Normal, &output);
        assert!(normal.feature(Feature::Cost));
        assert!(!normal.feature(Feature::Tiers));
        assert!(normal.findings());
        assert!(!normal.everything());
        let quiet = Shown::new(Verbosity::Quiet, &output);
        assert!(!quiet.feature(Feature::Cost) && !quiet.findings());
        let verbose = Shown::new(Verbosity::Verbose, &output);
        assert!(verbose.feature(Feature::Tiers) && verbose.everything());
    }
}
