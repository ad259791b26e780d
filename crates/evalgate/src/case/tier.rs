//! Suite tiers: named subsets of the cases, in `evals/tiers/<name>.yaml`, run instead of
//! the whole suite when `$EVALGATE_SUITE_TIER` names one — a cheap smoke tier on pull
//! requests, the full suite nightly. `evalgate select` writes them (the cheapest set of
//! cases that keeps every branch covered); a person may too. Not to be confused with serving
//! tiers (`tiers:` of the suite, the model tiers an agent falls back through).
//!
//! A tier naming a case the suite no longer has is an error, not a smaller run: a smoke
//! tier that silently shrank would be a green check measuring less than it says.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::{Case, Status};
use crate::errors::{ConfigError, Error, Position};
use crate::suite::Suite;

/// The folder of the tier files, in the evals folder.
pub(crate) const TIERS_DIR: &str = "tiers";

/// The environment variable naming the suite tier to run.
pub const TIER_ENV: &str = crate::env::SUITE_TIER;

/// A tier file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierFile {
    /// Case ids; a case with variants (`tiers:`, `conditions:`) may be named by its own id
    /// (all variants) or a variant's.
    cases: Vec<Spanned<String>>,
}

/// A loaded suite tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteTier {
    pub name: String,
    pub file: PathBuf,
    pub cases: BTreeSet<String>,
}

impl SuiteTier {
    /// The tier `$EVALGATE_SUITE_TIER` names, if any.
    pub(crate) fn from_env(suite: &Suite) -> Result<Option<SuiteTier>, Error> {
        match crate::env::suite_tier()? {
            Some(name) => Ok(Some(SuiteTier::load(suite, &name)?)),
            None => Ok(None),
        }
    }

    /// Loads `tiers/<name>.yaml` of the suite.
    pub fn load(suite: &Suite, name: &str) -> Result<SuiteTier, ConfigError> {
        let path = tier_path(suite, name).map_err(|m| ConfigError::new(&suite.dir, m))?;
        let display = suite.display_path(&path);
        let source = crate::yaml::read(&path).map_err(|e| ConfigError {
            path: display.clone(),
            help: Some(format!(
                "{TIER_ENV}={name} names a suite tier: write it with `evalgate select --out {name}`"
            )),
            ..e
        })?;
        let file: TierFile = crate::yaml::parse(&display, &source)?;
        if file.cases.is_empty() {
            return Err(ConfigError::new(&display, "the tier lists no cases")
                .at(Position::new(1, 1), &source));
        }
        let mut cases = BTreeSet::new();
        for case in &file.cases {
            if !cases.insert(case.value.clone()) {
                return Err(ConfigError::new(
                    &display,
                    format!("`{}` is listed twice", case.value),
                )
                .at(Position::of(&case.referenced), &source));
            }
        }
        Ok(SuiteTier {
            name: name.to_string(),
            file: display,
            cases,
        })
    }

    /// Whether the tier runs `case` (named by its id, or the id it is a variant of).
    pub(crate) fn contains(&self, case: &Case) -> bool {
        self.cases.contains(&case.id)
            || case
                .variant_of
                .as_ref()
                .is_some_and(|base| self.cases.contains(base))
    }

    /// Keeps the cases of the tier; every id it lists must be an active case of `cases`
    /// (the whole suite), else the tier is stale: a retired case or a draft it names would
    /// not run, and the tier would be smaller than it says.
    pub fn select(&self, cases: Vec<Case>) -> Result<Vec<Case>, ConfigError> {
        let known: BTreeSet<&str> = cases
            .iter()
            .filter(|c| c.status == Status::Active)
            .flat_map(|c| std::iter::once(c.id.as_str()).chain(c.variant_of.as_deref()))
            .collect();
        let missing: Vec<&str> = self
            .cases
            .iter()
            .map(String::as_str)
            .filter(|id| !known.contains(id))
            .collect();
        if !missing.is_empty() {
            return Err(ConfigError::new(
                &self.file,
                format!(
                    "suite tier `{}` lists {} that the suite does not have: {}",
                    self.name,
                    if missing.len() == 1 {
                        "a case"
                    } else {
                        "cases"
                    },
                    missing.join(", ")
                ),
            )
            .with_help(format!(
                "renamed or deleted? write the tier again with `evalgate select --out {}`",
                self.name
            )));
        }
        Ok(cases.into_iter().filter(|c| self.contains(c)).collect())
    }
}

/// `tiers/<name>.yaml` of the suite, for a name of letters, digits, `-` and `_`.
pub fn tier_path(suite: &Suite, name: &str) -> Result<PathBuf, String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(format!(
            "`{name}` is not a suite tier name: use letters, digits, `-` and `_`"
        ));
    }
    Ok(suite.dir.join(TIERS_DIR).join(format!("{name}.yaml")))
}
