//! What goes to an agent and what comes back: the request built from a case, and the
//! observation one sample produced. Every target (HTTP, OpenAI, command, in-process)
//! speaks in these types, so checks and records never care how the agent was reached.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One chat message of a case's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: Role,
    /// The message's text.
    pub content: String,
}

/// The role of a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions to the model.
    System,
    /// What the user said.
    User,
    /// What the assistant answered (earlier turns of a conversation).
    Assistant,
    /// A tool's result.
    Tool,
}

/// The contents of the user messages, in order: turn `n` of a conversation is the `n`-th.
pub fn user_messages(messages: &[Message]) -> Vec<&str> {
    messages
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| m.content.as_str())
        .collect()
}

/// The user messages, joined by newlines: the text representativeness and ticket import
/// compare a case by.
pub fn user_text(messages: &[Message]) -> String {
    user_messages(messages).join("\n")
}

/// Whether `text` contains `word` case-insensitively, not as part of a longer word: the
/// characters around it are not letters, digits or `_` (`A1005` is in "order A1005." but
/// not in "A10050"; "Ann" is not in "annual"). Scripts written without spaces (Chinese,
/// Japanese, Korean) have no word boundaries to look for: next to one of their
/// characters, or where the word itself starts or ends with one, any neighbour will do
/// ("订单A1005已发货").
pub fn contains_word(text: &str, word: &str) -> bool {
    let (text, word) = (text.to_lowercase(), word.to_lowercase());
    let (Some(first), Some(last)) = (word.chars().next(), word.chars().next_back()) else {
        return false;
    };
    let joins = |edge: char, neighbour: Option<char>| {
        neighbour
            .is_some_and(|c| (c.is_alphanumeric() || c == '_') && !unspaced(c) && !unspaced(edge))
    };
    text.match_indices(&word).any(|(at, _)| {
        !joins(first, text[..at].chars().next_back())
            && !joins(last, text[at + word.len()..].chars().next())
    })
}

/// Characters of scripts written without spaces between words: CJK ideographs, kana,
/// Hangul.
fn unspaced(c: char) -> bool {
    matches!(
        u32::from(c),
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF
            | 0x20000..=0x2FFFF
    )
}

impl Role {
    /// The role as chat APIs spell it: `system`, `user`, `assistant` or `tool`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// What one sample sends to the agent. Built fresh for every sample: nothing is cached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Request {
    /// The case id, so an agent's own logs can be matched to the record.
    pub case: String,
    /// Which sample of the case this is (0-based).
    pub sample: u32,
    /// The conversation to answer: the case's `input.messages`.
    pub messages: Vec<Message>,
    /// The case's `vars:`, passed to the agent as they are (an order id, a flag).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub vars: serde_json::Map<String, Value>,
    /// The customer the case speaks for (`customer:`), when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// A hint for which serving tier the agent should use (e.g. to force a fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Where the agent writes this sample's OpenTelemetry trace (OTLP JSON), when the suite
    /// reads decisions from traces (`traces:`). Also sent as the `x-evalgate-trace-file`
    /// header and, to a `command` agent, as `$EVALGATE_TRACE_FILE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_file: Option<String>,
    /// The load condition the sample runs under (`conditions:`), and the base URL the agent
    /// must call its model provider at for it: evalgate's fault-injecting proxy. Also sent
    /// as the `x-evalgate-condition` / `x-evalgate-provider-url` headers and, to a
    /// `command` agent, as `$EVALGATE_CONDITION` / `$EVALGATE_PROVIDER_URL` (and the
    /// variable `load.env` names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The base URL of the proxy session for `condition`: the agent calls its model provider here
    /// instead of at the provider's own URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_url: Option<String>,
    /// The value of each axis of the version envelope the agent must run with (model
    /// snapshot, prompt, tool catalog, index, sampling), when evalgate chooses them
    /// (`evalgate bisect`, `$EVALGATE_AXES`). Also sent as `x-evalgate-axis-<name>` headers
    /// and, to a `command` agent, as `$EVALGATE_AXIS_<NAME>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub axes: BTreeMap<String, String>,
}

impl Request {
    /// A request for sample `sample` of case `case`, with nothing but its messages.
    pub fn new(case: impl Into<String>, sample: u32, messages: Vec<Message>) -> Self {
        Request {
            case: case.into(),
            sample,
            messages,
            vars: serde_json::Map::new(),
            customer: None,
            tier: None,
            trace_file: None,
            condition: None,
            provider_url: None,
            axes: BTreeMap::new(),
        }
    }

    /// The content of the last user message, which most agents answer.
    pub fn last_user_message(&self) -> Option<&str> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
    }
}

/// A planner choice: `point.branch`, e.g. `route.handoff` or `tool.issue_refund`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decision {
    /// The decision point, e.g. `route` or `tool`.
    pub point: String,
    /// The branch taken at it, e.g. `handoff` or `issue_refund`.
    pub branch: String,
}

impl Decision {
    /// The decision `point.branch`.
    pub fn new(point: impl Into<String>, branch: impl Into<String>) -> Self {
        Decision {
            point: point.into(),
            branch: branch.into(),
        }
    }

    /// Parses `point.branch`; the point is everything before the first dot.
    pub fn parse(text: &str) -> Option<Decision> {
        let (point, branch) = text.split_once('.')?;
        if point.is_empty() || branch.is_empty() {
            return None;
        }
        Some(Decision::new(point, branch))
    }

    /// Whether an agent's decision is in the charset evalgate accepts, and if not why: a
    /// point and a branch of at least one character, at most [`MAX_DECISION_CHARS`] in all,
    /// none of them a character the terminal shows escaped (a control character such as
    /// newline, CR, ESC or NUL; a line separator; a bidirectional override). Names end up
    /// in every report, the terminal and CI logs included.
    pub fn check_name(&self) -> Result<(), String> {
        if self.point.is_empty() || self.branch.is_empty() {
            return Err("has an empty point or branch".into());
        }
        let chars = self.point.chars().count() + 1 + self.branch.chars().count();
        if chars > MAX_DECISION_CHARS {
            return Err(format!(
                "is {chars} characters long (at most {MAX_DECISION_CHARS})"
            ));
        }
        let shown_escaped = |s: &str| s.chars().any(crate::terminal::is_unprintable);
        if shown_escaped(&self.point) || shown_escaped(&self.branch) {
            return Err("holds a control character".into());
        }
        // Names are printed as they are (coverage, `catalog suggest`): none may read as a
        // GitHub workflow command.
        if self.point.starts_with("::") || format!("{self}").contains("##[") {
            return Err("looks like a workflow command (`::` first, or `##[`)".into());
        }
        Ok(())
    }
}

/// The longest decision name accepted, `point.branch` in all, in characters.
pub const MAX_DECISION_CHARS: usize = 200;

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.point, self.branch)
    }
}

impl Serialize for Decision {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decision {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Decision::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "decision `{text}` is not of the form `point.branch` (e.g. `route.handoff`)"
            ))
        })
    }
}

/// Tokens spent by one sample, as reported by the agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens sent to the model (prompt tokens).
    #[serde(default)]
    pub input_tokens: u64,
    /// Tokens the model generated (completion tokens).
    #[serde(default)]
    pub output_tokens: u64,
}

impl Usage {
    /// Input and output tokens together.
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// The agent's output for one sample: text, and the parsed JSON when the text is JSON
/// (or the agent answered with a JSON value).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Output {
    /// The output as text; JSON outputs as JSON text.
    pub text: String,
    /// The output parsed, when it is a JSON object or array.
    pub json: Option<Value>,
}

impl Output {
    /// An output of `text`, parsed as JSON too when it is a JSON object or array.
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        let json = serde_json::from_str(&text)
            .ok()
            .filter(|v: &Value| v.is_object() || v.is_array());
        Output { text, json }
    }

    /// An output given as a JSON value: strings are text, anything else is JSON.
    pub fn from_value(value: Value) -> Self {
        match value {
            Value::String(s) => Output::text(s),
            Value::Null => Output::default(),
            other => Output {
                text: other.to_string(),
                json: Some(other),
            },
        }
    }
}

/// What one sample of the agent produced. Agents fill what they know; everything but the
/// output is optional.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Observation {
    /// What the agent answered: what expectations and snapshots check.
    pub output: Output,
    /// Decision events in the order they occurred.
    pub decisions: Vec<Decision>,
    /// Tokens used, when the agent knows them: cost and token gates need them.
    pub usage: Option<Usage>,
    /// The serving tier that answered (`primary`, `secondary`, `canned`, ...).
    pub tier: Option<String>,
    /// The model the agent reports having used.
    pub model: Option<String>,
    /// The agent's own statement that it refused; `None` leaves it to the refusal detector.
    pub refusal: Option<bool>,
    /// e.g. `stop`, `length`, `tool_calls`.
    pub finish_reason: Option<String>,
    /// Time to the first token of the provider's streamed answer, as the agent measured it.
    pub ttft_ms: Option<f64>,
    /// Versions the agent reports (prompt hash, index version, ...).
    pub envelope: BTreeMap<String, String>,
    /// Problems reading the agent's decisions that did not stop the sample (a trace span
    /// missing an attribute, a half-specified tracing event), each naming where.
    pub warnings: Vec<String>,
    /// What the agent's memory retained after each turn of a multi-turn input, when it
    /// reports it (turns in increasing order).
    pub memory: Vec<MemoryTurn>,
}

/// The ids of the items an agent's memory retained after one turn of the conversation.
/// Turn `n` is the `n`-th user message of the input, counting from 1. Ids are the agent's
/// own (a fact key, a message id…), stable across runs, so retained sets can be compared
/// between envelopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryTurn {
    /// The turn: the `n`-th user message of the input, from 1.
    pub turn: u32,
    /// The ids of the items memory held after the turn.
    pub retained: BTreeSet<String>,
}

impl MemoryTurn {
    /// The items `retained` after turn `turn`.
    pub fn new(turn: u32, retained: impl IntoIterator<Item = impl Into<String>>) -> Self {
        MemoryTurn {
            turn,
            retained: retained.into_iter().map(Into::into).collect(),
        }
    }
}

impl Observation {
    /// An observation of `output` and nothing else; add the rest with the `with_` methods.
    pub fn new(output: impl Into<String>) -> Self {
        Observation {
            output: Output::text(output),
            ..Observation::default()
        }
    }

    /// Adds the decision `point.branch`, after those already made.
    pub fn with_decision(mut self, point: impl Into<String>, branch: impl Into<String>) -> Self {
        self.decisions.push(Decision::new(point, branch));
        self
    }

    /// Sets the tokens the sample used.
    pub fn with_usage(mut self, input_tokens: u64, output_tokens: u64) -> Self {
        self.usage = Some(Usage {
            input_tokens,
            output_tokens,
        });
        self
    }

    /// Sets the serving tier that answered.
    pub fn with_tier(mut self, tier: impl Into<String>) -> Self {
        self.tier = Some(tier.into());
        self
    }

    /// Sets the model that answered.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// States whether the agent refused, instead of leaving it to the refusal detector.
    pub fn with_refusal(mut self, refused: bool) -> Self {
        self.refusal = Some(refused);
        self
    }

    /// Adds a version the agent ran with (`prompt` → its hash, `index` → its version).
    pub fn with_envelope(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.envelope.insert(key.into(), value.into());
        self
    }

    /// Adds what the agent's memory retained after `turn` (see [`MemoryTurn`]).
    pub fn with_memory(
        mut self,
        turn: u32,
        retained: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.memory.push(MemoryTurn::new(turn, retained));
        self
    }
}

/// The default wire shape of an agent's answer for the `http` target (and what the demo
/// agent's HTTP server sends):
///
/// ```json
/// {"output": "text or any JSON", "decisions": ["route.refund", "tool.lookup_order"],
///  "usage": {"input_tokens": 12, "output_tokens": 30}, "tier": "primary",
///  "model": "demo-support-1", "refusal": false, "finish_reason": "stop",
///  "envelope": {"prompt": "sha256:..."},
///  "memory": [{"turn": 1, "retained": ["order"]}, {"turn": 2, "retained": ["order", "mood"]}]}
/// ```
impl Observation {
    /// The observation in the `http` target's default answer shape, shown above.
    pub fn to_wire_json(&self) -> Value {
        let mut map = serde_json::Map::new();
        let output = match &self.output.json {
            Some(json) => json.clone(),
            None => Value::String(self.output.text.clone()),
        };
        map.insert("output".into(), output);
        map.insert(
            "decisions".into(),
            Value::Array(
                self.decisions
                    .iter()
                    .map(|d| Value::String(d.to_string()))
                    .collect(),
            ),
        );
        if let Some(usage) = self.usage {
            map.insert("usage".into(), serde_json::json!(usage));
        }
        for (key, value) in [
            ("tier", &self.tier),
            ("model", &self.model),
            ("finish_reason", &self.finish_reason),
        ] {
            if let Some(value) = value {
                map.insert(key.into(), Value::String(value.clone()));
            }
        }
        if let Some(refusal) = self.refusal {
            map.insert("refusal".into(), Value::Bool(refusal));
        }
        if !self.envelope.is_empty() {
            map.insert("envelope".into(), serde_json::json!(self.envelope));
        }
        if !self.memory.is_empty() {
            map.insert("memory".into(), serde_json::json!(self.memory));
        }
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_round_trips_through_text() {
        let d = Decision::parse("tool.issue_refund").unwrap();
        assert_eq!(d, Decision::new("tool", "issue_refund"));
        assert_eq!(d.to_string(), "tool.issue_refund");
        assert_eq!(
            Decision::parse("route.handoff.now").unwrap().branch,
            "handoff.now"
        );
        assert!(Decision::parse("route").is_none());
        assert!(Decision::parse(".x").is_none());
    }

    #[test]
    fn decision_names_are_printable_and_bounded() {
        for ok in [
            "route.handoff",
            "tool.issue_refund",
            "route.café ☕",
            "a.::b",
        ] {
            let d = Decision::parse(ok).unwrap();
            assert_eq!(d.check_name(), Ok(()), "{ok:?}");
        }
        let long = format!("route.{}", "x".repeat(MAX_DECISION_CHARS - 5));
        assert!(Decision::parse(&long).unwrap().check_name().is_err());
        assert!(Decision::parse(&long[1..]).unwrap().check_name().is_ok());
        for bad in [
            Decision::new("route", "a\n::error::x"),
            Decision::new("route", "a\rb"),
            Decision::new("tool\u{1b}[31m", "b"),
            Decision::new("route", "nul\u{0}"),
            Decision::new("route", "\u{202e}gnp.exe"),
            Decision::new("route", "a\u{2028}b"),
            Decision::new("", "b"),
            Decision::new("##[warning]a", "b"),
            Decision::new("::error::x", "b"),
        ] {
            assert!(bad.check_name().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn output_text_that_is_json_is_parsed() {
        assert!(Output::text(r#"{"a":1}"#).json.is_some());
        assert!(Output::text("42").json.is_none());
        assert!(Output::text("hello").json.is_none());
        let o = Output::from_value(serde_json::json!({"status": "shipped"}));
        assert_eq!(o.json.unwrap()["status"], "shipped");
        // An answer read over HTTP keeps the agent's key order, as it does in-process.
        let parsed: Value =
            serde_json::from_str(r#"{"order_id":"A1","status":"x","eta":null}"#).unwrap();
        assert_eq!(
            Output::from_value(parsed).text,
            r#"{"order_id":"A1","status":"x","eta":null}"#
        );
    }

    #[test]
    fn a_fact_is_found_as_a_word_of_its_own() {
        assert!(contains_word("Your order A1005 has shipped.", "a1005"));
        assert!(contains_word("(A1005)", "A1005"));
        assert!(!contains_word("Order A10050 has shipped.", "A1005"));
        assert!(!contains_word("our annual sale", "Ann"));
        assert!(contains_word("Ann, hello", "ann"));
        assert!(contains_word("您的订单A1005已发货", "A1005"));
        assert!(contains_word("ご注文は東京に届きます", "東京"));
        assert!(!contains_word("order_A1005", "A1005"));
        assert!(!contains_word("anything", ""));
    }
}
