//! Rerunning to green, made visible: the earlier runs of the same commit under the same
//! envelope are attempts of the same thing. A green run after red attempts is reported as
//! such, with every case's samples pooled over all attempts and the `evalgate rerun`s of
//! that commit — a failure does not disappear because a later attempt passed — and the
//! `runs.reruns_to_green` gate counts the red attempts before it.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::Summary;
use super::coverage_text::printable;
use crate::baseline::{Baseline, BaselinePolicy};
use crate::errors::Error;
use crate::history::{HistoryStore, axes_key};
use crate::record::{RerunRecord, RunData};
use crate::stats::fisher_exact_drop;

/// This run's earlier attempts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Attempts {
    pub commit: String,
    pub envelope: String,
    /// The earlier attempts, oldest first.
    pub earlier: Vec<EarlierAttempt>,
    /// The ids of the `evalgate rerun`s of the same commit and envelope.
    pub reruns: Vec<String>,
    /// The cases that failed in any attempt or rerun, with their samples pooled over all of
    /// them (this run's included).
    pub pooled: Vec<PooledEvidence>,
}

/// One earlier attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EarlierAttempt {
    pub run_id: String,
    pub started_at: jiff::Timestamp,
    /// How it ended; `None` when no outcome was kept (its reports were written by an older
    /// evalgate).
    pub red: Option<bool>,
}

/// One case's samples pooled over every attempt and rerun.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PooledEvidence {
    pub case: String,
    pub passes: u32,
    pub answered: u32,
    /// In how many attempts (reruns included) some sample of it failed, of how many held it.
    pub failed_in: u32,
    pub held_in: u32,
    /// Against the baseline, when there is one and it holds the case: the one-sided p-value
    /// of a drop on the pooled samples, adjusted over the cases the baseline holds. A
    /// fixed-sample test on samples that were not taken as one fixed sample (attempts stop
    /// when one is green): an indication, which no gate uses.
    pub p_value: Option<f64>,
    pub adjusted_p: Option<f64>,
    /// The pooled samples show a drop (adjusted p ≤ α).
    pub regression: bool,
}

impl Attempts {
    /// The earlier attempts that ended red.
    pub fn red_before(&self) -> usize {
        self.earlier.iter().filter(|a| a.red == Some(true)).count()
    }
}

/// The earlier attempts of the run in `data`, when its commit names the checkout exactly
/// (CI, `EVALGATE_COMMIT`; on a developer's machine the working tree may differ between
/// runs of one commit); `None` when there are neither attempts nor reruns of it. Why they
/// were not looked for, when they were not.
pub(super) fn find(
    data: &RunData,
    summary: &Summary,
    envelope: &str,
    store: &HistoryStore,
    baseline: Option<(&Baseline, &BaselinePolicy)>,
) -> Result<Result<Option<Attempts>, String>, Error> {
    let Some(run) = data
        .runs
        .iter()
        .find(|r| r.commit.is_some() && r.commit_exact)
    else {
        return Ok(Err(
            "the run's commit is unknown, or does not name the checkout exactly (it came \
             from `.git`, whose working tree may differ between runs; CI's GITHUB_SHA or \
             CI_COMMIT_SHA, or EVALGATE_COMMIT, do)"
                .into(),
        ));
    };
    let commit = run.commit.as_deref().unwrap_or_default();
    let axes = data
        .runs
        .iter()
        .find(|r| !r.axes.is_empty())
        .map(|r| axes_key(&r.axes));
    let ids: Vec<&str> = data.runs.iter().map(|r| r.run_id.as_str()).collect();
    let started = data
        .runs
        .iter()
        .map(|r| r.started_at)
        .min()
        .unwrap_or(run.started_at);
    let earlier = store.attempts(&run.suite, commit, envelope, axes.as_deref(), &ids, started)?;
    let reruns = store.reruns_at(&run.suite, commit, envelope)?;
    if earlier.is_empty() && reruns.is_empty() {
        return Ok(Ok(None));
    }
    let earlier_ids: Vec<&str> = earlier.iter().map(|a| a.run_id.as_str()).collect();
    let pooled = pool(summary, store.case_counts(&earlier_ids)?, &reruns);
    let mut evidence = pooled_evidence(pooled, baseline);
    if let Some((baseline, policy)) = baseline {
        adjust(&mut evidence, baseline, policy);
    }
    Ok(Ok(Some(Attempts {
        commit: commit.to_string(),
        envelope: envelope.to_string(),
        earlier: earlier
            .into_iter()
            .map(|a| EarlierAttempt {
                run_id: a.run_id,
                started_at: a.started_at,
                red: a.red,
            })
            .collect(),
        reruns: reruns.into_iter().map(|r| r.rerun_id).collect(),
        pooled: evidence,
    })))
}

/// Per case, its samples pooled over this run, the earlier attempts (`counts`: run, case,
/// passes, failures) and the reruns: (passes, answered, attempts it failed in, attempts
/// it was held in).
fn pool(
    summary: &Summary,
    counts: Vec<(String, String, u32, u32)>,
    reruns: &[RerunRecord],
) -> BTreeMap<String, (u32, u32, u32, u32)> {
    let mut pooled: BTreeMap<String, (u32, u32, u32, u32)> = BTreeMap::new();
    let mut add = |case: &str, passes: u32, failures: u32| {
        let entry = pooled.entry(case.to_string()).or_default();
        entry.0 += passes;
        entry.1 += passes + failures;
        entry.2 += u32::from(failures > 0);
        entry.3 += 1;
    };
    for case in &summary.cases {
        add(&case.case, case.passes, case.failures);
    }
    for (_, case, passes, failures) in counts {
        add(&case, passes, failures);
    }
    for rerun in reruns {
        add(&rerun.case, rerun.passes, rerun.failures);
    }
    pooled
}

/// The pooled evidence of each case that failed in some attempt, with its p-value against
/// the baseline when there is one.
fn pooled_evidence(
    pooled: BTreeMap<String, (u32, u32, u32, u32)>,
    baseline: Option<(&Baseline, &BaselinePolicy)>,
) -> Vec<PooledEvidence> {
    pooled
        .into_iter()
        .filter(|(_, (_, _, failed_in, _))| *failed_in > 0)
        .map(|(case, (passes, answered, failed_in, held_in))| {
            let p_value = baseline
                .and_then(|(b, _)| b.case(&case))
                .filter(|then| then.samples > 0)
                .map(|then| {
                    fisher_exact_drop(
                        u64::from(then.passes),
                        u64::from(then.samples - then.passes),
                        u64::from(passes),
                        u64::from(answered - passes),
                    )
                });
            PooledEvidence {
                case,
                passes,
                answered,
                failed_in,
                held_in,
                p_value,
                adjusted_p: None,
                regression: false,
            }
        })
        .collect()
}

/// Adjusts the p-values over every case the baseline holds (pooling chose which cases to
/// show, not how many comparisons there are), and marks the regressions.
fn adjust(evidence: &mut [PooledEvidence], baseline: &Baseline, policy: &BaselinePolicy) {
    let m = baseline.held_cases().max(1);
    let compared: Vec<usize> = (0..evidence.len())
        .filter(|&i| evidence[i].p_value.is_some())
        .collect();
    let mut p: Vec<f64> = compared
        .iter()
        .map(|&i| evidence[i].p_value.unwrap_or(1.0))
        .collect();
    p.resize(m.max(p.len()), 1.0);
    let adjusted = policy.correction.adjust(&p);
    for (k, &i) in compared.iter().enumerate() {
        evidence[i].adjusted_p = Some(adjusted[k]);
        evidence[i].regression = adjusted[k] <= policy.alpha;
    }
}

/// The terminal section: which attempt this is, and when it is green after red ones, the
/// evidence pooled over all of them.
pub(super) fn render(attempts: &Attempts, green: bool, text: &mut String) {
    let red = attempts.red_before();
    let _ = write!(
        text,
        "\nevalgate: attempt {} of commit {} under envelope {}: {} earlier attempt(s), {red} red{}",
        attempts.earlier.len() + 1,
        short(&attempts.commit),
        attempts.envelope,
        attempts.earlier.len(),
        if attempts.reruns.is_empty() {
            String::new()
        } else {
            format!(", {} `evalgate rerun`(s)", attempts.reruns.len())
        }
    );
    if green && red > 0 {
        let _ = write!(
            text,
            "\n  green after {red} red attempt(s): rerunning until green hides failures; \
             the samples of every attempt, pooled:"
        );
    } else if !attempts.pooled.is_empty() {
        let _ = write!(text, "\n  pooled over every attempt:");
    }
    for case in &attempts.pooled {
        let _ = write!(text, "\n    {}", evidence_line(case));
    }
}

/// `refunds/x: 3/5 pooled, failed in 2 of 3 attempts (p = …, adjusted …) — regression`.
pub(super) fn evidence_line(case: &PooledEvidence) -> String {
    let p = match (case.p_value, case.adjusted_p) {
        (Some(p), Some(a)) => format!(", against the baseline p = {p:.4}, adjusted {a:.4}"),
        _ => String::new(),
    };
    format!(
        "{}: {}/{} pooled, failed in {} of {} attempt(s){p}{}",
        printable(&case.case),
        case.passes,
        case.answered,
        case.failed_in,
        case.held_in,
        if case.regression {
            " — the pooled samples show a drop"
        } else {
            ""
        }
    )
}

fn short(commit: &str) -> String {
    crate::baseline::short_commit(commit)
}
