//! evalgate's lowest layer: what every other crate of the workspace speaks in and nothing
//! here imports from above. Errors and exit codes (`errors`, `exit`), the verdict of a case
//! from its samples (`verdict`) and the statistics beneath it (`stats`), what goes to an
//! agent and comes back (`observation`), the record format (`record`), the plain config
//! types of the suite's sections and of a case file (`config`), the suite file validated
//! (`suite`), the versions under test (`envelope`), the output folder and every file
//! written in it (`layout`), every environment variable read, resolved and validated
//! (`env`), what a run says of itself (`provenance`, `repo_path`, `verbosity`), and small
//! tools for files, text and time (`atomic_file`, `yaml`, `duration`, `digest`, `terminal`,
//! `parallel`).
//!
//! Harness users depend on `evalgate`, which re-exports what they need from here; the
//! crate boundaries and the arrows allowed between them are in `ARCHITECTURE.md`.

#![warn(missing_docs, unnameable_types)]

pub mod atomic_file;
#[allow(missing_docs)]
pub mod config;
pub mod digest;
pub mod duration;
#[allow(missing_docs)]
pub mod env;
pub mod envelope;
#[allow(missing_docs)]
pub mod errors;
pub mod exit;
pub mod layout;
#[allow(missing_docs)]
pub mod observation;
pub mod parallel;
#[allow(missing_docs)]
pub mod provenance;
#[allow(missing_docs)]
pub mod record;
#[allow(missing_docs)]
pub mod repo_path;
#[allow(missing_docs)]
pub mod stats;
#[allow(missing_docs)]
pub mod suite;
pub mod terminal;
pub mod verbosity;
#[allow(missing_docs)]
pub mod verdict;
pub mod yaml;
