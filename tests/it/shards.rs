//! Like nextest needs: one process per case under `--exact` loses no result and
//! `evalgate report` merges the processes' records; shards of one run merge to exactly
//! what one unsharded run reports, and folders of different runs are refused.

use crate::support::mock_agent;
use crate::support::reports;
use crate::support::suite;

use mock_agent::Behaviour;
use suite::simple_case;

use super::harness_flags::fixture;

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
