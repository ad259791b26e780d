//! The report: the groups ranked by cost, the shares of the costliest 1 %, 0.1 % and
//! 0.01 %, the Gini coefficient and Lorenz curve, the groups that cost more than they
//! bring in and those whose revenue is unknown, the heavy tail, and what was left out.

use std::path::Path;

use serde::Serialize;

use super::group_by::GroupBy;
use super::lorenz::{Lorenz, LorenzPoint};
use super::tally::{GroupTally, PICOS_PER_USD, UsageTally};
use super::warnings::WarningGroup;

/// The costliest groups listed in the report (every group is in `customers.csv`).
pub const TOP_LISTED: usize = 20;
/// The cut-offs, as the number of groups per group counted: the top 1 % is 1 in 100.
const CUT_OFFS: [(u64, f64); 3] = [(100, 1.0), (1000, 0.1), (10_000, 0.01)];
/// The heavy tail is the costliest 1 % (at least one group).
const HEAVY_TAIL_PER: usize = 100;

/// How concentrated the production cost is across customers (or models).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CostConcentration {
    /// The usage file, as given.
    pub source: String,
    /// What the cost is grouped by: customers or models.
    pub by: GroupBy,
    /// Lines that are not blank (blank lines are skipped and counted apart).
    pub lines: u64,
    /// Blank lines, skipped.
    pub blank_lines: u64,
    /// Lines added to the cost: priced calls.
    pub valid_lines: u64,
    /// Lines left out: the sum of `warnings`.
    pub skipped_lines: u64,
    /// Lines left out, by kind, with the first few of each.
    pub warnings: Vec<WarningGroup>,
    /// How many customers (or models) had a priced call.
    pub groups: u64,
    /// Input tokens of the priced calls.
    pub input_tokens: u64,
    /// Output tokens of the priced calls.
    pub output_tokens: u64,
    /// What the priced calls cost in all, in USD.
    pub total_cost_usd: f64,
    /// The revenue of the groups that reported some; None when none did.
    pub total_revenue_usd: Option<f64>,
    /// The costliest 1 %, 0.1 % and 0.01 % of the groups.
    pub top_shares: Vec<TopShare>,
    /// Of the cost per group: 0 when all cost the same, (n − 1)/n when one costs
    /// everything. None when nothing was spent (every priced model is free).
    pub gini: Option<f64>,
    /// At most 256 points, both ends and the cut-offs of `top_shares` among them.
    pub lorenz: Vec<LorenzPoint>,
    /// The costliest groups, at most [`TOP_LISTED`].
    pub top: Vec<GroupCost>,
    /// Groups whose cost exceeds the revenue they reported.
    pub losses: Losses,
    /// The costliest 1 % of the groups (at least one): the ids, costliest first, to mark
    /// eval cases imported from them.
    pub heavy_tail: Vec<String>,
    /// Models without a price, and the lines and tokens left out for them.
    pub unpriced_models: Vec<UnpricedModel>,
    /// Every group, costliest first (ties by id); in `customers.csv`, not `cost.json`.
    #[serde(skip)]
    pub all: Vec<GroupCost>,
}

/// One customer (or model) and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GroupCost {
    /// 1 for the costliest.
    pub rank: u64,
    /// Untrusted text from the usage file.
    pub id: String,
    /// Its priced calls.
    pub calls: u64,
    /// Input tokens of its calls.
    pub input_tokens: u64,
    /// Output tokens of its calls.
    pub output_tokens: u64,
    /// What its calls cost, in USD.
    pub cost_usd: f64,
    /// What its calls reported; None when none did.
    pub revenue_usd: Option<f64>,
    /// Its part of the total cost (0 when nothing was spent).
    pub share: f64,
}

/// What the costliest `percent` % of the groups cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TopShare {
    /// 1, 0.1 or 0.01.
    pub percent: f64,
    /// floor(n × percent / 100).
    pub groups: u64,
    /// What they cost, in USD; `None` when the figure is unavailable.
    pub cost_usd: Option<f64>,
    /// `cost_usd` over the total.
    pub share: Option<f64>,
    /// Why there is no figure: too few groups for even one to be in the top, or nothing
    /// spent.
    pub unavailable: Option<String>,
}

/// The groups that cost more than they brought in, and those that may: the ones that
/// reported no revenue.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Losses {
    /// How many groups cost more than they brought in.
    pub groups: u64,
    /// What they lost in all, in USD.
    pub total_loss_usd: f64,
    /// The largest losses, at most [`TOP_LISTED`].
    pub largest: Vec<Loss>,
    /// The groups with a cost whose calls reported no revenue: whether they cost more than
    /// they bring is unknown, so they are listed apart rather than left out.
    pub revenue_unknown: RevenueUnknown,
}

/// The groups with a cost and no revenue reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RevenueUnknown {
    /// How many groups had a cost and reported no revenue.
    pub groups: u64,
    /// What they cost in all.
    pub cost_usd: f64,
    /// The costliest of them first (ties by id), at most [`TOP_LISTED`].
    pub costliest: Vec<UnknownRevenueGroup>,
}

/// A group with a cost and no revenue reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UnknownRevenueGroup {
    /// The customer (or model); untrusted text from the usage file.
    pub id: String,
    /// What its calls cost, in USD.
    pub cost_usd: f64,
}

/// A group whose cost exceeds the revenue it reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Loss {
    /// The customer (or model); untrusted text from the usage file.
    pub id: String,
    /// What its calls cost, in USD.
    pub cost_usd: f64,
    /// The revenue its calls reported, in USD.
    pub revenue_usd: f64,
    /// Cost minus revenue.
    pub loss_usd: f64,
}

/// A model the price table lacks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UnpricedModel {
    /// Untrusted text from the usage file.
    pub model: String,
    /// Lines of usage that named it.
    pub lines: u64,
    /// Input tokens of those lines, not priced.
    pub input_tokens: u64,
    /// Output tokens of those lines, not priced.
    pub output_tokens: u64,
}

/// Nano-dollars per USD, and pico-dollars per nano-dollar.
const NANOS_PER_USD: f64 = 1e9;
const PICOS_PER_NANO: u128 = 1000;

/// A group as ranked: its id and exact sums.
type Ranked = (Box<str>, GroupTally);

fn picos_to_usd(picos: u128) -> f64 {
    picos as f64 / PICOS_PER_USD
}

/// The report of a merged tally with at least one valid line.
pub(crate) fn build(path: &Path, by: GroupBy, mut tally: UsageTally<'_>) -> CostConcentration {
    let mut ranked: Vec<Ranked> = tally.drain_groups().collect();
    // Costliest first; ties by id, so the order depends on nothing but the data.
    ranked
        .sort_unstable_by(|a, b| (b.1.cost_picos.cmp(&a.1.cost_picos)).then_with(|| a.0.cmp(&b.0)));
    let total_picos = (ranked.iter()).fold(0u128, |sum, g| sum.saturating_add(g.1.cost_picos));
    let total = picos_to_usd(total_picos);
    let lorenz = Lorenz::new(ranked.iter().rev().map(|g| picos_to_usd(g.1.cost_picos)));
    let n = ranked.len();
    let revenue = (ranked.iter())
        .filter_map(|g| g.1.revenue_nanos)
        .fold(None, |sum: Option<u128>, nanos| {
            Some(sum.unwrap_or(0) + u128::from(nanos))
        });
    let top_shares: Vec<TopShare> = CUT_OFFS
        .iter()
        .map(|&(per, percent)| top_share(&ranked, per, percent, total_picos, by))
        .collect();
    let keep: Vec<usize> = top_shares.iter().map(|t| t.groups as usize).collect();
    let losses = losses(&ranked);
    let all: Vec<GroupCost> = (ranked.into_iter().enumerate())
        .map(|(i, (id, group))| GroupCost {
            rank: i as u64 + 1,
            id: id.into(),
            calls: group.sums.calls,
            input_tokens: group.sums.input,
            output_tokens: group.sums.output,
            cost_usd: picos_to_usd(group.cost_picos),
            revenue_usd: group.revenue_nanos.map(|n| n as f64 / NANOS_PER_USD),
            share: if total_picos > 0 {
                group.cost_picos as f64 / total_picos as f64
            } else {
                0.0
            },
        })
        .collect();
    let heavy = (n / HEAVY_TAIL_PER).max(1).min(n);
    let source = path.display().to_string();
    CostConcentration {
        lines: tally.lines,
        blank_lines: tally.blank_lines,
        valid_lines: tally.valid_lines,
        unpriced_models: (tally.unpriced().into_iter())
            .map(|u| UnpricedModel {
                model: u.model,
                lines: u.sums.calls,
                input_tokens: u.sums.input,
                output_tokens: u.sums.output,
            })
            .collect(),
        skipped_lines: tally.lines - tally.valid_lines,
        warnings: std::mem::take(&mut tally.warnings).into_groups(&source),
        source,
        by,
        groups: n as u64,
        input_tokens: all
            .iter()
            .fold(0u64, |s, g| s.saturating_add(g.input_tokens)),
        output_tokens: all
            .iter()
            .fold(0u64, |s, g| s.saturating_add(g.output_tokens)),
        total_cost_usd: total,
        total_revenue_usd: revenue.map(|n| n as f64 / NANOS_PER_USD),
        top_shares,
        gini: lorenz.gini(),
        lorenz: lorenz.downsampled(&keep),
        top: all.iter().take(TOP_LISTED).cloned().collect(),
        losses,
        heavy_tail: all.iter().take(heavy).map(|g| g.id.clone()).collect(),
        all,
    }
}

/// The costliest `n / per` of `ranked`, said to be `percent` % of them; sums exact.
fn top_share(
    ranked: &[Ranked],
    per: u64,
    percent: f64,
    total_picos: u128,
    by: GroupBy,
) -> TopShare {
    let groups = ranked.len() as u64 / per;
    let mut share = TopShare {
        percent,
        groups,
        cost_usd: None,
        share: None,
        unavailable: None,
    };
    if groups == 0 {
        share.unavailable = Some(format!(
            "fewer than {per} {}: the top {percent} % is not even one",
            by.plural()
        ));
    } else if total_picos == 0 {
        share.unavailable = Some("nothing was spent".into());
    } else {
        let picos = (ranked[..groups as usize].iter())
            .fold(0u128, |sum, g| sum.saturating_add(g.1.cost_picos));
        share.cost_usd = Some(picos_to_usd(picos));
        share.share = Some(picos as f64 / total_picos as f64);
    }
    share
}

/// The groups that reported revenue and cost more than it, the largest loss first, and
/// the groups with a cost that reported none, costliest first (`ranked`'s order);
/// compared and summed exactly.
fn losses(ranked: &[Ranked]) -> Losses {
    let unknown: Vec<&Ranked> = (ranked.iter())
        .filter(|(_, group)| group.revenue_nanos.is_none() && group.cost_picos > 0)
        .collect();
    let revenue_unknown = RevenueUnknown {
        groups: unknown.len() as u64,
        cost_usd: picos_to_usd(
            (unknown.iter()).fold(0u128, |s, g| s.saturating_add(g.1.cost_picos)),
        ),
        costliest: (unknown.iter().take(TOP_LISTED))
            .map(|(id, group)| UnknownRevenueGroup {
                id: id.to_string(),
                cost_usd: picos_to_usd(group.cost_picos),
            })
            .collect(),
    };
    let mut losses: Vec<(u128, Loss)> = (ranked.iter())
        .filter_map(|(id, group)| {
            let revenue = u128::from(group.revenue_nanos?) * PICOS_PER_NANO;
            let loss = group.cost_picos.checked_sub(revenue).filter(|&l| l > 0)?;
            Some((
                loss,
                Loss {
                    id: id.to_string(),
                    cost_usd: picos_to_usd(group.cost_picos),
                    revenue_usd: picos_to_usd(revenue),
                    loss_usd: picos_to_usd(loss),
                },
            ))
        })
        .collect();
    losses.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    Losses {
        groups: losses.len() as u64,
        total_loss_usd: picos_to_usd(losses.iter().fold(0u128, |s, l| s.saturating_add(l.0))),
        largest: losses
            .into_iter()
            .take(TOP_LISTED)
            .map(|(_, loss)| loss)
            .collect(),
        revenue_unknown,
    }
}
