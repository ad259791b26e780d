//! The terminal's lines: a few `evalgate:` lines with the headline figures. Ids and model
//! names from the usage file go through [`printable`], so they cannot move the cursor or
//! start a line of their own (a GitHub workflow command needs the start of a line).

use std::fmt::Write;

use super::concentration::CostConcentration;
use evalgate::signals::usd;
use evalgate::terminal::printable;

/// Groups named on one line; the files have them all.
const SHOWN: usize = 5;

/// The report as plain text, one `evalgate: ` line per topic.
pub fn terminal(report: &CostConcentration) -> String {
    let mut out = String::new();
    headline(&mut out, report);
    concentration(&mut out, report);
    losses(&mut out, report);
    skipped(&mut out, report);
    out
}

/// The groups, calls, cost, tokens and revenue.
fn headline(out: &mut String, report: &CostConcentration) {
    let noun = report.by.plural();
    let _ = write!(
        out,
        "evalgate: cost by {}: {} {noun}, {} priced calls, {} ({} tokens in, {} out)",
        report.by.noun(),
        report.groups,
        report.valid_lines,
        usd(report.total_cost_usd),
        report.input_tokens,
        report.output_tokens,
    );
    if let Some(revenue) = report.total_revenue_usd {
        let _ = write!(out, "; revenue {}", usd(revenue));
    }
}

/// Gini and the top shares of the cost.
fn concentration(out: &mut String, report: &CostConcentration) {
    let noun = report.by.plural();
    let mut parts: Vec<String> = Vec::new();
    if let Some(gini) = report.gini {
        parts.push(format!("Gini {gini:.3}"));
    }
    for top in &report.top_shares {
        parts.push(match (top.share, &top.unavailable) {
            (Some(share), _) => format!(
                "top {} % ({} {noun}) {:.1} % of the cost",
                top.percent,
                top.groups,
                share * 100.0
            ),
            (None, why) => format!(
                "top {} %: {}",
                top.percent,
                why.as_deref().unwrap_or("unavailable")
            ),
        });
    }
    let _ = write!(out, "\nevalgate: concentration: {}", parts.join(" · "));
}

/// The costliest groups, those that cost more than they bring, and those whose revenue is
/// unknown.
fn losses(out: &mut String, report: &CostConcentration) {
    let noun = report.by.plural();
    let costliest: Vec<String> = (report.top.iter().take(SHOWN))
        .map(|g| {
            format!(
                "{} {} ({:.1} %)",
                printable(&g.id),
                usd(g.cost_usd),
                g.share * 100.0
            )
        })
        .collect();
    let _ = write!(out, "\nevalgate: costliest: {}", costliest.join(", "));
    let losses = &report.losses;
    if losses.groups > 0 {
        let largest: Vec<String> = (losses.largest.iter().take(SHOWN))
            .map(|l| format!("{} −{}", printable(&l.id), usd(l.loss_usd)))
            .collect();
        let _ = write!(
            out,
            "\nevalgate: WARNING {} {noun} cost more than their revenue, {} in all: {}",
            losses.groups,
            usd(losses.total_loss_usd),
            largest.join(", ")
        );
    }
    let unknown = &losses.revenue_unknown;
    if report.total_revenue_usd.is_none() {
        let _ = write!(
            out,
            "\nevalgate: no line reported `revenue_usd`, so whether any of the {} {noun} \
             costs more than it brings is unknown",
            report.groups
        );
    } else if unknown.groups > 0 {
        let costliest: Vec<String> = (unknown.costliest.iter().take(SHOWN))
            .map(|g| format!("{} {}", printable(&g.id), usd(g.cost_usd)))
            .collect();
        let _ = write!(
            out,
            "\nevalgate: WARNING {} {noun} reported no revenue, so whether they cost more than \
             they bring is unknown ({} of cost): {}",
            unknown.groups,
            usd(unknown.cost_usd),
            costliest.join(", ")
        );
    }
}

/// The lines left out, and the models without a price.
fn skipped(out: &mut String, report: &CostConcentration) {
    if !report.warnings.is_empty() {
        let kinds: Vec<String> = (report.warnings.iter())
            .map(|w| {
                let first = w.examples.first().map_or(String::new(), |e| {
                    format!(", first at {}", printable(&e.at))
                });
                format!("{}{first}", w.summary())
            })
            .collect();
        let _ = write!(
            out,
            "\nevalgate: WARNING {} of {} lines left out: {}",
            report.skipped_lines,
            report.lines,
            kinds.join("; ")
        );
    }
    if !report.unpriced_models.is_empty() {
        let models: Vec<String> = (report.unpriced_models.iter())
            .map(|m| {
                format!(
                    "{} ({} lines, {} tokens in, {} out)",
                    printable(&m.model),
                    m.lines,
                    m.input_tokens,
                    m.output_tokens
                )
            })
            .collect();
        let _ = write!(
            out,
            "\nevalgate: WARNING models without a price (add them to the suite's `prices:`): {}",
            models.join(", ")
        );
    }
}
