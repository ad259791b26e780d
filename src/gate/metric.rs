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
}

/// Every metric with a fixed name, and that name: the one table parsing and display share.
const NAMED: [(&str, Metric); 16] = [
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
];
const POINT_PREFIX: &str = "coverage.point.";

impl Metric {
    /// Parses a metric name; the error is the list of known metrics.
    pub(crate) fn parse(name: &str) -> Result<Metric, String> {
        if let Some((_, metric)) = NAMED.iter().find(|(n, _)| *n == name) {
            return Ok(metric.clone());
        }
        match name.strip_prefix(POINT_PREFIX) {
            Some(point) if !point.is_empty() => Ok(Metric::PointCoverageOf(point.to_string())),
            _ => Err(format!(
                "known metrics: {}, {POINT_PREFIX}<decision point>",
                NAMED.map(|(n, _)| n).join(", ")
            )),
        }
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
        )
    }

    pub(crate) fn needs_catalog(&self) -> bool {
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
        )
    }

    pub(crate) fn check_bound(&self, bound: Bound) -> Result<(), String> {
        let (Bound::Min(v) | Bound::Max(v)) = bound;
        if self.is_ratio() && !(0.0..=1.0).contains(&v) {
            return Err(format!(
                "`{self}` is a ratio; its threshold {v} must be between 0 and 1"
            ));
        }
        if !self.is_ratio() && (v < 0.0 || v.fract() != 0.0 || !v.is_finite()) {
            return Err(format!(
                "`{self}` is a count; its threshold {v} must be a whole number ≥ 0"
            ));
        }
        Ok(())
    }

    pub(crate) fn threshold_help(&self) -> String {
        if self.is_ratio() {
            format!("e.g. `{{metric: {self}, min: 0.8}}`")
        } else {
            format!("e.g. `{{metric: {self}, max: 0}}`")
        }
    }

    /// Coverage metrics mean nothing for a run of part of the suite.
    pub(crate) fn is_coverage(&self) -> bool {
        self.needs_catalog() && *self != Metric::StaleSources
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Metric::PointCoverageOf(point) = self {
            return write!(f, "{POINT_PREFIX}{point}");
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
    }
}
