//! The terminal's planner coverage table and gate table.
//!
//! # Why no table crate
//!
//! The terminal's tables (these two, the baseline lines, and in the command line the economics,
//! plan and bisection tables) are `format!` width specifiers, with one column width taken from
//! the longest name. comfy-table 8.0.1 and tabled 0.22.0 were measured against them (2 cores,
//! CPU-seconds as user + system time) and are not used:
//!
//! - Cost: comfy-table without its default `tty` feature adds 2 packages (comfy-table,
//!   unicode-segmentation) to the 213 a harness user builds, and 1.2 CPU-seconds to a cold
//!   debug build (2.4 in release); with `tty`, 5 (crossterm, document-features, litrs). tabled
//!   with `std` only adds 2 (papergrid, tabled) and 5.0 CPU-seconds (11.7 in release); with
//!   its default `derive`, 4 and about 12 (26).
//! - Same output: comfy-table reproduces these rows only when every column is set up by hand
//!   (its gap, alignment and minimum width): 29 lines for the gate rows where the `format!`
//!   version takes 9. So set up, it matched the gate rows byte for byte in 1,993 of 2,000 random
//!   ASCII tables whose cells fit the fixed widths (the 7 others had only empty names), and the
//!   baseline lines in 2,000 of 2,000. It differs where a cell is wider than a fixed column
//!   (it widens the column for every row; 444 of 2,000 the same) and where names hold wide
//!   characters (it counts display columns where libtest-mimic's test lines above count
//!   chars; 275 of 2,000 the same).
//!
//! What either would take over is the width of the longest name, computed twice below.

use std::fmt::Write;

use super::gates::GateOutcome;
use super::{GateResult, RunReport};
use crate::coverage::Coverage;
use crate::output::Shown;

/// The gate table: every gate at verbose; at normal the gates the suite declares and any
/// other that fired (a default gate that passed, or could not be applied, is not news);
/// at quiet only the gates that fired.
pub(super) fn render_gates(report: &RunReport, shown: Shown<'_>, text: &mut String) {
    let gates: Vec<&GateResult> = report
        .gates
        .iter()
        .filter(|g| {
            shown.everything()
                || g.outcome == GateOutcome::Failed
                || (g.declared && shown.findings())
        })
        .collect();
    if gates.is_empty() {
        return;
    }
    let _ = write!(text, "\nevalgate: gates");
    let width = gates
        .iter()
        .map(|g| g.name.chars().count())
        .max()
        .unwrap_or(0);
    for gate in gates {
        let value = match gate.value {
            Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
            Some(v) => format!("{v:.3}"),
            None => "-".into(),
        };
        let line = format!(
            "\n  {:<7} {:<width$}  {:>7}  {:<8} {}",
            gate.status(),
            gate.name,
            value,
            gate.threshold,
            printable(&gate.details.join("; ")),
        );
        text.push_str(line.trim_end());
    }
}

pub(super) fn render_coverage(coverage: &Coverage, shown: Shown<'_>, text: &mut String) {
    let Some(catalog) = &coverage.catalog else {
        // Without a catalog there is no coverage: what was observed is a hint, at verbose.
        let observed: usize = coverage.points.iter().map(|p| p.branches.len()).sum();
        if observed > 0 && shown.everything() {
            let _ = write!(
                text,
                "\nevalgate: {observed} planner branches observed in {} decision points; \
                 no branch catalog, so no coverage (`evalgate catalog suggest` proposes one)",
                coverage.points.len()
            );
        }
        return;
    };
    let _ = write!(
        text,
        "\nevalgate: planner coverage {}/{} branches ({:.1} %) · {} samples, {} with decisions · catalog {catalog}",
        coverage.branches_covered,
        coverage.branches_total,
        coverage.ratio().unwrap_or(0.0) * 100.0,
        coverage.samples,
        coverage.samples_with_decisions,
    );
    let width = coverage
        .points
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0)
        .max("decision point".len());
    let _ = write!(
        text,
        "\n  {:<width$}  {:>7}  uncovered",
        "decision point", "covered"
    );
    for point in &coverage.points {
        let list = point
            .uncovered()
            .iter()
            .map(|b| b.with_risk(&b.decision.branch))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            text,
            "\n  {:<width$}  {:>7}  {}",
            point.name,
            format!("{}/{}", point.covered, point.total),
            if list.is_empty() { "-" } else { &list }
        );
    }
    if !coverage.unknown.is_empty() {
        let list: Vec<String> = coverage
            .unknown
            .iter()
            .map(|b| {
                format!(
                    "{} ({} samples)",
                    printable(&b.decision.to_string()),
                    b.samples
                )
            })
            .collect();
        let _ = write!(
            text,
            "\nevalgate: observed but not in the catalog (catalog drift): {}",
            list.join(", ")
        );
    }
    let t = &coverage.transitions;
    let _ = write!(text, "\nevalgate: transitions: {} pairs seen", t.seen.len());
    if t.declared > 0 {
        let _ = write!(
            text,
            ", {} of {} declared pairs",
            t.declared_seen, t.declared
        );
    }
    for stale in &coverage.stale {
        let _ = write!(
            text,
            "\nevalgate: the planner changed; the catalog may be stale: {} {}",
            stale.path,
            match &stale.current_sha256 {
                Some(_) => "changed since the catalog was reviewed",
                None => "is gone",
            }
        );
    }
}

pub(super) use crate::terminal::printable;
