//! Percentiles of a list of measurements. Nearest rank, as the run summary's latency line
//! uses, so the two never disagree: every percentile is a value that was measured.

use serde::{Deserialize, Serialize};

/// The size and percentiles of a list of measurements (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Percentiles {
    /// How many values.
    pub n: u64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// The percentiles of `values` (non-finite ones are left out); None when none is left.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Percentiles> {
        let mut sorted: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        Percentiles::of_sorted(&sorted)
    }

    /// The percentiles of values already sorted ascending.
    pub(crate) fn of_sorted(sorted: &[f64]) -> Option<Percentiles> {
        Some(Percentiles {
            n: sorted.len() as u64,
            p50: nearest_rank(sorted, 0.50)?,
            p95: nearest_rank(sorted, 0.95)?,
            p99: nearest_rank(sorted, 0.99)?,
            max: *sorted.last()?,
        })
    }
}

/// The nearest-rank `q`-quantile of sorted values: the value at rank ⌈q·n⌉ (1-based, at
/// least 1). None when there are no values.
pub(crate) fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_a_known_list() {
        // 1..=100: the q-quantile is the value at rank ⌈100 q⌉.
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(nearest_rank(&hundred, 0.50), Some(50.0));
        assert_eq!(nearest_rank(&hundred, 0.95), Some(95.0));
        assert_eq!(nearest_rank(&hundred, 0.99), Some(99.0));
        // Ten values: p50 is the 5th, p95 and p99 round up to the 10th (no interpolation).
        let ten = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0];
        let p = Percentiles::of(ten).unwrap();
        assert_eq!((p.n, p.p50, p.p95, p.p99, p.max), (10, 3.0, 9.0, 9.0, 9.0));
        // Twenty values 10, 20, …, 200: p50 = rank 10, p95 = rank 19, p99 = rank 20.
        let twenty = (1..=20).map(|i| f64::from(i) * 10.0);
        let p = Percentiles::of(twenty).unwrap();
        assert_eq!((p.p50, p.p95, p.p99), (100.0, 190.0, 200.0));
        assert_eq!(nearest_rank(&[7.0], 0.95), Some(7.0));
        assert_eq!(nearest_rank(&[7.0, 8.0], 0.0), Some(7.0));
    }

    #[test]
    fn empty_and_non_finite_values() {
        assert_eq!(Percentiles::of([]), None);
        assert_eq!(Percentiles::of([f64::NAN, f64::INFINITY]), None);
        let p = Percentiles::of([f64::NAN, 2.0, 1.0]).unwrap();
        assert_eq!((p.n, p.p50, p.max), (2, 1.0, 2.0));
    }
}
