//! A loopback mock agent for fault tests: a hyper HTTP/1.1 server on `127.0.0.1:0` that
//! answers every request (any method, any path) according to a [`Behaviour`]. Include it
//! with `#[path = "support/mock_agent.rs"] mod mock_agent;`. It needs a tokio runtime.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use evalgate::serve;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// How the mock answers.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// `{"output": <last user message>, "decisions": ["route.echo"], "usage": {"input_tokens":
    /// 1, "output_tokens": 1}, "model": "mock-1", "tier": "primary"}`.
    Echo,
    /// Echo after a delay.
    Delay(Duration),
    /// An empty body with this status.
    Status(u16),
    /// The first `then_ok_after` requests answer `status` with `Retry-After: seconds`; later
    /// ones echo.
    RetryAfter {
        status: u16,
        seconds: u64,
        then_ok_after: usize,
    },
    /// 200 with a body that is not JSON.
    InvalidJson,
    /// 200 with `{"output":"xxxx...` of exactly `bytes` bytes, streamed in 64 KiB chunks
    /// with chunked transfer encoding (no Content-Length), never buffered whole.
    Huge { bytes: usize },
    /// 200 with this JSON, always.
    Fixed(Value),
    /// 200 with this JSON and these extra response headers.
    FixedWithHeaders(Value, Vec<(&'static str, &'static str)>),
    /// 200 with the JSON this function makes of the request's path and JSON (its `case`,
    /// `sample`, `messages`...): an agent whose every answer a test scripts.
    Respond(Responder),
    /// `status` with `Location: location` for every request whose path is not the path of
    /// `location`; a request to that path is echoed (so a redirect within the mock lands).
    Redirect { status: u16, location: String },
    /// Echo; but a request whose body contains `matching` is answered only once `release`
    /// holds `true` (the test decides when those cases finish).
    Held {
        matching: &'static str,
        release: watch::Receiver<bool>,
    },
}

/// The function behind [`Behaviour::Respond`].
#[derive(Clone)]
pub struct Responder(pub Arc<RespondFn>);

/// An answer made of a request's path and JSON.
pub type RespondFn = dyn Fn(&str, &Value) -> Value + Send + Sync;

impl Responder {
    /// A responder reading the request's JSON only.
    pub fn new(f: impl Fn(&Value) -> Value + Send + Sync + 'static) -> Responder {
        Responder(Arc::new(move |_, request| f(request)))
    }

    /// A responder reading the request's path too.
    pub fn with_path(f: impl Fn(&str, &Value) -> Value + Send + Sync + 'static) -> Responder {
        Responder(Arc::new(f))
    }
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Responder(..)")
    }
}

/// A running mock agent; dropping it stops the server.
pub struct MockAgent {
    /// `http://127.0.0.1:PORT` (every path is served).
    pub url: String,
    pub addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl MockAgent {
    /// How many requests the mock has received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// The head of every request received so far, in order: `METHOD URI` then one
    /// `name: value` line per header.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

impl Drop for MockAgent {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Starts a mock agent on `127.0.0.1:0` with this behaviour.
pub async fn start(behaviour: Behaviour) -> MockAgent {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("mock agent: bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("mock agent: local address");
    let hits = Arc::new(AtomicUsize::new(0));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let (shutdown, stopped) = oneshot::channel::<()>();
    let behaviour = Arc::new(behaviour);
    let counter = hits.clone();
    let seen = heads.clone();
    let service = service_fn(move |req: hyper::Request<Incoming>| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        seen.lock().unwrap().push(head(&req));
        answer(behaviour.clone(), n, req)
    });
    // Once dropped, connections finish the request they serve and close.
    let stopped = async {
        let _ = stopped.await;
    };
    tokio::spawn(serve::http1(listener, serve::tcp, service, stopped));
    MockAgent {
        url: format!("http://{addr}"),
        addr,
        hits,
        heads,
        shutdown: Some(shutdown),
    }
}

/// A request's method, URI and headers as text.
fn head(req: &hyper::Request<Incoming>) -> String {
    let mut text = format!("{} {}", req.method(), req.uri());
    for (name, value) in req.headers() {
        text.push_str(&format!(
            "\n{name}: {}",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text
}

type MockBody = BoxBody<Bytes, Infallible>;

fn response(status: u16, body: MockBody, json: bool) -> Response<MockBody> {
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if json {
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    response
}

fn full(bytes: impl Into<Bytes>) -> MockBody {
    Full::new(bytes.into()).boxed()
}

fn json_response(status: u16, value: &Value) -> Response<MockBody> {
    response(
        status,
        full(serde_json::to_vec(value).unwrap_or_default()),
        true,
    )
}

/// The echo answer to a serialized `Request` body (400 when it is not JSON).
fn echo(body: &[u8]) -> Response<MockBody> {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return json_response(
            400,
            &json!({"error": "mock agent: request body is not JSON"}),
        );
    };
    let last_user = request
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|messages| {
            messages
                .iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        })
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    json_response(
        200,
        &json!({
            "output": last_user,
            // A test scripts a case's decisions in `vars.decisions`.
            "decisions": request
                .pointer("/vars/decisions")
                .cloned()
                .unwrap_or_else(|| json!(["route.echo"])),
            "usage": {"input_tokens": 1, "output_tokens": 1},
            "model": "mock-1",
            "tier": "primary",
        }),
    )
}

async fn answer(
    behaviour: Arc<Behaviour>,
    n: usize,
    req: hyper::Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    // Read the whole request first, as a real agent would.
    let path = req.uri().path().to_string();
    let body = match req.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    Ok(match &*behaviour {
        Behaviour::Echo => echo(&body),
        Behaviour::Delay(delay) => {
            // A thread sleep is accurate to well under a millisecond; tokio's timer rounds
            // up to its 1 ms tick, which would make a "50 ms" agent answer in ~51.7 ms.
            let delay = *delay;
            let _ = tokio::task::spawn_blocking(move || std::thread::sleep(delay)).await;
            echo(&body)
        }
        Behaviour::Held { matching, release } => {
            if String::from_utf8_lossy(&body).contains(matching) {
                let _ = release.clone().wait_for(|released| *released).await;
            }
            echo(&body)
        }
        Behaviour::Status(status) => response(*status, full(Bytes::new()), false),
        Behaviour::RetryAfter {
            status,
            seconds,
            then_ok_after,
        } => {
            if n < *then_ok_after {
                let mut r = response(*status, full(Bytes::new()), false);
                r.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(*seconds));
                r
            } else {
                echo(&body)
            }
        }
        Behaviour::InvalidJson => response(200, full(&b"{\"output\": \"unterminated"[..]), true),
        Behaviour::Huge { bytes } => response(200, HugeBody::new(*bytes).boxed(), true),
        Behaviour::Fixed(value) => json_response(200, value),
        Behaviour::Respond(respond) => match serde_json::from_slice::<Value>(&body) {
            Ok(request) => json_response(200, &(respond.0)(&path, &request)),
            Err(_) => json_response(
                400,
                &json!({"error": "mock agent: request body is not JSON"}),
            ),
        },
        Behaviour::Redirect { status, location } => {
            let target = location
                .split_once("://")
                .map_or(location.as_str(), |(_, rest)| {
                    rest.find('/').map_or("/", |slash| &rest[slash..])
                });
            if target.split('?').next() == Some(path.as_str()) {
                echo(&body)
            } else {
                let mut r = response(*status, full(Bytes::new()), false);
                r.headers_mut().insert(
                    hyper::header::LOCATION,
                    HeaderValue::from_str(location).expect("a Location header value"),
                );
                r
            }
        }
        Behaviour::FixedWithHeaders(value, headers) => {
            let mut r = json_response(200, value);
            for (name, value) in headers {
                r.headers_mut()
                    .insert(*name, HeaderValue::from_static(value));
            }
            r
        }
    })
}

const CHUNK: usize = 64 * 1024;
static XS: [u8; CHUNK] = [b'x'; CHUNK];
const HUGE_PREFIX: &[u8] = b"{\"output\":\"";
const HUGE_SUFFIX: &[u8] = b"\"}";

/// Streams `{"output":"xxx…"}` of exactly `total` bytes in chunks of at most 64 KiB.
struct HugeBody {
    total: usize,
    sent: usize,
}

impl HugeBody {
    fn new(total: usize) -> Self {
        HugeBody { total, sent: 0 }
    }
}

impl Body for HugeBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let (total, at) = (self.total, self.sent);
        if at >= total {
            return Poll::Ready(None);
        }
        let prefix_end = HUGE_PREFIX.len().min(total);
        let x_end = total.saturating_sub(HUGE_SUFFIX.len()).max(prefix_end);
        let chunk = if at < prefix_end {
            Bytes::from_static(&HUGE_PREFIX[at..prefix_end])
        } else if at < x_end {
            Bytes::from_static(&XS[..x_end.min(at + CHUNK) - at])
        } else {
            let offset = at - x_end;
            Bytes::from_static(&HUGE_SUFFIX[offset..offset + (total - at)])
        };
        self.sent += chunk.len();
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.total
    }
}

/// A tokio runtime for a plain `#[test]`, on whose workers mock agents keep serving while
/// the test thread runs the binary.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("a tokio runtime")
}

/// Starts a mock agent on `rt` from a plain `#[test]`.
pub fn serve(rt: &tokio::runtime::Runtime, behaviour: Behaviour) -> MockAgent {
    rt.block_on(start(behaviour))
}

/// A loopback port where nothing listens, held for as long as this lives: a TCP socket bound
/// to it but not listening, so a connection is refused and no other socket (a parallel
/// test's mock, binding port 0) can take the port meanwhile. Binding a listener and
/// dropping it, as these tests once did, left the port free for exactly that.
pub struct ClosedPort {
    fd: i32,
    /// The port.
    pub port: u16,
}

/// A [`ClosedPort`] on 127.0.0.1.
pub fn closed_port() -> ClosedPort {
    // SAFETY: plain socket calls on structs of the sizes they are given; the descriptor is
    // owned by the `ClosedPort` and closed once, on drop.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let bound = libc::bind(fd, (&raw const addr).cast(), len);
        assert_eq!(bound, 0, "bind: {}", std::io::Error::last_os_error());
        let mut local: libc::sockaddr_in = std::mem::zeroed();
        let mut local_len = len;
        let named = libc::getsockname(fd, (&raw mut local).cast(), &mut local_len);
        assert_eq!(named, 0, "getsockname: {}", std::io::Error::last_os_error());
        ClosedPort {
            fd,
            port: u16::from_be(local.sin_port),
        }
    }
}

impl Drop for ClosedPort {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours and still open.
        unsafe { libc::close(self.fd) };
    }
}
