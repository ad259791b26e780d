//! GitHub Actions as a sink of the run's reports: a Markdown step summary, annotations on the
//! YAML lines of failures, and fencing so untrusted output cannot issue workflow commands.

mod annotations;
mod commands;
mod step_summary;

use std::io::Write as _;

pub use commands::Fence;

use crate::errors::Error;
use crate::record::RunData;
use crate::report::RunReport;

/// Whether this process runs as a GitHub Actions step.
pub(crate) fn active() -> bool {
    crate::env::github_actions()
}

/// Appends `markdown` to the step summary when `$GITHUB_STEP_SUMMARY` is set; whether it was.
pub fn append_step_summary(markdown: &str) -> Result<bool, Error> {
    let Some(path) = crate::env::step_summary_file() else {
        return Ok(false);
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::write(&path, e))?;
    // GitHub's limit is on the whole file: what earlier steps wrote counts.
    let held = file.metadata().map_or(0, |m| m.len() as usize);
    let budget = step_summary::MAX_BYTES.saturating_sub(held);
    let markdown = step_summary::cut(markdown.to_string(), budget);
    file.write_all(markdown.as_bytes())
        .map_err(|e| Error::write(&path, e))?;
    Ok(true)
}

/// Appends the step summary (when `$GITHUB_STEP_SUMMARY` is set) and prints the annotations
/// to stdout (under GitHub Actions). Call it with command processing on (outside a fence).
pub fn publish(data: &RunData, report: &RunReport) -> Result<(), Error> {
    let suite = data
        .runs
        .first()
        .map(|r| r.suite.as_str())
        .unwrap_or("evals");
    append_step_summary(&step_summary::render(
        report,
        suite,
        &step_summary::Links::from_env(),
        &crate::report::first_failing_lines(data),
    ))?;
    if active() {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for line in annotations::lines(&annotations::annotations(data, report)) {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }
    Ok(())
}
