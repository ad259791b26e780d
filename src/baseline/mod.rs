//! The baseline a pull request is compared with: a committed file of per-case results saved
//! by `evalgate baseline save` on the main branch. Comparing says, per case, what changed —
//! and for multi-sample cases calls a regression only when Fisher's exact test says the
//! difference is real.

mod compare;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use compare::{BaselineComparison, CaseChange, Change, compare};

use crate::atomic_file::write_atomic;
use crate::errors::Error;
use crate::record::{CaseRecord, SCHEMA_VERSION};
use crate::verdict::Verdict;

/// A baseline file (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Baseline {
    pub schema: u32,
    pub suite: String,
    pub saved_at: jiff::Timestamp,
    /// The envelope id of the run it was saved from.
    pub envelope: String,
    pub cases: Vec<BaselineCase>,
}

/// One case's result in the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BaselineCase {
    pub case: String,
    pub verdict: Verdict,
    pub samples: u32,
    pub passes: u32,
}

impl Baseline {
    /// The baseline of a run: each case's latest record.
    pub(crate) fn of(suite: &str, envelope: String, cases: &[CaseRecord]) -> Baseline {
        let mut cases: Vec<BaselineCase> = cases
            .iter()
            .map(|c| BaselineCase {
                case: c.case.clone(),
                verdict: c.verdict,
                samples: c.samples,
                passes: c.passes,
            })
            .collect();
        cases.sort_by(|a, b| a.case.cmp(&b.case));
        Baseline {
            schema: SCHEMA_VERSION,
            suite: suite.to_string(),
            saved_at: jiff::Timestamp::now(),
            envelope,
            cases,
        }
    }

    pub(crate) fn save(&self, path: &Path) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("serializing the baseline failed: {e}")))?;
        write_atomic(path, &json)
    }

    /// Loads the baseline at `path` for suite `suite`: another suite's baseline, or one of
    /// another schema, is an error — never a silent comparison with the wrong thing.
    pub(crate) fn load(path: &Path, suite: &str) -> Result<Baseline, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Usage(format!(
                "{}: cannot read the baseline ({e}); save one on the main branch with `evalgate baseline save --to {}`",
                path.display(),
                path.display()
            ))
        })?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{}: not a baseline file: {e}", path.display())))?;
        let schema = value.get("schema").and_then(serde_json::Value::as_u64);
        if schema != Some(u64::from(SCHEMA_VERSION)) {
            return Err(Error::Usage(format!(
                "{}: baseline schema {} is not the schema of this evalgate ({SCHEMA_VERSION}); save it again with `evalgate baseline save`",
                path.display(),
                schema.map_or("(none)".to_string(), |s| s.to_string())
            )));
        }
        let baseline: Baseline = serde_json::from_value(value)
            .map_err(|e| Error::Usage(format!("{}: not a baseline file: {e}", path.display())))?;
        if baseline.suite != suite {
            return Err(Error::Usage(format!(
                "{}: the baseline is of suite `{}`, this run of suite `{suite}`",
                path.display(),
                baseline.suite
            )));
        }
        Ok(baseline)
    }
}
