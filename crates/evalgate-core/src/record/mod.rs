//! Run records: JSON Lines, one object per line, appended as each sample and case finishes.
//! They are the one source every report is built from, so a crashed or killed run keeps
//! everything that finished, and sharded runs merge into the same reports.
//!
//! Schema version 1. Every line has `schema` and `kind` (`run`, `sample` or `case`). The
//! types of the lines are in `format`; the policy a run was made under (`suite.json`) in
//! `policy`, with what decay needs to know of the suite in `decay`; reading a run folder
//! back (and merging shards) in `reader`; whether a run finished in `completion`; records
//! for tests and benches in `examples`. Writing records as a run goes is `evalgate`'s.

mod completion;
mod decay;
pub mod examples;
mod format;
mod policy;
mod reader;

pub use completion::{Completion, Recorded};
pub use decay::{CaseFacts, DecayContext, SnapshotFacts};
pub use format::{
    CaseJudgement, CaseRecord, CheckResult, EndRecord, Judge, OutcomeRecord, RECALLED, Record,
    RerunRecord, RunRecord, SCHEMA_VERSION, SampleRecord, Source, Stop,
};
pub use policy::RunPolicy;
pub use reader::RunData;
