//! The files of a cost analysis: `cost.json` (the report), `customers.csv` (every group),
//! `lorenz.svg` and `summary.md` (for the GitHub step summary). Each is written whole or
//! not at all ([`write_atomic`]).

use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;

use super::concentration::CostConcentration;
use super::{markdown, svg};
use evalgate::atomic_file::write_atomic;
use evalgate::errors::Error;

/// The four files `evalgate cost` writes (named by the output folder's layout).
pub use evalgate::layout::CostFiles as CostPaths;

/// Writes the four files into `out_dir` (created if missing).
pub fn write_outputs(report: &CostConcentration, out_dir: &Path) -> Result<CostPaths, Error> {
    std::fs::create_dir_all(out_dir).map_err(|e| Error::write(out_dir, e))?;
    let paths = CostPaths::in_dir(out_dir);
    let json = serde_json::to_vec_pretty(report)
        .map_err(|e| Error::Internal(format!("cannot serialise the cost report: {e}")))?;
    write_atomic(&paths.json, &json)?;
    write_atomic(&paths.csv, csv(report).as_bytes())?;
    write_atomic(&paths.svg, svg::render(report).as_bytes())?;
    write_atomic(&paths.summary, markdown::render(report).as_bytes())?;
    Ok(paths)
}

/// Every group, costliest first: `rank,<customer|model>,calls,input_tokens,
/// output_tokens,cost_usd,revenue_usd,share` (revenue empty where none was reported).
pub(crate) fn csv(report: &CostConcentration) -> String {
    let mut out = format!(
        "rank,{},calls,input_tokens,output_tokens,cost_usd,revenue_usd,share\n",
        report.by.noun()
    );
    for group in &report.all {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            group.rank,
            csv_field(&group.id),
            group.calls,
            group.input_tokens,
            group.output_tokens,
            group.cost_usd,
            group.revenue_usd.map(|r| r.to_string()).unwrap_or_default(),
            group.share
        );
    }
    out
}

/// An untrusted text as one CSV field (RFC 4180): quoted, with quotes doubled, when it
/// holds a comma, a quote or a line break. A text a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return, and not a number) gets
/// a leading `'`, as OWASP advises against CSV injection.
pub(crate) fn csv_field(text: &str) -> Cow<'_, str> {
    let formula =
        text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.parse::<f64>().is_err();
    let text: Cow<'_, str> = if formula {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    };
    if text.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        text
    }
}
