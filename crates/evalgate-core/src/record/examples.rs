//! Records for tests and benches: every field set to a plausible value of this schema, so a
//! test writes only what it is about (`SampleRecord { verdict: Fail,
//! ..SampleRecord::example("r1", "refunds/a", 0) }`) and a field added to a record is added
//! here once, not in every test that builds one.
//!
//! The example run starts at 2026-11-28T00:00:00Z; a case's samples all start then and take
//! 120 ms (concurrently, as a run takes them), so the case's record, from its start to
//! 120 ms later, holds them however many there are. Every sample passes one `contains`
//! check.

use std::collections::BTreeMap;

use super::{CaseRecord, CheckResult, RunData, RunRecord, SCHEMA_VERSION, SampleRecord};
use crate::observation::Usage;
use crate::verdict::{SampleVerdict, Verdict};

/// When the example run starts: 2026-11-28T00:00:00Z.
pub const STARTED: jiff::Timestamp = jiff::Timestamp::constant(1_795_824_000, 0);

/// [`STARTED`] plus `millis` milliseconds.
pub fn at(millis: i64) -> jiff::Timestamp {
    STARTED
        .checked_add(jiff::SignedDuration::from_millis(millis))
        .expect("within jiff's range")
}

impl RunRecord {
    /// The record of a process of run `run_id` of the suite `support` over http, started at
    /// [`STARTED`], with no envelope, pins or provenance.
    pub fn example(run_id: &str) -> RunRecord {
        RunRecord {
            schema: SCHEMA_VERSION,
            run_id: run_id.to_string(),
            suite: "support".to_string(),
            target: "http".to_string(),
            evalgate_version: env!("CARGO_PKG_VERSION").to_string(),
            pid: 4242,
            started_at: STARTED,
            concurrency: 4,
            envelope: BTreeMap::new(),
            pins: BTreeMap::new(),
            branch: None,
            commit: None,
            commit_exact: false,
            suite_tier: None,
            axes: BTreeMap::new(),
            planned: None,
        }
    }
}

impl SampleRecord {
    /// Sample `sample` of case `case` in run `run_id`: it passed its one check, answered
    /// `ok` in 120 ms from [`STARTED`] with 100 tokens in and 20 out, and reached no
    /// decision.
    pub fn example(run_id: &str, case: &str, sample: u32) -> SampleRecord {
        SampleRecord {
            schema: SCHEMA_VERSION,
            run_id: run_id.to_string(),
            case: case.to_string(),
            file: format!("evals/cases/{case}.yaml"),
            sample,
            verdict: SampleVerdict::Pass,
            checks: vec![CheckResult {
                expectation: "contains".to_string(),
                line: 4,
                column: 5,
                passed: true,
                expected: "output containing \"ok\"".to_string(),
                actual: "output \"ok\"".to_string(),
            }],
            output: "ok".to_string(),
            output_bytes: 2,
            output_truncated: false,
            decisions: Vec::new(),
            latency_ms: 120.0,
            usage: Some(Usage {
                input_tokens: 100,
                output_tokens: 20,
            }),
            tier: None,
            model: None,
            finish_reason: Some("stop".to_string()),
            refusal: None,
            envelope: BTreeMap::new(),
            attempts: 1,
            retries: Vec::new(),
            error: None,
            warnings: Vec::new(),
            started_at: STARTED,
            finished_at: at(120),
            customer: None,
            forced_tier: None,
            condition: None,
            ttft_ms: None,
            memory: Vec::new(),
        }
    }
}

impl CaseRecord {
    /// Case `case` of run `run_id`, passed on its one sample under the rule `all`.
    pub fn example(run_id: &str, case: &str) -> CaseRecord {
        CaseRecord {
            schema: SCHEMA_VERSION,
            run_id: run_id.to_string(),
            case: case.to_string(),
            file: format!("evals/cases/{case}.yaml"),
            line: 1,
            classname: "evals".to_string(),
            description: None,
            tags: Vec::new(),
            verdict: Verdict::Pass,
            failed: false,
            samples: 1,
            passes: 1,
            failures: 0,
            errors: 0,
            rule: "all".to_string(),
            interval: [0.207, 1.0],
            duration_ms: 120.0,
            message: None,
            reviewed: None,
            rubric: None,
            pins: BTreeMap::new(),
            source: None,
            expects: Vec::new(),
            started_at: STARTED,
            finished_at: at(120),
            samples_planned: None,
            looks: None,
            stopped: None,
            comparison: None,
            samples_to_decide: None,
            pid: Some(4242),
        }
    }
}

impl RunData {
    /// Run `run_id`: one process, and each of `cases` passed on `samples` samples (each
    /// case's record counting them).
    pub fn example(run_id: &str, cases: &[&str], samples: u32) -> RunData {
        RunData {
            runs: vec![RunRecord::example(run_id)],
            samples: cases
                .iter()
                .flat_map(|case| (0..samples).map(move |i| SampleRecord::example(run_id, case, i)))
                .collect(),
            cases: cases
                .iter()
                .map(|case| CaseRecord {
                    samples,
                    passes: samples,
                    ..CaseRecord::example(run_id, case)
                })
                .collect(),
            ..RunData::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_records_of_this_schema_that_read_back_as_written() {
        let data = RunData::example("r1", &["refunds/a", "status/b"], 3);
        assert_eq!(data.samples.len(), 6);
        assert_eq!(data.cases[1].passes, 3);
        for record in data.records() {
            let line = serde_json::to_string(&record).unwrap();
            let back: super::super::Record = serde_json::from_str(&line).unwrap();
            assert_eq!(back, record, "{line}");
        }
        assert_eq!(at(0).to_string(), "2026-11-28T00:00:00Z");
    }
}
