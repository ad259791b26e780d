//! JUnit XML is well-formed whatever the agent printed, carries what CI needs (file, line,
//! classname, expected vs actual, properties), and is rebuilt byte for byte from records.

use crate::support::junit_xml;
use crate::support::mock_agent;
use crate::support::suite;

use junit_xml::{child, fact, location, text, xmllint};
use mock_agent::{Behaviour, runtime, serve as mock};
use roxmltree::{Document, Node};
use serde_json::json;
use suite::{TempSuite, python, scripted_agent, simple_case};

// ---------------------------------------------------------------------------------------
// helpers

fn http_suite(base: &str) -> TempSuite {
    TempSuite::new(&format!(
        "name: junit-suite\ntarget:\n  http:\n    url: \"{base}/v1/agent\"\n"
    ))
}

fn parse(xml: &str) -> Document<'_> {
    Document::parse(xml).unwrap_or_else(|e| panic!("junit.xml is not well-formed: {e}\n{xml}"))
}

/// The basic structure of the JUnit XSD: `testsuites > testsuite > testcase`, every
/// testcase with `name`, `classname` and a numeric `time`, the counts matching the cases.
/// Returns the testcases.
fn check_structure<'a>(doc: &'a Document<'a>) -> Vec<Node<'a, 'a>> {
    let root = doc.root_element();
    assert!(root.has_tag_name("testsuites"), "root is <testsuites>");
    // The run's own suites (`evalgate.decay`, `evalgate.gates`...) follow the cases' one.
    let suites: Vec<Node> = root
        .children()
        .filter(Node::is_element)
        .filter(|s| {
            !s.attribute("name")
                .is_some_and(|n| n.starts_with("evalgate."))
        })
        .collect();
    assert_eq!(suites.len(), 1, "one <testsuite> of cases");
    let suite = suites[0];
    assert!(suite.has_tag_name("testsuite"));
    assert!(suite.attribute("name").is_some_and(|n| !n.is_empty()));
    let mut cases = Vec::new();
    for child in suite.children().filter(Node::is_element) {
        let tag = child.tag_name().name();
        assert!(
            matches!(tag, "properties" | "testcase" | "system-out" | "system-err"),
            "unexpected <{tag}> in <testsuite>"
        );
        if tag == "testcase" {
            cases.push(child);
        }
    }
    for case in &cases {
        for attr in ["name", "classname", "time"] {
            assert!(
                case.attribute(attr).is_some_and(|v| !v.is_empty()),
                "testcase without `{attr}`: {case:?}"
            );
        }
        let time: f64 = case
            .attribute("time")
            .unwrap()
            .parse()
            .expect("time is a number");
        assert!(time >= 0.0);
        let statuses = case
            .children()
            .filter(|c| c.has_tag_name("failure") || c.has_tag_name("error"))
            .count();
        assert!(statuses <= 1, "at most one failure/error per testcase");
    }
    let count = |tag: &str| {
        cases
            .iter()
            .filter(|c| c.children().any(|s| s.has_tag_name(tag)))
            .count()
            .to_string()
    };
    for (attr, want) in [
        ("tests", cases.len().to_string()),
        ("failures", count("failure")),
        ("errors", count("error")),
    ] {
        assert_eq!(
            suite.attribute(attr),
            Some(want.as_str()),
            "testsuite {attr}"
        );
        // The root counts every suite's testcases, the run's own suites included.
        let total: u64 = root
            .children()
            .filter(|s| s.has_tag_name("testsuite"))
            .map(|s| s.attribute(attr).unwrap_or("0").parse::<u64>().unwrap())
            .sum();
        assert_eq!(
            root.attribute(attr),
            Some(total.to_string().as_str()),
            "testsuites {attr}"
        );
    }
    cases
}

fn testcase<'a>(cases: &[Node<'a, 'a>], name: &str) -> Node<'a, 'a> {
    let found: Vec<_> = cases
        .iter()
        .filter(|c| c.attribute("name") == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "one testcase named `{name}`");
    *found[0]
}

/// Characters XML 1.0 cannot carry, and raw markup from the agent, must not be in the file.
fn assert_no_raw_hostile_text(xml: &str) {
    for (c, what) in [
        ('\u{0}', "NUL"),
        ('\u{1b}', "ESC"),
        ('\u{fffe}', "U+FFFE"),
        ('\u{ffff}', "U+FFFF"),
    ] {
        assert!(!xml.contains(c), "junit.xml holds a raw {what}");
    }
    assert!(
        !xml.contains("<script>"),
        "agent markup went into the XML raw"
    );
}

// ---------------------------------------------------------------------------------------
// tests

/// The agent's answer: every character XML cannot carry, and markup meant to break out.
const HOSTILE: &str = "NUL[\u{0}] ESC[\u{1b}[31mred\u{1b}[0m] FFFE[\u{fffe}] FFFF[\u{ffff}] \
     CDATA[]]>] TAG[<script>alert(1)</script>] AMP[&amp; & ] QUOTES[\"double\" 'single']";

#[test]
fn junit_is_well_formed_whatever_the_agent_printed() {
    for schema in ["junit-10", "extended"] {
        well_formed_whatever_the_agent_printed(schema);
    }
}

fn well_formed_whatever_the_agent_printed(schema: &str) {
    let rt = runtime();
    let agent = mock(
        &rt,
        Behaviour::Fixed(json!({
            "output": HOSTILE,
            "decisions": ["route.echo"],
            "usage": {"input_tokens": 7, "output_tokens": 5},
            "model": "mock-<&\"\u{1b}>-1",
            "tier": "primary",
        })),
    );
    let s = TempSuite::new(&format!(
        "name: junit-suite\ntarget:\n  http:\n    url: \"{}/v1/agent\"\njunit: {{schema: {schema}}}\n",
        agent.url
    ));
    s.case("top.yaml", &simple_case("hi", "  - equals: something-else"));
    s.case(
        "billing/x.yaml",
        &format!(
            "# a comment\n\nid: billing-x\n{}",
            simple_case("hi", "  - equals: something-else")
        ),
    );
    s.case(
        "refunds/eu/deep.yaml",
        &format!(
            "samples: 3\n{}",
            simple_case("hi", "  - equals: something-else")
        ),
    );
    s.case(
        "billing/passes.yaml",
        &simple_case("hi", "  - contains: \"<script>\""),
    );
    // Markup in a case's own name (its file name) is escaped too.
    s.case(
        "odd/it's&<\"x\">.yaml",
        &simple_case("hi", "  - contains: \"<script>\""),
    );
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    let xml = s.junit();
    assert_no_raw_hostile_text(&xml);
    let doc = parse(&xml);
    let cases = check_structure(&doc);
    assert_eq!(cases.len(), 5, "one testcase per case:\n{xml}");

    // file / line (the failing expectation's, else the case's first key) / classname
    for (name, file, line, classname) in [
        ("top", "evals/cases/top.yaml", "6", "evals"),
        ("billing-x", "evals/cases/billing/x.yaml", "9", "billing"),
        (
            "refunds/eu/deep",
            "evals/cases/refunds/eu/deep.yaml",
            "7",
            "refunds.eu",
        ),
        (
            "billing/passes",
            "evals/cases/billing/passes.yaml",
            "1",
            "billing",
        ),
    ] {
        let tc = testcase(&cases, name);
        let (at_file, at_line) = location(tc);
        assert_eq!(
            at_file.as_deref(),
            Some(file),
            "file of `{name}` ({schema})"
        );
        assert_eq!(
            at_line.as_deref(),
            Some(line),
            "line of `{name}` ({schema})"
        );
        assert_eq!(
            tc.attribute("classname"),
            Some(classname),
            "classname of `{name}`"
        );
    }

    // Failing samples' outputs in the order they were taken.
    let deep_out: String = testcase(&cases, "refunds/eu/deep")
        .children()
        .find(|c| c.has_tag_name("system-out"))
        .and_then(|c| c.text())
        .unwrap_or_default()
        .to_string();
    let at = |i: u32| {
        deep_out
            .find(&format!("--- sample {i} output ---"))
            .unwrap()
    };
    assert!(at(0) < at(1) && at(1) < at(2), "{deep_out}");

    let odd = testcase(&cases, "odd/it's&<\"x\">");
    assert_eq!(odd.attribute("classname"), Some("odd"));
    assert_eq!(
        location(odd).0.as_deref(),
        Some("evals/cases/odd/it's&<\"x\">.yaml")
    );

    // The passing case has no failure, and says so in its facts.
    let passes = testcase(&cases, "billing/passes");
    assert!(child(passes, "failure").is_none() && child(passes, "error").is_none());
    assert_eq!(fact(passes, "verdict").as_deref(), Some("pass"));

    // Failures: expected vs actual, with the hostile output escaped but visible.
    for (name, samples) in [("top", 1), ("billing-x", 1), ("refunds/eu/deep", 3)] {
        let tc = testcase(&cases, name);
        let failure = child(tc, "failure").unwrap_or_else(|| panic!("`{name}` fails:\n{xml}"));
        assert!(child(tc, "error").is_none());
        assert!(
            failure
                .attribute("message")
                .is_some_and(|m| m.contains("fail")),
            "{failure:?}"
        );
        let description = text(Some(failure));
        assert!(
            description.contains("expected: output equal to \"something-else\""),
            "expected side in the failure of `{name}`: {description}"
        );
        assert!(
            description.contains("actual:") && description.contains("ESC[\\u{1b}[31mred"),
            "actual side (escaped) in the failure of `{name}`: {description}"
        );
        assert!(
            description.contains(".yaml:"),
            "the failing expectation's file:line: {description}"
        );
        let out = text(child(tc, "system-out"));
        for visible in [
            "NUL[\\u{0}]",
            "ESC[\\u{1b}[31mred\\u{1b}[0m]",
            "FFFE[\\u{fffe}]",
            "FFFF[\\u{ffff}]",
            "CDATA[]]>]",
            "TAG[<script>alert(1)</script>]",
            "AMP[&amp; & ]",
            "QUOTES[\"double\" 'single']",
        ] {
            assert!(
                out.contains(visible),
                "system-out of `{name}` lacks {visible:?}: {out:?}"
            );
        }
        assert_eq!(fact(tc, "verdict").as_deref(), Some("fail"));
        assert_eq!(fact(tc, "samples"), Some(samples.to_string()));
        assert_eq!(fact(tc, "passes").as_deref(), Some("0"));
        assert_eq!(
            fact(tc, "tokens"),
            Some((12 * samples).to_string()),
            "7 + 5 tokens per sample"
        );
        assert_eq!(
            fact(tc, "reported.model").as_deref(),
            Some("mock-<&\"\\u{1b}>-1"),
            "the model the agent reported, escaped but visible"
        );
    }
    // Each schema keeps to what it promises: junit-10 has no per-testcase attributes or
    // properties it would reject; extended has both.
    let extended = schema == "extended";
    for tc in &cases {
        assert_eq!(tc.attribute("file").is_some(), extended, "{schema}: {tc:?}");
        assert_eq!(
            child(*tc, "properties").is_some(),
            extended,
            "{schema}: {tc:?}"
        );
    }
    if let Some((valid, words)) = xmllint(&s.out().join("junit.xml")) {
        assert_eq!(valid, !extended, "{schema} against junit-10: {words}");
        if extended {
            assert!(words.contains("attribute 'file'"), "{words}");
        }
    }
}

#[test]
fn junit_is_well_formed_with_invalid_utf8_and_hostile_stderr_from_a_command_agent() {
    let s = TempSuite::new(&format!(
        "target:\n  command:\n    program: {:?}\n    args: [{:?}]\n",
        python(),
        scripted_agent().display().to_string()
    ));
    let case = |mode: &str, expect: &str| {
        format!(
            "input:\n  messages:\n    - role: user\n      content: hello\n  vars: {{mode: {mode}}}\nexpect:\n{expect}\n"
        )
    };
    s.case(
        "bytes/badutf8.yaml",
        &case("badutf8", "  - equals: something-else"),
    );
    s.case(
        "bytes/badstderr.yaml",
        &case("badstderr", "  - equals: something-else"),
    );
    s.case("echo.yaml", &case("echo", "  - equals: something-else"));
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    let xml = s.junit();
    assert_no_raw_hostile_text(&xml);
    let doc = parse(&xml);
    let cases = check_structure(&doc);
    assert_eq!(cases.len(), 3, "{xml}");

    // Invalid UTF-8 inside a JSON string: the agent broke the protocol; the case errors
    // and the report still parses.
    let bad = testcase(&cases, "bytes/badutf8");
    assert_eq!(bad.attribute("classname"), Some("bytes"));
    let error = child(bad, "error").unwrap_or_else(|| panic!("badutf8 errors:\n{xml}"));
    let described = text(Some(error));
    assert!(described.contains("invalid JSON"), "{described}");
    assert!(
        described.contains("bad"),
        "what the agent sent is quoted: {described}"
    );

    // A crash whose stderr holds NUL, ESC, U+FFFE, invalid UTF-8 and markup.
    let crash = testcase(&cases, "bytes/badstderr");
    let error = child(crash, "error").unwrap_or_else(|| panic!("badstderr errors:\n{xml}"));
    let described = text(Some(error));
    for visible in [
        "exit status: 4",
        "boom",
        "\\u{1b}[31mred",
        "]]>",
        "<script>&amp;",
    ] {
        assert!(
            described.contains(visible),
            "the stderr quoted in <error> lacks {visible:?}: {described}"
        );
    }
    assert_eq!(fact(crash, "verdict").as_deref(), Some("error"));

    // An ordinary failure next to them, with its output.
    let echo = testcase(&cases, "echo");
    assert_eq!(echo.attribute("classname"), Some("evals"));
    assert!(child(echo, "failure").is_some(), "{xml}");
    assert!(
        text(child(echo, "system-out")).ends_with("\n\n--- sample 0 output ---\nhello\n"),
        "{xml}"
    );
    assert_eq!(fact(echo, "reported.model").as_deref(), Some("script-1"));
    assert_eq!(fact(echo, "tokens").as_deref(), Some("5"));
}

#[test]
fn records_rebuild_the_same_junit() {
    let rt = runtime();
    let agent = mock(&rt, Behaviour::Echo);

    // A failing run and a passing run: same bytes and the same exit code from the records.
    let failing = http_suite(&agent.url);
    failing
        .case("ok.yaml", &simple_case("hello", "  - contains: hello"))
        .case(
            "billing/wrong.yaml",
            &simple_case("hello <&> \"q\" ]]>", "  - equals: something-else"),
        )
        .case(
            "billing/many.yaml",
            &format!("samples: 3\n{}", simple_case("hi", "  - contains: hi")),
        );
    let passing = http_suite(&agent.url);
    passing.case("ok.yaml", &simple_case("hello", "  - contains: hello"));

    for (s, want_code) in [(&failing, 1), (&passing, 0)] {
        let run = s.run(&[]);
        assert_eq!(run.code, want_code, "{}", run.all());
        let original = std::fs::read(s.out().join("junit.xml")).expect("junit.xml written");
        parse(std::str::from_utf8(&original).unwrap());
        let runs = s.run_dirs();
        assert_eq!(runs.len(), 1);

        std::fs::remove_file(s.out().join("junit.xml")).unwrap();
        let run_dir = runs[0].display().to_string();
        let report = s.evalgate(&["report", &run_dir]);
        assert_eq!(report.code, want_code, "same exit code\n{}", report.all());
        let rebuilt = std::fs::read(s.out().join("junit.xml")).expect("report rebuilt junit.xml");
        assert!(
            original == rebuilt,
            "rebuilt JUnit differs:\n--- run\n{}\n--- report\n{}",
            String::from_utf8_lossy(&original),
            String::from_utf8_lossy(&rebuilt)
        );

        // Without a run folder, `report` takes the latest run: the same again.
        std::fs::remove_file(s.out().join("junit.xml")).unwrap();
        let report = s.evalgate(&["report"]);
        assert_eq!(report.code, want_code, "{}", report.all());
        assert!(original == std::fs::read(s.out().join("junit.xml")).unwrap());
    }
}

#[test]
fn junit_never_deletes_characters_of_the_agent_output() {
    // Characters XML can carry (TAB, CR) or that xml_safe passes through (C1 controls such
    // as U+009B CSI, U+0085 NEL) must stay visible in system-out, raw or escaped; a reader
    // comparing expected and actual must not see `ab` when the agent said `a<TAB>b`.
    let rt = runtime();
    let agent = mock(
        &rt,
        Behaviour::Fixed(json!({
            "output": "TAB[a\tb] CR[a\rb] CSI[a\u{9b}31mb] NEL[a\u{85}b] BEL[a\u{7}b]",
        })),
    );
    let s = http_suite(&agent.url);
    s.case("top.yaml", &simple_case("hi", "  - equals: something-else"));
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    let xml = s.junit();
    let doc = parse(&xml);
    let cases = check_structure(&doc);
    let out = text(child(testcase(&cases, "top"), "system-out"));
    assert!(out.contains("TAB["), "system-out holds the output: {out:?}");
    for (deleted, what) in [
        ("TAB[ab]", "TAB"),
        ("CR[ab]", "CR"),
        ("CSI[a31mb]", "U+009B"),
        ("CSI[ab]", "U+009B and what follows"),
        ("NEL[ab]", "U+0085"),
        ("BEL[ab]", "BEL"),
    ] {
        assert!(
            !out.contains(deleted),
            "the {what} of the agent output vanished from JUnit: {out:?}"
        );
    }
}
