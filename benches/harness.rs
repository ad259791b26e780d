//! Performance benchmarks of the whole `evalgate` process against a loopback mock agent.
//! See `benches/README.md`. Run with `cargo bench --bench harness [-- e2e|concurrency|startup]`.
//!
//! Every figure is one real `evalgate run` child process (the release binary), measured
//! from spawn to exit, with its peak RSS from `wait4`. The mock agent runs on a tokio
//! runtime inside this process. Each run is checked (exit code, JUnit test cases, mock
//! hits, records) so a benchmark cannot look fast by doing nothing; an incorrect run makes
//! the benchmark exit non-zero. The limits are printed, not asserted: machines are noisy.
//!
//! Peak RSS is measured through a small intermediate process (this binary re-executed in
//! "measure" mode): on Linux `exec` folds the old address space's high-water RSS into the
//! child's `ru_maxrss`, so a child spawned (posix_spawn or fork) straight from this process
//! would report at least this process's own peak (the mock agent, the generated suites);
//! `/bin/true` spawned from a 200 MB process reports 215 MB. The intermediate is tiny; its
//! own high-water mark is printed as the "RSS floor" below which a figure means nothing.

#[path = "../tests/support/mock_agent.rs"]
mod mock_agent;

#[path = "support/build.rs"]
mod build;
#[path = "support/proc_status.rs"]
mod proc_status;
#[path = "support/scenarios.rs"]
mod scenarios;

use scenarios::Scenario;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use mock_agent::{Behaviour, MockAgent};

/// The first argument that switches this binary into measure mode.
const MEASURE: &str = "__evalgate_bench_measure";
const SCENARIOS: [&str; 3] = ["e2e", "concurrency", "startup"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(MEASURE) {
        return measure_mode(&args[1..]);
    }
    let wanted = match scenarios::wanted("harness", &args, &SCENARIOS) {
        Ok(wanted) => wanted,
        Err(code) => return code,
    };
    let selected = |name: &str| scenarios::is_wanted(&wanted, name);

    let bin = match build::release_binary() {
        Ok(bin) => bin,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("mock-agent")
        .enable_all()
        .build()
        .expect("tokio runtime for the mock agent");
    let bench = Bench { bin, runtime };
    println!(
        "evalgate harness benchmarks: {} CPU(s), binary {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        bench.bin.display()
    );

    let scenarios: [(&str, Scenario<Bench>); 3] = [
        ("e2e", e2e),
        ("concurrency", concurrency),
        ("startup", startup),
    ];
    scenarios::run_selected(&bench, &scenarios, selected)
}

struct Bench {
    bin: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl Bench {
    fn mock(&self, behaviour: Behaviour) -> MockAgent {
        self.runtime.block_on(mock_agent::start(behaviour))
    }
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

/// Target 1: 1,000 single-sample cases, fast mock, the whole run (discover, run, records,
/// JUnit): ≤ 0.5 s wall and ≤ 50 MB peak RSS.
fn e2e(bench: &Bench) -> Result<(), String> {
    const CASES: usize = 1000;
    const CONCURRENCY: usize = 8;
    const RUNS: usize = 7;
    let mock = bench.mock(Behaviour::Echo);
    let suite = SuiteDir::generate(CASES, &mock.url, CONCURRENCY)?;
    let mut series = Series::default();
    // The first run warms the page cache and the binary; it is checked but not counted.
    for i in 0..=RUNS {
        let (m, mock_cpu) = suite.measured_full_run(bench, &mock, &format!("e2e-{i}"), CASES)?;
        if i > 0 {
            series.push(m, mock_cpu);
        }
    }
    let wall = series.median_wall();
    let peak = series.peak_rss();
    println!(
        "e2e_1000_cases: {:.3} s wall (median of {RUNS}, min {:.3}, max {:.3}; limit 0.5 s, \
         ratio {:.2}), peak RSS {} (max of {RUNS}; limit 50 MB, ratio {:.2}) \
         [concurrency {CONCURRENCY}; {}]",
        secs(wall),
        secs(series.min_wall()),
        secs(series.max_wall()),
        secs(wall) / 0.5,
        mb(peak),
        kib_to_mb(peak) / 50.0,
        series.cpu_note(),
    );
    println!("  {}", series.phases_note(CASES, CONCURRENCY));

    // For the breakdown: the same suite with `--list` only (suite load + discovery of
    // every case file + libtest listing; no runtime, no HTTP, no records, no JUnit).
    let mut series = Series::default();
    for i in 0..=RUNS {
        let out = suite.fresh_out(&format!("e2e-list-{i}"))?;
        let m = suite.run(&bench.bin, &out, &["--list"], &[])?;
        check_list(&m, CASES)?;
        if i > 0 {
            series.push(m, Duration::ZERO);
        }
    }
    println!(
        "e2e_1000_cases_list_only: {:.3} s wall (median of {RUNS}), peak RSS {} \
         [load + discover + list, the discovery share of the run]",
        secs(series.median_wall()),
        mb(series.peak_rss()),
    );
    Ok(())
}

/// Target 2: 10,000 cases at concurrency 64 against a 50 ms mock: within 10 % of the
/// ideal N·L/C.
fn concurrency(bench: &Bench) -> Result<(), String> {
    const CASES: usize = 10_000;
    const CONCURRENCY: usize = 64;
    const LATENCY: Duration = Duration::from_millis(50);
    const RUNS: usize = 3;
    let mock = bench.mock(Behaviour::Delay(LATENCY));
    let suite = SuiteDir::generate(CASES, &mock.url, CONCURRENCY)?;
    let ideal = CASES as f64 * LATENCY.as_secs_f64() / CONCURRENCY as f64;
    let mut series = Series::default();
    for i in 0..RUNS {
        let (m, mock_cpu) =
            suite.measured_full_run(bench, &mock, &format!("concurrency-{i}"), CASES)?;
        series.push(m, mock_cpu);
    }
    let wall = secs(series.median_wall());
    let limit = ideal * 1.10;
    println!(
        "concurrency_10000_cases_c64_50ms: {wall:.3} s wall (median of {RUNS}, min {:.3}, \
         max {:.3}; ideal {ideal:.3} s, {:+.1} % over ideal; limit +10 % = {limit:.3} s, \
         ratio {:.2}), peak RSS {} [{}]",
        secs(series.min_wall()),
        secs(series.max_wall()),
        (wall / ideal - 1.0) * 100.0,
        wall / limit,
        mb(series.peak_rss()),
        series.cpu_note(),
    );
    println!("  {}", series.phases_note(CASES, CONCURRENCY));

    // Calibration: the mock's own latency, one call at a time. tokio's timer has 1 ms
    // granularity and rounds up, so `Delay(50 ms)` answers later than 50 ms; the ideal at
    // this latency is the best any harness could do against this mock.
    const CALIBRATION_CASES: usize = 100;
    let calibration = SuiteDir::generate(CALIBRATION_CASES, &mock.url, 1)?;
    let out = calibration.fresh_out("calibration")?;
    let hits = mock.hits();
    let mut m = calibration.run(&bench.bin, &out, &[], &[])?;
    calibration.check_full_run(&mut m, &out, CALIBRATION_CASES)?;
    check_hits(&mock, hits, CALIBRATION_CASES)?;
    let unloaded = m.phases.map_or(0.0, |p| p.mean_latency_ms);
    let fair = CASES as f64 * unloaded / 1000.0 / CONCURRENCY as f64;
    println!(
        "  calibration: unloaded, a call to the Delay(50 ms) mock takes {unloaded:.2} ms on \
         average ({CALIBRATION_CASES} calls at concurrency 1); N·L/C at that latency = \
         {fair:.3} s, against which the run is {:+.1} %",
        (wall / fair - 1.0) * 100.0
    );
    Ok(())
}

/// Target 3: one nextest-style process (`--exact evals::<id> --nocapture`, NEXTEST_RUN_ID
/// set so no report is written) with 10,000 case files present: ≤ 10 ms. And `--list`,
/// which scans all of them, for contrast.
fn startup(bench: &Bench) -> Result<(), String> {
    const CASES: usize = 10_000;
    const RUNS: usize = 31;
    const WARMUP: usize = 3;
    const LIST_RUNS: usize = 11;
    let mock = bench.mock(Behaviour::Echo);
    let suite = SuiteDir::generate(CASES, &mock.url, 8)?;
    let out = suite.fresh_out("startup")?;
    let env = [
        ("NEXTEST_RUN_ID", "bench-startup"),
        ("EVALGATE_DEBUG_DISCOVERY", "1"),
    ];
    let mut series = Series::default();
    for i in 0..WARMUP + RUNS {
        let index = (i * 3331 + 17) % CASES;
        let name = format!("evals::{}", case_id(index));
        let hits = mock.hits();
        let m = suite.run(&bench.bin, &out, &["--exact", &name, "--nocapture"], &env)?;
        if m.code != 0 {
            return Err(format!(
                "--exact {name}: exit code {}\n{}",
                m.code, m.stderr
            ));
        }
        if !m
            .stderr
            .contains("discovery listed 0 folder(s), parsed 1 case file(s)")
        {
            return Err(format!(
                "--exact {name} did not take the one-file fast path:\n{}",
                m.stderr
            ));
        }
        if !m.stdout.contains("1 passed") || !m.stdout.contains(&name) {
            return Err(format!(
                "--exact {name} did not run the case:\n{}",
                m.stdout
            ));
        }
        check_hits(&mock, hits, 1)?;
        if i >= WARMUP {
            series.push(m, Duration::ZERO);
        }
    }
    if out.join("junit.xml").exists() {
        return Err("a NEXTEST_RUN_ID process wrote junit.xml".into());
    }
    // Record files only: `suite.json` (the run's policy) sits beside them.
    let records = std::fs::read_dir(out.join("runs").join("bench-startup"))
        .map_err(|e| format!("no records of the nextest-style runs: {e}"))?
        .filter_map(Result::ok)
        .filter(|f| f.path().extension().is_some_and(|e| e == "jsonl"))
        .count();
    if records != WARMUP + RUNS {
        return Err(format!(
            "expected {} record files (one per process), found {records}",
            WARMUP + RUNS
        ));
    }
    let exact = series.median_wall();
    println!(
        "startup_exact_1_of_10000: {:.2} ms wall (median of {RUNS}, p10 {:.2}, p90 {:.2}; \
         limit 10 ms, ratio {:.2}), peak RSS {} [{}]",
        ms(exact),
        ms(series.wall_quantile(0.10)),
        ms(series.wall_quantile(0.90)),
        ms(exact) / 10.0,
        mb(series.peak_rss()),
        series.cpu_note(),
    );

    let mut series = Series::default();
    for i in 0..=LIST_RUNS {
        let m = suite.run(&bench.bin, &out, &["--list"], &env[..1])?;
        check_list(&m, CASES)?;
        if i > 0 {
            series.push(m, Duration::ZERO);
        }
    }
    let wall = series.median_wall();
    println!(
        "startup_list_10000: {:.2} ms wall (median of {LIST_RUNS}, p10 {:.2}, p90 {:.2}; \
         {:.0}x the --exact figure), peak RSS {} [{}]",
        ms(wall),
        ms(series.wall_quantile(0.10)),
        ms(series.wall_quantile(0.90)),
        ms(wall) / ms(exact),
        mb(series.peak_rss()),
        series.cpu_note(),
    );
    Ok(())
}

/// The measured runs of one figure.
#[derive(Default)]
struct Series {
    runs: Vec<Measured>,
    mock_cpu: Vec<Duration>,
}

impl Series {
    fn push(&mut self, m: Measured, mock_cpu: Duration) {
        self.runs.push(m);
        self.mock_cpu.push(mock_cpu);
    }

    fn walls(&self) -> Vec<Duration> {
        let mut walls: Vec<Duration> = self.runs.iter().map(|m| m.wall).collect();
        walls.sort();
        walls
    }

    fn median_wall(&self) -> Duration {
        self.wall_quantile(0.5)
    }

    /// Nearest-rank quantile of the wall times.
    fn wall_quantile(&self, q: f64) -> Duration {
        let walls = self.walls();
        walls[((walls.len() - 1) as f64 * q).round() as usize]
    }

    fn min_wall(&self) -> Duration {
        self.wall_quantile(0.0)
    }

    fn max_wall(&self) -> Duration {
        self.wall_quantile(1.0)
    }

    fn peak_rss(&self) -> u64 {
        self.runs.iter().map(|m| m.max_rss_kib).max().unwrap_or(0)
    }

    /// The phases of the run with the median wall time, as text: `calls` agent calls at
    /// `concurrency`, and what the calls phase would ideally take at the latency the calls
    /// really had.
    fn phases_note(&self, calls: usize, concurrency: usize) -> String {
        let mut runs: Vec<&Measured> = self.runs.iter().collect();
        runs.sort_by_key(|m| m.wall);
        let Some(p) = runs[runs.len() / 2].phases else {
            return String::new();
        };
        let ideal = calls as f64 * p.mean_latency_ms / 1000.0 / concurrency as f64;
        format!(
            "phases of the median run: before the first agent call {:.3} s, agent calls \
             {:.3} s (mean call latency {:.2} ms; N·latency/C at that latency = {ideal:.3} s), \
             after the last call {:.3} s",
            secs(p.before_calls),
            secs(p.calls),
            p.mean_latency_ms,
            secs(p.after_calls),
        )
    }

    /// Median CPU of evalgate (user/sys) and of the mock, and the RSS floor.
    fn cpu_note(&self) -> String {
        let median = |mut v: Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let user = median(self.runs.iter().map(|m| m.user).collect());
        let sys = median(self.runs.iter().map(|m| m.sys).collect());
        let floor = self.runs.iter().map(|m| m.floor_kib).max().unwrap_or(0);
        let mut note = format!(
            "evalgate CPU {:.3} s user + {:.3} s sys",
            secs(user),
            secs(sys)
        );
        let mock = median(self.mock_cpu.clone());
        if !mock.is_zero() {
            note.push_str(&format!(", mock CPU {:.3} s", secs(mock)));
        }
        note.push_str(&format!(", RSS floor {}", mb(floor)));
        note
    }
}

// ---------------------------------------------------------------------------------------
// Suites
// ---------------------------------------------------------------------------------------

/// The id of generated case `n`: `gNN/case-NNNNN` (100 cases per folder).
fn case_id(n: usize) -> String {
    format!("g{:02}/case-{n:05}", n / 100)
}

/// A generated evals folder in a temp dir: `evals/evalgate.yaml` and
/// `evals/cases/gNN/case-NNNNN.yaml`.
struct SuiteDir {
    root: tempfile::TempDir,
}

impl SuiteDir {
    fn generate(cases: usize, mock_url: &str, concurrency: usize) -> Result<SuiteDir, String> {
        // EVALGATE_BENCH_KEEP=1 keeps the suites, records and reports for inspection.
        let keep = std::env::var_os("EVALGATE_BENCH_KEEP").is_some_and(|v| !v.is_empty());
        let root = tempfile::Builder::new()
            .prefix("evalgate-bench-")
            .disable_cleanup(keep)
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        if keep {
            eprintln!("keeping {} ({cases} cases)", root.path().display());
        }
        let evals = root.path().join("evals");
        let write = |path: &Path, text: &str| {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
        };
        write(
            &evals.join("evalgate.yaml"),
            &format!(
                "name: bench\n\
                 target:\n  http:\n    url: \"{mock_url}/v1/agent\"\n\
                 defaults:\n  samples: 1\n  timeout: 30s\n\
                 concurrency: {concurrency}\n"
            ),
        )?;
        for n in 0..cases {
            // Three expectations that really run against the echo: the order number comes
            // back, the mock's decision is seen, and the answer is short.
            let yaml = format!(
                "description: Generated benchmark case {n}.\n\
                 tags: [bench, g{group:02}]\n\
                 input:\n  messages:\n    - {{role: user, content: \"Where is my order A{n:05}? It was due on Monday.\"}}\n\
                 expect:\n  - contains: \"A{n:05}\"\n  - branches: [route.echo]\n  - max_length: 200\n",
                group = n / 100
            );
            write(
                &evals.join("cases").join(format!("{}.yaml", case_id(n))),
                &yaml,
            )?;
        }
        Ok(SuiteDir { root })
    }

    fn evals(&self) -> PathBuf {
        self.root.path().join("evals")
    }

    /// An empty output folder for one run.
    fn fresh_out(&self, name: &str) -> Result<PathBuf, String> {
        let out = self.root.path().join("out").join(name);
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        Ok(out)
    }

    /// `evalgate run evals --out <out> -- <libtest args>`, measured.
    fn run(
        &self,
        bin: &Path,
        out: &Path,
        libtest: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Measured, String> {
        let mut args: Vec<String> = vec![
            "run".into(),
            self.evals().display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--".into(),
        ];
        args.extend(libtest.iter().map(|s| s.to_string()));
        measure(bin, &args, env, self.root.path())
    }

    /// A full run: exit 0, `junit.xml` with one `<testcase` per case, and the records
    /// (one run line, one sample and one case line per case).
    /// One measured, checked full run into a fresh `out/<name>`, with the mock's CPU time.
    fn measured_full_run(
        &self,
        bench: &Bench,
        mock: &MockAgent,
        name: &str,
        cases: usize,
    ) -> Result<(Measured, Duration), String> {
        let out = self.fresh_out(name)?;
        let hits = mock.hits();
        let mock_cpu = own_cpu();
        let mut m = self.run(&bench.bin, &out, &[], &[])?;
        let mock_cpu = own_cpu() - mock_cpu;
        self.check_full_run(&mut m, &out, cases)?;
        check_hits(mock, hits, cases)?;
        Ok((m, mock_cpu))
    }

    fn check_full_run(&self, m: &mut Measured, out: &Path, cases: usize) -> Result<(), String> {
        if m.code != 0 {
            return Err(format!("exit code {}\n{}", m.code, tail(&m.stderr, 2000)));
        }
        let junit = std::fs::read_to_string(out.join("junit.xml"))
            .map_err(|e| format!("no junit.xml in {}: {e}", out.display()))?;
        // The cases' own testsuite; the run's (`evalgate.decay`...) follow it.
        let cases_suite = junit
            .split("<testsuite name=\"evalgate.")
            .next()
            .unwrap_or_default();
        let testcases = cases_suite.matches("<testcase").count();
        if testcases != cases {
            return Err(format!(
                "junit.xml has {testcases} test cases, expected {cases}"
            ));
        }
        if junit.contains("<failure") || junit.contains("<error") {
            return Err("junit.xml reports failures or errors".into());
        }
        let mut lines = 0;
        let mut ends = 0;
        let mut samples = Vec::new();
        for run in std::fs::read_dir(out.join("runs")).map_err(|e| format!("runs: {e}"))? {
            let run = run.map_err(|e| e.to_string())?.path();
            for file in std::fs::read_dir(&run).map_err(|e| e.to_string())? {
                let path = file.map_err(|e| e.to_string())?.path();
                // Record files only: `suite.json` (the run's policy) sits beside them.
                if path.extension().is_none_or(|e| e != "jsonl") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                for line in text.lines() {
                    let record: serde_json::Value = serde_json::from_str(line)
                        .map_err(|e| format!("a record line is not JSON: {e}"))?;
                    // The process's end marker is not a record of the run's work.
                    if record["kind"] == "end" {
                        ends += 1;
                        continue;
                    }
                    lines += 1;
                    if record["kind"] == "sample" {
                        samples.push(SampleTimes::from_record(&record)?);
                    }
                }
            }
        }
        m.phases = Some(Phases::new(m, &samples));
        if lines != 1 + 2 * cases || ends != 1 {
            return Err(format!(
                "the records have {lines} lines and {ends} end markers, expected {} and 1",
                1 + 2 * cases
            ));
        }
        let passed = format!("{cases} passed");
        if !m.stdout.contains(&passed) {
            return Err(format!(
                "libtest did not report `{passed}`:\n{}",
                tail(&m.stdout, 500)
            ));
        }
        Ok(())
    }
}

/// When one sample (agent call) ran, from its record.
struct SampleTimes {
    started: jiff::Timestamp,
    finished: jiff::Timestamp,
    latency_ms: f64,
}

impl SampleTimes {
    fn from_record(record: &serde_json::Value) -> Result<SampleTimes, String> {
        let time = |key: &str| {
            record[key]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .ok_or_else(|| format!("a sample record has no valid `{key}`"))
        };
        if record["verdict"] != "pass" {
            return Err(format!("a sample did not pass: {record}"));
        }
        Ok(SampleTimes {
            started: time("started_at")?,
            finished: time("finished_at")?,
            latency_ms: record["latency_ms"]
                .as_f64()
                .ok_or("a sample record has no `latency_ms`")?,
        })
    }
}

/// Where a full run's wall time went: before the first agent call (start-up, suite
/// load, discovery), from the first call's start to the last call's end, and after it
/// (reports, exit).
#[derive(Clone, Copy)]
struct Phases {
    before_calls: Duration,
    calls: Duration,
    after_calls: Duration,
    mean_latency_ms: f64,
}

impl Phases {
    fn new(m: &Measured, samples: &[SampleTimes]) -> Phases {
        let ns = |t: jiff::Timestamp| t.as_nanosecond();
        let first = samples.iter().map(|s| ns(s.started)).min().unwrap_or(0);
        let last = samples.iter().map(|s| ns(s.finished)).max().unwrap_or(0);
        let spawned = m.spawned_unix_ns as i128;
        let exited = spawned + m.wall.as_nanos() as i128;
        let span = |from: i128, to: i128| Duration::from_nanos((to - from).max(0) as u64);
        Phases {
            before_calls: span(spawned, first),
            calls: span(first, last),
            after_calls: span(last, exited),
            mean_latency_ms: samples.iter().map(|s| s.latency_ms).sum::<f64>()
                / samples.len().max(1) as f64,
        }
    }
}

fn check_list(m: &Measured, cases: usize) -> Result<(), String> {
    if m.code != 0 {
        return Err(format!("--list: exit code {}\n{}", m.code, m.stderr));
    }
    let listed = m.stdout.lines().filter(|l| l.ends_with(": test")).count();
    if listed != cases {
        return Err(format!("--list listed {listed} tests, expected {cases}"));
    }
    Ok(())
}

fn check_hits(mock: &MockAgent, before: usize, expected: usize) -> Result<(), String> {
    let got = mock.hits() - before;
    if got != expected {
        return Err(format!(
            "the mock agent got {got} requests, expected {expected}"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Building and measuring
// ---------------------------------------------------------------------------------------

/// One measured child process.
struct Measured {
    /// From spawn to reaped exit.
    wall: Duration,
    /// The child's `ru_maxrss` (KiB on Linux).
    max_rss_kib: u64,
    /// The measuring process's own high-water RSS when it spawned the child: the child's
    /// `ru_maxrss` cannot read below it.
    floor_kib: u64,
    code: i32,
    /// The child's user and system CPU time.
    user: Duration,
    sys: Duration,
    /// When the child was spawned (Unix time, ns), to place the records' timestamps.
    spawned_unix_ns: u64,
    /// Where the time went, from the run's records (full runs only).
    phases: Option<Phases>,
    stdout: String,
    stderr: String,
}

/// Runs `bin args` through the measuring intermediate (this binary in measure mode).
fn measure(
    bin: &Path,
    args: &[String],
    env: &[(&str, &str)],
    cwd: &Path,
) -> Result<Measured, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let stdout_path = scratch.path().join("stdout");
    let stderr_path = scratch.path().join("stderr");
    let me = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut cmd = Command::new(me);
    cmd.arg(MEASURE)
        .arg(&stdout_path)
        .arg(&stderr_path)
        .arg(bin)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null());
    for var in [
        "NEXTEST_RUN_ID",
        "EVALGATE_RUN_ID",
        "EVALGATE_CONCURRENCY",
        "EVALGATE_DEBUG_DISCOVERY",
        "EVALGATE_DIR",
        "EVALGATE_OUT",
        "GITHUB_ACTIONS",
        "RUST_TEST_THREADS",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot start the measuring process: {e}"))?;
    let report = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<u64> = report
        .split_whitespace()
        .filter_map(|f| f.parse::<i64>().ok().map(|v| v as u64))
        .collect();
    if !output.status.success() || fields.len() != 7 {
        return Err(format!(
            "measuring `{}` failed: {}{}",
            bin.display(),
            report,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let read = |p: &Path| std::fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(Measured {
        wall: Duration::from_nanos(fields[0]),
        max_rss_kib: fields[1],
        floor_kib: fields[2],
        code: fields[3] as i64 as i32,
        user: Duration::from_micros(fields[4]),
        sys: Duration::from_micros(fields[5]),
        spawned_unix_ns: fields[6],
        phases: None,
        stdout: read(&stdout_path).map_err(|e| format!("child stdout: {e}"))?,
        stderr: read(&stderr_path).map_err(|e| format!("child stderr: {e}"))?,
    })
}

/// Measure mode: `<stdout file> <stderr file> <program> <args...>`. Spawns the program with
/// its output drained through pipes (as CI does), reaps it with `wait4`, then writes the
/// captured output to the files and prints `wall_ns max_rss_kib floor_kib exit_code
/// user_us sys_us spawned_unix_ns`.
fn measure_mode(args: &[String]) -> ExitCode {
    let [stdout_path, stderr_path, program, rest @ ..] = args else {
        eprintln!("measure mode: expected <stdout file> <stderr file> <program> [args...]");
        return ExitCode::from(2);
    };
    let floor = proc_status::status_kib("VmHWM:");
    let spawned_unix_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let started = Instant::now();
    let mut child = match Command::new(program)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cannot start {program}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own unreaped child; both pointers are valid for writes.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            eprintln!("wait4: {e}");
            return ExitCode::FAILURE;
        }
    }
    let wall = started.elapsed();
    // `child` was reaped by wait4; std never waits on drop, so it is simply forgotten.
    drop(child);
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    if std::fs::write(stdout_path, out).is_err() || std::fs::write(stderr_path, err).is_err() {
        eprintln!("cannot save the child's output");
        return ExitCode::FAILURE;
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    // time_t and suseconds_t are not i64 on every platform.
    #[allow(clippy::unnecessary_cast)]
    let micros = |t: libc::timeval| t.tv_sec as i64 * 1_000_000 + t.tv_usec as i64;
    println!(
        "{} {} {} {} {} {} {}",
        wall.as_nanos(),
        usage.ru_maxrss,
        floor,
        code,
        micros(usage.ru_utime),
        micros(usage.ru_stime),
        spawned_unix_ns
    );
    ExitCode::SUCCESS
}

/// CPU time (user + system) used so far by this process: the mock agent's threads, since
/// the rest of the process only waits while a child runs.
fn own_cpu() -> Duration {
    // SAFETY: an all-zero rusage is valid; getrusage only writes to it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let d = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    d(usage.ru_utime) + d(usage.ru_stime)
}

// ---------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn kib_to_mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib_to_mb(kib))
}

fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
