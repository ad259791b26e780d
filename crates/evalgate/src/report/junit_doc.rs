//! The JUnit XML document: `<testsuites>` → `<testsuite>` → `<testcase>`, and its writer.
//!
//! Written by hand rather than with quick-junit (7 packages for users to build: chrono, uuid,
//! quick-xml, ...), because evalgate writes only this subset: no reruns, flaky runs,
//! timestamps, stack traces or `system-err`. The layout is the one JUnit readers and the
//! golden files know: four-space indentation, one element per line, text right inside its
//! element, `time` in seconds with three decimals. Every text and attribute value goes
//! through [`escape`], so the file is well-formed whatever an agent printed.

use std::fmt::Write;
use std::time::Duration;

use super::xml::escape;

/// A `<testsuites>` document.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub name: String,
    pub time: Option<Duration>,
    pub suites: Vec<TestSuite>,
}

/// One `<testsuite>`; its counts are the ones of its testcases.
#[derive(Debug, Clone)]
pub(crate) struct TestSuite {
    pub name: String,
    pub time: Option<Duration>,
    pub properties: Vec<Property>,
    pub cases: Vec<TestCase>,
}

/// One `<testcase>`. `file` and `line` are written as attributes (only the extended schema
/// keeps them: `junit::to_xml` moves them into `system-out` for junit-10).
#[derive(Debug, Clone)]
pub(crate) struct TestCase {
    pub name: String,
    pub classname: String,
    pub time: Option<Duration>,
    pub file: Option<String>,
    pub line: Option<String>,
    pub status: Status,
    pub properties: Vec<Property>,
    pub system_out: Option<String>,
}

/// A `<property name value/>`.
#[derive(Debug, Clone)]
pub(crate) struct Property {
    pub name: String,
    pub value: String,
}

/// How a testcase ended: nothing, or a `<failure>`, `<error>` or `<skipped>` element.
#[derive(Debug, Clone)]
pub(crate) enum Status {
    Success,
    Failure(Outcome),
    Error(Outcome),
    Skipped(Outcome),
}

/// The `message` and `type` attributes and the text of a non-success element.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub message: Option<String>,
    pub ty: Option<String>,
    pub description: Option<String>,
}

/// Counts of `tests`, `failures`, `errors` and `skipped`.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of(cases: &[TestCase]) -> Counts {
        let mut counts = Counts::default();
        for case in cases {
            counts.tests += 1;
            match case.status {
                Status::Success => {}
                Status::Failure(_) => counts.failures += 1,
                Status::Error(_) => counts.errors += 1,
                Status::Skipped(_) => counts.skipped += 1,
            }
        }
        counts
    }

    fn add(self, other: Counts) -> Counts {
        Counts {
            tests: self.tests + other.tests,
            failures: self.failures + other.failures,
            errors: self.errors + other.errors,
            skipped: self.skipped + other.skipped,
        }
    }
}

impl Property {
    pub(crate) fn new(name: impl Into<String>, value: impl Into<String>) -> Property {
        Property {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl Outcome {
    /// An outcome with a `type` and a `message`, and no text yet.
    pub(crate) fn new(ty: &str, message: impl Into<String>) -> Outcome {
        Outcome {
            message: Some(message.into()),
            ty: Some(ty.into()),
            description: None,
        }
    }

    /// An outcome with only a `message`.
    pub(crate) fn message(message: impl Into<String>) -> Outcome {
        Outcome {
            message: Some(message.into()),
            ..Outcome::default()
        }
    }

    /// The same outcome with `text` inside its element.
    pub(crate) fn with_text(mut self, text: impl Into<String>) -> Outcome {
        self.description = Some(text.into());
        self
    }
}

impl Status {
    /// The outcome of a failure, error or skip (none for a success).
    pub(crate) fn outcome_mut(&mut self) -> Option<&mut Outcome> {
        match self {
            Status::Success => None,
            Status::Failure(o) | Status::Error(o) | Status::Skipped(o) => Some(o),
        }
    }
}

impl TestCase {
    pub(crate) fn new(name: impl Into<String>, classname: &str, status: Status) -> TestCase {
        TestCase {
            name: name.into(),
            classname: classname.into(),
            time: None,
            file: None,
            line: None,
            status,
            properties: Vec::new(),
            system_out: None,
        }
    }
}

impl Report {
    /// A document named `name`, with no time and no suites yet.
    pub(crate) fn new(name: &str) -> Report {
        Report {
            name: name.into(),
            time: None,
            suites: Vec::new(),
        }
    }
}

impl TestSuite {
    pub(crate) fn new(name: impl Into<String>) -> TestSuite {
        TestSuite {
            name: name.into(),
            time: None,
            properties: Vec::new(),
            cases: Vec::new(),
        }
    }
}

/// The document as text. `root_skipped` writes a `skipped` count on `<testsuites>` too,
/// which the junit-10 XSD does not allow there (each `<testsuite>` has its own).
pub(crate) fn write(report: &Report, root_skipped: bool) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total = report
        .suites
        .iter()
        .map(|s| Counts::of(&s.cases))
        .fold(Counts::default(), Counts::add);
    let mut attrs = vec![
        ("name", report.name.clone()),
        ("tests", total.tests.to_string()),
    ];
    if root_skipped {
        attrs.push(("skipped", total.skipped.to_string()));
    }
    attrs.push(("failures", total.failures.to_string()));
    attrs.push(("errors", total.errors.to_string()));
    push_time(&mut attrs, report.time);
    open(&mut out, 0, "testsuites", &attrs, false);
    for suite in &report.suites {
        write_suite(&mut out, suite);
    }
    out.push_str("</testsuites>\n");
    out
}

fn write_suite(out: &mut String, suite: &TestSuite) {
    let counts = Counts::of(&suite.cases);
    let mut attrs = vec![
        ("name", suite.name.clone()),
        ("tests", counts.tests.to_string()),
        ("skipped", counts.skipped.to_string()),
        ("errors", counts.errors.to_string()),
        ("failures", counts.failures.to_string()),
    ];
    push_time(&mut attrs, suite.time);
    let empty = suite.properties.is_empty() && suite.cases.is_empty();
    open(out, 1, "testsuite", &attrs, empty);
    if empty {
        return;
    }
    write_properties(out, 2, &suite.properties);
    for case in &suite.cases {
        write_case(out, case);
    }
    close(out, 1, "testsuite");
}

fn write_case(out: &mut String, case: &TestCase) {
    let mut attrs = vec![
        ("name", case.name.clone()),
        ("classname", case.classname.clone()),
    ];
    push_time(&mut attrs, case.time);
    if let Some(file) = &case.file {
        attrs.push(("file", file.clone()));
    }
    if let Some(line) = &case.line {
        attrs.push(("line", line.clone()));
    }
    let (tag, outcome) = match &case.status {
        Status::Success => ("", None),
        Status::Failure(o) => ("failure", Some(o)),
        Status::Error(o) => ("error", Some(o)),
        Status::Skipped(o) => ("skipped", Some(o)),
    };
    let empty = case.properties.is_empty() && case.system_out.is_none() && outcome.is_none();
    open(out, 2, "testcase", &attrs, empty);
    if empty {
        return;
    }
    write_properties(out, 3, &case.properties);
    if let Some(outcome) = outcome {
        let mut attrs = Vec::new();
        if let Some(message) = &outcome.message {
            attrs.push(("message", message.clone()));
        }
        if let Some(ty) = &outcome.ty {
            attrs.push(("type", ty.clone()));
        }
        match &outcome.description {
            Some(text) => text_element(out, 3, tag, &attrs, text),
            None => open(out, 3, tag, &attrs, true),
        }
    }
    if let Some(text) = &case.system_out {
        text_element(out, 3, "system-out", &[], text);
    }
    close(out, 2, "testcase");
}

fn write_properties(out: &mut String, depth: usize, properties: &[Property]) {
    if properties.is_empty() {
        return;
    }
    open(out, depth, "properties", &[], false);
    for p in properties {
        let attrs = [("name", p.name.clone()), ("value", p.value.clone())];
        open(out, depth + 1, "property", &attrs, true);
    }
    close(out, depth, "properties");
}

fn push_time(attrs: &mut Vec<(&'static str, String)>, time: Option<Duration>) {
    if let Some(time) = time {
        attrs.push(("time", format!("{:.3}", time.as_secs_f64())));
    }
}

/// `<tag attrs>` (or `<tag attrs/>` when `empty`) on its own line at `depth`.
fn open(out: &mut String, depth: usize, tag: &str, attrs: &[(&str, String)], empty: bool) {
    indent(out, depth);
    out.push('<');
    out.push_str(tag);
    for (name, value) in attrs {
        let _ = write!(out, " {name}=\"{}\"", escape(value));
    }
    out.push_str(if empty { "/>\n" } else { ">\n" });
}

/// `<tag attrs>text</tag>` starting on its own line at `depth`.
fn text_element(out: &mut String, depth: usize, tag: &str, attrs: &[(&str, String)], text: &str) {
    open(out, depth, tag, attrs, false);
    out.pop();
    out.push_str(&escape(text));
    let _ = writeln!(out, "</{tag}>");
}

fn close(out: &mut String, depth: usize, tag: &str) {
    indent(out, depth);
    let _ = writeln!(out, "</{tag}>");
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("    ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nest_and_text_sits_inside_its_element() {
        let mut suite = TestSuite::new("s");
        suite.properties.push(Property::new("run_id", "r<1>"));
        let mut failed = TestCase::new(
            "a & b",
            "c",
            Status::Failure(Outcome::new("fail", "why \"x\"").with_text("line 1\nline 2")),
        );
        failed.time = Some(Duration::from_millis(1500));
        suite.cases.push(failed);
        suite.cases.push(TestCase::new("ok", "c", Status::Success));
        let skipped = Outcome::message("later");
        suite
            .cases
            .push(TestCase::new("skip", "c", Status::Skipped(skipped)));
        let report = Report {
            name: "evalgate".into(),
            time: Some(Duration::from_secs(2)),
            suites: vec![suite, TestSuite::new("empty")],
        };
        assert_eq!(
            write(&report, false),
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="evalgate" tests="3" failures="1" errors="0" time="2.000">
    <testsuite name="s" tests="3" skipped="1" errors="0" failures="1">
        <properties>
            <property name="run_id" value="r&lt;1&gt;"/>
        </properties>
        <testcase name="a &amp; b" classname="c" time="1.500">
            <failure message="why &quot;x&quot;" type="fail">line 1
line 2</failure>
        </testcase>
        <testcase name="ok" classname="c"/>
        <testcase name="skip" classname="c">
            <skipped message="later"/>
        </testcase>
    </testsuite>
    <testsuite name="empty" tests="0" skipped="0" errors="0" failures="0"/>
</testsuites>
"#
        );
        assert!(write(&report, true).contains(r#"tests="3" skipped="1" failures="1""#));
    }
}
