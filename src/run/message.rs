//! The words shown when a case does not pass: the verdict and why, then each failed
//! expectation as `file:line:column`, expected vs actual, for the first failing samples.

use std::fmt::Write;

use crate::case::Case;
use crate::check::excerpt;
use crate::record::SampleRecord;
use crate::verdict::{PassRule, SampleVerdict, Tally, Verdict};

/// How many failing samples a message details; the rest are in the records.
const DETAILED_SAMPLES: usize = 3;

pub(crate) fn explain(
    case: &Case,
    verdict: Verdict,
    tally: Tally,
    interval: (f64, f64),
    samples: &[SampleRecord],
) -> Option<String> {
    if verdict == Verdict::Pass {
        return None;
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
    let _ = write!(text, "; rule: {}", rule_words(case.rule, n));
    if n > 1 && answered > 0 {
        let _ = write!(
            text,
            "; pass rate 95 % CI [{:.2}, {:.2}]",
            interval.0, interval.1
        );
    }
    text.push('\n');
    if verdict == Verdict::Inconclusive {
        let _ = writeln!(
            text,
            "the interval straddles the required rate: more samples are needed to tell"
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
            let _ = writeln!(text, "  error: {}", excerpt(error));
            for retry in &sample.retries {
                let _ = writeln!(text, "  retry: {}", excerpt(retry));
            }
            continue;
        }
        for check in sample.checks.iter().filter(|c| !c.passed) {
            let _ = writeln!(
                text,
                "  {file}:{}:{}: {}\n    expected: {}\n    actual:   {}",
                check.line, check.column, check.expectation, check.expected, check.actual
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

fn rule_words(rule: PassRule, n: u32) -> String {
    match rule {
        PassRule::AtLeast(1) if n == 1 => "the sample must pass".to_string(),
        PassRule::AtLeast(k) if k == n => format!("all {n} samples must pass"),
        PassRule::AtLeast(k) => format!("at least {k} of {n} samples must pass"),
        PassRule::MinRate(p) => format!("pass rate ≥ {p} with 95 % confidence"),
    }
}
