//! The runner of a run: the shared state every case and sample task reads (target,
//! recorder, concurrency, budget, baseline, load conditions, snapshots), and how cases
//! start and are waited for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::baseline::Judge;
use crate::baseline::judge::RunBaseline;
use crate::case::Case;
use crate::check::RefusalDetector;
use crate::proxy::{FaultProxy, ProxyOptions, stable_hash};
use crate::record::{CaseRecord, Recorder};
use crate::snapshot::{Mode, Snapshots};
use crate::suite::{InconclusivePolicy, LoadPolicy, Suite, TraceFiles};
use crate::target::{Overrides, Secrets, Target};

use super::Interrupt;
use super::case::run_case;

/// What a case means for its test: its record, or `None` when the run was interrupted
/// before the case finished (it has no result, and the run is incomplete).
#[derive(Debug, Clone)]
pub(crate) struct CaseOutcome {
    pub record: Option<CaseRecord>,
}

impl CaseOutcome {
    pub(super) const INTERRUPTED: CaseOutcome = CaseOutcome { record: None };

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
    pub(super) runtime: tokio::runtime::Handle,
    pub(super) inner: Arc<Shared>,
}

pub(super) struct Shared {
    pub(super) target: Target,
    pub(super) permits: Semaphore,
    pub(super) recorder: Arc<Recorder>,
    pub(super) run_id: String,
    pub(super) refusals: RefusalDetector,
    pub(super) record_output_bytes: usize,
    pub(super) inconclusive: InconclusivePolicy,
    /// Where each sample's trace file goes, when decisions come from traces.
    pub(super) traces: Option<(TraceFiles, PathBuf)>,
    pub(super) snapshots: Snapshots,
    /// The load conditions, the provider URL their proxies forward to (or why `${VAR}` in
    /// it could not be expanded), and each condition's proxy once a sample needed it.
    pub(super) load: Option<(LoadPolicy, Result<String, String>)>,
    pub(super) proxies: tokio::sync::Mutex<BTreeMap<String, FaultProxy>>,
    pub(super) axes: BTreeMap<String, String>,
    /// Each case's baseline, when the suite compares with one and it could be found.
    pub(super) baseline: Option<Arc<RunBaseline>>,
    /// Samples adaptive sampling may still add in this process (`budget:`), if bounded.
    pub(super) budget: Option<AtomicU64>,
    /// Set by SIGINT/SIGTERM: no sample starts after it.
    pub(super) interrupt: Arc<Interrupt>,
    /// Hidden from the case's message, which the test prints (the recorder hides them from
    /// the records).
    pub(super) secrets: Secrets,
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
    pub(super) fn spend_budget(&self, samples: u32, first: bool) -> bool {
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
    pub(super) fn alpha(&self) -> f64 {
        self.baseline.as_ref().map_or(0.05, |b| b.policy.alpha)
    }

    /// How a compared case that fails its rule counts.
    pub(super) fn judge(&self) -> Judge {
        self.baseline
            .as_ref()
            .map_or(Judge::default(), |b| b.policy.judge)
    }

    /// The URL of session `token` of the proxy making `condition`, the proxy started the
    /// first time a sample asks.
    pub(super) async fn provider_url(
        &self,
        condition: &str,
        token: &str,
    ) -> Result<String, String> {
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
    pub(super) async fn session_requests(&self, condition: &str, token: &str) -> u64 {
        let proxies = self.proxies.lock().await;
        proxies
            .get(condition)
            .map_or(0, |proxy| proxy.session_requests(token))
    }
}
