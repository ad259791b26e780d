//! The `openai` target with `stream: true`, end to end: the real `evalgate` binary against a
//! loopback server that streams `chat.completion.chunk` events over chunked HTTP/1.1, in
//! pieces cut anywhere (inside events, inside UTF-8 characters) with pauses between them.
//!
//! Times are only bounded from below (the server's pause before the first token): machines
//! are noisy, a lower bound is not.

use crate::support::suite;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use suite::{TempSuite, simple_case};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// How long the server waits after the response head before the first token.
const FIRST_TOKEN_PAUSE: Duration = Duration::from_millis(150);

// ---------------------------------------------------------------------------------------
// the SSE server

/// One thing the server does while answering.
#[derive(Debug, Clone)]
enum Step {
    /// These body bytes, as one HTTP chunk in one write.
    Send(Vec<u8>),
    Pause(Duration),
    /// Breaks the connection in the middle of an HTTP chunk, as a crashing server or a
    /// proxy cutting the stream does.
    Abort,
}

/// The answer to one request: a status, and for a 2xx the body steps.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    steps: Vec<Step>,
}

impl Reply {
    fn stream(steps: Vec<Step>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type", "text/event-stream")],
            steps,
        }
    }
}

/// Picks the reply from the last user message and how many requests carried it before.
type Script = fn(&str, usize) -> Reply;

/// A loopback SSE server; every request body it received is kept, in order.
struct SseServer {
    url: String,
    requests: Arc<Mutex<Vec<Value>>>,
}

fn serve(rt: &Runtime, script: Script) -> SseServer {
    let listener = rt
        .block_on(TcpListener::bind(("127.0.0.1", 0)))
        .expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let hits = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let seen = requests.clone();
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (seen, hits) = (seen.clone(), hits.clone());
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let _ = answer(stream, script, seen, hits).await;
            });
        }
    });
    SseServer { url, requests }
}

async fn answer(
    mut stream: TcpStream,
    script: Script,
    seen: Arc<Mutex<Vec<Value>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
) -> std::io::Result<()> {
    let body = read_request(&mut stream).await?;
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let message = request
        .pointer("/messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string();
    seen.lock().unwrap().push(request);
    let hit = {
        let mut hits = hits.lock().unwrap();
        let n = hits.entry(message.clone()).or_default();
        *n += 1;
        *n - 1
    };
    let reply = script(&message, hit);
    let mut head = format!("HTTP/1.1 {} X\r\nconnection: close\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if reply.status != 200 {
        head.push_str("content-length: 0\r\n\r\n");
        stream.write_all(head.as_bytes()).await?;
        return stream.shutdown().await;
    }
    head.push_str("transfer-encoding: chunked\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    for step in reply.steps {
        match step {
            Step::Send(bytes) => {
                let mut chunk = format!("{:x}\r\n", bytes.len()).into_bytes();
                chunk.extend_from_slice(&bytes);
                chunk.extend_from_slice(b"\r\n");
                stream.write_all(&chunk).await?;
                stream.flush().await?;
            }
            Step::Pause(pause) => tokio::time::sleep(pause).await,
            Step::Abort => {
                // A chunk announced as 1 KiB of which 8 bytes come.
                stream.write_all(b"400\r\ndata: {\"").await?;
                stream.flush().await?;
                return Ok(());
            }
        }
    }
    stream.write_all(b"0\r\n\r\n").await?;
    stream.shutdown().await
}

/// Reads one request (head and `content-length` body) and returns its body.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut piece = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Ok(buf[end + 4..end + 4 + length].to_vec());
            }
        }
        let n = stream.read(&mut piece).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&piece[..n]);
    }
}

// ---------------------------------------------------------------------------------------
// streams

/// One `chat.completion.chunk` event for choice 0.
fn event(delta: Value, finish_reason: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-t1", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": "gpt-test", "system_fingerprint": "fp_test",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        "usage": null,
    });
    format!("data: {chunk}\n\n")
}

const GREETING: &str = "Ça va ? Très bien ✓";

/// A streamed answer: the role at once, then (after [`FIRST_TOKEN_PAUSE`], with a comment
/// keeping the connection alive) the text in network pieces cut inside characters and
/// between the two newlines of an event, then the finish reason, usage and `[DONE]`.
fn greeting() -> Vec<Step> {
    let body = [
        event(json!({"content": "Ça va ? "}), None),
        event(json!({"content": "Très bien ✓"}), None),
        event(json!({}), Some("stop")),
        // CRLF line ends, as some proxies rewrite them.
        "data: {\"id\":\"chatcmpl-t1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-test\",\
         \"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":6,\"total_tokens\":18}}\r\n\r\n"
            .to_string(),
        "data: [DONE]\n\n".to_string(),
    ]
    .concat()
    .into_bytes();
    let inside = |c: char, skip: usize| {
        let mut utf8 = [0u8; 4];
        let bytes = c.encode_utf8(&mut utf8).as_bytes();
        let at = body.windows(bytes.len()).position(|w| w == bytes).unwrap();
        at + skip
    };
    let mut cuts = vec![
        inside('Ç', 1),
        inside('è', 1),
        inside('✓', 2),
        body.windows(2).position(|w| w == b"\n\n").unwrap() + 1,
    ];
    cuts.sort();
    let mut steps = vec![
        Step::Send(event(json!({"role": "assistant", "content": ""}), None).into_bytes()),
        Step::Send(b": processing\n\n".to_vec()),
        Step::Pause(FIRST_TOKEN_PAUSE),
    ];
    let mut from = 0;
    for cut in cuts.into_iter().chain([body.len()]) {
        steps.push(Step::Send(body[from..cut].to_vec()));
        steps.push(Step::Pause(Duration::from_millis(20)));
        from = cut;
    }
    steps
}

/// The reference tool-call stream, in 29-byte pieces after [`FIRST_TOKEN_PAUSE`].
fn weather() -> Vec<Step> {
    let body = include_bytes!("../fixtures/openai/chat_completion_stream_tool_calls.sse");
    let mut steps = vec![Step::Pause(FIRST_TOKEN_PAUSE)];
    for piece in body.chunks(29) {
        steps.push(Step::Send(piece.to_vec()));
        steps.push(Step::Pause(Duration::from_millis(3)));
    }
    steps
}

/// The first tokens of an answer that never finishes.
fn beginning() -> Vec<Step> {
    vec![
        Step::Send(event(json!({"role": "assistant", "content": ""}), None).into_bytes()),
        Step::Send(event(json!({"content": "Hel"}), None).into_bytes()),
        Step::Pause(Duration::from_millis(20)),
    ]
}

fn script(message: &str, hit: usize) -> Reply {
    match message {
        "greeting" => Reply::stream(greeting()),
        "weather" => Reply::stream(weather()),
        "busy" if hit == 0 => Reply {
            status: 429,
            headers: vec![("retry-after", "0")],
            steps: Vec::new(),
        },
        "busy" => Reply::stream(greeting()),
        "cut" => Reply::stream([beginning(), vec![Step::Abort]].concat()),
        "ends" => Reply::stream(beginning()),
        "overloaded" => Reply::stream(
            [
                beginning(),
                vec![Step::Send(
                    b"data: {\"error\": {\"message\": \"The server had an error while processing \
                      your request.\", \"type\": \"server_error\"}}\n\n"
                        .to_vec(),
                )],
            ]
            .concat(),
        ),
        "long" => Reply::stream(
            (0..40)
                .map(|_| Step::Send(event(json!({"content": "x".repeat(200)}), None).into_bytes()))
                .collect(),
        ),
        _ => Reply {
            status: 400,
            headers: Vec::new(),
            steps: Vec::new(),
        },
    }
}

// ---------------------------------------------------------------------------------------
// helpers

fn streaming_suite(server: &SseServer, extra: &str) -> TempSuite {
    TempSuite::new(&format!(
        "target:\n  openai:\n    base_url: \"{}/v1\"\n    model: gpt-test\n    stream: true\n{extra}",
        server.url
    ))
}

/// The one sample record of case `id`.
fn sample(s: &TempSuite, id: &str) -> Value {
    let found: Vec<Value> = s
        .records_of("sample")
        .into_iter()
        .filter(|r| r["case"] == id)
        .collect();
    assert_eq!(found.len(), 1, "one sample of `{id}`: {:#?}", s.records());
    found.into_iter().next().unwrap()
}

fn ttft_and_latency(sample: &Value) -> (f64, f64) {
    let ttft = sample["ttft_ms"]
        .as_f64()
        .unwrap_or_else(|| panic!("ttft_ms recorded: {sample:#}"));
    let latency = sample["latency_ms"].as_f64().unwrap();
    assert!(
        ttft >= FIRST_TOKEN_PAUSE.as_secs_f64() * 1000.0,
        "ttft_ms {ttft} is at least the server's pause of {FIRST_TOKEN_PAUSE:?}: {sample:#}"
    );
    assert!(latency >= ttft, "latency_ms ≥ ttft_ms: {sample:#}");
    (ttft, latency)
}

/// The sample errored with `needle` in its error and the case's verdict is `error`.
fn assert_errored(s: &TempSuite, id: &str, needle: &str) -> Value {
    let sample = sample(s, id);
    assert_eq!(sample["verdict"], "error", "{sample:#}");
    let error = sample["error"].as_str().unwrap_or_default();
    assert!(error.contains(needle), "error lacks {needle:?}: {sample:#}");
    let case: Vec<Value> = s
        .records_of("case")
        .into_iter()
        .filter(|r| r["case"] == id)
        .collect();
    assert_eq!(case[0]["verdict"], "error", "{:#}", case[0]);
    sample
}

// ---------------------------------------------------------------------------------------
// scenarios

#[test]
fn a_streamed_answer_is_recorded_whole_with_its_time_to_first_token() {
    let rt = Runtime::new().unwrap();
    let server = serve(&rt, script);
    let s = streaming_suite(&server, "");
    s.case(
        "greeting.yaml",
        &simple_case("greeting", "  - contains: Très bien"),
    );
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());

    let sample = sample(&s, "greeting");
    assert_eq!(sample["verdict"], "pass", "{sample:#}");
    assert_eq!(sample["output"], GREETING);
    assert_eq!(sample["decisions"], json!(["finish_reason.stop"]));
    assert_eq!(sample["finish_reason"], "stop");
    assert_eq!(
        sample["usage"],
        json!({"input_tokens": 12, "output_tokens": 6})
    );
    assert_eq!(sample["model"], "gpt-test");
    assert_eq!(sample["envelope"]["system_fingerprint"], "fp_test");
    assert_eq!(sample["attempts"], 1);
    ttft_and_latency(&sample);

    let requests = server.requests.lock().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["stream"], true, "{:#}", requests[0]);
    assert_eq!(
        requests[0]["stream_options"],
        json!({"include_usage": true})
    );
}

#[test]
fn streamed_tool_calls_become_decisions() {
    let rt = Runtime::new().unwrap();
    let server = serve(&rt, script);
    let s = streaming_suite(&server, "");
    s.case(
        "weather.yaml",
        &simple_case("weather", "  - branches: [tool.get_current_weather]"),
    );
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());

    let sample = sample(&s, "weather");
    assert_eq!(sample["verdict"], "pass", "{sample:#}");
    assert_eq!(
        sample["decisions"],
        json!(["tool.get_current_weather", "finish_reason.tool_calls"])
    );
    assert_eq!(sample["finish_reason"], "tool_calls");
    assert_eq!(sample["output"], "");
    assert_eq!(sample["model"], "gpt-4o-mini");
    // The reference stream asks for no usage.
    assert_eq!(sample["usage"], Value::Null);
    ttft_and_latency(&sample);
}

#[test]
fn a_429_before_the_stream_is_retried_and_the_first_token_timed_from_the_retry() {
    let rt = Runtime::new().unwrap();
    let server = serve(&rt, script);
    let s = streaming_suite(&server, "");
    s.case("busy.yaml", &simple_case("busy", "  - contains: Très bien"));
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());

    let sample = sample(&s, "busy");
    assert_eq!(sample["verdict"], "pass", "{sample:#}");
    assert_eq!(sample["output"], GREETING);
    assert_eq!(sample["attempts"], 2, "{sample:#}");
    let retries = sample["retries"].as_array().unwrap();
    assert_eq!(retries.len(), 1, "{sample:#}");
    assert!(retries[0].as_str().unwrap().contains("429"), "{sample:#}");
    ttft_and_latency(&sample);
    assert_eq!(server.requests.lock().unwrap().len(), 2);
}

#[test]
fn a_stream_cut_midway_is_an_error_not_a_shorter_answer() {
    let rt = Runtime::new().unwrap();
    let server = serve(&rt, script);
    let s = streaming_suite(&server, "retries: {max: 0}\n");
    // Both would pass on the tokens that did arrive.
    s.case("cut.yaml", &simple_case("cut", "  - contains: Hel"));
    s.case("ends.yaml", &simple_case("ends", "  - contains: Hel"));
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());

    for id in ["cut", "ends"] {
        let sample = assert_errored(&s, id, "the stream ended before [DONE] after ");
        assert_eq!(sample["output"], "", "{sample:#}");
        assert_eq!(sample["attempts"], 1, "a started stream is never retried");
    }
    let cut = sample(&s, "cut");
    assert!(
        cut["error"].as_str().unwrap().contains("2 events"),
        "{cut:#}"
    );
    assert_eq!(server.requests.lock().unwrap().len(), 2);
}

#[test]
fn an_error_event_in_the_stream_is_an_error_naming_its_message() {
    let rt = Runtime::new().unwrap();
    let server = serve(&rt, script);
    let s = streaming_suite(&server, "");
    s.case(
        "overloaded.yaml",
        &simple_case("overloaded", "  - contains: Hel"),
    );
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_errored(
        &s,
        "overloaded",
        "the stream carried an error: The server had an error while processing your request.",
    );
}

#[test]
fn a_stream_past_response_bytes_is_an_error() {
    let rt = Runtime::new().unwrap();
    let server = serve(&rt, script);
    let s = streaming_suite(&server, "limits: {response_bytes: 4096}\n");
    s.case("long.yaml", &simple_case("long", "  - contains: x"));
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_errored(
        &s,
        "long",
        "response exceeds limits.response_bytes (4096 bytes)",
    );
}
