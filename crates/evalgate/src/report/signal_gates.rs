//! Gates on the operational signals: capability SLIs, tier shares, pass rate per load
//! condition, latency and cost. A signal nothing measured (no sample ran a `json_schema`
//! check, no sample under the condition) skips its gate and says why; a cost gate with
//! unpriced samples fails rather than passing on part of the bill.

use super::measured::Measured;
use crate::gate::{Bound, SignalMetric};
use crate::signals::{Percentiles, Rate, Signals, UNREPORTED_TIER};

/// The measurement of a signal metric (the other metrics are `report::gates`' business).
pub(super) fn measure(metric: &SignalMetric, bound: Bound, signals: &Signals) -> Measured {
    let sli = &signals.sli;
    match metric {
        SignalMetric::RefusalRate => rate(
            &sli.refusals,
            "refused",
            "no answered sample says whether it refused",
        ),
        SignalMetric::SchemaConformance => rate(
            &sli.schema_conformance,
            "conformed to their JSON Schema",
            "no sample ran a `json_schema` check",
        ),
        SignalMetric::TruncationRate => rate(
            &sli.truncations,
            "were cut by the output limit (finish_reason: length)",
            "no answered sample reported a finish_reason",
        ),
        SignalMetric::VerbosityDrift => {
            let drift = &signals.verbosity;
            match &drift.test {
                Some(test) => Measured::value(if drift.drifted { 1.0 } else { 0.0 }).detail(
                    format!(
                        "output bytes p50 {} now vs {} in the baseline; Mann-Whitney U p = {:.4} (α {})",
                        p50(drift.now.as_ref()),
                        p50(drift.before.as_ref()),
                        test.p_value,
                        drift.alpha
                    ),
                ),
                None => Measured::skipped(drift.note.clone().unwrap_or_else(|| {
                    "no output lengths to compare with (the baseline has none)".into()
                })),
            }
        }
        SignalMetric::TierShare(tier) => tier_share(tier, bound, signals),
        SignalMetric::ConditionPassRate(condition) => {
            match signals.latency.conditions.get(condition) {
                // Errored samples are in the rate's denominator: a timeout is not a pass.
                Some(slice) => rate(
                    &slice.pass_rate,
                    &format!("passed under `{condition}` ({} errored)", slice.errors),
                    "",
                ),
                None => Measured::skipped(format!("no sample ran under condition `{condition}`")),
            }
        }
        SignalMetric::LatencyP50 => latency(signals, |p| p.p50),
        SignalMetric::LatencyP95 => latency(signals, |p| p.p95),
        SignalMetric::LatencyP99 => latency(signals, |p| p.p99),
        SignalMetric::CostRun | SignalMetric::CostCaseMax => {
            let cost = &signals.cost;
            if cost.no_usage > 0 {
                return Measured {
                    value: Some(f64::INFINITY),
                    details: vec![format!(
                        "{} answered sample(s) reported no token usage, so the bill is unknown; \
                         have the agent report `usage` (or map it with `response.usage`)",
                        cost.no_usage
                    )],
                    ..Measured::default()
                };
            }
            if cost.unpriced > 0 {
                return Measured {
                    value: Some(f64::INFINITY),
                    details: vec![format!(
                        "{} sample(s) used models without a price ({}); add them to `prices`",
                        cost.unpriced,
                        cost.unpriced_models
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )],
                    ..Measured::default()
                };
            }
            if *metric == SignalMetric::CostRun {
                Measured::value(cost.total_usd).detail(format!(
                    "{} tokens in / {} out",
                    cost.input_tokens, cost.output_tokens
                ))
            } else {
                match &cost.most_expensive {
                    Some(case) => Measured::value(case.usd).detail(case.case.clone()),
                    None => Measured::skipped("no priced sample".into()),
                }
            }
        }
    }
}

/// The share of ordinary samples served by `tier`. Samples that did not say which tier
/// served them count against the gate: as `tier` for a `max` bound, as another tier for a
/// `min` bound — a canned answer that does not say it is canned must not pass `max: 0.02`.
fn tier_share(tier: &str, bound: Bound, signals: &Signals) -> Measured {
    let mix = &signals.tiers;
    if mix.samples == 0 {
        return Measured::skipped("no ordinary answered samples".into());
    }
    let count = |name: &str| mix.tiers.get(name).map_or(0, |s| s.share.count);
    let served = count(tier);
    let unreported = if tier == UNREPORTED_TIER {
        0
    } else {
        count(UNREPORTED_TIER)
    };
    let worst = match bound {
        Bound::Max(_) => served + unreported,
        Bound::Min(_) => served,
    };
    let mut measured = Measured::value(worst as f64 / mix.samples as f64).detail(format!(
        "{served} of {} were served by `{tier}`{}",
        mix.samples,
        mix.tiers
            .get(tier)
            .and_then(|s| s.share.interval)
            .map(|[low, high]| format!(" (95 % interval {low:.3}–{high:.3})"))
            .unwrap_or_default()
    ));
    if unreported > 0 {
        measured = measured.detail(format!(
            "{unreported} did not say which tier served them, counted against the gate"
        ));
    }
    measured
}

/// A rate's value with its count and 95 % interval; skipped with `nothing` when n = 0.
fn rate(rate: &Rate, what: &str, nothing: &str) -> Measured {
    match (rate.rate, rate.interval) {
        (Some(value), Some([low, high])) => Measured::value(value).detail(format!(
            "{} of {} {what} (95 % interval {low:.3}–{high:.3})",
            rate.count, rate.n
        )),
        _ => Measured::skipped(nothing.to_string()),
    }
}

fn latency(signals: &Signals, pick: fn(&Percentiles) -> f64) -> Measured {
    match &signals.latency.overall {
        Some(p) => Measured::value(pick(p)).detail(format!(
            "over {} answered samples: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
            p.n, p.p50, p.p95, p.p99
        )),
        None => Measured::skipped("no answered samples".into()),
    }
}

fn p50(p: Option<&Percentiles>) -> String {
    p.map_or_else(|| "-".into(), |p| format!("{:.0}", p.p50))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Metric;
    use crate::record::{RunData, SampleRecord};
    use crate::signals::signals_of;

    fn under_peak(verdict: &str) -> SampleRecord {
        serde_json::from_value(serde_json::json!({
            "schema": 1, "run_id": "r", "case": "orders/a", "file": "evals/cases/orders/a.yaml",
            "sample": 0, "verdict": verdict, "checks": [], "output": "", "output_bytes": 0,
            "output_truncated": false, "latency_ms": 30_000.0, "attempts": 1,
            "condition": "peak", "error": (verdict == "error").then_some("timeout"),
            "started_at": "2026-11-28T12:00:00Z", "finished_at": "2026-11-28T12:00:30Z",
        }))
        .unwrap()
    }

    fn peak_gate(samples: Vec<SampleRecord>) -> Measured {
        let data = RunData {
            samples,
            ..RunData::default()
        };
        let Metric::Signal(metric) = Metric::parse("conditions.pass_rate.peak").unwrap() else {
            unreachable!("a signal metric")
        };
        measure(
            &metric,
            Bound::Min(0.9),
            &signals_of(&data, &Default::default(), None),
        )
    }

    /// Timeouts under injected latency are what a load condition exists to catch: they count
    /// as samples that did not pass, so a `min: 0.9` gate goes red.
    #[test]
    fn errored_samples_under_a_condition_count_against_its_pass_rate() {
        let mut samples = vec![under_peak("pass"); 9];
        samples.extend(vec![under_peak("error"); 6]);
        let measured = peak_gate(samples);
        assert_eq!(measured.value, Some(9.0 / 15.0));
        assert!(!Bound::Min(0.9).holds(measured.value.unwrap()));
        assert!(
            measured.details[0].starts_with("9 of 15 passed under `peak` (6 errored)"),
            "{:?}",
            measured.details
        );

        let measured = peak_gate(vec![under_peak("error"); 3]);
        assert_eq!(measured.value, Some(0.0));
        assert!(
            measured.details[0].starts_with("0 of 3 passed under `peak` (3 errored)"),
            "{:?}",
            measured.details
        );
    }
}
