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
}
