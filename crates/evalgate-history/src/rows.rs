//! What the history answers with: plain rows and counts, the same whether or not this
//! build has the SQLite store (the `history` feature), so the code that asks compiles
//! either way.

use std::collections::BTreeMap;

use crate::envelope::Envelope;
use crate::verdict::Verdict;

/// One case verdict of one run, with what the run was measured under.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CaseVerdictRow {
    /// The case id.
    pub case: String,
    /// The run the verdict is from.
    pub run_id: String,
    /// When the run started.
    pub started_at: jiff::Timestamp,
    /// The id of the envelope the run was measured under.
    pub envelope_id: String,
    /// The case's verdict in that run.
    pub verdict: Verdict,
}

/// Which runs of a branch a baseline may pool (see `HistoryStore::pooled_baseline`).
#[derive(Debug, Clone)]
pub struct PoolQuery<'a> {
    /// The suite's name.
    pub suite: &'a str,
    /// The branch whose runs are pooled (the base of a pull request).
    pub branch: &'a str,
    /// The run being compared: never its own baseline.
    pub excluding: &'a [&'a str],
    /// The commit it measured: runs of the same commit are attempts of it, not a baseline.
    pub commit: Option<&'a str>,
    /// The envelope axes it forced (`axes_key`), `None` when none: runs under other axes
    /// measured another agent.
    pub axes: Option<&'a str>,
    /// How many of the latest runs to pool.
    pub window: u32,
    /// Runs started before this are stale.
    pub since: jiff::Timestamp,
    /// Only these cases (a nextest process needs its own case's alone); `None`: all.
    pub cases: Option<&'a [&'a str]>,
}

/// What the history holds for a baseline.
#[derive(Debug, Clone, PartialEq)]
pub enum Pooled {
    /// No run of the branch could be a baseline.
    Nothing,
    /// The branch has runs, but none under the same forced axes: the latest of them.
    OtherAxes(RunRow),
    /// The latest run of the branch is older than the window allows.
    Stale(RunRow),
    /// The runs pooled (newest first: the latest envelope's, within the window) and each
    /// case's pooled samples.
    Found {
        /// The runs pooled, newest first.
        runs: Vec<RunRow>,
        /// Each case's samples pooled over them.
        cases: Vec<PooledCase>,
        /// How many cases those runs hold in all (also when only some were asked for).
        held: usize,
    },
}

/// One case's samples pooled over a baseline's runs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PooledCase {
    /// The case's id.
    pub case: String,
    /// Samples that passed.
    pub passes: u32,
    /// Samples that answered (errored ones are no evidence either way).
    pub answered: u32,
    /// Runs that held the case.
    pub runs: u32,
    /// Its verdict in the latest of them.
    pub latest: Verdict,
}

/// An earlier run of the same commit, envelope and forced axes as the run at hand: an
/// attempt of the same thing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Attempt {
    /// The earlier run's id.
    pub run_id: String,
    /// When its earliest process started.
    pub started_at: jiff::Timestamp,
    /// How it ended, when its reports were written by an evalgate that keeps outcomes.
    pub red: Option<bool>,
}

/// One run known to the history.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunRow {
    /// The run's id.
    pub run_id: String,
    /// When its earliest process started.
    pub started_at: jiff::Timestamp,
    /// The suite's name.
    pub suite: String,
    /// The id of its envelope: runs with one id were measured under the same versions.
    pub envelope_id: String,
    /// The versions it was measured under.
    pub envelope: Envelope,
    /// The branch it measured, when it could tell.
    pub branch: Option<String>,
    /// The commit it measured, when it could tell.
    pub commit: Option<String>,
    /// It did not finish (killed, interrupted, cases without a result): never a reference.
    pub partial: bool,
}

/// How many records an ingest or import wrote (a record already there counts: it was
/// written again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IngestStats {
    /// Run records.
    pub runs: u64,
    /// Sample records.
    pub samples: u64,
    /// Case records.
    pub cases: u64,
    /// Rerun records.
    pub reruns: u64,
    /// Outcome records (how reported runs ended).
    pub outcomes: u64,
    /// End records (processes that finished or were interrupted).
    pub ends: u64,
}

/// How a run's forced envelope axes are stored and matched: compact JSON, keys sorted; runs
/// that forced none store NULL.
pub fn axes_key(axes: &BTreeMap<String, String>) -> String {
    serde_json::to_string(axes).expect("a map of strings serializes")
}
