//! The suite file's sections as they are written (serde's view of `evalgate.yaml`); `Suite`
//! is what they become once validated.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    pub name: Option<String>,
    pub target: Option<TargetConfig>,
    #[serde(default)]
    pub defaults: DefaultsFile,
    pub concurrency: Option<serde_saphyr::Spanned<usize>>,
    #[serde(default)]
    pub retries: RetriesFile,
    #[serde(default)]
    pub inconclusive: InconclusivePolicy,
    #[serde(default)]
    pub envelope: BTreeMap<String, String>,
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
    #[serde(default)]
    pub limits: LimitsFile,
    #[serde(default)]
    pub refusal: RefusalFile,
    /// The branch catalog, when it is not in its own `branches.yaml`.
    pub catalog: Option<CatalogFile>,
    #[serde(default)]
    pub gates: Vec<GateFile>,
    /// Which JUnit readers `junit.xml` is written for.
    #[serde(default)]
    pub junit: JunitFile,
    /// Read each sample's decisions from an OpenTelemetry trace file the agent writes.
    pub traces: Option<TracesFile>,
    /// Where `snapshot: true` cases keep their `.snap` files, and what is redacted.
    #[serde(default)]
    pub snapshots: SnapshotsFile,
    /// The run-history store.
    #[serde(default)]
    pub history: HistoryFile,
    /// Snapshot-decay policy: review age, rubrics, saturation, production sample.
    pub decay: Option<DecayFile>,
    /// What runs are compared with, and how.
    pub baseline: Option<BaselineFile>,
    /// The most samples one run may take for adaptive sampling.
    pub budget: Option<BudgetFile>,
    /// Load conditions and the fault-injecting proxy that makes them.
    pub load: Option<LoadFile>,
    /// Operational signals: prices per model, the time zone of the hour-of-day breakdown,
    /// the verbosity-drift test's level.
    #[serde(default)]
    pub prices: BTreeMap<String, PriceFile>,
    /// The agent's serving tiers, when declared: cases and gates may name only these.
    #[serde(default)]
    pub tiers: Vec<String>,
    pub time_zone: Option<String>,
    pub verbosity: Option<VerbosityFile>,
    /// When an agent's effective past counts as changed between envelopes.
    pub memory: Option<MemoryFile>,
    /// How much the terminal report shows.
    pub output: Option<OutputFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputFile {
    pub verbosity: Option<Verbosity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JunitFile {
    #[serde(default)]
    pub schema: JunitSchema,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryFile {
    pub divergence: Option<serde_saphyr::Spanned<f64>>,
    pub alpha: Option<serde_saphyr::Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadFile {
    pub upstream: String,
    pub env: Option<String>,
    pub timeout: Option<HumanDuration>,
    #[serde(default)]
    pub conditions: BTreeMap<String, ConditionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetFile {
    pub samples: serde_saphyr::Spanned<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryFile {
    pub path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracesFile {
    pub path: Option<serde_saphyr::Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultsFile {
    pub samples: Option<serde_saphyr::Spanned<SamplesFile>>,
    pub pass: Option<PassRule>,
    pub sequential: Option<Sequential>,
    pub timeout: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetriesFile {
    pub max: Option<u32>,
    pub max_wait: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    pub record_output_bytes: Option<usize>,
    pub response_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusalFile {
    #[serde(default)]
    pub patterns: Vec<String>,
}
