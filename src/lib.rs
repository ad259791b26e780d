//! evalgate: YAML eval cases for LLM agents, run as a `cargo test` harness with honest
//! verdicts, streamed run records and JUnit. See the README for the case and suite format.
//!
//! Data flow: `case` (YAML → [`Case`]) → `run` (samples through a `target`) → `check`
//! (expectations) → `verdict` → `record` (JSON Lines) → `coverage` (planner branches) and
//! `gate` (policies on the run) → `report` (terminal, JUnit, coverage JSON and LCOV). Beside
//! them: `snapshot` (insta snapshots of outputs), `history` (every run's records in SQLite),
//! `envelope` (the versions under test) and `decay` (when green stopped meaning the product).

mod atomic_file;
mod baseline;
pub mod bisect;
mod case;
mod check;
pub mod cli;
mod commands;
mod console;
mod coverage;
mod decay;
pub mod demo;
mod duration;
mod economics;
mod env;
pub mod envelope;
mod errors;
pub mod exit;
mod gate;
mod harness;
mod history;
pub mod instrument;
mod memory;
mod observation;
mod parallel;
mod provenance;
pub mod proxy;
mod record;
mod report;
mod rerun;
mod run;
pub mod signals;
mod snapshot;
pub mod stats;
mod suite;
mod target;
mod terminal;
mod tickets;
pub mod usage;
mod verdict;
mod yaml;

pub use baseline::{
    Baseline, BaselineCase, BaselineComparison, BaselinePolicy, CaseChange, CaseJudgement, Change,
    Judge,
};
pub use case::{Case, Label, Source, Status, TEST_PREFIX};
pub use check::CheckResult;
pub use coverage::{
    BranchCatalog, BranchCoverage, CatalogBranch, CatalogPoint, Coverage, CoverageBuilder,
    PointCoverage, Risk, StaleSource, TransitionSeen, Transitions, lcov,
};
pub use decay::{
    CaseFacts, CaseMatch, CaseText, DecayContext, DecayFinding, DecayPolicy, DecayReport, Detector,
    Discrimination, HistorySummary, NearInput, ProductionPolicy, ProductionSample,
    Representativeness, RepresentativenessOptions, RetiredCase, Rubric, RubricAgreement, RubricRef,
    SnapshotFacts, UncoveredCluster, representativeness,
};
pub use duration::HumanDuration;
pub use errors::{ConfigError, Error, Position};
pub use gate::{Bound, Gate, GateLevel, Metric};
pub use harness::{Harness, main};
pub use history::{Attempt, CaseVerdictRow, HistoryStore, IngestStats, RunRow};
pub use instrument::{DecisionLayer, install_decision_layer};
pub use memory::{
    AxisChange, CaseMemory, CaseReference, Divergence, MemoryPolicy, MemoryReport, Recall,
    ReferenceRun, jaccard_distance,
};
pub use observation::{Decision, MemoryTurn, Message, Observation, Output, Request, Role, Usage};
pub use record::{
    CaseRecord, Record, RunData, RunPolicy, RunRecord, SCHEMA_VERSION, SampleRecord, Stop,
};
pub use report::{
    Attempts, EarlierAttempt, GateOutcome, GateResult, PooledEvidence, ReportPaths, RunReport,
    Summary, coverage_of, junit_report, write_reports,
};
pub use snapshot::{AcceptedSnapshot, Redaction, SnapshotSettings};
pub use suite::TraceFiles;
pub use suite::{InconclusivePolicy, Suite};
pub use target::{
    Agent, AgentError, CommandConfig, HttpConfig, OpenAiConfig, ResponseMap, TargetConfig,
    TraceDecisions, read_decisions,
};
pub use verdict::{PassRule, SampleVerdict, Verdict};
