//! What the proxy is told (its timeouts) and what it counts: shared by the listener, the
//! request handler and the response body.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Bounds on a misbehaving upstream, so that no request through the proxy waits forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyOptions {
    /// From forwarding a request to the upstream's response head (connect, send, headers);
    /// past it the client gets 504. Default 30 s.
    pub upstream_timeout: Duration,
    /// Longest silence inside an upstream response body (and inside a client's request body)
    /// before the proxy gives up on it. Default 30 s.
    pub idle_body_timeout: Duration,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            upstream_timeout: Duration::from_secs(30),
            idle_body_timeout: Duration::from_secs(30),
        }
    }
}

impl ProxyOptions {
    /// Sets [`ProxyOptions::upstream_timeout`].
    pub fn with_upstream_timeout(mut self, timeout: Duration) -> Self {
        self.upstream_timeout = timeout;
        self
    }

    /// Sets [`ProxyOptions::idle_body_timeout`].
    pub fn with_idle_body_timeout(mut self, timeout: Duration) -> Self {
        self.idle_body_timeout = timeout;
        self
    }
}

/// What the proxy did so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProxyStats {
    /// Requests received.
    pub requests: u64,
    /// Requests answered with the condition's status, without contacting the upstream.
    pub injected: u64,
    /// Requests held by `latency`/`jitter` before being forwarded or answered.
    pub delayed: u64,
    /// Requests the upstream answered (any status), whose response was passed on.
    pub forwarded: u64,
    /// Response bodies cut by `truncate_after`.
    pub truncated: u64,
    /// Upstream unreachable or failing (502), or its body failing mid-way.
    pub upstream_errors: u64,
    /// No upstream response head within `upstream_timeout` (504), or a body silent longer
    /// than `idle_body_timeout` (cut).
    pub upstream_timeouts: u64,
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) requests: AtomicU64,
    pub(super) injected: AtomicU64,
    pub(super) delayed: AtomicU64,
    pub(super) forwarded: AtomicU64,
    pub(super) truncated: AtomicU64,
    pub(super) upstream_errors: AtomicU64,
    pub(super) upstream_timeouts: AtomicU64,
}

impl Counters {
    pub(super) fn snapshot(&self) -> ProxyStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ProxyStats {
            requests: get(&self.requests),
            injected: get(&self.injected),
            delayed: get(&self.delayed),
            forwarded: get(&self.forwarded),
            truncated: get(&self.truncated),
            upstream_errors: get(&self.upstream_errors),
            upstream_timeouts: get(&self.upstream_timeouts),
        }
    }
}
