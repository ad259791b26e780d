//! `summary.md`, for the GitHub step summary: the headline figures, the cut-offs, the
//! Lorenz curve as a Mermaid `xychart-beta` line chart (which GitHub renders in Markdown;
//! a short table of the same curve follows for viewers that do not), the costliest
//! groups, the losses and what was left out. Ids and model names come from the usage
//! file: every one goes through the step summary's escaping, so it cannot inject Markdown
//! or HTML. The chart holds only numbers and fixed labels.

use std::fmt::Write;

use super::concentration::CostConcentration;
use super::lorenz::cost_share_at;
use evalgate::report::markdown::escape;
use evalgate::signals::usd;

/// The chart's points: every 5 % of the groups.
const CHART_STEPS: usize = 20;
/// Losses listed in the summary (the JSON lists more).
const LOSSES_SHOWN: usize = 10;

fn percent(share: f64) -> String {
    format!("{:.2} %", share * 100.0)
}

fn money(value: Option<f64>) -> String {
    value.map_or_else(|| "–".into(), usd)
}

pub(crate) fn render(report: &CostConcentration) -> String {
    let noun = report.by.plural();
    let mut md = format!("### Cost concentration by {}\n\n", report.by.noun());
    let _ = write!(
        md,
        "{}: **{} {noun}**, {} priced calls, **{}** in all ({} tokens in, {} out)",
        escape(&report.source),
        report.groups,
        report.valid_lines,
        usd(report.total_cost_usd),
        report.input_tokens,
        report.output_tokens
    );
    if let Some(revenue) = report.total_revenue_usd {
        let _ = write!(md, "; revenue reported: {}", usd(revenue));
    }
    md.push_str(".\n");
    skipped(report, &mut md);

    let _ = write!(
        md,
        "\n| costliest | {noun} | cost | share of the total |\n|---|---:|---:|---:|\n"
    );
    for top in &report.top_shares {
        match (&top.unavailable, top.cost_usd, top.share) {
            (None, Some(cost), Some(share)) => {
                let _ = writeln!(
                    md,
                    "| {} % | {} | {} | {} |",
                    top.percent,
                    top.groups,
                    usd(cost),
                    percent(share)
                );
            }
            (why, _, _) => {
                let _ = writeln!(
                    md,
                    "| {} % | {} | – | – |",
                    top.percent,
                    why.as_deref().unwrap_or("unavailable")
                );
            }
        }
    }
    if let Some(gini) = report.gini {
        let _ = writeln!(
            md,
            "\nGini coefficient of the cost per {}: **{gini:.3}** (0: all cost the same; \
             1: one costs everything).",
            report.by.noun()
        );
    }
    lorenz(report, &mut md);
    costliest(report, &mut md);
    losses(report, &mut md);
    if !report.heavy_tail.is_empty() {
        let _ = writeln!(
            md,
            "\nHeavy tail (the costliest 1 %, at least one {}): {}, listed in `cost.json` \
             under `heavy_tail`.",
            report.by.noun(),
            report.heavy_tail.len()
        );
    }
    md
}

/// The lines left out and the unpriced models.
fn skipped(report: &CostConcentration, md: &mut String) {
    if !report.warnings.is_empty() {
        let kinds: Vec<String> = report.warnings.iter().map(|w| w.summary()).collect();
        let _ = writeln!(
            md,
            "\n> **{} of {} lines left out:** {} (examples in `cost.json`).",
            report.skipped_lines,
            report.lines,
            kinds.join(", ")
        );
    }
    if !report.unpriced_models.is_empty() {
        md.push_str(
            "\n| model without a price | lines | tokens in | tokens out |\n|---|---:|---:|---:|\n",
        );
        for model in &report.unpriced_models {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                escape(&model.model),
                model.lines,
                model.input_tokens,
                model.output_tokens
            );
        }
    }
}

/// The curve as a Mermaid line chart of every 5 % and, below, a table of it.
fn lorenz(report: &CostConcentration, md: &mut String) {
    if report.lorenz.is_empty() {
        return;
    }
    let at = |share: f64| cost_share_at(&report.lorenz, share).unwrap_or(0.0) * 100.0;
    let xs: Vec<String> = (0..=CHART_STEPS)
        .map(|i| (i * 100 / CHART_STEPS).to_string())
        .collect();
    let ys: Vec<String> = (0..=CHART_STEPS)
        .map(|i| format!("{:.1}", at(i as f64 / CHART_STEPS as f64)))
        .collect();
    let noun = report.by.plural();
    let _ = write!(
        md,
        "\n```mermaid\nxychart-beta\n    title \"Lorenz curve: share of the cost of the cheapest {noun}\"\n    \
         x-axis \"cheapest {noun}, per cent\" [{}]\n    y-axis \"share of the cost, per cent\" 0 --> 100\n    \
         line [{}]\n    line [{}]\n```\n",
        xs.join(", "),
        ys.join(", "),
        xs.join(", "),
    );
    let _ = write!(
        md,
        "\n| cheapest {noun} | their share of the cost |\n|---:|---:|\n"
    );
    let mut rows: Vec<f64> = vec![0.5, 0.8, 0.9];
    rows.extend(
        (report.top_shares.iter())
            .filter(|t| t.groups > 0)
            .map(|t| 1.0 - t.groups as f64 / report.groups as f64),
    );
    for share in rows {
        let _ = writeln!(md, "| {:.2} % | {:.2} % |", share * 100.0, at(share));
    }
}

fn costliest(report: &CostConcentration, md: &mut String) {
    let _ = write!(
        md,
        "\n| # | {} | calls | tokens in | tokens out | cost | revenue | share |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|\n",
        report.by.noun()
    );
    for group in &report.top {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            group.rank,
            escape(&group.id),
            group.calls,
            group.input_tokens,
            group.output_tokens,
            usd(group.cost_usd),
            money(group.revenue_usd),
            percent(group.share)
        );
    }
    if report.groups > report.top.len() as u64 {
        let _ = writeln!(
            md,
            "\nAll {} {} are in `customers.csv`.",
            report.groups,
            report.by.plural()
        );
    }
}

fn losses(report: &CostConcentration, md: &mut String) {
    let losses = &report.losses;
    revenue_unknown(report, md);
    if losses.groups == 0 {
        return;
    }
    let _ = write!(
        md,
        "\n**{} {} cost more than their revenue**, {} in all:\n\n\
         | {} | cost | revenue | loss |\n|---|---:|---:|---:|\n",
        losses.groups,
        report.by.plural(),
        usd(losses.total_loss_usd),
        report.by.noun()
    );
    for loss in losses.largest.iter().take(LOSSES_SHOWN) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            escape(&loss.id),
            usd(loss.cost_usd),
            usd(loss.revenue_usd),
            usd(loss.loss_usd)
        );
    }
}

/// The groups with a cost and no revenue reported: never left out of the question of
/// whether they cost more than they bring.
fn revenue_unknown(report: &CostConcentration, md: &mut String) {
    let unknown = &report.losses.revenue_unknown;
    if report.total_revenue_usd.is_none() {
        let _ = writeln!(
            md,
            "\nNo line reported `revenue_usd`: whether any {} costs more than it brings is \
             unknown.",
            report.by.noun()
        );
        return;
    }
    if unknown.groups == 0 {
        return;
    }
    let _ = write!(
        md,
        "\n**{} {} reported no revenue** ({} of cost): whether they cost more than they \
         bring is unknown.\n\n| {} | cost |\n|---|---:|\n",
        unknown.groups,
        report.by.plural(),
        usd(unknown.cost_usd),
        report.by.noun()
    );
    for group in unknown.costliest.iter().take(LOSSES_SHOWN) {
        let _ = writeln!(md, "| {} | {} |", escape(&group.id), usd(group.cost_usd));
    }
}
