//! The terminal's signals section: a few `evalgate:` lines — SLIs with their intervals, the
//! tier mix, output length, latency, load conditions, cost, and hours of day when the run
//! spanned more than one. Each part shows when the suite configures its feature (see
//! `crate::output`); warnings show whenever the report has more than its verdict line.

use std::fmt::Write;

use super::config::NO_CONDITION;
use super::cost::{Cost, UNKNOWN_MODEL};
use super::latency::{Latency, Slice};
use super::{Percentiles, Rate, Signals, TierMix, VerbosityDrift};
use crate::output::{Feature, Shown};
use crate::terminal::printable;

/// At most this many tiers, customers or models on one line; the JSON has them all.
const SHOWN: usize = 5;

/// Appends the parts `shown` asks for to `out`, each line starting with `\nevalgate: `.
pub fn render_text(signals: &Signals, shown: Shown<'_>, out: &mut String) {
    let sli = &signals.sli;
    if shown.feature(Feature::Slis) {
        // A rate nothing measured (no sample ran a schema check) is left out, not "none".
        let rates: Vec<String> = [
            ("refusals", &sli.refusals),
            ("schema conformance", &sli.schema_conformance),
            ("truncated", &sli.truncations),
        ]
        .into_iter()
        .filter(|(_, r)| r.rate.is_some())
        .map(|(name, r)| format!(" · {name} {}", rate(r)))
        .collect();
        let _ = write!(
            out,
            "\nevalgate: signals: {} samples, {} answered{}",
            signals.samples,
            signals.answered,
            rates.concat(),
        );
    }
    let bumps = &sli.model_bumps;
    if bumps.samples > 0 && shown.findings() {
        let models: Vec<String> = (bumps.models.iter().take(SHOWN))
            .map(|(model, n)| format!("{} ({n})", printable(model)))
            .collect();
        let _ = write!(
            out,
            "\nevalgate: WARNING silent model bump: {} of {} samples served by {} instead of pinned {}",
            bumps.samples,
            bumps.checked,
            models.join(", "),
            printable(&bumps.pinned.join(", ")),
        );
    }
    tiers(&signals.tiers, shown, out);
    verbosity(&signals.verbosity, shown, out);
    latency(&signals.latency, shown, out);
    if shown.feature(Feature::Cost) {
        cost(&signals.cost, out);
    }
    if shown.findings() {
        for note in &signals.notes {
            let _ = write!(out, "\nevalgate: signals: {}", printable(note));
        }
    }
}

/// The tier mix, when the suite declares its tiers or a case forces one; a forced tier
/// that was not honoured, whenever warnings show.
fn tiers(mix: &TierMix, shown: Shown<'_>, out: &mut String) {
    if mix.tiers.is_empty() {
        return;
    }
    if shown.feature(Feature::Tiers) || (shown.findings() && !mix.forced.is_empty()) {
        let mut shares: Vec<_> = mix.tiers.iter().collect();
        shares.sort_by(|a, b| b.1.share.count.cmp(&a.1.share.count).then(a.0.cmp(b.0)));
        let mut parts: Vec<String> = shares
            .iter()
            .take(SHOWN)
            .map(|(tier, share)| {
                let mut part = format!("{} {}", printable(tier), rate(&share.share));
                if let (Some(before), Some(p)) = (share.before.and_then(|b| b.rate), share.p_value)
                {
                    let _ = write!(part, ", baseline {} (p = {})", percent(before), p_value(p));
                }
                part
            })
            .collect();
        if shares.len() > SHOWN {
            parts.push(format!("{} more", shares.len() - SHOWN));
        }
        let _ = write!(out, "\nevalgate: tiers: {}", parts.join(" · "));
    }
    if !shown.findings() {
        return;
    }
    for (tier, forced) in &mix.forced {
        if forced.honoured.count < forced.honoured.n {
            let others: Vec<String> = (forced.served.iter())
                .filter(|(served, _)| *served != tier)
                .map(|(served, n)| format!("{} {n}", printable(served)))
                .collect();
            let _ = write!(
                out,
                "\nevalgate: WARNING forced tier {} served only {} (instead: {})",
                printable(tier),
                rate(&forced.honoured),
                others.join(", "),
            );
        }
    }
}

/// Output lengths, when the suite configures the drift test or a baseline's lengths were
/// compared with.
fn verbosity(drift: &VerbosityDrift, shown: Shown<'_>, out: &mut String) {
    let Some(now) = drift.now else { return };
    if !(shown.feature(Feature::OutputLength) || (shown.findings() && drift.test.is_some())) {
        return;
    }
    let _ = write!(
        out,
        "\nevalgate: output length: p50 {} B, p95 {} B",
        now.p50, now.p95
    );
    if let Some(before) = drift.before {
        let _ = write!(
            out,
            " (baseline p50 {} B, p95 {} B)",
            before.p50, before.p95
        );
    }
    match (&drift.test, &drift.note) {
        (Some(test), _) => {
            let verdict = if drift.drifted {
                format!("< {}: DRIFTED", drift.alpha)
            } else {
                format!("≥ {}: no drift", drift.alpha)
            };
            let _ = write!(
                out,
                " · Mann-Whitney p = {} {verdict}",
                p_value(test.p_value)
            );
        }
        (None, Some(note)) if drift.before.is_some() => {
            let _ = write!(out, " · {note}");
        }
        _ => {}
    }
}

/// Latency percentiles when the suite gates latency or the agent streams (time to first
/// token, which the summary line lacks); load conditions whenever a named one ran; hours of
/// day when the suite names their time zone or gates latency.
fn latency(latency: &Latency, shown: Shown<'_>, out: &mut String) {
    if let Some(overall) = latency.overall
        && (shown.feature(Feature::Latency) || (shown.findings() && latency.ttft.is_some()))
    {
        let _ = write!(out, "\nevalgate: latency: {}", percentiles(&overall, " ms"));
        if let Some(ttft) = latency.ttft {
            let _ = write!(out, " · time to first token {}", percentiles(&ttft, " ms"));
        }
    }
    // One condition that is no condition says nothing the overall line did not.
    let named = latency.conditions.keys().any(|c| c != NO_CONDITION);
    if named && shown.findings() {
        for (condition, slice) in &latency.conditions {
            let _ = write!(
                out,
                "\nevalgate: condition {}: {}",
                printable(condition),
                self::slice(slice)
            );
        }
    }
    if latency.hours.len() > 1
        && (shown.feature(Feature::TimeZone) || shown.feature(Feature::Latency))
    {
        for (hour, slice) in &latency.hours {
            let _ = write!(
                out,
                "\nevalgate: hour {hour:02} ({}): {}",
                printable(&latency.time_zone),
                self::slice(slice)
            );
        }
    }
}

fn slice(slice: &Slice) -> String {
    let mut text = format!(
        "{} samples, pass {}, {} errors",
        slice.samples,
        rate(&slice.pass_rate),
        slice.errors
    );
    if let Some(l) = slice.latency {
        let _ = write!(text, ", p50 {:.1} ms, p95 {:.1} ms", l.p50, l.p95);
    }
    text
}

/// The cost line, shown when the suite asks for cost (`prices:` or a `cost.*` gate): what
/// the run cost at the suite's prices, or that it is unknown when no sample's model has a
/// price — one line, whatever is missing.
fn cost(cost: &Cost, out: &mut String) {
    if cost.cases.is_empty() && cost.no_usage == 0 {
        return;
    }
    let priced = cost
        .cases
        .values()
        .any(|spend| spend.samples > spend.unpriced);
    if !priced && cost.unpriced > 0 {
        let _ = write!(
            out,
            "\nevalgate: cost: unknown · tokens {} in / {} out · no price for {}: {}",
            cost.input_tokens,
            cost.output_tokens,
            unpriced_models(cost),
            price_hint(cost)
        );
        return;
    }
    let _ = write!(
        out,
        "\nevalgate: cost: {} total · tokens {} in / {} out",
        usd(cost.total_usd),
        cost.input_tokens,
        cost.output_tokens
    );
    if let Some(top) = cost.top_1_percent {
        let _ = write!(
            out,
            " · top 1 % of cases ({}) spent {}",
            top.cases,
            percent(top.share)
        );
    }
    if let Some(top) = &cost.most_expensive {
        let _ = write!(
            out,
            " · most expensive {} {}",
            printable(&top.case),
            usd(top.usd)
        );
    }
    if cost.unpriced > 0 {
        let _ = write!(
            out,
            " · {} samples unpriced ({}): {}",
            cost.unpriced,
            unpriced_models(cost),
            price_hint(cost)
        );
    }
    if cost.no_usage > 0 {
        let _ = write!(out, " · {} answered samples without usage", cost.no_usage);
    }
}

/// What to do about samples without a price, in a few words.
fn price_hint(cost: &Cost) -> &'static str {
    if cost.unpriced_models.contains_key(UNKNOWN_MODEL) {
        // No price can name a model nobody named.
        "name the model in `envelope.model` and add it to `prices:`"
    } else {
        "add it to `prices:`"
    }
}

/// `gpt-x 3, (unknown) 1`: the models without a price and their samples.
fn unpriced_models(cost: &Cost) -> String {
    (cost.unpriced_models.iter().take(SHOWN))
        .map(|(model, n)| format!("{} {n}", printable(model)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2/40 = 5.0 % [1.4–16.5 %]`, or `none measured`.
pub(super) fn rate(rate: &Rate) -> String {
    match (rate.rate, rate.interval) {
        (Some(r), Some([low, high])) => format!(
            "{}/{} = {} [{:.1}–{:.1} %]",
            rate.count,
            rate.n,
            percent(r),
            low * 100.0,
            high * 100.0
        ),
        _ => "none measured".to_string(),
    }
}

pub(super) fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

pub(super) fn p_value(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

pub(super) fn percentiles(p: &Percentiles, unit: &str) -> String {
    format!(
        "p50 {:.1}{unit}, p95 {:.1}{unit}, p99 {:.1}{unit} (n = {})",
        p.p50, p.p95, p.p99, p.n
    )
}

/// Dollars with three significant digits below $1 (`$0.000123`), cents above.
pub fn usd(x: f64) -> String {
    let decimals = if x > 0.0 && x < 1.0 {
        (2 - x.log10().floor() as i32).clamp(2, 9) as usize
    } else {
        2
    };
    format!("${x:.decimals$}")
}
