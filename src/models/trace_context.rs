//! W3C Trace Context propagation: the Rust twin of
//! `specs/trace_context/TraceContext.tla`.
//!
//! Requests enter at a root service, which starts a root span. Every span
//! calls its service's outgoing hops in order, injecting a `traceparent`; the
//! callee extracts it and starts a child span, or restarts the trace when the
//! header is invalid or missing. Ended, sampled spans go through their SDK's
//! batch processor to a collector and on to a backend. Faults (damaged
//! headers at gateways, dropped exports, a crashing collector, redelivered
//! queue messages, retried exports) and seeded bugs (no injection, a wrong
//! parent id, a new trace id per hop, colliding ids, accepting invalid
//! headers, ignoring the parent's sampling decision) are switched on by
//! constants, and so is the collector's shape: an in-memory or persistent
//! sending queue, and tail sampling at one or two gateway collectors.
//!
//! The state is exactly the spec's two variables, with the spec's 1-based
//! handles, so the distinct-state count equals TLC's for the same config.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::error::{Error, Result};
use crate::oracle::{self, Record};
use crate::model::{all, Behaviour, Fairness, PropertyDef, PropertyKind, SpecModel, Verdict, Violation};
use crate::spec::value::Value;
use crate::spec::Constants;
use crate::trace::itf;

/// A service, as an index into [`TraceContext::services`].
pub type Svc = u8;

/// Span and request handles and the abstract ids: at most
/// Traces x (hops + 1) x 2 spans exist, which the config bounds keep under 256.
pub type Id = u8;

named!(HopKind { Http = "http", Gateway = "gateway", Queue = "queue" });

named!(
    /// Where the collector's exporter keeps what it accepted (`SendingQueue`).
    SendingQueue {
        /// In memory: a crash loses it.
        Memory = "memory",
        /// `sending_queue.storage: file_storage`, nothing in memory in front:
        /// a crash loses nothing, and may make a batch be sent twice.
        Persistent = "persistent",
    }
);

named!(
    /// The gateway collectors' tail-sampling policy (`TailSampling`).
    TailSampling {
        None = "none",
        /// The contrib tail_sampling processor's `status_code` policy with
        /// `status_codes: [ERROR]`: keep a trace if a span of it has status ERROR.
        StatusCode = "status_code",
    }
);

/// The collectors the SDKs export to: `A`, or `B` for services in `CollectorB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Collector {
    A,
    B,
}

/// The sampler a service uses for a trace it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootSampler {
    AlwaysOn,
    AlwaysOff,
    /// Decided by the trace id alone; the model stands odd ids for ids under the ratio.
    TraceIdRatio,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    pub caller: Svc,
    pub callee: Svc,
    pub kind: HopKind,
}

named!(
    /// Abstract W3C traceparent invalidity classes a gateway can inflict; each
    /// maps to a family of concrete headers in [`crate::headers`].
    Class {
        /// Hex digits in upper case (the spec requires lower case).
        UpperCaseHex = "UpperCaseHex",
        /// Version `ff`, which the spec forbids.
        VersionFF = "VersionFF",
        /// An all-zero trace id.
        ZeroTraceId = "ZeroTraceId",
        /// An all-zero parent id.
        ZeroParentId = "ZeroParentId",
        /// A field one digit short or long, or data after a version-00 header.
        WrongLength = "WrongLength",
        /// A character outside the grammar (not hex, a wrong separator).
        IllegalCharacter = "IllegalCharacter",
        /// Trace flags that are not two lower-case hex digits.
        BadFlags = "BadFlags",
        /// The traceparent header sent twice.
        Duplicated = "Duplicated",
        /// B3: a trace id that is neither 16 nor 32 lower-case hex digits.
        B3BadTraceId = "B3BadTraceId",
        /// B3: a span id that is not 16 lower-case hex digits, or all zero.
        B3BadSpanId = "B3BadSpanId",
    }
);

impl Class {
    /// Whether the class damages B3 headers (otherwise the traceparent).
    pub fn is_b3(self) -> bool {
        matches!(self, Class::B3BadTraceId | Class::B3BadSpanId)
    }
}

named!(
    /// The B3 form a service writes (`B3Format(s)` in the spec).
    B3Format {
        /// The service writes no B3 headers.
        None = "none",
        /// One `b3` header (`b3: {trace}-{span}-{sampled}`).
        Single = "single",
        /// `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled` (or `X-B3-Flags`).
        Multi = "multi",
    }
);

/// The `traceparent` as it arrives: valid, missing, or corrupt by class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tp {
    Valid,
    Missing,
    Corrupt(Class),
}

impl Tp {
    pub fn name(self) -> &'static str {
        match self {
            Tp::Valid => "valid",
            Tp::Missing => "missing",
            Tp::Corrupt(c) => c.name(),
        }
    }

    fn parse(name: &str) -> Option<Tp> {
        match name {
            "valid" => Some(Tp::Valid),
            "missing" => Some(Tp::Missing),
            other => Class::parse(other).map(Tp::Corrupt),
        }
    }
}

/// A request's headers: the traceparent (`tp`) and the B3 headers (`b3`),
/// each valid, missing or damaged by a class, and what they carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub tp: Tp,
    pub b3: Tp,
    /// The B3 form written.
    pub fmt: B3Format,
    pub tid: Id,
    pub pid: Id,
    pub sampled: bool,
    /// Whether a tracestate entry travels with the header.
    pub ts: bool,
    /// The B3 debug flag `d` sent in place of sampled (fault `B3Debug`).
    pub dbg: bool,
    /// The B3 trace id sent as 64 bits (fault `B3TraceId64`).
    pub w64: bool,
}

const NO_HEADER: Header = Header {
    tp: Tp::Missing,
    b3: Tp::Missing,
    fmt: B3Format::None,
    tid: 0,
    pid: 0,
    sampled: false,
    ts: false,
    dbg: false,
    w64: false,
};

/// A trace id that crossed a B3 hop as 64 bits and was widened on the right
/// is another id: the model writes it as the id plus this (`PadOffset`).
pub const PAD_OFFSET: Id = 128;

named!(SpanSt {
    Open = "open",
    /// Ended and not recorded (unsampled): nothing to export.
    Closed = "closed",
    /// Ended, sampled, waiting in the SDK's batch queue.
    Queued = "queued",
    Exported = "exported",
    /// The exporter gave up on it.
    Dropped = "dropped",
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub svc: Svc,
    pub tid: Id,
    pub sid: Id,
    pub parent: Id,
    pub sampled: bool,
    pub ts: bool,
    /// The request this span serves (1-based), 0 for a request entering at Root.
    pub via: Id,
    pub st: SpanSt,
    pub in_collector: u8,
    pub in_backend: u8,
}

named!(MsgSt {
    Inflight = "inflight",
    Handled = "handled",
    Replied = "replied",
    /// Lost in the network; no reply will come.
    Lost = "lost",
});

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    /// 1-based index into the hops.
    pub hop: u8,
    /// The sending span (1-based).
    pub from: Id,
    pub hdr: Header,
    pub st: MsgSt,
    pub redelivered: bool,
}

// Spans and requests are hashed as two packed words rather than field by
// field: fingerprinting is on the checker's hot path. Every field is written,
// so equal hashes still follow from equal values only up to collisions.
impl Hash for Span {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(u64::from_le_bytes([
            self.svc,
            self.tid,
            self.sid,
            self.parent,
            self.via,
            self.st as u8,
            self.in_collector,
            self.in_backend,
        ]));
        h.write_u8(u8::from(self.sampled) | u8::from(self.ts) << 1);
    }
}

impl Tp {
    fn code(self) -> u8 {
        match self {
            Tp::Valid => 0,
            Tp::Missing => 1,
            Tp::Corrupt(c) => 2 + c as u8,
        }
    }
}

impl Hash for Msg {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(u64::from_le_bytes([
            self.hop,
            self.from,
            self.hdr.tp.code(),
            self.hdr.tid,
            self.hdr.pid,
            self.st as u8,
            u8::from(self.hdr.sampled)
                | u8::from(self.hdr.ts) << 1
                | u8::from(self.redelivered) << 2
                | u8::from(self.hdr.dbg) << 3
                | u8::from(self.hdr.w64) << 4
                | (self.hdr.fmt as u8) << 5,
            self.hdr.b3.code(),
        ]));
    }
}

/// The spec's variables `spans` and `msgs`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct State {
    pub spans: Vec<Span>,
    pub msgs: Vec<Msg>,
}

impl State {
    /// Span by 1-based handle.
    pub fn span(&self, i: Id) -> &Span {
        &self.spans[i as usize - 1]
    }

    pub fn msg(&self, m: Id) -> &Msg {
        &self.msgs[m as usize - 1]
    }

    pub fn handles(&self) -> impl Iterator<Item = Id> + '_ {
        1..=self.spans.len() as Id
    }

    fn root_count(&self) -> Id {
        self.spans.iter().filter(|s| s.via == 0).count() as Id
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    StartRoot,
    Call { span: Id, outcome: Tp },
    End { span: Id },
    Deliver { msg: Id },
    Redeliver { msg: Id },
    LoseRequest { msg: Id },
    Export { svc: Svc },
    ExportRetried { svc: Svc },
    DropBatch { svc: Svc },
    Flush,
    Crash,
}

pub const FAULTS: [&str; 9] = [
    "CorruptHeader",
    "DropHeader",
    "ExporterDrop",
    "CollectorCrash",
    "DuplicateDelivery",
    "ExportRetry",
    "LostRequest",
    "B3TraceId64",
    "B3Debug",
];
pub const BUGS: [&str; 6] = [
    "NoInjection",
    "WrongSpanId",
    "NewTraceIdPerHop",
    "IdCollision",
    "AcceptInvalid",
    "NonParentBasedSampling",
];

#[derive(Clone, Debug)]
pub struct TraceContext {
    /// Service names, sorted; a [`Svc`] indexes this.
    pub services: Vec<String>,
    pub root: Svc,
    pub traces: Id,
    pub hops: Vec<Hop>,
    /// Per service, its outgoing hops (1-based) in index order.
    out: Vec<Vec<u8>>,
    always_off: Vec<bool>,
    ratio: Vec<bool>,
    corrupt_classes: Vec<Class>,
    faults: BTreeSet<String>,
    bugs: BTreeSet<String>,
    sending_queue: SendingQueue,
    tail_sampling: TailSampling,
    /// Per service, whether its spans end with status ERROR (`ErrorServices`).
    failing: Vec<bool>,
    /// Per service, whether it exports to collector B (`CollectorB`).
    to_b: Vec<bool>,
    /// Per service, its propagator: B3 single only (`B3Single`), B3 multi
    /// only (`B3Multi`), B3 multi and W3C (`Composite`); else W3C only.
    b3_single: Vec<bool>,
    b3_multi: Vec<bool>,
    composite: Vec<bool>,
    /// Per service, whether its B3 extractor widens a 64-bit trace id on the
    /// right (`PadRight`).
    pad_right: Vec<bool>,
    /// Per service, whether its B3 extractor maps the debug flag to
    /// unsampled (`DebugUnsampled`).
    debug_unsampled: Vec<bool>,
}

impl TraceContext {
    pub fn fault(&self, name: &str) -> bool {
        self.faults.contains(name)
    }

    pub fn bug(&self, name: &str) -> bool {
        self.bugs.contains(name)
    }

    /// Whether the config seeds a bug in the model (`Bugs` is not empty).
    pub fn seeds_a_bug(&self) -> bool {
        !self.bugs.is_empty()
    }

    /// Whether some root samples by trace-id ratio, which the model decides
    /// by the parity of its small ids and a real SDK by a random 128-bit id:
    /// the two agree on such a root only by chance.
    pub fn samples_by_ratio(&self) -> bool {
        self.ratio.iter().any(|&r| r)
    }

    pub fn service(&self, svc: Svc) -> &str {
        &self.services[svc as usize]
    }

    /// The collector's exporter queue (`SendingQueue`).
    pub fn sending_queue(&self) -> SendingQueue {
        self.sending_queue
    }

    /// The gateway collectors' tail-sampling policy (`TailSampling`).
    pub fn tail_sampling(&self) -> TailSampling {
        self.tail_sampling
    }

    /// Whether the spans of service `svc` end with status ERROR (`ErrorServices`).
    pub fn fails(&self, svc: Svc) -> bool {
        self.failing[svc as usize]
    }

    /// The collector service `svc` exports to.
    pub fn collector_of(&self, svc: Svc) -> Collector {
        if self.to_b[svc as usize] { Collector::B } else { Collector::A }
    }

    /// Whether some service exports to a second collector (`CollectorB` is not empty).
    pub fn two_collectors(&self) -> bool {
        self.to_b.iter().any(|&b| b)
    }

    /// The root sampler of service `svc` (every service is ParentBased on it).
    pub fn root_sampler(&self, svc: Svc) -> RootSampler {
        if self.always_off[svc as usize] {
            RootSampler::AlwaysOff
        } else if self.ratio[svc as usize] {
            RootSampler::TraceIdRatio
        } else {
            RootSampler::AlwaysOn
        }
    }

    /// Service `svc` writes and reads the W3C headers (`SpeaksW3C(s)`).
    pub fn speaks_w3c(&self, svc: Svc) -> bool {
        !(self.b3_single[svc as usize] || self.b3_multi[svc as usize])
    }

    /// Service `svc` writes and reads B3 headers (`SpeaksB3(s)`).
    pub fn speaks_b3(&self, svc: Svc) -> bool {
        self.b3_single[svc as usize] || self.b3_multi[svc as usize] || self.composite[svc as usize]
    }

    /// The B3 form service `svc` writes (`B3Format(s)`).
    pub fn b3_format(&self, svc: Svc) -> B3Format {
        if self.b3_single[svc as usize] {
            B3Format::Single
        } else if self.speaks_b3(svc) {
            B3Format::Multi
        } else {
            B3Format::None
        }
    }

    /// Whether some service speaks B3 (the config is a mixed mesh).
    pub fn uses_b3(&self) -> bool {
        (0..self.services.len() as Svc).any(|s| self.speaks_b3(s))
    }

    pub fn hop(&self, h: u8) -> &Hop {
        &self.hops[h as usize - 1]
    }

    fn kind(&self, s: &State, m: Id) -> HopKind {
        self.hop(s.msg(m).hop).kind
    }

    fn sync(&self, s: &State, m: Id) -> bool {
        self.kind(s, m) != HopKind::Queue
    }

    /// The first outgoing hop span i has not called yet, if any.
    fn next_hop(&self, s: &State, i: Id) -> Option<u8> {
        let svc = s.span(i).svc;
        self.out[svc as usize]
            .iter()
            .copied()
            .find(|&h| !s.msgs.iter().any(|m| m.from == i && m.hop == h))
    }

    /// Every synchronous call span i made has been answered.
    fn answered(&self, s: &State, i: Id) -> bool {
        (1..=s.msgs.len() as Id).all(|m| {
            let msg = s.msg(m);
            !(msg.from == i && self.sync(s, m)) || msg.st == MsgSt::Replied
        })
    }

    fn new_id(&self, s: &State, svc: Svc) -> Id {
        if self.bug("IdCollision") {
            1 + s.spans.iter().filter(|x| x.svc == svc).count() as Id
        } else {
            s.spans.len() as Id + 1
        }
    }

    fn root_sample(&self, svc: Svc, tid: Id) -> bool {
        if self.always_off[svc as usize] {
            false
        } else if self.ratio[svc as usize] {
            tid % 2 == 1
        } else {
            true
        }
    }

    fn injected_id(&self, span: &Span) -> Id {
        if self.bug("WrongSpanId") && span.parent != 0 { span.parent } else { span.sid }
    }

    fn header(&self, span: &Span, outcome: Tp) -> Header {
        if outcome == Tp::Missing {
            return NO_HEADER;
        }
        let svc = span.svc;
        let (w3c, b3) = (self.speaks_w3c(svc), self.speaks_b3(svc));
        let damaged = |by_b3: bool| match outcome {
            Tp::Corrupt(c) if c.is_b3() == by_b3 => outcome,
            _ => Tp::Valid,
        };
        Header {
            tp: if w3c { damaged(false) } else { Tp::Missing },
            b3: if b3 { damaged(true) } else { Tp::Missing },
            fmt: self.b3_format(svc),
            tid: if outcome == Tp::Corrupt(Class::ZeroTraceId) { 0 } else { span.tid },
            pid: if outcome == Tp::Corrupt(Class::ZeroParentId) { 0 } else { self.injected_id(span) },
            sampled: span.sampled,
            ts: span.ts && w3c,
            dbg: b3 && self.fault("B3Debug") && span.sampled,
            w64: b3 && self.fault("B3TraceId64"),
        }
    }

    /// What can happen to a header sent over hop h, in the spec's set order.
    fn outcomes(&self, h: u8) -> Vec<Tp> {
        if self.bug("NoInjection") {
            return vec![Tp::Missing];
        }
        let mut out = vec![Tp::Valid];
        if self.hop(h).kind == HopKind::Gateway {
            if self.fault("CorruptHeader") {
                // `ClassesOf(caller)`: the classes that can damage what it writes.
                let caller = self.hop(h).caller;
                let (w3c, b3) = (self.speaks_w3c(caller), self.speaks_b3(caller));
                out.extend(
                    self.corrupt_classes
                        .iter()
                        .filter(|c| if c.is_b3() { b3 } else { w3c })
                        .map(|&c| Tp::Corrupt(c)),
                );
            }
            if self.fault("DropHeader") {
                out.push(Tp::Missing);
            }
        }
        out
    }

    /// `ViaW3C(s, hdr)`: service `svc` takes the context from the traceparent.
    pub fn via_w3c(&self, svc: Svc, hdr: &Header) -> bool {
        self.speaks_w3c(svc)
            && match hdr.tp {
                Tp::Valid => true,
                Tp::Missing => false,
                Tp::Corrupt(_) => self.bug("AcceptInvalid"),
            }
    }

    /// `ViaB3(s, hdr)`: service `svc` takes the context from the B3 headers
    /// (its composite extracts B3 first, then W3C, which wins when valid).
    pub fn via_b3(&self, svc: Svc, hdr: &Header) -> bool {
        self.speaks_b3(svc) && hdr.b3 == Tp::Valid && !self.via_w3c(svc, hdr)
    }

    /// `Accepts(s, hdr)`: the callee continues the trace of this header.
    fn accepts(&self, svc: Svc, hdr: &Header) -> bool {
        self.via_w3c(svc, hdr) || self.via_b3(svc, hdr)
    }

    /// `Readable(s, hdr)`: a valid header in a format service `svc` reads.
    pub fn readable(&self, svc: Svc, hdr: &Header) -> bool {
        (self.speaks_w3c(svc) && hdr.tp == Tp::Valid) || (self.speaks_b3(svc) && hdr.b3 == Tp::Valid)
    }

    fn server_span(&self, s: &State, m: Id) -> Span {
        let msg = s.msg(m);
        let svc = self.hop(msg.hop).callee;
        let hdr = msg.hdr;
        let fresh = self.new_id(s, svc);
        let accepts = self.accepts(svc, &hdr);
        let b3 = self.via_b3(svc, &hdr);
        let tid = if accepts && !self.bug("NewTraceIdPerHop") {
            if b3 && hdr.w64 && self.pad_right[svc as usize] { hdr.tid + PAD_OFFSET } else { hdr.tid }
        } else {
            fresh
        };
        Span {
            svc,
            tid,
            sid: fresh,
            parent: if accepts { hdr.pid } else { 0 },
            sampled: if accepts && !self.bug("NonParentBasedSampling") {
                hdr.sampled && !(b3 && hdr.dbg && self.debug_unsampled[svc as usize])
            } else {
                self.root_sample(svc, tid)
            },
            ts: self.via_w3c(svc, &hdr) && hdr.ts,
            via: m,
            st: SpanSt::Open,
            in_collector: 0,
            in_backend: 0,
        }
    }

    fn queued(&self, s: &State, svc: Svc) -> bool {
        s.spans.iter().any(|x| x.svc == svc && x.st == SpanSt::Queued)
    }

    fn export(&self, s: &State, svc: Svc, copies: u8) -> State {
        let mut next = s.clone();
        for span in next.spans.iter_mut().filter(|x| x.svc == svc && x.st == SpanSt::Queued) {
            span.st = SpanSt::Exported;
            span.in_collector += copies;
        }
        next
    }

    /// The spec's `Settled`: no span will reach a collector any more.
    pub fn settled(&self, s: &State) -> bool {
        s.root_count() == self.traces
            && s.spans.iter().all(|x| matches!(x.st, SpanSt::Closed | SpanSt::Exported | SpanSt::Dropped))
            && s.msgs.iter().all(|m| m.st != MsgSt::Inflight)
    }

    /// The spec's `Quiescent`.
    pub fn quiescent(&self, s: &State) -> bool {
        self.settled(s) && s.spans.iter().all(|x| x.in_collector == 0)
    }

    /// The spec's `TailKeeps(i)`: span `i`'s collector keeps its trace,
    /// judging by the spans of that trace it holds.
    pub fn tail_keeps(&self, s: &State, i: Id) -> bool {
        if self.tail_sampling == TailSampling::None {
            return true;
        }
        let x = s.span(i);
        let at = self.collector_of(x.svc);
        s.spans.iter().any(|y| {
            y.in_collector > 0 && self.collector_of(y.svc) == at && y.tid == x.tid && self.fails(y.svc)
        })
    }

    /// The spec's `Wanted(i)`: the sampling policies, judged on the whole
    /// trace, keep span `i` (it is sampled, and with tail sampling a sampled
    /// span of its trace has status ERROR).
    pub fn wanted(&self, s: &State, i: Id) -> bool {
        let x = s.span(i);
        x.sampled
            && (self.tail_sampling == TailSampling::None
                || s.spans.iter().any(|y| y.tid == x.tid && y.sampled && self.fails(y.svc)))
    }

    /// `Flush` is enabled: the collectors hold something, and tail-sampling
    /// collectors have waited for everything to settle.
    fn can_flush(&self, s: &State) -> bool {
        s.spans.iter().any(|x| x.in_collector > 0)
            && (self.tail_sampling == TailSampling::None || self.settled(s))
    }

    /// `Crash` is enabled. A persistent queue lets a crash interrupt the
    /// delivery of the batches it holds once (see the spec).
    fn can_crash(&self, s: &State) -> bool {
        self.fault("CollectorCrash")
            && s.spans.iter().any(|x| x.in_collector > 0)
            && (self.sending_queue == SendingQueue::Memory
                || !s.spans.iter().any(|x| x.in_collector > 0 && x.in_backend > 0))
    }

    /// The span that sent the request span i serves.
    fn sender(&self, s: &State, i: Id) -> Option<Id> {
        match s.span(i).via {
            0 => None,
            m => Some(s.msg(m).from),
        }
    }

    fn continues(&self, s: &State, i: Id) -> bool {
        let span = s.span(i);
        span.via != 0 && span.parent != 0
    }

    /// One line describing span i, for evidence.
    pub fn describe(&self, s: &State, i: Id) -> String {
        let x = s.span(i);
        let origin = match x.via {
            0 => "entered at root".to_string(),
            m => format!("serves request {m} over hop {}", s.msg(m).hop),
        };
        format!(
            "{} trace={} id={} parent={} {} {}, {origin}",
            self.service(x.svc),
            x.tid,
            x.sid,
            x.parent,
            if x.sampled { "sampled" } else { "unsampled" },
            x.st.name(),
        )
    }

    fn describe_header(&self, h: &Header) -> String {
        let sent = match (h.tp, h.b3) {
            (Tp::Missing, Tp::Missing) => return "no traceparent".to_string(),
            (tp, Tp::Missing) => format!("traceparent {}", tp.name()),
            (Tp::Missing, b3) => format!("B3 {} {}", h.fmt.name(), b3.name()),
            (tp, b3) => format!("traceparent {} and B3 {} {}", tp.name(), h.fmt.name(), b3.name()),
        };
        format!(
            "{sent} trace={}{} parent={} sampled={}{}{}",
            h.tid,
            if h.w64 { " (as 64 bits)" } else { "" },
            h.pid,
            h.sampled,
            if h.dbg { " (as debug)" } else { "" },
            if h.ts { " +tracestate" } else { "" }
        )
    }
}

// ---------------------------------------------------------------------------
// Building the model from a config.

fn tuple_of_strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Tuple(items) => items
            .iter()
            .map(|x| match x {
                Value::Str(s) | Value::ModelValue(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

impl TraceContext {
    fn build(c: &Constants) -> Result<TraceContext> {
        let bad = |name: &str, headline: String| Error::Spec(c.error(name, headline));
        let root_name = c.string("Root")?;
        let traces = c.int("Traces")?;
        if !(1..=4).contains(&traces) {
            return Err(bad("Traces", format!("Traces must be between 1 and 4, found {traces}")));
        }
        let Value::Tuple(raw_hops) = c.value("Hops")? else {
            return Err(Error::Spec(
                c.error("Hops", "Hops must be a sequence of <<caller, callee, kind>>")
                    .hint("define it in the .tla, e.g. DefaultHops == << <<\"a\", \"b\", \"http\">> >>, and write `Hops <- DefaultHops`"),
            ));
        };
        let mut triples = Vec::new();
        for (n, hop) in raw_hops.iter().enumerate() {
            match tuple_of_strings(hop).as_deref() {
                Some([a, b, k]) => triples.push((a.clone(), b.clone(), k.clone(), n + 1)),
                _ => {
                    return Err(Error::Spec(
                        c.error("Hops", format!("hop {} must be <<caller, callee, kind>> of strings", n + 1))
                            .evidence("found", hop.to_string()),
                    ));
                }
            }
        }
        if triples.len() > 12 {
            return Err(bad("Hops", format!("at most 12 hops are supported, found {}", triples.len())));
        }
        let mut names: BTreeSet<String> = triples.iter().map(|t| t.1.clone()).collect();
        names.insert(root_name.clone());
        let services: Vec<String> = names.into_iter().collect();
        let index = |name: &str| services.iter().position(|s| s == name).map(|i| i as Svc);
        let mut hops = Vec::new();
        for (caller, callee, kind, n) in &triples {
            let kind = HopKind::parse(kind).ok_or_else(|| {
                Error::Spec(
                    c.error("Hops", format!("hop {n} has unknown kind `{kind}`"))
                        .evidence("known kinds", "http, gateway, queue"),
                )
            })?;
            let caller = index(caller).ok_or_else(|| {
                Error::Spec(
                    c.error("Hops", format!("hop {n}: caller `{caller}` is neither Root nor the callee of a hop"))
                        .hint("every service is Root or is called by some hop"),
                )
            })?;
            hops.push(Hop { caller, callee: index(callee).expect("callees are services"), kind });
        }
        let mut out = vec![Vec::new(); services.len()];
        for (h, hop) in hops.iter().enumerate() {
            out[hop.caller as usize].push(h as u8 + 1);
        }
        // The call graph must be acyclic, or the state space is infinite.
        let mut state = vec![0u8; services.len()];
        fn visit(s: usize, out: &[Vec<u8>], hops: &[Hop], state: &mut [u8]) -> bool {
            if state[s] == 1 {
                return false;
            }
            if state[s] == 2 {
                return true;
            }
            state[s] = 1;
            for &h in &out[s] {
                if !visit(hops[h as usize - 1].callee as usize, out, hops, state) {
                    return false;
                }
            }
            state[s] = 2;
            true
        }
        for s in 0..services.len() {
            if !visit(s, &out, &hops, &mut state) {
                return Err(bad("Hops", format!("the call graph has a cycle through `{}`", services[s])));
            }
        }
        let member_flags = |name: &str| -> Result<Vec<bool>> {
            let members = c.strings(name)?;
            for m in &members {
                if index(m).is_none() {
                    return Err(Error::Spec(
                        c.error(name, format!("`{m}` in {name} is not a service of the call graph"))
                            .evidence("services", services.join(", ")),
                    ));
                }
            }
            Ok(services.iter().map(|s| members.contains(s)).collect())
        };
        let always_off = member_flags("AlwaysOff")?;
        let ratio = member_flags("RatioSampled")?;
        if let Some(s) = (0..services.len()).find(|&s| always_off[s] && ratio[s]) {
            return Err(bad("RatioSampled", format!("`{}` is in both AlwaysOff and RatioSampled", services[s])));
        }
        let class_names: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
        let mut corrupt_classes: Vec<Class> = c
            .names_from("CorruptClasses", &class_names)?
            .iter()
            .filter_map(|n| Class::parse(n))
            .collect();
        // TLC enumerates a set of strings in string order; so do we.
        corrupt_classes.sort_by_key(|c| c.name());
        let faults: BTreeSet<String> = c.names_from("Faults", &FAULTS)?.into_iter().collect();
        let bugs: BTreeSet<String> = c.names_from("Bugs", &BUGS)?.into_iter().collect();
        let one_of = |name: &str, known: &[&str]| -> Result<String> {
            let value = c.string(name)?;
            if known.contains(&value.as_str()) {
                Ok(value)
            } else {
                Err(Error::Spec(
                    c.error(name, format!("`{value}` is not a known {name}"))
                        .evidence("known", known.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")),
                ))
            }
        };
        let queue_names: Vec<&str> = SendingQueue::ALL.iter().map(|q| q.name()).collect();
        let sending_queue = SendingQueue::parse(&one_of("SendingQueue", &queue_names)?).expect("a known name");
        let policy_names: Vec<&str> = TailSampling::ALL.iter().map(|p| p.name()).collect();
        let tail_sampling = TailSampling::parse(&one_of("TailSampling", &policy_names)?).expect("a known name");
        if sending_queue == SendingQueue::Persistent && tail_sampling != TailSampling::None {
            return Err(Error::Spec(
                c.error("SendingQueue", "a persistent sending queue cannot be combined with tail sampling")
                    .hint("the tail-sampling processor holds traces in memory in front of the queue; the model's persistent collector has nothing in front of it"),
            ));
        }
        let failing = member_flags("ErrorServices")?;
        let to_b = member_flags("CollectorB")?;
        let b3_single = member_flags("B3Single")?;
        let b3_multi = member_flags("B3Multi")?;
        let composite = member_flags("Composite")?;
        for (a, b, x, y) in [
            ("B3Single", "B3Multi", &b3_single, &b3_multi),
            ("B3Single", "Composite", &b3_single, &composite),
            ("B3Multi", "Composite", &b3_multi, &composite),
        ] {
            if let Some(s) = (0..services.len()).find(|&s| x[s] && y[s]) {
                return Err(bad(b, format!("`{}` is in both {a} and {b}: a service has one propagator", services[s])));
            }
        }
        let pad_right = member_flags("PadRight")?;
        let debug_unsampled = member_flags("DebugUnsampled")?;
        Ok(TraceContext {
            root: index(&root_name).expect("Root is a service"),
            services,
            traces: traces as Id,
            hops,
            out,
            always_off,
            ratio,
            corrupt_classes,
            faults,
            bugs,
            sending_queue,
            tail_sampling,
            failing,
            to_b,
            b3_single,
            b3_multi,
            composite,
            pad_right,
            debug_unsampled,
        })
    }
}

// ---------------------------------------------------------------------------
// The transition relation.

impl stateright::Model for TraceContext {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![State::default()]
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
        if s.root_count() < self.traces {
            actions.push(Action::StartRoot);
        }
        for i in s.handles() {
            if s.span(i).st != SpanSt::Open || !self.answered(s, i) {
                continue;
            }
            match self.next_hop(s, i) {
                Some(h) => actions.extend(
                    self.outcomes(h).into_iter().map(|outcome| Action::Call { span: i, outcome }),
                ),
                None => actions.push(Action::End { span: i }),
            }
        }
        for m in 1..=s.msgs.len() as Id {
            let msg = s.msg(m);
            if msg.st == MsgSt::Inflight {
                actions.push(Action::Deliver { msg: m });
                if self.fault("LostRequest") {
                    actions.push(Action::LoseRequest { msg: m });
                }
            }
            if self.fault("DuplicateDelivery")
                && self.kind(s, m) == HopKind::Queue
                && msg.st == MsgSt::Handled
                && !msg.redelivered
            {
                actions.push(Action::Redeliver { msg: m });
            }
        }
        for svc in 0..self.services.len() as Svc {
            if self.queued(s, svc) {
                actions.push(Action::Export { svc });
                if self.fault("ExportRetry") {
                    actions.push(Action::ExportRetried { svc });
                }
                if self.fault("ExporterDrop") {
                    actions.push(Action::DropBatch { svc });
                }
            }
        }
        if self.can_flush(s) {
            actions.push(Action::Flush);
        }
        if self.can_crash(s) {
            actions.push(Action::Crash);
        }
    }

    fn next_state(&self, s: &State, action: Action) -> Option<State> {
        let mut next = s.clone();
        match action {
            Action::StartRoot => {
                let id = self.new_id(s, self.root);
                next.spans.push(Span {
                    svc: self.root,
                    tid: id,
                    sid: id,
                    parent: 0,
                    sampled: self.root_sample(self.root, id),
                    ts: true,
                    via: 0,
                    st: SpanSt::Open,
                    in_collector: 0,
                    in_backend: 0,
                });
            }
            Action::Call { span, outcome } => {
                let hop = self.next_hop(s, span)?;
                next.msgs.push(Msg {
                    hop,
                    from: span,
                    hdr: self.header(s.span(span), outcome),
                    st: MsgSt::Inflight,
                    redelivered: false,
                });
            }
            Action::Deliver { msg } => {
                next.spans.push(self.server_span(s, msg));
                next.msgs[msg as usize - 1].st = MsgSt::Handled;
            }
            Action::Redeliver { msg } => {
                next.spans.push(self.server_span(s, msg));
                next.msgs[msg as usize - 1].redelivered = true;
            }
            Action::LoseRequest { msg } => {
                next.msgs[msg as usize - 1].st = MsgSt::Lost;
            }
            Action::End { span } => {
                let x = &mut next.spans[span as usize - 1];
                x.st = if x.sampled { SpanSt::Queued } else { SpanSt::Closed };
                let m = x.via;
                if m != 0 && self.sync(s, m) && s.msg(m).st == MsgSt::Handled {
                    next.msgs[m as usize - 1].st = MsgSt::Replied;
                }
            }
            Action::Export { svc } => return Some(self.export(s, svc, 1)),
            Action::ExportRetried { svc } => return Some(self.export(s, svc, 2)),
            Action::DropBatch { svc } => {
                for x in next.spans.iter_mut().filter(|x| x.svc == svc && x.st == SpanSt::Queued) {
                    x.st = SpanSt::Dropped;
                }
            }
            Action::Flush => {
                for (i, x) in s.handles().zip(&mut next.spans) {
                    if self.tail_keeps(s, i) {
                        x.in_backend += x.in_collector;
                    }
                    x.in_collector = 0;
                }
            }
            Action::Crash => {
                for x in &mut next.spans {
                    match self.sending_queue {
                        SendingQueue::Memory => x.in_collector = 0,
                        SendingQueue::Persistent => x.in_backend += x.in_collector,
                    }
                }
            }
        }
        Some(next)
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        // stateright's own checkers see the same properties, as booleans.
        macro_rules! wrap {
            ($($name:ident),*) => {
                vec![$(stateright::Property::always(stringify!($name), |m: &Self, s: &State| m.$name(s).is_ok()),)*]
            };
        }
        #[allow(non_snake_case)]
        let mut props = wrap!(
            UniqueTraceId, UniqueSpanId, ParentChildCorrect, TraceIdPreserved,
            RestartOnInvalidHeader, SamplingConsistent, OneSpanPerRequest,
            NoDuplicateSpans, NoLostSpans, NoOrphanSpans
        );
        props.push(stateright::Property::eventually("EventuallyQuiescent", |m, s| m.quiescent(s)));
        props
    }
}

// ---------------------------------------------------------------------------
// Properties: the same names as in TraceContext.tla.

#[allow(non_snake_case)]
impl TraceContext {
    /// The spans as [`oracle`](crate::oracle) records: all of them, or the
    /// copies the backend holds.
    fn records(&self, s: &State, backend: bool) -> Vec<Record<Id>> {
        s.handles()
            .flat_map(|i| {
                let x = s.span(i);
                let copies = if backend { x.in_backend as usize } else { 1 };
                let record = Record {
                    trace_id: x.tid,
                    span_id: x.sid,
                    parent: (x.parent != 0).then_some(x.parent),
                    sampled: Some(x.sampled),
                    key: i as usize,
                };
                std::iter::repeat_n(record, copies)
            })
            .collect()
    }

    /// Names a record of [`Self::records`] by its position.
    fn namer<'a>(&'a self, s: &'a State, records: &'a [Record<Id>]) -> impl Fn(usize) -> (String, String) + 'a {
        move |at| {
            let i = records[at].key as Id;
            (format!("span {i}"), self.describe(s, i))
        }
    }

    /// Distinct root spans carry distinct trace ids.
    pub fn UniqueTraceId(&self, s: &State) -> Verdict {
        let records = self.records(s, false);
        oracle::unique_trace_ids(&records, &self.namer(s, &records))
    }

    /// No two spans of one trace share a span id.
    pub fn UniqueSpanId(&self, s: &State) -> Verdict {
        let records = self.records(s, false);
        oracle::unique_span_ids(&records, &self.namer(s, &records))
    }

    /// A span that continues a remote context names its caller's span as
    /// parent, in the caller's trace.
    pub fn ParentChildCorrect(&self, s: &State) -> Verdict {
        all(s.handles(), |i| {
            if !self.continues(s, i) {
                return Ok(());
            }
            let p = self.sender(s, i).expect("a continuing span serves a request");
            let (child, caller) = (s.span(i), s.span(p));
            if child.parent == caller.sid && child.tid == caller.tid {
                return Ok(());
            }
            Err(Violation::new(format!(
                "span {i} names parent {} in trace {}, but its caller is span {p} (id {} in trace {})",
                child.parent, child.tid, caller.sid, caller.tid
            ))
            .with(format!("span {i}"), self.describe(s, i))
            .with(format!("caller span {p}"), self.describe(s, p))
            .with("header received", self.describe_header(&s.msg(child.via).hdr)))
        })
    }

    /// End to end: every span started for a request is in its caller's trace.
    pub fn TraceIdPreserved(&self, s: &State) -> Verdict {
        all(s.handles(), |i| {
            let Some(p) = self.sender(s, i) else { return Ok(()) };
            let (x, caller) = (s.span(i), s.span(p));
            if x.tid == caller.tid {
                return Ok(());
            }
            Err(Violation::new(format!(
                "span {i} is in trace {}, but its caller span {p} is in trace {}",
                x.tid, caller.tid
            ))
            .with(format!("span {i}"), self.describe(s, i))
            .with(format!("caller span {p}"), self.describe(s, p))
            .with("header received", self.describe_header(&s.msg(x.via).hdr)))
        })
    }

    /// An invalid or missing traceparent starts a new trace: no parent, a
    /// trace id never seen before, no tracestate.
    pub fn RestartOnInvalidHeader(&self, s: &State) -> Verdict {
        all(s.handles(), |i| {
            let x = s.span(i);
            if x.via == 0 || self.readable(x.svc, &s.msg(x.via).hdr) {
                return Ok(());
            }
            let hdr = s.msg(x.via).hdr;
            let reused = (1..i).find(|&j| s.span(j).tid == x.tid);
            let problem = if x.parent != 0 {
                format!("span {i} continued an invalid header (parent {})", x.parent)
            } else if x.ts {
                format!("span {i} kept the tracestate of an invalid header")
            } else if let Some(j) = reused {
                format!("span {i} restarted with trace id {}, already used by span {j}", x.tid)
            } else {
                return Ok(());
            };
            Err(Violation::new(problem)
                .with(format!("span {i}"), self.describe(s, i))
                .with("header received", self.describe_header(&hdr)))
        })
    }

    /// A span that continues a remote context keeps its sampled flag.
    pub fn SamplingConsistent(&self, s: &State) -> Verdict {
        all(s.handles(), |i| {
            let x = s.span(i);
            if !self.continues(s, i) || x.sampled == s.msg(x.via).hdr.sampled {
                return Ok(());
            }
            Err(Violation::new(format!(
                "span {i} is {} although its parent's header says sampled={}",
                if x.sampled { "sampled" } else { "unsampled" },
                s.msg(x.via).hdr.sampled
            ))
            .with(format!("span {i}"), self.describe(s, i))
            .with("header received", self.describe_header(&s.msg(x.via).hdr)))
        })
    }

    /// Each request is served by one span.
    pub fn OneSpanPerRequest(&self, s: &State) -> Verdict {
        all(1..=s.msgs.len() as Id, |m| {
            let serving: Vec<Id> = s.handles().filter(|&i| s.span(i).via == m).collect();
            if serving.len() <= 1 {
                return Ok(());
            }
            let mut v = Violation::new(format!(
                "request {m} over hop {} ({}) is served by {} spans",
                s.msg(m).hop,
                self.hop(s.msg(m).hop).kind.name(),
                serving.len()
            ));
            for i in serving {
                v = v.with(format!("span {i}"), self.describe(s, i));
            }
            Err(v)
        })
    }

    /// The backend stores each span once.
    pub fn NoDuplicateSpans(&self, s: &State) -> Verdict {
        let records = self.records(s, true);
        oracle::no_duplicates(&records, &self.namer(s, &records))
    }

    /// At quiescence every span the sampling policies keep reached the
    /// backend; without tail sampling, every sampled span.
    pub fn NoLostSpans(&self, s: &State) -> Verdict {
        if !self.quiescent(s) {
            return Ok(());
        }
        all(s.handles(), |i| {
            let x = s.span(i);
            if !self.wanted(s, i) || x.in_backend > 0 {
                return Ok(());
            }
            let where_lost = if x.st == SpanSt::Dropped {
                "dropped by its exporter".to_string()
            } else if self.tail_sampling != TailSampling::None && !self.fault("CollectorCrash") {
                format!(
                    "dropped by the tail sampling of collector {:?}, which held no ERROR span of trace {}",
                    self.collector_of(x.svc),
                    x.tid
                )
            } else {
                "lost in the collector".to_string()
            };
            let what = if self.tail_sampling == TailSampling::None { "sampled span" } else { "span" };
            let mut v = Violation::new(format!("{what} {i} never reached the backend: {where_lost}"))
                .with(format!("span {i}"), self.describe(s, i));
            if self.tail_sampling != TailSampling::None {
                if let Some(j) = s.handles().find(|&j| s.span(j).tid == x.tid && s.span(j).sampled && self.fails(s.span(j).svc)) {
                    v = v.with(format!("ERROR span {j}"), self.describe(s, j));
                }
            }
            Err(v)
        })
    }

    /// At quiescence every stored span's parent is stored, in the same trace.
    pub fn NoOrphanSpans(&self, s: &State) -> Verdict {
        if !self.quiescent(s) {
            return Ok(());
        }
        let records = self.records(s, true);
        oracle::no_orphans(&records, &self.namer(s, &records))
    }

    /// The predicate of `EventuallyQuiescent == <>Quiescent`. Liveness search
    /// judges it on every state, so its refusal allocates nothing.
    pub fn EventuallyQuiescent(&self, s: &State) -> Verdict {
        if self.quiescent(s) { Ok(()) } else { Err(Violation::new("the system never becomes quiescent")) }
    }
}

// ---------------------------------------------------------------------------
// Trace files: ITF encoding of states.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItfHeader {
    tp: String,
    b3: String,
    fmt: String,
    tid: Id,
    pid: Id,
    sampled: bool,
    ts: bool,
    dbg: bool,
    w64: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ItfSpan {
    svc: String,
    tid: Id,
    sid: Id,
    parent: Id,
    sampled: bool,
    ts: bool,
    via: Id,
    st: String,
    in_collector: u8,
    in_backend: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItfMsg {
    hop: u8,
    from: Id,
    hdr: ItfHeader,
    st: String,
    redelivered: bool,
}

#[derive(Deserialize)]
struct ItfState {
    spans: Vec<ItfSpan>,
    msgs: Vec<ItfMsg>,
}

impl TraceContext {
    fn encode_header(&self, h: &Header) -> Json {
        let mut o = Map::new();
        o.insert("tp".into(), Json::from(h.tp.name()));
        o.insert("b3".into(), Json::from(h.b3.name()));
        o.insert("fmt".into(), Json::from(h.fmt.name()));
        o.insert("tid".into(), itf::int(h.tid));
        o.insert("pid".into(), itf::int(h.pid));
        o.insert("sampled".into(), Json::Bool(h.sampled));
        o.insert("ts".into(), Json::Bool(h.ts));
        o.insert("dbg".into(), Json::Bool(h.dbg));
        o.insert("w64".into(), Json::Bool(h.w64));
        Json::Object(o)
    }

    fn decode_state(&self, raw: ItfState) -> std::result::Result<State, String> {
        let svc = |name: &str| {
            self.services
                .iter()
                .position(|s| s == name)
                .map(|i| i as Svc)
                .ok_or_else(|| format!("unknown service `{name}`"))
        };
        let header = |h: ItfHeader| -> std::result::Result<Header, String> {
            let tp = Tp::parse(&h.tp).ok_or_else(|| format!("unknown header kind `{}`", h.tp))?;
            let b3 = Tp::parse(&h.b3).ok_or_else(|| format!("unknown B3 header kind `{}`", h.b3))?;
            let fmt = B3Format::parse(&h.fmt).ok_or_else(|| format!("unknown B3 format `{}`", h.fmt))?;
            Ok(Header { tp, b3, fmt, tid: h.tid, pid: h.pid, sampled: h.sampled, ts: h.ts, dbg: h.dbg, w64: h.w64 })
        };
        let span_st = |n: &str| {
            SpanSt::parse(n).ok_or_else(|| format!("unknown span status `{n}`"))
        };
        let msg_st = |n: &str| {
            MsgSt::parse(n).ok_or_else(|| format!("unknown request status `{n}`"))
        };
        let spans = raw
            .spans
            .into_iter()
            .map(|x| {
                Ok(Span {
                    svc: svc(&x.svc)?,
                    tid: x.tid,
                    sid: x.sid,
                    parent: x.parent,
                    sampled: x.sampled,
                    ts: x.ts,
                    via: x.via,
                    st: span_st(&x.st)?,
                    in_collector: x.in_collector,
                    in_backend: x.in_backend,
                })
            })
            .collect::<std::result::Result<Vec<_>, String>>()?;
        let msgs = raw
            .msgs
            .into_iter()
            .map(|m| {
                if m.hop == 0 || m.hop as usize > self.hops.len() {
                    return Err(format!("request names hop {}, which the call graph lacks", m.hop));
                }
                if m.from == 0 || m.from as usize > spans.len() {
                    return Err(format!("request names span {}, which does not exist", m.from));
                }
                Ok(Msg { hop: m.hop, from: m.from, hdr: header(m.hdr)?, st: msg_st(&m.st)?, redelivered: m.redelivered })
            })
            .collect::<std::result::Result<Vec<_>, String>>()?;
        if let Some(x) = spans.iter().find(|x| x.via as usize > msgs.len()) {
            return Err(format!("a span serves request {}, which does not exist", x.via));
        }
        Ok(State { spans, msgs })
    }
}

impl SpecModel for TraceContext {
    const MODULE: &'static str = "TraceContext";
    const VARIABLES: &'static [&'static str] = &["spans", "msgs"];
    const CONSTANTS: &'static [&'static str] = &[
        "Root",
        "Traces",
        "Hops",
        "AlwaysOff",
        "RatioSampled",
        "CorruptClasses",
        "Faults",
        "Bugs",
        "SendingQueue",
        "TailSampling",
        "ErrorServices",
        "CollectorB",
        "B3Single",
        "B3Multi",
        "Composite",
        "PadRight",
        "DebugUnsampled",
    ];

    fn from_constants(constants: &Constants) -> Result<Self> {
        TraceContext::build(constants)
    }

    fn behaviours() -> Vec<Behaviour> {
        vec![
            Behaviour::Specification { name: "Spec", fairness: Fairness::WeakNext },
            Behaviour::InitNext { init: "Init", next: "Next" },
        ]
    }

    fn property_defs() -> Vec<PropertyDef<Self>> {
        macro_rules! invariants {
            ($($name:ident),*) => {
                vec![$(PropertyDef { name: stringify!($name), kind: PropertyKind::Invariant, judge: Self::$name },)*]
            };
        }
        let mut defs = invariants!(
            UniqueTraceId, UniqueSpanId, ParentChildCorrect, TraceIdPreserved,
            RestartOnInvalidHeader, SamplingConsistent, OneSpanPerRequest,
            NoDuplicateSpans, NoLostSpans, NoOrphanSpans
        );
        defs.push(PropertyDef {
            name: "EventuallyQuiescent",
            kind: PropertyKind::Eventually,
            judge: Self::EventuallyQuiescent,
        });
        defs
    }

    const RANKED: bool = true;

    /// Every action adds a span or a request, or moves a status forward, or
    /// moves copies out of the collector; the weights make each such change
    /// outweigh the copies an export adds to the collector.
    fn rank(&self, s: &State) -> u64 {
        let span_st = |st: SpanSt| match st {
            SpanSt::Open => 0,
            SpanSt::Closed | SpanSt::Queued => 1,
            SpanSt::Exported | SpanSt::Dropped => 2,
        };
        let msg_st = |st: MsgSt| match st {
            MsgSt::Inflight => 0,
            MsgSt::Handled | MsgSt::Lost => 1,
            MsgSt::Replied => 2,
        };
        let mut r: i64 = 1 << 20;
        r += 8 * (s.spans.len() + s.msgs.len()) as i64;
        for x in &s.spans {
            r += 4 * span_st(x.st) + i64::from(x.in_backend) - i64::from(x.in_collector);
        }
        for m in &s.msgs {
            r += 4 * msg_st(m.st) + 4 * i64::from(m.redelivered);
        }
        r as u64
    }

    fn label(&self, action: &Action) -> String {
        match action {
            Action::StartRoot => "StartRoot".to_string(),
            Action::Call { span, outcome } => format!("Call(i={span}, header={})", outcome.name()),
            Action::End { span } => format!("End(i={span})"),
            Action::Deliver { msg } => format!("Deliver(m={msg})"),
            Action::Redeliver { msg } => format!("Redeliver(m={msg})"),
            Action::LoseRequest { msg } => format!("LoseRequest(m={msg})"),
            Action::Export { svc } => format!("Export(s={})", self.service(*svc)),
            Action::ExportRetried { svc } => format!("ExportRetried(s={})", self.service(*svc)),
            Action::DropBatch { svc } => format!("DropBatch(s={})", self.service(*svc)),
            Action::Flush => "Flush".to_string(),
            Action::Crash => "Crash".to_string(),
        }
    }

    fn encode(&self, s: &State) -> Map<String, Json> {
        let spans = s
            .spans
            .iter()
            .map(|x| {
                let mut o = Map::new();
                o.insert("svc".into(), Json::from(self.service(x.svc)));
                o.insert("tid".into(), itf::int(x.tid));
                o.insert("sid".into(), itf::int(x.sid));
                o.insert("parent".into(), itf::int(x.parent));
                o.insert("sampled".into(), Json::Bool(x.sampled));
                o.insert("ts".into(), Json::Bool(x.ts));
                o.insert("via".into(), itf::int(x.via));
                o.insert("st".into(), Json::from(x.st.name()));
                o.insert("inCollector".into(), itf::int(x.in_collector));
                o.insert("inBackend".into(), itf::int(x.in_backend));
                Json::Object(o)
            })
            .collect();
        let msgs = s
            .msgs
            .iter()
            .map(|m| {
                let mut o = Map::new();
                o.insert("hop".into(), itf::int(m.hop));
                o.insert("from".into(), itf::int(m.from));
                o.insert("hdr".into(), self.encode_header(&m.hdr));
                o.insert("st".into(), Json::from(m.st.name()));
                o.insert("redelivered".into(), Json::Bool(m.redelivered));
                Json::Object(o)
            })
            .collect();
        let mut vars = Map::new();
        vars.insert("spans".into(), Json::Array(spans));
        vars.insert("msgs".into(), Json::Array(msgs));
        vars
    }

    fn decode(&self, state: &Json) -> std::result::Result<State, String> {
        let raw: ItfState = itf::from_value(state)?;
        self.decode_state(raw)
    }

    fn mermaid(&self, path: &[(Option<Action>, State)], violation: Option<(&str, &Violation)>) -> String {
        let mut out = String::from("sequenceDiagram\n");
        // Participants in call order: the root, then callees as the hops name them.
        let mut order = vec![self.root];
        for hop in &self.hops {
            if !order.contains(&hop.callee) {
                order.push(hop.callee);
            }
        }
        for &svc in &order {
            let _ = writeln!(out, "    participant {}", self.service(svc));
        }
        // One collector, or collectors A and B when some service exports to B.
        let collector = |svc: Svc| -> &'static str {
            match (self.two_collectors(), self.collector_of(svc)) {
                (false, _) => "collector",
                (true, Collector::A) => "collectorA",
                (true, Collector::B) => "collectorB",
            }
        };
        if self.two_collectors() {
            out.push_str("    participant collectorA\n    participant collectorB\n");
        } else {
            out.push_str("    participant collector\n");
        }
        out.push_str("    participant backend\n");
        for window in path.windows(2) {
            let (before, (action, after)) = (&window[0].1, (&window[1].0, &window[1].1));
            let Some(action) = action else { continue };
            let line = match action {
                Action::StartRoot => {
                    let x = after.spans.last().expect("StartRoot adds a span");
                    format!(
                        "    Note over {svc}: span {n} starts trace {tid} (root, {sampled})",
                        svc = self.service(x.svc),
                        n = after.spans.len(),
                        tid = x.tid,
                        sampled = if x.sampled { "sampled" } else { "unsampled" }
                    )
                }
                Action::Call { span, .. } => {
                    let m = after.msgs.last().expect("Call adds a request");
                    let hop = self.hop(m.hop);
                    let arrow = if hop.kind == HopKind::Queue { "-)" } else { "->>" };
                    let header = match m.hdr.tp {
                        Tp::Missing => "no traceparent".to_string(),
                        Tp::Valid => format!(
                            "traceparent 00-{:032x}-{:016x}-{:02x}",
                            m.hdr.tid, m.hdr.pid, u8::from(m.hdr.sampled)
                        ),
                        Tp::Corrupt(c) => format!("corrupt traceparent ({})", c.name()),
                    };
                    format!(
                        "    {}{arrow}{}: request {} ({}) from span {span}: {header}",
                        self.service(hop.caller),
                        self.service(hop.callee),
                        after.msgs.len(),
                        hop.kind.name()
                    )
                }
                Action::Deliver { msg } | Action::Redeliver { msg } => {
                    let x = after.spans.last().expect("delivery adds a span");
                    let again = if matches!(action, Action::Redeliver { .. }) { "redelivered: " } else { "" };
                    let how = if x.parent == 0 { "restarts as trace" } else { "continues trace" };
                    format!(
                        "    Note over {svc}: {again}request {msg} → span {n} {how} {tid}, parent {parent}, {sampled}",
                        svc = self.service(x.svc),
                        n = after.spans.len(),
                        tid = x.tid,
                        parent = x.parent,
                        sampled = if x.sampled { "sampled" } else { "unsampled" }
                    )
                }
                Action::End { span } => {
                    let x = after.span(*span);
                    let m = x.via;
                    if m != 0 && before.msg(m).st == MsgSt::Handled && after.msg(m).st == MsgSt::Replied {
                        let hop = self.hop(after.msg(m).hop);
                        format!(
                            "    {}-->>{}: reply to request {m} (span {span} ends)",
                            self.service(hop.callee),
                            self.service(hop.caller)
                        )
                    } else {
                        format!("    Note over {}: span {span} ends", self.service(x.svc))
                    }
                }
                Action::Export { svc } | Action::ExportRetried { svc } => {
                    let ids: Vec<String> = before
                        .handles()
                        .filter(|&i| before.span(i).svc == *svc && before.span(i).st == SpanSt::Queued)
                        .map(|i| i.to_string())
                        .collect();
                    let twice = if matches!(action, Action::ExportRetried { .. }) { " (reply lost, sent twice)" } else { "" };
                    format!("    {}->>{}: export spans {}{twice}", self.service(*svc), collector(*svc), ids.join(", "))
                }
                Action::LoseRequest { msg } => {
                    let hop = self.hop(after.msg(*msg).hop);
                    format!(
                        "    {}-x{}: request {msg} lost in the network",
                        self.service(hop.caller),
                        self.service(hop.callee)
                    )
                }
                Action::DropBatch { svc } => format!("    Note over {}: exporter drops its batch", self.service(*svc)),
                Action::Flush if self.tail_sampling == TailSampling::None => "    collector->>backend: flush".to_string(),
                Action::Flush => {
                    // Per collector: the spans it forwards and the spans its policy drops.
                    let mut lines = Vec::new();
                    let names: &[&str] = if self.two_collectors() { &["collectorA", "collectorB"] } else { &["collector"] };
                    for (k, &name) in names.iter().enumerate() {
                        let at = if k == 0 { Collector::A } else { Collector::B };
                        let held: Vec<Id> = before
                            .handles()
                            .filter(|&i| before.span(i).in_collector > 0 && self.collector_of(before.span(i).svc) == at)
                            .collect();
                        let list = |keep: bool| -> String {
                            held.iter().filter(|&&i| self.tail_keeps(before, i) == keep).map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
                        };
                        let (kept, dropped) = (list(true), list(false));
                        if !kept.is_empty() {
                            lines.push(format!("    {name}->>backend: tail sampling (status_code ERROR) keeps spans {kept}"));
                        }
                        if !dropped.is_empty() {
                            lines.push(format!("    Note over {name}: tail sampling (status_code ERROR) drops spans {dropped}: no ERROR span of their trace here"));
                        }
                    }
                    lines.join("\n")
                }
                Action::Crash if self.sending_queue == SendingQueue::Memory => {
                    "    Note over collector: crash, batches in memory lost".to_string()
                }
                Action::Crash => {
                    let ids: Vec<String> =
                        before.handles().filter(|&i| before.span(i).in_collector > 0).map(|i| i.to_string()).collect();
                    format!(
                        "    collector->>backend: sends spans {ids}, stored\n    Note over collector: crash before the persistent queue marks them done: still on disk, sent again after restart",
                        ids = ids.join(", ")
                    )
                }
            };
            out.push_str(&line);
            out.push('\n');
        }
        if let Some((name, v)) = violation {
            let first = self.service(self.root);
            let _ = writeln!(out, "    Note over {first},backend: {name} violated: {}", mermaid_text(&v.headline));
        }
        out
    }
}

/// Mermaid note text may not hold `;` or `#`, which end or escape a line.
fn mermaid_text(s: &str) -> String {
    s.replace(';', ",").replace('#', "no. ")
}
