//! The Lorenz curve of the cost per group, and the Gini coefficient read off it. Groups
//! are taken cheapest first: the point (x, y) says the cheapest x of the groups cost y of
//! the total, so the costliest 1 % are what lies between x = 0.99 and x = 1.

use std::collections::BTreeSet;

use serde::Serialize;

/// The most points a report carries: enough to draw the curve, few enough to read.
pub(crate) const MAX_POINTS: usize = 256;
/// Points spread evenly along each axis when downsampling: with both ends and three
/// cut-offs, 2 × 125 + 5 = 255 ≤ [`MAX_POINTS`]. Even in cost as well as in groups, so
/// the steep end of a heavy tail (a few groups, much of the cost) is drawn too.
const EVEN_PER_AXIS: usize = 125;

/// A point of the curve: shares in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LorenzPoint {
    /// The share of the groups (customers), cheapest first.
    pub groups: f64,
    /// The share of the cost they account for.
    pub cost: f64,
}

/// The cumulative cost of the cheapest groups.
#[derive(Debug)]
pub(crate) struct Lorenz {
    /// `prefix[i]`: what the `i` cheapest groups cost together; `prefix[0]` = 0.
    prefix: Vec<f64>,
}

impl Lorenz {
    /// The curve of `ascending` costs (cheapest first).
    pub(crate) fn new(ascending: impl IntoIterator<Item = f64>) -> Lorenz {
        let mut prefix = vec![0.0];
        let mut sum = 0.0;
        for cost in ascending {
            sum += cost;
            prefix.push(sum);
        }
        Lorenz { prefix }
    }

    fn groups(&self) -> usize {
        self.prefix.len() - 1
    }

    /// The total cost, summed cheapest first.
    pub(crate) fn total(&self) -> f64 {
        *self.prefix.last().expect("prefix starts with 0")
    }

    /// Point `i` of the curve: the `i` cheapest groups. None when nothing was spent.
    fn point(&self, i: usize) -> Option<LorenzPoint> {
        let total = self.total();
        (total > 0.0).then(|| LorenzPoint {
            groups: i as f64 / self.groups() as f64,
            cost: self.prefix[i] / total,
        })
    }

    /// The Gini coefficient: 1 − 2 × the area under the curve, the area taken exactly
    /// (the curve is straight between points), which is the mean absolute difference of
    /// the costs over twice their mean. 0 when every group costs the same (and for a
    /// single group), (n − 1)/n when one of n groups costs everything. None when nothing
    /// was spent.
    pub(crate) fn gini(&self) -> Option<f64> {
        let total = self.total();
        if total <= 0.0 {
            return None;
        }
        let twice_area: f64 = (self.prefix.windows(2))
            .map(|w| (w[0] + w[1]) / total)
            .sum::<f64>()
            / self.groups() as f64;
        // Rounding may leave −1e-17 where the costs are equal; a Gini is never below 0.
        Some((1.0 - twice_area).max(0.0))
    }

    /// At most [`MAX_POINTS`] points: every point when there are that few, else both
    /// ends, the point where the costliest `keep_top[j]` groups begin, and points spread
    /// evenly in groups and in cost. Empty when nothing was spent.
    pub(crate) fn downsampled(&self, keep_top: &[usize]) -> Vec<LorenzPoint> {
        let n = self.groups();
        let indices: BTreeSet<usize> = if n < MAX_POINTS {
            (0..=n).collect()
        } else {
            let total = self.total();
            let mut indices = BTreeSet::from([0, n]);
            indices.extend(keep_top.iter().filter(|&&k| k <= n).map(|k| n - k));
            let steps = (EVEN_PER_AXIS + 1) as f64;
            for j in 1..=EVEN_PER_AXIS {
                let share = j as f64 / steps;
                indices.insert((share * n as f64).round() as usize);
                // The first point at or past this share of the cost.
                let cost = share * total;
                indices.insert(self.prefix.partition_point(|&c| c < cost).min(n));
            }
            indices
        };
        indices.into_iter().filter_map(|i| self.point(i)).collect()
    }
}

/// The share of the cost of the cheapest `share` of the groups, read off `points`
/// (sorted, as [`Lorenz::downsampled`] gives them) straight between two points, as the
/// curve is drawn. None when there are no points (nothing was spent).
pub(crate) fn cost_share_at(points: &[LorenzPoint], share: f64) -> Option<f64> {
    let after = points.partition_point(|p| p.groups < share);
    let high = points.get(after).or(points.last())?;
    let Some(low) = after.checked_sub(1).map(|i| points[i]) else {
        return Some(high.cost);
    };
    if high.groups <= low.groups {
        return Some(high.cost);
    }
    let within = (share - low.groups) / (high.groups - low.groups);
    Some(low.cost + within.clamp(0.0, 1.0) * (high.cost - low.cost))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn gini_of_equal_costs_is_zero() {
        for n in [1, 2, 7, 1000] {
            let gini = Lorenz::new(vec![0.37; n]).gini().unwrap();
            assert!(close(gini, 0.0), "n = {n}: {gini}");
        }
    }

    #[test]
    fn gini_when_one_group_costs_everything_is_n_minus_one_over_n() {
        for n in [1usize, 2, 10, 500] {
            let mut costs = vec![0.0; n - 1];
            costs.push(12.5);
            let gini = Lorenz::new(costs).gini().unwrap();
            assert!(close(gini, (n as f64 - 1.0) / n as f64), "n = {n}: {gini}");
        }
    }

    #[test]
    fn gini_of_a_hand_computed_case() {
        // Costs 1, 2, 3, 4: the absolute differences of the 6 pairs sum to 10, over
        // n² × mean = 16 × 2.5: G = 2 × 10 / (2 × 16 × 2.5) = 0.25.
        assert!(close(
            Lorenz::new([1.0, 2.0, 3.0, 4.0]).gini().unwrap(),
            0.25
        ));
        // 0, 0, 1: 2 / 3.
        assert!(close(
            Lorenz::new([0.0, 0.0, 1.0]).gini().unwrap(),
            2.0 / 3.0
        ));
    }

    #[test]
    fn nothing_spent_has_no_gini_and_no_curve() {
        let lorenz = Lorenz::new([0.0, 0.0]);
        assert_eq!(lorenz.gini(), None);
        assert!(lorenz.downsampled(&[1]).is_empty());
    }

    #[test]
    fn few_groups_keep_every_point() {
        let points = Lorenz::new([1.0, 3.0]).downsampled(&[]);
        assert_eq!(
            points,
            [
                LorenzPoint {
                    groups: 0.0,
                    cost: 0.0
                },
                LorenzPoint {
                    groups: 0.5,
                    cost: 0.25
                },
                LorenzPoint {
                    groups: 1.0,
                    cost: 1.0
                },
            ]
        );
    }

    #[test]
    fn downsampling_keeps_the_ends_and_the_cut_offs() {
        // 123,457 groups, costs rising steeply: a heavy tail.
        let n = 123_457usize;
        let lorenz = Lorenz::new((0..n).map(|i| ((i + 1) as f64).powi(3)));
        let top = [n / 100, n / 1000, n / 10_000];
        let points = lorenz.downsampled(&top);
        assert!(points.len() <= MAX_POINTS, "{}", points.len());
        assert!(points.len() > 200, "{}", points.len());
        assert_eq!(
            points[0],
            LorenzPoint {
                groups: 0.0,
                cost: 0.0
            }
        );
        assert_eq!(
            *points.last().unwrap(),
            LorenzPoint {
                groups: 1.0,
                cost: 1.0
            }
        );
        for k in top {
            let x = (n - k) as f64 / n as f64;
            assert!(
                points.iter().any(|p| p.groups == x),
                "the cut-off of the costliest {k} is missing"
            );
        }
        assert!(
            points
                .windows(2)
                .all(|w| w[0].groups < w[1].groups && w[0].cost <= w[1].cost)
        );
        // The steep end is drawn: many points among the costliest 10 %.
        assert!(points.iter().filter(|p| p.groups > 0.9).count() > 50);
    }

    #[test]
    fn the_share_between_points_is_interpolated() {
        let points = Lorenz::new([1.0, 3.0]).downsampled(&[]);
        assert!(close(cost_share_at(&points, 0.25).unwrap(), 0.125));
        assert!(close(cost_share_at(&points, 0.5).unwrap(), 0.25));
        assert!(close(cost_share_at(&points, 1.0).unwrap(), 1.0));
        assert!(close(cost_share_at(&points, 0.0).unwrap(), 0.0));
        assert_eq!(cost_share_at(&[], 0.5), None);
    }
}
