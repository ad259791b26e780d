//! The HTTP client of the `http` and `openai` targets and of the fault proxy: hyper-util's
//! pooled HTTP/1.1 client over rustls (hyper-rustls), trusting the system's roots (loaded by
//! rustls-native-certs, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`) and the suite's
//! `ca_file`.
//!
//! reqwest did this before. It is not used because of what it costs every user's cold
//! build for features evalgate turns off (system proxies, cookies, decompression,
//! redirects by policy) and the WHATWG `url` crate with its IDNA tables: measured with a
//! fresh crate depending on this library, reqwest and `url` were 44 of its 212 packages
//! (benches/README.md, "Packages a harness user builds"). What evalgate needs of a client
//! is written here on top of the same hyper stack: requests with a fixed body, a body read
//! chunk by chunk, user info sent as basic authentication, redirects followed within the
//! origin only, and errors that never quote the URL (it may carry credentials).
//!
//! HTTP/2 is not offered: every agent and model endpoint evalgate calls speaks HTTP/1.1,
//! samples run on pooled keep-alive connections, and h2 with what it pulls in was 5 of the
//! packages every harness user built. rustls-native-certs rather than
//! rustls-platform-verifier: on Linux the two trust the same roots (the verifier loads them
//! with rustls-native-certs); on macOS and Windows the roots are the system store's, checked
//! by rustls instead of the OS verifier. It is 2 packages fewer (the verifier and `log`).

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use http::uri::{Authority, Parts, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Incoming};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as Pool;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// How many redirects within its origin one call follows (reqwest's default, kept).
const MAX_REDIRECTS: usize = 10;

/// What a call does with a 3xx answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Redirects {
    /// Follows it within the origin (scheme, host and port) the call was made to; one to
    /// another origin fails the call.
    SameOrigin,
    /// Returns it as the answer (the fault proxy: the agent sees it).
    None,
}

/// Which roots a client trusts for `https`.
pub(crate) enum Roots {
    /// The system's, plus these.
    SystemAnd(Vec<CertificateDer<'static>>),
    /// Only these (a plain `http://` endpoint: the system's stay unloaded).
    Only(Vec<CertificateDer<'static>>),
}

/// A pooled HTTP/1.1 client. Cloning shares the pool.
#[derive(Clone)]
pub(crate) struct Client {
    pool: Pool<HttpsConnector<HttpConnector>, Full<Bytes>>,
    redirects: Redirects,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("redirects", &self.redirects)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client keeping up to `idle_per_host` idle connections per host for 30 s.
    pub(crate) fn new(
        roots: Roots,
        redirects: Redirects,
        idle_per_host: usize,
    ) -> Result<Client, rustls::Error> {
        super::install_tls_provider();
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .expect("installed above");
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?;
        let mut store = rustls::RootCertStore::empty();
        let extra = match roots {
            Roots::Only(certs) => certs,
            Roots::SystemAnd(certs) => {
                // A system root rustls cannot parse is left out; with none left, every
                // handshake fails with an unknown issuer, which the call reports.
                store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
                certs
            }
        };
        for cert in extra {
            store.add(cert)?;
        }
        let tls = builder.with_root_certificates(store).with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let pool = Pool::builder(TokioExecutor::new())
            .pool_max_idle_per_host(idle_per_host)
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Client { pool, redirects })
    }

    /// A `POST` to `url`.
    pub(crate) fn post(&self, url: &Uri) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A request to `url`; its user info, if any, is sent as basic authentication.
    pub(crate) fn request(&self, method: Method, url: &Uri) -> RequestBuilder {
        let mut headers = HeaderMap::new();
        let url = match split_user_info(url) {
            Some((url, mut authorization)) => {
                authorization.set_sensitive(true);
                headers.insert(AUTHORIZATION, authorization);
                url
            }
            None => url.clone(),
        };
        RequestBuilder {
            client: self.clone(),
            method,
            url,
            headers,
            body: Bytes::new(),
        }
    }
}

/// A request being built; [`RequestBuilder::send`] sends it.
pub(crate) struct RequestBuilder {
    client: Client,
    method: Method,
    url: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl RequestBuilder {
    /// Sets these headers, replacing the values of any header of the same name.
    pub(crate) fn headers(mut self, headers: HeaderMap) -> Self {
        let mut last: Option<HeaderName> = None;
        for (name, value) in headers {
            match name {
                Some(name) => {
                    self.headers.insert(name.clone(), value);
                    last = Some(name);
                }
                None => {
                    if let Some(name) = &last {
                        self.headers.append(name.clone(), value);
                    }
                }
            }
        }
        self
    }

    /// Adds one header value.
    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The request body.
    pub(crate) fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends it and returns the answer once its head has arrived (the body is read with
    /// [`Response::chunk`]).
    pub(crate) async fn send(self) -> Result<Response, ClientError> {
        let RequestBuilder {
            client,
            mut method,
            mut url,
            mut headers,
            mut body,
        } = self;
        let origin = Origin::of(&url);
        let mut redirects = 0;
        loop {
            let mut request = http::Request::new(Full::new(body.clone()));
            *request.method_mut() = method.clone();
            *request.uri_mut() = url.clone();
            *request.headers_mut() = headers.clone();
            let response = client.pool.request(request).await.map_err(|e| {
                let kind = if e.is_connect() {
                    Kind::Connect
                } else {
                    Kind::Request
                };
                ClientError::new(kind, e)
            })?;
            let status = response.status();
            let location = response.headers().get(LOCATION).cloned();
            let next = match (client.redirects, location) {
                (Redirects::SameOrigin, Some(location)) if status.is_redirection() => {
                    location.to_str().ok().and_then(|l| resolve(&url, l))
                }
                _ => None,
            };
            let Some(next) = next else {
                return Ok(Response { inner: response });
            };
            let to = Origin::of(&next);
            if to != origin {
                let to = to.shown();
                return Err(ClientError::redirect(format!(
                    "it points to another origin, {to}, and evalgate follows redirects within the \
                     target's origin only (the call's headers and URL may carry credentials)"
                )));
            }
            redirects += 1;
            if redirects > MAX_REDIRECTS {
                return Err(ClientError::redirect(format!(
                    "more than {MAX_REDIRECTS} redirects"
                )));
            }
            // As browsers and reqwest do: 301, 302 and 303 turn a POST into a GET without
            // its body; 307 and 308 repeat the request as it was.
            if matches!(
                status,
                StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER
            ) && method != Method::GET
                && method != Method::HEAD
            {
                method = Method::GET;
                body = Bytes::new();
                for name in [CONTENT_TYPE, CONTENT_LENGTH, CONTENT_ENCODING] {
                    headers.remove(name);
                }
            }
            url = next;
        }
    }
}

/// An answer whose head has arrived.
pub(crate) struct Response {
    inner: http::Response<Incoming>,
}

impl Response {
    /// The status code.
    pub(crate) fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The response headers.
    pub(crate) fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The body's length when the answer said it (`Content-Length`).
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.inner.body().size_hint().exact()
    }

    /// The next piece of the body, or `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, ClientError> {
        loop {
            match self.inner.body_mut().frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(ClientError::new(Kind::Body, e)),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}

/// What went wrong with a call. Its text never holds the URL.
#[derive(Debug)]
pub(crate) struct ClientError {
    kind: Kind,
    source: Box<dyn StdError + Send + Sync>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No connection could be made (DNS, TCP, TLS handshake).
    Connect,
    /// The request could not be sent or its answer's head not read.
    Request,
    /// The answer's body broke off.
    Body,
    /// A redirect that is not followed.
    Redirect,
}

impl ClientError {
    fn new(kind: Kind, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        ClientError {
            kind,
            source: source.into(),
        }
    }

    fn redirect(why: String) -> Self {
        ClientError::new(Kind::Redirect, why)
    }

    /// No connection could be made.
    pub(crate) fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// The request failed after a connection was made.
    pub(crate) fn is_request(&self) -> bool {
        self.kind == Kind::Request
    }

    /// The answer's body broke off.
    pub(crate) fn is_body(&self) -> bool {
        self.kind == Kind::Body
    }

    /// A redirect was refused; [`StdError::source`] says why.
    pub(crate) fn is_redirect(&self) -> bool {
        self.kind == Kind::Redirect
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::Connect | Kind::Request => "error sending request",
            Kind::Body => "error reading the response body",
            Kind::Redirect => "error following a redirect",
        })
    }
}

impl StdError for ClientError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// An absolute `http` or `https` URL with a host, or what is wrong with `text`.
pub(crate) fn parse_url(text: &str) -> Result<Uri, String> {
    if text.contains(['#', ' ']) {
        return Err(if text.contains('#') {
            "a URL sent to a server has no fragment (`#…`)".into()
        } else {
            "spaces must be percent-encoded (`%20`)".into()
        });
    }
    let url: Uri = text
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())?;
    match url.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => return Err(format!("the scheme `{other}` is not http or https")),
        None => return Err("relative URL without a scheme and host".into()),
    }
    if url.host().is_none_or(str::is_empty) {
        return Err("empty host".into());
    }
    Ok(url)
}

/// PEM certificates in `pem`, or why they cannot be read.
pub(crate) fn pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// Scheme, host and port: what a redirect may not leave.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn of(url: &Uri) -> Origin {
        let scheme = url.scheme_str().unwrap_or("http").to_ascii_lowercase();
        let default = if scheme == "https" { 443 } else { 80 };
        Origin {
            host: url.host().unwrap_or_default().to_ascii_lowercase(),
            port: url.port_u16().filter(|&p| p != default),
            scheme,
        }
    }

    /// As a browser writes it: `https://example.com:8443`.
    fn shown(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }
}

/// `location` resolved against `base` (absolute, scheme-relative, absolute-path or
/// relative-path references), or `None` when it is not a URL.
fn resolve(base: &Uri, location: &str) -> Option<Uri> {
    if location.contains("://") {
        return location.parse().ok();
    }
    let scheme = base.scheme_str()?;
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{scheme}://{rest}").parse().ok();
    }
    let authority = base.authority()?.as_str();
    let path = if location.starts_with('/') {
        location.to_string()
    } else {
        let dir = base
            .path()
            .rsplit_once('/')
            .map(|(dir, _)| dir)
            .unwrap_or("");
        format!("{dir}/{location}")
    };
    format!("{scheme}://{authority}{path}").parse().ok()
}

/// The user name and password (still percent-encoded) in a URL's authority,
/// `user:password@host`, when it names a user.
fn credentials(authority: &str) -> Option<(&str, &str)> {
    let (user_info, _) = authority.rsplit_once('@')?;
    let (user, password) = user_info.split_once(':').unwrap_or((user_info, ""));
    (!user.is_empty()).then_some((user, password))
}

/// The user name and password (still percent-encoded) of a URL written
/// `scheme://user:password@host…`, when it names a user.
pub(crate) fn user_info(url: &str) -> Option<(&str, &str)> {
    let authority = url.split_once("://")?.1.split(['/', '?', '#']).next()?;
    credentials(authority)
}

/// `user:password`, percent-decoded, in base64: what `Authorization: Basic` carries.
pub(crate) fn basic_credentials(user: &str, password: &str) -> String {
    let decoded = format!("{}:{}", percent_decoded(user), percent_decoded(password));
    base64(decoded.as_bytes())
}

/// `text` with its `%XX` escapes decoded (as user info is decoded for Basic auth).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap() * 16 + hex(l).unwrap()) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 with padding, as an `Authorization: Basic` header carries it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `url` without its user info, and that user info as an `Authorization: Basic` value.
fn split_user_info(url: &Uri) -> Option<(Uri, HeaderValue)> {
    let authority = url.authority()?.as_str();
    let (user, password) = credentials(authority)?;
    let (_, host) = authority.rsplit_once('@')?;
    let value =
        HeaderValue::from_str(&format!("Basic {}", basic_credentials(user, password))).ok()?;
    let mut parts = Parts::from(url.clone());
    parts.authority = Some(Authority::try_from(host).ok()?);
    if parts.scheme.is_none() {
        parts.scheme = Some(Scheme::HTTP);
    }
    Some((Uri::from_parts(parts).ok()?, value))
}

#[cfg(test)]
mod tests;
