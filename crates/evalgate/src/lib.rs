//! evalgate: YAML eval cases for LLM agents, run as a `cargo test` harness with honest
//! verdicts, streamed run records and JUnit. See the README for the case and suite format.
//!
//! Where to start: [`main`] is the whole `main` of a `harness = false` test target;
//! [`Harness`] evaluates an in-process [`Agent`] or another evals folder; [`decision!`]
//! reports a planner decision from the agent's code. The record types ([`Record`],
//! [`RunData`]) are the JSON Lines a run leaves in `target/evalgate/`.
//!
//! Data flow: `case` (YAML → `Case`) → `run` (samples through a `target`) → `check`
//! (expectations) → `verdict` → `record` (JSON Lines) → `coverage` (planner branches) and
//! `gate` (policies on the run) → `report` (terminal, JUnit, coverage JSON and LCOV; how much
//! the terminal shows is `output`). Beside
//! them: `snapshot` (insta snapshots of outputs), `history` (every run's records in SQLite),
//! `envelope` (the versions under test) and `decay` (when green stopped meaning the product).

// Every public item documented, and every type a public item reaches nameable (so it has
// a page and its own docs, not a bare name in a signature).
#![warn(missing_docs, unnameable_types)]

mod atomic_file;
mod baseline;
mod bisect;
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
mod output;
mod parallel;
mod provenance;
pub mod proxy;
mod record;
mod repo_path;
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

pub use baseline::{CaseJudgement, Judge};
pub use case::{Label, Source, Status};
pub use check::CheckResult;
pub use coverage::{
    BranchCatalog, BranchCoverage, CatalogBranch, CatalogPoint, Coverage, CoverageBuilder,
    PointCoverage, Risk, StaleSource, TransitionSeen, Transitions,
};
pub use decay::{
    CaseMatch, CaseText, DecayFinding, DecayReport, Detector, Discrimination, HistorySummary,
    NearInput, ProductionSample, Representativeness, RepresentativenessOptions, RetiredCase,
    RubricAgreement, Severity, UncoveredCluster, representativeness,
};
pub use errors::{ConfigError, Error, Position};
pub use harness::{Harness, main};
pub use history::{CaseVerdictRow, HistoryStore, IngestStats, RunRow};
pub use instrument::{DecisionLayer, install_decision_layer};
pub use observation::{Decision, MemoryTurn, Message, Observation, Output, Request, Role, Usage};
pub use output::Verbosity;
pub use record::{
    CaseRecord, Completion, EndRecord, OutcomeRecord, Record, RerunRecord, RunData, RunRecord,
    SCHEMA_VERSION, SampleRecord, Stop,
};
pub use report::{ReportPaths, RunReport, Summary, coverage_of, write_reports};
pub use suite::Suite;
pub use target::{Agent, AgentError, TraceDecisions, read_decisions};
pub use verdict::{SampleVerdict, Verdict};
