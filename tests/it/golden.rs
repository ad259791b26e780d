//! Golden files of what people read after the demo, in a passing run (agent v1) and a failing
//! one (agent v2): the terminal (libtest's lines, then the report), the GitHub step summary
//! and JUnit. A change to any of them shows up as a snapshot diff to review
//! (`cargo insta review`), not as a surprise in a user's CI log.
//!
//! What changes from run to run is replaced before comparing (also where the step summary
//! backslash-escapes its punctuation), and only that: run ids, clock
//! times, today's date, temp paths, the agent's port, latencies and durations (the demo agent answers over
//! real HTTP). Runs of spaces between columns become two spaces, since a column's width
//! follows its widest (latency) value; libtest's lines are sorted, since cases finish in
//! any order.

use std::path::Path;
use std::process::Command;

struct Outputs {
    terminal: String,
    summary: String,
    junit: String,
}

/// `evalgate demo evals --agent-version <version>`, with GitHub's step summary and links on.
fn demo(version: &str) -> Outputs {
    let out = tempfile::TempDir::new().unwrap();
    let summary = out.path().join("step-summary.md");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_evalgate"));
    cmd.args(["demo", "evals", "--agent-version", version])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("EVALGATE_OUT", out.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/agent")
        .env("GITHUB_SHA", "0123abcd")
        .env("EVALGATE_COMMIT", "0123abcd")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("EVALGATE_RUN_ID")
        .env_remove("EVALGATE_TAGS")
        .env_remove("EVALGATE_VERBOSITY")
        .env_remove("NO_COLOR");
    let output = cmd.output().expect("evalgate runs");
    let expected = if version == "v1" { 0 } else { 1 };
    let terminal = format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(expected), "{terminal}");
    let read = |name: &str| {
        std::fs::read_to_string(out.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    Outputs {
        terminal: sorted_test_lines(&normalise(&terminal, out.path())),
        summary: normalise(&read("step-summary.md"), out.path()),
        junit: normalise(&read("junit.xml"), out.path()),
    }
}

/// libtest's per-case output in name order: cases run concurrently and each is printed as it
/// finishes, so its `test … ok` lines, its `---- evals::… ----` failure blocks and the names
/// under `failures:` come in any order.
fn sorted_test_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("test evals::") || line.starts_with("    evals::") {
            let prefix = &line[..4];
            let mut run: Vec<&str> = Vec::new();
            while i < lines.len() && lines[i].starts_with(prefix) && lines[i].contains("evals::") {
                run.push(lines[i]);
                i += 1;
            }
            run.sort_unstable();
            out.extend(run.into_iter().map(str::to_string));
        } else if line.starts_with("---- evals::") {
            // Failure blocks, up to the `failures:` list that follows the last one.
            let mut blocks: Vec<String> = Vec::new();
            while i < lines.len() && lines[i].starts_with("---- evals::") {
                let mut block = vec![lines[i]];
                i += 1;
                while i < lines.len()
                    && !lines[i].starts_with("---- evals::")
                    && lines[i] != "failures:"
                {
                    block.push(lines[i]);
                    i += 1;
                }
                blocks.push(block.join("\n"));
            }
            blocks.sort_unstable();
            out.extend(blocks);
        } else {
            out.push(line.to_string());
            i += 1;
        }
    }
    out.join("\n")
}

/// Replaces what varies between runs of the same demo, and nothing else.
fn normalise(text: &str, out: &Path) -> String {
    let rules: [(&str, &str); 13] = [
        // The run folder's and history's paths.
        (&regex::escape(&out.display().to_string()), "[out]"),
        (r"\d{8}T\d{6}\\?\.\d{3}Z\\?-[0-9a-f]+", "[run-id]"),
        // The demo agent's port, chosen by the OS.
        (r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:[port]"),
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[timestamp]",
        ),
        (r"\d{4}\\?-\d{2}\\?-\d{2} \d{2}\\?:\d{2} UTC", "[time]"),
        // Review-age findings count days to today and propose today's date.
        (r"\d+ days ago", "[n] days ago"),
        (r"reviewed: \d{4}-\d{2}-\d{2}`", "reviewed: [today]`"),
        // Latency and durations.
        (r"\d+(\\?\.\d+)? ms\b", "[ms]"),
        (r"finished in \d+\.\d+s", "finished in [s]"),
        (r#"time="[\d.]+""#, r#"time="[s]""#),
        (r"(latency_max_ms: )[\d.]+", "${1}[ms]"),
        (r"(latency\.p95_ms\s+)[\d.]+", "${1}[ms]"),
        (r"(latency\\\.p95\\_ms \| )[\d.]+", "${1}[ms]"),
    ];
    let mut text = text.to_string();
    for (pattern, replacement) in rules {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, replacement)
            .into_owned();
    }
    // The latency gate's value in JUnit's system-out, under its `metric:` line.
    let latency_value =
        regex::Regex::new(r"(metric: latency\.p95_ms\n(?:.*\n){2}value: )[\d.]+").unwrap();
    text = latency_value.replace_all(&text, "${1}[ms]").into_owned();
    let latency_pass = regex::Regex::new(r"(latency\.p95_ms: \w+ \(value )[\d.]+").unwrap();
    text = latency_pass.replace_all(&text, "${1}[ms]").into_owned();
    let columns = regex::Regex::new(r"(\S) {2,}").unwrap();
    columns.replace_all(&text, "${1}  ").into_owned()
}

#[test]
fn the_demo_reads_the_same_when_it_passes() {
    let outputs = demo("v1");
    insta::assert_snapshot!("demo_pass_terminal", outputs.terminal);
    insta::assert_snapshot!("demo_pass_step_summary", outputs.summary);
    insta::assert_snapshot!("demo_pass_junit", outputs.junit);
}

#[test]
fn the_demo_reads_the_same_when_it_fails() {
    let outputs = demo("v2");
    insta::assert_snapshot!("demo_fail_terminal", outputs.terminal);
    insta::assert_snapshot!("demo_fail_step_summary", outputs.summary);
    insta::assert_snapshot!("demo_fail_junit", outputs.junit);
}
