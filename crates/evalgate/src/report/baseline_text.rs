//! The terminal's baseline section: what changed since the baseline, case by case for
//! everything but the unchanged, with sample counts, p-values and adjusted p-values.

use std::fmt::Write;

use super::coverage_text::printable;
use crate::baseline::{BaselineComparison, CaseChange, Change};

pub(super) fn render(comparison: &BaselineComparison, text: &mut String) {
    let counts: Vec<String> = comparison
        .counts
        .iter()
        .map(|(change, n)| format!("{n} {change}"))
        .collect();
    let _ = write!(
        text,
        "\nevalgate: baseline {}: {}\n  {} case(s) compared, α {} over the run ({}): with nothing changed, a run calls a regression at most {:.0} % of the time",
        comparison.source,
        counts.join(" · "),
        comparison.compared,
        comparison.alpha,
        correction_words(comparison),
        comparison.alpha * 100.0
    );
    for case in comparison
        .cases
        .iter()
        .filter(|c| c.change != Change::Unchanged)
    {
        let _ = write!(
            text,
            "\n  {:<27} {} ({})",
            case.change.to_string(),
            printable(&case.case),
            evidence(case)
        );
    }
}

/// `holm` or `bh`, said in words.
fn correction_words(comparison: &BaselineComparison) -> &'static str {
    match comparison.correction {
        crate::stats::Correction::Holm => "Holm",
        crate::stats::Correction::Bh => "Benjamini–Hochberg",
    }
}

/// `18/20 → 3/5, p = 0.0120, adjusted 0.2400` (the counts, and the p-values when compared).
pub(super) fn evidence(case: &CaseChange) -> String {
    let counts = match (case.baseline, case.current) {
        (Some((bp, bn)), Some((cp, cn))) => format!("{bp}/{bn} → {cp}/{cn}"),
        (Some((bp, bn)), None) => format!("{bp}/{bn} → -"),
        (None, Some((cp, cn))) => format!("- → {cp}/{cn}"),
        (None, None) => String::new(),
    };
    match (case.p_value, case.adjusted_p) {
        (Some(p), Some(adjusted)) => format!("{counts}, p = {p:.4}, adjusted {adjusted:.4}"),
        (Some(p), None) => format!("{counts}, p = {p:.4}"),
        _ => counts,
    }
}
