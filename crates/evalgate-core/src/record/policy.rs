//! The policy a run was made under — the branch catalog, the gates, the suite's active
//! cases — saved as `suite.json` in the run folder, so reports rebuilt from records (after
//! nextest, after merging shards) apply exactly what the run was checked against.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SCHEMA_VERSION;
use super::decay::DecayContext;
use crate::atomic_file::write_atomic;
use crate::config::baseline::BaselinePolicy;
use crate::config::catalog::BranchCatalog;
use crate::config::gate::Gate;
use crate::config::junit::JunitSchema;
use crate::config::memory::MemoryPolicy;
use crate::config::output::OutputPolicy;
use crate::config::signals::SignalsConfig;
use crate::errors::{DataError, Error};
use crate::layout::RunFolder;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunPolicy {
    pub schema: u32,
    pub suite: String,
    pub catalog: Option<BranchCatalog>,
    #[serde(default)]
    pub gates: Vec<Gate>,
    /// The ids of the suite's active cases (not drafts, not retired), when the process
    /// that wrote this discovered the whole suite (not under `--exact`). Coverage gates
    /// apply only to runs that ran all of them.
    pub cases: Option<Vec<String>>,
    /// What decay detection needs to know about the suite, from the same full discovery.
    #[serde(default)]
    pub decay: Option<DecayContext>,
    /// The baseline to compare with, when the suite names one.
    #[serde(default)]
    pub baseline: Option<BaselinePolicy>,
    /// Prices, time zone and drift level for the operational signals.
    #[serde(default)]
    pub signals: SignalsConfig,
    /// When memory counts as changed between envelopes.
    #[serde(default)]
    pub memory: MemoryPolicy,
    /// Which JUnit readers `junit.xml` is written for.
    #[serde(default)]
    pub junit: JunitSchema,
    /// The verbosity the suite asks for and the features it configures (the terminal
    /// report's sections).
    #[serde(default)]
    pub output: OutputPolicy,
}

impl RunPolicy {
    pub fn new(
        suite: String,
        catalog: Option<BranchCatalog>,
        gates: Vec<Gate>,
        cases: Option<Vec<String>>,
        decay: Option<DecayContext>,
        baseline: Option<BaselinePolicy>,
        signals: SignalsConfig,
    ) -> Self {
        RunPolicy {
            schema: SCHEMA_VERSION,
            suite,
            catalog,
            gates,
            cases,
            decay,
            baseline,
            signals,
            memory: MemoryPolicy::default(),
            junit: JunitSchema::default(),
            output: OutputPolicy::default(),
        }
    }

    /// The policy with the suite's memory settings.
    pub fn with_memory(mut self, memory: MemoryPolicy) -> Self {
        self.memory = memory;
        self
    }

    /// The policy writing `junit.xml` for `schema`'s readers.
    pub fn with_junit(mut self, schema: JunitSchema) -> Self {
        self.junit = schema;
        self
    }

    /// The policy with the suite's output settings.
    pub fn with_output(mut self, output: OutputPolicy) -> Self {
        self.output = output;
        self
    }

    /// Writes the policy into `run_dir`. A process that ran one case with `--exact` (one
    /// nextest process per case) does not know the suite's cases: it writes only when no
    /// policy is there yet, without reading it (start-up cost), so it never replaces one
    /// that knows them. All processes of a run load the same suite.
    pub fn save(&self, run_dir: &Path) -> Result<(), Error> {
        let path = RunFolder::new(run_dir).policy();
        if self.cases.is_none() && path.exists() {
            return Ok(());
        }
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("serializing the run policy failed: {e}")))?;
        write_atomic(&path, &json)
    }

    pub fn load(path: &Path) -> Result<RunPolicy, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        let policy: RunPolicy = serde_json::from_str(&text)
            .map_err(|e| DataError::new(path, format!("not a run policy: {e}")).caused_by(e))?;
        if policy.schema != SCHEMA_VERSION {
            return Err(DataError::new(
                path,
                format!(
                    "run policy schema {} is not supported by this evalgate (schema \
                     {SCHEMA_VERSION})",
                    policy.schema
                ),
            )
            .into());
        }
        Ok(policy)
    }
}
