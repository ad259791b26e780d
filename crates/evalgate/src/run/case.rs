//! One case: its samples taken step by step as its plan says (fixed, curtailed, or looks
//! against the baseline), stopped early when the verdict or the comparison is settled,
//! then its verdict, its comparison with the baseline and its record.

use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinHandle;

use crate::baseline::judge::{
    RunBaseline, SampleDesign, comparison_settled, fails_test, judgement, test_case,
};
use crate::case::{Case, DEFAULT_ESCALATION, Sampling};
use crate::record::{CaseRecord, Record, SCHEMA_VERSION, SampleRecord, Stop};
use crate::stats::{Evidence, LookDesign};
use crate::verdict::{SampleVerdict, Tally, Verdict, decide, samples_to_decide, settled_verdict};

use super::message;
use super::runner::{CaseOutcome, Shared};
use super::sample::{errored_sample, millis, run_sample};

/// How a case's samples are taken: the cumulative counts after which it is looked at.
enum Plan {
    /// A fixed number `n`, looked at after each of `steps` (only `n` unless it may stop
    /// early), stopping early only when `curtailed` and the verdict — and, against a
    /// baseline, the comparison — is settled.
    Fixed {
        n: u32,
        steps: Vec<u32>,
        curtailed: bool,
    },
    /// Look by look against the baseline, from `min` up to `max`, about a drop of `drop`.
    Looks {
        design: LookDesign,
        min: u32,
        max: u32,
        drop: f64,
    },
}

impl Plan {
    /// The plan for `case`, which has a baseline to compare with or not.
    fn of(case: &Case, baseline: Option<&RunBaseline>) -> Plan {
        let adaptive_drop = baseline.map_or(1.0, |b| b.policy.adaptive_drop());
        match (case.sampling, baseline.is_some()) {
            (Sampling::Fixed, _) => {
                let group = case.sequential.unwrap_or(case.samples).max(1);
                let mut steps: Vec<u32> = (1..)
                    .map(|k| k * group)
                    .take_while(|s| *s < case.samples)
                    .collect();
                steps.push(case.samples);
                Plan::Fixed {
                    n: case.samples,
                    steps,
                    curtailed: case.sequential.is_some(),
                }
            }
            (Sampling::Adaptive { min }, true) => Plan::looks(min, case.samples, adaptive_drop),
            // Nothing to compare with: the case's own rule decides, on as many samples as
            // it may take — stopping once its verdict is settled whatever the rest say.
            (Sampling::Adaptive { min }, false) => Plan::Fixed {
                n: case.samples,
                steps: LookDesign::adaptive(min, case.samples).looks().to_vec(),
                curtailed: true,
            },
            // Built to see a case that stops passing, whatever `drop` says: one sample as
            // long as the samples pass where the baseline does.
            (Sampling::Default, true) => Plan::looks(1, DEFAULT_ESCALATION, 1.0),
            (Sampling::Default, false) => Plan::Fixed {
                n: 1,
                steps: vec![1],
                curtailed: false,
            },
        }
    }

    fn looks(min: u32, max: u32, drop: f64) -> Plan {
        Plan::Looks {
            design: LookDesign::adaptive(min, max),
            min,
            max,
            drop,
        }
    }

    /// The sample counts after which the case is looked at.
    fn steps(&self) -> Vec<u32> {
        match self {
            Plan::Fixed { steps, .. } => steps.clone(),
            Plan::Looks { design, .. } => design.looks().to_vec(),
        }
    }

    /// The most samples the plan takes.
    fn max(&self) -> u32 {
        match self {
            Plan::Fixed { n, .. } => *n,
            Plan::Looks { max, .. } => *max,
        }
    }

    /// The drop the samples are compared about.
    fn drop(&self, baseline: Option<&RunBaseline>) -> f64 {
        match self {
            Plan::Looks { drop, .. } => *drop,
            Plan::Fixed { .. } => baseline.map_or(1.0, |b| b.policy.fixed_drop()),
        }
    }

    fn design(&self) -> SampleDesign {
        match self {
            Plan::Fixed { n, .. } => SampleDesign::Fixed { planned: *n },
            Plan::Looks { min, max, .. } => SampleDesign::Looks {
                min: *min,
                max: *max,
            },
        }
    }
}

pub(super) async fn run_case(shared: Arc<Shared>, case: Arc<Case>) -> CaseOutcome {
    let started_at = jiff::Timestamp::now();
    let clock = Instant::now();
    let baseline = shared.baseline.as_deref();
    let evidence = baseline.and_then(|b| b.evidence(&case.id));
    let plan = Plan::of(&case, baseline.filter(|_| evidence.is_some()));
    let against = Against {
        evidence,
        threshold: baseline.map_or(0.0, RunBaseline::threshold),
        drop: plan.drop(baseline),
    };
    let Some(taken) = take_samples(&shared, &case, &plan, &against).await else {
        return CaseOutcome::INTERRUPTED;
    };
    let record = case_record(&shared, &case, &plan, &against, taken, started_at, clock);
    shared
        .recorder
        .append(&Record::Case(Box::new(record.clone())));
    CaseOutcome {
        record: Some(record),
    }
}

/// What a case's sampling is compared with: the baseline's evidence for it, the run's
/// per-case significance threshold, and the drop that counts as a regression.
#[derive(Clone, Copy)]
struct Against {
    evidence: Option<Evidence>,
    threshold: f64,
    drop: f64,
}

/// What a case's samples came to.
struct Taken {
    records: Vec<SampleRecord>,
    /// Whether each sample passed, in order.
    outcomes: Vec<bool>,
    tally: Tally,
    /// The verdict every completion of the samples would give, when sampling stopped early
    /// on it.
    settled: Option<Verdict>,
    /// Why sampling stopped before the plan's last step, if it did.
    stopped: Option<Stop>,
}

/// Takes the case's samples step by step as `plan` says, stopping early when the verdict
/// or the comparison is settled, the run's budget is spent or a sample errs. `None` when
/// the run was interrupted: the case has no result.
async fn take_samples(
    shared: &Arc<Shared>,
    case: &Arc<Case>,
    plan: &Plan,
    against: &Against,
) -> Option<Taken> {
    let Against {
        evidence,
        threshold,
        drop,
    } = *against;
    let mut stopped = None;
    let mut records: Vec<SampleRecord> = Vec::with_capacity(plan.max().min(64) as usize);
    let mut outcomes: Vec<bool> = Vec::with_capacity(records.capacity());
    let mut tally = Tally::default();
    let mut settled = None;
    for step in plan.steps() {
        if shared.interrupt.requested() {
            return None;
        }
        let first = records.len() as u32;
        if let Plan::Looks { .. } = plan {
            // The run's budget bounds what adaptive sampling adds beyond the first look.
            if !shared.spend_budget(step - first, first == 0) {
                stopped = Some(Stop::Budget);
                break;
            }
        }
        let samples: Vec<JoinHandle<Option<SampleRecord>>> = (first..step)
            .map(|index| tokio::spawn(run_sample(Arc::clone(shared), Arc::clone(case), index)))
            .collect();
        for (index, handle) in (first..).zip(samples) {
            let record = match handle.await {
                Ok(Some(record)) => record,
                // Interrupted before it started: the case has no result.
                Ok(None) => return None,
                Err(e) => errored_sample(
                    shared,
                    case,
                    index,
                    format!("internal error: sample task failed: {e}"),
                ),
            };
            tally.add(record.verdict);
            outcomes.push(record.verdict == SampleVerdict::Pass);
            records.push(record);
        }
        if tally.errors > 0 {
            // An error is never a pass, and the case is `error` whatever comes next.
            if step < plan.max() {
                stopped = Some(Stop::Settled);
            }
            break;
        }
        if step == plan.max() {
            break;
        }
        match (plan, evidence) {
            (Plan::Looks { design, .. }, Some(evidence)) => {
                if design.p_value(evidence, &outcomes) <= threshold {
                    stopped = Some(Stop::Regression);
                    break;
                }
                if design.agrees(evidence, tally.passes, step, drop) {
                    stopped = Some(Stop::Agreed);
                    break;
                }
            }
            (
                Plan::Fixed {
                    n, curtailed: true, ..
                },
                evidence,
            ) => {
                let verdict = settled_verdict(case.rule, tally, *n);
                let compared = evidence.is_none_or(|e| {
                    comparison_settled(e, &outcomes, *n, threshold, shared.alpha())
                });
                if verdict.is_some() && compared {
                    settled = verdict;
                    stopped = Some(Stop::Settled);
                    break;
                }
            }
            _ => {}
        }
    }
    Some(Taken {
        records,
        outcomes,
        tally,
        settled,
        stopped,
    })
}

/// The case's record: its verdict from the samples taken, the comparison with the
/// baseline, and the message a failure shows (secrets redacted).
fn case_record(
    shared: &Shared,
    case: &Case,
    plan: &Plan,
    against: &Against,
    taken: Taken,
    started_at: jiff::Timestamp,
    clock: Instant,
) -> CaseRecord {
    let Against {
        evidence,
        threshold,
        drop,
    } = *against;
    let Taken {
        records,
        outcomes,
        tally,
        settled,
        stopped,
    } = taken;
    let (decided, interval) = decide(case.rule, tally);
    // Stopped early: the verdict is the one every completion of the samples would give
    // (`decide` on the samples taken alone could differ for a rate rule).
    let verdict = settled.unwrap_or(decided);
    let compared = evidence.filter(|_| tally.errors == 0).map(|evidence| {
        let test = test_case(evidence, plan.design(), &outcomes, drop, threshold);
        judgement(evidence, test, threshold, shared.judge())
    });
    let failed = fails_test(verdict, compared.as_ref(), shared.inconclusive);
    let samples_to_decide = (verdict == Verdict::Inconclusive)
        .then(|| samples_to_decide(case.rule, tally))
        .flatten();
    let message = message::explain(
        case,
        &message::Outcome {
            verdict,
            tally,
            interval,
            judgement: compared.as_ref(),
            failed,
            samples_to_decide,
        },
        &records,
    )
    .map(|message| shared.secrets.redact(&message).into_owned());
    let (samples_planned, looks) = match plan {
        Plan::Fixed { n, .. } => ((tally.samples() < *n).then_some(*n), None),
        Plan::Looks { min, max, .. } => (None, Some([*min, *max])),
    };
    CaseRecord {
        schema: SCHEMA_VERSION,
        run_id: shared.run_id.clone(),
        case: case.id.clone(),
        file: case.file.display().to_string(),
        line: case.line,
        classname: case.classname.clone(),
        description: case.description.clone(),
        tags: case.tags.clone(),
        verdict,
        failed,
        samples: tally.samples(),
        passes: tally.passes,
        failures: tally.failures,
        errors: tally.errors,
        rule: case.rule.to_string(),
        interval: [interval.0, interval.1],
        duration_ms: millis(clock.elapsed()),
        message,
        reviewed: case.reviewed,
        rubric: case.rubric.clone(),
        pins: case.pins.clone(),
        source: case.source.clone(),
        expects: case.expected_branches(),
        started_at,
        finished_at: jiff::Timestamp::now(),
        samples_planned,
        looks,
        stopped,
        comparison: compared,
        samples_to_decide,
        pid: Some(std::process::id()),
    }
}
