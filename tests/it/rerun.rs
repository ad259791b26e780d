//! `evalgate rerun` end to end, through the real binary and an HTTP agent on loopback: it
//! refuses to run without a hypothesis and a predicted rate, takes K samples, says whether
//! the outcome is consistent with the prediction (exit 0) or not (exit 1), keeps the rerun
//! in history (not as a run of the suite) and every later report lists it.

use crate::support::mock_agent;
use crate::support::suite;

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

/// Re-running the same commit until it is green is seen: the earlier attempts (runs of the
/// same commit under the same envelope) and the `evalgate rerun`s of it are listed with each
/// case's samples pooled over all of them, and `runs.reruns_to_green` warns — or fails,
/// when the suite says so.
#[test]
fn a_green_run_after_red_attempts_of_its_commit_is_reported_as_such() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let rt = runtime();
    let fixed = Arc::new(AtomicBool::new(false));
    let now_fixed = Arc::clone(&fixed);
    let agent = serve(
        &rt,
        Behaviour::Respond(mock_agent::Responder::new(move |_| {
            if now_fixed.load(Ordering::SeqCst) {
                json!({"output": "Refund issued"})
            } else {
                json!({"output": "Sorry, no"})
            }
        })),
    );
    let s = suite_for(&agent.url);
    let at = |commit: &str| {
        s.evalgate_env(
            &["run", "evals", "--"],
            &[("EVALGATE_COMMIT", commit), ("EVALGATE_BRANCH", "feature")],
        )
    };
    let red = at("abc123");
    assert_eq!(red.code, 1, "{}", red.all());
    // The same commit again — a CI "re-run job" — and this time it passes.
    fixed.store(true, Ordering::SeqCst);
    let green = at("abc123");
    assert_eq!(green.code, 0, "a warning by default\n{}", green.all());
    for text in [
        "evalgate: attempt 2 of commit abc123 under envelope ",
        ": 1 earlier attempt(s), 1 red",
        "green after 1 red attempt(s): rerunning until green hides failures",
        "refunds/a1002: 1/2 pooled, failed in 1 of 2 attempt(s)",
        "WARN    runs.reruns_to_green        1  ≤ 0",
    ] {
        assert!(green.stderr.contains(text), "{text}\n{}", green.stderr);
    }
    let attempts: Vec<&str> = green
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("evalgate: attempt "))
        .take_while(|l| !l.starts_with("evalgate: gates"))
        .collect();
    let envelope = attempts[0]
        .split("under envelope ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap();
    insta::assert_snapshot!(
        "green_after_red_attempts",
        attempts.join("\n").replace(envelope, "[envelope]")
    );
    let junit = s.junit();
    assert!(
        junit.contains("<property name=\"evalgate.reruns_to_green\" value=\"1\"/>"),
        "{junit}"
    );
    // An `evalgate rerun` of the commit counts among the attempts' evidence.
    let rerun = s.evalgate_env(
        &[
            "rerun",
            "refunds/a1002",
            "--runs",
            "3",
            "--hypothesis",
            "the wording fix makes the refund pass",
            "--expect-rate",
            "0.9",
        ],
        &[
            ("EVALGATE_COMMIT", "abc123"),
            ("EVALGATE_BRANCH", "feature"),
        ],
    );
    assert_eq!(rerun.code, 1, "3/3 cannot tell 0.9 apart\n{}", rerun.all());
    let third = at("abc123");
    assert!(
        third
            .stderr
            .contains("refunds/a1002: 5/6 pooled, failed in 1 of 4 attempt(s)"),
        "{}",
        third.stderr
    );
    // A suite that will not have it fails the run.
    std::fs::write(
        s.evals().join("evalgate.yaml"),
        format!(
            "name: shop\ntarget:\n  http: {{url: \"{}/v1/agent\"}}\n\
             gates:\n  - {{metric: runs.reruns_to_green, max: 0}}\n",
            agent.url
        ),
    )
    .unwrap();
    let strict = at("abc123");
    assert_eq!(strict.code, 1, "{}", strict.all());
    // Another commit starts afresh; so does a run whose commit came from `.git` (a working
    // tree may differ between two runs of one commit).
    let fresh = at("def456");
    assert_eq!(fresh.code, 0, "{}", fresh.all());
    assert!(
        !fresh.stderr.contains("evalgate: attempt "),
        "{}",
        fresh.stderr
    );
    assert!(
        fresh
            .stderr
            .contains("no earlier attempt of this commit under this envelope"),
        "{}",
        fresh.stderr
    );
}
