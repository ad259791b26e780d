//! The memory section of the terminal report.

use super::{AxisChange, CaseMemory, MemoryReport, Recall};
use crate::check::memory_set;

/// `model a → b, prompt x → y`.
pub(crate) fn changes(changes: &[AxisChange]) -> String {
    if changes.is_empty() {
        return "the same envelope".into();
    }
    changes
        .iter()
        .map(|c| {
            format!(
                "{} {} → {}",
                c.axis,
                short(c.before.as_deref()),
                short(c.now.as_deref())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the flag says of a changed case (the section's first line says what changed).
pub(crate) fn flag(report: &MemoryReport) -> &'static str {
    match &report.reference {
        Some(r) if r.model_changed() => "effective past changed after upgrade",
        Some(r) if !r.changes.is_empty() => "effective past changed",
        _ => "effective past changed under the same envelope",
    }
}

/// A version for a line of text: long ones (prompt hashes) cut to 20 characters.
fn short(value: Option<&str>) -> String {
    match value {
        None => "(none)".into(),
        Some(v) if v.chars().count() > 20 => {
            format!("{}…", v.chars().take(19).collect::<String>())
        }
        Some(v) => v.into(),
    }
}

fn tally([k, n]: [u32; 2]) -> String {
    format!("{k}/{n}")
}

fn recall_text(recall: &Recall) -> String {
    let p = recall
        .p_value
        .map(|p| format!(" (p = {p:.4})"))
        .unwrap_or_default();
    match recall.before {
        Some(before) => format!("recall {} → {}{p}", tally(before), tally(recall.now)),
        None => format!("recall {}", tally(recall.now)),
    }
}

/// One line per case: its divergence and recall, and the flag.
pub(crate) fn case_line(report: &MemoryReport, case: &CaseMemory) -> String {
    let mut parts = Vec::new();
    if let Some(d) = &case.divergence {
        if d.value > 0.0 {
            parts.push(format!(
                "divergence {:.2} at turn {} (retained {} → {}; across {:.2}, within {:.2})",
                d.value,
                d.turn,
                memory_set(&d.before),
                memory_set(&d.now),
                d.across,
                d.within
            ));
        } else {
            parts.push(format!("divergence 0.00 over {} turn(s)", d.turns));
        }
    }
    if let Some(recall) = &case.recall {
        parts.push(recall_text(recall));
    }
    if let Some(note) = &case.note {
        parts.push(note.clone());
    }
    let verdict = if case.changed {
        format!("{} — ", flag(report))
    } else {
        String::new()
    };
    format!("{}: {verdict}{}", case.case, parts.join("; "))
}

/// The memory section.
pub fn render(report: &MemoryReport, text: &mut String) {
    let cases = report.cases.len();
    match &report.reference {
        Some(r) => text.push_str(&format!(
            "\nevalgate: memory: {cases} case(s) report memory or probe recall; compared with \
             run {} ({}, {}): {}; {} changed",
            r.run_id,
            r.chosen,
            r.started_at.strftime("%Y-%m-%d %H:%M UTC"),
            changes(&r.changes),
            report.changed.len()
        )),
        None => text.push_str(&format!(
            "\nevalgate: memory: {cases} case(s) report memory or probe recall; not compared: {}",
            report.note.as_deref().unwrap_or("no reference run")
        )),
    }
    for case in &report.cases {
        text.push_str(&format!("\n  {}", case_line(report, case)));
    }
}
