//! The command target against real faults: a program that cannot start, fails, hangs past
//! the case timeout (killed, its children too) or logs a lot to stderr; every one is an
//! `error` with its reason, never a pass.

use crate::support::suite;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use suite::{TempSuite, python, scripted_agent};

use super::targets::{assert_fault, case_record, junit_status, sample_records, two_cases};

/// A suite whose target is `scripted_agent.py` (its behaviour picked by `vars.mode`).
fn command_suite() -> TempSuite {
    TempSuite::new(&format!(
        "target:\n  command:\n    program: {:?}\n    args: [{:?}]\nconcurrency: 4\n",
        python(),
        scripted_agent().display().to_string()
    ))
}

/// A case for the scripted agent: `vars` is a YAML flow mapping (with `mode`).
fn script_case(message: &str, vars: &str, extra: &str, expect: &str) -> String {
    format!(
        "input:\n  messages:\n    - role: user\n      content: {message:?}\n  vars: {vars}\n{extra}expect:\n{expect}\n"
    )
}

/// Whether process `pid` still runs (a zombie waiting for its reaper is dead).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            // `pid (comm) STATE ...`; comm may hold spaces and parentheses.
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or("?");
            !matches!(state, "Z" | "X" | "x")
        }
    }
}

/// The PID an agent script wrote to `file` (`what` says who should have written it).
fn pid_in(file: &Path, what: &str) -> u32 {
    std::fs::read_to_string(file)
        .expect(what)
        .trim()
        .parse()
        .unwrap()
}

/// Whether process `pid` still runs after up to 2 s of waiting for it to end (a kill is
/// asynchronous).
fn still_running_after_2s(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while running(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    running(pid)
}

// ---------------------------------------------------------------------------------------
// 1. agent down

#[test]
fn command_target_faults_are_errors_and_timeouts_kill_the_process() {
    let s = command_suite();
    let pid_file = s.path().join("sleeper.pid");
    s.case(
        "echo.yaml",
        &script_case(
            "hello there",
            "{mode: echo}",
            "",
            "  - contains: hello there",
        ),
    );
    s.case(
        "sleep.yaml",
        &script_case(
            "hello",
            &format!(
                "{{mode: sleep, pid_file: {:?}}}",
                pid_file.display().to_string()
            ),
            "timeout: 1500ms\n",
            "  - contains: woke",
        ),
    );
    s.case(
        "crash.yaml",
        &script_case("hello", "{mode: crash}", "", "  - contains: hello"),
    );
    s.case(
        "garbage.yaml",
        &script_case("hello", "{mode: garbage}", "", "  - contains: hello"),
    );
    let clock = Instant::now();
    let run = s.run(&[]);
    let took = clock.elapsed();

    // The healthy case passed in the same run as the faulty ones.
    let echo = case_record(&s, "echo");
    assert_eq!(echo["verdict"], "pass", "{echo:#}\n{}", run.all());
    assert_eq!(sample_records(&s, "echo")[0]["model"], "script-1");
    assert_eq!(junit_status(&s.junit(), "echo").0, "success");

    assert_fault(&s, &run, &["sleep"], "timed out after 1s 500ms");
    assert_fault(&s, &run, &["crash"], "database on fire");
    assert_fault(&s, &run, &["crash"], "exit status: 3");
    assert_fault(&s, &run, &["garbage"], "invalid JSON");

    assert!(
        took < Duration::from_secs(8),
        "the run took {took:?}: the 10 s sleeper was waited for"
    );
    let pid = pid_in(&pid_file, "the sleeper started and wrote its PID");
    // The kill is asynchronous: allow a moment, far less than the 10 s the script sleeps.
    assert!(
        !still_running_after_2s(pid),
        "the timed-out agent process {pid} is still running after the run"
    );
}

// 8. openai target against the demo agent

#[test]
fn command_program_that_cannot_start_is_an_error() {
    let s = TempSuite::new("target:\n  command:\n    program: /nonexistent/evalgate-test-agent\n");
    two_cases(&s, "");
    let run = s.run(&[]);
    assert_fault(
        &s,
        &run,
        &["a", "b"],
        "cannot start `/nonexistent/evalgate-test-agent`",
    );
}

#[test]
fn command_agent_that_logs_a_lot_to_stderr_still_answers() {
    // An agent's debug logging is not its answer: 3 MiB of stderr must neither block nor
    // break it (evalgate keeps only a tail for error messages).
    let s = command_suite();
    s.case(
        "quiet.yaml",
        &script_case(
            "hello",
            "{mode: chatty, stderr_bytes: 1000}",
            "",
            "  - contains: hello",
        ),
    );
    s.case(
        "chatty.yaml",
        &script_case(
            "hello",
            "{mode: chatty, stderr_bytes: 3145728}",
            "timeout: 20s\n",
            "  - contains: hello",
        ),
    );
    let run = s.run(&[]);
    assert_eq!(case_record(&s, "quiet")["verdict"], "pass", "{}", run.all());
    let chatty = case_record(&s, "chatty");
    assert_eq!(
        chatty["verdict"], "pass",
        "an agent that logged 3 MiB to stderr and answered correctly: {chatty:#}"
    );
    assert_eq!(run.code, 0, "{}", run.all());
}

#[test]
fn command_timeout_kills_the_agents_child_processes_too() {
    // Agents often run behind a wrapper (`uv run`, `npm start`, a shell script): the
    // process evalgate started is not the one doing the work. A timeout must not leave the
    // real agent running.
    let s = command_suite();
    let pid_file = s.path().join("grandchild.pid");
    s.case(
        "spawner.yaml",
        &script_case(
            "hello",
            &format!(
                "{{mode: spawner, pid_file: {:?}}}",
                pid_file.display().to_string()
            ),
            "timeout: 1500ms\n",
            "  - contains: hello",
        ),
    );
    let run = s.run(&[]);
    assert_fault(&s, &run, &["spawner"], "timed out after 1s 500ms");
    let pid = pid_in(&pid_file, "the spawner started its child and wrote its PID");
    let leaked = still_running_after_2s(pid);
    if leaked {
        // Don't leave it behind for the next test run.
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert!(
        !leaked,
        "the agent's child process {pid} outlived the timed-out sample"
    );
}
