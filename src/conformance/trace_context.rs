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

use super::{Divergence, ReplayRequest, Replayed, Report, StepLog, Target, Verdict};
use crate::differential;
use crate::engine;
use crate::error::Result;
use crate::headers::{self, Carrier, Parts};
use crate::model::Violation;
use crate::models::trace_context::{Action, HopKind, RootSampler, State, TraceContext, Tp};
use crate::model::SpecModel;
use crate::trace::TraceDoc;
use crate::sut::sdk::{self, Sdk, SamplerKind, SdkKind, ServiceConfig, StartSpan};
use crate::w3c::{self, Level, TraceDecision};

/// The tracestate member the entry service's vendor adds.
pub const VENDOR: &str = "tracewright=root";

/// The SDK services for a model: one per model service.
pub fn services(model: &TraceContext) -> Vec<ServiceConfig> {
    (0..model.services.len() as u8)
        .map(|svc| {
            let name = model.service(svc);
            match model.root_sampler(svc) {
                RootSampler::AlwaysOn => ServiceConfig::new(name, SamplerKind::ParentbasedAlwaysOn),
                RootSampler::AlwaysOff => ServiceConfig::new(name, SamplerKind::ParentbasedAlwaysOff),
                RootSampler::TraceIdRatio => ServiceConfig::ratio(name, SamplerKind::ParentbasedTraceidratio, 0.5),
            }
        })
        .collect()
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
    let mut sdk = sdk::open(kind, request.root)?;
    let hello = sdk.hello()?;
    let report = replay_trace(request.doc, request.path, sdk.as_mut(), kind.name());
    let _ = sdk.shutdown();
    Ok(Replayed { system: format!("OpenTelemetry SDK {}", hello.sdk_version), report: report? })
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
            let tp = injected.carrier.get("traceparent").cloned().unwrap_or_default();
            let ts = injected.carrier.get("tracestate").cloned().unwrap_or_default();
            let ts_values: Vec<&str> = if ts.is_empty() { Vec::new() } else { vec![ts.as_str()] };
            let carrier = Carrier::new(&[tp.as_str()], &ts_values);
            let wrong = |class: &str, expected: String, observed: String| {
                Failure::Mismatch(Mismatch { expected, observed, class: class.into(), carrier: Some(carrier.clone()) })
            };
            let parsed = w3c::parse_traceparent(&tp, Level::Level2)
                .map_err(|e| wrong("inject/invalid", "a valid traceparent".into(), format!("{tp:?}: {e}")))?;
            let header = parsed.to_header();
            let fields: Vec<&str> = header.split('-').collect();
            if fields[1] != real.trace_id {
                return Err(wrong("inject/trace-id", format!("trace-id {}", real.trace_id), format!("trace-id {}", fields[1])));
            }
            if fields[2] != real.span_id {
                return Err(wrong("inject/parent-id", format!("parent-id {} (the caller's span)", real.span_id), format!("parent-id {}", fields[2])));
            }
            if parsed.sampled() != x.sampled {
                return Err(wrong("inject/sampled", format!("sampled={}", x.sampled), format!("flags {:02x}", parsed.flags)));
            }
            let is_root = x.via == 0;
            if !is_root && x.ts != has_vendor(&ts) {
                return Err(wrong("inject/tracestate", format!("tracestate with {VENDOR}: {}", x.ts), format!("tracestate {ts:?}")));
            }
            let mut sent = carrier.clone();
            if is_root && x.ts {
                // The entry service's vendor adds its member, leftmost.
                let merged = if ts.is_empty() { VENDOR.to_string() } else { format!("{VENDOR},{ts}") };
                sent.tracestate = vec![merged];
            }
            (sent, format!("{service} injected {tp}"))
        };
        let hop = self.model.hop(msg.hop);
        let sent = match outcome {
            Tp::Valid => base,
            Tp::Missing => Carrier::new(&[], &[]),
            Tp::Corrupt(class) => {
                let ts: Vec<&str> = base.tracestate.iter().map(String::as_str).collect();
                let parts = base.traceparent.first().and_then(|tp| Parts::of(tp));
                match parts {
                    Some(p) => {
                        let family = headers::family(class.name(), &p, &ts);
                        family[self.variant % family.len()].carrier.clone()
                    }
                    None => base,
                }
            }
        };
        let kind = if hop.kind == HopKind::Queue { "publishes" } else { "sends" };
        let note = format!("{note}; {kind} traceparent {:?} tracestate {:?}", sent.traceparent, sent.tracestate);
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
        let ext = self.sdk.extract(&sdk::Extract::trace_context(&service, &carrier.traceparent, &carrier.tracestate))?;
        let r = self.sdk.start_span(&StartSpan { service: service.clone(), name: format!("span{handle}"), parent: Some(ext.context.clone()) })?;
        let reference = carrier.reference();
        let model_continues = x.parent != 0;
        let sdk_continues = ext.valid;
        if model_continues != sdk_continues {
            let class = match (&reference.trace, sdk_continues) {
                (TraceDecision::Restart(cause), true) => differential::accepts_invalid_class(cause).to_string(),
                (TraceDecision::Continue(parent), false) => differential::rejects_valid_class(parent).to_string(),
                _ => format!("model/{}", if model_continues { "continues-where-w3c-restarts" } else { "restarts-where-w3c-continues" }),
            };
            let said = |c: bool| if c { "continues the trace" } else { "starts a new trace" };
            return Err(with_carrier(mismatch(class, format!("the callee {}", said(model_continues)), format!("the SDK {} (trace {})", said(sdk_continues), r.trace_id))));
        }
        if model_continues {
            let want_tid = self.tids.real(x.tid).map(str::to_owned);
            let want_pid = self.sids.real(x.parent).map(str::to_owned);
            if want_tid.as_deref() != Some(r.trace_id.as_str()) {
                let expected = match want_tid {
                    Some(t) => format!("trace {t} (the model's trace {})", x.tid),
                    None => format!("a new trace (the model's trace {}) under the remote parent", x.tid),
                };
                return Err(with_carrier(mismatch("traceparent/differs/trace-id", expected, format!("trace {}", r.trace_id))));
            }
            if want_pid.as_deref() != Some(ext.span_id.as_str()) {
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
                if want.as_deref() != Some(rec.parent_span_id.as_str()) {
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
