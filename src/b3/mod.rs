//! B3 propagation (openzipkin/b3-propagation), strictly: the reference the
//! SDKs' B3 propagators are judged against, the sibling of [`crate::w3c`].
//!
//! Single header: `b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]`,
//! or `b3: {SamplingState}` alone (a sampling decision without ids). Multi
//! header: `x-b3-traceid`, `x-b3-spanid`, `x-b3-parentspanid`, `x-b3-sampled`,
//! `x-b3-flags`. A trace id is 16 or 32 lower-case hex digits, a span or parent
//! span id 16; ids that are all zero name no span (as in every tracer that
//! reads B3, and OpenTelemetry's invalid span context). The single-header
//! sampling state is `1` (accept), `0` (deny) or `d` (debug); the multi-header
//! `x-b3-sampled` is `1` or `0`, and `x-b3-flags: 1` is debug, which implies
//! accept. A 64-bit trace id is widened to 128 bits by padding zeros on the
//! left. When both forms are present, the single header wins (OpenTelemetry's
//! B3 propagator specification); a single header that is invalid makes the
//! extraction fail, it does not fall back to the multi headers.

use std::fmt;

/// A sampling decision as B3 carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sampling {
    Accept,
    Deny,
    /// Debug: force the trace to be recorded; implies accept.
    Debug,
    /// No decision: the receiver decides.
    Deferred,
}

impl Sampling {
    /// Whether the receiver's span is sampled: `None` when deferred.
    pub fn sampled(self) -> Option<bool> {
        match self {
            Sampling::Accept | Sampling::Debug => Some(true),
            Sampling::Deny => Some(false),
            Sampling::Deferred => None,
        }
    }
}

/// A trace context read from B3 headers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Context {
    /// The trace id as received: 16 or 32 lower-case hex digits.
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub sampling: Sampling,
}

impl Context {
    /// The 128-bit trace id: a 64-bit one padded with zeros on the left.
    pub fn trace_id_128(&self) -> String {
        if self.trace_id.len() == 16 { format!("{}{}", "0".repeat(16), self.trace_id) } else { self.trace_id.clone() }
    }

    /// The single-header form.
    pub fn to_single(&self) -> String {
        let mut out = format!("{}-{}", self.trace_id, self.span_id);
        let state = match self.sampling {
            Sampling::Accept => Some("1"),
            Sampling::Deny => Some("0"),
            Sampling::Debug => Some("d"),
            Sampling::Deferred => None,
        };
        if let Some(state) = state {
            out.push('-');
            out.push_str(state);
            if let Some(parent) = &self.parent_span_id {
                out.push('-');
                out.push_str(parent);
            }
        }
        out
    }

    /// The multi-header form, names in lower case. Debug is sent as
    /// `x-b3-flags: 1` without `x-b3-sampled` (debug implies accept).
    pub fn to_multi(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![(TRACE_ID, self.trace_id.clone()), (SPAN_ID, self.span_id.clone())];
        if let Some(parent) = &self.parent_span_id {
            out.push((PARENT_SPAN_ID, parent.clone()));
        }
        match self.sampling {
            Sampling::Accept => out.push((SAMPLED, "1".into())),
            Sampling::Deny => out.push((SAMPLED, "0".into())),
            Sampling::Debug => out.push((FLAGS, "1".into())),
            Sampling::Deferred => {}
        }
        out
    }
}

pub const SINGLE: &str = "b3";
pub const TRACE_ID: &str = "x-b3-traceid";
pub const SPAN_ID: &str = "x-b3-spanid";
pub const PARENT_SPAN_ID: &str = "x-b3-parentspanid";
pub const SAMPLED: &str = "x-b3-sampled";
pub const FLAGS: &str = "x-b3-flags";

/// Why B3 headers give no trace context; each names the rule it breaks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Invalid {
    /// The single header has an empty field or more than four fields.
    SingleFields,
    /// A trace id that is not 16 or 32 lower-case hex digits.
    TraceId,
    /// An all-zero trace id.
    ZeroTraceId,
    /// A span id that is not 16 lower-case hex digits.
    SpanId,
    /// An all-zero span id.
    ZeroSpanId,
    /// A parent span id that is not 16 lower-case hex digits (or all zero).
    ParentSpanId,
    /// A sampling state that is not `1`, `0` or `d` (single), `1` or `0`
    /// (multi).
    SamplingState,
    /// `x-b3-traceid` without `x-b3-spanid`, or the other way round.
    MissingId,
}

impl Invalid {
    /// The rule of the B3 specification the input breaks.
    pub fn rule(&self) -> &'static str {
        match self {
            Invalid::SingleFields => "B3 single header: b3={TraceId}-{SpanId}-{SamplingState}-{ParentSpanId}",
            Invalid::TraceId | Invalid::ZeroTraceId => "B3 TraceId: 64 or 128-bit, 16 or 32 lower-hex characters",
            Invalid::SpanId | Invalid::ZeroSpanId => "B3 SpanId: 64-bit, 16 lower-hex characters",
            Invalid::ParentSpanId => "B3 ParentSpanId: 64-bit, 16 lower-hex characters",
            Invalid::SamplingState => "B3 Sampling State: 1 accept, 0 deny, d debug (single header)",
            Invalid::MissingId => "B3 multiple headers: X-B3-TraceId and X-B3-SpanId are required",
        }
    }

    /// A short name for classes (`b3/accepts-invalid/<name>`).
    pub fn name(&self) -> &'static str {
        match self {
            Invalid::SingleFields => "SingleFields",
            Invalid::TraceId => "TraceId",
            Invalid::ZeroTraceId => "ZeroTraceId",
            Invalid::SpanId => "SpanId",
            Invalid::ZeroSpanId => "ZeroSpanId",
            Invalid::ParentSpanId => "ParentSpanId",
            Invalid::SamplingState => "SamplingState",
            Invalid::MissingId => "MissingId",
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.rule())
    }
}

/// What a receiver does with the B3 headers of a request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Extracted {
    /// No B3 header at all.
    Absent,
    /// A sampling decision without ids (`b3: 0`, or only `x-b3-sampled`):
    /// no trace to continue, but the decision holds for the new root.
    SamplingOnly(Sampling),
    /// A trace context to continue.
    Continue(Context),
    /// Invalid headers: the receiver starts a new trace.
    Restart(Invalid),
}

fn is_lower_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn all_zero(s: &str) -> bool {
    s.bytes().all(|b| b == b'0')
}

fn trace_id(s: &str) -> Result<String, Invalid> {
    if !(s.len() == 16 || s.len() == 32) || !is_lower_hex(s) {
        return Err(Invalid::TraceId);
    }
    if all_zero(s) {
        return Err(Invalid::ZeroTraceId);
    }
    Ok(s.to_string())
}

fn span_id(s: &str) -> Result<String, Invalid> {
    if s.len() != 16 || !is_lower_hex(s) {
        return Err(Invalid::SpanId);
    }
    if all_zero(s) {
        return Err(Invalid::ZeroSpanId);
    }
    Ok(s.to_string())
}

fn parent_span_id(s: &str) -> Result<String, Invalid> {
    if s.len() != 16 || !is_lower_hex(s) || all_zero(s) {
        return Err(Invalid::ParentSpanId);
    }
    Ok(s.to_string())
}

fn single_state(s: &str) -> Result<Sampling, Invalid> {
    match s {
        "1" => Ok(Sampling::Accept),
        "0" => Ok(Sampling::Deny),
        "d" => Ok(Sampling::Debug),
        _ => Err(Invalid::SamplingState),
    }
}

/// Reads a single `b3` header value.
pub fn parse_single(value: &str) -> Extracted {
    let fields: Vec<&str> = value.split('-').collect();
    if fields.iter().any(|f| f.is_empty()) || fields.len() > 4 {
        return Extracted::Restart(Invalid::SingleFields);
    }
    let read = || -> Result<Extracted, Invalid> {
        if let [state] = fields.as_slice() {
            return Ok(Extracted::SamplingOnly(single_state(state)?));
        }
        let trace_id = trace_id(fields[0])?;
        let span_id = span_id(fields[1])?;
        let sampling = match fields.get(2) {
            Some(state) => single_state(state)?,
            None => Sampling::Deferred,
        };
        let parent_span_id = fields.get(3).map(|p| parent_span_id(p)).transpose()?;
        Ok(Extracted::Continue(Context { trace_id, span_id, parent_span_id, sampling }))
    };
    read().unwrap_or_else(Extracted::Restart)
}

/// The multi headers' values, each `None` when absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Multi<'a> {
    pub trace_id: Option<&'a str>,
    pub span_id: Option<&'a str>,
    pub parent_span_id: Option<&'a str>,
    pub sampled: Option<&'a str>,
    pub flags: Option<&'a str>,
}

/// Reads the multi headers.
pub fn parse_multi(m: &Multi<'_>) -> Extracted {
    let sampling = || -> Result<Sampling, Invalid> {
        // Debug implies accept; any other flags value is ignored.
        if m.flags == Some("1") {
            return Ok(Sampling::Debug);
        }
        match m.sampled {
            Some("1") => Ok(Sampling::Accept),
            Some("0") => Ok(Sampling::Deny),
            Some(_) => Err(Invalid::SamplingState),
            None => Ok(Sampling::Deferred),
        }
    };
    let read = || -> Result<Extracted, Invalid> {
        match (m.trace_id, m.span_id) {
            (None, None) => {
                if m.parent_span_id.is_some() {
                    return Err(Invalid::MissingId);
                }
                Ok(match sampling()? {
                    Sampling::Deferred => Extracted::Absent,
                    decided => Extracted::SamplingOnly(decided),
                })
            }
            (Some(t), Some(s)) => {
                let trace_id = trace_id(t)?;
                let span_id = span_id(s)?;
                let parent_span_id = m.parent_span_id.map(parent_span_id).transpose()?;
                Ok(Extracted::Continue(Context { trace_id, span_id, parent_span_id, sampling: sampling()? }))
            }
            _ => Err(Invalid::MissingId),
        }
    };
    read().unwrap_or_else(Extracted::Restart)
}

/// Reads a request's B3 headers (names in lower case, one value each): the
/// single header when present, else the multi headers.
pub fn extract(single: Option<&str>, multi: &Multi<'_>) -> Extracted {
    match single {
        Some(value) => parse_single(value),
        None => parse_multi(multi),
    }
}
