//! The `cargo test` harness: cases become libtest-mimic trials named `evals::<id>`, so
//! filters, `--exact`, `--skip`, `--ignored`, `--list` and `--test-threads` work as cargo
//! users expect, and nextest can run one process per case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::Arguments;

use crate::baseline::judge::RunBaseline;
use crate::baseline::{Resolved, Subject};
use crate::case::{Case, SuiteTier};
use crate::console::{CaseLine, Console};
use crate::decay::DecayContext;
use crate::errors::Error;
use crate::exit;
use crate::history::HistoryStore;
use crate::output::Verbosity;
use crate::provenance::Provenance;
use crate::record::{EndRecord, Record, Recorder, RunData, RunPolicy, RunRecord};
use crate::report::github::{self, Fence};
use crate::report::{history_path, preflight, shown, write_in_progress, write_reports};
use crate::run::interrupt::{self, Listening, grace_from_env};
use crate::run::{CaseOutcome, Interrupt, RunEvent, RunSetup, Runner};
use crate::suite::Suite;
use crate::target::{Agent, Overrides, Secrets, Target};

mod selection;
use selection::{Chosen, Tests};

/// Runs the suite as the test binary's `main`: `fn main() -> ExitCode { evalgate::main() }`.
pub fn main() -> ExitCode {
    Harness::new().run()
}

/// The harness, for setups that need more than [`main`]: an in-process agent, another
/// evals folder, explicit arguments.
///
/// ```no_run
/// # use evalgate::{Agent, AgentError, Observation, Request};
/// # struct MyAgent;
/// # impl Agent for MyAgent {
/// #     fn respond(&self, _: &Request) -> Result<Observation, AgentError> { Ok(Observation::new("hi")) }
/// # }
/// fn main() -> std::process::ExitCode {
///     evalgate::Harness::new().agent(MyAgent).run()
/// }
/// ```
#[derive(Default)]
pub struct Harness {
    dir: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    agent: Option<Arc<dyn Agent>>,
    args: Option<Vec<String>>,
    overrides: Overrides,
    axes: BTreeMap<String, String>,
    /// Run by `evalgate run`, not as a test binary among others: a filter that matches no
    /// case is a mistake, not another binary's business.
    standalone: bool,
}

impl Harness {
    /// A harness with the defaults: the evals folder, output folder, target and arguments [`main`]
    /// uses.
    pub fn new() -> Self {
        Harness::default()
    }

    /// The evals folder (default: `$EVALGATE_DIR`, else `evals/` of the package).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Where records and reports go (default: `$EVALGATE_OUT`, else `target/evalgate`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Evaluates this in-process agent instead of the suite's `target:`.
    pub fn agent(mut self, agent: impl Agent) -> Self {
        self.agent = Some(Arc::new(agent));
        self
    }

    /// libtest-style arguments (default: the process's own).
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args = Some(args.into_iter().map(Into::into).collect());
        self
    }

    /// The value of an envelope axis to pass to the agent with every request (default: the
    /// axes of `$EVALGATE_AXES`); see the book's "Regression bisection" (docs/src/bisect.md).
    pub fn axis(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.axes.insert(name.into(), value.into());
        self
    }

    /// A value for `${NAME}` in the suite file that wins over the environment.
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.overrides.0.insert(name.into(), value.into());
        self
    }

    /// Runs as `evalgate run` does: a filter that matches no case is an error.
    pub fn standalone(mut self) -> Self {
        self.standalone = true;
        self
    }

    /// Runs and returns the process exit code (see docs/src/exit-codes.md).
    pub fn run(self) -> ExitCode {
        match self.try_run() {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("error: {}", e.render());
                ExitCode::from(e.exit_code())
            }
        }
    }

    fn try_run(self) -> Result<u8, Error> {
        // clap exits with code 2 on bad arguments, which is our usage-error code too.
        let mut args = match &self.args {
            Some(args) => Arguments::from_iter(
                std::iter::once("evalgate".to_string()).chain(args.iter().cloned()),
            ),
            None => Arguments::from_args(),
        };
        let tags = tags(&mut args)?;
        let tags = tags.as_deref();
        let dir = self.dir.clone().map(Ok).unwrap_or_else(default_dir)?;
        let axes = if self.axes.is_empty() {
            crate::env::axes()?
        } else {
            crate::envelope::check_axes(&self.axes).map_err(Error::Usage)?;
            self.axes.clone()
        };
        let suite = Suite::load(&dir)?;
        let verbosity = Verbosity::resolve(args.quiet, suite.output.verbosity)?;
        let Chosen {
            cases,
            full_discovery,
            decay,
            tier,
        } = selection::choose(&suite, &args)?;
        if args.list {
            selection::list(&args, &cases, tags);
            return Ok(exit::PASS);
        }
        let tests = Tests::of(&cases, &args, tags);
        if !tests.selected.contains(&true) {
            let line = selection::nothing_matched(&args, tags, cases.len(), &suite);
            // Nothing would run and nothing would be recorded: never "0 cases", green.
            if self.standalone {
                return Err(Error::Usage(line));
            }
            // Under `cargo test` every test binary gets the filter: matching nothing here is
            // normal, as libtest has it, but say so once.
            eprintln!("evalgate: {line}");
            return Ok(exit::PASS);
        }

        let started = self.start(
            &suite,
            &args,
            &cases,
            &tests,
            Planned {
                full_discovery,
                decay,
                tier,
                axes,
            },
        )?;
        // From the first agent call on, output is untrusted (an in-process agent's logging,
        // libtest's failure messages): under GitHub Actions none of it is read as a command.
        let fence = Fence::open();
        let has_failed = run_tests(&args, &started.runner, &tests, &cases, tags)?;
        started.finish(has_failed, verbosity, fence)
    }

    /// Everything a run needs before its first agent call, settled before anything is
    /// recorded (a bad setting leaves no run folder behind), then the run's first records:
    /// the runtime, the target, the baseline, the interrupt listener, the recorder with the
    /// run record and the policy the reports are computed from.
    fn start(
        &self,
        suite: &Suite,
        args: &Arguments,
        cases: &[Arc<Case>],
        tests: &Tests,
        planned: Planned,
    ) -> Result<Started, Error> {
        let Planned {
            full_discovery,
            decay,
            tier,
            axes,
        } = planned;
        // Before any thread starts (it may set INSTA_WORKSPACE_ROOT): insta must resolve the
        // user's workspace, not the one evalgate was compiled in.
        crate::snapshot::prepare_process(&suite.dir, cases.iter().any(|c| c.snapshot));
        let runtime = async_runtime()?;
        let target = {
            let _guard = runtime.enter();
            Target::build(suite, self.agent.clone(), &self.overrides)?
        };
        if self.agent.is_some() {
            crate::instrument::install_decision_layer();
        }
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => default_out_dir()?,
        };
        if full_discovery && !crate::env::under_nextest() {
            preflight(
                suite.history.as_deref(),
                suite.decay.production.as_ref().map(|p| p.path.as_path()),
                &out_dir,
            )?;
        }
        let run_id = run_id()?;
        let provenance = Provenance::detect(&suite.dir)?;
        let case_ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        let baseline = run_baseline(
            suite,
            &out_dir,
            &Subject {
                suite: &suite.name,
                run_ids: &[run_id.as_str()],
                branch: provenance.branch.as_deref(),
                commit: provenance.commit.as_deref(),
                axes: &axes,
                started: jiff::Timestamp::now(),
                cases: (!full_discovery).then_some(case_ids.as_slice()),
            },
        )?;
        // Settled before anything is recorded: a bad setting leaves no run folder behind.
        let interrupt = Arc::new(Interrupt::new());
        let listening = interrupt.listen(grace_from_env()?)?;
        let run_dir = crate::layout::Layout::new(&out_dir).run(&run_id);
        let secrets = Secrets::of_suite(suite, &self.overrides);
        crate::target::secrets::install(&secrets);
        let recorder = Arc::new(Recorder::create(&run_dir)?.redacting(secrets));
        if !crate::env::under_nextest() {
            write_in_progress(&out_dir, &suite.name, &run_id)?;
        }
        let concurrency = concurrency(suite, args)?;
        let run_record = RunRecord {
            suite_tier: tier.map(|t| t.name),
            axes: axes.clone(),
            planned: Some(
                tests
                    .to_run()
                    .into_iter()
                    .map(|i| cases[i].id.clone())
                    .collect(),
            ),
            ..crate::record::run_record_of_process(
                suite,
                run_id.clone(),
                target.kind(),
                concurrency,
                provenance,
            )
        };
        recorder.append(&Record::Run(Box::new(run_record.clone())));
        run_policy(suite, cases, full_discovery, decay).save(&run_dir)?;
        let runner = Runner::new(
            runtime.handle().clone(),
            target,
            RunSetup {
                suite,
                concurrency,
                recorder: Arc::clone(&recorder),
                run_id,
                run_dir: &run_dir,
                overrides: &self.overrides,
                axes: &axes,
                baseline,
                interrupt: Arc::clone(&interrupt),
            },
        );
        Ok(Started {
            runtime,
            runner,
            listening,
            interrupt,
            recorder,
            run_record,
            run_dir,
            out_dir,
        })
    }
}

/// What `Harness::start` settles for the run from the selection.
struct Planned {
    full_discovery: bool,
    decay: Option<DecayContext>,
    tier: Option<SuiteTier>,
    axes: BTreeMap<String, String>,
}

/// A run under way: what it needs until its reports are written.
struct Started {
    runtime: tokio::runtime::Runtime,
    runner: Runner,
    listening: Listening,
    interrupt: Arc<Interrupt>,
    recorder: Arc<Recorder>,
    run_record: RunRecord,
    run_dir: PathBuf,
    out_dir: PathBuf,
}

impl Started {
    /// Ends the run: the runtime stops, the end record is written, the reports (not under
    /// nextest, whose processes each run one case: `evalgate report` merges them), and the
    /// exit code.
    fn finish(self, has_failed: bool, verbosity: Verbosity, fence: Fence) -> Result<u8, Error> {
        drop(self.runner);
        self.runtime.shutdown_background();
        // From here a signal stops the process at once: the reports say the run is
        // incomplete until they are replaced.
        drop(self.listening);

        let interrupted = self.interrupt.requested();
        self.recorder.append(&Record::End(Box::new(EndRecord::of(
            &self.run_record,
            interrupted,
        ))));
        if let Some(e) = self.recorder.take_error() {
            return Err(e);
        }
        // Under nextest every case is its own process: the records are merged afterwards
        // by `evalgate report`, so a lone process does not write (and clobber) the reports.
        let gate_failed = if crate::env::under_nextest() {
            false
        } else {
            report(&self.run_dir, &self.out_dir, verbosity, fence)?
        };
        Ok(if interrupted {
            interrupt::EXIT
        } else if has_failed || gate_failed {
            exit::FAILED
        } else {
            exit::PASS
        })
    }
}

/// Runs the selected tests, every one started at once (the agent sees `concurrency` calls
/// in flight), each one's line written the moment it finishes, as libtest writes them.
/// Whether a test failed.
fn run_tests(
    args: &Arguments,
    runner: &Runner,
    tests: &Tests,
    cases: &[Arc<Case>],
    tags: Option<&[String]>,
) -> Result<bool, Error> {
    let to_run = tests.to_run();
    let filtered_out = tests.filtered_out(cases, tags);
    let mut console = Console::start(args, tests.shown(), to_run.len(), filtered_out)?;
    for name in tests.ignored() {
        console.ignored(name);
    }
    runner.run_all(
        to_run.iter().map(|i| Arc::clone(&cases[*i])).collect(),
        console.redraw_every(),
        |event| match event {
            RunEvent::Tick => console.tick(),
            RunEvent::Finished(index, outcome) => {
                console.finished(&tests.names[to_run[index]], case_line(*outcome));
            }
        },
    );
    Ok(console.finish())
}

/// What the run's reports are computed from: its suite's policies and, after a full
/// discovery, the cases that are active.
fn run_policy(
    suite: &Suite,
    cases: &[Arc<Case>],
    full_discovery: bool,
    decay: Option<DecayContext>,
) -> RunPolicy {
    let active_cases =
        full_discovery.then(|| crate::case::discover::active_ids(cases.iter().map(|c| c.as_ref())));
    RunPolicy::new(
        suite.name.clone(),
        suite.catalog.clone(),
        suite.gates.clone(),
        active_cases,
        decay,
        suite.baseline.clone(),
        suite.signals.clone(),
    )
    .with_memory(suite.memory)
    .with_junit(suite.junit)
    .with_output(suite.output.clone())
}

/// Writes the reports of the run in `run_dir`, prints the terminal report, and publishes
/// to GitHub (the fence closed first: from here evalgate's own commands are obeyed).
/// Whether a gate failed the run.
fn report(
    run_dir: &Path,
    out_dir: &Path,
    verbosity: Verbosity,
    fence: Fence,
) -> Result<bool, Error> {
    let data = RunData::read(std::slice::from_ref(&run_dir.to_path_buf()))?;
    let (report, paths) = write_reports(&data, out_dir)?;
    eprintln!("{}", report.render_at(verbosity));
    if verbosity != Verbosity::Quiet {
        eprintln!("evalgate: records  {}", shown(run_dir));
        eprintln!("{}", paths.render());
    }
    fence.close();
    github::publish(&data, &report)?;
    Ok(report.gate_failed())
}

/// What a case's test shows: its verdict's line, or why it has none.
fn case_line(outcome: Result<CaseOutcome, String>) -> CaseLine {
    match outcome {
        Ok(outcome) => CaseLine {
            failed: outcome.failed(),
            samples: outcome.record.as_ref().map(|r| (r.passes, r.samples)),
            message: outcome.failed().then(|| outcome.message()),
        },
        Err(why) => CaseLine {
            failed: true,
            message: Some(why),
            samples: None,
        },
    }
}

/// The tags a run is limited to: `tag:<name>` as the filter (`cargo test -- tag:refunds`),
/// and `$EVALGATE_TAGS` (comma-separated, for nextest, which matches filters against test
/// names itself). A case runs when it has any of them. The `tag:` filter is taken out of
/// `args`, so libtest does not match it against names.
fn tags(args: &mut Arguments) -> Result<Option<Vec<String>>, Error> {
    let mut tags: Vec<String> = crate::env::tags()?.unwrap_or_default();
    if !args.exact
        && let Some(tag) = args.filter.as_deref().and_then(|f| f.strip_prefix("tag:"))
    {
        if tag.is_empty() {
            return Err(Error::Usage(
                "the filter `tag:` names no tag; write e.g. `tag:refunds`".into(),
            ));
        }
        tags.push(tag.to_string());
        args.filter = None;
    }
    Ok((!tags.is_empty()).then_some(tags))
}

/// The baseline each case is compared with while it runs, when the suite names one and it
/// can be found now. A pooled baseline with history off is refused before anything runs;
/// a baseline that cannot be found is left to the report, which says why after the run
/// (and fails the comparison) — meanwhile every case is judged by its rule.
fn run_baseline(
    suite: &Suite,
    out_dir: &Path,
    subject: &Subject,
) -> Result<Option<Arc<RunBaseline>>, Error> {
    let Some(policy) = &suite.baseline else {
        return Ok(None);
    };
    let history = history_path(suite.history.as_deref(), out_dir)?;
    if let (Some(branch), None) = (&policy.branch, &history) {
        return Err(Error::Usage(format!(
            "`baseline.branch: {branch}`{} pools the recent runs of `{branch}` from the history \
             store, but {}: keep history, or compare with a committed file only \
             (`baseline: {{path: baseline.json}}`, without `branch`)",
            policy
                .branch_at
                .as_deref()
                .map(|at| format!(" ({at})"))
                .unwrap_or_default(),
            crate::history::OFF_BECAUSE
        )));
    }
    let store = match (&policy.branch, &history) {
        (Some(_), Some(path)) => match HistoryStore::open(path) {
            Ok(store) => Some(store),
            // The report opens it again and says what is wrong.
            Err(_) => return Ok(None),
        },
        _ => None,
    };
    Ok(
        match crate::baseline::resolve(policy, subject, store.as_ref()) {
            Ok(Resolved::Found(baseline, _)) => Some(Arc::new(RunBaseline {
                baseline: *baseline,
                policy: policy.clone(),
            })),
            Ok(Resolved::FirstOfBranch(_)) | Err(_) => None,
        },
    )
}

/// `$EVALGATE_DIR`, else `$CARGO_MANIFEST_DIR/evals` (cargo and nextest set it), else `./evals`.
fn default_dir() -> Result<PathBuf, Error> {
    if let Some(dir) = crate::env::evals_dir()? {
        return Ok(dir);
    }
    if let Some(manifest) = crate::env::manifest_dir()? {
        return Ok(manifest.join("evals"));
    }
    Ok(PathBuf::from("evals"))
}

/// `$EVALGATE_OUT`, else `<cargo target dir>/evalgate`.
pub fn default_out_dir() -> Result<PathBuf, Error> {
    if let Some(dir) = crate::env::out_dir()? {
        return Ok(dir);
    }
    if let Some(dir) = crate::env::cargo_target_dir()? {
        return Ok(dir.join("evalgate"));
    }
    // A test binary lives in <target>/<profile>/deps/.
    if let Ok(exe) = std::env::current_exe()
        && let Some(deps) = exe.parent()
        && deps.file_name().is_some_and(|n| n == "deps")
        && let Some(target) = deps.parent().and_then(Path::parent)
    {
        return Ok(target.join("evalgate"));
    }
    Ok(PathBuf::from("target").join("evalgate"))
}

/// `$EVALGATE_RUN_ID`, else `$NEXTEST_RUN_ID` (so every nextest process of one run writes
/// into one folder), else a fresh id from the time and the process id.
fn run_id() -> Result<String, Error> {
    Ok(crate::env::run_id()?.unwrap_or_else(fresh_id))
}

/// A new run id: the time to the millisecond and the process id.
pub(crate) fn fresh_id() -> String {
    format!(
        "{}-{:x}",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    )
}

/// The runtime agent calls run on: two workers, whatever libtest's thread count.
pub(crate) fn async_runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("evalgate")
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

/// The suite's `concurrency`, overridden by `$EVALGATE_CONCURRENCY`, capped by an explicit
/// `--test-threads` (so `--test-threads=1` really runs one call at a time).
fn concurrency(suite: &Suite, args: &Arguments) -> Result<usize, Error> {
    let mut n = crate::env::concurrency()?.unwrap_or(suite.concurrency);
    if let Some(threads) = args.test_threads {
        n = n.min(threads.max(1));
    }
    Ok(n)
}
