//! Measuring what each case costs and what it catches: tokens per case, the decision branches
//! only it reaches, the regressions it caught in history, and the decay it shows; and the
//! cheapest set of cases that keeps every branch reached.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use evalgate::history::CaseVerdictRow;
use evalgate::observation::Decision;
use evalgate::record::RunData;
use evalgate::report::RunReport;
use evalgate::verdict::Verdict;

/// One case's cost and contribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseEconomics {
    pub case: String,
    pub file: String,
    pub line: u32,
    pub verdict: Verdict,
    pub samples: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// USD at the suite's prices; `None` when no sample was priced.
    pub usd: Option<f64>,
    /// Samples whose cost is unknown (no price for their model, or no usage reported).
    pub unpriced_samples: u64,
    /// Wall time of the case in the run.
    pub duration_ms: f64,
    /// Branches a sample of the case reached.
    pub branches: Vec<Decision>,
    /// Branches every sample of the case reached: what a tier can count on it for.
    pub reliable_branches: Vec<Decision>,
    /// An active case of the suite (not a draft run with `--include-ignored`).
    pub active: bool,
    /// Of those, the ones no other case reached.
    pub unique_branches: Vec<Decision>,
    /// Runs in history where the case failed (this run included); `None` without history.
    pub failures_caught: Option<u32>,
    /// Runs in history with a verdict of the case.
    pub runs_in_history: Option<u32>,
    /// Of those, runs whose verdict was not `pass` (fail, inconclusive or error).
    pub runs_not_passed: Option<u32>,
    /// Detectors of the decay findings on the case.
    pub decay: Vec<String>,
    /// Whether the case is redundant (see the module documentation); `None` without
    /// history, which it cannot be judged without.
    pub redundant: Option<bool>,
}

/// Every case's economics, most expensive first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Economics {
    pub run_id: String,
    pub cases: Vec<CaseEconomics>,
    pub total_usd: f64,
    pub total_duration_ms: f64,
    /// Branches reached by the run.
    pub branches: usize,
    /// Whether failures caught could be counted (a history store was read).
    pub history: bool,
}

/// What a cover's cost is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    /// Dollars at the suite's prices: every candidate case was priced in full.
    Usd,
    /// Wall time: some candidate case has unpriced samples, so dollars would compare a
    /// known cost with an unknown one.
    Time,
}

/// A set of cases chosen to keep every branch covered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cover {
    /// By id.
    pub cases: Vec<String>,
    pub branches: usize,
    /// The dollars of the chosen cases' priced samples.
    pub usd: f64,
    /// Chosen cases with unpriced samples: `usd` leaves them out.
    pub unpriced_cases: usize,
    pub duration_ms: f64,
    /// What the cover's cost was counted in.
    pub cost_basis: CostBasis,
    /// Proven the cheapest cover (and the fewest cases among the cheapest) by a search of
    /// every possibility; `false`: the cheapest found before the search budget ran out, in
    /// which no case can be removed.
    pub optimal: bool,
    /// Active cases of the run that reach no branch in every sample: a branch cover says
    /// nothing about them (their checks on wording, JSON or refusals are not in a tier).
    pub without_branches: usize,
    /// Branches some case reached in some samples but no case in all of its samples: a tier
    /// cannot promise them, so they are left out of the cover.
    pub unreliable_branches: Vec<Decision>,
}

impl Economics {
    /// The economics of the run in `data`, whose report is `report`; `history` holds the
    /// suite's case verdicts in the history store (None when history is off).
    pub fn of(data: &RunData, report: &RunReport, history: Option<&[CaseVerdictRow]>) -> Economics {
        let (reached, reachers) = reached_by_case(report);
        let every_sample = reached_in_every_sample(data);
        let active: Option<BTreeSet<&str>> = data
            .policy
            .as_ref()
            .and_then(|p| p.cases.as_ref())
            .map(|cases| cases.iter().map(String::as_str).collect());
        let tokens = tokens_by_case(data);
        let caught = caught_by_case(history.unwrap_or(&[]));
        let mut decay = decay_by_case(report);
        let cost = &report.signals.cost;
        let mut cases: Vec<CaseEconomics> = data
            .cases
            .iter()
            .map(|record| {
                let id = record.case.as_str();
                let branches: Vec<Decision> = reached
                    .get(id)
                    .map(|set| set.iter().map(|d| (*d).clone()).collect())
                    .unwrap_or_default();
                let unique_branches: Vec<Decision> = branches
                    .iter()
                    .filter(|d| reachers.get(d) == Some(&1))
                    .cloned()
                    .collect();
                let spend = cost.cases.get(id);
                let (input_tokens, output_tokens) = tokens.get(id).copied().unwrap_or_default();
                let (failures_caught, runs_not_passed, runs_in_history) = match history {
                    Some(_) => {
                        let (failed, not_passed, runs) =
                            caught.get(id).cloned().unwrap_or_default();
                        (
                            Some(failed.len() as u32),
                            Some(not_passed.len() as u32),
                            Some(runs.len() as u32),
                        )
                    }
                    None => (None, None, None),
                };
                let priced = spend.map_or(0, |s| s.samples - s.unpriced);
                let reliable_branches: Vec<Decision> = every_sample
                    .get(id)
                    .map(|set| set.iter().map(|d| (*d).clone()).collect())
                    .unwrap_or_default();
                CaseEconomics {
                    case: record.case.clone(),
                    file: record.file.clone(),
                    line: record.line,
                    verdict: record.verdict,
                    samples: record.samples,
                    input_tokens,
                    output_tokens,
                    usd: spend.filter(|_| priced > 0).map(|s| s.usd),
                    unpriced_samples: u64::from(record.samples).saturating_sub(priced),
                    duration_ms: record.duration_ms,
                    redundant: None,
                    active: active.as_ref().is_none_or(|a| a.contains(id)),
                    reliable_branches,
                    branches,
                    unique_branches,
                    failures_caught,
                    runs_in_history,
                    runs_not_passed,
                    decay: decay.remove(id).unwrap_or_default(),
                }
            })
            .collect();
        cases.sort_by(|a, b| {
            b.usd
                .unwrap_or(0.0)
                .total_cmp(&a.usd.unwrap_or(0.0))
                .then(b.duration_ms.total_cmp(&a.duration_ms))
                .then(a.case.cmp(&b.case))
        });
        let mut economics = Economics {
            run_id: data
                .runs
                .first()
                .map(|r| r.run_id.clone())
                .unwrap_or_default(),
            total_usd: cases.iter().filter_map(|c| c.usd).sum(),
            total_duration_ms: cases.iter().map(|c| c.duration_ms).sum(),
            branches: reachers.len(),
            history: history.is_some(),
            cases,
        };
        economics.judge_redundancy();
        economics
    }

    pub fn redundant(&self) -> impl Iterator<Item = &CaseEconomics> {
        self.cases.iter().filter(|c| c.redundant == Some(true))
    }

    /// Sets every case's `redundant`; see the module documentation.
    fn judge_redundancy(&mut self) {
        if !self.history {
            for case in &mut self.cases {
                case.redundant = None;
            }
            return;
        }
        let cover = self.cover();
        let in_cover: BTreeSet<&str> = cover.cases.iter().map(String::as_str).collect();
        let may_go = |c: &CaseEconomics| {
            c.active
                && !in_cover.contains(c.case.as_str())
                && !c.branches.is_empty()
                && c.verdict == Verdict::Pass
                && c.runs_in_history.is_some_and(|runs| runs > 0)
                && c.runs_not_passed == Some(0)
        };
        let stays: BTreeSet<&Decision> = self
            .cases
            .iter()
            .filter(|c| c.active && !may_go(c))
            .flat_map(|c| c.branches.iter())
            .collect();
        let redundant: Vec<bool> = self
            .cases
            .iter()
            .map(|c| may_go(c) && c.branches.iter().all(|b| stays.contains(b)))
            .collect();
        for (case, redundant) in self.cases.iter_mut().zip(redundant) {
            case.redundant = Some(redundant);
        }
    }

    /// The cheapest set of active cases reaching every branch active cases reach in every
    /// sample; see the module documentation.
    pub fn cover(&self) -> Cover {
        let active: Vec<&CaseEconomics> = self.cases.iter().filter(|c| c.active).collect();
        let reliable: BTreeSet<&Decision> = active
            .iter()
            .flat_map(|c| c.reliable_branches.iter())
            .collect();
        let unreliable_branches: Vec<Decision> = active
            .iter()
            .flat_map(|c| c.branches.iter())
            .filter(|d| !reliable.contains(d))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .cloned()
            .collect();
        let mut candidates: Vec<&CaseEconomics> = active
            .iter()
            .copied()
            .filter(|c| !c.reliable_branches.is_empty())
            .collect();
        candidates.sort_by(|a, b| a.case.cmp(&b.case));
        let fully_priced = |c: &CaseEconomics| c.usd.is_some() && c.unpriced_samples == 0;
        let cost_basis = if candidates.iter().all(|c| fully_priced(c)) {
            CostBasis::Usd
        } else {
            CostBasis::Time
        };
        let index: BTreeMap<&Decision, usize> =
            reliable.iter().enumerate().map(|(i, d)| (*d, i)).collect();
        let sets: Vec<super::set_cover::Candidate> = candidates
            .iter()
            .map(|c| {
                let mut branches = super::set_cover::Branches::empty(index.len());
                for branch in &c.reliable_branches {
                    branches.insert(index[branch]);
                }
                // Integers (pico-dollars, microseconds): equal costs compare equal.
                let cost = match cost_basis {
                    CostBasis::Usd => c.usd.unwrap_or(0.0) * 1e12,
                    CostBasis::Time => c.duration_ms * 1e3,
                };
                super::set_cover::Candidate {
                    cost: cost.max(0.0).round() as u64,
                    branches,
                }
            })
            .collect();
        let picked = super::set_cover::cheapest(&sets);
        let chosen: Vec<&CaseEconomics> = picked.cases.iter().map(|i| candidates[*i]).collect();
        Cover {
            cases: chosen.iter().map(|c| c.case.clone()).collect(),
            branches: reliable.len(),
            usd: chosen.iter().filter_map(|c| c.usd).sum(),
            unpriced_cases: chosen.iter().filter(|c| !fully_priced(c)).count(),
            duration_ms: chosen.iter().map(|c| c.duration_ms).sum(),
            cost_basis,
            optimal: picked.optimal,
            without_branches: active.len() - candidates.len(),
            unreliable_branches,
        }
    }
}

/// Per case, the branches it reached (in some sample); per branch, how many cases reach it.
#[allow(clippy::type_complexity)]
fn reached_by_case(
    report: &RunReport,
) -> (
    BTreeMap<&str, BTreeSet<&Decision>>,
    BTreeMap<&Decision, usize>,
) {
    let mut reached: BTreeMap<&str, BTreeSet<&Decision>> = BTreeMap::new();
    let mut reachers: BTreeMap<&Decision, usize> = BTreeMap::new();
    let branches = report
        .coverage
        .points
        .iter()
        .flat_map(|p| p.branches.iter())
        .chain(report.coverage.unknown.iter());
    for branch in branches.filter(|b| !b.cases.is_empty()) {
        reachers.insert(&branch.decision, branch.cases.len());
        for case in &branch.cases {
            reached.entry(case).or_default().insert(&branch.decision);
        }
    }
    (reached, reachers)
}

/// Per case, the branches every one of its samples reached.
fn reached_in_every_sample(data: &RunData) -> BTreeMap<&str, BTreeSet<&Decision>> {
    let mut every_sample: BTreeMap<&str, BTreeSet<&Decision>> = BTreeMap::new();
    for sample in &data.samples {
        let reached: BTreeSet<&Decision> = sample.decisions.iter().collect();
        every_sample
            .entry(&sample.case)
            .and_modify(|so_far| so_far.retain(|d| reached.contains(d)))
            .or_insert(reached);
    }
    every_sample
}

/// Per case, the input and output tokens of its samples.
fn tokens_by_case(data: &RunData) -> BTreeMap<&str, (u64, u64)> {
    let mut tokens: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for sample in &data.samples {
        if let Some(usage) = &sample.usage {
            let entry = tokens.entry(&sample.case).or_default();
            entry.0 += usage.input_tokens;
            entry.1 += usage.output_tokens;
        }
    }
    tokens
}

/// Runs by id.
type Runs<'a> = BTreeSet<&'a str>;

/// Per case in `history`: the runs it failed in, those it did not pass in, and every run.
fn caught_by_case(history: &[CaseVerdictRow]) -> BTreeMap<&str, (Runs<'_>, Runs<'_>, Runs<'_>)> {
    let mut caught: BTreeMap<&str, (Runs, Runs, Runs)> = BTreeMap::new();
    for row in history {
        let entry = caught.entry(&row.case).or_default();
        entry.2.insert(&row.run_id);
        if row.verdict != Verdict::Pass {
            entry.1.insert(&row.run_id);
        }
        if row.verdict == Verdict::Fail {
            entry.0.insert(&row.run_id);
        }
    }
    caught
}

/// Per case, the decay detectors that found something, once each.
fn decay_by_case(report: &RunReport) -> BTreeMap<&str, Vec<String>> {
    let mut decay: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for finding in report.decay.iter().flat_map(|d| d.findings.iter()) {
        let detectors = decay.entry(&finding.case).or_default();
        let name = finding.detector.as_str().to_string();
        if !detectors.contains(&name) {
            detectors.push(name);
        }
    }
    decay
}

#[cfg(test)]
mod tests;
