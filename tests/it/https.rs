//! HTTPS against a real TLS server on loopback: rustls with the ring provider, and the
//! `ca_file` key of the `http` and `openai` targets.
//!
//! Every test generates its own CA and a server certificate for `127.0.0.1`/`localhost`
//! (rcgen), serves HTTPS on `127.0.0.1:0` (tokio-rustls + hyper) and runs the real `evalgate`
//! binary on a temp evals folder. Where the outcome must not depend on the machine's own
//! trust store, `SSL_CERT_FILE` names the "system" roots (honoured by rustls-platform-verifier
//! on Linux and other Unix systems except Apple's).

use crate::support::suite;

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use evalgate::serve;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Response, StatusCode};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::{Value, json};
use suite::{Run, TempSuite, simple_case};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

// ---------------------------------------------------------------------------------------
// certificates

/// A test CA and a server certificate it signed, for `127.0.0.1` and `localhost`.
struct Pki {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivatePkcs8KeyDer<'static>,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_params = ca_params("evalgate test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("self-signed CA");
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
        .expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "evalgate test agent");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate().expect("server key");
    let server_cert = params
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
    Pki {
        ca_pem: ca_cert.pem(),
        server_chain: vec![server_cert.der().clone(), ca_cert.der().clone()],
        server_key: PrivatePkcs8KeyDer::from(server_key.serialize_der()),
    }
}

/// The PEM of a CA that signed nothing the tests serve.
fn unrelated_ca_pem() -> String {
    let key = KeyPair::generate().expect("key");
    ca_params("unrelated test CA")
        .self_signed(&key)
        .expect("self-signed CA")
        .pem()
}

// ---------------------------------------------------------------------------------------
// the HTTPS agent

#[derive(Clone, Copy)]
enum Answer {
    /// The default evalgate answer shape, echoing the last user message.
    Echo,
    /// A minimal OpenAI `chat.completion` saying "hello".
    Completion,
}

/// An HTTPS agent on `127.0.0.1:0`; dropping it stops accepting connections.
struct TlsAgent {
    port: u16,
    hits: Arc<AtomicUsize>,
    _stop: oneshot::Sender<()>,
}

impl TlsAgent {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn serve(rt: &Runtime, pki: &Pki, answer: Answer) -> TlsAgent {
    // The provider rustls's features name: ring, the only one this build has.
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            pki.server_chain.clone(),
            PrivateKeyDer::Pkcs8(pki.server_key.clone_key()),
        )
        .expect("server certificate and key");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = rt
        .block_on(TcpListener::bind(("127.0.0.1", 0)))
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let service = service_fn(move |req| {
        counter.fetch_add(1, Ordering::SeqCst);
        respond(answer, req)
    });
    // A client that rejects the certificate aborts the handshake: the connection is dropped.
    let handshake = move |stream: TcpStream| {
        let acceptor = acceptor.clone();
        async move { acceptor.accept(stream).await.ok() }
    };
    // Once dropped, the agent stops accepting; open connections finish, then close.
    let stopped = async {
        let _ = stopped.await;
    };
    rt.spawn(serve::http1(listener, handshake, service, stopped));
    TlsAgent {
        port,
        hits,
        _stop: stop,
    }
}

async fn respond(
    answer: Answer,
    req: hyper::Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != Method::POST {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return Ok(response);
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let last_user = request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    let value = match answer {
        Answer::Echo => json!({
            "output": last_user,
            "decisions": ["route.echo"],
            "model": "tls-mock",
        }),
        Answer::Completion => json!({
            "choices": [{
                "message": {"role": "assistant", "content": "hello"},
                "finish_reason": "stop",
            }],
            "model": "tls-mock",
        }),
    };
    let mut response = Response::new(Full::new(Bytes::from(
        serde_json::to_vec(&value).expect("JSON"),
    )));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

// ---------------------------------------------------------------------------------------
// helpers

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// An `http` target suite for `url` with one echo case, `hello`.
fn http_suite(url: &str, extra: &str) -> TempSuite {
    let s = TempSuite::new(&format!(
        "target:\n  http:\n    url: \"{url}\"\n{extra}retries: {{max: 0}}\n"
    ));
    s.case(
        "hello.yaml",
        &simple_case(
            "hello over tls",
            "  - contains: hello over tls\n  - branches: [route.echo]",
        ),
    );
    s
}

/// `evalgate run evals` with the "system" roots given by `ssl_cert_file` when set (and
/// never taken from the test's own environment otherwise).
fn run(s: &TempSuite, ssl_cert_file: Option<&Path>) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"));
    cmd.args(["run", "evals"])
        .current_dir(s.path())
        .env("EVALGATE_OUT", s.out())
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("EVALGATE_RUN_ID")
        .env_remove("EVALGATE_CONCURRENCY")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    if let Some(file) = ssl_cert_file {
        cmd.env("SSL_CERT_FILE", file);
    }
    let output = cmd.output().expect("evalgate runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The single case record and the single sample record of a one-sample run.
fn records(s: &TempSuite) -> (Value, Value) {
    let cases = s.records_of("case");
    let samples = s.records_of("sample");
    assert_eq!(cases.len(), 1, "{:#?}", s.records());
    assert_eq!(samples.len(), 1, "{:#?}", s.records());
    (cases[0].clone(), samples[0].clone())
}

fn assert_passes(s: &TempSuite, run: &Run) {
    assert_eq!(run.code, 0, "{}", run.all());
    let (case, sample) = records(s);
    assert_eq!(case["verdict"], "pass", "{case:#}\n{}", run.all());
    assert_eq!(sample["verdict"], "pass", "{sample:#}");
    assert_eq!(sample["model"], "tls-mock", "{sample:#}");
    assert_eq!(sample["error"], Value::Null, "{sample:#}");
}

// ---------------------------------------------------------------------------------------
// tests

#[test]
fn http_target_trusts_the_ca_file() {
    let rt = runtime();
    let pki = pki();
    let agent = serve(&rt, &pki, Answer::Echo);
    let s = http_suite(
        &format!("https://127.0.0.1:{}/v1/agent", agent.port),
        "    ca_file: certs/ca.pem\n",
    );
    write(&s.evals().join("certs/ca.pem"), &pki.ca_pem);
    let run = run(&s, None);
    assert_passes(&s, &run);
    assert!(agent.hits() >= 1);
}

#[test]
fn http_target_without_ca_file_rejects_the_unknown_issuer() {
    let rt = runtime();
    let pki = pki();
    let agent = serve(&rt, &pki, Answer::Echo);
    let s = http_suite(&format!("https://127.0.0.1:{}/v1/agent", agent.port), "");
    // Retries allowed: an untrusted certificate must still not be retried.
    let suite_file = s.evals().join("evalgate.yaml");
    let yaml = std::fs::read_to_string(&suite_file).unwrap();
    std::fs::write(
        &suite_file,
        yaml.replace("retries: {max: 0}", "retries: {max: 2}"),
    )
    .unwrap();
    // The "system" roots: a CA that did not sign the agent's certificate.
    let system = s.path().join("system-roots.pem");
    write(&system, &unrelated_ca_pem());
    let run = run(&s, Some(&system));
    assert_eq!(run.code, 1, "{}", run.all());
    let (case, sample) = records(&s);
    assert_eq!(case["verdict"], "error", "{case:#}\n{}", run.all());
    assert_eq!(sample["verdict"], "error", "{sample:#}");
    let error = sample["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("UnknownIssuer") || error.contains("certificate"),
        "the sample error names the certificate problem: {sample:#}"
    );
    assert_eq!(agent.hits(), 0, "no request got past the handshake");
    assert_eq!(
        sample["attempts"], 1,
        "a certificate error is not retried: {sample:#}"
    );
}

/// `ca_file` adds to the system roots: the agent's CA only in the system store (here
/// `SSL_CERT_FILE`), an unrelated CA in `ca_file`, and the case still passes.
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
#[test]
fn ca_file_adds_to_the_system_roots() {
    let rt = runtime();
    let pki = pki();
    let agent = serve(&rt, &pki, Answer::Echo);
    let s = http_suite(
        &format!("https://localhost:{}/v1/agent", agent.port),
        "    ca_file: other-ca.pem\n",
    );
    write(&s.evals().join("other-ca.pem"), &unrelated_ca_pem());
    let system = s.path().join("system-roots.pem");
    write(&system, &pki.ca_pem);
    let run = run(&s, Some(&system));
    assert_passes(&s, &run);
}

#[test]
fn openai_target_over_https_with_ca_file() {
    let rt = runtime();
    let pki = pki();
    let agent = serve(&rt, &pki, Answer::Completion);
    let s = TempSuite::new(&format!(
        "target:\n  openai:\n    base_url: \"https://127.0.0.1:{}/v1\"\n    model: tls-test\n    \
         ca_file: ca.pem\nretries: {{max: 0}}\n",
        agent.port
    ));
    s.case(
        "hello.yaml",
        &simple_case("say hello", "  - contains: hello"),
    );
    write(&s.evals().join("ca.pem"), &pki.ca_pem);
    let system = s.path().join("system-roots.pem");
    write(&system, &unrelated_ca_pem());
    let run = run(&s, Some(&system));
    assert_passes(&s, &run);
    let (_, sample) = records(&s);
    assert_eq!(sample["finish_reason"], "stop", "{sample:#}");
    assert!(agent.hits() >= 1);
}

#[test]
fn a_missing_ca_file_is_a_config_error_naming_it() {
    for url in [
        "https://127.0.0.1:9/v1/agent",
        "http://127.0.0.1:9/v1/agent",
    ] {
        let s = http_suite(url, "    ca_file: certs/missing.pem\n");
        let run = run(&s, None);
        assert_eq!(run.code, 2, "{url}: {}", run.all());
        assert!(
            run.stderr.contains("target.http.ca_file")
                && run.stderr.contains(&format!(
                    "evals{}certs{}missing.pem",
                    std::path::MAIN_SEPARATOR,
                    std::path::MAIN_SEPARATOR
                )),
            "{url}: {}",
            run.all()
        );
        assert!(s.records_of("sample").is_empty(), "{:#?}", s.records());
    }
    let s = TempSuite::new(
        "target:\n  openai:\n    base_url: https://127.0.0.1:9/v1\n    model: m\n    \
         ca_file: nope.pem\n",
    );
    s.case("a.yaml", &simple_case("hi", "  - contains: hi"));
    let run = run(&s, None);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("target.openai.ca_file") && run.stderr.contains("nope.pem"),
        "{}",
        run.all()
    );
}

#[test]
fn a_ca_file_without_certificates_is_a_config_error_naming_it() {
    let broken = [
        ("empty.pem", String::new()),
        ("key-only.pem", KeyPair::generate().unwrap().serialize_pem()),
        (
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n".into(),
        ),
        (
            "not-a-cert.pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
        ),
    ];
    for (name, text) in broken {
        let s = http_suite(
            "https://127.0.0.1:9/v1/agent",
            &format!("    ca_file: {name}\n"),
        );
        write(&s.evals().join(name), &text);
        let run = run(&s, None);
        assert_eq!(run.code, 2, "{name}: {}", run.all());
        assert!(
            run.stderr.contains("target.http.ca_file") && run.stderr.contains(name),
            "{name}: {}",
            run.all()
        );
    }
}

/// The design requires rustls with ring: aws-lc costs ~25 s per cold build.
#[test]
fn no_aws_lc_in_the_build() {
    let lock = include_str!("../../Cargo.lock");
    let names: Vec<&str> = lock
        .lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .collect();
    assert!(names.contains(&"ring"), "ring is the TLS provider");
    for banned in ["aws-lc-rs", "aws-lc-sys", "aws-lc-fips-sys"] {
        assert!(
            !names.contains(&banned),
            "`{banned}` is in Cargo.lock: some dependency enables aws-lc"
        );
    }
}
