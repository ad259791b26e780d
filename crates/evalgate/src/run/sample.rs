//! One sample: the call of the target (through the fault proxy when a load condition asks),
//! the decisions from its trace file, the checks and the snapshot, and the sample record —
//! an `error` with the reason whenever the call or what it returned cannot be judged.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::case::Case;
use crate::check::{self, CheckResult};
use crate::observation::{Observation, Request};
use crate::proxy::stable_hash;
use crate::record::{Record, SCHEMA_VERSION, SampleRecord};
use crate::snapshot::{Action, Comparison};
use crate::target::{Attempts, read_decisions};
use crate::verdict::SampleVerdict;

use super::runner::Shared;

/// Takes one sample, or none when the run was interrupted before it could start.
pub(super) async fn run_sample(
    shared: Arc<Shared>,
    case: Arc<Case>,
    index: u32,
) -> Option<SampleRecord> {
    let _permit = shared
        .permits
        .acquire()
        .await
        .expect("the semaphore is never closed");
    if shared.interrupt.requested() {
        return None;
    }
    Some(take_sample(Arc::clone(&shared), case, index).await)
}

pub(super) async fn take_sample(shared: Arc<Shared>, case: Arc<Case>, index: u32) -> SampleRecord {
    let Prepared {
        request,
        trace_file,
        session,
    } = match prepare(&shared, &case, index).await {
        Ok(prepared) => prepared,
        Err(reason) => return errored_sample(&shared, &case, index, reason),
    };
    let started_at = jiff::Timestamp::now();
    let clock = Instant::now();
    let mut attempts = Attempts::default();
    let result =
        tokio::time::timeout(case.timeout, shared.target.call(&request, &mut attempts)).await;
    let latency = clock.elapsed();
    let outcome = match result {
        Ok(Ok(observation)) => match trace_file {
            Some(path) => add_trace_decisions(observation, path).await,
            None => Ok(observation),
        },
        Ok(Err(failure)) => Err(failure.reason),
        Err(_) => Err(format!(
            "timed out after {} ({} attempt{} started)",
            crate::duration::show(case.timeout),
            attempts.count,
            if attempts.count == 1 { "" } else { "s" }
        )),
    };
    // An agent that ignored the proxy was measured under no condition at all: an error,
    // never a pass under a condition it never saw.
    let outcome = match (outcome, &session) {
        (Ok(_), Some((condition, token)))
            if shared.session_requests(condition, token).await == 0 =>
        {
            Err(format!(
                "under load condition `{condition}` the agent made no request through evalgate's \
                 fault proxy: it must call its model provider at the URL evalgate gives it \
                 ($EVALGATE_PROVIDER_URL, the variable `load.env` names, the \
                 x-evalgate-provider-url header or the request's provider_url)"
            ))
        }
        (outcome, _) => outcome,
    };
    let outcome = outcome
        .and_then(|o| memory_within_input(o, &request))
        .and_then(decision_names_accepted);
    let record = match outcome {
        Ok(observation) => {
            let mut checks = check::evaluate(&case.checks, &observation, latency, &shared.refusals);
            if case.snapshot {
                checks.push(snapshot_check(&shared, &case, &observation).await);
            }
            let verdict = if checks.iter().all(|c| c.passed) {
                SampleVerdict::Pass
            } else {
                SampleVerdict::Fail
            };
            sample_record(
                &shared,
                &case,
                index,
                verdict,
                checks,
                Some(observation),
                None,
                latency,
                attempts,
                started_at,
            )
        }
        Err(reason) => sample_record(
            &shared,
            &case,
            index,
            SampleVerdict::Error,
            Vec::new(),
            None,
            Some(reason),
            latency,
            attempts,
            started_at,
        ),
    };
    shared
        .recorder
        .append(&Record::Sample(Box::new(record.clone())));
    record
}

/// A sample's request, its trace file and its session of a load condition's proxy.
struct Prepared {
    request: Request,
    trace_file: Option<PathBuf>,
    /// The load condition and the session token the sample's calls through the fault proxy
    /// carry.
    session: Option<(String, String)>,
}

/// The request of sample `index` of `case`: the run's axes, the file its trace goes to, and
/// under a load condition its own session of the condition's proxy (faults seeded by the
/// sample, not by how concurrent samples interleave, and proof afterwards that the agent
/// really called its provider through the proxy). Why the sample cannot be taken, if so.
async fn prepare(shared: &Shared, case: &Case, index: u32) -> Result<Prepared, String> {
    let mut request = case.request(index);
    request.axes = shared.axes.clone();
    let trace_file = match &shared.traces {
        Some((files, run_dir)) => Some(prepare_trace_file(files.path(run_dir, &case.id, index))?),
        None => None,
    };
    request.trace_file = trace_file
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned());
    let session = case.condition.as_ref().map(|condition| {
        let token = stable_hash(&format!("{}#{index}", case.id));
        (condition.clone(), format!("{token:016x}"))
    });
    if let Some((condition, token)) = &session {
        request.provider_url = Some(shared.provider_url(condition, token).await?);
        request.condition = Some(condition.clone());
    }
    Ok(Prepared {
        request,
        trace_file,
        session,
    })
}

/// Compares the output with the case's snapshot, off the async workers: the comparison
/// reads and may write files, and waits for the other samples' comparisons.
pub(super) async fn snapshot_check(
    shared: &Arc<Shared>,
    case: &Arc<Case>,
    observation: &Observation,
) -> CheckResult {
    let produced = shared.snapshots.produced(observation);
    let (task_shared, task_case) = (Arc::clone(shared), Arc::clone(case));
    let compared =
        tokio::task::spawn_blocking(move || task_shared.snapshots.compare(&task_case, &produced))
            .await;
    let line = case.key_lines.get("snapshot").copied().unwrap_or(case.line);
    check::snapshot(
        &compared.unwrap_or_else(|e| Comparison {
            shown: shared.snapshots.shown_path(&case.id),
            passed: false,
            difference: None,
            action: Action::Error(format!(
                "internal error: the snapshot comparison failed: {e}"
            )),
        }),
        line,
    )
}

/// Makes the trace file's folder and removes a file left by an earlier run with the same
/// run id: decisions must come from this sample's trace, never from a stale one.
pub(super) fn prepare_trace_file(path: PathBuf) -> Result<PathBuf, String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create the trace folder {}: {e}", parent.display()))?;
    }
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(path),
        Err(e) => Err(format!(
            "cannot remove the old trace file {}: {e}",
            path.display()
        )),
    }
}

/// Appends the decisions of the sample's trace file to what the agent answered. No trace
/// file, or a broken one, is an `error` sample: coverage must not silently lose a sample.
pub(super) async fn add_trace_decisions(
    mut observation: Observation,
    path: PathBuf,
) -> Result<Observation, String> {
    let shown = path.display().to_string();
    let read = tokio::task::spawn_blocking(move || {
        if !path.exists() {
            return Err(format!(
                "the agent wrote no trace file at {} (the suite reads decisions from traces: \
                 write this sample's spans there, as OTLP JSON)",
                path.display()
            ));
        }
        read_decisions(&path)
    })
    .await
    .map_err(|e| format!("internal error: reading the trace {shown} failed: {e}"))?;
    let trace = read.map_err(|e| format!("trace: {e}"))?;
    observation.decisions.extend(trace.decisions);
    observation.warnings.extend(trace.warnings);
    Ok(observation)
}

/// A memory report must name each turn once, in order, from 1 to the input's number of
/// user messages: anything else is a broken report (compared with another run it would
/// match the wrong turns), so an error, not data. The wire format is checked as it is
/// read; this also holds for in-process agents.
pub(super) fn memory_within_input(
    observation: Observation,
    request: &Request,
) -> Result<Observation, String> {
    if observation.memory.is_empty() {
        return Ok(observation);
    }
    let turns = crate::observation::user_messages(&request.messages).len();
    let mut previous = 0;
    for entry in &observation.memory {
        if entry.turn <= previous || entry.turn as usize > turns {
            return Err(format!(
                "malformed answer: memory reports turn {} after turn {previous}; turns go up \
                 from 1 to the input's {turns} user message(s), each once",
                entry.turn
            ));
        }
        previous = entry.turn;
    }
    Ok(observation)
}

/// Decision names outside the documented charset make the answer malformed, whatever the
/// target kind: they would reach every report.
pub(super) fn decision_names_accepted(observation: Observation) -> Result<Observation, String> {
    for decision in &observation.decisions {
        decision.check_name().map_err(|why| {
            format!(
                "malformed answer: decision {} {why}; a decision name is printable text (see \
                 docs/src/coverage.md, \"Decision events\")",
                check::excerpt(&decision.to_string())
            )
        })?;
    }
    Ok(observation)
}

pub(super) fn errored_sample(
    shared: &Shared,
    case: &Case,
    index: u32,
    reason: String,
) -> SampleRecord {
    let record = sample_record(
        shared,
        case,
        index,
        SampleVerdict::Error,
        Vec::new(),
        None,
        Some(reason),
        Duration::ZERO,
        Attempts::default(),
        jiff::Timestamp::now(),
    );
    shared
        .recorder
        .append(&Record::Sample(Box::new(record.clone())));
    record
}

#[allow(clippy::too_many_arguments)]
pub(super) fn sample_record(
    shared: &Shared,
    case: &Case,
    index: u32,
    verdict: SampleVerdict,
    checks: Vec<check::CheckResult>,
    observation: Option<Observation>,
    error: Option<String>,
    latency: Duration,
    attempts: Attempts,
    started_at: jiff::Timestamp,
) -> SampleRecord {
    // The refusal SLI needs every answered sample's refusal: the agent's word, else the
    // detector's (the same rule the `refusal` expectation uses).
    let refusal = observation.as_ref().map(|o| {
        o.refusal
            .unwrap_or_else(|| shared.refusals.is_refusal(&o.output.text))
    });
    let observation = observation.unwrap_or_default();
    let text = observation.output.text;
    let output_bytes = text.len();
    // Hidden before it is cut: a secret cut in two would be matched by neither half.
    let text = crate::target::secrets::hidden(&text);
    let output = truncate(&text, shared.record_output_bytes).to_string();
    let output_truncated = output.len() < text.len();
    SampleRecord {
        schema: SCHEMA_VERSION,
        run_id: shared.run_id.clone(),
        case: case.id.clone(),
        file: case.file.display().to_string(),
        sample: index,
        verdict,
        checks,
        output_truncated,
        output,
        output_bytes,
        decisions: observation.decisions,
        latency_ms: millis(latency),
        usage: observation.usage,
        tier: observation.tier,
        model: observation.model,
        finish_reason: observation.finish_reason,
        refusal,
        envelope: observation.envelope,
        attempts: attempts.count,
        retries: attempts.retries,
        error,
        warnings: observation.warnings,
        started_at,
        finished_at: jiff::Timestamp::now(),
        customer: case.customer.clone(),
        forced_tier: case.tier.clone(),
        condition: case.condition.clone(),
        ttft_ms: observation.ttft_ms,
        memory: observation.memory,
    }
}

/// The longest prefix of `text` of at most `max` bytes, cut on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

pub(super) fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
