//! Baseline comparison end to end, through the real `evalgate` binary and an HTTP agent on
//! loopback: `evalgate baseline save`, then a run of a changed agent — a single-sample
//! regression fails the `baseline.regressions` gate; a multi-sample drop is a regression
//! only when Fisher's exact test says so, else "not enough samples to tell"; and a baseline
//! of another suite or schema, or a missing one, is a usage error, never a silent pass.

#[path = "support/mock_agent.rs"]
mod mock_agent;
#[path = "support/reports.rs"]
mod reports;
#[path = "support/suite.rs"]
mod suite;

use mock_agent::{Behaviour, runtime, serve};
use reports::{gate, read_json};
use serde_json::json;
use suite::TempSuite;

fn suite_yaml(url: &str) -> String {
    format!(
        "name: shop\ntarget:\n  http: {{url: \"{url}/v1/agent\"}}\n\
         baseline: {{path: baseline.json}}\n\
         gates:\n  - {{metric: baseline.regressions, max: 0}}\n"
    )
}

fn case(samples: u32) -> String {
    format!(
        "samples: {samples}\ninput:\n  messages: [{{role: user, content: \"Refund A1002\"}}]\nexpect:\n  - contains: Refund\n"
    )
}

fn answer(text: &str) -> serde_json::Value {
    json!({"output": text})
}

#[test]
fn a_regression_against_the_saved_baseline_fails_the_gate_and_noise_does_not() {
    let rt = runtime();
    let good = serve(&rt, Behaviour::Fixed(answer("Refund issued")));
    let s = TempSuite::new(&suite_yaml(&good.url));
    s.case("single.yaml", &case(1));
    s.case("five.yaml", &case(5));
    s.case("three.yaml", &case(3));

    // No baseline yet: a usage error naming the file and what to do, after the reports.
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("evalgate baseline save"),
        "{}",
        run.stderr
    );
    assert!(
        s.out().join("junit.xml").exists(),
        "the reports are written first"
    );

    let save = s.evalgate(&["baseline", "save", "--dir", "evals"]);
    assert_eq!(save.code, 0, "{}", save.all());
    let saved = read_json(&s.evals().join("baseline.json"));
    assert_eq!(saved["suite"], "shop");
    assert_eq!(saved["cases"].as_array().unwrap().len(), 3);

    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stderr.contains("3 unchanged"), "{}", run.stderr);

    // The agent changes its answer: every sample now fails.
    let bad = serve(&rt, Behaviour::Fixed(answer("Sorry, no")));
    std::fs::write(s.evals().join("evalgate.yaml"), suite_yaml(&bad.url)).unwrap();
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    // 1/1 → 0/1: a regression; 5/5 → 0/5: p = 0.0079 < 0.05; 3/3 → 0/3: p = 0.1.
    assert!(
        run.stderr
            .contains("regression                  single (1/1 → 0/1)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("regression                  five (5/5 → 0/5, p = 0.0079)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("not enough samples to tell  three (3/3 → 0/3, p = 0.1000)"),
        "{}",
        run.stderr
    );
    let coverage = read_json(&s.out().join("coverage.json"));
    let g = gate(&coverage, "baseline.regressions");
    assert_eq!(g["outcome"], "failed");
    assert_eq!(g["value"], 2.0);
}

#[test]
fn a_baseline_of_another_suite_or_schema_is_refused() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer("Refund issued")));
    let s = TempSuite::new(&suite_yaml(&agent.url));
    s.case("single.yaml", &case(1));
    for (baseline, problem) in [
        (
            json!({"schema": 1, "suite": "other", "saved_at": "2026-11-28T00:00:00Z", "envelope": "e", "cases": []}),
            "the baseline is of suite `other`, this run of suite `shop`",
        ),
        (
            json!({"schema": 0, "suite": "shop", "cases": []}),
            "baseline schema 0 is not the schema of this evalgate",
        ),
    ] {
        std::fs::write(s.evals().join("baseline.json"), baseline.to_string()).unwrap();
        let run = s.run(&[]);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(run.stderr.contains(problem), "{}", run.stderr);
    }

    // A regressions gate without a baseline is a config error at its line.
    let s = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\ngates:\n  - {{metric: baseline.regressions, max: 0}}\n",
        agent.url
    ));
    s.case("single.yaml", &case(1));
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("evalgate.yaml:4:14: gate `baseline.regressions` needs a baseline"),
        "{}",
        run.stderr
    );
}
