//! Planning a suite's samples: for one case with its baseline evidence, how many samples a
//! run needs to call a drop of a given size a regression with a given power, at the case's
//! share of the run-level error rate — fixed, and adaptive (the most samples it may take,
//! and what it takes on average when nothing changed). Exact, from the designs' operating
//! characteristics; nothing is simulated.

use serde::Serialize;

use crate::stats::{Evidence, LookDesign, first_holding};
use crate::verdict::MAX_SAMPLES;

/// The first look of the adaptive designs `plan` proposes: enough for a rate rule to say
/// something, few enough that agreeing cases stop cheaply.
pub const ADAPTIVE_MIN: u32 = 10;

/// What one case needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CasePlan {
    /// The baseline's pass rate the drop is counted from.
    pub rate: f64,
    /// Why no number of samples would do, when none would.
    pub impossible: Option<String>,
    /// Samples for a fixed-size run, and its power.
    pub fixed: Option<(u32, f64)>,
    /// The most samples an adaptive run takes (`samples: {min: ADAPTIVE_MIN, max}`), its
    /// power, and the samples it takes on average when nothing changed and when the rate
    /// dropped.
    pub adaptive: Option<AdaptivePlan>,
}

/// An adaptive design for one case.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AdaptivePlan {
    pub max: u32,
    pub power: f64,
    pub samples_unchanged: f64,
    pub samples_dropped: f64,
}

/// Plans a case with baseline `evidence` to call a drop of `drop` at per-case level
/// `threshold` (α over the cases compared) with probability `power`.
pub fn plan_case(evidence: Evidence, drop: f64, threshold: f64, power: f64) -> CasePlan {
    let (passes, answered) = evidence;
    let rate = if answered == 0 {
        0.0
    } else {
        f64::from(passes) / f64::from(answered)
    };
    let dropped = rate - drop;
    let mut plan = CasePlan {
        rate,
        impossible: None,
        fixed: None,
        adaptive: None,
    };
    if answered == 0 || dropped < 0.0 {
        plan.impossible = Some(if answered == 0 {
            "no baseline samples".to_string()
        } else {
            format!("its baseline rate {rate:.2} cannot drop by {drop}")
        });
        return plan;
    }
    let fixed_power = |n: u32| {
        LookDesign::fixed(n)
            .operating(evidence, dropped, threshold, drop)
            .power
    };
    let adaptive_power = |max: u32| {
        LookDesign::adaptive(ADAPTIVE_MIN.min(max), max)
            .operating(evidence, dropped, threshold, drop)
            .power
    };
    plan.fixed = smallest(fixed_power, power).map(|n| (n, fixed_power(n)));
    plan.adaptive = smallest(adaptive_power, power).map(|max| {
        let design = LookDesign::adaptive(ADAPTIVE_MIN.min(max), max);
        let dropped_run = design.operating(evidence, dropped, threshold, drop);
        AdaptivePlan {
            max,
            power: dropped_run.power,
            samples_unchanged: design
                .operating(evidence, rate, threshold, drop)
                .expected_samples,
            samples_dropped: dropped_run.expected_samples,
        }
    });
    if plan.fixed.is_none() {
        plan.impossible = Some(format!(
            "even {MAX_SAMPLES} samples against the baseline's {answered} do not reach the \
             power: the baseline needs more samples (more runs of its branch)"
        ));
    } else if plan.adaptive.is_none() {
        plan.impossible = Some(format!(
            "adaptive sampling does not reach the power against the baseline's {answered} \
             samples at any maximum (each look spends part of the error rate): a fixed number \
             does, or more runs of its branch"
        ));
    }
    plan
}

/// The smallest n ≤ [`MAX_SAMPLES`] at which `power(n)` reaches `target` (power grows with
/// n, up to the wobble of discrete tests).
fn smallest(power: impl Fn(u32) -> f64, target: f64) -> Option<u32> {
    first_holding(1, MAX_SAMPLES, |n| power(n) >= target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifteen_point_drop_needs_more_samples_the_nearer_the_rate_is_to_a_half() {
        let threshold = 0.05 / 20.0;
        let near_one = plan_case((950, 1000), 0.15, threshold, 0.8);
        let half = plan_case((500, 1000), 0.15, threshold, 0.8);
        let (n_one, p_one) = near_one.fixed.unwrap();
        let (n_half, _) = half.fixed.unwrap();
        assert!(p_one >= 0.8 && n_one < n_half, "{n_one} vs {n_half}");
        // The normal approximation for a known baseline rate: n ≈ ((z_α √(p₀q₀) + z_β
        // √(p₁q₁)) / δ)² = 143 at 0.5 → 0.35 (z_α = 2.81, z_β = 0.84); the exact test with
        // a finite baseline needs a little more.
        assert!((140..=220).contains(&n_half), "{n_half}");
        // Adaptive: more at most, far fewer on average when nothing changed.
        let adaptive = half.adaptive.unwrap();
        assert!(
            adaptive.max >= n_half && adaptive.power >= 0.8,
            "{adaptive:?}"
        );
        assert!(
            adaptive.samples_unchanged < 0.5 * f64::from(n_half),
            "{adaptive:?}"
        );
    }

    #[test]
    fn some_plans_cannot_be_met() {
        let threshold = 0.05 / 20.0;
        assert!(
            plan_case((1, 10), 0.15, threshold, 0.8)
                .impossible
                .is_some()
        );
        assert!(plan_case((0, 0), 0.15, threshold, 0.8).impossible.is_some());
        // One sample of baseline: nothing against it is ever significant at 0.0025.
        let thin = plan_case((1, 1), 0.15, threshold, 0.8);
        assert!(
            thin.fixed.is_none() && thin.impossible.is_some(),
            "{thin:?}"
        );
    }
}
