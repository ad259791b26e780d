//! The `evalgate` commands that are not a test run and have their own arguments: each
//! module holds its clap arguments and what the command does; `cli` only dispatches.

mod active;
pub(crate) mod bisect;
pub(crate) mod cost;
pub(crate) mod economics;
pub(crate) mod history;
pub(crate) mod import;
pub(crate) mod memory;
pub(crate) mod plan;
pub(crate) mod runs;
