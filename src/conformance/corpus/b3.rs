//! The B3 cases of `conform --corpus`: incoming B3 headers, read by a
//! service whose propagator is the SDK's own B3 propagator (`b3`, injecting
//! the single header, or `b3multi`, injecting the multiple headers), judged
//! against the strict reference [`crate::b3`].
//!
//! What is judged, in the order of the stages:
//!
//! - extraction: continue or restart as the reference says; when both
//!   continue, the 128-bit trace id (a 64-bit one widened on the left), the
//!   parent span id and the sampling decision (debug implies accept; a
//!   deferred decision is the receiver's, so not judged); a sampling
//!   decision without ids (`b3: 0`) holds for the new trace;
//! - injection: the child's headers in the propagator's one form, carrying
//!   the child's ids and sampling decision, and no W3C header;
//! - round trip: the injected headers extracted again give the child back.
//!
//! Classes are `b3/<propagator>/<what>`, e.g.
//! `b3/b3multi/rejects-valid/single-debug`: the propagator is part of the
//! class, since an SDK's two B3 configurations may read differently.

use std::collections::BTreeMap;

use crate::b3::{self, Extracted, Sampling};
use crate::headers::Carrier;

use super::{CaseOutcome, Finding, Layer, Observation, Outcome, Reference};

/// The B3 propagator a case is read with, as `configure` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Reader {
    /// `b3`: injects the single header.
    Single,
    /// `b3multi`: injects the multiple headers.
    Multi,
}

impl Reader {
    pub const ALL: [Reader; 2] = [Reader::Single, Reader::Multi];

    pub fn name(self) -> &'static str {
        match self {
            Reader::Single => "b3",
            Reader::Multi => "b3multi",
        }
    }

    pub fn parse(name: &str) -> Option<Reader> {
        Reader::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The propagator a case's B3 headers are read by when the case names
    /// none: the one whose form they are (`b3` for a single header).
    pub fn implied_by(headers: &BTreeMap<String, String>) -> Reader {
        if headers.contains_key(b3::SINGLE) { Reader::Single } else { Reader::Multi }
    }

    /// The corpus service whose propagator this is.
    pub fn service(self) -> &'static str {
        match self {
            Reader::Single => "corpus-b3",
            Reader::Multi => "corpus-b3multi",
        }
    }
}

/// The rule a continued B3 context is judged by.
pub const CONTINUE_RULE: &str = "B3 Overall Process: a valid TraceId and SpanId continue the trace";
const DEBUG_RULE: &str = "B3 Debug Flag: debug implies an accept decision";
const SAMPLED_RULE: &str = "B3 Sampling State: 1 accept, 0 deny";
const WIDEN_RULE: &str = "B3 TraceId: a 64-bit TraceId is the 128-bit one with zeros on the left";
const SAMPLING_ONLY_RULE: &str = "B3 Sampling State: a decision without identifiers holds for the new trace";
const INJECT_RULE: &str = "OpenTelemetry B3 Inject: b3 writes the single header, b3multi the multiple headers";

/// A sampling decision as a class names it.
pub fn sampling_name(s: Sampling) -> &'static str {
    match s {
        Sampling::Accept => "accept",
        Sampling::Deny => "deny",
        Sampling::Debug => "debug",
        Sampling::Deferred => "deferred",
    }
}

/// `rejects-valid/<form>-<sampling>[-64]`: an SDK restarts where the
/// reference continues `cx`, read from the single header (`single`) or the
/// multiple headers.
pub fn rejects_valid(cx: &b3::Context, single: bool) -> String {
    let form = if single { "single" } else { "multi" };
    let width = if cx.trace_id.len() == 16 { "-64" } else { "" };
    format!("rejects-valid/{form}-{}{width}", sampling_name(cx.sampling))
}

/// `accepts-invalid/<why>`: an SDK continues where the reference restarts.
pub fn accepts_invalid(why: &b3::Invalid) -> String {
    format!("accepts-invalid/{}", why.name())
}

/// The B3 headers among `headers`, by lower-case name.
pub fn b3_headers<'a>(headers: impl IntoIterator<Item = (&'a String, &'a String)>) -> BTreeMap<String, String> {
    headers
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .filter(|(name, _)| name == b3::SINGLE || name.starts_with("x-b3-"))
        .collect()
}

/// What the reference decides for a B3 case, in the table's words.
pub fn reference(carrier: &Carrier) -> Reference {
    let (trace, trace_detail, trace_rule) = match carrier.b3_reference() {
        Extracted::Absent => ("restart", "no B3 header".to_string(), CONTINUE_RULE),
        Extracted::SamplingOnly(s) => ("restart", format!("a sampling decision alone: {}", sampling_name(s)), SAMPLING_ONLY_RULE),
        Extracted::Continue(cx) => ("continue", format!("{} {} {}", cx.trace_id_128(), cx.span_id, sampling_name(cx.sampling)), CONTINUE_RULE),
        Extracted::Restart(why) => ("restart", why.to_string(), why.rule()),
    };
    Reference {
        trace,
        trace_detail,
        trace_rule,
        tracestate: "absent",
        tracestate_detail: String::new(),
        tracestate_rule: "B3 carries no tracestate",
    }
}

/// Names every difference between what the reference decides for the B3
/// headers of `carrier`, read by `reader`, and what the SDK did.
pub fn classify(carrier: &Carrier, reader: Reader, seen: &Observation) -> Vec<Finding> {
    let mut found = Vec::new();
    if let Some(status) = &seen.refused {
        let code = status.split(' ').nth(1).unwrap_or("no-status");
        found.push(Finding { class: format!("http/refused/{code}"), rule: super::REFUSED_RULE, layer: Layer::Propagator });
        return found;
    }
    let mut push = |what: String, rule: &'static str| {
        found.push(Finding { class: format!("b3/{}/{what}", reader.name()), rule, layer: Layer::Propagator })
    };
    let reference = carrier.b3_reference();
    let single = carrier.b3.contains_key(b3::SINGLE);
    match (&reference, seen.continued) {
        (Extracted::Continue(cx), false) => push(rejects_valid(cx, single), CONTINUE_RULE),
        (Extracted::Restart(why), true) => push(accepts_invalid(why), why.rule()),
        (Extracted::Absent | Extracted::SamplingOnly(_), true) => push("accepts-invalid/NoIds".into(), CONTINUE_RULE),
        (Extracted::SamplingOnly(s), false) => {
            if let Some(want) = s.sampled()
                && seen.child.sampled != want
            {
                push(format!("ignores/sampling-only-{}", sampling_name(*s)), SAMPLING_ONLY_RULE);
            }
        }
        (Extracted::Continue(cx), true) => {
            let wide = cx.trace_id_128();
            if seen.trace_id != wide || seen.child.trace_id != wide {
                let right = format!("{}{}", cx.trace_id, "0".repeat(32 - cx.trace_id.len()));
                if cx.trace_id.len() == 16 && seen.trace_id == right {
                    push("differs/trace-id-padded-right".into(), WIDEN_RULE);
                } else {
                    push("differs/trace-id".into(), CONTINUE_RULE);
                }
            }
            if seen.parent_id != cx.span_id || seen.child.exported_parent.as_ref().is_some_and(|p| *p != cx.span_id) {
                push("differs/span-id".into(), CONTINUE_RULE);
            }
            if let Some(want) = cx.sampling.sampled()
                && (seen.sampled != want || seen.child.sampled != want)
            {
                let rule = if cx.sampling == Sampling::Debug { DEBUG_RULE } else { SAMPLED_RULE };
                push(format!("differs/sampled-{}", sampling_name(cx.sampling)), rule);
            }
        }
        (Extracted::Absent | Extracted::Restart(_), false) => {}
    }

    // The child's headers: this propagator's one form, the child's ids
    // (over HTTP, the client span's) and decision, no W3C header.
    let sender = seen.client_span.as_ref().map_or(seen.child.span_id.as_str(), |c| c.span_id.as_str());
    let injected = Carrier { b3: seen.injected_b3.clone(), ..Carrier::new(&[], &[]) };
    let has_single = injected.b3.contains_key(b3::SINGLE);
    let has_multi = injected.b3.keys().any(|k| k != b3::SINGLE);
    let form_ok = match reader {
        Reader::Single => has_single && !has_multi,
        Reader::Multi => has_multi && !has_single,
    };
    if !form_ok {
        let written = match (has_single, has_multi) {
            (true, true) => "both",
            (true, false) => "single",
            (false, true) => "multi",
            (false, false) => "none",
        };
        push(format!("inject/form-{written}"), INJECT_RULE);
    }
    if seen.injected_traceparent.is_some() || seen.injected_tracestate.is_some() {
        push("inject/w3c-written".into(), INJECT_RULE);
    }
    match injected.b3_reference() {
        Extracted::Continue(cx) => {
            if cx.trace_id != seen.child.trace_id || cx.span_id != sender {
                push("inject/ids".into(), CONTINUE_RULE);
            }
            if cx.sampling.sampled() != Some(seen.child.sampled) {
                push(format!("inject/sampling-{}", sampling_name(cx.sampling)), SAMPLED_RULE);
            }
        }
        Extracted::Restart(why) => push(format!("inject/invalid/{}", why.name()), why.rule()),
        Extracted::Absent | Extracted::SamplingOnly(_) if has_single || has_multi => push("inject/no-ids".into(), CONTINUE_RULE),
        Extracted::Absent | Extracted::SamplingOnly(_) => {}
    }

    // B3 carries no tracestate.
    if let Some(broken) = seen.round_trip.broken(&seen.child, sender, false) {
        let what = broken.named(["context", "trace-id", "span-id", "sampled", "tracestate"]);
        push(format!("roundtrip/unstable/{what}"), CONTINUE_RULE);
    }
    found
}

/// The cross-SDK B3 table of a corpus run (empty when it has no B3 case):
/// per B3 case, what the reference decides and what each SDK's B3
/// propagator did — `continue` or `restart`, and whether the child was
/// sampled (`s`) or not (`u`); `*` marks a cell with a disagreement.
pub fn render_table(outcome: &Outcome, subjects: &[(String, String)]) -> String {
    let cases: Vec<&CaseOutcome> = outcome.cases.iter().filter(|c| c.case.reader.is_some()).collect();
    if cases.is_empty() {
        return String::new();
    }
    let flag = |sampled: Option<bool>| match sampled {
        Some(true) => " s",
        Some(false) => " u",
        None => " ?",
    };
    let width = cases.iter().map(|c| c.case.name.len()).max().unwrap_or(4).max(4);
    let mut out = String::from("\nB3 cases, by propagator (continue/restart; the child s sampled, u unsampled, ? the receiver's choice; * a disagreement):\n");
    out.push_str(&format!("{:<width$}  {:<8} {:<12}", "case", "read by", "reference"));
    for (s, _) in subjects {
        out.push_str(&format!("  {s:<11}"));
    }
    out.push('\n');
    for c in cases {
        let reader = c.case.reader.map_or("", Reader::name);
        let reference = match c.case.carrier.b3_reference() {
            Extracted::Continue(cx) => format!("continue{}", flag(cx.sampling.sampled())),
            Extracted::SamplingOnly(s) => format!("restart{}", flag(s.sampled())),
            Extracted::Absent | Extracted::Restart(_) => "restart".to_string(),
        };
        out.push_str(&format!("{:<width$}  {reader:<8} {reference:<12}", c.case.name));
        for r in &c.results {
            let seen = &r.observation;
            let mut cell = match &seen.refused {
                Some(_) => "refused".to_string(),
                None => format!("{}{}", if seen.continued { "continue" } else { "restart" }, flag(Some(seen.child.sampled))),
            };
            if !r.findings.is_empty() {
                cell.push('*');
            }
            out.push_str(&format!("  {cell:<11}"));
        }
        out.push('\n');
    }
    out
}
