//! The harness behaves like `cargo test`: filters, `--list`, `--exact`, `--skip`,
//! `--ignored`, `--include-ignored`, `--test-threads`, exit codes; and like nextest needs:
//! one process per case under `--exact`, without a scan of the tree, without losing a
//! result when processes run alone; and a killed run keeps what finished.

use crate::support::mock_agent;
use crate::support::reports;
use crate::support::suite;
use crate::support::test_lines;

use std::collections::BTreeSet;
use std::time::Duration;

use mock_agent::{Behaviour, MockAgent};
use suite::{TempSuite, simple_case};

struct Fixture {
    _runtime: tokio::runtime::Runtime,
    agent: MockAgent,
    suite: TempSuite,
}

/// A suite of five cases against an echo agent: two under refunds/, one under status/,
/// a draft and a retired case.
fn fixture(behaviour: Behaviour, concurrency: usize) -> Fixture {
    let runtime = mock_agent::runtime();
    let agent = mock_agent::serve(&runtime, behaviour);
    let suite = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\nconcurrency: {concurrency}\n",
        agent.url
    ));
    suite
        .case("refunds/a.yaml", &simple_case("refund please", "  - contains: refund\n  - branches: [route.echo]"))
        .case("refunds/b.yaml", &simple_case("refund now", "  - contains: refund"))
        .case("status/c.yaml", &simple_case("where is it", "  - contains: where"))
        .case(
            "draft.yaml",
            "status: draft\ninput:\n  messages: [{role: user, content: wip}]\nexpect: [{contains: wip}]\n",
        )
        .case(
            "old.yaml",
            "status: {retired: {reason: \"policy v3 is gone\", date: 2026-10-01}}\ninput:\n  messages: [{role: user, content: old}]\nexpect: [{contains: old}]\n",
        );
    Fixture {
        _runtime: runtime,
        agent,
        suite,
    }
}

/// The case ids with a case record, over all runs so far.
fn cases_run(suite: &TempSuite) -> BTreeSet<String> {
    suite
        .records_of("case")
        .iter()
        .map(|r| r["case"].as_str().unwrap().to_string())
        .collect()
}

/// Whether libtest printed `test <name> ... <outcome>` (names are padded to align).
fn printed(stdout: &str, name: &str, outcome: &str) -> bool {
    test_lines::outcome(stdout, name) == outcome
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn list_shows_every_runnable_case_as_a_test_and_runs_nothing() {
    let f = fixture(Behaviour::Echo, 8);
    let run = f.suite.run(&["--list"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let listed: BTreeSet<&str> = run.listed().into_iter().collect();
    assert_eq!(
        listed,
        BTreeSet::from([
            "evals::draft: test",
            "evals::refunds/a: test",
            "evals::refunds/b: test",
            "evals::status/c: test",
        ]),
        "retired cases are not tests:\n{}",
        run.stdout
    );
    let ignored = f.suite.run(&["--list", "--ignored"]);
    assert_eq!(ignored.listed(), ["evals::draft: test"]);
    assert_eq!(f.agent.hits(), 0, "--list must not call the agent");
}

#[test]
fn a_plain_run_passes_writes_records_and_junit() {
    let f = fixture(Behaviour::Echo, 8);
    let run = f.suite.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        printed(&run.stdout, "evals::refunds/a", "ok"),
        "{}",
        run.stdout
    );
    assert!(
        printed(&run.stdout, "evals::draft", "ignored"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("3 passed; 0 failed; 1 ignored"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("evalgate: 3 cases: 3 pass, 0 fail"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("evalgate: junit"), "{}", run.stderr);
    assert_eq!(
        cases_run(&f.suite),
        set(&["refunds/a", "refunds/b", "status/c"])
    );
    assert_eq!(f.suite.records_of("run").len(), 1);
    assert_eq!(f.suite.records_of("sample").len(), 3);
    assert_eq!(f.agent.hits(), 3);
    assert!(f.suite.junit().contains("name=\"refunds/a\""));
}

#[test]
fn a_filter_runs_matching_cases_only() {
    let f = fixture(Behaviour::Echo, 8);
    let run = f.suite.run(&["refunds"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains("2 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out"),
        "{}",
        run.stdout
    );
    assert_eq!(cases_run(&f.suite), set(&["refunds/a", "refunds/b"]));
    assert_eq!(f.agent.hits(), 2, "filtered-out cases never call the agent");
}

#[test]
fn exact_and_skip() {
    let f = fixture(Behaviour::Echo, 8);
    let run = f.suite.run(&["--exact", "evals::refunds/a"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("1 passed"), "{}", run.stdout);
    let f = fixture(Behaviour::Echo, 8);
    let run = f.suite.run(&["--exact", "evals::refunds"]);
    // --exact does not match prefixes; under `evalgate run`, matching nothing is a mistake.
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("error: no case matched `--exact evals::refunds` (4 case(s) in evals;"),
        "{}",
        run.stderr
    );
    assert_eq!(f.agent.hits(), 0);
    assert!(
        f.suite.run_dirs().is_empty(),
        "nothing ran, nothing recorded"
    );
    let run = f.suite.run(&["--skip", "refunds", "--skip", "status"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("no case matched the arguments (`--skip`)"),
        "{}",
        run.stderr
    );
    let run = f.suite.run(&["no-such-case"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("no case matched filter `no-such-case`"),
        "{}",
        run.stderr
    );
    let f = fixture(Behaviour::Echo, 8);
    let run = f.suite.run(&["--skip", "refunds"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(cases_run(&f.suite), set(&["status/c"]));
}

#[test]
fn ignored_runs_drafts_only_and_include_ignored_runs_all() {
    let f = fixture(Behaviour::Echo, 8);
    let run = f.suite.run(&["--ignored"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(cases_run(&f.suite), set(&["draft"]));
    let f = fixture(Behaviour::Echo, 8);
    let run = f.suite.run(&["--include-ignored"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        cases_run(&f.suite),
        set(&["draft", "refunds/a", "refunds/b", "status/c"])
    );
}

#[test]
fn test_threads_caps_the_calls_in_flight() {
    let f = fixture(Behaviour::Echo, 8);
    let run = f.suite.run(&["--test-threads", "1"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(f.suite.records_of("run")[0]["concurrency"], 1);
    let f = fixture(Behaviour::Echo, 8);
    f.suite.run(&[]);
    assert_eq!(f.suite.records_of("run")[0]["concurrency"], 8);
}

#[test]
fn concurrency_is_independent_of_libtest_threads() {
    // 8 cases × 300 ms with concurrency 8 and the default libtest threads (2 cores):
    // all in flight at once, so well under the 2.4 s a serial run would take.
    let f = fixture(Behaviour::Delay(Duration::from_millis(300)), 8);
    for i in 0..5 {
        f.suite.case(
            &format!("more/{i}.yaml"),
            &simple_case("x", "  - contains: x"),
        );
    }
    let started = std::time::Instant::now();
    let run = f.suite.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let samples = f.suite.records_of("sample");
    assert_eq!(samples.len(), 8);
    // Overlap is proven from the records, not from wall time: some sample started before
    // another finished, for at least 3 samples at once.
    let mut spans: Vec<(String, String)> = samples
        .iter()
        .map(|s| {
            (
                s["started_at"].as_str().unwrap().to_string(),
                s["finished_at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort();
    let max_overlap = spans
        .iter()
        .map(|(start, _)| {
            spans
                .iter()
                .filter(|(s, e)| s <= start && e > start)
                .count()
        })
        .max()
        .unwrap();
    assert!(max_overlap >= 3, "at most {max_overlap} samples overlapped");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_failing_case_exits_1_and_says_where_and_why() {
    let f = fixture(Behaviour::Echo, 8);
    f.suite.case(
        "refunds/wrong.yaml",
        &simple_case("refund please", "  - contains: exchange"),
    );
    let run = f.suite.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        printed(&run.stdout, "evals::refunds/wrong", "FAILED"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("evals/cases/refunds/wrong.yaml:6:5: contains"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("expected: output containing \"exchange\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("actual:   output \"refund please\""),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("3 pass, 1 fail"), "{}", run.stderr);
}

#[test]
fn exact_loads_one_file_without_scanning_the_tree() {
    let f = fixture(Behaviour::Echo, 8);
    // A broken sibling: a full scan would fail with exit 2.
    f.suite.case("zz/broken.yaml", "this: is: not: yaml: [\n");
    for i in 0..200 {
        f.suite.case(
            &format!("bulk/{i:03}.yaml"),
            &simple_case("x", "  - contains: x"),
        );
    }
    let env = [("EVALGATE_DEBUG_DISCOVERY", "1")];
    let run = f
        .suite
        .evalgate_env(&["run", "evals", "--", "--exact", "evals::status/c"], &env);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr
            .contains("discovery listed 0 folder(s), parsed 1 case file(s)"),
        "{}",
        run.stderr
    );
    assert_eq!(cases_run(&f.suite), set(&["status/c"]));
    let full = f.suite.evalgate_env(&["run", "evals"], &env);
    assert_eq!(
        full.code,
        2,
        "the broken sibling is found by a full scan: {}",
        full.all()
    );
}

#[test]
fn exact_falls_back_to_a_scan_for_ids_that_are_not_paths() {
    let f = fixture(Behaviour::Echo, 8);
    f.suite.case(
        "misc/file-name.yaml",
        "id: custom/name\ninput:\n  messages: [{role: user, content: hi}]\nexpect: [{contains: hi}]\n",
    );
    let env = [("EVALGATE_DEBUG_DISCOVERY", "1")];
    let run = f.suite.evalgate_env(
        &["run", "evals", "--", "--exact", "evals::custom/name"],
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        printed(&run.stdout, "evals::custom/name", "ok"),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("listed 0 folder(s)"), "{}", run.stderr);
}

#[test]
fn one_process_per_case_loses_nothing_and_report_merges() {
    let f = fixture(Behaviour::Echo, 8);
    let env = [("NEXTEST_RUN_ID", "run-42")];
    for name in ["evals::refunds/a", "evals::refunds/b", "evals::status/c"] {
        let run = f.suite.evalgate_env(
            &["run", "evals", "--", "--exact", name, "--nocapture"],
            &env,
        );
        assert_eq!(run.code, 0, "{}", run.all());
    }
    assert!(
        !f.suite.out().join("junit.xml").exists(),
        "a lone nextest process writes no report"
    );
    let run_dir = f.suite.out().join("runs/run-42");
    let files = std::fs::read_dir(&run_dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "jsonl")
        })
        .count();
    assert_eq!(files, 3, "one record file per process");
    let report = f.suite.evalgate(&["report", run_dir.to_str().unwrap()]);
    assert_eq!(report.code, 0, "{}", report.all());
    assert!(
        report.stderr.contains("3 cases: 3 pass"),
        "{}",
        report.stderr
    );
    let junit = f.suite.junit();
    let cases = junit.split("<testsuite name=\"evalgate.").next().unwrap();
    // The three active cases, and the draft as cargo test lists it: not run.
    assert_eq!(cases.matches("<testcase ").count(), 4, "{junit}");
    assert_eq!(cases.matches("type=\"draft\"").count(), 1, "{junit}");
    assert!(
        junit.contains("<testsuite name=\"evalgate.decay\""),
        "`evalgate report` learnt the suite's decay facts from the evals folder: {junit}"
    );
}

/// One process per case (nextest) and one case's process never started (a cancelled run,
/// `--max-fail`): no process planned it, but the suite has it — the run is incomplete,
/// never green, unless the user says it was filtered on purpose.
#[test]
fn under_one_process_per_case_a_case_never_started_is_missing() {
    let f = fixture(Behaviour::Echo, 8);
    let env = [("NEXTEST_RUN_ID", "run-cancelled")];
    for name in ["evals::refunds/a", "evals::refunds/b"] {
        let run = f
            .suite
            .evalgate_env(&["run", "evals", "--", "--exact", name], &env);
        assert_eq!(run.code, 0, "{}", run.all());
    }
    let run_dir = f.suite.out().join("runs/run-cancelled");
    let report = f.suite.evalgate(&["report", run_dir.to_str().unwrap()]);
    assert_eq!(report.code, 1, "{}", report.all());
    assert!(
        report.stderr.starts_with(
            "evalgate: INCOMPLETE: the run is incomplete: 1 case(s) of the suite never started"
        ),
        "{}",
        report.stderr
    );
    assert!(f.suite.junit().contains("name=\"status/c\""));
    let save = f.suite.evalgate(&[
        "baseline",
        "save",
        "--to",
        "baseline.json",
        run_dir.to_str().unwrap(),
    ]);
    assert_eq!(save.code, 2, "{}", save.all());
    assert!(
        save.stderr.contains("a baseline must be a finished run"),
        "{}",
        save.stderr
    );

    let report = f
        .suite
        .evalgate(&["report", "--partial", run_dir.to_str().unwrap()]);
    assert_eq!(report.code, 0, "{}", report.all());
    let coverage = reports::read_json(&f.suite.out().join("coverage.json"));
    assert!(
        coverage["partial"]
            .as_str()
            .is_some_and(|p| p.contains("the run covers 2 of the suite's 3 cases")),
        "{coverage:#}"
    );
    assert_eq!(coverage["incomplete"], serde_json::Value::Null);
}

#[test]
fn report_without_records_refuses_and_report_of_a_failure_exits_1() {
    let f = fixture(Behaviour::Echo, 8);
    std::fs::create_dir_all(f.suite.out().join("runs/empty")).unwrap();
    let run = f
        .suite
        .evalgate(&["report", f.suite.out().join("runs/empty").to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("no run records"), "{}", run.stderr);
    f.suite.case(
        "refunds/wrong.yaml",
        &simple_case("refund", "  - contains: exchange"),
    );
    assert_eq!(f.suite.run(&[]).code, 1);
    let report = f.suite.evalgate(&["report"]);
    assert_eq!(report.code, 1, "{}", report.all());
    assert!(
        report.stderr.contains("--- refunds/wrong [fail]"),
        "{}",
        report.stderr
    );
}

#[test]
fn a_killed_run_keeps_every_finished_record() {
    let f = fixture(Behaviour::Delay(Duration::from_millis(200)), 1);
    for i in 0..30 {
        f.suite.case(
            &format!("slow/{i:02}.yaml"),
            &simple_case("x", "  - contains: x"),
        );
    }
    // A green run first: its reports must not outlive the killed run.
    let green = f.suite.run(&["refunds/a"]);
    assert_eq!(green.code, 0, "{}", green.all());
    std::fs::remove_dir_all(f.suite.out().join("runs")).unwrap();
    std::fs::remove_file(f.suite.out().join("history.sqlite")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["run", "evals"])
        .current_dir(f.suite.path())
        .env("EVALGATE_OUT", f.suite.out())
        .env_remove("NEXTEST_RUN_ID")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until a few cases have finished, then kill -9 mid-run.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while f.suite.run_dirs().is_empty() || f.suite.records_of("case").len() < 3 {
        assert!(std::time::Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The reports of the green run before are gone: what is there says this one did not end.
    let junit = f.suite.junit();
    assert!(
        junit.contains("name=\"run incomplete\"") && junit.contains("has not written its reports"),
        "{junit}"
    );
    let gates = reports::read_json(&f.suite.out().join("gates.json"));
    assert!(
        gates["incomplete"]["why"]
            .as_str()
            .is_some_and(|w| w.contains("has not written its reports")),
        "{gates:#}"
    );
    let finished = f.suite.records_of("case");
    assert!(
        finished.len() >= 3 && finished.len() < 33,
        "{}",
        finished.len()
    );
    for case in &finished {
        let id = case["case"].as_str().unwrap();
        assert!(
            f.suite.records_of("sample").iter().any(|s| s["case"] == id),
            "the sample record of {id} is there too"
        );
    }
    let run_dir = f.suite.run_dirs().remove(0);
    let report = f.suite.evalgate(&["report", run_dir.to_str().unwrap()]);
    // Every finished case passed, but the run is not green: it was killed.
    assert_eq!(report.code, 1, "{}", report.all());
    let first = report.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("evalgate: INCOMPLETE: the run is incomplete: killed before its end; ")
            && first.contains(&format!(
                "{} of 33 planned case(s) finished, {} did not",
                finished.len(),
                33 - finished.len()
            )),
        "the report says so first:\n{}",
        report.stderr
    );
    assert!(
        report
            .stderr
            .contains(&format!("evalgate: {} cases", finished.len())),
        "{}",
        report.stderr
    );
    // JUnit fails every case without a result.
    let junit = f.suite.junit();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let failures: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure") && n.attribute("type") == Some("incomplete"))
        .map(|n| n.parent().unwrap().attribute("name").unwrap())
        .collect();
    assert_eq!(failures.len(), 33 - finished.len(), "{junit}");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_ne!(suite.attribute("failures"), Some("0"), "{junit}");
    let coverage = reports::read_json(&f.suite.out().join("coverage.json"));
    assert_eq!(
        coverage["incomplete"]["completion"]["killed"], 1,
        "{coverage:#}"
    );
    let gates = reports::read_json(&f.suite.out().join("gates.json"));
    assert_eq!(gates["incomplete"], coverage["incomplete"], "{gates:#}");
    // History keeps it, marked partial.
    let history = rusqlite::Connection::open(f.suite.out().join("history.sqlite")).unwrap();
    let partial: i64 = history
        .query_row("SELECT partial FROM runs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(partial, 1);
    let runs = f.suite.evalgate(&["history", "runs"]);
    assert!(
        runs.stdout
            .trim_end()
            .ends_with("(partial: did not finish)"),
        "{}",
        runs.all()
    );
}

/// `evalgate run evals` on `suite`, in the background, with `grace` for samples in flight
/// after a signal, its output piped.
fn spawn_run(suite: &TempSuite, grace: &str) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["run", "evals"])
        .current_dir(suite.path())
        .env("EVALGATE_OUT", suite.out())
        .env("EVALGATE_INTERRUPT_GRACE", grace)
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("GITHUB_ACTIONS")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `signal` to `child`.
fn signal(child: &std::process::Child, signal: i32) {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

/// Starts `evalgate run evals` on `f`'s suite, waits until `cases` cases finished, and sends
/// `signal`.
fn signalled_run(f: &Fixture, cases: usize, signal: i32, grace: &str) -> std::process::Output {
    let child = spawn_run(&f.suite, grace);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while f.suite.run_dirs().is_empty() || f.suite.records_of("case").len() < cases {
        assert!(std::time::Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    self::signal(&child, signal);
    child.wait_with_output().unwrap()
}

#[test]
fn an_interrupted_run_stops_starting_samples_writes_every_report_and_exits_130() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let f = fixture(Behaviour::Delay(Duration::from_millis(150)), 1);
        for i in 0..30 {
            f.suite.case(
                &format!("slow/{i:02}.yaml"),
                &simple_case("x", "  - contains: x"),
            );
        }
        let output = signalled_run(&f, 3, signal, "5s");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "{stderr}");
        let name = if signal == libc::SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        assert!(
            stderr.contains(&format!("evalgate: {name}: no new samples start")),
            "{stderr}"
        );
        assert!(
            stderr.contains(
                "evalgate: INCOMPLETE: the run is incomplete: interrupted (SIGINT/SIGTERM); "
            ),
            "{stderr}"
        );
        let finished = f.suite.records_of("case").len();
        assert!(
            finished < 20,
            "samples stopped starting: {finished} finished"
        );
        // The agent was not called for the cases that never started.
        assert!(f.agent.hits() <= finished + 1, "{} calls", f.agent.hits());
        let ends = f.suite.records_of("end");
        assert_eq!(ends.len(), 1);
        assert_eq!(ends[0]["interrupted"], true);
        let junit = f.suite.junit();
        assert!(junit.contains("type=\"incomplete\""), "{junit}");
        let history = rusqlite::Connection::open(f.suite.out().join("history.sqlite")).unwrap();
        let partial: i64 = history
            .query_row("SELECT partial FROM runs", [], |row| row.get(0))
            .unwrap();
        assert_eq!(partial, 1);
    }
}

#[test]
fn samples_still_in_flight_when_the_grace_ends_are_given_up() {
    let runtime = mock_agent::runtime();
    let agent = mock_agent::serve(&runtime, Behaviour::Delay(Duration::from_secs(60)));
    let suite = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\n",
        agent.url
    ));
    suite.case("a.yaml", &simple_case("x", "  - contains: x"));
    let started = std::time::Instant::now();
    let child = spawn_run(&suite, "300ms");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while agent.hits() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the agent was never called"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the 60 s call was given up after the grace"
    );
    assert!(
        stderr.contains("evalgate: without a result: a\n"),
        "{stderr}"
    );
    assert!(suite.out().join("junit.xml").exists());
    // The mock's own 60 s answer is not waited for either.
    drop(agent);
    runtime.shutdown_background();
}

/// `evalgate report --merge` takes the shards of one run; folders of two different runs (each
/// case recorded twice), a missing folder, or no folder at all are usage errors.
#[test]
fn merge_refuses_folders_that_are_not_shards_of_one_run() {
    let f = fixture(Behaviour::Echo, 8);
    let filtered = |id: &str, filter: &str| {
        let run = f.suite.evalgate_env(
            &["run", "evals", "--", filter],
            &[("EVALGATE_RUN_ID", id), ("EVALGATE_HISTORY", "off")],
        );
        assert_eq!(run.code, 0, "{}", run.all());
        f.suite.out().join("runs").join(id)
    };
    // Two shards of one suite, each case once: they merge.
    let refunds = filtered("shard-1", "refunds");
    let status = filtered("shard-2", "status");
    let env = [("EVALGATE_HISTORY", "off")];
    let shards = [refunds.to_str().unwrap(), status.to_str().unwrap()];
    let merged = f
        .suite
        .evalgate_env(&["report", "--merge", shards[0], shards[1]], &env);
    assert_eq!(merged.code, 0, "{}", merged.all());

    // A whole second run mixed in: every case twice.
    let again = filtered("run-2", "");
    let mixed = f.suite.evalgate_env(
        &[
            "report",
            "--merge",
            shards[0],
            shards[1],
            again.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(mixed.code, 2, "{}", mixed.all());
    assert!(
        mixed.stderr.contains(&format!(
            "run folders {} and {} both hold case `refunds/a` (and 2 more case(s) twice)",
            shards[0],
            again.display()
        )),
        "{}",
        mixed.stderr
    );
    // The same shard twice would double its samples, tokens and cost.
    let twice = f.suite.evalgate_env(
        &["report", "--merge", shards[0], shards[1], shards[0]],
        &env,
    );
    assert_eq!(twice.code, 2, "{}", twice.all());
    assert!(
        twice.stderr.contains(&format!(
            "run folder {} is given twice: its samples, tokens and cost would count twice",
            shards[0]
        )),
        "{}",
        twice.stderr
    );
    let other_path = format!("{}/../shard-1", shards[1]);
    let twice = f
        .suite
        .evalgate_env(&["report", "--merge", shards[0], &other_path], &env);
    assert_eq!(twice.code, 2, "{}", twice.all());
    assert!(
        twice.stderr.contains("is given twice (also as"),
        "{}",
        twice.stderr
    );
    let missing = f
        .suite
        .evalgate_env(&["report", "--merge", shards[0], "no/such/shard"], &env);
    assert_eq!(missing.code, 2, "{}", missing.all());
    assert!(
        missing
            .stderr
            .contains("cannot read run folder no/such/shard"),
        "{}",
        missing.stderr
    );
    let none = f.suite.evalgate_env(&["report", "--merge"], &env);
    assert_eq!(none.code, 2, "{}", none.all());
}

/// JUnit and the gate and decay decisions of merged shards are those of one unsharded run of
/// the same suite, up to timings, run ids and dates.
#[test]
fn merged_shards_report_exactly_what_one_unsharded_run_reports() {
    let f = fixture(Behaviour::Echo, 8);
    std::fs::write(
        f.suite.evals().join("evalgate.yaml"),
        format!(
            "target:\n  http: {{url: \"{}/v1/agent\"}}\ngates:\n  - {{metric: cases.pass_rate, min: 0.9}}\n  - {{metric: decay.stale_share, max: 0.5, level: warn}}\n",
            f.agent.url
        ),
    )
    .unwrap();
    let env = |id: &'static str| [("EVALGATE_RUN_ID", id), ("EVALGATE_HISTORY", "off")];
    let reports = |args: &[&str], id: &'static str| {
        let run = f.suite.evalgate_env(args, &env(id));
        assert_eq!(run.code, 0, "{}", run.all());
        let out = f.suite.out();
        (
            normalise(&std::fs::read_to_string(out.join("junit.xml")).unwrap()),
            reports::read_json(&out.join("coverage.json"))["gates"].clone(),
            normalise(&std::fs::read_to_string(out.join("decay.json")).unwrap()),
        )
    };
    let whole = reports(&["run", "evals"], "whole");
    for (id, filter) in [("shard-1", "refunds"), ("shard-2", "status")] {
        let run = f
            .suite
            .evalgate_env(&["run", "evals", "--", filter], &env(id));
        assert_eq!(run.code, 0, "{}", run.all());
    }
    let runs = f.suite.out().join("runs");
    let merged = reports(
        &[
            "report",
            "--merge",
            runs.join("shard-1").to_str().unwrap(),
            runs.join("shard-2").to_str().unwrap(),
        ],
        "merge",
    );
    assert_eq!(merged.0, whole.0, "JUnit");
    assert_eq!(merged.1, whole.1, "gates");
    assert_eq!(merged.2, whole.2, "decay");

    // One shard's folder missing: not the whole suite, a usage error rather than a pass
    // with every coverage and signal gate skipped.
    let lone = f.suite.evalgate_env(
        &["report", "--merge", runs.join("shard-1").to_str().unwrap()],
        &env("lone"),
    );
    assert_eq!(lone.code, 2, "{}", lone.all());
    assert!(
        lone.stderr
            .contains("the merged shards are not the whole suite"),
        "{}",
        lone.stderr
    );
}

/// Times, run ids and timestamps vary between runs; nothing else may.
fn normalise(text: &str) -> String {
    let time = regex::Regex::new(r#"time="[0-9.]+""#).unwrap();
    let stamp = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T[0-9:.]+Z").unwrap();
    let run = regex::Regex::new(r#"(run_id" value=")[^"]*"#).unwrap();
    let latency = regex::Regex::new(r#"(latency_[a-z_]+(?:" value="|: ))[^"\n]*"#).unwrap();
    let text = time.replace_all(text, r#"time="_""#);
    let text = stamp.replace_all(&text, "_");
    let text = run.replace_all(&text, "${1}_");
    latency.replace_all(&text, "${1}_").into_owned()
}

/// A symlinked folder under `cases/` is followed like a folder; a loop, or a second path
/// to a folder already read, is an error that names it — never skipped in silence.
#[cfg(unix)]
#[test]
fn symlinked_case_folders_are_followed_and_loops_refused() {
    let f = fixture(Behaviour::Echo, 8);
    let shared = f.suite.path().join("shared-cases");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(
        shared.join("linked.yaml"),
        simple_case("linked", "  - contains: linked"),
    )
    .unwrap();
    let cases = f.suite.evals().join("cases");
    std::os::unix::fs::symlink(&shared, cases.join("team")).unwrap();
    let run = f.suite.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        printed(&run.stdout, "evals::team/linked", "ok"),
        "{}",
        run.stdout
    );

    // A second link to the same folder would make each of its cases two cases.
    std::os::unix::fs::symlink(&shared, cases.join("again")).unwrap();
    let run = f.suite.run(&["--list"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("two paths to one folder"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(cases.join("again")).unwrap();

    // A loop.
    std::os::unix::fs::symlink(&cases, cases.join("refunds").join("loop")).unwrap();
    let run = f.suite.run(&["--list"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("refunds/loop") && run.stderr.contains("a symlink loop"),
        "{}",
        run.stderr
    );
}

/// A second signal stops at once: no reports (what is there says the run did not end), and
/// the agent processes in flight are killed with it, not left running.
#[cfg(unix)]
#[test]
fn a_second_signal_stops_at_once_and_kills_the_agents_processes() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let suite = TempSuite::new(&format!(
        "target:\n  command:\n    program: sh\n    args: [\"-c\", \"echo $$ > {}/$$; sleep 60\"]\n",
        pids.display()
    ));
    suite.case("a.yaml", &simple_case("x", "  - contains: x"));
    let child = spawn_run(&suite, "60s");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let agent = loop {
        let written = std::fs::read_dir(&pids).unwrap().next();
        if let Some(entry) = written {
            break entry
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .parse::<i32>()
                .unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the agent never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("evalgate: SIGINT again: stopping at once, without reports"),
        "{stderr}"
    );
    // Killed: gone, or a zombie left for init to reap.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let alive = loop {
        let state = std::fs::read_to_string(format!("/proc/{agent}/stat")).ok();
        let running = state.is_some_and(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
        });
        if !running || std::time::Instant::now() > deadline {
            break running;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!alive, "the agent process {agent} outlived evalgate");
    let junit = std::fs::read_to_string(suite.out().join("junit.xml")).unwrap();
    assert!(junit.contains("name=\"run incomplete\""), "{junit}");
}

/// `tag:<name>` as the filter, or `$EVALGATE_TAGS` (which nextest's `--list` sees too), runs
/// the cases with that tag only; a tag no case has runs nothing, and says so.
#[test]
fn tags_select_cases_by_filter_and_by_environment() {
    let f = fixture(Behaviour::Echo, 8);
    f.suite.case(
        "billing/d.yaml",
        "tags: [billing, vip]\ninput:\n  messages: [{role: user, content: bill}]\nexpect: [{contains: bill}]\n",
    );
    f.suite.case(
        "billing/e.yaml",
        "tags: [billing]\ninput:\n  messages: [{role: user, content: bill}]\nexpect: [{contains: bill}]\n",
    );
    let run = f.suite.run(&["tag:vip"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(cases_run(&f.suite), set(&["billing/d"]));

    let listed = f.suite.evalgate_env(
        &["run", "evals", "--", "--list"],
        &[("EVALGATE_TAGS", "billing")],
    );
    assert_eq!(
        listed.listed(),
        ["evals::billing/d: test", "evals::billing/e: test"],
        "{}",
        listed.all()
    );
    let run = f
        .suite
        .evalgate_env(&["run", "evals"], &[("EVALGATE_TAGS", " billing ,vip")]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(cases_run(&f.suite), set(&["billing/d", "billing/e"]));

    let run = f.suite.run(&["tag:nobody"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("no case matched tag `nobody`"),
        "{}",
        run.stderr
    );
    let run = f
        .suite
        .evalgate_env(&["run", "evals"], &[("EVALGATE_TAGS", "a,,b")]);
    assert_eq!(run.code, 2, "{}", run.all());
}
