//! The harness behaves like `cargo test`: filters, `--list`, `--exact`, `--skip`,
//! `--ignored`, `--include-ignored`, `--test-threads`, tags, exit codes; and under `--exact`
//! loads one case file without a scan of the tree. One process per case and merged shards
//! are in `shards`, signals in `interrupts`; both use this module's fixture.

use crate::support::mock_agent;
use crate::support::suite;
use crate::support::test_lines;

use std::collections::BTreeSet;
use std::time::Duration;

use mock_agent::{Behaviour, MockAgent};
use suite::{TempSuite, simple_case};

pub(super) struct Fixture {
    pub(super) _runtime: tokio::runtime::Runtime,
    pub(super) agent: MockAgent,
    pub(super) suite: TempSuite,
}

/// A suite of five cases against an echo agent: two under refunds/, one under status/,
/// a draft and a retired case.
pub(super) fn fixture(behaviour: Behaviour, concurrency: usize) -> Fixture {
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
pub(super) fn cases_run(suite: &TempSuite) -> BTreeSet<String> {
    suite
        .records_of("case")
        .iter()
        .map(|r| r["case"].as_str().unwrap().to_string())
        .collect()
}

/// Whether libtest printed `test <name> ... <outcome>` (names are padded to align).
pub(super) fn printed(stdout: &str, name: &str, outcome: &str) -> bool {
    test_lines::outcome(stdout, name) == outcome
}

pub(super) fn set(ids: &[&str]) -> BTreeSet<String> {
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
