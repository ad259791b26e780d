//! Reading an agent's JSON answer into an [`Observation`], at configurable JSON pointers.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

pub(crate) use evalgate_core::config::target::ResponseMap;

use super::Failure;
use crate::observation::{Decision, MemoryTurn, Observation, Output, Usage};

/// Reading an agent's JSON answer by a [`ResponseMap`] (a plain config type of the core
/// crate, so the reading is a trait here).
pub(crate) trait Observe {
    /// Maps the answer `body` into an observation; a missing output is a malformed answer.
    fn observe(&self, body: &Value) -> Result<Observation, Failure>;
}

impl Observe for ResponseMap {
    fn observe(&self, body: &Value) -> Result<Observation, Failure> {
        let output = body.pointer(&self.output).ok_or_else(|| {
            Failure::new(format!(
                "malformed answer: no output at JSON pointer `{}`",
                self.output
            ))
        })?;
        let mut observation = Observation::default();
        observation.output = Output::from_value(output.clone());
        if let Some(value) = body.pointer(&self.decisions) {
            observation.decisions = decisions(value)?;
        }
        if let Some(value) = body.pointer(&self.usage) {
            observation.usage = usage(value);
        }
        observation.tier = string_at(body, &self.tier);
        observation.model = string_at(body, &self.model);
        observation.finish_reason = string_at(body, &self.finish_reason);
        observation.refusal = body.pointer(&self.refusal).and_then(Value::as_bool);
        observation.ttft_ms = body
            .pointer(&self.ttft_ms)
            .and_then(Value::as_f64)
            .filter(|ms| ms.is_finite() && *ms >= 0.0);
        if let Some(Value::Object(map)) = body.pointer(&self.envelope) {
            observation.envelope = map
                .iter()
                .map(|(k, v)| (k.clone(), scalar_text(v)))
                .collect::<BTreeMap<_, _>>();
        }
        if let Some(value) = body.pointer(&self.memory).filter(|v| !v.is_null()) {
            observation.memory = memory(value, &mut observation.warnings)?;
        }
        Ok(observation)
    }
}

fn string_at(body: &Value, pointer: &str) -> Option<String> {
    match body.pointer(pointer)? {
        Value::Null => None,
        value => Some(scalar_text(value)),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Decision events: `"point.branch"` strings or `{"point": .., "branch": ..}` objects
/// (`decision` is accepted for `point`).
pub(crate) fn decisions(value: &Value) -> Result<Vec<Decision>, Failure> {
    let Value::Array(items) = value else {
        return Err(Failure::new("malformed answer: decisions are not a list"));
    };
    items
        .iter()
        .map(|item| {
            let parsed = match item {
                Value::String(s) => Decision::parse(s),
                Value::Object(map) => {
                    let point = map.get("point").or_else(|| map.get("decision"));
                    match (point.and_then(Value::as_str), map.get("branch").and_then(Value::as_str)) {
                        (Some(p), Some(b)) if !p.is_empty() && !b.is_empty() => {
                            Some(Decision::new(p, b))
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            parsed.ok_or_else(|| {
                Failure::new(format!(
                    "malformed answer: decision {item} is neither \"point.branch\" nor {{\"point\", \"branch\"}}"
                ))
            })
        })
        .collect()
}

/// Memory reports: a list with one entry per turn, in increasing turn order, each
/// `{"turn": n, "retained": [ids]}` (the whole retained set after turn `n`) or
/// `{"turn": n, "kept": [ids], "evicted": [ids]}` (the change since the previous entry; the
/// set starts empty). Both come out as the retained set after each turn. Evicting an id no
/// earlier turn kept is a warning (it may come from memory older than the conversation).
pub(crate) fn memory(
    value: &Value,
    warnings: &mut Vec<String>,
) -> Result<Vec<MemoryTurn>, Failure> {
    let bad = |why: String| Failure::new(format!("malformed answer: memory {why}"));
    let Value::Array(entries) = value else {
        return Err(bad("is not a list of turns".into()));
    };
    let ids = |entry: &Value, key: &str| -> Result<Option<Vec<String>>, Failure> {
        match entry.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) if !s.is_empty() => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(bad(format!("`{key}` holds {other}, not an item id"))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(bad(format!("`{key}` is {other}, not a list of item ids"))),
        }
    };
    let mut turns: Vec<MemoryTurn> = Vec::with_capacity(entries.len());
    let mut held: BTreeSet<String> = BTreeSet::new();
    for entry in entries {
        let turn = entry
            .get("turn")
            .and_then(Value::as_u64)
            .and_then(|t| u32::try_from(t).ok())
            .filter(|t| *t >= 1)
            .ok_or_else(|| bad(format!("entry {entry} has no `turn` (a number from 1)")))?;
        if let Some(last) = turns.last()
            && turn <= last.turn
        {
            return Err(bad(format!(
                "turn {turn} comes after turn {}; report turns in increasing order",
                last.turn
            )));
        }
        let retained = ids(entry, "retained")?;
        let kept = ids(entry, "kept")?;
        let evicted = ids(entry, "evicted")?;
        match (retained, kept.is_some() || evicted.is_some()) {
            (Some(_), true) => {
                return Err(bad(format!(
                    "turn {turn} gives both `retained` and `kept`/`evicted`; give one"
                )));
            }
            (Some(retained), false) => held = retained.into_iter().collect(),
            (None, false) => {
                return Err(bad(format!(
                    "turn {turn} gives neither `retained` nor `kept`/`evicted`"
                )));
            }
            (None, true) => {
                let (kept, evicted) = (kept.unwrap_or_default(), evicted.unwrap_or_default());
                if let Some(id) = kept.iter().find(|id| evicted.contains(id)) {
                    return Err(bad(format!(
                        "turn {turn} both keeps and evicts `{id}`; report what the turn ended with"
                    )));
                }
                held.extend(kept);
                for id in evicted {
                    if !held.remove(&id) {
                        warnings.push(format!(
                            "memory: turn {turn} evicts `{id}`, which no earlier turn kept"
                        ));
                    }
                }
            }
        }
        turns.push(MemoryTurn {
            turn,
            retained: held.clone(),
        });
    }
    Ok(turns)
}

/// Token usage in our shape (`input_tokens`/`output_tokens`) or OpenAI's
/// (`prompt_tokens`/`completion_tokens`).
pub(crate) fn usage(value: &Value) -> Option<Usage> {
    let get = |a: &str, b: &str| {
        value
            .get(a)
            .or_else(|| value.get(b))
            .and_then(Value::as_u64)
    };
    let input = get("input_tokens", "prompt_tokens");
    let output = get("output_tokens", "completion_tokens");
    if input.is_none() && output.is_none() {
        return None;
    }
    Some(Usage {
        input_tokens: input.unwrap_or(0),
        output_tokens: output.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_shape_round_trips_the_wire_json() {
        let o = Observation::new("Refund issued")
            .with_decision("route", "refund")
            .with_decision("tool", "issue_refund")
            .with_usage(10, 5)
            .with_tier("primary")
            .with_model("m1")
            .with_refusal(false)
            .with_envelope("prompt", "sha256:abc")
            .with_memory(1, ["order"])
            .with_memory(2, ["order", "mood"]);
        let back = ResponseMap::default().observe(&o.to_wire_json()).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn custom_pointers_and_object_decisions() {
        let map = ResponseMap {
            output: "/data/answer".into(),
            decisions: "/trace/steps".into(),
            ..ResponseMap::default()
        };
        let body = json!({"data": {"answer": {"status": "shipped"}},
                          "trace": {"steps": [{"point": "route", "branch": "status"},
                                               {"decision": "tool", "branch": "lookup"}]},
                          "usage": {"prompt_tokens": 3, "completion_tokens": 4}});
        let o = map.observe(&body).unwrap();
        assert_eq!(o.output.json.unwrap()["status"], "shipped");
        assert_eq!(o.decisions[1], Decision::new("tool", "lookup"));
        assert_eq!(o.usage.unwrap().total(), 7);
    }

    #[test]
    fn a_time_to_first_token_is_read_and_a_nonsense_one_dropped() {
        let map = ResponseMap::default();
        let read = |ttft: Value| {
            map.observe(&json!({"output": "hi", "ttft_ms": ttft}))
                .unwrap()
                .ttft_ms
        };
        assert_eq!(read(json!(412.5)), Some(412.5));
        assert_eq!(read(json!(-3)), None);
        assert_eq!(read(json!("fast")), None);
    }

    #[test]
    fn memory_events_become_the_retained_set_after_each_turn() {
        let map = ResponseMap::default();
        let o = map
            .observe(&json!({"output": "hi", "memory": [
                {"turn": 1, "kept": ["order", "city"]},
                {"turn": 2, "kept": ["mood"], "evicted": ["city", "ghost"]},
                {"turn": 4, "retained": ["mood", 7]},
            ]}))
            .unwrap();
        let sets: Vec<(u32, Vec<&str>)> = o
            .memory
            .iter()
            .map(|t| (t.turn, t.retained.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            sets,
            [
                (1, vec!["city", "order"]),
                (2, vec!["mood", "order"]),
                (4, vec!["7", "mood"])
            ]
        );
        assert_eq!(
            o.warnings,
            ["memory: turn 2 evicts `ghost`, which no earlier turn kept"]
        );
        for (memory, why) in [
            (json!({"turn": 1}), "is not a list"),
            (json!([{"retained": []}]), "has no `turn`"),
            (json!([{"turn": 0, "retained": []}]), "has no `turn`"),
            (
                json!([{"turn": 2, "retained": []}, {"turn": 1, "retained": []}]),
                "increasing order",
            ),
            (json!([{"turn": 1}]), "neither `retained`"),
            (
                json!([{"turn": 1, "retained": [], "kept": ["a"]}]),
                "give one",
            ),
            (json!([{"turn": 1, "kept": [{"id": 1}]}]), "not an item id"),
            (
                json!([{"turn": 1, "kept": ["a"], "evicted": ["a"]}]),
                "both keeps and evicts `a`",
            ),
        ] {
            let e = map
                .observe(&json!({"output": "hi", "memory": memory}))
                .unwrap_err();
            assert!(e.reason.contains(why), "{why}: {}", e.reason);
        }
    }

    #[test]
    fn missing_output_and_bad_decisions_are_malformed() {
        let e = ResponseMap::default()
            .observe(&json!({"text": "hi"}))
            .unwrap_err();
        assert!(e.reason.contains("no output at JSON pointer `/output`"));
        let e = ResponseMap::default()
            .observe(&json!({"output": "x", "decisions": ["nodot"]}))
            .unwrap_err();
        assert!(e.reason.contains("nodot"));
    }
}
