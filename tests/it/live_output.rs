//! What a run shows while it runs, through the real binary (`evalgate run` is the same
//! harness `cargo test` runs):
//!
//! - each case's libtest line is written the moment the case finishes, not in name order:
//!   a slow case named first holds back no other case's line;
//! - on a terminal, a run that goes on a while shows a progress line on standard error,
//!   redrawn in place and erased before any line is written, so what stays on the screen
//!   is the lines alone; piped, on a `TERM=dumb` terminal or under CI nothing extra is
//!   written, and a short run shows none;
//! - a case that took several samples says how many passed (`ok 3/4`), on libtest's pretty
//!   lines only; samples that failed for the same reason are told once, with a count.

use crate::support::mock_agent;
use crate::support::suite;
#[cfg(target_os = "linux")]
use crate::support::terminal;
use crate::support::test_lines;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mock_agent::{Behaviour, MockAgent, Responder};
use serde_json::json;
use suite::{TempSuite, simple_case};
use tokio::sync::watch;

/// The text the agent holds back: cases whose question holds it finish when the test says.
const HOLD: &str = "hold me";

/// Long enough for a progress line to be due (it shows after two seconds).
const PAST_THE_PROGRESS_DELAY: Duration = Duration::from_secs(3);

/// What a test waits for at most before it calls something never written.
const PATIENCE: Duration = Duration::from_secs(60);

/// A suite of slow cases named first (`a-held-N`, answered when `release` says so) and a
/// fast one named last (`z-fast`).
struct HeldSuite {
    _runtime: tokio::runtime::Runtime,
    _agent: MockAgent,
    release: watch::Sender<bool>,
    suite: TempSuite,
    held: Vec<String>,
}

impl HeldSuite {
    fn new() -> HeldSuite {
        let runtime = mock_agent::runtime();
        let (release, released) = watch::channel(false);
        let agent = mock_agent::serve(
            &runtime,
            Behaviour::Held {
                matching: HOLD,
                release: released,
            },
        );
        let suite = TempSuite::new(&format!(
            "target:\n  http: {{url: \"{}/v1/agent\"}}\nconcurrency: 64\n",
            agent.url
        ));
        // More slow cases than libtest-mimic has worker threads, which took the tests in
        // name order: every worker then waited on a slow case while the fast one was done.
        let slow = std::thread::available_parallelism().map_or(2, usize::from) + 1;
        let held: Vec<String> = (0..slow).map(|i| format!("a-held-{i:02}")).collect();
        for id in &held {
            suite.case(
                &format!("{id}.yaml"),
                &simple_case(HOLD, "  - contains: hold"),
            );
        }
        suite.case("z-fast.yaml", &simple_case("fast", "  - contains: fast"));
        HeldSuite {
            _runtime: runtime,
            _agent: agent,
            release,
            suite,
            held,
        }
    }

    fn total(&self) -> usize {
        self.held.len() + 1
    }

    /// `evalgate run evals`, on a terminal of kind `term` where one is used, outside CI.
    fn command(&self, term: &str) -> Command {
        let mut cmd = self.suite.command(&["run", "evals"]);
        cmd.env("TERM", term);
        for var in ["CI", "TF_BUILD", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
            cmd.env_remove(var);
        }
        cmd
    }

    fn release(&self) {
        self.release.send_replace(true);
    }
}

#[test]
fn a_case_line_is_written_when_the_case_finishes_not_in_name_order() {
    let f = HeldSuite::new();
    let mut child = f
        .command("xterm")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("evalgate runs");
    let stdout = child.stdout.take().unwrap();
    let (lines, seen) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = lines.send(line.unwrap());
        }
    });
    let mut before = Vec::new();
    loop {
        let line = seen.recv_timeout(PATIENCE).unwrap_or_else(|_| {
            panic!("the fast case's line was not written while slow cases ran: {before:#?}")
        });
        if line.starts_with("test evals::z-fast ") {
            assert_eq!(test_lines::outcome(&line, "evals::z-fast"), "ok");
            break;
        }
        before.push(line);
    }
    assert!(
        !before.iter().any(|l| l.contains("a-held")),
        "the slow cases are still held: {before:#?}"
    );
    f.release();
    let after: Vec<String> = seen.iter().collect();
    assert!(child.wait().unwrap().success());
    let after = after.join("\n");
    for id in &f.held {
        assert_eq!(test_lines::outcome(&after, &format!("evals::{id}")), "ok");
    }
    assert!(
        after.contains(&format!("test result: ok. {} passed; 0 failed", f.total())),
        "{after}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_a_progress_line_shows_after_a_while_and_leaves_only_the_lines() {
    let f = HeldSuite::new();
    let run = terminal::OnTerminal::spawn(f.command("xterm-256color"));
    // The fast case is done and counted while the slow ones run.
    run.wait_for(
        &format!("evalgate: 1/{} cases done · 0 failed · ", f.total()),
        PATIENCE,
    );
    f.release();
    let (code, written) = run.finish();
    let raw = String::from_utf8_lossy(&written);
    assert_eq!(code, 0, "{raw}");
    assert!(raw.contains("\r\u{1b}[K"), "erased in place: {raw:?}");
    let screen = terminal::screen(&written);
    let shown = screen.join("\n");
    assert!(!shown.contains("cases done"), "erased for good:\n{shown}");
    for id in f.held.iter().map(String::as_str).chain(["z-fast"]) {
        let name = format!("evals::{id}");
        let line = screen
            .iter()
            .find(|l| test_lines::test_line(l, &name).is_some())
            .unwrap_or_else(|| panic!("no line for {name}:\n{shown}"));
        assert!(line.ends_with(" ... ok"), "a whole line: {line:?}\n{shown}");
    }
    assert!(
        screen
            .iter()
            .any(|l| l.starts_with(&format!("test result: ok. {} passed;", f.total()))),
        "{shown}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn piped_on_a_dumb_terminal_or_under_ci_a_long_run_writes_no_progress_line() {
    let f = HeldSuite::new();
    let piped = f
        .command("xterm")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("evalgate runs");
    let dumb = terminal::OnTerminal::spawn(f.command("dumb"));
    let mut ci = f.command("xterm");
    ci.env("CI", "true");
    let ci = terminal::OnTerminal::spawn(ci);
    std::thread::sleep(PAST_THE_PROGRESS_DELAY);
    f.release();

    let piped = piped.wait_with_output().unwrap();
    assert!(piped.status.success());
    for bytes in [&piped.stdout, &piped.stderr] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains('\r') && !text.contains('\u{1b}') && !text.contains("cases done"),
            "{text:?}"
        );
    }
    // libtest's output, in the order the cases finished, and nothing else.
    let stdout = String::from_utf8(piped.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let n = f.total();
    assert_eq!(lines[..2], ["", &format!("running {n} tests")], "{stdout}");
    let mut tests = lines[2..2 + n].to_vec();
    tests.sort();
    let width = "evals::a-held-00".len();
    let expected: Vec<String> = f
        .held
        .iter()
        .map(String::as_str)
        .chain(["z-fast"])
        .map(|id| format!("test {:<width$} ... ok", format!("evals::{id}")))
        .collect();
    assert_eq!(tests, expected, "{stdout}");
    assert_eq!(lines[2 + n], "");
    let result = format!(
        "test result: ok. {n} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in "
    );
    assert!(lines[3 + n].starts_with(&result), "{stdout}");
    assert_eq!(lines[4 + n..], [""], "{stdout}");

    for (how, run) in [("TERM=dumb", dumb), ("CI", ci)] {
        let (code, written) = run.finish();
        let raw = String::from_utf8_lossy(&written);
        assert_eq!(code, 0, "{how}: {raw}");
        assert!(
            !raw.contains("cases done") && !raw.contains("\u{1b}[K"),
            "{how}: {raw:?}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_short_run_on_a_terminal_shows_no_progress_line() {
    let runtime = mock_agent::runtime();
    let agent = mock_agent::serve(&runtime, Behaviour::Echo);
    let suite = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\n",
        agent.url
    ));
    suite.case("quick.yaml", &simple_case("quick", "  - contains: quick"));
    let mut cmd = suite.command(&["run", "evals"]);
    cmd.env("TERM", "xterm")
        .env_remove("CI")
        .env_remove("TF_BUILD");
    let (code, written) = terminal::OnTerminal::spawn(cmd).finish();
    let raw = String::from_utf8_lossy(&written);
    assert_eq!(code, 0, "{raw}");
    assert!(raw.contains("test evals::quick ... "), "{raw:?}");
    assert!(
        !raw.contains("cases done") && !raw.contains("\u{1b}[K"),
        "{raw:?}"
    );
}

/// Four cases of several samples against an agent scripted per case and sample, a case of
/// one sample and a draft.
fn sampled_suite(runtime: &tokio::runtime::Runtime) -> (MockAgent, TempSuite) {
    let agent = mock_agent::serve(
        runtime,
        Behaviour::Respond(Responder::new(|request| {
            let case = request["case"].as_str().unwrap_or_default();
            let sample = request["sample"].as_u64().unwrap_or_default();
            let output = match (case, sample) {
                ("single", _) | ("flaky", 0..=2) => "right",
                ("mixed", 1) => "wrong: too short",
                _ => "wrong",
            };
            json!({"output": output})
        })),
    );
    let suite = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\n",
        agent.url
    ));
    let case = |samples: &str| {
        format!(
            "{samples}input:\n  messages: [{{role: user, content: q}}]\nexpect:\n  - contains: right\n"
        )
    };
    suite
        .case("single.yaml", &case(""))
        .case("flaky.yaml", &case("samples: 4\npass: {at_least: 2}\n"))
        .case("broken.yaml", &case("samples: 3\n"))
        .case("mixed.yaml", &case("samples: 4\n"))
        .case(
            "draft.yaml",
            &format!("status: draft\n{}", case("samples: 2\n")),
        );
    (agent, suite)
}

/// `stdout` with the test lines in name order and the time taken hidden.
fn in_name_order(stdout: &str) -> String {
    let mut lines: Vec<&str> = stdout.lines().collect();
    let tests = lines
        .iter()
        .position(|l| l.starts_with("test "))
        .unwrap_or(0);
    let end = tests
        + lines[tests..]
            .iter()
            .take_while(|l| l.starts_with("test "))
            .count();
    lines[tests..end].sort();
    let text = lines.join("\n");
    let time = regex::Regex::new(r"finished in [0-9.]+s").unwrap();
    time.replace(&text, "finished in [time]").into_owned()
}

#[test]
fn a_case_of_several_samples_says_how_many_passed_and_tells_each_failure_once() {
    let runtime = mock_agent::runtime();
    let (_agent, suite) = sampled_suite(&runtime);
    let run = suite.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    let line = |id: &str| test_lines::test_line(&run.stdout, &format!("evals::{id}"));
    assert_eq!(line("single"), Some(("ok", None)));
    assert_eq!(line("flaky"), Some(("ok", Some("3/4"))));
    assert_eq!(line("broken"), Some(("FAILED", Some("0/3"))));
    assert_eq!(line("mixed"), Some(("FAILED", Some("0/4"))));
    assert_eq!(line("draft"), Some(("ignored", None)));
    insta::assert_snapshot!("sampled_cases", in_name_order(&run.stdout));

    // `--quiet`'s marks and JSON events are read by programs comparing whole values: the
    // counts are not added there.
    let quiet = suite.run(&["--quiet"]);
    let marks = quiet.stdout.lines().nth(2).unwrap_or_default();
    let mut marks: Vec<char> = marks.chars().collect();
    marks.sort();
    assert_eq!(marks, ['.', '.', 'F', 'F', 'i'], "{}", quiet.stdout);
    let events = suite.run(&["--format", "json"]);
    for line in events.stdout.lines().filter(|l| !l.is_empty()) {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["type"] == "test" && event["event"] != "started" {
            assert!(
                ["ok", "failed", "ignored"].contains(&event["event"].as_str().unwrap()),
                "{line}"
            );
        }
    }
}
