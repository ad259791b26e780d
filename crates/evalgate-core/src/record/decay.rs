//! What decay detection needs to know about the suite beyond run records: every case's
//! review date, pins, rubric and labels, snapshot and input text, the rubrics and versions
//! in force, and the policy. Taken when the suite is loaded and saved with the run
//! (`suite.json`), so a report rebuilt later judges the suite as it was. Built from the
//! compiled cases by `evalgate`'s `decay::context`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::case::{Label, Status};
use crate::config::decay::DecayPolicy;
use crate::config::rubric::{Rubric, RubricRef};
use crate::envelope::Envelope;
use crate::observation::Decision;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct SnapshotFacts {
    pub path: String,
    /// `None` when no snapshot was accepted yet.
    pub accepted: Option<jiff::civil::Date>,
    pub envelope: Option<Envelope>,
    pub exists: bool,
}

impl DecayContext {
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
}
