//! Comparing a case with its baseline while its samples arrive, and stopping as soon as the
//! answer is clear, without changing the comparison's error rate.
//!
//! The samples are looked at after fixed numbers of them (the looks: the minimum, then
//! about 1.5 times more each time, up to the maximum). At each look, Fisher's exact test
//! (one-sided: did the pass rate drop?) is valid for the samples taken so far, and each
//! look is given a fixed share of the error rate — small early, most of it late (the
//! share of look j is (nⱼ/max)² − (nⱼ₋₁/max)²). The case's p-value is the smallest
//! p-value of a look divided by that look's share. By the union bound it is a valid
//! p-value whatever decided when to stop: stopping early only leaves looks out, which can
//! only make it larger. So the stopping rule is free to use anything — it stops when a drop
//! is already certain to be called, or when the samples agree with the baseline (a drop
//! of the size the suite cares about has become implausible).

use super::fisher::fisher_exact_drop;
use super::proportion::binomial_tail_at_least;
use super::search::{first_holding, last_holding};

/// How much bigger each look is than the one before.
pub const LOOK_GROWTH: f64 = 1.5;

/// The power of the spending shape: look j's share of α is tⱼ^ρ − tⱼ₋₁^ρ with tⱼ = nⱼ/max.
/// 2 keeps early looks cheap (a drop seen in the first tenth of the samples spends 1 % of α).
const SPENDING_POWER: i32 = 2;

/// The chance, summed over the looks, of stopping for agreement although the pass rate
/// really dropped by the drop the design is built for: the power it may cost.
pub const AGREEMENT_ERROR: f64 = 0.1;

/// When a case's samples are looked at, and the share of the error rate each look spends.
#[derive(Debug, Clone, PartialEq)]
pub struct LookDesign {
    looks: Vec<u32>,
    weights: Vec<f64>,
}

/// A baseline's evidence for one case: passes out of answered samples.
pub type Evidence = (u32, u32);

impl LookDesign {
    /// A fixed number of samples: one look, which spends the whole error rate.
    pub fn fixed(samples: u32) -> LookDesign {
        LookDesign {
            looks: vec![samples.max(1)],
            weights: vec![1.0],
        }
    }

    /// Looks from `min` samples up to `max` (clamped so that 1 ≤ min ≤ max).
    pub fn adaptive(min: u32, max: u32) -> LookDesign {
        let min = min.max(1);
        let max = max.max(min);
        let mut looks = vec![min];
        while let Some(&last) = looks.last().filter(|&&l| l < max) {
            let next = (f64::from(last) * LOOK_GROWTH).ceil() as u32;
            looks.push(next.max(last + 1).min(max));
        }
        let t = |n: u32| (f64::from(n) / f64::from(max)).powi(SPENDING_POWER);
        let mut previous = 0.0;
        let weights = looks
            .iter()
            .map(|&n| {
                let share = t(n) - previous;
                previous = t(n);
                share
            })
            .collect();
        LookDesign { looks, weights }
    }

    /// The numbers of samples at which the case is looked at, increasing.
    pub fn looks(&self) -> &[u32] {
        &self.looks
    }

    /// The most samples the design takes.
    pub fn max(&self) -> u32 {
        *self.looks.last().expect("a design has a look")
    }

    /// The share of the error rate look `index` spends.
    pub fn weight(&self, index: usize) -> f64 {
        self.weights[index]
    }

    /// The p-value of a drop from the baseline's `before` to the current `outcomes` (pass
    /// or not, in sample order), over the looks the outcomes reach: valid whatever rule
    /// stopped the sampling. 1 when no look is reached or either side is empty.
    pub fn p_value(&self, before: Evidence, outcomes: &[bool]) -> f64 {
        let mut passes = 0_u32;
        let mut taken = 0_usize;
        let mut best = 1.0_f64;
        for (index, &look) in self.looks.iter().enumerate() {
            let look = look as usize;
            if look > outcomes.len() {
                break;
            }
            passes += outcomes[taken..look].iter().filter(|&&o| o).count() as u32;
            taken = look;
            best = best.min(self.look_p_value(before, index, passes));
        }
        best.min(1.0)
    }

    /// Look `index`'s Fisher p-value for `passes` at that look, divided by its share.
    fn look_p_value(
        &self,
        (before_passes, before_answered): Evidence,
        index: usize,
        passes: u32,
    ) -> f64 {
        let n = self.looks[index];
        let p = fisher_exact_drop(
            u64::from(before_passes),
            u64::from(before_answered - before_passes),
            u64::from(passes),
            u64::from(n - passes),
        );
        p / self.weights[index]
    }

    /// Whether `passes` of the first `taken` samples agree with the baseline: a drop of
    /// `drop` or more from its rate has become implausible (one-sided binomial test at this
    /// look's share of [`AGREEMENT_ERROR`]). A baseline that never passed cannot drop, so
    /// anything agrees with it; with a drop as large as the baseline's rate (a case that
    /// stops passing), one pass is enough. Never at the last look: there is nothing left
    /// to save.
    pub fn agrees(&self, before: Evidence, passes: u32, taken: u32, drop: f64) -> bool {
        let before_last = &self.looks[..self.looks.len() - 1];
        before_last.contains(&taken)
            && agrees_at(before, passes, taken, drop, self.agreement_level())
    }

    /// Whether the samples agreed with the baseline about `drop` at any look they reach,
    /// the last one included (see [`LookDesign::agrees`]).
    pub fn agreed(&self, before: Evidence, outcomes: &[bool], drop: f64) -> bool {
        let level = self.agreement_level();
        let mut passes = 0_u32;
        let mut taken = 0_usize;
        for &look in &self.looks {
            if look as usize > outcomes.len() {
                break;
            }
            passes += outcomes[taken..look as usize]
                .iter()
                .filter(|&&o| o)
                .count() as u32;
            taken = look as usize;
            if agrees_at(before, passes, look, drop, level) {
                return true;
            }
        }
        false
    }

    /// The agreement test's level at each look but the last.
    fn agreement_level(&self) -> f64 {
        AGREEMENT_ERROR / (self.looks.len() - 1).max(1) as f64
    }

    /// Whether the comparison could call a regression at all: were every sample to fail up
    /// to the maximum, would the p-value reach `threshold`? A baseline with no passes cannot
    /// drop, which needs no samples to know; a thin baseline (or too few samples) cannot
    /// tell a broken case from noise.
    pub fn can_call_a_break(&self, before: Evidence, threshold: f64) -> bool {
        before.0 == 0 || self.p_value(before, &vec![false; self.max() as usize]) <= threshold
    }

    /// What the design does for a case whose baseline is `before` and whose pass rate is
    /// now `rate`, if it stops when the p-value reaches `threshold` or the samples agree
    /// with the baseline about `drop`: the chance of calling a drop, and the samples it
    /// takes on average. Exact (the law of the passes at each look, carried from look to
    /// look), not simulated.
    pub fn operating(&self, before: Evidence, rate: f64, threshold: f64, drop: f64) -> Operating {
        let rate = rate.clamp(0.0, 1.0);
        // mass[x]: the chance of being at this look with x passes, not stopped yet.
        let mut mass = vec![1.0_f64];
        let (mut called, mut samples) = (0.0, 0.0);
        let mut previous = 0_u32;
        let level = self.agreement_level();
        for (index, &look) in self.looks.iter().enumerate() {
            mass = convolve_binomial(&mass, look - previous, rate);
            previous = look;
            let last = index == self.looks.len() - 1;
            // The p-value grows with the passes and agreement needs enough of them, so
            // each is a threshold on x, found by bisection rather than for every x.
            let call_up_to =
                last_holding(look, |x| self.look_p_value(before, index, x) <= threshold);
            let agree_from = if last {
                Some(0)
            } else {
                first_holding(0, look, |x| agrees_at(before, x, look, drop, level))
            };
            for (x, m) in mass.iter_mut().enumerate() {
                let x = x as u32;
                if *m == 0.0 {
                    continue;
                }
                let calls = call_up_to.is_some_and(|c| x <= c);
                if calls {
                    called += *m;
                }
                if calls || agree_from.is_some_and(|f| x >= f) {
                    samples += *m * f64::from(look);
                    *m = 0.0;
                }
            }
        }
        Operating {
            power: called.min(1.0),
            expected_samples: samples,
        }
    }
}

/// What a design does for one case: see [`LookDesign::operating`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Operating {
    /// The chance of calling a drop.
    pub power: f64,
    /// The samples taken on average.
    pub expected_samples: f64,
}

fn agrees_at(
    (before_passes, before_answered): Evidence,
    passes: u32,
    taken: u32,
    drop: f64,
    level: f64,
) -> bool {
    if before_passes == 0 || before_answered == 0 {
        return true;
    }
    let dropped = f64::from(before_passes) / f64::from(before_answered) - drop;
    if dropped <= 0.0 {
        return passes > 0;
    }
    binomial_tail_at_least(taken, passes, dropped) <= level
}

/// The law of x + Y with x distributed as `mass` and Y ~ Binomial(`more`, `rate`).
fn convolve_binomial(mass: &[f64], more: u32, rate: f64) -> Vec<f64> {
    if more == 0 {
        return mass.to_vec();
    }
    let step = binomial_pmf(more, rate);
    let mut out = vec![0.0; mass.len() + more as usize];
    for (x, &m) in mass.iter().enumerate() {
        if m == 0.0 {
            continue;
        }
        for (y, &q) in step.iter().enumerate() {
            out[x + y] += m * q;
        }
    }
    out
}

/// P(Y = y) for y = 0..=n, Y ~ Binomial(n, rate).
fn binomial_pmf(n: u32, rate: f64) -> Vec<f64> {
    if rate <= 0.0 || rate >= 1.0 {
        let mut pmf = vec![0.0; n as usize + 1];
        pmf[if rate >= 1.0 { n as usize } else { 0 }] = 1.0;
        return pmf;
    }
    let (ln_p, ln_q) = (rate.ln(), (-rate).ln_1p());
    let mut ln_choose = 0.0_f64;
    (0..=n)
        .map(|y| {
            if y > 0 {
                ln_choose += f64::from(n - y + 1).ln() - f64::from(y).ln();
            }
            (ln_choose + f64::from(y) * ln_p + f64::from(n - y) * ln_q).exp()
        })
        .collect()
}

#[cfg(test)]
mod tests;
