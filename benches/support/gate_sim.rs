//! The pull-request gate's error rates, by seeded simulation through the real `evalgate`
//! binary: a loopback agent passes each case's samples with a known probability, a 20-case
//! suite runs on `main` a few times (the history the baseline pools), then a pull request
//! runs — with the agent unchanged, with one case's pass rate dropped, with every case's
//! dropped — and what the run concluded is read back from its exit code and reports.
//!
//! Everything is a function of the seed: each sample passes when a hash of (seed, run, case,
//! sample) falls below the case's rate, whatever order the samples arrive in, so the same
//! seed gives the same figures on every machine. The agent reads the seed, the rate and the
//! change from the URL path the suite's target is given (`${SIM_URL}`): one agent serves
//! every replicate at once.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use super::mock_agent::{Behaviour, MockAgent, Responder};

/// Cases in the simulated suite; `c00` is the one whose rate drops in [`Change::DropOne`].
pub const CASES: usize = 20;

/// How the suite takes samples and compares with its baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Setup {
    /// What a suite gets by writing nothing but `baseline: {branch: main}` and the gate: one
    /// sample per case, more only when they disagree with the baseline.
    Default,
    /// The same with the baseline a file saved from one run of `main` (`evalgate baseline
    /// save`), as the issue that asked for all this measured it.
    DefaultFile,
    /// The README's recommended setup: `samples: {min: 10, max: 400}`, `pass: {min_rate:
    /// 0.5}`, `baseline: {branch: main, drop: 0.15}`.
    Recommended,
    /// A fixed number of samples per case, `pass: {min_rate: 0.5}`, `drop: 0.15`: what
    /// adaptive sampling is measured against.
    Fixed(u32),
}

impl Setup {
    pub fn name(self) -> String {
        match self {
            Setup::Default => "default".into(),
            Setup::DefaultFile => "default-file".into(),
            Setup::Recommended => "recommended".into(),
            Setup::Fixed(n) => format!("fixed-{n}"),
        }
    }

    /// How many runs of `main` precede the pull request.
    pub fn main_runs(self) -> usize {
        match self {
            Setup::Default => 10,
            Setup::DefaultFile => 1,
            Setup::Recommended | Setup::Fixed(_) => 5,
        }
    }

    fn suite_yaml(self) -> String {
        let (defaults, drop) = match self {
            Setup::Default | Setup::DefaultFile => (String::new(), ""),
            Setup::Recommended => (
                "defaults:\n  samples: {min: 10, max: 400}\n  pass: {min_rate: 0.5}\n".into(),
                ", drop: 0.15",
            ),
            Setup::Fixed(n) => (
                format!("defaults:\n  samples: {n}\n  pass: {{min_rate: 0.5}}\n"),
                ", drop: 0.15",
            ),
        };
        let source = match self {
            Setup::DefaultFile => "path: baseline.json",
            _ => "branch: main",
        };
        format!(
            "name: sim\ntarget:\n  http: {{url: \"${{SIM_URL}}/v1/agent\"}}\nconcurrency: 16\n\
             {defaults}baseline: {{{source}{drop}}}\n\
             gates:\n  - {{metric: baseline.regressions, max: 0}}\n"
        )
    }
}

/// What changed in the pull request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    None,
    /// Case `c00`'s pass rate drops by this much.
    DropOne(f64),
    /// Every case's pass rate drops by this much.
    DropAll(f64),
    /// Case `c00` stops passing altogether.
    BreakOne,
}

impl Change {
    fn path(self) -> String {
        match self {
            Change::None => "none".into(),
            Change::DropOne(d) => format!("one-{d}"),
            Change::DropAll(d) => format!("all-{d}"),
            Change::BreakOne => "one-1".into(),
        }
    }

    pub fn name(self) -> String {
        match self {
            Change::None => "unchanged".into(),
            Change::DropOne(d) => format!("one case −{d}"),
            Change::DropAll(d) => format!("every case −{d}"),
            Change::BreakOne => "one case broken".into(),
        }
    }
}

/// What a pull-request run concluded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The run failed (exit code 1): any reason.
    pub red: bool,
    /// The regressions gate called at least one regression.
    pub gate: bool,
    /// The dropped case (`c00`) was called a regression.
    pub dropped_called: bool,
    /// Some case other than a dropped one was called a regression.
    pub wrong_call: bool,
    /// Samples the run took, per case.
    pub samples_per_case: f64,
}

/// The loopback agent of the simulation, serving every replicate.
pub fn agent(runtime: &tokio::runtime::Runtime) -> MockAgent {
    runtime.block_on(super::mock_agent::start(Behaviour::Respond(
        Responder::with_path(respond),
    )))
}

/// `/<seed>/<rate>/<change>/<run>/v1/agent`: a pass when the sample's hash falls below the
/// case's rate.
fn respond(path: &str, request: &Value) -> Value {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let [seed, rate, change, run, ..] = parts.as_slice() else {
        return json!({"output": "bad path"});
    };
    let seed: u64 = seed.parse().unwrap_or(0);
    let rate: f64 = rate.parse().unwrap_or(0.0);
    let run: u64 = run.parse().unwrap_or(0);
    let case = request["case"].as_str().unwrap_or_default();
    let sample = request["sample"].as_u64().unwrap_or(0);
    let dropped = match change.split_once('-') {
        Some(("one", d)) if case == "c00" => d.parse().unwrap_or(0.0),
        Some(("all", d)) => d.parse().unwrap_or(0.0),
        _ => 0.0,
    };
    let passes = uniform(&[seed, run, case_number(case), sample]) < rate - dropped;
    json!({
        "output": if passes { "PASS" } else { "FAIL" },
        "usage": {"input_tokens": 20, "output_tokens": 5},
        "model": "sim-1",
    })
}

fn case_number(case: &str) -> u64 {
    case.trim_start_matches('c').parse().unwrap_or(999)
}

/// A uniform number in [0, 1) from the words (splitmix64 over them).
fn uniform(words: &[u64]) -> f64 {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for w in words {
        x ^= w
            .wrapping_add(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(x << 6)
            .wrapping_add(x >> 2);
        x = splitmix(x);
    }
    (x >> 11) as f64 / (1_u64 << 53) as f64
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One replicate: a fresh suite and history, `setup.main_runs()` runs of `main` at `rate`,
/// then one pull-request run per change in `changes`, each against the same history.
pub fn replicate(
    bin: &Path,
    agent_url: &str,
    setup: Setup,
    rate: f64,
    seed: u64,
    changes: &[Change],
) -> Result<Vec<Outcome>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let evals = dir.path().join("evals");
    std::fs::create_dir_all(evals.join("cases")).map_err(|e| e.to_string())?;
    std::fs::write(evals.join("evalgate.yaml"), setup.suite_yaml()).map_err(|e| e.to_string())?;
    for i in 0..CASES {
        std::fs::write(
            evals.join("cases").join(format!("c{i:02}.yaml")),
            "input:\n  messages: [{role: user, content: \"go\"}]\nexpect:\n  - contains: PASS\n",
        )
        .map_err(|e| e.to_string())?;
    }
    for run in 0..setup.main_runs() {
        let url = format!("{agent_url}/{seed}/{rate}/none/{run}");
        // A file baseline does not exist before it is saved: that first run exits 2.
        let code = evalgate(bin, dir.path(), &url, "main", &format!("m{run}"), true)?.0;
        if code > 2 {
            return Err(format!("a run of main exited {code}"));
        }
    }
    if setup == Setup::DefaultFile {
        let saved = Command::new(bin)
            .args(["baseline", "save", "out/runs/main-m0", "--dir", "evals"])
            .current_dir(dir.path())
            .output()
            .map_err(|e| format!("cannot run evalgate: {e}"))?;
        if !saved.status.success() {
            return Err(format!(
                "evalgate baseline save: {}",
                String::from_utf8_lossy(&saved.stderr)
            ));
        }
    }
    let mut outcomes = Vec::with_capacity(changes.len());
    for (k, change) in changes.iter().enumerate() {
        let url = format!("{agent_url}/{seed}/{rate}/{}/{}", change.path(), 100 + k);
        let (code, run_id) = evalgate(bin, dir.path(), &url, "pr", &format!("pr{k}"), false)?;
        if code != 0 && code != 1 {
            return Err(format!("a pull-request run exited {code}"));
        }
        let comparison = read(&dir.path().join("out/comparison.json"))?;
        let regressions: Vec<&str> = comparison["cases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["change"] == "regression")
            .filter_map(|c| c["case"].as_str())
            .collect();
        let dropped = |case: &str| match change {
            Change::None => false,
            Change::DropOne(_) | Change::BreakOne => case == "c00",
            Change::DropAll(_) => true,
        };
        outcomes.push(Outcome {
            red: code == 1,
            gate: !regressions.is_empty(),
            dropped_called: regressions.iter().any(|c| dropped(c)),
            wrong_call: regressions.iter().any(|c| !dropped(c)),
            samples_per_case: samples(&dir.path().join("out/runs").join(run_id))? as f64
                / CASES as f64,
        });
    }
    Ok(outcomes)
}

/// Runs the suite in `root` against `url` on `branch` at `commit`: the exit code and run id.
fn evalgate(
    bin: &Path,
    root: &Path,
    url: &str,
    branch: &str,
    commit: &str,
    may_miss_baseline: bool,
) -> Result<(i32, String), String> {
    let run_id = format!("{branch}-{commit}");
    let mut cmd = Command::new(bin);
    cmd.args(["run", "evals", "--out", "out", "--", "--quiet"])
        .current_dir(root)
        .env("SIM_URL", url)
        .env("EVALGATE_RUN_ID", &run_id)
        .env("EVALGATE_BRANCH", branch)
        .env("EVALGATE_COMMIT", commit);
    for var in [
        "NEXTEST_RUN_ID",
        "EVALGATE_OUT",
        "EVALGATE_HISTORY",
        "EVALGATE_CONCURRENCY",
        "GITHUB_ACTIONS",
        "GITHUB_SHA",
        "GITHUB_STEP_SUMMARY",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run evalgate: {e}"))?;
    let code = output.status.code().unwrap_or(-1);
    if std::env::var_os("GATE_SIM_DEBUG").is_some() {
        eprintln!(
            "{run_id} {url} exit {code}\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let missing = code == 2
        && may_miss_baseline
        && String::from_utf8_lossy(&output.stderr).contains("cannot read the baseline");
    if code != 0 && code != 1 && !missing {
        return Err(format!(
            "evalgate exited {code}: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok((code, run_id))
}

fn read(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The sample records in a run folder.
fn samples(run_dir: &Path) -> Result<usize, String> {
    let mut n = 0;
    for entry in std::fs::read_dir(run_dir).map_err(|e| format!("{}: {e}", run_dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            n += text
                .lines()
                .filter(|l| l.contains("\"kind\":\"sample\""))
                .count();
        }
    }
    Ok(n)
}

/// A share with its 95 % Wilson interval, as `3.0 % [1.2–7.1 %]`.
pub fn share(hits: usize, n: usize) -> String {
    let (low, high) = wilson(hits, n);
    format!(
        "{:.1} % [{:.1}–{:.1} %]",
        100.0 * hits as f64 / n.max(1) as f64,
        100.0 * low,
        100.0 * high
    )
}

/// The 95 % Wilson interval of `hits` out of `n`.
pub fn wilson(hits: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (z, n_f) = (1.959_964, n as f64);
    let p = hits as f64 / n_f;
    let denom = 1.0 + z * z / n_f;
    let centre = (p + z * z / (2.0 * n_f)) / denom;
    let half = z * (p * (1.0 - p) / n_f + z * z / (4.0 * n_f * n_f)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The mean of `values` with its standard error, as `61.2 ± 1.4`.
pub fn mean(values: &[f64]) -> String {
    let n = values.len().max(1) as f64;
    let m = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    format!("{m:.1} ± {:.1}", (var / n).sqrt())
}

/// Replicates of one setup at one rate, each its own suite and history.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub setup: Setup,
    pub rate: f64,
    /// Replicate i has seed `first_seed + i`.
    pub first_seed: u64,
    pub replicates: usize,
    pub changes: &'a [Change],
    /// How many replicates run at once.
    pub threads: usize,
}

/// Runs `batch`: the outcomes of replicate i at index i.
pub fn replicates(bin: &Path, agent_url: &str, batch: Batch) -> Result<Vec<Vec<Outcome>>, String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(vec![None; batch.replicates]);
    std::thread::scope(|scope| {
        for _ in 0..batch.threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= batch.replicates {
                        break;
                    }
                    let outcome = replicate(
                        bin,
                        agent_url,
                        batch.setup,
                        batch.rate,
                        batch.first_seed + i as u64,
                        batch.changes,
                    );
                    results.lock().unwrap()[i] = Some(outcome);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("a replicate did not run".into())))
        .collect()
}
