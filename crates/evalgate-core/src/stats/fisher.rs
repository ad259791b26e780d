//! Comparing two pass rates: Fisher's exact test on their 2×2 table, two-sided (did the
//! rate change?) and one-sided (did it drop?).

/// ln k! for every k up to a bound, built once per table: sums over tables stay linear in
/// the number of samples (a run-level tier mix has tens of thousands).
struct LnFactorials(Vec<f64>);

impl LnFactorials {
    fn up_to(n: u64) -> LnFactorials {
        let mut table = Vec::with_capacity(n as usize + 1);
        let mut acc = 0.0_f64;
        table.push(0.0);
        for i in 1..=n {
            acc += (i as f64).ln();
            table.push(acc);
        }
        LnFactorials(table)
    }

    fn choose(&self, n: u64, k: u64) -> f64 {
        self.0[n as usize] - self.0[k as usize] - self.0[(n - k) as usize]
    }
}

/// The hypergeometric law of the first row's first cell of a 2×2 table `[[a, b], [c, d]]`
/// with its margins fixed: what Fisher's tests sum over.
struct Margins {
    ln: LnFactorials,
    row1: u64,
    row2: u64,
    col1: u64,
}

impl Margins {
    fn of(a: u64, b: u64, c: u64, d: u64) -> Margins {
        let (row1, row2, col1) = (a + b, c + d, a + c);
        Margins {
            ln: LnFactorials::up_to(row1 + row2),
            row1,
            row2,
            col1,
        }
    }

    /// P(first cell = x).
    fn probability(&self, x: u64) -> f64 {
        (self.ln.choose(self.row1, x) + self.ln.choose(self.row2, self.col1 - x)
            - self.ln.choose(self.row1 + self.row2, self.col1))
        .exp()
    }

    /// The values the first cell can take.
    fn support(&self) -> std::ops::RangeInclusive<u64> {
        self.col1.saturating_sub(self.row2)..=self.row1.min(self.col1)
    }
}

/// Fisher's exact test, two-sided, for the 2×2 table `[[a, b], [c, d]]` (e.g. passes and
/// failures of a baseline, then of the current run): the probability, with the margins
/// fixed, of a table at most as likely as the one observed.
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let margins = Margins::of(a, b, c, d);
    let observed = margins.probability(a);
    // Tables as likely as the observed one count too: a relative tolerance keeps rounding
    // from dropping them (R uses the same idea).
    let p: f64 = margins
        .support()
        .map(|x| margins.probability(x))
        .filter(|q| *q <= observed * (1.0 + 1e-7))
        .sum();
    p.min(1.0)
}

/// Fisher's exact test, one-sided, for a drop: with `before_passes`/`before_failures` of a
/// baseline and `passes`/`failures` now, the probability, with the margins fixed, that the
/// current samples hold this few passes or fewer (`fisher.test(matrix(c(before_passes,
/// passes, before_failures, failures), 2), alternative = "greater")` in R,
/// `scipy.stats.fisher_exact([[bp, bf], [p, f]], alternative="greater")`). Small when the
/// pass rate dropped; a rise is no evidence of a drop. Valid for a fixed number of current
/// samples: a sequential design needs its own p-value (see
/// [`super::LookDesign::p_value`]). 1 when either side has no samples.
pub fn fisher_exact_drop(
    before_passes: u64,
    before_failures: u64,
    passes: u64,
    failures: u64,
) -> f64 {
    if before_passes + before_failures == 0 || passes + failures == 0 {
        return 1.0;
    }
    // The first row is the current run: its passes are the first cell.
    let margins = Margins::of(passes, failures, before_passes, before_failures);
    let low = *margins.support().start();
    let p: f64 = (low..=passes).map(|x| margins.probability(x)).sum();
    p.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::approx::assert_close;

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

    /// Reference values from `scipy.stats.fisher_exact([[bp, bf], [p, f]],
    /// alternative="greater")` (scipy 1.16), which R's `alternative = "greater"` agrees with.
    #[test]
    fn fisher_exact_drop_matches_scipy() {
        for (table, expected) in [
            ([10, 0, 0, 2], 0.015_151_515_151_515_152),
            ([10, 0, 8, 2], 0.236_842_105_263_157_9),
            ([20, 0, 0, 1], 0.047_619_047_619_047_62),
            ([150, 0, 135, 15], 2.112_315_992_551_244_3e-5),
            ([90, 10, 75, 25], 0.004_251_785_739_311_977),
            ([5, 5, 2, 8], 0.174_922_600_619_195_07),
            ([3, 0, 0, 3], 0.05),
            ([5, 0, 0, 5], 0.003_968_253_968_253_969),
            ([1000, 50, 900, 100], 3.431_875_341_565_493e-6),
        ] {
            let [bp, bf, p, f] = table;
            assert_close(fisher_exact_drop(bp, bf, p, f), expected, 1e-9);
        }
    }

    #[test]
    fn a_rise_or_no_samples_is_no_evidence_of_a_drop() {
        assert_close(fisher_exact_drop(5, 5, 10, 0), 1.0, 1e-12);
        assert_eq!(fisher_exact_drop(0, 0, 0, 3), 1.0);
        assert_eq!(fisher_exact_drop(4, 0, 0, 0), 1.0);
        // A baseline that never passed cannot drop.
        assert_close(fisher_exact_drop(0, 10, 0, 10), 1.0, 1e-12);
    }
}
