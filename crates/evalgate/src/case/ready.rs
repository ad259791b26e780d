//! The validated, ready-to-run [`Case`]: what a case file says once its checks are
//! compiled and its defaults applied, and how it is named (its id and libtest name).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::compile::{Check, CheckKind};
use super::model::{CaseFile, Label, Source, Status};
use crate::errors::ConfigError;
use crate::observation::{Decision, Message, Request};
use crate::suite::Suite;
use crate::verdict::PassRule;

/// Separates a case id from its variant (`refunds/eu-1@tier=secondary`).
pub(crate) const VARIANT_SEPARATOR: char = '@';

/// A validated case, ready to run: defaults from the suite applied, regexes and schemas
/// compiled, every expectation knowing its YAML position.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Case {
    pub id: String,
    /// The case file, as shown to users (relative to the working directory when possible).
    pub file: PathBuf,
    /// The line the case starts at (its `id:` when set, else 1).
    pub line: u32,
    /// The folder under `cases/`, dotted (`refunds.eu`), or `evals` at the top level.
    pub classname: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub source: Option<Source>,
    pub reviewed: Option<jiff::civil::Date>,
    /// `rubric-id@version` the labels and expectations were written under (validated
    /// against the suite's rubrics).
    pub rubric: Option<String>,
    pub pins: BTreeMap<String, String>,
    pub status: Status,
    pub labels: Vec<Label>,
    /// Whether the output is compared with an insta snapshot.
    pub snapshot: bool,
    /// Branches the case names that the catalog lists as removed (a decay finding).
    pub removed_branches: Vec<Decision>,
    /// The lines of the case file's top-level keys (`reviewed`, `pins`, `rubric`...), so a
    /// finding about one points at it.
    pub key_lines: BTreeMap<String, u32>,
    pub messages: Vec<Message>,
    pub vars: serde_json::Map<String, Value>,
    pub customer: Option<String>,
    /// The serving tier the case forces (`input.tier`, or one of `tiers:`).
    pub tier: Option<String>,
    /// The load condition this variant runs under (one of `conditions:`).
    pub condition: Option<String>,
    /// The id of the case file's own case, when this is one of its variants (`tiers:`,
    /// `conditions:`): `refunds/eu-1@tier=secondary` is a variant of `refunds/eu-1`.
    pub variant_of: Option<String>,
    /// The most samples the case takes: exactly this many when `Sampling::Fixed`.
    pub samples: u32,
    pub sampling: Sampling,
    pub rule: PassRule,
    /// Sequential sampling: samples are taken this many at a time, and the case stops as
    /// soon as the verdict of all `samples` is decided whatever the rest would say.
    pub sequential: Option<u32>,
    pub timeout: Duration,
    pub(crate) checks: Vec<Check>,
}

/// How many samples a case takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// `samples: n`: exactly `n` (fewer only when `sequential` settles the verdict early).
    Fixed,
    /// `samples: {min, max}`: from `min` up to [`Case::samples`], looked at as they
    /// arrive and stopped once the comparison with the baseline is clear; `min` when the
    /// case has no baseline to compare with.
    Adaptive { min: u32 },
    /// Nothing declared: one sample — and when the case has a baseline, more while its
    /// samples disagree with it (a failure where the baseline passes), up to
    /// [`DEFAULT_ESCALATION`].
    Default,
}

/// How far a case that declares no `samples` goes when its first samples disagree with its
/// baseline: far enough to call a case that stopped passing a regression against a
/// baseline of a few runs, and it costs nothing while the samples agree.
pub const DEFAULT_ESCALATION: u32 = 32;

/// Why `snapshot: true` is a configuration error in a build without the `snapshots`
/// feature.
#[cfg(not(feature = "snapshots"))]
pub(crate) const SNAPSHOTS_FEATURE: &str = "`snapshot: true` needs evalgate's `snapshots` feature \
     (insta), which this build was compiled without: in Cargo.toml, \
     `evalgate = { version = \"0.1\", features = [\"snapshots\"] }`";

pub const TEST_PREFIX: &str = "evals::";

impl Case {
    /// The libtest name of this case: `evals::<id>`.
    pub fn test_name(&self) -> String {
        format!("{TEST_PREFIX}{}", self.id)
    }

    /// Whether libtest lists the case as ignored (drafts).
    pub fn is_ignored(&self) -> bool {
        matches!(self.status, Status::Draft)
    }

    /// The branches the case expects to reach (`branches` and `path`): what tells coverage
    /// that a catalog branch is exercised on purpose, not by accident.
    pub fn expected_branches(&self) -> Vec<Decision> {
        let mut expected: Vec<Decision> = self
            .checks
            .iter()
            .filter(|c| matches!(c.kind, CheckKind::Branches(_) | CheckKind::Path(_)))
            .flat_map(|c| c.kind.decisions().iter().cloned())
            .collect();
        expected.sort();
        expected.dedup();
        expected
    }

    /// Builds the request for one sample; a fresh value every time.
    pub fn request(&self, sample: u32) -> Request {
        let mut request = Request::new(self.id.clone(), sample, self.messages.clone());
        request.vars = self.vars.clone();
        request.customer = self.customer.clone();
        request.tier = self.tier.clone();
        request
    }

    /// Parses and validates the case file at `path` (`rel` is its path under `cases/`): the
    /// case, or its variants (`tiers:`, `conditions:`).
    pub(crate) fn load(
        path: &Path,
        display: PathBuf,
        rel: &Path,
        suite: &Suite,
    ) -> Result<Vec<Case>, ConfigError> {
        let source = crate::yaml::read(path).map_err(|e| ConfigError {
            path: display.clone(),
            ..e
        })?;
        Case::from_source(&source, display, rel, suite)
    }

    /// Parses and validates the text of a case file as if it were at `display` (`rel` under
    /// `cases/`): for case files about to be written.
    pub fn from_source(
        source: &str,
        display: PathBuf,
        rel: &Path,
        suite: &Suite,
    ) -> Result<Vec<Case>, ConfigError> {
        let file: CaseFile = crate::yaml::parse(&display, source)?;
        Case::validate(file, display, rel, source, suite)
    }

    /// The cases a case file runs as: itself, or one variant per tier of `tiers:`; each of
    /// those also under every load condition of `conditions:` (besides under none).
    pub(crate) fn expand(base: Case, tiers: &[String], conditions: &[String]) -> Vec<Case> {
        let by_tier: Vec<Case> = if tiers.is_empty() {
            vec![base]
        } else {
            tiers
                .iter()
                .map(|tier| base.variant(&format!("tier={tier}"), |c| c.tier = Some(tier.clone())))
                .collect()
        };
        by_tier
            .into_iter()
            .flat_map(|case| {
                let under: Vec<Case> = conditions
                    .iter()
                    .map(|name| {
                        case.variant(&format!("condition={name}"), |c| {
                            c.condition = Some(name.clone())
                        })
                    })
                    .collect();
                std::iter::once(case).chain(under)
            })
            .collect()
    }

    /// A copy of the case with `@label` appended to its id and `change` applied.
    fn variant(&self, label: &str, change: impl FnOnce(&mut Case)) -> Case {
        let mut variant = self.clone();
        variant.variant_of = Some(self.variant_of.clone().unwrap_or_else(|| self.id.clone()));
        variant.id = format!("{}{VARIANT_SEPARATOR}{label}", self.id);
        change(&mut variant);
        variant
    }
}

/// The line of each top-level `key:` of a YAML file (1-based).
pub(crate) fn top_level_keys(source: &str) -> BTreeMap<String, u32> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| line.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|(i, line)| {
            let (key, _) = line.split_once(':')?;
            let key = key.trim();
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                .then(|| (key.to_string(), i as u32 + 1))
        })
        .collect()
}

/// The id of a case that sets none: its path under `cases/` without extension, `/`-separated.
pub(crate) fn id_from_path(rel: &Path) -> String {
    let without_ext = rel.with_extension("");
    without_ext
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
