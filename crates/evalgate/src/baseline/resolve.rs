//! Which baseline a run is compared with, resolved once: the pooled recent runs of a branch
//! in the history store, else the committed file; and the baseline itself, each case's
//! pooled samples.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic_file::write_atomic;
use crate::config::baseline::BaselinePolicy;
use crate::errors::{DataError, Error};
use crate::history::{HistoryStore, PoolQuery, Pooled, RunRow, axes_key};
use crate::record::{CaseRecord, SCHEMA_VERSION, SampleRecord};
use crate::signals::SignalBaseline;
use crate::stats::Evidence;
use crate::terminal::shown;
use crate::verdict::Verdict;

/// What a run is compared with.
#[derive(Debug)]
pub enum Resolved {
    /// The baseline, and what it is as shown to users.
    Found(Box<Baseline>, String),
    /// The run is on the baseline branch and history holds no earlier run of it: there is
    /// nothing to compare with yet, and later runs compare with this one. Why, for users.
    FirstOfBranch(String),
}

/// The run being compared, as far as choosing its baseline goes.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub suite: &'a str,
    /// Its processes' run ids: never its own baseline.
    pub run_ids: &'a [&'a str],
    pub branch: Option<&'a str>,
    /// Runs of the same commit are attempts of this run, not its baseline.
    pub commit: Option<&'a str>,
    /// The envelope axes it forced on the agent.
    pub axes: &'a BTreeMap<String, String>,
    /// When it started: the window's age is counted back from here.
    pub started: jiff::Timestamp,
    /// Only these cases are needed (one nextest process); `None`: all.
    pub cases: Option<&'a [&'a str]>,
}

/// The baseline a run is compared with.
///
/// With a `branch`, the branch's recent runs in `history` pooled case by case; else, or
/// when history (off, or unreadable: `None`) has none, the file at `path`. Neither: an
/// error, so a comparison never passes on nothing — except for the first run of the
/// baseline branch itself, which has nothing to regress against.
pub fn resolve(
    policy: &BaselinePolicy,
    subject: &Subject,
    history: Option<&HistoryStore>,
) -> Result<Resolved, Error> {
    let mut looked = None;
    if let Some(branch) = &policy.branch {
        match history {
            Some(store) => match pool(policy, branch, subject, store)? {
                Ok(found) => return Ok(found),
                Err(why) => looked = Some(why),
            },
            None => {
                looked = Some(format!(
                    "there is no history store to pool the recent runs of `{branch}` from \
                     ({}, or it could not be read)",
                    crate::history::OFF_BECAUSE
                ));
            }
        }
    }
    match (&policy.path, looked) {
        (Some(path), _) => {
            let baseline = Baseline::load(path, subject.suite)?;
            baseline.check_axes(path, subject.axes)?;
            Ok(Resolved::Found(Box::new(baseline), shown(path)))
        }
        (None, Some(why)) => Err(Error::Usage(format!(
            "no baseline to compare with: {why}; run the suite on `{}` with the same history \
             store first (in CI, restore it from the cache), or also name a committed \
             `baseline.path`{}",
            policy.branch.as_deref().unwrap_or_default(),
            policy
                .branch_at
                .as_deref()
                .map(|at| format!(" ({at})"))
                .unwrap_or_default()
        ))),
        (None, None) => Err(Error::Internal(
            "a baseline policy with neither path nor branch".into(),
        )),
    }
}

/// The pooled baseline of `branch`, or why there is none (`Err` inside: look elsewhere).
fn pool(
    policy: &BaselinePolicy,
    branch: &str,
    subject: &Subject,
    store: &HistoryStore,
) -> Result<Result<Resolved, String>, Error> {
    let axes = (!subject.axes.is_empty()).then(|| axes_key(subject.axes));
    let since = subject
        .started
        .checked_sub(jiff::SignedDuration::from_secs(
            i64::try_from(policy.max_age_s).unwrap_or(i64::MAX),
        ))
        .unwrap_or(jiff::Timestamp::MIN);
    let pooled = store.pooled_baseline(&PoolQuery {
        suite: subject.suite,
        branch,
        excluding: subject.run_ids,
        commit: subject.commit,
        axes: axes.as_deref(),
        window: policy.window,
        since,
        cases: subject.cases,
    })?;
    let held = shown(store.path());
    let why = match pooled {
        Pooled::Found { runs, cases, held } => {
            let latest = &runs[0];
            let samples = store.sample_records_of_run(&latest.run_id)?;
            let source = pooled_source(branch, &runs, policy.window);
            let mut baseline =
                Baseline::pooled(subject.suite, latest, subject.axes, &cases, &samples, &runs);
            baseline.held = held;
            return Ok(Ok(Resolved::Found(Box::new(baseline), source)));
        }
        Pooled::Stale(run) => format!(
            "the latest run of `{branch}` in {held} ({}) started more than `baseline.max_age` \
             ({}) before this run",
            run.run_id,
            crate::duration::show(policy.max_age())
        ),
        Pooled::OtherAxes(run) => format!(
            "the runs of `{branch}` in {held} were made under other envelope axes (the latest, \
             {}, under {}; this run under {}): another agent is no baseline",
            run.run_id,
            axes_words(&run_axes(store, &run)?),
            axes_words(subject.axes)
        ),
        Pooled::Nothing => {
            if policy.path.is_none() && subject.branch == Some(branch) {
                return Ok(Ok(Resolved::FirstOfBranch(format!(
                    "the first run of `{branch}` in {held}: nothing earlier to compare with; \
                     later runs compare with this one"
                ))));
            }
            format!(
                "{held} holds no finished run of suite `{}` on branch `{branch}`",
                subject.suite
            )
        }
    };
    Ok(Err(why))
}

/// How a pooled baseline is shown: the branch, how many runs, the latest's id, date and commit.
fn pooled_source(branch: &str, runs: &[RunRow], window: u32) -> String {
    let latest = &runs[0];
    format!(
        "the {} latest run{} of `{branch}` in history (window {window}; latest {}, {}{}; envelope {})",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        latest.run_id,
        latest.started_at.strftime("%Y-%m-%d %H:%M UTC"),
        latest
            .commit
            .as_deref()
            .map(|c| format!(", commit {}", short_commit(c)))
            .unwrap_or_default(),
        latest.envelope_id
    )
}

/// The first 12 characters of a commit id, as reports show it.
pub fn short_commit(commit: &str) -> String {
    commit.chars().take(12).collect()
}

/// The forced axes a run recorded.
fn run_axes(store: &HistoryStore, run: &RunRow) -> Result<BTreeMap<String, String>, Error> {
    Ok(store.run_axes(&run.run_id)?.unwrap_or_default())
}

fn axes_words(axes: &BTreeMap<String, String>) -> String {
    if axes.is_empty() {
        return "none".to_string();
    }
    axes.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A baseline file (JSON), or a baseline pooled from history in the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Baseline {
    pub schema: u32,
    pub suite: String,
    pub saved_at: jiff::Timestamp,
    /// The envelope id of the run it was saved from (of the runs pooled).
    pub envelope: String,
    /// The envelope axes those runs forced on the agent (`EVALGATE_AXES`), when any: a run
    /// under other axes is compared with another agent, which is refused.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub axes: BTreeMap<String, String>,
    /// The runs pooled, newest first (a pooled baseline only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<String>,
    pub cases: Vec<BaselineCase>,
    /// What the operational signals compare with: tier mix, refusals, output lengths (of
    /// the latest run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signals: Option<SignalBaseline>,
    /// How many cases the baseline holds in all, when only some were read (one nextest
    /// process reads its own case's): the number of comparisons a run may make.
    #[serde(skip)]
    held: usize,
}

/// One case's result in the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BaselineCase {
    pub case: String,
    /// Its verdict in the (latest) run.
    pub verdict: Verdict,
    /// Samples that answered, over every run pooled (errored samples are no evidence).
    pub samples: u32,
    pub passes: u32,
    /// How many runs were pooled for it.
    #[serde(default = "one")]
    pub runs: u32,
}

fn one() -> u32 {
    1
}

impl BaselineCase {
    /// Its evidence: passes out of answered samples. A case that errored in the one run a
    /// baseline holds is none: baseline files saved before they counted answered samples
    /// only counted its errored samples as failures.
    pub fn evidence(&self) -> Evidence {
        if self.verdict == Verdict::Error && self.runs <= 1 {
            return (0, 0);
        }
        (self.passes.min(self.samples), self.samples)
    }
}

impl Baseline {
    /// The baseline of one run: each case's latest record, and its samples' signals.
    pub fn of(
        suite: &str,
        envelope: String,
        axes: &BTreeMap<String, String>,
        cases: &[CaseRecord],
        samples: &[SampleRecord],
    ) -> Baseline {
        let mut cases: Vec<BaselineCase> = cases
            .iter()
            .map(|c| BaselineCase {
                case: c.case.clone(),
                verdict: c.verdict,
                samples: c.passes + c.failures,
                passes: c.passes,
                runs: 1,
            })
            .collect();
        cases.sort_by(|a, b| a.case.cmp(&b.case));
        Baseline {
            schema: SCHEMA_VERSION,
            suite: suite.to_string(),
            saved_at: jiff::Timestamp::now(),
            envelope,
            axes: axes.clone(),
            runs: Vec::new(),
            cases,
            signals: (!samples.is_empty()).then(|| SignalBaseline::of(samples)),
            held: 0,
        }
    }

    /// A baseline pooled from `runs` (newest first): each case's samples summed.
    fn pooled(
        suite: &str,
        latest: &RunRow,
        axes: &BTreeMap<String, String>,
        cases: &[crate::history::PooledCase],
        latest_samples: &[SampleRecord],
        runs: &[RunRow],
    ) -> Baseline {
        Baseline {
            schema: SCHEMA_VERSION,
            suite: suite.to_string(),
            saved_at: latest.started_at,
            envelope: latest.envelope_id.clone(),
            axes: axes.clone(),
            runs: runs.iter().map(|r| r.run_id.clone()).collect(),
            cases: cases
                .iter()
                .map(|c| BaselineCase {
                    case: c.case.clone(),
                    verdict: c.latest,
                    samples: c.answered,
                    passes: c.passes,
                    runs: c.runs,
                })
                .collect(),
            signals: (!latest_samples.is_empty()).then(|| SignalBaseline::of(latest_samples)),
            held: 0,
        }
    }

    /// How many cases the baseline holds: the most comparisons a run can make against it.
    pub fn held_cases(&self) -> usize {
        self.held.max(self.cases.len())
    }

    /// The case `id`, if the baseline holds it.
    pub fn case(&self, id: &str) -> Option<&BaselineCase> {
        self.cases
            .binary_search_by(|c| c.case.as_str().cmp(id))
            .ok()
            .map(|i| &self.cases[i])
    }

    pub fn save(&self, path: &Path) -> Result<(), Error> {
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
            .map_err(|e| DataError::new(path, format!("not a baseline file: {e}")).caused_by(e))?;
        let schema = value.get("schema").and_then(serde_json::Value::as_u64);
        if schema != Some(u64::from(SCHEMA_VERSION)) {
            return Err(DataError::new(
                path,
                format!(
                    "baseline schema {} is not the schema of this evalgate ({SCHEMA_VERSION}); \
                     save it again with `evalgate baseline save`",
                    schema.map_or("(none)".to_string(), |s| s.to_string())
                ),
            )
            .into());
        }
        let mut baseline: Baseline = serde_json::from_value(value)
            .map_err(|e| DataError::new(path, format!("not a baseline file: {e}")).caused_by(e))?;
        if baseline.suite != suite {
            return Err(Error::Usage(format!(
                "{}: the baseline is of suite `{}`, this run of suite `{suite}`",
                path.display(),
                baseline.suite
            )));
        }
        baseline.cases.sort_by(|a, b| a.case.cmp(&b.case));
        Ok(baseline)
    }

    /// Refuses a baseline made under other forced envelope axes than the run's.
    fn check_axes(&self, path: &Path, axes: &BTreeMap<String, String>) -> Result<(), Error> {
        if &self.axes == axes {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "{}: the baseline was saved from a run under envelope axes {}, this run is under \
             {} (EVALGATE_AXES): it would compare another agent; save the baseline from a run \
             under the same axes",
            path.display(),
            axes_words(&self.axes),
            axes_words(axes)
        )))
    }
}

#[cfg(test)]
mod tests;
