//! Writing a run's reports: the history step (ingest, then judge what needs history), the
//! analysis value, then every file the layout names, each written atomically.

use std::path::{Path, PathBuf};

use super::{JunitSchema, RunReport, Summary, decay, gates, junit, shown};
use crate::atomic_file::write_atomic;
use crate::coverage::lcov;
use crate::errors::Error;
use crate::history::HistoryStore;
use crate::layout::Layout;
use crate::record::{OutcomeRecord, RunData};

/// Where the reports of a run were written.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReportPaths {
    /// The JUnit XML report (`junit.xml`).
    pub junit: PathBuf,
    /// Planner coverage (`coverage.json`).
    pub coverage: PathBuf,
    /// Every gate's outcome (`gates.json`), listed when the suite declares gates or one
    /// failed (the file is written on every run, so a reader never finds an earlier run's).
    pub gates: Option<PathBuf>,
    /// Written when the suite has a branch catalog.
    pub lcov: Option<PathBuf>,
    /// Written when the suite's facts are known.
    pub decay: Option<PathBuf>,
    /// SLIs, tier mix, latency, cost (`signals.json`).
    pub signals: PathBuf,
    /// Memory divergence (`memory.json`), when any sample reported memory or probed recall.
    pub memory: Option<PathBuf>,
    /// The comparison with the baseline (`comparison.json`), when there was one.
    pub comparison: Option<PathBuf>,
    /// The history store the records were ingested into, unless history is off.
    pub history: Option<PathBuf>,
}

impl ReportPaths {
    /// Where each report is, one `evalgate: <report> <path>` line each.
    pub fn render(&self) -> String {
        let mut text = format!("evalgate: junit    {}", shown(&self.junit));
        if let Some(gates) = &self.gates {
            text.push_str(&format!("\nevalgate: gates    {}", shown(gates)));
        }
        text.push_str(&format!("\nevalgate: coverage {}", shown(&self.coverage)));
        if let Some(lcov) = &self.lcov {
            text.push_str(&format!("\nevalgate: lcov     {}", shown(lcov)));
        }
        if let Some(decay) = &self.decay {
            text.push_str(&format!("\nevalgate: decay    {}", shown(decay)));
        }
        text.push_str(&format!("\nevalgate: signals  {}", shown(&self.signals)));
        if let Some(memory) = &self.memory {
            text.push_str(&format!("\nevalgate: memory   {}", shown(memory)));
        }
        if let Some(comparison) = &self.comparison {
            text.push_str(&format!("\nevalgate: baseline {}", shown(comparison)));
        }
        if let Some(history) = &self.history {
            text.push_str(&format!("\nevalgate: history  {}", shown(history)));
        }
        text
    }
}

/// Writes `<name>.json` (pretty) under `out_dir` when there is a `value`; its path.
fn write_optional_json<T: serde::Serialize>(
    path: PathBuf,
    value: Option<&T>,
) -> Result<Option<PathBuf>, Error> {
    let Some(value) = value else {
        return Ok(None);
    };
    write_json(&path, value)?;
    Ok(Some(path))
}

/// `value` as pretty JSON at `path`, replacing the file atomically.
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let json = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Internal(format!("serializing {} failed: {e}", path.display())))?;
    write_atomic(path, &json)
}

/// Replaces the reports under `out_dir` (JUnit, coverage) with ones saying run `run_id` has
/// not written its reports yet: the run's own reports overwrite them when it ends, and a run
/// that never gets there leaves a failing report, not the previous run's.
pub(crate) fn write_in_progress(out_dir: &Path, suite: &str, run_id: &str) -> Result<(), Error> {
    let why = format!(
        "run {run_id} has not written its reports: it is running, or it was killed before \
         its end (its records are in runs/{run_id}; `evalgate report` reports what finished)"
    );
    let layout = Layout::new(out_dir);
    std::fs::create_dir_all(out_dir).map_err(|e| Error::write(out_dir, e))?;
    // Nothing on its testcase that junit-10 rejects: valid whatever the suite's schema.
    let xml = junit::to_xml(junit::in_progress(suite, &why), JunitSchema::Junit10);
    write_atomic(&layout.junit(), xml.as_bytes())?;
    let incomplete = serde_json::json!({"incomplete": {"why": why}});
    write_json(&layout.gates(), &incomplete)?;
    write_json(&layout.coverage(), &incomplete)
}

/// Ingests `data` into the history store, then writes every report for it under `out_dir`.
pub fn write_reports(data: &RunData, out_dir: &Path) -> Result<(RunReport, ReportPaths), Error> {
    let summary = Summary::new(data);
    let judged = decay::ingest_and_judge(data, &summary, out_dir)?;
    let (report, baseline_problem) = RunReport::of(
        data,
        summary,
        judged.decay,
        judged.baseline,
        judged.reruns,
        judged.memory,
        judged.attempts,
    );
    let outcome_problem = match judged.store {
        Some(mut store) => record_outcomes(&mut store, data, &report).err(),
        None => None,
    };
    let paths = write_files(data, &report, out_dir, judged.history)?;
    if let Some(problem) = baseline_problem.or(judged.problem).or(outcome_problem) {
        return Err(problem);
    }
    Ok((report, paths))
}

/// How the run ended, for the attempts of its commit that may follow: one outcome for each
/// run id (merged shards of one run may carry several), in one transaction (16 shards are
/// not 16 commits).
fn record_outcomes(
    store: &mut HistoryStore,
    data: &RunData,
    report: &RunReport,
) -> Result<(), Error> {
    let mut ids: Vec<(&str, &str)> = data
        .runs
        .iter()
        .map(|r| (r.run_id.as_str(), r.suite.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup_by_key(|(id, _)| *id);
    let failed_cases: Vec<String> = report
        .summary
        .cases
        .iter()
        .filter(|c| c.failed)
        .map(|c| c.case.clone())
        .collect();
    let failed_gates: Vec<String> = report
        .gates
        .iter()
        .filter(|g| g.fails_run())
        .map(|g| g.name.clone())
        .collect();
    let reported_at = jiff::Timestamp::now();
    let outcomes: Vec<OutcomeRecord> = ids
        .into_iter()
        .map(|(run_id, suite)| OutcomeRecord {
            schema: crate::record::SCHEMA_VERSION,
            run_id: run_id.to_string(),
            suite: suite.to_string(),
            red: report.has_failed(),
            failed_cases: failed_cases.clone(),
            failed_gates: failed_gates.clone(),
            incomplete: !report.summary.completion.is_complete(),
            reported_at,
        })
        .collect();
    // One transaction for them all: 16 shards are not 16 commits.
    store.ingest(&RunData {
        outcomes,
        ..RunData::default()
    })?;
    Ok(())
}

/// Writes the report files of `report` under `out_dir`: JUnit, gates, coverage, LCOV,
/// signals, and decay, memory and the comparison when the run has them.
fn write_files(
    data: &RunData,
    report: &RunReport,
    out_dir: &Path,
    history: Option<PathBuf>,
) -> Result<ReportPaths, Error> {
    let layout = Layout::new(out_dir);
    std::fs::create_dir_all(out_dir).map_err(|e| Error::write(out_dir, e))?;
    let junit = layout.junit();
    let schema = data.policy.as_ref().map(|p| p.junit).unwrap_or_default();
    let xml = junit::to_xml(junit::junit_report(data, report), schema);
    write_atomic(&junit, xml.as_bytes())?;
    let incomplete = report.summary.completion.describe().map(|why| {
        serde_json::json!({
            "why": why,
            "completion": report.summary.completion,
        })
    });
    let gates = layout.gates();
    // Listed as the gate table is shown: when the suite declares gates or one failed.
    let gated = report
        .gates
        .iter()
        .any(|g| g.declared || g.outcome == gates::GateOutcome::Failed);
    write_json(
        &gates,
        &serde_json::json!({
            "failed": report.gate_failed(),
            "gates": report.gates,
            "partial": report.partial,
            "incomplete": incomplete,
        }),
    )?;
    // The gates stay in coverage.json too, where readers of earlier versions find them.
    let coverage = layout.coverage();
    write_json(
        &coverage,
        &serde_json::json!({
            "coverage": report.coverage,
            "gates": report.gates,
            "partial": report.partial,
            "incomplete": incomplete,
        }),
    )?;
    let suite = data
        .runs
        .first()
        .map(|r| r.suite.as_str())
        .unwrap_or("evals");
    let lcov_path = match lcov(&report.coverage, suite) {
        Some(text) => {
            let path = layout.lcov();
            write_atomic(&path, text.as_bytes())?;
            Some(path)
        }
        None => None,
    };
    let signals_path = layout.signals();
    // Compact: it holds the cost of every case and customer.
    let json = serde_json::to_vec(&report.signals)
        .map_err(|e| Error::Internal(format!("serializing signals failed: {e}")))?;
    write_atomic(&signals_path, &json)?;
    let decay_path = write_optional_json(layout.decay(), report.decay.as_ref())?;
    let memory_path = write_optional_json(layout.memory(), report.memory.as_ref())?;
    let comparison_path = write_optional_json(layout.comparison(), report.baseline.as_ref())?;
    Ok(ReportPaths {
        junit,
        coverage,
        gates: gated.then_some(gates),
        lcov: lcov_path,
        decay: decay_path,
        signals: signals_path,
        memory: memory_path,
        comparison: comparison_path,
        history,
    })
}
