//! The suite's `baseline:` section: what a run is compared with (a committed file, or the
//! pooled recent runs of a branch in the history store) and how the comparison judges it
//! (the run-level error rate, the correction for many cases, the drop the design is built
//! to see). Validated at load: a bad value is a config error at its line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::duration::HumanDuration;
use crate::errors::{ConfigError, Position};
use crate::record::Judge;
use crate::stats::Correction;

/// `baseline:` as written in the suite file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    path: Option<String>,
    branch: Option<Spanned<String>>,
    alpha: Option<Spanned<f64>>,
    correction: Option<Correction>,
    window: Option<Spanned<u32>>,
    max_age: Option<Spanned<HumanDuration>>,
    drop: Option<Spanned<f64>>,
    judge: Option<Judge>,
}

/// What runs are compared with, and how. With a `branch`, a case's baseline is the pooled
/// samples of the branch's recent runs in the history store (the `window` latest runs under
/// the branch's latest envelope, none older than `max_age`); the file at `path` is used
/// when history has none (or there is no `branch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BaselinePolicy {
    #[serde(default)]
    pub path: Option<PathBuf>,
    #[serde(default)]
    pub branch: Option<String>,
    /// The run-level error rate: with nothing changed, the comparison calls any regression
    /// in at most this share of runs.
    pub alpha: f64,
    #[serde(default)]
    pub correction: Correction,
    /// How many of the branch's latest runs a case's baseline pools.
    #[serde(default = "default_window")]
    pub window: u32,
    /// Runs older than this (seconds before the run) are not pooled.
    #[serde(default = "default_max_age")]
    pub max_age_s: u64,
    /// The drop in a case's pass rate the design is built to see: adaptive sampling stops
    /// once a drop this large has become implausible. When unset, 0.15 for `samples: {min,
    /// max}` and 1 (a case that stops passing) for a fixed number; a case declaring no
    /// samples always looks for a case that stops passing.
    #[serde(default)]
    pub drop: Option<f64>,
    #[serde(default)]
    pub judge: Judge,
    /// Where `branch:` is written (`file:line`), for errors that concern it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_at: Option<String>,
}

const DEFAULT_ALPHA: f64 = 0.05;
const DEFAULT_WINDOW: u32 = 10;
const MAX_WINDOW: u32 = 1000;
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

fn default_window() -> u32 {
    DEFAULT_WINDOW
}

fn default_max_age() -> u64 {
    DEFAULT_MAX_AGE.as_secs()
}

/// The drop adaptive sampling looks for unless the suite says.
pub const ADAPTIVE_DROP: f64 = 0.15;

impl BaselinePolicy {
    /// A policy comparing with the file at `path` only, with every default.
    pub fn file(path: PathBuf) -> BaselinePolicy {
        BaselinePolicy {
            path: Some(path),
            branch: None,
            alpha: DEFAULT_ALPHA,
            correction: Correction::default(),
            window: DEFAULT_WINDOW,
            max_age_s: default_max_age(),
            drop: None,
            judge: Judge::default(),
            branch_at: None,
        }
    }

    /// `max_age` as a duration.
    pub fn max_age(&self) -> Duration {
        Duration::from_secs(self.max_age_s)
    }

    /// The drop the samples of a case taken look by look are compared about
    /// (`samples: {min, max}`).
    pub fn adaptive_drop(&self) -> f64 {
        self.drop.unwrap_or(ADAPTIVE_DROP)
    }

    /// The drop a fixed number of samples is compared about.
    pub fn fixed_drop(&self) -> f64 {
        self.drop.unwrap_or(1.0)
    }
}

impl BaselineFile {
    /// The validated policy; `dir` is the evals folder, `path`/`source` the suite file.
    pub fn policy(
        &self,
        dir: &Path,
        path: &Path,
        source: &str,
    ) -> Result<BaselinePolicy, ConfigError> {
        let err = |at: &serde_saphyr::Location, message: String| {
            ConfigError::new(path, message).at(Position::of(at), source)
        };
        let alpha = match &self.alpha {
            None => DEFAULT_ALPHA,
            Some(a) if a.value > 0.0 && a.value < 1.0 => a.value,
            Some(a) => {
                return Err(err(
                    &a.referenced,
                    format!(
                        "`baseline.alpha: {}` is the run-level error rate, between 0 and 1 \
                         exclusive (e.g. 0.05)",
                        a.value
                    ),
                ));
            }
        };
        let window = match &self.window {
            None => DEFAULT_WINDOW,
            Some(w) if (1..=MAX_WINDOW).contains(&w.value) => w.value,
            Some(w) => {
                return Err(err(
                    &w.referenced,
                    format!(
                        "`baseline.window: {}` is the number of recent runs pooled, between 1 \
                         and {MAX_WINDOW}",
                        w.value
                    ),
                ));
            }
        };
        let max_age = match &self.max_age {
            None => DEFAULT_MAX_AGE,
            Some(a) if a.value.0 >= Duration::from_secs(1) => a.value.0,
            Some(a) => {
                return Err(err(
                    &a.referenced,
                    "`baseline.max_age` must be at least a second (e.g. `30d`)".into(),
                ));
            }
        };
        let drop = match &self.drop {
            None => None,
            Some(d) if d.value > 0.0 && d.value <= 1.0 => Some(d.value),
            Some(d) => {
                return Err(err(
                    &d.referenced,
                    format!(
                        "`baseline.drop: {}` is a drop in pass rate, in (0, 1] (e.g. 0.15; 1 \
                         is a case that stops passing)",
                        d.value
                    ),
                ));
            }
        };
        if self.path.is_none() && self.branch.is_none() {
            return Err(ConfigError::new(
                path,
                "`baseline` names neither a `path` (a file saved by `evalgate baseline \
                 save`) nor a `branch` (whose recent runs in history are the baseline)",
            ));
        }
        if let Some(branch) = &self.branch
            && branch.value.trim().is_empty()
        {
            return Err(err(
                &branch.referenced,
                "`baseline.branch` is empty; name a branch such as `main`".into(),
            ));
        }
        Ok(BaselinePolicy {
            path: self.path.as_ref().map(|p| dir.join(p)),
            branch: self.branch.as_ref().map(|b| b.value.clone()),
            alpha,
            correction: self.correction.unwrap_or_default(),
            window,
            max_age_s: max_age.as_secs(),
            drop,
            judge: self.judge.unwrap_or_default(),
            branch_at: self.branch.as_ref().map(|b| {
                let at = Position::of(&b.referenced);
                format!("{}:{}:{}", path.display(), at.line, at.column)
            }),
        })
    }
}
