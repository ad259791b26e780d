//! Operational signals from a run's records: capability SLIs (refusals, schema conformance,
//! truncation, silent model bumps), verbosity drift against a baseline, the serving-tier mix,
//! latency (overall, by load condition, by hour of day) and cost. Pure functions of the
//! records, the suite's `signals:` section and an optional baseline; gates, reports and the
//! suite file consume them.
//!
//! `config` (the suite section) · `baseline` (what a later run is compared with) ·
//! `compute` (`signals_of`) · one file per signal (`sli`, `drift`, `tiers`, `latency`,
//! `cost`) over `rate` and `distribution` · `text` and `markdown` render them.

mod baseline;
mod compute;
pub(crate) use evalgate_core::config::signals as config;
mod cost;
mod distribution;
mod drift;
mod latency;
mod markdown;
mod rate;
mod sli;
mod text;
mod tiers;

#[cfg(test)]
mod tests;

pub(crate) use baseline::SignalBaseline;
pub(crate) use compute::{Signals, UNREPORTED_TIER, signals_of};
pub use config::Price;
pub use cost::{Cost, NO_CUSTOMER, sample_cost};
pub(crate) use distribution::Percentiles;
pub(crate) use distribution::nearest_rank;
pub(crate) use drift::VerbosityDrift;
pub(crate) use latency::{Latency, Slice};
pub(crate) use markdown::render_markdown;
pub(crate) use rate::Rate;
pub(crate) use text::render_text;
pub use text::usd;
pub(crate) use tiers::TierMix;

use compute::{Pins, answered, ordinary};
