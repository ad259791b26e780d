//! `evalgate rerun` end to end, through the real binary and an HTTP agent on loopback: it
//! refuses to run without a hypothesis and a predicted rate, takes K samples, says whether
//! the outcome is consistent with the prediction (exit 0) or not (exit 1), keeps the rerun
//! in history (not as a run of the suite) and every later report lists it.

#[path = "support/mock_agent.rs"]
mod mock_agent;
#[path = "support/reports.rs"]
mod reports;
#[path = "support/suite.rs"]
mod suite;

use mock_agent::{Behaviour, runtime, serve};
use serde_json::json;
use suite::TempSuite;

const CASE: &str = "input:\n  messages: [{role: user, content: \"Refund A1002\"}]\nexpect:\n  - contains: Refund\n";

/// `evalgate rerun CASE --runs RUNS --hypothesis HYPOTHESIS --expect-rate RATE`.
fn rerun(s: &TempSuite, case: &str, runs: &str, hypothesis: &str, rate: &str) -> suite::Run {
    s.evalgate(&[
        "rerun",
        case,
        "--runs",
        runs,
        "--hypothesis",
        hypothesis,
        "--expect-rate",
        rate,
    ])
}

fn suite_for(url: &str) -> TempSuite {
    let s = TempSuite::new(&format!(
        "name: shop\ntarget:\n  http: {{url: \"{url}/v1/agent\"}}\n"
    ));
    s.case("refunds/a1002.yaml", CASE);
    s
}

#[test]
fn a_rerun_tests_its_hypothesis_is_kept_in_history_and_listed_in_later_reports() {
    let rt = runtime();
    let agent = serve(
        &rt,
        Behaviour::Fixed(
            json!({"output": "Refund issued", "usage": {"input_tokens": 7, "output_tokens": 3}}),
        ),
    );
    let s = suite_for(&agent.url);

    // No hypothesis, or no predicted rate: refused before any call.
    for args in [
        vec![
            "rerun",
            "refunds/a1002",
            "--runs",
            "5",
            "--expect-rate",
            "0.9",
        ],
        vec![
            "rerun",
            "refunds/a1002",
            "--runs",
            "5",
            "--hypothesis",
            "the retry fix",
        ],
    ] {
        let run = s.evalgate(&args);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(
            run.stderr.contains("a rerun needs a hypothesis"),
            "{}",
            run.stderr
        );
    }
    let bad = [
        (
            vec!["--runs", "0", "--expect-rate", "0.9"],
            "--runs 0 must be between 1 and",
        ),
        (
            vec!["--runs", "3", "--expect-rate", "1.5"],
            "--expect-rate 1.5 must be a pass rate",
        ),
    ];
    for (extra, problem) in bad {
        let mut args = vec![
            "rerun",
            "refunds/a1002",
            "--hypothesis",
            "the refund wording fix holds",
        ];
        args.extend(extra);
        let run = s.evalgate(&args);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(run.stderr.contains(problem), "{}", run.stderr);
    }
    let run = rerun(
        &s,
        "refunds/nope",
        "3",
        "the refund wording fix holds",
        "0.9",
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("no case `refunds/nope`"),
        "{}",
        run.stderr
    );

    // 10/10 passes: the 95 % interval [0.692, 1] holds 0.9 — consistent, exit 0.
    let run = rerun(
        &s,
        "refunds/a1002",
        "10",
        "the refund wording fix makes it pass 9 times in 10",
        "0.9",
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("10 run(s), 10/10 passed, 0 error(s)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("[0.692, 1.000]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("consistent with the hypothesis"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("tokens 70 in / 30 out"),
        "{}",
        run.stderr
    );

    // Two runs rule out nothing: 2/2 has the interval [0.158, 1] — cannot tell, exit 1.
    let run = rerun(
        &s,
        "refunds/a1002",
        "2",
        "the refund wording fix makes it pass 9 times in 10",
        "0.9",
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains("cannot tell: the interval is wider than 0.5"),
        "{}",
        run.stderr
    );

    // A prediction of 0.2 is not: exit 1.
    let run = rerun(
        &s,
        "refunds/a1002",
        "4",
        "the agent still refuses most refunds",
        "0.2",
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("NOT consistent with the hypothesis"),
        "{}",
        run.stderr
    );

    // Both are in history as reruns, not as runs of the suite.
    let export = s.evalgate(&["history", "export"]);
    assert_eq!(export.code, 0, "{}", export.all());
    let reruns: Vec<serde_json::Value> = export
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["kind"] == "rerun")
        .collect();
    assert_eq!(reruns.len(), 3, "{}", export.stdout);
    assert!(reruns.iter().any(
        |r| r["hypothesis"] == "the agent still refuses most refunds"
            && r["consistent"] == false
            && r["runs"] == 4
    ));
    let runs = s.evalgate(&["history", "runs"]);
    assert_eq!(
        runs.stdout.trim(),
        "",
        "a rerun is not a run: {}",
        runs.stdout
    );

    // The next run of the suite lists them.
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains(
            "evalgate: reruns   3 in the last 30 days (2 not shown consistent with their hypothesis)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("refunds/a1002")
            && run.stderr.contains(
                "4/4 passed, predicted 0.2 (NOT consistent) — the agent still refuses most refunds"
            ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_rerun_whose_samples_error_cannot_tell_and_never_counts_an_error_as_a_pass() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Status(500));
    let s = suite_for(&agent.url);
    std::fs::write(
        s.evals().join("evalgate.yaml"),
        format!(
            "name: shop\ntarget:\n  http: {{url: \"{}/v1/agent\"}}\nretries: {{max: 0}}\n",
            agent.url
        ),
    )
    .unwrap();
    let run = rerun(
        &s,
        "refunds/a1002",
        "3",
        "the outage is over and refunds pass",
        "1",
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("0/0 passed, 3 error(s)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("cannot tell: 3 sample(s) errored"),
        "{}",
        run.stderr
    );
}
