//! Comparing a run with its baseline, case by case. A single-sample case changes when its
//! verdict does. A multi-sample case is a regression (or a fix) only when Fisher's exact test
//! on passes vs non-passes is significant at α; otherwise the report says there are not
//! enough samples to tell, rather than guessing.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::{Baseline, BaselineCase};
use crate::record::CaseRecord;
use crate::stats::fisher_exact;
use crate::verdict::Verdict;

/// What happened to a case since the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Passed in the baseline, fails now (significantly, for multi-sample cases).
    Regression,
    /// The verdict changed, but the samples cannot tell a real change from noise.
    NotEnoughSamples,
    /// Failed in the baseline, passes now.
    Fix,
    StillFailing,
    /// Some samples pass and some fail, with no significant change.
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
    /// `passes/samples` in the baseline and now.
    pub baseline: Option<(u32, u32)>,
    pub current: Option<(u32, u32)>,
    /// Fisher's exact test, two-sided, when both sides have more than one sample.
    pub p_value: Option<f64>,
    /// The case file and line, when the case ran.
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// The comparison of a run with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BaselineComparison {
    /// What the run was compared with, as shown to users: the baseline file, or the
    /// history run of the baseline branch.
    pub source: String,
    pub alpha: f64,
    pub counts: BTreeMap<Change, usize>,
    /// Every case, regressions first.
    pub cases: Vec<CaseChange>,
}

impl BaselineComparison {
    pub fn count(&self, change: Change) -> usize {
        self.counts.get(&change).copied().unwrap_or(0)
    }
}

/// Compares `cases` (each case's latest record) with `baseline` at significance `alpha`.
/// `partial`: the run is not the whole suite, so a case missing from it is not "removed".
pub fn compare(
    baseline: &Baseline,
    source: String,
    cases: &[CaseRecord],
    alpha: f64,
    partial: bool,
) -> BaselineComparison {
    let before: BTreeMap<&str, &BaselineCase> = baseline
        .cases
        .iter()
        .map(|c| (c.case.as_str(), c))
        .collect();
    let mut changes = Vec::new();
    for case in cases {
        let now = (case.passes, case.samples);
        let change = match before.get(case.case.as_str()) {
            None => CaseChange {
                case: case.case.clone(),
                change: Change::New,
                baseline: None,
                current: Some(now),
                p_value: None,
                file: Some(case.file.clone()),
                line: Some(case.line),
            },
            Some(then) => {
                let (change, p_value) = classify(then, case, alpha);
                CaseChange {
                    case: case.case.clone(),
                    change,
                    baseline: Some((then.passes, then.samples)),
                    current: Some(now),
                    p_value,
                    file: Some(case.file.clone()),
                    line: Some(case.line),
                }
            }
        };
        changes.push(change);
    }
    if !partial {
        let ran: std::collections::HashSet<&str> = cases.iter().map(|c| c.case.as_str()).collect();
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
                p_value: None,
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
        alpha,
        counts,
        cases: changes,
    }
}

fn classify(then: &BaselineCase, now: &CaseRecord, alpha: f64) -> (Change, Option<f64>) {
    let passed_then = then.verdict == Verdict::Pass;
    let passed_now = now.verdict == Verdict::Pass;
    let multi = then.samples > 1 && now.samples > 1;
    let p_value = multi.then(|| {
        fisher_exact(
            u64::from(then.passes),
            u64::from(then.samples - then.passes),
            u64::from(now.passes),
            u64::from(now.samples - now.passes),
        )
    });
    let significant = p_value.is_none_or(|p| p < alpha);
    let mixed = now.passes > 0 && now.passes < now.samples;
    let change = match (passed_then, passed_now) {
        (true, false) if significant => Change::Regression,
        (false, true) if significant => Change::Fix,
        (true, false) | (false, true) => Change::NotEnoughSamples,
        (false, false) => Change::StillFailing,
        (true, true) if mixed => Change::Flaky,
        (true, true) => Change::Unchanged,
    };
    (change, p_value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(case: &str, verdict: Verdict, passes: u32, samples: u32) -> CaseRecord {
        let mut r: CaseRecord = serde_json::from_value(serde_json::json!({
            "schema": 1, "run_id": "r", "case": case, "file": format!("evals/cases/{case}.yaml"),
            "line": 1, "classname": "evals", "description": null, "verdict": "pass",
            "failed": false, "samples": 1, "passes": 1, "failures": 0, "errors": 0,
            "rule": "at_least 1", "interval": [0.0, 1.0], "duration_ms": 1.0, "message": null,
            "reviewed": null, "rubric": null, "source": null,
            "started_at": "2026-11-28T00:00:00Z", "finished_at": "2026-11-28T00:00:01Z"
        }))
        .unwrap();
        r.verdict = verdict;
        r.passes = passes;
        r.samples = samples;
        r
    }

    fn baseline(cases: &[(&str, Verdict, u32, u32)]) -> Baseline {
        let records: Vec<CaseRecord> = cases
            .iter()
            .map(|(c, v, p, n)| record(c, *v, *p, *n))
            .collect();
        Baseline::of("shop", "e1".into(), &records, &[])
    }

    #[test]
    fn every_kind_of_change_is_told_apart() {
        use Verdict::{Fail, Pass};
        let before = baseline(&[
            ("regressed", Pass, 1, 1),
            ("fixed", Fail, 0, 1),
            ("broken", Fail, 0, 1),
            ("steady", Pass, 1, 1),
            ("gone", Pass, 1, 1),
            ("drop-real", Pass, 20, 20),
            ("drop-noise", Pass, 5, 5),
            ("wobbly", Pass, 9, 10),
        ]);
        let now = [
            record("regressed", Fail, 0, 1),
            record("fixed", Pass, 1, 1),
            record("broken", Fail, 0, 1),
            record("steady", Pass, 1, 1),
            record("added", Pass, 1, 1),
            record("drop-real", Fail, 5, 20),
            record("drop-noise", Fail, 3, 5),
            record("wobbly", Pass, 8, 10),
        ];
        let c = compare(&before, "baseline.json".into(), &now, 0.05, false);
        let of = |case: &str| c.cases.iter().find(|x| x.case == case).unwrap();
        assert_eq!(of("regressed").change, Change::Regression);
        assert_eq!(of("fixed").change, Change::Fix);
        assert_eq!(of("broken").change, Change::StillFailing);
        assert_eq!(of("steady").change, Change::Unchanged);
        assert_eq!(of("added").change, Change::New);
        assert_eq!(of("gone").change, Change::Removed);
        // 20/20 → 5/20: p ≈ 1e-6, a real regression.
        assert_eq!(of("drop-real").change, Change::Regression);
        assert!(of("drop-real").p_value.unwrap() < 1e-5);
        // 5/5 → 3/5: p ≈ 0.44, the samples cannot tell.
        assert_eq!(of("drop-noise").change, Change::NotEnoughSamples);
        assert!(of("drop-noise").p_value.unwrap() > 0.4);
        assert_eq!(of("wobbly").change, Change::Flaky);
        assert_eq!(c.count(Change::Regression), 2);
        assert_eq!(c.cases[0].change, Change::Regression, "regressions first");
        // A partial run (a filter, one shard) removes nothing.
        let partial = compare(&before, "b".into(), &now[..1], 0.05, true);
        assert_eq!(partial.count(Change::Removed), 0);
    }
}
