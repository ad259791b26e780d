//! Whether a configuration reproduces the regression, from samples: for one set of samples
//! ([`decide`]) and for each case of a bisection ([`decide_cases`]), so that cases with
//! different causes are never judged on their pooled samples (a case that fails under the
//! new prompt pooled with one that passes there looks like neither the good envelope nor
//! the bad one, at any number of samples).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Outcome, Outcomes};

/// Samples of one configuration: how many ran and how many of them failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub samples: u64,
    pub failures: u64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.samples += other.samples;
        self.failures += other.failures;
    }
}

/// Each case's tally, by case id.
pub type Tallies = BTreeMap<String, Tally>;

/// The significance of the two tests that decide a configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Significance {
    /// Of "fails more often than the good envelope": a wrong "reproduces" names a wrong cause.
    pub reproduces: f64,
    /// Of "fails less often than the bad envelope": a wrong "does not" passes over a cause.
    pub does_not: f64,
}

impl Significance {
    /// `alpha` for both tests.
    pub fn of(alpha: f64) -> Significance {
        Significance {
            reproduces: alpha,
            does_not: alpha,
        }
    }

    /// The significance of each look at one configuration's samples, out of `alpha`
    /// (Bonferroni): shared out over the `looks` (rounds) the samples may be tested at, and
    /// for "reproduces" also over the `family` of configurations judged together — any of
    /// them may be taken for a cause, while a level holds few true causes to pass over.
    /// Without it, the ten pairs tested after each of four rounds at 0.05 named a wrong
    /// cause in about one bisection in five of noisy cases (`bisect::simulation`).
    pub fn per_look(alpha: f64, family: usize, looks: u32) -> Significance {
        let looks = f64::from(looks.max(1));
        Significance {
            reproduces: alpha / (family.max(1) as f64 * looks),
            does_not: alpha / looks,
        }
    }
}

/// Whether a configuration reproduces, from its samples and those of the all-good and
/// all-bad configurations: it reproduces when it fails more often than all-good (Fisher's
/// exact test, p < `significance.reproduces`) and does not when it fails less often than
/// all-bad (p < `significance.does_not`); anything else — both, or neither — the samples
/// cannot tell. Errors are not failures: a sample that errored is left out of the tally by
/// the caller, never counted either way.
pub fn decide(config: Tally, good: Tally, bad: Tally, significance: Significance) -> Outcome {
    match (
        worse(config, good, significance.reproduces),
        worse(bad, config, significance.does_not),
    ) {
        (true, false) => Outcome::Reproduces,
        (false, true) => Outcome::DoesNot,
        _ => Outcome::CannotTell,
    }
}

/// Whether `a` fails more often than `b` (Fisher's exact test, p < `alpha`).
fn worse(a: Tally, b: Tally, alpha: f64) -> bool {
    let rate = |t: Tally| t.failures as f64 / t.samples.max(1) as f64;
    rate(a) > rate(b)
        && evalgate::stats::fisher_exact(
            a.failures,
            a.samples - a.failures,
            b.failures,
            b.samples - b.failures,
        ) < alpha
}

/// The outcome of a configuration for each case of `groups`: each case by its own samples
/// against its own under the good and bad envelopes; then, within each group, the cases
/// their own samples cannot decide (too few of them) together, their samples pooled, each
/// taking the pooled outcome unless its own samples point the other way. The groups are the
/// cases every configuration so far judged
/// alike ([`bisect`](super::bisect) forms them): cases that behaved differently once are
/// never averaged into neither again. A case with no answered sample under the
/// configuration is not pooled: nothing says how it behaves there.
pub fn decide_cases(
    groups: &[Vec<String>],
    config: &Tallies,
    good: &Tallies,
    bad: &Tallies,
    significance: Significance,
) -> Outcomes {
    let of = |tallies: &Tallies, case: &str| tallies.get(case).copied().unwrap_or_default();
    let mut outcomes = Outcomes::new();
    for group in groups {
        let mut undecided: Vec<&String> = Vec::new();
        for case in group {
            let outcome = decide(
                of(config, case),
                of(good, case),
                of(bad, case),
                significance,
            );
            if outcome == Outcome::CannotTell && of(config, case).samples > 0 {
                undecided.push(case);
            }
            outcomes.insert(case.clone(), outcome);
        }
        if undecided.len() > 1 {
            let sum = |tallies: &Tallies| {
                let mut sum = Tally::default();
                for case in &undecided {
                    sum += of(tallies, case);
                }
                sum
            };
            let strict = Significance::of(significance.reproduces.min(significance.does_not));
            let pooled = decide(sum(config), sum(good), sum(bad), strict);
            for case in undecided {
                // A case whose own samples point the other way (at the looser of the two
                // significances) does not take the pool's outcome: the pool may be two
                // kinds of cases averaged, the first time they part.
                let (now, before, after) = (of(config, case), of(good, case), of(bad, case));
                let against = match pooled {
                    Outcome::Reproduces => worse(after, now, significance.does_not),
                    Outcome::DoesNot => worse(now, before, significance.does_not),
                    Outcome::CannotTell => false,
                };
                let outcome = if against { Outcome::CannotTell } else { pooled };
                outcomes.insert(case.clone(), outcome);
            }
        }
    }
    outcomes
}

/// Whether the bad envelope reproduces each case's regression: each case by its own
/// samples under the two envelopes, and a case they cannot decide by the samples of every
/// case together — the cases were chosen for regressing between the envelopes, so this is
/// the one configuration under which they are all expected alike.
pub fn decide_bad_envelope(
    cases: &[String],
    good: &Tallies,
    bad: &Tallies,
    significance: Significance,
) -> Outcomes {
    let of = |tallies: &Tallies, case: &str| tallies.get(case).copied().unwrap_or_default();
    let sum = |tallies: &Tallies| {
        let mut sum = Tally::default();
        for case in cases {
            sum += of(tallies, case);
        }
        sum
    };
    let pooled = decide(sum(bad), sum(good), sum(bad), significance);
    (cases.iter())
        .map(|case| {
            let alone = decide(of(bad, case), of(good, case), of(bad, case), significance);
            let outcome = match alone {
                Outcome::CannotTell if of(bad, case).samples > 0 => pooled,
                outcome => outcome,
            };
            (case.clone(), outcome)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(failures: u64, samples: u64) -> Tally {
        Tally { samples, failures }
    }

    #[test]
    fn the_statistics_decide_reproduces_does_not_or_cannot_tell() {
        let (good, bad) = (t(0, 20), t(18, 20));
        assert_eq!(
            decide(t(17, 20), good, bad, Significance::of(0.05)),
            Outcome::Reproduces
        );
        assert_eq!(
            decide(t(1, 20), good, bad, Significance::of(0.05)),
            Outcome::DoesNot
        );
        assert_eq!(
            decide(t(1, 2), good, bad, Significance::of(0.05)),
            Outcome::CannotTell
        );
    }

    #[test]
    fn each_case_is_decided_alone_and_the_undecided_together() {
        let cases: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let tallies = |list: [Tally; 5]| -> Tallies { cases.iter().cloned().zip(list).collect() };
        let good = tallies([t(0, 12), t(0, 12), t(0, 4), t(0, 4), t(0, 4)]);
        let bad = tallies([t(12, 12), t(12, 12), t(4, 4), t(4, 4), t(4, 4)]);
        // a and b fail and pass on their own; c and d, one sample each, cannot tell alone but
        // fail together; e errored on every sample.
        let config = tallies([t(3, 3), t(0, 3), t(1, 1), t(1, 1), t(0, 0)]);
        let outcomes = decide_cases(
            std::slice::from_ref(&cases),
            &config,
            &good,
            &bad,
            Significance::of(0.05),
        );
        let expected = [
            ("a", Outcome::Reproduces),
            ("b", Outcome::DoesNot),
            ("c", Outcome::Reproduces),
            ("d", Outcome::Reproduces),
            ("e", Outcome::CannotTell),
        ];
        assert_eq!(
            outcomes,
            expected
                .map(|(c, o)| (c.to_string(), o))
                .into_iter()
                .collect::<Outcomes>()
        );
        // Pooled, a and b look like neither envelope: what one pooled decision said.
        // In groups of their own, c and d are not pooled: neither can tell alone.
        let apart = decide_cases(
            &[vec!["c".to_string()], vec!["d".to_string()]],
            &config,
            &good,
            &bad,
            Significance::of(0.05),
        );
        assert_eq!(apart["c"], Outcome::CannotTell);
        assert_eq!(apart["d"], Outcome::CannotTell);
        let both = ["a".to_string(), "b".to_string()];
        let pool = |t: &Tallies| {
            let mut sum = Tally::default();
            for case in &both {
                sum += t[case];
            }
            sum
        };
        assert_eq!(
            decide(
                pool(&config),
                pool(&good),
                pool(&bad),
                Significance::of(0.05)
            ),
            Outcome::CannotTell
        );
    }

    #[test]
    fn a_case_whose_own_samples_point_the_other_way_does_not_take_the_pool_outcome() {
        // `x` fails 3 of 5 (its good rate 1 in 20): not enough alone at 0.01, but worse than
        // good at 0.05; five cases of one passing sample each, pooled with it, pass less
        // often than the bad envelope.
        let quiet = ["q1", "q2", "q3", "q4", "q5"];
        let group: Vec<String> = std::iter::once("x")
            .chain(quiet)
            .map(String::from)
            .collect();
        let every =
            |tally: Tally| -> Tallies { group.iter().map(|c| (c.clone(), tally)).collect() };
        let (good, bad) = (every(t(1, 20)), every(t(16, 20)));
        let mut config = every(t(0, 1));
        config.insert("x".into(), t(3, 5));
        let significance = Significance {
            reproduces: 0.01,
            does_not: 0.05,
        };
        let outcomes = decide_cases(
            std::slice::from_ref(&group),
            &config,
            &good,
            &bad,
            significance,
        );
        assert_eq!(outcomes["x"], Outcome::CannotTell);
        for case in quiet {
            assert_eq!(outcomes[case], Outcome::DoesNot, "{case}");
        }
    }

    #[test]
    fn the_bad_envelope_is_judged_per_case_then_on_every_case_pooled() {
        let cases: Vec<String> = ["a", "b", "e"].map(String::from).to_vec();
        let tallies = |list: [Tally; 3]| -> Tallies { cases.iter().cloned().zip(list).collect() };
        let good = tallies([t(0, 8), t(0, 1), t(0, 0)]);
        let bad = tallies([t(8, 8), t(1, 1), t(0, 0)]);
        let outcomes = decide_bad_envelope(&cases, &good, &bad, Significance::of(0.05));
        // `b`'s one sample a side decides nothing; with `a`'s, the envelope reproduces. `e`
        // errored on every sample: nothing says.
        let expected = [
            ("a", Outcome::Reproduces),
            ("b", Outcome::Reproduces),
            ("e", Outcome::CannotTell),
        ];
        assert_eq!(
            outcomes,
            expected
                .map(|(c, o)| (c.to_string(), o))
                .into_iter()
                .collect::<Outcomes>()
        );
        assert_eq!(
            decide(t(1, 1), t(0, 1), t(1, 1), Significance::of(0.05)),
            Outcome::CannotTell
        );
    }
}
