//! The suite's `decay:` section: how old a review may be, where the rubrics and the
//! production sample are, how many envelopes make a case saturated. Validated at load, so
//! a bad value is a config error with its line, never a silently ignored knob.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::duration::HumanDuration;
use crate::errors::{ConfigError, Position};

/// `decay:` as written in the suite file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecayFile {
    review_max_age: Option<HumanDuration>,
    rubrics: Option<String>,
    min_agreement: Option<Spanned<f64>>,
    saturation_envelopes: Option<Spanned<u32>>,
    production: Option<ProductionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductionFile {
    path: String,
    field: Option<String>,
    min_similarity: Option<Spanned<f64>>,
}

/// The validated decay policy. Saved with the run, so reports rebuilt later apply it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecayPolicy {
    /// A case whose `reviewed:` is older than this many days (or missing) is stale.
    pub review_max_age_days: u32,
    /// Below this Cohen's κ between annotators, a rubric is flagged.
    pub min_agreement: f64,
    /// A case passing under each of this many most recent distinct envelopes no longer
    /// discriminates (failing under each is a known failure, not saturation).
    pub saturation_envelopes: u32,
    /// The sample of production inputs, when the suite has one.
    pub production: Option<ProductionPolicy>,
}

/// Where the production sample is and how to read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductionPolicy {
    /// The JSON Lines file (absolute, or relative to where evalgate runs).
    pub path: PathBuf,
    /// The text field of each line: a key (`input`) or a JSON pointer (`/messages/0/content`).
    pub field: String,
    /// An input whose nearest case is less similar than this is "not covered".
    pub min_similarity: f64,
}

pub const DEFAULT_RUBRICS: &str = "rubrics";
const DEFAULT_REVIEW_DAYS: u32 = 90;
const DEFAULT_MIN_AGREEMENT: f64 = 0.6;
const DEFAULT_SATURATION: u32 = 3;
const DEFAULT_FIELD: &str = "input";
pub const DEFAULT_MIN_SIMILARITY: f64 = 0.3;

impl Default for DecayPolicy {
    fn default() -> Self {
        DecayPolicy {
            review_max_age_days: DEFAULT_REVIEW_DAYS,
            min_agreement: DEFAULT_MIN_AGREEMENT,
            saturation_envelopes: DEFAULT_SATURATION,
            production: None,
        }
    }
}

impl DecayFile {
    /// The rubrics folder, relative to the evals folder.
    pub fn rubrics_dir(&self, evals_dir: &Path) -> PathBuf {
        evals_dir.join(self.rubrics.as_deref().unwrap_or(DEFAULT_RUBRICS))
    }

    /// Validates the section of the suite file at `path` (text `source`); relative paths
    /// are taken from `evals_dir`.
    pub fn policy(
        &self,
        evals_dir: &Path,
        path: &Path,
        source: &str,
    ) -> Result<DecayPolicy, ConfigError> {
        let err = |at: &serde_saphyr::Location, message: String| {
            ConfigError::new(path, message).at(Position::of(at), source)
        };
        let review_max_age_days = match self.review_max_age {
            None => DEFAULT_REVIEW_DAYS,
            Some(HumanDuration(age)) => days(age).ok_or_else(|| {
                ConfigError::new(
                    path,
                    "`decay.review_max_age` must be whole days, e.g. `90d`",
                )
            })?,
        };
        let min_agreement = match &self.min_agreement {
            None => DEFAULT_MIN_AGREEMENT,
            Some(k) if (-1.0..=1.0).contains(&k.value) => k.value,
            Some(k) => {
                return Err(err(
                    &k.referenced,
                    "`decay.min_agreement` is a Cohen's κ, between -1 and 1".into(),
                ));
            }
        };
        let saturation_envelopes = match &self.saturation_envelopes {
            None => DEFAULT_SATURATION,
            Some(n) if n.value >= 2 => n.value,
            Some(n) => {
                return Err(err(
                    &n.referenced,
                    "`decay.saturation_envelopes` must be at least 2: one envelope cannot show a case stopped discriminating".into(),
                ));
            }
        };
        let production = match &self.production {
            None => None,
            Some(p) => {
                let min_similarity = match &p.min_similarity {
                    None => DEFAULT_MIN_SIMILARITY,
                    Some(s) if s.value > 0.0 && s.value <= 1.0 => s.value,
                    Some(s) => {
                        return Err(err(
                            &s.referenced,
                            "`decay.production.min_similarity` must be in (0, 1]".into(),
                        ));
                    }
                };
                Some(ProductionPolicy {
                    path: evals_dir.join(&p.path),
                    field: p.field.clone().unwrap_or_else(|| DEFAULT_FIELD.into()),
                    min_similarity,
                })
            }
        };
        Ok(DecayPolicy {
            review_max_age_days,
            min_agreement,
            saturation_envelopes,
            production,
        })
    }
}

fn days(age: Duration) -> Option<u32> {
    let secs = age.as_secs();
    (secs > 0 && secs.is_multiple_of(86_400) && age.subsec_nanos() == 0)
        .then(|| u32::try_from(secs / 86_400).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(yaml: &str) -> Result<DecayPolicy, ConfigError> {
        let file: DecayFile = crate::yaml::parse(Path::new("evalgate.yaml"), yaml)?;
        file.policy(Path::new("evals"), Path::new("evalgate.yaml"), yaml)
    }

    #[test]
    fn defaults_and_paths_relative_to_the_evals_folder() {
        let p = policy("production: {path: prod/sample.jsonl}\n").unwrap();
        assert_eq!(p.review_max_age_days, 90);
        assert_eq!(p.saturation_envelopes, 3);
        let production = p.production.unwrap();
        assert_eq!(production.path, Path::new("evals/prod/sample.jsonl"));
        assert_eq!(production.field, "input");
        assert_eq!(
            policy("review_max_age: 30d\n").unwrap().review_max_age_days,
            30
        );
    }

    #[test]
    fn bad_values_are_errors_at_their_line() {
        let e = policy("min_agreement: 0.5\nsaturation_envelopes: 1\n").unwrap_err();
        assert_eq!(e.position.line, 2, "{e}");
        assert!(e.message.contains("at least 2"), "{e}");
        let e = policy("min_agreement: 3\n").unwrap_err();
        assert!(e.message.contains("between -1 and 1"), "{e}");
        let e = policy("review_max_age: 36h\n").unwrap_err();
        assert!(e.message.contains("whole days"), "{e}");
        let e = policy("production: {path: p.jsonl, min_similarity: 0}\n").unwrap_err();
        assert!(e.message.contains("(0, 1]"), "{e}");
        assert!(
            policy("review_age: 30d\n").is_err(),
            "unknown keys are errors"
        );
    }
}
