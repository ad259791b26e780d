//! What a decay detector says about one case: which detector, why, and what to do.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The detectors, one per way a frozen eval set drifts away from the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// `reviewed:` older than the policy (or in the future).
    ReviewAge,
    /// No `reviewed:` date at all: low severity until the case has existed longer than the
    /// policy's review age (by its first run in history), then it counts as stale.
    NeverReviewed,
    /// The case pins a corpus / policy / tool-surface version other than the one in force.
    PinDrift,
    /// The case names a branch (or tool) the planner no longer has.
    MissingReference,
    /// The case was labelled under an older version of its rubric.
    RubricDrift,
    /// Annotators disagree on the case under a rubric whose agreement (κ) is too low.
    Agreement,
    /// Same verdict under the last N distinct envelopes: it no longer discriminates.
    Saturation,
    /// The snapshot was accepted under another model or prompt.
    StaleSnapshot,
    /// No production input resembles the case.
    NoTraffic,
}

impl Detector {
    /// Every detector, in the order reports list them.
    pub const ALL: [Detector; 9] = [
        Detector::ReviewAge,
        Detector::NeverReviewed,
        Detector::PinDrift,
        Detector::MissingReference,
        Detector::RubricDrift,
        Detector::Agreement,
        Detector::Saturation,
        Detector::StaleSnapshot,
        Detector::NoTraffic,
    ];

    /// The detector as `decay.json` and the reports name it (`review_age`, `stale_snapshot`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Detector::ReviewAge => "review_age",
            Detector::NeverReviewed => "never_reviewed",
            Detector::PinDrift => "pin_drift",
            Detector::MissingReference => "missing_reference",
            Detector::RubricDrift => "rubric_drift",
            Detector::Agreement => "agreement",
            Detector::Saturation => "saturation",
            Detector::StaleSnapshot => "stale_snapshot",
            Detector::NoTraffic => "no_traffic",
        }
    }
}

impl fmt::Display for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a finding weighs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The case is no longer evidence: counted in the stale share and green-but-stale.
    #[default]
    Stale,
    /// Worth knowing, not (yet) a reason to distrust the case: listed, not counted.
    Low,
}

/// One finding on one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecayFinding {
    /// The case id.
    pub case: String,
    /// The case file and line, as shown to users.
    pub file: String,
    /// The line of the key the finding is about (`reviewed:`, `pins:`...), else the case's first
    /// line.
    pub line: u32,
    /// Which detector found it.
    pub detector: Detector,
    /// Why, with the values that show it.
    pub reason: String,
    /// What to do about it.
    pub action: String,
    /// Whether it makes the case stale (findings written before severities were: all do).
    #[serde(default)]
    pub severity: Severity,
}

impl DecayFinding {
    /// Whether the finding counts the case as stale.
    pub fn counts(&self) -> bool {
        self.severity == Severity::Stale
    }
}
