//! JUnit XML for every CI: one testcase per case, with the YAML `file` and `line`, the
//! folder as classname, the verdict's reason as the failure, and the numbers as properties.
//! Agent output is untrusted: the writer ([`super::junit_doc`]) escapes every text and
//! attribute, so the file is well-formed whatever the agent printed.
//!
//! The report is built with everything a reader could use, then fitted to the schema the
//! suite asks for ([`JunitSchema`]): by default what the Jenkins/xunit junit-10 XSD allows
//! (no `file`/`line` attributes and no `<properties>` on a testcase: they move into the
//! testcase's `system-out`, the location also into its failure's text).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use super::junit_doc::{Outcome, Property, Report, Status, TestCase, TestSuite};

use super::gates::{GateOutcome, GateResult};
use super::junit_decay::decay_suite;
use super::{RunReport, Summary};
use crate::baseline::{CaseChange, Change};
use crate::case::Status as CaseStatus;
use crate::gate::GateLevel;
use crate::record::{CaseRecord, RunData, SampleRecord};
use crate::run::truncate;
use crate::verdict::{SampleVerdict, Verdict};

/// How much of each failing sample's output goes into `system-out`.
const OUTPUT_BYTES: usize = 4096;

pub use evalgate_core::config::junit::JunitSchema;

/// `report` as the XML text `schema` allows. junit-10 has no `skipped` count on
/// `<testsuites>` (each `<testsuite>` keeps its own).
pub(crate) fn to_xml(mut report: Report, schema: JunitSchema) -> String {
    if schema == JunitSchema::Junit10 {
        for suite in &mut report.suites {
            for case in &mut suite.cases {
                fit_junit10(case);
            }
        }
    }
    super::junit_doc::write(&report, schema == JunitSchema::Extended)
}

/// Moves what junit-10 does not allow on a testcase into what it does: the location and
/// the properties become the first lines of `system-out` (`name: value`), and the location
/// heads the failure's text, where file/line readers without the attributes look for it.
fn fit_junit10(case: &mut TestCase) {
    let location = case.file.take().map(|file| match case.line.take() {
        Some(line) => format!("{file}:{line}"),
        None => file,
    });
    let mut head = String::new();
    if let Some(location) = &location {
        head.push_str(&format!("at {location}\n"));
    }
    for property in case.properties.drain(..) {
        head.push_str(&format!("{}: {}\n", property.name, property.value));
    }
    if head.is_empty() {
        return;
    }
    if let (Some(location), Some(outcome)) = (&location, case.status.outcome_mut()) {
        outcome.description = Some(match outcome.description.take() {
            Some(text) => format!("{location}: {text}"),
            None => location.clone(),
        });
    }
    case.system_out = Some(match case.system_out.take() {
        Some(out) => format!("{head}\n{out}"),
        None => head,
    });
}

/// The JUnit a run leaves while it runs, in place of the last run's: one failing test
/// saying the reports were not written. A run that dies before its reports (SIGKILL, out
/// of memory, a second Ctrl-C) never leaves an earlier run's green behind.
pub(crate) fn in_progress(suite: &str, why: &str) -> Report {
    let mut test_suite = TestSuite::new(suite);
    let status = Status::Failure(Outcome::new("incomplete", why));
    test_suite
        .cases
        .push(TestCase::new("run incomplete", "evals", status));
    test_suite
        .properties
        .push(Property::new("evalgate.incomplete", "true"));
    let mut report = Report::new("evalgate");
    report.suites.push(test_suite);
    report
}

pub(crate) fn junit_report(data: &RunData, run_report: &RunReport) -> Report {
    let summary = &run_report.summary;
    let name = data
        .runs
        .first()
        .map(|r| r.suite.clone())
        .unwrap_or_else(|| "evals".into());
    let mut report = Report::new("evalgate");
    let mut suite = TestSuite::new(&name);
    case_tests(&mut suite, data, run_report);
    // Drafts: listed as cargo test lists them (ignored), when the run was the whole suite
    // (a filtered run cannot tell which drafts its filter matched).
    if run_report.partial.is_none() {
        draft_tests(&mut suite, data, summary);
    }
    incomplete_tests(&mut suite, summary);
    run_properties(&mut suite, data, run_report);
    // Wall time from the first case's start to the last case's end (shards included).
    let start = summary.cases.iter().map(|c| c.started_at).min();
    let end = summary.cases.iter().map(|c| c.finished_at).max();
    if let (Some(start), Some(end)) = (start, end) {
        let secs = (end.as_nanosecond() - start.as_nanosecond()).max(0) as f64 / 1e9;
        suite.time = Some(Duration::from_secs_f64(secs));
        report.time = Some(Duration::from_secs_f64(secs));
    }
    report.suites.push(suite);
    if let Some(coverage) = coverage_suite(run_report) {
        report.suites.push(coverage);
    }
    if let Some(decay) = &run_report.decay {
        report.suites.push(decay_suite(decay));
    }
    if !run_report.gates.is_empty() {
        report.suites.push(gates_suite(run_report));
    }
    report
}

/// A testcase per case, at its first failing expectation's line (else its first key, as
/// the step summary links it).
fn case_tests(suite: &mut TestSuite, data: &RunData, run_report: &RunReport) {
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
    for case in &run_report.summary.cases {
        let samples = samples_of
            .get(&(case.case.as_str(), case.run_id.as_str()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        // Where a reader should look: the first failing expectation, else the case's first
        // key (as the step summary links it).
        let line = samples
            .iter()
            .filter_map(|s| super::first_failing_line(s))
            .min()
            .unwrap_or(case.line);
        suite.cases.push(test_case(
            case,
            line,
            samples,
            changes.get(case.case.as_str()).copied(),
        ));
    }
}

/// The drafts the run did not run, as skipped testcases.
fn draft_tests(suite: &mut TestSuite, data: &RunData, summary: &Summary) {
    let ran: BTreeSet<&str> = summary.cases.iter().map(|c| c.case.as_str()).collect();
    let drafts = data
        .policy
        .iter()
        .filter_map(|p| p.decay.as_ref())
        .flat_map(|d| &d.cases)
        .filter(|c| c.status == CaseStatus::Draft && !ran.contains(c.case.as_str()));
    for draft in drafts {
        let status = Status::Skipped(Outcome::new(
            "draft",
            "draft: not run by default (`status: draft`; run drafts with `-- --include-ignored`)",
        ));
        let classname = Some(draft.classname.as_str()).filter(|c| !c.is_empty());
        let mut tc = TestCase::new(&draft.case, classname.unwrap_or("evals"), status);
        tc.file = Some(draft.file.clone());
        tc.line = Some(draft.line.to_string());
        suite.cases.push(tc);
    }
}

/// An incomplete run is never green: every case without a result fails, and so does the
/// run itself when it was cut short after its last case.
fn incomplete_tests(suite: &mut TestSuite, summary: &Summary) {
    if let Some(why) = summary.completion.describe() {
        suite
            .properties
            .push(Property::new("evalgate.incomplete", "true"));
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
            let status = Status::Failure(Outcome::new("incomplete", format!("no result: {why}")));
            suite.cases.push(TestCase::new(id, "evals", status));
        }
    }
}

/// The suite's properties: the attempt (and reruns to green), the run id, the target and
/// the declared envelope.
fn run_properties(suite: &mut TestSuite, data: &RunData, run_report: &RunReport) {
    if let Ok(Some(attempts)) = &run_report.attempts {
        // A green run after red attempts of the same commit and envelope: rerun to green.
        suite.properties.push(Property::new(
            "evalgate.attempt",
            (attempts.earlier.len() + 1).to_string(),
        ));
        suite.properties.push(Property::new(
            "evalgate.red_attempts_before",
            attempts.red_before().to_string(),
        ));
        if !run_report.has_failed() && attempts.red_before() > 0 {
            suite.properties.push(Property::new(
                "evalgate.reruns_to_green",
                attempts.red_before().to_string(),
            ));
        }
    }
    if let Some(run) = data.runs.iter().min_by_key(|r| r.started_at) {
        suite.properties.push(Property::new("run_id", &run.run_id));
        suite.properties.push(Property::new("target", &run.target));
        // Declared in the suite file; what the agent reported is on each testcase
        // (`reported.*`).
        for (key, value) in &run.envelope {
            suite
                .properties
                .push(Property::new(format!("declared.envelope.{}", key), value));
        }
    }
}

/// `evalgate.coverage`: one testcase per decision point. A point fails only when a failing
/// `fail` gate blames it; one a failing `warn` gate blames is `<skipped type="warn">` (a
/// `warn` gate must not turn a CI test report red, nor look green); what is uncovered is in
/// its output.
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
        let warned: Vec<&GateResult> = report
            .gates
            .iter()
            .filter(|g| g.warns() && g.points.contains(&point.name))
            .collect();
        let status = if blamed.is_empty() && !warned.is_empty() {
            // Seen apart from green and red, as a `warn` gate's own testcase is.
            let gates: Vec<String> = warned
                .iter()
                .map(|g| format!("gate {} {} warned", g.name, g.threshold))
                .collect();
            warn_status(&point.uncovered_text(), &gates.join("\n"))
        } else if blamed.is_empty() {
            Status::Success
        } else {
            let gates: Vec<String> = blamed
                .iter()
                .map(|g| format!("gate {} {} failed", g.name, g.threshold))
                .collect();
            Status::Failure(
                Outcome::new("coverage", point.uncovered_text()).with_text(format!(
                    "{}\n{}",
                    point.uncovered_text(),
                    gates.join("\n")
                )),
            )
        };
        let mut tc = TestCase::new(&point.name, "evalgate.coverage", status);
        tc.file = Some(catalog.clone());
        tc.line = point.line.map(|line| line.to_string());
        tc.properties
            .push(Property::new("covered", point.covered.to_string()));
        tc.properties
            .push(Property::new("branches", point.total.to_string()));
        tc.properties
            .push(Property::new("samples", point.samples.to_string()));
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
        tc.system_out = Some(out);
        suite.cases.push(tc);
    }
    Some(suite)
}

/// `evalgate.gates`: one testcase per gate; a failing `warn` gate passes with its warning
/// in the output.
fn gates_suite(report: &RunReport) -> TestSuite {
    let mut suite = TestSuite::new("evalgate.gates");
    for gate in &report.gates {
        let value = gate.value.map(readable).unwrap_or_else(|| "-".into());
        let headline = format!(
            "{}: {} (value {value}, required {})",
            gate.name,
            gate.status(),
            gate.threshold
        );
        let status = match (gate.outcome, gate.level) {
            (GateOutcome::Failed, GateLevel::Fail) => {
                Status::Failure(Outcome::new("gate", &headline).with_text(gate.details.join("\n")))
            }
            (GateOutcome::Skipped, _) => Status::Skipped(Outcome::message(gate.details.join("; "))),
            // A failed `warn` gate must not turn the report red, nor show as a green pass:
            // `<skipped type="warn">` is what JUnit viewers show apart from both.
            (GateOutcome::Failed, GateLevel::Warn) => {
                warn_status(&headline, &gate.details.join("\n"))
            }
            (GateOutcome::Passed, _) => Status::Success,
        };
        let mut tc = TestCase::new(&gate.name, "evalgate.gates", status);
        tc.properties.push(Property::new("metric", &gate.metric));
        tc.properties
            .push(Property::new("level", gate.level.to_string()));
        tc.properties
            .push(Property::new("threshold", &gate.threshold));
        tc.properties.push(Property::new("value", value));
        if gate.outcome != GateOutcome::Skipped {
            tc.system_out = Some(format!("{headline}\n{}", gate.details.join("\n")));
        }
        suite.cases.push(tc);
    }
    suite
}

/// A gate's value for people: six decimals at most, trailing zeros dropped (`0.888889`,
/// `0.8`, `2`) — not the last bits of a float sum, which vary with the order it was
/// added in.
fn readable(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// What a failed `warn` gate makes of a testcase: `<skipped type="warn">`, which JUnit
/// viewers show apart from both a pass and a failure, and no CI turns red on.
fn warn_status(message: &str, description: &str) -> Status {
    Status::Skipped(Outcome::new("warn", message).with_text(description))
}

/// One case's testcase: a failure when its test failed, or when the comparison over the
/// whole run called it a regression (which a case's own test, alone, can miss).
fn test_case(
    case: &CaseRecord,
    line: u32,
    samples: &[&SampleRecord],
    change: Option<&CaseChange>,
) -> TestCase {
    let regression = change.is_some_and(|c| c.change == Change::Regression);
    let mut tc = TestCase::new(
        &case.case,
        &case.classname,
        status(case, change, regression),
    );
    tc.time = Some(Duration::from_secs_f64(case.duration_ms.max(0.0) / 1000.0));
    tc.file = Some(case.file.clone());
    // Where a reader of `file`/`line` should look: the first failing expectation, else the
    // case's first key.
    tc.line = Some(line.to_string());
    for (name, value) in properties(case, samples, change) {
        tc.properties.push(Property::new(name, &value));
    }
    let envelope: BTreeSet<(&String, &String)> =
        samples.iter().flat_map(|s| s.envelope.iter()).collect();
    for (key, value) in envelope {
        tc.properties
            .push(Property::new(format!("reported.envelope.{}", key), value));
    }
    if case.failed || regression {
        tc.system_out = failing_outputs(samples);
    }
    tc
}

/// Success, or the failure (a regression against the baseline counts as one) or error with
/// its message.
fn status(case: &CaseRecord, change: Option<&CaseChange>, regression: bool) -> Status {
    if !case.failed && !regression {
        Status::Success
    } else {
        let verdict = case.verdict;
        let ty = if regression {
            "regression"
        } else {
            verdict.as_str()
        };
        let mut message = case.message.clone().unwrap_or_else(|| verdict.to_string());
        if let Some(c) = change.filter(|_| regression && !case.failed) {
            message = format!("{}\n{message}", regression_words(c));
        }
        let outcome =
            Outcome::new(ty, message.lines().next().unwrap_or_default()).with_text(message);
        if verdict == Verdict::Error {
            Status::Error(outcome)
        } else {
            Status::Failure(outcome)
        }
    }
}

/// The case's properties: its verdict and counts, latency, tokens, retries, what the agent
/// reported, and the comparison with the baseline.
fn properties(
    case: &CaseRecord,
    samples: &[&SampleRecord],
    change: Option<&CaseChange>,
) -> Vec<(&'static str, String)> {
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
    // What the agent reported with its answers (the suite's declared envelope is on the
    // testsuite, `declared.envelope.*`).
    for (name, values) in [
        (
            "reported.model",
            distinct(samples.iter().filter_map(|s| s.model.as_deref())),
        ),
        (
            "reported.tier",
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
    props
}

/// The outputs of the first three samples that did not pass, in the order they were taken
/// (whatever order they finished in), each cut at [`OUTPUT_BYTES`].
fn failing_outputs(samples: &[&SampleRecord]) -> Option<String> {
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
    (!out.is_empty()).then_some(out)
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
