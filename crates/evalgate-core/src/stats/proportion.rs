//! Inference about one pass rate from `passes` out of `n` samples: confidence intervals
//! (Wilson, Clopper–Pearson) and the exact binomial tail.

use super::beta::{inverse_regularized_incomplete_beta, regularized_incomplete_beta};
use super::normal::normal_quantile;

/// The 95 % Wilson score interval for `passes` successes in `n` trials. Unlike the normal
/// approximation it stays inside [0, 1] and is honest for small n and rates near 0 or 1.
pub fn wilson_interval(passes: u32, n: u32) -> (f64, f64) {
    wilson_interval_at(passes, n, 0.95)
}

/// The two-sided Wilson score interval at any `confidence` level (0.95 for 95 %). The
/// default interval for a pass rate: close to nominal coverage on average and never
/// outside [0, 1]. When coverage must be at least nominal for every rate (a guarantee
/// rather than an average), use [`clopper_pearson`]. `(0, 1)` when n = 0.
///
/// # Panics
///
/// When `confidence` is not strictly between 0 and 1, or `passes > n`.
pub fn wilson_interval_at(passes: u32, n: u32, confidence: f64) -> (f64, f64) {
    check_arguments(passes, n, confidence);
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = -normal_quantile((1.0 - confidence) / 2.0);
    let n_f = f64::from(n);
    let p = f64::from(passes) / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = z * ((p * (1.0 - p) / n_f) + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
    // Clamp: at p = 0 or 1 rounding can leave the bound a hair outside.
    let low = if passes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if passes == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (low, high)
}

/// The exact (Clopper–Pearson) two-sided interval at `confidence`, as R's
/// `binom.test(passes, n)$conf.int`: the bounds are Beta quantiles, lower =
/// B⁻¹(α/2; c, n − c + 1) and upper = B⁻¹(1 − α/2; c + 1, n − c). Its coverage is at least
/// `confidence` for every true rate, at the price of being wider than Wilson's: use it when
/// a claim such as "the pass rate is at least 90 %" must hold with the stated confidence.
/// The lower bound is 0 when passes = 0, the upper 1 when passes = n, and n = 0 gives (0, 1).
///
/// # Panics
///
/// When `confidence` is not strictly between 0 and 1, or `passes > n`.
pub fn clopper_pearson(passes: u32, n: u32, confidence: f64) -> (f64, f64) {
    check_arguments(passes, n, confidence);
    let alpha = 1.0 - confidence;
    let (c, n) = (f64::from(passes), f64::from(n));
    let low = if c == 0.0 {
        0.0
    } else {
        inverse_regularized_incomplete_beta(c, n - c + 1.0, alpha / 2.0)
    };
    let high = if c == n {
        1.0
    } else {
        inverse_regularized_incomplete_beta(c + 1.0, n - c, 1.0 - alpha / 2.0)
    };
    (low, high)
}

/// P(X ≥ c) for X ~ Binomial(n, p), exactly (`pbinom(c - 1, n, p, lower.tail = FALSE)` in
/// R, `scipy.stats.binom.sf(c - 1, n, p)`): the one-sided p-value of seeing `c` or more
/// passes in `n` samples if the true pass rate were `p`. Computed as I_p(c, n − c + 1), so
/// small tails keep their relative accuracy. 1 when c = 0, 0 when c > n.
///
/// # Panics
///
/// When `p` is not in [0, 1].
pub fn binomial_tail_at_least(n: u32, c: u32, p: f64) -> f64 {
    assert!(
        (0.0..=1.0).contains(&p),
        "binomial rate must be in [0, 1], got {p}"
    );
    if c == 0 {
        return 1.0;
    }
    if c > n {
        return 0.0;
    }
    regularized_incomplete_beta(f64::from(c), f64::from(n - c + 1), p)
}

fn check_arguments(passes: u32, n: u32, confidence: f64) {
    assert!(
        confidence > 0.0 && confidence < 1.0,
        "confidence must be strictly between 0 and 1, got {confidence}"
    );
    assert!(passes <= n, "{passes} passes out of {n} samples");
}

#[cfg(test)]
// References keep every digit their source printed, more than an f64 holds.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;
    use crate::stats::approx::assert_close;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-4
    }

    /// Reference values from the closed form (also given by statsmodels'
    /// `proportion_confint(method="wilson")`).
    #[test]
    fn wilson_matches_known_values() {
        let (l, h) = wilson_interval(8, 10);
        assert!(close(l, 0.4902) && close(h, 0.9433), "{l} {h}");
        let (l, h) = wilson_interval(5, 5);
        assert!(close(l, 0.5655) && h == 1.0, "{l} {h}");
        let (l, h) = wilson_interval(0, 10);
        assert!(l == 0.0 && close(h, 0.2775), "{l} {h}");
        let (l, h) = wilson_interval(50, 100);
        assert!(close(l, 0.4038) && close(h, 0.5962), "{l} {h}");
        assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
    }

    /// `wilson_interval` is now `wilson_interval_at(…, 0.95)`; it must still give what the
    /// fixed z = 1.959963984540054 (R's `qnorm(0.975)`) gave, to rounding.
    #[test]
    fn wilson_interval_is_unchanged_by_computing_its_z() {
        const Z95: f64 = 1.959_963_984_540_054;
        for n in 1..=60_u32 {
            for passes in 0..=n {
                let (n_f, p) = (f64::from(n), f64::from(passes) / f64::from(n));
                let z2 = Z95 * Z95;
                let denom = 1.0 + z2 / n_f;
                let centre = (p + z2 / (2.0 * n_f)) / denom;
                let half = Z95 * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
                let (low, high) = wilson_interval(passes, n);
                let want_low = if passes == 0 { 0.0 } else { centre - half };
                let want_high = if passes == n { 1.0 } else { centre + half };
                assert!(
                    (low - want_low).abs() < 1e-15,
                    "{passes}/{n}: {low} {want_low}"
                );
                assert!((high - want_high).abs() < 1e-15, "{passes}/{n}");
            }
        }
    }

    /// `scipy.stats.binomtest(k, n).proportion_ci(method='wilson', confidence_level=c)`.
    #[test]
    fn wilson_interval_at_matches_scipy() {
        let references = [
            (
                7,
                20,
                0.95,
                0.181_191_824_101_082_1,
                0.567_145_723_314_763_7,
            ),
            (
                7,
                20,
                0.90,
                0.202_260_040_056_761_04,
                0.533_487_311_151_528_4,
            ),
            (
                7,
                20,
                0.99,
                0.146_393_441_376_938_85,
                0.628_338_178_952_687_2,
            ),
            (0, 10, 0.95, 0.0, 0.277_532_799_862_889_26),
            (
                1,
                3,
                0.80,
                0.105_775_636_121_722_86,
                0.678_817_352_169_651_7,
            ),
            (
                49,
                50,
                0.999,
                0.790_686_749_378_101_1,
                0.998_429_156_810_339_2,
            ),
        ];
        for (passes, n, confidence, low, high) in references {
            let (l, h) = wilson_interval_at(passes, n, confidence);
            assert_close(l, low, 1e-13);
            assert_close(h, high, 1e-13);
        }
    }

    /// R: `binom.test(3, 10)$conf.int` = 0.06673951 0.65245285. The 18-digit values are
    /// mpmath at 30 digits, the roots of `mp.betainc(a, b, 0, x, regularized=True) = α/2`
    /// (resp. 1 − α/2) with the Clopper–Pearson shapes; scipy's
    /// `binomtest(k, n).proportion_ci(method='exact', confidence_level=c)` agrees to ~1e-14.
    #[test]
    fn clopper_pearson_matches_r_and_mpmath() {
        let (low, high) = clopper_pearson(3, 10, 0.95);
        assert!((low - 0.066_739_51).abs() < 5e-9 && (high - 0.652_452_85).abs() < 5e-9);
        let references = [
            (
                3,
                10,
                0.95,
                0.066_739_511_177_734_489_6,
                0.652_452_850_059_997_241,
            ),
            (0, 10, 0.95, 0.0, 0.308_497_107_818_760_762),
            (10, 10, 0.95, 0.691_502_892_181_239_238, 1.0),
            (
                7,
                20,
                0.90,
                0.177_310_917_574_449_107,
                0.558_034_511_315_488_736,
            ),
            (
                47,
                50,
                0.99,
                0.797_293_730_531_356_763,
                0.993_127_514_667_048_355,
            ),
            (
                1,
                1000,
                0.95,
                2.531_748_749_129_406_59e-5,
                0.005_558_924_279_826_671_83,
            ),
            (
                500,
                1000,
                0.95,
                0.468_549_172_971_791_947,
                0.531_450_827_028_208_053,
            ),
        ];
        for (passes, n, confidence, low, high) in references {
            let (l, h) = clopper_pearson(passes, n, confidence);
            assert_close(l, low, 1e-12);
            assert_close(h, high, 1e-12);
        }
    }

    /// With no passes (or no failures) the one open bound has the closed form
    /// 1 − (α/2)^(1/n) (resp. (α/2)^(1/n)); no samples tell nothing.
    #[test]
    fn clopper_pearson_edges() {
        assert_eq!(clopper_pearson(0, 0, 0.95), (0.0, 1.0));
        for n in 1..=200 {
            let edge = (0.025_f64).powf(1.0 / f64::from(n));
            let (low, high) = clopper_pearson(0, n, 0.95);
            assert_eq!(low, 0.0);
            assert_close(high, 1.0 - edge, 1e-12);
            let (low, high) = clopper_pearson(n, n, 0.95);
            assert_close(low, edge, 1e-12);
            assert_eq!(high, 1.0);
        }
    }

    /// The exact interval is the set of rates not rejected by the two one-sided binomial
    /// tests at α/2: at its lower bound P(X ≥ c) = α/2, at its upper bound P(X ≤ c) = α/2.
    #[test]
    fn clopper_pearson_bounds_are_where_the_binomial_tails_equal_half_alpha() {
        for n in [5, 20, 137] {
            for passes in 1..n {
                let (low, high) = clopper_pearson(passes, n, 0.9);
                assert_close(binomial_tail_at_least(n, passes, low), 0.05, 1e-11);
                assert_close(
                    1.0 - binomial_tail_at_least(n, passes + 1, high),
                    0.05,
                    1e-11,
                );
            }
        }
    }

    /// `scipy.stats.binom.sf(c - 1, n, p)` (= R's `pbinom(c - 1, n, p, lower.tail = FALSE)`),
    /// checked against mpmath's exact sum at 30 digits, which is what is quoted.
    #[test]
    fn binomial_tail_matches_scipy() {
        let references = [
            (10, 8, 0.5, 0.054_687_5),
            (20, 15, 0.5, 0.020_694_732_666_015_625),
            (100, 90, 0.8, 0.005_696_380_955_793_521_568_4),
            (100, 95, 0.5, 6.261_622_562_692_680_167_6e-23),
            (30, 1, 0.01, 0.260_299_626_611_719_581_94),
            (1000, 550, 0.5, 8.652_680_424_881_588_041_2e-4),
        ];
        for (n, c, p, tail) in references {
            assert_close(binomial_tail_at_least(n, c, p), tail, 1e-12);
        }
    }

    /// Against the sum Σₖ≥c C(n, k) pᵏ (1 − p)ⁿ⁻ᵏ, each term formed in log space.
    #[test]
    fn binomial_tail_matches_the_sum_of_the_probabilities() {
        let ln_factorial = |k: u32| -> f64 { (2..=k).map(|i| f64::from(i).ln()).sum() };
        for n in [1, 2, 7, 30, 64] {
            for p in [0.01_f64, 0.2, 0.5, 0.77, 0.999] {
                for c in 0..=n + 1 {
                    let sum: f64 = (c..=n)
                        .map(|k| {
                            let ln_choose = ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k);
                            let (k_f, rest) = (f64::from(k), f64::from(n - k));
                            (ln_choose + k_f * p.ln() + rest * (-p).ln_1p()).exp()
                        })
                        .sum();
                    assert_close(binomial_tail_at_least(n, c, p), sum, 1e-11);
                }
            }
        }
        assert_eq!(binomial_tail_at_least(10, 0, 0.3), 1.0);
        assert_eq!(binomial_tail_at_least(10, 11, 0.3), 0.0);
        assert_eq!(binomial_tail_at_least(10, 3, 0.0), 0.0);
        assert_eq!(binomial_tail_at_least(10, 3, 1.0), 1.0);
    }

    #[test]
    #[should_panic(expected = "confidence must be strictly between 0 and 1")]
    fn a_confidence_of_one_is_refused() {
        clopper_pearson(3, 10, 1.0);
    }
}
