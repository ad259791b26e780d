//! Memory divergence: whether an agent's effective past — what its memory retained of the
//! conversation, and what it can still recall — changed between two envelopes.
//!
//! An agent whose memory evicts by recency (LRU) or frequency (LFU) keeps the same items
//! whatever model reads them; one that evicts by model-scored salience keeps different
//! items after every model upgrade, and answers from a different past. Agents report
//! the retained set after each turn ([`MemoryTurn`]); cases probe recall (`recalled:`).
//! This module compares a run with a reference run of the history: per case, the Jaccard
//! divergence of the retained sets (beyond the divergence between samples of one run) and
//! the change in recall, and flags the cases whose effective past changed.

pub(crate) mod policy;
mod text;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::envelope::{Envelope, MODEL};
use crate::observation::MemoryTurn;
use crate::record::SampleRecord;
use crate::stats::fisher_exact;
use crate::verdict::SampleVerdict;

pub use policy::MemoryPolicy;
pub use text::render;
pub(crate) use text::{case_line, changes};

/// The run a run's memory is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reference {
    pub run_id: String,
    pub started_at: jiff::Timestamp,
    /// How it was chosen, for people (`the latest run of \`main\``...).
    pub chosen: String,
    /// The axes whose value differs between the reference's envelope and this run's.
    pub changes: Vec<AxisChange>,
}

/// One axis of the envelope that differs between the reference and this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxisChange {
    pub axis: String,
    pub before: Option<String>,
    pub now: Option<String>,
}

impl Reference {
    pub fn new(
        run_id: String,
        started_at: jiff::Timestamp,
        chosen: String,
        before: &Envelope,
        now: &Envelope,
    ) -> Reference {
        let axes: BTreeSet<&String> = before.0.keys().chain(now.0.keys()).collect();
        let changes = axes
            .into_iter()
            .filter_map(|axis| {
                let (b, n) = (before.get(axis), now.get(axis));
                (b != n).then(|| AxisChange {
                    axis: axis.clone(),
                    before: b.map(str::to_string),
                    now: n.map(str::to_string),
                })
            })
            .collect();
        Reference {
            run_id,
            started_at,
            chosen,
            changes,
        }
    }

    /// Whether the model differs: the change is an upgrade (or a rollback) of the model.
    pub fn model_changed(&self) -> bool {
        self.changes.iter().any(|c| c.axis == MODEL)
    }
}

/// A run's memory compared with the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemoryReport {
    pub policy: MemoryPolicy,
    /// The run compared with; `None` when there is none (see `note`).
    pub reference: Option<Reference>,
    /// Why nothing was compared, when nothing was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Every case of this run that reported memory or probes recall, by id.
    pub cases: Vec<CaseMemory>,
    /// The cases whose effective past changed.
    pub changed: Vec<String>,
}

/// One case's memory and recall, now and under the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CaseMemory {
    pub case: String,
    /// The divergence of the retained sets; `None` when memory was not reported for the
    /// same turn in both runs (or there is no reference).
    pub divergence: Option<Divergence>,
    /// Samples whose recall probes all passed, over samples with a probe: now, and under
    /// the reference (when it probed the case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<Recall>,
    /// Whether the effective past changed: divergence at or over the policy's, or a
    /// change in recall.
    pub changed: bool,
    /// Why the case could not be compared, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Jaccard divergence of retained sets at the turn where they differ most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// `across - within`, at least 0: the divergence the envelope change explains.
    pub value: f64,
    /// The turn of `value`.
    pub turn: u32,
    /// Mean Jaccard distance between a sample of the reference and a sample of this run.
    pub across: f64,
    /// Mean Jaccard distance between two samples of the same run (noise, 0 for one sample).
    pub within: f64,
    /// The retained set most samples reported at that turn: under the reference, now.
    pub before: BTreeSet<String>,
    pub now: BTreeSet<String>,
    /// Turns reported in both runs.
    pub turns: u32,
}

/// Recall probe results, as `[recalled, probed]` sample counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recall {
    pub now: [u32; 2],
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<[u32; 2]>,
    /// Fisher's exact test, when both runs took several samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    pub changed: bool,
}

/// The expectation name of recall probes in check results.
const RECALLED: &str = "recalled";

/// What one run says about one case: retained sets per turn of each sample that reported
/// memory, and its recall tally.
#[derive(Default)]
struct Observed<'a> {
    memory: Vec<&'a [MemoryTurn]>,
    recall: Option<[u32; 2]>,
}

fn by_case(samples: &[SampleRecord]) -> BTreeMap<&str, Observed<'_>> {
    let mut cases: BTreeMap<&str, Observed> = BTreeMap::new();
    for sample in samples {
        if sample.verdict == SampleVerdict::Error {
            continue;
        }
        let probes: Vec<bool> = sample
            .checks
            .iter()
            .filter(|c| c.expectation == RECALLED)
            .map(|c| c.passed)
            .collect();
        if sample.memory.is_empty() && probes.is_empty() {
            continue;
        }
        let observed = cases.entry(sample.case.as_str()).or_default();
        if !sample.memory.is_empty() {
            observed.memory.push(&sample.memory);
        }
        if !probes.is_empty() {
            let tally = observed.recall.get_or_insert([0, 0]);
            tally[0] += u32::from(probes.iter().all(|p| *p));
            tally[1] += 1;
        }
    }
    cases
}

/// Compares `now` (this run's samples) with `reference` and its samples; without a
/// reference, lists what this run reported, with `note` saying why nothing was compared.
/// `None` when no sample of this run reported memory or probed recall.
pub fn compare(
    policy: MemoryPolicy,
    now: &[SampleRecord],
    reference: Option<(Reference, &[SampleRecord])>,
    note: Option<String>,
) -> Option<MemoryReport> {
    let current = by_case(now);
    let before = reference
        .as_ref()
        .map(|(_, samples)| by_case(samples))
        .unwrap_or_default();
    let compared = reference.is_some();
    // A case that ran now, answered, and no longer reports the memory it reported under
    // the reference lost what the comparison needs: changed, never silently skipped.
    let answered: BTreeSet<&str> = now
        .iter()
        .filter(|s| s.verdict != SampleVerdict::Error)
        .map(|s| s.case.as_str())
        .collect();
    let mut ids: BTreeSet<&str> = current.keys().copied().collect();
    ids.extend(
        before
            .iter()
            .filter(|(case, t)| !t.memory.is_empty() && answered.contains(*case))
            .map(|(case, _)| *case),
    );
    if ids.is_empty() {
        return None;
    }
    let nothing = Observed::default();
    let cases: Vec<CaseMemory> = ids
        .into_iter()
        .map(|case| {
            let observed = current.get(case).unwrap_or(&nothing);
            let then = before.get(case);
            let divergence = then.and_then(|t| divergence(&t.memory, &observed.memory));
            let recall = observed
                .recall
                .map(|now| recall(now, then.and_then(|t| t.recall), policy.alpha, compared));
            let lost = then.is_some_and(|t| !t.memory.is_empty()) && observed.memory.is_empty();
            let changed = lost
                || divergence
                    .as_ref()
                    .is_some_and(|d| d.value >= policy.divergence)
                || recall.as_ref().is_some_and(|r| r.changed);
            let note = match (compared, then) {
                (false, _) => None,
                (true, None) => Some("not reported or probed under the reference".into()),
                (true, Some(_)) if lost => {
                    Some("memory reported under the reference, none now".into())
                }
                (true, Some(t)) if divergence.is_none() && !observed.memory.is_empty() => {
                    Some(if t.memory.is_empty() {
                        "no memory reported under the reference".into()
                    } else {
                        "no turn reported in both runs".into()
                    })
                }
                (true, Some(_)) => None,
            };
            CaseMemory {
                case: case.to_string(),
                divergence,
                recall,
                changed,
                note,
            }
        })
        .collect();
    let changed = cases
        .iter()
        .filter(|c| c.changed)
        .map(|c| c.case.clone())
        .collect();
    Some(MemoryReport {
        policy,
        reference: reference.map(|(r, _)| r),
        note,
        cases,
        changed,
    })
}

fn recall(now: [u32; 2], before: Option<[u32; 2]>, alpha: f64, compared: bool) -> Recall {
    let Some(before) = before.filter(|_| compared) else {
        return Recall {
            now,
            before: None,
            p_value: None,
            changed: false,
        };
    };
    let multi = before[1] > 1 && now[1] > 1;
    let p_value = multi.then(|| {
        fisher_exact(
            u64::from(before[0]),
            u64::from(before[1] - before[0]),
            u64::from(now[0]),
            u64::from(now[1] - now[0]),
        )
    });
    // Rates compared exactly (cross-multiplied) when either run took one sample.
    let differ =
        u64::from(before[0]) * u64::from(now[1]) != u64::from(now[0]) * u64::from(before[1]);
    Recall {
        now,
        before: Some(before),
        p_value,
        changed: match p_value {
            Some(p) => p < alpha,
            None => differ,
        },
    }
}

/// The Jaccard distance of two sets: 1 − |A ∩ B| / |A ∪ B|; 0 for two empty sets.
pub fn jaccard_distance(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    1.0 - a.intersection(b).count() as f64 / union as f64
}

/// Each sample's retained set at `turn`, for the samples that reported it.
fn at_turn<'a>(samples: &[&'a [MemoryTurn]], turn: u32) -> Vec<&'a BTreeSet<String>> {
    samples
        .iter()
        .filter_map(|turns| turns.iter().find(|t| t.turn == turn))
        .map(|t| &t.retained)
        .collect()
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Mean distance between two samples of one run; `None` for fewer than two.
fn within(sets: &[&BTreeSet<String>]) -> Option<f64> {
    mean(
        sets.iter()
            .enumerate()
            .flat_map(|(i, a)| sets[i + 1..].iter().map(|b| jaccard_distance(a, b))),
    )
}

/// The set most samples retained (ties: the smallest in set order, so the result does not
/// depend on sample order).
fn modal(sets: &[&BTreeSet<String>]) -> BTreeSet<String> {
    let mut counts: BTreeMap<&BTreeSet<String>, usize> = BTreeMap::new();
    for set in sets {
        *counts.entry(set).or_default() += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    counts
        .into_iter()
        .find(|(_, n)| *n == most)
        .map(|(set, _)| set.clone())
        .unwrap_or_default()
}

fn divergence(before: &[&[MemoryTurn]], now: &[&[MemoryTurn]]) -> Option<Divergence> {
    let turns = |samples: &[&[MemoryTurn]]| -> BTreeSet<u32> {
        samples
            .iter()
            .flat_map(|s| s.iter().map(|t| t.turn))
            .collect()
    };
    let shared: Vec<u32> = turns(before).intersection(&turns(now)).copied().collect();
    let mut worst: Option<Divergence> = None;
    for &turn in &shared {
        let (b, n) = (at_turn(before, turn), at_turn(now, turn));
        let across = mean(
            b.iter()
                .flat_map(|x| n.iter().map(move |y| jaccard_distance(x, y))),
        )
        .unwrap_or(0.0);
        let within = mean([within(&b), within(&n)].into_iter().flatten()).unwrap_or(0.0);
        let value = (across - within).max(0.0);
        if worst.as_ref().is_none_or(|w| value > w.value) {
            worst = Some(Divergence {
                value,
                turn,
                across,
                within,
                before: modal(&b),
                now: modal(&n),
                turns: shared.len() as u32,
            });
        }
    }
    worst
}

#[cfg(test)]
mod tests;
