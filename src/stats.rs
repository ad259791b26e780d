//! Statistics for verdicts from repeated samples.

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The 95 % Wilson score interval for `passes` successes in `n` trials. Unlike the normal
/// approximation it stays inside [0, 1] and is honest for small n and rates near 0 or 1.
pub fn wilson_interval(passes: u32, n: u32) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = f64::from(n);
    let p = f64::from(passes) / n_f;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = Z95 * ((p * (1.0 - p) / n_f) + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
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

/// Cohen's κ: how much two annotators agree beyond chance, over items both labelled
/// (`pairs` of their labels). `None` when it is undefined: no items, or both annotators
/// gave one and the same label to everything (chance agreement is 1).
pub fn cohens_kappa<L: Eq + std::hash::Hash>(pairs: &[(L, L)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let observed = pairs.iter().filter(|(a, b)| a == b).count() as f64 / n;
    let mut first: std::collections::HashMap<&L, f64> = std::collections::HashMap::new();
    let mut second: std::collections::HashMap<&L, f64> = std::collections::HashMap::new();
    for (a, b) in pairs {
        *first.entry(a).or_default() += 1.0;
        *second.entry(b).or_default() += 1.0;
    }
    let expected: f64 = first
        .iter()
        .map(|(label, count)| count / n * second.get(label).copied().unwrap_or(0.0) / n)
        .sum();
    if (1.0 - expected).abs() < 1e-12 {
        return None;
    }
    Some((observed - expected) / (1.0 - expected))
}

/// Fisher's exact test, two-sided, for the 2×2 table `[[a, b], [c, d]]` (e.g. passes and
/// failures of a baseline, then of the current run): the probability, with the margins
/// fixed, of a table at most as likely as the one observed.
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let (row1, row2, col1) = (a + b, c + d, a + c);
    let n = row1 + row2;
    let ln_fact = |k: u64| -> f64 { (2..=k).map(|i| (i as f64).ln()).sum() };
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

    /// The worked example of Cohen's κ on Wikipedia: 50 items, yes/yes 20, yes/no 5,
    /// no/yes 10, no/no 15 → p_o = 0.7, p_e = 0.5, κ = 0.4.
    #[test]
    fn cohens_kappa_matches_the_textbook_example() {
        let mut pairs = Vec::new();
        pairs.extend(std::iter::repeat_n(("yes", "yes"), 20));
        pairs.extend(std::iter::repeat_n(("yes", "no"), 5));
        pairs.extend(std::iter::repeat_n(("no", "yes"), 10));
        pairs.extend(std::iter::repeat_n(("no", "no"), 15));
        assert!(close(cohens_kappa(&pairs).unwrap(), 0.4));
        let perfect = [("a", "a"), ("b", "b")];
        assert!(close(cohens_kappa(&perfect).unwrap(), 1.0));
        let opposite = [("a", "b"), ("b", "a")];
        assert!(close(cohens_kappa(&opposite).unwrap(), -1.0));
        assert_eq!(cohens_kappa(&[("a", "a"), ("a", "a")]), None);
        assert_eq!(cohens_kappa::<&str>(&[]), None);
    }

    /// Reference values from R's `fisher.test` (two-sided).
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
