//! Planner coverage at scale: 100,000 samples × 20 decisions each, against a catalog of
//! 8 decision points × 6 branches with 30 declared transitions. See `benches/README.md`.
//! Run with `cargo bench --bench coverage [-- aggregate|from_records]`.
//!
//! `aggregate` times `CoverageBuilder` alone (the decisions are built before the clock
//! starts); `from_records` times what `evalgate report` does for coverage: reading the run
//! records back, the summary, and `coverage_of`. Each runs on two orders of the same
//! samples: `case-major` (a case's samples one after the other) and `interleaved` (8 cases
//! in flight, their samples alternating, as a concurrent `evalgate run` appends them). Both
//! print this process's peak RSS growth during the timed work. Every result is checked against counts made independently from
//! the generated samples, so a benchmark cannot look fast by doing nothing; an incorrect
//! result makes the benchmark exit non-zero. The limit is printed, not asserted.

#[path = "support/proc_status.rs"]
mod proc_status;
#[path = "support/scenarios.rs"]
mod scenarios;
#[path = "support/xorshift.rs"]
mod xorshift;

use proc_status::status_kib;
use xorshift::XorShift;

use scenarios::Scenario;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use evalgate::{
    BranchCatalog, CaseRecord, CheckResult, Coverage, CoverageBuilder, Decision, Record, RunData,
    RunRecord, SampleRecord, Suite, Summary, coverage_of,
};

const SCENARIOS: [&str; 2] = ["aggregate", "from_records"];
const SAMPLES: usize = 100_000;
const DECISIONS: usize = 20;
const CASES: usize = 10_000;
/// One decision in `UNKNOWN_ONE_IN` is a branch the catalog does not list (2 %).
const UNKNOWN_ONE_IN: u64 = 50;
const POINTS: [&str; 8] = [
    "route",
    "tool",
    "escalate",
    "on_large_result",
    "retrieve",
    "clarify",
    "answer",
    "guard",
];
const BRANCHES: usize = 6;
const TRANSITIONS: usize = 30;
/// Branches the catalog does not list: three on catalog points, three on unknown points.
const UNKNOWN: [&str; 6] = [
    "route.legacy_refund",
    "tool.send_email",
    "guard.unlisted",
    "memory.recall",
    "memory.forget",
    "planner_v0.fallback",
];
const LIMIT: Duration = Duration::from_secs(1);
const AGGREGATE_RUNS: usize = 5;
const RECORD_RUNS: usize = 3;
/// Cases in flight at once in the `Interleaved` order.
const IN_FLIGHT: usize = 8;

fn main() -> ExitCode {
    let (bench, wanted) = match scenarios::prepare("coverage", &SCENARIOS, Bench::new) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let selected = |name: &str| scenarios::is_wanted(&wanted, name);
    println!(
        "coverage benchmarks: {SAMPLES} samples × {DECISIONS} decisions over {CASES} cases, \
         catalog of {} branches and {TRANSITIONS} transitions, {} unknown decisions (1 in \
         {UNKNOWN_ONE_IN})",
        bench.catalog_branches(),
        bench.expected.unknown_decisions
    );
    let scenarios: [(&str, Scenario<Bench>); 2] =
        [("aggregate", aggregate), ("from_records", from_records)];
    scenarios::run_selected(&bench, &scenarios, selected)
}

/// The suite folder (kept for `from_records`' temp run folder), its catalog, the generated
/// samples as indices into `universe`, and what their coverage must be.
struct Bench {
    dir: tempfile::TempDir,
    catalog: BranchCatalog,
    /// The catalog's branches (in `POINTS` order, `BRANCHES` each), then `UNKNOWN`.
    universe: Vec<Decision>,
    /// The decisions of the sample at each position of the records; which case it is of
    /// depends on the [`Order`].
    samples: Vec<[u8; DECISIONS]>,
    /// What each case expects (`branches:`), two catalog branches.
    expects: Vec<[u8; 2]>,
    expected: Expected,
}

/// How the samples of the cases follow one another in the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Each case's samples one after the other (one case at a time).
    CaseMajor,
    /// `IN_FLIGHT` cases at a time, their samples alternating: what `evalgate run` appends
    /// when several cases run at once (every sample is written as it finishes).
    Interleaved,
}

const ORDERS: [Order; 2] = [Order::CaseMajor, Order::Interleaved];
const PER_CASE: usize = SAMPLES / CASES;

impl Order {
    /// The case of the sample at position `i`, and its index among the case's samples.
    fn locate(self, i: usize) -> (usize, usize) {
        match self {
            Order::CaseMajor => (i / PER_CASE, i % PER_CASE),
            Order::Interleaved => {
                let (block, j) = (i / (IN_FLIGHT * PER_CASE), i % (IN_FLIGHT * PER_CASE));
                (block * IN_FLIGHT + j % IN_FLIGHT, j / IN_FLIGHT)
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Order::CaseMajor => "case-major",
            Order::Interleaved => "interleaved",
        }
    }
}

impl Bench {
    fn new() -> Result<Bench, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let suite_dir = dir.path().join("evals");
        write_suite(&suite_dir).map_err(|e| format!("writing the suite: {e}"))?;
        let suite = Suite::load(&suite_dir).map_err(|e| format!("loading the suite: {e}"))?;
        let catalog = suite.catalog.ok_or("the suite has no catalog")?;
        let mut universe: Vec<Decision> = Vec::new();
        for point in POINTS {
            for branch in 0..BRANCHES {
                universe.push(Decision::new(point, branch_name(point, branch)));
            }
        }
        universe.extend(
            UNKNOWN
                .iter()
                .map(|d| Decision::parse(d).expect("point.branch")),
        );
        if catalog.decisions().map(|(d, _)| d).collect::<Vec<_>>()
            != universe[..POINTS.len() * BRANCHES]
        {
            return Err("the loaded catalog is not the one written".into());
        }
        let samples = generate();
        let expects: Vec<[u8; 2]> = (0..CASES)
            .map(|c| {
                let first = c % (POINTS.len() * BRANCHES);
                let second = (first + 1 + c % 47) % (POINTS.len() * BRANCHES);
                [first as u8, second as u8]
            })
            .collect();
        let expected = Expected::count(&universe, &samples, &expects, &catalog);
        Ok(Bench {
            dir,
            catalog,
            universe,
            samples,
            expects,
            expected,
        })
    }

    fn catalog_branches(&self) -> usize {
        self.catalog.decisions().count()
    }

    fn decisions(&self, sample: &[u8; DECISIONS]) -> Vec<Decision> {
        sample
            .iter()
            .map(|&i| self.universe[usize::from(i)].clone())
            .collect()
    }
}

fn case_id(case: usize) -> String {
    format!("g{:02}/case-{case:05}", case / 1000)
}

fn branch_name(point: &str, branch: usize) -> String {
    format!("{point}_{branch}")
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

/// `CoverageBuilder` over prepared decisions: every sample, every case's expectations (as
/// `coverage_of` does), `finish`, in both orders. Target: ≤ 1 s and bounded memory.
fn aggregate(bench: &Bench) -> Result<(), String> {
    let cases: Vec<String> = (0..CASES).map(case_id).collect();
    let decisions: Vec<Vec<Decision>> = bench.samples.iter().map(|s| bench.decisions(s)).collect();
    let expects: Vec<Vec<Decision>> = bench
        .expects
        .iter()
        .map(|e| {
            e.iter()
                .map(|&i| bench.universe[usize::from(i)].clone())
                .collect()
        })
        .collect();
    println!(
        "aggregate: input prepared before timing: {} decisions, process RSS {}",
        SAMPLES * DECISIONS,
        Rss::now()
    );
    for order in ORDERS {
        let case_of: Vec<&str> = (0..SAMPLES)
            .map(|i| cases[order.locate(i).0].as_str())
            .collect();
        let mut walls = Vec::new();
        let mut peak = Mib::default();
        // One warm-up run, checked but not timed.
        for run in 0..=AGGREGATE_RUNS {
            let rss = Rss::start();
            let started = Instant::now();
            let mut builder = CoverageBuilder::new(Some(&bench.catalog));
            for (case, sample) in case_of.iter().zip(&decisions) {
                builder.sample(case, sample);
            }
            for (case, expects) in cases.iter().zip(&expects) {
                builder.expects(case, expects);
            }
            let coverage = builder.finish();
            let wall = started.elapsed();
            peak = peak.max(rss.growth());
            bench.expected.check(&coverage, order)?;
            if run > 0 {
                walls.push(wall);
            }
        }
        walls.sort();
        let median = walls[walls.len() / 2];
        println!(
            "aggregate, {}: median of {AGGREGATE_RUNS} {:.3} s (min {:.3}, max {:.3}), \
             {:.0} samples/s, {:.2} of the {} s limit; peak RSS growth {peak}",
            order.name(),
            median.as_secs_f64(),
            walls[0].as_secs_f64(),
            walls[walls.len() - 1].as_secs_f64(),
            SAMPLES as f64 / median.as_secs_f64(),
            median.as_secs_f64() / LIMIT.as_secs_f64(),
            LIMIT.as_secs()
        );
    }
    Ok(())
}

/// What `evalgate report` does for coverage: read the run folder, summarise, `coverage_of`.
fn from_records(bench: &Bench) -> Result<(), String> {
    for order in ORDERS {
        let run_dir = bench.dir.path().join(format!("run-{}", order.name()));
        std::fs::create_dir_all(&run_dir).map_err(|e| e.to_string())?;
        let bytes =
            write_records(bench, &run_dir, order).map_err(|e| format!("writing records: {e}"))?;
        let dirs = [run_dir];
        let mut runs: Vec<(Duration, Duration, Duration)> = Vec::new();
        let mut peak = Mib::default();
        for _ in 0..RECORD_RUNS {
            let rss = Rss::start();
            let started = Instant::now();
            let data = RunData::read(&dirs).map_err(|e| format!("reading records: {e}"))?;
            let read = started.elapsed();
            let summary = Summary::new(&data);
            let summarised = started.elapsed();
            let coverage = coverage_of(&data, &summary, Some(&bench.catalog));
            let done = started.elapsed();
            peak = peak.max(rss.growth());
            if data.samples.len() != SAMPLES || summary.cases.len() != CASES {
                return Err(format!(
                    "read {} samples and {} cases, wrote {SAMPLES} and {CASES}",
                    data.samples.len(),
                    summary.cases.len()
                ));
            }
            bench.expected.check(&coverage, order)?;
            runs.push((read, summarised - read, done - summarised));
        }
        runs.sort_by_key(|(read, summary, coverage)| *read + *summary + *coverage);
        let (read, summary, coverage) = runs[runs.len() / 2];
        println!(
            "from_records, {}: {:.1} MB ({SAMPLES} sample + {CASES} case lines), median of \
             {RECORD_RUNS}: read {:.3} s ({:.0} MB/s), summary {:.3} s, coverage_of {:.3} s \
             ({:.2} of the {} s limit), total {:.3} s; peak RSS growth {peak}",
            order.name(),
            bytes as f64 / 1e6,
            read.as_secs_f64(),
            bytes as f64 / 1e6 / read.as_secs_f64(),
            summary.as_secs_f64(),
            coverage.as_secs_f64(),
            coverage.as_secs_f64() / LIMIT.as_secs_f64(),
            LIMIT.as_secs(),
            (read + summary + coverage).as_secs_f64()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Generated data
// ---------------------------------------------------------------------------------------

/// `evals/evalgate.yaml`, `evals/branches.yaml` and one case.
fn write_suite(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("cases"))?;
    std::fs::write(dir.join("evalgate.yaml"), "name: bench\n")?;
    std::fs::write(
        dir.join("cases/one.yaml"),
        "input:\n  messages:\n    - {role: user, content: \"Where is A1007?\"}\nexpect:\n  \
         - branches: [route.route_0]\n",
    )?;
    let mut yaml = String::from("reviewed: 2026-11-28\npoints:\n");
    for point in POINTS {
        let _ = writeln!(
            yaml,
            "  {point}:\n    description: The {point} decision\n    branches:"
        );
        for branch in 0..BRANCHES {
            let risk = ["high", "medium", "low"][branch % 3];
            let _ = writeln!(
                yaml,
                "      {}: {{risk: {risk}, description: \"Branch {branch} of {point}\"}}",
                branch_name(point, branch)
            );
        }
    }
    yaml.push_str("transitions:\n");
    for (from, to) in declared_transitions() {
        let _ = writeln!(
            yaml,
            "  - [{}.{}, {}.{}]",
            POINTS[from / BRANCHES],
            branch_name(POINTS[from / BRANCHES], from % BRANCHES),
            POINTS[to / BRANCHES],
            branch_name(POINTS[to / BRANCHES], to % BRANCHES)
        );
    }
    std::fs::write(dir.join("branches.yaml"), yaml)
}

/// `TRANSITIONS` distinct pairs of catalog branches, as universe indices.
fn declared_transitions() -> Vec<(usize, usize)> {
    (0..TRANSITIONS)
        .map(|i| {
            let from = (i % POINTS.len()) * BRANCHES + i / POINTS.len();
            let to = ((i + 1) % POINTS.len()) * BRANCHES + (i * 5) % BRANCHES;
            (from, to)
        })
        .collect()
}

/// Deterministic samples: uniform points, branches skewed towards the first, the last
/// branch of the last two points never taken (so 46 of 48 are covered), and 1 decision in
/// `UNKNOWN_ONE_IN` outside the catalog.
fn generate() -> Vec<[u8; DECISIONS]> {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    (0..SAMPLES)
        .map(|_| {
            let mut sample = [0u8; DECISIONS];
            for slot in &mut sample {
                *slot = if rng.next().is_multiple_of(UNKNOWN_ONE_IN) {
                    (POINTS.len() * BRANCHES) as u64 + rng.next() % UNKNOWN.len() as u64
                } else {
                    let point = rng.next() % POINTS.len() as u64;
                    let branch = (rng.next() % BRANCHES as u64).min(rng.next() % BRANCHES as u64);
                    let branch = if point >= 6 { branch.min(4) } else { branch };
                    point * BRANCHES as u64 + branch
                } as u8;
            }
            sample
        })
        .collect()
}

/// A run folder as `evalgate run` leaves it: one `run` line, then the samples in `order`,
/// each case's `case` line right after its last sample. Returns the bytes written.
fn write_records(bench: &Bench, dir: &Path, order: Order) -> std::io::Result<u64> {
    let path: PathBuf = dir.join("records-1-000000000.jsonl");
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let at = jiff::Timestamp::from_second(1_795_000_000).expect("a valid timestamp");
    let run_id = "bench-run".to_string();
    let line = |record: Record, out: &mut BufWriter<std::fs::File>| {
        serde_json::to_writer(&mut *out, &record).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    };
    line(
        Record::Run(Box::new(RunRecord {
            suite: "bench".into(),
            target: "http://127.0.0.1:8080/v1/agent".into(),
            evalgate_version: "0.1.0".into(),
            pid: 1,
            started_at: at,
            concurrency: 8,
            ..RunRecord::example(&run_id)
        })),
        &mut out,
    )?;
    for (i, sample) in bench.samples.iter().enumerate() {
        let (case, index) = order.locate(i);
        let id = case_id(case);
        let decisions = bench.decisions(sample);
        let record = SampleRecord {
            checks: vec![
                check("branches", 12, "route.route_0", &decisions[0].to_string()),
                check(
                    "contains",
                    13,
                    "A1007",
                    "Order A1007 shipped on 2026-11-02.",
                ),
            ],
            output: format!("Order A1007 shipped on 2026-11-02. (case {case}, {index})"),
            output_bytes: 48,
            decisions,
            latency_ms: 120.0 + (case % 37) as f64,
            usage: Some(evalgate::Usage {
                input_tokens: 820,
                output_tokens: 64,
            }),
            tier: Some("primary".into()),
            model: Some("demo-support-1".into()),
            refusal: Some(false),
            started_at: at,
            finished_at: at,
            ..SampleRecord::example(&run_id, &id, index as u32)
        };
        line(Record::Sample(Box::new(record)), &mut out)?;
        if index + 1 < PER_CASE {
            continue;
        }
        let expects = bench.expects[case]
            .iter()
            .map(|&i| bench.universe[usize::from(i)].clone())
            .collect();
        let record = CaseRecord {
            classname: format!("evals.g{:02}", case / 1000),
            samples: PER_CASE as u32,
            passes: PER_CASE as u32,
            rule: format!("at_least {PER_CASE}"),
            interval: [0.72, 1.0],
            duration_ms: 1300.0,
            expects,
            started_at: at,
            finished_at: at,
            pid: None,
            ..CaseRecord::example(&run_id, &id)
        };
        line(Record::Case(Box::new(record)), &mut out)?;
    }
    out.flush()?;
    drop(out);
    Ok(std::fs::metadata(&path)?.len())
}

fn check(expectation: &str, line: u32, expected: &str, actual: &str) -> CheckResult {
    CheckResult {
        expectation: expectation.into(),
        line,
        column: 5,
        passed: true,
        expected: expected.into(),
        actual: actual.into(),
    }
}

// ---------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------

/// The coverage of the generated samples, counted without `CoverageBuilder`.
struct Expected {
    /// Per universe index: samples that reached it, cases with such a sample, cases that
    /// expect it.
    samples: Vec<u64>,
    /// Per order (as in `ORDERS`), per universe index: cases with a sample that reached it.
    cases: Vec<Vec<usize>>,
    expected_by: Vec<usize>,
    /// Per point name: samples that reached any branch of it (catalog or not).
    point_samples: Vec<(String, u64)>,
    covered: usize,
    unknown_branches: usize,
    unknown_decisions: u64,
    pairs_seen: usize,
    declared_seen: usize,
}

impl Expected {
    fn count(
        universe: &[Decision],
        samples: &[[u8; DECISIONS]],
        expects: &[[u8; 2]],
        catalog: &BranchCatalog,
    ) -> Expected {
        let n = universe.len();
        let mut points: Vec<String> = universe.iter().map(|d| d.point.clone()).collect();
        points.dedup();
        let point_of: Vec<usize> = universe
            .iter()
            .map(|d| points.iter().position(|p| *p == d.point).expect("listed"))
            .collect();
        let mut branch_samples = vec![0u64; n];
        let mut branch_cases: Vec<Vec<HashSet<usize>>> =
            vec![vec![HashSet::new(); n]; ORDERS.len()];
        let mut point_samples = vec![0u64; points.len()];
        let mut pairs = vec![false; n * n];
        let mut unknown_decisions = 0;
        for (i, sample) in samples.iter().enumerate() {
            let (mut reached, mut reached_points) = (0u64, 0u64);
            for (k, &d) in sample.iter().enumerate() {
                let d = usize::from(d);
                reached |= 1 << d;
                reached_points |= 1 << point_of[d];
                unknown_decisions += u64::from(d >= POINTS.len() * BRANCHES);
                if k > 0 {
                    pairs[usize::from(sample[k - 1]) * n + d] = true;
                }
            }
            for d in (0..n).filter(|d| reached & (1 << d) != 0) {
                branch_samples[d] += 1;
                for (o, order) in ORDERS.iter().enumerate() {
                    branch_cases[o][d].insert(order.locate(i).0);
                }
            }
            for p in (0..points.len()).filter(|p| reached_points & (1 << p) != 0) {
                point_samples[p] += 1;
            }
        }
        let mut expected_by = vec![0; n];
        for e in expects {
            for &d in e {
                expected_by[usize::from(d)] += 1;
            }
        }
        let catalog_len = POINTS.len() * BRANCHES;
        let index = |d: &Decision| universe.iter().position(|u| u == d).expect("in universe");
        Expected {
            covered: branch_samples[..catalog_len]
                .iter()
                .filter(|&&s| s > 0)
                .count(),
            unknown_branches: branch_samples[catalog_len..]
                .iter()
                .filter(|&&s| s > 0)
                .count(),
            unknown_decisions,
            pairs_seen: pairs.iter().filter(|&&p| p).count(),
            declared_seen: catalog
                .transitions
                .iter()
                .filter(|(a, b)| pairs[index(a) * n + index(b)])
                .count(),
            cases: branch_cases
                .iter()
                .map(|order| order.iter().map(HashSet::len).collect())
                .collect(),
            samples: branch_samples,
            expected_by,
            point_samples: points.into_iter().zip(point_samples).collect(),
        }
    }

    fn check(&self, coverage: &Coverage, order: Order) -> Result<(), String> {
        let cases = &self.cases[ORDERS.iter().position(|o| *o == order).expect("listed")];
        let mismatch = |what: &str, got: String, want: String| {
            Err(format!(
                "{what}: coverage says {got}, the generated samples {want}"
            ))
        };
        let pairs = (SAMPLES * (DECISIONS - 1)) as u64;
        let got_pairs: u64 = coverage.transitions.seen.iter().map(|t| t.samples).sum();
        let figures = [
            ("samples", coverage.samples, SAMPLES as u64),
            (
                "samples with decisions",
                coverage.samples_with_decisions,
                SAMPLES as u64,
            ),
            (
                "catalog branches",
                coverage.branches_total as u64,
                (POINTS.len() * BRANCHES) as u64,
            ),
            (
                "covered branches",
                coverage.branches_covered as u64,
                self.covered as u64,
            ),
            (
                "unknown branches",
                coverage.unknown.len() as u64,
                self.unknown_branches as u64,
            ),
            ("transitions taken", got_pairs, pairs),
            (
                "distinct transitions",
                coverage.transitions.seen.len() as u64,
                self.pairs_seen as u64,
            ),
            (
                "declared transitions",
                coverage.transitions.declared as u64,
                TRANSITIONS as u64,
            ),
            (
                "declared transitions seen",
                coverage.transitions.declared_seen as u64,
                self.declared_seen as u64,
            ),
        ];
        for (what, got, want) in figures {
            if got != want {
                return mismatch(what, got.to_string(), want.to_string());
            }
        }
        // The generator leaves exactly two catalog branches unreached.
        if self.covered != POINTS.len() * BRANCHES - 2 {
            return mismatch("covered (generator)", self.covered.to_string(), "46".into());
        }
        let branches = coverage
            .points
            .iter()
            .flat_map(|p| &p.branches)
            .chain(&coverage.unknown);
        let mut seen = 0;
        for branch in branches {
            let Some(i) = self.universe_index(&branch.decision) else {
                return Err(format!(
                    "coverage lists {}, never generated",
                    branch.decision
                ));
            };
            let got = (branch.samples, branch.cases.len(), branch.expected_by.len());
            let want = (self.samples[i], cases[i], self.expected_by[i]);
            if got != want {
                return mismatch(
                    &format!("{} (samples, cases, expected by)", branch.decision),
                    format!("{got:?}"),
                    format!("{want:?}"),
                );
            }
            seen += 1;
        }
        if seen != POINTS.len() * BRANCHES + self.unknown_branches {
            return mismatch("branches listed", seen.to_string(), "every one".into());
        }
        for point in &coverage.points {
            let want = self
                .point_samples
                .iter()
                .find(|(name, _)| *name == point.name)
                .map(|(_, samples)| *samples);
            if want != Some(point.samples) {
                return mismatch(
                    &format!("samples of point {}", point.name),
                    point.samples.to_string(),
                    format!("{want:?}"),
                );
            }
        }
        Ok(())
    }

    fn universe_index(&self, decision: &Decision) -> Option<usize> {
        let point = POINTS.iter().position(|p| *p == decision.point);
        let catalog = point.and_then(|p| {
            (0..BRANCHES)
                .find(|&b| decision.branch == branch_name(POINTS[p], b))
                .map(|b| p * BRANCHES + b)
        });
        catalog.or_else(|| {
            UNKNOWN
                .iter()
                .position(|u| *u == decision.to_string())
                .map(|u| POINTS.len() * BRANCHES + u)
        })
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
        trim_heap();
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let status = Status::read();
        Rss {
            before_kib: if reset {
                status.rss_kib
            } else {
                status.hwm_kib
            },
            reset,
        }
    }

    fn growth(&self) -> Mib {
        let after = Status::read().hwm_kib;
        Mib {
            kib: after.saturating_sub(self.before_kib),
            note: if self.reset {
                ""
            } else {
                " (over the earlier peak)"
            },
        }
    }

    fn now() -> Mib {
        Mib {
            kib: Status::read().rss_kib,
            note: "",
        }
    }
}

/// Gives the pages glibc keeps after `free` back to the system, so that a run measured after
/// another one raises RSS as much as a first run would.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; no pointer is involved.
    unsafe {
        libc::malloc_trim(0);
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

struct Status {
    rss_kib: u64,
    hwm_kib: u64,
}

impl Status {
    /// Zeros where /proc is not available.
    fn read() -> Status {
        Status {
            rss_kib: status_kib("VmRSS:"),
            hwm_kib: status_kib("VmHWM:"),
        }
    }
}
