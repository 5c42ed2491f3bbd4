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
pub mod rust_sdk;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

pub use driver::{DriverProcess, installed, launch};
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
        }
    }

    pub const OPS: [&'static str; 9] = [
        "hello",
        "configure",
        "start_span",
        "inject",
        "extract",
        "end_span",
        "spans",
        "reset",
        "shutdown",
    ];
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub sdk: String,
    pub sdk_version: String,
    pub language_version: String,
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
}

impl ServiceConfig {
    pub fn new(name: &str, sampler: SamplerKind) -> ServiceConfig {
        ServiceConfig { name: name.to_string(), sampler, ratio: None }
    }

    pub fn ratio(name: &str, sampler: SamplerKind, ratio: f64) -> ServiceConfig {
        ServiceConfig { name: name.to_string(), sampler, ratio: Some(ratio) }
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

/// What `extract` found. When nothing valid was found, `valid` is false and
/// the ids are all zeros; the context still starts a (new) trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    pub context: String,
    pub valid: bool,
    pub remote: bool,
    pub trace_id: String,
    pub span_id: String,
    pub sampled: bool,
    pub tracestate: String,
    /// Whether the driver joined repeated header values with `,` (the SDK's
    /// getter takes one string) rather than passing them as a list.
    pub joined: bool,
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
