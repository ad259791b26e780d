//! The regression gate's error rates, by seeded simulation: agents of known pass
//! probability are sampled, their verdicts decided by the case's rule, and the baseline
//! comparison run on them exactly as on a real run. Deterministic: a fixed seed, a fixed
//! number of trials.
//!
//! What the README promises, checked here: with equal pass probabilities the gate calls a
//! regression at most α of the time (it cannot be higher: Fisher's exact test is
//! conservative and a regression also needs the verdict to flip), and with
//! [`DOCUMENTED_SAMPLES`] samples on each side it catches a 15-point drop (90 % → 75 %) at
//! least 80 % of the time.

use super::{Baseline, Change, compare};
use crate::record::CaseRecord;
use crate::verdict::{PassRule, Tally, decide};

/// The sample size the README documents for catching a 15-point drop.
pub(crate) const DOCUMENTED_SAMPLES: u32 = 150;

/// xorshift64*: small, seeded, good enough for Bernoulli draws.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn passes(&mut self, n: u32, p: f64) -> u32 {
        (0..n).filter(|_| self.uniform() < p).count() as u32
    }
}

fn record(passes: u32, n: u32, rule: PassRule) -> CaseRecord {
    let (verdict, _) = decide(
        rule,
        Tally {
            passes,
            failures: n - passes,
            errors: 0,
        },
    );
    let mut r: CaseRecord = serde_json::from_value(serde_json::json!({
        "schema": 1, "run_id": "r", "case": "c", "file": "evals/cases/c.yaml",
        "line": 1, "classname": "evals", "description": null, "verdict": "pass",
        "failed": false, "samples": 1, "passes": 1, "failures": 0, "errors": 0,
        "rule": "min_rate 0.8", "interval": [0.0, 1.0], "duration_ms": 1.0, "message": null,
        "reviewed": null, "rubric": null, "source": null,
        "started_at": "2026-11-28T00:00:00Z", "finished_at": "2026-11-28T00:00:01Z"
    }))
    .expect("a case record");
    r.verdict = verdict;
    r.passes = passes;
    r.failures = n - passes;
    r.samples = n;
    r
}

/// The share of `trials` in which the gate calls a regression, for an agent passing with
/// probability `before` in the baseline and `after` now, `n` samples each side.
fn regression_rate(seed: u64, trials: u32, n: u32, before: f64, after: f64, rule: PassRule) -> f64 {
    let mut rng = Rng(seed);
    let mut regressions = 0;
    for _ in 0..trials {
        let then = record(rng.passes(n, before), n, rule);
        let now = record(rng.passes(n, after), n, rule);
        let baseline = Baseline::of("s", "e".into(), std::slice::from_ref(&then), &[]);
        let comparison = compare(&baseline, String::new(), &[now], 0.05, false);
        if comparison.count(Change::Regression) > 0 {
            regressions += 1;
        }
    }
    f64::from(regressions) / f64::from(trials)
}

const TRIALS: u32 = 2000;

/// Three standard errors of a rate estimated from [`TRIALS`] draws: the simulation's slack.
fn slack(rate: f64) -> f64 {
    3.0 * (rate * (1.0 - rate) / f64::from(TRIALS)).sqrt()
}

#[test]
fn with_no_change_the_gate_calls_a_regression_at_most_alpha_of_the_time() {
    let alpha = 0.05;
    for (seed, p, n, rule) in [
        (1, 0.9, DOCUMENTED_SAMPLES, PassRule::MinRate(0.8)),
        (2, 0.85, DOCUMENTED_SAMPLES, PassRule::MinRate(0.8)),
        (3, 0.8, 30, PassRule::AtLeast(24)),
        (4, 0.95, 10, PassRule::AtLeast(9)),
    ] {
        let rate = regression_rate(seed, TRIALS, n, p, p, rule);
        assert!(
            rate <= alpha + slack(alpha),
            "false-alarm rate {rate} at p = {p}, n = {n}, {rule}"
        );
    }
}

#[test]
fn at_the_documented_sample_size_a_fifteen_point_drop_is_caught_most_of_the_time() {
    let power = regression_rate(
        7,
        TRIALS,
        DOCUMENTED_SAMPLES,
        0.9,
        0.75,
        PassRule::MinRate(0.8),
    );
    assert!(
        power >= 0.80,
        "power {power} for 90 % → 75 % at n = {DOCUMENTED_SAMPLES}"
    );
    // And with a tenth of the samples it mostly cannot tell — which the gate says, rather
    // than guessing.
    let weak = regression_rate(8, TRIALS, 12, 0.9, 0.75, PassRule::MinRate(0.8));
    assert!(weak < 0.3, "power {weak} at n = 12");
}
