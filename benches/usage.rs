//! Production cost concentration at scale: `evalgate_cli::usage::analyse` over a usage file of
//! 10,000,000 calls from 200,000 customers, the target being ≤ 10 s on 2 cores, with memory
//! that grows with the customers, never with the lines. Run with `cargo bench --bench
//! usage`; `EVALGATE_BENCH_USAGE_LINES` sets the number of lines (default 10,000,000; the
//! memory comparison also runs a tenth of it).
//!
//! The data is generated from a fixed seed, once, and kept under cargo's target temp
//! folder (`target/tmp/evalgate-usage-bench/`) for later runs: one JSON Lines call per line
//! (about 150 bytes: a timestamp, a request id, the customer, the model, the tokens, and
//! revenue for the customers whose number is a multiple of 3). The first 200,000 lines name
//! every customer once; after that customers are drawn from a Zipf law (exponent 1.1: the
//! costliest 1 % of customers make most of the calls), models 70 % `gpt-4o-mini`, 20 %
//! `gpt-4o`, 10 % `claude-sonnet`, and one line in 1,000,003 is malformed. The smaller file
//! is the first tenth of the larger one, so both have the same 200,000 customers.
//!
//! Each run is a child process (this bench re-executed with `EVALGATE_BENCH_USAGE_CHILD`
//! naming the file) that calls `analyse` once and reports its wall time, its CPU time and
//! its own peak RSS (`VmHWM` of /proc/self/status, a fresh process per run: nothing of the
//! generator, of another size or of an earlier run is in it), with the process's peak
//! before `analyse` as the floor. Every result is checked against what the generator wrote
//! (lines, malformed lines, customers, tokens, total cost and revenue, the costliest
//! customer, the same report on every run), and an incorrect one makes the bench exit
//! non-zero. The limit is printed with the ratio, not asserted.

#[path = "support/proc_status.rs"]
mod proc_status;
#[path = "support/xorshift.rs"]
mod xorshift;

use std::collections::BTreeMap;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use evalgate::signals::Price;
use evalgate_cli::usage::{CostConcentration, GroupBy, analyse};
use proc_status::status_kib;
use serde_json::{Value, json};
use xorshift::XorShift;

const LINES_VAR: &str = "EVALGATE_BENCH_USAGE_LINES";
const CHILD_VAR: &str = "EVALGATE_BENCH_USAGE_CHILD";
const DEFAULT_LINES: u64 = 10_000_000;
const CUSTOMERS: u64 = 200_000;
const ZIPF_EXPONENT: f64 = 1.1;
const MALFORMED_EVERY: u64 = 1_000_003;
const LIMIT: Duration = Duration::from_secs(10);
const RUNS: usize = 3;
/// Bumped whenever the generator changes, so a cached file is never stale.
const GENERATOR: &str = "v1";
/// (model, share of the calls in per cent, USD per million input tokens, output tokens).
const MODELS: [(&str, u64, f64, f64); 3] = [
    ("gpt-4o-mini", 70, 0.15, 0.60),
    ("gpt-4o", 20, 2.50, 10.00),
    ("claude-sonnet", 10, 3.00, 15.00),
];

fn main() -> ExitCode {
    if let Some(path) = std::env::var_os(CHILD_VAR) {
        return child(Path::new(&path));
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("usage: INCORRECT RUN: {e}");
            ExitCode::FAILURE
        }
    }
}

fn prices() -> BTreeMap<String, Price> {
    MODELS
        .iter()
        .map(|&(model, _, input, output)| (model.to_string(), Price { input, output }))
        .collect()
}

fn run() -> Result<(), String> {
    let lines = match std::env::var(LINES_VAR) {
        Err(_) => DEFAULT_LINES,
        Ok(text) => text
            .parse::<u64>()
            .ok()
            .filter(|&n| n >= 10 * CUSTOMERS)
            .ok_or_else(|| {
                format!(
                    "{LINES_VAR}={text}: expected a whole number ≥ {}",
                    10 * CUSTOMERS
                )
            })?,
    };
    println!(
        "usage: {CUSTOMERS} customers (Zipf, exponent {ZIPF_EXPONENT}), {} models; {} worker threads",
        MODELS.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut peaks = Vec::new();
    for size in [lines / 10, lines] {
        let (path, written) = cached(size)?;
        peaks.push((size, timed(&path, &written)?));
    }
    let [(small, small_peak), (large, large_peak)] = peaks[..] else {
        unreachable!("two sizes")
    };
    println!(
        "memory: peak RSS {} at {small} lines, {} at {large} lines ({:+.1} MB for {}× the lines)",
        mb(small_peak),
        mb(large_peak),
        (large_peak as f64 - small_peak as f64) / 1024.0,
        large / small
    );
    Ok(())
}

fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 / 1024.0)
}

/// What the generator wrote, to check the analysis against.
struct Written {
    lines: u64,
    bytes: u64,
    malformed: u64,
    /// Per model of [`MODELS`]: input and output tokens.
    tokens: [(u64, u64); 3],
    revenue_nanos: u128,
}

impl Written {
    fn to_json(&self) -> Value {
        json!({
            "lines": self.lines,
            "bytes": self.bytes,
            "malformed": self.malformed,
            "tokens": self.tokens.iter().map(|&(i, o)| [i, o]).collect::<Vec<_>>(),
            "revenue_nanos": self.revenue_nanos.to_string(),
        })
    }

    fn from_json(value: &Value) -> Option<Written> {
        let tokens: Vec<(u64, u64)> = (value["tokens"].as_array()?.iter())
            .map(|t| Some((t[0].as_u64()?, t[1].as_u64()?)))
            .collect::<Option<_>>()?;
        Some(Written {
            lines: value["lines"].as_u64()?,
            bytes: value["bytes"].as_u64()?,
            malformed: value["malformed"].as_u64()?,
            tokens: tokens.try_into().ok()?,
            revenue_nanos: value["revenue_nanos"].as_str()?.parse().ok()?,
        })
    }

    fn total_cost(&self) -> f64 {
        (MODELS.iter().zip(self.tokens))
            .map(|(&(_, _, input, output), (i, o))| {
                i as f64 * input / 1e6 + o as f64 * output / 1e6
            })
            .sum()
    }
}

/// The file of `lines` lines, generated unless an earlier run left it (with its sidecar of
/// what was written, saved only once the file is complete).
fn cached(lines: u64) -> Result<(PathBuf, Written), String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("evalgate-usage-bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let path = dir.join(format!("usage-{GENERATOR}-{lines}.jsonl"));
    let sidecar = path.with_extension("written.json");
    let kept = std::fs::read(&sidecar)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|value| Written::from_json(&value))
        .filter(|w| std::fs::metadata(&path).is_ok_and(|m| m.len() == w.bytes));
    if let Some(written) = kept {
        println!(
            "{lines} lines: {:.0} MB, generated earlier ({})",
            written.bytes as f64 / 1e6,
            path.display()
        );
        return Ok((path, written));
    }
    let started = Instant::now();
    let partial = path.with_extension("partial");
    let written =
        generate(&partial, lines).map_err(|e| format!("writing {}: {e}", partial.display()))?;
    std::fs::rename(&partial, &path).map_err(|e| format!("renaming to {}: {e}", path.display()))?;
    std::fs::write(&sidecar, written.to_json().to_string())
        .map_err(|e| format!("writing {}: {e}", sidecar.display()))?;
    println!(
        "{lines} lines: generated {:.0} MB in {:.1} s ({})",
        written.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok((path, written))
}

/// Writes `lines` calls to `path`; the same seed for every size, so a smaller file is the
/// start of a larger one.
fn generate(path: &Path, lines: u64) -> std::io::Result<Written> {
    // The Zipf law's cumulative distribution over customer ranks 1..=CUSTOMERS.
    let mut cdf: Vec<f64> = (1..=CUSTOMERS)
        .scan(0.0, |sum, rank| {
            *sum += (rank as f64).powf(-ZIPF_EXPONENT);
            Some(*sum)
        })
        .collect();
    let total = *cdf.last().expect("customers");
    cdf.iter_mut().for_each(|c| *c /= total);
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut written = Written {
        lines,
        bytes: 0,
        malformed: 0,
        tokens: [(0, 0); 3],
        revenue_nanos: 0,
    };
    let mut line = String::with_capacity(256);
    for n in 0..lines {
        line.clear();
        if n % MALFORMED_EVERY == MALFORMED_EVERY - 1 {
            line.push_str(r#"{"customer":"cust-000001","model":"gpt-4o","input_tokens":12"#);
            written.malformed += 1;
        } else {
            let customer = if n < CUSTOMERS {
                n
            } else {
                let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
                cdf.partition_point(|&c| c < u).min(CUSTOMERS as usize - 1) as u64
            };
            let pick = rng.next() % 100;
            let model = if pick < MODELS[0].1 {
                0
            } else if pick < MODELS[0].1 + MODELS[1].1 {
                1
            } else {
                2
            };
            let input = 100 + rng.next() % 3_900;
            let output = 10 + rng.next() % 790;
            written.tokens[model].0 += input;
            written.tokens[model].1 += output;
            let _ = std::fmt::Write::write_fmt(
                &mut line,
                format_args!(
                    r#"{{"ts":"2026-11-{:02}T{:02}:{:02}:{:02}Z","request_id":"req-{n:010}","customer":"cust-{customer:06}","model":"{}","input_tokens":{input},"output_tokens":{output}"#,
                    1 + n % 28,
                    n % 24,
                    n % 60,
                    (n / 60) % 60,
                    MODELS[model].0
                ),
            );
            if customer % 3 == 0 {
                // Revenue in units of $0.0001: exact in nano-dollars.
                let units = rng.next() % 200;
                written.revenue_nanos += u128::from(units) * 100_000;
                let _ = std::fmt::Write::write_fmt(
                    &mut line,
                    format_args!(r#","revenue_usd":{}.{:04}"#, units / 10_000, units % 10_000),
                );
            }
            line.push('}');
        }
        line.push('\n');
        written.bytes += line.len() as u64;
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    Ok(written)
}

/// One child process per run; returns the largest peak RSS of the runs (KiB).
fn timed(path: &Path, written: &Written) -> Result<u64, String> {
    let me = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let (mut peak, mut floor) = (0, 0);
    let mut first: Option<Value> = None;
    for _ in 0..RUNS {
        let output = Command::new(&me)
            .env(CHILD_VAR, path)
            .output()
            .map_err(|e| format!("running {}: {e}", me.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "the child failed ({}): {stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let result: Value = serde_json::from_str(stdout.trim())
            .map_err(|e| format!("the child's output {stdout:?}: {e}"))?;
        walls.push(result["wall_s"].as_f64().unwrap_or(f64::NAN));
        cpus.push(result["cpu_s"].as_f64().unwrap_or(f64::NAN));
        peak = peak.max(result["peak_kib"].as_u64().unwrap_or(0));
        floor = floor.max(result["floor_kib"].as_u64().unwrap_or(0));
        let report = &result["report"];
        match &first {
            None => {
                check(written, report)?;
                first = Some(report.clone());
            }
            Some(first) if first != report => {
                return Err("two runs on the same file gave different reports".into());
            }
            Some(_) => {}
        }
    }
    walls.sort_by(f64::total_cmp);
    cpus.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    let report = first.expect("at least one run");
    println!(
        "{} lines: median of {RUNS} {median:.3} s (min {:.3}, max {:.3}), {:.2} M lines/s, \
         {:.0} MB/s, {:.2} of the {} s limit; CPU {:.2} s (median); peak RSS {} (floor {})",
        written.lines,
        walls[0],
        walls[walls.len() - 1],
        written.lines as f64 / median / 1e6,
        written.bytes as f64 / median / 1e6,
        median / LIMIT.as_secs_f64(),
        LIMIT.as_secs(),
        cpus[cpus.len() / 2],
        mb(peak),
        mb(floor)
    );
    println!(
        "{} lines: {} customers, total ${:.2}, Gini {:.3}, top 1 % {:.1} %, top 0.1 % {:.1} %, \
         top 0.01 % {:.1} % of the cost; {} customers cost more than their revenue",
        written.lines,
        report["groups"],
        report["total_cost_usd"].as_f64().unwrap_or(f64::NAN),
        report["gini"].as_f64().unwrap_or(f64::NAN),
        100.0
            * report["top_shares"][0]["share"]
                .as_f64()
                .unwrap_or(f64::NAN),
        100.0
            * report["top_shares"][1]["share"]
                .as_f64()
                .unwrap_or(f64::NAN),
        100.0
            * report["top_shares"][2]["share"]
                .as_f64()
                .unwrap_or(f64::NAN),
        report["losses"]["groups"]
    );
    Ok(peak)
}

/// The analysis agrees with what the generator wrote.
fn check(written: &Written, report: &Value) -> Result<(), String> {
    let report: CostConcentrationFigures = CostConcentrationFigures::of(report)?;
    let mut problems = Vec::new();
    let mut expect = |what: &str, ok: bool, detail: String| {
        if !ok {
            problems.push(format!("{what}: {detail}"));
        }
    };
    expect(
        "lines",
        report.lines == written.lines,
        format!("{} read, {} written", report.lines, written.lines),
    );
    expect(
        "malformed lines",
        report.malformed == written.malformed && report.valid == written.lines - written.malformed,
        format!(
            "{} malformed, {} valid; {} written malformed",
            report.malformed, report.valid, written.malformed
        ),
    );
    expect(
        "customers",
        report.groups == CUSTOMERS,
        format!("{} found", report.groups),
    );
    let (input, output) = written
        .tokens
        .iter()
        .fold((0, 0), |(i, o), t| (i + t.0, o + t.1));
    expect(
        "tokens",
        (report.input_tokens, report.output_tokens) == (input, output),
        format!(
            "{} in, {} out; {input} in, {output} out written",
            report.input_tokens, report.output_tokens
        ),
    );
    let cost = written.total_cost();
    expect(
        "total cost",
        (report.total_cost - cost).abs() <= 1e-9 * cost,
        format!("${} found, ${cost} written", report.total_cost),
    );
    let revenue = written.revenue_nanos as f64 / 1e9;
    expect(
        "total revenue",
        report.total_revenue == revenue,
        format!("${} found, ${revenue} written", report.total_revenue),
    );
    expect(
        "costliest customer",
        report.top == "cust-000000",
        format!("{} (the Zipf law's first is cust-000000)", report.top),
    );
    expect(
        "Gini",
        (0.5..1.0).contains(&report.gini),
        format!("{} for a Zipf law", report.gini),
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The figures of a report the checks need, read back from the child's JSON.
struct CostConcentrationFigures {
    lines: u64,
    valid: u64,
    malformed: u64,
    groups: u64,
    input_tokens: u64,
    output_tokens: u64,
    total_cost: f64,
    total_revenue: f64,
    top: String,
    gini: f64,
}

impl CostConcentrationFigures {
    fn of(report: &Value) -> Result<CostConcentrationFigures, String> {
        let number = |key: &str| {
            report[key]
                .as_u64()
                .ok_or_else(|| format!("no `{key}` in the report"))
        };
        let float = |value: &Value, key: &str| {
            value
                .as_f64()
                .ok_or_else(|| format!("no `{key}` in the report"))
        };
        let malformed = (report["warnings"].as_array().into_iter().flatten())
            .filter(|w| w["kind"] == "malformed_json")
            .map(|w| w["lines"].as_u64().unwrap_or(0))
            .sum();
        let others = (report["warnings"].as_array().into_iter().flatten())
            .filter(|w| w["kind"] != "malformed_json")
            .count();
        if others > 0 {
            return Err(format!("unexpected warnings: {}", report["warnings"]));
        }
        Ok(CostConcentrationFigures {
            lines: number("lines")?,
            valid: number("valid_lines")?,
            malformed,
            groups: number("groups")?,
            input_tokens: number("input_tokens")?,
            output_tokens: number("output_tokens")?,
            total_cost: float(&report["total_cost_usd"], "total_cost_usd")?,
            total_revenue: float(&report["total_revenue_usd"], "total_revenue_usd")?,
            top: report["top"][0]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            gini: float(&report["gini"], "gini")?,
        })
    }
}

/// Child mode: one analysis of `path`, its figures as one JSON line on stdout.
fn child(path: &Path) -> ExitCode {
    let floor_kib = status_kib("VmHWM:");
    let cpu = cpu_seconds();
    let started = Instant::now();
    let result = analyse(path, GroupBy::Customer, &prices());
    let wall = started.elapsed();
    let cpu = cpu_seconds() - cpu;
    let peak_kib = status_kib("VmHWM:");
    let report: CostConcentration = match result {
        Ok(report) => report,
        Err(e) => {
            println!("{}", e.render());
            return ExitCode::FAILURE;
        }
    };
    let line = json!({
        "wall_s": wall.as_secs_f64(),
        "cpu_s": cpu,
        "floor_kib": floor_kib,
        "peak_kib": peak_kib,
        "report": report,
    });
    println!("{line}");
    ExitCode::SUCCESS
}

/// This process's user and system CPU time so far, all threads, from /proc/self/stat
/// (0 where it cannot be read).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf reads a constant of the system; no memory is involved.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if per_second > 0 {
        ticks as f64 / per_second as f64
    } else {
        0.0
    }
}
