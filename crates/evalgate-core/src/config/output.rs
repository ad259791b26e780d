//! The suite's `output:` section and what it configures: the optional features whose
//! terminal sections show at normal verbosity only when the suite configures them. What
//! each verbosity shows is the report's (`evalgate`'s `output`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::gate::{Metric, SignalMetric};
use crate::verbosity::Verbosity;

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
    pub fn of_metric(metric: &Metric) -> Option<Feature> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
