//! The harness behaves like `cargo test`: filters, `--list`, `--exact`, `--skip`,
//! `--ignored`, `--include-ignored`, `--test-threads`, exit codes; and like nextest needs:
//! one process per case under `--exact`, without a scan of the tree, without losing a
//! result when processes run alone; and a killed run keeps what finished.

#[path = "support/mock_agent.rs"]
mod mock_agent;
#[path = "support/reports.rs"]
mod reports;
#[path = "support/suite.rs"]
mod suite;

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
    stdout.lines().any(|l| {
        l.strip_prefix("test ")
            .and_then(|rest| rest.split_once(" ..."))
            .is_some_and(|(n, o)| n.trim_end() == name && o.trim() == outcome)
    })
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
    assert!(
        run.stdout.contains("0 passed"),
        "--exact does not match prefixes: {}",
        run.stdout
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
    assert_eq!(cases.matches("<testcase ").count(), 3, "{junit}");
    assert!(
        junit.contains("<testsuite name=\"evalgate.decay\""),
        "`evalgate report` learnt the suite's decay facts from the evals folder: {junit}"
    );
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
    assert!(
        report
            .stderr
            .contains(&format!("evalgate: {} cases", finished.len())),
        "{}",
        report.stderr
    );
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
        mixed
            .stderr
            .contains("these run folders are not shards of one run: case `refunds/"),
        "{}",
        mixed.stderr
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
    let latency = regex::Regex::new(r#"(latency_[a-z_]+" value=")[^"]*"#).unwrap();
    let text = time.replace_all(text, r#"time="_""#);
    let text = stamp.replace_all(&text, "_");
    let text = run.replace_all(&text, "${1}_");
    latency.replace_all(&text, "${1}_").into_owned()
}
