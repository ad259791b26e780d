//! One HTTP exchange with bounded retries for transport failures only: 429, 5xx and
//! connection errors. `Retry-After` is honoured (up to the policy's `max_wait`); every retry
//! is counted and its reason kept for the record. A wrong answer is never retried.
//!
//! Reasons name the target by its shown URL (`${NAME}` for what a variable gave, without
//! the query); the client's errors never quote the URL as called.
//!
//! Hand-written, not a retry crate, for measured reasons (2026-12, against this library's
//! dependency set): `backon` 1.6 (+1 package, 0.3 CPU-s) reproduced every attempt, reason
//! and message of this loop in 12 scenarios, but replaces about five lines (doubling, cap,
//! count, sleep) with more plumbing to honour `Retry-After` and to tell afterwards why
//! retrying stopped; its documented `Retry-After` recipe keeps retrying past the limit for
//! as long as the server sends the header. `backoff` is unmaintained (RUSTSEC-2025-0012);
//! `tokio-retry` cannot honour `Retry-After`; `tokio-retry2` reads it but waited 11 ms for
//! a 500 ms `Retry-After`.

use std::error::Error as _;
use std::time::Duration;

use http::StatusCode;
use http::header::{HeaderMap, RETRY_AFTER};

use super::client::{ClientError, RequestBuilder, Response};

use super::{Attempts, Failure};
use crate::errors::error_chain;
use crate::suite::RetryPolicy;

/// A successful (2xx) answer, body read within the size limit.
pub(crate) struct Answer {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Sends the request built by `build` to `target` (its shown URL) until it succeeds, fails
/// for good, or retries run out.
pub(crate) async fn exchange(
    build: impl Fn() -> RequestBuilder,
    target: &str,
    policy: RetryPolicy,
    body_limit: usize,
    attempts: &mut Attempts,
) -> Result<Answer, Failure> {
    let (response, _) = send(build, target, policy, attempts).await?;
    let headers = response.headers().clone();
    let body = read_limited(response, body_limit).await?;
    Ok(Answer { headers, body })
}

/// Sends the request built by `build` until a 2xx answer starts, it fails for good, or
/// retries run out; returns that answer with its body unread (a stream is read as it
/// comes), and when the successful attempt was sent. Only 429, 5xx and connection errors
/// are retried, all before any byte of a 2xx body is read.
pub(crate) async fn send(
    build: impl Fn() -> RequestBuilder,
    target: &str,
    policy: RetryPolicy,
    attempts: &mut Attempts,
) -> Result<(Response, std::time::Instant), Failure> {
    let mut backoff = FIRST_BACKOFF;
    loop {
        attempts.count += 1;
        let sent = std::time::Instant::now();
        let (reason, retry_after) = match build().send().await {
            Ok(response) if response.status().is_success() => return Ok((response, sent)),
            Ok(response) => {
                let status = response.status();
                let retry_after = retry_after(response.headers());
                let snippet = body_snippet(response).await;
                let reason = format!("HTTP {status}{snippet}");
                if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                    return Err(Failure::new(reason));
                }
                (reason, retry_after)
            }
            Err(e) if e.is_redirect() => {
                return Err(Failure::new(format!(
                    "unexpected redirect from {target}: {}",
                    e.source().map(ToString::to_string).unwrap_or_default()
                )));
            }
            // A certificate the client does not trust fails the same way every time.
            Err(e)
                if (e.is_connect() || e.is_request())
                    && !is_certificate_error(&e)
                    && !e.is_body() =>
            {
                (
                    format!("connection failed to {target}: {}", without_url(e)),
                    None,
                )
            }
            Err(e) if e.is_connect() => {
                return Err(Failure::new(format!(
                    "connection failed to {target}: {}",
                    without_url(e)
                )));
            }
            Err(e) => {
                return Err(Failure::new(format!(
                    "request to {target} failed: {}",
                    without_url(e)
                )));
            }
        };
        if attempts.retries.len() as u32 >= policy.max_retries {
            let tries = attempts.count;
            return Err(Failure::new(format!(
                "{reason} (gave up after {tries} attempt{})",
                if tries == 1 { "" } else { "s" }
            )));
        }
        let wait = match retry_after {
            Some(asked) if asked > policy.max_wait => {
                return Err(Failure::new(format!(
                    "{reason}; Retry-After {}s exceeds retries.max_wait {}s",
                    asked.as_secs(),
                    policy.max_wait.as_secs()
                )));
            }
            Some(asked) => asked,
            None => backoff.min(policy.max_wait),
        };
        attempts.retries.push(match retry_after {
            Some(_) => format!("{reason}; retried after Retry-After {}s", wait.as_secs()),
            None => format!("{reason}; retried after {} ms", wait.as_millis()),
        });
        tokio::time::sleep(wait).await;
        backoff *= 2;
    }
}

/// `Retry-After` as seconds (HTTP dates are honoured too).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate_to_timestamp(value)?;
    let now = jiff::Timestamp::now();
    let secs = date.as_second() - now.as_second();
    Some(Duration::from_secs(secs.max(0) as u64))
}

fn httpdate_to_timestamp(value: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::rfc2822::parse(value).ok().map(|z| z.timestamp())
}

async fn read_limited(mut response: Response, limit: usize) -> Result<Vec<u8>, Failure> {
    if let Some(length) = response.content_length()
        && length > limit as u64
    {
        return Err(Failure::new(format!(
            "response of {length} bytes exceeds limits.response_bytes ({limit})"
        )));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(Failure::new(format!(
                        "response exceeds limits.response_bytes ({limit} bytes); stopped reading"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(Failure::new(format!(
                    "reading the response failed: {}",
                    without_url(e)
                )));
            }
        }
    }
}

/// A client error and its causes (the client never quotes the URL, which may carry
/// credentials).
pub(crate) fn without_url(e: ClientError) -> String {
    error_chain(&e)
}

/// The first bytes of an error body, to say what the server said.
async fn body_snippet(response: Response) -> String {
    match read_limited(response, 64 * 1024).await {
        Ok(body) if !body.is_empty() => {
            // Hidden before it is cut: a secret cut in two would be matched by neither half.
            let text = super::secrets::hidden(&String::from_utf8_lossy(&body));
            let short: String = text.chars().take(200).collect();
            format!(": {}", short.trim())
        }
        _ => String::new(),
    }
}

/// Whether the TLS handshake rejected the server's certificate. rustls says so as
/// "invalid peer certificate" (its error hides behind an `io::Error` in the chain, whose
/// `source()` skips it, so the text is the reliable signal).
fn is_certificate_error(e: &ClientError) -> bool {
    error_chain(e).contains("invalid peer certificate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
