//! The proxy end to end over loopback: a small hyper upstream on `127.0.0.1:0`, the proxy in
//! front of it, reqwest as the agent. Timings are lower bounds only (machines are noisy);
//! the upper bounds are the generous ones that prove "does not hang".

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::*;
use crate::errors::Error;
use crate::serve;

/// Far above any timing asserted here: a test that reaches it has hung.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A response body fed from a channel, so the upstream can pause between chunks or stall.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|chunk| Ok(Frame::data(chunk))))
    }
}

type UpstreamBody = Either<Full<Bytes>, ChannelBody>;

/// The provider stand-in. Routes (any prefix before them is ignored):
/// * `/chunks?n=N&size=S`: N chunks of S bytes (`a`, `b`, …), chunked encoding;
/// * `/big?len=L`: L bytes with `Content-Length`;
/// * `/stall`: one chunk, then silence until the connection closes;
/// * `/hang`: never answers;
/// * anything else: 200 (or the `x-status` request header) echoing method, path and query,
///   headers and body as JSON, with `x-upstream: echo`.
struct Upstream {
    addr: SocketAddr,
    hits: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Upstream {
    async fn start() -> Upstream {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicU64::new(0));
        let counted = hits.clone();
        // Dropping it aborts the server and every connection.
        let service = service_fn(move |request| {
            counted.fetch_add(1, Ordering::Relaxed);
            serve(request)
        });
        let task = tokio::spawn(serve::http1(
            listener,
            serve::tcp,
            service,
            std::future::pending(),
        ));
        Upstream { addr, hits, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn query_number(query: &str, key: &str) -> usize {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("`{key}` missing from `{query}`"))
}

async fn serve(request: hyper::Request<Incoming>) -> Result<Response<UpstreamBody>, Infallible> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("");
    let streamed = |chunks: Vec<Bytes>, stall: bool| {
        let (tx, rx) = mpsc::channel(chunks.len().max(1));
        tokio::spawn(async move {
            for chunk in chunks {
                if tx.send(chunk).await.is_err() {
                    return;
                }
            }
            if stall {
                tx.closed().await;
            }
        });
        Response::new(Either::Right(ChannelBody(rx)))
    };
    if path.ends_with("/chunks") {
        let (n, size) = (query_number(query, "n"), query_number(query, "size"));
        let chunks = (0..n)
            .map(|i| Bytes::from(vec![b'a' + (i % 26) as u8; size]))
            .collect();
        return Ok(streamed(chunks, false));
    }
    if path.ends_with("/big") {
        let body = Bytes::from(vec![b'x'; query_number(query, "len")]);
        return Ok(Response::new(Either::Left(Full::new(body))));
    }
    if path.ends_with("/stall") {
        return Ok(streamed(vec![Bytes::from_static(b"partial")], true));
    }
    if path.ends_with("/hang") {
        std::future::pending::<()>().await;
    }
    let body = body.collect().await.unwrap().to_bytes();
    let headers: serde_json::Map<String, Value> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or("").to_string();
            (name.as_str().to_string(), Value::String(value))
        })
        .collect();
    let echo = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path_and_query().map_or("", |p| p.as_str()),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    let status = parts
        .headers
        .get("x-status")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(200);
    let mut response = Response::new(Either::Left(Full::new(Bytes::from(echo.to_string()))));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    response
        .headers_mut()
        .insert("x-upstream", "echo".parse().unwrap());
    Ok(response)
}

fn client() -> reqwest::Client {
    crate::target::install_tls_provider();
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only(Vec::new())
        .timeout(CLIENT_TIMEOUT)
        .build()
        .unwrap()
}

/// A condition as the suite file would declare it: `yaml` is its body.
fn condition(name: &str, yaml: &str) -> Condition {
    let file: ConditionFile = crate::yaml::parse(Path::new("evalgate.yaml"), yaml).unwrap();
    validate(name, &file).unwrap()
}

async fn proxy(upstream: &str, condition: Condition) -> FaultProxy {
    FaultProxy::start(upstream, condition, 42).await.unwrap()
}

/// Reads a body chunk by chunk: the bytes that arrived, and whether it ended in an error.
async fn read_body(mut response: reqwest::Response) -> (Vec<u8>, bool) {
    let mut received = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => return (received, false),
            Err(_) => return (received, true),
        }
    }
}

#[tokio::test]
async fn forwards_method_path_query_headers_and_body() {
    let upstream = Upstream::start().await;
    let proxy = proxy(
        &format!("{}/v1", upstream.url()),
        condition("slow_stream", "chunk_delay: 1ms"),
    )
    .await;
    assert!(proxy.base_url().starts_with("http://127.0.0.1:"));

    let response = client()
        .put(format!(
            "{}/chat/completions?a=1&b=two%20words",
            proxy.base_url()
        ))
        .header("authorization", "Bearer sk-test")
        .header("x-custom", "kept")
        .header("connection", "x-hop")
        .header("x-hop", "dropped")
        .header("x-status", "201")
        .body("hello upstream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-upstream"], "echo");
    let echo: Value = response.json().await.unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["path"], "/v1/chat/completions?a=1&b=two%20words");
    assert_eq!(echo["body"], "hello upstream");
    let headers = &echo["headers"];
    assert_eq!(headers["authorization"], "Bearer sk-test");
    assert_eq!(headers["x-custom"], "kept");
    assert_eq!(headers["host"], upstream.addr.to_string().as_str());
    assert_eq!(headers.get("x-hop"), None, "{headers}");

    // Without a path prefix on the upstream, and with the upstream's error status.
    let plain = FaultProxy::start(&upstream.url(), condition("c", "latency: 1ms"), 1)
        .await
        .unwrap();
    let response = client()
        .get(format!("{}/models", plain.base_url()))
        .header("x-status", "404")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let echo: Value = response.json().await.unwrap();
    assert_eq!(
        (echo["method"].as_str(), echo["path"].as_str()),
        (Some("GET"), Some("/models"))
    );

    let stats = proxy.stats();
    assert_eq!((stats.requests, stats.forwarded), (1, 1));
    assert_eq!(stats.injected + stats.upstream_errors + stats.truncated, 0);
}

#[tokio::test]
async fn adds_latency_before_forwarding() {
    let upstream = Upstream::start().await;
    let proxy = proxy(&upstream.url(), condition("peak_hours", "latency: 150ms")).await;
    let started = Instant::now();
    let response = client()
        .post(format!("{}/echo", proxy.base_url()))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(proxy.stats().delayed, 1);
}

#[tokio::test]
async fn injects_429_with_retry_after_without_contacting_the_upstream() {
    let upstream = Upstream::start().await;
    let proxy = proxy(
        &upstream.url(),
        condition("rate_limited", "status: 429\nretry_after: 1500ms\nshare: 1"),
    )
    .await;
    let client = client();
    for _ in 0..3 {
        let response = client
            .post(format!("{}/v1/chat/completions", proxy.base_url()))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "2", "1.5 s rounds up");
        assert_eq!(response.headers()["content-type"], "application/json");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"error": {"type": "rate_limit_error",
                             "message": "injected by evalgate condition rate_limited"}})
        );
    }
    assert_eq!(upstream.hits(), 0);
    let stats = proxy.stats();
    assert_eq!((stats.requests, stats.injected, stats.forwarded), (3, 3, 0));
}

#[tokio::test]
async fn injects_the_status_for_the_first_requests_only() {
    let upstream = Upstream::start().await;
    let proxy = proxy(
        &upstream.url(),
        condition("warm_up", "status: 529\nfirst: 2"),
    )
    .await;
    let client = client();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = client
            .get(format!("{}/echo", proxy.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers().get("retry-after"), None);
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [529, 529, 200, 200]);
    assert_eq!(upstream.hits(), 2);
}

/// Statuses of `n` sequential requests through a fresh proxy with `seed`.
async fn statuses_with_seed(upstream: &Upstream, condition: &Condition, seed: u64) -> Vec<u16> {
    let proxy = FaultProxy::start(&upstream.url(), condition.clone(), seed)
        .await
        .unwrap();
    let client = client();
    let mut statuses = Vec::with_capacity(200);
    for _ in 0..200 {
        let response = client
            .get(format!("{}/echo", proxy.base_url()))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    proxy.shutdown().await;
    statuses
}

#[tokio::test]
async fn a_share_injects_a_count_fixed_by_the_seed() {
    let upstream = Upstream::start().await;
    let half = condition("flaky", "status: 503\nshare: 0.5");
    let first = statuses_with_seed(&upstream, &half, 42).await;
    let injected = first.iter().filter(|&&s| s == 503).count();
    assert!((70..=130).contains(&injected), "{injected} of 200");
    assert!(first.iter().all(|&s| s == 503 || s == 200));
    assert_eq!(statuses_with_seed(&upstream, &half, 42).await, first);
    assert_ne!(statuses_with_seed(&upstream, &half, 43).await, first);
}

#[tokio::test]
async fn chunk_delay_spaces_out_the_chunks() {
    let upstream = Upstream::start().await;
    let proxy = proxy(
        &upstream.url(),
        condition("slow_stream", "chunk_delay: 100ms"),
    )
    .await;
    let started = Instant::now();
    let response = client()
        .get(format!("{}/chunks?n=5&size=10", proxy.base_url()))
        .send()
        .await
        .unwrap();
    let (body, failed) = read_body(response).await;
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert!(!failed);
    assert_eq!(body, b"aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee");
}

#[tokio::test]
async fn truncate_after_cuts_a_body_with_content_length() {
    let upstream = Upstream::start().await;
    let proxy = proxy(
        &upstream.url(),
        condition("cut_stream", "truncate_after: 200"),
    )
    .await;
    let response = client()
        .get(format!("{}/big?len=1000", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.content_length(),
        Some(1000),
        "the head promises it all"
    );
    let (body, failed) = read_body(response).await;
    assert!(failed, "the client must see the cut, not a whole body");
    assert!(body.len() <= 200, "{} bytes", body.len());
    assert_eq!(
        body.len(),
        200,
        "the allowed bytes are flushed before the cut"
    );

    // The whole body through `bytes()` is an error, not a short success.
    let whole = client()
        .get(format!("{}/big?len=1000", proxy.base_url()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await;
    assert!(whole.is_err());
    assert_eq!(proxy.stats().truncated, 2);
}

#[tokio::test]
async fn truncate_after_cuts_a_chunked_stream() {
    let upstream = Upstream::start().await;
    let proxy = proxy(
        &upstream.url(),
        condition("cut_stream", "truncate_after: 250"),
    )
    .await;
    let response = client()
        .get(format!("{}/chunks?n=5&size=100", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.content_length(), None);
    let (body, failed) = read_body(response).await;
    assert!(failed);
    assert!(body.len() <= 250, "{} bytes", body.len());
    assert_eq!(body.len(), 250);
    assert_eq!(&body[200..], &[b'c'; 50]);
}

#[tokio::test]
async fn truncate_after_passes_a_shorter_body_whole() {
    let upstream = Upstream::start().await;
    let proxy = proxy(
        &upstream.url(),
        condition("cut_stream", "truncate_after: 200"),
    )
    .await;
    for path in ["big?len=200", "chunks?n=2&size=100", "big?len=10"] {
        let response = client()
            .get(format!("{}/{path}", proxy.base_url()))
            .send()
            .await
            .unwrap();
        let (body, failed) = read_body(response).await;
        assert!(!failed, "{path}");
        assert!(body.len() <= 200);
    }
    assert_eq!(proxy.stats().truncated, 0);
}

#[tokio::test]
async fn an_upstream_that_never_answers_gets_504_after_the_timeout() {
    let upstream = Upstream::start().await;
    let options = ProxyOptions::default().with_upstream_timeout(Duration::from_millis(200));
    let proxy = FaultProxy::start_with(&upstream.url(), condition("c", "latency: 1ms"), 1, options)
        .await
        .unwrap();
    let started = Instant::now();
    let response = client()
        .post(format!("{}/hang", proxy.base_url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status(), 504);
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "timeout_error");
    assert_eq!(
        body["error"]["message"],
        "upstream sent no response within 200ms"
    );
    assert_eq!(proxy.stats().upstream_timeouts, 1);
}

#[tokio::test]
async fn a_stalled_upstream_body_is_cut_after_the_idle_timeout() {
    let upstream = Upstream::start().await;
    let options = ProxyOptions::default().with_idle_body_timeout(Duration::from_millis(200));
    let proxy = FaultProxy::start_with(&upstream.url(), condition("c", "latency: 1ms"), 1, options)
        .await
        .unwrap();
    let started = Instant::now();
    let response = client()
        .get(format!("{}/stall", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (body, failed) = read_body(response).await;
    assert!(failed);
    assert_eq!(body, b"partial");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(proxy.stats().upstream_timeouts, 1);
}

#[tokio::test]
async fn an_unreachable_upstream_gets_502() {
    // A port that was free a moment ago: nothing listens there now.
    let closed = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let proxy = proxy(&format!("http://{addr}"), condition("c", "latency: 1ms")).await;
    let response = client()
        .get(format!("{}/v1/models", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "api_connection_error");
    assert_eq!(proxy.stats().upstream_errors, 1);
}

#[tokio::test]
async fn rejects_an_upstream_that_is_not_an_http_base_url() {
    for upstream in [
        "ftp://example.com",
        "not a url",
        "http://example.com/v1?key=1",
    ] {
        let started = FaultProxy::start(upstream, condition("c", "latency: 1ms"), 1).await;
        assert!(matches!(started, Err(Error::Usage(_))), "{upstream}");
    }
}

#[tokio::test]
async fn dropping_the_proxy_closes_the_listener() {
    let upstream = Upstream::start().await;
    let proxy = proxy(&upstream.url(), condition("c", "latency: 1ms")).await;
    let addr = proxy.addr();
    assert!(TcpStream::connect(addr).await.is_ok());
    drop(proxy);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(addr).await.is_err());

    let proxy = self::proxy(&upstream.url(), condition("c", "latency: 1ms")).await;
    let addr = proxy.addr();
    proxy.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn dropping_the_proxy_ends_requests_in_flight() {
    let upstream = Upstream::start().await;
    let proxy = proxy(&upstream.url(), condition("c", "latency: 1ms")).await;
    let url = format!("{}/hang", proxy.base_url());
    let request = tokio::spawn(async move { client().get(url).send().await });
    // Let the request reach the upstream, then pull the plug.
    while upstream.hits() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(proxy);
    let error = request
        .await
        .unwrap()
        .expect_err("the connection closes unanswered");
    assert!(!error.is_timeout(), "{error:?}");
}
