//! An OTLP trace sink: the backend at the end of a pipeline under test.
//!
//! It listens for OTLP/HTTP (`POST /v1/traces`, protobuf or JSON bodies,
//! gzip-compressed or not) and, optionally, OTLP/gRPC (gzip accepted), on its
//! own tokio runtime, so that synchronous code (a replay, a test, the
//! benchmark) starts it, sends through a collector into it, and waits for what
//! arrived with a bound. Every stored request keeps its receive time and the
//! transport it came over; with an output file each stored request is also
//! appended to it as one line of OTLP JSON.
//!
//! What it answers is its [`Mode`], changed at run time with
//! [`Sink::set_mode`] (or, for `tracewright sink`, `POST /tracewright/mode`):
//! accept, refuse (HTTP 503 / gRPC `UNAVAILABLE`, nothing stored), store and
//! then fail (the sender retries and the sink holds the batch twice), or hang
//! (no answer until the mode changes or the sink stops).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use prost::Message as _;
use tokio::sync::watch;
use tonic::codec::CompressionEncoding;

use super::{ExportTraceServiceRequest, ExportTraceServiceResponse, SpanRow};
use crate::error::{Error, Result};

/// The largest request body the sink takes, compressed or not.
pub const MAX_BODY: usize = 64 << 20;

/// What the sink answers to an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Store the batch and answer success.
    Accept,
    /// Store nothing; answer HTTP 503 or gRPC `UNAVAILABLE` (a retryable
    /// failure: a sender without retries drops the batch).
    Refuse,
    /// Store the batch, then answer 503 / `UNAVAILABLE`, for the next
    /// `remaining` requests; then accept again. A sender that retries sends
    /// the stored batch again: the backend holds it twice.
    StoreThenFail { remaining: u32 },
    /// Store nothing and answer nothing until the mode changes (then 503) or
    /// the sink stops: the sender's timeout decides.
    Hang,
    /// Answer nothing yet: the request waits, unanswered, until the mode
    /// becomes `Accept` or `StoreThenFail` and is then answered under that
    /// mode (`Refuse` and `Hang` keep it waiting; a stop fails it). The
    /// sender holds the batch in memory meanwhile: a collector killed now
    /// loses it, one with a persistent queue sends it again after a restart.
    Hold,
    /// Store the batch, then answer nothing until the mode becomes `Accept`
    /// (then success) or the sink stops: the backend has the batch and the
    /// sender never learns it. Requests held under `Hold` are released into
    /// this mode too. A collector killed now has had its batch stored.
    StoreThenHang,
    /// Store every batch; fail (503 / `UNAVAILABLE`) the first delivery of
    /// each distinct batch and accept its copies: a sender that retries has
    /// each of its batches stored exactly twice, however it batches.
    StoreThenFailEachOnce,
}

impl Mode {
    pub fn name(self) -> String {
        match self {
            Mode::Accept => "accept".into(),
            Mode::Refuse => "refuse".into(),
            Mode::StoreThenFail { remaining } => format!("store-then-fail:{remaining}"),
            Mode::Hang => "hang".into(),
            Mode::Hold => "hold".into(),
            Mode::StoreThenHang => "store-then-hang".into(),
            Mode::StoreThenFailEachOnce => "store-then-fail-each-once".into(),
        }
    }
}

impl FromStr for Mode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Mode> {
        let s = s.trim();
        Ok(match s {
            "accept" => Mode::Accept,
            "refuse" => Mode::Refuse,
            "hang" => Mode::Hang,
            "hold" => Mode::Hold,
            "store-then-hang" => Mode::StoreThenHang,
            "store-then-fail-each-once" => Mode::StoreThenFailEachOnce,
            "store-then-fail" => Mode::StoreThenFail { remaining: 1 },
            _ => match s.strip_prefix("store-then-fail:").map(str::parse::<u32>) {
                Some(Ok(remaining)) => Mode::StoreThenFail { remaining },
                _ => {
                    return Err(Error::usage(
                        format!("unknown sink mode `{s}`"),
                        Some("name one of accept, refuse, hang, hold, store-then-hang, store-then-fail, store-then-fail:N, store-then-fail-each-once"),
                    ));
                }
            },
        })
    }
}

/// How a request came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    HttpProtobuf,
    HttpJson,
    Grpc,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::HttpProtobuf => "http/protobuf",
            Transport::HttpJson => "http/json",
            Transport::Grpc => "grpc",
        }
    }
}

/// A stored request.
#[derive(Clone, Debug)]
pub struct Received {
    pub at: SystemTime,
    pub transport: Transport,
    /// Whether its body was gzip-compressed.
    pub gzip: bool,
    pub request: ExportTraceServiceRequest,
}

/// What the sink has answered so far, by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Export requests that arrived (well-formed or not).
    pub requests: u64,
    /// Requests stored and answered with success.
    pub accepted: u64,
    /// Requests refused without storing.
    pub refused: u64,
    /// Requests stored and then failed (`StoreThenFail`).
    pub failed_after_store: u64,
    /// Requests held without an answer (`Hang`).
    pub hung: u64,
    /// Requests that could not be decoded (answered 400 / `INVALID_ARGUMENT`).
    pub malformed: u64,
    /// Span copies stored.
    pub stored_spans: u64,
    /// Spans in the refused requests.
    pub refused_spans: u64,
    /// Requests and spans held unanswered right now (`Hold`).
    pub held_requests: u64,
    pub held_spans: u64,
}

/// Where the sink listens and writes.
#[derive(Clone, Debug)]
pub struct Config {
    /// OTLP/HTTP; port 0 picks a free port.
    pub http: SocketAddr,
    /// OTLP/gRPC, if wanted; port 0 picks a free port.
    pub grpc: Option<SocketAddr>,
    /// A file each stored request is appended to, as one line of OTLP JSON.
    pub out: Option<PathBuf>,
    /// Print a line on stderr per request (for `tracewright sink`).
    pub verbose: bool,
    /// An OTLP/HTTP traces endpoint (a backend such as Jaeger) every batch
    /// the sink stores is relayed to, before the sink answers: the sink is
    /// then the fault-injecting link in front of that backend.
    pub forward: Option<String>,
}

impl Config {
    /// HTTP and gRPC on free loopback ports, no file.
    pub fn loopback() -> Config {
        let any: SocketAddr = ([127, 0, 0, 1], 0).into();
        Config { http: any, grpc: Some(any), out: None, verbose: false, forward: None }
    }
}

struct Store {
    received: Vec<Received>,
    spans: usize,
    counters: Counters,
    out: Option<BufWriter<File>>,
    out_path: Option<PathBuf>,
    write_error: Option<String>,
    /// The first batch the relay to `Config::forward` failed to deliver.
    forward_error: Option<String>,
    /// Digests of the batches failed once (`StoreThenFailEachOnce`).
    failed_once: std::collections::HashSet<[u8; 32]>,
}

struct Shared {
    store: Mutex<Store>,
    arrived: Condvar,
    mode: watch::Sender<Mode>,
    stop: watch::Sender<bool>,
    verbose: bool,
    forward: Option<(reqwest::Client, String)>,
}

/// What to answer one export.
enum Answer {
    Ok,
    Unavailable(&'static str),
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves consistent data (every update
        // is a push or a counter increment), so a poisoned lock is used as is.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count(&self, f: impl FnOnce(&mut Counters)) {
        f(&mut self.lock().counters);
    }

    fn store(&self, transport: Transport, gzip: bool, request: ExportTraceServiceRequest) {
        let spans = super::span_count(&request);
        let mut store = self.lock();
        if let Some(out) = store.out.as_mut() {
            let line = serde_json::to_string(&request).map_err(|e| e.to_string());
            let written = line.and_then(|mut l| {
                l.push('\n');
                out.write_all(l.as_bytes()).and_then(|()| out.flush()).map_err(|e| e.to_string())
            });
            if let Err(e) = written {
                store.write_error.get_or_insert(e);
            }
        }
        if self.verbose {
            eprintln!("sink: stored {spans} spans over {}{}", transport.name(), if gzip { " (gzip)" } else { "" });
        }
        store.spans += spans;
        store.counters.stored_spans += spans as u64;
        store.received.push(Received { at: SystemTime::now(), transport, gzip, request });
        drop(store);
        self.arrived.notify_all();
    }

    /// Stores a batch, relaying it first to the backend behind the sink, if
    /// any (a failed relay is remembered: see [`Sink::forward_error`]).
    async fn keep(&self, transport: Transport, gzip: bool, request: ExportTraceServiceRequest) {
        if let Some((client, to)) = &self.forward {
            let sent = client
                .post(to)
                .header(header::CONTENT_TYPE, "application/x-protobuf")
                .timeout(Duration::from_secs(30))
                .body(request.encode_to_vec())
                .send()
                .await;
            let failed = match sent {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("{to} answered {}", r.status())),
                Err(e) => Some(format!("{to}: {e}")),
            };
            if let Some(e) = failed {
                self.lock().forward_error.get_or_insert(e);
            }
        }
        self.store(transport, gzip, request);
    }

    /// Decides, stores and counts one decoded export.
    async fn export(&self, transport: Transport, gzip: bool, request: ExportTraceServiceRequest) -> Answer {
        self.count(|c| c.requests += 1);
        let spans = super::span_count(&request) as u64;
        loop {
            // Take the decision and consume a StoreThenFail credit atomically.
            let mut decided = Mode::Accept;
            self.mode.send_if_modified(|mode| {
                decided = *mode;
                match mode {
                    Mode::StoreThenFail { remaining } if *remaining <= 1 => {
                        *mode = Mode::Accept;
                        true
                    }
                    Mode::StoreThenFail { remaining } => {
                        *remaining -= 1;
                        true
                    }
                    _ => false,
                }
            });
            return match decided {
                Mode::Accept | Mode::StoreThenFail { remaining: 0 } => {
                    self.keep(transport, gzip, request).await;
                    self.count(|c| c.accepted += 1);
                    Answer::Ok
                }
                Mode::StoreThenFail { .. } => {
                    self.keep(transport, gzip, request).await;
                    self.count(|c| c.failed_after_store += 1);
                    Answer::Unavailable("the sink stored the batch and fails the request (StoreThenFail)")
                }
                Mode::Refuse => {
                    self.count(|c| {
                        c.refused += 1;
                        c.refused_spans += spans;
                    });
                    drop(request);
                    self.arrived.notify_all();
                    if self.verbose {
                        eprintln!("sink: refused {spans} spans over {}", transport.name());
                    }
                    Answer::Unavailable("the sink refuses (Refuse)")
                }
                Mode::Hang => {
                    self.count(|c| c.hung += 1);
                    let mut mode = self.mode.subscribe();
                    let mut stop = self.stop.subscribe();
                    tokio::select! {
                        _ = mode.wait_for(|m| *m != Mode::Hang) => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                    Answer::Unavailable("the sink hung and then gave up (Hang)")
                }
                Mode::StoreThenFailEachOnce => {
                    use sha2::Digest as _;
                    let digest: [u8; 32] = sha2::Sha256::digest(request.encode_to_vec()).into();
                    let first = self.lock().failed_once.insert(digest);
                    self.keep(transport, gzip, request).await;
                    if first {
                        self.count(|c| c.failed_after_store += 1);
                        Answer::Unavailable("the sink stored the batch and fails its first delivery (StoreThenFailEachOnce)")
                    } else {
                        self.count(|c| c.accepted += 1);
                        Answer::Ok
                    }
                }
                Mode::StoreThenHang => {
                    self.keep(transport, gzip, request).await;
                    self.count(|c| c.hung += 1);
                    let mut mode = self.mode.subscribe();
                    let mut stop = self.stop.subscribe();
                    tokio::select! {
                        _ = mode.wait_for(|m| *m == Mode::Accept) => {
                            self.count(|c| c.accepted += 1);
                            Answer::Ok
                        }
                        _ = stop.wait_for(|s| *s) => Answer::Unavailable("the sink stored the batch and stopped before answering (StoreThenHang)"),
                    }
                }
                Mode::Hold => {
                    // Counted as held while this future lives: a sender that
                    // disconnects (a killed collector) drops it.
                    let guard = Held::new(self, spans);
                    let mut mode = self.mode.subscribe();
                    let mut stop = self.stop.subscribe();
                    let released = tokio::select! {
                        _ = mode.wait_for(|m| matches!(m, Mode::Accept | Mode::StoreThenFail { .. } | Mode::StoreThenHang)) => true,
                        _ = stop.wait_for(|s| *s) => false,
                    };
                    drop(guard);
                    if released {
                        continue;
                    }
                    Answer::Unavailable("the sink stopped while holding the request (Hold)")
                }
            };
        }
    }
}

/// A request counted as held until dropped.
struct Held<'a> {
    shared: &'a Shared,
    spans: u64,
}

impl<'a> Held<'a> {
    fn new(shared: &'a Shared, spans: u64) -> Held<'a> {
        shared.count(|c| {
            c.held_requests += 1;
            c.held_spans += spans;
        });
        shared.arrived.notify_all();
        Held { shared, spans }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let spans = self.spans;
        self.shared.count(|c| {
            c.held_requests = c.held_requests.saturating_sub(1);
            c.held_spans = c.held_spans.saturating_sub(spans);
        });
        self.shared.arrived.notify_all();
    }
}

/// The running sink. Dropping it stops both listeners and its runtime.
pub struct Sink {
    shared: Arc<Shared>,
    http: SocketAddr,
    grpc: Option<SocketAddr>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Sink {
    /// Binds the listeners (an address in use is an error here, not later)
    /// and starts serving on a runtime of its own.
    pub fn start(config: Config) -> Result<Sink> {
        let sink_error = |headline: String, hint: Option<&str>| Error::Sut {
            sut: "OTLP sink".into(),
            headline,
            hint: hint.map(str::to_string),
        };
        let (out, out_path) = match &config.out {
            Some(path) => {
                let file = File::create(path).map_err(|e| Error::io(path, "create the sink's output", e))?;
                (Some(BufWriter::new(file)), Some(path.clone()))
            }
            None => (None, None),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("otlp-sink")
            .enable_all()
            .build()
            .map_err(|e| sink_error(format!("cannot start a tokio runtime: {e}"), None))?;
        let bind = |addr: SocketAddr| {
            runtime.block_on(tokio::net::TcpListener::bind(addr)).map_err(|e| {
                sink_error(format!("cannot listen on {addr}: {e}"), Some("choose a free port, or port 0 for any"))
            })
        };
        let http_listener = bind(config.http)?;
        let grpc_listener = config.grpc.map(bind).transpose()?;
        let local = |l: &tokio::net::TcpListener| {
            l.local_addr().map_err(|e| sink_error(format!("listener has no address: {e}"), None))
        };
        let http = local(&http_listener)?;
        let grpc = grpc_listener.as_ref().map(local).transpose()?;
        let shared = Arc::new(Shared {
            store: Mutex::new(Store {
                received: Vec::new(),
                spans: 0,
                counters: Counters::default(),
                out,
                out_path,
                write_error: None,
                forward_error: None,
                failed_once: std::collections::HashSet::new(),
            }),
            arrived: Condvar::new(),
            mode: watch::Sender::new(Mode::Accept),
            stop: watch::Sender::new(false),
            verbose: config.verbose,
            forward: config.forward.clone().map(|to| (reqwest::Client::new(), to)),
        });

        let app = axum::Router::new()
            .route("/v1/traces", post(http_export))
            .route("/tracewright/mode", post(http_set_mode).get(http_get_mode))
            .route("/tracewright/stats", get(http_stats))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(shared.clone());
        let mut stop = shared.stop.subscribe();
        runtime.spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            let _ = axum::serve(http_listener, app).with_graceful_shutdown(shutdown).await;
        });
        if let Some(listener) = grpc_listener {
            let service = TraceServiceServer::new(Grpc(shared.clone()))
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_BODY);
            let mut stop = shared.stop.subscribe();
            runtime.spawn(async move {
                let shutdown = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                let _ = tonic::transport::Server::builder()
                    .add_service(service)
                    .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), shutdown)
                    .await;
            });
        }
        Ok(Sink { shared, http, grpc, runtime: Some(runtime) })
    }

    /// The OTLP/HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// The OTLP/HTTP traces endpoint, `http://127.0.0.1:PORT/v1/traces`.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}/v1/traces", self.http)
    }

    /// The OTLP/gRPC address, if the sink listens for gRPC.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc
    }

    pub fn mode(&self) -> Mode {
        *self.shared.mode.borrow()
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.mode.send_replace(mode);
    }

    pub fn counters(&self) -> Counters {
        self.shared.lock().counters
    }

    /// The number of spans stored so far (copies counted).
    pub fn span_count(&self) -> usize {
        self.shared.lock().spans
    }

    /// Every stored request, in receive order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    /// Every stored span, flattened, in receive order.
    pub fn rows(&self) -> Vec<SpanRow> {
        let store = self.shared.lock();
        store.received.iter().enumerate().flat_map(|(i, r)| super::rows(&r.request, i)).collect()
    }

    /// Forgets what was stored and the counters (not the output file).
    pub fn clear(&self) {
        let mut store = self.shared.lock();
        store.received.clear();
        store.spans = 0;
        // Requests held right now are still held.
        let held = (store.counters.held_requests, store.counters.held_spans);
        store.counters = Counters { held_requests: held.0, held_spans: held.1, ..Counters::default() };
    }

    /// Waits until `ready` holds of the stored requests, at most `timeout`;
    /// says whether it held.
    pub fn wait_until(&self, timeout: Duration, ready: impl Fn(&[Received]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut store = self.shared.lock();
        loop {
            if ready(&store.received) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            store = self.shared.arrived.wait_timeout(store, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Waits until `ready` holds of the counters, at most `timeout`.
    pub fn wait_counters(&self, timeout: Duration, ready: impl Fn(&Counters) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut store = self.shared.lock();
        loop {
            if ready(&store.counters) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            store = self.shared.arrived.wait_timeout(store, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Waits until at least `n` spans are stored, at most `timeout`.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut store = self.shared.lock();
        while store.spans < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            store = self.shared.arrived.wait_timeout(store, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        true
    }

    /// Waits until no request has been stored for `quiet`, at most `timeout`
    /// in all; says whether it became quiet.
    pub fn wait_quiet(&self, quiet: Duration, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let before = self.counters().requests;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            std::thread::sleep(quiet.min(left));
            if self.counters().requests == before {
                return true;
            }
        }
    }

    /// Writes every stored request to `path` as OTLP JSON lines, atomically
    /// (a temporary file renamed into place).
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let mut text = String::new();
        for r in self.received() {
            let line = serde_json::to_string(&r.request).map_err(|e| Error::Sut {
                sut: "OTLP sink".into(),
                headline: format!("cannot encode a request as JSON: {e}"),
                hint: None,
            })?;
            text.push_str(&line);
            text.push('\n');
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".tracewright-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, "create a temporary file in", e))?;
        tmp.write_all(text.as_bytes()).map_err(|e| Error::io(path, "write", e))?;
        tmp.persist(path).map_err(|e| Error::io(path, "write", e.error))?;
        Ok(())
    }

    /// The first failure to relay a batch to `Config::forward`, if one happened.
    pub fn forward_error(&self) -> Option<String> {
        self.shared.lock().forward_error.clone()
    }

    /// A failure to append to the output file, if one happened.
    pub fn write_error(&self) -> Option<(PathBuf, String)> {
        let store = self.shared.lock();
        let path = store.out_path.clone()?;
        store.write_error.clone().map(|e| (path, e))
    }

    /// Stops both listeners (hung requests are answered) and the runtime,
    /// waiting at most a couple of seconds.
    pub fn stop(&mut self) {
        self.shared.stop.send_replace(true);
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------
// OTLP/HTTP.

fn gunzip(body: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("bad gzip body: {e}"))?;
    if out.len() > MAX_BODY {
        return Err(format!("the body inflates past {MAX_BODY} bytes"));
    }
    Ok(out)
}

fn decode_http(headers: &HeaderMap, body: &[u8]) -> std::result::Result<(Transport, bool, ExportTraceServiceRequest), (StatusCode, String)> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let encoding = text(header::CONTENT_ENCODING);
    let gzip = match encoding.trim() {
        "" | "identity" => false,
        "gzip" => true,
        other => return Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("unsupported content-encoding {other:?}"))),
    };
    let inflated;
    let bytes = if gzip {
        inflated = gunzip(body).map_err(|e| (StatusCode::BAD_REQUEST, e))?;
        &inflated[..]
    } else {
        body
    };
    let content_type = text(header::CONTENT_TYPE);
    let media = content_type.split(';').next().unwrap_or("").trim().to_string();
    match media.as_str() {
        "application/json" => serde_json::from_slice::<ExportTraceServiceRequest>(bytes)
            .map(|r| (Transport::HttpJson, gzip, r))
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("not an OTLP JSON ExportTraceServiceRequest: {e}"))),
        "application/x-protobuf" | "application/protobuf" => ExportTraceServiceRequest::decode(bytes)
            .map(|r| (Transport::HttpProtobuf, gzip, r))
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("not an OTLP protobuf ExportTraceServiceRequest: {e}"))),
        other => Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("unsupported content-type {other:?}: send application/x-protobuf or application/json"))),
    }
}

async fn http_export(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let (transport, gzip, request) = match decode_http(&headers, &body) {
        Ok(decoded) => decoded,
        Err((status, message)) => {
            shared.count(|c| {
                c.requests += 1;
                c.malformed += 1;
            });
            return (status, message).into_response();
        }
    };
    match shared.export(transport, gzip, request).await {
        Answer::Ok => match transport {
            Transport::HttpJson => {
                ([(header::CONTENT_TYPE, "application/json")], "{}").into_response()
            }
            _ => (
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                ExportTraceServiceResponse::default().encode_to_vec(),
            )
                .into_response(),
        },
        Answer::Unavailable(why) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
    }
}

async fn http_set_mode(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    match text.parse::<Mode>() {
        Ok(mode) => {
            shared.mode.send_replace(mode);
            if shared.verbose {
                eprintln!("sink: mode {}", mode.name());
            }
            mode.name().into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn http_get_mode(State(shared): State<Arc<Shared>>) -> Response {
    let mode = *shared.mode.borrow();
    mode.name().into_response()
}

async fn http_stats(State(shared): State<Arc<Shared>>) -> Response {
    let (c, spans) = {
        let store = shared.lock();
        (store.counters, store.spans)
    };
    let body = serde_json::json!({
        "requests": c.requests, "accepted": c.accepted, "refused": c.refused,
        "failed_after_store": c.failed_after_store, "hung": c.hung, "malformed": c.malformed,
        "refused_spans": c.refused_spans, "held_requests": c.held_requests, "held_spans": c.held_spans,
        "spans": spans,
    });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

// ---------------------------------------------------------------------------
// OTLP/gRPC.

struct Grpc(Arc<Shared>);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> std::result::Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let gzip = request
            .metadata()
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        match self.0.export(Transport::Grpc, gzip, request.into_inner()).await {
            Answer::Ok => Ok(tonic::Response::new(ExportTraceServiceResponse::default())),
            Answer::Unavailable(why) => Err(tonic::Status::unavailable(why)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    use super::*;

    fn request(service: &str, spans: &[(u8, u8, u8)]) -> ExportTraceServiceRequest {
        let spans = spans
            .iter()
            .map(|&(trace, span, parent)| Span {
                trace_id: vec![trace; 16],
                span_id: vec![span; 8],
                parent_span_id: if parent == 0 { Vec::new() } else { vec![parent; 8] },
                name: format!("span{span}"),
                flags: 0x101,
                ..Span::default()
            })
            .collect();
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        value: Some(AnyValue { value: Some(any_value::Value::StringValue(service.into())) }),
                        ..KeyValue::default()
                    }],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans { spans, ..ScopeSpans::default() }],
                ..ResourceSpans::default()
            }],
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn post(sink: &Sink, content_type: &str, gz: bool, body: Vec<u8>) -> reqwest::blocking::Response {
        let client = reqwest::blocking::Client::new();
        let mut req = client.post(sink.http_endpoint()).header("content-type", content_type).timeout(Duration::from_secs(10));
        let body = if gz {
            req = req.header("content-encoding", "gzip");
            gzip(&body)
        } else {
            body
        };
        req.body(body).send().expect("the sink answers")
    }

    fn grpc_export(sink: &Sink, request: ExportTraceServiceRequest, timeout: Duration) -> std::result::Result<(), tonic::Status> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let addr = format!("http://{}", sink.grpc_addr().unwrap());
        rt.block_on(async move {
            let mut client = TraceServiceClient::connect(addr).await.expect("gRPC connects").send_compressed(CompressionEncoding::Gzip);
            let mut req = tonic::Request::new(request);
            req.set_timeout(timeout);
            client.export(req).await.map(|_| ())
        })
    }

    #[test]
    fn http_protobuf_json_gzip_and_grpc_are_all_recorded_with_their_resource() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("spans.json");
        let sink = Sink::start(Config { out: Some(out.clone()), ..Config::loopback() }).unwrap();
        let r = post(&sink, "application/x-protobuf", false, request("a", &[(1, 1, 0)]).encode_to_vec());
        assert_eq!(r.status(), 200);
        assert!(ExportTraceServiceResponse::decode(r.bytes().unwrap()).is_ok(), "a protobuf answer");
        let r = post(&sink, "application/x-protobuf", true, request("b", &[(1, 2, 1)]).encode_to_vec());
        assert_eq!(r.status(), 200);
        let json = serde_json::to_vec(&request("c", &[(1, 3, 2)])).unwrap();
        let r = post(&sink, "application/json", false, json.clone());
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().unwrap(), "{}");
        assert_eq!(post(&sink, "application/json", true, json).status(), 200);
        grpc_export(&sink, request("d", &[(2, 5, 0)]), Duration::from_secs(10)).expect("gRPC export succeeds");
        let received = sink.received();
        let transports: Vec<(Transport, bool)> = received.iter().map(|r| (r.transport, r.gzip)).collect();
        assert_eq!(
            transports,
            [
                (Transport::HttpProtobuf, false),
                (Transport::HttpProtobuf, true),
                (Transport::HttpJson, false),
                (Transport::HttpJson, true),
                (Transport::Grpc, true)
            ]
        );
        let rows = sink.rows();
        let seen: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r.service.as_str(), r.span_id.as_str(), r.parent_span_id.as_str())).collect();
        assert_eq!(
            seen,
            [
                ("a", "0101010101010101", ""),
                ("b", "0202020202020202", "0101010101010101"),
                ("c", "0303030303030303", "0202020202020202"),
                ("c", "0303030303030303", "0202020202020202"),
                ("d", "0505050505050505", ""),
            ]
        );
        assert_eq!(sink.span_count(), 5);
        // The output file is OTLP JSON lines that audit reads back.
        let audited = crate::otlp::json::read(&out, false).expect("audit reads the sink's output");
        assert_eq!(audited.len(), 5);
        assert_eq!(audited[1].service, "b");
        assert_eq!(audited[1].parent_span_id, "0101010101010101");
    }

    #[test]
    fn refuse_store_then_fail_hang_and_hold_answer_as_told() {
        let sink = Sink::start(Config::loopback()).unwrap();
        let body = || request("a", &[(1, 1, 0), (1, 2, 1)]).encode_to_vec();
        sink.set_mode(Mode::Refuse);
        assert_eq!(post(&sink, "application/x-protobuf", false, body()).status(), 503);
        let status = grpc_export(&sink, request("a", &[(1, 1, 0)]), Duration::from_secs(10)).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert_eq!(sink.span_count(), 0);
        assert_eq!(sink.counters().refused_spans, 3);

        sink.set_mode(Mode::StoreThenFail { remaining: 1 });
        assert_eq!(post(&sink, "application/x-protobuf", false, body()).status(), 503);
        assert_eq!(sink.span_count(), 2, "stored although failed");
        assert_eq!(sink.mode(), Mode::Accept, "one failure, then accept");
        assert_eq!(post(&sink, "application/x-protobuf", false, body()).status(), 200);
        assert_eq!(sink.span_count(), 4, "the retry is a duplicate");

        sink.set_mode(Mode::Hang);
        let status = grpc_export(&sink, request("a", &[(1, 1, 0)]), Duration::from_millis(300)).unwrap_err();
        // The client gives up: tonic reports its own timeout as Cancelled.
        assert!(matches!(status.code(), tonic::Code::DeadlineExceeded | tonic::Code::Cancelled), "{status:?}");
        assert_eq!(sink.counters().hung, 1);
        assert_eq!(sink.span_count(), 4);

        sink.set_mode(Mode::Hold);
        let sender = post_in_background(&sink);
        assert!(sink.wait_counters(Duration::from_secs(10), |c| c.held_spans == 1), "the request is held");
        sink.set_mode(Mode::Refuse);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(sink.counters().held_spans, 1, "Refuse keeps a held request waiting");
        sink.set_mode(Mode::Accept);
        assert_eq!(sender.join().unwrap().unwrap(), 200);
        assert_eq!(sink.counters().held_spans, 0);
        assert_eq!(sink.span_count(), 5);
    }

    /// Posts one span from another thread (the sink may hold the request);
    /// the thread answers the status, or the client's error.
    fn post_in_background(sink: &Sink) -> std::thread::JoinHandle<reqwest::Result<u16>> {
        let endpoint = sink.http_endpoint();
        std::thread::spawn(move || {
            reqwest::blocking::Client::new()
                .post(endpoint)
                .header("content-type", "application/x-protobuf")
                .body(request("h", &[(3, 7, 0)]).encode_to_vec())
                .timeout(Duration::from_secs(20))
                .send()
                .map(|r| r.status().as_u16())
        })
    }

    #[test]
    fn store_then_fail_each_once_fails_each_distinct_batch_once() {
        let sink = Sink::start(Config::loopback()).unwrap();
        sink.set_mode(Mode::StoreThenFailEachOnce);
        let a = || request("a", &[(1, 1, 0), (1, 2, 1)]).encode_to_vec();
        let b = || request("b", &[(2, 1, 0)]).encode_to_vec();
        assert_eq!(post(&sink, "application/x-protobuf", false, a()).status(), 503);
        assert_eq!(post(&sink, "application/x-protobuf", false, b()).status(), 503);
        assert_eq!(post(&sink, "application/x-protobuf", false, a()).status(), 200, "a's retry is accepted");
        assert_eq!(post(&sink, "application/x-protobuf", true, b()).status(), 200, "b's retry, gzipped, is accepted");
        assert_eq!(sink.span_count(), 6, "every batch stored twice");
        assert_eq!(sink.counters().failed_after_store, 2);
        assert_eq!(sink.mode(), Mode::StoreThenFailEachOnce);
    }

    #[test]
    fn store_then_hang_stores_and_answers_only_on_accept() {
        let sink = Sink::start(Config::loopback()).unwrap();
        sink.set_mode(Mode::Hold);
        let sender = post_in_background(&sink);
        assert!(sink.wait_counters(Duration::from_secs(10), |c| c.held_spans == 1), "the request is held");
        sink.set_mode(Mode::StoreThenHang);
        assert!(sink.wait_counters(Duration::from_secs(10), |c| c.stored_spans == 1 && c.held_spans == 0), "released, stored");
        sink.set_mode(Mode::Hold);
        std::thread::sleep(Duration::from_millis(200));
        assert!(!sender.is_finished(), "stored, still unanswered");
        sink.set_mode(Mode::Accept);
        assert_eq!(sender.join().unwrap().unwrap(), 200);
        assert_eq!(sink.span_count(), 1, "stored once");
    }

    #[test]
    fn malformed_bodies_are_refused_not_stored() {
        let sink = Sink::start(Config::loopback()).unwrap();
        assert_eq!(post(&sink, "application/x-protobuf", false, b"\xff\xff\xff".to_vec()).status(), 400);
        assert_eq!(post(&sink, "application/json", false, b"{\"resourceSpans\": 7}".to_vec()).status(), 400);
        assert_eq!(post(&sink, "application/json", true, b"not gzip".to_vec()).status(), 400);
        assert_eq!(post(&sink, "text/plain", false, b"x".to_vec()).status(), 415);
        assert_eq!(sink.span_count(), 0);
        assert_eq!(sink.counters().malformed, 4);
    }

    #[test]
    fn modes_parse_and_unknown_ones_are_refused() {
        assert_eq!("store-then-fail:3".parse::<Mode>().unwrap(), Mode::StoreThenFail { remaining: 3 });
        assert_eq!("hold".parse::<Mode>().unwrap(), Mode::Hold);
        for m in [Mode::StoreThenHang, Mode::StoreThenFailEachOnce] {
            assert_eq!(m.name().parse::<Mode>().unwrap(), m);
        }
        assert!("sometimes".parse::<Mode>().is_err());
        assert!("store-then-fail:x".parse::<Mode>().is_err());
    }
}
