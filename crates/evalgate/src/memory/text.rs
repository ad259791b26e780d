//! The memory section of the terminal report, and the memory gate's details.

use std::collections::BTreeMap;

use super::{AxisChange, CaseMemory, CaseReference, MemoryReport, Recall};
use crate::check::memory_set;
use crate::terminal::printable;

/// `model a → b, prompt x → y`; `the same envelope` when nothing differs.
fn changes(changes: &[AxisChange]) -> String {
    if changes.is_empty() {
        return "the same envelope".into();
    }
    changes
        .iter()
        .map(|c| {
            // Versions the agent reported: escaped, so none is read as a command.
            format!(
                "{} {} → {}",
                printable(&c.axis),
                printable(&short(c.before.as_deref())),
                printable(&short(c.now.as_deref()))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
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

/// What the flag says of a changed case: "after upgrade" when the model differs from the
/// reference's (whichever way; the reference line's arrows say which).
fn flag(reference: &CaseReference) -> &'static str {
    if reference.model_changed() {
        "effective past changed after upgrade"
    } else if reference.changes.is_empty() {
        "effective past changed under the same envelope"
    } else {
        "effective past changed"
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

/// One case: its divergence and recall, and the flag.
pub(crate) fn case_line(case: &CaseMemory) -> String {
    let mut parts = Vec::new();
    if let Some(d) = &case.divergence {
        if d.value > 0.0 {
            let within = d
                .within
                .map_or("unknown (one sample each)".to_string(), |w| {
                    format!("{w:.2}")
                });
            let p = d
                .p_value
                .map(|p| format!(", p = {p:.4}"))
                .unwrap_or_default();
            parts.push(format!(
                "divergence {:.2} at turn {} (retained {} → {}; across {:.2}, within \
                 {within}{p})",
                d.value,
                d.turn,
                memory_set(&d.before),
                memory_set(&d.now),
                d.across,
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
    let flagged = match (&case.reference, case.changed) {
        (Some(reference), true) => format!("{} — ", flag(reference)),
        _ => String::new(),
    };
    format!("{}: {flagged}{}", case.case, parts.join("; "))
}

/// `run <id> (<start>): <changes>`.
fn reference_line(reference: &CaseReference) -> String {
    format!(
        "vs run {} ({}): {}",
        reference.run_id,
        reference.started_at.strftime("%Y-%m-%d %H:%M UTC"),
        changes(&reference.changes)
    )
}

/// The cases under each reference run (newest first), then the cases not compared.
fn grouped(report: &MemoryReport) -> Vec<(Option<&CaseReference>, Vec<&CaseMemory>)> {
    let mut runs: BTreeMap<(std::cmp::Reverse<jiff::Timestamp>, &str), Vec<&CaseMemory>> =
        BTreeMap::new();
    let mut alone = Vec::new();
    for case in &report.cases {
        match &case.reference {
            Some(r) => runs
                .entry((std::cmp::Reverse(r.started_at), r.run_id.as_str()))
                .or_default()
                .push(case),
            None => alone.push(case),
        }
    }
    let mut groups: Vec<(Option<&CaseReference>, Vec<&CaseMemory>)> = runs
        .into_values()
        .map(|cases| (cases[0].reference.as_ref(), cases))
        .collect();
    if !alone.is_empty() {
        groups.push((None, alone));
    }
    groups
}

/// The memory section.
pub fn render(report: &MemoryReport, text: &mut String) {
    let cases = report.cases.len();
    match (&report.chosen, &report.note) {
        (Some(chosen), _) => text.push_str(&format!(
            "\nevalgate: memory: {cases} case(s) report memory or probe recall, each compared \
             with {chosen}: {} changed, {} not compared",
            report.changed.len(),
            report.not_compared.len()
        )),
        (None, note) => text.push_str(&format!(
            "\nevalgate: memory: {cases} case(s) report memory or probe recall; not compared: {}",
            note.as_deref().unwrap_or("no history")
        )),
    }
    for (reference, cases) in grouped(report) {
        let indent = match reference {
            Some(reference) => {
                text.push_str(&format!("\n  {}", reference_line(reference)));
                "    "
            }
            None => "  ",
        };
        for case in cases {
            text.push_str(&format!("\n{indent}{}", case_line(case)));
        }
    }
}

/// The memory gate's details: the changed cases with what they were compared with, and the
/// cases not compared.
pub(crate) fn gate_details(report: &MemoryReport) -> Vec<String> {
    let mut details: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.changed)
        .map(|c| match &c.reference {
            Some(r) => format!("{} ({})", case_line(c), reference_line(r)),
            None => case_line(c),
        })
        .collect();
    if !report.not_compared.is_empty() {
        details.push(format!(
            "not compared (no earlier run holds them): {}",
            report.not_compared.join(", ")
        ));
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Versions and memory items are the agent's words: nothing in them starts a line, and
    /// no control character or legacy `##[` command reaches the terminal.
    #[test]
    fn agent_reported_versions_and_items_are_escaped() {
        let text = changes(&[AxisChange {
            axis: "model".into(),
            before: Some("m1".into()),
            now: Some("\r::error::FORGED\u{1b}[2J".into()),
        }]);
        assert!(!text.contains(['\r', '\n', '\u{1b}']), "{text:?}");
        let items = ["item\n::error::X".to_string(), "##[warning]Y".to_string()];
        let set = memory_set(&items);
        assert!(!set.contains('\n') && !set.contains("##["), "{set:?}");
    }
}
