//! An in-process agent instrumented the way the book suggests (`docs/src/coverage.md`), one
//! line per branch (`evalgate::decision!` and a `tracing` event with `decision`/`branch`
//! fields), run through the real harness: its decisions reach the records and the
//! `branches:` checks, each sample keeps its own, and a failing check shows the observed
//! sequence.

use crate::support::suite;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use evalgate::{Agent, AgentError, Observation, Request, RunData};
use suite::{TempSuite, simple_case};

/// Hands every request off, after looking the order up; a helper thread that enters the
/// sample's span reports which sample it served.
struct Planner;

impl Agent for Planner {
    fn respond(&self, request: &Request) -> Result<Observation, AgentError> {
        evalgate::decision!("route", "handoff");
        tracing::info!(
            decision = "tool",
            branch = "lookup_order",
            "looking the order up"
        );
        let span = tracing::Span::current();
        let sample = request.sample;
        std::thread::spawn(move || {
            let _entered = span.enter();
            tracing::info!(decision = "sample", branch = sample);
        })
        .join()
        .map_err(|_| "helper thread panicked")?;
        Ok(Observation::new("a person will take over").with_decision("answer", "given"))
    }
}

/// The suite: three concurrent samples per case, one case that expects what the planner
/// does and one that expects a refund.
fn planner_suite() -> TempSuite {
    let suite = TempSuite::new("defaults:\n  samples: 3\nconcurrency: 3\n");
    suite
        .case(
            "handoff.yaml",
            &simple_case(
                "where is my order?",
                "  - branches: [route.handoff, tool.lookup_order]",
            ),
        )
        .case(
            "refund.yaml",
            &simple_case("refund me", "  - branches: [route.refund]"),
        );
    suite
}

/// Runs one case through the harness into `out`; returns the exit code and its records.
/// libtest's lines go to a log file: this test's own output is no place for a nested
/// `test result: FAILED`.
fn run_case(suite: &TempSuite, case: &str, out: &Path) -> (ExitCode, RunData) {
    let log = suite.path().join(format!("{case}.libtest.log"));
    let code = evalgate::Harness::new()
        .dir(suite.evals())
        .out_dir(out)
        .agent(Planner)
        .args([
            format!("evals::{case}"),
            "--exact".into(),
            "--quiet".into(),
            "--logfile".into(),
            log.display().to_string(),
        ])
        .run();
    let log = std::fs::read_to_string(&log).expect("libtest log");
    assert!(log.contains("1 test"), "{log}");
    let runs: Vec<PathBuf> = std::fs::read_dir(out.join("runs"))
        .expect("a run folder")
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "one run folder: {runs:?}");
    (code, RunData::read(&runs).expect("readable records"))
}

#[test]
fn decisions_from_the_macro_and_tracing_events_reach_the_checks_and_records() {
    let suite = planner_suite();

    let (code, data) = run_case(&suite, "handoff", &suite.out().join("handoff"));
    assert_eq!(code, ExitCode::from(evalgate::exit::PASS));
    assert_eq!(data.cases.len(), 1);
    assert!(!data.cases[0].failed, "{:?}", data.cases[0].message);
    assert_eq!(data.samples.len(), 3);
    for sample in &data.samples {
        let observed: Vec<String> = sample.decisions.iter().map(|d| d.to_string()).collect();
        // The agent's own decisions first, then the recorded ones in order, and the
        // helper thread's event in its own sample, even with three samples at once.
        assert_eq!(
            observed,
            [
                "answer.given".to_string(),
                "route.handoff".into(),
                "tool.lookup_order".into(),
                format!("sample.{}", sample.sample),
            ]
        );
    }
    // The harness installed the decision layer as the global subscriber.
    assert!(!evalgate::install_decision_layer());

    let (code, data) = run_case(&suite, "refund", &suite.out().join("refund"));
    assert_eq!(code, ExitCode::from(evalgate::exit::FAILED));
    let case = &data.cases[0];
    assert!(case.failed);
    let message = case.message.as_deref().unwrap_or_default();
    assert!(
        message.contains("missing route.refund; observed answer.given → route.handoff → tool.lookup_order → sample."),
        "{message}"
    );
}
