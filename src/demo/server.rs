//! An HTTP/1.1 server (hyper, keep-alive) serving any [`Agent`] on `127.0.0.1`:
//!
//! * `POST /v1/agent`: body a serialized [`Request`]; 200 with
//!   [`Observation::to_wire_json`], 500 `{"error": "..."}` when the agent fails, 400 on a
//!   malformed body.
//! * `POST /v1/chat/completions`: OpenAI-compatible. `messages` become the request (case
//!   `openai`, sample 0), `metadata` (an object) becomes `vars`, `user` the customer, and
//!   the `x-evalgate-tier` header the tier hint. The answer is a `chat.completion` whose
//!   message has the answer as `content`, a `tool_calls` entry per `tool.*` decision and
//!   `refusal` (the answer text when the agent refused, else null).
//! * `GET /healthz`: `ok`. Anything else: 404.
//!
//! Responses carry an `x-evalgate-tier` header with the tier that answered. The agent is
//! called directly on the connection's task, so it must be fast (the demo agent takes
//! microseconds).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use evalgate::observation::{Message, Observation, Request, Role};
use evalgate::serve;
use evalgate::target::agent::Agent;

const TIER_HEADER: &str = "x-evalgate-tier";
const MAX_BODY: usize = 8 * 1024 * 1024;

/// A running server; dropping it stops accepting and closes idle connections.
#[derive(Debug)]
pub struct DemoServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

struct State {
    agent: Arc<dyn Agent>,
    completions: AtomicU64,
}

impl DemoServer {
    /// Binds `127.0.0.1:0` and serves `agent` on the current tokio runtime.
    pub async fn start(agent: Arc<dyn Agent>) -> std::io::Result<DemoServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let state = Arc::new(State {
            agent,
            completions: AtomicU64::new(0),
        });
        let service = service_fn(move |req| handle(state.clone(), req));
        // Once stopped, connections finish the request they serve and close.
        let stopped = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve::http1(listener, serve::tcp, service, stopped));
        Ok(DemoServer {
            addr,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// The address the server listens on (`127.0.0.1` and the port it was given).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        // Detach: the task stops accepting once it sees the signal, and ends when the open
        // connections have closed.
        drop(self.task.take());
    }
}

fn respond(status: StatusCode, body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn json_response(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    respond(status, Bytes::from(body), "application/json")
}

fn error(status: StatusCode, message: impl Into<String>) -> Response<Full<Bytes>> {
    json_response(status, &json!({ "error": message.into() }))
}

fn with_tier(
    mut response: Response<Full<Bytes>>,
    observation: &Observation,
) -> Response<Full<Bytes>> {
    if let Some(tier) = observation.tier.as_deref()
        && let Ok(value) = HeaderValue::from_str(tier)
    {
        response.headers_mut().insert(TIER_HEADER, value);
    }
    response
}

async fn handle(
    state: Arc<State>,
    req: hyper::Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let endpoint = match parts.uri.path() {
        "/healthz" | "/v1/agent" | "/v1/chat/completions" => parts.uri.path(),
        _ => return Ok(error(StatusCode::NOT_FOUND, "not found")),
    };
    let (allowed, allow) = if endpoint == "/healthz" {
        (Method::GET, "GET")
    } else {
        (Method::POST, "POST")
    };
    if parts.method != allowed {
        let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        response
            .headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static(allow));
        return Ok(response);
    }
    if endpoint == "/healthz" {
        return Ok(respond(
            StatusCode::OK,
            Bytes::from_static(b"ok"),
            "text/plain",
        ));
    }
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                format!("could not read body: {e}"),
            ));
        }
    };
    let tier_hint = parts
        .headers
        .get(TIER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok(if endpoint == "/v1/agent" {
        agent_endpoint(&state, &body, tier_hint)
    } else {
        chat_endpoint(&state, &body, tier_hint)
    })
}

fn agent_endpoint(state: &State, body: &[u8], tier_hint: Option<String>) -> Response<Full<Bytes>> {
    let mut request: Request = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("invalid request body: {e}"),
            );
        }
    };
    if request.tier.is_none() {
        request.tier = tier_hint;
    }
    match state.agent.respond(&request) {
        Ok(observation) => with_tier(
            json_response(StatusCode::OK, &observation.to_wire_json()),
            &observation,
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Maps an OpenAI chat request to a [`Request`].
fn chat_request(body: &[u8], tier_hint: Option<String>) -> Result<Request, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let raw = value
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("`messages` must be an array")?;
    let mut messages = Vec::with_capacity(raw.len());
    for message in raw {
        let role = match message.get("role").and_then(Value::as_str) {
            Some("system" | "developer") => Role::System,
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            Some("tool" | "function") => Role::Tool,
            other => return Err(format!("unsupported message role {other:?}")),
        };
        let content = match message.get("content") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            None | Some(Value::Null) => String::new(),
            Some(_) => return Err("message `content` must be a string or an array".into()),
        };
        messages.push(Message { role, content });
    }
    let mut request = Request::new("openai", 0, messages);
    if let Some(Value::Object(metadata)) = value.get("metadata") {
        request.vars = metadata.clone();
    }
    request.customer = value
        .get("user")
        .and_then(Value::as_str)
        .map(str::to_string);
    request.tier = tier_hint;
    Ok(request)
}

fn chat_endpoint(state: &State, body: &[u8], tier_hint: Option<String>) -> Response<Full<Bytes>> {
    let request = match chat_request(body, tier_hint) {
        Ok(request) => request,
        Err(message) => {
            let error = json!({"error": {"message": message, "type": "invalid_request_error", "code": null}});
            return json_response(StatusCode::BAD_REQUEST, &error);
        }
    };
    let observation = match state.agent.respond(&request) {
        Ok(observation) => observation,
        Err(e) => {
            let error =
                json!({"error": {"message": e.to_string(), "type": "server_error", "code": null}});
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, &error);
        }
    };
    let n = state.completions.fetch_add(1, Ordering::Relaxed) + 1;
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let text = observation.output.text.clone();
    let mut message = json!({
        "role": "assistant",
        "content": text,
        "refusal": if observation.refusal == Some(true) { Value::String(text.clone()) } else { Value::Null },
    });
    let tool_calls: Vec<Value> = observation
        .decisions
        .iter()
        .filter(|d| d.point == "tool")
        .enumerate()
        .map(|(i, d)| {
            json!({"id": format!("call_{}", i + 1), "type": "function",
                   "function": {"name": d.branch, "arguments": "{}"}})
        })
        .collect();
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    let usage = observation.usage.unwrap_or_default();
    let model = observation
        .model
        .clone()
        .or_else(|| {
            let requested: Value = serde_json::from_slice(body).ok()?;
            requested.get("model")?.as_str().map(str::to_string)
        })
        .unwrap_or_default();
    let completion = json!({
        "id": format!("chatcmpl-demo-{n}"),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": observation.finish_reason.as_deref().unwrap_or("stop"),
        }],
        "usage": {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total(),
        },
    });
    with_tier(json_response(StatusCode::OK, &completion), &observation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{DemoAgent, DemoVersion};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Sends one HTTP/1.1 request on a keep-alive connection; returns status, head, body.
    async fn send(stream: &mut TcpStream, head: &str, body: &str) -> (u16, String, String) {
        let request = format!(
            "{head}\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed early");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(buf[..end].to_vec())
            .unwrap()
            .to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        while buf.len() < end + length {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed early");
            buf.extend_from_slice(&chunk[..n]);
        }
        let status = head[9..12].parse().unwrap();
        let body = String::from_utf8(buf[end..end + length].to_vec()).unwrap();
        (status, head, body)
    }

    #[tokio::test]
    async fn serves_the_agent_over_http() {
        let server = DemoServer::start(Arc::new(DemoAgent::new(DemoVersion::V2)))
            .await
            .unwrap();
        assert!(server.url().starts_with("http://127.0.0.1:"));
        let mut stream = TcpStream::connect(server.addr()).await.unwrap();

        let body = r#"{"case":"c1","sample":0,"messages":[{"role":"user","content":"Please refund A1003"}]}"#;
        let (status, head, body) = send(&mut stream, "POST /v1/agent HTTP/1.1", body).await;
        assert_eq!(status, 200, "{body}");
        assert!(head.contains("x-evalgate-tier: primary"));
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            json["decisions"],
            json!([
                "route.handoff",
                "tool.lookup_order",
                "escalate.refund_over_limit"
            ])
        );
        assert_eq!(
            (json["model"].as_str(), json["refusal"].as_bool()),
            (Some("demo-support-2"), Some(false))
        );

        // Same connection (keep-alive): the OpenAI-compatible endpoint.
        let body = r#"{"model":"x","messages":[{"role":"system","content":"be nice"},{"role":"user","content":"refund A1002"}],"metadata":{"format":"json"}}"#;
        let head_line = "POST /v1/chat/completions HTTP/1.1\r\nx-evalgate-tier: secondary";
        let (status, head, body) = send(&mut stream, head_line, body).await;
        assert_eq!(status, 200, "{body}");
        assert!(head.contains("x-evalgate-tier: secondary"));
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["id"], "chatcmpl-demo-1");
        assert_eq!(json["object"], "chat.completion");
        assert_eq!(json["model"], "demo-support-2");
        let choice = &json["choices"][0];
        assert_eq!(choice["finish_reason"], "stop");
        assert!(
            choice["message"]["content"]
                .as_str()
                .unwrap()
                .contains("$120.00")
        );
        assert_eq!(choice["message"]["refusal"], Value::Null);
        let calls = choice["message"]["tool_calls"].as_array().unwrap();
        let names: Vec<&str> = calls
            .iter()
            .map(|c| c["function"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["lookup_order", "issue_refund"]);
        assert_eq!(
            (calls[1]["id"].as_str(), calls[1]["type"].as_str()),
            (Some("call_2"), Some("function"))
        );
        let usage = &json["usage"];
        assert_eq!(
            usage["total_tokens"].as_u64(),
            Some(
                usage["prompt_tokens"].as_u64().unwrap()
                    + usage["completion_tokens"].as_u64().unwrap()
            )
        );

        let body = r#"{"messages":[{"role":"user","content":"do my homework"}]}"#;
        let (_, _, body) = send(&mut stream, "POST /v1/chat/completions HTTP/1.1", body).await;
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["id"], "chatcmpl-demo-2");
        let refusal = json["choices"][0]["message"]["refusal"].as_str().unwrap();
        assert!(refusal.starts_with("I'm sorry, but I can't help with that"));

        let body = r#"{"case":"c","sample":0,"messages":[{"role":"user","content":"hi"}],"vars":{"fail":"error"}}"#;
        let (status, _, body) = send(&mut stream, "POST /v1/agent HTTP/1.1", body).await;
        assert_eq!(
            (status, body.as_str()),
            (500, r#"{"error":"demo agent: simulated upstream failure"}"#)
        );
        let (status, _, _) = send(&mut stream, "POST /v1/agent HTTP/1.1", "{not json").await;
        assert_eq!(status, 400);
        let (status, _, body) = send(&mut stream, "GET /healthz HTTP/1.1", "").await;
        assert_eq!((status, body.as_str()), (200, "ok"));
        let (status, _, _) = send(&mut stream, "GET /nope HTTP/1.1", "").await;
        assert_eq!(status, 404);
        let (status, _, _) = send(&mut stream, "GET /v1/agent HTTP/1.1", "").await;
        assert_eq!(status, 405);

        // Dropping the server stops accepting new connections.
        let addr = server.addr();
        drop(server);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(TcpStream::connect(addr).await.is_err());
    }
}
