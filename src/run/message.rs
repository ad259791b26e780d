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

/// How many failing samples a message details; the rest are in the records.
const DETAILED_SAMPLES: usize = 3;

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
    let file = case.file.display();
    let failing = samples
        .iter()
        .filter(|s| s.verdict != SampleVerdict::Pass)
        .collect::<Vec<_>>();
    for sample in failing.iter().take(DETAILED_SAMPLES) {
        let _ = writeln!(text, "sample {}:", sample.sample);
        if let Some(error) = &sample.error {
            let _ = writeln!(text, "  error: {}", printable(&excerpt(error)));
            for retry in &sample.retries {
                let _ = writeln!(text, "  retry: {}", printable(&excerpt(retry)));
            }
            continue;
        }
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
    }
    if failing.len() > DETAILED_SAMPLES {
        let _ = writeln!(
            text,
            "({} more failing samples in the run records)",
            failing.len() - DETAILED_SAMPLES
        );
    }
    Some(text.trim_end().to_string())
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
