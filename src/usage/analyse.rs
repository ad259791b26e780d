//! The entry point: the usage file streamed through a worker per core (the machinery of
//! `evalgate::decay`'s representativeness analysis), the workers' tallies merged, and the
//! result turned into a [`CostConcentration`].

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use super::concentration::{self, CostConcentration};
use super::group_by::GroupBy;
use super::tally::UsageTally;
use evalgate::decay::{BatchReader, fan_out, one_per_core};
use evalgate::errors::Error;
use evalgate::signals::Price;
use evalgate::terminal::printable;

/// How the file is cut and spread over threads; only tests change it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Streaming {
    pub(crate) workers: usize,
    /// None: the reader's default.
    pub(crate) lines_per_batch: Option<usize>,
}

/// Reads the usage file at `path` (JSON Lines, one production call per line: `customer`,
/// `model`, `input_tokens`/`prompt_tokens`, `output_tokens`/`completion_tokens`, optional
/// `revenue_usd`) and reports how concentrated the cost is across `by`, at `prices` (USD
/// per million tokens). A line that is not such a call is a counted warning, never an
/// error. Errors: the file cannot be read, or not one line of it is a priced call.
///
/// Memory grows with the number of distinct customers (and models), never with the number
/// of lines: one entry per customer per worker thread while reading, and the final table
/// of every customer (which `customers.csv` lists).
pub fn analyse(
    path: &Path,
    by: GroupBy,
    prices: &BTreeMap<String, Price>,
) -> Result<CostConcentration, Error> {
    analyse_with(
        path,
        by,
        prices,
        Streaming {
            workers: one_per_core(),
            lines_per_batch: None,
        },
    )
}

pub(crate) fn analyse_with(
    path: &Path,
    by: GroupBy,
    prices: &BTreeMap<String, Price>,
    streaming: Streaming,
) -> Result<CostConcentration, Error> {
    let file = File::open(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read the usage file {}: {e}; give a JSON Lines file with one production \
             call per line",
            path.display()
        ))
    })?;
    let mut reader = BatchReader::new(path, file);
    if let Some(lines) = streaming.lines_per_batch {
        reader = reader.with_lines_per_batch(lines);
    }
    let workers = fan_out(
        reader,
        streaming.workers,
        || UsageTally::new(by, prices),
        |()| Ok(()),
    )?;
    // Into the first worker's tally: no table is built twice.
    let mut workers = workers.into_iter();
    let mut tally = workers.next().expect("at least one worker");
    for worker in workers {
        tally.merge(worker);
    }
    if tally.valid_lines == 0 {
        return Err(no_valid_line(path, tally));
    }
    Ok(concentration::build(path, by, tally))
}

/// The error for a file without a single priced call: what the lines were instead.
fn no_valid_line(path: &Path, tally: UsageTally<'_>) -> Error {
    let path = printable(&path.display().to_string());
    if tally.lines == 0 {
        return Error::Usage(format!(
            "the usage file {path} has no lines: give one JSON object per production call, \
             with `customer`, `model`, `input_tokens` and `output_tokens`"
        ));
    }
    let lines = tally.lines;
    let groups = tally.warnings.into_groups(&path);
    let kinds: Vec<String> = groups.iter().map(|g| g.summary()).collect();
    let first = (groups.iter())
        .flat_map(|g| g.examples.first())
        .map(|e| format!("; e.g. {}: {}", e.at, printable(&e.detail)))
        .next()
        .unwrap_or_default();
    Error::Usage(format!(
        "no line of the usage file {path} is a priced call: {} lines read, {}{first}. Each line \
         must be a JSON object with `customer`, `model` (a model of the price table) and \
         `input_tokens`/`output_tokens`",
        lines,
        kinds.join(", ")
    ))
}
