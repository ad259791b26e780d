//! The serving-tier mix: which tier answered how often, whether that moved since the
//! baseline, and whether a case that forced a tier got it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rate::Rate;
use super::{SignalBaseline, UNREPORTED_TIER, answered, ordinary};
use crate::record::SampleRecord;
use crate::stats::fisher_exact;

/// The tiers that served the answered samples of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TierMix {
    /// Answered samples.
    pub samples: u64,
    /// Every tier served now or in the baseline (`unreported` when the agent did not say).
    pub tiers: BTreeMap<String, TierShare>,
    /// Per tier forced by cases (`tier:`): how often it was the one that served.
    pub forced: BTreeMap<String, ForcedTier>,
}

/// One tier's share of the answered samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TierShare {
    /// Samples it served, over answered samples, with a 95 % interval.
    pub share: Rate,
    /// Its share in the baseline, when there is one.
    pub before: Option<Rate>,
    /// Fisher's exact test, two-sided, of "this tier vs the others" before against now;
    /// None without a baseline or when either run has no answered sample.
    pub p_value: Option<f64>,
}

/// What served the samples that forced one tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ForcedTier {
    /// Samples the forced tier served, over answered samples that forced it. Below 1, the
    /// agent ignored the forced tier: a forced fallback not taken is a fallback untested.
    pub honoured: Rate,
    /// The tiers that actually served them, with counts.
    pub served: BTreeMap<String, u64>,
}

impl TierMix {
    pub(crate) fn of(samples: &[SampleRecord], baseline: Option<&SignalBaseline>) -> TierMix {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut forced: BTreeMap<String, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
        let mut total = 0;
        for sample in samples.iter().filter(|s| answered(s)) {
            let tier = sample.tier.as_deref().unwrap_or(UNREPORTED_TIER);
            if let Some(wanted) = &sample.forced_tier {
                let (honoured, served) = forced.entry(wanted.clone()).or_default();
                *honoured += u64::from(sample.tier.as_ref() == Some(wanted));
                *served.entry(tier.to_string()).or_default() += 1;
            }
            if ordinary(sample) {
                total += 1;
                *counts.entry(tier.to_string()).or_default() += 1;
            }
        }
        // A tier that served in the baseline and no longer does is part of the mix too.
        if let Some(baseline) = baseline {
            for tier in baseline.tiers.keys() {
                counts.entry(tier.clone()).or_default();
            }
        }
        let tiers = counts
            .into_iter()
            .map(|(tier, count)| {
                let before = baseline.map(|b| {
                    let count = b.tiers.get(&tier).copied().unwrap_or(0);
                    (count, b.samples.max(count))
                });
                let p_value = match before {
                    Some((was, n_before)) if n_before > 0 && total > 0 => {
                        Some(fisher_exact(count, total - count, was, n_before - was))
                    }
                    _ => None,
                };
                let share = TierShare {
                    share: Rate::of(count, total),
                    before: before.map(|(was, n)| Rate::of(was, n)),
                    p_value,
                };
                (tier, share)
            })
            .collect();
        let forced = forced
            .into_iter()
            .map(|(tier, (honoured, served))| {
                let n = served.values().sum();
                let forced = ForcedTier {
                    honoured: Rate::of(honoured, n),
                    served,
                };
                (tier, forced)
            })
            .collect();
        TierMix {
            samples: total,
            tiers,
            forced,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::tests::{SampleSpec, sample};

    fn served(tier: Option<&'static str>, forced: Option<&'static str>) -> SampleRecord {
        sample(SampleSpec {
            tier,
            forced_tier: forced,
            ..SampleSpec::default()
        })
    }

    #[test]
    fn shares_intervals_and_fisher_against_the_baseline() {
        // Now: 30 primary, 10 fallback (and 2 errors, left out). Before: 45 primary, 5
        // fallback, 2 `cache`.
        let mut samples: Vec<SampleRecord> =
            (0..30).map(|_| served(Some("primary"), None)).collect();
        samples.extend((0..10).map(|_| served(Some("fallback"), None)));
        samples.extend((0..2).map(|_| {
            sample(SampleSpec {
                tier: Some("fallback"),
                verdict: "error",
                ..SampleSpec::default()
            })
        }));
        let baseline = SignalBaseline {
            samples: 52,
            tiers: BTreeMap::from([
                ("primary".into(), 45),
                ("fallback".into(), 5),
                ("cache".into(), 2),
            ]),
            ..SignalBaseline::default()
        };
        let mix = TierMix::of(&samples, Some(&baseline));
        assert_eq!(mix.samples, 40);
        assert_eq!(
            mix.tiers.keys().collect::<Vec<_>>(),
            ["cache", "fallback", "primary"]
        );
        let fallback = &mix.tiers["fallback"];
        assert_eq!(fallback.share.count, 10);
        assert_eq!(fallback.share.rate, Some(0.25));
        // Wilson 95 % of 10/40: [0.141871, 0.401940] (the score formula in Python).
        let [low, high] = fallback.share.interval.unwrap();
        assert!((low - 0.141_871).abs() < 1e-5 && (high - 0.401_940).abs() < 1e-5);
        assert_eq!(fallback.before.unwrap().rate, Some(5.0 / 52.0));
        // scipy `fisher_exact([[10, 30], [5, 47]])` = 0.085157.
        assert!((fallback.p_value.unwrap() - 0.085_157).abs() < 1e-5);
        // primary: [[30, 10], [45, 7]] → 0.183219.
        assert!((mix.tiers["primary"].p_value.unwrap() - 0.183_219).abs() < 1e-5);
        let cache = &mix.tiers["cache"];
        assert_eq!((cache.share.count, cache.share.rate), (0, Some(0.0)));
        assert_eq!(cache.before.unwrap().count, 2);
        // [[0, 40], [2, 50]] → 0.503106.
        assert!((cache.p_value.unwrap() - 0.503_106).abs() < 1e-5);

        let alone = TierMix::of(&samples, None);
        assert_eq!(alone.tiers.len(), 2);
        assert_eq!(alone.tiers["primary"].before, None);
        assert_eq!(alone.tiers["primary"].p_value, None);
    }

    #[test]
    fn forced_tiers_are_left_out_of_the_mix_and_reported_apart() {
        let samples = [
            served(None, None),
            served(Some("fallback"), Some("fallback")),
            served(Some("fallback"), Some("fallback")),
            served(Some("primary"), Some("fallback")),
            served(None, Some("fallback")),
            served(Some("primary"), Some("primary")),
        ];
        let mix = TierMix::of(&samples, None);
        // Only the sample that forced nothing is in the mix: a case built to force a tier
        // says nothing about normal service.
        assert_eq!(mix.samples, 1);
        assert_eq!(mix.tiers["unreported"].share.count, 1);
        assert!(!mix.tiers.contains_key("primary"), "{mix:?}");
        let fallback = &mix.forced["fallback"];
        assert_eq!((fallback.honoured.count, fallback.honoured.n), (2, 4));
        assert_eq!(
            fallback.served,
            BTreeMap::from([
                ("fallback".to_string(), 2),
                ("primary".to_string(), 1),
                ("unreported".to_string(), 1)
            ])
        );
        assert_eq!(mix.forced["primary"].honoured.rate, Some(1.0));
    }
}
