//! Many comparisons in one run: adjusted p-values, so that a run of 20 compared cases does
//! not turn red 64 % of the time when nothing changed (1 − 0.95²⁰). Both procedures are R's
//! `p.adjust` (`"holm"`, `"BH"`): a case is called at level α when its adjusted p-value is
//! at most α.

use serde::{Deserialize, Serialize};

/// How a run's per-case p-values are adjusted for the number of comparisons.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// Holm's step-down procedure: the probability of calling any regression when nothing
    /// changed (the family-wise error) is at most α, whatever the dependence between cases.
    #[default]
    Holm,
    /// Benjamini–Hochberg: the expected share of false calls among the regressions called
    /// (the false discovery rate) is at most α for independent cases. When nothing changed
    /// at all this is the same as the family-wise error; when some cases did regress it
    /// calls more of the others, some of them wrongly.
    Bh,
}

impl Correction {
    /// The correction as the suite file spells it: `holm` or `bh`.
    pub fn as_str(self) -> &'static str {
        match self {
            Correction::Holm => "holm",
            Correction::Bh => "bh",
        }
    }

    /// The adjusted p-values of `p`, in the same order.
    pub fn adjust(self, p: &[f64]) -> Vec<f64> {
        match self {
            Correction::Holm => holm(p),
            Correction::Bh => benjamini_hochberg(p),
        }
    }
}

/// Indices of `p`, smallest p-value first (ties by index, so the result is stable).
fn ascending(p: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]).then(i.cmp(&j)));
    order
}

/// Holm's adjusted p-values: the i-th smallest is max over j ≤ i of (m − j + 1)·p₍ⱼ₎,
/// capped at 1.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0_f64;
    for (rank, &i) in ascending(p).iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Benjamini–Hochberg adjusted p-values: the i-th smallest is min over j ≥ i of
/// m·p₍ⱼ₎ / j, capped at 1.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut adjusted = vec![0.0; m];
    let mut running = 1.0_f64;
    for (rank, &i) in ascending(p).iter().enumerate().rev() {
        running = running.min(m as f64 * p[i] / (rank + 1) as f64);
        adjusted[i] = running.min(1.0);
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::approx::assert_close;

    fn assert_all_close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert_close(*a, *e, 1e-12);
        }
    }

    /// R: `p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.2), "holm")` and `"BH"`.
    #[test]
    fn adjusted_values_match_r() {
        let p = [0.01, 0.04, 0.03, 0.005, 0.2];
        assert_all_close(&holm(&p), &[0.04, 0.09, 0.09, 0.025, 0.2]);
        assert_all_close(&benjamini_hochberg(&p), &[0.025, 0.05, 0.05, 0.025, 0.2]);
        // p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm") and "BH".
        let p = [0.01, 0.02, 0.03, 0.04, 0.05];
        assert_all_close(&holm(&p), &[0.05, 0.08, 0.09, 0.09, 0.09]);
        assert_all_close(&benjamini_hochberg(&p), &[0.05; 5]);
        // Capped at 1, ties kept together.
        assert_all_close(&holm(&[0.6, 0.6]), &[1.0, 1.0]);
        assert_all_close(&benjamini_hochberg(&[0.6, 0.6]), &[0.6, 0.6]);
        assert!(holm(&[]).is_empty());
    }

    /// 20 cases with nothing changed: uniform p-values. Holm calls any at 0.05 in at most
    /// 5 % of runs — simulated, with the slack of three standard errors.
    #[test]
    fn holm_keeps_the_run_level_error_at_alpha() {
        let mut random = crate::stats::random::XorShift(0x2545_f491_4f6c_dd1d);
        let mut uniform = || random.uniform();
        let runs = 20_000;
        let (mut holm_red, mut raw_red) = (0, 0);
        for _ in 0..runs {
            let p: Vec<f64> = (0..20).map(|_| uniform()).collect();
            holm_red += usize::from(holm(&p).iter().any(|&q| q <= 0.05));
            raw_red += usize::from(p.iter().any(|&q| q <= 0.05));
        }
        let rate = holm_red as f64 / f64::from(runs);
        assert!(
            rate <= 0.05 + 3.0 * (0.05 * 0.95 / f64::from(runs)).sqrt(),
            "{rate}"
        );
        // Unadjusted, a run is red about 1 − 0.95^20 = 64 % of the time.
        let raw = raw_red as f64 / f64::from(runs);
        assert!((raw - 0.6415).abs() < 0.02, "{raw}");
    }
}
