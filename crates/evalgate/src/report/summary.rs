//! The run in numbers: verdict counts, samples, errors, retries, tokens, latency.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use super::coverage_text::printable;
use crate::record::{CaseRecord, Completion, RunData, Stop};
use crate::signals::nearest_rank;
use crate::verdict::{SampleVerdict, Verdict};

/// Aggregates of a run's records. Cases recorded more than once (a case rerun in the same
/// run folder) count once, by their latest record.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Every case once, by its latest record, sorted by id.
    pub cases: Vec<CaseRecord>,
    /// How many cases got each verdict.
    pub verdicts: BTreeMap<Verdict, usize>,
    /// Cases that fail their test (includes `inconclusive` under `inconclusive: fail`).
    pub failed: usize,
    /// What the run left undone: killed or interrupted processes, cases planned or begun
    /// without a result. An incomplete run is never green.
    pub completion: Completion,
    /// Sample records.
    pub samples: usize,
    /// Samples that errored.
    pub sample_errors: usize,
    /// Retries of agent calls (429, 5xx, connection), over all samples.
    pub retries: usize,
    /// Input tokens the agent reported, over all samples.
    pub input_tokens: u64,
    /// Output tokens the agent reported, over all samples.
    pub output_tokens: u64,
    /// Median latency of the samples that did not error, nearest rank; `None` without one.
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile of the same.
    pub latency_p95_ms: Option<f64>,
    /// Warnings samples recorded (a trace span missing an attribute...), as `case: warning`.
    pub warnings: Vec<String>,
    /// Sequential sampling: the cases that stopped early, and the samples they declared
    /// but did not need (the verdict was already settled).
    pub stopped_early: usize,
    /// The samples those cases declared but did not take.
    pub samples_saved: u64,
    /// The samples the cases not sampled adaptively declared in all.
    pub samples_planned: u64,
    /// Adaptive sampling (cases looked at look by look against their baseline): how many
    /// cases, the samples they took and the most they could have, and why they stopped.
    pub adaptive_cases: usize,
    /// The samples the adaptive cases took.
    pub adaptive_samples: u64,
    /// The most samples they could have taken.
    pub adaptive_max: u64,
    /// Why each adaptive case stopped, with how many stopped so (`agreed with the baseline`,
    /// `settled`, `took the most`...).
    pub adaptive_stops: BTreeMap<&'static str, usize>,
}

impl Summary {
    /// The summary of `data`'s records.
    pub fn new(data: &RunData) -> Summary {
        let mut latest: HashMap<&str, &CaseRecord> = HashMap::new();
        for case in &data.cases {
            match latest.get(case.case.as_str()) {
                Some(seen) if seen.finished_at > case.finished_at => {}
                _ => {
                    latest.insert(&case.case, case);
                }
            }
        }
        let mut cases: Vec<CaseRecord> = latest.values().map(|c| (*c).clone()).collect();
        cases.sort_by(|a, b| a.case.cmp(&b.case));
        let mut summary = Summary::default();
        for case in &cases {
            *summary.verdicts.entry(case.verdict).or_default() += 1;
            summary.failed += usize::from(case.failed);
            if let Some([_, max]) = case.looks {
                summary.adaptive_cases += 1;
                summary.adaptive_samples += u64::from(case.samples);
                summary.adaptive_max += u64::from(max);
                let why = match case.stopped {
                    Some(Stop::Agreed) => "agreed with the baseline",
                    Some(Stop::Regression) => "a regression for sure",
                    Some(Stop::Budget) => "the run's budget spent",
                    Some(Stop::Settled) => "settled",
                    None => "took the most",
                };
                *summary.adaptive_stops.entry(why).or_default() += 1;
                continue;
            }
            let planned = case.samples_planned.unwrap_or(case.samples);
            summary.samples_planned += u64::from(planned);
            if planned > case.samples {
                summary.stopped_early += 1;
                summary.samples_saved += u64::from(planned - case.samples);
            }
        }
        summary.completion = Completion::of(data);
        let mut latencies = Vec::with_capacity(data.samples.len());
        for sample in &data.samples {
            summary.samples += 1;
            summary.sample_errors += usize::from(sample.verdict == SampleVerdict::Error);
            summary.retries += sample.retries.len();
            if let Some(usage) = sample.usage {
                summary.input_tokens += usage.input_tokens;
                summary.output_tokens += usage.output_tokens;
            }
            if sample.error.is_none() {
                latencies.push(sample.latency_ms);
            }
            for warning in &sample.warnings {
                summary.warnings.push(format!(
                    "{} (sample {}): {warning}",
                    sample.case, sample.sample
                ));
            }
        }
        latencies.sort_by(f64::total_cmp);
        summary.latency_p50_ms = nearest_rank(&latencies, 0.50);
        summary.latency_p95_ms = nearest_rank(&latencies, 0.95);
        summary.cases = cases;
        summary
    }

    /// How many cases got `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.verdicts.get(&verdict).copied().unwrap_or(0)
    }

    /// Whether the run fails: a failing case, or an incomplete run.
    pub fn has_failed(&self) -> bool {
        self.failed > 0 || !self.completion.is_complete()
    }

    /// The human summary printed after libtest's lines: an incomplete run says so first.
    pub fn render(&self) -> String {
        let mut text = self.headline();
        text.push_str(&self.render_counts());
        text
    }

    /// What must come first: why the run is incomplete, and the cases without a result
    /// (empty for a complete run).
    pub fn headline(&self) -> String {
        let mut text = String::new();
        if let Some(why) = self.completion.describe() {
            let _ = writeln!(text, "evalgate: INCOMPLETE: {why}.");
            let shown = 10;
            let missing = &self.completion.missing;
            if !missing.is_empty() {
                let _ = write!(
                    text,
                    "evalgate: without a result: {}",
                    missing[..missing.len().min(shown)].join(", ")
                );
                if missing.len() > shown {
                    let _ = write!(text, " and {} more", missing.len() - shown);
                }
                text.push('\n');
            }
        }
        text
    }

    /// The line of verdicts: how many cases ended how.
    pub fn render_verdicts(&self) -> String {
        let mut text = String::new();
        let _ = write!(
            text,
            "evalgate: {} cases: {} pass, {} fail, {} inconclusive, {} error",
            self.cases.len(),
            self.count(Verdict::Pass),
            self.count(Verdict::Fail),
            self.count(Verdict::Inconclusive),
            self.count(Verdict::Error),
        );
        if !self.completion.missing.is_empty() {
            let _ = write!(text, ", {} without a result", self.completion.missing.len());
        }
        text
    }

    /// The summary without its headline.
    pub fn render_counts(&self) -> String {
        let mut text = self.render_verdicts();
        let _ = write!(
            text,
            "\nevalgate: {} samples ({} errored, {} retries) · tokens {} in / {} out",
            self.samples, self.sample_errors, self.retries, self.input_tokens, self.output_tokens
        );
        if let (Some(p50), Some(p95)) = (self.latency_p50_ms, self.latency_p95_ms) {
            let _ = write!(text, " · latency p50 {p50:.1} ms, p95 {p95:.1} ms");
        }
        if self.stopped_early > 0 {
            let _ = write!(
                text,
                "\nevalgate: sequential sampling saved {} of {} samples ({} case(s) settled early)",
                self.samples_saved, self.samples_planned, self.stopped_early
            );
        }
        if self.adaptive_cases > 0 {
            let stops: Vec<String> = self
                .adaptive_stops
                .iter()
                .map(|(why, n)| format!("{why}: {n}"))
                .collect();
            let _ = write!(
                text,
                "\nevalgate: adaptive sampling: {} case(s) took {} samples of at most {} ({:.1} per case; {})",
                self.adaptive_cases,
                self.adaptive_samples,
                self.adaptive_max,
                self.adaptive_samples as f64 / self.adaptive_cases as f64,
                stops.join(", ")
            );
        }
        for warning in self.warnings.iter().take(WARNINGS_SHOWN) {
            let _ = write!(text, "\nevalgate: warning: {}", printable(warning));
        }
        if self.warnings.len() > WARNINGS_SHOWN {
            let _ = write!(
                text,
                "\nevalgate: {} more warnings in the sample records (`warnings`)",
                self.warnings.len() - WARNINGS_SHOWN
            );
        }
        text
    }
}

/// How many sample warnings the terminal shows; the records keep them all.
const WARNINGS_SHOWN: usize = 10;
