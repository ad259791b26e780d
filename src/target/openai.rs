//! The `openai` target: any OpenAI-compatible `/chat/completions` endpoint. Tool calls
//! become `tool.<name>` decision events; `finish_reason`, refusals and usage are recorded.
//! The API key is read from the environment variable the suite names, and only ever put
//! in the `Authorization` header (marked sensitive), never in records or reports.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{TIER_HEADER, header_map, parse_json, request_headers, resolve_ca_file};
use super::retry::exchange;
use super::{Attempts, Failure, Overrides, wire};
use crate::errors::ConfigError;
use crate::observation::{Decision, Observation, Output, Request};
use crate::suite::{RetryPolicy, Suite};

/// `target: {openai: ...}` in the suite file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// e.g. `https://api.openai.com/v1`; `/chat/completions` is appended.
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the API key (e.g. `OPENAI_API_KEY`).
    pub api_key_env: Option<String>,
    /// Tools in the OpenAI `tools` format, sent with every request.
    #[serde(default)]
    pub tools: Vec<Value>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The response header that names the serving tier, if the endpoint sends one.
    pub tier_header: Option<String>,
    /// PEM certificates trusted as roots in addition to the system's (an internal CA);
    /// relative to the evals folder, `${ENV}` expanded.
    pub ca_file: Option<String>,
}

pub(crate) struct OpenAiTarget {
    client: reqwest::Client,
    url: reqwest::Url,
    headers: reqwest::header::HeaderMap,
    model: String,
    tools: Vec<Value>,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    tier_header: String,
    retries: RetryPolicy,
    body_limit: usize,
}

impl OpenAiTarget {
    pub(crate) fn new(
        config: &OpenAiConfig,
        suite: &Suite,
        overrides: &Overrides,
    ) -> Result<OpenAiTarget, ConfigError> {
        let fail = |m: String| ConfigError::new(&suite.dir, m);
        let base = overrides
            .expand(&config.base_url)
            .map_err(|e| fail(format!("target.openai.base_url: {e}")))?;
        let url = reqwest::Url::parse(&format!("{}/chat/completions", base.trim_end_matches('/')))
            .map_err(|e| fail(format!("target.openai.base_url `{base}` is not a URL: {e}")))?;
        let mut headers = header_map(&config.headers, overrides).map_err(fail)?;
        if let Some(var) = &config.api_key_env {
            let key = std::env::var(var).map_err(|_| {
                fail(format!(
                    "target.openai.api_key_env: environment variable `{var}` is not set"
                ))
            })?;
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| {
                    fail(format!(
                        "the API key in `{var}` is not a valid header value"
                    ))
                })?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        for tool in &config.tools {
            if tool
                .pointer("/function/name")
                .and_then(Value::as_str)
                .is_none()
            {
                return Err(fail(format!(
                    "target.openai.tools: {tool} has no function.name (OpenAI tools format)"
                )));
            }
        }
        let ca_file = resolve_ca_file(config.ca_file.as_deref(), suite, overrides)
            .map_err(|e| fail(format!("target.openai.ca_file: {e}")))?;
        Ok(OpenAiTarget {
            client: super::http_client(suite, &url, ca_file.as_deref(), "target.openai")
                .map_err(fail)?,
            url,
            headers,
            model: config.model.clone(),
            tools: config.tools.clone(),
            temperature: config.temperature,
            max_tokens: config.max_tokens,
            tier_header: config
                .tier_header
                .clone()
                .unwrap_or_else(|| TIER_HEADER.to_string()),
            retries: suite.retries,
            body_limit: suite.response_bytes,
        })
    }

    pub(crate) async fn call(
        &self,
        request: &Request,
        attempts: &mut Attempts,
    ) -> Result<Observation, Failure> {
        let mut body = json!({
            "model": self.model,
            "messages": request.messages.iter()
                .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
                .collect::<Vec<_>>(),
        });
        if !self.tools.is_empty() {
            body["tools"] = Value::Array(self.tools.clone());
        }
        if let Some(t) = self.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(m) = self.max_tokens {
            body["max_tokens"] = json!(m);
        }
        let body = serde_json::to_vec(&body).expect("requests serialize");
        let answer = exchange(
            || {
                self.client
                    .post(self.url.clone())
                    .headers(self.headers.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .headers(request_headers(request))
                    .body(body.clone())
            },
            self.retries,
            self.body_limit,
            attempts,
        )
        .await?;
        let json = parse_json(&answer.body)?;
        let mut observation = observe_completion(&json)?;
        if let Some(tier) = answer.headers.get(self.tier_header.as_str())
            && let Ok(tier) = tier.to_str()
        {
            observation.tier = Some(tier.to_string());
        }
        Ok(observation)
    }
}

/// Maps a `chat.completion` object into an observation.
pub(crate) fn observe_completion(json: &Value) -> Result<Observation, Failure> {
    let choice = json
        .pointer("/choices/0")
        .ok_or_else(|| Failure::new("malformed answer: no choices[0] in the chat completion"))?;
    let message = choice
        .get("message")
        .ok_or_else(|| Failure::new("malformed answer: choices[0] has no message"))?;
    let text = message
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut observation = Observation {
        output: Output::text(text),
        ..Observation::default()
    };
    if let Some(Value::Array(calls)) = message.get("tool_calls") {
        for call in calls {
            let name = call
                .pointer("/function/name")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Failure::new("malformed answer: a tool call has no function.name")
                })?;
            observation.decisions.push(Decision::new("tool", name));
        }
    }
    // A refusal text is the model saying so; its absence is not proof of an answer
    // (compatible servers often omit the field), so the phrase detector decides then.
    let refusal = message
        .get("refusal")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty());
    observation.refusal = refusal.map(|_| true);
    if observation.output.text.is_empty()
        && let Some(r) = refusal
    {
        observation.output = Output::text(r);
    }
    observation.finish_reason = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .map(str::to_string);
    // The model's own choices beyond tools are decisions too: refusing, and how it
    // stopped (`finish_reason.length` is a truncated answer, `content_filter` a block).
    if observation.refusal == Some(true) {
        observation
            .decisions
            .push(Decision::new("refusal", "refused"));
    }
    if let Some(reason) = observation
        .finish_reason
        .as_deref()
        .filter(|r| !r.is_empty())
    {
        observation
            .decisions
            .push(Decision::new("finish_reason", reason));
    }
    observation.usage = json.get("usage").and_then(wire::usage);
    observation.model = json
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(fp) = json.get("system_fingerprint").and_then(Value::as_str) {
        observation.envelope = BTreeMap::from([("system_fingerprint".into(), fp.into())]);
    }
    Ok(observation)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference sample of a real chat completion with a tool call.
    #[test]
    fn reads_the_reference_tool_call_completion() {
        let json: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/openai/chat_completion_tool_calls.json"
        ))
        .unwrap();
        let o = observe_completion(&json).unwrap();
        assert_eq!(
            o.decisions,
            vec![
                Decision::new("tool", "get_current_weather"),
                Decision::new("finish_reason", "tool_calls")
            ]
        );
        assert_eq!(o.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(o.usage.unwrap().input_tokens, 82);
        assert_eq!(o.usage.unwrap().output_tokens, 17);
        assert_eq!(o.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(o.refusal, None);
        assert_eq!(o.output.text, "");
    }

    #[test]
    fn a_refusal_is_a_decision_before_how_the_model_stopped() {
        let json = serde_json::json!({"choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}]});
        let o = observe_completion(&json).unwrap();
        let names: Vec<String> = o.decisions.iter().map(|d| d.to_string()).collect();
        assert_eq!(names, ["refusal.refused", "finish_reason.stop"]);
        assert_eq!(o.output.text, "I can't help with that.");
    }
}
