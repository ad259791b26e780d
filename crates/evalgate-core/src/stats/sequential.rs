//! Stopping early: Wald's sequential probability ratio test for a pass rate, and curtailed
//! sampling for a k-of-n rule.

/// Wald's sequential probability ratio test (SPRT) for a Bernoulli pass rate: after each
/// sample, accept "fails" (H0: rate ≤ `p0`) or "passes" (H1: rate ≥ `p1`), or ask for
/// another sample. Use it when samples are expensive and the question is which side of an
/// indifference zone (`p0`, `p1`) the rate is on: it needs far fewer samples on average
/// than a fixed-size test with the same error rates, at the price of an unbounded worst
/// case (cap it with a maximum and treat `Continue` there as inconclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sprt {
    p0: f64,
    p1: f64,
    alpha: f64,
    beta: f64,
}

/// What an [`Sprt`] says after the samples seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SprtDecision {
    /// The rate is at least `p1` (H1 accepted); wrong with probability at most about α.
    AcceptPass,
    /// The rate is at most `p0` (H0 accepted); wrong with probability at most about β.
    AcceptFail,
    /// The evidence is not yet strong enough either way: take another sample.
    Continue,
}

impl Sprt {
    /// A test of H0: rate ≤ `p0` against H1: rate ≥ `p1`, wrongly passing a rate of `p0`
    /// with probability about `alpha` and wrongly failing a rate of `p1` with probability
    /// about `beta`. Needs 0 < p0 < p1 < 1 and α, β in (0, 0.5).
    pub fn new(p0: f64, p1: f64, alpha: f64, beta: f64) -> Result<Sprt, String> {
        if !(0.0 < p0 && p0 < p1 && p1 < 1.0) {
            return Err(format!(
                "sprt rates must satisfy 0 < p0 < p1 < 1, got p0 = {p0} and p1 = {p1}: \
                 p0 is the highest rate that should fail, p1 the lowest that should pass"
            ));
        }
        for (name, value) in [("alpha", alpha), ("beta", beta)] {
            if !(value > 0.0 && value < 0.5) {
                return Err(format!(
                    "sprt {name} must be an error rate in (0, 0.5), got {value}: use e.g. 0.05"
                ));
            }
        }
        Ok(Sprt {
            p0,
            p1,
            alpha,
            beta,
        })
    }

    /// The highest pass rate that should fail.
    pub fn p0(&self) -> f64 {
        self.p0
    }

    /// The lowest pass rate that should pass.
    pub fn p1(&self) -> f64 {
        self.p1
    }

    /// The accepted probability of passing a rate of `p0`.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The accepted probability of failing a rate of `p1`.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// ln(L(p1)/L(p0)) for `passes` out of `n` samples: positive evidence favours a pass.
    ///
    /// # Panics
    ///
    /// When `passes > n`.
    pub fn log_likelihood_ratio(&self, passes: u32, n: u32) -> f64 {
        assert!(passes <= n, "{passes} passes out of {n} samples");
        let (pass_step, fail_step) = self.steps();
        f64::from(passes) * pass_step + f64::from(n - passes) * fail_step
    }

    /// The decision after `passes` out of `n` samples: the log-likelihood ratio against
    /// Wald's bounds ln((1 − β)/α) (at or above: pass) and ln(β/(1 − α)) (at or below: fail).
    ///
    /// # Panics
    ///
    /// When `passes > n`.
    pub fn decide(&self, passes: u32, n: u32) -> SprtDecision {
        let ratio = self.log_likelihood_ratio(passes, n);
        let (lower, upper) = self.bounds();
        if ratio >= upper {
            SprtDecision::AcceptPass
        } else if ratio <= lower {
            SprtDecision::AcceptFail
        } else {
            SprtDecision::Continue
        }
    }

    /// Wald's approximation of the average number of samples the test takes when the true
    /// pass rate is `true_rate` (its "ASN"). It ignores how far the last sample overshoots a
    /// bound, so real averages run somewhat higher. Use it to budget samples or to choose
    /// `p0`/`p1`.
    ///
    /// # Panics
    ///
    /// When `true_rate` is not in [0, 1].
    pub fn expected_samples(&self, true_rate: f64) -> f64 {
        assert!(
            (0.0..=1.0).contains(&true_rate),
            "true rate must be in [0, 1], got {true_rate}"
        );
        let (lower, upper) = self.bounds();
        let (pass_step, fail_step) = self.steps();
        if true_rate == 1.0 {
            return upper / pass_step;
        }
        if true_rate == 0.0 {
            return lower / fail_step;
        }
        let p = true_rate;
        let drift = p * pass_step + (1.0 - p) * fail_step;
        let second_moment = p * pass_step * pass_step + (1.0 - p) * fail_step * fail_step;
        if drift.abs() <= 1e-12 * second_moment.sqrt() {
            // The rate where the walk has no drift: Wald's limit −L·U / E[z²] (bounds L, U).
            return -lower * upper / second_moment;
        }
        // The probability of accepting H0 is (e^{hU} − 1)/(e^{hU} − e^{hL}), where h ≠ 0
        // solves E[e^{hz}] = 1 (h = 1 at p0, −1 at p1).
        let h = self.wald_exponent(p, drift);
        let (at_upper, at_lower) = ((h * upper).exp_m1(), (h * lower).exp_m1());
        let accept_fail = at_upper / (at_upper - at_lower);
        (accept_fail * lower + (1.0 - accept_fail) * upper) / drift
    }

    /// (ln(p1/p0), ln((1 − p1)/(1 − p0))): what one pass and one failure add to the
    /// log-likelihood ratio.
    fn steps(&self) -> (f64, f64) {
        (
            (self.p1 / self.p0).ln(),
            ((-self.p1).ln_1p() - (-self.p0).ln_1p()),
        )
    }

    /// Wald's bounds on the log-likelihood ratio: (ln(β/(1 − α)), ln((1 − β)/α)).
    fn bounds(&self) -> (f64, f64) {
        (
            (self.beta / (1.0 - self.alpha)).ln(),
            ((1.0 - self.beta) / self.alpha).ln(),
        )
    }

    /// The non-zero root h of p·e^{h·ln(p1/p0)} + (1 − p)·e^{h·ln((1−p1)/(1−p0))} = 1. The
    /// left side is convex with roots 0 and h, and h has the sign opposite to the drift, so
    /// bracket it by doubling away from 0 and bisect.
    fn wald_exponent(&self, p: f64, drift: f64) -> f64 {
        let (pass_step, fail_step) = self.steps();
        // exp_m1: near zero drift the root is close to 0, where e^x − 1 would cancel.
        let excess = |h: f64| p * (h * pass_step).exp_m1() + (1.0 - p) * (h * fail_step).exp_m1();
        let direction = -drift.signum();
        let mut far = direction;
        while excess(far) <= 0.0 {
            far *= 2.0;
        }
        // excess > 0 beyond the root and ≤ 0 between it and 0.
        let mut near = 0.0;
        for _ in 0..200 {
            let middle = 0.5 * (near + far);
            if middle == near || middle == far {
                break;
            }
            if excess(middle) > 0.0 {
                far = middle;
            } else {
                near = middle;
            }
        }
        0.5 * (near + far)
    }
}

/// Curtailed sampling for a k-of-n rule ("pass when at least `needed` of `max_samples`
/// samples pass"): `Some(true)` once `passes` ≥ `needed` (whatever the remaining samples
/// do), `Some(false)` once even passing every remaining sample cannot reach `needed`, and
/// `None` while the remaining samples can still change the outcome. Stopping at a `Some`
/// never changes the verdict the full `max_samples` would give — it only skips samples
/// that cannot matter — so, unlike an SPRT, it costs no error rate. Samples beyond
/// `max_samples` count as none remaining.
pub fn decided_early(passes: u32, failures: u32, max_samples: u32, needed: u32) -> Option<bool> {
    if passes >= needed {
        return Some(true);
    }
    let remaining = max_samples.saturating_sub(passes.saturating_add(failures));
    if passes.saturating_add(remaining) < needed {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::approx::assert_close;
    use crate::stats::binomial_tail_at_least;
    use crate::stats::random::XorShift;

    /// Runs the test on a simulated case of pass rate `rate` until it decides: the decision
    /// and the samples it took.
    fn run_until_decided(sprt: &Sprt, rate: f64, random: &mut XorShift) -> (SprtDecision, u32) {
        let mut passes = 0;
        for n in 1..=100_000 {
            if random.uniform() < rate {
                passes += 1;
            }
            let decision = sprt.decide(passes, n);
            if decision != SprtDecision::Continue {
                return (decision, n);
            }
        }
        panic!("the SPRT did not decide in 100 000 samples");
    }

    fn example() -> Sprt {
        Sprt::new(0.5, 0.8, 0.05, 0.05).unwrap()
    }

    #[test]
    fn sprt_refuses_parameters_that_make_no_test() {
        assert!(Sprt::new(0.5, 0.8, 0.05, 0.1).is_ok());
        for (p0, p1) in [
            (0.8, 0.5),
            (0.5, 0.5),
            (0.0, 0.5),
            (0.5, 1.0),
            (f64::NAN, 0.5),
        ] {
            let error = Sprt::new(p0, p1, 0.05, 0.05).unwrap_err();
            assert!(error.contains("0 < p0 < p1 < 1"), "{error}");
        }
        for (alpha, beta) in [(0.0, 0.05), (0.5, 0.05), (0.05, 0.7), (0.05, f64::NAN)] {
            let error = Sprt::new(0.5, 0.8, alpha, beta).unwrap_err();
            assert!(error.contains("(0, 0.5)"), "{error}");
        }
    }

    /// p0 = 0.5, p1 = 0.8, α = β = 0.05: a pass adds ln 1.6 = 0.4700, a failure
    /// ln 0.4 = −0.9163, and the bounds are ±ln 19 = ±2.9444 (worked by hand).
    #[test]
    fn sprt_decides_hand_computed_sequences() {
        let sprt = example();
        assert_close(sprt.log_likelihood_ratio(1, 1), 1.6_f64.ln(), 1e-15);
        assert_close(sprt.log_likelihood_ratio(0, 1), 0.4_f64.ln(), 1e-15);
        let cases = [
            (0, 0, SprtDecision::Continue),    // 0
            (6, 6, SprtDecision::Continue),    // 2.820
            (7, 7, SprtDecision::AcceptPass),  // 3.290
            (0, 3, SprtDecision::Continue),    // −2.749
            (0, 4, SprtDecision::AcceptFail),  // −3.665
            (8, 9, SprtDecision::Continue),    // 2.844
            (9, 10, SprtDecision::AcceptPass), // 3.314
            (5, 10, SprtDecision::Continue),   // −2.231
            (5, 11, SprtDecision::AcceptFail), // −3.148
        ];
        for (passes, n, decision) in cases {
            assert_eq!(sprt.decide(passes, n), decision, "{passes}/{n}");
        }
    }

    /// Wald's ASN at p0 and p1 has the closed forms ((1 − α) ln B + α ln A)/E₀[z] and
    /// (β ln B + (1 − β) ln A)/E₁[z]; at the rate where E[z] = 0 it is −ln A ln B / E[z²],
    /// and the general formula must approach that limit continuously.
    #[test]
    fn expected_samples_matches_walds_closed_forms() {
        let sprt = example();
        let (pass_step, fail_step) = (1.6_f64.ln(), 0.4_f64.ln());
        let (upper, lower) = (19_f64.ln(), -(19_f64.ln()));
        let drift = |p: f64| p * pass_step + (1.0 - p) * fail_step;
        let at_p0 = (0.95 * lower + 0.05 * upper) / drift(0.5);
        let at_p1 = (0.05 * lower + 0.95 * upper) / drift(0.8);
        assert_close(sprt.expected_samples(0.5), at_p0, 1e-9);
        assert_close(sprt.expected_samples(0.8), at_p1, 1e-9);
        let balance = -fail_step / (pass_step - fail_step);
        let second = balance * pass_step * pass_step + (1.0 - balance) * fail_step * fail_step;
        let at_balance = -lower * upper / second;
        assert_close(sprt.expected_samples(balance), at_balance, 1e-9);
        // Around that rate, mpmath at 40 digits (h from `mp.findroot`, then Wald's formula):
        // 20.1312535850513 at +1e-6, 20.1312343047135 at −1e-6, 20.1706582993921 at +0.01.
        assert_close(
            sprt.expected_samples(balance + 1e-6),
            20.131_253_585_051_3,
            1e-9,
        );
        assert_close(
            sprt.expected_samples(balance - 1e-6),
            20.131_234_304_713_5,
            1e-9,
        );
        assert_close(
            sprt.expected_samples(balance + 0.01),
            20.170_658_299_392_1,
            1e-9,
        );
        assert_close(at_balance, 20.131_243_945_446_1, 1e-12);
        assert_close(sprt.expected_samples(1.0), upper / pass_step, 1e-15);
        assert_close(sprt.expected_samples(0.0), lower / fail_step, 1e-15);
    }

    /// 20 000 simulated cases at p0 and at p1 (seeded, so deterministic): wrong verdicts stay
    /// at or below about α and β — Wald's bounds are conservative, three standard errors of
    /// slack — and the average number of samples is well below what a fixed-size binomial
    /// test with the same error rates needs (the smallest n with a threshold c such that
    /// P(X ≥ c | p0) ≤ α and P(X < c | p1) ≤ β: n = 28 with c = 19, as
    /// `scipy.stats.binom.sf(c - 1, n, 0.5)` and `binom.cdf(c - 1, n, 0.8)` also find).
    /// With this seed: 3.7 % and 3.6 % wrong, 13.8 and 15.9 samples on average.
    #[test]
    fn sprt_keeps_its_error_rates_with_fewer_samples_in_simulation() {
        let sprt = example();
        let runs = 20_000;
        let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
        let fixed_n = (1..200)
            .find(|&n| {
                (0..=n).any(|c| {
                    binomial_tail_at_least(n, c, 0.5) <= 0.05
                        && 1.0 - binomial_tail_at_least(n, c, 0.8) <= 0.05
                })
            })
            .unwrap();
        for (rate, wrong, error_rate) in [
            (0.5, SprtDecision::AcceptPass, 0.05),
            (0.8, SprtDecision::AcceptFail, 0.05),
        ] {
            let (mut wrongs, mut samples) = (0_u32, 0_u64);
            for _ in 0..runs {
                let (decision, n) = run_until_decided(&sprt, rate, &mut random);
                wrongs += u32::from(decision == wrong);
                samples += u64::from(n);
            }
            let observed = f64::from(wrongs) / f64::from(runs);
            let slack = 3.0 * (error_rate * (1.0 - error_rate) / f64::from(runs)).sqrt();
            assert!(
                observed <= error_rate + slack,
                "rate {rate}: {observed} wrong"
            );
            let average = samples as f64 / f64::from(runs);
            assert!(
                average < 0.75 * f64::from(fixed_n),
                "rate {rate}: {average} samples on average, a fixed test needs {fixed_n}"
            );
            // Wald's approximation ignores the overshoot of the last step, so the true
            // average is a little above it.
            let wald = sprt.expected_samples(rate);
            assert!(
                average >= wald && average <= 1.35 * wald,
                "{average} vs Wald {wald}"
            );
        }
    }

    /// Every outcome sequence for N ≤ 10 and every rule k ≤ N + 1: wherever the curtailed
    /// rule stops, it gives the verdict of all N samples, and by the last sample it has
    /// always stopped.
    #[test]
    fn decided_early_agrees_with_the_full_run_on_every_outcome() {
        for max_samples in 0..=10_u32 {
            for needed in 0..=max_samples + 1 {
                for outcomes in 0..1_u32 << max_samples {
                    let full = outcomes.count_ones() >= needed;
                    let (mut passes, mut failures) = (0, 0);
                    for sample in 0..=max_samples {
                        let early = decided_early(passes, failures, max_samples, needed);
                        if let Some(verdict) = early {
                            assert_eq!(verdict, full, "{outcomes:b}, k = {needed}, at {sample}");
                        }
                        if sample == max_samples {
                            assert_eq!(early, Some(full), "{outcomes:b}, k = {needed}");
                        } else if outcomes >> sample & 1 == 1 {
                            passes += 1;
                        } else {
                            failures += 1;
                        }
                    }
                }
            }
        }
    }

    /// 5-of-8: stop as soon as 5 passed or 4 failed.
    #[test]
    fn decided_early_stops_as_soon_as_the_rest_cannot_matter() {
        assert_eq!(decided_early(5, 0, 8, 5), Some(true));
        assert_eq!(decided_early(4, 3, 8, 5), None);
        assert_eq!(decided_early(1, 4, 8, 5), Some(false));
        assert_eq!(decided_early(4, 4, 8, 5), Some(false));
        assert_eq!(decided_early(0, 0, 8, 0), Some(true));
        // More samples than the maximum: none remain.
        assert_eq!(decided_early(2, 9, 8, 5), Some(false));
    }
}
