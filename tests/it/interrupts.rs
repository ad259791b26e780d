//! A killed run keeps every finished record; an interrupted one stops starting samples,
//! gives those in flight their grace, writes every report and exits 130; a second signal
//! stops at once and kills the agent processes.

use crate::support::mock_agent;
use crate::support::reports;
use crate::support::suite;

use std::time::Duration;

use mock_agent::Behaviour;
use suite::{TempSuite, simple_case};

use super::harness_flags::{Fixture, fixture};

#[test]
fn a_killed_run_keeps_every_finished_record() {
    let f = fixture(Behaviour::Delay(Duration::from_millis(200)), 1);
    for i in 0..30 {
        f.suite.case(
            &format!("slow/{i:02}.yaml"),
            &simple_case("x", "  - contains: x"),
        );
    }
    // A green run first: its reports must not outlive the killed run.
    let green = f.suite.run(&["refunds/a"]);
    assert_eq!(green.code, 0, "{}", green.all());
    std::fs::remove_dir_all(f.suite.out().join("runs")).unwrap();
    std::fs::remove_file(f.suite.out().join("history.sqlite")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["run", "evals"])
        .current_dir(f.suite.path())
        .env("EVALGATE_OUT", f.suite.out())
        .env_remove("NEXTEST_RUN_ID")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until a few cases have finished, then kill -9 mid-run.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while f.suite.run_dirs().is_empty() || f.suite.records_of("case").len() < 3 {
        assert!(std::time::Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The reports of the green run before are gone: what is there says this one did not end.
    let junit = f.suite.junit();
    assert!(
        junit.contains("name=\"run incomplete\"") && junit.contains("has not written its reports"),
        "{junit}"
    );
    let gates = reports::read_json(&f.suite.out().join("gates.json"));
    assert!(
        gates["incomplete"]["why"]
            .as_str()
            .is_some_and(|w| w.contains("has not written its reports")),
        "{gates:#}"
    );
    let finished = f.suite.records_of("case");
    assert!(
        finished.len() >= 3 && finished.len() < 33,
        "{}",
        finished.len()
    );
    for case in &finished {
        let id = case["case"].as_str().unwrap();
        assert!(
            f.suite.records_of("sample").iter().any(|s| s["case"] == id),
            "the sample record of {id} is there too"
        );
    }
    let run_dir = f.suite.run_dirs().remove(0);
    let report = f.suite.evalgate(&["report", run_dir.to_str().unwrap()]);
    // Every finished case passed, but the run is not green: it was killed.
    assert_eq!(report.code, 1, "{}", report.all());
    let first = report.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("evalgate: INCOMPLETE: the run is incomplete: killed before its end; ")
            && first.contains(&format!(
                "{} of 33 planned case(s) finished, {} did not",
                finished.len(),
                33 - finished.len()
            )),
        "the report says so first:\n{}",
        report.stderr
    );
    assert!(
        report
            .stderr
            .contains(&format!("evalgate: {} cases", finished.len())),
        "{}",
        report.stderr
    );
    // JUnit fails every case without a result.
    let junit = f.suite.junit();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let failures: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure") && n.attribute("type") == Some("incomplete"))
        .map(|n| n.parent().unwrap().attribute("name").unwrap())
        .collect();
    assert_eq!(failures.len(), 33 - finished.len(), "{junit}");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_ne!(suite.attribute("failures"), Some("0"), "{junit}");
    let coverage = reports::read_json(&f.suite.out().join("coverage.json"));
    assert_eq!(
        coverage["incomplete"]["completion"]["killed"], 1,
        "{coverage:#}"
    );
    let gates = reports::read_json(&f.suite.out().join("gates.json"));
    assert_eq!(gates["incomplete"], coverage["incomplete"], "{gates:#}");
    // History keeps it, marked partial.
    let history = rusqlite::Connection::open(f.suite.out().join("history.sqlite")).unwrap();
    let partial: i64 = history
        .query_row("SELECT partial FROM runs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(partial, 1);
    let runs = f.suite.evalgate(&["history", "runs"]);
    assert!(
        runs.stdout
            .trim_end()
            .ends_with("(partial: did not finish)"),
        "{}",
        runs.all()
    );
}

/// `evalgate run evals` on `suite`, in the background, with `grace` for samples in flight
/// after a signal, its output piped.
fn spawn_run(suite: &TempSuite, grace: &str) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["run", "evals"])
        .current_dir(suite.path())
        .env("EVALGATE_OUT", suite.out())
        .env("EVALGATE_INTERRUPT_GRACE", grace)
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("GITHUB_ACTIONS")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `signal` to `child`.
fn signal(child: &std::process::Child, signal: i32) {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

/// Starts `evalgate run evals` on `f`'s suite, waits until `cases` cases finished, and sends
/// `signal`.
fn signalled_run(f: &Fixture, cases: usize, signal: i32, grace: &str) -> std::process::Output {
    let child = spawn_run(&f.suite, grace);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while f.suite.run_dirs().is_empty() || f.suite.records_of("case").len() < cases {
        assert!(std::time::Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    self::signal(&child, signal);
    child.wait_with_output().unwrap()
}

#[test]
fn an_interrupted_run_stops_starting_samples_writes_every_report_and_exits_130() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let f = fixture(Behaviour::Delay(Duration::from_millis(150)), 1);
        for i in 0..30 {
            f.suite.case(
                &format!("slow/{i:02}.yaml"),
                &simple_case("x", "  - contains: x"),
            );
        }
        let output = signalled_run(&f, 3, signal, "5s");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "{stderr}");
        let name = if signal == libc::SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        assert!(
            stderr.contains(&format!("evalgate: {name}: no new samples start")),
            "{stderr}"
        );
        assert!(
            stderr.contains(
                "evalgate: INCOMPLETE: the run is incomplete: interrupted (SIGINT/SIGTERM); "
            ),
            "{stderr}"
        );
        let finished = f.suite.records_of("case").len();
        assert!(
            finished < 20,
            "samples stopped starting: {finished} finished"
        );
        // The agent was not called for the cases that never started.
        assert!(f.agent.hits() <= finished + 1, "{} calls", f.agent.hits());
        let ends = f.suite.records_of("end");
        assert_eq!(ends.len(), 1);
        assert_eq!(ends[0]["interrupted"], true);
        let junit = f.suite.junit();
        assert!(junit.contains("type=\"incomplete\""), "{junit}");
        let history = rusqlite::Connection::open(f.suite.out().join("history.sqlite")).unwrap();
        let partial: i64 = history
            .query_row("SELECT partial FROM runs", [], |row| row.get(0))
            .unwrap();
        assert_eq!(partial, 1);
    }
}

#[test]
fn samples_still_in_flight_when_the_grace_ends_are_given_up() {
    let runtime = mock_agent::runtime();
    let agent = mock_agent::serve(&runtime, Behaviour::Delay(Duration::from_secs(60)));
    let suite = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\n",
        agent.url
    ));
    suite.case("a.yaml", &simple_case("x", "  - contains: x"));
    let started = std::time::Instant::now();
    let child = spawn_run(&suite, "300ms");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while agent.hits() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the agent was never called"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the 60 s call was given up after the grace"
    );
    assert!(
        stderr.contains("evalgate: without a result: a\n"),
        "{stderr}"
    );
    assert!(suite.out().join("junit.xml").exists());
    // The mock's own 60 s answer is not waited for either.
    drop(agent);
    runtime.shutdown_background();
}

/// A second signal stops at once: no reports (what is there says the run did not end), and
/// the agent processes in flight are killed with it, not left running.
#[cfg(unix)]
#[test]
fn a_second_signal_stops_at_once_and_kills_the_agents_processes() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let suite = TempSuite::new(&format!(
        "target:\n  command:\n    program: sh\n    args: [\"-c\", \"echo $$ > {}/$$; sleep 60\"]\n",
        pids.display()
    ));
    suite.case("a.yaml", &simple_case("x", "  - contains: x"));
    let child = spawn_run(&suite, "60s");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let agent = loop {
        let written = std::fs::read_dir(&pids).unwrap().next();
        if let Some(entry) = written {
            break entry
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .parse::<i32>()
                .unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the agent never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("evalgate: SIGINT again: stopping at once, without reports"),
        "{stderr}"
    );
    // Killed: gone, or a zombie left for init to reap.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let alive = loop {
        let state = std::fs::read_to_string(format!("/proc/{agent}/stat")).ok();
        let running = state.is_some_and(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
        });
        if !running || std::time::Instant::now() > deadline {
            break running;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!alive, "the agent process {agent} outlived evalgate");
    let junit = std::fs::read_to_string(suite.out().join("junit.xml")).unwrap();
    assert!(junit.contains("name=\"run incomplete\""), "{junit}");
}
