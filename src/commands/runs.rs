//! Finding a run's records for the commands that read them (`report`, `economics`,
//! `select`, `baseline save`): the run folders, and the suite's whole case list when the
//! processes that wrote them did not know it.

use std::path::PathBuf;

use evalgate::case::{Selection, SuiteTier, discover};
use evalgate::errors::Error;
use evalgate::harness::default_out_dir;
use evalgate::record::RunData;
use evalgate::suite::Suite;

/// When every process ran one case with `--exact` (nextest), none knew the suite's full
/// case list nor its decay facts; discover them from the evals folder so coverage gates can
/// tell a whole run from a partial one, and decay is judged on every case.
///
/// When every process ran one case (nextest), the cases learnt are also what the run is
/// `expected` to hold — unless `partial`: the user says it was filtered — so a case whose
/// process never started (a cancelled nextest run, `--max-fail`) makes the run incomplete.
pub(crate) fn learn_suite_cases(
    data: &mut RunData,
    dir: Option<PathBuf>,
    partial: bool,
) -> Result<(), Error> {
    let Some(policy) = data.policy.as_mut() else {
        return Ok(());
    };
    if policy.cases.is_some() && policy.decay.is_some() {
        return Ok(());
    }
    let dir = match dir {
        Some(dir) => dir,
        None => match evalgate::env::evals_dir()? {
            Some(dir) => dir,
            None if std::path::Path::new("evals").is_dir() => PathBuf::from("evals"),
            None => return Ok(()),
        },
    };
    let suite = Suite::load(&dir)?;
    if suite.name != policy.suite {
        return Err(Error::Usage(format!(
            "{} holds suite `{}`, but the records are of suite `{}`; pass --dir <its evals folder>",
            dir.display(),
            suite.name,
            policy.suite
        )));
    }
    let (cases, _) = discover(&suite, Selection::All)?;
    if policy.cases.is_none() {
        // A run of a suite tier is whole when it ran the tier's cases.
        let tier = data.runs.iter().find_map(|r| r.suite_tier.as_deref());
        let ran = match tier {
            Some(name) => SuiteTier::load(&suite, name)?.select(cases.clone())?,
            None => cases.clone(),
        };
        policy.cases = Some(evalgate::case::discover::active_ids(&ran));
        if !partial {
            data.expected = policy.cases.clone();
        }
    }
    if policy.decay.is_none() {
        policy.decay = Some(evalgate::decay::context(&suite, &cases)?);
    }
    Ok(())
}

/// The output folder and the run folders: the given ones, else the latest run.
pub(crate) fn out_and_runs(
    out: Option<PathBuf>,
    run_dirs: Vec<PathBuf>,
) -> Result<(PathBuf, Vec<PathBuf>), Error> {
    let out = match out {
        Some(out) => out,
        None => default_out_dir()?,
    };
    let run_dirs = if run_dirs.is_empty() {
        vec![latest_run(&out)?]
    } else {
        run_dirs
    };
    Ok((out, run_dirs))
}

/// The most recently modified run folder under `out/runs`.
pub(crate) fn latest_run(out: &std::path::Path) -> Result<PathBuf, Error> {
    let runs = evalgate::layout::Layout::new(out).runs();
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
