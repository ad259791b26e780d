//! Comparing a run with its baseline, case by case, with the error rate controlled over
//! the whole run: each compared case gets a one-sided p-value for a drop in its pass rate
//! (valid for how its samples were taken, see [`super::judge`]), the p-values are adjusted
//! for the number of cases compared (Holm, or Benjamini–Hochberg), and a case that does not
//! pass its rule now is a regression when its adjusted p-value is at most α. With nothing
//! changed, a run calls any regression with probability at most α.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::Serialize;

use super::judge::{SampleDesign, test_case};
use super::{Baseline, BaselineCase, BaselinePolicy};
use crate::record::{CaseRecord, SampleRecord};
use crate::stats::Correction;
use crate::verdict::{SampleVerdict, Verdict};

/// What happened to a case since the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Its pass rate dropped significantly (adjusted p ≤ α), whatever its own rule says.
    Regression,
    /// Does not pass now, passed in the baseline's latest run, and the samples cannot tell
    /// a real drop from noise.
    NotEnoughSamples,
    /// Errored now: not compared (an error is never a pass, and is no evidence either way).
    Errored,
    /// Failed in the baseline's latest run, passes now.
    Fix,
    /// Does not pass now, and did not in the baseline's latest run either.
    StillFailing,
    /// Passes, with some samples failing, and no significant drop.
    Flaky,
    Unchanged,
    /// Not in the baseline.
    New,
    /// In the baseline, not in this run.
    Removed,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Change::Regression => "regression",
            Change::NotEnoughSamples => "not enough samples to tell",
            Change::Errored => "errored",
            Change::Fix => "fix",
            Change::StillFailing => "still failing",
            Change::Flaky => "flaky",
            Change::Unchanged => "unchanged",
            Change::New => "new",
            Change::Removed => "removed",
        })
    }
}

/// One case's comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CaseChange {
    pub case: String,
    pub change: Change,
    /// `passes/answered` in the baseline (pooled over its runs) and now.
    pub baseline: Option<(u32, u32)>,
    pub current: Option<(u32, u32)>,
    /// How many runs the baseline pooled for the case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_runs: Option<u32>,
    /// The one-sided p-value of a drop, valid for how the samples were taken.
    pub p_value: Option<f64>,
    /// The p-value adjusted for the cases compared (what is held against α).
    pub adjusted_p: Option<f64>,
    /// The case file and line, when the case ran.
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// The comparison of a run with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BaselineComparison {
    /// What the run was compared with, as shown to users: the baseline file, or the runs
    /// of the baseline branch pooled from history.
    pub source: String,
    /// The run-level error rate.
    pub alpha: f64,
    pub correction: Correction,
    /// How many cases were compared (the number of comparisons adjusted for).
    pub compared: usize,
    pub counts: BTreeMap<Change, usize>,
    /// Every case, regressions first.
    pub cases: Vec<CaseChange>,
}

impl BaselineComparison {
    pub fn count(&self, change: Change) -> usize {
        self.counts.get(&change).copied().unwrap_or(0)
    }
}

/// Compares `cases` (each case's latest record) and their `samples` with `baseline`
/// under `policy`. `partial`: the run is not the whole suite, so a case missing from it is
/// not "removed".
pub fn compare(
    baseline: &Baseline,
    source: String,
    cases: &[CaseRecord],
    samples: &[SampleRecord],
    policy: &BaselinePolicy,
    partial: bool,
) -> BaselineComparison {
    let threshold = policy.alpha / baseline.held_cases().max(1) as f64;
    let mut changes = Vec::new();
    // The compared cases' indices in `changes`, and their p-values.
    let mut compared: Vec<(usize, f64)> = Vec::new();
    for case in cases {
        let now = (case.passes, case.passes + case.failures);
        let mut change = CaseChange {
            case: case.case.clone(),
            change: Change::New,
            baseline: None,
            current: Some(now),
            baseline_runs: None,
            p_value: None,
            adjusted_p: None,
            file: Some(case.file.clone()),
            line: Some(case.line),
        };
        // A case the baseline holds without usable evidence is as good as new.
        if let Some(then) = baseline.case(&case.case).filter(|c| c.evidence().1 > 0) {
            change.baseline = Some((then.passes, then.samples));
            change.baseline_runs = Some(then.runs);
            change.change = Change::Errored;
            if case.verdict != Verdict::Error {
                let answered = outcomes_of(samples, case);
                let design = SampleDesign::of_record(case);
                let drop = match design {
                    SampleDesign::Looks { .. } => policy.adaptive_drop(),
                    SampleDesign::Fixed { .. } => policy.fixed_drop(),
                };
                let test = test_case(then.evidence(), design, &answered, drop, threshold);
                change.p_value = Some(test.p_value);
                compared.push((changes.len(), test.p_value));
            }
        }
        changes.push(change);
    }
    let p: Vec<f64> = compared.iter().map(|(_, p)| *p).collect();
    let adjusted = policy.correction.adjust(&p);
    for ((index, _), adjusted) in compared.iter().zip(adjusted) {
        let change = &mut changes[*index];
        change.adjusted_p = Some(adjusted);
        let case = &cases[*index];
        let then = baseline
            .case(&case.case)
            .expect("compared cases are in the baseline");
        change.change = classify(then, case, adjusted <= policy.alpha);
    }
    if !partial {
        let ran: HashSet<&str> = cases.iter().map(|c| c.case.as_str()).collect();
        for then in baseline
            .cases
            .iter()
            .filter(|c| !ran.contains(c.case.as_str()))
        {
            changes.push(CaseChange {
                case: then.case.clone(),
                change: Change::Removed,
                baseline: Some((then.passes, then.samples)),
                current: None,
                baseline_runs: Some(then.runs),
                p_value: None,
                adjusted_p: None,
                file: None,
                line: None,
            });
        }
    }
    changes.sort_by(|a, b| (a.change, &a.case).cmp(&(b.change, &b.case)));
    let mut counts = BTreeMap::new();
    for c in &changes {
        *counts.entry(c.change).or_insert(0) += 1;
    }
    BaselineComparison {
        source,
        alpha: policy.alpha,
        correction: policy.correction,
        compared: compared.len(),
        counts,
        cases: changes,
    }
}

/// The answered samples of the case record `case` (of its run, taken while it ran: a case
/// run twice under one run id keeps its last run's), passed or not, in sample order.
fn outcomes_of(samples: &[SampleRecord], case: &CaseRecord) -> Vec<bool> {
    let mut taken: Vec<(u32, bool)> = samples
        .iter()
        .filter(|s| {
            s.run_id == case.run_id
                && s.case == case.case
                && s.verdict != SampleVerdict::Error
                && s.started_at >= case.started_at
                && s.finished_at <= case.finished_at
        })
        .map(|s| (s.sample, s.verdict == SampleVerdict::Pass))
        .collect();
    taken.sort_unstable_by_key(|(index, _)| *index);
    taken.into_iter().map(|(_, passed)| passed).collect()
}

fn classify(then: &BaselineCase, now: &CaseRecord, significant: bool) -> Change {
    let passed_then = then.verdict == Verdict::Pass;
    let passes_now = now.verdict == Verdict::Pass;
    let mixed = now.passes > 0 && now.failures > 0;
    match (passed_then, passes_now) {
        _ if significant => Change::Regression,
        (true, false) => Change::NotEnoughSamples,
        (false, false) => Change::StillFailing,
        (false, true) => Change::Fix,
        (true, true) if mixed => Change::Flaky,
        (true, true) => Change::Unchanged,
    }
}

#[cfg(test)]
mod tests;
