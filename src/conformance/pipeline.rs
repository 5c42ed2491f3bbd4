//! Replaying a trace-context path through a real pipeline: the in-process
//! Rust SDK exports over OTLP/HTTP into a real collector (the official one or
//! rotel), which exports into tracewright's OTLP sink; the oracle then judges
//! what the sink holds. With `--sut jaeger` the sink relays every batch it
//! stores to a real Jaeger, and what is judged is what Jaeger's query API
//! returns: the traces as its UI shows them.
//!
//! The collector is built in the shape the trace's config names: an in-memory
//! sending queue behind the batch processor, or (`SendingQueue =
//! "persistent"`) a file_storage sending queue with nothing in front of it,
//! its directory kept across the crash; with `TailSampling = "status_code"`
//! the contrib tail_sampling processor (policy status_code ERROR) in front of
//! the batch processor, and with `CollectorB` non-empty a second such gateway
//! collector that the services of `CollectorB` export to. The services of
//! `ErrorServices` end their spans with status ERROR. rotel has neither a
//! persistent queue nor tail sampling: those traces are refused on it.
//!
//! The SDK's steps are played as in an SDK replay ([`super::trace_context`]).
//! The model's pipeline steps become real events:
//!
//! - `Export(s)`: service s's SDK flushes its batch to the collector; the
//!   step is done when the collector has passed those spans on to its
//!   exporter, which the sink sees as requests it holds unanswered (mode
//!   [`Mode::Hold`]): the collector keeps the batch in memory meanwhile.
//! - `Flush`: the sink answers what it holds, and stores it.
//! - `Crash`: SIGKILL of the collector and a restart at the same ports;
//!   what it held in memory is gone. With a persistent queue the model's
//!   crash is the worst case: the sink first stores what the collector is
//!   sending without answering ([`Mode::StoreThenHang`]), so the queue never
//!   learns it was delivered; the restarted collector sends it again.
//! - `DropBatch(s)`: the sink refuses (HTTP 503 / `UNAVAILABLE`) while s's
//!   batch goes through a collector whose retries are off: the batch is lost
//!   at the collector's exporter.
//! - `ExportRetried(s)`: the sink stores s's batch and fails the request; the
//!   collector (retries on) sends it again, and the backend holds it twice.
//!   The copies reach the sink at once rather than at the next `Flush`.
//!
//! - Under tail sampling the collectors keep what they accepted until they
//!   decide: after an `Export` the replay waits until each collector's own
//!   metrics count the spans the model sent it as accepted, and `Flush` waits
//!   until each has decided on every trace it saw (its tail-sampling metrics)
//!   and the sink has stopped receiving.
//!
//! After every pipeline step the replay waits (bounded) until the spans the
//! sink holds or stores add up to what the model has in the collector and the
//! backend. At the end each model span's copies in the sink are compared with
//! the model's backend, and the path's property is judged over the sink's
//! spans with the same [`crate::oracle`] functions `audit` uses.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::trace_context::{self, EnvMismatch, Environment, RealIds};
use super::{Divergence, ReplayRequest, Replayed, Report, Target, Verdict};
use crate::engine;
use crate::error::{Diagnostic, Error, Location, Result};
use crate::model::SpecModel;
use crate::models::trace_context::{self as tc, Action, SendingQueue, SpanSt, State, TailSampling, TraceContext};
use crate::oracle::{self, Record};
use crate::otlp::SpanRow;
use crate::otlp::sink::{self, Mode, Sink};
use crate::sut::pipeline::jaeger::Jaeger;
use crate::sut::pipeline::{Collector, Kind, Options, Protocol, rotel_lacks};
use crate::sut::sdk::rust_sdk::{Flusher, OtlpTarget, RustSdk};

/// Traces of the TraceContext model replayed through the official collector.
pub const COLLECTOR: Target = Target {
    name: "collector",
    module: TraceContext::MODULE,
    about: "the Rust SDK exporting through the official OpenTelemetry Collector into tracewright's OTLP sink",
    replay: |r| on_pipeline(Kind::Collector, Backend::Sink, r),
};

/// Traces of the TraceContext model replayed through rotel.
pub const ROTEL: Target = Target {
    name: "rotel",
    module: TraceContext::MODULE,
    about: "the Rust SDK exporting through rotel into tracewright's OTLP sink",
    replay: |r| on_pipeline(Kind::Rotel, Backend::Sink, r),
};

/// Traces of the TraceContext model replayed through the official collector
/// into Jaeger, judged on what Jaeger's query API returns.
pub const JAEGER: Target = Target {
    name: "jaeger",
    module: TraceContext::MODULE,
    about: "the Rust SDK exporting through the official OpenTelemetry Collector into Jaeger v2 (in-memory store), read back through Jaeger's query API",
    replay: |r| on_pipeline(Kind::Collector, Backend::Jaeger, r),
};

/// Where a pipeline's spans end up, and what the oracle judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// tracewright's sink: judged on what it stored.
    Sink,
    /// Jaeger behind the sink (which relays what it stores): judged on what
    /// Jaeger's query API returns.
    Jaeger,
}

fn on_pipeline(kind: Kind, backend: Backend, request: &ReplayRequest) -> Result<Replayed> {
    let (model, path) = engine::model_path::<TraceContext>(request.doc, request.path)?;
    refuse_unbuilt_shapes(&model, kind, request.path)?;
    let doc = request.doc;
    let judge = trace_context::violated_property(doc);
    let run = replay_to(&model, &path, kind, backend, request.root, judge, doc.header_variant.unwrap_or(0) as usize, Protocol::Http)?;
    Ok(Replayed { system: format!("{}, OpenTelemetry Rust SDK {}", run.collector, crate::sut::sdk::rust_sdk::SDK_VERSION), report: run.report })
}

/// The model's pipeline faults are played by the sink in front of the
/// collector's exporter; under tail sampling the collectors hold what they
/// accepted until they decide, so the sink cannot see those spans in flight.
/// The replay does not build tail-sampling gateways that also meet pipeline
/// faults. And rotel has neither a persistent queue nor tail sampling: a
/// trace of such a collector would be replayed on the wrong system and its
/// verdict would mean nothing, so it is refused, naming what is missing.
fn refuse_unbuilt_shapes(model: &TraceContext, kind: Kind, trace: &Path) -> Result<()> {
    let options = options_for(model, Protocol::Http);
    if kind == Kind::Rotel
        && let Some(missing) = rotel_lacks(&options)
    {
        let asks = match (model.sending_queue(), model.tail_sampling()) {
            (SendingQueue::Persistent, _) => "SendingQueue = \"persistent\"".to_string(),
            (_, t) => format!("TailSampling = \"{}\"", t.name()),
        };
        return Err(Error::Trace(
            Diagnostic::new(Location::file(trace), format!("rotel cannot replay this trace: it has no {missing}"))
                .evidence("config asks for", asks)
                .hint("replay it with --sut collector (or --sut model)"),
        ));
    }
    let faults: Vec<&str> = ["CollectorCrash", "ExporterDrop", "ExportRetry"].into_iter().filter(|f| model.fault(f)).collect();
    if model.tail_sampling() != TailSampling::None && !faults.is_empty() {
        return Err(Error::Trace(
            Diagnostic::new(Location::file(trace), format!("the {} replay does not build tail-sampling gateways that meet pipeline faults", kind.name()))
                .evidence("config asks for", format!("TailSampling = \"{}\" with Faults {}", model.tail_sampling().name(), faults.join(", ")))
                .hint("replay it with --sut model"),
        ));
    }
    Ok(())
}

/// How long a tail-sampling collector waits after a trace's first span
/// before it decides: longer than the replay takes from a collector's first
/// span of a trace to its last (milliseconds), short enough to wait out.
pub const DECISION_WAIT: Duration = Duration::from_secs(2);

/// How long one pipeline step may take to show its effect.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// The collector options a model needs: retries off where the model's
/// exporter drops batches, on otherwise.
pub fn options_for(model: &TraceContext, protocol: Protocol) -> Options {
    Options {
        protocol,
        retry: !model.fault("ExporterDrop"),
        persistent_queue: model.sending_queue() == SendingQueue::Persistent,
        tail_sampling: (model.tail_sampling() != TailSampling::None).then_some(DECISION_WAIT),
        ..Options::default()
    }
}

/// The pipeline's steps, played on real processes.
struct Pipeline<'a> {
    model: &'a TraceContext,
    sink: &'a Sink,
    /// Gateway A, and B when the config has two.
    collectors: &'a mut [Collector],
    flusher: Flusher,
}

/// Copies in the collector and in the backend, in the model.
fn copies(s: &State) -> (u64, u64) {
    s.spans.iter().fold((0, 0), |(c, b), x| (c + u64::from(x.in_collector), b + u64::from(x.in_backend)))
}

fn differ(class: &str, expected: String, observed: String) -> EnvMismatch {
    EnvMismatch { class: class.into(), expected, observed }
}

/// The index in [`Pipeline::collectors`] of a model collector.
fn gateway(c: tc::Collector) -> usize {
    match c {
        tc::Collector::A => 0,
        tc::Collector::B => 1,
    }
}

/// Metrics of the official collector the replay reads.
const ACCEPTED_SPANS: &str = "otelcol_receiver_accepted_spans";
const TRACES_RECEIVED: &str = "otelcol_processor_tail_sampling_new_trace_id_received";
const TRACES_DECIDED: &str = "otelcol_processor_tail_sampling_global_count_traces_sampled";

impl Pipeline<'_> {
    fn held_and_stored(&self) -> (u64, u64) {
        (self.sink.counters().held_spans, self.sink.span_count() as u64)
    }

    fn tail_sampling(&self) -> bool {
        self.model.tail_sampling() != TailSampling::None
    }

    /// Waits until the sink holds and stores as many spans, together, as the
    /// model has in the collector and the backend after the step.
    fn settle(&self, after: &State, what: &str) -> std::result::Result<String, EnvMismatch> {
        let (c, b) = copies(after);
        let ok = self.sink.wait_counters(STEP_TIMEOUT, |k| k.held_spans + k.stored_spans == c + b);
        let (held, stored) = self.held_and_stored();
        if ok {
            Ok(format!("{what}; the collector holds {held} span(s) in flight, the sink stores {stored}"))
        } else {
            Err(differ(
                "pipeline/span-count",
                format!("{} span copies in the collector and the backend ({c} + {b})", c + b),
                format!("{held} held in flight by the collector + {stored} stored by the sink after {STEP_TIMEOUT:?}"),
            ))
        }
    }

    /// Polls a collector's metrics until `ready` holds of them, at most
    /// [`STEP_TIMEOUT`]; returns the last metrics read and whether it held.
    fn wait_metrics(&self, i: usize, ready: impl Fn(&BTreeMap<String, f64>) -> bool) -> Result<(BTreeMap<String, f64>, bool)> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let m = self.collectors[i].metrics()?;
            if ready(&m) {
                return Ok((m, true));
            }
            if Instant::now() >= deadline {
                return Ok((m, false));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Under tail sampling, after an export: each collector has accepted
    /// every span the model exported to it, and the sink has nothing the
    /// model's backend does not have.
    fn settle_tail(&self, after: &State, what: &str) -> Result<std::result::Result<String, EnvMismatch>> {
        let mut seen = Vec::new();
        for i in 0..self.collectors.len() {
            let want = after.spans.iter().filter(|x| x.st == SpanSt::Exported && gateway(self.model.collector_of(x.svc)) == i).count() as f64;
            let (m, ok) = self.wait_metrics(i, |m| m.get(ACCEPTED_SPANS).copied().unwrap_or(0.0) == want)?;
            let got = m.get(ACCEPTED_SPANS).copied().unwrap_or(0.0);
            if !ok {
                return Ok(Err(differ(
                    "pipeline/accepted",
                    format!("gateway {} accepted {want} span(s)", gateway_name(i)),
                    format!("{got} ({ACCEPTED_SPANS}) after {STEP_TIMEOUT:?}"),
                )));
            }
            seen.push(format!("gateway {} accepted {got}", gateway_name(i)));
        }
        let (_, b) = copies(after);
        let (held, stored) = self.held_and_stored();
        if held + stored != b {
            return Ok(Err(differ("pipeline/span-count", format!("{b} span copies in the backend"), format!("{held} held + {stored} stored by the sink"))));
        }
        Ok(Ok(format!("{what}; {}; the sink stores {stored}", seen.join(", "))))
    }

    /// Under tail sampling, `Flush`: each collector decides on every trace
    /// it saw, then sends what it keeps.
    fn flush_tail(&self, after: &State) -> Result<std::result::Result<String, EnvMismatch>> {
        self.sink.set_mode(Mode::Accept);
        let mut seen = Vec::new();
        for i in 0..self.collectors.len() {
            let decided = |m: &BTreeMap<String, f64>| {
                let received = m.get(TRACES_RECEIVED).copied().unwrap_or(0.0);
                received > 0.0 && m.get(TRACES_DECIDED).copied().unwrap_or(0.0) >= received
            };
            let (m, ok) = self.wait_metrics(i, decided)?;
            let (received, decided) = (m.get(TRACES_RECEIVED).copied().unwrap_or(0.0), m.get(TRACES_DECIDED).copied().unwrap_or(0.0));
            if !ok {
                self.sink.set_mode(Mode::Hold);
                return Ok(Err(differ(
                    "pipeline/tail-decision",
                    format!("gateway {} decides on every trace it received", gateway_name(i)),
                    format!("{decided} decision(s) for {received} trace(s) after {STEP_TIMEOUT:?}"),
                )));
            }
            seen.push(format!("gateway {} decided on {decided} trace(s)", gateway_name(i)));
        }
        let (_, b) = copies(after);
        self.sink.wait_counters(STEP_TIMEOUT, |k| k.stored_spans >= b && k.held_spans == 0);
        // Whatever else a decision lets through arrives within the batch
        // processor's timeout.
        self.sink.wait_quiet(Duration::from_millis(1000), STEP_TIMEOUT);
        self.sink.set_mode(Mode::Hold);
        let (held, stored) = self.held_and_stored();
        if stored == b && held == 0 {
            Ok(Ok(format!("{}; the sink stores {stored} span(s)", seen.join(", "))))
        } else {
            Ok(Err(differ("pipeline/flush", format!("{b} span copies stored, none in flight"), format!("{stored} stored, {held} in flight"))))
        }
    }

    fn flush_service(&self, svc: u8) -> Result<String> {
        let name = self.model.service(svc);
        self.flusher.flush(name)?;
        Ok(name.to_string())
    }

    fn collector_name(&self) -> Kind {
        self.collectors[0].kind
    }
}

fn gateway_name(i: usize) -> &'static str {
    if i == 0 { "A" } else { "B" }
}

impl Environment for Pipeline<'_> {
    fn step(&mut self, action: &Action, before: &State, after: &State) -> Result<std::result::Result<String, EnvMismatch>> {
        Ok(match *action {
            Action::Export { svc } if self.tail_sampling() => {
                let name = self.flush_service(svc)?;
                return self.settle_tail(after, &format!("{name} exported its batch to gateway {}", gateway_name(gateway(self.model.collector_of(svc)))));
            }
            Action::Export { svc } => {
                let name = self.flush_service(svc)?;
                self.settle(after, &format!("{name} exported its batch to the {}", self.collector_name()))
            }
            Action::ExportRetried { svc } => {
                self.sink.set_mode(Mode::StoreThenFail { remaining: 1 });
                let name = self.flush_service(svc)?;
                let settled = self.settle(after, &format!("{name} exported; the sink stored the batch and failed the request"));
                self.sink.set_mode(Mode::Hold);
                settled
            }
            Action::DropBatch { svc } => {
                let dropped = before.spans.iter().filter(|x| x.svc == svc && x.st == SpanSt::Queued).count() as u64;
                let refused_before = self.sink.counters().refused_spans;
                self.sink.set_mode(Mode::Refuse);
                let name = self.flush_service(svc)?;
                let refused = self.sink.wait_counters(STEP_TIMEOUT, |k| k.refused_spans >= refused_before + dropped);
                self.sink.set_mode(Mode::Hold);
                if !refused {
                    let seen = self.sink.counters().refused_spans - refused_before;
                    Err(differ(
                        "pipeline/drop",
                        format!("the collector sends {name}'s {dropped} span(s) and the sink refuses them"),
                        format!("{seen} span(s) refused after {STEP_TIMEOUT:?}"),
                    ))
                } else {
                    self.settle(after, &format!("{name} exported; the sink refused {dropped} span(s) and the {} gave up", self.collector_name()))
                }
            }
            Action::Flush if self.tail_sampling() => return self.flush_tail(after),
            Action::Flush => {
                self.sink.set_mode(Mode::Accept);
                let (_, b) = copies(after);
                let ok = self.sink.wait_counters(STEP_TIMEOUT, |k| k.stored_spans == b && k.held_spans == 0);
                self.sink.set_mode(Mode::Hold);
                let (held, stored) = self.held_and_stored();
                if ok {
                    Ok(format!("the collector's batches went out: the sink stores {stored} span(s)"))
                } else {
                    Err(differ("pipeline/flush", format!("{b} span copies stored, none in flight"), format!("{stored} stored, {held} in flight")))
                }
            }
            Action::Crash => {
                let mut note = String::new();
                if self.model.sending_queue() == SendingQueue::Persistent {
                    // The worst case the model takes: the backend stores what
                    // the queue is sending, and the reply never comes.
                    let (_, b) = copies(after);
                    self.sink.set_mode(Mode::StoreThenHang);
                    let stored = self.sink.wait_counters(STEP_TIMEOUT, |k| k.stored_spans == b && k.held_spans == 0);
                    self.sink.set_mode(Mode::Hold);
                    if !stored {
                        let (held, stored) = self.held_and_stored();
                        return Ok(Err(differ(
                            "pipeline/crash",
                            format!("the sink stores the {b} span copies the queue is sending, unanswered"),
                            format!("{stored} stored, {held} held after {STEP_TIMEOUT:?}"),
                        )));
                    }
                    note.push_str("the sink stored the batches in flight without answering; ");
                }
                let mut pids = Vec::new();
                for c in self.collectors.iter_mut() {
                    pids.push(c.pid().unwrap_or(0).to_string());
                    c.crash()?;
                }
                note.push_str(&format!(
                    "SIGKILL to the {} (pid {}) and a restart at the same ports{}",
                    self.collector_name(),
                    pids.join(", "),
                    if self.model.sending_queue() == SendingQueue::Persistent { " on the same queue directory" } else { "" }
                ));
                self.settle(after, &note)
            }
            _ => Ok("the network's step; the pipeline takes no part".to_string()),
        })
    }
}

/// What a pipeline replay found, besides the report.
pub struct PipelineRun {
    pub report: Report,
    /// Name and version of the collector (and the backend behind it).
    pub collector: String,
    /// What the backend holds, flattened: the sink's spans, or Jaeger's.
    pub rows: Vec<SpanRow>,
    /// The requests the sink stored, in order (what `tracewright sink
    /// --out` would have written, one OTLP JSON line each).
    pub stored: Vec<crate::otlp::ExportTraceServiceRequest>,
}

/// Replays `path` through a fresh sink and a fresh collector of `kind`.
pub fn replay(
    model: &TraceContext,
    path: &[(Option<Action>, State)],
    kind: Kind,
    root: &Path,
    property: Option<(&str, fn(&TraceContext, &State) -> crate::model::Verdict)>,
    variant: usize,
    protocol: Protocol,
) -> Result<PipelineRun> {
    replay_to(model, path, kind, Backend::Sink, root, property, variant, protocol)
}

/// Replays `path` through fresh collectors of `kind` (one, or two gateways)
/// into `backend`.
#[allow(clippy::too_many_arguments)]
pub fn replay_to(
    model: &TraceContext,
    path: &[(Option<Action>, State)],
    kind: Kind,
    backend: Backend,
    root: &Path,
    property: Option<(&str, fn(&TraceContext, &State) -> crate::model::Verdict)>,
    variant: usize,
    protocol: Protocol,
) -> Result<PipelineRun> {
    let jaeger = match backend {
        Backend::Jaeger => Some(Jaeger::start(root)?),
        Backend::Sink => None,
    };
    let config = sink::Config {
        grpc: Some(([127, 0, 0, 1], 0).into()),
        forward: jaeger.as_ref().map(Jaeger::otlp_endpoint),
        ..sink::Config::loopback()
    };
    let sink = Sink::start(config)?;
    sink.set_mode(Mode::Hold);
    let target = match protocol {
        Protocol::Http => sink.http_addr(),
        Protocol::Grpc => sink.grpc_addr().expect("the sink listens for gRPC"),
    };
    let options = options_for(model, protocol);
    let mut collectors = vec![Collector::start(kind, root, target, &options)?];
    if model.two_collectors() {
        collectors.push(Collector::start(kind, root, target, &options)?);
    }
    let otlp = |c: &Collector| OtlpTarget { endpoint: c.http_endpoint(), gzip: false };
    let mut sdk = RustSdk::exporting(otlp(&collectors[0]));
    for svc in 0..model.services.len() as u8 {
        let name = model.service(svc);
        if gateway(model.collector_of(svc)) == 1 {
            sdk = sdk.route(name, otlp(&collectors[1]));
        }
        if model.fails(svc) {
            sdk = sdk.failing(name);
        }
    }
    let flusher = sdk.flusher();
    let mut describe = collectors[0].describe();
    if collectors.len() == 2 {
        describe.push_str(" ×2 (gateways A and B)");
    }
    if let Some(j) = &jaeger {
        describe.push_str(&format!(" into {}", j.describe()));
    }
    let sut = match backend {
        Backend::Sink => format!("{} via the Rust SDK", kind.name()),
        Backend::Jaeger => format!("{} and jaeger via the Rust SDK", kind.name()),
    };
    let (mut report, ids) = {
        let mut env = Pipeline { model, sink: &sink, collectors: &mut collectors, flusher };
        trace_context::replay_in(model, path, &mut sdk, &sut, property, variant, Some(&mut env))?
    };
    let rows = match &jaeger {
        None => sink.rows(),
        Some(j) => {
            if let Some(e) = sink.forward_error() {
                return Err(Error::Sut { sut: "jaeger".into(), headline: format!("the sink could not relay a batch to Jaeger: {e}"), hint: None });
            }
            let traces: std::collections::BTreeSet<&str> = ids.values().map(|(t, _)| t.as_str()).collect();
            let mut rows = Vec::new();
            for t in traces {
                rows.extend(j.trace(t)?);
            }
            rows
        }
    };
    if !matches!(report.verdict, Verdict::Diverged(_)) {
        let last = &path.last().expect("a path has a state").1;
        let backend_name = if jaeger.is_some() { "Jaeger's query API" } else { "the sink" };
        report.verdict = judge(model, last, &ids, &rows, backend_name, property.map(|p| p.0), report.steps);
    }
    drop(sdk);
    drop(collectors);
    drop(jaeger);
    let stored = sink.received().into_iter().map(|r| r.request).collect();
    Ok(PipelineRun { report, collector: describe, rows, stored })
}

/// Compares the backend's spans with the model's backend, span by span, then
/// judges the path's property over the sink's spans.
fn judge(model: &TraceContext, last: &State, ids: &RealIds, rows: &[SpanRow], backend: &str, property: Option<&str>, steps: usize) -> Verdict {
    let handle_of: BTreeMap<(&str, &str), u8> = ids.iter().map(|(&h, (t, s))| ((t.as_str(), s.as_str()), h)).collect();
    let mut copies: BTreeMap<u8, u8> = BTreeMap::new();
    let diverged = |expected: String, observed: String, class: &str| {
        Verdict::Diverged(Divergence { step: steps, action: "(end of the path)".into(), expected, observed, carrier: None, class: class.into() })
    };
    for row in rows {
        match handle_of.get(&(row.trace_id.as_str(), row.span_id.as_str())) {
            Some(&h) => *copies.entry(h).or_default() += 1,
            None => {
                return diverged(
                    "only the replay's spans in the backend".into(),
                    format!("span {} of trace {} ({} {:?}), which the replay never started", row.span_id, row.trace_id, row.service, row.name),
                    "pipeline/unknown-span",
                );
            }
        }
    }
    for h in last.handles() {
        let want = last.span(h).in_backend;
        let got = copies.get(&h).copied().unwrap_or(0);
        if want != got {
            return diverged(
                format!("span {h} ({}) stored {want} time(s) by the backend", model.describe(last, h)),
                format!("{got} cop{} in {backend}", if got == 1 { "y" } else { "ies" }),
                "pipeline/backend",
            );
        }
    }
    // The property, over the real spans.
    let records: Vec<Record<String>> = rows
        .iter()
        .map(|r| Record {
            trace_id: r.trace_id.clone(),
            span_id: r.span_id.clone(),
            parent: (!r.parent_span_id.is_empty()).then(|| r.parent_span_id.clone()),
            sampled: r.flags.filter(|f| f & 0xff != 0).map(|f| f & 1 == 1),
            key: handle_of[&(r.trace_id.as_str(), r.span_id.as_str())] as usize,
        })
        .collect();
    let name = |i: usize| {
        let r = &rows[i];
        (format!("sink span {}", r.span_id), format!("{} {:?} trace={} parent={}", r.service, r.name, r.trace_id, if r.parent_span_id.is_empty() { "none" } else { &r.parent_span_id }))
    };
    let real = match property {
        Some("NoOrphanSpans") => oracle::no_orphans(&records, &name),
        Some("NoDuplicateSpans") => oracle::no_duplicates(&records, &name),
        Some("NoLostSpans") => {
            // Every sampled span the SDK ended reached the sink.
            let lost: Vec<u8> = last.handles().filter(|&h| last.span(h).sampled && !copies.contains_key(&h)).collect();
            match lost.first() {
                None => Ok(()),
                Some(&h) => {
                    let (t, s) = &ids[&h];
                    Err(crate::model::Violation::new(format!(
                        "{} sampled span(s) never reached the backend, e.g. span {s} of trace {t}",
                        lost.len()
                    ))
                    .with(format!("span {h}"), model.describe(last, h)))
                }
            }
        }
        _ => Ok(()),
    };
    match (property, real) {
        (Some(p), Err(v)) => Verdict::Reproduced { property: p.to_string(), headline: v.headline.into_owned() },
        _ => Verdict::Conforms,
    }
}
