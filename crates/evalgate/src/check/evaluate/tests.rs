#[cfg(feature = "json-schema")]
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::case::{Check, CheckKind};
use crate::errors::Position;
use crate::observation::{Decision, Observation};

fn check(kind: CheckKind) -> Check {
    Check {
        position: Position::new(7, 5),
        kind,
    }
}

fn eval(kind: CheckKind, observation: &Observation) -> CheckResult {
    evaluate(
        &[check(kind)],
        observation,
        Duration::from_millis(120),
        &RefusalDetector::default(),
    )
    .remove(0)
}

#[test]
fn text_checks_report_expected_and_actual_with_the_position() {
    let o = Observation::new("Your refund of $42.00 is on its way.");
    let r = eval(CheckKind::Contains("refund".into()), &o);
    assert!(r.passed);
    assert_eq!(
        (r.line, r.column, r.expectation.as_str()),
        (7, 5, "contains")
    );
    let r = eval(CheckKind::Contains("exchange".into()), &o);
    assert!(!r.passed);
    assert_eq!(r.expected, "output containing \"exchange\"");
    assert!(r.actual.contains("Your refund of $42.00"), "{}", r.actual);
    assert!(!eval(CheckKind::NotContains("$42".into()), &o).passed);
    assert!(
        eval(
            CheckKind::Equals("Your refund of $42.00 is on its way.".into()),
            &o
        )
        .passed
    );
    assert!(!eval(CheckKind::Equals("Your refund".into()), &o).passed);
    let re = regex::Regex::new(r"\$\d+\.\d{2}").unwrap();
    assert!(eval(CheckKind::Regex(re), &o).passed);
    assert!(eval(CheckKind::MaxLength(36), &o).passed);
    let r = eval(CheckKind::MaxLength(10), &o);
    assert!(!r.passed && r.actual == "36 chars", "{}", r.actual);
}

#[cfg(feature = "json-schema")]
#[test]
fn json_schema_uses_a_real_validator_and_names_the_failing_path() {
    let schema = serde_json::json!({
        "type": "object",
        "required": ["order_id", "status"],
        "properties": {"status": {"enum": ["shipped", "delivered"]}}
    });
    let validator = Arc::new(jsonschema::validator_for(&schema).unwrap());
    let good = Observation::new(r#"{"order_id":"A1","status":"shipped"}"#);
    assert!(eval(CheckKind::JsonSchema(validator.clone()), &good).passed);
    let bad = Observation::new(r#"{"order_id":"A1","status":"lost"}"#);
    let r = eval(CheckKind::JsonSchema(validator.clone()), &bad);
    assert!(!r.passed);
    assert!(r.actual.contains("at /status"), "{}", r.actual);
    let prose = Observation::new("It shipped.");
    let r = eval(CheckKind::JsonSchema(validator), &prose);
    assert!(r.actual.starts_with("output is not JSON"), "{}", r.actual);
}

#[test]
fn refusal_prefers_what_the_agent_reported() {
    let said_no = Observation::new("Happy to help!").with_refusal(true);
    assert!(eval(CheckKind::Refusal(true), &said_no).passed);
    let detected = Observation::new("I'm sorry, but I can't help with that.");
    let r = eval(CheckKind::Refusal(false), &detected);
    assert!(!r.passed);
    assert!(r.actual.starts_with("refused (detected)"), "{}", r.actual);
}

#[test]
fn latency_bound() {
    let o = Observation::new("x");
    assert!(eval(CheckKind::MaxLatency(Duration::from_millis(200)), &o).passed);
    let r = eval(CheckKind::MaxLatency(Duration::from_millis(100)), &o);
    assert!(!r.passed && r.actual == "120.0 ms", "{}", r.actual);
}

#[test]
fn branch_checks_show_the_observed_sequence() {
    let o = Observation::new("done")
        .with_decision("route", "refund")
        .with_decision("tool", "issue_refund");
    let r = eval(
        CheckKind::Branches(vec![Decision::new("route", "handoff")]),
        &o,
    );
    assert!(!r.passed);
    assert_eq!(
        r.actual,
        "missing route.handoff; observed route.refund → tool.issue_refund"
    );
    assert!(
        eval(
            CheckKind::Branches(vec![Decision::new("tool", "issue_refund")]),
            &o
        )
        .passed
    );
    let r = eval(
        CheckKind::NotBranches(vec![Decision::new("tool", "issue_refund")]),
        &o,
    );
    assert!(!r.passed);
    assert!(
        r.actual.starts_with("present tool.issue_refund"),
        "{}",
        r.actual
    );
}

#[test]
fn path_is_an_ordered_subsequence_and_a_failure_says_how_far_it_got() {
    let o = Observation::new("ok")
        .with_decision("route", "refund")
        .with_decision("tool", "lookup_order")
        .with_decision("escalate", "refund_over_limit")
        .with_decision("tool", "issue_refund");
    let d = |s: &str| Decision::parse(s).unwrap();
    let path = |list: &[&str]| CheckKind::Path(list.iter().map(|s| d(s)).collect());
    assert!(eval(path(&["route.refund", "tool.issue_refund"]), &o).passed);
    assert!(
        eval(
            path(&["route.refund", "tool.lookup_order", "tool.issue_refund"]),
            &o
        )
        .passed
    );
    let r = eval(path(&["tool.issue_refund", "tool.lookup_order"]), &o);
    assert!(!r.passed);
    assert_eq!(
        r.expected,
        "decisions in the order tool.issue_refund → tool.lookup_order"
    );
    assert_eq!(
        r.actual,
        "no tool.lookup_order after tool.issue_refund; observed route.refund → \
         tool.lookup_order → escalate.refund_over_limit → tool.issue_refund"
    );
    let r = eval(path(&["route.handoff"]), &Observation::new("x"));
    assert_eq!(r.actual, "no route.handoff; observed no decisions");
}

#[test]
fn a_recall_probe_passes_on_the_fact_in_any_case_and_shows_memory_when_it_fails() {
    let probe = || CheckKind::Recalled {
        fact: "A1042".into(),
        turn: 1,
    };
    let r = eval(probe(), &Observation::new("Your order is a1042."));
    assert!(r.passed, "{}", r.actual);
    assert_eq!(
        r.expected,
        "the answer recalling \"A1042\" (said in turn 1)"
    );
    let forgot = Observation::new("Which order do you mean?")
        .with_memory(1, ["order"])
        .with_memory(3, ["mood", "city"]);
    let r = eval(probe(), &forgot);
    assert!(!r.passed);
    assert!(
        r.actual.ends_with("; memory after turn 3: {city, mood}"),
        "{}",
        r.actual
    );
}
