//! The HTTP transport: an SDK reached the way its users run it, through its
//! ecosystem's HTTP server and client with the SDK's HTTP instrumentation.
//!
//! Over the `api` transport a carrier is handed to the SDK's propagator as
//! the driver builds it. Over `http` ([`HttpSdk`]) the same [`Sdk`] ops go
//! through real HTTP/1.1 on loopback:
//!
//! - `extract` writes the carrier as a request, byte for byte (each field
//!   value is one field line, repeated fields stay separate lines, names and
//!   values exactly as given), to the service's instrumented server
//!   (`http_serve`); its handler answers with the remote parent of the server
//!   span the instrumentation made ([`Served`]), which becomes the context.
//!   What the propagator saw is whatever the server and its instrumentation
//!   made of the bytes.
//! - `inject` asks the service's instrumented client to call tracewright's
//!   own raw listener ([`Capture`]) under the span (`http_call`); the
//!   headers are read from the request head as the client wrote it, and the
//!   instrumented client's span ([`ClientSpan`]) is reported with them,
//!   since its ids are the ones the headers carry.
//!
//! Every other op is the wrapped SDK's.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use serde_json::Value;

use super::{
    Extract, Extracted, FinishedSpan, Hello, HttpCall, HttpCalled, HttpServe, HttpServing, Inject,
    Injected, Sdk, Served, ServiceConfig, StartSpan, StartedSpan,
};
use crate::error::{Error, Result};

/// How a carrier reaches an SDK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    /// The propagator API, with a carrier the driver builds.
    Api,
    /// Real HTTP/1.1 through the SDK's instrumented server and client.
    Http,
}

impl Transport {
    pub const ALL: [Transport; 2] = [Transport::Api, Transport::Http];

    pub fn name(self) -> &'static str {
        match self {
            Transport::Api => "api",
            Transport::Http => "http",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Transport {
    type Err = Error;

    fn from_str(s: &str) -> Result<Transport> {
        Transport::ALL.into_iter().find(|t| t.name() == s).ok_or_else(|| {
            Error::usage(format!("unknown transport `{s}`"), Some("name api or http"))
        })
    }
}

/// How long one HTTP exchange may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

/// The most bytes of a request or response head read.
const MAX_HEAD: usize = 1 << 20;
/// The most bytes of a body read.
const MAX_BODY: usize = 1 << 22;

fn wire_error(what: impl Into<String>) -> Error {
    Error::Sut { sut: "HTTP transport".into(), headline: what.into(), hint: None }
}

/// A request as bytes: `POST {target} HTTP/1.1`, `Host`, the field lines as
/// given (name and value verbatim, one line each), then the framing fields
/// and the body.
pub fn request_bytes(host: &str, target: &str, fields: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("POST {target} HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
    for (name, value) in fields {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!("Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
            .as_bytes(),
    );
    out.extend_from_slice(body);
    out
}

/// The header fields a propagator writes, by lower-case name: W3C's and
/// B3's single and multi forms. `inject` over HTTP answers these from the
/// request the instrumented client wrote.
pub const PROPAGATED: [&str; 8] = [
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
];

/// The field lines of a carrier, in the order a request carries them:
/// every `traceparent` line, then every `tracestate` line (then any other
/// header, by name), each value on a line of its own.
pub fn carrier_fields(carrier: &super::Headers) -> Vec<(String, String)> {
    let rank = |name: &str| match name {
        "traceparent" => 0,
        "tracestate" => 1,
        _ => 2,
    };
    let mut names: Vec<&String> = carrier.keys().collect();
    names.sort_by_key(|n| (rank(n), n.as_str()));
    names
        .into_iter()
        .flat_map(|name| carrier[name].iter().map(move |v| (name.clone(), v.clone())))
        .collect()
}

/// A message head: the start line and the field lines, names and values as
/// written (the value without the OWS around it, as HTTP defines a field
/// value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub start: String,
    pub fields: Vec<(String, String)>,
}

impl Head {
    /// Parses a head (up to and without the empty line); `None` if it is not
    /// one.
    pub fn parse(bytes: &[u8]) -> Option<Head> {
        let text = String::from_utf8_lossy(bytes);
        let mut lines = text.split("\r\n");
        let start = lines.next()?.to_string();
        let mut fields = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':')?;
            fields.push((name.to_string(), value.trim_matches([' ', '\t']).to_string()));
        }
        Some(Head { start, fields })
    }

    /// Every value of the field `name` (case-insensitively), in order.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.fields.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads a message head and its body (by `Content-Length`, chunked, or to
/// the end of the stream) from `stream`.
fn read_message(stream: &mut TcpStream, read_body_to_end: bool) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at;
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::other("a message head over 1 MiB"));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection closed inside a message head"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = buf[..head_end].to_vec();
    let mut body = buf[head_end + 4..].to_vec();
    let parsed = Head::parse(&head);
    let length = parsed.as_ref().and_then(|h| h.values("content-length").first().and_then(|v| v.parse::<usize>().ok()));
    let chunked = parsed.as_ref().is_some_and(|h| h.values("transfer-encoding").iter().any(|v| v.eq_ignore_ascii_case("chunked")));
    match length {
        Some(len) if !chunked => {
            while body.len() < len.min(MAX_BODY) {
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
            body.truncate(len);
        }
        _ if chunked || read_body_to_end => {
            while body.len() < MAX_BODY {
                if chunked && find(&body, b"0\r\n\r\n").is_some() {
                    break;
                }
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
            if chunked {
                body = dechunk(&body);
            }
        }
        _ => {}
    }
    Ok((head, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = find(data, b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16) else { break };
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
    out
}

/// A response: its status and body.
#[derive(Clone, Debug)]
pub struct Response {
    pub head: Head,
    pub status: u16,
    pub body: Vec<u8>,
}

/// Writes `bytes` to `addr` and reads the response.
pub fn exchange(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> Result<Response> {
    let fail = |what: &str, e: std::io::Error| wire_error(format!("{what} {addr}: {e}"));
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| fail("cannot connect to", e))?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| fail("cannot set a timeout on", e))?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| fail("cannot set a timeout on", e))?;
    stream.write_all(bytes).map_err(|e| fail("cannot write the request to", e))?;
    let (head, body) = read_message(&mut stream, true).map_err(|e| fail("no response from", e))?;
    let head = Head::parse(&head).ok_or_else(|| wire_error(format!("{addr} answered with a head that is not HTTP")))?;
    let status = head.start.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(Response { head, status, body })
}

/// tracewright's raw listener for the requests instrumented clients make:
/// it keeps each request head byte for byte and answers `200`.
pub struct Capture {
    addr: SocketAddr,
    requests: Receiver<(Vec<u8>, Vec<u8>)>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Capture {
    pub fn start() -> Result<Capture> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| wire_error(format!("cannot listen on 127.0.0.1: {e}")))?;
        let addr = listener.local_addr().map_err(|e| wire_error(format!("cannot read the listening address: {e}")))?;
        let (tx, requests) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("http capture".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut stream) = stream else { continue };
                    let _ = stream.set_read_timeout(Some(HTTP_TIMEOUT));
                    let _ = stream.set_write_timeout(Some(HTTP_TIMEOUT));
                    if let Ok((head, body)) = read_message(&mut stream, false) {
                        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        if tx.send((head, body)).is_err() {
                            break;
                        }
                    }
                    let _ = stream.shutdown(Shutdown::Both);
                }
            })
            .map_err(|e| wire_error(format!("cannot start the capture thread: {e}")))?;
        Ok(Capture { addr, requests, stop, thread: Some(thread) })
    }

    pub fn url(&self) -> String {
        format!("http://{}/forward", self.addr)
    }

    /// Forgets requests captured so far.
    pub fn drain(&self) {
        while self.requests.try_recv().is_ok() {}
    }

    /// The next request head, waiting at most `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<Vec<u8>> {
        self.next_request(timeout).map(|(head, _)| head)
    }

    /// The next request, head and body, waiting at most `timeout`.
    pub fn next_request(&self, timeout: Duration) -> Option<(Vec<u8>, Vec<u8>)> {
        self.requests.recv_timeout(timeout).ok()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An [`Sdk`] whose `extract` and `inject` go through the SDK's instrumented
/// HTTP server and client (see the module documentation).
pub struct HttpSdk {
    inner: Box<dyn Sdk>,
    /// The stack asked for; `None` for the driver's default.
    stack: Option<String>,
    configured: Option<Vec<ServiceConfig>>,
    servers: BTreeMap<String, (SocketAddr, HttpServing)>,
    capture: Capture,
}

impl HttpSdk {
    /// Wraps `inner`, which must offer an HTTP stack (`hello`'s `http_stacks`).
    pub fn new(mut inner: Box<dyn Sdk>, stack: Option<String>) -> Result<HttpSdk> {
        let hello = inner.hello()?;
        if hello.http_stacks.is_empty() {
            return Err(Error::Sut {
                sut: format!("{} SDK", hello.sdk),
                headline: "its driver offers no HTTP stack".into(),
                hint: Some("use --transport api, or install the driver of this tracewright".into()),
            });
        }
        if let Some(s) = &stack
            && !hello.http_stacks.contains(s)
        {
            return Err(Error::usage(
                format!("the {} driver has no HTTP stack `{s}`", hello.sdk),
                Some(&format!("its stacks: {}", hello.http_stacks.join(", "))),
            ));
        }
        Ok(HttpSdk {
            inner,
            stack,
            configured: None,
            servers: BTreeMap::new(),
            capture: Capture::start()?,
        })
    }

    /// The wrapped SDK, reached through its propagator API.
    pub fn inner(&mut self) -> &mut dyn Sdk {
        self.inner.as_mut()
    }

    /// The server of `service`, started on first use.
    pub fn server(&mut self, service: &str) -> Result<(SocketAddr, HttpServing)> {
        if let Some(s) = self.servers.get(service) {
            return Ok(s.clone());
        }
        let serving = self.inner.http_serve(&HttpServe { service: service.into(), stack: self.stack.clone(), listen: None })?;
        let addr = serving
            .url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse::<SocketAddr>()
            .map_err(|e| wire_error(format!("the driver's server URL {:?} is not http://IP:PORT/: {e}", serving.url)))?;
        self.servers.insert(service.to_string(), (addr, serving.clone()));
        Ok((addr, serving))
    }

    /// Sends `fields` (name, value: written verbatim) and `body` to the
    /// server of `service` and returns its response.
    pub fn send(&mut self, service: &str, fields: &[(String, String)], body: &[u8]) -> Result<Response> {
        let (addr, _) = self.server(service)?;
        let bytes = request_bytes(&addr.to_string(), "/", fields, body);
        exchange(addr, &bytes, HTTP_TIMEOUT)
    }

    /// The forward URL instrumented clients call: tracewright's listener.
    pub fn capture(&self) -> &Capture {
        &self.capture
    }
}

impl Sdk for HttpSdk {
    fn hello(&mut self) -> Result<Hello> {
        self.inner.hello()
    }

    /// The same services again only forget handles and spans (a `reset`),
    /// so that a run of many walks does not restart its servers each time.
    fn configure(&mut self, services: &[ServiceConfig]) -> Result<()> {
        if self.configured.as_deref() == Some(services) {
            return self.inner.reset();
        }
        self.servers.clear();
        self.configured = None;
        self.inner.configure(services)?;
        self.configured = Some(services.to_vec());
        Ok(())
    }

    fn start_span(&mut self, request: &StartSpan) -> Result<StartedSpan> {
        self.inner.start_span(request)
    }

    fn inject(&mut self, request: &Inject) -> Result<Injected> {
        self.capture.drain();
        let called: HttpCalled = self.inner.http_call(&HttpCall {
            service: request.service.clone(),
            span: request.span.clone(),
            url: self.capture.url(),
            stack: self.stack.clone(),
        })?;
        let head = self.capture.next(HTTP_TIMEOUT).ok_or_else(|| {
            wire_error(format!("the instrumented client's request (status {}) never reached tracewright's listener", called.status))
        })?;
        let parsed = Head::parse(&head).ok_or_else(|| wire_error("the instrumented client wrote a head that is not HTTP"))?;
        let mut carrier = BTreeMap::new();
        for name in PROPAGATED {
            let values = parsed.values(name);
            if !values.is_empty() {
                carrier.insert(name.to_string(), values.join(","));
            }
        }
        Ok(Injected { carrier, client_span: Some(called.client_span), wire: Some(String::from_utf8_lossy(&head).into_owned()) })
    }

    fn extract(&mut self, request: &Extract) -> Result<Extracted> {
        let fields = carrier_fields(&request.carrier);
        let response = self.send(&request.service, &fields, b"[]")?;
        if response.status != 200 {
            // The stack answered by itself: the service never saw the request.
            let mut empty = self.inner.extract(&Extract { service: request.service.clone(), carrier: Default::default() })?;
            empty.joined = false;
            empty.refused = Some(response.head.start);
            return Ok(empty);
        }
        let served: Served = serde_json::from_slice(&response.body).map_err(|e| {
            wire_error(format!(
                "the {} server answered out of protocol ({e}): {}",
                request.service,
                String::from_utf8_lossy(&response.body)
            ))
        })?;
        Ok(Extracted { found: served.found, joined: false, refused: None })
    }

    fn end_span(&mut self, span: &str) -> Result<()> {
        self.inner.end_span(span)
    }

    fn spans(&mut self) -> Result<Vec<FinishedSpan>> {
        self.inner.spans()
    }

    fn reset(&mut self) -> Result<()> {
        self.inner.reset()
    }

    fn shutdown(&mut self) -> Result<()> {
        self.servers.clear();
        self.inner.shutdown()
    }

    fn raw(&mut self, line: &str) -> Result<Value> {
        self.inner.raw(line)
    }

    fn http_serve(&mut self, request: &HttpServe) -> Result<HttpServing> {
        self.inner.http_serve(request)
    }

    fn http_call(&mut self, request: &HttpCall) -> Result<HttpCalled> {
        self.inner.http_call(request)
    }

    /// The caller may configure the SDK through the API, which stops its
    /// servers: the next `configure` here starts afresh.
    fn api(&mut self) -> Option<&mut dyn Sdk> {
        self.configured = None;
        self.servers.clear();
        Some(self.inner.as_mut())
    }
}

/// Opens `kind` over `transport`: over `http`, the SDK wrapped in an
/// [`HttpSdk`] with its default stack (or `stack`).
pub fn open_over(kind: super::SdkKind, root: &std::path::Path, transport: Transport, stack: Option<String>) -> Result<Box<dyn Sdk>> {
    let sdk = super::open(kind, root)?;
    match transport {
        Transport::Api => Ok(sdk),
        Transport::Http => Ok(Box::new(HttpSdk::new(sdk, stack)?)),
    }
}

/// Whether a driver's answer to `hello` offers the HTTP transport.
pub fn offers_http(hello: &Hello) -> bool {
    !hello.http_stacks.is_empty()
}

/// An SDK opened by a name such as `go` or `python:wsgi` (an SDK, and
/// optionally the HTTP stack of its driver).
pub struct Opened {
    /// The name as given, which reports use.
    pub name: String,
    pub kind: super::SdkKind,
    pub version: String,
    pub transport: Transport,
    /// The HTTP stack, over `http`: what the driver says it runs.
    pub stack: Option<String>,
    pub sdk: Box<dyn Sdk>,
}

/// Opens the SDK `name` (`KIND` or `KIND:STACK`) over `transport`, or,
/// when `None`, over `http` if its driver offers it and `api` otherwise.
pub fn open_named(name: &str, root: &std::path::Path, transport: Option<Transport>) -> Result<Opened> {
    let (kind, stack) = match name.split_once(':') {
        Some((k, s)) => (k.parse::<super::SdkKind>()?, Some(s.to_string())),
        None => (name.parse::<super::SdkKind>()?, None),
    };
    if stack.is_some() && transport == Some(Transport::Api) {
        return Err(Error::usage(format!("`{name}` names an HTTP stack, but the transport is api"), Some("drop the stack or use --transport http")));
    }
    let mut sdk = super::open(kind, root)?;
    let hello = sdk.hello()?;
    let transport = transport.unwrap_or(if offers_http(&hello) { Transport::Http } else { Transport::Api });
    match transport {
        Transport::Api => Ok(Opened { name: name.to_string(), kind, version: hello.sdk_version, transport, stack: None, sdk }),
        Transport::Http => {
            let mut http = HttpSdk::new(sdk, stack.clone())?;
            let shown = stack.or_else(|| hello.http_stacks.first().cloned());
            let _ = http.hello()?;
            Ok(Opened { name: name.to_string(), kind, version: hello.sdk_version, transport, stack: shown, sdk: Box::new(http) })
        }
    }
}
