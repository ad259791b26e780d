//! The `evalgate` command: the same run outside cargo, and the commands that are not a
//! test run (rebuilding reports from records, the demo agent).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::runs::{latest_run, learn_suite_cases, out_and_runs};
use crate::demo::DemoVersion;
use evalgate::coverage::{stamp, suggest};
use evalgate::errors::Error;
use evalgate::exit;
use evalgate::harness::{Harness, default_out_dir};
use evalgate::output::Verbosity;
use evalgate::record::RunData;
use evalgate::report::github::{self, Fence};
use evalgate::report::write_reports;
use evalgate::suite::Suite;

#[derive(Parser, Debug)]
#[command(
    name = "evalgate",
    version,
    about = "Eval cases for LLM agents, run as tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a suite, like `cargo test` does: `evalgate run [DIR] [-- FILTER --exact ...]`.
    Run {
        /// The evals folder (holding evalgate.yaml and cases/).
        #[arg(default_value = "evals")]
        dir: PathBuf,
        /// Where records and reports go (default: $EVALGATE_OUT, else target/evalgate).
        #[arg(long)]
        out: Option<PathBuf>,
        /// libtest arguments: a filter, --exact, --skip, --ignored, --list, --test-threads...
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Rebuild every report from run records (merging nextest processes and CI shards).
    Report {
        /// Run folders (target/evalgate/runs/<run id>); default: the latest run.
        run_dirs: Vec<PathBuf>,
        /// Where reports go (default: $EVALGATE_OUT, else target/evalgate).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The evals folder, to learn the suite's cases when every process ran with
        /// --exact (nextest); default: $EVALGATE_DIR, else ./evals when it exists.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The run folders are the shards of one run (CI matrix jobs): merge them into one
        /// report. Folders of different runs or suites are refused.
        #[arg(long)]
        merge: bool,
        /// The run was filtered on purpose (every process ran one case, as under nextest):
        /// suite cases it did not run are not missing. Without it they make the run
        /// incomplete, as when a nextest run was cancelled.
        #[arg(long)]
        partial: bool,
    },
    /// The planner's branch catalog: propose one, or record that it was re-reviewed.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Run a suite against the embedded demo support agent, served over HTTP on 127.0.0.1.
    Demo {
        /// The evals folder.
        #[arg(default_value = "evals")]
        dir: PathBuf,
        /// Which demo agent version to serve (v1 or v2).
        #[arg(long, default_value = "v1")]
        agent_version: DemoVersion,
        /// First record a quiet run of this other demo agent version into the history
        /// store, so decay detection has two envelopes to compare (`none` to skip).
        #[arg(long, default_value = "v2")]
        compare_with: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Serve the demo agent on 127.0.0.1 until interrupted (for trying targets by hand).
    ServeDemo {
        #[arg(long, default_value = "v1")]
        agent_version: DemoVersion,
    },
    /// Take K more samples of one case to test a hypothesis written down first; kept in
    /// history and listed in every later report (no silent reruns).
    Rerun {
        /// The case id (as in the test name after `evalgate::`).
        case: String,
        /// How many independent samples to take.
        #[arg(long)]
        runs: u32,
        /// Why the case should now behave differently, in a sentence. Required.
        #[arg(long)]
        hypothesis: Option<String>,
        /// The pass rate the hypothesis predicts (0..=1), tested against the outcome.
        #[arg(long)]
        expect_rate: Option<f64>,
        /// The evals folder.
        #[arg(long, default_value = "evals")]
        dir: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Serve the embedded demo agent (v1 or v2) for the suite's target, as `evalgate
        /// demo` does.
        #[arg(long)]
        demo: Option<DemoVersion>,
    },
    /// The baseline pull requests are compared with.
    Baseline {
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Find which axes of the version envelope (model, prompt, tools, index, sampling) a
    /// regression needs, alone or together: `evalgate bisect --good A.yaml --bad B.yaml`.
    Bisect(crate::commands::bisect::BisectArgs),
    /// Turn support-ticket exports into draft cases (redacted, grouped, never overwriting):
    /// `evalgate import zendesk tickets.json comments.json`.
    Import(crate::commands::import::ImportArgs),
    /// Production cost per customer from a usage log (JSON Lines): the share of the
    /// costliest customers, the Gini coefficient, the Lorenz curve, customers costing more
    /// than they bring.
    Cost(crate::commands::cost::CostArgs),
    /// What each case of a run costs (tokens, money, time) and contributes (branches only
    /// it reaches, failures caught in history, decay findings); the redundant cases.
    Economics(crate::commands::economics::RunArgs),
    /// Write a suite tier (evals/tiers/<name>.yaml): the cheapest set of cases that keeps
    /// every branch the run reached covered, to run on pull requests with
    /// EVALGATE_SUITE_TIER=<name>.
    Select(crate::commands::economics::SelectArgs),
    /// How many samples each case needs for the pull-request gate to see a drop with a
    /// given power, and what a run will cost, from the history of the baseline branch.
    Plan(crate::commands::plan::PlanArgs),
    /// The run-history store: move it between CI runs as JSON Lines, list its runs.
    History {
        #[command(subcommand)]
        command: HistoryCommand,
        /// The store (default: $EVALGATE_HISTORY, else the suite's `history.path`, else
        /// history.sqlite in the output folder).
        #[arg(long, global = true)]
        db: Option<PathBuf>,
        /// The evals folder whose `history.path` to use.
        #[arg(long, global = true, default_value = "evals")]
        dir: PathBuf,
        /// The output folder (default: $EVALGATE_OUT, else target/evalgate).
        #[arg(long, global = true)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum BaselineCommand {
    /// Save a run's per-case results as the baseline (on the main branch; commit the file).
    Save {
        /// Run folders (default: the latest run).
        run_dirs: Vec<PathBuf>,
        /// Where to write it (default: the suite's `baseline.path`).
        #[arg(long)]
        to: Option<PathBuf>,
        /// The evals folder.
        #[arg(long, default_value = "evals")]
        dir: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum HistoryCommand {
    /// Write the whole history as JSON Lines (the same lines as run record files).
    Export {
        /// The file to write (default: standard output).
        #[arg(long = "to")]
        to: Option<PathBuf>,
    },
    /// Add the records of JSON Lines files (an export, or run record files) to the store;
    /// each file is imported whole or not at all, and importing twice changes nothing.
    Import { files: Vec<PathBuf> },
    /// List the runs in the store, newest first, with their envelopes.
    Runs,
    /// Compare the memory of two runs (retained sets per turn, recall probes), as a run's
    /// report does against its reference; exit 1 when a case's effective past changed.
    Memory {
        /// The earlier run's id (`evalgate history runs`).
        before: String,
        /// The later run's id.
        after: String,
    },
}

#[derive(Subcommand, Debug)]
enum CatalogCommand {
    /// Print a proposed catalog (YAML) from a tools JSON and the decisions in run records.
    Suggest {
        /// An OpenAI-style tools JSON: every tool becomes a branch of `tool`.
        #[arg(long)]
        tools: Option<PathBuf>,
        /// Run folders whose decisions to include; `--latest` takes the latest run.
        #[arg(long = "run")]
        runs: Vec<PathBuf>,
        /// Include the decisions of the latest run under the output folder.
        #[arg(long)]
        latest: bool,
        /// The evals folder (paths in `sources:` are written relative to it).
        #[arg(long, default_value = "evals")]
        dir: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// After re-reviewing the catalog against its changed source files: write their
    /// current SHA-256 and today's date as `reviewed:`.
    Stamp {
        #[arg(default_value = "evals")]
        dir: PathBuf,
    },
}

/// The entry point of the `evalgate` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { dir, out, args } => Ok(harness(dir, out, args).run()),
        Command::Report {
            run_dirs,
            out,
            dir,
            merge,
            partial,
        } => {
            if merge && run_dirs.is_empty() {
                Err(Error::Usage(
                    "--merge needs the shards' run folders, e.g. `evalgate report --merge shards/*/runs/*`"
                        .into(),
                ))
            } else {
                report(run_dirs, out, dir, merge, partial)
            }
        }
        Command::Catalog { command } => catalog(command),
        Command::Demo {
            dir,
            agent_version,
            compare_with,
            out,
            args,
        } => demo(dir, agent_version, &compare_with, out, args),
        Command::ServeDemo { agent_version } => serve_demo(agent_version),
        Command::Rerun {
            case,
            runs,
            hypothesis,
            expect_rate,
            dir,
            out,
            demo,
        } => rerun(case, runs, hypothesis, expect_rate, dir, out, demo),
        Command::Baseline {
            command:
                BaselineCommand::Save {
                    run_dirs,
                    to,
                    dir,
                    out,
                },
        } => crate::commands::history::baseline_save(run_dirs, to, dir, out),
        Command::History {
            command,
            db,
            dir,
            out,
        } => crate::commands::history::history(command, db, dir, out),
        Command::Bisect(args) => crate::commands::bisect::run(args),
        Command::Import(args) => crate::commands::import::run(args),
        Command::Cost(args) => crate::commands::cost::run(args),
        Command::Economics(args) => crate::commands::economics::run(args),
        Command::Select(args) => crate::commands::economics::select(args),
        Command::Plan(args) => crate::commands::plan::run(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {}", e.render());
        ExitCode::from(e.exit_code())
    })
}

fn harness(dir: PathBuf, out: Option<PathBuf>, args: Vec<String>) -> Harness {
    let mut harness = Harness::new().dir(dir).args(args).standalone();
    if let Some(out) = out {
        harness = harness.out_dir(out);
    }
    harness
}

fn report(
    run_dirs: Vec<PathBuf>,
    out: Option<PathBuf>,
    dir: Option<PathBuf>,
    merge: bool,
    partial: bool,
) -> Result<ExitCode, Error> {
    let (out, run_dirs) = out_and_runs(out, run_dirs)?;
    let mut data = RunData::read(&run_dirs)?;
    if data.cases.is_empty() && data.samples.is_empty() {
        return Err(Error::Usage(format!(
            "no run records in {}; refusing to report \"0 tests passed\"",
            run_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for line in &data.skipped_lines {
        eprintln!("evalgate: warning: skipped a record line cut short by a crash: {line}");
    }
    learn_suite_cases(&mut data, dir, partial)?;
    let verbosity =
        Verbosity::resolve(false, data.policy.as_ref().and_then(|p| p.output.verbosity))?;
    let (report, paths) = write_reports(&data, &out)?;
    // Failure messages quote agent output: under GitHub Actions none of it is a command.
    let fence = Fence::open();
    // An incomplete run says so first, before any failure it holds.
    eprint!("{}", report.summary.headline());
    for case in report.summary.cases.iter().filter(|c| c.failed) {
        eprintln!(
            "--- {} [{}] {}:{}",
            case.case, case.verdict, case.file, case.line
        );
        if let Some(message) = &case.message {
            eprintln!("{message}");
        }
    }
    eprintln!("{}", report.render_after_headline_at(verbosity));
    if verbosity != Verbosity::Quiet {
        eprintln!("{}", paths.render());
    }
    fence.close();
    github::publish(&data, &report)?;
    // Merged shards are meant to be the whole suite: one missing shard would otherwise
    // skip every coverage and signal gate and pass.
    if merge && let Some(why) = &report.partial {
        return Err(Error::Usage(format!(
            "the merged shards are not the whole suite: {why}; is a shard's run folder missing? \
             (the reports were written; coverage and signal gates were not applied)"
        )));
    }
    Ok(ExitCode::from(if report.has_failed() {
        exit::FAILED
    } else {
        exit::PASS
    }))
}

fn catalog(command: CatalogCommand) -> Result<ExitCode, Error> {
    match command {
        CatalogCommand::Suggest {
            tools,
            runs,
            latest,
            dir,
            out,
        } => {
            let mut run_dirs = runs;
            if latest {
                let out = match out {
                    Some(out) => out,
                    None => default_out_dir()?,
                };
                run_dirs.push(latest_run(&out)?);
            }
            let data = if run_dirs.is_empty() {
                None
            } else {
                Some(RunData::read(&run_dirs)?)
            };
            if tools.is_none() && data.is_none() {
                return Err(Error::Usage(
                    "nothing to suggest from: pass --tools <tools.json> and/or --run <run dir> / --latest"
                        .into(),
                ));
            }
            let shown = tools.as_deref().map(|t| relative_to(t, &dir));
            let samples = data.as_ref().map(|d| {
                d.samples
                    .iter()
                    .map(|s| (s.case.as_str(), s.decisions.as_slice()))
            });
            let yaml = suggest(tools.as_deref().zip(shown.as_deref()), samples)?;
            print!("{yaml}");
            Ok(ExitCode::from(exit::PASS))
        }
        CatalogCommand::Stamp { dir } => {
            for line in stamp(&dir)? {
                eprintln!("evalgate: {line}");
            }
            Ok(ExitCode::from(exit::PASS))
        }
    }
}

/// `path` as written relative to `dir` (for `sources:`), e.g. `../prompts/planner.md`.
fn relative_to(path: &std::path::Path, dir: &std::path::Path) -> String {
    let abs = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (path, dir) = (abs(path), abs(dir));
    let common = path
        .components()
        .zip(dir.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = dir.components().count() - common;
    let mut rel = PathBuf::new();
    for _ in 0..ups {
        rel.push("..");
    }
    for part in path.components().skip(common) {
        rel.push(part);
    }
    rel.to_string_lossy().replace('\\', "/")
}

fn rerun(
    case: String,
    runs: u32,
    hypothesis: Option<String>,
    expect_rate: Option<f64>,
    dir: PathBuf,
    out: Option<PathBuf>,
    demo: Option<DemoVersion>,
) -> Result<ExitCode, Error> {
    let (Some(hypothesis), Some(expect_rate)) = (hypothesis, expect_rate) else {
        return Err(Error::Usage(
            "a rerun needs a hypothesis written down before it runs, and the pass rate it \
             predicts: --hypothesis \"the retry fix makes refunds pass\" --expect-rate 0.9 \
             (reruns without one are how flaky cases get rerolled to green)"
                .into(),
        ));
    };
    let mut overrides = evalgate::target::Overrides::default();
    let demo = demo.map(crate::demo::serve).transpose()?;
    if let Some((_, server)) = &demo {
        overrides
            .0
            .insert("EVALGATE_AGENT_URL".into(), server.url().to_string());
    }
    let out_dir = match out {
        Some(out) => out,
        None => default_out_dir()?,
    };
    let record = evalgate::rerun::rerun(&evalgate::rerun::RerunRequest {
        dir,
        out_dir,
        case,
        runs,
        hypothesis,
        expect_rate,
        overrides,
    })?;
    drop(demo);
    eprintln!("{}", evalgate::rerun::render(&record));
    Ok(ExitCode::from(match record.consistent {
        Some(true) => exit::PASS,
        _ => exit::FAILED,
    }))
}

fn demo(
    dir: PathBuf,
    version: DemoVersion,
    compare_with: &str,
    out: Option<PathBuf>,
    args: Vec<String>,
) -> Result<ExitCode, Error> {
    // Before the other version's run, whose failure would hide why behind an internal
    // error: the demo needs a suite.
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: no evals folder here; `evalgate demo` runs a suite against the demo agent — \
             by default the demo suite in `evals/` of a clone of the evalgate repository: run \
             it there (`cargo run -- demo`), or pass a suite folder (`evalgate demo DIR`)",
            dir.display()
        )));
    }
    Suite::load(&dir)?;
    if compare_with != "none" {
        let other: DemoVersion = compare_with.parse().map_err(|e: String| {
            Error::Usage(format!("--compare-with {compare_with}: {e} (or `none`)"))
        })?;
        if other != version {
            record_other_version(&dir, other, out.as_deref())?;
        }
    }
    let (_runtime, server) = crate::demo::serve(version)?;
    eprintln!(
        "evalgate: demo agent {} ({}) listening on {}",
        version.as_str(),
        version.model(),
        server.url()
    );
    let code = harness(dir, out, args)
        .var("EVALGATE_AGENT_URL", server.url())
        .run();
    drop(server);
    Ok(code)
}

/// Runs the suite against `other` in a child process whose output is dropped: its records
/// land in the history store like any run's, under `other`'s envelope, and the run that
/// follows is judged against them. Its verdicts are not this run's, so its exit code only
/// matters when it says the suite itself is broken.
fn record_other_version(
    dir: &std::path::Path,
    other: DemoVersion,
    out: Option<&std::path::Path>,
) -> Result<(), Error> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::Internal(format!("cannot find the evalgate binary: {e}")))?;
    let mut command = std::process::Command::new(exe);
    command.arg("demo").arg(dir).args([
        "--agent-version",
        other.as_str(),
        "--compare-with",
        "none",
    ]);
    if let Some(out) = out {
        command.arg("--out").arg(out);
    }
    // Its reports are not this command's: no step summary, no annotations.
    command
        .env_remove("EVALGATE_RUN_ID")
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    eprintln!(
        "evalgate: recording a run of demo agent {} ({}) into history first, for decay to compare",
        other.as_str(),
        other.model()
    );
    let output = command
        .output()
        .map_err(|e| Error::Internal(format!("cannot run the demo agent {other}: {e}")))?;
    match output.status.code() {
        Some(c) if c == i32::from(exit::PASS) || c == i32::from(exit::FAILED) => Ok(()),
        _ => Err(Error::Internal(format!(
            "the run of demo agent {other} failed ({}); its last lines:\n{}",
            output.status,
            {
                let stderr = String::from_utf8_lossy(&output.stderr);
                let lines: Vec<&str> = stderr.lines().collect();
                lines[lines.len().saturating_sub(5)..].join("\n")
            }
        ))),
    }
}

fn serve_demo(version: DemoVersion) -> Result<ExitCode, Error> {
    let (runtime, server) = crate::demo::serve(version)?;
    runtime.block_on(async {
        println!("{}", server.url());
        eprintln!(
            "evalgate: demo agent {} serving POST {}/v1/agent and {}/v1/chat/completions; Ctrl-C stops it",
            version.as_str(),
            server.url(),
            server.url()
        );
        let _ = tokio::signal::ctrl_c().await;
        drop(server);
        Ok(ExitCode::from(exit::PASS))
    })
}
