//! The `evalgate` command: the same run outside cargo, and the commands that are not a
//! test run (rebuilding reports from records, the demo agent).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::demo::{DemoAgent, DemoServer, DemoVersion};
use crate::errors::Error;
use crate::exit;
use crate::harness::{Harness, default_out_dir};
use crate::record::RunData;
use crate::report::write_reports;

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
    },
    /// Run a suite against the embedded demo support agent, served over HTTP on 127.0.0.1.
    Demo {
        /// The evals folder.
        #[arg(default_value = "evals")]
        dir: PathBuf,
        /// Which demo agent version to serve (v1 or v2).
        #[arg(long, default_value = "v1")]
        agent_version: DemoVersion,
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
}

/// The entry point of the `evalgate` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { dir, out, args } => Ok(harness(dir, out, args).run()),
        Command::Report { run_dirs, out } => report(run_dirs, out),
        Command::Demo {
            dir,
            agent_version,
            out,
            args,
        } => demo(dir, agent_version, out, args),
        Command::ServeDemo { agent_version } => serve_demo(agent_version),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {}", e.render());
        ExitCode::from(e.exit_code())
    })
}

fn harness(dir: PathBuf, out: Option<PathBuf>, args: Vec<String>) -> Harness {
    let mut harness = Harness::new().dir(dir).args(args);
    if let Some(out) = out {
        harness = harness.out_dir(out);
    }
    harness
}

fn report(run_dirs: Vec<PathBuf>, out: Option<PathBuf>) -> Result<ExitCode, Error> {
    let out = match out {
        Some(out) => out,
        None => default_out_dir()?,
    };
    let run_dirs = if run_dirs.is_empty() {
        vec![latest_run(&out)?]
    } else {
        run_dirs
    };
    let data = RunData::read(&run_dirs)?;
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
    let (summary, paths) = write_reports(&data, &out)?;
    for case in summary.cases.iter().filter(|c| c.failed) {
        eprintln!(
            "--- {} [{}] {}:{}",
            case.case, case.verdict, case.file, case.line
        );
        if let Some(message) = &case.message {
            eprintln!("{message}");
        }
    }
    eprintln!("{}", summary.render());
    eprintln!("evalgate: junit   {}", paths.junit.display());
    Ok(ExitCode::from(if summary.has_failed() {
        exit::FAILED
    } else {
        exit::PASS
    }))
}

/// The most recently modified run folder under `out/runs`.
fn latest_run(out: &std::path::Path) -> Result<PathBuf, Error> {
    let runs = out.join("runs");
    let entries = std::fs::read_dir(&runs).map_err(|e| {
        Error::Usage(format!(
            "no runs under {} ({e}); run the suite first",
            runs.display()
        ))
    })?;
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
        .ok_or_else(|| Error::Usage(format!("no runs under {}", runs.display())))
}

fn demo_runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

fn demo(
    dir: PathBuf,
    version: DemoVersion,
    out: Option<PathBuf>,
    args: Vec<String>,
) -> Result<ExitCode, Error> {
    let runtime = demo_runtime()?;
    let server = runtime
        .block_on(DemoServer::start(Arc::new(DemoAgent::new(version))))
        .map_err(|e| Error::Internal(format!("cannot start the demo agent: {e}")))?;
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

fn serve_demo(version: DemoVersion) -> Result<ExitCode, Error> {
    let runtime = demo_runtime()?;
    runtime.block_on(async {
        let server = DemoServer::start(Arc::new(DemoAgent::new(version)))
            .await
            .map_err(|e| Error::Internal(format!("cannot start the demo agent: {e}")))?;
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
