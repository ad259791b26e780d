//! Reads a generated OTLP/JSON Lines trace (1 GB by default) with `evalgate::read_decisions`
//! and prints the throughput and this process's peak RSS before and after reading: the reader
//! streams, so reading must not raise the peak by more than the decisions it keeps.
//! See `benches/README.md`. Run with `cargo bench --bench otlp`; `EVALGATE_BENCH_OTLP_MB`
//! sets the file size in MB (default 1024).
//!
//! The file is read while it is still in the page cache from being written, so the figures
//! are the parser's, not the disk's. Every read is checked (spans, decisions in order, no
//! warnings); an incorrect read makes the bench exit non-zero.

#[path = "support/proc_status.rs"]
mod proc_status;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const SIZE_VAR: &str = "EVALGATE_BENCH_OTLP_MB";
const DEFAULT_MB: u64 = 1024;
/// Every `TOOL_EVERY`-th line is an `execute_tool` span, the rest are `chat` spans; one trace
/// id per `TOOL_EVERY` lines.
const TOOL_EVERY: u64 = 20;
const TOOLS: [&str; 4] = ["lookup_invoice", "issue_refund", "send_email", "escalate"];
const RUNS: usize = 3;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("otlp: INCORRECT RUN: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let size = size_mb()?;
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let path = dir.path().join("trace.jsonl");
    let started = Instant::now();
    let lines = generate(&path, size * 1024 * 1024).map_err(|e| format!("writing: {e}"))?;
    let bytes = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
    let tools = lines.div_ceil(TOOL_EVERY);
    println!(
        "otlp: generated {:.1} MB, {lines} lines ({tools} execute_tool spans) in {:.1} s",
        mb(bytes),
        started.elapsed().as_secs_f64()
    );
    let before = proc_status::status_kib("VmHWM:");
    let mut walls = Vec::new();
    for run in 1..=RUNS {
        let started = Instant::now();
        let read = evalgate::read_decisions(&path)?;
        let wall = started.elapsed();
        check(&read, lines, tools)?;
        println!(
            "otlp: run {run}: {:.3} s, {:.0} MB/s, {} decisions from {} spans",
            wall.as_secs_f64(),
            mb(bytes) / wall.as_secs_f64(),
            read.decisions.len(),
            read.spans
        );
        walls.push(wall);
    }
    let after = proc_status::status_kib("VmHWM:");
    walls.sort();
    let median: Duration = walls[RUNS / 2];
    println!(
        "otlp: read_decisions, median of {RUNS}: {:.3} s, {:.0} MB/s",
        median.as_secs_f64(),
        mb(bytes) / median.as_secs_f64()
    );
    println!(
        "otlp: peak RSS (VmHWM) after generating: {:.1} MB, after reading: {:.1} MB (+{:.1} MB \
         for a {:.0} MB file)",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0,
        mb(bytes)
    );
    Ok(())
}

/// The size from `EVALGATE_BENCH_OTLP_MB`; a value that is not a positive integer is an error.
fn size_mb() -> Result<u64, String> {
    match std::env::var(SIZE_VAR) {
        Err(std::env::VarError::NotPresent) => Ok(DEFAULT_MB),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(mb) if mb > 0 => Ok(mb),
            _ => Err(format!(
                "{SIZE_VAR}=`{text}`: expected a size in MB, e.g. 1024"
            )),
        },
        Err(e) => Err(format!("{SIZE_VAR}: {e}")),
    }
}

/// Writes JSON Lines like the Collector's file exporter until the file reaches `target`
/// bytes; returns the number of lines. One span per line, shaped like
/// `tests/fixtures/traces/otlp_genai_agent_trace.jsonl`.
fn generate(path: &Path, target: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let (mut written, mut line) = (0u64, 0u64);
    let mut text = String::new();
    while written < target {
        text.clear();
        write_line(&mut text, line);
        out.write_all(text.as_bytes())?;
        written += text.len() as u64;
        line += 1;
    }
    out.flush()?;
    Ok(line)
}

fn write_line(text: &mut String, line: u64) {
    use std::fmt::Write as _;
    let trace = line / TOOL_EVERY + 1;
    let start = 1_719_492_825_000_000_000 + line * 1_000_000;
    let end = start + 900_000;
    let _ = write!(
        text,
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"support-agent"}}}},{{"key":"service.version","value":{{"stringValue":"3.1.0"}}}},{{"key":"deployment.environment.name","value":{{"stringValue":"ci"}}}}]}},"scopeSpans":[{{"scope":{{"name":"support_agent.instrumentation","version":"0.1.0"}},"spans":[{{"traceId":"{trace:032x}","spanId":"{:016x}","parentSpanId":"{:016x}","#,
        line + 1,
        trace << 32,
    );
    if line.is_multiple_of(TOOL_EVERY) {
        let tool = TOOLS[(line / TOOL_EVERY) as usize % TOOLS.len()];
        let _ = write!(
            text,
            r#""name":"execute_tool {tool}","kind":1,"startTimeUnixNano":"{start}","endTimeUnixNano":"{end}","attributes":[{{"key":"gen_ai.operation.name","value":{{"stringValue":"execute_tool"}}}},{{"key":"gen_ai.tool.name","value":{{"stringValue":"{tool}"}}}},{{"key":"gen_ai.tool.type","value":{{"stringValue":"function"}}}},{{"key":"gen_ai.tool.call.id","value":{{"stringValue":"call_{line}"}}}},{{"key":"gen_ai.tool.call.arguments","value":{{"stringValue":"{{\"email\":\"jane@example.com\",\"month\":\"2024-03\"}}"}}}},{{"key":"gen_ai.tool.call.result","value":{{"stringValue":"{{\"charges\":2,\"duplicate\":true}}"}}}}],"status":{{}}}}]}}]}}]}}"#
        );
    } else {
        let _ = write!(
            text,
            r#""name":"chat gpt-4o-mini","kind":3,"startTimeUnixNano":"{start}","endTimeUnixNano":"{end}","attributes":[{{"key":"gen_ai.operation.name","value":{{"stringValue":"chat"}}}},{{"key":"gen_ai.provider.name","value":{{"stringValue":"openai"}}}},{{"key":"gen_ai.request.model","value":{{"stringValue":"gpt-4o-mini"}}}},{{"key":"gen_ai.request.max_tokens","value":{{"intValue":"200"}}}},{{"key":"gen_ai.request.temperature","value":{{"doubleValue":0.0}}}},{{"key":"gen_ai.response.id","value":{{"stringValue":"chatcmpl-{line}"}}}},{{"key":"gen_ai.response.model","value":{{"stringValue":"gpt-4o-mini-2024-07-18"}}}},{{"key":"gen_ai.response.finish_reasons","value":{{"arrayValue":{{"values":[{{"stringValue":"tool_calls"}}]}}}}}},{{"key":"gen_ai.usage.input_tokens","value":{{"intValue":"{}"}}}},{{"key":"gen_ai.usage.output_tokens","value":{{"intValue":{}}}}},{{"key":"server.address","value":{{"stringValue":"api.openai.com"}}}},{{"key":"server.port","value":{{"intValue":"443"}}}}],"status":{{}}}}]}}]}}]}}"#,
            80 + line % 97,
            10 + line % 31,
        );
    }
    text.push('\n');
}

/// A read is correct when it saw every span and found every tool call, in file order.
fn check(read: &evalgate::TraceDecisions, lines: u64, tools: u64) -> Result<(), String> {
    if read.spans as u64 != lines {
        return Err(format!("read {} spans, wrote {lines}", read.spans));
    }
    if read.decisions.len() as u64 != tools || !read.warnings.is_empty() {
        return Err(format!(
            "{} decisions (expected {tools}), warnings: {:?}",
            read.decisions.len(),
            read.warnings.first()
        ));
    }
    for (i, decision) in read.decisions.iter().enumerate() {
        let expected = TOOLS[i % TOOLS.len()];
        if decision.point != "tool" || decision.branch != expected {
            return Err(format!(
                "decision {i} is {decision}, expected tool.{expected}"
            ));
        }
    }
    Ok(())
}

/// Bytes in MB of 1024 × 1024 bytes, as the RSS figures.
fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
