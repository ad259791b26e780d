//! The `openai` target: any OpenAI-compatible `/chat/completions` endpoint. Tool calls
//! become `tool.<name>` decision events; `finish_reason`, refusals and usage are recorded.
//! The API key is read from the environment variable the suite names, and only ever put
//! in the `Authorization` header (marked sensitive), never in records or reports.
//!
//! With `stream: true` the answer is read as `chat.completion.chunk` events, put back
//! together into the `chat.completion` they stream (so both modes observe the same way),
//! and the time to the first token is measured.

use std::collections::BTreeMap;
use std::time::Instant;

use bytes::Bytes;
use serde_json::{Value, json};

use super::http::{TIER_HEADER, header_map, parse_json, post_json, resolve_ca_file};
use super::retry::exchange;
use super::sse::{self, Read};
use super::{Attempts, Failure, OpenAiConfig, Overrides, wire};
use crate::errors::ConfigError;
use crate::observation::{Decision, Observation, Output, Request};
use crate::suite::{RetryPolicy, Suite};

pub(crate) struct OpenAiTarget {
    client: super::client::Client,
    url: ::http::Uri,
    /// How messages name the target (see [`super::target_name`]).
    name: String,
    headers: ::http::header::HeaderMap,
    model: String,
    tools: Vec<Value>,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    tier_header: String,
    retries: RetryPolicy,
    body_limit: usize,
    stream: bool,
}

impl OpenAiTarget {
    pub(crate) fn new(
        config: &OpenAiConfig,
        suite: &Suite,
        overrides: &Overrides,
    ) -> Result<OpenAiTarget, ConfigError> {
        let fail = |m: String| ConfigError::new(&suite.dir, m);
        let base = overrides
            .expand_shown(&config.base_url)
            .map_err(|e| fail(format!("target.openai.base_url: {e}")))?;
        let completions = |base: &str| format!("{}/chat/completions", base.trim_end_matches('/'));
        let name = super::target_name(&completions(&base.shown));
        let url = super::client::parse_url(&completions(&base.value)).map_err(|e| {
            fail(format!(
                "target.openai.base_url `{}` is not a URL: {e}",
                base.shown
            ))
        })?;
        let mut headers = header_map(&config.headers, overrides).map_err(fail)?;
        if let Some(var) = &config.api_key_env {
            // From where the secrets registry takes it (a `Harness::var` first, then the
            // environment), so the key sent is the key hidden.
            let key = overrides.get(var).ok_or_else(|| {
                fail(format!(
                    "target.openai.api_key_env: environment variable `{var}` is not set"
                ))
            })?;
            let mut value = ::http::header::HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| {
                    fail(format!(
                        "the API key in `{var}` is not a valid header value"
                    ))
                })?;
            value.set_sensitive(true);
            headers.insert(::http::header::AUTHORIZATION, value);
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
            client: super::http_client(suite, &url, ca_file.as_ref(), "target.openai")
                .map_err(fail)?,
            url,
            name,
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
            stream: config.stream,
        })
    }

    pub(crate) async fn call(
        &self,
        request: &Request,
        attempts: &mut Attempts,
    ) -> Result<Observation, Failure> {
        let body = serde_json::to_vec(&self.request_body(request)).expect("requests serialize");
        let body = Bytes::from(body);
        let post = || post_json(&self.client, &self.url, &self.headers, request, &body);
        let (mut observation, headers) = if self.stream {
            let stream =
                sse::open(post, &self.name, self.retries, self.body_limit, attempts).await?;
            read_stream(stream).await?
        } else {
            let answer =
                exchange(post, &self.name, self.retries, self.body_limit, attempts).await?;
            let json = parse_json(&answer.body)?;
            (observe_completion(&json)?, answer.headers)
        };
        if let Some(tier) = headers.get(self.tier_header.as_str())
            && let Ok(tier) = tier.to_str()
        {
            observation.tier = Some(tier.to_string());
        }
        Ok(observation)
    }

    fn request_body(&self, request: &Request) -> Value {
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
        if self.stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }
}

/// Reads a streamed answer to its end and observes the completion it assembles, with the
/// time from sending the request to the first event carrying a token.
async fn read_stream(
    mut stream: sse::EventStream,
) -> Result<(Observation, ::http::header::HeaderMap), Failure> {
    let mut assembly = ChunkAssembly::default();
    let mut first_token: Option<Instant> = None;
    let mut events = 0usize;
    let mut warnings = Vec::new();
    loop {
        match stream.next().await? {
            Read::Event(event) if event.is_done() => break,
            Read::Event(event) => {
                events += 1;
                let chunk: Value = serde_json::from_str(&event.data).map_err(|e| {
                    let start: String = super::secrets::hidden(&event.data)
                        .chars()
                        .take(120)
                        .collect();
                    Failure::new(format!(
                        "malformed answer: event {events} of the stream is not JSON ({e}): \
                         {start:?}"
                    ))
                })?;
                if assembly.add(&chunk)? && first_token.is_none() {
                    first_token = Some(event.at);
                }
            }
            // A finish_reason says the answer is whole; only a usage chunk can be missing.
            Read::End(cut) if assembly.finish_reason.is_some() => {
                if let Some(cause) = cut {
                    warnings.push(format!(
                        "the stream broke off after its finish_reason, before [DONE] (usage \
                         may be missing): {cause}"
                    ));
                }
                break;
            }
            Read::End(cut) => {
                let bytes = stream.bytes;
                let mut reason = format!(
                    "the stream ended before [DONE] after {bytes} bytes and {events} event{}, \
                     with no finish_reason",
                    if events == 1 { "" } else { "s" }
                );
                if let Some(cause) = cut {
                    reason.push_str(&format!(": {cause}"));
                } else if events == 0 {
                    let kind = stream
                        .headers
                        .get(::http::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("none");
                    reason.push_str(&format!(
                        " (is the endpoint streaming server-sent events? content-type: {kind})"
                    ));
                }
                return Err(Failure::new(reason));
            }
        }
    }
    let mut observation = observe_completion(&assembly.into_completion())?;
    observation.ttft_ms = first_token.map(|at| millis(at.duration_since(stream.sent)));
    observation.warnings.extend(warnings);
    Ok((observation, stream.headers))
}

/// Milliseconds to the microsecond, as the sample's `latency_ms` is recorded.
fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// `chat.completion.chunk` events of choice 0, put back together: content and refusal
/// deltas concatenated, tool-call deltas merged by `index` (the first carries the id, type
/// and name; later ones append to the arguments), the finish_reason, the usage of the final
/// chunk (`include_usage`), and the model and system fingerprint.
#[derive(Debug, Default)]
struct ChunkAssembly {
    model: Option<String>,
    system_fingerprint: Option<String>,
    has_choice: bool,
    content: String,
    refusal: String,
    tool_calls: BTreeMap<u64, ToolCallParts>,
    finish_reason: Option<String>,
    usage: Option<Value>,
}

#[derive(Debug, Default)]
struct ToolCallParts {
    id: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    arguments: String,
}

impl ChunkAssembly {
    /// Adds one chunk; returns whether it carried a token (content, refusal or tool call).
    /// An `error` object in the stream is the server giving up mid-answer.
    fn add(&mut self, chunk: &Value) -> Result<bool, Failure> {
        if let Some(error) = chunk.get("error").filter(|e| !e.is_null()) {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| error.to_string(), str::to_string);
            return Err(Failure::new(format!(
                "the stream carried an error: {message}"
            )));
        }
        let text = |key: &str| chunk.get(key).and_then(Value::as_str).map(str::to_string);
        if self.model.is_none() {
            self.model = text("model");
        }
        if self.system_fingerprint.is_none() {
            self.system_fingerprint = text("system_fingerprint");
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(usage.clone());
        }
        let Some(choice) = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|choices| {
                choices
                    .iter()
                    .find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
            })
        else {
            return Ok(false);
        };
        self.has_choice = true;
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_string());
        }
        let Some(delta) = choice.get("delta") else {
            return Ok(false);
        };
        let mut token = false;
        for (key, into) in [
            ("content", &mut self.content),
            ("refusal", &mut self.refusal),
        ] {
            if let Some(piece) = delta.get(key).and_then(Value::as_str)
                && !piece.is_empty()
            {
                into.push_str(piece);
                token = true;
            }
        }
        for call in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            token = true;
            // Servers that leave out `index` send one call after the other: a delta with
            // an id starts the next call, one without continues the last.
            let last = self.tool_calls.keys().next_back().copied();
            let index = match call.get("index").and_then(Value::as_u64) {
                Some(index) => index,
                None if call.get("id").is_some_and(Value::is_string) || last.is_none() => {
                    last.map_or(0, |i| i + 1)
                }
                None => last.unwrap_or(0),
            };
            let parts = self.tool_calls.entry(index).or_default();
            let field = |pointer: &str| call.pointer(pointer).and_then(Value::as_str);
            if parts.id.is_none() {
                parts.id = field("/id").map(str::to_string);
            }
            if parts.kind.is_none() {
                parts.kind = field("/type").map(str::to_string);
            }
            if parts.name.is_none() {
                parts.name = field("/function/name")
                    .filter(|n| !n.is_empty())
                    .map(str::to_string);
            }
            if let Some(arguments) = field("/function/arguments") {
                parts.arguments.push_str(arguments);
            }
        }
        Ok(token)
    }

    /// The `chat.completion` the chunks streamed.
    fn into_completion(self) -> Value {
        let or_null = |s: String| if s.is_empty() { Value::Null } else { json!(s) };
        let mut message = json!({
            "role": "assistant",
            "content": or_null(self.content),
            "refusal": or_null(self.refusal),
        });
        if !self.tool_calls.is_empty() {
            message["tool_calls"] = self
                .tool_calls
                .into_values()
                .map(|call| {
                    json!({
                        "id": call.id,
                        "type": call.kind.unwrap_or_else(|| "function".into()),
                        "function": {"name": call.name, "arguments": call.arguments},
                    })
                })
                .collect();
        }
        // No chunk for choice 0 leaves `choices` empty, which observe_completion rejects.
        let choices = if self.has_choice {
            json!([{"index": 0, "message": message, "finish_reason": self.finish_reason}])
        } else {
            json!([])
        };
        let mut completion = json!({
            "object": "chat.completion",
            "model": self.model,
            "system_fingerprint": self.system_fingerprint,
            "choices": choices,
        });
        if let Some(usage) = self.usage {
            completion["usage"] = usage;
        }
        completion
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
    let mut observation = Observation::new(text);
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
mod tests;
