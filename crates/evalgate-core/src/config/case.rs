//! The case file format: what a YAML case says, as typed data. Unknown keys are errors
//! (`deny_unknown_fields` everywhere): a typo must never silently disable a check.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

pub use crate::record::Source;

use crate::duration::HumanDuration;
use crate::observation::{Decision, Message};
use crate::verdict::PassRule;

/// A case file as written. See the book's "Case format" (docs/src/case-format.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub id: Option<Spanned<String>>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub source: Option<Source>,
    /// Date of the last human review.
    pub reviewed: Option<jiff::civil::Date>,
    /// `rubric-id@version` the expectations were written under.
    pub rubric: Option<Spanned<String>>,
    /// Versions of corpus / policy / tool surface the case was written against.
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
    #[serde(default)]
    pub status: Status,
    /// Labels given by annotators under the case's rubric (for agreement, Cohen's κ).
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Store the (normalised, redacted) output as an insta snapshot and compare with it.
    #[serde(default)]
    pub snapshot: bool,
    pub input: Input,
    pub samples: Option<Spanned<SamplesFile>>,
    pub pass: Option<Spanned<PassRule>>,
    /// Take the samples in groups and stop once the verdict of all of them is decided.
    pub sequential: Option<Spanned<Sequential>>,
    /// Run the case once per serving tier, each forced through the request.
    #[serde(default)]
    pub tiers: Vec<Spanned<String>>,
    /// Run the case also under each of these load conditions of the suite.
    #[serde(default)]
    pub conditions: Vec<Spanned<String>>,
    pub timeout: Option<HumanDuration>,
    #[serde(default)]
    pub expect: Vec<Spanned<Expectation>>,
}

/// `samples: n` (exactly n), or `samples: {min: a, max: b}` (adaptive: from a up to b, as
/// the comparison with the baseline needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(
    untagged,
    expecting = "`samples` is a whole number, or `{min: …, max: …}` for adaptive sampling"
)]
pub enum SamplesFile {
    Fixed(u32),
    Range(SampleRange),
}

/// `{min: a, max: b}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleRange {
    pub min: u32,
    pub max: u32,
}

impl SamplesFile {
    /// The most samples it allows.
    pub fn max(self) -> u32 {
        match self {
            SamplesFile::Fixed(n) => n,
            SamplesFile::Range(r) => r.max,
        }
    }

    /// Refuses counts that cannot run: none, more than `limit`, a maximum below the minimum.
    pub fn validate(self, limit: u32) -> Result<(), String> {
        match self {
            SamplesFile::Fixed(n) if n == 0 || n > limit => {
                Err(format!("`samples: {n}` must be between 1 and {limit}"))
            }
            SamplesFile::Range(SampleRange { min, max }) if min == 0 || max > limit => Err(
                format!("`samples: {{min: {min}, max: {max}}}` must stay between 1 and {limit}"),
            ),
            SamplesFile::Range(SampleRange { min, max }) if max < min => Err(format!(
                "`samples: {{min: {min}, max: {max}}}`: the maximum is below the minimum"
            )),
            _ => Ok(()),
        }
    }
}

/// `sequential: true`, or `sequential: {group: N}` samples per group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Sequential {
    On(bool),
    Group { group: u32 },
}

/// One annotator's label of a case (e.g. whether the expected answer is right).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Who gave the label.
    pub annotator: String,
    /// The label they gave (e.g. `correct`).
    pub label: String,
}

/// Whether a case runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Status {
    /// Runs as a normal test.
    #[default]
    Active,
    /// Listed as an ignored test; runs with `--ignored` / `--include-ignored`.
    Draft,
    /// Kept for history and decay reports, never run; counted in the report.
    Retired {
        /// Why it was retired.
        reason: String,
        /// When it was retired.
        date: jiff::civil::Date,
    },
}

/// The input sent to the agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub messages: Vec<Message>,
    #[serde(default)]
    pub vars: serde_json::Map<String, Value>,
    pub customer: Option<String>,
    pub tier: Option<String>,
}

/// One expectation on a sample. Each one in a case is its own list item, so a failure
/// points at its own YAML line.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expectation {
    Equals(String),
    Contains(String),
    NotContains(String),
    Regex(String),
    JsonSchema(Value),
    MaxLength(usize),
    /// `true`: the agent must refuse; `false`: it must not.
    Refusal(bool),
    MaxLatency(HumanDuration),
    Branches(Vec<Decision>),
    NotBranches(Vec<Decision>),
    /// The decisions must occur in this order (other decisions may come between them).
    Path(Vec<Decision>),
    /// A recall probe: the last user message asks about a fact an earlier user message
    /// gave; the answer must contain it (case-insensitively).
    Recalled(String),
    /// A placeholder a human must replace: what the expectation should say. Allowed only
    /// in drafts (`status: draft`), and it fails every sample, so a draft run with
    /// `--include-ignored` can never pass.
    Todo(String),
}

impl Expectation {
    pub fn name(&self) -> &'static str {
        match self {
            Expectation::Equals(_) => "equals",
            Expectation::Contains(_) => "contains",
            Expectation::NotContains(_) => "not_contains",
            Expectation::Regex(_) => "regex",
            Expectation::JsonSchema(_) => "json_schema",
            Expectation::MaxLength(_) => "max_length",
            Expectation::Refusal(_) => "refusal",
            Expectation::MaxLatency(_) => "max_latency",
            Expectation::Branches(_) => "branches",
            Expectation::NotBranches(_) => "not_branches",
            Expectation::Path(_) => "path",
            Expectation::Recalled(_) => "recalled",
            Expectation::Todo(_) => "todo",
        }
    }
}
