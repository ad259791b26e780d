//! The analysis value of a run: its summary, coverage, gates, decay, baseline comparison,
//! signals, reruns, memory and attempts, computed from the records (and what the history
//! step found); the terminal report renders it.

use std::collections::{HashMap, HashSet};

use super::{
    Attempts, GateInputs, GateResult, Summary, attempts, baseline_text, coverage_text, decay,
    decay_text, evaluate, rerun_text,
};
use crate::baseline::{BaselineComparison, Resolved, compare};
use crate::coverage::{BranchCatalog, Coverage, CoverageBuilder};
use crate::decay::DecayReport;
use crate::errors::Error;
use crate::memory::MemoryReport;
use crate::output::{Feature, OutputPolicy, Shown, Verbosity};
use crate::record::{RerunRecord, RunData, SampleRecord};
use crate::signals::{Signals, render_text, signals_of};

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
    /// The report of `data` with `decay` judged beforehand (see
    /// [`write_reports`](super::write_reports), which also ingests the records into the
    /// history store).
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
    pub(super) fn of(
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
