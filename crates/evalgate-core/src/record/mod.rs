//! The record format: every kind of line a run folder holds, as Rust types (`format`), and
//! records for tests and benches (`examples`). Nothing here reads or writes files: writing
//! a run's records, reading a run folder back and merging shards are `evalgate`'s.

pub mod examples;
mod format;

pub use format::{
    CaseJudgement, CaseRecord, CheckResult, EndRecord, Judge, OutcomeRecord, Record, RerunRecord,
    RunRecord, SCHEMA_VERSION, SampleRecord, Source, Stop,
};
