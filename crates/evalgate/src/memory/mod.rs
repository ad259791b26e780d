//! Memory divergence: whether an agent's effective past — what its memory retained of the
//! conversation, and what it can still recall — changed between two envelopes.
//!
//! An agent whose memory evicts by recency (LRU) or frequency (LFU) keeps the same items
//! whatever model reads them; one that evicts by model-scored salience keeps different
//! items after every model upgrade, and answers from a different past. Agents report the
//! retained set after each turn ([`MemoryTurn`](crate::observation::MemoryTurn)); cases
//! probe recall (`recalled:`). This module compares each case of a run with that case in a
//! reference run of the history: the Jaccard divergence of the retained sets (beyond the
//! reference's own divergence between samples) and the change in recall, and flags the
//! cases whose effective past changed.

mod compare;
mod permutation;
mod text;

pub use compare::{
    AxisChange, CaseMemory, CaseReference, Divergence, MemoryReport, Recall, ReferenceRun, compare,
    jaccard_distance,
};
pub(crate) use evalgate_core::config::memory as policy;
pub use policy::MemoryPolicy;
pub(crate) use text::gate_details;
pub use text::render;
