//! What the signals of a later run are compared with: the tier mix, the refusals and the
//! output lengths of a baseline run, small enough to live inside the baseline file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{UNREPORTED_TIER, ordinary};
use crate::record::SampleRecord;

/// The most output lengths a baseline keeps. A Mann-Whitney test on 20,000 values per side
/// already detects a shift of a few percent of a standard deviation; more only grows the file.
pub const MAX_OUTPUT_LENGTHS: usize = 20_000;

/// The signals of a baseline run that a later run is tested against. Errored samples are
/// left out, as they are of the run compared with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SignalBaseline {
    /// Answered samples (pass or fail).
    pub samples: u64,
    /// Answered samples by the tier that served them (`unreported` when none was reported).
    pub tiers: BTreeMap<String, u64>,
    /// Answered samples that refused.
    pub refusals: u64,
    /// Answered samples whose refusal is known (reported or detected).
    pub refusal_known: u64,
    /// Output lengths in bytes, sorted ascending; at most [`MAX_OUTPUT_LENGTHS`] of them.
    pub output_bytes: Vec<u64>,
}

impl SignalBaseline {
    /// The baseline signals of `samples`. Output lengths beyond [`MAX_OUTPUT_LENGTHS`] are
    /// thinned by even subsampling of the sorted lengths — the value at the middle of each
    /// of `MAX_OUTPUT_LENGTHS` equal slices — so the kept values are quantiles of the whole
    /// and the result does not depend on record order (shards merge in any order).
    pub fn of(samples: &[SampleRecord]) -> SignalBaseline {
        let mut baseline = SignalBaseline::default();
        for sample in samples.iter().filter(|s| ordinary(s)) {
            baseline.samples += 1;
            let tier = sample.tier.as_deref().unwrap_or(UNREPORTED_TIER);
            *baseline.tiers.entry(tier.to_string()).or_default() += 1;
            if let Some(refused) = sample.refusal {
                baseline.refusal_known += 1;
                baseline.refusals += u64::from(refused);
            }
            baseline.output_bytes.push(sample.output_bytes as u64);
        }
        baseline.output_bytes.sort_unstable();
        baseline.output_bytes = thin(&baseline.output_bytes, MAX_OUTPUT_LENGTHS);
        baseline
    }
}

/// At most `keep` of `sorted`: all of them when they fit, else the middle value of each of
/// `keep` equal slices.
fn thin(sorted: &[u64], keep: usize) -> Vec<u64> {
    if sorted.len() <= keep {
        return sorted.to_vec();
    }
    let len = sorted.len() as u128;
    let keep128 = keep as u128;
    (0..keep128)
        .map(|i| sorted[((2 * i + 1) * len / (2 * keep128)) as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::tests::{SampleSpec, sample};

    #[test]
    fn a_baseline_counts_answered_samples_only() {
        let samples = [
            sample(SampleSpec {
                tier: Some("primary"),
                refusal: Some(false),
                output_bytes: 30,
                ..SampleSpec::default()
            }),
            sample(SampleSpec {
                tier: Some("fallback"),
                refusal: Some(true),
                output_bytes: 10,
                verdict: "fail",
                ..SampleSpec::default()
            }),
            sample(SampleSpec {
                tier: None,
                refusal: None,
                output_bytes: 20,
                ..SampleSpec::default()
            }),
            sample(SampleSpec {
                tier: Some("primary"),
                refusal: Some(true),
                output_bytes: 999,
                verdict: "error",
                ..SampleSpec::default()
            }),
        ];
        let baseline = SignalBaseline::of(&samples);
        assert_eq!(baseline.samples, 3);
        assert_eq!(
            baseline.tiers,
            BTreeMap::from([
                ("primary".to_string(), 1),
                ("fallback".to_string(), 1),
                ("unreported".to_string(), 1)
            ])
        );
        assert_eq!((baseline.refusals, baseline.refusal_known), (1, 2));
        assert_eq!(baseline.output_bytes, [10, 20, 30]);
        let json = serde_json::to_string(&baseline).unwrap();
        assert_eq!(
            serde_json::from_str::<SignalBaseline>(&json).unwrap(),
            baseline
        );
    }

    #[test]
    fn output_lengths_are_thinned_evenly_and_in_any_order() {
        let sorted: Vec<u64> = (0..100).collect();
        assert_eq!(thin(&sorted, 4), [12, 37, 62, 87]);
        assert_eq!(thin(&sorted, 100), sorted);
        assert_eq!(thin(&sorted[..3], 4), [0, 1, 2]);

        let mut many: Vec<SampleRecord> = (0..25_000u64)
            .map(|i| {
                sample(SampleSpec {
                    output_bytes: (i * 7919) % 25_000,
                    ..SampleSpec::default()
                })
            })
            .collect();
        let baseline = SignalBaseline::of(&many);
        assert_eq!(baseline.samples, 25_000);
        assert_eq!(baseline.output_bytes.len(), MAX_OUTPUT_LENGTHS);
        assert!(baseline.output_bytes.is_sorted());
        // 0..25,000 thinned to 20,000: the median survives.
        assert_eq!(baseline.output_bytes[10_000], 12_500);
        many.reverse();
        assert_eq!(SignalBaseline::of(&many), baseline);
    }
}
