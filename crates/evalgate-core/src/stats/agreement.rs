//! Agreement between two annotators beyond chance.

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
