//! The suite file (`evals/evalgate.yaml`): how the agent is reached, defaults for cases,
//! concurrency, retries and the versions in force.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::duration::HumanDuration;
use crate::errors::{ConfigError, Position};
use crate::target::TargetConfig;
use crate::verdict::{PassRule, validate_rule};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    name: Option<String>,
    target: Option<TargetConfig>,
    #[serde(default)]
    defaults: DefaultsFile,
    concurrency: Option<serde_saphyr::Spanned<usize>>,
    #[serde(default)]
    retries: RetriesFile,
    #[serde(default)]
    inconclusive: InconclusivePolicy,
    #[serde(default)]
    envelope: BTreeMap<String, String>,
    #[serde(default)]
    pins: BTreeMap<String, String>,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default)]
    refusal: RefusalFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsFile {
    samples: Option<serde_saphyr::Spanned<u32>>,
    pass: Option<PassRule>,
    timeout: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetriesFile {
    max: Option<u32>,
    max_wait: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    record_output_bytes: Option<usize>,
    response_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefusalFile {
    #[serde(default)]
    patterns: Vec<String>,
}

/// How an `inconclusive` verdict counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InconclusivePolicy {
    /// The test fails (the default: the data did not show the agent is good enough).
    #[default]
    Fail,
    /// The test passes with a warning in the summary; the verdict stays `inconclusive`.
    Warn,
}

/// Defaults applied to every case that does not set its own.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub samples: u32,
    pub pass: Option<PassRule>,
    pub timeout: Duration,
}

/// Retries for transport failures only (429, 5xx, connection errors): never for a wrong answer.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The longest wait between attempts, even if `Retry-After` asks for more.
    pub max_wait: Duration,
}

/// A loaded, validated suite.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Suite {
    pub name: String,
    /// The evals folder (holding `evalgate.yaml` and `cases/`).
    pub dir: PathBuf,
    pub cases_dir: PathBuf,
    pub target: Option<TargetConfig>,
    pub defaults: Defaults,
    pub concurrency: usize,
    pub retries: RetryPolicy,
    pub inconclusive: InconclusivePolicy,
    /// Versions declared for the agent under test (model, prompt, tools, index, sampling).
    pub envelope: BTreeMap<String, String>,
    /// Versions in force (corpus, policy, tool surface), against which case pins are compared.
    pub pins: BTreeMap<String, String>,
    pub record_output_bytes: usize,
    pub response_bytes: usize,
    pub refusal_patterns: Vec<regex::Regex>,
    display_base: Option<PathBuf>,
}

pub(crate) const SUITE_FILES: [&str; 2] = ["evalgate.yaml", "evalgate.yml"];
const DEFAULT_CONCURRENCY: usize = 8;
const MAX_CONCURRENCY: usize = 4096;

impl Suite {
    /// Loads `dir/evalgate.yaml` (or `.yml`); a folder without one gets the defaults.
    pub fn load(dir: &Path) -> Result<Suite, ConfigError> {
        let display_base = std::env::current_dir().ok();
        let file_path = SUITE_FILES.iter().map(|f| dir.join(f)).find(|p| p.exists());
        let (file, source, path) = match file_path {
            Some(path) => {
                let shown = display(&path, display_base.as_deref());
                let source = crate::yaml::read(&path).map_err(|e| ConfigError {
                    path: shown.clone(),
                    ..e
                })?;
                let file: SuiteFile = crate::yaml::parse(&shown, &source)?;
                (Some(file), source, shown)
            }
            None => {
                if !dir.is_dir() {
                    return Err(ConfigError::new(dir, "evals folder not found").with_help(
                        "create evals/evalgate.yaml and evals/cases/, or set EVALGATE_DIR",
                    ));
                }
                (None, String::new(), dir.join(SUITE_FILES[0]))
            }
        };
        let file = file.unwrap_or_else(|| SuiteFile {
            name: None,
            target: None,
            defaults: DefaultsFile::default(),
            concurrency: None,
            retries: RetriesFile::default(),
            inconclusive: InconclusivePolicy::default(),
            envelope: BTreeMap::new(),
            pins: BTreeMap::new(),
            limits: LimitsFile::default(),
            refusal: RefusalFile::default(),
        });
        let err = |position: Position, message: String| {
            ConfigError::new(&path, message).at(position, &source)
        };
        let samples = file.defaults.samples.as_ref().map(|s| s.value).unwrap_or(1);
        if samples == 0 {
            let at = Position::of(&file.defaults.samples.as_ref().unwrap().referenced);
            return Err(err(at, "`defaults.samples` must be at least 1".into()));
        }
        if let Some(rule) = file.defaults.pass
            && let Err((message, help)) = validate_rule(rule, samples)
        {
            return Err(ConfigError::new(&path, format!("defaults: {message}")).with_help(help));
        }
        let concurrency = match &file.concurrency {
            Some(c) if c.value == 0 || c.value > MAX_CONCURRENCY => {
                return Err(err(
                    Position::of(&c.referenced),
                    format!("`concurrency` must be between 1 and {MAX_CONCURRENCY}"),
                ));
            }
            Some(c) => c.value,
            None => DEFAULT_CONCURRENCY,
        };
        let mut refusal_patterns = Vec::new();
        for pattern in &file.refusal.patterns {
            refusal_patterns.push(regex::Regex::new(pattern).map_err(|e| {
                ConfigError::new(&path, format!("invalid refusal pattern `{pattern}`: {e}"))
            })?);
        }
        let name = file.name.unwrap_or_else(|| {
            dir.canonicalize()
                .ok()
                .and_then(|d| {
                    d.parent()
                        .and_then(|p| p.file_name())
                        .map(|n| n.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| "evals".into())
        });
        Ok(Suite {
            name,
            dir: dir.to_path_buf(),
            cases_dir: dir.join("cases"),
            target: file.target,
            defaults: Defaults {
                samples,
                pass: file.defaults.pass,
                timeout: file
                    .defaults
                    .timeout
                    .map(|t| t.0)
                    .unwrap_or(Duration::from_secs(60)),
            },
            concurrency,
            retries: RetryPolicy {
                max_retries: file.retries.max.unwrap_or(2),
                max_wait: file
                    .retries
                    .max_wait
                    .map(|t| t.0)
                    .unwrap_or(Duration::from_secs(30)),
            },
            inconclusive: file.inconclusive,
            envelope: file.envelope,
            pins: file.pins,
            record_output_bytes: file.limits.record_output_bytes.unwrap_or(16 * 1024),
            response_bytes: file.limits.response_bytes.unwrap_or(10 * 1024 * 1024),
            refusal_patterns,
            display_base,
        })
    }

    /// How `path` is shown in messages, JUnit and annotations.
    pub(crate) fn display_path(&self, path: &Path) -> PathBuf {
        display(path, self.display_base.as_deref())
    }
}

fn display(path: &Path, base: Option<&Path>) -> PathBuf {
    if path.is_relative() {
        return path.to_path_buf();
    }
    base.and_then(|b| path.strip_prefix(b).ok())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| path.to_path_buf())
}
