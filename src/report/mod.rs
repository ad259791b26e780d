//! Reports, each built from run records alone: the terminal summary and JUnit XML. The
//! same records give the same reports whether they came from `cargo test`, one nextest
//! process per case, or several CI shards.

mod junit;
mod summary;
mod xml_text;

use std::path::{Path, PathBuf};

pub use junit::junit_report;
pub use summary::Summary;

use crate::errors::Error;
use crate::record::RunData;

/// Where the reports of a run were written.
#[derive(Debug, Clone)]
pub struct ReportPaths {
    pub junit: PathBuf,
}

/// Writes every report for `data` under `out_dir` and returns the summary.
pub fn write_reports(data: &RunData, out_dir: &Path) -> Result<(Summary, ReportPaths), Error> {
    let summary = Summary::new(data);
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let junit = out_dir.join("junit.xml");
    let xml = junit_report(data, &summary)
        .to_string()
        .map_err(|e| Error::Internal(format!("serializing JUnit failed: {e}")))?;
    // Write-then-rename: a reader never sees half a file.
    let tmp = out_dir.join(".junit.xml.tmp");
    std::fs::write(&tmp, xml).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &junit).map_err(|e| Error::io(&junit, e))?;
    Ok((summary, ReportPaths { junit }))
}
