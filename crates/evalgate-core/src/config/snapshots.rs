//! The suite's `snapshots:` section: where `.snap` files live and which parts of an output
//! are redacted before comparing (ids, dates, numbers, the suite's own patterns), so a
//! snapshot fails on a changed answer, not on a fresh order id.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::errors::{ConfigError, Position};

/// `snapshots:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotsFile {
    path: Option<String>,
    #[serde(default)]
    redact: RedactFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedactFile {
    #[serde(default)]
    ids: bool,
    #[serde(default)]
    dates: bool,
    #[serde(default)]
    numbers: bool,
    #[serde(default)]
    patterns: Vec<Spanned<PatternFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternFile {
    regex: String,
    replace: String,
}

/// One redaction: every match of `regex` becomes `replacement`.
#[derive(Debug, Clone)]
pub struct Redaction {
    pub regex: regex::Regex,
    pub replacement: String,
}

/// Validated snapshot settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SnapshotSettings {
    /// The folder of `.snap` files (default `evals/snapshots`).
    pub dir: PathBuf,
    /// Applied in order: the suite's own patterns, then the built-in filters chosen (ids,
    /// dates, numbers).
    pub redactions: Vec<Redaction>,
}

impl SnapshotSettings {
    /// Settings for the `.snap` files under `dir`, with `redactions` applied in order.
    pub fn new(dir: PathBuf, redactions: Vec<Redaction>) -> Self {
        SnapshotSettings { dir, redactions }
    }
}

pub const DEFAULT_DIR: &str = "snapshots";

// The most specific first: the suite's own patterns (`ORD-\d+` must see its digits before
// `numbers` eats them), then ids (a UUID contains digits too), dates and times, bare numbers.
const IDS: &str = r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b|\b[0-9a-fA-F]{16,}\b";
const DATES: &str =
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b";
const NUMBERS: &str = r"\d+(?:[.,]\d+)*";

impl SnapshotsFile {
    /// Validates the section of the suite file at `path` (text `source`).
    pub fn settings(
        &self,
        evals_dir: &Path,
        path: &Path,
        source: &str,
    ) -> Result<SnapshotSettings, ConfigError> {
        let mut redactions = Vec::new();
        for pattern in &self.redact.patterns {
            let regex = regex::Regex::new(&pattern.value.regex).map_err(|e| {
                ConfigError::new(
                    path,
                    format!("invalid redaction pattern `{}`: {e}", pattern.value.regex),
                )
                .at(Position::of(&pattern.referenced), source)
            })?;
            redactions.push(Redaction {
                regex,
                replacement: pattern.value.replace.clone(),
            });
        }
        let builtin = [
            (self.redact.ids, IDS, "[id]"),
            (self.redact.dates, DATES, "[date]"),
            (self.redact.numbers, NUMBERS, "[number]"),
        ];
        for (on, regex, replacement) in builtin {
            if on {
                redactions.push(Redaction {
                    regex: regex::Regex::new(regex).expect("built-in redaction compiles"),
                    replacement: replacement.into(),
                });
            }
        }
        Ok(SnapshotSettings::new(
            evals_dir.join(self.path.as_deref().unwrap_or(DEFAULT_DIR)),
            redactions,
        ))
    }
}
