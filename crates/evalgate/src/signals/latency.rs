//! Latency and pass rate where they bend: overall, under each named load condition, and by
//! hour of day in the suite's time zone (a provider slow at 9 a.m. in New York shows here).

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::config::NO_CONDITION;
use super::distribution::Percentiles;
use super::rate::Rate;
use super::{answered, ordinary};
use crate::record::SampleRecord;
use crate::verdict::SampleVerdict;

/// The latency signals of a run. Percentiles are nearest rank over answered samples
/// (errored samples' latency is the time it took to fail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Latency {
    /// `latency_ms` of answered samples.
    pub overall: Option<Percentiles>,
    /// Time to first token, when any answered sample was streamed.
    pub ttft: Option<Percentiles>,
    /// By load condition (`none` for samples under none).
    pub conditions: BTreeMap<String, Slice>,
    /// By the hour (0–23) the sample started, in `time_zone`; only hours with samples.
    pub hours: BTreeMap<u8, Slice>,
    /// The time zone of `hours`.
    pub time_zone: String,
}

/// The samples of one condition or one hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Slice {
    /// All samples, errored ones included.
    pub samples: u64,
    /// Samples that errored.
    pub errors: u64,
    /// Passing samples over all samples, with a 95 % interval: an errored sample (a timeout
    /// under injected latency) did not pass, so it counts against the rate.
    pub pass_rate: Rate,
    /// `latency_ms` of the answered samples.
    pub latency: Option<Percentiles>,
}

/// A slice being gathered.
#[derive(Default)]
struct Tally {
    samples: u64,
    errors: u64,
    passes: u64,
    latencies: Vec<f64>,
}

impl Tally {
    fn add(&mut self, sample: &SampleRecord) {
        self.samples += 1;
        match sample.verdict {
            SampleVerdict::Error => self.errors += 1,
            SampleVerdict::Pass => self.passes += 1,
            SampleVerdict::Fail => {}
        }
        if answered(sample) {
            self.latencies.push(sample.latency_ms);
        }
    }

    fn slice(self) -> Slice {
        Slice {
            samples: self.samples,
            errors: self.errors,
            pass_rate: Rate::of(self.passes, self.samples),
            latency: Percentiles::of(self.latencies),
        }
    }
}

impl Latency {
    /// `zone` is the one named `time_zone` (already resolved).
    pub(crate) fn of(samples: &[SampleRecord], zone: &TimeZone, time_zone: &str) -> Latency {
        let mut conditions: BTreeMap<String, Tally> = BTreeMap::new();
        let mut hours: BTreeMap<u8, Tally> = BTreeMap::new();
        for sample in samples {
            let condition = sample.condition.as_deref().unwrap_or(NO_CONDITION);
            // Looked up before inserting: one String per condition, not per sample.
            match conditions.get_mut(condition) {
                Some(tally) => tally.add(sample),
                None => conditions
                    .entry(condition.to_string())
                    .or_default()
                    .add(sample),
            }
            if sample.condition.is_none() && sample.forced_tier.is_none() {
                let hour = zone.to_datetime(sample.started_at).hour();
                hours.entry(hour as u8).or_default().add(sample);
            }
        }
        let answered_samples = || samples.iter().filter(|s| ordinary(s));
        Latency {
            overall: Percentiles::of(answered_samples().map(|s| s.latency_ms)),
            ttft: Percentiles::of(answered_samples().filter_map(|s| s.ttft_ms)),
            conditions: conditions
                .into_iter()
                .map(|(c, t)| (c, t.slice()))
                .collect(),
            hours: hours.into_iter().map(|(h, t)| (h, t.slice())).collect(),
            time_zone: time_zone.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::config::time_zone;
    use crate::signals::tests::{SampleSpec, sample};

    fn at(started_at: &'static str, verdict: &'static str, latency_ms: f64) -> SampleRecord {
        sample(SampleSpec {
            started_at,
            verdict,
            latency_ms,
            ..SampleSpec::default()
        })
    }

    #[test]
    fn overall_and_ttft_percentiles_leave_errors_out() {
        let mut samples: Vec<SampleRecord> = (1..=20)
            .map(|i| {
                sample(SampleSpec {
                    latency_ms: f64::from(i) * 10.0,
                    ttft_ms: (i <= 4).then_some(f64::from(i)),
                    ..SampleSpec::default()
                })
            })
            .collect();
        samples.push(at("2026-11-28T00:00:00Z", "error", 30_000.0));
        let latency = Latency::of(&samples, &TimeZone::UTC, "UTC");
        let overall = latency.overall.unwrap();
        assert_eq!(overall.n, 20);
        assert_eq!(
            (overall.p50, overall.p95, overall.p99),
            (100.0, 190.0, 200.0)
        );
        let ttft = latency.ttft.unwrap();
        assert_eq!((ttft.n, ttft.p50, ttft.p95), (4, 2.0, 4.0));

        let without: Vec<SampleRecord> = samples
            .iter()
            .cloned()
            .map(|mut s| {
                s.ttft_ms = None;
                s
            })
            .collect();
        assert_eq!(Latency::of(&without, &TimeZone::UTC, "UTC").ttft, None);
    }

    #[test]
    fn conditions_split_pass_rate_errors_and_latency() {
        let in_condition = |condition: Option<&'static str>, verdict, latency_ms| {
            sample(SampleSpec {
                condition,
                verdict,
                latency_ms,
                ..SampleSpec::default()
            })
        };
        let samples = [
            in_condition(None, "pass", 100.0),
            in_condition(None, "pass", 120.0),
            in_condition(None, "fail", 110.0),
            in_condition(Some("peak"), "pass", 900.0),
            in_condition(Some("peak"), "fail", 1_500.0),
            in_condition(Some("peak"), "error", 30_000.0),
        ];
        let latency = Latency::of(&samples, &TimeZone::UTC, "UTC");
        assert_eq!(
            latency.conditions.keys().collect::<Vec<_>>(),
            ["none", "peak"]
        );
        let none = &latency.conditions["none"];
        assert_eq!((none.samples, none.errors), (3, 0));
        assert_eq!((none.pass_rate.count, none.pass_rate.n), (2, 3));
        assert_eq!(none.latency.unwrap().p50, 110.0);
        let peak = &latency.conditions["peak"];
        assert_eq!((peak.samples, peak.errors), (3, 1));
        // The timed-out sample did not pass: it stays in the denominator.
        assert_eq!((peak.pass_rate.count, peak.pass_rate.n), (1, 3));
        let p = peak.latency.unwrap();
        assert_eq!((p.n, p.p50, p.p95), (2, 900.0, 1_500.0));
    }

    #[test]
    fn hours_in_utc_a_fixed_offset_and_a_zone_without_dst() {
        let samples = [
            at("2026-11-28T03:10:00Z", "pass", 10.0),
            at("2026-11-28T03:50:00Z", "fail", 30.0),
            at("2026-11-28T04:40:00Z", "pass", 20.0),
            at("2026-11-28T23:59:59Z", "error", 99.0),
        ];
        let utc = Latency::of(&samples, &TimeZone::UTC, "UTC");
        assert_eq!(utc.hours.keys().collect::<Vec<_>>(), [&3, &4, &23]);
        let three = &utc.hours[&3];
        assert_eq!(
            (three.samples, three.pass_rate.count, three.pass_rate.n),
            (2, 1, 2)
        );
        assert_eq!(three.latency.unwrap().p95, 30.0);
        assert_eq!(utc.hours[&23].errors, 1);
        assert_eq!(utc.hours[&23].pass_rate.rate, Some(0.0));
        assert_eq!(utc.hours[&23].latency, None);

        // +05:30: 03:10 → 08:40, 03:50 → 09:20, 04:40 → 10:10, 23:59:59 → 05:29:59 next day.
        let zone = time_zone("+05:30").unwrap();
        let offset = Latency::of(&samples, &zone, "+05:30");
        assert_eq!(offset.hours.keys().collect::<Vec<_>>(), [&5, &8, &9, &10]);
        assert_eq!(offset.time_zone, "+05:30");
        assert_eq!(offset.hours[&9].latency.unwrap().p50, 30.0);

        if jiff::tz::db().is_definitively_empty() {
            eprintln!("no time zone database on this machine: Asia/Kolkata not checked");
            return;
        }
        // India keeps +05:30 all year, so its hours are the fixed offset's.
        let kolkata = Latency::of(
            &samples,
            &time_zone("Asia/Kolkata").unwrap(),
            "Asia/Kolkata",
        );
        assert_eq!(kolkata.hours, offset.hours);
        // New York in November is on EST (−05:00): 03:10Z is 22:10 the day before.
        let new_york = Latency::of(
            &samples,
            &time_zone("America/New_York").unwrap(),
            "America/New_York",
        );
        assert_eq!(new_york.hours.keys().collect::<Vec<_>>(), [&18, &22, &23]);
        // In July it is on EDT (−04:00): 12:00Z is 08:00.
        let july = [at("2026-07-01T12:00:00Z", "pass", 10.0)];
        let summer = Latency::of(
            &july,
            &time_zone("America/New_York").unwrap(),
            "America/New_York",
        );
        assert_eq!(summer.hours.keys().collect::<Vec<_>>(), [&8]);
    }
}
