//! Evaluating the suite's gates on a run: each metric measured from the records' summary
//! and the coverage, compared with its bound.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Summary;
pub(crate) use super::measured::Measured;
use crate::baseline::{BaselineComparison, Change};
use crate::coverage::{Coverage, Risk};
use crate::decay::{DecayReport, Detector};
use crate::gate::{Bound, Gate, GateLevel, Metric};
use crate::memory::MemoryReport;
use crate::signals::Signals;
use crate::verdict::Verdict;

/// The outcome of one gate on one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    pub name: String,
    pub metric: String,
    pub level: GateLevel,
    /// `≥ 0.8`, `≤ 0`.
    pub threshold: String,
    /// The metric's value; `None` when it could not be measured.
    pub value: Option<f64>,
    pub outcome: GateOutcome,
    /// What is behind the value: uncovered branches, failing points...
    pub details: Vec<String>,
    /// The decision points this gate blames (for the per-point coverage testcases).
    #[serde(default)]
    pub points: Vec<String>,
    /// Whether the suite declared the gate (`false`: one of the defaults every suite, a
    /// catalog or a baseline brings, shown at normal verbosity only when it fires).
    #[serde(default = "declared_by_default")]
    pub declared: bool,
}

/// Results written before `declared` was recorded are shown as declared ones were.
fn declared_by_default() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateOutcome {
    Passed,
    Failed,
    /// Not applied: the metric means nothing for this run (e.g. coverage of a filtered run).
    Skipped,
}

impl GateResult {
    /// Whether this result fails the run.
    pub fn fails_run(&self) -> bool {
        self.outcome == GateOutcome::Failed && self.level == GateLevel::Fail
    }

    /// A failed `warn` gate.
    pub fn warns(&self) -> bool {
        self.outcome == GateOutcome::Failed && self.level == GateLevel::Warn
    }

    /// `FAIL`, `WARN`, `pass`, `skipped`.
    pub fn status(&self) -> &'static str {
        match (self.outcome, self.level) {
            (GateOutcome::Passed, _) => "pass",
            (GateOutcome::Skipped, _) => "skipped",
            (GateOutcome::Failed, GateLevel::Fail) => "FAIL",
            (GateOutcome::Failed, GateLevel::Warn) => "WARN",
        }
    }
}

/// Evaluates every gate on the run.
pub fn evaluate(gates: &[Gate], inputs: &GateInputs) -> Vec<GateResult> {
    gates
        .iter()
        .map(|gate| {
            let measured = measure(&gate.metric, gate.bound, inputs);
            let outcome = match (&measured.skipped, measured.value) {
                (Some(_), _) | (None, None) => GateOutcome::Skipped,
                (None, Some(value)) if gate.bound.holds(value) => GateOutcome::Passed,
                (None, Some(_)) => GateOutcome::Failed,
            };
            let mut details = measured.details;
            if let Some(why) = measured.skipped {
                details.insert(0, why);
            }
            GateResult {
                name: gate.name.clone(),
                metric: gate.metric.to_string(),
                level: gate.level,
                threshold: gate.bound.to_string(),
                value: measured.value,
                outcome,
                details,
                points: if outcome == GateOutcome::Failed {
                    measured.points
                } else {
                    Vec::new()
                },
                declared: gate.declared,
            }
        })
        .collect()
}

fn measure(metric: &Metric, bound: Bound, inputs: &GateInputs) -> Measured {
    if (metric.is_coverage() || metric.is_signal())
        && let Some(why) = &inputs.partial
    {
        return Measured::skipped(format!("not applied: {why}"));
    }
    if metric.depends_on_case_mix()
        && let Some(tier) = inputs.suite_tier
    {
        return Measured::skipped(format!(
            "not applied: the run is suite tier `{tier}`, whose cases were chosen to cover \
             branches, not to stand for the suite's traffic; rates over the traffic apply to \
             runs of the whole suite"
        ));
    }
    match metric {
        Metric::Signal(signal) => super::signal_gates::measure(signal, bound, inputs.signals),
        Metric::CasePassRate | Metric::CaseErrors | Metric::CaseInconclusive => {
            measure_cases(metric, inputs.summary)
        }
        Metric::BranchCoverage
        | Metric::PointCoverage
        | Metric::PointCoverageOf(_)
        | Metric::TransitionCoverage
        | Metric::HighRiskUncovered
        | Metric::UnknownBranches
        | Metric::UnexpectedBranches
        | Metric::StaleSources => measure_coverage(metric, inputs.coverage),
        Metric::StaleShare
        | Metric::GreenButStale
        | Metric::DiscriminationRate
        | Metric::UncoveredTraffic
        | Metric::ModelBumps => match inputs.decay {
            Some(decay) => measure_decay(metric, decay),
            None => Measured::skipped(
                "no decay report: the suite's cases are unknown (pass --dir to `evalgate report`)"
                    .into(),
            ),
        },
        Metric::Regressions => measure_regressions(inputs.baseline, inputs.baseline_note),
        Metric::MemoryChanged => measure_memory(inputs.memory),
        Metric::RerunsToGreen => measure_reruns(inputs.attempts),
    }
}

/// The share of cases that pass, and the cases in error or inconclusive.
fn measure_cases(metric: &Metric, summary: &Summary) -> Measured {
    match metric {
        Metric::CasePassRate => {
            let total = summary.cases.len();
            if total == 0 {
                return Measured::skipped("no cases ran".into());
            }
            let pass = summary.count(Verdict::Pass);
            Measured::value(pass as f64 / total as f64)
                .detail(format!("{pass} of {total} cases pass"))
        }
        Metric::CaseErrors | Metric::CaseInconclusive => {
            let verdict = if *metric == Metric::CaseErrors {
                Verdict::Error
            } else {
                Verdict::Inconclusive
            };
            Measured::count(
                summary
                    .cases
                    .iter()
                    .filter(|c| c.verdict == verdict)
                    .map(|c| c.case.clone())
                    .collect(),
            )
        }
        _ => unreachable!("not a metric of the cases' verdicts: {metric:?}"),
    }
}

/// Planner coverage: branches, points, transitions, and what the catalog does not know.
fn measure_coverage(metric: &Metric, coverage: &Coverage) -> Measured {
    match metric {
        Metric::BranchCoverage => match coverage.ratio() {
            Some(ratio) => Measured::value(ratio).detail(format!(
                "{} of {} branches reached",
                coverage.branches_covered, coverage.branches_total
            )),
            None => Measured::skipped("the catalog lists no branches".into()),
        },
        Metric::PointCoverage => {
            let lowest = coverage
                .points
                .iter()
                .filter_map(|p| p.ratio().map(|r| (r, p)))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            match lowest {
                None => Measured::skipped("the catalog lists no decision points".into()),
                Some((ratio, _)) => {
                    let mut m = Measured::value(ratio);
                    for point in coverage.points.iter() {
                        if point.ratio().is_some_and(|r| r <= ratio) {
                            m.points.push(point.name.clone());
                            m.details.push(point.uncovered_text());
                        }
                    }
                    m
                }
            }
        }
        Metric::PointCoverageOf(name) => match coverage.points.iter().find(|p| &p.name == name) {
            Some(point) => match point.ratio() {
                Some(ratio) => {
                    let mut m = Measured::value(ratio).detail(point.uncovered_text());
                    m.points.push(name.clone());
                    m
                }
                None => Measured::skipped(format!("`{name}` lists no branches")),
            },
            None => Measured::skipped(format!("no decision point `{name}`")),
        },
        Metric::TransitionCoverage => match coverage.transitions.ratio() {
            Some(ratio) => Measured::value(ratio).detail(format!(
                "{} of {} declared transitions seen",
                coverage.transitions.declared_seen, coverage.transitions.declared
            )),
            None => Measured::skipped("the catalog declares no transitions".into()),
        },
        Metric::HighRiskUncovered => {
            let mut m = Measured::count(
                coverage
                    .uncovered()
                    .filter(|b| b.risk == Some(Risk::High))
                    .map(|b| b.decision.to_string())
                    .collect(),
            );
            m.points = points_of(&m.details);
            m
        }
        Metric::UnknownBranches => Measured::count(
            coverage
                .unknown
                .iter()
                .map(|b| format!("{} ({} samples)", b.decision, b.samples))
                .collect(),
        ),
        Metric::UnexpectedBranches => {
            let mut m = Measured::count(
                coverage
                    .points
                    .iter()
                    .flat_map(|p| &p.branches)
                    .filter(|b| b.expected_by.is_empty())
                    .map(|b| b.decision.to_string())
                    .collect(),
            );
            m.points = points_of(&m.details);
            m
        }
        Metric::StaleSources => Measured::count(
            coverage
                .stale
                .iter()
                .map(|s| match &s.current_sha256 {
                    Some(_) => format!(
                        "{} changed since the catalog was reviewed; the catalog may be stale",
                        s.path
                    ),
                    None => format!("{} is gone; the catalog may be stale", s.path),
                })
                .collect(),
        ),
        _ => unreachable!("not a coverage metric: {metric:?}"),
    }
}

/// The regressions against the baseline; a baseline that could not be compared with fails.
fn measure_regressions(baseline: Option<&BaselineComparison>, note: Option<&str>) -> Measured {
    match (baseline, note) {
        (None, Some(note)) => Measured::skipped(note.to_string()),
        (Some(comparison), _) => Measured::count(
            comparison
                .cases
                .iter()
                .filter(|c| c.change == Change::Regression)
                .map(|c| format!("{}: {}", c.case, super::baseline_text::evidence(c)))
                .collect(),
        ),
        (None, None) => Measured {
            // The suite names a baseline (checked at load) that could not be compared
            // with: never a silent pass.
            value: Some(f64::INFINITY),
            details: vec!["the baseline could not be compared with (see the error above)".into()],
            ..Measured::default()
        },
    }
}

/// The cases whose memory changed since the reference run.
fn measure_memory(memory: Option<&MemoryReport>) -> Measured {
    match memory {
        None => {
            Measured::skipped("no sample reported memory or probed recall (`recalled:`)".into())
        }
        Some(memory) if memory.chosen.is_none() => Measured::skipped(format!(
            "not compared: {}",
            memory.note.as_deref().unwrap_or("no history")
        )),
        Some(memory) if memory.not_compared.len() == memory.cases.len() => {
            Measured::skipped(format!(
                "no case compared: no earlier run ({}) holds {}",
                memory.chosen.as_deref().unwrap_or_default(),
                memory.not_compared.join(", ")
            ))
        }
        Some(memory) => {
            let mut m = Measured::value(memory.changed.len() as f64);
            m.details = crate::memory::gate_details(memory);
            m
        }
    }
}

/// The red attempts of this commit before this run (reruns to green).
fn measure_reruns(attempts: Result<Option<&super::Attempts>, &str>) -> Measured {
    match attempts {
        Err(why) => Measured::skipped(format!("not looked for: {why}")),
        Ok(None) => Measured::value(0.0)
            .detail("no earlier attempt of this commit under this envelope".to_string()),
        Ok(Some(attempts)) => {
            let mut m = Measured::value(attempts.red_before() as f64).detail(format!(
                "{} earlier attempt(s) of commit {} under envelope {}, {} red",
                attempts.earlier.len(),
                crate::baseline::short_commit(&attempts.commit),
                attempts.envelope,
                attempts.red_before()
            ));
            m.details
                .extend(attempts.pooled.iter().map(super::attempts::evidence_line));
            m
        }
    }
}

fn measure_decay(metric: &Metric, decay: &DecayReport) -> Measured {
    match metric {
        Metric::StaleShare => {
            if decay.active == 0 {
                return Measured::skipped("the suite has no active cases".into());
            }
            let mut m = Measured::value(decay.stale_share).detail(format!(
                "{} of {} active cases have a decay finding",
                decay.stale_cases, decay.active
            ));
            // What counted: a low-severity finding (a case not reviewed yet, but new) did not.
            let mut counted: BTreeMap<Detector, usize> = BTreeMap::new();
            for f in decay.findings.iter().filter(|f| f.counts()) {
                *counted.entry(f.detector).or_default() += 1;
            }
            for (detector, n) in counted {
                m.details.push(format!("{detector}: {n}"));
            }
            m
        }
        Metric::GreenButStale => {
            let mut m = Measured::count(decay.green_but_stale_cases.clone());
            m.details.insert(
                0,
                format!(
                    "{} of {} passing cases have a decay finding",
                    decay.green_but_stale, decay.passing
                ),
            );
            m
        }
        Metric::DiscriminationRate => match &decay.discrimination {
            Some(d) if d.compared > 0 => Measured::value(d.rate).detail(format!(
                "{} of {} cases changed verdict between envelopes {} and {}",
                d.differed, d.compared, d.envelopes[1], d.envelopes[0]
            )),
            Some(d) => Measured::skipped(format!(
                "no case has a verdict under both envelopes {} and {}",
                d.envelopes[1], d.envelopes[0]
            )),
            None => Measured::skipped(
                decay
                    .history
                    .note
                    .clone()
                    .unwrap_or_else(|| "history holds fewer than two envelopes".into()),
            ),
        },
        Metric::UncoveredTraffic => match &decay.representativeness {
            Some(r) => Measured::value(r.uncovered_share).detail(format!(
                "{} of {} production inputs resemble no case",
                r.uncovered, r.inputs
            )),
            None => Measured::skipped("the suite has no `decay.production` sample".into()),
        },
        Metric::ModelBumps => Measured::count(
            decay
                .envelope
                .model_bumps
                .iter()
                .map(|b| b.to_string())
                .collect(),
        ),
        _ => unreachable!("measure_decay is called for decay metrics only"),
    }
}

fn points_of(decisions: &[String]) -> Vec<String> {
    let mut points: Vec<String> = decisions
        .iter()
        .filter_map(|d| d.split_once('.').map(|(p, _)| p.to_string()))
        .collect();
    points.sort();
    points.dedup();
    points
}

/// What gates are measured on.
pub struct GateInputs<'a> {
    pub summary: &'a Summary,
    pub coverage: &'a Coverage,
    /// Why the run does not cover the whole suite (a filter, one shard alone), if it does
    /// not: coverage gates are then not applied rather than failing a partial run.
    pub partial: Option<String>,
    /// The suite tier the run was limited to: its cases were chosen to cover branches, not
    /// to stand for the suite's traffic, so rates measured on them gate nothing.
    pub suite_tier: Option<&'a str>,
    /// The decay report, when the suite's facts were known (not for a run whose every
    /// process ran with `--exact` and no evals folder was at hand).
    pub decay: Option<&'a DecayReport>,
    /// The comparison with the baseline, when the suite names one and it could be read.
    pub baseline: Option<&'a BaselineComparison>,
    /// Why there is nothing to compare with, when that is not an error (the first run of
    /// the baseline branch): the regressions gate is skipped, not failed.
    pub baseline_note: Option<&'a str>,
    /// SLIs, tier mix, latency and cost.
    pub signals: &'a Signals,
    /// The run's earlier attempts, or why they were not looked for.
    pub attempts: Result<Option<&'a super::Attempts>, &'a str>,
    /// Memory divergence against the reference run, when any sample reported memory or
    /// probed recall.
    pub memory: Option<&'a MemoryReport>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::CoverageBuilder;
    use crate::record::{CaseRecord, RunData};
    use crate::signals::signals_of;

    fn case(id: &str, verdict: Verdict) -> CaseRecord {
        CaseRecord {
            verdict,
            samples: 20,
            passes: 10,
            failures: 10,
            rule: "min_rate 0.5".into(),
            ..CaseRecord::example("r", id)
        }
    }

    /// Inconclusive cases are counted even when `inconclusive: warn` lets them pass.
    #[test]
    fn inconclusive_and_error_cases_are_counted_by_their_gates() {
        let data = RunData {
            cases: vec![
                case("a", Verdict::Inconclusive),
                case("b", Verdict::Pass),
                case("c", Verdict::Error),
            ],
            ..RunData::default()
        };
        let summary = Summary::new(&data);
        let coverage = CoverageBuilder::new(None).finish();
        let gate = |metric: &str| {
            let metric = Metric::parse(metric).unwrap();
            Gate::declared(metric, crate::gate::Bound::Max(0.0), GateLevel::Fail)
        };
        let results = evaluate(
            &[gate("cases.inconclusive"), gate("cases.errors")],
            &GateInputs {
                summary: &summary,
                coverage: &coverage,
                partial: None,
                suite_tier: None,
                decay: None,
                baseline: None,
                baseline_note: None,
                signals: &signals_of(&data, &Default::default(), None),
                memory: None,
                attempts: Ok(None),
            },
        );
        assert_eq!(results[0].value, Some(1.0));
        assert_eq!(results[0].details, ["a"]);
        assert!(results[0].fails_run());
        assert_eq!(results[1].details, ["c"]);
    }
}
