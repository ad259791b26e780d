//! Merging the shards of one run: 16 run folders (a CI matrix of `cargo nextest run
//! --partition hash:i/16`) holding 100,001 records in total — 10,000 cases × 9 samples and
//! the case records — merged into every report, as `evalgate report --merge` does: read and
//! check the shards, ingest into a fresh history store, judge decay, write JUnit, coverage,
//! LCOV-less coverage JSON, decay.json, and evaluate the gates. Target: ≤ 2 s on 2 cores.
//! Run with `cargo bench --bench merge`; `history-off` measures the same without the store.
//!
//! Each result is checked (every case merged once, the JUnit's case count, the gate
//! decision), so the benchmark cannot look fast by doing nothing.

#[path = "support/generated_run.rs"]
mod generated_run;
#[path = "support/proc_status.rs"]
mod proc_status;
#[path = "support/rss.rs"]
mod rss;
#[path = "support/scenarios.rs"]
mod scenarios;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use evalgate::{Record, RunData, write_reports};
use generated_run::{CASES, RECORDS, generate};
use rss::{Mib, Rss};
use scenarios::Scenario;

const SCENARIOS: [&str; 2] = ["merge", "history-off"];
const SHARDS: usize = 16;
const LIMIT: Duration = Duration::from_secs(2);
const RUNS: usize = 3;

fn main() -> ExitCode {
    let (bench, wanted) = match scenarios::prepare("merge", &SCENARIOS, Bench::new) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let selected = |name: &str| scenarios::is_wanted(&wanted, name);
    println!(
        "merge benchmarks: {SHARDS} shard folders, {RECORDS} records over {CASES} cases, \
         {:.1} MB of JSON Lines",
        bench.bytes as f64 / 1e6
    );
    let scenarios: [(&str, Scenario<Bench>); 2] = [
        ("merge", merge_with_history),
        ("history-off", merge_without_history),
    ];
    scenarios::run_selected(&bench, &scenarios, selected)
}

struct Bench {
    dir: tempfile::TempDir,
    shards: Vec<PathBuf>,
    bytes: u64,
}

impl Bench {
    /// Writes the shards: case `i` goes to shard `i % 16`, each shard its own run id, its own
    /// run record and the suite's policy (`suite.json`, with the case list and decay facts).
    fn new() -> Result<Bench, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = generate();
        let shard_of = |case: &str| -> usize {
            case.rsplit('-')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0)
                % SHARDS
        };
        let ids: Vec<String> = data.cases.iter().map(|c| c.case.clone()).collect();
        let policy = policy(&ids);
        let mut shards = Vec::new();
        let mut bytes = 0;
        for shard in 0..SHARDS {
            let run_id = format!("shard-{shard:02}");
            let folder = dir.path().join("runs").join(&run_id);
            std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
            let path = folder.join("records-1-000000000.jsonl");
            let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            let mut line = |record: Record| -> Result<(), String> {
                serde_json::to_writer(&mut out, &record).map_err(|e| e.to_string())?;
                out.write_all(b"\n").map_err(|e| e.to_string())
            };
            let mut run = data.runs[0].clone();
            run.run_id = run_id.clone();
            line(Record::Run(Box::new(run)))?;
            for sample in data.samples.iter().filter(|s| shard_of(&s.case) == shard) {
                let mut sample = sample.clone();
                sample.run_id = run_id.clone();
                line(Record::Sample(Box::new(sample)))?;
            }
            for case in data.cases.iter().filter(|c| shard_of(&c.case) == shard) {
                let mut case = case.clone();
                case.run_id = run_id.clone();
                line(Record::Case(Box::new(case)))?;
            }
            out.flush().map_err(|e| e.to_string())?;
            drop(out);
            bytes += std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
            std::fs::write(folder.join("suite.json"), &policy).map_err(|e| e.to_string())?;
            shards.push(folder);
        }
        Ok(Bench { dir, shards, bytes })
    }
}

/// The run policy every shard carries: a pass-rate gate, the suite's case list, and decay
/// facts for every case (reviewed long ago, so every case has a finding).
fn policy(ids: &[String]) -> String {
    let cases: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| {
            serde_json::json!({
                "case": id, "file": format!("evals/cases/{id}.yaml"), "line": 1,
                "status": "active", "reviewed": "2026-01-05", "rubric": null,
                "snapshot": null, "text": format!("where is my order for {id}")
            })
        })
        .collect();
    serde_json::json!({
        "schema": evalgate::SCHEMA_VERSION,
        "suite": "bench",
        "catalog": null,
        "gates": [
            {"name": "cases.pass_rate", "metric": "cases.pass_rate", "level": "fail", "bound": {"min": 0.5}, "declared": true},
            {"name": "decay.stale_share", "metric": "decay.stale_share", "level": "warn", "bound": {"max": 0.2}, "declared": true}
        ],
        "cases": ids,
        "decay": {
            "policy": {"review_max_age_days": 90, "min_agreement": 0.6, "saturation_envelopes": 3, "production": null},
            "pins": {}, "rubrics": {}, "history": null, "cases": cases
        }
    })
    .to_string()
}

fn merge_with_history(bench: &Bench) -> Result<(), String> {
    measure(bench, "merge", true)
}

fn merge_without_history(bench: &Bench) -> Result<(), String> {
    measure(bench, "history-off", false)
}

fn measure(bench: &Bench, name: &str, history: bool) -> Result<(), String> {
    let mut walls = Vec::new();
    let mut peak = Mib::default();
    for run in 0..RUNS {
        let out = bench.dir.path().join(format!("out-{name}-{run}"));
        let store = if history {
            out.join("history.sqlite").display().to_string()
        } else {
            "off".to_string()
        };
        // SAFETY: the bench is single-threaded here; nothing else reads the environment.
        unsafe { std::env::set_var("EVALGATE_HISTORY", &store) };
        let rss = Rss::start();
        let clock = Instant::now();
        let data = RunData::read(&bench.shards).map_err(|e| e.to_string())?;
        let (report, _paths) = write_reports(&data, &out).map_err(|e| e.to_string())?;
        walls.push(clock.elapsed());
        peak = peak.max(rss.growth());
        check(&report, &out)?;
    }
    walls.sort();
    let median = walls[walls.len() / 2];
    println!(
        "{name}: {SHARDS} shards, {RECORDS} records → every report: median of {RUNS} {:.3} s \
         (min {:.3}, max {:.3}), {:.2} of the {} s limit; peak RSS growth {peak}",
        median.as_secs_f64(),
        walls[0].as_secs_f64(),
        walls[walls.len() - 1].as_secs_f64(),
        median.as_secs_f64() / LIMIT.as_secs_f64(),
        LIMIT.as_secs()
    );
    Ok(())
}

fn check(report: &evalgate::RunReport, out: &Path) -> Result<(), String> {
    if report.summary.cases.len() != CASES {
        return Err(format!(
            "{} cases merged, expected {CASES}",
            report.summary.cases.len()
        ));
    }
    if report.partial.is_some() {
        return Err(format!(
            "the merge was judged partial: {:?}",
            report.partial
        ));
    }
    let decay = report.decay.as_ref().ok_or("no decay report")?;
    if decay.stale_cases != CASES {
        return Err(format!(
            "{} stale cases, expected every one",
            decay.stale_cases
        ));
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).map_err(|e| e.to_string())?;
    let cases_suite = junit
        .split("<testsuite name=\"evalgate.")
        .next()
        .unwrap_or_default();
    let testcases = cases_suite.matches("<testcase ").count();
    if testcases != CASES {
        return Err(format!(
            "junit.xml has {testcases} case testcases, expected {CASES}"
        ));
    }
    Ok(())
}
