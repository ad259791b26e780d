//! `evalgate cost <usage.jsonl> --by customer`: how concentrated production cost is.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::usage::{self, GroupBy};
use evalgate::errors::Error;
use evalgate::exit;
use evalgate::harness::default_out_dir;
use evalgate::report::github::append_step_summary;
use evalgate::suite::Suite;
use evalgate::terminal::shown;

#[derive(clap::Args, Debug)]
pub(crate) struct CostArgs {
    /// The usage log: JSON Lines, one production call per line (`customer`, `model`,
    /// `input_tokens`, `output_tokens`, optional `revenue_usd`).
    usage: PathBuf,
    /// `customer` or `model`.
    #[arg(long, default_value = "customer")]
    by: String,
    /// The evals folder, whose suite file has the `prices:` table.
    #[arg(long, default_value = "evals")]
    dir: PathBuf,
    /// Where cost.json, customers.csv, lorenz.svg and summary.md go (default:
    /// $EVALGATE_OUT/cost, else target/evalgate/cost).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn run(args: CostArgs) -> Result<ExitCode, Error> {
    let by: GroupBy = args.by.parse().map_err(Error::Usage)?;
    let suite = Suite::load(&args.dir)?;
    if suite.signals.prices.is_empty() {
        return Err(Error::Usage(format!(
            "{} has no `prices:` table: add the USD per million tokens of each model the usage log names",
            shown(&suite.dir)
        )));
    }
    let report = usage::analyse(&args.usage, by, &suite.signals.prices)?;
    let out = match args.out {
        Some(out) => out,
        None => evalgate::layout::Layout::new(default_out_dir()?).cost(),
    };
    let paths = usage::write_outputs(&report, &out)?;
    println!("{}", usage::terminal(&report).trim_end());
    for (what, path) in [
        ("cost", &paths.json),
        ("every customer", &paths.csv),
        ("Lorenz curve", &paths.svg),
        ("step summary", &paths.summary),
    ] {
        println!("{what}: {}", shown(path));
    }
    append_step_summary(&usage::markdown(&report))?;
    Ok(ExitCode::from(exit::PASS))
}

/// The heavy-tail customers named by a `cost.json` of `evalgate cost --by customer`.
pub(crate) fn heavy_tail_customers(path: &Path) -> Result<HashSet<String>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read {} ({e}); --heavy-tail takes the cost.json of `evalgate cost --by customer`",
            path.display()
        ))
    })?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{} is not JSON: {e}", path.display())))?;
    if json["by"] != "customer" {
        return Err(Error::Usage(format!(
            "{} is not a cost report by customer (`evalgate cost --by customer`)",
            path.display()
        )));
    }
    let ids = json["heavy_tail"]
        .as_array()
        .ok_or_else(|| Error::Usage(format!("{} has no `heavy_tail` list", path.display())))?;
    Ok(ids
        .iter()
        .filter_map(|id| id.as_str().map(str::to_string))
        .collect())
}
