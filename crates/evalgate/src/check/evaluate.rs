//! Evaluating each expectation of a case against one observation, and the texts a failed
//! one shows (what it expected, what the sample did instead).

use std::time::Duration;

use super::refusal::RefusalDetector;
use crate::case::{Check, CheckKind};
use crate::observation::{Decision, Observation, contains_word};
use crate::record::CheckResult;

/// How much of the output a failure message quotes.
const EXCERPT_CHARS: usize = 240;

/// Evaluates every check; all of them run, so a failure report is complete.
pub(crate) fn evaluate(
    checks: &[Check],
    observation: &Observation,
    latency: Duration,
    refusals: &RefusalDetector,
) -> Vec<CheckResult> {
    checks
        .iter()
        .map(|check| {
            let (passed, expected, actual) = run(&check.kind, observation, latency, refusals);
            CheckResult {
                expectation: check.kind.name().to_string(),
                line: check.position.line,
                column: check.position.column,
                passed,
                expected,
                actual,
            }
        })
        .collect()
}

fn run(
    kind: &CheckKind,
    observation: &Observation,
    latency: Duration,
    refusals: &RefusalDetector,
) -> (bool, String, String) {
    let text = observation.output.text.as_str();
    let output = || format!("output {}", excerpt(text));
    match kind {
        CheckKind::Equals(want) => (
            text == want,
            format!("output equal to {}", quote(want)),
            output(),
        ),
        CheckKind::Contains(want) => (
            text.contains(want.as_str()),
            format!("output containing {}", quote(want)),
            output(),
        ),
        CheckKind::NotContains(unwanted) => {
            let found = text.find(unwanted.as_str());
            let actual = match found {
                Some(at) => format!("found at char {}: {}", text[..at].chars().count(), output()),
                None => output(),
            };
            (
                found.is_none(),
                format!("output not containing {}", quote(unwanted)),
                actual,
            )
        }
        CheckKind::Regex(re) => (
            re.is_match(text),
            format!("output matching /{}/", re.as_str()),
            output(),
        ),
        #[cfg(feature = "json-schema")]
        CheckKind::JsonSchema(validator) => json_schema(validator, observation),
        CheckKind::MaxLength(max) => {
            let len = text.chars().count();
            (
                len <= *max,
                format!("output of at most {max} chars"),
                format!("{len} chars"),
            )
        }
        CheckKind::Refusal(want) => refusal(*want, observation, refusals),
        CheckKind::MaxLatency(max) => (
            latency <= *max,
            format!("latency of at most {}", crate::duration::show(*max)),
            format!("{:.1} ms", latency.as_secs_f64() * 1000.0),
        ),
        CheckKind::Branches(wanted) => {
            let missing: Vec<&Decision> = wanted
                .iter()
                .filter(|d| !observation.decisions.contains(d))
                .collect();
            (
                missing.is_empty(),
                format!("decisions including {}", list(wanted.iter())),
                observed(&missing, "missing", &observation.decisions),
            )
        }
        CheckKind::NotBranches(unwanted) => {
            let present: Vec<&Decision> = unwanted
                .iter()
                .filter(|d| observation.decisions.contains(d))
                .collect();
            (
                present.is_empty(),
                format!("decisions excluding {}", list(unwanted.iter())),
                observed(&present, "present", &observation.decisions),
            )
        }
        CheckKind::Recalled { fact, turn } => recalled(fact, *turn, observation),
        CheckKind::Todo(note) => (
            false,
            format!("an expectation still to be written: {note}"),
            "a draft's placeholder is never met; write the expectation".to_string(),
        ),
        CheckKind::Path(path) => in_order(path, &observation.decisions),
    }
}

/// `json_schema:`: the output is JSON the schema accepts; the first three problems shown.
#[cfg(feature = "json-schema")]
fn json_schema(
    validator: &jsonschema::Validator,
    observation: &Observation,
) -> (bool, String, String) {
    let text = observation.output.text.as_str();
    let output = || format!("output {}", excerpt(text));

    let expected = "output valid against the JSON Schema".to_string();
    match &observation.output.json {
        None => (
            false,
            expected,
            format!("output is not JSON: {}", excerpt(text)),
        ),
        Some(json) => {
            let problems: Vec<String> = validator
                .iter_errors(json)
                .take(3)
                .map(|e| {
                    let at = e.instance_path().to_string();
                    let at = if at.is_empty() { "/".to_string() } else { at };
                    format!("at {at}: {e}")
                })
                .collect();
            let ok = problems.is_empty();
            let actual = if ok { output() } else { problems.join("; ") };
            (ok, expected, actual)
        }
    }
}

/// `refusal:`: the agent's own word on whether it refused, else the suite's detector.
fn refusal(
    want: bool,
    observation: &Observation,
    refusals: &RefusalDetector,
) -> (bool, String, String) {
    let text = observation.output.text.as_str();

    let (refused, how) = match observation.refusal {
        Some(r) => (r, "agent reported"),
        None => (refusals.is_refusal(text), "detected"),
    };
    let expected = if want { "a refusal" } else { "no refusal" }.to_string();
    let actual = format!(
        "{} ({how}): {}",
        if refused { "refused" } else { "answered" },
        excerpt(text)
    );
    (refused == want, expected, actual)
}

/// `recalled:`: the answer says the fact (as a word); when it does not, what the agent's
/// memory held after its last turn.
fn recalled(fact: &str, turn: u32, observation: &Observation) -> (bool, String, String) {
    let text = observation.output.text.as_str();
    let output = || format!("output {}", excerpt(text));

    let recalled = contains_word(text, fact);
    let mut actual = output();
    if !recalled && let Some(last) = observation.memory.last() {
        actual.push_str(&format!(
            "; memory after turn {}: {}",
            last.turn,
            memory_set(&last.retained)
        ));
    }
    (
        recalled,
        format!("the answer recalling {} (said in turn {turn})", quote(fact)),
        actual,
    )
}

/// `path:`: the decisions occur in this order (others may come between them).
fn in_order(path: &[Decision], decisions: &[Decision]) -> (bool, String, String) {
    let matched = matched_prefix(path, decisions);
    let expected = format!("decisions in the order {}", sequence(path));
    if matched == path.len() {
        return (true, expected, observed(&[], "", decisions));
    }
    let after = match matched {
        0 => String::new(),
        n => format!(" after {}", sequence(&path[..n])),
    };
    (
        false,
        expected,
        format!(
            "no {}{after}; observed {}",
            path[matched],
            sequence(decisions)
        ),
    )
}

/// How many decisions of `path` occur in `decisions` in order (a subsequence, so other
/// decisions may come between them), matching each as early as possible.
fn matched_prefix(path: &[Decision], decisions: &[Decision]) -> usize {
    let mut matched = 0;
    for decision in decisions {
        if matched < path.len() && *decision == path[matched] {
            matched += 1;
        }
    }
    matched
}

/// `missing x, y; observed a → b`, or just the observed sequence when nothing is at fault.
fn observed(at_fault: &[&Decision], what: &str, decisions: &[Decision]) -> String {
    if at_fault.is_empty() {
        return format!("observed {}", sequence(decisions));
    }
    format!(
        "{what} {}; observed {}",
        list(at_fault.iter().copied()),
        sequence(decisions)
    )
}

/// The observed decision sequence, in order: `route.refund → tool.issue_refund`.
pub(crate) fn sequence(decisions: &[Decision]) -> String {
    if decisions.is_empty() {
        return "no decisions".into();
    }
    decisions
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" → ")
}

fn list<'a>(decisions: impl Iterator<Item = &'a Decision>) -> String {
    decisions
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A retained set for people: `{a, b}`, `{}` when empty.
pub(crate) fn memory_set<'a>(ids: impl IntoIterator<Item = &'a String>) -> String {
    // The agent names its memory items: escaped, so none is read as a command.
    let ids: Vec<String> = ids
        .into_iter()
        .map(|id| crate::terminal::printable(id))
        .collect();
    format!("{{{}}}", ids.join(", "))
}

fn quote(text: &str) -> String {
    format!("{:?}", text)
}

/// A quoted, bounded excerpt of untrusted text (escaped, so control characters show).
pub(crate) fn excerpt(text: &str) -> String {
    // Hidden before it is cut: a secret cut in two would be matched by neither half.
    let text = crate::target::secrets::hidden(text);
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    let more = chars.count();
    if more == 0 {
        format!("{head:?}")
    } else {
        format!("{head:?} … ({more} more chars)")
    }
}

#[cfg(test)]
mod tests;
