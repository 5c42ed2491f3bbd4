//! Replaying a trace-context path against a real OpenTelemetry SDK.
//!
//! Each service of the model is a service of the SDK, with the SDK's
//! ParentBased sampler over the service's root sampler. The replay plays the
//! application and the network; the SDK does the tracing:
//!
//! - `StartRoot` starts a span with no parent; the entry service's vendor
//!   adds the tracestate entry `tracewright=root` when it first injects.
//! - `Call` asks the SDK to inject the caller's context, checks the header
//!   against the model's, then damages it as the path says (a corrupt header
//!   becomes the first member of its class's concrete family in
//!   [`crate::headers`]; a missing one is dropped).
//! - `Deliver` and `Redeliver` extract the carrier at the callee and start the
//!   child span under whatever the SDK extracted.
//! - `End` ends the span and, for a sampled one, reads the SDK's exported
//!   record to check its parent.
//!
//! Bugs of the instrumenting application — `NoInjection` (no header sent),
//! `WrongSpanId` (the received header forwarded) — happen outside the SDK,
//! so the replay plays them; bugs of the SDK itself are left to the SDK, and
//! their paths diverge where the real SDK behaves correctly.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Divergence, ReplayRequest, Replayed, Report, StepLog, Target, Verdict, corpus};
use crate::differential;
use crate::engine;
use crate::error::Result;
use crate::headers::{self, Carrier, Parts};
use crate::model::Violation;
use crate::b3;
use crate::models::trace_context::{Action, B3Format, Class, HopKind, PAD_OFFSET, RootSampler, State, TraceContext, Tp};
use crate::model::SpecModel;
use crate::trace::TraceDoc;
use crate::sut::sdk::{self, Sdk, SamplerKind, SdkKind, ServiceConfig, StartSpan};
use crate::w3c::{self, Level, TraceDecision};

/// The tracestate member the entry service's vendor adds.
pub const VENDOR: &str = "tracewright=root";

/// The SDK services for a model: one per model service, with its
/// propagator.
pub fn services(model: &TraceContext) -> Vec<ServiceConfig> {
    (0..model.services.len() as u8)
        .map(|svc| {
            let name = model.service(svc);
            let config = match model.root_sampler(svc) {
                RootSampler::AlwaysOn => ServiceConfig::new(name, SamplerKind::ParentbasedAlwaysOn),
                RootSampler::AlwaysOff => ServiceConfig::new(name, SamplerKind::ParentbasedAlwaysOff),
                RootSampler::TraceIdRatio => ServiceConfig::ratio(name, SamplerKind::ParentbasedTraceidratio, 0.5),
            };
            config.with_propagators(propagators(model, svc))
        })
        .collect()
}

/// The propagators of model service `svc`, as `configure` names them: none
/// for W3C alone (every SDK's default), `b3` or `b3multi` for B3 alone, and
/// for `Composite` the composite `b3multi,tracecontext` (B3 extracted first,
/// then W3C, which wins when valid — the model's `ViaB3`).
pub fn propagators(model: &TraceContext, svc: u8) -> &'static [&'static str] {
    match (model.speaks_w3c(svc), model.b3_format(svc)) {
        (_, B3Format::None) => &[],
        (false, B3Format::Single) => &["b3"],
        (false, B3Format::Multi) => &["b3multi"],
        (true, B3Format::Single) => &["b3", "tracecontext"],
        (true, B3Format::Multi) => &["b3multi", "tracecontext"],
    }
}

/// A real span standing for a model span.
#[derive(Clone, Debug)]
struct Real {
    handle: String,
    trace_id: String,
    span_id: String,
    /// The carrier the span was started from, for an application that
    /// forwards what it received.
    received: Option<Carrier>,
}

/// A one-to-one map between model ids and real ids.
#[derive(Default)]
struct Ids {
    real_of: BTreeMap<u8, String>,
    model_of: BTreeMap<String, u8>,
}

impl Ids {
    fn real(&self, model: u8) -> Option<&str> {
        self.real_of.get(&model).map(String::as_str)
    }

    /// Binds a model id to a real id, or says why they cannot be the same id.
    fn bind(&mut self, what: &str, model: u8, real: &str) -> std::result::Result<(), String> {
        if let Some(r) = self.real_of.get(&model) {
            return if r == real {
                Ok(())
            } else {
                Err(format!("{what} {real} where the model has {what} {model} = {r}"))
            };
        }
        if let Some(m) = self.model_of.get(real) {
            return Err(format!("{what} {real} again, already the model's {what} {m}; the model's {model} is a different one"));
        }
        self.real_of.insert(model, real.to_string());
        self.model_of.insert(real.to_string(), model);
        Ok(())
    }
}

struct Mismatch {
    expected: String,
    observed: String,
    class: String,
    carrier: Option<Carrier>,
}

fn mismatch(class: impl Into<String>, expected: impl Into<String>, observed: impl Into<String>) -> Mismatch {
    Mismatch { expected: expected.into(), observed: observed.into(), class: class.into(), carrier: None }
}

struct Replay<'a> {
    model: &'a TraceContext,
    sdk: &'a mut dyn Sdk,
    real: BTreeMap<u8, Real>,
    carriers: BTreeMap<u8, Carrier>,
    tids: Ids,
    sids: Ids,
    /// Which member of a corrupt class's family to send.
    variant: usize,
    /// Over the HTTP transport: each client span the instrumented client
    /// made for a call, to the span it called under. The model has no client
    /// spans: the callee's remote parent is the caller's client span, which
    /// stands for the caller.
    hops: BTreeMap<String, String>,
}

/// Traces of the TraceContext model replayed on each OpenTelemetry SDK.
pub const RUST: Target = sdk_target("rust", "the OpenTelemetry Rust SDK, in-process", |r| on_sdk(SdkKind::Rust, r));
pub const PYTHON: Target = sdk_target("python", "the OpenTelemetry Python SDK, through drivers/python", |r| on_sdk(SdkKind::Python, r));
pub const JS: Target = sdk_target("js", "the OpenTelemetry JavaScript SDK, through drivers/js", |r| on_sdk(SdkKind::Js, r));
pub const GO: Target = sdk_target("go", "the OpenTelemetry Go SDK, through drivers/go", |r| on_sdk(SdkKind::Go, r));
pub const JAVA: Target = sdk_target("java", "the OpenTelemetry Java SDK, through drivers/java", |r| on_sdk(SdkKind::Java, r));

const fn sdk_target(name: &'static str, about: &'static str, replay: fn(&ReplayRequest) -> Result<Replayed>) -> Target {
    Target { name, module: TraceContext::MODULE, about, replay }
}

/// Opens the SDK, replays the trace's path on it, and shuts it down.
fn on_sdk(kind: SdkKind, request: &ReplayRequest) -> Result<Replayed> {
    let mut opened = sdk::http::open_named(kind.name(), request.root, request.transport)?;
    let report = replay_trace(request.doc, request.path, opened.sdk.as_mut(), kind.name());
    let _ = opened.sdk.shutdown();
    let over = match &opened.stack {
        Some(stack) => format!("over http: {stack}"),
        None => format!("over {}", opened.transport),
    };
    Ok(Replayed { system: format!("OpenTelemetry SDK {} {over}", opened.version), report: report? })
}

/// The property a TraceContext trace is a counterexample to, with its judge;
/// `None` for a trace that records a divergence or a deadlock.
pub fn violated_property(doc: &TraceDoc) -> Option<(&'static str, fn(&TraceContext, &State) -> crate::model::Verdict)> {
    (doc.kind == "invariant" || doc.kind == "eventually")
        .then(|| TraceContext::property_defs().into_iter().find(|d| d.name == doc.property))
        .flatten()
        .map(|d| (d.name, d.judge))
}

/// Replays a trace file of the TraceContext model on an open SDK, judging
/// the trace's violated property (if it has one) on what the SDK did.
pub fn replay_trace(doc: &TraceDoc, file: &Path, sdk: &mut dyn Sdk, sut: &str) -> Result<Report> {
    let (model, path) = engine::model_path::<TraceContext>(doc, file)?;
    let judge = violated_property(doc);
    replay(&model, &path, sdk, sut, judge, doc.header_variant.unwrap_or(0) as usize)
}

/// A disagreement an [`Environment`] found: what the model says and what
/// the real system did.
pub struct EnvMismatch {
    pub class: String,
    pub expected: String,
    pub observed: String,
}

/// The real systems past the SDK (a collector, a backend): they play the
/// steps the SDK takes no part in (`Export`, `ExportRetried`, `DropBatch`,
/// `Flush`, `Crash`, …). `Ok(Ok(note))` when the system did what the model
/// says, `Ok(Err(..))` when it did otherwise, `Err` when it failed.
pub trait Environment {
    fn step(&mut self, action: &Action, before: &State, after: &State) -> Result<std::result::Result<String, EnvMismatch>>;
}

/// The real ids of the model's spans after a replay: handle → (trace id,
/// span id), in hex.
pub type RealIds = BTreeMap<u8, (String, String)>;

/// Replays `path` on `sdk`. `property` is the path's violated property, with
/// its judge, if it is a counterexample. SDK failures (a driver that dies or
/// refuses) are errors; behaviour that differs from the model is a verdict.
pub fn replay(
    model: &TraceContext,
    path: &[(Option<Action>, State)],
    sdk: &mut dyn Sdk,
    sut: &str,
    property: Option<(&str, fn(&TraceContext, &State) -> crate::model::Verdict)>,
    variant: usize,
) -> Result<Report> {
    replay_in(model, path, sdk, sut, property, variant, None).map(|(report, _)| report)
}

/// [`replay`], with the environment's steps played by `env` (when given)
/// rather than taken as the model says; also returns the real ids of the
/// model's spans.
pub fn replay_in(
    model: &TraceContext,
    path: &[(Option<Action>, State)],
    sdk: &mut dyn Sdk,
    sut: &str,
    property: Option<(&str, fn(&TraceContext, &State) -> crate::model::Verdict)>,
    variant: usize,
    mut env: Option<&mut dyn Environment>,
) -> Result<(Report, RealIds)> {
    sdk.configure(&services(model))?;
    let mut r = Replay {
        model,
        sdk,
        real: BTreeMap::new(),
        carriers: BTreeMap::new(),
        tids: Ids::default(),
        sids: Ids::default(),
        variant,
        hops: BTreeMap::new(),
    };
    let mut log = Vec::new();
    let mut sut_steps = 0;
    for (k, window) in path.windows(2).enumerate() {
        let step = k + 1;
        let (before, (action, after)) = (&window[0].1, (&window[1].0, &window[1].1));
        let Some(action) = action else { continue };
        let label = crate::model::SpecModel::label(model, action);
        let involved = !matches!(
            action,
            Action::LoseRequest { .. } | Action::Export { .. } | Action::ExportRetried { .. } | Action::DropBatch { .. } | Action::Flush | Action::Crash
        );
        if involved || env.is_some() {
            sut_steps += 1;
        }
        let played = match env.as_deref_mut() {
            Some(env) if !involved => match env.step(action, before, after)? {
                Ok(note) => Ok(note),
                Err(m) => Err(Failure::Mismatch(mismatch(m.class, m.expected, m.observed))),
            },
            _ => r.step(action, before, after),
        };
        match played {
            Ok(note) => log.push(StepLog { step, action: label, note }),
            Err(Failure::Sut(e)) => return Err(e),
            Err(Failure::Mismatch(m)) => {
                let verdict = Verdict::Diverged(Divergence {
                    step,
                    action: label.clone(),
                    expected: m.expected,
                    observed: m.observed,
                    carrier: m.carrier,
                    class: m.class,
                });
                log.push(StepLog { step, action: label, note: "diverged".into() });
                return Ok((Report { sut: sut.to_string(), steps: step, sut_steps, verdict, log }, r.ids()));
            }
        }
    }
    let last = &path.last().expect("a path has a state").1;
    let verdict = match property {
        Some((name, judge)) => match judge(model, last) {
            Err(Violation { headline, .. }) => Verdict::Reproduced { property: name.to_string(), headline: headline.into_owned() },
            Ok(()) => Verdict::Conforms,
        },
        None => Verdict::Conforms,
    };
    Ok((Report { sut: sut.to_string(), steps: path.len() - 1, sut_steps, verdict, log }, r.ids()))
}

enum Failure {
    Sut(crate::error::Error),
    Mismatch(Mismatch),
}

impl From<crate::error::Error> for Failure {
    fn from(e: crate::error::Error) -> Failure {
        Failure::Sut(e)
    }
}

impl From<Mismatch> for Failure {
    fn from(m: Mismatch) -> Failure {
        Failure::Mismatch(m)
    }
}

/// The B3 propagator of a service that speaks B3, as `configure` and the
/// `b3/<propagator>/…` classes name it.
fn b3_propagator(model: &TraceContext, svc: u8) -> &'static str {
    if model.b3_format(svc) == B3Format::Single { "b3" } else { "b3multi" }
}

/// A B3 header name (lower case).
fn is_b3_header(name: &str) -> bool {
    name == b3::SINGLE || name.starts_with("x-b3-")
}

/// The B3 headers with the trace id cut to its low 64 bits.
fn send_64_bit(headers: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let low = |id: &str| id[id.len().saturating_sub(16)..].to_string();
    let mut out = headers.clone();
    if let Some(single) = out.get_mut(b3::SINGLE) {
        let mut fields: Vec<String> = single.split('-').map(str::to_owned).collect();
        fields[0] = low(&fields[0]);
        *single = fields.join("-");
    }
    if let Some(trace_id) = out.get_mut(b3::TRACE_ID) {
        *trace_id = low(trace_id);
    }
    out
}

/// The B3 headers with the debug flag in place of the sampling state: `d`
/// in the single header, `x-b3-flags: 1` without `x-b3-sampled` in the
/// multi headers.
fn send_debug(headers: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = headers.clone();
    if let Some(single) = out.get_mut(b3::SINGLE) {
        let mut fields: Vec<&str> = single.split('-').collect();
        match fields.len() {
            2 => fields.push("d"),
            _ => fields[2] = "d",
        }
        *single = fields.join("-");
    }
    if out.contains_key(b3::TRACE_ID) {
        out.remove(b3::SAMPLED);
        out.insert(b3::FLAGS.to_string(), "1".to_string());
    }
    out
}

/// The B3 headers damaged as a B3 invalidity class says: a trace id one
/// digit short (`B3BadTraceId`), an all-zero span id (`B3BadSpanId`).
fn damage_b3(headers: &BTreeMap<String, String>, class: Class) -> BTreeMap<String, String> {
    let mut out = headers.clone();
    let damage = |fields: &mut Vec<String>, trace: usize, span: usize| match class {
        Class::B3BadTraceId => {
            fields[trace].pop();
        }
        _ => fields[span] = "0".repeat(16),
    };
    if let Some(single) = out.get_mut(b3::SINGLE) {
        let mut fields: Vec<String> = single.split('-').map(str::to_owned).collect();
        if fields.len() >= 2 {
            damage(&mut fields, 0, 1);
        }
        *single = fields.join("-");
    }
    if let (Some(t), Some(sp)) = (out.get(b3::TRACE_ID).cloned(), out.get(b3::SPAN_ID).cloned()) {
        let mut fields = vec![t, sp];
        damage(&mut fields, 0, 1);
        out.insert(b3::TRACE_ID.to_string(), fields[0].clone());
        out.insert(b3::SPAN_ID.to_string(), fields[1].clone());
    }
    out
}

fn has_vendor(tracestate: &str) -> bool {
    tracestate.split(',').any(|m| m.trim() == VENDOR)
}

impl Replay<'_> {
    fn ids(&self) -> RealIds {
        self.real.iter().map(|(&h, r)| (h, (r.trace_id.clone(), r.span_id.clone()))).collect()
    }

    fn real(&self, handle: u8) -> &Real {
        self.real.get(&handle).expect("every model span the path uses was started by the replay")
    }

    /// The class of a callee that continues where the model restarts, or
    /// the other way round, by what the strict references (W3C for the
    /// traceparent, B3 for the B3 headers) say of the headers the callee's
    /// propagator reads.
    fn continuation_class(&self, svc: u8, carrier: &Carrier, sdk_continues: bool) -> String {
        let (w3c, b3_reads) = (self.model.speaks_w3c(svc), self.model.speaks_b3(svc));
        let w3c_ref = carrier.reference().trace;
        if !b3_reads {
            return match (&w3c_ref, sdk_continues) {
                (TraceDecision::Restart(cause), true) => differential::accepts_invalid_class(cause).to_string(),
                (TraceDecision::Continue(parent), false) => differential::rejects_valid_class(parent).to_string(),
                _ => format!("model/{}", if sdk_continues { "restarts-where-w3c-continues" } else { "continues-where-w3c-restarts" }),
            };
        }
        let b3_ref = carrier.b3_reference();
        if sdk_continues {
            if let (true, TraceDecision::Restart(cause)) = (w3c, &w3c_ref)
                && !matches!(b3_ref, b3::Extracted::Continue(_))
                && cause != &w3c::RestartCause::Missing
            {
                return differential::accepts_invalid_class(cause).to_string();
            }
            if let b3::Extracted::Restart(invalid) = &b3_ref {
                return format!("b3/{}/{}", b3_propagator(self.model, svc), corpus::b3::accepts_invalid(invalid));
            }
            return "model/restarts-where-the-references-continue".to_string();
        }
        if w3c && let TraceDecision::Continue(parent) = &w3c_ref {
            return differential::rejects_valid_class(parent).to_string();
        }
        if let b3::Extracted::Continue(cx) = &b3_ref {
            let single = carrier.b3.contains_key(b3::SINGLE);
            return format!("b3/{}/{}", b3_propagator(self.model, svc), corpus::b3::rejects_valid(cx, single));
        }
        "model/continues-where-the-references-restart".to_string()
    }

    fn step(&mut self, action: &Action, before: &State, after: &State) -> std::result::Result<String, Failure> {
        match *action {
            Action::StartRoot => self.start_root(after),
            Action::Call { span, outcome } => self.call(before, after, span, outcome),
            Action::Deliver { msg } | Action::Redeliver { msg } => self.deliver(after, msg),
            Action::End { span } => self.end(after, span),
            _ => Ok("the environment's step; the SDK takes no part".into()),
        }
    }

    fn start_root(&mut self, after: &State) -> std::result::Result<String, Failure> {
        let handle = after.spans.len() as u8;
        let x = after.span(handle);
        let service = self.model.service(x.svc).to_string();
        let r = self.sdk.start_span(&StartSpan { service: service.clone(), name: format!("span{handle}"), parent: None })?;
        if r.sampled != x.sampled {
            return Err(mismatch("sampling/root", format!("a root span sampled={}", x.sampled), format!("sampled={}", r.sampled)).into());
        }
        self.tids.bind("trace id", x.tid, &r.trace_id).map_err(|e| mismatch("ids/trace-id", "a fresh trace id", e))?;
        self.sids.bind("span id", x.sid, &r.span_id).map_err(|e| mismatch("ids/span-id", "a fresh span id", e))?;
        self.real.insert(handle, Real { handle: r.span.clone(), trace_id: r.trace_id.clone(), span_id: r.span_id.clone(), received: None });
        Ok(format!("{service} started root span {} in trace {}", r.span_id, r.trace_id))
    }

    fn call(&mut self, before: &State, after: &State, span: u8, outcome: Tp) -> std::result::Result<String, Failure> {
        let x = before.span(span);
        let msg = after.msgs.last().expect("Call adds a request");
        let m = after.msgs.len() as u8;
        let service = self.model.service(x.svc).to_string();
        let real = self.real(span).clone();
        let (base, note) = if self.model.bug("NoInjection") {
            (Carrier::new(&[], &[]), "the application sends no header (NoInjection)".to_string())
        } else if self.model.bug("WrongSpanId") && x.parent != 0 {
            let received = real.received.clone().unwrap_or_else(|| Carrier::new(&[], &[]));
            (received, "the application forwards the header it received (WrongSpanId)".to_string())
        } else {
            let injected = self.sdk.inject(&sdk::Inject { service: service.clone(), span: real.handle.clone() })?;
            let sender = match &injected.client_span {
                Some(c) if c.parent_span_id != real.span_id => {
                    return Err(mismatch(
                        "http/client-span/parent",
                        format!("the client span under the caller's span {}", real.span_id),
                        format!("client span {} under {:?}", c.span_id, c.parent_span_id),
                    )
                    .into());
                }
                Some(c) => {
                    self.hops.insert(c.span_id.clone(), real.span_id.clone());
                    c.span_id.clone()
                }
                None => real.span_id.clone(),
            };
            // Header names as HTTP has them: case-insensitive (Java writes `X-B3-TraceId`).
            let written: BTreeMap<String, String> =
                injected.carrier.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.clone())).collect();
            let tp = written.get("traceparent").cloned().unwrap_or_default();
            let ts = written.get("tracestate").cloned().unwrap_or_default();
            let ts_values: Vec<&str> = if ts.is_empty() { Vec::new() } else { vec![ts.as_str()] };
            let tp_values: Vec<&str> = if written.contains_key("traceparent") { vec![tp.as_str()] } else { Vec::new() };
            let mut carrier = Carrier::new(&tp_values, &ts_values);
            carrier.b3 = written.into_iter().filter(|(name, _)| is_b3_header(name)).collect();
            let wrong = |class: &str, expected: String, observed: String| {
                Failure::Mismatch(Mismatch { expected, observed, class: class.into(), carrier: Some(carrier.clone()) })
            };
            let w3c = self.model.speaks_w3c(x.svc);
            let form = self.model.b3_format(x.svc);
            if w3c {
                let parsed = w3c::parse_traceparent(&tp, Level::Level2)
                    .map_err(|e| wrong("inject/invalid", "a valid traceparent".into(), format!("{tp:?}: {e}")))?;
                let header = parsed.to_header();
                let fields: Vec<&str> = header.split('-').collect();
                if fields[1] != real.trace_id {
                    return Err(wrong("inject/trace-id", format!("trace-id {}", real.trace_id), format!("trace-id {}", fields[1])));
                }
                if fields[2] != sender {
                    let whose = if sender == real.span_id { "the caller's span" } else { "the client span under the caller's span" };
                    return Err(wrong("inject/parent-id", format!("parent-id {sender} ({whose})"), format!("parent-id {}", fields[2])));
                }
                if parsed.sampled() != x.sampled {
                    return Err(wrong("inject/sampled", format!("sampled={}", x.sampled), format!("flags {:02x}", parsed.flags)));
                }
            } else if !carrier.traceparent.is_empty() || !carrier.tracestate.is_empty() {
                return Err(wrong("inject/w3c-written", "no W3C header (the service's propagator is B3 only)".into(), format!("traceparent {tp:?} tracestate {ts:?}")));
            }
            let single = carrier.b3.contains_key(b3::SINGLE);
            let multi = carrier.b3.keys().any(|name| name != b3::SINGLE);
            let written_form = match (single, multi) {
                (false, false) => Some(B3Format::None),
                (true, false) => Some(B3Format::Single),
                (false, true) => Some(B3Format::Multi),
                (true, true) => None,
            };
            if written_form != Some(form) {
                let said = written_form.map_or("both", |f| f.name());
                let class = match form {
                    B3Format::None => "inject/b3-written".to_string(),
                    _ => format!("b3/{}/inject/form-{said}", b3_propagator(self.model, x.svc)),
                };
                return Err(wrong(&class, format!("B3 form {}", form.name()), format!("B3 form {said}: {:?}", carrier.b3)));
            }
            if form != B3Format::None {
                let cx = match carrier.b3_reference() {
                    b3::Extracted::Continue(cx) => cx,
                    other => return Err(wrong("inject/b3/invalid", "valid B3 headers".into(), format!("{:?}: {other:?}", carrier.b3))),
                };
                if cx.trace_id != real.trace_id {
                    return Err(wrong("inject/b3/trace-id", format!("trace id {}", real.trace_id), format!("trace id {}", cx.trace_id)));
                }
                if cx.span_id != sender {
                    return Err(wrong("inject/b3/span-id", format!("span id {sender}"), format!("span id {}", cx.span_id)));
                }
                if cx.sampling.sampled() != Some(x.sampled) {
                    return Err(wrong("inject/b3/sampled", format!("sampled={}", x.sampled), format!("sampling {:?}", cx.sampling)));
                }
            }
            let is_root = x.via == 0;
            if w3c && !is_root && x.ts != has_vendor(&ts) {
                return Err(wrong("inject/tracestate", format!("tracestate with {VENDOR}: {}", x.ts), format!("tracestate {ts:?}")));
            }
            let mut sent = carrier.clone();
            if w3c && is_root && x.ts {
                // The entry service's vendor adds its member, leftmost.
                let merged = if ts.is_empty() { VENDOR.to_string() } else { format!("{VENDOR},{ts}") };
                sent.tracestate = vec![merged];
            }
            let mut note = format!("{service} injected");
            if w3c {
                note.push_str(&format!(" {tp}"));
            }
            for (name, value) in &carrier.b3 {
                note.push_str(&format!(" {name}: {value}"));
            }
            // What the model's hop says the sender does with B3 (faults
            // B3TraceId64 and B3Debug): the application's, written here.
            if msg.hdr.w64 {
                sent.b3 = send_64_bit(&sent.b3);
                note.push_str("; the sender sends the B3 trace id as 64 bits (B3TraceId64)");
            }
            if msg.hdr.dbg {
                sent.b3 = send_debug(&sent.b3);
                note.push_str("; the sender sends the B3 debug flag in place of sampled (B3Debug)");
            }
            (sent, note)
        };
        let hop = self.model.hop(msg.hop);
        let sent = match outcome {
            Tp::Valid => base,
            Tp::Missing => Carrier::new(&[], &[]),
            Tp::Corrupt(class) if class.is_b3() => Carrier { b3: damage_b3(&base.b3, class), ..base },
            Tp::Corrupt(class) => {
                let ts: Vec<&str> = base.tracestate.iter().map(String::as_str).collect();
                let parts = base.traceparent.first().and_then(|tp| Parts::of(tp));
                match parts {
                    Some(p) => {
                        let family = headers::family(class.name(), &p, &ts);
                        Carrier { b3: base.b3.clone(), ..family[self.variant % family.len()].carrier.clone() }
                    }
                    None => base,
                }
            }
        };
        let kind = if hop.kind == HopKind::Queue { "publishes" } else { "sends" };
        let mut note = format!("{note}; {kind} traceparent {:?} tracestate {:?}", sent.traceparent, sent.tracestate);
        for (name, value) in &sent.b3 {
            note.push_str(&format!(" {name} {value:?}"));
        }
        self.carriers.insert(m, sent);
        Ok(note)
    }

    fn deliver(&mut self, after: &State, msg: u8) -> std::result::Result<String, Failure> {
        let handle = after.spans.len() as u8;
        let x = after.span(handle).clone();
        let service = self.model.service(x.svc).to_string();
        let carrier = self.carriers.get(&msg).cloned().expect("a delivered request was sent");
        let with_carrier = |mut m: Mismatch| {
            m.carrier = Some(carrier.clone());
            Failure::Mismatch(m)
        };
        let mut request = sdk::Extract::trace_context(&service, &carrier.traceparent, &carrier.tracestate);
        for (name, value) in &carrier.b3 {
            request.carrier.insert(name.clone(), vec![value.clone()]);
        }
        let ext = self.sdk.extract(&request)?;
        let sent = after.msg(msg);
        let hdr = sent.hdr;
        if let Some(status) = &ext.refused {
            let code = status.split(' ').nth(1).unwrap_or("no-status");
            return Err(with_carrier(mismatch(format!("http/refused/{code}"), "the callee's service gets the request", format!("the HTTP server answered {status:?}"))));
        }
        // The remote parent as the model names it: a client span stands for
        // the span it was made under.
        let remote_parent = self.hops.get(&ext.span_id).cloned().unwrap_or_else(|| ext.span_id.clone());
        let r = self.sdk.start_span(&StartSpan { service: service.clone(), name: format!("span{handle}"), parent: Some(ext.context.clone()) })?;
        let model_continues = x.parent != 0;
        let sdk_continues = ext.valid;
        if model_continues != sdk_continues {
            let class = self.continuation_class(x.svc, &carrier, sdk_continues);
            let said = |c: bool| if c { "continues the trace" } else { "starts a new trace" };
            return Err(with_carrier(mismatch(class, format!("the callee {}", said(model_continues)), format!("the SDK {} (trace {})", said(sdk_continues), r.trace_id))));
        }
        // A B3 trace id sent as 64 bits names the trace by its low 64 bits;
        // the callee widens it to 128 on the left (as B3 says), or on the
        // right where the model says so (`PadRight`: another trace id).
        let widened = model_continues && hdr.w64 && self.model.via_b3(x.svc, &hdr);
        if widened {
            let from = self.real(sent.from).trace_id.clone();
            let low = &from[from.len().saturating_sub(16)..];
            let (left, right) = (format!("{}{low}", "0".repeat(16)), format!("{low}{}", "0".repeat(16)));
            let pads_right = x.tid == hdr.tid + PAD_OFFSET;
            let (want, other, how, other_how) =
                if pads_right { (&right, &left, "right", "left") } else { (&left, &right, "left", "right") };
            if &r.trace_id != want {
                let class = if &r.trace_id == other { format!("b3/trace-id-64/padded-{other_how}") } else { "b3/trace-id-64/widened".to_string() };
                return Err(with_carrier(mismatch(
                    class,
                    format!("trace {want} (the 64-bit trace id {low} widened on the {how})"),
                    format!("trace {}", r.trace_id),
                )));
            }
            if pads_right {
                self.tids.bind("trace id", x.tid, &r.trace_id).map_err(|e| with_carrier(mismatch("ids/trace-id", "the right-padded trace id", e)))?;
            }
        }
        if model_continues {
            let want_tid = if widened { Some(r.trace_id.clone()) } else { self.tids.real(x.tid).map(str::to_owned) };
            let want_pid = self.sids.real(x.parent).map(str::to_owned);
            if want_tid.as_deref() != Some(r.trace_id.as_str()) {
                let expected = match want_tid {
                    Some(t) => format!("trace {t} (the model's trace {})", x.tid),
                    None => format!("a new trace (the model's trace {}) under the remote parent", x.tid),
                };
                return Err(with_carrier(mismatch("traceparent/differs/trace-id", expected, format!("trace {}", r.trace_id))));
            }
            if want_pid.as_deref() != Some(remote_parent.as_str()) {
                return Err(with_carrier(mismatch(
                    "traceparent/differs/parent-id",
                    format!("remote parent {} (the model's span id {})", want_pid.unwrap_or_else(|| "unknown to the replay".into()), x.parent),
                    format!("remote parent {}", ext.span_id),
                )));
            }
        } else {
            self.tids.bind("trace id", x.tid, &r.trace_id).map_err(|e| with_carrier(mismatch("ids/trace-id", "a new trace id", e)))?;
        }
        self.sids.bind("span id", x.sid, &r.span_id).map_err(|e| with_carrier(mismatch("ids/span-id", "a fresh span id", e)))?;
        if r.sampled != x.sampled {
            let class = if model_continues { "sampling/parent-based" } else { "sampling/root" };
            return Err(with_carrier(mismatch(class, format!("sampled={}", x.sampled), format!("sampled={}", r.sampled))));
        }
        if has_vendor(&r.tracestate) != x.ts {
            let class = if x.ts { "tracestate/dropped" } else { "tracestate/kept" };
            return Err(with_carrier(mismatch(class, format!("tracestate with {VENDOR}: {}", x.ts), format!("tracestate {:?}", r.tracestate))));
        }
        self.real.insert(handle, Real { handle: r.span.clone(), trace_id: r.trace_id.clone(), span_id: r.span_id.clone(), received: Some(carrier) });
        Ok(format!(
            "{service} extracted {} and started span {} in trace {}",
            if ext.valid { format!("parent {}", ext.span_id) } else { "nothing valid".to_string() },
            r.span_id,
            r.trace_id
        ))
    }

    fn end(&mut self, after: &State, span: u8) -> std::result::Result<String, Failure> {
        let x = after.span(span).clone();
        let real = self.real(span).clone();
        self.sdk.end_span(&real.handle)?;
        let exported = self.sdk.spans()?;
        let record = exported.iter().find(|s| s.span_id == real.span_id && s.trace_id == real.trace_id);
        match (x.sampled, record) {
            (false, None) => Ok(format!("span {} ended, not exported (unsampled)", real.span_id)),
            (false, Some(_)) => Err(mismatch("sampling/exported-unsampled", "an unsampled span not exported", "the SDK exported it").into()),
            (true, None) => Err(mismatch("export/missing", format!("span {} exported", real.span_id), "the SDK did not export it").into()),
            (true, Some(rec)) => {
                let want = if x.parent == 0 { Some(String::new()) } else { self.sids.real(x.parent).map(str::to_owned) };
                let parent = self.hops.get(&rec.parent_span_id).unwrap_or(&rec.parent_span_id);
                if want.as_deref() != Some(parent.as_str()) {
                    return Err(mismatch(
                        "export/parent-id",
                        format!("parent {:?}", want.unwrap_or_default()),
                        format!("parent {:?}", rec.parent_span_id),
                    )
                    .into());
                }
                Ok(format!("span {} ended and exported with parent {:?}", real.span_id, rec.parent_span_id))
            }
        }
    }
}
