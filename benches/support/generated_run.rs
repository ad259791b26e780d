//! One large run as `evalgate run` records it, for the benches: 10,000 cases × 9 samples
//! (one in 40 failing, one in 200 reporting another model), outputs of about 200 bytes,
//! 3 checks and 4 decisions each — 100,001 records.

use std::collections::BTreeMap;

use evalgate::{
    CaseRecord, CheckResult, Decision, RunData, RunRecord, SampleRecord, SampleVerdict, Usage,
    Verdict,
};

pub const CASES: usize = 10_000;
pub const PER_CASE: usize = 9;
pub const SAMPLES: usize = CASES * PER_CASE;
pub const RECORDS: u64 = (1 + SAMPLES + CASES) as u64;

/// One run as `evalgate run` records it: 9 samples per case (one in 40 failing, one in 200
/// reporting another model), outputs of about 200 bytes, 3 checks and 4 decisions each.
pub fn generate() -> RunData {
    let at = jiff::Timestamp::from_second(1_795_000_000).expect("a valid timestamp");
    let run_id = "bench-run".to_string();
    let declared: BTreeMap<String, String> = [("model", "demo-support-1"), ("prompt", "p-4f2a")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let runs = vec![RunRecord {
        suite: "bench".into(),
        target: "http://127.0.0.1:8080/v1/agent".into(),
        evalgate_version: "0.1.0".into(),
        started_at: at,
        concurrency: 8,
        envelope: declared,
        pins: [("corpus".to_string(), "tickets-2026-11".to_string())].into(),
        ..RunRecord::example(&run_id)
    }];
    let mut samples = Vec::with_capacity(SAMPLES);
    let mut cases = Vec::with_capacity(CASES);
    for case in 0..CASES {
        let id = format!("g{:02}/case-{case:05}", case / 1000);
        let mut failures = 0;
        for index in 0..PER_CASE {
            let n = case * PER_CASE + index;
            let passed = !n.is_multiple_of(40);
            failures += u32::from(!passed);
            let output = format!(
                "Order A{case:05} shipped on 2026-11-02 by express courier; tracking number \
                 1Z{n:08}. The refund of 42.50 EUR for the damaged item was approved and will \
                 arrive within 5 business days (sample {index})."
            );
            samples.push(SampleRecord {
                verdict: if passed {
                    SampleVerdict::Pass
                } else {
                    SampleVerdict::Fail
                },
                checks: vec![
                    check("contains", 6, "shipped", &output[..40], true),
                    check(
                        "branches",
                        7,
                        "route.lookup_order",
                        "route.lookup_order",
                        true,
                    ),
                    check("max_length", 8, "400", "198", passed),
                ],
                output_bytes: output.len(),
                output,
                output_truncated: false,
                decisions: [
                    "route.lookup_order",
                    "tool.get_order",
                    "tool.refund",
                    "answer.ok",
                ]
                .iter()
                .map(|d| Decision::parse(d).expect("point.branch"))
                .collect(),
                latency_ms: 120.0 + (n % 97) as f64 * 1.25,
                usage: Some(Usage {
                    input_tokens: 820 + (n % 50) as u64,
                    output_tokens: 64,
                }),
                tier: Some("primary".into()),
                model: Some(if n.is_multiple_of(200) {
                    "demo-support-2".into()
                } else {
                    "demo-support-1".into()
                }),
                refusal: Some(false),
                started_at: at,
                finished_at: at,
                ..SampleRecord::example(&run_id, &id, index as u32)
            });
        }
        let passes = PER_CASE as u32 - failures;
        cases.push(CaseRecord {
            classname: format!("evals.g{:02}", case / 1000),
            description: Some("looks up an order and refunds a damaged item".into()),
            tags: vec!["orders".into(), "refunds".into()],
            verdict: if failures == 0 {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            failed: failures > 0,
            samples: PER_CASE as u32,
            passes,
            failures,
            errors: 0,
            rule: format!("at_least {PER_CASE}"),
            interval: [0.701, 1.0],
            duration_ms: 1300.0,
            started_at: at,
            finished_at: at,
            pid: None,
            ..CaseRecord::example(&run_id, &id)
        });
    }
    RunData {
        runs,
        samples,
        cases,
        ..RunData::default()
    }
}

fn check(expectation: &str, line: u32, expected: &str, actual: &str, passed: bool) -> CheckResult {
    CheckResult {
        expectation: expectation.into(),
        line,
        column: 5,
        passed,
        expected: expected.into(),
        actual: actual.into(),
    }
}
