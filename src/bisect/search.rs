//! The search: which axes of the envelope (model, prompt, tools, index) a regression follows,
//! found by probing configurations between the good and the bad one, within a budget.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// What running one configuration showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The regression reproduces under it.
    Reproduces,
    /// It does not.
    DoesNot,
    /// The samples cannot tell (too few, errors, an interval straddling the threshold).
    CannotTell,
}

/// A configuration's outcome for each case, by case id.
pub type Outcomes = BTreeMap<String, Outcome>;

/// A configuration: the axes switched to their bad value, the others good. Sorted.
pub type Config = BTreeSet<String>;

/// Runs a configuration and says, for each case of `alike`, whether its regression
/// reproduces. `alike`: the cases still unsettled, grouped by what every configuration so
/// far showed for them — the cases whose samples may be pooled ([`decide_cases`]).
/// `family`: how many configurations the plan judges together with this one (its level);
/// the probe decides each at its significance divided by them and by its looks at the
/// samples ([`Significance::per_look`]), so that a level names a wrong cause rarely, not
/// once in every few configurations.
pub trait Probe {
    type Error;
    fn probe(
        &mut self,
        bad_axes: &Config,
        alike: &[Vec<String>],
        family: usize,
    ) -> Result<Outcomes, Self::Error>;
}

/// How far a bisection may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Configurations to run (those known beforehand are free).
    pub configurations: usize,
}

/// One configuration and its outcome for each case still unsettled when it ran, in the
/// order the plan reached it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub bad_axes: Vec<String>,
    pub outcomes: Outcomes,
    /// Known beforehand (history), not run by this bisection.
    pub known: bool,
}

/// Cases that the same configurations reproduce, and those configurations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CauseGroup {
    pub cases: Vec<String>,
    /// The smallest configurations that reproduce these cases: one axis each (main effects)
    /// or several together (interactions).
    pub causes: Vec<Vec<String>>,
    /// The fewest axes whose rollback stops these cases' causes.
    pub rollback: Vec<String>,
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
    /// Every case the bad envelope reproduces has its causes (see the groups); rolling back
    /// `rollback` stops all of them.
    Found {
        causes: Vec<Vec<String>>,
        rollback: Vec<String>,
    },
    /// The bad envelope reproduces the regression of no case: nothing to bisect.
    NotReproduced,
    /// Stopped before every case had an answer: why, and the configurations still to run.
    /// The groups found so far stand.
    Partial {
        why: String,
        remaining: Vec<Vec<String>>,
    },
}

/// A bisection's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bisection {
    pub axes: Vec<String>,
    /// The cases bisected.
    pub cases: Vec<String>,
    pub steps: Vec<Step>,
    /// The cases whose causes were found, grouped by those causes: main effects first.
    pub groups: Vec<CauseGroup>,
    /// Cases the bad envelope does not reproduce (their own samples say so).
    pub not_reproduced: Vec<String>,
    pub answer: Answer,
}

impl Bisection {
    /// Configurations this bisection ran (not those known beforehand).
    pub fn ran(&self) -> usize {
        self.steps.iter().filter(|s| !s.known).count()
    }
}

/// Bisects `cases` over `axes` (the axes on which the good and bad envelopes differ),
/// reusing `known` outcomes, running at most `budget` configurations through `probe`.
pub fn bisect<P: Probe>(
    axes: &[String],
    cases: &[String],
    known: &BTreeMap<Config, Outcomes>,
    budget: Budget,
    probe: &mut P,
) -> Result<Bisection, P::Error> {
    let sorted = |list: &[String]| {
        let mut list = list.to_vec();
        list.sort();
        list.dedup();
        list
    };
    let axes = sorted(axes);
    let mut result = Bisection {
        axes: axes.clone(),
        cases: sorted(cases),
        steps: Vec::new(),
        groups: Vec::new(),
        not_reproduced: Vec::new(),
        answer: Answer::NotReproduced,
    };
    let all_bad: Config = axes.iter().cloned().collect();
    let mut levels: Vec<Vec<Config>> = vec![vec![all_bad.clone()]];
    levels.extend((1..axes.len()).map(|size| subsets(&axes, size)));
    // The cases not settled yet; those settled, with their causes; those a configuration
    // of their level could not tell for, with those configurations.
    let mut open = result.cases.clone();
    let mut causes: BTreeMap<String, Vec<Config>> = BTreeMap::new();
    let mut unclear: BTreeMap<String, Vec<Config>> = BTreeMap::new();
    let mut ran = 0;
    for (level, configs) in levels.iter().enumerate() {
        if open.is_empty() {
            break;
        }
        let mut heard = Heard::default();
        for (at, config) in configs.iter().enumerate() {
            let (outcomes, was_known) = match known.get(config) {
                Some(outcomes) => (outcomes.clone(), true),
                None if ran == budget.configurations => {
                    result.groups = groups(&axes, &causes);
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
                    let alike = alike(&open, &result.steps);
                    (probe.probe(config, &alike, configs.len())?, false)
                }
            };
            let outcomes: Outcomes = (open.iter())
                .map(|case| {
                    let outcome = outcomes.get(case).copied();
                    (case.clone(), outcome.unwrap_or(Outcome::CannotTell))
                })
                .collect();
            heard.add(config, &outcomes);
            result.steps.push(Step {
                bad_axes: config.iter().cloned().collect(),
                outcomes,
                known: was_known,
            });
        }
        heard.settle(
            level,
            &mut open,
            &mut causes,
            &mut unclear,
            &mut result.not_reproduced,
        );
    }
    // Reproduced only with every axis switched: an interaction of all of them.
    for case in open {
        causes.insert(case, vec![all_bad.clone()]);
    }
    result.groups = groups(&axes, &causes);
    result.answer = if !unclear.is_empty() {
        cannot_tell(&result.cases, &all_bad, &unclear)
    } else if causes.is_empty() {
        Answer::NotReproduced
    } else {
        let mut all: Vec<Config> = causes.into_values().flatten().collect();
        all.sort();
        all.dedup();
        Answer::Found {
            rollback: smallest_hitting_set(&axes, &all),
            causes: all.iter().map(|c| c.iter().cloned().collect()).collect(),
        }
    };
    Ok(result)
}

/// What one level's configurations said, per open case: those that reproduce its failure,
/// and those that could not tell.
#[derive(Default)]
struct Heard {
    reproducing: BTreeMap<String, Vec<Config>>,
    cannot_tell: BTreeMap<String, Vec<Config>>,
}

impl Heard {
    fn add(&mut self, config: &Config, outcomes: &Outcomes) {
        for (case, outcome) in outcomes {
            let list = match outcome {
                Outcome::Reproduces => &mut self.reproducing,
                Outcome::CannotTell => &mut self.cannot_tell,
                Outcome::DoesNot => continue,
            };
            list.entry(case.clone()).or_default().push(config.clone());
        }
    }

    /// Settles the open cases after level `level`: a case an unclear configuration could
    /// not tell for is unclear (no answer for it can exclude that configuration), one a
    /// configuration reproduces has its causes (past the all-bad level), one the all-bad
    /// level does not reproduce is not reproduced; the rest stay open for the next level.
    fn settle(
        mut self,
        level: usize,
        open: &mut Vec<String>,
        causes: &mut BTreeMap<String, Vec<Config>>,
        unclear: &mut BTreeMap<String, Vec<Config>>,
        not_reproduced: &mut Vec<String>,
    ) {
        for case in open.iter() {
            if let Some(configs) = self.cannot_tell.remove(case) {
                unclear.insert(case.clone(), configs);
            } else if let Some(configs) = self.reproducing.remove(case) {
                if level > 0 {
                    causes.insert(case.clone(), configs);
                }
            } else if level == 0 {
                not_reproduced.push(case.clone());
            }
        }
        // After the all-bad level, the cases it reproduces go on to the single axes.
        open.retain(|case| {
            !causes.contains_key(case)
                && !unclear.contains_key(case)
                && !not_reproduced.contains(case)
        });
    }
}

/// `open` grouped by their outcomes under every configuration so far (every step ran while
/// each of them was open: cases only ever leave the plan).
fn alike(open: &[String], steps: &[Step]) -> Vec<Vec<String>> {
    let mut by_history: BTreeMap<Vec<Option<Outcome>>, Vec<String>> = BTreeMap::new();
    for case in open {
        let history = steps
            .iter()
            .map(|s| s.outcomes.get(case).copied())
            .collect();
        by_history.entry(history).or_default().push(case.clone());
    }
    by_history.into_values().collect()
}

/// The cases grouped by their causes, main effects first (then by the first case).
fn groups(axes: &[String], causes: &BTreeMap<String, Vec<Config>>) -> Vec<CauseGroup> {
    let mut by_causes: BTreeMap<&Vec<Config>, Vec<String>> = BTreeMap::new();
    for (case, configs) in causes {
        by_causes.entry(configs).or_default().push(case.clone());
    }
    let mut groups: Vec<CauseGroup> = (by_causes.into_iter())
        .map(|(configs, cases)| CauseGroup {
            cases,
            causes: configs
                .iter()
                .map(|c| c.iter().cloned().collect())
                .collect(),
            rollback: smallest_hitting_set(axes, configs),
        })
        .collect();
    groups.sort_by(|a, b| {
        let smallest = |g: &CauseGroup| g.causes.iter().map(Vec::len).min().unwrap_or(0);
        (smallest(a), &a.cases).cmp(&(smallest(b), &b.cases))
    });
    groups
}

/// The answer when the samples could not tell for some cases: which configurations, and
/// for which cases when not for all of them.
fn cannot_tell(
    cases: &[String],
    all_bad: &Config,
    unclear: &BTreeMap<String, Vec<Config>>,
) -> Answer {
    let mut configs: Vec<&Config> = unclear.values().flatten().collect();
    configs.sort();
    configs.dedup();
    let of = if unclear.len() == cases.len() {
        String::new()
    } else {
        let listed: Vec<&str> = unclear.keys().map(String::as_str).collect();
        format!(
            " (case{} {})",
            if listed.len() == 1 { "" } else { "s" },
            listed.join(", ")
        )
    };
    if configs == [all_bad] {
        return Answer::Partial {
            why: format!("the samples cannot tell whether the bad envelope reproduces{of}"),
            remaining: Vec::new(),
        };
    }
    let remaining: Vec<Vec<String>> = (configs.into_iter())
        .filter(|c| *c != all_bad)
        .map(|c| c.iter().cloned().collect())
        .collect();
    Answer::Partial {
        why: format!(
            "the samples cannot tell for {}{of}; rerun them with more samples",
            remaining
                .iter()
                .map(|c| c.join("+"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        remaining,
    }
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

#[cfg(test)]
mod simulation;
#[cfg(test)]
mod tests;
