//! `evalgate economics` (what each case costs and contributes) and `evalgate select`
//! (a suite tier that keeps every branch covered), both from a run's records.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::runs::{learn_suite_cases, out_and_runs};
use crate::economics::{self, Economics};
use evalgate::atomic_file::write_atomic;
use evalgate::case::{SuiteTier, TIER_ENV, tier_path};
use evalgate::errors::Error;
use evalgate::exit;
use evalgate::history::HistoryStore;
use evalgate::record::RunData;
use evalgate::report::github::append_step_summary;
use evalgate::report::write_reports;
use evalgate::suite::Suite;
use evalgate::terminal::{printable, shown};

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// Run folders (target/evalgate/runs/<run id>); default: the latest run.
    run_dirs: Vec<PathBuf>,
    /// The evals folder.
    #[arg(long, default_value = "evals")]
    dir: PathBuf,
    /// The output folder (default: $EVALGATE_OUT, else target/evalgate).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct SelectArgs {
    /// What the tier must keep covered: `branches` (every planner branch the run reached).
    #[arg(long)]
    cover: String,
    /// The tier's name: written to <dir>/tiers/<name>.yaml, run with EVALGATE_SUITE_TIER=<name>.
    #[arg(long = "out")]
    name: String,
    /// Run folders (target/evalgate/runs/<run id>); default: the latest run (of
    /// $EVALGATE_OUT, else target/evalgate).
    run_dirs: Vec<PathBuf>,
    /// The evals folder.
    #[arg(long, default_value = "evals")]
    dir: PathBuf,
}

/// A run's records, its report and the history of the suite's verdicts.
fn economics_of(args: &RunArgs) -> Result<(RunData, Economics), Error> {
    let (out, run_dirs) = out_and_runs(args.out.clone(), args.run_dirs.clone())?;
    let mut data = RunData::read(&run_dirs)?;
    if data.cases.is_empty() {
        return Err(Error::Usage(format!(
            "no case records in {}; run the suite first",
            run_dirs
                .iter()
                .map(|d| shown(d))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    learn_suite_cases(&mut data, Some(args.dir.clone()), false)?;
    let (report, paths) = write_reports(&data, &out)?;
    let history = match &paths.history {
        Some(path) => {
            let suite = data
                .runs
                .first()
                .map(|r| r.suite.clone())
                .unwrap_or_default();
            Some(HistoryStore::open(path)?.case_verdicts_of(&suite)?)
        }
        None => None,
    };
    if let Some(tier) = data.runs.iter().find_map(|r| r.suite_tier.as_deref()) {
        return Err(Error::Usage(format!(
            "the run ran suite tier `{tier}` only: what a case alone covers is a question about \
             the whole suite; use a run of every case"
        )));
    }
    if let Some(why) = &report.partial {
        return Err(Error::Usage(format!(
            "the run is not the whole suite ({why}): what a case alone covers cannot be told \
             from part of the suite; run every case first"
        )));
    }
    let economics = Economics::of(&data, &report, history.as_deref());
    Ok((data, economics))
}

pub(crate) fn run(args: RunArgs) -> Result<ExitCode, Error> {
    let (_, economics) = economics_of(&args)?;
    let cover = economics.cover();
    let out = match &args.out {
        Some(out) => out.clone(),
        None => evalgate::harness::default_out_dir()?,
    };
    std::fs::create_dir_all(&out).map_err(|e| Error::write(&out, e))?;
    let path = evalgate::layout::Layout::new(&out).economics();
    let json = serde_json::to_vec_pretty(&serde_json::json!({
        "economics": economics,
        "branch_cover": cover,
    }))
    .expect("economics serialise");
    write_atomic(&path, &json)?;
    print!("{}", economics::terminal(&economics, &cover));
    println!("economics: {}", shown(&path));
    append_step_summary(&economics::markdown(&economics, &cover))?;
    Ok(ExitCode::from(exit::PASS))
}

pub(crate) fn select(args: SelectArgs) -> Result<ExitCode, Error> {
    if args.cover != "branches" {
        return Err(Error::Usage(format!(
            "--cover {}: the only cover is `branches` (every planner branch the run reached)",
            args.cover
        )));
    }
    let suite = Suite::load(&args.dir)?;
    let path = tier_path(&suite, &args.name).map_err(Error::Usage)?;
    // A tier file a person wrote is theirs: only one this command wrote is replaced.
    if let Ok(existing) = std::fs::read_to_string(&path)
        && !existing.starts_with(&header(&args.name))
    {
        return Err(Error::Usage(format!(
            "{} exists and was not written by `evalgate select`; move it away or choose \
             another --out name",
            shown(&path)
        )));
    }
    let (_, economics) = economics_of(&RunArgs {
        run_dirs: args.run_dirs,
        dir: args.dir,
        out: None,
    })?;
    let cover = economics.cover();
    if cover.cases.is_empty() {
        return Err(Error::Usage(
            "no case of the run reached a planner branch: there is nothing to cover (do the \
             agent's samples report decisions?)"
                .into(),
        ));
    }
    let mut yaml = String::new();
    let _ = writeln!(
        yaml,
        "{} on {} from run {}.",
        header(&args.name),
        jiff::Zoned::now().date(),
        economics.run_id
    );
    let _ = writeln!(
        yaml,
        "# {} of {} cases reach, in every sample, all {} branches the run so reached, for {} \
         per run ({}); run it with {TIER_ENV}={}.",
        cover.cases.len(),
        economics.cases.len(),
        cover.branches,
        economics::cover_cost(&cover),
        economics::cover_choice(&cover),
        args.name
    );
    yaml.push_str("cases:\n");
    for case in &cover.cases {
        let _ = writeln!(yaml, "  - {}", crate::tickets::quoted(case));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
    }
    write_atomic(&path, yaml.as_bytes())?;
    let tier = SuiteTier::load(&suite, &args.name)?;
    print!("{}", economics::terminal(&economics, &cover));
    println!(
        "suite tier `{}`: {} case(s) for {} per run written to {}; run it with {TIER_ENV}={} cargo test (or cargo nextest run)",
        printable(&args.name),
        tier.cases.len(),
        economics::cover_cost(&cover),
        shown(&path),
        printable(&args.name)
    );
    Ok(ExitCode::from(exit::PASS))
}

/// The first words of a tier file `evalgate select` wrote.
fn header(name: &str) -> String {
    format!("# Suite tier `{name}`, written by `evalgate select --cover branches --out {name}`")
}
