//! Verbosity drift: did the answers get longer or shorter than the baseline's? Output length
//! in bytes now against the baseline's, by a Mann-Whitney U test — lengths are skewed and
//! heavy-tailed, so a rank test rather than a t-test on means.

use serde::{Deserialize, Serialize};

use super::SignalBaseline;
use super::distribution::Percentiles;

/// The fewest values on each side for the normal approximation to be trusted; with fewer,
/// no p-value is given rather than a wrong one.
pub const MIN_SAMPLES_PER_SIDE: usize = 8;

/// A two-sided Mann-Whitney U test of two samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MannWhitney {
    /// U of the first sample: the pairs (a, b) with a > b, ties counting one half (R's `W`,
    /// scipy's `statistic`). Its mean under no difference is n₁·n₂ / 2.
    pub u: f64,
    /// The continuity-corrected standard score of `u`; positive when the first sample tends
    /// to be larger.
    pub z: f64,
    /// Two-sided p-value by the normal approximation with tie and continuity corrections.
    pub p_value: f64,
}

/// Output length now against the baseline's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VerbosityDrift {
    /// Output bytes of this run's answered samples.
    pub now: Option<Percentiles>,
    /// Output bytes of the baseline's answered samples, when there is a baseline.
    pub before: Option<Percentiles>,
    /// The test, now against before; None without a baseline or with too few samples.
    pub test: Option<MannWhitney>,
    /// The significance the test is judged at.
    pub alpha: f64,
    /// Whether the lengths differ significantly: `p_value < alpha`.
    pub drifted: bool,
    /// Why there is no test, for people.
    pub note: Option<String>,
}

impl VerbosityDrift {
    /// `now` (output bytes of answered samples) against the baseline's, judged at `alpha`.
    pub(crate) fn of(now: &[f64], baseline: Option<&SignalBaseline>, alpha: f64) -> Self {
        let before: Option<Vec<f64>> =
            baseline.map(|b| b.output_bytes.iter().map(|&v| v as f64).collect());
        let test = before.as_ref().and_then(|b| mann_whitney_u(now, b));
        let note = match &before {
            None => Some("no baseline to compare output lengths with".to_string()),
            Some(_) if test.is_some() => None,
            Some(b) => Some(format!(
                "too few samples to compare output lengths ({} now, {} in the baseline; the test needs {MIN_SAMPLES_PER_SIDE} on each side)",
                now.len(),
                b.len()
            )),
        };
        VerbosityDrift {
            now: Percentiles::of(now.iter().copied()),
            before: before.and_then(Percentiles::of),
            test,
            alpha,
            drifted: test.is_some_and(|t| t.p_value < alpha),
            note,
        }
    }
}

/// The two-sided Mann-Whitney U test of `a` against `b` by the normal approximation, with
/// the tie correction of the variance and a continuity correction of ½ — what R's
/// `wilcox.test(a, b, exact = FALSE, correct = TRUE)` and scipy's
/// `mannwhitneyu(a, b, method="asymptotic", use_continuity=True)` compute. Non-finite values
/// are left out. None when either side has fewer than [`MIN_SAMPLES_PER_SIDE`] values, where
/// the approximation is poor. When every value is the same there is no evidence of a
/// difference: z = 0 and p = 1.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    let mut pooled: Vec<(f64, bool)> = (a.iter().map(|&v| (v, true)))
        .chain(b.iter().map(|&v| (v, false)))
        .filter(|(v, _)| v.is_finite())
        .collect();
    let n1 = pooled.iter().filter(|(_, first)| *first).count();
    let n2 = pooled.len() - n1;
    if n1 < MIN_SAMPLES_PER_SIDE || n2 < MIN_SAMPLES_PER_SIDE {
        return None;
    }
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Ranks 1..=n, tied values sharing the mean of their ranks.
    let (mut rank_sum_a, mut ties) = (0.0_f64, 0.0_f64);
    let mut start = 0;
    while start < pooled.len() {
        let end = start
            + pooled[start..]
                .iter()
                .take_while(|(v, _)| *v == pooled[start].0)
                .count();
        let t = (end - start) as f64;
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let in_a = pooled[start..end]
            .iter()
            .filter(|(_, first)| *first)
            .count();
        rank_sum_a += mean_rank * in_a as f64;
        ties += t * t * t - t;
        start = end;
    }
    let (n1, n2) = (n1 as f64, n2 as f64);
    let n = n1 + n2;
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return Some(MannWhitney {
            u,
            z: 0.0,
            p_value: 1.0,
        });
    }
    let shift = u - n1 * n2 / 2.0;
    let corrected = (shift.abs() - 0.5).max(0.0);
    let z = corrected.copysign(shift) / variance.sqrt();
    let p_value = (2.0 * normal_upper_tail(z.abs())).min(1.0);
    Some(MannWhitney { u, z, p_value })
}

/// P(Z > x) for a standard normal Z: Hart's rational approximation as given by G. West,
/// "Better approximations to cumulative normal functions" (Wilmott, 2005), computed on the
/// tail directly so small p-values keep their digits. Against scipy's `norm.sf` on a grid of
/// 0 ≤ x ≤ 37: absolute error below 2e-16, relative error below 1e-8.
fn normal_upper_tail(x: f64) -> f64 {
    let x = x.abs();
    if x > 37.0 {
        return 0.0;
    }
    let exponential = (-x * x / 2.0).exp();
    if x < 7.071_067_811_865_47 {
        let numerator = [
            3.526_249_659_989_11e-2,
            0.700_383_064_443_688,
            6.373_962_203_531_65,
            33.912_866_078_383,
            112.079_291_497_871,
            221.213_596_169_931,
            220.206_867_912_376,
        ]
        .iter()
        .fold(0.0, |acc, c| acc * x + c);
        let denominator = [
            8.838_834_764_831_84e-2,
            1.755_667_163_182_64,
            16.064_177_579_207,
            86.780_732_202_946_1,
            296.564_248_779_674,
            637.333_633_378_831,
            793.826_512_519_948,
            440.413_735_824_752,
        ]
        .iter()
        .fold(0.0, |acc, c| acc * x + c);
        exponential * numerator / denominator
    } else {
        let fraction = x + 1.0 / (x + 2.0 / (x + 3.0 / (x + 4.0 / (x + 0.65))));
        exponential / fraction / 2.506_628_274_631
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    #[test]
    fn the_normal_tail_matches_reference_values() {
        // scipy.stats.norm.sf
        close(normal_upper_tail(0.0), 0.5, 1e-15);
        close(normal_upper_tail(1.0), 0.158_655_253_931_457_05, 1e-14);
        close(normal_upper_tail(1.959_963_984_540_054), 0.025, 1e-14);
        let far = normal_upper_tail(5.0);
        close(far / 2.866_515_718_791_933e-7, 1.0, 1e-9);
        let farther = normal_upper_tail(8.0);
        close(farther / 6.220_960_574_271_74e-16, 1.0, 1e-7);
    }

    /// Reference values: scipy 1.17 `mannwhitneyu(a, b, alternative="two-sided",
    /// method="asymptotic", use_continuity=True)`, which is R's `wilcox.test(a, b,
    /// correct = TRUE, exact = FALSE)`; z from the same formula in numpy.
    #[test]
    fn mann_whitney_matches_scipy() {
        // Ties across and within the samples.
        let a = [12.0, 15.0, 15.0, 18.0, 20.0, 22.0, 22.0, 25.0, 30.0];
        let b = [10.0, 11.0, 12.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 21.0];
        let t = mann_whitney_u(&a, &b).unwrap();
        assert_eq!(t.u, 68.0);
        close(t.z, 1.842_783_688_091_046_6, 1e-12);
        close(t.p_value, 0.065_360_599_354_668_54, 1e-12);

        // The depression data of R's `?wilcox.test` (Hollander & Wolfe), taken unpaired.
        let x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
        #[allow(clippy::approx_constant, reason = "a measurement, not π")]
        let y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
        let t = mann_whitney_u(&x, &y).unwrap();
        assert_eq!(t.u, 58.0);
        close(t.z, 1.502_688_234_205_555, 1e-12);
        close(t.p_value, 0.132_919_458_185_318_92, 1e-12);

        // No ties, the first sample smaller: z is negative.
        let low: Vec<f64> = (1..=8).map(f64::from).collect();
        let high: Vec<f64> = (5..=12).map(f64::from).collect();
        let t = mann_whitney_u(&low, &high).unwrap();
        assert_eq!(t.u, 8.0);
        close(t.z, -2.475_284_634_879_116, 1e-12);
        close(t.p_value, 0.013_313_002_763_816_655, 1e-12);

        // Two values only, heavily tied.
        let a = [[100.0; 5], [200.0; 5]].concat();
        let b = [[100.0; 3].as_slice(), [200.0; 7].as_slice()].concat();
        let t = mann_whitney_u(&a, &b).unwrap();
        assert_eq!(t.u, 40.0);
        close(t.z, -0.845_268_694_952_478_8, 1e-12);
        close(t.p_value, 0.397_960_835_435_706_4, 1e-12);
    }

    #[test]
    fn too_few_or_identical_samples() {
        let seven = [1.0; 7];
        let eight = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        assert_eq!(mann_whitney_u(&seven, &eight), None);
        assert_eq!(mann_whitney_u(&eight, &seven), None);
        let with_nan = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, f64::NAN];
        assert_eq!(mann_whitney_u(&with_nan, &eight), None, "NaN is no value");
        let same = mann_whitney_u(&[4.0; 8], &[4.0; 9]).unwrap();
        assert_eq!((same.u, same.z, same.p_value), (36.0, 0.0, 1.0));
        // Exactly at the mean: the continuity correction does not overshoot.
        let t = mann_whitney_u(&eight, &eight).unwrap();
        assert_eq!((t.u, t.z, t.p_value), (32.0, 0.0, 1.0));
    }

    #[test]
    fn drift_against_a_baseline() {
        let before = SignalBaseline {
            output_bytes: (100..140).collect(),
            ..SignalBaseline::default()
        };
        let longer: Vec<f64> = (130..170).map(f64::from).collect();
        let drift = VerbosityDrift::of(&longer, Some(&before), 0.01);
        let test = drift.test.unwrap();
        assert!(test.p_value < 1e-6 && test.z > 0.0, "{test:?}");
        assert!(drift.drifted);
        assert_eq!(drift.now.unwrap().p50, 149.0);
        assert_eq!(drift.before.unwrap().p50, 119.0);
        assert_eq!(drift.before.unwrap().p95, 137.0);
        assert_eq!(drift.note, None);

        let same: Vec<f64> = (100..140).map(f64::from).collect();
        let drift = VerbosityDrift::of(&same, Some(&before), 0.01);
        assert_eq!(drift.test.unwrap().p_value, 1.0);
        assert!(!drift.drifted);

        let drift = VerbosityDrift::of(&same[..5], Some(&before), 0.01);
        assert_eq!(drift.test, None);
        assert!(!drift.drifted);
        assert!(drift.note.unwrap().starts_with("too few samples"));

        let drift = VerbosityDrift::of(&same, None, 0.01);
        assert_eq!((drift.test, drift.before), (None, None));
        assert_eq!(drift.now.unwrap().n, 40);
        assert_eq!(
            drift.note.as_deref(),
            Some("no baseline to compare output lengths with")
        );
    }
}
