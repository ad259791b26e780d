//! The terminal's baseline section: what changed since the baseline, case by case for
//! everything but the unchanged, with p-values and sample counts.

use std::fmt::Write;

use super::coverage_text::printable;
use crate::baseline::{BaselineComparison, Change};

pub(super) fn render(comparison: &BaselineComparison, text: &mut String) {
    let counts: Vec<String> = comparison
        .counts
        .iter()
        .map(|(change, n)| format!("{n} {change}"))
        .collect();
    let _ = write!(
        text,
        "\nevalgate: baseline {} (α {}): {}",
        comparison.source,
        comparison.alpha,
        counts.join(" · ")
    );
    for case in comparison
        .cases
        .iter()
        .filter(|c| c.change != Change::Unchanged)
    {
        let counts = match (case.baseline, case.current) {
            (Some((bp, bn)), Some((cp, cn))) => format!("{bp}/{bn} → {cp}/{cn}"),
            (Some((bp, bn)), None) => format!("{bp}/{bn} → -"),
            (None, Some((cp, cn))) => format!("- → {cp}/{cn}"),
            (None, None) => String::new(),
        };
        let p = case
            .p_value
            .map(|p| format!(", p = {p:.4}"))
            .unwrap_or_default();
        let _ = write!(
            text,
            "\n  {:<27} {} ({counts}{p})",
            case.change.to_string(),
            printable(&case.case)
        );
    }
}
