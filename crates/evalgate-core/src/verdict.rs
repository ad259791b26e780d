//! From samples to a case verdict, by the rule the case declared before the run.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::stats::{first_holding, wilson_interval};

/// The most samples one case may ask for; a guard against `samples: 1000000` typos.
pub const MAX_SAMPLES: u32 = 10_000;

/// The rule deciding a case's verdict from its samples, declared before the run.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PassRule {
    /// Pass when every sample taken passes: the default when the number of samples is not
    /// fixed (`samples: {min, max}`, or none declared).
    All,
    /// Pass when at least this many samples pass (k-of-n; exact, no statistics).
    AtLeast(u32),
    /// Pass when the true pass rate is at least this, with 95 % confidence: the Wilson
    /// interval decides pass (lower bound ≥ rate), fail (upper bound < rate) or inconclusive.
    MinRate(f64),
}

impl fmt::Display for PassRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PassRule::All => f.write_str("all"),
            PassRule::AtLeast(k) => write!(f, "at_least {k}"),
            PassRule::MinRate(p) => write!(f, "min_rate {p}"),
        }
    }
}

/// Rejects rules that can never produce a pass, before anything runs.
pub fn validate_rule(rule: PassRule, samples: u32) -> Result<(), (String, String)> {
    match rule {
        PassRule::AtLeast(k) if k == 0 || k > samples => Err((
            format!("`pass: {{at_least: {k}}}` needs 1 ≤ k ≤ samples ({samples})"),
            format!("use a k between 1 and {samples}, or raise `samples`"),
        )),
        PassRule::MinRate(p) if !(p > 0.0 && p <= 1.0) => Err((
            format!("`pass: {{min_rate: {p}}}` must be a rate in (0, 1]"),
            "write e.g. `min_rate: 0.9`".into(),
        )),
        PassRule::MinRate(p) => {
            let (low, _) = wilson_interval(samples, samples);
            if low >= p {
                return Ok(());
            }
            let needed = (1..=MAX_SAMPLES).find(|&n| wilson_interval(n, n).0 >= p);
            let help = match needed {
                Some(n) => format!(
                    "use at least {n} samples, or a k-of-n rule such as `at_least: {samples}`"
                ),
                None => format!("use a k-of-n rule such as `at_least: {samples}`"),
            };
            Err((
                format!(
                    "with {samples} samples `min_rate: {p}` can never pass: even {samples}/{samples} \
                     has a 95 % lower bound of {low:.2}, so the verdict would be inconclusive at best"
                ),
                help,
            ))
        }
        PassRule::AtLeast(_) | PassRule::All => Ok(()),
    }
}

/// A case's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The samples meet the pass rule.
    Pass,
    /// They do not.
    Fail,
    /// The samples cannot tell whether the pass rate meets the rule (interval straddles it).
    Inconclusive,
    /// The agent or the infrastructure failed; never a pass.
    Error,
}

impl Verdict {
    /// The verdict as records and reports spell it: `pass`, `fail`, `inconclusive` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Error => "error",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sample's own verdict: its expectations held, did not, or the call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleVerdict {
    /// Every expectation held.
    Pass,
    /// An expectation did not hold.
    Fail,
    /// No answer to check: the call failed, timed out or was malformed.
    Error,
}

/// What the samples of a case came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passes: u32,
    pub failures: u32,
    pub errors: u32,
}

impl Tally {
    pub fn add(&mut self, verdict: SampleVerdict) {
        match verdict {
            SampleVerdict::Pass => self.passes += 1,
            SampleVerdict::Fail => self.failures += 1,
            SampleVerdict::Error => self.errors += 1,
        }
    }

    pub fn samples(&self) -> u32 {
        self.passes + self.failures + self.errors
    }
}

/// The verdict and the 95 % Wilson interval of the pass rate (over samples that produced
/// an answer). Any errored sample makes the case `error`: the data is incomplete, and an
/// error is never allowed to become a pass.
pub fn decide(rule: PassRule, tally: Tally) -> (Verdict, (f64, f64)) {
    let answered = tally.passes + tally.failures;
    let interval = wilson_interval(tally.passes, answered);
    if tally.errors > 0 || answered == 0 {
        return (Verdict::Error, interval);
    }
    let verdict = match rule {
        PassRule::All if tally.failures == 0 => Verdict::Pass,
        PassRule::All => Verdict::Fail,
        PassRule::AtLeast(k) => {
            if tally.passes >= k {
                Verdict::Pass
            } else {
                Verdict::Fail
            }
        }
        PassRule::MinRate(rate) => {
            let (low, high) = interval;
            if low >= rate {
                Verdict::Pass
            } else if high < rate {
                Verdict::Fail
            } else {
                Verdict::Inconclusive
            }
        }
    };
    (verdict, interval)
}

/// About how many samples in all would decide an `inconclusive` verdict, if the pass rate
/// stayed what it is: the fewest n at which the 95 % Wilson interval of that rate no longer
/// straddles the rule's rate. `None` when the rule is not a rate, the rate sits exactly on
/// the threshold (no number of samples decides it), or more than `MAX_SAMPLES` would be
/// needed.
pub fn samples_to_decide(rule: PassRule, tally: Tally) -> Option<u32> {
    let PassRule::MinRate(threshold) = rule else {
        return None;
    };
    let answered = tally.passes + tally.failures;
    if answered == 0 {
        return None;
    }
    let rate = f64::from(tally.passes) / f64::from(answered);
    if (rate - threshold).abs() < 1e-12 {
        return None;
    }
    let decides = |n: u32| {
        let passes = (rate * f64::from(n)).round() as u32;
        let (low, high) = wilson_interval(passes.min(n), n);
        low >= threshold || high < threshold
    };
    // The interval narrows as n grows.
    first_holding(answered, MAX_SAMPLES, decides)
}

/// The verdict all `planned` samples will give, if the samples so far already settle it
/// whatever the remaining ones say (curtailed sampling: stopping then never changes the
/// verdict). An errored sample settles it as `error`. Both rules are monotone in the number
/// of passes, so comparing the worst and the best completion is enough.
pub fn settled_verdict(rule: PassRule, tally: Tally, planned: u32) -> Option<Verdict> {
    if tally.errors > 0 {
        return Some(Verdict::Error);
    }
    let remaining = planned.saturating_sub(tally.samples());
    let worst = decide(
        rule,
        Tally {
            failures: tally.failures + remaining,
            ..tally
        },
    )
    .0;
    let best = decide(
        rule,
        Tally {
            passes: tally.passes + remaining,
            ..tally
        },
    )
    .0;
    (worst == best).then_some(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(passes: u32, failures: u32, errors: u32) -> Tally {
        Tally {
            passes,
            failures,
            errors,
        }
    }

    #[test]
    fn k_of_n_is_exact() {
        assert_eq!(
            decide(PassRule::AtLeast(3), tally(3, 2, 0)).0,
            Verdict::Pass
        );
        assert_eq!(
            decide(PassRule::AtLeast(4), tally(3, 2, 0)).0,
            Verdict::Fail
        );
    }

    #[test]
    fn min_rate_is_pass_fail_or_inconclusive_by_the_interval() {
        // 20/20: lower bound 0.839 ≥ 0.8.
        assert_eq!(
            decide(PassRule::MinRate(0.8), tally(20, 0, 0)).0,
            Verdict::Pass
        );
        // 17/20 = 0.85 but the interval [0.64, 0.95] straddles 0.8.
        assert_eq!(
            decide(PassRule::MinRate(0.8), tally(17, 3, 0)).0,
            Verdict::Inconclusive
        );
        // 5/20: upper bound 0.47 < 0.8.
        assert_eq!(
            decide(PassRule::MinRate(0.8), tally(5, 15, 0)).0,
            Verdict::Fail
        );
    }

    #[test]
    fn a_settled_verdict_is_always_the_verdict_of_all_the_samples() {
        // Exhaustive for small n: whenever the samples so far settle the verdict, every
        // completion of the remaining samples gives that verdict.
        for planned in 1..=12u32 {
            let rules = [
                PassRule::AtLeast(planned.div_ceil(2)),
                PassRule::AtLeast(planned),
                PassRule::MinRate(0.5),
                PassRule::MinRate(0.8),
            ];
            for rule in rules {
                for taken in 0..=planned {
                    for passes in 0..=taken {
                        let so_far = tally(passes, taken - passes, 0);
                        let Some(settled) = settled_verdict(rule, so_far, planned) else {
                            continue;
                        };
                        let remaining = planned - taken;
                        for more in 0..=remaining {
                            let all = tally(passes + more, taken - passes + remaining - more, 0);
                            assert_eq!(decide(rule, all).0, settled, "{rule} {passes}/{taken}");
                        }
                    }
                }
            }
        }
        // And it settles as soon as it can: at_least 3 of 5 after 3 passes, or 3 failures.
        let rule = PassRule::AtLeast(3);
        assert_eq!(
            settled_verdict(rule, tally(3, 0, 0), 5),
            Some(Verdict::Pass)
        );
        assert_eq!(settled_verdict(rule, tally(2, 2, 0), 5), None);
        assert_eq!(
            settled_verdict(rule, tally(1, 3, 0), 5),
            Some(Verdict::Fail)
        );
        assert_eq!(
            settled_verdict(rule, tally(1, 0, 1), 5),
            Some(Verdict::Error)
        );
    }

    #[test]
    fn all_passes_only_without_a_failure() {
        assert_eq!(decide(PassRule::All, tally(7, 0, 0)).0, Verdict::Pass);
        assert_eq!(decide(PassRule::All, tally(6, 1, 0)).0, Verdict::Fail);
        assert_eq!(decide(PassRule::All, tally(7, 0, 1)).0, Verdict::Error);
        assert_eq!(
            settled_verdict(PassRule::All, tally(0, 1, 0), 9),
            Some(Verdict::Fail)
        );
        assert_eq!(settled_verdict(PassRule::All, tally(3, 0, 0), 9), None);
        assert_eq!(PassRule::All.to_string(), "all");
    }

    #[test]
    fn an_inconclusive_verdict_says_how_many_samples_would_decide_it() {
        // 17/20 = 0.85 against 0.8 is inconclusive; at that rate Wilson's lower bound
        // reaches 0.8 at the n returned, and not one sample before.
        let needed = samples_to_decide(PassRule::MinRate(0.8), tally(17, 3, 0)).unwrap();
        let at = |n: u32| wilson_interval((0.85 * f64::from(n)).round() as u32, n);
        assert!(at(needed).0 >= 0.8 && at(needed - 1).0 < 0.8, "{needed}");
        assert!((150..=300).contains(&needed), "{needed}");
        // Below the threshold it decides towards fail: 14/20 = 0.7 against 0.8.
        let needed = samples_to_decide(PassRule::MinRate(0.8), tally(14, 6, 0)).unwrap();
        assert!(at_rate(0.7, needed).1 < 0.8 && at_rate(0.7, needed - 1).1 >= 0.8);
        // Exactly on the threshold nothing decides it; k-of-n rules are never inconclusive.
        assert_eq!(
            samples_to_decide(PassRule::MinRate(0.8), tally(16, 4, 0)),
            None
        );
        assert_eq!(
            samples_to_decide(PassRule::AtLeast(3), tally(2, 3, 0)),
            None
        );
    }

    fn at_rate(rate: f64, n: u32) -> (f64, f64) {
        wilson_interval((rate * f64::from(n)).round() as u32, n)
    }

    #[test]
    fn an_error_is_never_a_pass() {
        assert_eq!(
            decide(PassRule::AtLeast(1), tally(9, 0, 1)).0,
            Verdict::Error
        );
        assert_eq!(
            decide(PassRule::AtLeast(1), tally(0, 0, 0)).0,
            Verdict::Error
        );
    }
}
