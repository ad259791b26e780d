//! Running cases: every sample is an independent call of the target, bounded by the
//! suite's concurrency (a semaphore, independent of libtest's threads) and by the case's
//! timeout. Each sample and case record is appended the moment it is known.

mod batch;
pub(crate) mod interrupt;
mod message;
mod sample;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::baseline::Judge;
use crate::baseline::judge::{
    CaseJudgement, RunBaseline, SampleDesign, comparison_settled, fails_test, test_case,
};
use crate::case::{Case, DEFAULT_ESCALATION, Sampling};
use crate::check::{self, CheckResult, RefusalDetector};
use crate::observation::{Observation, Request};
use crate::proxy::{FaultProxy, ProxyOptions, stable_hash};
use crate::record::{CaseRecord, Record, Recorder, SCHEMA_VERSION, SampleRecord, Stop};
use crate::snapshot::{Action, Comparison, Mode, Snapshots};
use crate::stats::{Evidence, LookDesign};
use crate::suite::{InconclusivePolicy, LoadPolicy, Suite, TraceFiles};
use crate::target::{Attempts, Overrides, Secrets, Target, read_decisions};
use crate::verdict::{SampleVerdict, Tally, Verdict, decide, samples_to_decide, settled_verdict};

pub(crate) use batch::RunEvent;
pub(crate) use interrupt::Interrupt;
pub(crate) use sample::truncate;
use sample::*;

/// What a case means for its test: its record, or `None` when the run was interrupted
/// before the case finished (it has no result, and the run is incomplete).
#[derive(Debug, Clone)]
pub(crate) struct CaseOutcome {
    pub record: Option<CaseRecord>,
}

impl CaseOutcome {
    const INTERRUPTED: CaseOutcome = CaseOutcome { record: None };

    pub fn failed(&self) -> bool {
        self.record.as_ref().is_none_or(|r| r.failed)
    }

    /// What the test says when it fails.
    pub fn message(self) -> String {
        match self.record {
            Some(record) => record.message.unwrap_or_else(|| "failed".into()),
            None => "not finished: the run was interrupted".into(),
        }
    }
}

/// Shared by every case of a run.
pub(crate) struct Runner {
    runtime: tokio::runtime::Handle,
    inner: Arc<Shared>,
}

struct Shared {
    target: Target,
    permits: Semaphore,
    recorder: Arc<Recorder>,
    run_id: String,
    refusals: RefusalDetector,
    record_output_bytes: usize,
    inconclusive: InconclusivePolicy,
    /// Where each sample's trace file goes, when decisions come from traces.
    traces: Option<(TraceFiles, PathBuf)>,
    snapshots: Snapshots,
    /// The load conditions, the provider URL their proxies forward to (or why `${VAR}` in
    /// it could not be expanded), and each condition's proxy once a sample needed it.
    load: Option<(LoadPolicy, Result<String, String>)>,
    proxies: tokio::sync::Mutex<BTreeMap<String, FaultProxy>>,
    axes: BTreeMap<String, String>,
    /// Each case's baseline, when the suite compares with one and it could be found.
    baseline: Option<Arc<RunBaseline>>,
    /// Samples adaptive sampling may still add in this process (`budget:`), if bounded.
    budget: Option<AtomicU64>,
    /// Set by SIGINT/SIGTERM: no sample starts after it.
    interrupt: Arc<Interrupt>,
    /// Hidden from the case's message, which the test prints (the recorder hides them from
    /// the records).
    secrets: Secrets,
}

/// Where a runner's samples go: the run they belong to and how its calls are bounded.
pub(crate) struct RunSetup<'a> {
    pub suite: &'a Suite,
    pub concurrency: usize,
    pub recorder: Arc<Recorder>,
    pub run_id: String,
    pub run_dir: &'a Path,
    /// Values for `${NAME}` in the suite file (`load.upstream`).
    pub overrides: &'a Overrides,
    /// The envelope axes every request carries.
    pub axes: &'a BTreeMap<String, String>,
    /// The baseline each case is compared with while it runs, when there is one.
    pub baseline: Option<Arc<RunBaseline>>,
    /// Whether the run was told to stop.
    pub interrupt: Arc<Interrupt>,
}

impl Runner {
    pub(crate) fn new(runtime: tokio::runtime::Handle, target: Target, setup: RunSetup) -> Runner {
        let RunSetup {
            suite,
            concurrency,
            recorder,
            run_id,
            run_dir,
            overrides,
            axes,
            baseline,
            interrupt,
        } = setup;
        // What the records hide, the case's message and the snapshots hide too.
        let secrets = recorder.secrets().clone();
        Runner {
            runtime,
            inner: Arc::new(Shared {
                target,
                permits: Semaphore::new(concurrency),
                recorder,
                run_id,
                refusals: RefusalDetector::new(suite.refusal_patterns.clone()),
                record_output_bytes: suite.record_output_bytes,
                inconclusive: suite.inconclusive,
                traces: suite.traces.clone().map(|t| (t, run_dir.to_path_buf())),
                snapshots: Snapshots::new(suite, Mode::from_env(), secrets.clone()),
                load: suite.load.clone().map(|load| {
                    let upstream = overrides
                        .expand(&load.upstream)
                        .map_err(|e| format!("load.upstream {:?}: {e}", load.upstream));
                    (load, upstream)
                }),
                proxies: tokio::sync::Mutex::new(BTreeMap::new()),
                axes: axes.clone(),
                baseline,
                budget: suite.budget.map(AtomicU64::new),
                interrupt,
                secrets,
            }),
        }
    }

    /// Starts the case now; its samples wait for permits like everyone else's.
    pub(crate) fn spawn(&self, case: Arc<Case>) -> JoinHandle<CaseOutcome> {
        let shared = Arc::clone(&self.inner);
        self.runtime.spawn(run_case(shared, case))
    }

    /// Waits for a started case from a non-runtime thread, or until the grace after an
    /// interruption is over (the case is then given up).
    pub(crate) fn wait(&self, handle: JoinHandle<CaseOutcome>) -> Result<CaseOutcome, String> {
        let interrupt = Arc::clone(&self.inner.interrupt);
        self.runtime.block_on(async move {
            let abort = handle.abort_handle();
            tokio::select! {
                joined = handle => {
                    joined.map_err(|e| format!("internal error: the case task failed: {e}"))
                }
                () = interrupt.grace_over() => {
                    abort.abort();
                    Ok(CaseOutcome::INTERRUPTED)
                }
            }
        })
    }
}

impl Shared {
    /// Takes `samples` from the run's budget: always for a case's first look (it must take
    /// something), else only when that many are left.
    fn spend_budget(&self, samples: u32, first: bool) -> bool {
        let Some(budget) = &self.budget else {
            return true;
        };
        let samples = u64::from(samples);
        budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                if first {
                    Some(left.saturating_sub(samples))
                } else {
                    left.checked_sub(samples)
                }
            })
            .is_ok()
    }

    /// The run-level error rate.
    fn alpha(&self) -> f64 {
        self.baseline.as_ref().map_or(0.05, |b| b.policy.alpha)
    }

    /// How a compared case that fails its rule counts.
    fn judge(&self) -> Judge {
        self.baseline
            .as_ref()
            .map_or(Judge::default(), |b| b.policy.judge)
    }

    /// The URL of session `token` of the proxy making `condition`, the proxy started the
    /// first time a sample asks.
    async fn provider_url(&self, condition: &str, token: &str) -> Result<String, String> {
        let Some((load, upstream)) = &self.load else {
            return Err(format!(
                "the suite declares no load condition `{condition}`"
            ));
        };
        let mut proxies = self.proxies.lock().await;
        if let Some(proxy) = proxies.get(condition) {
            return Ok(proxy.session_url(token));
        }
        let upstream = upstream.as_ref().map_err(Clone::clone)?;
        let spec = load
            .conditions
            .get(condition)
            .ok_or_else(|| format!("the suite declares no load condition `{condition}`"))?;
        // A fixed seed per condition: the same faults in the same order on every run.
        let seed = stable_hash(condition);
        let options = ProxyOptions::default().with_upstream_timeout(load.timeout);
        let proxy = FaultProxy::start_with(upstream, spec.clone(), seed, options)
            .await
            .map_err(|e| format!("cannot start the proxy for load condition `{condition}`: {e}"))?;
        let url = proxy.session_url(token);
        proxies.insert(condition.to_string(), proxy);
        Ok(url)
    }

    /// How many requests session `token` of `condition`'s proxy received.
    async fn session_requests(&self, condition: &str, token: &str) -> u64 {
        let proxies = self.proxies.lock().await;
        proxies
            .get(condition)
            .map_or(0, |proxy| proxy.session_requests(token))
    }
}

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

async fn run_case(shared: Arc<Shared>, case: Arc<Case>) -> CaseOutcome {
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
    let judgement = evidence.filter(|_| tally.errors == 0).map(|evidence| {
        let test = test_case(evidence, plan.design(), &outcomes, drop, threshold);
        CaseJudgement::of(evidence, test, threshold, shared.judge())
    });
    let failed = fails_test(verdict, judgement.as_ref(), shared.inconclusive);
    let samples_to_decide = (verdict == Verdict::Inconclusive)
        .then(|| samples_to_decide(case.rule, tally))
        .flatten();
    let message = message::explain(
        case,
        &message::Outcome {
            verdict,
            tally,
            interval,
            judgement: judgement.as_ref(),
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
        comparison: judgement,
        samples_to_decide,
        pid: Some(std::process::id()),
    }
}

#[cfg(test)]
mod tests;
