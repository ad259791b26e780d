//! The run history: the records of every run ingested into one SQLite file, so that what a
//! single run cannot show — a case that always passes, a case that never separates two
//! envelopes, when a model bump came in — can be read across runs. Moved between CI runs as
//! JSON Lines (`export` / `import`), the same lines as run record files.
//!
//! One file, safe to share: several processes may ingest at once (WAL, a busy timeout, and
//! every write one `BEGIN IMMEDIATE` transaction), a failed write leaves nothing behind, and a
//! file that is not an evalgate history, or is newer than this build, is refused untouched.
//!
//! The store is the `sqlite` feature (on by default; `evalgate`'s `history` feature turns it
//! on: SQLite, compiled in). Without it no store is ever opened and history is off, as under
//! `EVALGATE_HISTORY=off`, and every report that would have used it says why
//! ([`OFF_BECAUSE`]).
//!
//! A crate of its own above `evalgate-core` (records, errors, envelopes), so the store
//! depends on nothing that analyses or reports what it holds.

#![warn(missing_docs, unnameable_types)]

// The core crate's modules, under the names the store's code uses for them.
use evalgate_core::{envelope, errors, record, verdict};

#[cfg(feature = "sqlite")]
mod ingest;
#[cfg(feature = "sqlite")]
mod jsonl;
#[cfg(not(feature = "sqlite"))]
mod off;
mod rows;
#[cfg(feature = "sqlite")]
mod schema;
#[cfg(feature = "sqlite")]
mod store;

#[cfg(not(feature = "sqlite"))]
pub use off::HistoryStore;
pub use rows::axes_key;
pub use rows::{Attempt, CaseVerdictRow, IngestStats, PoolQuery, Pooled, PooledCase, RunRow};
#[cfg(feature = "sqlite")]
pub use store::HistoryStore;

/// Why history can be off, for the messages that say so.
#[cfg(feature = "sqlite")]
pub const OFF_BECAUSE: &str = "history is off (EVALGATE_HISTORY=off)";
/// Why history is off, for the messages that say so.
#[cfg(not(feature = "sqlite"))]
pub const OFF_BECAUSE: &str =
    "history is off: this evalgate was built without its `history` feature (SQLite)";

/// Whether this build can keep a history at all.
pub const AVAILABLE: bool = cfg!(feature = "sqlite");

#[cfg(all(test, feature = "sqlite"))]
mod tests;
