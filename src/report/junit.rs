//! JUnit XML for every CI: one testcase per case, with the YAML `file` and `line`, the
//! folder as classname, the verdict's reason as the failure, and the numbers as properties.
//! Agent output is untrusted: it goes through [`xml_safe`] and the XML writer's escaping,
//! so the file is well-formed whatever the agent printed.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::RunReport;
use super::gates::{GateOutcome, GateResult};
use super::junit_decay::decay_suite;
use super::xml_text::xml_safe;
use crate::baseline::{CaseChange, Change};
use crate::gate::GateLevel;
use crate::record::{CaseRecord, RunData, SampleRecord};
use crate::run::truncate;
use crate::verdict::{SampleVerdict, Verdict};

/// How much of each failing sample's output goes into `system-out`.
const OUTPUT_BYTES: usize = 4096;

/// The JUnit a run leaves while it runs, in place of the last run's: one failing test
/// saying the reports were not written. A run that dies before its reports (SIGKILL, out
/// of memory, a second Ctrl-C) never leaves an earlier run's green behind.
pub(crate) fn in_progress(suite: &str, why: &str) -> Report {
    let mut report = Report::new("evalgate");
    let mut test_suite = TestSuite::new(xml_safe(suite));
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_type("incomplete");
    status.set_message(xml_safe(why));
    let mut case = TestCase::new("run incomplete", status);
    case.set_classname("evals");
    test_suite.add_test_case(case);
    test_suite.add_property(Property::new("evalgate.incomplete", "true"));
    report.add_test_suite(test_suite);
    report
}

pub fn junit_report(data: &RunData, run_report: &RunReport) -> Report {
    let summary = &run_report.summary;
    let name = data
        .runs
        .first()
        .map(|r| r.suite.clone())
        .unwrap_or_else(|| "evals".into());
    let mut report = Report::new("evalgate");
    let mut suite = TestSuite::new(xml_safe(&name));
    let mut samples_of: HashMap<(&str, &str), Vec<&SampleRecord>> = HashMap::new();
    for sample in &data.samples {
        samples_of
            .entry((sample.case.as_str(), sample.run_id.as_str()))
            .or_default()
            .push(sample);
    }
    let changes: HashMap<&str, &CaseChange> = run_report
        .baseline
        .iter()
        .flat_map(|b| &b.cases)
        .map(|c| (c.case.as_str(), c))
        .collect();
    for case in &summary.cases {
        let samples = samples_of
            .get(&(case.case.as_str(), case.run_id.as_str()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        suite.add_test_case(test_case(
            case,
            samples,
            changes.get(case.case.as_str()).copied(),
        ));
    }
    // An incomplete run is never green: every case without a result fails, and so does
    // the run itself when it was cut short after its last case.
    if let Some(why) = summary.completion.describe() {
        suite.add_property(Property::new("evalgate.incomplete", "true"));
        let mut missing: Vec<&str> = summary
            .completion
            .missing
            .iter()
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            missing.push("run incomplete");
        }
        for id in missing {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_type("incomplete");
            status.set_message(xml_safe(&format!("no result: {why}")));
            let mut tc = TestCase::new(xml_safe(id), status);
            tc.set_classname("evals");
            suite.add_test_case(tc);
        }
    }
    if let Ok(Some(attempts)) = &run_report.attempts {
        // A green run after red attempts of the same commit and envelope: rerun to green.
        suite.add_property(Property::new(
            "evalgate.attempt",
            (attempts.earlier.len() + 1).to_string(),
        ));
        suite.add_property(Property::new(
            "evalgate.red_attempts_before",
            attempts.red_before().to_string(),
        ));
        if !run_report.has_failed() && attempts.red_before() > 0 {
            suite.add_property(Property::new(
                "evalgate.reruns_to_green",
                attempts.red_before().to_string(),
            ));
        }
    }
    if let Some(run) = data.runs.iter().min_by_key(|r| r.started_at) {
        suite.add_property(Property::new("run_id", xml_safe(&run.run_id)));
        suite.add_property(Property::new("target", xml_safe(&run.target)));
        for (key, value) in &run.envelope {
            suite.add_property(Property::new(
                format!("envelope.{}", xml_safe(key)),
                xml_safe(value),
            ));
        }
    }
    // Wall time from the first case's start to the last case's end (shards included).
    let start = summary.cases.iter().map(|c| c.started_at).min();
    let end = summary.cases.iter().map(|c| c.finished_at).max();
    if let (Some(start), Some(end)) = (start, end) {
        let secs = (end.as_nanosecond() - start.as_nanosecond()).max(0) as f64 / 1e9;
        suite.set_time(Duration::from_secs_f64(secs));
        report.set_time(Duration::from_secs_f64(secs));
    }
    report.add_test_suite(suite);
    if let Some(coverage) = coverage_suite(run_report) {
        report.add_test_suite(coverage);
    }
    if let Some(decay) = &run_report.decay {
        report.add_test_suite(decay_suite(decay));
    }
    if !run_report.gates.is_empty() {
        report.add_test_suite(gates_suite(run_report));
    }
    report
}

/// `evalgate.coverage`: one testcase per decision point. A point fails only when a failing
/// `fail` gate blames it; otherwise what is uncovered is in its output (a `warn` gate must
/// not turn a CI test report red).
fn coverage_suite(report: &RunReport) -> Option<TestSuite> {
    let coverage = &report.coverage;
    let catalog = coverage.catalog.as_ref()?;
    let mut suite = TestSuite::new("evalgate.coverage");
    for point in &coverage.points {
        let blamed: Vec<&GateResult> = report
            .gates
            .iter()
            .filter(|g| g.fails_run() && g.points.contains(&point.name))
            .collect();
        let status = if blamed.is_empty() {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_type("coverage");
            status.set_message(xml_safe(&point.uncovered_text()));
            let gates: Vec<String> = blamed
                .iter()
                .map(|g| format!("gate {} {} failed", g.name, g.threshold))
                .collect();
            status.set_description(xml_safe(&format!(
                "{}\n{}",
                point.uncovered_text(),
                gates.join("\n")
            )));
            status
        };
        let mut tc = TestCase::new(xml_safe(&point.name), status);
        tc.set_classname("evalgate.coverage");
        tc.extra.insert("file".into(), xml_safe(catalog).into());
        if let Some(line) = point.line {
            tc.extra.insert("line".into(), line.to_string().into());
        }
        tc.add_property(Property::new("covered", point.covered.to_string()));
        tc.add_property(Property::new("branches", point.total.to_string()));
        tc.add_property(Property::new("samples", point.samples.to_string()));
        let mut out = String::new();
        for branch in &point.branches {
            out.push_str(&format!(
                "{} [{}] {} samples, cases: {}\n",
                branch.decision,
                branch.risk.map(|r| r.to_string()).unwrap_or_default(),
                branch.samples,
                if branch.cases.is_empty() {
                    "none".to_string()
                } else {
                    branch.cases.join(", ")
                }
            ));
        }
        tc.set_system_out(xml_safe(&out));
        suite.add_test_case(tc);
    }
    Some(suite)
}

/// `evalgate.gates`: one testcase per gate; a failing `warn` gate passes with its warning
/// in the output.
fn gates_suite(report: &RunReport) -> TestSuite {
    let mut suite = TestSuite::new("evalgate.gates");
    for gate in &report.gates {
        let value = gate
            .value
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into());
        let headline = format!(
            "{}: {} (value {value}, required {})",
            gate.name,
            gate.status(),
            gate.threshold
        );
        let status = match (gate.outcome, gate.level) {
            (GateOutcome::Failed, GateLevel::Fail) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_type("gate");
                status.set_message(xml_safe(&headline));
                status.set_description(xml_safe(&gate.details.join("\n")));
                status
            }
            (GateOutcome::Skipped, _) => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(xml_safe(&gate.details.join("; ")));
                status
            }
            _ => TestCaseStatus::success(),
        };
        let mut tc = TestCase::new(xml_safe(&gate.name), status);
        tc.set_classname("evalgate.gates");
        tc.add_property(Property::new("metric", xml_safe(&gate.metric)));
        tc.add_property(Property::new("level", gate.level.to_string()));
        tc.add_property(Property::new("threshold", xml_safe(&gate.threshold)));
        tc.add_property(Property::new("value", value));
        if gate.outcome != GateOutcome::Skipped {
            tc.set_system_out(xml_safe(&format!(
                "{headline}\n{}",
                gate.details.join("\n")
            )));
        }
        suite.add_test_case(tc);
    }
    suite
}

/// One case's testcase: a failure when its test failed, or when the comparison over the
/// whole run called it a regression (which a case's own test, alone, can miss).
fn test_case(
    case: &CaseRecord,
    samples: &[&SampleRecord],
    change: Option<&CaseChange>,
) -> TestCase {
    let regression = change.is_some_and(|c| c.change == Change::Regression);
    let status = if !case.failed && !regression {
        TestCaseStatus::success()
    } else {
        let verdict = case.verdict;
        let kind = if verdict == Verdict::Error {
            NonSuccessKind::Error
        } else {
            NonSuccessKind::Failure
        };
        let mut status = TestCaseStatus::non_success(kind);
        status.set_type(if regression {
            "regression"
        } else {
            verdict.as_str()
        });
        let mut message = case.message.clone().unwrap_or_else(|| verdict.to_string());
        if let Some(c) = change.filter(|_| regression && !case.failed) {
            message = format!("{}\n{message}", regression_words(c));
        }
        status.set_message(xml_safe(message.lines().next().unwrap_or_default()));
        status.set_description(xml_safe(&message));
        status
    };
    let mut tc = TestCase::new(xml_safe(&case.case), status);
    tc.set_classname(xml_safe(&case.classname));
    tc.set_time(Duration::from_secs_f64(case.duration_ms.max(0.0) / 1000.0));
    tc.extra.insert("file".into(), xml_safe(&case.file).into());
    // Where a reader of `file`/`line` should look: the first failing expectation, else the
    // case's first key.
    let line = samples
        .iter()
        .flat_map(|s| s.checks.iter().filter(|c| !c.passed).map(|c| c.line))
        .min()
        .unwrap_or(case.line);
    tc.extra.insert("line".into(), line.to_string().into());
    let mut props = vec![
        ("verdict", case.verdict.as_str().to_string()),
        ("samples", case.samples.to_string()),
        ("passes", case.passes.to_string()),
        ("errors", case.errors.to_string()),
        ("rule", case.rule.clone()),
        (
            "pass_rate_ci95",
            format!("[{:.3}, {:.3}]", case.interval[0], case.interval[1]),
        ),
    ];
    let mut latencies: Vec<f64> = samples.iter().map(|s| s.latency_ms).collect();
    latencies.sort_by(f64::total_cmp);
    if let Some(max) = latencies.last() {
        props.push(("latency_max_ms", format!("{max:.1}")));
    }
    let tokens: u64 = samples
        .iter()
        .filter_map(|s| s.usage)
        .map(|u| u.total())
        .sum();
    props.push(("tokens", tokens.to_string()));
    let retries: usize = samples.iter().map(|s| s.retries.len()).sum();
    props.push(("retries", retries.to_string()));
    for (name, values) in [
        (
            "model",
            distinct(samples.iter().filter_map(|s| s.model.as_deref())),
        ),
        (
            "tier",
            distinct(samples.iter().filter_map(|s| s.tier.as_deref())),
        ),
    ] {
        if !values.is_empty() {
            props.push((name, values));
        }
    }
    if let Some(c) = change {
        props.push(("baseline.change", c.change.to_string()));
        if let Some((passes, answered)) = c.baseline {
            props.push(("baseline.samples", format!("{passes}/{answered}")));
        }
        if let Some(p) = c.p_value {
            props.push(("baseline.p_value", format!("{p:.6}")));
        }
        if let Some(p) = c.adjusted_p {
            props.push(("baseline.adjusted_p", format!("{p:.6}")));
        }
    }
    if let Some(n) = case.samples_to_decide {
        props.push(("samples_to_decide", n.to_string()));
    }
    for (name, value) in props {
        tc.add_property(Property::new(name, xml_safe(&value)));
    }
    let envelope: BTreeSet<(&String, &String)> =
        samples.iter().flat_map(|s| s.envelope.iter()).collect();
    for (key, value) in envelope {
        tc.add_property(Property::new(
            format!("envelope.{}", xml_safe(key)),
            xml_safe(value),
        ));
    }
    if case.failed || regression {
        let mut out = String::new();
        // In the order they were taken, whatever order they finished in.
        let mut failing: Vec<&&SampleRecord> = samples
            .iter()
            .filter(|s| s.verdict != SampleVerdict::Pass)
            .collect();
        failing.sort_by_key(|s| s.sample);
        for sample in failing.into_iter().take(3) {
            out.push_str(&format!("--- sample {} output ---\n", sample.sample));
            out.push_str(truncate(&sample.output, OUTPUT_BYTES));
            out.push('\n');
        }
        if !out.is_empty() {
            tc.set_system_out(xml_safe(&out));
        }
    }
    tc
}

/// The headline of a regression called over the whole run.
fn regression_words(c: &CaseChange) -> String {
    let counts =
        |side: Option<(u32, u32)>| side.map_or("-".to_string(), |(p, n)| format!("{p}/{n}"));
    format!(
        "regression against the baseline: {} → {} (p = {:.4}, adjusted {:.4})",
        counts(c.baseline),
        counts(c.current),
        c.p_value.unwrap_or(1.0),
        c.adjusted_p.unwrap_or(1.0)
    )
}

fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(",")
}
