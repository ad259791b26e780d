//! The store against the requirements of the history: idempotent ingest, envelopes
//! recomputed as a run's processes arrive, refusal of files that are not ours, nothing
//! half-written, and concurrent writers losing nothing. Record fixtures are shared with the
//! JSON Lines tests.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;
use crate::envelope::RunEnvelope;
use crate::errors::Error;
use crate::record::{CaseRecord, Record, RunData, RunRecord, SampleRecord};
use crate::verdict::Verdict;

/// `2026-11-28T00:00:00Z` plus `minutes`.
pub(super) fn at(minutes: i64) -> String {
    jiff::Timestamp::from_second(1_795_824_000 + minutes * 60)
        .unwrap()
        .to_string()
}

pub(super) fn run(run_id: &str, pid: u32, minutes: i64, model: &str) -> RunRecord {
    serde_json::from_value(json!({
        "schema": 1, "run_id": run_id, "suite": "support", "target": "http",
        "evalgate_version": "0.1.0", "pid": pid, "started_at": at(minutes), "concurrency": 4,
        "envelope": {"model": model, "prompt": "p-1"}, "pins": {"corpus": "c-3"},
    }))
    .unwrap()
}

pub(super) fn sample(run_id: &str, case: &str, index: u32, model: &str) -> SampleRecord {
    serde_json::from_value(json!({
        "schema": 1, "run_id": run_id, "case": case, "file": format!("evals/cases/{case}.yaml"),
        "sample": index, "verdict": "pass",
        "checks": [{"expectation": "contains", "line": 4, "column": 5, "passed": true,
                    "expected": "A1007", "actual": "Order A1007 — shipped ✓"}],
        "output": "Order A1007 — shipped ✓ \"quoted\"\n\ttab", "output_bytes": 36,
        "output_truncated": false, "decisions": ["route.lookup"],
        "latency_ms": 123.456789, "usage": {"input_tokens": 820, "output_tokens": 64},
        "tier": "primary", "model": model, "finish_reason": "stop", "refusal": false,
        "envelope": {"index": "kb-7"}, "attempts": 2, "retries": ["429"], "error": null,
        "started_at": at(1), "finished_at": at(2),
    }))
    .unwrap()
}

pub(super) fn case(run_id: &str, case: &str, verdict: Verdict) -> CaseRecord {
    serde_json::from_value(json!({
        "schema": 1, "run_id": run_id, "case": case, "file": format!("evals/cases/{case}.yaml"),
        "line": 1, "classname": "evals", "description": "looks up an order", "tags": ["orders"],
        "verdict": verdict, "failed": verdict != Verdict::Pass, "samples": 2, "passes": 2,
        "failures": 0, "errors": 0, "rule": "at_least 2", "interval": [0.342, 1.0],
        "duration_ms": 250.5, "message": null, "reviewed": "2026-11-01", "rubric": null,
        "pins": {}, "source": null, "started_at": at(1), "finished_at": at(3),
    }))
    .unwrap()
}

/// One process of a run: its run record, `cases` cases of two samples each.
pub(super) fn process(run_id: &str, pid: u32, minutes: i64, cases: &[&str]) -> RunData {
    RunData {
        runs: vec![run(run_id, pid, minutes, "m-1")],
        samples: cases
            .iter()
            .flat_map(|c| (0..2).map(move |i| sample(run_id, c, i, "m-1")))
            .collect(),
        cases: cases
            .iter()
            .map(|c| case(run_id, c, Verdict::Pass))
            .collect(),
        ..RunData::default()
    }
}

/// Every record of `data` as `Record`s, runs first.
pub(super) fn records(data: &RunData) -> Vec<Record> {
    data.records().collect()
}

pub(super) fn exported(store: &HistoryStore) -> String {
    let mut out = Vec::new();
    let lines = store.export(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(lines as usize, text.lines().count());
    text
}

fn temp_store() -> (tempfile::TempDir, PathBuf, HistoryStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    let store = HistoryStore::open(&path).unwrap();
    (dir, path, store)
}

/// The text of a data error (a damaged, foreign or newer file): never a usage error.
fn data_error(e: Error) -> String {
    match e {
        Error::Data(e) => e.to_string(),
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn ingesting_twice_keeps_one_copy_and_a_later_record_replaces() {
    let (_dir, _path, mut store) = temp_store();
    let data = process("r1", 7, 0, &["orders/a", "orders/b"]);
    let stats = store.ingest(&data).unwrap();
    assert_eq!((stats.runs, stats.samples, stats.cases), (1, 4, 2));
    let first = exported(&store);
    store.ingest(&data).unwrap();
    assert_eq!(
        exported(&store),
        first,
        "the same records twice are stored once"
    );

    let mut again = data.clone();
    again.cases[1].verdict = Verdict::Fail;
    store.ingest(&again).unwrap();
    let verdicts: Vec<_> = store
        .case_verdicts()
        .unwrap()
        .into_iter()
        .map(|v| (v.case, v.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("orders/a".to_string(), Verdict::Pass),
            ("orders/b".to_string(), Verdict::Fail)
        ]
    );
    assert_eq!(exported(&store).lines().count(), first.lines().count());
}

#[test]
fn the_envelope_is_recomputed_as_more_processes_of_a_run_arrive() {
    let (_dir, _path, mut store) = temp_store();
    let first = process("r1", 1, 0, &["a"]);
    store.ingest(&first).unwrap();
    let before = store.runs().unwrap().remove(0);
    assert_eq!(before.envelope.get("model"), Some("m-1"));
    assert_eq!(before.envelope.get("index"), Some("kb-7"), "reported wins");

    // A second nextest process of the same run, started earlier, whose samples ran on m-2:
    // now most samples of the run report m-2.
    let mut second = process("r1", 2, -1, &["b", "c"]);
    for s in &mut second.samples {
        s.model = Some("m-2".into());
        s.envelope.insert("prompt".into(), "p-2".into());
    }
    store.ingest(&second).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    let after = &runs[0];
    assert_eq!(after.envelope.get("model"), Some("m-2"));
    assert_ne!(after.envelope_id, before.envelope_id);
    assert_eq!(after.started_at.to_string(), at(-1), "its earliest process");

    // The same envelope as computed from every full record: reading only the reported
    // versions back loses nothing the envelope depends on.
    let mut all_runs = second.runs.clone();
    all_runs.extend(first.runs.clone());
    let full = RunEnvelope::of_run(&all_runs, first.samples.iter().chain(&second.samples));
    assert_eq!(
        (&after.envelope, &after.envelope_id),
        (&full.envelope, &full.id)
    );
    assert!(
        store
            .case_verdicts()
            .unwrap()
            .iter()
            .all(|v| v.envelope_id == full.id)
    );
}

#[test]
fn runs_come_newest_first_and_verdicts_oldest_run_first() {
    let (_dir, _path, mut store) = temp_store();
    for (run_id, minutes) in [("r-b", 10), ("r-c", 0), ("r-a", 10)] {
        store
            .ingest(&process(run_id, 1, minutes, &["z", "y"]))
            .unwrap();
    }
    let runs: Vec<_> = store
        .runs()
        .unwrap()
        .into_iter()
        .map(|r| (r.run_id, r.suite))
        .collect();
    let ids: Vec<_> = runs.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["r-b", "r-a", "r-c"]);
    assert!(runs.iter().all(|(_, suite)| suite == "support"));
    let verdicts: Vec<_> = store
        .case_verdicts()
        .unwrap()
        .into_iter()
        .map(|v| format!("{} {}", v.run_id, v.case))
        .collect();
    assert_eq!(
        verdicts,
        ["r-c y", "r-c z", "r-a y", "r-a z", "r-b y", "r-b z"]
    );
}

/// `process` of a run on `branch` at `commit`.
fn on_branch(run_id: &str, minutes: i64, branch: &str, commit: Option<&str>) -> RunData {
    let mut data = process(run_id, 1, minutes, &["a", "b"]);
    data.runs[0].branch = Some(branch.to_string());
    data.runs[0].commit = commit.map(str::to_string);
    data
}

/// The pooled baseline of `main` for a run `excluding` and measuring `commit`, since
/// minute `since`, as `(run ids pooled, [(case, passes, answered, runs)])`.
fn pooled(
    store: &HistoryStore,
    excluding: &[&str],
    commit: Option<&str>,
    axes: Option<&str>,
    since: i64,
) -> Pooled {
    store
        .pooled_baseline(&PoolQuery {
            suite: "support",
            branch: "main",
            excluding,
            commit,
            axes,
            window: 3,
            since: at(since).parse().unwrap(),
            cases: None,
        })
        .unwrap()
}

/// A pooled baseline's run ids, its cases as `(case, passes, answered, runs)`, and how many
/// cases its runs hold.
type PoolSummary = (Vec<String>, Vec<(String, u32, u32, u32)>, usize);

fn ids_and_cases(pooled: Pooled) -> PoolSummary {
    match pooled {
        Pooled::Found { runs, cases, held } => (
            runs.into_iter().map(|r| r.run_id).collect(),
            cases
                .into_iter()
                .map(|c| (c.case, c.passes, c.answered, c.runs))
                .collect(),
            held,
        ),
        other => panic!("expected a pooled baseline, got {other:?}"),
    }
}

#[test]
fn a_baseline_pools_the_latest_runs_of_its_branch_under_its_latest_envelope() {
    let (_dir, _path, mut store) = temp_store();
    // Five runs of main (two samples per case, all passing), the first under another model.
    let mut old = on_branch("m0", 0, "main", Some("c0"));
    old.samples
        .iter_mut()
        .for_each(|s| s.model = Some("m-0".into()));
    store.ingest(&old).unwrap();
    for (i, minutes) in [10, 20, 30, 40].into_iter().enumerate() {
        let id = format!("m{}", i + 1);
        store
            .ingest(&on_branch(
                &id,
                minutes,
                "main",
                Some(&format!("c{}", i + 1)),
            ))
            .unwrap();
    }
    store
        .ingest(&on_branch("f1", 50, "feature", Some("cf")))
        .unwrap();
    // Window 3: the three latest runs of main, not the feature branch's.
    let (ids, cases, held) = ids_and_cases(pooled(&store, &["f1"], Some("cf"), None, 0));
    assert_eq!(ids, ["m4", "m3", "m2"]);
    assert_eq!(
        cases,
        [("a".into(), 6, 6, 3), ("b".into(), 6, 6, 3)],
        "two samples per run, three runs"
    );
    assert_eq!(held, 2);
    // Never the run compared, nor an attempt of the commit it measured.
    let (ids, _, _) = ids_and_cases(pooled(&store, &["m4"], Some("c3"), None, 0));
    assert_eq!(ids, ["m2", "m1"], "m0 measured another envelope");
    // Only runs within the window's age; the latest too old: stale.
    let (ids, _, _) = ids_and_cases(pooled(&store, &[], None, None, 25));
    assert_eq!(ids, ["m4", "m3"]);
    assert!(matches!(pooled(&store, &[], None, None, 45), Pooled::Stale(r) if r.run_id == "m4"));
    // Runs under forced axes are another agent.
    assert!(matches!(
        pooled(&store, &[], None, Some(r#"{"model":"x"}"#), 0),
        Pooled::OtherAxes(r) if r.run_id == "m4"
    ));
    let mut forced = on_branch("x1", 60, "main", Some("cx"));
    forced.runs[0].axes.insert("model".into(), "x".into());
    store.ingest(&forced).unwrap();
    let (ids, _, _) = ids_and_cases(pooled(&store, &[], None, Some(r#"{"model":"x"}"#), 0));
    assert_eq!(ids, ["x1"]);
    assert_eq!(store.run_axes("x1").unwrap().unwrap()["model"], "x");
    let (ids, _, _) = ids_and_cases(pooled(&store, &[], None, None, 0));
    assert_eq!(
        ids,
        ["m4", "m3", "m2"],
        "a forced run is no baseline for a plain one"
    );
}

#[test]
fn a_run_of_a_suite_tier_is_never_pooled_into_a_baseline() {
    let (_dir, _path, mut store) = temp_store();
    store.ingest(&on_branch("full", 0, "main", None)).unwrap();
    let mut smoke = on_branch("smoke", 10, "main", None);
    smoke.runs[0].suite_tier = Some("smoke".into());
    store.ingest(&smoke).unwrap();
    let (ids, _, _) = ids_and_cases(pooled(&store, &[], None, None, 0));
    assert_eq!(ids, ["full"]);
    assert_eq!(pooled(&store, &["full"], None, None, 0), Pooled::Nothing);
}

#[test]
fn a_run_without_its_run_record_starts_with_its_first_record() {
    let (_dir, _path, mut store) = temp_store();
    let mut data = process("lost", 1, 0, &["a"]);
    data.runs.clear();
    store.ingest(&data).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs[0].started_at.to_string(), at(1));
    assert_eq!(runs[0].suite, "");
    assert_eq!(store.case_verdicts().unwrap().len(), 1);
}

#[test]
fn a_failing_ingest_stores_nothing() {
    let (_dir, _path, mut store) = temp_store();
    store.ingest(&process("kept", 1, 0, &["a"])).unwrap();
    let before = exported(&store);
    let mut data = process("r2", 1, 0, &["a", "b"]);
    data.cases[1].schema = 2;
    let e = data_error(store.ingest(&data).unwrap_err());
    assert!(e.contains("run r2 has schema 2"), "{e}");
    assert_eq!(exported(&store), before);
    assert_eq!(store.runs().unwrap().len(), 1);
}

#[test]
fn open_creates_the_parent_folders_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("target/evalgate/history.db");
    HistoryStore::open(&path)
        .unwrap()
        .ingest(&process("r1", 1, 0, &["a"]))
        .unwrap();
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.path(), path);
    assert_eq!(store.runs().unwrap().len(), 1);
}

/// The file and whatever SQLite keeps next to it, to show a refused file is left alone.
fn snapshot(path: &Path) -> (Vec<u8>, Vec<String>) {
    let mut names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    (std::fs::read(path).unwrap(), names)
}

#[test]
fn a_corrupt_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    let mut bytes = vec![0u8; 8192];
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    for b in &mut bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(&path, &bytes).unwrap();
    let before = snapshot(&path);
    let e = data_error(HistoryStore::open(&path).unwrap_err());
    assert!(e.starts_with(&path.display().to_string()), "{e}");
    assert!(e.contains("file is not a database"), "{e}");
    assert!(e.contains("move it away"), "{e}");
    assert_eq!(snapshot(&path), before);
}

#[test]
fn a_foreign_sqlite_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA application_id = 1234; CREATE TABLE users (name TEXT);
             INSERT INTO users VALUES ('ada');",
        )
        .unwrap();
    }
    let before = snapshot(&path);
    let e = data_error(HistoryStore::open(&path).unwrap_err());
    assert!(e.starts_with(&path.display().to_string()), "{e}");
    assert!(e.contains("not an evalgate run history"), "{e}");
    assert!(e.contains("application id 0x4d2"), "{e}");
    assert_eq!(snapshot(&path), before);

    // Tables but no application id (a plain SQLite file) is not ours either.
    std::fs::remove_file(&path).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE runs (id TEXT);")
        .unwrap();
    let before = snapshot(&path);
    assert!(data_error(HistoryStore::open(&path).unwrap_err()).contains("not an evalgate"));
    assert_eq!(snapshot(&path), before);
}

#[test]
fn a_history_from_a_newer_evalgate_is_refused_untouched() {
    let (_dir, path, mut store) = temp_store();
    store.ingest(&process("r1", 1, 0, &["a"])).unwrap();
    drop(store);
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let before = snapshot(&path);
    let e = data_error(HistoryStore::open(&path).unwrap_err());
    assert!(e.starts_with(&path.display().to_string()), "{e}");
    assert!(
        e.contains("schema version 99, newer than this evalgate knows"),
        "{e}"
    );
    assert!(e.contains("use the newer evalgate"), "{e}");
    assert_eq!(snapshot(&path), before);
}

#[test]
fn two_writers_at_once_lose_nothing() {
    let (_dir, path, store) = temp_store();
    drop(store);
    let writers: Vec<_> = ["t0", "t1"]
        .into_iter()
        .map(|prefix| {
            let path = path.clone();
            std::thread::spawn(move || ingest_runs(&path, prefix, 40))
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.runs().unwrap().len(), 80);
    assert_eq!(store.case_verdicts().unwrap().len(), 80 * 3);
    assert_eq!(exported(&store).lines().count(), 80 * (1 + 3 * 2 + 3));
}

/// Opens its own store on `path` and ingests `count` runs, one ingest each.
fn ingest_runs(path: &Path, prefix: &str, count: u32) {
    let mut store = HistoryStore::open(path).unwrap();
    for i in 0..count {
        let run_id = format!("{prefix}-{i}");
        store
            .ingest(&process(&run_id, i, i64::from(i), &["a", "b", "c"]))
            .unwrap();
    }
}

/// Set in the child processes of `two_processes_at_once_lose_nothing`: `path prefix`.
const CHILD_ENV: &str = "EVALGATE_HISTORY_TEST_CHILD";

#[test]
fn two_processes_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The children create the file themselves, racing on the migration too.
    let path = dir.path().join("history.db");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["p0", "p1"]
        .into_iter()
        .map(|prefix| {
            std::process::Command::new(&exe)
                .args(["--exact", "tests::child_ingests", "--nocapture"])
                .env(CHILD_ENV, format!("{} {prefix}", path.display()))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let errors = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{text}\n{errors}");
        assert!(
            text.contains("1 passed"),
            "the child ran the ingest: {text}"
        );
    }
    let store = HistoryStore::open(&path).unwrap();
    assert_eq!(store.runs().unwrap().len(), 2 * 30);
}

/// Not a test of its own: the body of a child process of `two_processes_at_once_lose_nothing`
/// (it does nothing when run as an ordinary test).
#[test]
fn child_ingests() {
    let Ok(task) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (path, prefix) = task.rsplit_once(' ').unwrap();
    ingest_runs(Path::new(path), prefix, 30);
}

#[test]
fn a_run_without_its_end_marker_is_partial_until_it_arrives_and_never_a_verdict_reference() {
    let (_dir, _path, mut store) = temp_store();
    let mut killed = process("r1", 1, 0, &["orders/a"]);
    killed.runs[0].planned = Some(vec!["orders/a".into(), "orders/b".into()]);
    store.ingest(&killed).unwrap();
    let partial = |store: &HistoryStore| -> i64 {
        store
            .connection()
            .query_row("SELECT partial FROM runs WHERE run_id = 'r1'", [], |row| {
                row.get(0)
            })
            .unwrap()
    };
    assert_eq!(partial(&store), 1);
    assert!(
        store.case_verdicts().unwrap().is_empty(),
        "a partial run's verdicts are no decay reference"
    );

    // The rest of the run arrives (another shard's report), with the end marker.
    let rest = RunData {
        cases: vec![case("r1", "orders/b", Verdict::Pass)],
        ends: vec![crate::record::EndRecord::of(&killed.runs[0], false)],
        ..RunData::default()
    };
    store.ingest(&rest).unwrap();
    assert_eq!(partial(&store), 0);
    assert_eq!(store.case_verdicts().unwrap().len(), 2);
    assert!(
        exported(&store).contains("\"kind\":\"end\""),
        "the end marker is exported"
    );

    // An interrupted run stays partial whatever it recorded.
    let mut stopped = process("r2", 2, 0, &["orders/a"]);
    stopped.runs[0].planned = Some(vec!["orders/a".into()]);
    stopped.ends = vec![crate::record::EndRecord::of(&stopped.runs[0], true)];
    store.ingest(&stopped).unwrap();
    let r2: i64 = store
        .connection()
        .query_row("SELECT partial FROM runs WHERE run_id = 'r2'", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(r2, 1);
}

#[test]
fn processes_of_one_run_with_the_same_pid_are_kept_apart() {
    // Shards in identical containers: the same pid, other starts.
    let (_dir, _path, mut store) = temp_store();
    let mut a = process("shared", 7, 0, &["orders/a"]);
    a.runs[0].planned = Some(vec!["orders/a".into(), "orders/c".into()]);
    let mut b = process("shared", 7, 1, &["orders/b"]);
    b.runs[0].planned = Some(vec!["orders/b".into()]);
    b.ends = vec![crate::record::EndRecord::of(&b.runs[0], false)];
    store.ingest(&a).unwrap();
    store.ingest(&b).unwrap();
    let processes: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM run_records", [], |row| row.get(0))
        .unwrap();
    assert_eq!(processes, 2);
    let partial: i64 = store
        .connection()
        .query_row("SELECT partial FROM runs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(partial, 1, "shard a was killed: orders/c has no result");
}
