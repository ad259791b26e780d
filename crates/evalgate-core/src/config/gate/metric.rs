//! The metrics a gate can bound. How each is measured on a run is the report's business
//! (`report::gates`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Bound;

/// A measurable property of a run. Ratios are in 0..=1, counts are whole numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Cases whose verdict is `pass`, over all cases.
    CasePassRate,
    /// Cases whose verdict is `error`.
    CaseErrors,
    /// Cases whose verdict is `inconclusive` (the samples could not tell), whether or not
    /// `inconclusive: warn` lets them pass their test.
    CaseInconclusive,
    /// Catalog branches reached by at least one sample, over all catalog branches.
    BranchCoverage,
    /// The lowest coverage of any decision point (the gate names the points below it).
    PointCoverage,
    /// The coverage of one decision point.
    PointCoverageOf(String),
    /// Declared reachable pairs seen, over declared pairs.
    TransitionCoverage,
    /// `high`-risk catalog branches no sample reached.
    HighRiskUncovered,
    /// Branches observed that the catalog does not list (the catalog drifted).
    UnknownBranches,
    /// Catalog branches that no case expects (`expect.branches` or `path`): in the prompt,
    /// in production, not in the eval.
    UnexpectedBranches,
    /// Files the catalog was derived from that changed since it was reviewed.
    StaleSources,
    /// Active cases with at least one decay finding, over active cases.
    StaleShare,
    /// Passing cases with at least one decay finding.
    GreenButStale,
    /// Cases whose verdict differed between the two most recent envelopes in history,
    /// over cases with a verdict under both.
    DiscriminationRate,
    /// Production inputs no case resembles, over the production sample.
    UncoveredTraffic,
    /// Models the agent reported that differ from the pinned `envelope.model`.
    ModelBumps,
    /// Cases that passed in the baseline and fail now (significantly, for multi-sample cases).
    Regressions,
    /// Cases whose effective past changed against the reference run: retained sets that
    /// diverge beyond the policy's, or recall that changed (`crate::memory`).
    MemoryChanged,
    /// Earlier attempts of the run's commit under its envelope that ended red: a green run
    /// after them was rerun to green.
    RerunsToGreen,
    /// An operational signal: SLIs, tier mix, latency, cost.
    Signal(SignalMetric),
}

/// The metrics measured on the operational signals (`crate::signals`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignalMetric {
    /// Answered samples that refused (agent-reported or detected), over those whose refusal
    /// is known.
    RefusalRate,
    /// Samples whose `json_schema` checks all passed, over samples that ran one.
    SchemaConformance,
    /// Answered samples cut by the output limit (`finish_reason: length`).
    TruncationRate,
    /// 1 when output lengths differ from the baseline's (Mann-Whitney U, p < `verbosity.alpha`).
    VerbosityDrift,
    /// The share of answered samples served by this tier.
    TierShare(String),
    /// Samples that passed under this load condition over all its samples, errored ones
    /// included (`none`: under no condition).
    ConditionPassRate(String),
    /// Latency percentiles of answered samples, in milliseconds.
    LatencyP50,
    LatencyP95,
    LatencyP99,
    /// The run's cost in USD, from the suite's `prices`.
    CostRun,
    /// The cost of the most expensive case, in USD.
    CostCaseMax,
}

/// Every metric with a fixed name, and that name: the one table parsing and display share.
const NAMED: [(&str, Metric); 27] = [
    ("cases.pass_rate", Metric::CasePassRate),
    ("cases.errors", Metric::CaseErrors),
    ("cases.inconclusive", Metric::CaseInconclusive),
    ("coverage.branches", Metric::BranchCoverage),
    ("coverage.points", Metric::PointCoverage),
    ("coverage.transitions", Metric::TransitionCoverage),
    ("coverage.high_risk_uncovered", Metric::HighRiskUncovered),
    ("coverage.unknown_branches", Metric::UnknownBranches),
    ("coverage.unexpected_branches", Metric::UnexpectedBranches),
    ("catalog.stale_sources", Metric::StaleSources),
    ("decay.stale_share", Metric::StaleShare),
    ("decay.green_but_stale", Metric::GreenButStale),
    ("decay.discrimination_rate", Metric::DiscriminationRate),
    ("decay.uncovered_traffic", Metric::UncoveredTraffic),
    ("envelope.model_bumps", Metric::ModelBumps),
    ("baseline.regressions", Metric::Regressions),
    ("memory.changed_cases", Metric::MemoryChanged),
    ("runs.reruns_to_green", Metric::RerunsToGreen),
    (
        "slo.refusal_rate",
        Metric::Signal(SignalMetric::RefusalRate),
    ),
    (
        "slo.schema_conformance",
        Metric::Signal(SignalMetric::SchemaConformance),
    ),
    (
        "slo.truncation_rate",
        Metric::Signal(SignalMetric::TruncationRate),
    ),
    (
        "slo.verbosity_drift",
        Metric::Signal(SignalMetric::VerbosityDrift),
    ),
    ("latency.p50_ms", Metric::Signal(SignalMetric::LatencyP50)),
    ("latency.p95_ms", Metric::Signal(SignalMetric::LatencyP95)),
    ("latency.p99_ms", Metric::Signal(SignalMetric::LatencyP99)),
    ("cost.run_usd", Metric::Signal(SignalMetric::CostRun)),
    (
        "cost.case_max_usd",
        Metric::Signal(SignalMetric::CostCaseMax),
    ),
];
const POINT_PREFIX: &str = "coverage.point.";
const TIER_PREFIX: &str = "tiers.share.";
const CONDITION_PREFIX: &str = "conditions.pass_rate.";

impl Metric {
    /// Parses a metric name; the error is the list of known metrics.
    pub fn parse(name: &str) -> Result<Metric, String> {
        if let Some((_, metric)) = NAMED.iter().find(|(n, _)| *n == name) {
            return Ok(metric.clone());
        }
        let named = |prefix: &str| name.strip_prefix(prefix).filter(|rest| !rest.is_empty());
        if let Some(point) = named(POINT_PREFIX) {
            return Ok(Metric::PointCoverageOf(point.to_string()));
        }
        if let Some(tier) = named(TIER_PREFIX) {
            return Ok(Metric::Signal(SignalMetric::TierShare(tier.to_string())));
        }
        if let Some(condition) = named(CONDITION_PREFIX) {
            return Ok(Metric::Signal(SignalMetric::ConditionPassRate(
                condition.to_string(),
            )));
        }
        Err(format!(
            "known metrics: {}, {POINT_PREFIX}<decision point>, {TIER_PREFIX}<tier>, \
             {CONDITION_PREFIX}<condition>",
            NAMED.map(|(n, _)| n).join(", ")
        ))
    }

    /// Whether the metric is a ratio (0..=1) rather than a count.
    fn is_ratio(&self) -> bool {
        matches!(
            self,
            Metric::CasePassRate
                | Metric::BranchCoverage
                | Metric::PointCoverage
                | Metric::PointCoverageOf(_)
                | Metric::TransitionCoverage
                | Metric::StaleShare
                | Metric::DiscriminationRate
                | Metric::UncoveredTraffic
        ) || matches!(self, Metric::Signal(s) if s.is_ratio())
    }

    /// Whether the metric is an amount (milliseconds, dollars): any number ≥ 0.
    fn is_amount(&self) -> bool {
        matches!(self, Metric::Signal(s) if s.is_amount())
    }

    pub fn needs_catalog(&self) -> bool {
        !matches!(
            self,
            Metric::CasePassRate
                | Metric::CaseErrors
                | Metric::CaseInconclusive
                | Metric::StaleShare
                | Metric::GreenButStale
                | Metric::DiscriminationRate
                | Metric::UncoveredTraffic
                | Metric::ModelBumps
                | Metric::Regressions
                | Metric::MemoryChanged
                | Metric::RerunsToGreen
                | Metric::Signal(_)
        )
    }

    pub fn check_bound(&self, bound: Bound) -> Result<(), String> {
        let (Bound::Min(v) | Bound::Max(v)) = bound;
        if self.is_ratio() && !(0.0..=1.0).contains(&v) {
            return Err(format!(
                "`{self}` is a ratio; its threshold {v} must be between 0 and 1"
            ));
        }
        if self.is_amount() && (v < 0.0 || !v.is_finite()) {
            return Err(format!(
                "`{self}` is an amount; its threshold {v} must be a number ≥ 0"
            ));
        }
        if !self.is_ratio() && !self.is_amount() && (v < 0.0 || v.fract() != 0.0 || !v.is_finite())
        {
            return Err(format!(
                "`{self}` is a count; its threshold {v} must be a whole number ≥ 0"
            ));
        }
        Ok(())
    }

    pub fn threshold_help(&self) -> String {
        if self.is_ratio() {
            format!("e.g. `{{metric: {self}, min: 0.8}}`")
        } else {
            format!("e.g. `{{metric: {self}, max: 0}}`")
        }
    }

    /// Coverage metrics mean nothing for a run of part of the suite.
    pub fn is_coverage(&self) -> bool {
        self.needs_catalog() && *self != Metric::StaleSources
    }

    /// Operational signals (SLIs, tier mix, latency, cost) of part of the suite are not the
    /// suite's: a filtered run or one shard alone may hold only its fallback cases.
    pub fn is_signal(&self) -> bool {
        matches!(self, Metric::Signal(_))
    }

    /// Whether the value depends on which cases ran, not only on how each sample went: a
    /// rate or total over the run's traffic mix. A suite tier's cases were picked to cover
    /// branches, so such a value measured on them stands for nothing. Schema conformance,
    /// truncation and the costliest case are properties of each sample or case.
    pub fn depends_on_case_mix(&self) -> bool {
        match self {
            Metric::Signal(signal) => !matches!(
                signal,
                SignalMetric::SchemaConformance
                    | SignalMetric::TruncationRate
                    | SignalMetric::CostCaseMax
            ),
            _ => false,
        }
    }
}

impl SignalMetric {
    fn is_ratio(&self) -> bool {
        matches!(
            self,
            SignalMetric::RefusalRate
                | SignalMetric::SchemaConformance
                | SignalMetric::TruncationRate
                | SignalMetric::TierShare(_)
                | SignalMetric::ConditionPassRate(_)
        )
    }

    fn is_amount(&self) -> bool {
        matches!(
            self,
            SignalMetric::LatencyP50
                | SignalMetric::LatencyP95
                | SignalMetric::LatencyP99
                | SignalMetric::CostRun
                | SignalMetric::CostCaseMax
        )
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::PointCoverageOf(point) => return write!(f, "{POINT_PREFIX}{point}"),
            Metric::Signal(SignalMetric::TierShare(tier)) => {
                return write!(f, "{TIER_PREFIX}{tier}");
            }
            Metric::Signal(SignalMetric::ConditionPassRate(c)) => {
                return write!(f, "{CONDITION_PREFIX}{c}");
            }
            _ => {}
        }
        let (name, _) = NAMED
            .iter()
            .find(|(_, m)| m == self)
            .expect("every metric but PointCoverageOf is in NAMED");
        f.write_str(name)
    }
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::parse(s)
    }
}

impl Serialize for Metric {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Metric {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Metric::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_name_round_trips_and_an_unknown_one_lists_them() {
        for (name, metric) in &NAMED {
            assert_eq!(Metric::parse(name).as_ref(), Ok(metric));
            assert_eq!(metric.to_string(), *name);
        }
        let point = Metric::parse("coverage.point.route").unwrap();
        assert_eq!(point, Metric::PointCoverageOf("route".into()));
        assert_eq!(point.to_string(), "coverage.point.route");
        let e = Metric::parse("coverage.brnaches").unwrap_err();
        assert!(e.contains("coverage.branches, coverage.points"), "{e}");
        assert!(Metric::parse("coverage.point.").is_err());
        for (name, metric) in [
            (
                "tiers.share.canned",
                Metric::Signal(SignalMetric::TierShare("canned".into())),
            ),
            (
                "conditions.pass_rate.peak_hours",
                Metric::Signal(SignalMetric::ConditionPassRate("peak_hours".into())),
            ),
        ] {
            assert_eq!(Metric::parse(name), Ok(metric.clone()));
            assert_eq!(metric.to_string(), name);
        }
        assert!(Metric::parse("tiers.share.").is_err());
        assert!(
            Metric::Signal(SignalMetric::LatencyP95)
                .check_bound(Bound::Max(812.5))
                .is_ok()
        );
        assert!(
            Metric::Signal(SignalMetric::CostRun)
                .check_bound(Bound::Max(-1.0))
                .is_err()
        );
        assert!(
            Metric::Signal(SignalMetric::TierShare("primary".into()))
                .check_bound(Bound::Min(1.5))
                .is_err()
        );
    }
}
