//! The Rust SDK's HTTP stack, in-process: a hyper server (through axum) and
//! a reqwest client, with the service's propagator (W3C, B3 or both: see
//! [`super::rust_sdk`]) reached through
//! `opentelemetry-http`'s `HeaderExtractor` and `HeaderInjector`, as a Rust
//! service instruments itself (the Rust SDK has no instrumentation that does
//! it for the application).
//!
//! The server's handler implements the instrumented service of
//! `drivers/PROTOCOL.md` ("The HTTP transport"): it extracts the request's
//! context, starts the server span under it, POSTs each `{"url",
//! "arguments"}` of the body with the client under the server span (a client
//! span each), and answers with the extracted context (registered as a
//! context handle) and the server span.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span as _, SpanKind, TraceContextExt, Tracer as _};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::trace::SdkTracer;
use serde_json::{Value, json};

use super::rust_sdk::SharedPropagator;
use super::{ClientSpan, ContextFields, HttpServing, Served, ServerSpan};
use crate::error::{Error, Result};

/// The stack, as `hello` and `http_serve` name it.
pub const STACK: &str = "hyper";
const STACK_DESCRIPTION: &str =
    "hyper 1 (axum 0.8) server + reqwest 0.13 client, opentelemetry-http 0.33 HeaderExtractor/HeaderInjector";

fn failed(op: &str, message: impl std::fmt::Display) -> Error {
    Error::Sut { sut: "rust SDK".into(), headline: format!("refused `{op}`: {message}"), hint: None }
}

/// Contexts the servers extracted, waiting to be taken in as handles by the
/// SDK (`h1`, `h2`, …: a namespace of their own, never reused).
#[derive(Clone, Default)]
pub struct Inbox {
    next: Arc<AtomicU64>,
    contexts: Arc<Mutex<Vec<(String, Context)>>>,
}

impl Inbox {
    fn register(&self, cx: Context) -> String {
        let handle = format!("h{}", self.next.fetch_add(1, Ordering::SeqCst) + 1);
        self.contexts.lock().unwrap_or_else(|p| p.into_inner()).push((handle.clone(), cx));
        handle
    }

    /// Every context registered since the last call.
    pub fn take(&self) -> Vec<(String, Context)> {
        std::mem::take(&mut *self.contexts.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The runtime the servers and the client run on, and the running servers.
pub struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    pub inbox: Inbox,
    servers: Vec<tokio::sync::oneshot::Sender<()>>,
}

#[derive(Clone)]
struct Handler {
    tracer: SdkTracer,
    propagator: SharedPropagator,
    client: reqwest::Client,
    inbox: Inbox,
}

fn hex_fields(sc: &opentelemetry::trace::SpanContext) -> (String, String, bool, String) {
    (sc.trace_id().to_string(), sc.span_id().to_string(), sc.is_sampled(), sc.trace_state().header())
}

/// POSTs `body` (or GETs when `None`) to `url` with the client, under a
/// client span child of `parent`; returns the status and the client span.
async fn call(
    client: &reqwest::Client,
    tracer: &SdkTracer,
    propagator: &(dyn TextMapPropagator + Send + Sync),
    parent: &Context,
    url: &str,
    body: Option<&Value>,
) -> std::result::Result<(u16, ClientSpan), String> {
    let method = if body.is_some() { "POST" } else { "GET" };
    let span = tracer.span_builder(method.to_string()).with_kind(SpanKind::Client).start_with_context(tracer, parent);
    let sc = span.span_context().clone();
    let parent_span_id = parent.span().span_context().span_id().to_string();
    let cx = parent.with_span(span);
    let mut headers = reqwest::header::HeaderMap::new();
    propagator.inject_context(&cx, &mut HeaderInjector(&mut headers));
    let request = match body {
        Some(b) => client.post(url).json(b),
        None => client.get(url),
    };
    let outcome = request.headers(headers).send().await;
    cx.span().end();
    let response = outcome.map_err(|e| format!("{method} {url}: {e}"))?;
    let status = response.status().as_u16();
    let _ = response.bytes().await;
    Ok((status, ClientSpan { trace_id: sc.trace_id().to_string(), span_id: sc.span_id().to_string(), parent_span_id, sampled: sc.is_sampled() }))
}

async fn handle(handler: Handler, headers: HeaderMap, body: Bytes) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    let extracted = handler.propagator.extract(&HeaderExtractor(&headers));
    let parent = extracted.span().span_context().clone();
    let span = handler.tracer.span_builder("POST").with_kind(SpanKind::Server).start_with_context(&handler.tracer, &extracted);
    let server = span.span_context().clone();
    let cx = extracted.with_span(span);
    let calls: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
    let mut results = Vec::new();
    for c in &calls {
        let url = c.get("url").and_then(Value::as_str).unwrap_or_default();
        let arguments = c.get("arguments").cloned().unwrap_or(Value::Null);
        let result = call(&handler.client, &handler.tracer, handler.propagator.as_ref(), &cx, url, Some(&arguments)).await;
        results.push(match result {
            Ok((status, _)) => json!({"url": url, "status": status}),
            Err(e) => json!({"url": url, "error": e}),
        });
    }
    cx.span().end();
    let handle = handler.inbox.register(extracted);
    let (s_trace, s_span, s_sampled, s_state) = hex_fields(&server);
    let answer = Served {
        found: ContextFields::of(handle, &parent),
        server_span: ServerSpan { trace_id: s_trace, span_id: s_span, sampled: s_sampled, tracestate: s_state },
        calls: results,
    };
    let answer = serde_json::to_string(&answer).unwrap_or_else(|e| json!({"error": e.to_string()}).to_string());
    (StatusCode::OK, [("content-type", "application/json")], answer.to_string())
}

impl Http {
    pub fn new() -> Result<Http> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| failed("http_serve", format!("cannot start a tokio runtime: {e}")))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .no_proxy()
            .build()
            .map_err(|e| failed("http_serve", format!("cannot build the HTTP client: {e}")))?;
        Ok(Http { runtime, client, inbox: Inbox::default(), servers: Vec::new() })
    }

    /// Starts a server for a service whose spans `tracer` makes.
    pub fn serve(&mut self, tracer: SdkTracer, propagator: SharedPropagator, stack: Option<&str>, listen: Option<&str>) -> Result<HttpServing> {
        if let Some(s) = stack
            && s != STACK
        {
            return Err(failed("http_serve", format!("unknown stack {s:?}; the Rust SDK has {STACK:?}")));
        }
        let addr: SocketAddr = listen
            .unwrap_or("127.0.0.1:0")
            .parse()
            .map_err(|e| failed("http_serve", format!("listen address {listen:?}: {e}")))?;
        let listener = self
            .runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .map_err(|e| failed("http_serve", format!("cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr().map_err(|e| failed("http_serve", e))?;
        let handler = Handler {
            tracer,
            propagator,
            client: self.client.clone(),
            inbox: self.inbox.clone(),
        };
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| handle(handler.clone(), headers, body));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        self.runtime.spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        self.servers.push(stop);
        Ok(HttpServing { url: format!("http://{local}/"), stack: STACK_DESCRIPTION.into() })
    }

    /// A GET of `url` under `parent` (the span's context).
    pub fn call(&self, tracer: &SdkTracer, propagator: &(dyn TextMapPropagator + Send + Sync), parent: &Context, url: &str) -> Result<(u16, ClientSpan)> {
        self.runtime
            .block_on(call(&self.client, tracer, propagator, parent, url, None))
            .map_err(|e| failed("http_call", e))
    }

    /// Stops every server.
    pub fn stop_servers(&mut self) {
        for stop in self.servers.drain(..) {
            let _ = stop.send(());
        }
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        self.stop_servers();
    }
}

/// Contexts from `inbox`, for the SDK's handle table.
pub fn take_into(inbox: &Inbox, contexts: &mut HashMap<String, Context>) {
    for (handle, cx) in inbox.take() {
        contexts.insert(handle, cx);
    }
}
