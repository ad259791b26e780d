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
}
