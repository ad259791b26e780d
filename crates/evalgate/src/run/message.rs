//! The words shown when a case does not pass: the verdict and why, then each failed
//! expectation as `file:line:column`, expected vs actual, for the first failing samples.
//! What the agent said is shown as the terminal shows agent text: the test prints this.

use std::fmt::Write;

use crate::baseline::CaseJudgement;
use crate::case::Case;
use crate::check::excerpt;
use crate::record::SampleRecord;
use crate::terminal::printable;
use crate::verdict::{PassRule, SampleVerdict, Tally, Verdict};

/// What a finished case came to, for its message.
pub(crate) struct Outcome<'a> {
    pub verdict: Verdict,
    pub tally: Tally,
    pub interval: (f64, f64),
    /// Its comparison with the baseline, when it had one.
    pub judgement: Option<&'a CaseJudgement>,
    /// Whether it fails its test.
    pub failed: bool,
    pub samples_to_decide: Option<u32>,
}

/// How many different reasons for failing a message details; the rest are in the records.
const DETAILED_REASONS: usize = 3;

/// How many sample numbers a group of samples failing alike names.
const NAMED_SAMPLES: usize = 5;

pub(crate) fn explain(case: &Case, outcome: &Outcome, samples: &[SampleRecord]) -> Option<String> {
    let Outcome {
        verdict,
        tally,
        interval,
        ..
    } = *outcome;
    if verdict == Verdict::Pass {
        // A case that passes its rule can still have dropped against its baseline.
        return outcome
            .judgement
            .filter(|j| j.regressed() && outcome.failed)
            .map(|j| {
                format!(
                    "verdict: pass — {}/{} samples passed; but {}",
                    tally.passes,
                    tally.passes + tally.failures,
                    against_baseline(j, tally, true)
                )
            });
    }
    let mut text = String::new();
    let n = tally.samples();
    let answered = tally.passes + tally.failures;
    let _ = write!(
        text,
        "verdict: {verdict} — {}/{answered} samples passed",
        tally.passes
    );
    if tally.errors > 0 {
        let _ = write!(text, ", {} of {n} errored", tally.errors);
    }
    // The rule as declared: a case stopped early (sequential) took fewer than it states.
    let _ = write!(
        text,
        "; rule: {}",
        rule_words(case.rule, n.max(case.samples))
    );
    if n < case.samples && matches!(case.rule, PassRule::AtLeast(_)) {
        let _ = write!(text, " ({n} taken: the rest could not change the verdict)");
    }
    if n > 1 && answered > 0 {
        let _ = write!(
            text,
            "; pass rate 95 % CI [{:.2}, {:.2}]",
            interval.0, interval.1
        );
    }
    text.push('\n');
    if verdict == Verdict::Inconclusive {
        match outcome.samples_to_decide {
            Some(n) => {
                let _ = writeln!(
                    text,
                    "the interval straddles the required rate: about {} more samples ({n} in \
                     all) would decide it, if the pass rate stayed at {:.2}",
                    n.saturating_sub(answered),
                    f64::from(tally.passes) / f64::from(answered.max(1))
                );
            }
            None => {
                let _ = writeln!(
                    text,
                    "the interval straddles the required rate, and the pass rate sits on it: no \
                     number of samples at this rate would decide it"
                );
            }
        }
    }
    if let Some(judgement) = outcome.judgement {
        let _ = writeln!(
            text,
            "{}",
            against_baseline(judgement, tally, outcome.failed)
        );
    }
    let failing = samples
        .iter()
        .filter(|s| s.verdict != SampleVerdict::Pass)
        .map(|sample| (sample.sample, why_failed(case, sample)));
    let groups = same_reasons(failing);
    for (indices, why) in groups.iter().take(DETAILED_REASONS) {
        let _ = writeln!(text, "{}:\n{why}", samples_named(indices));
    }
    let untold: usize = groups
        .iter()
        .skip(DETAILED_REASONS)
        .map(|(indices, _)| indices.len())
        .sum();
    if untold > 0 {
        let _ = writeln!(text, "({untold} more failing samples in the run records)");
    }
    Some(text.trim_end().to_string())
}

/// Why a sample did not pass: its error (and the attempts before it), or each failed
/// expectation as `file:line:column`, expected vs actual.
fn why_failed(case: &Case, sample: &SampleRecord) -> String {
    let mut text = String::new();
    if let Some(error) = &sample.error {
        let _ = writeln!(text, "  error: {}", printable(&excerpt(error)));
        for retry in &sample.retries {
            let _ = writeln!(text, "  retry: {}", printable(&excerpt(retry)));
        }
    }
    let file = case.file.display();
    for check in sample.checks.iter().filter(|c| !c.passed) {
        let _ = writeln!(
            text,
            "  {file}:{}:{}: {}\n    expected: {}\n    actual:   {}",
            check.line,
            check.column,
            check.expectation,
            check.expected,
            printable(&check.actual)
        );
    }
    text.trim_end().to_string()
}

/// The samples that failed for the same reason, told once: each reason with the samples
/// that gave it, in the order the reasons were first seen.
fn same_reasons(failing: impl Iterator<Item = (u32, String)>) -> Vec<(Vec<u32>, String)> {
    let mut groups: Vec<(Vec<u32>, String)> = Vec::new();
    for (index, why) in failing {
        match groups.iter_mut().find(|(_, seen)| *seen == why) {
            Some((indices, _)) => indices.push(index),
            None => groups.push((vec![index], why)),
        }
    }
    groups
}

/// `sample 3`, or for samples that failed alike `samples 0, 2, 5 (×3)`.
fn samples_named(indices: &[u32]) -> String {
    if let [one] = indices {
        return format!("sample {one}");
    }
    let named: Vec<String> = indices
        .iter()
        .take(NAMED_SAMPLES)
        .map(u32::to_string)
        .collect();
    let more = indices.len().saturating_sub(NAMED_SAMPLES);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("samples {}{more} (×{})", named.join(", "), indices.len())
}

/// What the comparison with the baseline says about a case that does not pass its rule,
/// and why its test fails or not.
fn against_baseline(judgement: &CaseJudgement, tally: Tally, failed: bool) -> String {
    let [before, answered] = judgement.baseline;
    let counts = format!(
        "{before}/{answered} in the baseline → {}/{} now, p = {:.4} (a regression needs ≤ {:.4})",
        tally.passes,
        tally.passes + tally.failures,
        judgement.p_value,
        judgement.threshold
    );
    if judgement.regressed() {
        return format!("regression against the baseline: {counts}");
    }
    if judgement.judged_by == crate::baseline::Judge::Rule {
        return format!(
            "against the baseline: {counts}; judged by its rule (`baseline.judge: rule`)"
        );
    }
    if !judgement.conclusive() {
        return format!(
            "against the baseline: {counts}; the comparison cannot tell a broken case from noise \
             here (the baseline holds {answered} sample(s) of it), so its rule decides"
        );
    }
    let verdict = if failed { "" } else { ": not red" };
    format!(
        "against the baseline: {counts}; no regression — it does not pass its rule, no worse than \
         on the baseline{verdict}"
    )
}

fn rule_words(rule: PassRule, n: u32) -> String {
    match rule {
        PassRule::All if n == 1 => "the sample must pass".to_string(),
        PassRule::All => format!("every sample must pass ({n} taken)"),
        PassRule::AtLeast(1) if n == 1 => "the sample must pass".to_string(),
        PassRule::AtLeast(k) if k == n => format!("all {n} samples must pass"),
        PassRule::AtLeast(k) => format!("at least {k} of {n} samples must pass"),
        PassRule::MinRate(p) => format!("pass rate ≥ {p} with 95 % confidence"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_failing_alike_are_told_once_in_the_order_first_seen() {
        let failing = [(0, "b"), (1, "a"), (2, "b"), (4, "b"), (5, "c"), (7, "a")]
            .map(|(i, why)| (i, why.to_string()));
        let groups = same_reasons(failing.into_iter());
        let shown: Vec<(Vec<u32>, &str)> = groups
            .iter()
            .map(|(indices, why)| (indices.clone(), why.as_str()))
            .collect();
        assert_eq!(
            shown,
            [(vec![0, 2, 4], "b"), (vec![1, 7], "a"), (vec![5], "c")]
        );
    }

    #[test]
    fn a_group_names_its_samples_and_counts_them() {
        assert_eq!(samples_named(&[3]), "sample 3");
        assert_eq!(samples_named(&[0, 2, 5]), "samples 0, 2, 5 (×3)");
        assert_eq!(
            samples_named(&(0..12).collect::<Vec<_>>()),
            "samples 0, 1, 2, 3, 4 and 7 more (×12)"
        );
    }
}
