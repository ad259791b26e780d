//! Multi-axis bisection of a regression over the version envelope (issue 8, first part: the
//! planner). `git bisect` walks one timeline; an agent has several (model snapshot, system
//! prompt, tool catalog, retrieval index, sampling config), and a regression often lives in
//! an interaction — the new model reading the new tool descriptions — so rolling back any one
//! axis from the bad envelope may fix it while switching any one axis of the good envelope
//! to bad does not break it.
//!
//! The plan, in a fixed order: the all-bad configuration (does the regression reproduce?),
//! then each single axis switched to bad (main effects), and only when none of those
//! reproduces, every pair (two-factor interactions), then triples, and so on. Each level is
//! run whole, because the smallest set of axes to roll back must stop every configuration
//! that reproduces; then the plan stops: with five axes that is at most 1 + 5 + 10
//! configurations when a pair explains the regression, and 1 + 5 when a single axis does.
//! What "reproduces" means for one configuration (samples, the statistics) is the
//! [`Probe`]'s; outcomes already known (from history) are reused, not run again.
//!
//! The runs themselves are `evalgate bisect`'s (`crate::commands::bisect`): the targets
//! carry each configuration's axis values to the agent (`Request::axes`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

/// What running one configuration showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The regression reproduces under it.
    Reproduces,
    /// It does not.
    DoesNot,
    /// The samples cannot tell (too few, errors, an interval straddling the threshold).
    CannotTell,
}

/// A configuration: the axes switched to their bad value, the others good. Sorted.
pub type Config = BTreeSet<String>;

/// Runs a configuration and says whether the regression reproduces.
pub trait Probe {
    type Error;
    fn probe(&mut self, bad_axes: &Config) -> Result<Outcome, Self::Error>;
}

/// How far a bisection may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Configurations to run (those known beforehand are free).
    pub configurations: usize,
}

/// One configuration and its outcome, in the order the plan reached it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub bad_axes: Vec<String>,
    pub outcome: Outcome,
    /// Known beforehand (history), not run by this bisection.
    pub known: bool,
}

/// Samples of one configuration: how many ran and how many of them failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub samples: u64,
    pub failures: u64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.samples += other.samples;
        self.failures += other.failures;
    }
}

/// Whether a configuration reproduces, from its samples and those of the all-good and
/// all-bad configurations: it reproduces when it fails more often than all-good (Fisher's
/// exact test, p < `alpha`) and does not when it fails less often than all-bad (likewise);
/// anything else — both, or neither — the samples cannot tell. Errors are not failures: a
/// sample that errored is left out of the tally by the caller, never counted either way.
pub fn decide(config: Tally, good: Tally, bad: Tally, alpha: f64) -> Outcome {
    let differs = |a: Tally, b: Tally| {
        crate::stats::fisher_exact(
            a.failures,
            a.samples - a.failures,
            b.failures,
            b.samples - b.failures,
        ) < alpha
    };
    let rate = |t: Tally| t.failures as f64 / t.samples.max(1) as f64;
    let worse_than_good = rate(config) > rate(good) && differs(config, good);
    let better_than_bad = rate(config) < rate(bad) && differs(config, bad);
    match (worse_than_good, better_than_bad) {
        (true, false) => Outcome::Reproduces,
        (false, true) => Outcome::DoesNot,
        _ => Outcome::CannotTell,
    }
}

/// The axes a bisection switches: those on which the good and bad envelopes differ. Both
/// must name the same axes — an axis only one of them has cannot be switched.
pub fn differing_axes(
    good: &BTreeMap<String, String>,
    bad: &BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let only = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| -> Vec<String> {
        a.keys().filter(|k| !b.contains_key(*k)).cloned().collect()
    };
    let (only_good, only_bad) = (only(good, bad), only(bad, good));
    if !only_good.is_empty() || !only_bad.is_empty() {
        return Err(format!(
            "the envelopes name different axes (only in the good one: {}; only in the bad \
             one: {}); give both a value for every axis",
            if only_good.is_empty() {
                "none".into()
            } else {
                only_good.join(", ")
            },
            if only_bad.is_empty() {
                "none".into()
            } else {
                only_bad.join(", ")
            },
        ));
    }
    let differing: Vec<String> = good
        .iter()
        .filter(|(axis, value)| bad.get(*axis) != Some(value))
        .map(|(axis, _)| axis.clone())
        .collect();
    if differing.is_empty() {
        return Err("the good and bad envelopes are the same: no axis to bisect".into());
    }
    Ok(differing)
}

/// Where a bisection ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Answer {
    /// The smallest configurations that reproduce: one axis each (main effects) or several
    /// together (interactions); rolling back `rollback` stops all of them.
    Found {
        causes: Vec<Vec<String>>,
        rollback: Vec<String>,
    },
    /// The bad envelope does not reproduce the regression: nothing to bisect.
    NotReproduced,
    /// Stopped before an answer: why, and the configurations still to run.
    Partial {
        why: String,
        remaining: Vec<Vec<String>>,
    },
}

/// A bisection's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bisection {
    pub axes: Vec<String>,
    pub steps: Vec<Step>,
    pub answer: Answer,
}

impl Bisection {
    /// Configurations this bisection ran (not those known beforehand).
    pub fn ran(&self) -> usize {
        self.steps.iter().filter(|s| !s.known).count()
    }
}

/// Bisects over `axes` (the axes on which the good and bad envelopes differ), reusing
/// `known` outcomes, running at most `budget` configurations through `probe`.
pub fn bisect<P: Probe>(
    axes: &[String],
    known: &BTreeMap<Config, Outcome>,
    budget: Budget,
    probe: &mut P,
) -> Result<Bisection, P::Error> {
    let mut axes: Vec<String> = axes.to_vec();
    axes.sort();
    axes.dedup();
    let mut result = Bisection {
        axes: axes.clone(),
        steps: Vec::new(),
        answer: Answer::NotReproduced,
    };
    let all_bad: Config = axes.iter().cloned().collect();
    let mut levels: Vec<Vec<Config>> = vec![vec![all_bad]];
    levels.extend((1..axes.len()).map(|size| subsets(&axes, size)));
    let mut ran = 0;
    for (level, configs) in levels.iter().enumerate() {
        let mut reproducing = Vec::new();
        for (at, config) in configs.iter().enumerate() {
            let (outcome, was_known) = match known.get(config) {
                Some(outcome) => (*outcome, true),
                None if ran == budget.configurations => {
                    result.answer = Answer::Partial {
                        why: format!(
                            "the budget of {} configurations is spent",
                            budget.configurations
                        ),
                        remaining: configs[at..]
                            .iter()
                            .map(|c| c.iter().cloned().collect())
                            .collect(),
                    };
                    return Ok(result);
                }
                None => {
                    ran += 1;
                    (probe.probe(config)?, false)
                }
            };
            result.steps.push(Step {
                bad_axes: config.iter().cloned().collect(),
                outcome,
                known: was_known,
            });
            if outcome == Outcome::Reproduces {
                reproducing.push(config.clone());
            }
        }
        let unclear: Vec<Vec<String>> = result.steps[result.steps.len() - configs.len()..]
            .iter()
            .filter(|s| s.outcome == Outcome::CannotTell)
            .map(|s| s.bad_axes.clone())
            .collect();
        if level == 0 {
            match result.steps[0].outcome {
                Outcome::DoesNot => return Ok(result),
                Outcome::CannotTell => {
                    result.answer = Answer::Partial {
                        why: "the samples cannot tell whether the bad envelope reproduces".into(),
                        remaining: Vec::new(),
                    };
                    return Ok(result);
                }
                Outcome::Reproduces => continue,
            }
        }
        if !unclear.is_empty() {
            // An unclear configuration of this level may be a cause: no answer can exclude it.
            result.answer = Answer::Partial {
                why: format!(
                    "the samples cannot tell for {}; rerun them with more samples",
                    unclear
                        .iter()
                        .map(|c| c.join("+"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                remaining: unclear,
            };
            return Ok(result);
        }
        if !reproducing.is_empty() {
            result.answer = Answer::Found {
                rollback: smallest_hitting_set(&axes, &reproducing),
                causes: reproducing
                    .iter()
                    .map(|c| c.iter().cloned().collect())
                    .collect(),
            };
            return Ok(result);
        }
    }
    // Only every axis together reproduces: an interaction of all of them.
    result.answer = Answer::Found {
        causes: vec![axes.clone()],
        rollback: axes.first().cloned().into_iter().collect(),
    };
    Ok(result)
}

/// Every subset of `axes` with `size` members, in lexicographic order.
fn subsets(axes: &[String], size: usize) -> Vec<Config> {
    let mut out = Vec::new();
    let mut pick: Vec<usize> = (0..size).collect();
    if size == 0 || size > axes.len() {
        return out;
    }
    loop {
        out.push(pick.iter().map(|&i| axes[i].clone()).collect());
        let Some(at) = (0..size).rev().find(|&i| pick[i] != i + axes.len() - size) else {
            return out;
        };
        pick[at] += 1;
        for next in at + 1..size {
            pick[next] = pick[next - 1] + 1;
        }
    }
}

/// The smallest set of axes meeting every reproducing configuration (rolling them back to
/// good stops each); of equal size, the first in lexicographic order.
fn smallest_hitting_set(axes: &[String], reproducing: &[Config]) -> Vec<String> {
    for size in 1..=axes.len() {
        for candidate in subsets(axes, size) {
            if reproducing.iter().all(|c| !c.is_disjoint(&candidate)) {
                return candidate.into_iter().collect();
            }
        }
    }
    axes.to_vec()
}

impl fmt::Display for Bisection {
    /// The table a person reads: every configuration run, then the answer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<40} outcome", "axes switched to bad")?;
        for step in &self.steps {
            let outcome = match step.outcome {
                Outcome::Reproduces => "reproduces",
                Outcome::DoesNot => "does not",
                Outcome::CannotTell => "cannot tell",
            };
            let known = if step.known { " (measured before)" } else { "" };
            writeln!(f, "{:<40} {outcome}{known}", step.bad_axes.join(" + "))?;
        }
        match &self.answer {
            Answer::Found { causes, rollback } => {
                for cause in causes {
                    if cause.len() == 1 {
                        writeln!(f, "main effect: {}=bad alone reproduces", cause[0])?;
                    } else {
                        writeln!(
                            f,
                            "fails only when {}: interaction {}",
                            cause
                                .iter()
                                .map(|a| format!("{a}=bad"))
                                .collect::<Vec<_>>()
                                .join(" AND "),
                            cause.join("×")
                        )?;
                    }
                }
                writeln!(
                    f,
                    "roll back: {} (the fewest axes that stop every configuration that reproduces)",
                    rollback.join(", ")
                )
            }
            Answer::NotReproduced => {
                writeln!(f, "the bad envelope does not reproduce the regression")
            }
            Answer::Partial { why, remaining } => writeln!(
                f,
                "no answer yet: {why}; {} configuration(s) remain",
                remaining.len()
            ),
        }
    }
}

#[cfg(test)]
mod tests;
