//! What a run shows while it runs, through the real binary (`evalgate run` is the same
//! harness `cargo test` runs):
//!
//! - each case's libtest line is written the moment the case finishes, not in name order:
//!   a slow case named first holds back no other case's line.

#[path = "support/mock_agent.rs"]
mod mock_agent;
#[path = "support/suite.rs"]
mod suite;
#[path = "support/test_lines.rs"]
mod test_lines;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use mock_agent::{Behaviour, MockAgent};
use suite::{TempSuite, simple_case};
use tokio::sync::watch;

/// The text the agent holds back: cases whose question holds it finish when the test says.
const HOLD: &str = "hold me";

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

    fn release(&self) {
        self.release.send_replace(true);
    }
}

#[test]
fn a_case_line_is_written_when_the_case_finishes_not_in_name_order() {
    let f = HeldSuite::new();
    let mut child = f
        .suite
        .command(&["run", "evals"])
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
