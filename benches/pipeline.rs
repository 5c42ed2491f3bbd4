//! End-to-end figures through the real collectors (the official one and
//! rotel, side by side): spans per second from an OTLP sender through the
//! collector into tracewright's sink, over OTLP/HTTP and OTLP/gRPC, and spans
//! lost and duplicated under each pipeline fault. Loopback only; every run
//! bounded in spans and time.
//!
//! The faults, as the replay plays them: `CollectorCrash` is a SIGKILL and
//! restart while the sink holds the collector's batches unanswered (with the
//! in-memory queue, and with the official collector's file_storage queue:
//! `CollectorCrash+persistent`); `ExporterDrop` the sink refusing while the
//! collector's retries are off; `ExportRetry` the sink storing each batch and
//! failing its first delivery, so the retry stores it again (one duplicate
//! per span).
//!
//! `cargo bench --bench pipeline` runs the full figures (100k spans, 5 runs,
//! medians); without `--bench` (as `cargo test --all-targets` runs it) it
//! does a tiny smoke run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tracewright::otlp::load;
use tracewright::otlp::sink::{self, Mode, Sink};
use tracewright::sut::pipeline::{Collector, Kind, Options, Protocol};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn pipeline(kind: Kind, protocol: Protocol, options: Options) -> (Sink, Collector) {
    let sink = Sink::start(sink::Config::loopback()).expect("sink starts");
    let target = match protocol {
        Protocol::Http => sink.http_addr(),
        Protocol::Grpc => sink.grpc_addr().expect("gRPC"),
    };
    let collector = Collector::start(kind, &root(), target, &Options { protocol, ..options }).expect("collector starts (bash ci/install-pipeline.sh)");
    (sink, collector)
}

fn send(collector: &Collector, protocol: Protocol, batches: &[tracewright::otlp::ExportTraceServiceRequest]) {
    let t = Duration::from_secs(60);
    match protocol {
        Protocol::Http => load::send_http(&collector.http_endpoint(), batches, t).expect("the collector accepts"),
        Protocol::Grpc => load::send_grpc(&collector.grpc_endpoint(), batches, t).expect("the collector accepts"),
    }
}

/// Spans per second from the first request sent to the last span stored.
fn throughput(kind: Kind, protocol: Protocol, spans: usize, run: u32) -> Option<f64> {
    let (sink, collector) = pipeline(kind, protocol, Options::default());
    let batches = load::batches(spans, 1000, run);
    let start = Instant::now();
    send(&collector, protocol, &batches);
    let arrived = sink.wait_for_spans(spans, Duration::from_secs(120));
    let secs = start.elapsed().as_secs_f64();
    arrived.then(|| spans as f64 / secs)
}

/// (lost, duplicated) spans out of `spans` under a fault.
/// `CollectorCrash+persistent` is the crash with the official collector's
/// file_storage queue (rotel has none: not measured).
fn fault(kind: Kind, name: &str, spans: usize, run: u32) -> (i64, i64) {
    let retry = name != "ExporterDrop";
    let persistent_queue = name == "CollectorCrash+persistent";
    let (sink, mut collector) = pipeline(kind, Protocol::Http, Options { retry, persistent_queue, ..Options::default() });
    let batches = load::batches(spans, 500, run);
    match name {
        "CollectorCrash" | "CollectorCrash+persistent" => {
            sink.set_mode(Mode::Hold);
            send(&collector, Protocol::Http, &batches);
            // The persistent queue sends with a bounded number of consumers
            // (the rest wait on disk): crash once some batches are in flight.
            let want = if persistent_queue { 1 } else { spans as u64 };
            sink.wait_counters(Duration::from_secs(30), |c| c.held_spans >= want);
            if persistent_queue {
                std::thread::sleep(Duration::from_millis(500));
            }
            collector.crash().expect("restart");
            sink.set_mode(Mode::Accept);
        }
        "ExporterDrop" => {
            sink.set_mode(Mode::Refuse);
            send(&collector, Protocol::Http, &batches);
            sink.wait_counters(Duration::from_secs(30), |c| c.refused_spans >= spans as u64);
            sink.set_mode(Mode::Accept);
        }
        "ExportRetry" => {
            // Each batch the collector sends is stored and its first delivery
            // failed, whatever the collector's batching: one duplicate per span.
            sink.set_mode(Mode::StoreThenFailEachOnce);
            send(&collector, Protocol::Http, &batches);
            sink.wait_for_spans(2 * spans, Duration::from_secs(30));
        }
        _ => unreachable!(),
    }
    sink.wait_for_spans(spans, Duration::from_secs(10));
    sink.wait_quiet(Duration::from_millis(500), Duration::from_secs(10));
    let rows = sink.rows();
    let distinct: std::collections::BTreeSet<(String, String)> = rows.iter().map(|r| (r.trace_id.clone(), r.span_id.clone())).collect();
    (spans as i64 - distinct.len() as i64, rows.len() as i64 - distinct.len() as i64)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (spans, runs, fault_spans) = if full { (100_000, 5, 10_000) } else { (2_000, 1, 1_000) };
    println!("pipeline benchmark: {spans} spans per run, {runs} run(s), medians; loopback, batches of 1000 spans");
    println!("{:<10} {:<6} {:>14}", "collector", "proto", "spans/s");
    for protocol in [Protocol::Http, Protocol::Grpc] {
        for kind in Kind::ALL {
            let rates: Vec<f64> = (0..runs).filter_map(|r| throughput(kind, protocol, spans, r)).collect();
            assert_eq!(rates.len(), runs as usize, "{kind} over {protocol:?}: some run lost spans");
            println!("{:<10} {:<6} {:>14.0}", kind.name(), protocol.name(), median(rates));
        }
    }
    println!("\nfaults ({fault_spans} spans per run over HTTP, {runs} run(s), medians)");
    println!("{:<10} {:<26} {:>8} {:>11}", "collector", "fault", "lost", "duplicated");
    for name in ["CollectorCrash", "CollectorCrash+persistent", "ExporterDrop", "ExportRetry"] {
        for kind in Kind::ALL {
            if name == "CollectorCrash+persistent" && kind == Kind::Rotel {
                println!("{:<10} {:<26} {:>8} {:>11}", kind.name(), name, "-", "-   (rotel has no persistent queue)");
                continue;
            }
            let results: Vec<(i64, i64)> = (0..runs).map(|r| fault(kind, name, fault_spans, 100 + r)).collect();
            let lost = median(results.iter().map(|r| r.0 as f64).collect());
            let dup = median(results.iter().map(|r| r.1 as f64).collect());
            println!("{:<10} {:<26} {:>8} {:>11}", kind.name(), name, lost, dup);
        }
    }
}
