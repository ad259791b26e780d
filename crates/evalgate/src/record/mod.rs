//! Run records: the format, the run's policy and reading them back are `evalgate-core`'s
//! (`evalgate_core::record`, re-exported here); writing them as a run goes is here, in
//! `writer`: one file per process, one `write` per line, secrets shown as placeholders.

mod writer;

pub use evalgate_core::record::*;
pub(crate) use writer::{Recorder, run_record_of_process};
