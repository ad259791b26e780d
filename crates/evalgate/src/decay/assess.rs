//! Putting the detectors together: the decay report of a run, from its records, the suite
//! facts saved with it, the run history and the production sample.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::agreement::{RubricAgreement, agreement};
use super::detectors::{FirstRun, case_findings};
use super::finding::{DecayFinding, Detector, Severity};
use super::representativeness::{
    CaseText, ProductionSample, Representativeness, RepresentativenessOptions, analyse,
};
use super::saturation::{Discrimination, VerdictAt, from_history};
use crate::case::Status;
use crate::envelope::RunEnvelope;
use crate::errors::Error;
use crate::record::DecayContext;

/// A retired case: kept, never run, counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RetiredCase {
    /// The case id.
    pub case: String,
    /// The case file, as shown to users.
    pub file: String,
    /// Why it was retired (`status: {retired: {reason}}`).
    pub reason: String,
    /// When it was retired.
    pub date: jiff::civil::Date,
}

/// What the history store contributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HistorySummary {
    /// The store, as shown to users; `None` when history is off.
    pub path: Option<String>,
    /// Distinct envelopes the store has seen.
    pub envelopes: usize,
    /// Why saturation or discrimination could not be judged, if so.
    pub note: Option<String>,
}

/// The decay report of a run (`decay.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DecayReport {
    /// The day the run was judged on (the run's start, UTC).
    pub date: jiff::civil::Date,
    /// The envelope the run was measured under, and any silent model bump.
    pub envelope: RunEnvelope,
    /// Active cases: what the shares are taken over.
    pub active: usize,
    /// Draft cases, counted apart from the active ones.
    pub drafts: usize,
    /// Retired cases: kept, never run.
    pub retired: Vec<RetiredCase>,
    /// Every finding, by case then detector.
    pub findings: Vec<DecayFinding>,
    /// Findings per detector (every detector listed, zeros included), low-severity ones too.
    pub by_detector: BTreeMap<Detector, usize>,
    /// Findings of low severity: listed, not counted in the shares below.
    pub low_findings: usize,
    /// Active cases with at least one finding that counts (not of low severity).
    pub stale_cases: usize,
    /// `stale_cases / active`.
    pub stale_share: f64,
    /// Cases that passed in this run.
    pub passing: usize,
    /// Passing cases with at least one finding that counts: green, but no longer evidence.
    pub green_but_stale: usize,
    /// Their ids.
    pub green_but_stale_cases: Vec<String>,
    /// How many cases changed verdict between the two most recent envelopes in history;
    /// `None` until history holds two.
    pub discrimination: Option<Discrimination>,
    /// What the history store contributed.
    pub history: HistorySummary,
    /// Annotator agreement per rubric, where cases carry labels from several annotators.
    pub agreement: Vec<RubricAgreement>,
    /// How well the cases cover production inputs, when the suite names a production sample.
    pub representativeness: Option<Representativeness>,
}

/// Everything decay is judged from besides the suite facts.
pub(crate) struct DecayInputs<'a> {
    pub context: &'a DecayContext,
    pub date: jiff::civil::Date,
    pub envelope: RunEnvelope,
    /// Cases whose verdict in this run is `pass`.
    pub passing: HashSet<&'a str>,
    /// What the store holds (this run included); `None` when history is off, an error text
    /// when the store could not be used.
    pub history: Option<Result<CaseHistory, String>>,
}

/// What the history store says about the suite's cases.
pub(crate) struct CaseHistory {
    /// The store, as shown to users.
    pub path: String,
    /// Every case verdict, oldest first.
    pub verdicts: Vec<VerdictAt>,
    /// The day each case first ran.
    pub first_runs: BTreeMap<String, jiff::civil::Date>,
}

/// Builds the decay report, and the error of a broken production sample (its file and line
/// named) when there is one: the report then has no representativeness, the rest stands.
pub(crate) fn assess(inputs: DecayInputs<'_>) -> (DecayReport, Option<Error>) {
    let context = inputs.context;
    let mut findings: Vec<DecayFinding> = Vec::new();
    for case in context.active() {
        // A case the history has not seen yet runs for the first time now.
        let first_run = match &inputs.history {
            Some(Ok(history)) => FirstRun::On(
                history
                    .first_runs
                    .get(&case.case)
                    .map_or(inputs.date, |first| (*first).min(inputs.date)),
            ),
            None | Some(Err(_)) => FirstRun::Unknown,
        };
        findings.extend(case_findings(
            context,
            case,
            first_run,
            inputs.date,
            &inputs.envelope.envelope,
        ));
    }
    let (agreement, disagreements) = agreement(context);
    findings.extend(disagreements);

    let (discrimination, history) = judge_history(context, inputs.history.as_ref(), &mut findings);
    let (representativeness, production_problem) = representativeness(context);
    if let Some(result) = &representativeness {
        findings.extend(no_traffic(context, result));
    }

    findings.sort_by(|a, b| (&a.case, a.detector).cmp(&(&b.case, b.detector)));
    let mut by_detector: BTreeMap<Detector, usize> =
        Detector::ALL.iter().map(|d| (*d, 0)).collect();
    for f in &findings {
        *by_detector.entry(f.detector).or_default() += 1;
    }
    let low_findings = findings.iter().filter(|f| !f.counts()).count();
    let stale: HashSet<&str> = findings
        .iter()
        .filter(|f| f.counts())
        .map(|f| f.case.as_str())
        .collect();
    let active = context.active().count();
    let mut green_but_stale_cases: Vec<String> = inputs
        .passing
        .iter()
        .filter(|c| stale.contains(*c))
        .map(|c| c.to_string())
        .collect();
    green_but_stale_cases.sort();
    let retired = retired(context);
    let report = DecayReport {
        date: inputs.date,
        envelope: inputs.envelope,
        active,
        drafts: context
            .cases
            .iter()
            .filter(|c| c.status == Status::Draft)
            .count(),
        retired,
        stale_cases: stale.len(),
        stale_share: if active == 0 {
            0.0
        } else {
            stale.len() as f64 / active as f64
        },
        passing: inputs.passing.len(),
        green_but_stale: green_but_stale_cases.len(),
        green_but_stale_cases,
        findings,
        by_detector,
        low_findings,
        discrimination,
        history,
        agreement,
        representativeness,
    };
    (report, production_problem)
}

/// Saturation and discrimination from the history of the suite's verdicts (their findings
/// added to `findings`), and what the report says of that history.
fn judge_history(
    context: &DecayContext,
    history: Option<&Result<CaseHistory, String>>,
    findings: &mut Vec<DecayFinding>,
) -> (Option<Discrimination>, HistorySummary) {
    let n = context.policy.saturation_envelopes;
    match history {
        None => (
            None,
            HistorySummary {
                path: None,
                envelopes: 0,
                note: Some(format!(
                    "{}: saturation and discrimination not judged",
                    crate::history::OFF_BECAUSE
                )),
            },
        ),
        Some(Err(why)) => (
            None,
            HistorySummary {
                path: None,
                envelopes: 0,
                note: Some(format!(
                    "history unavailable ({why}): saturation and discrimination not judged"
                )),
            },
        ),
        Some(Ok(CaseHistory {
            path,
            verdicts: rows,
            ..
        })) => {
            let judged = from_history(context, rows);
            findings.extend(judged.findings);
            let note = (judged.envelopes < n as usize).then(|| {
                format!(
                    "history holds {} distinct envelope(s); saturation needs {n}",
                    judged.envelopes
                )
            });
            (
                judged.discrimination,
                HistorySummary {
                    path: Some(path.clone()),
                    envelopes: judged.envelopes,
                    note,
                },
            )
        }
    }
}

/// How well the active cases stand for the production sample the policy names, or the
/// error reading it (the report then has no representativeness).
fn representativeness(context: &DecayContext) -> (Option<Representativeness>, Option<Error>) {
    let Some(production) = &context.policy.production else {
        return (None, None);
    };
    let cases: Vec<CaseText> = context
        .active()
        .map(|c| CaseText {
            id: c.case.clone(),
            text: c.text.clone(),
        })
        .collect();
    let sample = ProductionSample {
        path: production.path.clone(),
        field: production.field.clone(),
    };
    let options = RepresentativenessOptions {
        threshold: production.min_similarity,
        ..RepresentativenessOptions::default()
    };
    match analyse(&cases, &sample, &options) {
        Ok(result) => (Some(result), None),
        Err(e) => (None, Some(e)),
    }
}

/// A `no_traffic` finding for each active case no production input resembles.
fn no_traffic(context: &DecayContext, result: &Representativeness) -> Vec<DecayFinding> {
    result
        .unmatched_cases
        .iter()
        .filter_map(|id| context.active().find(|c| &c.case == id))
        .map(|case| DecayFinding {
            case: case.case.clone(),
            file: case.file.clone(),
            line: case.line_of("input"),
            detector: Detector::NoTraffic,
            reason: format!(
                "none of the {} production inputs sampled resembles it (similarity < {})",
                result.inputs, result.threshold
            ),
            action: "check that users still ask this; update the input to how they ask now, \
                     or retire the case"
                .into(),
            severity: Severity::Stale,
        })
        .collect()
}

/// The retired cases, with why and since when.
fn retired(context: &DecayContext) -> Vec<RetiredCase> {
    context
        .cases
        .iter()
        .filter_map(|c| match &c.status {
            Status::Retired { reason, date } => Some(RetiredCase {
                case: c.case.clone(),
                file: c.file.clone(),
                reason: reason.clone(),
                date: *date,
            }),
            _ => None,
        })
        .collect()
}
