//! `tracewright serve --sut go|python|js|rust --listen 127.0.0.1:PORT`
//!
//! Runs one SDK's instrumented HTTP service (the server of the HTTP
//! transport, `drivers/PROTOCOL.md`) on a fixed address, for the official
//! W3C trace-context test suite: the harness POSTs a JSON list of `{"url",
//! "arguments"}` to `/test`, and the service POSTs each `arguments` to its
//! `url` with the SDK's instrumented client, under the server span the
//! instrumentation made from the request's `traceparent`/`tracestate` (so
//! each callback carries the propagated context of a child span). It runs
//! until Ctrl-C (or `--duration`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;

use super::replay::project_root;
use crate::error::{Error, ExitCode, Result};
use crate::sut::sdk::{self, HttpServe, SamplerKind, SdkKind, ServiceConfig};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The SDK, optionally with its driver's HTTP stack: rust, go, js,
    /// python (ASGI) or python:wsgi.
    #[arg(long, env = "TRACEWRIGHT_SERVE_SUT")]
    pub sut: String,
    /// Where to listen (loopback); port 0 picks a free one.
    #[arg(long, env = "TRACEWRIGHT_SERVE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, env = "TRACEWRIGHT_SERVE_DURATION")]
    pub duration: Option<f64>,
}

/// The one service `serve` runs: parent-based, always on, so that a sampled
/// incoming context gives a sampled child and a new trace is sampled.
pub const SERVICE: &str = "w3c";

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let duration = match args.duration {
        None => None,
        Some(d) if d.is_finite() && d >= 0.0 && d < 1e9 => Some(Duration::from_secs_f64(d)),
        Some(d) => return Err(Error::usage(format!("--duration {d} is not a number of seconds"), Some("give e.g. --duration 30"))),
    };
    if !args.listen.ip().is_loopback() {
        return Err(Error::usage(format!("--listen {} is not a loopback address", args.listen), Some("give 127.0.0.1:PORT")));
    }
    let (kind, stack) = match args.sut.split_once(':') {
        Some((k, s)) => (k.parse::<SdkKind>()?, Some(s.to_string())),
        None => (args.sut.parse::<SdkKind>()?, None),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // A handler may already be set (in tests); then only --duration stops it.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let mut sdk = sdk::open(kind, &project_root())?;
    let hello = sdk.hello()?;
    if hello.http_stacks.is_empty() {
        return Err(Error::Sut {
            sut: format!("{kind} SDK"),
            headline: "its driver has no HTTP stack".into(),
            hint: Some("run `bash ci/install-drivers.sh`".into()),
        });
    }
    sdk.configure(&[ServiceConfig::new(SERVICE, SamplerKind::ParentbasedAlwaysOn)])?;
    let serving = sdk.http_serve(&HttpServe { service: SERVICE.into(), stack, listen: Some(args.listen.to_string()) })?;
    let url = serving.url.trim_end_matches('/');
    println!("serve: OpenTelemetry {kind} SDK {} behind {}", hello.sdk_version, serving.stack);
    println!("serve: the W3C trace-context test service is {url}/test");
    println!("serve: run the official suite with `python test/test.py {url}/test` (in a w3c/trace-context checkout)");
    let start = Instant::now();
    while !stop.load(Ordering::SeqCst) && duration.is_none_or(|d| start.elapsed() < d) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = sdk.shutdown();
    println!("serve: stopped");
    Ok(ExitCode::Ok)
}
