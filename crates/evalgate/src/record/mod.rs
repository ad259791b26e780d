//! Run records: JSON Lines, one object per line, appended as each sample and case finishes.
//! They are the one source every report is built from, so a crashed or killed run keeps
//! everything that finished, and sharded runs merge into the same reports.
//!
//! Schema version 1. Every line has `schema` and `kind` (`run`, `sample` or `case`). The
//! types are `evalgate-core`'s (`evalgate_core::record`), writing is in `writer`, reading
//! (and merging shards) in `reader`.

mod completion;
pub mod examples;
mod policy;
mod reader;
mod writer;

pub use completion::Completion;
#[cfg(feature = "history")]
pub(crate) use completion::Recorded;
pub use evalgate_core::record::{
    CaseJudgement, CaseRecord, CheckResult, EndRecord, Judge, OutcomeRecord, Record, RerunRecord,
    RunRecord, SCHEMA_VERSION, SampleRecord, Source, Stop,
};
pub use policy::RunPolicy;
pub use reader::RunData;
pub(crate) use writer::{Recorder, run_record_of_process};
