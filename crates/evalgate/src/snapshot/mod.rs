//! Output snapshots with insta: a `snapshot: true` case stores its normalised, redacted
//! output as `evals/snapshots/<case>.snap` (one file per case, every sample compared with
//! it), reviewed and accepted with `cargo insta review` / `cargo insta accept`. The header
//! of a snapshot records the envelope and date its output was produced under; under CI
//! nothing is written and a missing or different snapshot fails.
//!
//! `settings`: the suite's `snapshots:` section; `normalise`: output → snapshot text;
//! `stored`: file names and reading `.snap` files; `compare`: the comparison and the
//! CI / local policy; `assert`: one call of insta; `process`: process setup for insta.

mod assert;
mod compare;
mod normalise;
mod process;
use evalgate_core::config::snapshots as settings;
mod stored;

pub(crate) use compare::{Action, Comparison, Difference, Mode, Snapshots};
pub(crate) use process::prepare_process;
pub use settings::{Redaction, SnapshotSettings};
pub(crate) use stored::accepted;
