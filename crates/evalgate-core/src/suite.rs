//! The suite file (`evals/evalgate.yaml`): how the agent is reached, defaults for cases,
//! concurrency, retries and the versions in force.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::config::baseline::{BaselineFile, BaselinePolicy};
use crate::config::case::{SamplesFile, Sequential};
use crate::config::catalog::{BranchCatalog, CATALOG_FILE, CatalogFile};
use crate::config::conditions::{Condition, ConditionFile};
use crate::config::decay::{DecayFile, DecayPolicy};
use crate::config::gate::{Gate, GateFile};
use crate::config::junit::JunitSchema;
use crate::config::memory::MemoryPolicy;
use crate::config::output::{Feature, OutputPolicy};
use crate::config::rubric::{Rubric, load_rubrics};
use crate::config::signals::{
    PriceFile, SignalsConfig, SignalsFile, VerbosityFile, validate as validate_signals,
};
use crate::config::snapshots::{SnapshotSettings, SnapshotsFile};
use crate::config::target::TargetConfig;
use crate::duration::HumanDuration;
use crate::errors::{At, ConfigError};
use crate::repo_path::RepoRoot;
use crate::verbosity::Verbosity;
use crate::verdict::PassRule;

mod file;
mod sections;
use file::*;

/// Named load conditions: cases listing them in `conditions:` also run with their model
/// provider reached through evalgate's fault-injecting proxy, set up per condition.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPolicy {
    /// The provider's base URL the proxy forwards to, as written (`${VAR}` expanded when
    /// the run starts).
    pub upstream: String,
    /// The variable a `command` agent reads its provider's base URL from.
    pub env: Option<String>,
    /// How long the proxy waits for the provider's headers (default 30 s).
    pub timeout: Duration,
    pub conditions: BTreeMap<String, Condition>,
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
    /// `samples` for cases that do not say; `None`: one sample, or adaptive escalation when
    /// the case has a baseline (see `evalgate::case::Sampling::Default`).
    pub samples: Option<SamplesFile>,
    pub pass: Option<PassRule>,
    /// `sequential` for cases that do not say (a case with too few samples for the group
    /// size it implies takes them all).
    pub sequential: Option<Sequential>,
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
    /// The planner's branch catalog (`branches.yaml` or the suite file's `catalog:`).
    pub catalog: Option<BranchCatalog>,
    /// Gates, including the defaults a catalog brings.
    pub gates: Vec<Gate>,
    /// Where each sample's trace file is, when decisions come from traces.
    pub traces: Option<TraceFiles>,
    pub snapshots: SnapshotSettings,
    /// The history store set in the suite (`history.path`); `$EVALGATE_HISTORY` wins, and
    /// the default is `history.sqlite` in the output folder.
    pub history: Option<PathBuf>,
    pub decay: DecayPolicy,
    /// The baseline runs are compared with, when the suite names one.
    pub baseline: Option<BaselinePolicy>,
    /// The most samples one run (one process) may take for adaptive sampling (`budget:`).
    pub budget: Option<u64>,
    /// Named load conditions cases may run under (`load:`).
    pub load: Option<LoadPolicy>,
    /// Prices, time zone and drift level for the operational signals.
    pub signals: SignalsConfig,
    /// When memory counts as changed between envelopes.
    pub memory: MemoryPolicy,
    /// The agent's serving tiers (`tiers:`), when declared; empty: any name goes.
    pub tiers: Vec<String>,
    /// Which JUnit readers `junit.xml` is written for (`junit: {schema: ...}`).
    pub junit: JunitSchema,
    /// The rubrics in force, by id.
    pub rubrics: BTreeMap<String, Rubric>,
    /// The verbosity the suite asks for (`output.verbosity`) and the features it configures.
    pub output: OutputPolicy,
    display_base: Option<RepoRoot>,
}

/// Where each sample's OpenTelemetry trace file is: a path relative to the run folder with
/// `{case}` and `{sample}` filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFiles {
    pub template: String,
}

const DEFAULT_TRACE_PATH: &str = "traces/{case}/{sample}.otlp.jsonl";

impl TraceFiles {
    /// The trace file of one sample under `run_dir`. Case ids are paths (`refunds/eu-1`);
    /// a `.` or `..` segment is neutralised so no id writes outside the run folder.
    pub fn path(&self, run_dir: &Path, case: &str, sample: u32) -> PathBuf {
        let case = case
            .split('/')
            .map(|s| if s == "." || s == ".." { "_" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let relative = self
            .template
            .replace("{case}", &case)
            .replace("{sample}", &sample.to_string());
        run_dir.join(relative)
    }
}

pub const SUITE_FILES: [&str; 2] = ["evalgate.yaml", "evalgate.yml"];

impl Suite {
    /// Loads `dir/evalgate.yaml` (or `.yml`); a folder without one gets the defaults.
    pub fn load(dir: &Path) -> Result<Suite, ConfigError> {
        let display_base = RepoRoot::for_dir(dir);
        let (file, source, path) = read_suite_file(dir, display_base.as_ref())?;
        let at = At {
            path: &path,
            source: &source,
        };
        let mut configured = sections::configured(&file);
        let defaults = sections::defaults(&file.defaults, &at)?;
        let concurrency = sections::concurrency(file.concurrency.as_ref(), &at)?;
        let refusal_patterns = sections::refusal_patterns(&file.refusal.patterns, &at)?;
        let traces = sections::traces(file.traces.as_ref(), &at)?;
        let catalog = load_catalog(dir, file.catalog, &path, &source, display_base.as_ref())?;
        let snapshots = file.snapshots.settings(dir, &path, &source)?;
        let decay_file = file.decay.unwrap_or_default();
        let decay = decay_file.policy(dir, &path, &source)?;
        let rubrics = load_rubrics(&decay_file.rubrics_dir(dir), |p| {
            display(p, display_base.as_ref())
        })?;
        let baseline = match &file.baseline {
            None => None,
            Some(b) => Some(b.policy(dir, &path, &source)?),
        };
        let budget = sections::budget(file.budget.as_ref(), &at)?;
        let memory = sections::memory(file.memory.as_ref(), &at)?;
        let signals = validate_signals(&SignalsFile {
            prices: file.prices,
            time_zone: file.time_zone,
            verbosity: file.verbosity,
        })
        .map_err(|m| ConfigError::new(&path, m))?;
        let load = sections::load(file.load, &at)?;
        let gates = crate::config::gate::load(
            &file.gates,
            &path,
            &source,
            catalog.as_ref(),
            baseline.is_some(),
        )?;
        sections::gate_references(&gates, &file.tiers, load.as_ref(), &at)?;
        configured.extend(
            gates
                .iter()
                .filter(|g| g.declared)
                .filter_map(|g| Feature::of_metric(&g.metric)),
        );
        Ok(Suite {
            name: file.name.unwrap_or_else(|| sections::default_name(dir)),
            dir: dir.to_path_buf(),
            cases_dir: dir.join("cases"),
            target: file.target,
            defaults,
            concurrency,
            retries: RetryPolicy {
                max_retries: file.retries.max.unwrap_or(2),
                max_wait: file
                    .retries
                    .max_wait
                    .map_or(Duration::from_secs(30), |t| t.0),
            },
            inconclusive: file.inconclusive,
            envelope: file.envelope,
            pins: file.pins,
            record_output_bytes: file.limits.record_output_bytes.unwrap_or(16 * 1024),
            response_bytes: file.limits.response_bytes.unwrap_or(10 * 1024 * 1024),
            refusal_patterns,
            catalog,
            gates,
            traces,
            snapshots,
            history: file.history.path.as_ref().map(|p| dir.join(p)),
            decay,
            baseline,
            budget,
            load,
            signals,
            memory,
            tiers: file.tiers,
            junit: file.junit.schema,
            rubrics,
            output: OutputPolicy {
                verbosity: file.output.and_then(|o| o.verbosity),
                configured,
            },
            display_base,
        })
    }

    /// How `path` is shown in messages, JUnit and annotations.
    pub fn display_path(&self, path: &Path) -> PathBuf {
        display(path, self.display_base.as_ref())
    }
}

/// The suite file of `dir` (the defaults when it has none), its text, and its path as
/// messages show it.
fn read_suite_file(
    dir: &Path,
    display_base: Option<&RepoRoot>,
) -> Result<(SuiteFile, String, PathBuf), ConfigError> {
    let Some(path) = SUITE_FILES.iter().map(|f| dir.join(f)).find(|p| p.exists()) else {
        if !dir.is_dir() {
            return Err(ConfigError::new(dir, "evals folder not found")
                .with_help("create evals/evalgate.yaml and evals/cases/, or set EVALGATE_DIR"));
        }
        return Ok((
            SuiteFile::default(),
            String::new(),
            dir.join(SUITE_FILES[0]),
        ));
    };
    let shown = display(&path, display_base);
    let source = crate::yaml::read(&path).map_err(|e| ConfigError {
        path: shown.clone(),
        ..e
    })?;
    let file: SuiteFile = crate::yaml::parse(&shown, &source)?;
    Ok((file, source, shown))
}

/// The catalog in `dir/branches.yaml`, or the one written inline in the suite file (at
/// `suite_path`, whose text is `suite_source`); both at once is an error.
fn load_catalog(
    dir: &Path,
    inline: Option<CatalogFile>,
    suite_path: &Path,
    suite_source: &str,
    display_base: Option<&RepoRoot>,
) -> Result<Option<BranchCatalog>, ConfigError> {
    let file_path = dir.join(CATALOG_FILE);
    let base = suite_path.parent().unwrap_or(Path::new("."));
    match (inline, file_path.exists()) {
        (Some(_), true) => Err(ConfigError::new(
            suite_path,
            format!("the suite has a `catalog:` section and a {CATALOG_FILE} next to it; keep one"),
        )),
        (Some(inline), false) => {
            BranchCatalog::from_file(inline, suite_path, suite_source, base).map(Some)
        }
        (None, true) => {
            let shown = display(&file_path, display_base);
            let source = crate::yaml::read(&file_path).map_err(|e| ConfigError {
                path: shown.clone(),
                ..e
            })?;
            let file: CatalogFile = crate::yaml::parse(&shown, &source)?;
            BranchCatalog::from_file(file, &shown, &source, dir).map(Some)
        }
        (None, false) => Ok(None),
    }
}

fn display(path: &Path, base: Option<&RepoRoot>) -> PathBuf {
    base.map_or_else(|| path.to_path_buf(), |b| b.relative(path))
}
