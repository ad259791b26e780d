//! Operational signals from a run's records: capability SLIs (refusals, schema conformance,
//! truncation, silent model bumps), verbosity drift against a baseline, the serving-tier mix,
//! latency (overall, by load condition, by hour of day) and cost. Pure functions of the
//! records, the suite's `signals:` section and an optional baseline; gates, reports and the
//! suite file consume them.
//!
//! `config` (the suite section) · `baseline` (what a later run is compared with) ·
//! `compute` ([`signals_of`]) · one file per signal (`sli`, `drift`, `tiers`, `latency`,
//! `cost`) over `rate` and `distribution` · `text` and `markdown` render them.

mod baseline;
mod compute;
pub(crate) mod config;
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

pub use baseline::{MAX_OUTPUT_LENGTHS, SignalBaseline};
pub use compute::{Signals, UNREPORTED_TIER, signals_of};
pub use config::{
    DEFAULT_TIME_ZONE, DEFAULT_VERBOSITY_ALPHA, NO_CONDITION, Price, PriceFile, SignalsConfig,
    SignalsFile, VerbosityFile, time_zone, validate,
};
pub use cost::{
    CaseCost, Cost, NO_CUSTOMER, Spend, TopShare, UNKNOWN_MODEL, billed_model, sample_cost,
};
pub use distribution::Percentiles;
pub(crate) use distribution::nearest_rank;
pub use drift::{MIN_SAMPLES_PER_SIDE, MannWhitney, VerbosityDrift, mann_whitney_u};
pub use latency::{Latency, Slice};
pub use markdown::render_markdown;
pub use rate::Rate;
pub use sli::{ModelBumps, Slis};
pub use text::render_text;
pub(crate) use text::usd;
pub use tiers::{ForcedTier, TierMix, TierShare};

use compute::{Pins, answered, ordinary};
