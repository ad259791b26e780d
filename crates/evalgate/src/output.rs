//! How much the terminal report says: the suite's `output.verbosity`, `EVALGATE_VERBOSITY`
//! and libtest's `--quiet`, and which of the suite's optional features it configures. At the
//! default verbosity the report has a section for a feature the suite configures, or one
//! with something to say (a warning, a finding that counts, a gate that fired), and nothing
//! for the rest: a new suite's green run is a few lines, as `cargo test` users expect.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use evalgate_core::verbosity::Verbosity;

use crate::gate::{Metric, SignalMetric};

/// An optional feature of the suite whose terminal section is shown at normal verbosity
/// only when the suite configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// `decay:`, or a gate on `decay.*` or `envelope.model_bumps`.
    Decay,
    /// `memory:`, or a gate on `memory.changed_cases`.
    Memory,
    /// `refusal:`, or a gate on `slo.refusal_rate`, `slo.schema_conformance` or
    /// `slo.truncation_rate`: the capability SLIs.
    Slis,
    /// `verbosity:` (the drift test's level), or a gate on `slo.verbosity_drift`.
    OutputLength,
    /// `tiers:`, or a gate on `tiers.share.*`.
    Tiers,
    /// A gate on `latency.*`.
    Latency,
    /// `time_zone:`: the hour-of-day rows.
    TimeZone,
    /// `prices:`, or a gate on `cost.*`.
    Cost,
}

impl Feature {
    /// The feature a gate on `metric` is about, when it has a section of its own.
    pub(crate) fn of_metric(metric: &Metric) -> Option<Feature> {
        Some(match metric {
            Metric::StaleShare
            | Metric::GreenButStale
            | Metric::DiscriminationRate
            | Metric::UncoveredTraffic
            | Metric::ModelBumps => Feature::Decay,
            Metric::MemoryChanged => Feature::Memory,
            Metric::Signal(signal) => match signal {
                SignalMetric::RefusalRate
                | SignalMetric::SchemaConformance
                | SignalMetric::TruncationRate => Feature::Slis,
                SignalMetric::VerbosityDrift => Feature::OutputLength,
                SignalMetric::TierShare(_) => Feature::Tiers,
                SignalMetric::LatencyP50 | SignalMetric::LatencyP95 | SignalMetric::LatencyP99 => {
                    Feature::Latency
                }
                SignalMetric::CostRun | SignalMetric::CostCaseMax => Feature::Cost,
                // A load condition runs only where the suite declares it: its rows show
                // whenever there are any.
                SignalMetric::ConditionPassRate(_) => return None,
            },
            _ => return None,
        })
    }
}

/// What the suite says about its terminal report: the verbosity it asks for, and the
/// features it configures. Saved with the run's policy, so `evalgate report` shows what the
/// run would have shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputPolicy {
    /// `output.verbosity`, when the suite sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<Verbosity>,
    /// The optional features the suite file configures.
    #[serde(default)]
    pub configured: BTreeSet<Feature>,
}

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

    #[test]
    fn gates_configure_the_feature_they_bound() {
        for (name, feature) in [
            ("decay.stale_share", Some(Feature::Decay)),
            ("cost.run_usd", Some(Feature::Cost)),
            ("latency.p95_ms", Some(Feature::Latency)),
            ("tiers.share.primary", Some(Feature::Tiers)),
            ("slo.refusal_rate", Some(Feature::Slis)),
            ("slo.verbosity_drift", Some(Feature::OutputLength)),
            ("memory.changed_cases", Some(Feature::Memory)),
            ("cases.pass_rate", None),
        ] {
            let metric = Metric::parse(name).unwrap();
            assert_eq!(Feature::of_metric(&metric), feature, "{name}");
        }
    }
}
