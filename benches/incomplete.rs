//! The incomplete-run detector's error rates, measured through the real (release) binary over
//! loopback: how often a run that finished is called incomplete (false alarm), and how often
//! a run that did not finish is seen (power) — killed with SIGKILL at a random moment,
//! interrupted with SIGINT, or run one process per case (as under nextest) with processes
//! that never started or were retried after being cut short. Each replicate draws its suite
//! size, concurrency and the moment of the kill from its seed.
//!
//! `cargo bench --bench incomplete`; `EVALGATE_BENCH_REPLICATES` (default 100) sets the
//! replicates per scenario. Each figure prints with its 95 % Wilson interval.

#[path = "../tests/support/mock_agent.rs"]
mod mock_agent;

#[path = "support/build.rs"]
mod build;
#[path = "support/gate_sim.rs"]
mod gate_sim;
#[path = "support/xorshift.rs"]
mod xorshift;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use gate_sim::share;
use xorshift::XorShift;

/// What happens to a replicate's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// `evalgate run` to its end.
    Finished,
    /// Killed with SIGKILL once some cases finished.
    Killed,
    /// SIGINT once some cases finished.
    Interrupted,
    /// One process per case, every case run (some retried after a first attempt was
    /// terminated, as nextest does after a timeout).
    PerCaseFinished,
    /// One process per case, some cases never started (a cancelled nextest run).
    PerCaseCancelled,
}

impl Scenario {
    fn finished(self) -> bool {
        matches!(self, Scenario::Finished | Scenario::PerCaseFinished)
    }
}

struct Replicate {
    dir: tempfile::TempDir,
    cases: usize,
    /// First attempts killed before they ended (retried afterwards).
    cut_short: std::cell::Cell<usize>,
}

impl Replicate {
    fn new(agent_url: &str, rng: &mut XorShift) -> Replicate {
        let dir = tempfile::tempdir().expect("temp dir");
        let evals = dir.path().join("evals");
        std::fs::create_dir_all(evals.join("cases")).unwrap();
        let concurrency = 1 + rng.next() % 8;
        std::fs::write(
            evals.join("evalgate.yaml"),
            format!(
                "target:\n  http: {{url: \"{agent_url}/v1/agent\"}}\nconcurrency: {concurrency}\n"
            ),
        )
        .unwrap();
        let cases = 10 + (rng.next() % 40) as usize;
        for i in 0..cases {
            std::fs::write(
                evals.join("cases").join(format!("c{i:03}.yaml")),
                "input:\n  messages: [{role: user, content: x}]\nexpect: [{contains: x}]\n",
            )
            .unwrap();
        }
        Replicate {
            dir,
            cases,
            cut_short: std::cell::Cell::new(0),
        }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn command(&self, bin: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("EVALGATE_OUT", self.out())
            .env("EVALGATE_INTERRUPT_GRACE", "200ms")
            .env_remove("NEXTEST_RUN_ID")
            .env_remove("EVALGATE_RUN_ID")
            .env_remove("GITHUB_ACTIONS")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    /// How many run records (processes that started) the run folders hold so far.
    fn run_records(&self) -> usize {
        self.count("\"kind\":\"run\"")
    }

    /// How many case records the run folders hold so far.
    fn finished_cases(&self) -> usize {
        self.count("\"kind\":\"case\"")
    }

    /// How many record lines of the run folders contain `needle`.
    fn count(&self, needle: &str) -> usize {
        let Ok(runs) = std::fs::read_dir(self.out().join("runs")) else {
            return 0;
        };
        let mut n = 0;
        for run in runs.flatten() {
            for file in std::fs::read_dir(run.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if file.path().extension().is_some_and(|e| e == "jsonl") {
                    let text = std::fs::read_to_string(file.path()).unwrap_or_default();
                    n += text.matches(needle).count();
                }
            }
        }
        n
    }

    /// Runs the scenario, then `evalgate report` on the run folder: whether the report
    /// called the run incomplete — `None` when a signal came too late to cut the run short
    /// (every case already recorded: the replicate does not count).
    fn called_incomplete(
        &self,
        bin: &Path,
        scenario: Scenario,
        rng: &mut XorShift,
    ) -> Option<bool> {
        match scenario {
            Scenario::Finished => {
                let status = self.command(bin, &["run", "evals"]).status().unwrap();
                assert_eq!(status.code(), Some(0), "a finished run passes");
            }
            Scenario::Killed | Scenario::Interrupted => {
                let mut child = self.command(bin, &["run", "evals"]).spawn().unwrap();
                let wait_for = 1 + (rng.next() as usize) % (self.cases - 1);
                let deadline = Instant::now() + Duration::from_secs(30);
                while self.finished_cases() < wait_for && Instant::now() < deadline {
                    if child.try_wait().unwrap().is_some() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                let signal = if scenario == Scenario::Killed {
                    libc::SIGKILL
                } else {
                    libc::SIGINT
                };
                // SAFETY: kill(2) on our own child's pid.
                unsafe { libc::kill(child.id() as i32, signal) };
                child.wait().unwrap();
                if self.finished_cases() >= self.cases {
                    return None;
                }
            }
            Scenario::PerCaseFinished | Scenario::PerCaseCancelled => {
                let skip = (scenario == Scenario::PerCaseCancelled)
                    .then(|| (rng.next() as usize) % self.cases);
                for i in 0..self.cases {
                    if Some(i) == skip {
                        continue;
                    }
                    let name = format!("evals::c{i:03}");
                    let exact = ["run", "evals", "--", "--exact", name.as_str()];
                    // One attempt in five is killed once it has recorded its plan, and
                    // retried, as nextest does after a timeout.
                    if scenario == Scenario::PerCaseFinished && rng.next().is_multiple_of(5) {
                        let runs_before = self.run_records();
                        let mut first = self
                            .command(bin, &exact)
                            .env("NEXTEST_RUN_ID", "per-case")
                            .spawn()
                            .unwrap();
                        while self.run_records() == runs_before
                            && first.try_wait().unwrap().is_none()
                        {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        // SAFETY: kill(2) on our own child's pid.
                        unsafe { libc::kill(first.id() as i32, libc::SIGKILL) };
                        let status = first.wait().unwrap();
                        use std::os::unix::process::ExitStatusExt;
                        if status.signal() == Some(libc::SIGKILL) {
                            self.cut_short.set(self.cut_short.get() + 1);
                        }
                    }
                    self.command(bin, &exact)
                        .env("NEXTEST_RUN_ID", "per-case")
                        .status()
                        .unwrap();
                }
            }
        }
        let Some(run_dir) = std::fs::read_dir(self.out().join("runs"))
            .ok()
            .and_then(|mut runs| runs.next())
            .and_then(|run| run.ok())
            .map(|run| run.path())
        else {
            // Killed before its first record: nothing to report, nothing green either.
            return Some(true);
        };
        let report = self
            .command(bin, &["report", run_dir.to_str().unwrap()])
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&report.stderr);
        let incomplete = stderr.starts_with("evalgate: INCOMPLETE:");
        assert_eq!(
            incomplete,
            report.status.code() != Some(0),
            "exit {:?} agrees with the report: {stderr}",
            report.status.code()
        );
        Some(incomplete)
    }
}

fn main() -> ExitCode {
    let replicates: usize = std::env::var("EVALGATE_BENCH_REPLICATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let bin = match build::release_binary() {
        Ok(bin) => bin,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = mock_agent::runtime();
    let agent = mock_agent::serve(
        &runtime,
        mock_agent::Behaviour::Delay(Duration::from_millis(5)),
    );
    println!(
        "incomplete-run detector: {replicates} replicates per scenario, 10–49 cases, concurrency 1–8"
    );
    println!("| scenario | runs called incomplete | what it measures |");
    println!("|---|---|---|");
    let scenarios = [
        (Scenario::Finished, "false alarm"),
        (
            Scenario::PerCaseFinished,
            "false alarm (one process in five killed and retried)",
        ),
        (Scenario::Killed, "power"),
        (Scenario::Interrupted, "power"),
        (Scenario::PerCaseCancelled, "power"),
    ];
    let started = Instant::now();
    for (index, (scenario, what)) in scenarios.into_iter().enumerate() {
        let (mut called, mut counted, mut cut_short) = (0, 0, 0);
        for r in 0..replicates {
            let mut rng =
                XorShift(0x9E37_79B9_7F4A_7C15 ^ (((index as u64) << 32) | (r as u64 + 1)));
            let replicate = Replicate::new(&agent.url, &mut rng);
            if let Some(incomplete) = replicate.called_incomplete(&bin, scenario, &mut rng) {
                called += usize::from(incomplete);
                counted += 1;
            }
            cut_short += replicate.cut_short.get();
        }
        let finished = if scenario.finished() {
            "finished"
        } else {
            "did not finish"
        };
        let what = if scenario == Scenario::PerCaseFinished {
            format!("{what}: {cut_short} attempts killed before their end")
        } else {
            what.to_string()
        };
        println!(
            "| {scenario:?} ({finished}) | {} of {counted}: {} | {what} |",
            called,
            share(called, counted)
        );
    }
    println!("measured in {:.0} s", started.elapsed().as_secs_f64());
    ExitCode::SUCCESS
}
