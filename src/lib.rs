//! evalgate: YAML eval cases for LLM agents, run as a `cargo test` harness with honest
//! verdicts, streamed run records and JUnit. See the README for the case and suite format.
//!
//! Data flow: `case` (YAML → [`Case`]) → `run` (samples through a `target`) → `check`
//! (expectations) → `verdict` → `record` (JSON Lines) → `report` (terminal, JUnit).

mod case;
mod check;
pub mod cli;
pub mod demo;
mod duration;
mod errors;
pub mod exit;
mod harness;
mod observation;
mod record;
mod report;
mod run;
pub mod stats;
mod suite;
mod target;
mod verdict;
mod yaml;

pub use case::{Case, Source, Status, TEST_PREFIX};
pub use check::CheckResult;
pub use duration::HumanDuration;
pub use errors::{ConfigError, Error, Position};
pub use harness::{Harness, main};
pub use observation::{Decision, Message, Observation, Output, Request, Role, Usage};
pub use record::{CaseRecord, Record, RunData, RunRecord, SCHEMA_VERSION, SampleRecord};
pub use report::{ReportPaths, Summary, junit_report, write_reports};
pub use suite::{InconclusivePolicy, Suite};
pub use target::{
    Agent, AgentError, CommandConfig, HttpConfig, OpenAiConfig, ResponseMap, TargetConfig,
};
pub use verdict::{PassRule, SampleVerdict, Verdict};
