//! Replaying a trace-context path through a real pipeline: the in-process
//! Rust SDK exports over OTLP/HTTP into a real collector (the official one or
//! rotel), which exports into tracewright's OTLP sink; the oracle then judges
//! what the sink holds.
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
//!   what it held in memory is gone (with a persistent queue it sends it
//!   again after the restart).
//! - `DropBatch(s)`: the sink refuses (HTTP 503 / `UNAVAILABLE`) while s's
//!   batch goes through a collector whose retries are off: the batch is lost
//!   at the collector's exporter.
//! - `ExportRetried(s)`: the sink stores s's batch and fails the request; the
//!   collector (retries on) sends it again, and the backend holds it twice.
//!   The copies reach the sink at once rather than at the next `Flush`.
//!
//! After every pipeline step the replay waits (bounded) until the spans the
//! sink holds or stores add up to what the model has in the collector and the
//! backend. At the end each model span's copies in the sink are compared with
//! the model's backend, and the path's property is judged over the sink's
//! spans with the same [`crate::oracle`] functions `audit` uses.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::trace_context::{self, EnvMismatch, Environment, RealIds};
use super::{Divergence, ReplayRequest, Replayed, Report, Target, Verdict};
use crate::engine;
use crate::error::{Diagnostic, Error, Location, Result};
use crate::model::SpecModel;
use crate::models::trace_context::{Action, SendingQueue, SpanSt, State, TailSampling, TraceContext};
use crate::oracle::{self, Record};
use crate::otlp::SpanRow;
use crate::otlp::sink::{self, Mode, Sink};
use crate::sut::pipeline::{Collector, Kind, Options, Protocol};
use crate::sut::sdk::rust_sdk::{Flusher, OtlpTarget, RustSdk};

/// Traces of the TraceContext model replayed through the official collector.
pub const COLLECTOR: Target = Target {
    name: "collector",
    module: TraceContext::MODULE,
    about: "the Rust SDK exporting through the official OpenTelemetry Collector into tracewright's OTLP sink",
    replay: |r| on_pipeline(Kind::Collector, r),
};

/// Traces of the TraceContext model replayed through rotel.
pub const ROTEL: Target = Target {
    name: "rotel",
    module: TraceContext::MODULE,
    about: "the Rust SDK exporting through rotel into tracewright's OTLP sink",
    replay: |r| on_pipeline(Kind::Rotel, r),
};

fn on_pipeline(kind: Kind, request: &ReplayRequest) -> Result<Replayed> {
    let (model, path) = engine::model_path::<TraceContext>(request.doc, request.path)?;
    refuse_unbuilt_shapes(&model, kind, request.path)?;
    let doc = request.doc;
    let judge = trace_context::violated_property(doc);
    let run = replay(&model, &path, kind, request.root, judge, doc.header_variant.unwrap_or(0) as usize, Protocol::Http)?;
    Ok(Replayed { system: format!("{}, OpenTelemetry Rust SDK {}", run.collector, crate::sut::sdk::rust_sdk::SDK_VERSION), report: run.report })
}

/// The replay builds one collector with an in-memory sending queue and no
/// tail sampling. A trace of another collector shape would be replayed on the
/// wrong system and its verdict would mean nothing, so it is refused.
fn refuse_unbuilt_shapes(model: &TraceContext, kind: Kind, trace: &Path) -> Result<()> {
    let mut unbuilt = Vec::new();
    if model.sending_queue() != SendingQueue::Memory {
        unbuilt.push(format!("SendingQueue = \"{}\" (a file_storage sending queue)", model.sending_queue().name()));
    }
    if model.tail_sampling() != TailSampling::None {
        unbuilt.push(format!("TailSampling = \"{}\" (tail-sampling gateways)", model.tail_sampling().name()));
    }
    if model.two_collectors() {
        unbuilt.push("CollectorB non-empty (two gateway collectors)".to_string());
    }
    if unbuilt.is_empty() {
        return Ok(());
    }
    Err(Error::Trace(
        Diagnostic::new(Location::file(trace), format!("the {} replay does not build this collector shape yet", kind.name()))
            .evidence("config asks for", unbuilt.join("; "))
            .hint("replay it with --sut model; the real pipeline replays configs with SendingQueue = \"memory\", TailSampling = \"none\" and CollectorB = {}"),
    ))
}

/// How long one pipeline step may take to show its effect.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// The collector options a model needs: retries off where the model's
/// exporter drops batches, on otherwise.
pub fn options_for(model: &TraceContext, protocol: Protocol) -> Options {
    Options { protocol, retry: !model.fault("ExporterDrop"), ..Options::default() }
}

/// The pipeline's steps, played on real processes.
struct Pipeline<'a> {
    model: &'a TraceContext,
    sink: &'a Sink,
    collector: &'a mut Collector,
    flusher: Flusher,
}

/// Copies in the collector and in the backend, in the model.
fn copies(s: &State) -> (u64, u64) {
    s.spans.iter().fold((0, 0), |(c, b), x| (c + u64::from(x.in_collector), b + u64::from(x.in_backend)))
}

fn differ(class: &str, expected: String, observed: String) -> EnvMismatch {
    EnvMismatch { class: class.into(), expected, observed }
}

impl Pipeline<'_> {
    fn held_and_stored(&self) -> (u64, u64) {
        (self.sink.counters().held_spans, self.sink.span_count() as u64)
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

    fn flush_service(&self, svc: u8) -> Result<String> {
        let name = self.model.service(svc);
        self.flusher.flush(name)?;
        Ok(name.to_string())
    }
}

impl Environment for Pipeline<'_> {
    fn step(&mut self, action: &Action, before: &State, after: &State) -> Result<std::result::Result<String, EnvMismatch>> {
        Ok(match *action {
            Action::Export { svc } => {
                let name = self.flush_service(svc)?;
                self.settle(after, &format!("{name} exported its batch to the {}", self.collector.kind))
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
                    self.settle(after, &format!("{name} exported; the sink refused {dropped} span(s) and the {} gave up", self.collector.kind))
                }
            }
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
                let pid = self.collector.pid();
                self.collector.crash()?;
                let note = format!("SIGKILL to the {} (pid {}) and a restart at the same ports", self.collector.kind, pid.unwrap_or(0));
                self.settle(after, &note)
            }
            _ => Ok("the network's step; the pipeline takes no part".to_string()),
        })
    }
}

/// What a pipeline replay found, besides the report.
pub struct PipelineRun {
    pub report: Report,
    /// Name and version of the collector.
    pub collector: String,
    /// What the sink stored, flattened.
    pub rows: Vec<SpanRow>,
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
    let config = sink::Config { grpc: Some(([127, 0, 0, 1], 0).into()), ..sink::Config::loopback() };
    let sink = Sink::start(config)?;
    sink.set_mode(Mode::Hold);
    let target = match protocol {
        Protocol::Http => sink.http_addr(),
        Protocol::Grpc => sink.grpc_addr().expect("the sink listens for gRPC"),
    };
    let mut collector = Collector::start(kind, root, target, &options_for(model, protocol))?;
    let mut sdk = RustSdk::exporting(OtlpTarget { endpoint: collector.http_endpoint(), gzip: false });
    let flusher = sdk.flusher();
    let describe = collector.describe();
    let sut = format!("{} via the Rust SDK", kind.name());
    let (mut report, ids) = {
        let mut env = Pipeline { model, sink: &sink, collector: &mut collector, flusher };
        trace_context::replay_in(model, path, &mut sdk, &sut, property, variant, Some(&mut env))?
    };
    let rows = sink.rows();
    if !matches!(report.verdict, Verdict::Diverged(_)) {
        let last = &path.last().expect("a path has a state").1;
        report.verdict = judge(model, last, &ids, &rows, property.map(|p| p.0), report.steps);
    }
    drop(sdk);
    drop(collector);
    Ok(PipelineRun { report, collector: describe, rows })
}

/// Compares the sink's spans with the model's backend, span by span, then
/// judges the path's property over the sink's spans.
fn judge(model: &TraceContext, last: &State, ids: &RealIds, rows: &[SpanRow], property: Option<&str>, steps: usize) -> Verdict {
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
                format!("{got} cop{} in the sink", if got == 1 { "y" } else { "ies" }),
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
