//! Unbiased estimators of what k attempts achieve, from n samples of which c passed
//! (n ≥ k): pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code")
//! and pass^k (Yao et al. 2024, τ-bench). Both are exact ratios of binomial coefficients,
//! evaluated as short products so that no factorial overflows or loses precision.

/// pass@k = 1 − C(n − c, k) / C(n, k): the probability that at least one of k samples drawn
/// without replacement from the n observed passes — an unbiased estimate of "solved within
/// k tries". Use it to report capability when a user may retry; unlike 1 − (1 − c/n)^k it
/// is unbiased. Evaluated as 1 − ∏ᵢ₌ₙ₋꜀₊₁ⁿ (1 − k/i), in log space. `None` when k = 0,
/// k > n or c > n.
pub fn pass_at_k(n: u32, c: u32, k: u32) -> Option<f64> {
    if k == 0 || k > n || c > n {
        return None;
    }
    if n - c < k {
        // Every choice of k samples contains a pass.
        return Some(1.0);
    }
    let k = f64::from(k);
    let ln_all_fail: f64 = (n - c + 1..=n).map(|i| (-k / f64::from(i)).ln_1p()).sum();
    Some(-ln_all_fail.exp_m1())
}

/// pass^k = C(c, k) / C(n, k): the probability that k samples drawn without replacement
/// from the n observed all pass — an unbiased estimate of "succeeds k times in a row".
/// Use it for reliability, where an agent must succeed every time rather than once.
/// Evaluated as ∏ᵢ₌₀ᵏ⁻¹ (c − i)/(n − i). `None` when k = 0, k > n or c > n.
pub fn pass_hat_k(n: u32, c: u32, k: u32) -> Option<f64> {
    if k == 0 || k > n || c > n {
        return None;
    }
    if k > c {
        return Some(0.0);
    }
    Some(
        (0..k)
            .map(|i| f64::from(c - i) / f64::from(n - i))
            .product(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::approx::assert_close;

    /// C(n, k) exactly, for the small n of the exhaustive checks.
    fn choose(n: u32, k: u32) -> u128 {
        if k > n {
            return 0;
        }
        (0..k).fold(1_u128, |acc, i| acc * u128::from(n - i) / u128::from(i + 1))
    }

    /// Worked from the definition: n = 10, c = 3 → pass@1 = 3/10, pass@5 =
    /// 1 − C(7, 5)/C(10, 5) = 1 − 21/252; Chen et al.'s own numpy estimator,
    /// `1 - np.prod(1 - k / np.arange(n - c + 1, n + 1))`, gives 0.9166666666666666.
    #[test]
    fn pass_at_k_matches_worked_examples() {
        assert_close(pass_at_k(10, 3, 1).unwrap(), 0.3, 1e-15);
        assert_close(pass_at_k(10, 3, 5).unwrap(), 1.0 - 21.0 / 252.0, 1e-15);
        assert_eq!(pass_at_k(10, 3, 8), Some(1.0));
        assert_eq!(pass_at_k(10, 0, 4), Some(0.0));
        assert_eq!(pass_at_k(10, 10, 1), Some(1.0));
        // A rare success in many samples: 1 − (1 − 1/1000) keeps its digits.
        assert_close(pass_at_k(1000, 1, 1).unwrap(), 0.001, 1e-14);
    }

    /// n = 10, c = 3, k = 2 → C(3, 2)/C(10, 2) = 3/45.
    #[test]
    fn pass_hat_k_matches_worked_examples() {
        assert_close(pass_hat_k(10, 3, 2).unwrap(), 3.0 / 45.0, 1e-15);
        assert_close(pass_hat_k(10, 3, 1).unwrap(), 0.3, 1e-15);
        assert_eq!(pass_hat_k(10, 3, 4), Some(0.0));
        assert_eq!(pass_hat_k(10, 10, 10), Some(1.0));
    }

    /// Every n ≤ 40, c ≤ n, 1 ≤ k ≤ n against the exact binomial ratios.
    #[test]
    fn both_estimators_equal_their_binomial_ratios_exhaustively() {
        for n in 1..=40 {
            for c in 0..=n {
                for k in 1..=n {
                    let all = choose(n, k) as f64;
                    let at_k = 1.0 - choose(n - c, k) as f64 / all;
                    let hat_k = choose(c, k) as f64 / all;
                    assert_close(pass_at_k(n, c, k).unwrap(), at_k, 1e-12);
                    assert_close(pass_hat_k(n, c, k).unwrap(), hat_k, 1e-12);
                }
                // With one attempt both are the observed pass rate.
                let rate = f64::from(c) / f64::from(n);
                assert_close(pass_at_k(n, c, 1).unwrap(), rate, 1e-15);
                assert_close(pass_hat_k(n, c, 1).unwrap(), rate, 1e-15);
            }
        }
    }

    #[test]
    fn undefined_estimates_are_none() {
        for estimator in [pass_at_k, pass_hat_k] {
            assert_eq!(estimator(10, 3, 0), None);
            assert_eq!(estimator(10, 3, 11), None);
            assert_eq!(estimator(10, 11, 2), None);
            assert_eq!(estimator(0, 0, 1), None);
        }
    }
}
