//! Reports, each built from run records alone: the terminal summary, JUnit XML, planner
//! coverage (JSON and LCOV) and the gate decision. The same records give the same reports
//! whether they came from `cargo test`, one nextest process per case, or several CI shards.

mod attempts;
mod baseline_text;
mod coverage_text;
mod decay;
mod decay_text;
mod gates;
pub mod github;
mod junit;
mod junit_decay;
mod junit_doc;
pub mod markdown;
mod measured;
mod rerun_text;
mod run_report;
mod signal_gates;
mod summary;
mod write;
mod xml;

pub use attempts::Attempts;
pub use decay::{history_path, preflight};
pub use gates::{GateInputs, GateResult, evaluate};
pub use junit::JunitSchema;
pub use run_report::{RunReport, coverage_of};
pub(crate) use run_report::{decay_shown, first_failing_line, first_failing_lines};
pub use summary::Summary;
pub(crate) use write::write_in_progress;
pub use write::{ReportPaths, write_reports};
pub use xml::{escape as xml_escape, xml_safe};

pub(crate) use crate::terminal::shown;
