//! The reader on the vendored samples of `tests/fixtures/traces` and on hand-made traces
//! written to temporary files.

use super::*;
use serde_json::{Value, json};
use std::io::Write;

fn fixture(name: &str) -> TraceDecisions {
    let path = format!(
        "{}/../../tests/fixtures/traces/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    read_decisions(Path::new(&path)).unwrap()
}

fn write(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn read(file: &tempfile::NamedTempFile) -> TraceDecisions {
    read_decisions(file.path()).unwrap()
}

fn error(file: &tempfile::NamedTempFile) -> String {
    read_decisions(file.path()).unwrap_err()
}

/// `path:line`, as messages name a place in a file.
fn at(file: &tempfile::NamedTempFile, line: u64) -> String {
    format!("{}:{line}", file.path().display())
}

fn attributes(pairs: &[(&str, &str)]) -> Value {
    let kv = |(k, v): &(&str, &str)| json!({"key": k, "value": {"stringValue": v}});
    pairs.iter().map(kv).collect()
}

fn span(name: &str, start: u64, pairs: &[(&str, &str)]) -> Value {
    json!({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b172",
           "name": name, "startTimeUnixNano": start.to_string(),
           "attributes": attributes(pairs)})
}

fn request(spans: Vec<Value>) -> String {
    json!({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": spans}]}]})
        .to_string()
}

fn tool(name: &str) -> Decision {
    Decision::new("tool", name)
}

#[test]
fn genai_document_yields_its_tool_calls_in_order() {
    let read = fixture("otlp_genai_agent_trace.json");
    assert_eq!(
        read.decisions,
        [tool("lookup_invoice"), tool("issue_refund")]
    );
    assert_eq!(read.spans, 5);
    assert_eq!(read.warnings, Vec::<String>::new());
}

#[test]
fn genai_json_lines_yield_the_same() {
    assert_eq!(
        fixture("otlp_genai_agent_trace.jsonl"),
        fixture("otlp_genai_agent_trace.json")
    );
}

#[test]
fn proto_example_upper_case_ids_are_accepted_and_no_decision_is_made_up() {
    let read = fixture("otlp_proto_examples_trace.json");
    assert_eq!(read.spans, 1);
    assert_eq!(read.decisions, vec![]);
    assert_eq!(read.warnings, Vec::<String>::new());
}

/// Lines out of time order; spans, events and tool spans interleave; an event without a
/// time is at its span's start; equal times keep the file's order; a tool span with an
/// explicit decision is that decision only.
#[test]
fn explicit_decisions_and_tool_spans_come_out_in_time_order() {
    let mut routed = span("plan", 300, &[(DECISION, "route"), (BRANCH, "refund")]);
    routed["events"] = json!([
        {"timeUnixNano": "500", "name": "replan", "attributes": attributes(&[(DECISION, "route"), (BRANCH, "escalate")])},
        {"name": "guard", "attributes": attributes(&[(DECISION, "guard"), (BRANCH, "pass")])},
    ]);
    let mut numeric_time = span(
        "execute_tool lookup_invoice",
        0,
        &[(OPERATION, "execute_tool"), (TOOL_NAME, "lookup_invoice")],
    );
    numeric_time["startTimeUnixNano"] = json!(200);
    let lines = [
        request(vec![
            routed,
            span(
                "execute_tool issue_refund",
                400,
                &[(TOOL_NAME, "issue_refund")],
            ),
        ]),
        String::new(),
        request(vec![
            numeric_time,
            span("chat gpt-4o-mini", 100, &[(OPERATION, "chat")]),
        ]),
        request(vec![
            span(
                "execute_tool notify",
                300,
                &[
                    (OPERATION, "execute_tool"),
                    (TOOL_NAME, "notify"),
                    (DECISION, "handoff"),
                    (BRANCH, "human"),
                ],
            ),
            span(
                "execute_tool close_ticket",
                600,
                &[(OPERATION, "execute_tool")],
            ),
        ]),
    ];
    let file = write(&lines.join("\n"));
    let read = read(&file);
    let expected = [
        tool("lookup_invoice"),
        Decision::new("route", "refund"),
        Decision::new("guard", "pass"),
        Decision::new("handoff", "human"),
        tool("issue_refund"),
        Decision::new("route", "escalate"),
        tool("close_ticket"),
    ];
    assert_eq!(read.decisions, expected);
    assert_eq!(read.spans, 6);
    let [fallback] = &read.warnings[..] else {
        panic!("{:?}", read.warnings)
    };
    assert!(
        fallback.starts_with(&format!(
            "{}: span `execute_tool close_ticket`",
            at(&file, 4)
        )),
        "{fallback}"
    );
}

#[test]
fn a_missing_half_of_a_decision_is_a_warning_naming_file_line_and_attribute() {
    let mut half = span("plan", 1, &[(DECISION, "route")]);
    half["events"] = json!([{"timeUnixNano": "2", "name": "replan", "attributes": attributes(&[(BRANCH, "refund")])}]);
    let nameless = span("tool call", 3, &[(OPERATION, "execute_tool")]);
    let file = write(&format!("\n{}\n", request(vec![half, nameless])));
    let read = read(&file);
    assert_eq!(read.decisions, vec![]);
    assert_eq!(
        read.warnings,
        [
            format!(
                "{}: span `plan`: `evalgate.decision` without `evalgate.branch`; not read",
                at(&file, 2)
            ),
            format!(
                "{}: event `replan` of span `plan`: `evalgate.branch` without `evalgate.decision`; not read",
                at(&file, 2)
            ),
            format!(
                "{}: span `tool call`: execute_tool span without a string `gen_ai.tool.name` nor a name saying it; not read",
                at(&file, 2)
            ),
        ]
    );
}

/// In a pretty-printed document a warning names the line the span starts on.
#[test]
fn a_bad_span_id_is_a_warning_at_the_spans_line_of_a_document() {
    let mut bad = span(
        "execute_tool lookup_invoice",
        1,
        &[(TOOL_NAME, "lookup_invoice")],
    );
    bad["spanId"] = json!("not-hex!");
    let mut document: Value =
        serde_json::from_str(&request(vec![span("chat", 0, &[]), bad])).unwrap();
    // The name OTLP gave `scopeSpans` before 0.15.
    let resource = document["resourceSpans"][0].as_object_mut().unwrap();
    let scopes = resource.remove("scopeSpans").unwrap();
    resource.insert("instrumentationLibrarySpans".into(), scopes);
    let text = serde_json::to_string_pretty(&document).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let name = lines
        .iter()
        .position(|l| l.contains("\"execute_tool lookup_invoice\""));
    let brace = lines[..name.unwrap()].iter().rposition(|l| l.trim() == "{");
    let line = brace.unwrap() as u64 + 1;
    let file = write(&text);
    let read = read(&file);
    assert_eq!(read.decisions, vec![tool("lookup_invoice")]);
    assert_eq!(
        read.warnings,
        [format!(
            "{}: span `execute_tool lookup_invoice`: `spanId` `not-hex!` is not 16 hex digits",
            at(&file, line)
        )]
    );
}

#[test]
fn a_decision_that_would_not_read_back_is_a_warning() {
    let mut number = span("plan", 1, &[(DECISION, "route")]);
    let branch = json!({"key": BRANCH, "value": {"intValue": "2"}});
    number["attributes"].as_array_mut().unwrap().push(branch);
    let dotted = span("plan", 2, &[(DECISION, "route.v2"), (BRANCH, "refund")]);
    let file = write(&request(vec![number, dotted]));
    let read = read(&file);
    assert_eq!(read.decisions, vec![]);
    let [not_string, dot] = &read.warnings[..] else {
        panic!("{:?}", read.warnings)
    };
    assert!(
        not_string.ends_with("must be `stringValue`s; not read"),
        "{not_string}"
    );
    assert!(
        dot.contains("`route.v2` / `refund`: the point must be"),
        "{dot}"
    );
}

#[test]
fn a_truncated_last_line_is_an_error_naming_file_and_line() {
    let whole = request(vec![span("chat", 1, &[])]);
    let file = write(&format!("{whole}\n{whole}\n{}", &whole[..whole.len() / 2]));
    let e = error(&file);
    assert!(e.starts_with(&format!("{}:", at(&file, 3))), "{e}");
    assert!(e.contains("the line is cut short"), "{e}");
}

#[test]
fn json_that_is_not_otlp_is_an_error_about_resource_spans() {
    let file = write("{\"foo\":1}\n");
    let e = error(&file);
    assert!(
        e.starts_with(&format!(
            "{}: not an OTLP JSON trace: no `resourceSpans`",
            at(&file, 1)
        )),
        "{e}"
    );
    assert!(e.contains("otlp_json"), "{e}");
}

#[test]
fn not_json_empty_and_missing_files_are_errors_naming_the_file() {
    let file = write("trace: yes\n");
    let e = error(&file);
    assert!(
        e.starts_with(&format!("{}:3: not JSON: expected ident", at(&file, 1))),
        "{e}"
    );
    let file = write("\n  \n");
    assert_eq!(
        error(&file),
        format!(
            "{}: empty trace file (a traced run has at least one span)",
            file.path().display()
        )
    );
    let missing = read_decisions(Path::new("/no/such/trace.jsonl")).unwrap_err();
    assert!(
        missing.starts_with("/no/such/trace.jsonl: cannot read the trace file"),
        "{missing}"
    );
}

#[test]
fn resource_spans_without_spans_is_no_decision_and_a_warning() {
    let file = write("{\"resourceSpans\": []}\n{\"resourceSpans\": [{\"scopeSpans\": []}]}\n");
    let read = read(&file);
    assert_eq!((read.decisions.len(), read.spans), (0, 0));
    assert_eq!(
        read.warnings,
        [format!(
            "{}: the trace has no spans, so no decisions",
            file.path().display()
        )]
    );
}

#[test]
fn repeated_warnings_are_capped_and_counted() {
    let spans = (0..MAX_WARNINGS + 5)
        .map(|i| span("plan", i as u64, &[(BRANCH, "x")]))
        .collect();
    let file = write(&request(spans));
    let read = read(&file);
    assert_eq!(read.warnings.len(), MAX_WARNINGS + 1);
    assert_eq!(
        read.warnings[MAX_WARNINGS],
        format!("{}: 5 more warnings not shown", file.path().display())
    );
}
