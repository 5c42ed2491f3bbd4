//! The OpenTelemetry SDKs as systems under test.
//!
//! Every SDK is reached through one interface, [`Sdk`], whose methods are the
//! ops of the SDK driver protocol (`drivers/PROTOCOL.md`) with typed requests
//! and responses. The Rust SDK runs in-process ([`rust_sdk::RustSdk`]); the
//! Python, JS, Go and Java SDKs run as driver processes speaking the protocol as JSON
//! lines over stdio ([`driver::DriverProcess`], started by [`driver::launch`]).
//! Because both sides share these types, the same test — and later the same
//! replay — runs unchanged against every SDK.

pub mod driver;
pub mod http;
mod rust_http;
pub mod rust_sdk;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

pub use driver::{DriverProcess, installed, launch};
pub use http::{HttpSdk, Transport};
pub use rust_sdk::RustSdk;

/// The protocol version this tracewright speaks; `hello` reports the driver's.
pub const PROTOCOL: u32 = 1;

/// The SDKs tracewright knows, by the name `hello` reports and `--sut` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SdkKind {
    Rust,
    Python,
    Js,
    Go,
    Java,
}

impl SdkKind {
    pub const ALL: [SdkKind; 5] =
        [SdkKind::Rust, SdkKind::Python, SdkKind::Js, SdkKind::Go, SdkKind::Java];

    pub fn name(self) -> &'static str {
        match self {
            SdkKind::Rust => "rust",
            SdkKind::Python => "python",
            SdkKind::Js => "js",
            SdkKind::Go => "go",
            SdkKind::Java => "java",
        }
    }
}

impl fmt::Display for SdkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SdkKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<SdkKind> {
        SdkKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            Error::usage(format!("unknown SDK `{s}`"), Some("name one of rust, python, js, go, java"))
        })
    }
}

/// Opens `kind`: in-process for Rust, otherwise its driver from `repo_root`
/// (see [`launch`]).
pub fn open(kind: SdkKind, repo_root: &Path) -> Result<Box<dyn Sdk>> {
    match kind {
        SdkKind::Rust => Ok(Box::new(RustSdk::new())),
        _ => Ok(Box::new(launch(kind, repo_root)?)),
    }
}

/// One OpenTelemetry SDK, driven op by op. Handles (`"s1"`, `"c4"`) name spans
/// and contexts the SDK holds; they stay valid until `reset` or `configure`.
/// An op the SDK refuses is an [`Error::Sut`] whose headline carries the
/// SDK's message.
pub trait Sdk {
    fn hello(&mut self) -> Result<Hello>;
    /// Replaces every service and forgets every handle.
    fn configure(&mut self, services: &[ServiceConfig]) -> Result<()>;
    fn start_span(&mut self, request: &StartSpan) -> Result<StartedSpan>;
    fn inject(&mut self, request: &Inject) -> Result<Injected>;
    fn extract(&mut self, request: &Extract) -> Result<Extracted>;
    fn end_span(&mut self, span: &str) -> Result<()>;
    /// Every finished span exported so far, in export order.
    fn spans(&mut self) -> Result<Vec<FinishedSpan>>;
    /// Forgets handles and exported spans; keeps the services.
    fn reset(&mut self) -> Result<()>;
    /// Ends the SDK: a driver answers and exits. Nothing works afterwards.
    fn shutdown(&mut self) -> Result<()>;
    /// Sends one raw protocol line (no newline in it) and returns the
    /// response object, whether `ok` or not: for testing how the SDK treats
    /// malformed requests.
    fn raw(&mut self, line: &str) -> Result<Value>;
    /// Starts an instrumented HTTP server for a service (`http_serve`).
    fn http_serve(&mut self, request: &HttpServe) -> Result<HttpServing> {
        let _ = request;
        Err(no_http("http_serve"))
    }
    /// Makes a request with the service's instrumented HTTP client under a
    /// span (`http_call`).
    fn http_call(&mut self, request: &HttpCall) -> Result<HttpCalled> {
        let _ = request;
        Err(no_http("http_call"))
    }
    /// Over the HTTP transport, the same SDK through its propagator API (to
    /// tell a divergence of the propagator from one of the HTTP stack).
    fn api(&mut self) -> Option<&mut dyn Sdk> {
        None
    }
}

fn no_http(op: &str) -> Error {
    Error::Sut {
        sut: "SDK".into(),
        headline: format!("has no HTTP transport (`{op}`)"),
        hint: Some("use --transport api".into()),
    }
}

/// A request line: the id tracewright chose and the op.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: u64,
    #[serde(flatten)]
    pub request: Request,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Hello,
    Configure { services: Vec<ServiceConfig> },
    StartSpan(StartSpan),
    Inject(Inject),
    Extract(Extract),
    EndSpan { span: String },
    Spans,
    Reset,
    Shutdown,
    HttpServe(HttpServe),
    HttpCall(HttpCall),
}

impl Request {
    /// The op's name on the wire, for messages.
    pub fn op(&self) -> &'static str {
        match self {
            Request::Hello => "hello",
            Request::Configure { .. } => "configure",
            Request::StartSpan(_) => "start_span",
            Request::Inject(_) => "inject",
            Request::Extract(_) => "extract",
            Request::EndSpan { .. } => "end_span",
            Request::Spans => "spans",
            Request::Reset => "reset",
            Request::Shutdown => "shutdown",
            Request::HttpServe(_) => "http_serve",
            Request::HttpCall(_) => "http_call",
        }
    }

    pub const OPS: [&'static str; 11] = [
        "hello",
        "configure",
        "start_span",
        "inject",
        "extract",
        "end_span",
        "spans",
        "reset",
        "shutdown",
        "http_serve",
        "http_call",
    ];
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub sdk: String,
    pub sdk_version: String,
    pub language_version: String,
    /// The HTTP stacks the driver can serve and call with (`http_serve`),
    /// first the default; empty for a driver without the HTTP transport.
    #[serde(default)]
    pub http_stacks: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplerKind {
    AlwaysOn,
    AlwaysOff,
    Traceidratio,
    ParentbasedAlwaysOn,
    ParentbasedAlwaysOff,
    ParentbasedTraceidratio,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceConfig {
    pub name: String,
    pub sampler: SamplerKind,
    /// Required by the two ratio samplers, ignored by the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// The service's propagators, as `OTEL_PROPAGATORS` names them
    /// (`tracecontext`, `b3` for B3 single-header, `b3multi` for B3
    /// multi-header); several make the SDK's composite propagator, in this
    /// order. Empty: the W3C `tracecontext` propagator alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub propagators: Vec<String>,
}

impl ServiceConfig {
    pub fn new(name: &str, sampler: SamplerKind) -> ServiceConfig {
        ServiceConfig { name: name.to_string(), sampler, ratio: None, propagators: Vec::new() }
    }

    pub fn ratio(name: &str, sampler: SamplerKind, ratio: f64) -> ServiceConfig {
        ServiceConfig { name: name.to_string(), sampler, ratio: Some(ratio), propagators: Vec::new() }
    }

    /// The same service with these propagators (see [`ServiceConfig::propagators`]).
    pub fn with_propagators(mut self, propagators: &[&str]) -> ServiceConfig {
        self.propagators = propagators.iter().map(|p| p.to_string()).collect();
        self
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartSpan {
    pub service: String,
    pub name: String,
    /// A context handle from `extract`; `None` starts a new trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// What `start_span` says about the span it started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedSpan {
    pub span: String,
    pub trace_id: String,
    pub span_id: String,
    pub sampled: bool,
    pub tracestate: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inject {
    pub service: String,
    pub span: String,
}

/// The headers the SDK's propagator wrote, exactly as it wrote them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Injected {
    pub carrier: BTreeMap<String, String>,
    /// Over the HTTP transport: the span the instrumented client made for
    /// the request, whose ids the headers carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_span: Option<ClientSpan>,
    /// Over the HTTP transport: the request head as the client wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<String>,
}

/// Incoming headers: each name maps to all of its values, since a header
/// field may repeat. A missing name is an absent header.
pub type Headers = BTreeMap<String, Vec<String>>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extract {
    pub service: String,
    pub carrier: Headers,
}

impl Extract {
    /// A carrier with one value per header, as most requests have.
    pub fn headers(service: &str, headers: &[(&str, &str)]) -> Extract {
        let mut carrier = Headers::new();
        for (name, value) in headers {
            carrier.entry(name.to_string()).or_default().push(value.to_string());
        }
        Extract { service: service.to_string(), carrier }
    }

    /// A carrier of the two trace-context headers, each with all of its
    /// field values; an empty list is an absent header.
    pub fn trace_context(service: &str, traceparent: &[String], tracestate: &[String]) -> Extract {
        let mut carrier = Headers::new();
        for (name, values) in [("traceparent", traceparent), ("tracestate", tracestate)] {
            if !values.is_empty() {
                carrier.insert(name.to_string(), values.to_vec());
            }
        }
        Extract { service: service.to_string(), carrier }
    }
}

/// A context a propagator extracted, as the protocol spells it: its handle
/// (for `start_span`'s `parent`) and its span context. When nothing valid
/// was found, `valid` is false and the ids are all zeros; the context still
/// starts a (new) trace. `extract` and an instrumented server's answer
/// ([`Served`]) both carry one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextFields {
    pub context: String,
    pub valid: bool,
    pub remote: bool,
    pub trace_id: String,
    pub span_id: String,
    pub sampled: bool,
    pub tracestate: String,
}

impl ContextFields {
    /// The fields of a span context a propagator returned, under `handle`.
    /// An invalid one is written as the protocol says: zero ids, unsampled,
    /// no tracestate.
    pub fn of(handle: String, sc: &opentelemetry::trace::SpanContext) -> ContextFields {
        let valid = sc.is_valid();
        let empty = opentelemetry::trace::SpanContext::empty_context();
        let ids = if valid { sc } else { &empty };
        ContextFields {
            context: handle,
            valid,
            remote: valid && sc.is_remote(),
            trace_id: ids.trace_id().to_string(),
            span_id: ids.span_id().to_string(),
            sampled: valid && sc.is_sampled(),
            tracestate: if valid { sc.trace_state().header() } else { String::new() },
        }
    }
}

/// What `extract` found: the context, and how the carrier reached the
/// propagator. Its context fields read as its own (`extracted.trace_id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    #[serde(flatten)]
    pub found: ContextFields,
    /// Whether the driver joined repeated header values with `,` (the SDK's
    /// getter takes one string) rather than passing them as a list.
    pub joined: bool,
    /// Over the HTTP transport, when the server answered the request with
    /// something else than its handler (a 400, say): that status line. The
    /// service then never saw the request, and the context is an empty one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

impl std::ops::Deref for Extracted {
    type Target = ContextFields;

    fn deref(&self) -> &ContextFields {
        &self.found
    }
}

/// One span an SDK exported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedSpan {
    pub service: String,
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub sampled: bool,
    pub tracestate: String,
}

/// `http_serve`: start an instrumented HTTP server for a service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpServe {
    pub service: String,
    /// One of the driver's `http_stacks`; absent for its default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// `127.0.0.1:PORT` to listen on; absent for a free port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

/// What `http_serve` answers: where the server listens and what it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpServing {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    /// The server, client and instrumentation, with versions.
    pub stack: String,
}

/// `http_call`: a GET of `url` with the service's instrumented client, under a span.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpCall {
    pub service: String,
    pub span: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

/// The span an instrumented client made for one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSpan {
    pub trace_id: String,
    pub span_id: String,
    /// The span it was started under: the `span` of `http_call`.
    pub parent_span_id: String,
    pub sampled: bool,
}

/// What `http_call` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpCalled {
    pub status: u16,
    pub client_span: ClientSpan,
}

/// The span an instrumented server made for one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSpan {
    pub trace_id: String,
    pub span_id: String,
    pub sampled: bool,
    pub tracestate: String,
}

/// What an instrumented server's handler answers (the body of its
/// response): the remote parent of its server span as a context handle,
/// like `extract` answers, the server span, and the calls it made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Served {
    #[serde(flatten)]
    pub found: ContextFields,
    pub server_span: ServerSpan,
    #[serde(default)]
    pub calls: Vec<Value>,
}

#[derive(Deserialize)]
pub(crate) struct SpansResponse {
    pub spans: Vec<FinishedSpan>,
}

/// Answers one protocol line with an in-process [`Sdk`], exactly as a driver
/// would: the in-process SDK speaks the same protocol, so the tests of
/// malformed requests run against it too.
pub fn serve_line(sdk: &mut dyn Sdk, line: &str) -> Value {
    use serde_json::json;

    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return json!({"id": null, "ok": false, "error": format!("malformed JSON: {e}")}),
    };
    let Some(id) = value.get("id").and_then(Value::as_u64) else {
        return json!({"id": null, "ok": false, "error": "a request needs an integer 'id'"});
    };
    let op = value.get("op").and_then(Value::as_str).unwrap_or_default().to_string();
    if !Request::OPS.contains(&op.as_str()) {
        let shown = value.get("op").map(|o| o.to_string()).unwrap_or_default();
        return json!({"id": id, "ok": false, "error": format!("unknown op: {}", shown.trim_matches('"'))});
    }
    let request = match serde_json::from_value::<Envelope>(value) {
        Ok(envelope) => envelope.request,
        Err(e) => {
            return json!({"id": id, "ok": false, "error": format!("malformed {op} request: {e}")});
        }
    };
    let result = match request {
        Request::Hello => sdk.hello().and_then(to_value),
        Request::Configure { services } => sdk.configure(&services).map(|()| json!({})),
        Request::StartSpan(r) => sdk.start_span(&r).and_then(to_value),
        Request::Inject(r) => sdk.inject(&r).and_then(to_value),
        Request::Extract(r) => sdk.extract(&r).and_then(to_value),
        Request::EndSpan { span } => sdk.end_span(&span).map(|()| json!({})),
        Request::Spans => sdk.spans().map(|spans| json!({ "spans": spans })),
        Request::Reset => sdk.reset().map(|()| json!({})),
        Request::Shutdown => sdk.shutdown().map(|()| json!({})),
        Request::HttpServe(r) => sdk.http_serve(&r).and_then(to_value),
        Request::HttpCall(r) => sdk.http_call(&r).and_then(to_value),
    };
    match result {
        Ok(Value::Object(mut fields)) => {
            fields.insert("id".into(), json!(id));
            fields.insert("ok".into(), json!(true));
            Value::Object(fields)
        }
        Ok(other) => json!({"id": id, "ok": false, "error": format!("not an object: {other}")}),
        Err(Error::Sut { headline, .. }) => json!({"id": id, "ok": false, "error": headline}),
        Err(e) => json!({"id": id, "ok": false, "error": e.to_string()}),
    }
}

fn to_value<T: Serialize>(t: T) -> Result<Value> {
    serde_json::to_value(t).map_err(|e| Error::Sut {
        sut: "rust SDK".into(),
        headline: format!("cannot encode a response: {e}"),
        hint: None,
    })
}
