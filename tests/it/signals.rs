//! Operational signals end to end, through the real binary and an HTTP agent on loopback:
//! capability SLIs, tier mix and cost become gates; a model without a price fails the
//! budget instead of passing on part of the bill; output lengths and tier shares are
//! compared with the baseline's; bad prices, tiers and conditions are config errors.

use crate::support::mock_agent;
use crate::support::reports;
use crate::support::suite;

use mock_agent::{Behaviour, runtime, serve};
use reports::{gate, read_json};
use serde_json::json;
use suite::TempSuite;

const CASE: &str = "samples: 3\ninput:\n  messages: [{role: user, content: \"Refund A1002\"}]\nexpect:\n  - contains: Refund\n";

fn suite_yaml(url: &str, prices: &str, gates: &str, extra: &str) -> String {
    format!(
        "name: shop\ntarget:\n  http: {{url: \"{url}/v1/agent\"}}\n{extra}prices:\n{prices}gates:\n{gates}"
    )
}

#[test]
fn slo_tier_and_cost_gates_measure_the_run_and_an_unpriced_model_fails_the_budget() {
    let rt = runtime();
    // A secondary tier answering with a model the price table lacks, cut by its limit.
    let agent = serve(
        &rt,
        Behaviour::Fixed(json!({
            "output": "Refund issued", "model": "m-2", "tier": "secondary",
            "finish_reason": "length", "refusal": false,
            "usage": {"input_tokens": 1000, "output_tokens": 500}
        })),
    );
    let gates = "  - {metric: cost.run_usd, max: 1}\n  - {metric: slo.truncation_rate, max: 0}\n\
                 \x20 - {metric: tiers.share.primary, min: 0.9}\n  - {metric: slo.refusal_rate, max: 0.1}\n";
    let s = TempSuite::new(&suite_yaml(
        &agent.url,
        "  m-1: {input: 2.5, output: 10}\n",
        gates,
        "tiers: [primary, secondary]\n",
    ));
    s.case("refund.yaml", CASE);
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    let coverage = read_json(&s.out().join("coverage.json"));
    let cost = gate(&coverage, "cost.run_usd");
    assert_eq!(cost["outcome"], "failed", "{cost}");
    let gates = read_json(&s.out().join("gates.json"));
    assert_eq!(gates["failed"], true, "{gates:#}");
    assert_eq!(gates["gates"], coverage["gates"], "{gates:#}");
    assert!(
        cost["details"][0]
            .as_str()
            .unwrap()
            .contains("3 sample(s) used models without a price (m-2); add them to `prices`"),
        "{cost}"
    );
    let truncation = gate(&coverage, "slo.truncation_rate");
    assert_eq!(
        (truncation["outcome"].as_str(), truncation["value"].as_f64()),
        (Some("failed"), Some(1.0))
    );
    let primary = gate(&coverage, "tiers.share.primary");
    assert_eq!(
        (primary["outcome"].as_str(), primary["value"].as_f64()),
        (Some("failed"), Some(0.0))
    );
    let refusals = gate(&coverage, "slo.refusal_rate");
    assert_eq!(refusals["outcome"], "passed", "{refusals}");
    assert!(
        refusals["details"][0]
            .as_str()
            .unwrap()
            .contains("0 of 3 refused (95 % interval 0.000–0.561)"),
        "{refusals}"
    );

    // Priced, the budget holds: 3 × (1000 × $2.5 + 500 × $10) / 1M = $0.0225.
    std::fs::write(
        s.evals().join("evalgate.yaml"),
        suite_yaml(
            &agent.url,
            "  m-2: {input: 2.5, output: 10}\n",
            "  - {metric: cost.run_usd, max: 0.03}\n  - {metric: cost.case_max_usd, max: 0.02}\n",
            // The terminal shows the tier mix of a suite that declares its tiers.
            "tiers: [primary, secondary]\n",
        ),
    )
    .unwrap();
    let run = s.run(&[]);
    let coverage = read_json(&s.out().join("coverage.json"));
    let cost = gate(&coverage, "cost.run_usd");
    assert_eq!(cost["outcome"], "passed", "{}", run.all());
    assert!(
        (cost["value"].as_f64().unwrap() - 0.0225).abs() < 1e-12,
        "{cost}"
    );
    let case_max = gate(&coverage, "cost.case_max_usd");
    assert_eq!(
        case_max["outcome"], "failed",
        "one case costs $0.0225: {case_max}"
    );
    assert_eq!(run.code, 1, "{}", run.all());
    let signals = read_json(&s.out().join("signals.json"));
    assert_eq!(
        signals["cost"]["customers"]["(none)"]["samples"], 3,
        "{signals:#}"
    );
    assert_eq!(signals["tiers"]["tiers"]["secondary"]["share"]["count"], 3);
    assert!(
        run.stderr
            .contains("evalgate: tiers: secondary 3/3 = 100.0 %"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_usage_and_unreported_tiers_count_against_their_gates() {
    let rt = runtime();
    // No usage, no tier: the bill and the canned share are unknown, not zero.
    let agent = serve(
        &rt,
        Behaviour::Fixed(json!({"output": "Refund issued", "model": "m-1"})),
    );
    let s = TempSuite::new(&suite_yaml(
        &agent.url,
        "  m-1: {input: 2.5, output: 10}\n",
        "  - {metric: cost.run_usd, max: 5}\n  - {metric: tiers.share.canned, max: 0.02}\n\
         \x20 - {metric: tiers.share.primary, min: 0.5}\n",
        "tiers: [primary, canned]\n",
    ));
    s.case("refund.yaml", CASE);
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    let coverage = read_json(&s.out().join("coverage.json"));
    let cost = gate(&coverage, "cost.run_usd");
    assert_eq!(cost["outcome"], "failed", "{cost}");
    assert!(
        cost["details"][0]
            .as_str()
            .unwrap()
            .contains("3 answered sample(s) reported no token usage"),
        "{cost}"
    );
    let canned = gate(&coverage, "tiers.share.canned");
    assert_eq!(
        (canned["outcome"].as_str(), canned["value"].as_f64()),
        (Some("failed"), Some(1.0)),
        "{canned}"
    );
    assert!(
        canned["details"][1]
            .as_str()
            .unwrap()
            .contains("3 did not say which tier served them"),
        "{canned}"
    );
    let primary = gate(&coverage, "tiers.share.primary");
    assert_eq!(
        (primary["outcome"].as_str(), primary["value"].as_f64()),
        (Some("failed"), Some(0.0)),
        "{primary}"
    );

    // A tier gate without the suite's `tiers:` is refused: a typo would be 0 % forever.
    std::fs::write(
        s.evals().join("evalgate.yaml"),
        suite_yaml(
            &agent.url,
            "  m-1: {input: 1, output: 1}\n",
            "  - {metric: tiers.share.Canned, max: 0.02}\n",
            "",
        ),
    )
    .unwrap();
    let run = s.run(&["--list"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("gate `tiers.share.Canned` needs the suite's `tiers:`"),
        "{}",
        run.stderr
    );
}

#[test]
fn output_lengths_and_tier_shares_are_compared_with_the_baseline() {
    let rt = runtime();
    let short = serve(
        &rt,
        Behaviour::Fixed(json!({"output": "Refund issued.", "tier": "primary"})),
    );
    let chatty = serve(
        &rt,
        Behaviour::Fixed(json!({
            "output": format!("Refund issued. {}", "Let me explain our refund policy in detail. ".repeat(20)),
            "tier": "secondary"
        })),
    );
    let yaml = |url: &str| {
        format!(
            "name: shop\ntarget:\n  http: {{url: \"{url}/v1/agent\"}}\nbaseline: {{path: baseline.json}}\n\
             tiers: [primary, secondary]\n\
             gates:\n  - {{metric: slo.verbosity_drift, max: 0}}\n  - {{metric: tiers.share.primary, min: 0.5, level: warn}}\n"
        )
    };
    let s = TempSuite::new(&yaml(&short.url));
    for i in 0..4 {
        s.case(&format!("c{i}.yaml"), CASE);
    }
    // The first run has no baseline yet (exit 2); save one from it.
    let _ = s.run(&[]);
    let save = s.evalgate(&["baseline", "save", "--dir", "evals"]);
    assert_eq!(save.code, 0, "{}", save.all());
    let saved = read_json(&s.evals().join("baseline.json"));
    assert_eq!(saved["signals"]["tiers"]["primary"], 12, "{saved:#}");
    assert_eq!(
        saved["signals"]["output_bytes"].as_array().unwrap().len(),
        12
    );

    let run = s.run(&[]);
    assert_eq!(run.code, 0, "same agent, no drift: {}", run.all());
    assert_eq!(
        gate(
            &read_json(&s.out().join("coverage.json")),
            "slo.verbosity_drift"
        )["value"],
        0.0
    );

    // The model bump made the agent chatty and moved it to the secondary tier.
    std::fs::write(s.evals().join("evalgate.yaml"), yaml(&chatty.url)).unwrap();
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    let coverage = read_json(&s.out().join("coverage.json"));
    let drift = gate(&coverage, "slo.verbosity_drift");
    assert_eq!(drift["outcome"], "failed", "{drift}");
    assert!(
        drift["details"][0]
            .as_str()
            .unwrap()
            .contains("Mann-Whitney U p = "),
        "{drift}"
    );
    assert_eq!(gate(&coverage, "tiers.share.primary")["outcome"], "failed");
    let signals = read_json(&s.out().join("signals.json"));
    let primary = &signals["tiers"]["tiers"]["primary"];
    assert_eq!(primary["before"]["count"], 12, "{signals:#}");
    // 12/12 primary before, 0/12 now: Fisher's exact p = 2 / C(24, 12) = 7.4e-7.
    assert!(primary["p_value"].as_f64().unwrap() < 1e-6, "{primary}");
}

#[test]
fn bad_prices_tiers_and_conditions_are_config_errors() {
    for (yaml, problem) in [
        (
            "target:\n  http: {url: \"http://127.0.0.1:9/v1/agent\"}\nprices:\n  m-1: {input: -1, output: 2}\n",
            "price of `m-1` input must be a number ≥ 0",
        ),
        (
            "target:\n  http: {url: \"http://127.0.0.1:9/v1/agent\"}\ntiers: [primary, canned]\n\
             gates:\n  - {metric: tiers.share.secondary, max: 0.1}\n",
            "gate `tiers.share.secondary` names tier `secondary`, which is not in the suite's `tiers:` (primary, canned)",
        ),
        (
            "target:\n  http: {url: \"http://127.0.0.1:9/v1/agent\"}\n\
             gates:\n  - {metric: conditions.pass_rate.peak, min: 0.9}\n",
            "gate `conditions.pass_rate.peak` names load condition `peak`, which the suite's `load:` does not declare",
        ),
        (
            "target:\n  http: {url: \"http://127.0.0.1:9/v1/agent\"}\ntime_zone: Mars/Olympus_Mons\n",
            "unknown time zone `Mars/Olympus_Mons`",
        ),
        (
            "target:\n  http: {url: \"http://127.0.0.1:9/v1/agent\"}\n\
             gates:\n  - {metric: latency.p95_ms, max: -5}\n",
            "`latency.p95_ms` is an amount; its threshold -5 must be a number ≥ 0",
        ),
    ] {
        let s = TempSuite::new(yaml);
        s.case("a.yaml", CASE);
        let run = s.run(&["--list"]);
        assert_eq!(run.code, 2, "{yaml}\n{}", run.all());
        assert!(run.stderr.contains(problem), "{problem}\n{}", run.stderr);
    }
    // A case forcing a tier the suite does not declare.
    let s = TempSuite::new(
        "target:\n  http: {url: \"http://127.0.0.1:9/v1/agent\"}\ntiers: [primary, canned]\n",
    );
    s.case(
        "a.yaml",
        &CASE.replace("expect:", "tiers: [primary, backup]\nexpect:"),
    );
    let run = s.run(&["--list"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("`tiers` names `backup`: the suite's tiers are: primary, canned"),
        "{}",
        run.stderr
    );
}
