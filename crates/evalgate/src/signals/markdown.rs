//! The signals section of the GitHub step summary: small Markdown tables. Tier, model,
//! customer, case and condition names come from agents and case files: every one goes
//! through the caller's `escape`.

use std::fmt::Write;

use super::config::NO_CONDITION;
use super::text::{p_value, percent, usd};
use super::{Cost, Latency, Percentiles, Rate, Signals, Slice, TierMix, VerbosityDrift};

/// The most customers the table lists, the most expensive first.
const CUSTOMERS_SHOWN: usize = 20;

type Escape<'a> = &'a dyn Fn(&str) -> String;

/// Appends a `### Operational signals` section to `out`.
pub fn render_markdown(signals: &Signals, escape: &dyn Fn(&str) -> String, out: &mut String) {
    let _ = writeln!(out, "\n### Operational signals\n");
    let _ = writeln!(
        out,
        "{} samples, {} answered.\n",
        signals.samples, signals.answered
    );
    let sli = &signals.sli;
    out.push_str("| signal | count | of | rate | 95 % interval |\n|---|---:|---:|---:|---|\n");
    for (name, rate) in [
        ("refusals", &sli.refusals),
        ("schema conformance", &sli.schema_conformance),
        ("truncated (`length`)", &sli.truncations),
    ] {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} |",
            rate.count,
            rate.n,
            rate.rate.map(percent).unwrap_or_else(|| "–".into()),
            interval(rate)
        );
    }
    let bumps = &sli.model_bumps;
    if bumps.samples > 0 {
        let models: Vec<String> = (bumps.models.iter())
            .map(|(model, n)| format!("{} ({n})", escape(model)))
            .collect();
        let pinned: Vec<String> = bumps.pinned.iter().map(|m| escape(m)).collect();
        let _ = writeln!(
            out,
            "\n**Silent model bump:** {} of {} samples were served by {} instead of the pinned {}.",
            bumps.samples,
            bumps.checked,
            models.join(", "),
            pinned.join(", ")
        );
    }
    tiers(&signals.tiers, escape, out);
    verbosity(&signals.verbosity, out);
    latency(&signals.latency, escape, out);
    cost(&signals.cost, escape, out);
    for note in &signals.notes {
        let _ = writeln!(out, "\n> {}", escape(note));
    }
}

fn interval(rate: &Rate) -> String {
    match rate.interval {
        Some([low, high]) => format!("{:.1}–{:.1} %", low * 100.0, high * 100.0),
        None => "–".into(),
    }
}

fn tiers(mix: &TierMix, escape: Escape, out: &mut String) {
    if mix.tiers.is_empty() {
        return;
    }
    out.push_str("\n| tier | samples | share | 95 % interval | baseline | Fisher p |\n|---|---:|---:|---|---:|---:|\n");
    for (tier, share) in &mix.tiers {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            escape(tier),
            share.share.count,
            share.share.rate.map(percent).unwrap_or_else(|| "–".into()),
            interval(&share.share),
            (share.before.and_then(|b| b.rate))
                .map(percent)
                .unwrap_or_else(|| "–".into()),
            share.p_value.map(p_value).unwrap_or_else(|| "–".into()),
        );
    }
    if mix.forced.is_empty() {
        return;
    }
    out.push_str("\n| forced tier | served by it | rate | served by |\n|---|---:|---:|---|\n");
    for (tier, forced) in &mix.forced {
        let served: Vec<String> = (forced.served.iter())
            .map(|(served, n)| format!("{} {n}", escape(served)))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} of {} | {} | {} |",
            escape(tier),
            forced.honoured.count,
            forced.honoured.n,
            (forced.honoured.rate)
                .map(percent)
                .unwrap_or_else(|| "–".into()),
            served.join(", ")
        );
    }
}

fn verbosity(drift: &VerbosityDrift, out: &mut String) {
    let Some(now) = drift.now else { return };
    let _ = write!(out, "\nOutput length: p50 {} B, p95 {} B", now.p50, now.p95);
    if let Some(before) = drift.before {
        let _ = write!(
            out,
            " (baseline: p50 {} B, p95 {} B)",
            before.p50, before.p95
        );
    }
    if let Some(test) = drift.test {
        let _ = write!(
            out,
            "; Mann-Whitney p = {}{}",
            p_value(test.p_value),
            if drift.drifted {
                format!(" < {}: **drifted**", drift.alpha)
            } else {
                String::new()
            }
        );
    } else if let (Some(note), Some(_)) = (&drift.note, drift.before) {
        let _ = write!(out, "; {note}");
    }
    out.push_str(".\n");
}

fn latency(latency: &Latency, escape: Escape, out: &mut String) {
    let Some(overall) = latency.overall else {
        return;
    };
    out.push_str("\n| latency | n | p50 | p95 | p99 |\n|---|---:|---:|---:|---:|\n");
    let row = |name: &str, p: &Percentiles| {
        format!(
            "| {name} | {} | {:.1} ms | {:.1} ms | {:.1} ms |\n",
            p.n, p.p50, p.p95, p.p99
        )
    };
    out.push_str(&row("end to end", &overall));
    if let Some(ttft) = latency.ttft {
        out.push_str(&row("first token", &ttft));
    }
    if latency.conditions.keys().any(|c| c != NO_CONDITION) {
        out.push_str(
            "\n| condition | samples | pass rate | errors | p50 | p95 |\n|---|---:|---:|---:|---:|---:|\n",
        );
        for (condition, slice) in &latency.conditions {
            let _ = writeln!(out, "| {} | {} |", escape(condition), self::slice(slice));
        }
    }
    if latency.hours.len() > 1 {
        let _ = writeln!(
            out,
            "\n| hour ({}) | samples | pass rate | errors | p50 | p95 |\n|---|---:|---:|---:|---:|---:|",
            escape(&latency.time_zone)
        );
        for (hour, slice) in &latency.hours {
            let _ = writeln!(out, "| {hour:02} | {} |", self::slice(slice));
        }
    }
}

/// The cells after the name: samples, pass rate, errors, p50, p95.
fn slice(slice: &Slice) -> String {
    let ms = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| format!("{v:.1} ms"));
    format!(
        "{} | {} | {} | {} | {}",
        slice.samples,
        slice
            .pass_rate
            .rate
            .map(percent)
            .unwrap_or_else(|| "–".into()),
        slice.errors,
        ms(slice.latency.map(|l| l.p50)),
        ms(slice.latency.map(|l| l.p95)),
    )
}

fn cost(cost: &Cost, escape: Escape, out: &mut String) {
    if cost.cases.is_empty() && cost.no_usage == 0 {
        return;
    }
    out.push_str("\n| cost | |\n|---|---|\n");
    let _ = writeln!(out, "| total | {} |", usd(cost.total_usd));
    let _ = writeln!(
        out,
        "| tokens | {} in / {} out |",
        cost.input_tokens, cost.output_tokens
    );
    if let Some(p) = cost.per_case {
        let _ = writeln!(
            out,
            "| per case | p50 {} · p95 {} · p99 {} |",
            usd(p.p50),
            usd(p.p95),
            usd(p.p99)
        );
    }
    if let Some(top) = &cost.most_expensive {
        let _ = writeln!(
            out,
            "| most expensive case | {} {} |",
            escape(&top.case),
            usd(top.usd)
        );
    }
    for (label, top) in [
        ("top 1 % of cases", cost.top_1_percent),
        ("top 10 % of cases", cost.top_10_percent),
    ] {
        if let Some(top) = top {
            let _ = writeln!(
                out,
                "| {label} | {} cases, {} ({}) |",
                top.cases,
                usd(top.usd),
                percent(top.share)
            );
        }
    }
    if cost.unpriced > 0 {
        let models: Vec<String> = (cost.unpriced_models.iter())
            .map(|(model, n)| format!("{} {n}", escape(model)))
            .collect();
        let _ = writeln!(
            out,
            "| unpriced samples | {} ({}) |",
            cost.unpriced,
            models.join(", ")
        );
    }
    if cost.no_usage > 0 {
        let _ = writeln!(out, "| answered without usage | {} |", cost.no_usage);
    }
    if cost.customers.len() > 1 || cost.customers.keys().any(|c| c != super::NO_CUSTOMER) {
        out.push_str(
            "\n| customer | samples | tokens in | tokens out | cost |\n|---|---:|---:|---:|---:|\n",
        );
        let mut customers: Vec<_> = cost.customers.iter().collect();
        customers.sort_by(|a, b| b.1.usd.total_cmp(&a.1.usd).then(a.0.cmp(b.0)));
        for (customer, spend) in customers.iter().take(CUSTOMERS_SHOWN) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                escape(&customer_shown(customer)),
                spend.samples,
                spend.input_tokens,
                spend.output_tokens,
                usd(spend.usd)
            );
        }
        if customers.len() > CUSTOMERS_SHOWN {
            let _ = writeln!(
                out,
                "| … {} more in the JSON report | | | | |",
                customers.len() - CUSTOMERS_SHOWN
            );
        }
    }
}

/// A customer id as the step summary shows it. An id that looks like an email address or a
/// phone number is personal data on a page everyone with read access sees: it is shown as
/// `masked-` and the first 8 hex digits of its SHA-256, stable across runs so a customer can
/// still be followed (`signals.json`, an artifact the workflow controls, keeps the id).
pub(crate) fn customer_shown(id: &str) -> String {
    if !(looks_like_email(id) || looks_like_phone(id)) {
        return id.to_string();
    }
    let hex = crate::digest::sha256_hex(id.trim().to_lowercase().as_bytes());
    format!("masked-{}", &hex[..8])
}

fn looks_like_email(id: &str) -> bool {
    let id = id.trim();
    match id.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !id.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// 7 to 15 digits (E.164 holds at most 15) written with only the separators phone numbers
/// are written with.
fn looks_like_phone(id: &str) -> bool {
    let id = id.trim();
    let digits = id.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && id
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | ' ' | '(' | ')'))
}

#[cfg(test)]
mod tests {
    use super::customer_shown;

    #[test]
    fn emails_and_phone_numbers_are_masked_other_ids_shown() {
        for personal in [
            "jane.doe@example.com",
            "  Jane.Doe@Example.COM ",
            "+1 (415) 555-0134",
            "415.555.0134",
            "+442071838750",
        ] {
            let shown = customer_shown(personal);
            assert!(
                shown.starts_with("masked-") && shown.len() == 15,
                "{personal}: {shown}"
            );
        }
        // Stable, whatever the case or blanks of the address.
        assert_eq!(
            customer_shown("jane.doe@example.com"),
            customer_shown("  Jane.Doe@Example.COM ")
        );
        for plain in [
            "acme-corp",
            "cus_8f2k1",
            "tenant 42",
            "2024",
            "user@localhost",
            "(none)",
        ] {
            assert_eq!(customer_shown(plain), plain);
        }
    }
}
