//! Comparing each case of a run with that case in a reference run of the history: the
//! Jaccard divergence of the retained sets beyond the reference's own, and the change in
//! recall.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::memory::MemoryPolicy;
use crate::envelope::{Envelope, MODEL};
use crate::observation::MemoryTurn;
use crate::record::{RECALLED, SampleRecord};
use crate::stats::fisher_exact;
use crate::verdict::SampleVerdict;

/// A run of the history that is the reference of some cases, with those cases' samples.
#[derive(Debug, Clone)]
pub struct ReferenceRun {
    pub run_id: String,
    pub started_at: jiff::Timestamp,
    pub envelope: Envelope,
    pub samples: Vec<SampleRecord>,
}

/// The run one case was compared with, and how its envelope differs from this run's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CaseReference {
    pub run_id: String,
    pub started_at: jiff::Timestamp,
    /// The axes whose value differs between the reference's envelope and this run's.
    pub changes: Vec<AxisChange>,
}

impl CaseReference {
    fn of(run: &ReferenceRun, now: &Envelope) -> CaseReference {
        let axes: BTreeSet<&String> = run.envelope.0.keys().chain(now.0.keys()).collect();
        let changes = axes
            .into_iter()
            .filter_map(|axis| {
                let (b, n) = (run.envelope.get(axis), now.get(axis));
                (b != n).then(|| AxisChange {
                    axis: axis.clone(),
                    before: b.map(str::to_string),
                    now: n.map(str::to_string),
                })
            })
            .collect();
        CaseReference {
            run_id: run.run_id.clone(),
            started_at: run.started_at,
            changes,
        }
    }

    /// Whether the model differs: the change is an upgrade (or a rollback) of the model.
    pub fn model_changed(&self) -> bool {
        self.changes.iter().any(|c| c.axis == MODEL)
    }
}

/// One axis of the envelope that differs between the reference and this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxisChange {
    pub axis: String,
    pub before: Option<String>,
    pub now: Option<String>,
}

/// A run's memory compared with the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemoryReport {
    pub policy: MemoryPolicy,
    /// How each case's reference run was chosen, for people; `None` when the history
    /// could not be read (see `note`).
    pub chosen: Option<String>,
    /// Why nothing could be compared, when the history could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Every case of this run that reported memory or probes recall (or that reported
    /// memory under its reference), by id.
    pub cases: Vec<CaseMemory>,
    /// The cases whose effective past changed.
    pub changed: Vec<String>,
    /// The cases no reference run holds.
    pub not_compared: Vec<String>,
}

/// One case's memory and recall, now and under its reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CaseMemory {
    pub case: String,
    /// The run it was compared with; `None` when no run of the history holds it.
    pub reference: Option<CaseReference>,
    /// The divergence of the retained sets; `None` when memory was not reported by both.
    pub divergence: Option<Divergence>,
    /// Samples whose recall probes all passed, over samples with a probe: now, and under
    /// the reference (when it probed the case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<Recall>,
    /// Whether the effective past changed: retained sets diverging by the policy's
    /// divergence or more, recall that changed, memory no longer reported, or no turn
    /// reported by both runs.
    pub changed: bool,
    /// What else to know: why the case could not be compared, why a divergence is not
    /// counted, what it lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Jaccard divergence of retained sets at one turn: the largest that counts, else the
/// largest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// `across - within`, at least 0: the divergence sampling noise does not explain.
    pub value: f64,
    /// The turn of `value`.
    pub turn: u32,
    /// Mean Jaccard distance between a sample of the reference and a sample of this run.
    pub across: f64,
    /// Mean Jaccard distance between two samples of the same run (the mean of both runs'
    /// that took several samples): sampling noise. `None` when each took one sample.
    pub within: Option<f64>,
    /// When samples of one run retained different sets (noisy memory): the permutation
    /// test's p-value of the two runs differing at this turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// The retained set most samples reported at that turn: under the reference, now.
    pub before: BTreeSet<String>,
    pub now: BTreeSet<String>,
    /// Turns reported by both runs.
    pub turns: u32,
}

/// Recall probe results, as `[recalled, probed]` sample counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recall {
    pub now: [u32; 2],
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<[u32; 2]>,
    /// Fisher's exact test, when either run took several samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    pub changed: bool,
}

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
        if sample.verdict == SampleVerdict::Error || !sample.concerns_memory() {
            continue;
        }
        let probes: Vec<bool> = sample
            .checks
            .iter()
            .filter(|c| c.expectation == RECALLED)
            .map(|c| c.passed)
            .collect();
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

/// Compares each case of `now` (this run's samples, under envelope `envelope`) with the
/// reference run among `references` that holds it. `chosen` says how the references were
/// chosen; `None` with `note` when the history could not be read. `None` when no sample of
/// this run reported memory or probed recall, and no reference holds memory of a case
/// that ran now.
pub fn compare(
    policy: MemoryPolicy,
    now: &[SampleRecord],
    envelope: &Envelope,
    references: &[ReferenceRun],
    chosen: Option<String>,
    note: Option<String>,
) -> Option<MemoryReport> {
    let current = by_case(now);
    // Each case's reference: the first run listed that holds it.
    let mut before: BTreeMap<&str, (CaseReference, Observed)> = BTreeMap::new();
    for run in references {
        let reference = CaseReference::of(run, envelope);
        for (case, observed) in by_case(&run.samples) {
            before
                .entry(case)
                .or_insert_with(|| (reference.clone(), observed));
        }
    }
    // A case that ran now, answered, and no longer reports the memory it reported under
    // its reference lost what the comparison needs: changed, never silently skipped.
    let answered: BTreeSet<&str> = now
        .iter()
        .filter(|s| s.verdict != SampleVerdict::Error)
        .map(|s| s.case.as_str())
        .collect();
    let mut ids: BTreeSet<&str> = current.keys().copied().collect();
    ids.extend(
        before
            .iter()
            .filter(|(case, (_, t))| !t.memory.is_empty() && answered.contains(*case))
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
            match before.get(case) {
                Some((reference, then)) => judge(case, policy, reference, then, observed),
                None => CaseMemory {
                    case: case.to_string(),
                    reference: None,
                    divergence: None,
                    recall: observed.recall.map(|now| recall(now, None, policy.alpha)),
                    changed: false,
                    note: Some("no earlier run holds it: not compared".into()),
                },
            }
        })
        .collect();
    let changed = cases
        .iter()
        .filter(|c| c.changed)
        .map(|c| c.case.clone())
        .collect();
    let not_compared = cases
        .iter()
        .filter(|c| c.reference.is_none())
        .map(|c| c.case.clone())
        .collect();
    Some(MemoryReport {
        policy,
        chosen,
        note,
        cases,
        changed,
        not_compared,
    })
}

/// How one turn's divergence counts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TurnVerdict {
    /// Under the policy's divergence.
    Below,
    /// At or over it, and real.
    Counts,
    /// Deterministic as far as seen, but one run took one sample under the same envelope:
    /// a memory that is not deterministic would look changed on every run.
    NoiseUnknown,
    /// Noisy memory, and these sample sizes cannot reach the significance level.
    CannotTell,
    /// Noisy memory, and the permutation test finds no difference.
    WithinNoise,
}

fn turn_verdict(
    d: &Divergence,
    min_p: Option<f64>,
    level: f64,
    policy: MemoryPolicy,
    single: bool,
    same_envelope: bool,
) -> TurnVerdict {
    if d.value < policy.divergence {
        return TurnVerdict::Below;
    }
    match (d.p_value, min_p) {
        (Some(_), Some(min)) if min >= level => TurnVerdict::CannotTell,
        (Some(p), _) if p < level => TurnVerdict::Counts,
        (Some(_), _) => TurnVerdict::WithinNoise,
        (None, _) if single && same_envelope => TurnVerdict::NoiseUnknown,
        (None, _) => TurnVerdict::Counts,
    }
}

fn judge(
    case: &str,
    policy: MemoryPolicy,
    reference: &CaseReference,
    then: &Observed,
    now: &Observed,
) -> CaseMemory {
    let turns = turn_divergences(&then.memory, &now.memory);
    // Each compared turn is a test: the family's level is the policy's alpha.
    let level = policy.alpha / turns.len().max(1) as f64;
    let judged: Vec<(Divergence, TurnVerdict)> = turns
        .into_iter()
        .map(|(d, min_p, single)| {
            let verdict = turn_verdict(
                &d,
                min_p,
                level,
                policy,
                single,
                reference.changes.is_empty(),
            );
            (d, verdict)
        })
        .collect();
    let largest = |wanted: &dyn Fn(TurnVerdict) -> bool| {
        judged
            .iter()
            .filter(|(_, v)| wanted(*v))
            .max_by(|a, b| {
                a.0.value
                    .total_cmp(&b.0.value)
                    .then(b.0.turn.cmp(&a.0.turn))
            })
            .cloned()
    };
    let shown = largest(&|v| v == TurnVerdict::Counts).or_else(|| largest(&|_| true));
    let recall = now.recall.map(|n| recall(n, then.recall, policy.alpha));
    let mut note = None;
    let memory_changed = match (&shown, then.memory.is_empty(), now.memory.is_empty()) {
        (_, false, true) => {
            note = Some("memory reported under the reference, none now".into());
            true
        }
        (None, false, false) => {
            note = Some("no turn reported by both runs".into());
            true
        }
        (None, true, false) => {
            note = Some("no memory reported under the reference".into());
            false
        }
        (None, true, true) => false,
        (Some((_, verdict)), _, _) => {
            note = match verdict {
                TurnVerdict::Below | TurnVerdict::Counts => None,
                TurnVerdict::NoiseUnknown => Some(
                    "one run took one sample under the same envelope: the noise is unknown, \
                     so the divergence is not counted (take more samples)"
                        .into(),
                ),
                TurnVerdict::CannotTell => Some(format!(
                    "the memory varies between samples, and {} + {} samples cannot show a \
                     difference at p < {level:.4}: not counted (take more samples)",
                    then.memory.len(),
                    now.memory.len()
                )),
                TurnVerdict::WithinNoise => Some(
                    "within the variation between samples (permutation test): not counted".into(),
                ),
            };
            *verdict == TurnVerdict::Counts
        }
    };
    CaseMemory {
        case: case.to_string(),
        reference: Some(reference.clone()),
        changed: memory_changed || recall.as_ref().is_some_and(|r| r.changed),
        divergence: shown.map(|(d, _)| d),
        recall,
        note,
    }
}

fn recall(now: [u32; 2], before: Option<[u32; 2]>, alpha: f64) -> Recall {
    let Some(before) = before else {
        return Recall {
            now,
            before: None,
            p_value: None,
            changed: false,
        };
    };
    let sampled = before[1] > 1 || now[1] > 1;
    let p_value = sampled.then(|| {
        fisher_exact(
            u64::from(before[0]),
            u64::from(before[1] - before[0]),
            u64::from(now[0]),
            u64::from(now[1] - now[0]),
        )
    });
    Recall {
        now,
        before: Some(before),
        p_value,
        // One sample each: recalled or not, compared as it is.
        changed: match p_value {
            Some(p) => p < alpha,
            None => before[0] != now[0],
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

/// The divergence at every turn both runs reported, with the smallest p-value the
/// permutation test could give when it ran, and whether a run reported the turn in one
/// sample only.
fn turn_divergences(
    before: &[&[MemoryTurn]],
    now: &[&[MemoryTurn]],
) -> Vec<(Divergence, Option<f64>, bool)> {
    let turns = |samples: &[&[MemoryTurn]]| -> BTreeSet<u32> {
        samples
            .iter()
            .flat_map(|s| s.iter().map(|t| t.turn))
            .collect()
    };
    let shared: Vec<u32> = turns(before).intersection(&turns(now)).copied().collect();
    shared
        .iter()
        .map(|&turn| {
            let (b, n) = (at_turn(before, turn), at_turn(now, turn));
            let across = mean(
                b.iter()
                    .flat_map(|x| n.iter().map(move |y| jaccard_distance(x, y))),
            )
            .unwrap_or(0.0);
            let (wb, wn) = (within(&b), within(&n));
            let within = mean([wb, wn].into_iter().flatten());
            let noisy = wb.is_some_and(|w| w > 0.0) || wn.is_some_and(|w| w > 0.0);
            let test = noisy.then(|| super::permutation::test(&b, &n));
            let divergence = Divergence {
                value: (across - within.unwrap_or(0.0)).max(0.0),
                turn,
                across,
                within,
                p_value: test.map(|t| t.p_value),
                before: modal(&b),
                now: modal(&n),
                turns: shared.len() as u32,
            };
            let single = b.len() < 2 || n.len() < 2;
            (divergence, test.map(|t| t.min_p_value), single)
        })
        .collect()
}

#[cfg(test)]
mod tests;
