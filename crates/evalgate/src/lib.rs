//! evalgate: YAML eval cases for LLM agents, run as a `cargo test` harness with honest
//! verdicts, streamed run records and JUnit. The case and suite format are in the book (docs/src/ in the repository).
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

// The lowest layer is a crate of its own, `evalgate-core`; its modules keep their paths here.
#[doc(hidden)]
pub use evalgate_core::config::gate;
#[doc(hidden)]
pub use evalgate_core::{
    atomic_file, config, digest, duration, env, errors, layout, observation, parallel, provenance,
    repo_path, stats, suite, terminal, verdict, yaml,
};
#[doc(inline)]
pub use evalgate_core::{envelope, exit};
#[doc(hidden)]
pub use evalgate_history as history;

#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod baseline;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod case;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod check;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod console;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod coverage;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod decay;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod harness;
pub mod instrument;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod memory;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod output;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod proxy;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod record;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod report;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod rerun;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod run;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod serve;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod signals;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod snapshot;
#[doc(hidden)]
#[allow(missing_docs, unnameable_types)]
pub mod target;

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
pub use errors::{ConfigError, Error, IoAction, Position};
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
