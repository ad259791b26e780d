//! Eval economics for people: a terminal table and the step summary's Markdown.

use std::fmt::Write as _;

use super::{CaseEconomics, CostBasis, Cover, Economics};
use evalgate::report::markdown::escape;
use evalgate::signals::usd;
use evalgate::terminal::printable;

/// Cases listed in full; the JSON has them all.
const LISTED: usize = 30;

fn money(case: &CaseEconomics) -> String {
    match case.usd {
        Some(x) if case.unpriced_samples > 0 => format!("{} + unpriced", usd(x)),
        Some(x) => usd(x),
        None => "unpriced".to_string(),
    }
}

fn caught(case: &CaseEconomics) -> String {
    match (case.failures_caught, case.runs_in_history) {
        (Some(failed), Some(runs)) => format!("{failed}/{runs} runs"),
        _ => "no history".to_string(),
    }
}

fn seconds(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

/// What a run of the cover costs: "$0.000220 and 0.4 s".
pub(crate) fn cover_cost(cover: &Cover) -> String {
    let dollars = match cover.unpriced_cases {
        0 => usd(cover.usd),
        n => format!("{} + {n} unpriced case(s)", usd(cover.usd)),
    };
    format!("{dollars} and {}", seconds(cover.duration_ms))
}

/// How the cover was chosen, and whether it is proven the cheapest.
pub(crate) fn cover_choice(cover: &Cover) -> &'static str {
    match (cover.cost_basis, cover.optimal) {
        (CostBasis::Usd, true) => "the cheapest such set in dollars, every set searched",
        (CostBasis::Time, true) => {
            "the quickest such set, every set searched (costed by time: some case has unpriced samples)"
        }
        (CostBasis::Usd, false) => {
            "the cheapest in dollars the search found within its budget, not proven the cheapest; no case in it can be removed"
        }
        (CostBasis::Time, false) => {
            "the quickest the search found within its budget, not proven the quickest; no case in it can be removed (costed by time: some case has unpriced samples)"
        }
    }
}

/// The cover's share of what the whole run cost, in the unit it was chosen by.
fn cover_share(economics: &Economics, cover: &Cover) -> String {
    match cover.cost_basis {
        CostBasis::Usd => format!("{} of the dollars", share(cover.usd, economics.total_usd)),
        CostBasis::Time => format!(
            "{} of the time",
            share(cover.duration_ms, economics.total_duration_ms)
        ),
    }
}

/// The terminal table: every case's cost and contribution, the redundant ones, the cover.
pub(crate) fn terminal(economics: &Economics, cover: &Cover) -> String {
    let mut out = String::new();
    cases(&mut out, economics);
    redundant(&mut out, economics);
    branch_cover(&mut out, economics, cover);
    out
}

/// The headline and every case's cost and contribution (the first [`LISTED`]).
fn cases(out: &mut String, economics: &Economics) {
    let _ = writeln!(
        out,
        "eval economics of run {}: {} case(s), {} and {} in all, {} branch(es) reached",
        printable(&economics.run_id),
        economics.cases.len(),
        usd(economics.total_usd),
        seconds(economics.total_duration_ms),
        economics.branches
    );
    let _ = writeln!(
        out,
        "  {:<40} {:>14} {:>9} {:>9} {:>8} {:>13}  decay",
        "case", "cost", "tokens", "time", "own br.", "failed"
    );
    for case in economics.cases.iter().take(LISTED) {
        let _ = writeln!(
            out,
            "  {:<40} {:>14} {:>9} {:>9} {:>8} {:>13}  {}",
            printable(&case.case),
            money(case),
            case.input_tokens + case.output_tokens,
            seconds(case.duration_ms),
            case.unique_branches.len(),
            caught(case),
            case.decay.join(", ")
        );
    }
    if economics.cases.len() > LISTED {
        let _ = writeln!(
            out,
            "  ... and {} more in economics.json",
            economics.cases.len() - LISTED
        );
    }
}

/// The cases that could go, or why none is named.
fn redundant(out: &mut String, economics: &Economics) {
    let redundant: Vec<&CaseEconomics> = economics.redundant().collect();
    if !economics.history {
        let _ = writeln!(
            out,
            "redundant: not judged (history is off, so whether a case ever failed is unknown)"
        );
    } else if redundant.is_empty() {
        let _ = writeln!(
            out,
            "redundant: none (each case is in the branch cover, reaches a branch only it or a \
             case that stays reaches, reaches no branch, or did not pass in every run of history)"
        );
    } else {
        let spent: f64 = redundant.iter().filter_map(|c| c.usd).sum();
        let _ = writeln!(
            out,
            "redundant ({}, {} per run): outside the branch cover, passed in every run of \
             history, every branch they reach reached by a case that stays (together they can \
             go and every branch is still reached); review before removing:",
            redundant.len(),
            usd(spent)
        );
        for case in redundant.iter().take(LISTED) {
            let _ = writeln!(
                out,
                "  {}  {}:{}",
                printable(&case.case),
                printable(&case.file),
                case.line
            );
        }
        if redundant.len() > LISTED {
            let _ = writeln!(
                out,
                "  ... and {} more in economics.json",
                redundant.len() - LISTED
            );
        }
    }
}

/// The smallest set of cases that reaches every branch, and what it leaves out.
fn branch_cover(out: &mut String, economics: &Economics, cover: &Cover) {
    let _ = writeln!(
        out,
        "branch cover: {} of {} case(s) reach all {} branch(es) for {} per run ({}): {}",
        cover.cases.len(),
        economics.cases.len(),
        cover.branches,
        cover_cost(cover),
        cover_share(economics, cover),
        cover_choice(cover)
    );
    if cover.without_branches > 0 {
        let _ = writeln!(
            out,
            "  {} active case(s) reach no branch in every sample: no branch cover includes them",
            cover.without_branches
        );
    }
    if !cover.unreliable_branches.is_empty() {
        let names: Vec<String> = cover
            .unreliable_branches
            .iter()
            .map(|d| printable(&d.to_string()))
            .collect();
        let _ = writeln!(
            out,
            "  not promised (reached in only some samples of every case): {}",
            names.join(", ")
        );
    }
}

fn share(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.0} %", 100.0 * part / whole)
    } else {
        "n/a".to_string()
    }
}

/// The step summary section.
pub(crate) fn markdown(economics: &Economics, cover: &Cover) -> String {
    let mut md = String::from("### Eval economics\n\n");
    let _ = writeln!(
        md,
        "{} cases cost {} and {} per run; {} branches reached. A branch cover of {} cases keeps them all for {} ({}): {}.\n",
        economics.cases.len(),
        escape(&usd(economics.total_usd)),
        seconds(economics.total_duration_ms),
        economics.branches,
        cover.cases.len(),
        escape(&cover_cost(cover)),
        cover_share(economics, cover),
        cover_choice(cover)
    );
    md.push_str("| case | cost | tokens | own branches | failed in history | decay |\n|---|---:|---:|---:|---:|---|\n");
    for case in economics.cases.iter().take(LISTED) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            escape(&case.case),
            escape(&money(case)),
            case.input_tokens + case.output_tokens,
            case.unique_branches.len(),
            caught(case),
            escape(&case.decay.join(", "))
        );
    }
    let redundant: Vec<String> = economics.redundant().map(|c| escape(&c.case)).collect();
    if !economics.history {
        md.push_str("\nRedundant: not judged (history is off).\n");
    } else if redundant.is_empty() {
        md.push_str("\nRedundant: none.\n");
    } else {
        let _ = writeln!(
            md,
            "\nRedundant (outside the branch cover, passed in every run of history, every branch they reach reached by a case that stays): {}",
            redundant.join(", ")
        );
    }
    md.push('\n');
    md
}
