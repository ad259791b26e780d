//! evalgate's own integration tests, one binary with a module per concern (one link, one
//! process per test under nextest). Each module runs the real `evalgate` binary, the
//! harness or a user's crate the way people do; `support` holds what they share (also
//! used by benches/). The demo's eval suite is `tests/evals.rs`, a harness of its own.

#[path = "../support/mod.rs"]
mod support;

mod agent_text;
mod bad_input;
mod baseline;
mod bisect;
mod book;
mod cargo_project;
mod command_target;
mod coverage;
mod decay;
mod demo_suite;
mod economics;
mod environment;
mod gate_simulation;
mod github;
mod golden;
mod harness_flags;
mod https;
mod import;
mod instrument;
mod interrupts;
mod junit;
mod live_output;
mod load;
mod memory;
mod quiet_defaults;
mod repo_paths;
mod rerun;
mod sampling;
mod secrets;
mod shards;
mod signals;
mod snapshot_cases;
mod streaming;
mod targets;
mod workflows;
