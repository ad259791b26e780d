//! A ready-to-call target, built once from the suite and shared by every sample of a run;
//! what a call gives back when it gives no observation; the shared HTTP client.

use std::sync::Arc;

use super::agent::Agent;
use super::expand::Overrides;
use super::secrets::Secrets;
use super::{client, command, http, openai};
use crate::config::target::TargetConfig;

use crate::errors::{ConfigError, error_chain};
use crate::observation::{Observation, Request};
use crate::suite::Suite;

/// An error about an unset `${NAME}` (which the target's config, read without positions,
/// cannot place) pointed at the first line of the suite file that uses it.
fn located_variable(e: ConfigError, dir: &std::path::Path) -> ConfigError {
    if e.position.is_known() {
        return e;
    }
    let Some(name) = e
        .message
        .split_once("(used as `${")
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(name, _)| name.to_string())
    else {
        return e;
    };
    let Some(source) = crate::suite::SUITE_FILES
        .iter()
        .find_map(|f| std::fs::read_to_string(dir.join(f)).ok())
    else {
        return e;
    };
    let found = source.lines().enumerate().find_map(|(index, line)| {
        [format!("${{{name}}}"), format!("${{{name}:")]
            .iter()
            .find_map(|needle| line.find(needle.as_str()))
            .map(|byte| (index, line[..byte].chars().count()))
    });
    match found {
        Some((index, column)) => e.at(
            crate::errors::Position::new(index as u32 + 1, column as u32 + 1),
            &source,
        ),
        None => e,
    }
}

/// Why a sample produced no observation. Its verdict is `error`, never pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
}

impl Failure {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        Failure {
            reason: reason.into(),
        }
    }
}

/// Attempts made for one sample: one plus every retry, with why each retry happened.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attempts {
    pub count: u32,
    pub retries: Vec<String>,
}

/// A ready-to-call target, shared by every sample of a run.
pub(crate) enum Target {
    Http(http::HttpTarget),
    OpenAi(openai::OpenAiTarget),
    Command(command::CommandTarget),
    InProcess(Arc<dyn Agent>),
}

impl Target {
    /// Builds the target from the suite (or the in-process agent, which wins when given).
    /// Must be called inside the tokio runtime that will run the samples.
    pub(crate) fn build(
        suite: &Suite,
        agent: Option<Arc<dyn Agent>>,
        overrides: &Overrides,
    ) -> Result<Target, ConfigError> {
        if let Some(agent) = agent {
            return Ok(Target::InProcess(agent));
        }
        let suite_file = suite.dir.join(crate::suite::SUITE_FILES[0]);
        let has_file = crate::suite::SUITE_FILES
            .iter()
            .any(|f| suite.dir.join(f).is_file());
        match &suite.target {
            // A folder without a suite file: say so, not that a file nobody wrote lacks a key.
            None if !has_file => Err(ConfigError::new(
                &suite_file,
                "there is no suite file: the evals folder needs an evalgate.yaml saying how to \
                 reach the agent",
            )
            .with_help(
                "create it with `target: {http: {url: ...}}` (or openai/command), or pass an \
                 in-process agent with evalgate::Harness::new().agent(..)",
            )),
            None => Err(
                ConfigError::new(&suite_file, "the suite has no `target:`").with_help(
                    "add `target: {http: {url: ...}}` (or openai/command) to evalgate.yaml, \
                 or pass an in-process agent with evalgate::Harness::new().agent(..)",
                ),
            ),
            Some(TargetConfig::Http(config)) => {
                http::HttpTarget::new(config, suite, overrides).map(Target::Http)
            }
            Some(TargetConfig::Openai(config)) => {
                openai::OpenAiTarget::new(config, suite, overrides).map(Target::OpenAi)
            }
            Some(TargetConfig::Command(config)) => {
                command::CommandTarget::new(config, suite, overrides).map(Target::Command)
            }
        }
        .map_err(|e| {
            // Messages show `${NAME}` for what a variable gave; this catches any that quotes
            // an expanded value anyway.
            let secrets = Secrets::of_suite(suite, overrides);
            let redact = |text: &str| secrets.redact(text).into_owned();
            let e = located_variable(e, &suite.dir);
            ConfigError {
                path: suite_file.clone(),
                message: redact(&e.message),
                snippet: e.snippet.as_deref().map(redact),
                help: e.help.as_deref().map(redact),
                ..e
            }
        })
    }

    /// The target's kind, for records.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Target::Http(_) => "http",
            Target::OpenAi(_) => "openai",
            Target::Command(_) => "command",
            Target::InProcess(_) => "in_process",
        }
    }

    /// Calls the agent once for `request`. The caller bounds the whole call with the
    /// sample's timeout; `attempts` survives that timeout so the record can count retries.
    pub(crate) async fn call(
        &self,
        request: &Request,
        attempts: &mut Attempts,
    ) -> Result<Observation, Failure> {
        match self {
            Target::Http(t) => t.call(request, attempts).await,
            Target::OpenAi(t) => t.call(request, attempts).await,
            Target::Command(t) => {
                attempts.count += 1;
                t.call(request).await
            }
            Target::InProcess(agent) => {
                attempts.count += 1;
                let agent = Arc::clone(agent);
                let request = request.clone();
                let called = tokio::task::spawn_blocking(move || {
                    crate::instrument::collect(&request.case, request.sample, || {
                        agent.respond(&request)
                    })
                });
                match called.await {
                    Ok((Ok(mut observation), collected)) => {
                        observation.decisions.extend(collected.decisions);
                        observation.warnings.extend(collected.warnings);
                        Ok(observation)
                    }
                    Ok((Err(e), _)) => Err(Failure::new(format!("agent returned an error: {e}"))),
                    Err(join) => Err(Failure::new(format!(
                        "agent panicked: {}",
                        panic_message(join)
                    ))),
                }
            }
        }
    }
}

fn panic_message(join: tokio::task::JoinError) -> String {
    match join.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".into()),
        Err(e) => e.to_string(),
    }
}

/// The shared HTTP client: one connection pool for the whole run, TLS by rustls with ring.
/// For a plain `http://` endpoint the system's root certificates are not loaded: reading
/// them is most of a one-case process's start-up under nextest.
///
/// A call's headers and URL may carry credentials: no `Referer` is ever sent, and a
/// redirect is followed only within the origin (scheme, host and port) the call was made
/// to; one to another origin (`http://` to `https://` included) fails the call.
///
/// `ca_file` (already resolved against the evals folder) holds PEM certificates that are
/// trusted as roots in addition to the system's (one root store of both, which rustls
/// verifies against). For an `http://` endpoint they are the only roots (the system's stay
/// unloaded).
/// A missing, unreadable or certificate-less file, or a certificate rustls rejects, is an
/// error naming the file. `target` prefixes messages (`target.http`, `target.openai`).
pub(crate) fn http_client(
    suite: &Suite,
    url: &::http::Uri,
    ca_file: Option<&http::CaFile>,
    target: &str,
) -> Result<client::Client, String> {
    let key = format!("{target}.ca_file");
    let ca_certs = match ca_file {
        None => Vec::new(),
        Some(ca_file) => {
            let shown = &ca_file.shown;
            let pem = std::fs::read(&ca_file.path)
                .map_err(|e| format!("{key}: cannot read `{shown}`: {e}"))?;
            let certs = client::pem_certificates(&pem)
                .map_err(|e| format!("{key}: `{shown}` is not a PEM certificate bundle: {e}"))?;
            if certs.is_empty() {
                return Err(format!(
                    "{key}: `{shown}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)"
                ));
            }
            certs
        }
    };
    let roots = if url.scheme_str() == Some("http") {
        client::Roots::Only(ca_certs)
    } else {
        client::Roots::SystemAnd(ca_certs)
    };
    client::Client::new(roots, client::Redirects::SameOrigin, suite.concurrency).map_err(|e| {
        let why = error_chain(&e);
        match ca_file {
            Some(ca_file) => format!(
                "{key}: the TLS client cannot be built with `{}`: {why}",
                ca_file.shown
            ),
            None => format!(
                "{target}: the TLS client cannot be built (are the system's CA certificates \
                 installed? `ca_file` adds more): {why}"
            ),
        }
    })
}

/// Installs rustls's ring provider as this process's TLS provider, unless one is installed
/// already: a user's own choice wins, and installing twice is harmless. The HTTP client
/// (`client`) is built on the installed provider, so every client needs this first.
///
/// ring and not aws-lc-rs because aws-lc adds about 25 s to every cold build of a user's
/// tests. rustls 0.23.48 deprecated ring's provider for lacking post-quantum key exchange;
/// that deprecation is accepted here, in the one place the provider is chosen, rather than
/// warned about in every build of a user's tests.
pub(crate) fn install_tls_provider() {
    #[allow(deprecated)]
    let ring = rustls::crypto::ring::default_provider();
    let _ = ring.install_default();
}

/// How messages name an HTTP target: its URL as shown (`${NAME}` for what a variable
/// gave), without the query and fragment, which often carry credentials.
pub(crate) fn target_name(shown_url: &str) -> String {
    shown_url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_string()
}
