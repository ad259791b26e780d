//! JUnit XML for every CI: one testcase per case, with the YAML `file` and `line`, the
//! folder as classname, the verdict's reason as the failure, and the numbers as properties.
//! Agent output is untrusted: it goes through [`xml_safe`] and the XML writer's escaping,
//! so the file is well-formed whatever the agent printed.
//!
//! The report is built with everything a reader could use, then fitted to the schema the
//! suite asks for ([`JunitSchema`]): by default what the Jenkins/xunit junit-10 XSD allows
//! (no `file`/`line` attributes and no `<properties>` on a testcase: they move into the
//! testcase's `system-out`, the location also into its failure's text).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde::{Deserialize, Serialize};

use super::RunReport;
use super::gates::{GateOutcome, GateResult};
use super::junit_decay::decay_suite;
use super::xml_text::xml_safe;
use crate::baseline::{CaseChange, Change};
use crate::case::Status;
use crate::errors::Error;
use crate::gate::GateLevel;
use crate::record::{CaseRecord, RunData, SampleRecord};
use crate::run::truncate;
use crate::verdict::{SampleVerdict, Verdict};

/// How much of each failing sample's output goes into `system-out`.
const OUTPUT_BYTES: usize = 4096;

/// Which JUnit readers the file is written for (`junit: {schema: ...}` in the suite file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum JunitSchema {
    /// Valid against the Jenkins/xunit junit-10 XSD, which validating readers enforce: a
    /// testcase's location and facts are in its `system-out` (and the location at the head
    /// of its failure's text), the run's facts in testsuite `<properties>`.
    #[default]
    #[serde(rename = "junit-10")]
    Junit10,
    /// Also `file`/`line` attributes and `<properties>` on every testcase, which GitLab,
    /// Jenkins' JUnit plugin and file/line annotators read but the junit-10 XSD rejects.
    #[serde(rename = "extended")]
    Extended,
}

/// `report` as the XML text `schema` allows.
pub(crate) fn to_xml(mut report: Report, schema: JunitSchema) -> Result<String, Error> {
    if schema == JunitSchema::Junit10 {
        for suite in &mut report.test_suites {
            for case in &mut suite.test_cases {
                fit_junit10(case);
            }
        }
    }
    let xml = report
        .to_string()
        .map_err(|e| Error::Internal(format!("serializing JUnit failed: {e}")))?;
    Ok(match schema {
        JunitSchema::Junit10 => without_root_skipped(xml),
        JunitSchema::Extended => xml,
    })
}

/// Moves what junit-10 does not allow on a testcase into what it does: the location and
/// the properties become the first lines of `system-out` (`name: value`), and the location
/// heads the failure's text, where file/line readers without the attributes look for it.
fn fit_junit10(case: &mut TestCase) {
    let file = case.extra.shift_remove("file");
    let line = case.extra.shift_remove("line");
    let location = file.map(|file| match line {
        Some(line) => format!("{}:{}", file.as_str(), line.as_str()),
        None => file.as_str().to_string(),
    });
    let mut head = String::new();
    if let Some(location) = &location {
        head.push_str(&format!("at {location}\n"));
    }
    for property in case.properties.drain(..) {
        head.push_str(&format!(
            "{}: {}\n",
            property.name.as_str(),
            property.value.as_str()
        ));
    }
    if head.is_empty() {
        return;
    }
    if let (
        Some(location),
        TestCaseStatus::NonSuccess { description, .. }
        | TestCaseStatus::Skipped { description, .. },
    ) = (&location, &mut case.status)
    {
        let text = match description.take() {
            Some(text) => format!("{location}: {}", text.as_str()),
            None => location.clone(),
        };
        *description = Some(text.into());
    }
    let out = match case.system_out.take() {
        Some(out) => format!("{head}\n{}", out.as_str()),
        None => head,
    };
    case.system_out = Some(out.into());
}

/// quick-junit writes a `skipped` count on `<testsuites>`, which junit-10 does not allow
/// there (each `<testsuite>` keeps its own).
fn without_root_skipped(xml: String) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml;
    };
    let end = xml[start..].find('>').map_or(xml.len(), |e| start + e);
    let Some(at) = xml[start..end].find(" skipped=\"").map(|a| start + a) else {
        return xml;
    };
    let value_end = xml[at + 10..end].find('"').map_or(end, |e| at + 10 + e + 1);
    format!("{}{}", &xml[..at], &xml[value_end..])
}

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
        // Where a reader should look: the first failing expectation, else the case's first
        // key (as the step summary links it).
        let line = samples
            .iter()
            .filter_map(|s| super::first_failing_line(s))
            .min()
            .unwrap_or(case.line);
        suite.add_test_case(test_case(
            case,
            line,
            samples,
            changes.get(case.case.as_str()).copied(),
        ));
    }
    // Drafts: listed as cargo test lists them (ignored), when the run was the whole suite
    // (a filtered run cannot tell which drafts its filter matched).
    if run_report.partial.is_none() {
        let ran: BTreeSet<&str> = summary.cases.iter().map(|c| c.case.as_str()).collect();
        let drafts = data
            .policy
            .iter()
            .filter_map(|p| p.decay.as_ref())
            .flat_map(|d| &d.cases)
            .filter(|c| c.status == Status::Draft && !ran.contains(c.case.as_str()));
        for draft in drafts {
            let mut status = TestCaseStatus::skipped();
            status.set_type("draft");
            status.set_message("draft: not run by default (`status: draft`; run drafts with `-- --include-ignored`)");
            let mut tc = TestCase::new(xml_safe(&draft.case), status);
            let classname = Some(draft.classname.as_str()).filter(|c| !c.is_empty());
            tc.set_classname(xml_safe(classname.unwrap_or("evals")));
            tc.extra.insert("file".into(), xml_safe(&draft.file).into());
            tc.extra
                .insert("line".into(), draft.line.to_string().into());
            suite.add_test_case(tc);
        }
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
        // Declared in the suite file; what the agent reported is on each testcase
        // (`reported.*`).
        for (key, value) in &run.envelope {
            suite.add_property(Property::new(
                format!("declared.envelope.{}", xml_safe(key)),
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
        let value = gate.value.map(readable).unwrap_or_else(|| "-".into());
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
            // A failed `warn` gate must not turn the report red, nor show as a green pass:
            // `<skipped type="warn">` is what JUnit viewers show apart from both.
            (GateOutcome::Failed, GateLevel::Warn) => {
                warn_status(&headline, &gate.details.join("\n"))
            }
            (GateOutcome::Passed, _) => TestCaseStatus::success(),
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
fn warn_status(message: &str, description: &str) -> TestCaseStatus {
    let mut status = TestCaseStatus::skipped();
    status.set_type("warn");
    status.set_message(xml_safe(message));
    status.set_description(xml_safe(description));
    status
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
    for (name, value) in props {
        tc.add_property(Property::new(name, xml_safe(&value)));
    }
    let envelope: BTreeSet<(&String, &String)> =
        samples.iter().flat_map(|s| s.envelope.iter()).collect();
    for (key, value) in envelope {
        tc.add_property(Property::new(
            format!("reported.envelope.{}", xml_safe(key)),
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
