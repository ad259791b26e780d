//! The proxy's lifecycle: bind `127.0.0.1:0`, accept connections on the current tokio
//! runtime, count what happened, and stop everything when dropped.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::service::service_fn;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::config::Condition;
use super::forward::{Shared, handle};
use super::options::{Counters, ProxyOptions, ProxyStats};
use super::plan::{SESSION_PREFIX, Sessions};
use crate::errors::{Error, error_chain};
use crate::serve;
use crate::target::client::{Client, Redirects, Roots};

/// A reverse proxy on `127.0.0.1` that forwards every request to one upstream under a load
/// [`Condition`]. Dropping it (or [`FaultProxy::shutdown`]) closes the listener and aborts
/// every connection and request in flight.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    condition: Condition,
    counters: Arc<Counters>,
    sessions: Arc<Mutex<Sessions>>,
    task: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (a base URL such as `https://api.openai.com` or
    /// `http://127.0.0.1:8080/v1`; request paths are appended to it) with the default
    /// [`ProxyOptions`]. `seed` fixes jitter and `share` draws.
    pub async fn start(
        upstream: &str,
        condition: Condition,
        seed: u64,
    ) -> Result<FaultProxy, Error> {
        Self::start_with(upstream, condition, seed, ProxyOptions::default()).await
    }

    /// [`FaultProxy::start`] with explicit timeouts.
    pub async fn start_with(
        upstream: &str,
        condition: Condition,
        seed: u64,
        options: ProxyOptions,
    ) -> Result<FaultProxy, Error> {
        let base = upstream_base(upstream).map_err(Error::Usage)?;
        let client = upstream_client(&base)?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| {
            Error::Internal(format!("cannot bind the fault proxy on 127.0.0.1: {e}"))
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Internal(format!("fault proxy listener has no address: {e}")))?;
        let counters = Arc::new(Counters::default());
        let sessions = Arc::new(Mutex::new(Sessions::new(seed)));
        let shared = Arc::new(Shared {
            upstream: base.to_string().trim_end_matches('/').to_string(),
            condition: condition.clone(),
            options,
            client,
            planner: Arc::clone(&sessions),
            counters: counters.clone(),
        });
        let task = tokio::spawn(accept_loop(listener, shared));
        Ok(FaultProxy {
            addr,
            condition,
            counters,
            sessions,
            task: Some(task),
        })
    }

    /// The address the proxy listens on (`127.0.0.1` and the port it was given).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the base URL to give the agent instead of the provider's.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The load condition it applies.
    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// What it did so far, over all sessions.
    pub fn stats(&self) -> ProxyStats {
        self.counters.snapshot()
    }

    /// The base URL of one session, `http://127.0.0.1:PORT/s/<token>`: its requests get
    /// their own seeded faults (independent of other sessions' timing; `first: N` counts per
    /// session) and are counted apart. `token` must be URL-safe (letters, digits, `-`, `_`).
    pub fn session_url(&self, token: &str) -> String {
        format!("http://{}{SESSION_PREFIX}{token}", self.addr)
    }

    /// How many requests reached the proxy through `token`'s session.
    pub fn session_requests(&self, token: &str) -> u64 {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .requests(token)
    }

    /// Stops the proxy and waits until the listener is closed.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Serves until aborted: aborting the task drops the listener and every connection with it.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let service = service_fn(move |request| handle(shared.clone(), request));
    serve::http1(listener, serve::tcp, service, std::future::pending()).await;
}

/// Checks the upstream base URL: `http` or `https`, a host, no query or fragment.
fn upstream_base(upstream: &str) -> Result<http::Uri, String> {
    if upstream.contains('?') || upstream.contains('#') {
        return Err(format!(
            "proxy upstream `{upstream}` must not have a query or fragment: request paths are \
             appended to it"
        ));
    }
    let url: http::Uri = upstream
        .parse()
        .map_err(|e| format!("proxy upstream `{upstream}` is not a URL: {e}"))?;
    if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none_or(str::is_empty) {
        return Err(format!(
            "proxy upstream `{upstream}` must be an http:// or https:// URL with a host"
        ));
    }
    Ok(url)
}

/// The client the proxy forwards with: no redirects followed (the agent sees them), no
/// system proxy, TLS by rustls with ring for `https` upstreams.
fn upstream_client(base: &http::Uri) -> Result<Client, Error> {
    // Plain HTTP: skip loading the system's root certificates.
    let roots = if base.scheme_str() == Some("http") {
        Roots::Only(Vec::new())
    } else {
        Roots::SystemAnd(Vec::new())
    };
    Client::new(roots, Redirects::None, usize::MAX).map_err(|e| {
        Error::Internal(format!(
            "cannot build the fault proxy's HTTP client: {}",
            error_chain(&e)
        ))
    })
}
