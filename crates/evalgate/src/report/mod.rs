//! Reports, each built from run records alone: the terminal summary, JUnit XML, planner
//! coverage (JSON and LCOV) and the gate decision. The same records give the same reports
//! whether they came from `cargo test`, one nextest process per case, or several CI shards.

mod attempts;
mod baseline_text;
mod coverage_text;
mod decay;
mod decay_text;
mod gates;
pub mod github;
mod junit;
mod junit_decay;
mod junit_doc;
pub mod markdown;
mod measured;
mod rerun_text;
mod signal_gates;
mod summary;
mod xml;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use attempts::Attempts;
pub use decay::{history_path, preflight};
pub use gates::{GateInputs, GateResult, evaluate};
pub use junit::JunitSchema;
pub use summary::Summary;
pub use xml::{escape as xml_escape, xml_safe};

use crate::atomic_file::write_atomic;
use crate::baseline::{BaselineComparison, Resolved, compare};
use crate::coverage::{BranchCatalog, Coverage, CoverageBuilder, lcov};
use crate::decay::DecayReport;
use crate::errors::Error;
use crate::history::HistoryStore;
use crate::layout::Layout;
use crate::memory::MemoryReport;
use crate::output::{Feature, OutputPolicy, Shown, Verbosity};
use crate::record::{OutcomeRecord, RerunRecord, RunData, SampleRecord};
use crate::signals::{Signals, render_text, signals_of};

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

pub(crate) use crate::terminal::shown;

/// Where a reader of a failing case should look: the line of its first failing expectation
/// (the lowest any of its samples failed on), by case and run id. A case that failed without
/// a failing expectation (an error, a regression) is not in it: its own line serves.
pub(crate) fn first_failing_lines(data: &RunData) -> HashMap<(&str, &str), u32> {
    let mut lines: HashMap<(&str, &str), u32> = HashMap::new();
    for sample in &data.samples {
        if let Some(line) = first_failing_line(sample) {
            let at = lines
                .entry((sample.case.as_str(), sample.run_id.as_str()))
                .or_insert(line);
            *at = (*at).min(line);
        }
    }
    lines
}

/// The line of `sample`'s first failing expectation, if one failed.
pub(crate) fn first_failing_line(sample: &SampleRecord) -> Option<u32> {
    sample
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.line)
        .min()
}

/// Everything a run's records say: verdicts, planner coverage, and the gates' decision.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunReport {
    /// Verdict counts, samples, tokens and latency.
    pub summary: Summary,
    /// Which catalog branches the samples reached.
    pub coverage: Coverage,
    pub(crate) gates: Vec<GateResult>,
    /// Why coverage gates were not applied (a filtered run, one shard alone), if so.
    pub partial: Option<String>,
    /// Snapshot decay, when the suite's facts are known.
    pub decay: Option<DecayReport>,
    /// The comparison with the suite's baseline, when it names one that could be read.
    pub(crate) baseline: Option<BaselineComparison>,
    /// Why there is no comparison although the suite names a baseline, when that is not an
    /// error (the first run of the baseline branch).
    pub(crate) baseline_note: Option<String>,
    /// Reruns of the suite's cases recorded in history lately (newest first): listed in
    /// every report, so no case is rerolled to green unseen.
    pub(crate) reruns: Vec<RerunRecord>,
    /// Capability SLIs, tier mix, latency (per condition, per hour) and cost.
    pub signals: Signals,
    /// Memory divergence against a reference run, when any sample reported memory or
    /// probed recall.
    pub(crate) memory: Option<MemoryReport>,
    /// The run's earlier attempts (runs of the same commit and envelope, reruns of it), when
    /// there are any; why they were not looked for, when they were not.
    pub(crate) attempts: Result<Option<Attempts>, String>,
    /// The verbosity the suite asks for and the features it configures: which sections the
    /// terminal shows.
    pub(crate) output: OutputPolicy,
}

impl RunReport {
    /// The report of `data` with `decay` judged beforehand (see [`write_reports`], which
    /// also ingests the records into the history store).
    /// A baseline that cannot be read fails the `baseline.regressions` gate.
    pub fn new(data: &RunData, decay: Option<DecayReport>) -> RunReport {
        let baseline = data
            .policy
            .as_ref()
            .and_then(|p| p.baseline.as_ref())
            .map(|policy| {
                crate::baseline::resolve(policy, &decay::ThisRun::of(data).subject(), None)
            });
        let memory = data.policy.as_ref().and_then(|p| {
            crate::memory::compare(
                p.memory,
                &data.samples,
                &crate::envelope::RunEnvelope::of_run(&data.runs, &data.samples).envelope,
                &[],
                None,
                Some("no history store was read".into()),
            )
        });
        RunReport::of(
            data,
            Summary::new(data),
            decay,
            baseline,
            Vec::new(),
            memory,
            Err("no history store was read".into()),
        )
        .0
    }

    /// The report, and the error of a baseline that could not be read.
    fn of(
        data: &RunData,
        summary: Summary,
        decay: Option<DecayReport>,
        baseline: Option<Result<Resolved, Error>>,
        reruns: Vec<RerunRecord>,
        memory: Option<MemoryReport>,
        attempts: Result<Option<Attempts>, String>,
    ) -> (RunReport, Option<Error>) {
        let catalog = data.policy.as_ref().and_then(|p| p.catalog.as_ref());
        let coverage = coverage_of(data, &summary, catalog);
        let partial = partial_run(data, &summary);
        let config = data
            .policy
            .as_ref()
            .map(|p| p.signals.clone())
            .unwrap_or_default();
        let before = match &baseline {
            Some(Ok(Resolved::Found(b, _))) => b.signals.as_ref(),
            _ => None,
        };
        let signals = signals_of(data, &config, before);
        let mut baseline_note = None;
        let (baseline, problem) = match baseline {
            None => (None, None),
            Some(Ok(Resolved::FirstOfBranch(note))) => {
                baseline_note = Some(note);
                (None, None)
            }
            Some(Ok(Resolved::Found(b, source))) => (
                data.policy
                    .as_ref()
                    .and_then(|p| p.baseline.as_ref())
                    .map(|policy| {
                        compare(
                            &b,
                            source,
                            &summary.cases,
                            &data.samples,
                            policy,
                            partial.is_some() || data.runs.iter().any(|r| r.suite_tier.is_some()),
                        )
                    }),
                None,
            ),
            Some(Err(e)) => (None, Some(e)),
        };
        let gates = match &data.policy {
            Some(policy) => evaluate(
                &policy.gates,
                &GateInputs {
                    summary: &summary,
                    coverage: &coverage,
                    partial: partial.clone(),
                    suite_tier: data.runs.iter().find_map(|r| r.suite_tier.as_deref()),
                    decay: decay.as_ref(),
                    baseline: baseline.as_ref(),
                    baseline_note: baseline_note.as_deref(),
                    signals: &signals,
                    memory: memory.as_ref(),
                    attempts: attempts
                        .as_ref()
                        .map(Option::as_ref)
                        .map_err(String::as_str),
                },
            ),
            None => Vec::new(),
        };
        (
            RunReport {
                summary,
                coverage,
                gates,
                partial,
                decay,
                baseline,
                baseline_note,
                reruns,
                signals,
                memory,
                attempts,
                output: data
                    .policy
                    .as_ref()
                    .map(|p| p.output.clone())
                    .unwrap_or_default(),
            },
            problem,
        )
    }

    /// Whether the run fails: a failing or unfinished case, or a failing `fail` gate.
    pub fn has_failed(&self) -> bool {
        self.summary.has_failed() || self.gate_failed()
    }

    /// Whether a `fail` gate failed the run.
    pub fn gate_failed(&self) -> bool {
        self.gates.iter().any(GateResult::fails_run)
    }

    /// The human report printed after libtest's lines, at normal verbosity.
    pub fn render(&self) -> String {
        self.render_at(Verbosity::Normal)
    }

    /// The human report printed after libtest's lines, at `verbosity`.
    pub fn render_at(&self, verbosity: Verbosity) -> String {
        let mut text = self.summary.headline();
        text.push_str(&self.render_after_headline_at(verbosity));
        text
    }

    /// The report without the summary's headline (printed first by whoever shows it), at
    /// normal verbosity.
    pub fn render_after_headline(&self) -> String {
        self.render_after_headline_at(Verbosity::Normal)
    }

    /// The report without the summary's headline, at `verbosity`: quiet is the line of
    /// verdicts and the gates that fired; normal adds the sections of what the suite
    /// configures and whatever must not go unseen (findings that count, warnings, reruns,
    /// earlier attempts); verbose is every section.
    pub fn render_after_headline_at(&self, verbosity: Verbosity) -> String {
        let shown = Shown::new(verbosity, &self.output);
        if !shown.findings() {
            let mut text = self.summary.render_verdicts();
            coverage_text::render_gates(self, shown, &mut text);
            return text;
        }
        let mut text = self.summary.render_counts();
        coverage_text::render_coverage(&self.coverage, shown, &mut text);
        if let Some(decay) = self.decay.as_ref().filter(|d| decay_shown(d, shown)) {
            decay_text::render(decay, shown, &mut text);
        }
        if let Some(baseline) = &self.baseline {
            baseline_text::render(baseline, &mut text);
        }
        if let Some(note) = &self.baseline_note {
            text.push_str(&format!("\nevalgate: baseline: {note}"));
        }
        render_text(&self.signals, shown, &mut text);
        if let Some(memory) = &self.memory
            && (shown.feature(Feature::Memory) || !memory.changed.is_empty())
        {
            crate::memory::render(memory, &mut text);
        }
        rerun_text::render(&self.reruns, &mut text);
        if let Ok(Some(attempts)) = &self.attempts {
            attempts::render(attempts, !self.has_failed(), &mut text);
        }
        coverage_text::render_gates(self, shown, &mut text);
        text
    }
}

/// Whether a report shows the decay section: the suite configures decay, or it has what
/// must not go unseen (a finding that counts, a silent model bump).
pub(crate) fn decay_shown(decay: &DecayReport, shown: Shown<'_>) -> bool {
    shown.feature(Feature::Decay) || decay.stale_cases > 0 || !decay.envelope.model_bumps.is_empty()
}

/// The coverage of a run: every sample's decisions, and what each case (its latest record)
/// expects.
pub fn coverage_of(data: &RunData, summary: &Summary, catalog: Option<&BranchCatalog>) -> Coverage {
    let mut builder = CoverageBuilder::new(catalog);
    for sample in &data.samples {
        builder.sample(&sample.case, &sample.decisions);
    }
    for case in &summary.cases {
        builder.expects(&case.case, &case.expects);
    }
    builder.finish()
}

/// Why the recorded cases are not the whole suite, if they are not.
fn partial_run(data: &RunData, summary: &Summary) -> Option<String> {
    let policy = data.policy.as_ref()?;
    let Some(expected) = &policy.cases else {
        return Some(
            "the suite's case list is unknown (every process ran with --exact); \
             run `evalgate report` where the evals folder is"
                .into(),
        );
    };
    let ran: HashSet<&str> = summary.cases.iter().map(|c| c.case.as_str()).collect();
    let missing = expected
        .iter()
        .filter(|id| !ran.contains(id.as_str()))
        .count();
    (missing > 0).then(|| {
        format!(
            "the run covers {} of the suite's {} cases (a filter, or one shard alone)",
            expected.len() - missing,
            expected.len()
        )
    })
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
