//! The suite's `target:` section: how the agent under test is reached (an HTTP endpoint,
//! an OpenAI-compatible one, or a command), and where in its JSON answer each part of the
//! observation is. Calling it is `evalgate`'s (`target`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

/// The `target:` section of the suite file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TargetConfig {
    Http(HttpConfig),
    Openai(OpenAiConfig),
    Command(CommandConfig),
}

/// `target: {http: ...}` in the suite file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// e.g. `${AGENT_URL:-http://127.0.0.1:8080}/v1/agent`.
    pub url: String,
    /// Extra headers; values may use `${ENV}` (secrets stay in the environment).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub response: ResponseMap,
    /// PEM certificates trusted as roots in addition to the system's (an internal CA);
    /// relative to the evals folder, `${ENV}` expanded.
    pub ca_file: Option<String>,
}

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
    /// Ask for the answer as server-sent events (`"stream": true`, with usage in the last
    /// chunk) and record the time to its first token.
    #[serde(default)]
    pub stream: bool,
}

/// `target: {command: ...}` in the suite file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandConfig {
    pub program: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment variables; values may use `${ENV}`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory, relative to the evals folder.
    pub cwd: Option<PathBuf>,
    #[serde(default)]
    pub response: ResponseMap,
}

/// Where in the agent's JSON answer each part of the observation is (RFC 6901 JSON
/// pointers). The defaults match the shape in the book's "Targets" (docs/src/suite-file.md) (and the demo agent).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseMap {
    pub output: String,
    pub decisions: String,
    pub usage: String,
    pub tier: String,
    pub model: String,
    pub refusal: String,
    pub finish_reason: String,
    pub envelope: String,
    /// Time to first token in milliseconds, for agents that stream from their provider.
    pub ttft_ms: String,
    /// What the agent's memory retained after each turn (see `memory`).
    pub memory: String,
}

impl Default for ResponseMap {
    fn default() -> Self {
        ResponseMap {
            output: "/output".into(),
            decisions: "/decisions".into(),
            usage: "/usage".into(),
            tier: "/tier".into(),
            model: "/model".into(),
            refusal: "/refusal".into(),
            finish_reason: "/finish_reason".into(),
            envelope: "/envelope".into(),
            ttft_ms: "/ttft_ms".into(),
            memory: "/memory".into(),
        }
    }
}

impl ResponseMap {
    /// Checks every pointer is a valid JSON pointer (empty or starting with `/`).
    pub fn validate(&self) -> Result<(), String> {
        for (name, pointer) in self.fields() {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(format!(
                    "`response.{name}: {pointer}` is not a JSON pointer; write e.g. `/{pointer}`"
                ));
            }
        }
        Ok(())
    }

    /// Every pointer, with the name of its field.
    pub fn fields(&self) -> [(&'static str, &str); 10] {
        [
            ("output", &self.output),
            ("decisions", &self.decisions),
            ("usage", &self.usage),
            ("tier", &self.tier),
            ("model", &self.model),
            ("refusal", &self.refusal),
            ("finish_reason", &self.finish_reason),
            ("envelope", &self.envelope),
            ("ttft_ms", &self.ttft_ms),
            ("memory", &self.memory),
        ]
    }
}
