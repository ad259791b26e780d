//! The terminal's list of recent reruns: every `evalgate rerun` of the suite's cases kept
//! in history lately, with its hypothesis and outcome, so a case rerolled until it passed
//! is visible in the report that gates the merge.

use std::fmt::Write;

use super::coverage_text::printable;
use crate::record::RerunRecord;

/// At most this many reruns are listed one by one; all are counted.
pub(super) const LISTED: usize = 10;

pub(super) fn render(reruns: &[RerunRecord], text: &mut String) {
    if reruns.is_empty() {
        return;
    }
    let inconsistent = reruns.iter().filter(|r| r.consistent != Some(true)).count();
    let _ = write!(
        text,
        "\nevalgate: reruns   {} in the last 30 days ({inconsistent} not shown consistent with their hypothesis)",
        reruns.len()
    );
    for r in reruns.iter().take(LISTED) {
        let _ = write!(
            text,
            "\n  {} {} {}: {}/{} passed, predicted {} ({}) — {}",
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            printable(&r.case),
            r.rerun_id,
            r.passes,
            r.passes + r.failures + r.errors,
            r.expect_rate,
            outcome(r),
            printable(&r.hypothesis)
        );
    }
    if reruns.len() > LISTED {
        let _ = write!(text, "\n  … and {} more", reruns.len() - LISTED);
    }
}

/// The outcome of a rerun in a word or three.
pub(super) fn outcome(r: &RerunRecord) -> &'static str {
    match r.consistent {
        Some(true) => "consistent",
        Some(false) => "NOT consistent",
        None if r.errors > 0 => "errored: cannot tell",
        None => "too few runs: cannot tell",
    }
}
