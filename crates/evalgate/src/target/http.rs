//! The `http` target: POST the request as JSON to a URL, read the answer at the
//! configured JSON pointers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;

use super::HttpConfig;
use super::client::{Client, RequestBuilder};
use super::retry::exchange;
use super::wire::{Observe, ResponseMap};
use super::{Attempts, Failure, Overrides};
use crate::errors::ConfigError;
use crate::observation::{Observation, Request};
use crate::suite::{RetryPolicy, Suite};

pub(crate) struct HttpTarget {
    client: Client,
    url: ::http::Uri,
    /// How messages name the target (see [`super::target_name`]).
    name: String,
    headers: ::http::header::HeaderMap,
    response: ResponseMap,
    retries: RetryPolicy,
    body_limit: usize,
}

impl HttpTarget {
    pub(crate) fn new(
        config: &HttpConfig,
        suite: &Suite,
        overrides: &Overrides,
    ) -> Result<HttpTarget, ConfigError> {
        let fail = |m: String| ConfigError::new(&suite.dir, m);
        let url = overrides
            .expand_shown(&config.url)
            .map_err(|e| fail(format!("target.http.url: {e}")))?;
        let name = super::target_name(&url.shown);
        let url = super::client::parse_url(&url.value)
            .map_err(|e| fail(format!("target.http.url `{}` is not a URL: {e}", url.shown)))?;
        config
            .response
            .validate()
            .map_err(|e| fail(format!("target.http.{e}")))?;
        let ca_file = resolve_ca_file(config.ca_file.as_deref(), suite, overrides)
            .map_err(|e| fail(format!("target.http.ca_file: {e}")))?;
        Ok(HttpTarget {
            client: super::http_client(suite, &url, ca_file.as_ref(), "target.http")
                .map_err(fail)?,
            url,
            name,
            headers: header_map(&config.headers, overrides).map_err(fail)?,
            response: config.response.clone(),
            retries: suite.retries,
            body_limit: suite.response_bytes,
        })
    }

    pub(crate) async fn call(
        &self,
        request: &Request,
        attempts: &mut Attempts,
    ) -> Result<Observation, Failure> {
        let body = Bytes::from(serde_json::to_vec(request).expect("requests serialize"));
        let answer = exchange(
            || post_json(&self.client, &self.url, &self.headers, request, &body),
            &self.name,
            self.retries,
            self.body_limit,
            attempts,
        )
        .await?;
        let json = parse_json(&answer.body)?;
        let mut observation = self.response.observe(&json)?;
        envelope_from_headers(&answer.headers, &mut observation);
        Ok(observation)
    }
}

/// The response header an agent may name its model in, when its JSON does not.
pub(crate) const MODEL_HEADER: &str = "x-evalgate-model";
/// The prefix of response headers naming envelope axes: `x-evalgate-envelope-prompt: sha256:…`.
pub(crate) const ENVELOPE_HEADER_PREFIX: &str = "x-evalgate-envelope-";

/// Versions the agent reports in response headers — for agents behind a gateway that adds
/// them, or that cannot change their JSON. What the JSON says wins.
fn envelope_from_headers(headers: &::http::header::HeaderMap, observation: &mut Observation) {
    for (name, value) in headers {
        let Ok(value) = value.to_str() else { continue };
        let name = name.as_str();
        if name == MODEL_HEADER {
            observation.model.get_or_insert_with(|| value.to_string());
        } else if let Some(axis) = name.strip_prefix(ENVELOPE_HEADER_PREFIX)
            && !axis.is_empty()
        {
            observation
                .envelope
                .entry(axis.to_string())
                .or_insert_with(|| value.to_string());
        }
    }
}

/// The header naming the file the agent writes this sample's trace to.
pub(crate) const TRACE_FILE_HEADER: &str = "x-evalgate-trace-file";
/// The header through which a case's `tier` (or one of its `tiers:`) is forced.
pub(crate) const TIER_HEADER: &str = "x-evalgate-tier";
/// The headers naming the sample's load condition and the provider URL to use under it.
pub(crate) const CONDITION_HEADER: &str = "x-evalgate-condition";
pub(crate) const PROVIDER_URL_HEADER: &str = "x-evalgate-provider-url";

/// What the request says beyond its body, as headers: the trace file (when the suite reads
/// decisions from traces), the forced tier, the load condition and its provider URL.
/// What both HTTP targets send, built again for each attempt: `body` as a JSON `POST` to
/// `url` with the suite's `headers`, then the case's own (which win).
pub(crate) fn post_json(
    client: &Client,
    url: &::http::Uri,
    headers: &::http::header::HeaderMap,
    request: &Request,
    body: &Bytes,
) -> RequestBuilder {
    client
        .post(url)
        .headers(headers.clone())
        .header(
            ::http::header::CONTENT_TYPE,
            ::http::HeaderValue::from_static("application/json"),
        )
        .headers(request_headers(request))
        .body(body.clone())
}

pub(crate) fn request_headers(request: &Request) -> ::http::header::HeaderMap {
    let mut map = ::http::header::HeaderMap::new();
    for (name, value) in [
        (TRACE_FILE_HEADER, &request.trace_file),
        (TIER_HEADER, &request.tier),
        (CONDITION_HEADER, &request.condition),
        (PROVIDER_URL_HEADER, &request.provider_url),
    ] {
        if let Some(value) = value
            && let Ok(value) = ::http::header::HeaderValue::from_str(value)
        {
            map.insert(name, value);
        }
    }
    for (axis, value) in &request.axes {
        if let (Ok(name), Ok(value)) = (
            ::http::header::HeaderName::from_bytes(
                format!("{AXIS_HEADER_PREFIX}{axis}").as_bytes(),
            ),
            ::http::header::HeaderValue::from_str(value),
        ) {
            map.insert(name, value);
        }
    }
    map
}

/// Each envelope axis is also a header: `x-evalgate-axis-model: gpt-4o-2024-11-20`.
pub(crate) const AXIS_HEADER_PREFIX: &str = "x-evalgate-axis-";

pub(crate) fn parse_json(body: &[u8]) -> Result<serde_json::Value, Failure> {
    serde_json::from_slice(body).map_err(|e| {
        // Hidden before it is cut: a secret cut in two would be matched by neither half.
        let text = super::secrets::hidden(&String::from_utf8_lossy(&body[..body.len().min(4096)]));
        let text: String = text.chars().take(120).collect();
        Failure::new(format!("malformed answer: invalid JSON ({e}): {text:?}"))
    })
}

/// The `ca_file` of an http or openai target.
pub(crate) struct CaFile {
    /// `${ENV}` expanded, relative paths taken from the evals folder (`suite.dir`).
    pub path: PathBuf,
    /// How messages name it: as written when a variable gave part of it, else as users
    /// type paths.
    pub shown: String,
}

pub(crate) fn resolve_ca_file(
    ca_file: Option<&str>,
    suite: &Suite,
    overrides: &Overrides,
) -> Result<Option<CaFile>, String> {
    let Some(ca_file) = ca_file else {
        return Ok(None);
    };
    let expanded = overrides.expand_shown(ca_file)?;
    if expanded.value.is_empty() {
        return Err(format!("`{ca_file}` is an empty path"));
    }
    let path = suite.dir.join(&expanded.value);
    let shown = if expanded.shown == expanded.value {
        suite.display_path(&path).display().to_string()
    } else {
        expanded.shown
    };
    Ok(Some(CaFile { path, shown }))
}

pub(crate) fn header_map(
    headers: &BTreeMap<String, String>,
    overrides: &Overrides,
) -> Result<::http::header::HeaderMap, String> {
    let mut map = ::http::header::HeaderMap::new();
    for (name, value) in headers {
        let value = overrides
            .expand(value)
            .map_err(|e| format!("header `{name}`: {e}"))?;
        let name = ::http::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| format!("header name `{name}`: {e}"))?;
        let mut value = ::http::header::HeaderValue::from_str(&value)
            .map_err(|e| format!("header `{name}` has an invalid value: {e}"))?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_axes_are_headers_and_body_fields() {
        let mut request = Request::new("c", 0, Vec::new());
        request.axes.insert("model".into(), "m-2".into());
        let headers = request_headers(&request);
        assert_eq!(headers["x-evalgate-axis-model"], "m-2");
        let body: serde_json::Value = serde_json::to_value(&request).unwrap();
        assert_eq!(body["axes"]["model"], "m-2");
    }
}
