//! Under GitHub Actions: annotations on the YAML line of each failing expectation, a Markdown
//! step summary, and fencing, so that an agent printing workflow commands (`::error`,
//! `::add-mask::`, `::stop-commands::x`, an indented `::warning::`, `##[error]`) can neither
//! forge annotations nor mute ours.
//!
//! The harness runs in a child process — this test binary, re-run on one test with
//! `EVALGATE_GITHUB_CHILD` set — with an in-process agent that prints those payloads straight
//! to stdout and stderr, as a real agent's logging would. The parent reads what the child
//! printed the way the Actions runner does and lists the commands it would obey.

use crate::support::mock_agent;
use crate::support::suite;

use std::process::Command;

use evalgate::{Agent, AgentError, Observation, Request};
use mock_agent::{Behaviour, runtime, serve};
use suite::TempSuite;

const CHILD: &str = "EVALGATE_GITHUB_CHILD";

/// Each payload on a line of its own, as the runner would read them unfenced.
const PAYLOADS: [&str; 6] = [
    "::error file=src/evil.rs,line=1,title=forged::forged annotation",
    "::add-mask::the-word-refund",
    "::stop-commands::x",
    "    ::warning::indented forged warning",
    "##[error]forged legacy error",
    "log text then ##[error]mid-line",
];

/// Prints every payload on stdout and stderr, then answers without the word the case expects.
struct Noisy;

impl Agent for Noisy {
    fn respond(&self, _request: &Request) -> Result<Observation, AgentError> {
        for payload in PAYLOADS {
            println!("{payload}");
            eprintln!("{payload}");
        }
        Ok(Observation::new(
            "::error::in the answer\n<script>alert(1)</script> | **x**",
        ))
    }
}

/// The child: the real harness on the suite in `$EVALGATE_GITHUB_CHILD`.
#[test]
fn child_harness() {
    let Some(dir) = std::env::var_os(CHILD) else {
        return; // only meaningful when the parent runs it
    };
    std::env::set_current_dir(dir).unwrap();
    let code = evalgate::Harness::new()
        .dir("evals")
        .out_dir(std::path::PathBuf::from(
            std::env::var_os("EVALGATE_OUT").unwrap(),
        ))
        .agent(Noisy)
        .args(Vec::<String>::new())
        .run();
    let _ = code;
}

/// What the runner would obey in `output`: commands at the start of a line (leading
/// whitespace allowed), `##[` legacy commands anywhere in a line (the runner looks for
/// them with `IndexOf`), and `::stop-commands::` fences.
fn commands_obeyed(output: &str) -> Vec<String> {
    let mut stopped: Option<String> = None;
    let mut obeyed = Vec::new();
    for line in output.lines() {
        let line = line.trim_start();
        if let Some(token) = &stopped {
            if line == format!("::{token}::") {
                stopped = None;
            }
            continue;
        }
        if let Some(token) = line.strip_prefix("::stop-commands::") {
            stopped = Some(token.to_string());
            obeyed.push(line.to_string());
        } else if line.starts_with("::") || line.contains("##[") {
            obeyed.push(line.to_string());
        }
    }
    obeyed
}

struct ChildRun {
    output: String,
    summary: String,
}

fn run_child(s: &TempSuite, github: bool) -> ChildRun {
    let summary = s.root.path().join("step-summary.md");
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "github::child_harness",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, s.root.path())
    .env("EVALGATE_OUT", s.out())
    .env("EVALGATE_HISTORY", "off")
    .env_remove("NEXTEST_RUN_ID")
    .env_remove("EVALGATE_RUN_ID")
    .env_remove("GITHUB_ACTIONS")
    .env_remove("GITHUB_STEP_SUMMARY");
    if github {
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "acme/shop")
            .env("GITHUB_SHA", "0123abc");
    }
    // One file for both streams, as the runner reads them: in the order they were written.
    let log_path = s
        .root
        .path()
        .join(if github { "github.log" } else { "bare.log" });
    let log = std::fs::File::create(&log_path).unwrap();
    cmd.stdout(log.try_clone().unwrap()).stderr(log);
    cmd.status().unwrap();
    ChildRun {
        output: std::fs::read_to_string(&log_path).unwrap(),
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
    }
}

fn suite() -> TempSuite {
    let s = TempSuite::new("name: shop\n");
    s.case(
        "refunds/a.yaml",
        "description: a refund\ninput:\n  messages: [{role: user, content: \"Refund A1002\"}]\nexpect:\n  - contains: refund\n  - max_length: 10\n",
    );
    s
}

#[test]
fn agent_output_cannot_forge_or_mute_workflow_commands() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let s = suite();
    // Without GitHub Actions nothing is fenced: the runner would obey every payload. This is
    // what the fence must prevent (and proves the payloads reach the output).
    let bare_run = run_child(&s, false);
    let bare = commands_obeyed(&bare_run.output);
    // Unfenced, a forged error and a mask are obeyed, and `::stop-commands::x` mutes
    // everything after it, our annotations too.
    for payload in &PAYLOADS[..3] {
        assert!(
            bare.iter().any(|c| c == payload),
            "{payload} not in {bare:?}"
        );
    }
    for payload in &PAYLOADS[3..] {
        assert!(
            bare_run.output.contains(&format!("\n{payload}\n")),
            "{payload} reaches the output on a line of its own"
        );
    }

    let run = run_child(&s, true);
    let obeyed = commands_obeyed(&run.output);
    // Only our fence and our annotations; every payload inert.
    let ours: Vec<&String> = obeyed
        .iter()
        .filter(|c| !c.starts_with("::stop-commands::"))
        .collect();
    assert_eq!(ours.len(), 2, "{obeyed:#?}\n{}", run.output);
    assert!(
        ours[0].starts_with(
            "::error file=evals/cases/refunds/a.yaml,line=5,title=refunds/a%3A contains::"
        ),
        "{}",
        ours[0]
    );
    assert!(
        ours[1].starts_with(
            "::error file=evals/cases/refunds/a.yaml,line=6,title=refunds/a%3A max_length::"
        ),
        "{}",
        ours[1]
    );
    assert!(
        obeyed
            .iter()
            .filter(|c| c.starts_with("::stop-commands::"))
            .count()
            == 1,
        "one fence, ours: {obeyed:#?}"
    );
    let fence = &obeyed[0];
    assert!(
        fence.len() == "::stop-commands::".len() + 32,
        "a fresh 128-bit token: {fence}"
    );

    // The step summary: verdict and why, the failure linked to its first failing
    // expectation's line, the agent's text escaped and only inside `<pre>` (HTML, where
    // Markdown means nothing and `<` cannot open a tag).
    let md = &run.summary;
    assert!(md.contains("## evalgate shop ❌ failed"), "{md}");
    assert!(md.contains("**Why:** 1 case(s) failed"), "{md}");
    assert!(
        md.contains("(https://github.com/acme/shop/blob/0123abc/evals/cases/refunds/a.yaml#L5)"),
        "{md}"
    );
    assert!(!md.contains("<script>"), "{md}");
    assert!(
        md.contains("&lt;script&gt;alert(1)&lt;/script&gt; | **x**"),
        "{md}"
    );
    let outside_pre: String = md
        .split("<pre>")
        .map(|part| part.split_once("</pre>").map_or(part, |(_, after)| after))
        .collect();
    assert!(!outside_pre.contains("**x**"), "{md}");
}

/// The step summary leads with what a reviewer acts on: the verdict, then each failure with
/// its link and whole "why", then the gates; signals, cost and customers are folded, and a
/// customer id that is an email address or a phone number is not shown.
#[test]
fn the_summary_leads_with_failures_and_folds_the_rest() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let s = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\nprices: {{mock-1: {{input: 1.0, output: 2.0}}}}\ngates:\n  - {{metric: cases.pass_rate, min: 0.9}}\n",
        agent.url
    ));
    let long = "x".repeat(700);
    for (file, customer, expect) in [
        (
            "a.yaml",
            "jane.doe@example.com",
            format!("  - contains: \"{long}\""),
        ),
        (
            "b.yaml",
            "+1 (415) 555-0134",
            "  - contains: hi".to_string(),
        ),
        ("c.yaml", "acme-corp", "  - contains: hi".to_string()),
    ] {
        s.case(
            file,
            &format!(
                "input:\n  customer: \"{customer}\"\n  messages: [{{role: user, content: hi}}]\nexpect:\n{expect}\n"
            ),
        );
    }
    let summary = s.root.path().join("step-summary.md");
    let run = s.evalgate_env(
        &["run", "evals"],
        &[
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            ("GITHUB_SHA", "0123abc"),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.all());
    let md = std::fs::read_to_string(&summary).unwrap();
    let at = |what: &str| {
        md.find(what)
            .unwrap_or_else(|| panic!("no {what:?} in\n{md}"))
    };
    assert!(at("**Why:**") < at("### Failures"));
    assert!(at("### Failures") < at("### Gates"));
    assert!(at("### Gates") < at("<details><summary>Operational signals"));
    assert!(at("<details><summary>Operational signals") < at("| customer |"));
    assert!(at("| customer |") < at("</details>"));
    // The whole why (700 characters of expectation, not a cut at 500), linked to its line.
    assert!(
        md.contains(&format!("output containing \"{long}\"")),
        "{md}"
    );
    assert!(
        md.contains("(https://github.com/acme/shop/blob/0123abc/evals/cases/a.yaml#L5)"),
        "{md}"
    );
    for personal in ["jane.doe", "example.com", "555-0134", "415"] {
        assert!(!md.contains(personal), "{personal} in\n{md}");
    }
    assert!(md.contains("| acme\\-corp |"), "{md}");
    assert_eq!(md.matches("| masked\\-").count(), 2, "{md}");
}

/// GitHub's 1 MiB limit is on the whole step summary file: what earlier steps wrote counts,
/// so a nearly full file gets a note, not a summary that pushes it over.
#[test]
fn the_summary_cap_counts_what_the_file_already_holds() {
    let s = TempSuite::new(
        "target:\n  http: {url: \"http://127.0.0.1:9/v1/agent\"}\nretries: {max: 1, max_wait: 10ms}\n",
    );
    s.case(
        "a.yaml",
        "input:\n  messages: [{role: user, content: hi}]\nexpect: [{contains: hi}]\n",
    );
    let summary = s.root.path().join("step-summary.md");
    let held = 1024 * 1024 - 200;
    std::fs::write(&summary, "x".repeat(held)).unwrap();
    let run = s.evalgate_env(
        &["run", "evals"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(run.code, 1, "{}", run.all());
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(written.len() <= 1024 * 1024, "{} bytes", written.len());
    assert!(
        written[held..].contains("cut at GitHub's 1 MiB limit"),
        "{}",
        &written[held..]
    );
}
