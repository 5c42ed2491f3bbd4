//! `tracewright sink --listen 127.0.0.1:PORT --out spans.json`
//!
//! An OTLP trace receiver for a collector to export to: OTLP/HTTP on
//! `--listen` (`POST /v1/traces`, protobuf or JSON, gzip or not) and OTLP/gRPC
//! on `--grpc` if given. Each stored request is appended to `--out` as one
//! line of OTLP JSON, which `tracewright audit` reads. It runs until Ctrl-C
//! (or `--duration`). While it runs, `POST /tracewright/mode` on the HTTP
//! address with body `accept`, `refuse`, `hang` or `store-then-fail[:N]`
//! changes what it answers; `GET /tracewright/stats` gives its counters.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;

use crate::error::{Error, ExitCode, Result};
use crate::otlp::sink::{Config, Mode, Sink};

#[derive(Debug, Args)]
pub struct SinkArgs {
    /// OTLP/HTTP address (loopback); port 0 picks a free one.
    #[arg(long, env = "TRACEWRIGHT_SINK_LISTEN", default_value = "127.0.0.1:4318")]
    pub listen: SocketAddr,
    /// OTLP/gRPC address, if wanted.
    #[arg(long, env = "TRACEWRIGHT_SINK_GRPC")]
    pub grpc: Option<SocketAddr>,
    /// Where to append each stored request, as one line of OTLP JSON.
    #[arg(long, env = "TRACEWRIGHT_SINK_OUT")]
    pub out: PathBuf,
    /// What to answer at start: accept, refuse, hang, store-then-fail[:N].
    #[arg(long, env = "TRACEWRIGHT_SINK_MODE", default_value = "accept")]
    pub mode: String,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, env = "TRACEWRIGHT_SINK_DURATION")]
    pub duration: Option<f64>,
}

pub fn run(args: SinkArgs) -> Result<ExitCode> {
    let mode: Mode = args.mode.parse()?;
    let duration = match args.duration {
        None => None,
        Some(d) if d.is_finite() && d >= 0.0 && d < 1e9 => Some(Duration::from_secs_f64(d)),
        Some(d) => return Err(Error::usage(format!("--duration {d} is not a number of seconds"), Some("give e.g. --duration 30"))),
    };
    let mut sink = Sink::start(Config { http: args.listen, grpc: args.grpc, out: Some(args.out.clone()), verbose: true, forward: None })?;
    sink.set_mode(mode);
    println!("sink: OTLP/HTTP on http://{}/v1/traces", sink.http_addr());
    if let Some(grpc) = sink.grpc_addr() {
        println!("sink: OTLP/gRPC on {grpc}");
    }
    println!("sink: writing OTLP JSON lines to {} (mode {})", args.out.display(), mode.name());
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // A handler may already be set (in tests); then only --duration stops it.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let start = Instant::now();
    while !stop.load(Ordering::SeqCst) && duration.is_none_or(|d| start.elapsed() < d) {
        std::thread::sleep(Duration::from_millis(100));
    }
    sink.stop();
    let c = sink.counters();
    println!(
        "sink: {} spans stored; {} requests: {} accepted, {} refused, {} failed after storing, {} hung, {} malformed",
        sink.span_count(),
        c.requests,
        c.accepted,
        c.refused,
        c.failed_after_store,
        c.hung,
        c.malformed
    );
    if let Some((path, e)) = sink.write_error() {
        return Err(Error::io(&path, "append to", std::io::Error::other(e)));
    }
    Ok(ExitCode::Ok)
}
