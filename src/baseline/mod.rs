//! The baseline a pull request is compared with: a committed file of per-case results saved
//! by `evalgate baseline save` on the main branch. Comparing says, per case, what changed —
//! and for multi-sample cases calls a regression only when Fisher's exact test says the
//! difference is real.

mod compare;
#[cfg(test)]
mod simulation;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use compare::{BaselineComparison, CaseChange, Change, compare};

use crate::atomic_file::write_atomic;
use crate::errors::Error;
use crate::history::HistoryStore;
use crate::record::{CaseRecord, SCHEMA_VERSION, SampleRecord};
use crate::signals::SignalBaseline;
use crate::suite::BaselinePolicy;
use crate::terminal::shown;
use crate::verdict::Verdict;

/// What a run is compared with.
#[derive(Debug)]
pub(crate) enum Resolved {
    /// The baseline, and what it is as shown to users.
    Found(Baseline, String),
    /// The run is on the baseline branch and history holds no earlier run of it: there is
    /// nothing to compare with yet, and later runs compare with this one. Why, for users.
    FirstOfBranch(String),
}

/// The baseline a run of `suite` on `branch` (this run's, if known) is compared with.
///
/// With a `branch`, the latest other run of that branch in `history`; else, or when history
/// (off, or unreadable: `None`) has no such run, the file at `path`. Neither: an error, so
/// a `baseline.regressions` gate fails rather than passing on nothing — except for the
/// first run of the baseline branch itself, which has nothing to regress against.
pub(crate) fn resolve(
    policy: &BaselinePolicy,
    suite: &str,
    this_run: &[&str],
    this_branch: Option<&str>,
    history: Option<&HistoryStore>,
) -> Result<Resolved, Error> {
    let mut looked = None;
    if let Some(branch) = &policy.branch {
        match history {
            Some(store) => {
                if let Some(run) = store.latest_run_on_branch(suite, branch, this_run)? {
                    let cases = store.case_records_of_run(&run.run_id)?;
                    if !cases.is_empty() {
                        let samples = store.sample_records_of_run(&run.run_id)?;
                        let source = format!(
                            "the latest run of `{branch}` in history (run {}, {}{})",
                            run.run_id,
                            run.started_at.strftime("%Y-%m-%d %H:%M UTC"),
                            run.commit
                                .as_deref()
                                .map(|c| format!(", commit {}", &c[..c.len().min(12)]))
                                .unwrap_or_default()
                        );
                        return Ok(Resolved::Found(
                            Baseline::of(suite, run.envelope_id, &cases, &samples),
                            source,
                        ));
                    }
                }
                if policy.path.is_none() && this_branch == Some(branch.as_str()) {
                    return Ok(Resolved::FirstOfBranch(format!(
                        "the first run of `{branch}` in {}: nothing earlier to compare with; \
                         later runs compare with this one",
                        shown(store.path())
                    )));
                }
                looked = Some(format!(
                    "{} holds no finished run of suite `{suite}` on branch `{branch}`",
                    shown(store.path())
                ));
            }
            None => {
                looked = Some(format!(
                    "there is no history store to find the latest run of `{branch}` in \
                     (EVALGATE_HISTORY=off, or it could not be read)"
                ));
            }
        }
    }
    match (&policy.path, looked) {
        (Some(path), _) => Ok(Resolved::Found(Baseline::load(path, suite)?, shown(path))),
        (None, Some(why)) => Err(Error::Usage(format!(
            "no baseline to compare with: {why}; run the suite on `{}` with the same history \
             store first (in CI, restore it from the cache), or also name a committed \
             `baseline.path`",
            policy.branch.as_deref().unwrap_or_default()
        ))),
        (None, None) => Err(Error::Internal(
            "a baseline policy with neither path nor branch".into(),
        )),
    }
}

/// A baseline file (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Baseline {
    pub schema: u32,
    pub suite: String,
    pub saved_at: jiff::Timestamp,
    /// The envelope id of the run it was saved from.
    pub envelope: String,
    pub cases: Vec<BaselineCase>,
    /// What the operational signals compare with: tier mix, refusals, output lengths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signals: Option<SignalBaseline>,
}

/// One case's result in the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BaselineCase {
    pub case: String,
    pub verdict: Verdict,
    pub samples: u32,
    pub passes: u32,
}

impl Baseline {
    /// The baseline of a run: each case's latest record, and its samples' signals.
    pub(crate) fn of(
        suite: &str,
        envelope: String,
        cases: &[CaseRecord],
        samples: &[SampleRecord],
    ) -> Baseline {
        let mut cases: Vec<BaselineCase> = cases
            .iter()
            .map(|c| BaselineCase {
                case: c.case.clone(),
                verdict: c.verdict,
                samples: c.samples,
                passes: c.passes,
            })
            .collect();
        cases.sort_by(|a, b| a.case.cmp(&b.case));
        Baseline {
            schema: SCHEMA_VERSION,
            suite: suite.to_string(),
            saved_at: jiff::Timestamp::now(),
            envelope,
            cases,
            signals: (!samples.is_empty()).then(|| SignalBaseline::of(samples)),
        }
    }

    pub(crate) fn save(&self, path: &Path) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("serializing the baseline failed: {e}")))?;
        write_atomic(path, &json)
    }

    /// Loads the baseline at `path` for suite `suite`: another suite's baseline, or one of
    /// another schema, is an error — never a silent comparison with the wrong thing.
    pub(crate) fn load(path: &Path, suite: &str) -> Result<Baseline, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Usage(format!(
                "{}: cannot read the baseline ({e}); save one on the main branch with `evalgate baseline save --to {}`",
                path.display(),
                path.display()
            ))
        })?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{}: not a baseline file: {e}", path.display())))?;
        let schema = value.get("schema").and_then(serde_json::Value::as_u64);
        if schema != Some(u64::from(SCHEMA_VERSION)) {
            return Err(Error::Usage(format!(
                "{}: baseline schema {} is not the schema of this evalgate ({SCHEMA_VERSION}); save it again with `evalgate baseline save`",
                path.display(),
                schema.map_or("(none)".to_string(), |s| s.to_string())
            )));
        }
        let baseline: Baseline = serde_json::from_value(value)
            .map_err(|e| Error::Usage(format!("{}: not a baseline file: {e}", path.display())))?;
        if baseline.suite != suite {
            return Err(Error::Usage(format!(
                "{}: the baseline is of suite `{}`, this run of suite `{suite}`",
                path.display(),
                baseline.suite
            )));
        }
        Ok(baseline)
    }
}
