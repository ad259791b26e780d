use serde_json::json;

use super::*;
use crate::baseline::{Change, compare};
use crate::record::{RunData, RunRecord};

fn at(minutes: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_824_000 + minutes * 60).unwrap()
}

/// A run of suite `shop` on `main`: case `a` with `passes` of 4 samples.
fn main_run(id: &str, minutes: i64, passes: u32, axes: &[(&str, &str)]) -> RunData {
    let run: RunRecord = serde_json::from_value(json!({
        "schema": 1, "run_id": id, "suite": "shop", "target": "http",
        "evalgate_version": "0.1.0", "pid": 1, "started_at": at(minutes), "concurrency": 4,
        "branch": "main", "commit": format!("commit-{id}"),
        "axes": axes.iter().cloned().collect::<BTreeMap<_, _>>(),
    }))
    .unwrap();
    let case: CaseRecord = serde_json::from_value(json!({
        "schema": 1, "run_id": id, "case": "a", "file": "evals/cases/a.yaml", "line": 1,
        "classname": "evals", "description": null,
        "verdict": if passes == 4 { "pass" } else { "fail" },
        "failed": passes < 4, "samples": 4, "passes": passes, "failures": 4 - passes,
        "errors": 0, "rule": "all", "interval": [0.0, 1.0], "duration_ms": 1.0,
        "message": null, "reviewed": null, "rubric": null, "source": null,
        "started_at": at(minutes), "finished_at": at(minutes),
    }))
    .unwrap();
    RunData {
        runs: vec![run],
        cases: vec![case],
        ..RunData::default()
    }
}

fn policy(branch: bool, path: Option<&Path>) -> BaselinePolicy {
    let mut policy = BaselinePolicy::file(path.map(Path::to_path_buf).unwrap_or_default());
    policy.path = path.map(Path::to_path_buf);
    policy.branch = branch.then(|| "main".to_string());
    policy
}

fn subject<'a>(
    axes: &'a BTreeMap<String, String>,
    branch: Option<&'a str>,
    started: i64,
) -> Subject<'a> {
    Subject {
        suite: "shop",
        run_ids: &["this"],
        branch,
        commit: Some("pr-commit"),
        axes,
        started: at(started),
        cases: None,
    }
}

fn usage(e: Error) -> String {
    match e {
        Error::Usage(m) => m,
        other => panic!("expected a usage error, got {other:?}"),
    }
}

#[cfg(feature = "history")]
#[test]
fn a_branch_baseline_pools_its_recent_runs_case_by_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(&dir.path().join("h.sqlite")).unwrap();
    for (id, minutes, passes) in [("r1", 0, 4), ("r2", 10, 3), ("r3", 20, 4)] {
        store.ingest(&main_run(id, minutes, passes, &[])).unwrap();
    }
    let none = BTreeMap::new();
    let Resolved::Found(baseline, source) = resolve(
        &policy(true, None),
        &subject(&none, Some("feature"), 30),
        Some(&store),
    )
    .unwrap() else {
        panic!("no baseline")
    };
    let a = baseline.case("a").unwrap();
    assert_eq!((a.passes, a.samples, a.runs), (11, 12, 3));
    assert_eq!(a.verdict, Verdict::Pass, "the latest run's verdict");
    assert_eq!(baseline.runs, ["r3", "r2", "r1"]);
    assert!(
        source.starts_with("the 3 latest runs of `main` in history (window 10; latest r3, "),
        "{source}"
    );
}

#[cfg(feature = "history")]
#[test]
fn no_pooled_baseline_says_why_and_falls_back_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = HistoryStore::open(&dir.path().join("h.sqlite")).unwrap();
    store.ingest(&main_run("r1", 0, 4, &[])).unwrap();
    let none = BTreeMap::new();
    // Stale: the latest run of main started more than 30 days before this one.
    let late = 31 * 24 * 60;
    let e = usage(
        resolve(
            &policy(true, None),
            &subject(&none, None, late),
            Some(&store),
        )
        .unwrap_err(),
    );
    assert!(
        e.contains("started more than `baseline.max_age` (30d)"),
        "{e}"
    );
    // Another agent: this run forces `model=x`.
    let forced: BTreeMap<String, String> = [("model".to_string(), "x".to_string())].into();
    let e = usage(
        resolve(
            &policy(true, None),
            &subject(&forced, None, 10),
            Some(&store),
        )
        .unwrap_err(),
    );
    assert!(e.contains("under other envelope axes"), "{e}");
    assert!(e.contains("this run under model=x"), "{e}");
    // With a committed file as well, the file is the baseline.
    let file = dir.path().join("baseline.json");
    let saved = Baseline::of(
        "shop",
        "e".into(),
        &none,
        &main_run("r0", 0, 4, &[]).cases,
        &[],
    );
    saved.save(&file).unwrap();
    let found = resolve(
        &policy(true, Some(&file)),
        &subject(&none, None, late),
        Some(&store),
    );
    assert!(matches!(found, Ok(Resolved::Found(_, source)) if source.ends_with("baseline.json")));
    // History off with only a branch: no baseline, never a silent pass.
    let e = usage(resolve(&policy(true, None), &subject(&none, None, 10), None).unwrap_err());
    assert!(
        e.contains("no history store to pool the recent runs of `main`"),
        "{e}"
    );
    // The first run of main itself has nothing to compare with.
    let empty = HistoryStore::open(&dir.path().join("empty.sqlite")).unwrap();
    let first = resolve(
        &policy(true, None),
        &subject(&none, Some("main"), 10),
        Some(&empty),
    );
    assert!(matches!(first, Ok(Resolved::FirstOfBranch(_))));
}

#[test]
fn a_baseline_file_of_other_axes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baseline.json");
    let forced: BTreeMap<String, String> = [("model".to_string(), "x".to_string())].into();
    let cases = main_run("r0", 0, 4, &[]).cases;
    Baseline::of("shop", "e".into(), &forced, &cases, &[])
        .save(&file)
        .unwrap();
    let none = BTreeMap::new();
    let e =
        usage(resolve(&policy(false, Some(&file)), &subject(&none, None, 0), None).unwrap_err());
    assert!(
        e.contains("saved from a run under envelope axes model=x"),
        "{e}"
    );
    assert!(e.contains("this run is under none"), "{e}");
    assert!(
        resolve(
            &policy(false, Some(&file)),
            &subject(&forced, None, 0),
            None
        )
        .is_ok()
    );
    // A file saved before baselines recorded axes (none) keeps working.
    let old = json!({"schema": 1, "suite": "shop", "saved_at": "2026-11-28T00:00:00Z",
        "envelope": "e", "cases": [{"case": "a", "verdict": "pass", "samples": 5, "passes": 5}]});
    std::fs::write(&file, old.to_string()).unwrap();
    let Ok(Resolved::Found(b, _)) =
        resolve(&policy(false, Some(&file)), &subject(&none, None, 0), None)
    else {
        panic!("an old file is refused")
    };
    assert_eq!(b.case("a").unwrap().runs, 1);
}

/// A baseline file saved before baselines counted answered samples only counted an errored
/// case's errors as failures: a case that errored in it is no evidence, and compares as new.
#[test]
fn a_case_that_errored_in_a_one_run_baseline_is_no_evidence() {
    let errored: BaselineCase = serde_json::from_value(json!(
        {"case": "a", "verdict": "error", "samples": 3, "passes": 0}
    ))
    .unwrap();
    assert_eq!(errored.evidence(), (0, 0));
    let pooled: BaselineCase = serde_json::from_value(json!(
        {"case": "a", "verdict": "error", "samples": 30, "passes": 28, "runs": 10}
    ))
    .unwrap();
    assert_eq!(
        pooled.evidence(),
        (28, 30),
        "pooled samples count answered ones only"
    );
    let baseline = Baseline {
        cases: vec![errored],
        ..Baseline::of("shop", "e".into(), &BTreeMap::new(), &[], &[])
    };
    let now = main_run("r1", 0, 0, &[]).cases;
    let comparison = compare(&baseline, "b".into(), &now, &[], &policy(false, None), true);
    assert_eq!(comparison.cases[0].change, Change::New);
    assert_eq!(comparison.compared, 0);
}
