//! What decay detection needs to know about the suite beyond run records: every case's
//! review date, pins, rubric and labels, snapshot and input text, the rubrics and versions
//! in force, and the policy. Taken when the suite is loaded and saved with the run
//! (`suite.json`), so a report rebuilt later judges the suite as it was.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{DecayPolicy, Rubric, RubricRef};
use crate::case::{Case, Label, Status};
use crate::envelope::Envelope;
use crate::errors::Error;
use crate::observation::Decision;
use crate::suite::Suite;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecayContext {
    pub policy: DecayPolicy,
    /// The versions in force (corpus, policy, tools) the case pins are compared with.
    pub pins: BTreeMap<String, String>,
    pub rubrics: BTreeMap<String, Rubric>,
    /// The history store the suite names (`history.path`), if any.
    pub history: Option<PathBuf>,
    /// Every case of the suite, retired ones included.
    pub cases: Vec<CaseFacts>,
}

/// The facts about one case the detectors read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CaseFacts {
    pub case: String,
    pub file: String,
    pub line: u32,
    /// Its folder under `cases/`, as JUnit's classname (empty in records older than it).
    #[serde(default)]
    pub classname: String,
    /// The lines of the case file's top-level keys, for findings to point at.
    #[serde(default)]
    pub key_lines: BTreeMap<String, u32>,
    pub status: Status,
    pub reviewed: Option<jiff::civil::Date>,
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
    pub rubric: Option<RubricRef>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub removed_branches: Vec<Decision>,
    pub snapshot: Option<SnapshotFacts>,
    /// The case's user messages, for matching production traffic.
    pub text: String,
}

/// A case's accepted snapshot, as its metadata says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SnapshotFacts {
    pub path: String,
    /// `None` when no snapshot was accepted yet.
    pub accepted: Option<jiff::civil::Date>,
    pub envelope: Option<Envelope>,
    pub exists: bool,
}

impl DecayContext {
    pub fn new<'a>(
        suite: &Suite,
        cases: impl IntoIterator<Item = &'a Case>,
    ) -> Result<DecayContext, Error> {
        let mut facts = Vec::new();
        for case in cases {
            facts.push(CaseFacts::of(suite, case)?);
        }
        Ok(DecayContext {
            policy: suite.decay.clone(),
            pins: suite.pins.clone(),
            rubrics: suite.rubrics.clone(),
            history: suite.history.clone(),
            cases: facts,
        })
    }

    /// The cases that run (not drafts, not retired): what decay is measured over.
    pub fn active(&self) -> impl Iterator<Item = &CaseFacts> {
        self.cases.iter().filter(|c| c.status == Status::Active)
    }
}

impl CaseFacts {
    /// The line of `key` in the case file, else the case's own line.
    pub fn line_of(&self, key: &str) -> u32 {
        self.key_lines.get(key).copied().unwrap_or(self.line)
    }

    fn of(suite: &Suite, case: &Case) -> Result<CaseFacts, Error> {
        let snapshot = if case.snapshot {
            let accepted = crate::snapshot::accepted(&suite.snapshots, &case.id)?;
            Some(match accepted {
                Some(a) => SnapshotFacts {
                    path: suite.display_path(&a.path).display().to_string(),
                    accepted: a.date,
                    envelope: a.envelope,
                    exists: true,
                },
                None => SnapshotFacts {
                    path: String::new(),
                    accepted: None,
                    envelope: None,
                    exists: false,
                },
            })
        } else {
            None
        };
        let text = crate::observation::user_text(&case.messages);
        Ok(CaseFacts {
            case: case.id.clone(),
            file: case.file.display().to_string(),
            line: case.line,
            classname: case.classname.clone(),
            key_lines: case.key_lines.clone(),
            status: case.status.clone(),
            reviewed: case.reviewed,
            pins: case.pins.clone(),
            rubric: case
                .rubric
                .as_deref()
                .and_then(|r| RubricRef::parse(r).ok()),
            labels: case.labels.clone(),
            removed_branches: case.removed_branches.clone(),
            snapshot,
            text,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An active case with nothing to find: reviewed today, no pins, no rubric.
    pub(crate) fn case(id: &str) -> CaseFacts {
        CaseFacts {
            case: id.into(),
            file: format!("evals/cases/{id}.yaml"),
            line: 1,
            classname: "evals".into(),
            key_lines: BTreeMap::from([("reviewed".to_string(), 3)]),
            status: Status::Active,
            reviewed: Some(jiff::civil::date(2026, 11, 28)),
            pins: BTreeMap::new(),
            rubric: None,
            labels: Vec::new(),
            removed_branches: Vec::new(),
            snapshot: None,
            text: format!("question about {id}"),
        }
    }

    pub(crate) fn context(cases: Vec<CaseFacts>) -> DecayContext {
        DecayContext {
            policy: DecayPolicy::default(),
            pins: BTreeMap::from([("policy".to_string(), "refunds-v4".to_string())]),
            rubrics: BTreeMap::from([(
                "tone".to_string(),
                Rubric {
                    id: "tone".into(),
                    version: 2,
                    changed: Some(jiff::civil::date(2026, 9, 1)),
                    description: None,
                    criteria: Vec::new(),
                    file: "evals/rubrics/tone.yaml".into(),
                },
            )]),
            history: None,
            cases,
        }
    }
}
