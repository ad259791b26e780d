//! A permutation test of whether two groups of retained sets differ more than the sets
//! within each group do: the statistic is the mean Jaccard distance across the groups minus
//! the mean distance within them; its p-value is the share of splits of the pooled sets
//! into groups of the same sizes whose statistic is at least as large. Exact when the
//! splits are few, else a fixed-seed sample of them, so a run gives the same answer twice.

use std::collections::BTreeSet;

use super::jaccard_distance;

/// Splits enumerated exactly up to this many; beyond, [`SAMPLED`] random splits.
const EXACT_UP_TO: f64 = 20_000.0;
const SAMPLED: u32 = 4_999;

/// The test's p-value, and the smallest p-value these group sizes can give at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Permutation {
    pub p_value: f64,
    pub min_p_value: f64,
}

/// `across − within` for the split `in_first` of the pooled distance matrix.
fn statistic(distances: &[Vec<f64>], in_first: &[bool]) -> f64 {
    let n = distances.len();
    let (mut across, mut across_n) = (0.0, 0u32);
    let mut within = [(0.0, 0u32); 2];
    for i in 0..n {
        for j in i + 1..n {
            let d = distances[i][j];
            if in_first[i] == in_first[j] {
                let group = &mut within[usize::from(!in_first[i])];
                group.0 += d;
                group.1 += 1;
            } else {
                across += d;
                across_n += 1;
            }
        }
    }
    let means: Vec<f64> = within
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(sum, count)| sum / f64::from(*count))
        .collect();
    let noise = if means.is_empty() {
        0.0
    } else {
        means.iter().sum::<f64>() / means.len() as f64
    };
    across / f64::from(across_n.max(1)) - noise
}

fn choose(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64)
}

/// Tests whether `first` and `second` (each at least one set) differ.
pub(crate) fn test(first: &[&BTreeSet<String>], second: &[&BTreeSet<String>]) -> Permutation {
    let pooled: Vec<&BTreeSet<String>> = first.iter().chain(second).copied().collect();
    let (n, k) = (pooled.len(), first.len());
    let distances: Vec<Vec<f64>> = pooled
        .iter()
        .map(|a| pooled.iter().map(|b| jaccard_distance(a, b)).collect())
        .collect();
    let mut split: Vec<bool> = (0..n).map(|i| i < k).collect();
    let observed = statistic(&distances, &split) - 1e-12;
    let splits = choose(n, k);
    // Equal sizes: a split and its mirror image are the same partition.
    let mirrors = if 2 * k == n { 2.0 } else { 1.0 };
    if splits <= EXACT_UP_TO {
        let mut chosen: Vec<usize> = (0..k).collect();
        let mut at_least = 0u64;
        loop {
            split.iter_mut().for_each(|s| *s = false);
            chosen.iter().for_each(|&i| split[i] = true);
            if statistic(&distances, &split) >= observed {
                at_least += 1;
            }
            // The next k-combination of 0..n in lexicographic order.
            let Some(i) = (0..k).rev().find(|&i| chosen[i] < n - k + i) else {
                break;
            };
            chosen[i] += 1;
            for j in i + 1..k {
                chosen[j] = chosen[j - 1] + 1;
            }
        }
        return Permutation {
            p_value: at_least as f64 / splits,
            min_p_value: mirrors / splits,
        };
    }
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |bound: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound as u64) as usize
    };
    let mut order: Vec<usize> = (0..n).collect();
    let mut at_least = 0u32;
    for _ in 0..SAMPLED {
        for i in (1..n).rev() {
            order.swap(i, next(i + 1));
        }
        split.iter_mut().for_each(|s| *s = false);
        order[..k].iter().for_each(|&i| split[i] = true);
        if statistic(&distances, &split) >= observed {
            at_least += 1;
        }
    }
    Permutation {
        p_value: f64::from(1 + at_least) / f64::from(1 + SAMPLED),
        min_p_value: 1.0 / f64::from(1 + SAMPLED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(items: &[&[&str]]) -> Vec<BTreeSet<String>> {
        items
            .iter()
            .map(|s| s.iter().map(|x| x.to_string()).collect())
            .collect()
    }

    fn run(a: &[BTreeSet<String>], b: &[BTreeSet<String>]) -> Permutation {
        test(&a.iter().collect::<Vec<_>>(), &b.iter().collect::<Vec<_>>())
    }

    #[test]
    fn separated_groups_get_the_smallest_p_value_their_sizes_allow() {
        let a = sets(&[
            &["x", "y"],
            &["x", "y"],
            &["x", "y"],
            &["x", "z"],
            &["x", "y"],
        ]);
        let b = sets(&[
            &["p", "q"],
            &["p", "q"],
            &["p", "r"],
            &["p", "q"],
            &["p", "q"],
        ]);
        let t = run(&a, &b);
        assert_eq!(t.min_p_value, 2.0 / 252.0);
        assert_eq!(t.p_value, t.min_p_value);
        // Three against three can never go below 0.1.
        let t = run(&a[..3], &b[..3]);
        assert_eq!(t.min_p_value, 0.1);
    }

    #[test]
    fn groups_drawn_from_the_same_noise_are_not_told_apart() {
        let a = sets(&[&["x"], &["y"], &["x"], &["y"], &["x"], &["y"]]);
        let b = sets(&[&["y"], &["x"], &["y"], &["x"], &["x"], &["y"]]);
        assert!(run(&a, &b).p_value > 0.5);
    }

    #[test]
    fn many_samples_use_a_fixed_sample_of_splits() {
        let x: &[&str] = &["x"];
        let y: &[&str] = &["y"];
        let a = sets(&[x; 12]);
        let b = sets(&[y; 12]);
        let t = run(&a, &b);
        assert_eq!(t.min_p_value, 1.0 / 5000.0);
        assert!(t.p_value < 0.001, "{t:?}");
        assert_eq!(run(&a, &b), t, "the same answer twice");
    }
}
