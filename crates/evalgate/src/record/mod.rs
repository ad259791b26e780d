//! Run records: JSON Lines, one object per line, appended as each sample and case finishes.
//! They are the one source every report is built from, so a crashed or killed run keeps
//! everything that finished, and sharded runs merge into the same reports.
//!
//! Schema version 1. Every line has `schema` and `kind` (`run`, `sample` or `case`). The
//! types are in `format`, writing in `writer`, reading (and merging shards) in `reader`.

mod completion;
pub mod examples;
mod format;
mod policy;
mod reader;
mod writer;

pub use completion::Completion;
#[cfg(feature = "history")]
pub(crate) use completion::Recorded;
pub use format::{
    CaseRecord, EndRecord, OutcomeRecord, Record, RerunRecord, RunRecord, SCHEMA_VERSION,
    SampleRecord, Stop,
};
pub use policy::RunPolicy;
pub use reader::RunData;
pub(crate) use writer::Recorder;
