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

#[path = "support/generated_run.rs"]
mod generated_run;
#[path = "support/proc_status.rs"]
mod proc_status;
#[path = "support/rss.rs"]
mod rss;
#[path = "support/scenarios.rs"]
mod scenarios;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use evalgate::HistoryStore;
use evalgate::RunData;
use evalgate::envelope::RunEnvelope;
use generated_run::{CASES, RECORDS, SAMPLES, generate};
use proc_status::status_kib;
use rss::{Mib, Rss};
use scenarios::Scenario;

const SCENARIOS: [&str; 3] = ["ingest", "export", "import"];
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
