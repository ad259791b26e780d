//! The run history: the records of every run ingested into one SQLite file, so that what a
//! single run cannot show — a case that always passes, a case that never separates two
//! envelopes, when a model bump came in — can be read across runs. Moved between CI runs as
//! JSON Lines (`export` / `import`), the same lines as run record files.
//!
//! One file, safe to share: several processes may ingest at once (WAL, a busy timeout, and
//! every write one `BEGIN IMMEDIATE` transaction), a failed write leaves nothing behind, and a
//! file that is not an evalgate history, or is newer than this build, is refused untouched.

mod ingest;
mod jsonl;
mod schema;
mod store;

pub use ingest::IngestStats;
pub(crate) use ingest::axes_key;
pub use store::{CaseVerdictRow, HistoryStore, PoolQuery, Pooled, PooledCase, RunRow};

#[cfg(test)]
mod tests;
