//! Comparing two pass rates: Fisher's exact test on their 2×2 table.

/// Fisher's exact test, two-sided, for the 2×2 table `[[a, b], [c, d]]` (e.g. passes and
/// failures of a baseline, then of the current run): the probability, with the margins
/// fixed, of a table at most as likely as the one observed.
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let (row1, row2, col1) = (a + b, c + d, a + c);
    let n = row1 + row2;
    // ln k! for every k ≤ n, built once: the sum over tables stays linear in n (a run-level
    // tier mix has tens of thousands of samples).
    let mut table = Vec::with_capacity(n as usize + 1);
    let mut acc = 0.0_f64;
    table.push(0.0);
    for i in 1..=n {
        acc += (i as f64).ln();
        table.push(acc);
    }
    let ln_fact = |k: u64| table[k as usize];
    let ln_choose = |n: u64, k: u64| ln_fact(n) - ln_fact(k) - ln_fact(n - k);
    let ln_total = ln_choose(n, col1);
    let probability = |x: u64| (ln_choose(row1, x) + ln_choose(row2, col1 - x) - ln_total).exp();
    let observed = probability(a);
    let low = col1.saturating_sub(row2);
    let high = row1.min(col1);
    // Tables as likely as the observed one count too: a relative tolerance keeps rounding
    // from dropping them (R uses the same idea).
    let p: f64 = (low..=high)
        .map(probability)
        .filter(|q| *q <= observed * (1.0 + 1e-7))
        .sum();
    p.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-4
    }

    /// Reference values from R's `fisher.test` (two-sided).
    #[test]
    fn fisher_exact_takes_run_sized_tables() {
        // 100,000 samples a side (a whole run's tier mix): identical shares are no
        // evidence, and 90 % against 89 % is (R: fisher.test(matrix(c(90000, 10000, 89000,
        // 11000), 2))$p.value < 2.2e-16).
        assert!(close(fisher_exact(90_000, 10_000, 90_000, 10_000), 1.0));
        assert!(fisher_exact(90_000, 10_000, 89_000, 11_000) < 1e-12);
    }

    #[test]
    fn fisher_exact_matches_r() {
        // The lady tasting tea: matrix(c(3, 1, 1, 3), 2) → p = 0.4857.
        assert!(close(fisher_exact(3, 1, 1, 3), 0.485_714));
        // matrix(c(1, 11, 9, 3), 2) → p = 0.002759.
        assert!((fisher_exact(1, 9, 11, 3) - 0.002_759).abs() < 1e-5);
        // 10/10 then 0/10: p = 1.08e-5.
        assert!((fisher_exact(10, 0, 0, 10) - 1.0825e-5).abs() < 1e-8);
        // No difference at all, and a single sample each: nothing to tell.
        assert!(close(fisher_exact(5, 5, 5, 5), 1.0));
        assert!(close(fisher_exact(1, 0, 0, 1), 1.0));
    }
}
