//! `evalgate history` (runs, verdicts, export, import) and `evalgate baseline save`: the
//! history store read and written from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::HistoryCommand;
use crate::commands::runs::{learn_suite_cases, out_and_runs};
use evalgate::atomic_file::write_atomic;
use evalgate::baseline::Baseline;
use evalgate::errors::Error;
use evalgate::exit;
use evalgate::harness::default_out_dir;
use evalgate::history::HistoryStore;
use evalgate::record::RunData;
use evalgate::report::history_path;
use evalgate::suite::Suite;
use evalgate::terminal::printable;

pub(crate) fn history(
    command: HistoryCommand,
    db: Option<PathBuf>,
    dir: PathBuf,
    out: Option<PathBuf>,
) -> Result<ExitCode, Error> {
    let path = store_path(db, &dir, out)?;
    match command {
        HistoryCommand::Memory { before, after } => {
            let policy = if dir.is_dir() {
                Suite::load(&dir)?.memory
            } else {
                Default::default()
            };
            let store = existing_store(&path)?;
            return crate::commands::memory::compare_runs(&store, &before, &after, policy);
        }
        HistoryCommand::Export { to } => export(&path, to.as_deref())?,
        HistoryCommand::Import { files } => import(&path, &files)?,
        HistoryCommand::Runs => runs(&path)?,
    }
    Ok(ExitCode::from(exit::PASS))
}

/// `--db`, else the history file of the suite in `dir` under the output folder.
fn store_path(db: Option<PathBuf>, dir: &Path, out: Option<PathBuf>) -> Result<PathBuf, Error> {
    Ok(match db {
        Some(db) => db,
        None => {
            let out = match out {
                Some(out) => out,
                None => default_out_dir()?,
            };
            let suite = if dir.is_dir() {
                Some(Suite::load(dir)?)
            } else {
                None
            };
            match history_path(suite.as_ref().and_then(|s| s.history.as_deref()), &out)? {
                Some(path) => path,
                None => {
                    return Err(Error::Usage(
                        "EVALGATE_HISTORY=off: history is off; pass --db <file>".into(),
                    ));
                }
            }
        }
    })
}

/// `evalgate history export`: every record, as JSON Lines, to `to` or standard output.
fn export(path: &Path, to: Option<&Path>) -> Result<(), Error> {
    let store = existing_store(path)?;
    let lines = match to {
        Some(file) => {
            let mut buffer = Vec::new();
            let lines = store.export(&mut buffer)?;
            write_atomic(file, &buffer)?;
            lines
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            let lines = store.export(&mut lock)?;
            std::io::Write::flush(&mut lock)
                .map_err(|e| Error::write(std::path::Path::new("<stdout>"), e))?;
            lines
        }
    };
    eprintln!("evalgate: exported {lines} records from {}", path.display());
    Ok(())
}

/// `evalgate history import`: the JSON Lines files into the store (created if need be).
fn import(path: &Path, files: &[PathBuf]) -> Result<(), Error> {
    if files.is_empty() {
        return Err(Error::Usage(
            "nothing to import: pass one or more JSON Lines files".into(),
        ));
    }
    let mut store = HistoryStore::open(path)?;
    for file in files {
        let stats = store.import(file)?;
        eprintln!(
            "evalgate: imported {} runs, {} samples, {} cases from {} into {}",
            stats.runs,
            stats.samples,
            stats.cases,
            file.display(),
            path.display()
        );
    }
    Ok(())
}

/// `evalgate history runs`: one line per run in the store.
fn runs(path: &Path) -> Result<(), Error> {
    let store = existing_store(path)?;
    for run in store.runs()? {
        let checkout = match (&run.branch, &run.commit) {
            (Some(b), Some(c)) => format!("  {b}@{}", evalgate::baseline::short_commit(c)),
            (Some(b), None) => format!("  {b}"),
            (None, Some(c)) => format!("  @{}", evalgate::baseline::short_commit(c)),
            (None, None) => String::new(),
        };
        // The envelope holds versions the agent reported: escaped.
        println!(
            "{}  {}  {}{}  envelope {}: {}{}",
            run.started_at,
            printable(&run.run_id),
            printable(&run.suite),
            printable(&checkout),
            run.envelope_id,
            printable(&run.envelope.describe()),
            if run.partial {
                "  (partial: did not finish)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// The output folder (default: `$EVALGATE_OUT`, else target/evalgate) and the run folders
/// named (default: the latest run there).
pub(crate) fn baseline_save(
    run_dirs: Vec<PathBuf>,
    to: Option<PathBuf>,
    dir: PathBuf,
    out: Option<PathBuf>,
) -> Result<ExitCode, Error> {
    let (_, run_dirs) = out_and_runs(out, run_dirs)?;
    let mut data = RunData::read(&run_dirs)?;
    if dir.is_dir() {
        // A run of one process per case: the suite's cases it lacks are missing.
        learn_suite_cases(&mut data, Some(dir.clone()), false)?;
    }
    if let Some(tier) = data.runs.iter().find_map(|r| r.suite_tier.as_deref()) {
        return Err(Error::Usage(format!(
            "the run ran suite tier `{tier}` only; a baseline must be a run of the whole suite \
             (the cases the tier left out would compare as new, and their regressions pass)"
        )));
    }
    let summary = evalgate::report::Summary::new(&data);
    if summary.cases.is_empty() {
        return Err(Error::Usage(
            "no case records in the run; refusing to save an empty baseline".into(),
        ));
    }
    if let Some(why) = summary.completion.describe() {
        return Err(Error::Usage(format!(
            "{why}: a baseline must be a finished run (the cases without a result would \
             compare as new, and their regressions pass); run the suite again"
        )));
    }
    let path = match to {
        Some(to) => to,
        None => {
            let suite = Suite::load(&dir)?;
            match suite.baseline.and_then(|b| b.path) {
                Some(path) => path,
                None => {
                    return Err(Error::Usage(format!(
                        "{} names no `baseline.path`; pass --to <file>",
                        dir.display()
                    )));
                }
            }
        }
    };
    let suite = data
        .runs
        .first()
        .map(|r| r.suite.clone())
        .unwrap_or_default();
    let envelope = evalgate::envelope::RunEnvelope::of_run(&data.runs, &data.samples).id;
    let axes = data
        .runs
        .iter()
        .find(|r| !r.axes.is_empty())
        .map(|r| r.axes.clone())
        .unwrap_or_default();
    Baseline::of(&suite, envelope, &axes, &summary.cases, &data.samples).save(&path)?;
    eprintln!(
        "evalgate: saved the baseline of {} cases to {}",
        summary.cases.len(),
        path.display()
    );
    Ok(ExitCode::from(exit::PASS))
}

/// The store at `path` for reading: a command that only reads never creates one.
fn existing_store(path: &Path) -> Result<HistoryStore, Error> {
    if !path.exists() {
        return Err(Error::Usage(format!(
            "no history store at {}; run a suite first or pass --db",
            path.display()
        )));
    }
    HistoryStore::open(path)
}
