//! Record fixtures for the signal tests, and the signals of a whole hand-made run: every
//! number checked, then the terminal and Markdown renderings.

use serde_json::json;

use super::config::{PriceFile, SignalsConfig, SignalsFile, validate};
use super::cost::billed_model;
use super::sli::ModelBumps;
use super::*;
use crate::check::CheckResult;
use crate::observation::Usage;
use crate::output::{Feature, OutputPolicy, Shown, Verbosity};
use crate::record::{RunData, RunRecord, SampleRecord};

/// What varies between fixture samples; the rest is a plain passing sample.
#[derive(Clone)]
pub(super) struct SampleSpec {
    pub run_id: &'static str,
    pub case: &'static str,
    pub verdict: &'static str,
    pub tier: Option<&'static str>,
    pub forced_tier: Option<&'static str>,
    pub model: Option<&'static str>,
    pub finish_reason: Option<&'static str>,
    pub refusal: Option<bool>,
    pub condition: Option<&'static str>,
    pub customer: Option<&'static str>,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub output_bytes: u64,
    /// Input and output tokens.
    pub usage: Option<(u64, u64)>,
    /// Expectation names and whether they passed.
    pub checks: Vec<(&'static str, bool)>,
    pub started_at: &'static str,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            run_id: "r1",
            case: "orders/a",
            verdict: "pass",
            tier: None,
            forced_tier: None,
            model: None,
            finish_reason: None,
            refusal: None,
            condition: None,
            customer: None,
            latency_ms: 100.0,
            ttft_ms: None,
            output_bytes: 100,
            usage: None,
            checks: Vec::new(),
            started_at: "2026-11-28T12:00:00Z",
        }
    }
}

pub(super) fn sample(spec: SampleSpec) -> SampleRecord {
    let started_at: jiff::Timestamp = spec.started_at.parse().unwrap();
    let owned = |s: Option<&str>| s.map(str::to_string);
    SampleRecord {
        verdict: serde_json::from_value(json!(spec.verdict)).unwrap(),
        checks: (spec.checks.iter())
            .map(|(expectation, passed)| CheckResult {
                expectation: expectation.to_string(),
                line: 3,
                column: 5,
                passed: *passed,
                expected: String::new(),
                actual: String::new(),
            })
            .collect(),
        output: String::new(),
        output_bytes: usize::try_from(spec.output_bytes).unwrap(),
        latency_ms: spec.latency_ms,
        usage: spec.usage.map(|(input_tokens, output_tokens)| Usage {
            input_tokens,
            output_tokens,
        }),
        tier: owned(spec.tier),
        forced_tier: owned(spec.forced_tier),
        model: owned(spec.model),
        finish_reason: owned(spec.finish_reason),
        refusal: spec.refusal,
        condition: owned(spec.condition),
        customer: owned(spec.customer),
        ttft_ms: spec.ttft_ms,
        error: (spec.verdict == "error").then(|| "timeout".to_string()),
        started_at,
        finished_at: started_at,
        ..SampleRecord::example(spec.run_id, spec.case, 0)
    }
}

pub(super) fn run(run_id: &str, model: Option<&str>) -> RunRecord {
    let envelope = match model {
        Some(model) => json!({"model": model, "prompt": "p-1"}),
        None => json!({"prompt": "p-1"}),
    };
    serde_json::from_value(json!({
        "schema": 1, "run_id": run_id, "suite": "support", "target": "http",
        "evalgate_version": "0.1.0", "pid": 1, "started_at": "2026-11-28T12:00:00Z",
        "concurrency": 4, "envelope": envelope,
    }))
    .unwrap()
}

fn data(runs: Vec<RunRecord>, samples: Vec<SampleRecord>) -> RunData {
    RunData {
        runs,
        samples,
        ..RunData::default()
    }
}

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "{actual} is not {expected}"
    );
}

#[test]
fn slis_count_over_answered_samples() {
    let mut samples = Vec::new();
    // 10 answered: refusal known for 8 (2 refused), finish reason for 9 (3 `length`),
    // 5 ran a json_schema check (4 conformed; one of them ran two schema checks).
    for i in 0..10 {
        samples.push(sample(SampleSpec {
            verdict: if i % 3 == 0 { "fail" } else { "pass" },
            refusal: match i {
                0 | 1 => Some(true),
                8 | 9 => None,
                _ => Some(false),
            },
            finish_reason: match i {
                0..=2 => Some("length"),
                9 => None,
                _ => Some("stop"),
            },
            checks: match i {
                0 => vec![("json_schema", false), ("contains", true)],
                1 => vec![("json_schema", true), ("json_schema", true)],
                2..=4 => vec![("json_schema", true)],
                _ => vec![("contains", false)],
            },
            ..SampleSpec::default()
        }));
    }
    // Errors count for none of them.
    samples.push(sample(SampleSpec {
        verdict: "error",
        refusal: Some(true),
        finish_reason: Some("length"),
        checks: vec![("json_schema", false)],
        ..SampleSpec::default()
    }));
    let signals = signals_of(
        &data(vec![run("r1", None)], samples),
        &SignalsConfig::default(),
        None,
    );
    assert_eq!((signals.samples, signals.answered), (11, 10));
    let sli = &signals.sli;
    assert_eq!((sli.refusals.count, sli.refusals.n), (2, 8));
    assert_eq!(sli.refusals.rate, Some(0.25));
    // Wilson 95 % of 2/8: [0.071479, 0.590725] (the score formula in Python).
    let [low, high] = sli.refusals.interval.unwrap();
    assert!((low - 0.071_479).abs() < 1e-5 && (high - 0.590_725).abs() < 1e-5);
    assert_eq!(
        (sli.schema_conformance.count, sli.schema_conformance.n),
        (4, 5)
    );
    assert_eq!((sli.truncations.count, sli.truncations.n), (3, 9));
    assert_eq!(sli.model_bumps, ModelBumps::default(), "nothing pinned");
}

#[test]
fn model_bumps_are_against_each_runs_pin() {
    let with = |run_id, model| {
        sample(SampleSpec {
            run_id,
            model,
            ..SampleSpec::default()
        })
    };
    let samples = vec![
        with("r1", Some("gpt-4o-2024-08-06")),
        with("r1", Some("gpt-4o-2024-11-20")),
        with("r1", Some("gpt-4o-2024-11-20")),
        with("r1", None),
        with("r2", Some("gpt-4o-mini")),
        // A shard whose run record is missing: the first run's pin applies.
        with("lost", Some("gpt-4o-2024-08-06")),
        // A run that pins nothing cannot be bumped.
        with("r3", Some("anything")),
    ];
    let runs = vec![
        run("r1", Some("gpt-4o-2024-08-06")),
        run("r2", Some("gpt-4o-mini")),
        run("r3", None),
    ];
    let signals = signals_of(&data(runs, samples), &SignalsConfig::default(), None);
    let bumps = &signals.sli.model_bumps;
    assert_eq!((bumps.samples, bumps.checked), (2, 5));
    assert_eq!(bumps.pinned, ["gpt-4o-2024-08-06", "gpt-4o-mini"]);
    assert_eq!(
        bumps.models.iter().collect::<Vec<_>>(),
        [(&"gpt-4o-2024-11-20".to_string(), &2)]
    );
}

/// Two priced models, one unpriced, a sample without usage, three customers.
fn priced_run() -> (RunData, SignalsConfig) {
    let config = validate(&SignalsFile {
        prices: [
            ("gpt-4o-2024-08-06", 2.50, 10.00),
            ("demo-model-2", 0.15, 0.60),
        ]
        .into_iter()
        .map(|(m, input, output)| (m.to_string(), PriceFile { input, output }))
        .collect(),
        ..SignalsFile::default()
    })
    .unwrap();
    let spend = |case, model, customer, usage| {
        sample(SampleSpec {
            case,
            model,
            customer,
            usage: Some(usage),
            ..SampleSpec::default()
        })
    };
    let samples = vec![
        // Reported model: 1000 × 2.5e-6 + 200 × 1e-5 = 0.0045.
        spend("a", Some("gpt-4o-2024-08-06"), Some("acme"), (1_000, 200)),
        // No reported model: the pin (gpt-4o) → 2000 × 2.5e-6 + 100 × 1e-5 = 0.006.
        spend("a", None, Some("acme"), (2_000, 100)),
        // demo-model-2: 10,000 × 1.5e-7 + 1,000 × 6e-7 = 0.0021.
        spend("b", Some("demo-model-2"), Some("globex"), (10_000, 1_000)),
        // Unpriced: tokens counted, no cost.
        spend("b", Some("mystery-9"), Some("globex"), (500, 50)),
        spend("c", Some("mystery-9"), None, (700, 70)),
        // demo-model-2, 4,000 in / 0 out = 0.0006.
        spend("d", Some("demo-model-2"), None, (4_000, 0)),
        // Answered without usage, and an error without usage (not counted).
        sample(SampleSpec {
            case: "e",
            ..SampleSpec::default()
        }),
        sample(SampleSpec {
            case: "e",
            verdict: "error",
            ..SampleSpec::default()
        }),
    ];
    (
        data(vec![run("r1", Some("gpt-4o-2024-08-06"))], samples),
        config,
    )
}

#[test]
fn cost_per_sample_case_customer_and_run() {
    let (data, config) = priced_run();
    let cost = signals_of(&data, &config, None).cost;
    close(cost.total_usd, 0.0045 + 0.006 + 0.0021 + 0.0006);
    assert_eq!(
        cost.input_tokens,
        1_000 + 2_000 + 10_000 + 500 + 700 + 4_000
    );
    assert_eq!(cost.output_tokens, 200 + 100 + 1_000 + 50 + 70);
    close(cost.cases["a"].usd, 0.0105);
    close(cost.cases["b"].usd, 0.0021);
    assert_eq!((cost.cases["b"].samples, cost.cases["b"].unpriced), (2, 1));
    assert_eq!((cost.cases["c"].usd, cost.cases["c"].unpriced), (0.0, 1));
    assert!(!cost.cases.contains_key("e"), "no usage, no spend");
    close(cost.customers["acme"].usd, 0.0105);
    close(cost.customers["globex"].usd, 0.0021);
    close(cost.customers["(none)"].usd, 0.0006);
    assert_eq!(cost.customers["(none)"].input_tokens, 4_700);
    assert_eq!(cost.unpriced, 2);
    assert_eq!(
        cost.unpriced_models.iter().collect::<Vec<_>>(),
        [(&"mystery-9".to_string(), &2)]
    );
    assert_eq!(cost.no_usage, 1);

    let per_sample = cost.per_sample.unwrap();
    assert_eq!(per_sample.n, 4);
    close(per_sample.p50, 0.0021);
    close(per_sample.max, 0.006);
    // Cases with a priced sample: a 0.0105, b 0.0021, d 0.0006 (c has none).
    let per_case = cost.per_case.unwrap();
    assert_eq!(per_case.n, 3);
    close(per_case.p50, 0.0021);
    close(per_case.p95, 0.0105);
    let top = cost.most_expensive.unwrap();
    assert_eq!(top.case, "a");
    close(top.usd, 0.0105);
    // Three cases: 1 % and 10 % are both the single most expensive case.
    let top_1 = cost.top_1_percent.unwrap();
    assert_eq!(top_1.cases, 1);
    close(top_1.share, 0.0105 / 0.0132);
    assert_eq!(cost.top_10_percent.unwrap().cases, 1);

    let free = signals_of(&data, &SignalsConfig::default(), None).cost;
    assert_eq!(
        (free.total_usd, free.unpriced, free.per_case),
        (0.0, 6, None)
    );
    assert_eq!(free.top_1_percent, None);
    assert_eq!(free.input_tokens, cost.input_tokens);
}

#[test]
fn sample_cost_uses_the_reported_model_then_the_pin() {
    let (data, config) = priced_run();
    let pinned = Some("gpt-4o-2024-08-06");
    let cost = |i: usize| sample_cost(&data.samples[i], pinned, &config.prices);
    close(cost(0).unwrap(), 0.0045);
    close(cost(1).unwrap(), 0.006);
    assert_eq!(
        cost(3),
        None,
        "a reported model without a price is not billed as the pin"
    );
    assert_eq!(cost(6), None, "no usage");
    assert_eq!(billed_model(&data.samples[1], None), None);
}

#[test]
fn the_top_one_percent_of_two_hundred_cases() {
    // Cases 1..=200 spend 1..=200 × 10⁻⁴ USD (10,000 input tokens at $0.01 × case number).
    let cases: Vec<&'static str> = (1..=200)
        .map(|i| &*Box::leak(format!("case-{i:03}").into_boxed_str()))
        .collect();
    let prices = SignalsFile {
        prices: (1..=200)
            .map(|i| {
                (
                    format!("m{i}"),
                    PriceFile {
                        input: f64::from(i) * 0.01,
                        output: 0.0,
                    },
                )
            })
            .collect(),
        ..SignalsFile::default()
    };
    let models: Vec<&'static str> = (1..=200)
        .map(|i| &*Box::leak(format!("m{i}").into_boxed_str()))
        .collect();
    let samples = (0..200)
        .map(|i| {
            sample(SampleSpec {
                case: cases[i],
                model: Some(models[i]),
                usage: Some((10_000, 0)),
                ..SampleSpec::default()
            })
        })
        .collect();
    let config = validate(&prices).unwrap();
    let cost = signals_of(&data(vec![run("r1", None)], samples), &config, None).cost;
    let total: f64 = (1..=200).map(|i| f64::from(i) * 1e-4).sum();
    close(cost.total_usd, total);
    // 1 % of 200 cases = the 2 most expensive: 200 + 199 of Σ 1..=200 = 20,100.
    let top_1 = cost.top_1_percent.unwrap();
    assert_eq!(top_1.cases, 2);
    close(top_1.share, 399.0 / 20_100.0);
    // 10 % = 20 cases: Σ 181..=200 = 3,810.
    let top_10 = cost.top_10_percent.unwrap();
    assert_eq!(top_10.cases, 20);
    close(top_10.share, 3_810.0 / 20_100.0);
    assert_eq!(cost.most_expensive.unwrap().case, "case-200");
    close(cost.per_case.unwrap().p99, 198.0 * 1e-4);
}

#[test]
fn signals_serialize_and_read_back() {
    let (data, config) = priced_run();
    let signals = signals_of(&data, &config, None);
    let json = serde_json::to_string(&signals).unwrap();
    assert_eq!(serde_json::from_str::<Signals>(&json).unwrap(), signals);
}

#[test]
fn an_unknown_time_zone_in_a_saved_policy_falls_back_to_utc() {
    let config = SignalsConfig {
        time_zone: "Nowhere/Atlantis".into(),
        ..SignalsConfig::default()
    };
    let samples = vec![sample(SampleSpec::default())];
    let signals = signals_of(&data(vec![run("r1", None)], samples), &config, None);
    assert_eq!(signals.latency.time_zone, "UTC");
    assert_eq!(signals.latency.hours.keys().collect::<Vec<_>>(), [&12]);
    assert!(signals.notes[0].contains("hours of day are in UTC"));
}

/// A run with something in every section, for the renderings.
fn eventful() -> Signals {
    let (mut data, config) = priced_run();
    for (i, s) in data.samples.iter_mut().enumerate() {
        s.tier = Some(if i % 2 == 0 { "primary" } else { "fall|back" }.into());
        s.condition = (i < 3).then(|| "peak <b>".to_string());
        s.refusal = Some(i == 0);
        if i == 4 {
            s.started_at = "2026-11-28T15:00:00Z".parse().unwrap();
        }
    }
    data.samples[2].forced_tier = Some("fall|back".into());
    data.samples[3].model = Some("gpt-4o-2024-11-20\u{1b}[2J".into());
    let baseline = SignalBaseline::of(&data.samples);
    signals_of(&data, &config, Some(&baseline))
}

#[test]
fn the_terminal_section() {
    let signals = eventful();
    let mut text = String::new();
    render_text(&signals, everything(), &mut text);
    assert!(text.starts_with("\nevalgate: signals: 8 samples, 7 answered"));
    assert!(
        text.lines().skip(1).all(|l| l.starts_with("evalgate: ")),
        "{text}"
    );
    // Refusals over ordinary samples: the refusing one ran under a condition.
    assert!(text.contains("refusals 0/4 = 0.0 % ["), "{text}");
    assert!(
        text.contains("WARNING silent model bump: 4 of 5 samples"),
        "{text}"
    );
    assert!(
        text.contains("gpt-4o-2024-11-20\\u{1b}[2J"),
        "control characters are shown, not sent: {text}"
    );
    assert!(!text.contains('\u{1b}'));
    assert!(
        text.contains("WARNING forced tier fall|back served only 0/1"),
        "{text}"
    );
    assert!(
        text.contains("evalgate: condition peak <b>: 3 samples"),
        "{text}"
    );
    assert!(
        text.contains("evalgate: condition none: 5 samples"),
        "{text}"
    );
    assert!(
        text.contains("evalgate: hour 12 (UTC): 4 samples"),
        "{text}"
    );
    assert!(
        text.contains("evalgate: hour 15 (UTC): 1 samples"),
        "{text}"
    );
    assert!(text.contains("evalgate: cost: $0.0132 total"), "{text}");
    assert!(text.contains("top 1 % of cases (1) spent"), "{text}");
    assert!(
        text.contains("2 samples unpriced (gpt-4o-2024-11-20\\u{1b}[2J 1, mystery-9 1)"),
        "{text}"
    );

    // A quiet run: no conditions, one hour, no cost lines.
    let quiet = signals_of(
        &data(vec![run("r1", None)], vec![sample(SampleSpec::default())]),
        &SignalsConfig::default(),
        None,
    );
    let mut text = String::new();
    render_text(&quiet, everything(), &mut text);
    assert!(!text.contains("condition"), "{text}");
    assert!(!text.contains("hour"), "{text}");
    // What nothing measured is left out, not shown as "none".
    assert!(!text.contains("none measured"), "{text}");
    assert!(!text.contains("refusals"), "{text}");
    assert!(text.contains("evalgate: latency: p50 100.0 ms"), "{text}");
}

/// Every part, as at `verbose`.
fn everything() -> Shown<'static> {
    static OUTPUT: std::sync::LazyLock<OutputPolicy> =
        std::sync::LazyLock::new(OutputPolicy::default);
    Shown::new(Verbosity::Verbose, &OUTPUT)
}

/// At normal verbosity a suite that configures nothing sees only the warnings; each part
/// shows once the suite configures its feature.
#[test]
fn the_terminal_section_shows_what_the_suite_configures() {
    let signals = eventful();
    let mut output = OutputPolicy::default();
    let mut text = String::new();
    render_text(&signals, Shown::new(Verbosity::Normal, &output), &mut text);
    let lines: Vec<&str> = text.lines().skip(1).collect();
    // The tier mix shows because a case forced a tier: the case configured it.
    assert!(
        lines.iter().all(|l| l.contains("WARNING")
            || l.starts_with("evalgate: condition ")
            || l.starts_with("evalgate: tiers: ")),
        "only warnings, the tier mix and the load conditions that ran: {text}"
    );
    assert!(text.contains("WARNING silent model bump"), "{text}");
    assert!(text.contains("WARNING forced tier"), "{text}");
    for (feature, line) in [
        (Feature::Slis, "evalgate: signals: 8 samples"),
        (Feature::Cost, "evalgate: cost: $0.0132 total"),
        (Feature::Latency, "evalgate: latency: p50"),
        (Feature::TimeZone, "evalgate: hour 12 (UTC)"),
        (Feature::OutputLength, "evalgate: output length"),
    ] {
        assert!(!text.contains(line), "{feature:?} unconfigured: {text}");
        output.configured.insert(feature);
        let mut text = String::new();
        render_text(&signals, Shown::new(Verbosity::Normal, &output), &mut text);
        assert!(text.contains(line), "{feature:?} configured: {text}");
        output.configured.clear();
    }
    assert!(text.contains("evalgate: tiers: "), "{text}");
    let mut quiet = String::new();
    render_text(&signals, Shown::new(Verbosity::Quiet, &output), &mut quiet);
    assert_eq!(quiet, "");
}

/// With no price for any model, the cost is unknown — one line saying so, never "$0.00".
#[test]
fn a_run_without_prices_has_an_unknown_cost() {
    let (data, _) = priced_run();
    let signals = signals_of(&data, &SignalsConfig::default(), None);
    let mut text = String::new();
    render_text(&signals, everything(), &mut text);
    let line = text
        .lines()
        .find(|l| l.starts_with("evalgate: cost: "))
        .unwrap();
    assert!(
        line.starts_with("evalgate: cost: unknown · tokens "),
        "{line}"
    );
    assert!(!line.contains('$'), "{line}");
    assert!(line.contains("add it to `prices:`"), "{line}");
}

#[test]
fn the_markdown_section_escapes_every_name() {
    let signals = eventful();
    let mut md = String::new();
    render_markdown(&signals, &crate::report::markdown::escape, &mut md);
    assert!(md.contains("### Operational signals"), "{md}");
    assert!(md.contains("| refusals | 0 | 4 | 0.0 % |"), "{md}");
    assert!(md.contains("fall\\|back"), "{md}");
    assert!(
        !md.contains("fall|back"),
        "a pipe would split the table: {md}"
    );
    assert!(md.contains("peak &lt;b&gt;"), "{md}");
    assert!(!md.contains("<b>"), "{md}");
    assert!(!md.contains('\u{1b}'), "{md}");
    assert!(md.contains("| hour (UTC) |"), "{md}");
    assert!(md.contains("| customer |"), "{md}");
    assert!(md.contains("| acme | 2 |"), "{md}");
    assert!(md.contains("**Silent model bump:**"), "{md}");
}
