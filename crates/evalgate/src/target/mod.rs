//! Targets: how the agent under test is reached. `http` (JSON POST), `openai`
//! (OpenAI-compatible chat completions), `command` (a process per sample speaking JSON on
//! stdin/stdout) and in-process (the [`Agent`] trait). Every target turns a
//! [`Request`](crate::observation::Request) into an
//! [`Observation`](crate::observation::Observation) or a [`Failure`]; transport retries are
//! bounded and counted.

pub mod agent;
pub(crate) mod client;
mod command;
mod dispatch;
mod expand;
mod http;
mod openai;
mod otlp;
mod retry;
pub(crate) mod secrets;
mod sse;
mod wire;

pub use agent::{Agent, AgentError};
pub(crate) use command::kill_agent_processes;
pub use dispatch::Failure;
pub(crate) use dispatch::{Attempts, Target, http_client, install_tls_provider, target_name};
pub use evalgate_core::config::target::{CommandConfig, HttpConfig, OpenAiConfig, TargetConfig};
pub use expand::Overrides;
pub use otlp::{TraceDecisions, read_decisions};
pub(crate) use secrets::Secrets;
