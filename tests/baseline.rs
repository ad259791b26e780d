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

#[test]
fn a_pull_request_is_compared_with_the_latest_run_of_its_base_branch_in_history() {
    let rt = runtime();
    let good = serve(&rt, Behaviour::Fixed(answer("Refund issued")));
    let bad = serve(&rt, Behaviour::Fixed(answer("Sorry, no")));
    let yaml = |url: &str| {
        format!(
            "name: shop\ntarget:\n  http: {{url: \"{url}/v1/agent\"}}\n\
             baseline: {{branch: main}}\n\
             gates:\n  - {{metric: baseline.regressions, max: 0}}\n"
        )
    };
    let s = TempSuite::new(&yaml(&good.url));
    s.case("single.yaml", &case(1));
    s.case("five.yaml", &case(5));
    let on = |branch: &str| {
        s.evalgate_env(
            &["run", "evals", "--"],
            &[("EVALGATE_BRANCH", branch), ("EVALGATE_COMMIT", "")],
        )
    };

    // A pull request before main ever ran: no baseline, a usage error, never a pass.
    let run = on("feature/refunds");
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("holds no finished run of suite `shop` on branch `main`"),
        "{}",
        run.stderr
    );

    // The first run of main has nothing earlier to compare with: the gate is skipped, said.
    let run = on("main");
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("baseline: the first run of `main` in"),
        "{}",
        run.stderr
    );
    let coverage = read_json(&s.out().join("coverage.json"));
    let g = gate(&coverage, "baseline.regressions");
    assert_eq!(g["outcome"], "skipped", "{g}");

    // The pull request breaks the agent: compared with that main run, two regressions.
    std::fs::write(s.evals().join("evalgate.yaml"), yaml(&bad.url)).unwrap();
    let run = on("feature/refunds");
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains("evalgate: baseline the latest run of `main` in history (run "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("regression                  five (5/5 → 0/5, p = 0.0079)"),
        "{}",
        run.stderr
    );
    let coverage = read_json(&s.out().join("coverage.json"));
    let g = gate(&coverage, "baseline.regressions");
    assert_eq!(g["outcome"], "failed", "{g}");
    assert_eq!(g["value"], 2.0);

    // The failing pull request run is not a run of main: main is still the baseline, and a
    // fixed pull request passes against it.
    std::fs::write(s.evals().join("evalgate.yaml"), yaml(&good.url)).unwrap();
    let run = on("feature/refunds");
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stderr.contains("2 unchanged"), "{}", run.stderr);

    // `history runs` shows which branch each run measured.
    let runs = s.evalgate(&["history", "runs"]);
    assert_eq!(runs.code, 0, "{}", runs.all());
    assert_eq!(
        runs.stdout.matches("  shop  main  envelope").count(),
        1,
        "{}",
        runs.stdout
    );
    assert_eq!(
        runs.stdout
            .matches("  shop  feature/refunds  envelope")
            .count(),
        3,
        "{}",
        runs.stdout
    );

    // With history off there is nothing to find the branch in: a usage error.
    let run = s.evalgate_env(
        &["run", "evals", "--"],
        &[
            ("EVALGATE_BRANCH", "feature/refunds"),
            ("EVALGATE_HISTORY", "off"),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("there is no history store"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_baseline_naming_neither_file_nor_branch_is_a_config_error() {
    let s = TempSuite::new(
        "target:\n  http: {url: \"http://127.0.0.1:9/v1/agent\"}\nbaseline: {alpha: 0.1}\n",
    );
    s.case("single.yaml", &case(1));
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("`baseline` names neither a `path`"),
        "{}",
        run.stderr
    );
}
