//! All the signals of a run at once, from its records.

use std::collections::HashMap;

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::SignalBaseline;
use super::config::{DEFAULT_TIME_ZONE, SignalsConfig, time_zone};
use super::cost::Cost;
use super::drift::VerbosityDrift;
use super::latency::Latency;
use super::sli::Slis;
use super::tiers::TierMix;
use crate::record::{RunData, RunRecord, SampleRecord};
use crate::verdict::SampleVerdict;

/// The tier of samples whose agent did not say which tier served them.
pub const UNREPORTED_TIER: &str = "unreported";

/// The operational signals of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Signals {
    /// Every sample.
    pub samples: u64,
    /// Samples that passed or failed (not errored): the population of most signals.
    pub answered: u64,
    pub sli: Slis,
    pub verbosity: VerbosityDrift,
    pub tiers: TierMix,
    pub latency: Latency,
    pub cost: Cost,
    /// What could not be measured as configured, for people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The signals of `data` under `config`, compared with `baseline` where one is given
/// (verbosity drift, tier shares before).
pub fn signals_of(
    data: &RunData,
    config: &SignalsConfig,
    baseline: Option<&SignalBaseline>,
) -> Signals {
    let samples = &data.samples;
    let pins = Pins::of(&data.runs);
    let mut notes = Vec::new();
    // The suite's zone was checked when the run started; a policy read on another machine
    // may name one this machine's database lacks.
    let (zone, zone_name) = match time_zone(&config.time_zone) {
        Ok(zone) => (zone, config.time_zone.as_str()),
        Err(e) => {
            notes.push(format!("{e}; hours of day are in UTC"));
            (TimeZone::UTC, DEFAULT_TIME_ZONE)
        }
    };
    let lengths: Vec<f64> = samples
        .iter()
        .filter(|s| ordinary(s))
        .map(|s| s.output_bytes as f64)
        .collect();
    Signals {
        samples: samples.len() as u64,
        answered: samples.iter().filter(|s| answered(s)).count() as u64,
        sli: Slis::of(samples, &pins),
        verbosity: VerbosityDrift::of(&lengths, baseline, config.verbosity_alpha),
        tiers: TierMix::of(samples, baseline),
        latency: Latency::of(samples, &zone, zone_name),
        cost: Cost::of(samples, &pins, &config.prices),
        notes,
    }
}

/// Whether the sample was answered (passed or failed) rather than errored.
pub(crate) fn answered(sample: &SampleRecord) -> bool {
    sample.verdict != SampleVerdict::Error
}

/// Whether the sample is an ordinary one: answered, under no load condition and with no
/// forced tier. SLIs, the tier mix, overall latency and output lengths are measured on
/// these alone: a case built to force the canned tier, or a run under injected latency,
/// says nothing about the agent in normal service (those have their own slices).
pub(crate) fn ordinary(sample: &SampleRecord) -> bool {
    answered(sample) && sample.condition.is_none() && sample.forced_tier.is_none()
}

/// The model each run pins (`envelope.model`), by run id.
pub(crate) struct Pins {
    by_run: HashMap<String, Option<String>>,
    /// The first run record's pin, for samples whose run record is missing (shards of one
    /// suite pin the same model).
    first: Option<String>,
}

impl Pins {
    pub(crate) fn of(runs: &[RunRecord]) -> Pins {
        let mut by_run = HashMap::new();
        for run in runs {
            by_run
                .entry(run.run_id.clone())
                .or_insert_with(|| run.envelope.get("model").cloned());
        }
        Pins {
            by_run,
            first: runs.first().and_then(|r| r.envelope.get("model").cloned()),
        }
    }

    /// The model pinned for the run of `sample`.
    pub(crate) fn of_sample(&self, sample: &SampleRecord) -> Option<&str> {
        match self.by_run.get(&sample.run_id) {
            Some(pin) => pin.as_deref(),
            None => self.first.as_deref(),
        }
    }
}
