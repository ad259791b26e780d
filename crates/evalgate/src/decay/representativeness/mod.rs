//! Representativeness: does the suite still look like what users send? Given a sample of
//! production inputs (JSON Lines), it finds the cases each input resembles and reports the
//! share of traffic no case resembles (grouped into clusters, largest first), what each
//! case matches, and the cases no traffic resembles.
//!
//! Texts are compared by the Jaccard similarity of their word shingles ([`text`]): the
//! cases an input may resemble are found with MinHash and LSH ([`minhash`],
//! [`case_index`]), then measured exactly ([`jaccard`]). No network, no model, and a cost
//! per input that does not grow with the number of cases beyond the few that share a band
//! with it. The sample is streamed through a reader and one worker per core
//! ([`pipeline`]); memory holds the cases, a bounded window of batches, a few nearest
//! inputs per case and a bounded table of clusters ([`clusters`]), whatever the size of
//! the sample.

mod analysis;
mod case_index;
mod case_tally;
mod clusters;
mod field;
mod findings;
mod jaccard;
mod matcher;
mod minhash;
mod pipeline;
mod production;
pub mod similar;
mod text;

pub use analysis::{CaseText, ProductionSample, RepresentativenessOptions, analyse};
pub use findings::{CaseMatch, NearInput, Representativeness, UncoveredCluster};
pub use pipeline::{BatchWorker, fan_out, one_per_core};
pub use production::{Batch, BatchReader, is_blank};

#[cfg(test)]
mod tests;
