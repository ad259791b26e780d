//! Cases run per serving tier (`tiers:`), under named load conditions (`conditions:`,
//! through the fault-injecting proxy on loopback), and with sequential sampling — through
//! the real binary, a command agent that calls its "model provider" over HTTP, and that
//! provider served on 127.0.0.1.

use crate::support::mock_agent;
use crate::support::reports;
use crate::support::suite;

use mock_agent::{Behaviour, runtime, serve};
use serde_json::json;
use suite::{TempSuite, python, scripted_agent};

/// A suite whose agent asks the provider at `upstream`, with two load conditions.
fn provider_suite(upstream: &str) -> TempSuite {
    TempSuite::new(&format!(
        "name: shop\ntarget:\n  command:\n    program: {:?}\n    args: [{:?}]\n\
         concurrency: 4\n\
         load:\n  upstream: {upstream:?}\n  env: PROVIDER_BASE_URL\n  timeout: 3s\n\
         \x20 conditions:\n    peak_hours: {{latency: 300ms}}\n    rate_limited: {{status: 429, retry_after: 2s}}\n",
        python(),
        scripted_agent().display().to_string()
    ))
}

fn provider_case(upstream: &str, extra: &str) -> String {
    format!(
        "input:\n  messages: [{{role: user, content: \"Refund A1002\"}}]\n  vars: {{mode: provider, upstream: {upstream:?}}}\n{extra}expect:\n  - contains: Refund\n"
    )
}

#[test]
fn a_case_runs_under_each_named_condition_through_the_fault_proxy() {
    let rt = runtime();
    let provider = serve(&rt, Behaviour::Echo);
    let s = provider_suite(&provider.url);
    s.case(
        "refunds.yaml",
        &provider_case(&provider.url, "conditions: [peak_hours, rate_limited]\n"),
    );

    let list = s.run(&["--list"]);
    assert_eq!(list.code, 0, "{}", list.all());
    for name in [
        "evals::refunds: test",
        "evals::refunds@condition=peak_hours: test",
        "evals::refunds@condition=rate_limited: test",
    ] {
        assert!(list.stdout.contains(name), "{name}: {}", list.stdout);
    }

    let run = s.run(&[]);
    // Rate limited, the agent falls back to its canned answer: that variant fails.
    assert_eq!(run.code, 1, "{}", run.all());
    let samples = s.records_of("sample");
    let of = |case: &str| {
        samples
            .iter()
            .find(|r| r["case"] == case)
            .unwrap_or_else(|| panic!("no sample of {case}: {samples:#?}"))
            .clone()
    };
    let plain = of("refunds");
    assert_eq!(plain["tier"], "primary", "{plain:#}");
    assert!(plain.get("condition").is_none(), "{plain:#}");
    let peak = of("refunds@condition=peak_hours");
    assert_eq!(peak["condition"], "peak_hours");
    assert_eq!(peak["tier"], "primary", "{peak:#}");
    assert_eq!(peak["verdict"], "pass", "{peak:#}");
    assert!(
        peak["latency_ms"].as_f64().unwrap() >= 300.0,
        "the proxy adds 300 ms: {peak:#}"
    );
    let limited = of("refunds@condition=rate_limited");
    assert_eq!(limited["condition"], "rate_limited");
    assert_eq!(limited["tier"], "canned", "{limited:#}");
    assert_eq!(limited["verdict"], "fail", "{limited:#}");
    assert!(
        limited["output"].as_str().unwrap().contains("HTTPError"),
        "{limited:#}"
    );
    // The reports compare the conditions.
    let signals = reports::read_json(&s.out().join("signals.json"));
    let conditions = &signals["latency"]["conditions"];
    assert_eq!(conditions["none"]["pass_rate"]["count"], 1, "{signals:#}");
    assert_eq!(conditions["peak_hours"]["pass_rate"]["count"], 1);
    assert_eq!(conditions["rate_limited"]["pass_rate"]["count"], 0);
    assert!(conditions["peak_hours"]["latency"]["p50"].as_f64().unwrap() >= 300.0);
    assert!(
        run.stderr.contains("evalgate: condition rate_limited: "),
        "{}",
        run.stderr
    );
}

#[test]
fn an_agent_that_ignores_the_proxy_is_an_error_not_a_pass_under_the_condition() {
    let rt = runtime();
    let provider = serve(&rt, Behaviour::Echo);
    // `load.env` names a variable this agent does not read: it calls the provider directly.
    let s = TempSuite::new(&format!(
        "name: shop\ntarget:\n  command:\n    program: {:?}\n    args: [{:?}]\n\
         load:\n  upstream: {:?}\n  env: SOME_OTHER_URL\n  conditions:\n    rate_limited: {{status: 429}}\n",
        python(),
        scripted_agent().display().to_string(),
        provider.url
    ));
    s.case(
        "refunds.yaml",
        &provider_case(&provider.url, "conditions: [rate_limited]\n"),
    );
    let run = s.run(&["--exact", "evals::refunds@condition=rate_limited"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let sample = &s.records_of("sample")[0];
    assert_eq!(sample["verdict"], "error", "{sample:#}");
    assert!(
        sample["error"]
            .as_str()
            .unwrap()
            .contains("the agent made no request through evalgate's fault proxy"),
        "{sample:#}"
    );
}

#[test]
fn a_condition_the_suite_does_not_declare_is_an_error_at_its_line() {
    let s = provider_suite("http://127.0.0.1:9");
    s.case(
        "refunds.yaml",
        &provider_case(
            "http://127.0.0.1:9",
            "conditions: [peak_hours, rush_hour]\n",
        ),
    );
    let run = s.run(&["--list"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("`conditions` names `rush_hour`: the suite's load conditions are: peak_hours, rate_limited"),
        "{}",
        run.stderr
    );

    // And a condition with invalid numbers is a config error of the suite.
    let s = TempSuite::new(
        "target:\n  http: {url: \"http://127.0.0.1:9/v1/agent\"}\n\
         load:\n  upstream: http://127.0.0.1:9\n  conditions:\n    flaky: {status: 429, share: 1.5}\n",
    );
    s.case("a.yaml", &provider_case("http://127.0.0.1:9", ""));
    let run = s.run(&["--list"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("condition `flaky`: `share` must be in (0, 1]"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_upstream_that_hangs_is_an_error_bounded_by_the_timeout_not_a_hang() {
    let rt = runtime();
    // The provider answers after 10 s; the proxy gives up after the suite's 3 s.
    let provider = serve(&rt, Behaviour::Delay(std::time::Duration::from_secs(10)));
    let s = provider_suite(&provider.url);
    s.case(
        "refunds.yaml",
        &provider_case(&provider.url, "conditions: [peak_hours]\ntimeout: 8s\n"),
    );
    let started = std::time::Instant::now();
    let run = s.run(&["--exact", "evals::refunds@condition=peak_hours"]);
    assert!(started.elapsed().as_secs() < 9, "{:?}", started.elapsed());
    assert_eq!(run.code, 1, "{}", run.all());
    let samples = s.records_of("sample");
    assert_eq!(
        samples[0]["tier"], "canned",
        "504 from the proxy: {:#}",
        samples[0]
    );
}

#[test]
fn each_tier_of_a_case_is_run_and_forced_through_the_request() {
    let rt = runtime();
    let provider = serve(&rt, Behaviour::Echo);
    let s = provider_suite(&provider.url);
    s.case(
        "refunds.yaml",
        &provider_case(&provider.url, "tiers: [primary, secondary, canned]\n"),
    );
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let samples = s.records_of("sample");
    let mut forced: Vec<(String, String)> = samples
        .iter()
        .map(|r| {
            (
                r["case"].as_str().unwrap().to_string(),
                r["envelope"]["forced"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    forced.sort();
    assert_eq!(
        forced,
        [
            ("refunds@tier=canned".into(), "canned".into()),
            ("refunds@tier=primary".into(), "primary".into()),
            ("refunds@tier=secondary".into(), "secondary".into()),
        ]
    );
    assert!(
        samples
            .iter()
            .all(|r| r["forced_tier"] == r["envelope"]["forced"])
    );

    // `tiers:` and `input.tier` together make no sense.
    s.case(
        "refunds.yaml",
        &provider_case(&provider.url, "tiers: [primary]\n")
            .replace("  vars:", "  tier: secondary\n  vars:"),
    );
    let run = s.run(&["--list"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("cannot also force `input.tier`"),
        "{}",
        run.stderr
    );
}

#[test]
fn sequential_sampling_stops_once_the_verdict_is_decided_and_says_what_it_saved() {
    let rt = runtime();
    let good = serve(&rt, Behaviour::Fixed(json!({"output": "Refund issued"})));
    let s = TempSuite::new(&format!(
        "name: shop\ntarget:\n  http: {{url: \"{}/v1/agent\"}}\nconcurrency: 1\n",
        good.url
    ));
    let case = |rule: &str, expect: &str| {
        format!(
            "samples: 10\npass: {{{rule}}}\nsequential: {{group: 2}}\ninput:\n  messages: [{{role: user, content: hi}}]\nexpect:\n  - contains: {expect}\n"
        )
    };
    // Passes after its first 2 samples: at_least 2 of 10 is already met.
    s.case("easy.yaml", &case("at_least: 2", "Refund"));
    // Fails after its first 2: at_least 10 of 10 can no longer be met.
    s.case("strict.yaml", &case("at_least: 10", "Sorry"));
    // min_rate 0.3, all passing: settled once even 6/10 would clear it (the 95 % Wilson
    // lower bound of 6/10 is 0.313), so after 3 groups.
    s.case("rate.yaml", &case("min_rate: 0.3", "Refund"));
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    let cases = s.records_of("case");
    let of = |id: &str| cases.iter().find(|c| c["case"] == id).unwrap().clone();
    let easy = of("easy");
    assert_eq!(
        (easy["verdict"].as_str(), easy["samples"].as_u64()),
        (Some("pass"), Some(2))
    );
    assert_eq!(easy["samples_planned"], 10);
    let strict = of("strict");
    assert_eq!(
        (strict["verdict"].as_str(), strict["samples"].as_u64()),
        (Some("fail"), Some(2))
    );
    // The rule as declared, not "at least 10 of 2".
    let message = strict["message"].as_str().unwrap();
    assert!(
        message.contains(
            "rule: all 10 samples must pass (2 taken: the rest could not change the verdict)"
        ),
        "{message}"
    );
    let rate = of("rate");
    assert_eq!(rate["verdict"], "pass");
    let taken = rate["samples"].as_u64().unwrap();
    assert_eq!(taken, 6, "{rate:#}");
    assert_eq!(
        s.records_of("sample").len() as u64,
        2 + 2 + taken,
        "no sample beyond the settling group is ever requested"
    );
    assert!(
        run.stderr.contains(&format!(
            "sequential sampling saved {} of 30 samples",
            30 - 4 - taken
        )),
        "{}",
        run.stderr
    );
}
