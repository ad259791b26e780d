//! A proportion with its 95 % Wilson interval: the shape of every rate a signal reports.

use serde::{Deserialize, Serialize};

use crate::stats::wilson_interval;

/// `count` out of `n`, the rate and its 95 % Wilson interval; both None when `n` is 0
/// (nothing was measured, which is not a rate of 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rate {
    pub count: u64,
    pub n: u64,
    pub rate: Option<f64>,
    pub interval: Option<[f64; 2]>,
}

impl Rate {
    /// `count` of `n`.
    ///
    /// # Panics
    ///
    /// When `count > n`.
    pub fn of(count: u64, n: u64) -> Rate {
        assert!(count <= n, "a rate of {count} out of {n}");
        if n == 0 {
            return Rate {
                count,
                n,
                rate: None,
                interval: None,
            };
        }
        // Runs of more than 4 billion samples do not exist; saturate rather than wrap.
        let n32 = u32::try_from(n).unwrap_or(u32::MAX);
        let count32 = u32::try_from(count).unwrap_or(u32::MAX).min(n32);
        let (low, high) = wilson_interval(count32, n32);
        Rate {
            count,
            n,
            rate: Some(count as f64 / n as f64),
            interval: Some([low, high]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_and_its_wilson_interval() {
        // 2 of 40: the Wilson 95 % interval is [0.013821, 0.165039]
        // (the score formula evaluated in Python with z = Φ⁻¹(0.975)).
        let r = Rate::of(2, 40);
        assert_eq!((r.count, r.n, r.rate), (2, 40, Some(0.05)));
        let [low, high] = r.interval.unwrap();
        assert!((low - 0.013_821).abs() < 1e-5, "{low}");
        assert!((high - 0.165_039).abs() < 1e-5, "{high}");
        assert_eq!(Rate::of(0, 0).rate, None);
        assert_eq!(Rate::of(0, 0).interval, None);
        assert_eq!(Rate::of(0, 5).interval.unwrap()[0], 0.0);
        assert_eq!(Rate::of(5, 5).interval.unwrap()[1], 1.0);
    }
}
