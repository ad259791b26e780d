//! Text the agent controls — decision names, the model, the tier, envelope values and keys,
//! its output, a command agent's stderr — printed by a run under GitHub Actions and by
//! `evalgate report` after it: no line of stdout or stderr holds a workflow command
//! evalgate did not write (`::error::forged`, `##[warning]`), and no raw ESC or NUL byte
//! reaches either stream or the step summary. Decision names outside the documented
//! charset make the sample's answer malformed.
//!
//! The same hostile answers come from a loopback `http` agent and a `command` agent.

use crate::support::mock_agent;
use crate::support::suite;

use mock_agent::{Behaviour, Responder, runtime, serve as mock};
use serde_json::{Value, json};
use suite::{Run, TempSuite, python, simple_case};

/// Text that would forge commands at a line start, colour the terminal and cut C strings.
const HOSTILE: &str = "x\n::error::forged\r\n##[warning]forged \u{1b}[31mred\u{0}nul";

/// The answer of each case: `names` with hostile decision names (control characters, and
/// names a runner would read as commands), `versions` with valid decisions and a hostile
/// model, tier and envelope.
fn answers() -> Value {
    json!({
        "names": {
            "output": "hello",
            "decisions": [
                "route.ok\n::error::forged", "tool.\u{1b}[31mred", "route.nul\u{0}",
                "##[warning]route.a", "::error::tool.b",
            ],
        },
        "versions": {
            "output": HOSTILE,
            "decisions": ["route.a", "tool.b::c"],
            "model": format!("m-1{HOSTILE}"),
            "tier": "##[warning]primary\u{1b}[2J",
            "envelope": {"prompt": HOSTILE, "##[error]axis": "::warning::v"},
        },
    })
}

/// The two cases (and, for the command agent, `stderr`), each failing an expectation so
/// the run quotes what the agent said.
fn cases(s: &TempSuite, with_stderr: bool) {
    let mut ids = vec!["names", "versions"];
    if with_stderr {
        ids.push("stderr");
    }
    for id in ids {
        s.case(
            &format!("{id}.yaml"),
            &simple_case(
                "hello",
                "  - contains: never-there\n  - branches: [route.z]",
            ),
        );
    }
}

/// `evalgate run` then `evalgate report`, under GitHub Actions with a step summary.
fn run_under_github(s: &TempSuite) -> (Run, Run, Vec<u8>) {
    let summary = s.path().join("step-summary.md");
    let summary_text = summary.display().to_string();
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary_text.as_str()),
        ("EVALGATE_HISTORY", "off"),
    ];
    let run = s.evalgate_env(&["run", "evals"], &env);
    let report = s.evalgate_env(&["report"], &env);
    (run, report, std::fs::read(&summary).unwrap_or_default())
}

/// The workflow commands in `output` that evalgate did not write, read as the runner reads
/// them: a line starting (after blanks) with `::`, or holding the legacy `##[` anywhere —
/// except evalgate's fence (`::stop-commands::<token>`, `::<token>::`) and its annotations
/// outside the fence.
fn forged_commands(output: &str) -> Vec<String> {
    let mut fence: Option<String> = None;
    let mut forged = Vec::new();
    for line in output.lines() {
        let line = line.trim_start();
        if !(line.starts_with("::") || line.contains("##[")) {
            continue;
        }
        if let Some(token) = line.strip_prefix("::stop-commands::")
            && fence.is_none()
            && token.len() == 32
            && token.chars().all(|c| c.is_ascii_hexdigit())
        {
            fence = Some(token.to_string());
            continue;
        }
        if let Some(token) = &fence
            && line == format!("::{token}::")
        {
            fence = None;
            continue;
        }
        let annotation = ["::error file=", "::error title=", "::warning title="]
            .iter()
            .any(|start| line.starts_with(start));
        if fence.is_some() || !annotation || line.contains("##[") {
            forged.push(line.to_string());
        }
    }
    forged
}

fn assert_clean(what: &str, run: &Run, summary: &[u8]) {
    let mut problems = Vec::new();
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        for line in forged_commands(text) {
            problems.push(format!(
                "{stream}: a command evalgate did not write: {line:?}"
            ));
        }
        for line in text.lines().filter(|l| l.contains(['\u{1b}', '\u{0}'])) {
            problems.push(format!("{stream}: a raw ESC or NUL: {line:?}"));
        }
    }
    if summary.contains(&0x1b) || summary.contains(&0) {
        problems.push("the step summary holds a raw ESC or NUL".into());
    }
    assert!(problems.is_empty(), "{what}: {problems:#?}");
}

/// The sample of case `id`.
fn sample(s: &TempSuite, id: &str) -> Value {
    s.records_of("sample")
        .into_iter()
        .find(|r| r["case"] == id)
        .unwrap_or_else(|| panic!("a sample of {id}: {:#?}", s.records()))
}

/// What both agents must lead to: control characters in decision names make the answer
/// malformed; the rest is recorded as the agent said it, and shown escaped.
fn assert_outcome(s: &TempSuite, run: &Run) {
    assert_eq!(run.code, 1, "{}", run.all());
    let names = sample(s, "names");
    assert_eq!(names["verdict"], "error", "{names:#}");
    let error = names["error"].as_str().unwrap();
    assert!(
        error.starts_with("malformed answer: decision"),
        "the decision names make the answer malformed: {error}"
    );
    let versions = sample(s, "versions");
    assert_eq!(versions["verdict"], "fail", "{versions:#}");
    assert_eq!(versions["model"], format!("m-1{HOSTILE}"), "{versions:#}");
    assert_eq!(versions["decisions"][1], "tool.b::c", "{versions:#}");
    assert!(
        run.stdout.lines().any(|l| l.starts_with("::error file=")),
        "the failures are annotated:\n{}",
        run.stdout
    );
}

#[test]
fn an_http_agents_text_cannot_forge_commands_or_reach_the_terminal_raw() {
    let rt = runtime();
    let answers = answers();
    let agent = mock(
        &rt,
        Behaviour::Respond(Responder::new(move |request| {
            answers[request["case"].as_str().unwrap_or_default()].clone()
        })),
    );
    let s = TempSuite::new(&format!(
        "target:\n  http:\n    url: \"{}/v1/agent\"\n",
        agent.url
    ));
    cases(&s, false);
    let (run, report, summary) = run_under_github(&s);
    assert_outcome(&s, &run);
    assert_clean("run", &run, &summary);
    assert_clean("report", &report, &[]);
}

#[test]
fn a_command_agents_text_and_stderr_cannot_forge_commands_or_reach_the_terminal_raw() {
    let s = TempSuite::new("");
    let answers_file = s.path().join("answers.json");
    std::fs::write(&answers_file, answers().to_string()).unwrap();
    let agent = s.path().join("agent.py");
    std::fs::write(
        &agent,
        r#"import json, sys
request = json.load(sys.stdin)
if request["case"] == "stderr":
    sys.stderr.write("boom\n::error::forged\n##[warning]forged\n\x1b[31mred\x00nul\n")
    sys.exit(4)
answers = json.load(open(sys.argv[1]))
sys.stdout.write(json.dumps(answers[request["case"]]))
"#,
    )
    .unwrap();
    std::fs::write(
        s.evals().join("evalgate.yaml"),
        format!(
            "target:\n  command:\n    program: {:?}\n    args: [{:?}, {:?}]\n",
            python(),
            agent.display().to_string(),
            answers_file.display().to_string()
        ),
    )
    .unwrap();
    cases(&s, true);
    let (run, report, summary) = run_under_github(&s);
    assert_outcome(&s, &run);
    let stderr = sample(&s, "stderr");
    assert_eq!(stderr["verdict"], "error", "{stderr:#}");
    assert!(
        stderr["error"]
            .as_str()
            .unwrap()
            .contains("::error::forged"),
        "the agent's stderr is quoted: {stderr:#}"
    );
    assert_clean("run", &run, &summary);
    assert_clean("report", &report, &[]);
}
