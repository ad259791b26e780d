//! The history store and the decay report, as sinks of a run's records: the records are
//! ingested into the store first, so saturation and discrimination are judged with this run
//! in the history.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::attempts::{self, Attempts};
use super::{Summary, shown};
use crate::baseline::{self, Resolved};
use crate::decay::{CaseHistory, DecayContext, DecayInputs, DecayReport, VerdictAt, assess};
use crate::env::HistoryVar;
use crate::envelope::RunEnvelope;
use crate::errors::Error;
use crate::history::HistoryStore;
use crate::memory::{self, MemoryReport, ReferenceRun};
use crate::record::{RerunRecord, RunData};
use crate::verdict::Verdict;

/// Where the history store is: `$EVALGATE_HISTORY` (`off` for none), else the suite's
/// `history.path`, else `history.sqlite` in the output folder.
pub fn history_path(suite_path: Option<&Path>, out_dir: &Path) -> Result<Option<PathBuf>, Error> {
    let from_env = crate::env::history()?;
    if !crate::history::AVAILABLE {
        // The suite file may be shared with the command line, which keeps history: its
        // `history.path` is not an error here. Asking for a store by name is.
        return match from_env {
            HistoryVar::Path(path) => Err(Error::Usage(format!(
                "{}={} names a history store, but {}",
                crate::env::HISTORY,
                path.display(),
                crate::history::OFF_BECAUSE
            ))),
            HistoryVar::Unset | HistoryVar::Off => Ok(None),
        };
    }
    match from_env {
        HistoryVar::Off => return Ok(None),
        HistoryVar::Path(path) => return Ok(Some(path)),
        HistoryVar::Unset => {}
    }
    Ok(Some(match suite_path {
        Some(path) => path.to_path_buf(),
        None => crate::layout::Layout::new(out_dir).history(),
    }))
}

/// What ingesting and judging gave.
pub(crate) struct Judged {
    /// `None` when the suite's facts are unknown (every process ran with `--exact` and no
    /// evals folder was found).
    pub decay: Option<DecayReport>,
    /// The store ingested into, unless history is off.
    pub history: Option<PathBuf>,
    /// A broken history store or production sample: reported after every other report is
    /// written, so a finished run never loses its JUnit to it.
    pub problem: Option<Error>,
    /// The baseline, when the suite names one: found while the store is open.
    pub baseline: Option<Result<Resolved, Error>>,
    /// `evalgate rerun`s of the suite's cases in the [`RERUNS_LISTED_FOR`] before the run.
    pub reruns: Vec<RerunRecord>,
    /// The run's memory compared with a reference run of the history, when any sample
    /// reported memory or probed recall.
    pub memory: Option<MemoryReport>,
    /// The run's earlier attempts (runs of the same commit and envelope), or why they were
    /// not looked for.
    pub attempts: Result<Option<Attempts>, String>,
    /// The store, open, to keep the run's outcome in once its gates are known.
    pub store: Option<HistoryStore>,
}

/// How far back a report lists reruns: long enough to cover the life of a pull request.
pub(crate) const RERUNS_LISTED_FOR: jiff::SignedDuration =
    jiff::SignedDuration::from_hours(30 * 24);

/// Ingests `data` into the history store (its verdicts, this suite's runs only) and judges
/// decay.
pub(crate) fn ingest_and_judge(
    data: &RunData,
    summary: &Summary,
    out_dir: &Path,
) -> Result<Judged, Error> {
    let context = data.policy.as_ref().and_then(|p| p.decay.as_ref());
    let history_path = history_path(context.and_then(|c| c.history.as_deref()), out_dir)?;
    let suite = data.runs.first().map(|r| r.suite.as_str());
    let this_run = ThisRun::of(data);
    let mut problem = None;
    let mut store = None;
    let history = match &history_path {
        Some(path) => match ingest(path, data, suite, context) {
            Ok((opened, history)) => {
                store = Some(opened);
                Some(Ok(history))
            }
            Err(e) => {
                let why = e.to_string();
                problem = Some(e);
                Some(Err(why))
            }
        },
        None => None,
    };
    let reruns = match (&store, suite) {
        (Some(store), Some(suite)) => kept(recent_reruns(store, suite, &this_run), &mut problem),
        _ => None,
    }
    .unwrap_or_default();
    let baseline = data
        .policy
        .as_ref()
        .and_then(|p| p.baseline.as_ref())
        .map(|policy| baseline::resolve(policy, &this_run.subject(), store.as_ref()));
    let attempts = match &store {
        None if history_path.is_none() => Err(crate::history::OFF_BECAUSE.to_string()),
        None => Err("the history store could not be used".to_string()),
        Some(store) => {
            let found = match (
                &baseline,
                data.policy.as_ref().and_then(|p| p.baseline.as_ref()),
            ) {
                (Some(Ok(Resolved::Found(b, _))), Some(policy)) => Some((&**b, policy)),
                _ => None,
            };
            attempts::find(data, summary, &this_run.envelope.id, store, found).unwrap_or_else(|e| {
                let why = e.to_string();
                problem.get_or_insert(e);
                Err(why)
            })
        }
    };
    let judged_memory = judge_memory(
        data,
        &this_run,
        suite,
        store.as_ref(),
        history_path.is_some(),
    );
    let memory = kept(judged_memory, &mut problem).flatten();
    let Some(context) = context else {
        return Ok(Judged {
            decay: None,
            history: history_path,
            problem,
            baseline,
            reruns,
            memory,
            attempts,
            store,
        });
    };
    let (decay, production_problem) = assess(DecayInputs {
        context,
        date: this_run.started.to_zoned(jiff::tz::TimeZone::UTC).date(),
        envelope: this_run.envelope,
        passing: summary
            .cases
            .iter()
            .filter(|c| c.verdict == Verdict::Pass)
            .map(|c| c.case.as_str())
            .collect(),
        history,
    });
    Ok(Judged {
        decay: Some(decay),
        history: history_path,
        problem: problem.or(production_problem),
        baseline,
        reruns,
        memory,
        attempts,
        store,
    })
}

/// `result`'s value, or None with its error kept in `problem` (the first one kept): one
/// part of the report that could not be made does not stop the others.
fn kept<T>(result: Result<T, Error>, problem: &mut Option<Error>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            problem.get_or_insert(e);
            None
        }
    }
}

/// The `evalgate rerun`s of `suite`'s cases on this run's branch in the last
/// [`RERUNS_LISTED_FOR`].
fn recent_reruns(
    store: &HistoryStore,
    suite: &str,
    this_run: &ThisRun,
) -> Result<Vec<RerunRecord>, Error> {
    let now = jiff::Timestamp::now();
    let since = now.checked_sub(RERUNS_LISTED_FOR).unwrap_or(now);
    store.reruns_of(suite, since, now, this_run.branch)
}

/// What the history's judgements need to know of the run being reported (its suite, its
/// processes' run ids, when it started, its branch and commit, the envelope it ran under and
/// the axes it forced), worked out once.
pub(super) struct ThisRun<'a> {
    suite: &'a str,
    ids: Vec<&'a str>,
    started: jiff::Timestamp,
    branch: Option<&'a str>,
    commit: Option<&'a str>,
    axes: &'a BTreeMap<String, String>,
    envelope: RunEnvelope,
}

/// The axes of a run that forced none.
static NO_AXES: BTreeMap<String, String> = BTreeMap::new();

impl<'a> ThisRun<'a> {
    pub(super) fn of(data: &'a RunData) -> ThisRun<'a> {
        ThisRun {
            suite: data.runs.first().map_or("", |r| r.suite.as_str()),
            ids: data.runs.iter().map(|r| r.run_id.as_str()).collect(),
            started: data
                .runs
                .iter()
                .map(|r| r.started_at)
                .min()
                .unwrap_or_else(jiff::Timestamp::now),
            branch: data.runs.iter().find_map(|r| r.branch.as_deref()),
            commit: data.runs.iter().find_map(|r| r.commit.as_deref()),
            axes: data
                .runs
                .iter()
                .find(|r| !r.axes.is_empty())
                .map_or(&NO_AXES, |r| &r.axes),
            envelope: RunEnvelope::of_run(&data.runs, &data.samples),
        }
    }

    /// The run as a baseline's subject: every case.
    pub(super) fn subject(&self) -> baseline::Subject<'_> {
        baseline::Subject {
            suite: self.suite,
            run_ids: &self.ids,
            branch: self.branch,
            commit: self.commit,
            axes: self.axes,
            started: self.started,
            cases: None,
        }
    }
}

/// The run's memory, each case against the latest earlier run that holds it — not a run
/// of the same commit under the same envelope (a re-run) — with a baseline branch, of that
/// branch (so a pull request stays red until the branch accepts the change); else of any
/// branch.
fn judge_memory(
    data: &RunData,
    this_run: &ThisRun,
    suite: Option<&str>,
    store: Option<&HistoryStore>,
    history_on: bool,
) -> Result<Option<MemoryReport>, Error> {
    let policy = data.policy.as_ref().map(|p| p.memory).unwrap_or_default();
    let now = &this_run.envelope.envelope;
    let Some(store) = store else {
        let note = if history_on {
            "the history store could not be used"
        } else {
            crate::history::OFF_BECAUSE
        };
        return Ok(memory::compare(
            policy,
            &data.samples,
            now,
            &[],
            None,
            Some(note.into()),
        ));
    };
    let mut cases: Vec<&str> = data.samples.iter().map(|s| s.case.as_str()).collect();
    cases.sort_unstable();
    cases.dedup();
    let branch = data
        .policy
        .as_ref()
        .and_then(|p| p.baseline.as_ref())
        .and_then(|b| b.branch.as_deref());
    // A run of the same commit under the same envelope is this run again (a CI job
    // re-run): never the reference, or re-running a red job would turn it green.
    let commit = data.runs.iter().find_map(|r| r.commit.as_deref());
    let references = store
        .memory_references(
            suite.unwrap_or(""),
            &cases,
            this_run.started,
            &this_run.ids,
            branch,
            commit.map(|c| (c, this_run.envelope.id.as_str())),
        )?
        .into_iter()
        .map(|(run, samples)| ReferenceRun {
            run_id: run.run_id,
            started_at: run.started_at,
            envelope: run.envelope,
            samples,
        })
        .collect::<Vec<_>>();
    let chosen = match branch {
        Some(branch) => format!("the latest earlier run of `{branch}` holding it"),
        None => "the latest earlier run holding it".to_string(),
    };
    Ok(memory::compare(
        policy,
        &data.samples,
        now,
        &references,
        Some(chosen),
        None,
    ))
}

/// Ingests `data` and reads back every verdict of `suite`'s runs, oldest first, and the
/// day each of its cases first ran — only when a case of the suite was never reviewed (the
/// one detector that needs it; a query over every case record of the store): another suite
/// sharing the store is not this suite's history.
fn ingest(
    path: &Path,
    data: &RunData,
    suite: Option<&str>,
    context: Option<&DecayContext>,
) -> Result<(HistoryStore, CaseHistory), Error> {
    let mut store = HistoryStore::open(path)?;
    store.ingest(data)?;
    let never_reviewed = context.is_some_and(|c| c.active().any(|case| case.reviewed.is_none()));
    let (rows, first_runs) = match suite {
        Some(suite) if never_reviewed => {
            (store.case_verdicts_of(suite)?, store.first_runs_of(suite)?)
        }
        Some(suite) => (store.case_verdicts_of(suite)?, BTreeMap::new()),
        None => (store.case_verdicts()?, BTreeMap::new()),
    };
    let first_runs = first_runs
        .into_iter()
        .map(|(case, at)| (case, at.to_zoned(jiff::tz::TimeZone::UTC).date()))
        .collect();
    let verdicts = rows
        .into_iter()
        .map(|row| VerdictAt {
            case: row.case,
            envelope_id: row.envelope_id,
            verdict: row.verdict,
        })
        .collect();
    Ok((
        store,
        CaseHistory {
            path: shown(path),
            verdicts,
            first_runs,
        },
    ))
}

/// Before any agent call: the history store opens (a corrupt, foreign or newer file is
/// refused now, not after the run) and the production sample exists. Its lines are read
/// only when judging, after the run.
pub fn preflight(
    suite_history: Option<&Path>,
    production: Option<&Path>,
    out_dir: &Path,
) -> Result<(), Error> {
    if let Some(path) = history_path(suite_history, out_dir)? {
        HistoryStore::open(&path)?;
    }
    if let Some(path) = production
        && !path.is_file()
    {
        return Err(Error::Usage(format!(
            "{}: the production sample (`decay.production.path`) does not exist",
            path.display()
        )));
    }
    Ok(())
}
