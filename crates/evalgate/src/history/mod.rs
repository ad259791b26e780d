//! The run history: the records of every run ingested into one SQLite file, so that what a
//! single run cannot show — a case that always passes, a case that never separates two
//! envelopes, when a model bump came in — can be read across runs. Moved between CI runs as
//! JSON Lines (`export` / `import`), the same lines as run record files.
//!
//! One file, safe to share: several processes may ingest at once (WAL, a busy timeout, and
//! every write one `BEGIN IMMEDIATE` transaction), a failed write leaves nothing behind, and a
//! file that is not an evalgate history, or is newer than this build, is refused untouched.
//!
//! The store is the `history` feature (on by default: SQLite, compiled in). Without it no
//! store is ever opened and history is off, as under `EVALGATE_HISTORY=off`, and every report
//! that would have used it says why ([`OFF_BECAUSE`]).

#[cfg(feature = "history")]
mod ingest;
#[cfg(feature = "history")]
mod jsonl;
#[cfg(not(feature = "history"))]
mod off;
mod rows;
#[cfg(feature = "history")]
mod schema;
#[cfg(feature = "history")]
mod store;

#[cfg(not(feature = "history"))]
pub use off::HistoryStore;
pub(crate) use rows::axes_key;
pub use rows::{CaseVerdictRow, IngestStats, PoolQuery, Pooled, PooledCase, RunRow};
#[cfg(feature = "history")]
pub use store::HistoryStore;

/// Why history can be off, for the messages that say so.
#[cfg(feature = "history")]
pub const OFF_BECAUSE: &str = "history is off (EVALGATE_HISTORY=off)";
/// Why history is off, for the messages that say so.
#[cfg(not(feature = "history"))]
pub const OFF_BECAUSE: &str =
    "history is off: this evalgate was built without its `history` feature (SQLite)";

/// Whether this build can keep a history at all.
pub const AVAILABLE: bool = cfg!(feature = "history");

#[cfg(all(test, feature = "history"))]
mod tests;
