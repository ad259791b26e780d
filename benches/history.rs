//! The run-history store at the size of one large run: 1 run record, 90,000 samples
//! (10,000 cases × 9, outputs of ~200 bytes) and 10,000 cases — 100,001 records.
//! Run with `cargo bench --bench history [-- ingest|export|import]`.
//!
//! `ingest` times `HistoryStore::ingest` of the whole run into a fresh history file (the
//! records are built before the clock starts), against the target of ≤ 2 s on 2 cores.
//! `export` times writing that history as JSON Lines to a file; `import` times reading that
//! file into a fresh history. Each prints the median of several runs and this process's peak
//! RSS growth during the timed work. Every result is checked (record counts, the run's
//! envelope, the exported lines against the records serialized independently, an import
//! exporting the same bytes), so a benchmark cannot look fast by doing nothing; an incorrect
//! result makes the benchmark exit non-zero. The limit is printed, not asserted.

#[path = "support/proc_status.rs"]
mod proc_status;
#[path = "support/scenarios.rs"]
mod scenarios;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use evalgate::HistoryStore;
use evalgate::envelope::RunEnvelope;
use evalgate::{
    CaseRecord, CheckResult, Decision, RunData, RunRecord, SampleRecord, SampleVerdict, Usage,
    Verdict,
};
use proc_status::status_kib;
use scenarios::Scenario;

const SCENARIOS: [&str; 3] = ["ingest", "export", "import"];
const CASES: usize = 10_000;
const PER_CASE: usize = 9;
const SAMPLES: usize = CASES * PER_CASE;
const RECORDS: u64 = (1 + SAMPLES + CASES) as u64;
const LIMIT: Duration = Duration::from_secs(2);
const RUNS: usize = 3;

fn main() -> ExitCode {
    let (bench, wanted) = match scenarios::prepare("history", &SCENARIOS, Bench::new) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let selected = |name: &str| scenarios::is_wanted(&wanted, name);
    println!(
        "history benchmarks: 1 run, {SAMPLES} samples over {CASES} cases, {CASES} cases \
         ({RECORDS} records, {:.1} MB as JSON Lines); process RSS {:.1} MB",
        bench.expected_bytes as f64 / 1e6,
        status_kib("VmRSS:") as f64 / 1024.0
    );
    let scenarios: [(&str, Scenario<Bench>); 3] =
        [("ingest", ingest), ("export", export), ("import", import)];
    scenarios::run_selected(&bench, &scenarios, selected)
}

/// The generated run, what its export must be, and a folder for the history files.
struct Bench {
    dir: tempfile::TempDir,
    data: RunData,
    /// Every record serialized on its own, sorted: the lines an export must hold.
    expected_lines: Vec<String>,
    expected_bytes: usize,
    envelope: RunEnvelope,
}

impl Bench {
    fn new() -> Result<Bench, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let data = generate();
        let mut expected_lines: Vec<String> = data
            .records()
            .map(|r| serde_json::to_string(&r).expect("records serialize"))
            .collect();
        expected_lines.sort();
        let expected_bytes = expected_lines.iter().map(|l| l.len() + 1).sum();
        let envelope = RunEnvelope::of_run(&data.runs, &data.samples);
        Ok(Bench {
            dir,
            data,
            expected_lines,
            expected_bytes,
            envelope,
        })
    }

    /// A history file that does not exist yet.
    fn fresh(&self, name: &str) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        path
    }

    /// A history holding the generated run, ingested before any clock starts.
    fn ingested(&self, name: &str) -> Result<HistoryStore, String> {
        let mut store = HistoryStore::open(&self.fresh(name)).map_err(|e| e.render())?;
        store.ingest(&self.data).map_err(|e| e.render())?;
        Ok(store)
    }

    /// The store holds the generated run: counts, the run and its envelope.
    fn check_store(&self, store: &HistoryStore) -> Result<(), String> {
        let runs = store.runs().map_err(|e| e.render())?;
        let verdicts = store.case_verdicts().map_err(|e| e.render())?;
        if runs.len() != 1 || verdicts.len() != CASES {
            return Err(format!(
                "history has {} runs and {} case verdicts, expected 1 and {CASES}",
                runs.len(),
                verdicts.len()
            ));
        }
        if runs[0].envelope_id != self.envelope.id || runs[0].envelope != self.envelope.envelope {
            return Err(format!(
                "the stored envelope {} ({}) is not the run's {} ({})",
                runs[0].envelope_id,
                runs[0].envelope.describe(),
                self.envelope.id,
                self.envelope.envelope.describe()
            ));
        }
        Ok(())
    }

    /// The export holds exactly the records, each the line the record serializes to.
    fn check_export(&self, text: &str) -> Result<(), String> {
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        if lines.len() != self.expected_lines.len() {
            return Err(format!(
                "the export has {} lines, expected {RECORDS}",
                lines.len()
            ));
        }
        match lines
            .iter()
            .zip(&self.expected_lines)
            .find(|(a, b)| *a != b)
        {
            Some((got, want)) => Err(format!(
                "an exported line differs from the record:\n  got  {got}\n  want {want}"
            )),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

/// One run of 100,001 records into a fresh history. Target: ≤ 2 s.
fn ingest(bench: &Bench) -> Result<(), String> {
    let mut walls = Vec::new();
    let mut peak = Mib::default();
    let mut size = 0;
    // One warm-up run, checked but not timed.
    for run in 0..=RUNS {
        let path = bench.fresh("ingest.db");
        let mut store = HistoryStore::open(&path).map_err(|e| e.render())?;
        let rss = Rss::start();
        let started = Instant::now();
        let stats = store.ingest(&bench.data).map_err(|e| e.render())?;
        let wall = started.elapsed();
        peak = peak.max(rss.growth());
        if (stats.runs, stats.samples, stats.cases) != (1, SAMPLES as u64, CASES as u64) {
            return Err(format!("ingest wrote {stats:?}"));
        }
        bench.check_store(&store)?;
        // Closing the last connection checkpoints the write-ahead log into the file and
        // removes it: what is left is what the history costs on disk.
        drop(store);
        size = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
        if run > 0 {
            walls.push(wall);
        }
    }
    let (median, min, max) = spread(&mut walls);
    println!(
        "ingest: median of {RUNS} {median:.3} s (min {min:.3}, max {max:.3}), {:.0} records/s, \
         {:.2} of the {} s limit; history file {:.1} MB once closed; peak RSS growth {peak}",
        RECORDS as f64 / median,
        median / LIMIT.as_secs_f64(),
        LIMIT.as_secs(),
        size as f64 / 1e6,
    );
    Ok(())
}

/// The history of that run written as JSON Lines to a file.
fn export(bench: &Bench) -> Result<(), String> {
    let store = bench.ingested("export.db")?;
    let out_path = bench.dir.path().join("export.jsonl");
    let mut walls = Vec::new();
    let mut peak = Mib::default();
    for run in 0..=RUNS {
        let mut file = std::fs::File::create(&out_path).map_err(|e| e.to_string())?;
        let rss = Rss::start();
        let started = Instant::now();
        let lines = store.export(&mut file).map_err(|e| e.render())?;
        let wall = started.elapsed();
        peak = peak.max(rss.growth());
        drop(file);
        if lines != RECORDS {
            return Err(format!("export wrote {lines} lines, expected {RECORDS}"));
        }
        let text = std::fs::read_to_string(&out_path).map_err(|e| e.to_string())?;
        bench.check_export(&text)?;
        if run > 0 {
            walls.push(wall);
        }
    }
    let (median, min, max) = spread(&mut walls);
    let bytes = std::fs::metadata(&out_path)
        .map_err(|e| e.to_string())?
        .len();
    println!(
        "export: median of {RUNS} {median:.3} s (min {min:.3}, max {max:.3}), {:.1} MB at \
         {:.0} MB/s; peak RSS growth {peak}",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / median,
    );
    Ok(())
}

/// That export read back into a fresh history; it must export the same bytes again.
fn import(bench: &Bench) -> Result<(), String> {
    let store = bench.ingested("source.db")?;
    let jsonl = bench.dir.path().join("import.jsonl");
    let mut exported = Vec::new();
    store.export(&mut exported).map_err(|e| e.render())?;
    std::fs::write(&jsonl, &exported).map_err(|e| e.to_string())?;
    let mut walls = Vec::new();
    let mut peak = Mib::default();
    for run in 0..=RUNS {
        let mut store = HistoryStore::open(&bench.fresh("import.db")).map_err(|e| e.render())?;
        let rss = Rss::start();
        let started = Instant::now();
        let stats = store.import(&jsonl).map_err(|e| e.render())?;
        let wall = started.elapsed();
        peak = peak.max(rss.growth());
        if (stats.runs, stats.samples, stats.cases) != (1, SAMPLES as u64, CASES as u64) {
            return Err(format!("import wrote {stats:?}"));
        }
        bench.check_store(&store)?;
        let mut again = Vec::new();
        store.export(&mut again).map_err(|e| e.render())?;
        if again != exported {
            return Err("the imported history does not export the same bytes".into());
        }
        if run > 0 {
            walls.push(wall);
        }
    }
    let (median, min, max) = spread(&mut walls);
    println!(
        "import: median of {RUNS} {median:.3} s (min {min:.3}, max {max:.3}), {:.1} MB, \
         {:.0} records/s, {:.2} of the {} s ingest limit; peak RSS growth {peak}",
        exported.len() as f64 / 1e6,
        RECORDS as f64 / median,
        median / LIMIT.as_secs_f64(),
        LIMIT.as_secs(),
    );
    Ok(())
}

/// Median, min and max in seconds.
fn spread(walls: &mut [Duration]) -> (f64, f64, f64) {
    walls.sort();
    (
        walls[walls.len() / 2].as_secs_f64(),
        walls[0].as_secs_f64(),
        walls[walls.len() - 1].as_secs_f64(),
    )
}

// ---------------------------------------------------------------------------------------
// Generated data
// ---------------------------------------------------------------------------------------

/// One run as `evalgate run` records it: 9 samples per case (one in 40 failing, one in 200
/// reporting another model), outputs of about 200 bytes, 3 checks and 4 decisions each.
fn generate() -> RunData {
    let at = jiff::Timestamp::from_second(1_795_000_000).expect("a valid timestamp");
    let run_id = "bench-run".to_string();
    let declared: BTreeMap<String, String> = [("model", "demo-support-1"), ("prompt", "p-4f2a")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let runs = vec![RunRecord {
        schema: evalgate::SCHEMA_VERSION,
        run_id: run_id.clone(),
        suite: "bench".into(),
        target: "http://127.0.0.1:8080/v1/agent".into(),
        evalgate_version: "0.1.0".into(),
        pid: 4242,
        started_at: at,
        concurrency: 8,
        envelope: declared,
        pins: [("corpus".to_string(), "tickets-2026-11".to_string())].into(),
    }];
    let mut samples = Vec::with_capacity(SAMPLES);
    let mut cases = Vec::with_capacity(CASES);
    for case in 0..CASES {
        let id = format!("g{:02}/case-{case:05}", case / 1000);
        let file = format!("evals/cases/{id}.yaml");
        let mut failures = 0;
        for index in 0..PER_CASE {
            let n = case * PER_CASE + index;
            let passed = !n.is_multiple_of(40);
            failures += u32::from(!passed);
            let output = format!(
                "Order A{case:05} shipped on 2026-11-02 by express courier; tracking number \
                 1Z{n:08}. The refund of 42.50 EUR for the damaged item was approved and will \
                 arrive within 5 business days (sample {index})."
            );
            samples.push(SampleRecord {
                schema: evalgate::SCHEMA_VERSION,
                run_id: run_id.clone(),
                case: id.clone(),
                file: file.clone(),
                sample: index as u32,
                verdict: if passed {
                    SampleVerdict::Pass
                } else {
                    SampleVerdict::Fail
                },
                checks: vec![
                    check("contains", 6, "shipped", &output[..40], true),
                    check(
                        "branches",
                        7,
                        "route.lookup_order",
                        "route.lookup_order",
                        true,
                    ),
                    check("max_length", 8, "400", "198", passed),
                ],
                output_bytes: output.len(),
                output,
                output_truncated: false,
                decisions: [
                    "route.lookup_order",
                    "tool.get_order",
                    "tool.refund",
                    "answer.ok",
                ]
                .iter()
                .map(|d| Decision::parse(d).expect("point.branch"))
                .collect(),
                latency_ms: 120.0 + (n % 97) as f64 * 1.25,
                usage: Some(Usage {
                    input_tokens: 820 + (n % 50) as u64,
                    output_tokens: 64,
                }),
                tier: Some("primary".into()),
                model: Some(if n.is_multiple_of(200) {
                    "demo-support-2".into()
                } else {
                    "demo-support-1".into()
                }),
                finish_reason: Some("stop".into()),
                refusal: Some(false),
                envelope: Default::default(),
                attempts: 1,
                retries: Vec::new(),
                error: None,
                warnings: Vec::new(),
                started_at: at,
                finished_at: at,
            });
        }
        let passes = PER_CASE as u32 - failures;
        cases.push(CaseRecord {
            schema: evalgate::SCHEMA_VERSION,
            run_id: run_id.clone(),
            case: id.clone(),
            file,
            line: 1,
            classname: format!("evals.g{:02}", case / 1000),
            description: Some("looks up an order and refunds a damaged item".into()),
            tags: vec!["orders".into(), "refunds".into()],
            verdict: if failures == 0 {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            failed: failures > 0,
            samples: PER_CASE as u32,
            passes,
            failures,
            errors: 0,
            rule: format!("at_least {PER_CASE}"),
            interval: [0.701, 1.0],
            duration_ms: 1300.0,
            message: None,
            reviewed: None,
            rubric: None,
            pins: Default::default(),
            source: None,
            expects: Vec::new(),
            started_at: at,
            finished_at: at,
        });
    }
    RunData {
        runs,
        samples,
        cases,
        ..RunData::default()
    }
}

fn check(expectation: &str, line: u32, expected: &str, actual: &str, passed: bool) -> CheckResult {
    CheckResult {
        expectation: expectation.into(),
        line,
        column: 5,
        passed,
        expected: expected.into(),
        actual: actual.into(),
    }
}

// ---------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------

/// Peak RSS growth of this process over a stretch of work, from /proc/self/status. The
/// high-water mark is reset first (`5` to /proc/self/clear_refs, Linux 4.0+) so the peak is
/// that of the stretch; where the reset fails the growth is over the earlier peak.
struct Rss {
    before_kib: u64,
    reset: bool,
}

impl Rss {
    fn start() -> Rss {
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        Rss {
            before_kib: status_kib(if reset { "VmRSS:" } else { "VmHWM:" }),
            reset,
        }
    }

    fn growth(&self) -> Mib {
        Mib {
            kib: status_kib("VmHWM:").saturating_sub(self.before_kib),
            note: if self.reset {
                ""
            } else {
                " (over the earlier peak)"
            },
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Mib {
    kib: u64,
    note: &'static str,
}

impl std::fmt::Display for Mib {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} MB{}", self.kib as f64 / 1024.0, self.note)
    }
}
