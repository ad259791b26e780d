//! One request through the proxy: plan it, hold it, answer it with the injected status or
//! forward it upstream, and stream the answer back.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use serde_json::json;

use super::body::{BodyShape, FaultBody};
use super::config::{Condition, StatusFault};
use super::options::{Counters, ProxyOptions};
use super::plan::{Sessions, session_of};
use crate::errors::error_chain;
use crate::target::client::{Client, parse_url};

/// Request bodies larger than this are refused (413): model requests are far smaller.
const MAX_REQUEST_BODY: usize = 64 * 1024 * 1024;

/// Hop-by-hop headers (RFC 9110 §7.6.1) and their common non-standard kin: they describe
/// one connection, not the message, so they are never forwarded in either direction.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Set by the upstream client from the URL and body instead (`expect` would make the
/// upstream wait for a `100 Continue` the client side already handled).
const REQUEST_ONLY: [&str; 3] = ["host", "content-length", "expect"];

pub(super) type ProxyBody = Either<Full<Bytes>, FaultBody>;

/// Everything the connections of one proxy share.
pub(super) struct Shared {
    /// The upstream base URL without a trailing `/`; request paths are appended.
    pub(super) upstream: String,
    pub(super) condition: Condition,
    pub(super) options: ProxyOptions,
    pub(super) client: Client,
    pub(super) planner: Arc<Mutex<Sessions>>,
    pub(super) counters: Arc<Counters>,
}

pub(super) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let counters = &shared.counters;
    counters.requests.fetch_add(1, Ordering::Relaxed);
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let (session, path) = session_of(&path_and_query);
    // Planned on arrival, before any await, so the plan follows the arrival order.
    let plan = shared
        .planner
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .next(session, &shared.condition);
    let path = path.to_string();
    let (parts, body) = request.into_parts();
    let idle = shared.options.idle_body_timeout;
    let body =
        match tokio::time::timeout(idle, Limited::new(body, MAX_REQUEST_BODY).collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                let message = format!("request body over {MAX_REQUEST_BODY} bytes");
                return Ok(error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "invalid_request_error",
                    &message,
                ));
            }
            Ok(Err(e)) => {
                let message = format!("could not read the request body: {e}");
                return Ok(error_response(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    &message,
                ));
            }
            Err(_) => {
                let message = format!(
                    "the request body stalled for {}",
                    crate::duration::show(idle)
                );
                return Ok(error_response(
                    StatusCode::REQUEST_TIMEOUT,
                    "timeout_error",
                    &message,
                ));
            }
        };
    if !plan.delay.is_zero() {
        counters.delayed.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(plan.delay).await;
    }
    if plan.inject
        && let Some(fault) = shared.condition.status
    {
        counters.injected.fetch_add(1, Ordering::Relaxed);
        return Ok(injected_response(&shared.condition.name, fault));
    }
    Ok(forward(&shared, parts, &path, body).await)
}

/// Forwards to the upstream base plus `path` (the request's path and query, without its
/// session prefix).
async fn forward(shared: &Shared, parts: Parts, path: &str, body: Bytes) -> Response<ProxyBody> {
    let counters = &shared.counters;
    let url = format!("{}{path}", shared.upstream);
    let url = match parse_url(&url) {
        Ok(url) => url,
        Err(e) => {
            let message = format!("cannot forward to `{url}`: {e}");
            return error_response(StatusCode::BAD_REQUEST, "invalid_request_error", &message);
        }
    };
    let request = shared
        .client
        .request(parts.method, &url)
        .headers(forwardable(&parts.headers, &REQUEST_ONLY))
        .body(body);
    let timeout = shared.options.upstream_timeout;
    let upstream = match tokio::time::timeout(timeout, request.send()).await {
        Ok(Ok(upstream)) => upstream,
        Ok(Err(e)) => {
            counters.upstream_errors.fetch_add(1, Ordering::Relaxed);
            let message = format!("upstream request failed: {}", error_chain(&e));
            return error_response(StatusCode::BAD_GATEWAY, "api_connection_error", &message);
        }
        Err(_) => {
            counters.upstream_timeouts.fetch_add(1, Ordering::Relaxed);
            let message = format!(
                "upstream sent no response within {}",
                crate::duration::show(timeout)
            );
            return error_response(StatusCode::GATEWAY_TIMEOUT, "timeout_error", &message);
        }
    };
    counters.forwarded.fetch_add(1, Ordering::Relaxed);
    let status = upstream.status();
    let headers = forwardable(upstream.headers(), &[]);
    let shape = BodyShape {
        chunk_delay: shared.condition.chunk_delay,
        truncate_after: shared.condition.truncate_after,
        idle_timeout: shared.options.idle_body_timeout,
    };
    let mut response = Response::new(Either::Right(FaultBody::new(
        upstream,
        shape,
        counters.clone(),
    )));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// `headers` without hop-by-hop ones, those named in `Connection`, and `also`.
fn forwardable(headers: &HeaderMap, also: &[&str]) -> HeaderMap {
    let listed: Vec<String> = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut kept = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let name_text = name.as_str();
        let dropped = HOP_BY_HOP.contains(&name_text)
            || also.contains(&name_text)
            || listed.iter().any(|listed| listed == name_text);
        if !dropped {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

/// What a provider answers when it sheds load: the status, a JSON error and `Retry-After`.
fn injected_response(condition: &str, fault: StatusFault) -> Response<ProxyBody> {
    let status = StatusCode::from_u16(fault.code.code()).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let message = format!("injected by evalgate condition {condition}");
    let mut response = error_response(status, fault.code.error_type(), &message);
    if let Some(seconds) = fault.retry_after_secs() {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// `{"error":{"type":…,"message":…}}`, the shape OpenAI and Anthropic errors share.
fn error_response(status: StatusCode, kind: &str, message: &str) -> Response<ProxyBody> {
    let body = json!({"error": {"type": kind, "message": message}});
    let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    let mut response = Response::new(Either::Left(Full::new(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_hop_by_hop_headers_and_those_named_in_connection() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, X-Session-Hop"),
            ("keep-alive", "timeout=5"),
            ("x-session-hop", "1"),
            ("transfer-encoding", "chunked"),
            ("host", "127.0.0.1:1"),
            ("authorization", "Bearer k"),
            ("x-custom", "a"),
            ("x-custom", "b"),
        ] {
            headers.append(
                hyper::header::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let kept = forwardable(&headers, &REQUEST_ONLY);
        let names: Vec<&str> = kept.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["authorization", "x-custom"]);
        assert_eq!(kept.get_all("x-custom").iter().count(), 2);
        assert!(forwardable(&headers, &[]).contains_key("host"));
    }
}
