//! A fault-injecting HTTP reverse proxy: it sits between an agent under test and its model
//! provider, on `127.0.0.1`, so eval cases can run under named load conditions (latency,
//! injected 429/503/529, slow or cut response streams) declared in the suite's `conditions:`.
//!
//! `config` reads and validates a condition, `plan` decides each request's fate from a seed,
//! `forward` handles one request, `body` shapes the streamed response, `server` runs the
//! listener and counts what happened.

mod body;
use evalgate_core::config::conditions as config;
mod forward;
mod options;
mod plan;
mod server;
#[cfg(test)]
mod tests;

pub use config::{Condition, ConditionFile, FaultStatus, Injection, Share, StatusFault, validate};
pub use options::{ProxyOptions, ProxyStats};
pub use plan::stable_hash;
pub use server::FaultProxy;
