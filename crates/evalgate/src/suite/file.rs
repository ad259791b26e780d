//! The suite file's sections as they are written (serde's view of `evalgate.yaml`); `Suite`
//! is what they become once validated.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuiteFile {
    pub(super) name: Option<String>,
    pub(super) target: Option<TargetConfig>,
    #[serde(default)]
    pub(super) defaults: DefaultsFile,
    pub(super) concurrency: Option<serde_saphyr::Spanned<usize>>,
    #[serde(default)]
    pub(super) retries: RetriesFile,
    #[serde(default)]
    pub(super) inconclusive: InconclusivePolicy,
    #[serde(default)]
    pub(super) envelope: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) pins: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) limits: LimitsFile,
    #[serde(default)]
    pub(super) refusal: RefusalFile,
    /// The branch catalog, when it is not in its own `branches.yaml`.
    pub(super) catalog: Option<CatalogFile>,
    #[serde(default)]
    pub(super) gates: Vec<GateFile>,
    /// Which JUnit readers `junit.xml` is written for.
    #[serde(default)]
    pub(super) junit: JunitFile,
    /// Read each sample's decisions from an OpenTelemetry trace file the agent writes.
    pub(super) traces: Option<TracesFile>,
    /// Where `snapshot: true` cases keep their `.snap` files, and what is redacted.
    #[serde(default)]
    pub(super) snapshots: SnapshotsFile,
    /// The run-history store.
    #[serde(default)]
    pub(super) history: HistoryFile,
    /// Snapshot-decay policy: review age, rubrics, saturation, production sample.
    pub(super) decay: Option<DecayFile>,
    /// What runs are compared with, and how.
    pub(super) baseline: Option<BaselineFile>,
    /// The most samples one run may take for adaptive sampling.
    pub(super) budget: Option<BudgetFile>,
    /// Load conditions and the fault-injecting proxy that makes them.
    pub(super) load: Option<LoadFile>,
    /// Operational signals: prices per model, the time zone of the hour-of-day breakdown,
    /// the verbosity-drift test's level.
    #[serde(default)]
    pub(super) prices: BTreeMap<String, PriceFile>,
    /// The agent's serving tiers, when declared: cases and gates may name only these.
    #[serde(default)]
    pub(super) tiers: Vec<String>,
    pub(super) time_zone: Option<String>,
    pub(super) verbosity: Option<VerbosityFile>,
    /// When an agent's effective past counts as changed between envelopes.
    pub(super) memory: Option<MemoryFile>,
    /// How much the terminal report shows.
    pub(super) output: Option<OutputFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OutputFile {
    pub(super) verbosity: Option<Verbosity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JunitFile {
    #[serde(default)]
    pub(super) schema: JunitSchema,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MemoryFile {
    pub(super) divergence: Option<serde_saphyr::Spanned<f64>>,
    pub(super) alpha: Option<serde_saphyr::Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LoadFile {
    pub(super) upstream: String,
    pub(super) env: Option<String>,
    pub(super) timeout: Option<HumanDuration>,
    #[serde(default)]
    pub(super) conditions: BTreeMap<String, ConditionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BudgetFile {
    pub(super) samples: serde_saphyr::Spanned<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HistoryFile {
    pub(super) path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TracesFile {
    pub(super) path: Option<serde_saphyr::Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DefaultsFile {
    pub(super) samples: Option<serde_saphyr::Spanned<SamplesFile>>,
    pub(super) pass: Option<PassRule>,
    pub(super) sequential: Option<Sequential>,
    pub(super) timeout: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RetriesFile {
    pub(super) max: Option<u32>,
    pub(super) max_wait: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LimitsFile {
    pub(super) record_output_bytes: Option<usize>,
    pub(super) response_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RefusalFile {
    #[serde(default)]
    pub(super) patterns: Vec<String>,
}
