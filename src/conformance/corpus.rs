//! `conform --corpus`: concrete incoming carriers, one per file, run through
//! every SDK and held against the strict reference ([`crate::w3c`]).
//!
//! For each case and SDK the SDK extracts the carrier, starts a child span
//! under what it extracted, injects the child's headers, ends the child (so
//! that a sampled child's exported parent can be read back) and extracts what
//! it injected once more. What it did is an [`Observation`]; where it differs
//! from what the reference decides, the difference is named by the classes of
//! [`crate::differential`], computed by the same functions
//! ([`differential::tracestate_class`], [`differential::inject_traceparent_class`],
//! …), so that one entry of `conformance/expectations.json` covers a finding
//! of the fuzzers, of the random walks and of the corpus alike.
//!
//! Two things the in-process differential sees are out of the protocol's
//! reach, so the corpus judges them through the child instead: the full
//! flags of the extracted context (the protocol reports `sampled` only; the
//! random flag is read from the child's `traceparent`), and the headers for
//! the extracted context itself (the protocol injects spans, not contexts;
//! the child carries the extracted `tracestate` unchanged, so its headers
//! show what the SDK forwards).
//!
//! # Case file format
//!
//! A corpus is a directory; each `*.json` file in it is one case, run in the
//! order of the file names:
//!
//! ```json
//! {"traceparent": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
//!  "tracestate": ["rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE"]}
//! ```
//!
//! Each key holds the header's field values in arrival order (a header field
//! may repeat); a missing key, like an empty list, is an absent header.
//!
//! A B3 case gives the B3 headers instead, one string each, and may name
//! the B3 propagator that reads them (`b3` or `b3multi`; by default `b3`
//! when the single header is there, else `b3multi`), judged against the
//! strict B3 reference ([`b3`]):
//!
//! ```json
//! {"b3": "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d", "propagator": "b3multi"}
//! ```
//!
//! The B3 keys are `b3`, `x-b3-traceid`, `x-b3-spanid`, `x-b3-parentspanid`,
//! `x-b3-sampled` and `x-b3-flags`. No other key is allowed. Other files in
//! the directory are not read.

pub mod b3;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::differential::{self, Class, HeldState, ReportedState};
use crate::error::{Diagnostic, Error, Location, Result};
use crate::input;
use crate::headers::Carrier;
use crate::sut::sdk::{self, Sdk, SamplerKind, ServiceConfig, StartSpan};
use crate::w3c::{
    self, FLAG_RANDOM, FLAG_SAMPLED, Ignored, StateDecision, TraceDecision,
    TraceParent, TraceStateOutcome,
};

/// The one service every case runs in. Parent-based, so that a continued
/// trace's child is sampled as its parent says, and a new trace's root is.
pub const SERVICE: &str = "corpus";

/// The `traceparent` beside which a single `tracestate` member is offered to
/// an SDK, to learn whether it refuses that member on its own.
const PROBE_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// One file of a corpus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The file name, which names the case in reports.
    pub name: String,
    pub carrier: Carrier,
    /// For a B3 case, the B3 propagator that reads it; `None` for a W3C case.
    pub reader: Option<b3::Reader>,
}

impl Case {
    /// A W3C case.
    pub fn w3c(name: String, carrier: Carrier) -> Case {
        Case { name, carrier, reader: None }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    traceparent: Vec<String>,
    #[serde(default)]
    tracestate: Vec<String>,
    propagator: Option<String>,
    b3: Option<String>,
    #[serde(rename = "x-b3-traceid")]
    x_b3_traceid: Option<String>,
    #[serde(rename = "x-b3-spanid")]
    x_b3_spanid: Option<String>,
    #[serde(rename = "x-b3-parentspanid")]
    x_b3_parentspanid: Option<String>,
    #[serde(rename = "x-b3-sampled")]
    x_b3_sampled: Option<String>,
    #[serde(rename = "x-b3-flags")]
    x_b3_flags: Option<String>,
}

const SHAPE: &str = "{\"traceparent\": [\"…\"], \"tracestate\": [\"…\", \"…\"]}: lists of field values, a missing key for an absent header; or B3 headers, {\"b3\": \"…\", \"propagator\": \"b3multi\"}";

/// Reads every `*.json` file of `dir`, sorted by name. Nothing is run unless
/// every file is a carrier.
pub fn load(dir: &Path) -> Result<Vec<Case>> {
    let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, "read the corpus directory", e))?;
    if !meta.is_dir() {
        return Err(Error::Corpus(
            Diagnostic::new(Location::file(dir), "the corpus is not a directory")
                .hint(format!("give a directory of *.json files of the form {SHAPE}")),
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, "read the corpus directory", e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, "read the corpus directory", e))?;
        let path = entry.path();
        // Every `*.json` entry is a case, whatever it is: a directory, FIFO
        // or broken link of that name is refused when it is read, not skipped.
        if path.extension().is_some_and(|x| x == "json") {
            paths.push(path);
        }
        if paths.len() > input::CORPUS_MAX_CASES {
            return Err(Error::Corpus(Diagnostic::new(
                Location::file(dir),
                format!("the corpus holds more than the limit `max cases` of {} *.json files", input::CORPUS_MAX_CASES),
            )));
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(Error::Corpus(
            Diagnostic::new(Location::file(dir), "the corpus holds no case")
                .evidence("expected", "*.json files, one incoming carrier each")
                .hint(format!("write files of the form {SHAPE}")),
        ));
    }
    paths
        .into_iter()
        .map(|path| {
            let text = input::read_text(&path, &input::CORPUS_CASE, Error::Corpus)?;
            let (carrier, reader) = parse_case(&path, &text)?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Ok(Case { name, carrier, reader })
        })
        .collect()
}

/// Reads one case file's text (`path` is for messages only): the carrier,
/// and for a B3 case the propagator that reads it.
pub fn parse_case(path: &Path, text: &str) -> Result<(Carrier, Option<b3::Reader>)> {
    input::check_json(path, text, &input::CORPUS_CASE, Error::Corpus)?;
    let file: CaseFile = serde_json::from_str(text).map_err(|e| {
        let headline = if e.is_syntax() { "corpus case is not valid JSON" } else { "corpus case is not an incoming carrier" };
        Error::Corpus(
            input::json_error(path, &e, headline, &input::CORPUS_CASE)
                .hint("fix or remove the file; see `tracewright conform --help` and README.md"),
        )
    })?;
    let b3_headers: BTreeMap<String, String> = [
        ("b3", file.b3),
        ("x-b3-traceid", file.x_b3_traceid),
        ("x-b3-spanid", file.x_b3_spanid),
        ("x-b3-parentspanid", file.x_b3_parentspanid),
        ("x-b3-sampled", file.x_b3_sampled),
        ("x-b3-flags", file.x_b3_flags),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name.to_string(), v)))
    .collect();
    let bad = |headline: String| {
        Error::Corpus(Diagnostic::new(Location::file(path), headline).hint(format!("write a case of the form {SHAPE}")))
    };
    let reader = match file.propagator.as_deref() {
        Some(name) => Some(b3::Reader::parse(name).ok_or_else(|| bad(format!("unknown propagator {name:?}: a B3 case is read by \"b3\" or \"b3multi\"")))?),
        None if !b3_headers.is_empty() => Some(b3::Reader::implied_by(&b3_headers)),
        None => None,
    };
    if reader.is_some() && !(file.traceparent.is_empty() && file.tracestate.is_empty()) {
        return Err(bad("a case is W3C (traceparent, tracestate) or B3, not both".into()));
    }
    Ok((Carrier { traceparent: file.traceparent, tracestate: file.tracestate, b3: b3_headers }, reader))
}

/// What the strict reference decides for a case, in words, with the rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// `continue` or `restart`.
    pub trace: &'static str,
    /// The parent the trace continues under, or why it restarts.
    pub trace_detail: String,
    pub trace_rule: &'static str,
    /// `absent`, `kept`, `cleaned`, `discarded` or `ignored`.
    pub tracestate: &'static str,
    /// The list forwarded, or why none is.
    pub tracestate_detail: String,
    pub tracestate_rule: &'static str,
}

impl Reference {
    fn of(decision: &w3c::Extracted) -> Reference {
        let (trace, trace_detail) = match &decision.trace {
            TraceDecision::Continue(parent) => ("continue", parent.to_string()),
            TraceDecision::Restart(cause) => ("restart", cause.to_string()),
        };
        let (tracestate, tracestate_detail) = match &decision.state {
            StateDecision::Evaluated(TraceStateOutcome::Absent) => ("absent", String::new()),
            StateDecision::Evaluated(TraceStateOutcome::Kept(state)) => ("kept", state.to_header()),
            StateDecision::Evaluated(TraceStateOutcome::Cleaned { state, dropped }) => (
                "cleaned",
                format!(
                    "{} (dropped: {})",
                    state.to_header(),
                    dropped.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                ),
            ),
            StateDecision::Evaluated(TraceStateOutcome::Discarded(error)) => ("discarded", error.to_string()),
            StateDecision::Ignored(Ignored::NoTraceParent) => ("ignored", "no traceparent arrived".into()),
            StateDecision::Ignored(Ignored::TraceParentRejected) => ("ignored", "the traceparent was rejected".into()),
        };
        Reference {
            trace,
            trace_detail,
            trace_rule: decision.trace.rule(),
            tracestate,
            tracestate_detail,
            tracestate_rule: decision.state.rule(),
        }
    }

    /// `continue, kept` and the like: the table's cell.
    pub fn short(&self) -> String {
        format!("{}, {}", self.trace, self.tracestate)
    }
}

/// What one SDK did with one case, as the driver protocol reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Observation {
    /// Whether the SDK extracted a valid remote context: it continues the trace.
    pub continued: bool,
    /// The extracted context's trace id and span id (the child's remote
    /// parent); all zeros when nothing valid was extracted.
    pub trace_id: String,
    pub parent_id: String,
    pub sampled: bool,
    /// The `tracestate` the SDK holds for the extracted context.
    pub tracestate: String,
    /// Whether the driver joined repeated field values with `,`.
    pub joined: bool,
    pub child: Child,
    /// The headers the SDK injects for the child; `None` for a header it does
    /// not write.
    pub injected_traceparent: Option<String>,
    pub injected_tracestate: Option<String>,
    /// The B3 headers the SDK injects for the child, by lower-case name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub injected_b3: BTreeMap<String, String>,
    /// What the SDK extracts from its own injected headers.
    pub round_trip: RoundTrip,
    /// Over the HTTP transport: the span the instrumented client made for
    /// the outgoing request, whose ids its headers carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_span: Option<sdk::ClientSpan>,
    /// Over the HTTP transport: the status line with which the server
    /// refused the request before the service saw it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Child {
    pub trace_id: String,
    pub span_id: String,
    pub sampled: bool,
    pub tracestate: String,
    /// The parent span id of the exported child; `None` when the child was
    /// not exported (unsampled), `""` for a root.
    pub exported_parent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoundTrip {
    pub valid: bool,
    pub trace_id: String,
    pub span_id: String,
    pub sampled: bool,
    pub tracestate: String,
}

/// The part of a round trip that did not come back as it was injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broken {
    /// The SDK extracted no valid context.
    Context,
    TraceId,
    /// The span id (W3C: the parent-id).
    SpanId,
    /// The sampled decision (W3C: the flags).
    Sampled,
    Tracestate,
}

impl Broken {
    /// Its name among `names`, the names of the five parts in the order
    /// above (each header format names them its own way).
    pub fn named(self, names: [&'static str; 5]) -> &'static str {
        names[self as usize]
    }
}

impl RoundTrip {
    /// The first part of what the SDK extracted from its own injected
    /// headers that differs from what it injected: the child's trace id,
    /// `sender` (the span id the headers carry) and the child's sampled flag,
    /// and, when `with_tracestate`, the child's tracestate (by members).
    pub fn broken(&self, child: &Child, sender: &str, with_tracestate: bool) -> Option<Broken> {
        if !self.valid {
            Some(Broken::Context)
        } else if self.trace_id != child.trace_id {
            Some(Broken::TraceId)
        } else if self.span_id != sender {
            Some(Broken::SpanId)
        } else if self.sampled != child.sampled {
            Some(Broken::Sampled)
        } else if with_tracestate
            && !ReportedState::parse(&self.tracestate).members().eq(ReportedState::parse(&child.tracestate).members())
        {
            Some(Broken::Tracestate)
        } else {
            None
        }
    }
}

impl fmt::Display for Observation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = &self.refused {
            return write!(f, "the HTTP server refused the request ({status})");
        }
        if self.continued {
            write!(f, "continues trace {} under parent {}, sampled={}", self.trace_id, self.parent_id, self.sampled)?;
        } else {
            f.write_str("restarts")?;
        }
        write!(f, "; holds tracestate {:?}", self.tracestate)?;
        write!(f, "; child {}/{} sampled={}", self.child.trace_id, self.child.span_id, self.child.sampled)?;
        if let Some(parent) = &self.child.exported_parent {
            write!(f, " exported with parent {parent:?}")?;
        }
        if let Some(c) = &self.client_span {
            write!(f, "; client span {} under {}", c.span_id, c.parent_span_id)?;
        }
        match &self.injected_traceparent {
            Some(v) => write!(f, "; injects traceparent {v:?}")?,
            None => f.write_str("; injects no traceparent")?,
        }
        match &self.injected_tracestate {
            Some(v) => write!(f, ", tracestate {v:?}")?,
            None => f.write_str(", no tracestate")?,
        }
        for (name, value) in &self.injected_b3 {
            write!(f, ", {name} {value:?}")?;
        }
        Ok(())
    }
}

/// Prepares `sdk` for a corpus run: parent-based, always-on services, one
/// with the W3C propagator and one per B3 propagator ([`b3::Reader`]).
pub fn configure(sdk: &mut dyn Sdk) -> Result<()> {
    let mut services = vec![ServiceConfig::new(SERVICE, SamplerKind::ParentbasedAlwaysOn)];
    for reader in b3::Reader::ALL {
        services.push(ServiceConfig::new(reader.service(), SamplerKind::ParentbasedAlwaysOn).with_propagators(&[reader.name()]));
    }
    sdk.configure(&services)
}

/// A request's headers for `extract`: the W3C ones with all their field
/// values, and the B3 ones.
fn extract_request(service: &str, carrier: &Carrier) -> sdk::Extract {
    let mut request = sdk::Extract::trace_context(service, &carrier.traceparent, &carrier.tracestate);
    for (name, value) in &carrier.b3 {
        request.carrier.insert(name.clone(), vec![value.clone()]);
    }
    request
}

/// Runs one W3C carrier through `sdk` (configured by [`configure`]).
pub fn observe(sdk: &mut dyn Sdk, carrier: &Carrier) -> Result<Observation> {
    observe_in(sdk, SERVICE, carrier)
}

/// Runs one carrier through the corpus service `service` of `sdk`.
pub fn observe_in(sdk: &mut dyn Sdk, service: &str, carrier: &Carrier) -> Result<Observation> {
    sdk.reset()?;
    let ext = sdk.extract(&extract_request(service, carrier))?;
    let child = sdk.start_span(&StartSpan { service: service.into(), name: "child".into(), parent: Some(ext.context.clone()) })?;
    let injected = sdk.inject(&sdk::Inject { service: service.into(), span: child.span.clone() })?;
    sdk.end_span(&child.span)?;
    let exported_parent = sdk
        .spans()?
        .into_iter()
        .find(|s| s.span_id == child.span_id && s.trace_id == child.trace_id)
        .map(|s| s.parent_span_id);
    let injected_traceparent = injected.carrier.get("traceparent").cloned();
    let injected_tracestate = injected.carrier.get("tracestate").cloned();
    let injected_b3 = b3::b3_headers(&injected.carrier);
    let back = Carrier {
        b3: injected_b3.clone(),
        ..Carrier::new(&injected_traceparent.as_deref().into_iter().collect::<Vec<_>>(), &injected_tracestate.as_deref().into_iter().collect::<Vec<_>>())
    };
    let again = sdk.extract(&extract_request(service, &back))?;
    Ok(Observation {
        client_span: injected.client_span.clone(),
        refused: ext.refused.clone(),
        continued: ext.found.valid,
        trace_id: ext.found.trace_id,
        parent_id: ext.found.span_id,
        sampled: ext.found.sampled,
        tracestate: ext.found.tracestate,
        joined: ext.joined,
        child: Child {
            trace_id: child.trace_id,
            span_id: child.span_id,
            sampled: child.sampled,
            tracestate: child.tracestate,
            exported_parent,
        },
        injected_traceparent,
        injected_tracestate,
        injected_b3,
        round_trip: RoundTrip {
            valid: again.found.valid,
            trace_id: again.found.trace_id,
            span_id: again.found.span_id,
            sampled: again.found.sampled,
            tracestate: again.found.tracestate,
        },
    })
}

/// Whether `sdk` refuses a `tracestate` of the one member `key=value`.
pub fn refuses_member(sdk: &mut dyn Sdk, key: &str, value: &str) -> Result<bool> {
    sdk.reset()?;
    let ext = sdk.extract(&sdk::Extract::trace_context(SERVICE, &[PROBE_TRACEPARENT.to_string()], &[format!("{key}={value}")]))?;
    Ok(ext.tracestate.is_empty())
}

/// The rule a request the HTTP server refuses breaks, if it breaks one.
pub(crate) const REFUSED_RULE: &str = "RFC 9110 Field Values";

/// Where a divergence lives: in the propagator (the API transport shows it
/// too) or in the HTTP stack (only the HTTP transport shows it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Propagator,
    Http,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Layer::Propagator => "propagator",
            Layer::Http => "http",
        }
    }

    /// Where the divergence lives, as the tables say it.
    pub fn place(self) -> &'static str {
        match self {
            Layer::Propagator => "the propagator",
            Layer::Http => "the HTTP stack",
        }
    }
}

/// One disagreement of an SDK with the reference on a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub class: String,
    pub rule: &'static str,
    /// Over the API transport always `propagator`; over HTTP, `propagator`
    /// when the API transport shows the same class on the same case.
    pub layer: Layer,
}

fn hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Names every difference between what the reference decides for `carrier`
/// and what the SDK did (`seen`), in the order of the stages: extraction,
/// injection, round trip. `refuses(key, value)` asks the SDK whether it
/// refuses a list of that one member (see [`refuses_member`]).
pub fn classify(
    carrier: &Carrier,
    seen: &Observation,
    mut refuses: impl FnMut(&str, &str) -> bool,
) -> Vec<Finding> {
    let reference = carrier.reference();
    let mut found = Vec::new();
    if let Some(status) = &seen.refused {
        let code = status.split(' ').nth(1).unwrap_or("no-status");
        found.push(Finding { class: format!("http/refused/{code}"), rule: REFUSED_RULE, layer: Layer::Propagator });
        return found;
    }
    let mut push = |class: Class, rule: &'static str| found.push(Finding { class: class.to_string(), rule, layer: Layer::Propagator });
    let tracestate: Vec<&str> = carrier.tracestate.iter().map(String::as_str).collect();
    let held = ReportedState::parse(&seen.tracestate);
    let injected_flags = seen
        .injected_traceparent
        .as_deref()
        .and_then(|v| w3c::parse_traceparent(v, differential::LEVEL).ok())
        .map(|tp| tp.flags);
    let mut state_differed = false;

    match (&reference.trace, seen.continued) {
        (TraceDecision::Restart(_), false) => {}
        (TraceDecision::Restart(cause), true) => push(differential::accepts_invalid_class(cause), cause.rule()),
        (TraceDecision::Continue(parent), false) => {
            push(differential::rejects_valid_class(parent), differential::continue_rule());
        }
        (TraceDecision::Continue(parent), true) => {
            let trace_id = to_hex(&parent.trace_id);
            let parent_id = to_hex(&parent.parent_id);
            let random = |flags: u8| flags & FLAG_RANDOM & differential::LEVEL.known_flags();
            let checks = [
                ("trace-id", seen.trace_id == trace_id && seen.child.trace_id == trace_id),
                (
                    "parent-id",
                    seen.parent_id == parent_id
                        && seen.child.exported_parent.as_ref().is_none_or(|p| *p == parent_id),
                ),
                ("sampled-flag", seen.sampled == parent.sampled()),
                ("random-flag", injected_flags.is_none_or(|f| random(f) == random(parent.flags))),
            ];
            for (what, same) in checks {
                if !same {
                    push(Class::of(&["traceparent", "differs", what]), differential::continue_rule());
                }
            }
            if let StateDecision::Evaluated(outcome) = &reference.state
                && let Some((class, rule)) = differential::tracestate_class(&held, outcome, &tracestate, &mut refuses)
            {
                state_differed = true;
                push(class, rule);
            }
        }
    }

    // The child's headers: its own ids (over HTTP, those of the client span
    // the instrumentation made under it), its sampled flag, and the random
    // flag as it carries it (a lost one is reported above, once).
    let sender = match &seen.client_span {
        Some(c) => {
            if c.parent_span_id != seen.child.span_id || c.trace_id != seen.child.trace_id {
                push(Class::of(&["http", "client-span", "parent"]), differential::continue_rule());
            }
            c.span_id.as_str()
        }
        None => seen.child.span_id.as_str(),
    };
    if let (Some(trace_id), Some(parent_id)) = (hex::<16>(&seen.child.trace_id), hex::<8>(sender)) {
        let flags = (u8::from(seen.child.sampled) * FLAG_SAMPLED) | (injected_flags.unwrap_or(0) & FLAG_RANDOM);
        let want = TraceParent { version: 0, trace_id, parent_id, flags };
        if let Some((class, rule)) = differential::inject_traceparent_class(seen.injected_traceparent.as_deref(), &want) {
            push(class, rule);
        }
    }
    if !state_differed
        && let Some((class, rule)) = differential::inject_tracestate_class(seen.injected_tracestate.as_deref(), &held)
    {
        push(class, rule);
    }

    if let Some(broken) = seen.round_trip.broken(&seen.child, sender, true) {
        let what = broken.named(["context", "trace-id", "parent-id", "flags", "tracestate"]);
        let rule = if broken == Broken::Tracestate { differential::mutating_rule() } else { differential::continue_rule() };
        push(Class::of(&["roundtrip", "unstable", what]), rule);
    }
    found
}

/// One SDK under test in a corpus run.
pub struct Subject {
    pub name: String,
    pub version: String,
    pub sdk: Box<dyn Sdk>,
}

/// A case's result on one SDK.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SdkResult {
    pub sut: String,
    pub observation: Observation,
    /// Each with whether the expectations list it.
    pub findings: Vec<(Finding, bool)>,
    /// Over the HTTP transport: the classes the API transport shows on this
    /// case that the HTTP stack does not (the API carrier, not the SDK as
    /// users run it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub api_only: Vec<String>,
}

/// A case's results on every SDK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseOutcome {
    pub case: Case,
    pub reference: Reference,
    pub results: Vec<SdkResult>,
}

/// A `(sut, class, layer)` the run found, over all cases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Divergence {
    pub sut: String,
    pub class: String,
    pub rule: &'static str,
    pub layer: Layer,
    pub expected: bool,
    /// The cases showing it, by file name.
    pub cases: Vec<String>,
}

pub struct Outcome {
    pub cases: Vec<CaseOutcome>,
    /// Sorted by SUT (in `--sut` order), then class.
    pub divergences: Vec<Divergence>,
}

impl Outcome {
    pub fn new_count(&self) -> usize {
        self.divergences.iter().filter(|d| !d.expected).count()
    }
}

/// `expected(sut, class, layer)`: whether the expectations accept it.
pub type Expected<'a> = &'a dyn Fn(&str, &str, Layer) -> bool;

/// Observes and classifies one case on one SDK.
fn judge(sdk: &mut dyn Sdk, case: &Case) -> Result<(Observation, Vec<Finding>)> {
    let carrier = &case.carrier;
    if let Some(reader) = case.reader {
        let observation = observe_in(sdk, reader.service(), carrier)?;
        let findings = b3::classify(carrier, reader, &observation);
        return Ok((observation, findings));
    }
    let observation = observe(sdk, carrier)?;
    let mut probe_error = None;
    let findings = classify(carrier, &observation, |k, v| {
        refuses_member(sdk, k, v).unwrap_or_else(|e| {
            probe_error.get_or_insert(e);
            false
        })
    });
    match probe_error {
        Some(e) => Err(e),
        None => Ok((observation, findings)),
    }
}

/// Runs every case on every subject. Over the HTTP transport each case also
/// runs through the same SDK's propagator API, which tells where each
/// divergence lives ([`Layer`]).
pub fn run(cases: &[Case], subjects: &mut [Subject], expected: Expected) -> Result<Outcome> {
    for s in subjects.iter_mut() {
        configure(s.sdk.as_mut())?;
    }
    let mut outcomes = Vec::new();
    let mut by_key: BTreeMap<(usize, String, Layer), Divergence> = BTreeMap::new();
    for case in cases {
        let reference = match case.reader {
            Some(_) => b3::reference(&case.carrier),
            None => Reference::of(&case.carrier.reference()),
        };
        let mut results = Vec::new();
        for (index, subject) in subjects.iter_mut().enumerate() {
            let (observation, mut findings) = judge(subject.sdk.as_mut(), case)?;
            let mut api_only = Vec::new();
            if let Some(api) = subject.sdk.api() {
                let (_, through_api) = judge(api, case)?;
                for f in &mut findings {
                    f.layer = if through_api.iter().any(|a| a.class == f.class) { Layer::Propagator } else { Layer::Http };
                }
                api_only = through_api.into_iter().filter(|a| !findings.iter().any(|f| f.class == a.class)).map(|a| a.class).collect();
            }
            let findings: Vec<(Finding, bool)> = findings
                .into_iter()
                .map(|f| {
                    let listed = expected(&subject.name, &f.class, f.layer);
                    let d = by_key.entry((index, f.class.clone(), f.layer)).or_insert_with(|| Divergence {
                        sut: subject.name.clone(),
                        class: f.class.clone(),
                        rule: f.rule,
                        layer: f.layer,
                        expected: listed,
                        cases: Vec::new(),
                    });
                    if d.cases.last() != Some(&case.name) {
                        d.cases.push(case.name.clone());
                    }
                    (f, listed)
                })
                .collect();
            results.push(SdkResult { sut: subject.name.clone(), observation, findings, api_only });
        }
        outcomes.push(CaseOutcome { case: case.clone(), reference, results });
    }
    Ok(Outcome { cases: outcomes, divergences: by_key.into_values().collect() })
}

/// The word for a case's result on one SDK: `ok`, `expected` (every
/// disagreement is listed) or `NEW`, and where the disagreements live:
/// `/p` in the propagator, `/h` in the HTTP stack, `/ph` both.
pub fn status(result: &SdkResult) -> String {
    let word = if result.findings.is_empty() {
        "ok"
    } else if result.findings.iter().all(|(_, listed)| *listed) {
        "expected"
    } else {
        "NEW"
    };
    let p = result.findings.iter().any(|(f, _)| f.layer == Layer::Propagator);
    let h = result.findings.iter().any(|(f, _)| f.layer == Layer::Http);
    match (p, h) {
        (true, true) => format!("{word}/ph"),
        (false, true) => format!("{word}/h"),
        (true, false) => format!("{word}/p"),
        (false, false) => word.to_string(),
    }
}

fn field_lines(carrier: &Carrier) -> Vec<String> {
    let lines: Vec<String> = carrier
        .traceparent
        .iter()
        .map(|v| format!("traceparent: {v:?}"))
        .chain(carrier.tracestate.iter().map(|v| format!("tracestate: {v:?}")))
        .chain(carrier.b3.iter().map(|(name, v)| format!("{name}: {v:?}")))
        .collect();
    if lines.is_empty() { vec!["(no header)".to_string()] } else { lines }
}

/// The report for people: a case × SDK table, the differing cases in
/// detail, and the divergences per SDK.
pub fn render_human(dir: &Path, subjects: &[(String, String)], outcome: &Outcome) -> String {
    let mut out = format!("conform: corpus {} ({} cases) on ", dir.display(), outcome.cases.len());
    out.push_str(&subjects.iter().map(|(s, v)| format!("{s} {v}")).collect::<Vec<_>>().join(", "));
    out.push_str("\n\n");
    let width = outcome.cases.iter().map(|c| c.case.name.len()).max().unwrap_or(4).max(4);
    out.push_str("(cells: ok, expected or NEW; /p a divergence in the propagator, /h one in the HTTP stack only)\n");
    out.push_str(&format!("{:<width$}  {:<20}", "case", "reference"));
    for (s, _) in subjects {
        out.push_str(&format!("  {s:<11}"));
    }
    out.push('\n');
    for c in &outcome.cases {
        out.push_str(&format!("{:<width$}  {:<20}", c.case.name, c.reference.short()));
        for r in &c.results {
            out.push_str(&format!("  {:<11}", status(r)));
        }
        out.push_str("\n");
    }
    out.push_str(&b3::render_table(outcome, subjects));
    let differing: Vec<&CaseOutcome> = outcome
        .cases
        .iter()
        .filter(|c| c.results.iter().any(|r| !r.findings.is_empty() || !r.api_only.is_empty()))
        .collect();
    if differing.is_empty() {
        out.push_str("\nno disagreements: every SDK did what the reference decides on every case\n");
    } else {
        out.push_str("\ndisagreements:\n");
    }
    for c in differing {
        let r = &c.reference;
        out.push_str(&format!("\n{}\n", c.case.name));
        for (i, line) in field_lines(&c.case.carrier).iter().enumerate() {
            out.push_str(&format!("  {:<10} {line}\n", if i == 0 { "input:" } else { "" }));
        }
        out.push_str(&format!("  reference: {} ({}): {}\n", r.trace, r.trace_rule, r.trace_detail));
        let detail = if r.tracestate_detail.is_empty() { String::new() } else { format!(": {}", r.tracestate_detail) };
        out.push_str(&format!("             tracestate {} ({}){detail}\n", r.tracestate, r.tracestate_rule));
        for result in c.results.iter().filter(|r| !r.findings.is_empty() || !r.api_only.is_empty()) {
            out.push_str(&format!("  {}: {}\n", result.sut, result.observation));
            for (f, listed) in &result.findings {
                let word = if *listed { "expected" } else { "NEW" };
                out.push_str(&format!("    {} [{}] in {}: {word}\n", f.class, f.rule, f.layer.place()));
            }
            for class in &result.api_only {
                out.push_str(&format!("    (through the API only: {class})\n"));
            }
        }
    }
    if !outcome.divergences.is_empty() {
        out.push_str("\ndivergences by SDK:\n");
    }
    for d in &outcome.divergences {
        let word = if d.expected { "expected" } else { "NEW" };
        out.push_str(&format!("  {} {} [{}] in {}: {} case(s), {word}\n", d.sut, d.class, d.rule, d.layer.place(), d.cases.len()));
    }
    let new = outcome.new_count();
    out.push_str(&format!(
        "\nverdict: {}\n",
        if new == 0 {
            "ok — no disagreement outside the expectations".to_string()
        } else {
            format!("{new} new divergence(s): add them to the expectations with their W3C rule, or fix the SDK")
        }
    ));
    out
}

/// The same content as one JSON document, with stable field names.
pub fn render_json(dir: &Path, subjects: &[(String, String)], outcome: &Outcome, exit_code: i32) -> serde_json::Value {
    use serde_json::json;
    json!({
        "tool": crate::engine::TOOL,
        "exit_code": exit_code,
        "corpus": dir.display().to_string(),
        "suts": subjects.iter().map(|(s, v)| json!({"sut": s, "sdk_version": v})).collect::<Vec<_>>(),
        "cases": outcome.cases.iter().map(|c| json!({
            "case": c.case.name,
            "input": {"traceparent": c.case.carrier.traceparent, "tracestate": c.case.carrier.tracestate, "b3": c.case.carrier.b3},
            "propagator": c.case.reader.map(b3::Reader::name),
            "reference": c.reference,
            "results": c.results.iter().map(|r| json!({
                "sut": r.sut,
                "status": status(r),
                "observed": r.observation,
                "disagreements": r.findings.iter().map(|(f, listed)| json!({
                    "class": f.class,
                    "rule": f.rule,
                    "layer": f.layer,
                    "expected": listed,
                })).collect::<Vec<_>>(),
                "api_only": r.api_only,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "divergences": outcome.divergences,
    })
}

/// JUnit XML: a suite per SDK, a test case per corpus file, failing when the
/// SDK shows a divergence the expectations do not list.
pub fn render_junit(outcome: &Outcome, subjects: &[(String, String)]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("tracewright conform --corpus");
    for (i, (sut, version)) in subjects.iter().enumerate() {
        let mut suite = TestSuite::new(format!("{sut} {version}"));
        for c in &outcome.cases {
            let Some(r) = c.results.get(i) else { continue };
            let new: Vec<&str> = r.findings.iter().filter(|(_, listed)| !listed).map(|(f, _)| f.class.as_str()).collect();
            let status = if new.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("new divergence: {}", new.join(", ")));
                s.set_description(r.observation.to_string());
                s
            };
            let mut case = TestCase::new(c.case.name.clone(), status);
            case.set_classname(format!("conform.corpus.{sut}"));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("JUnit XML serializes")
}

/// The `traceparent` the generated cases are built around: the
/// specification's example, sampled.
const BASE_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const BASE_TRACESTATE: &str = "congo=t61rcWkgMzE";

fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The committed example corpus, `conformance/corpus/`: the specification's
/// own values ([`crate::w3c::examples`]), every member of the concrete header
/// families of [`crate::headers`], and `tracestate` edge cases the families
/// leave out (32 members, valid keys only Level 2 allows, long lists, OWS,
/// repeated fields, a `tracestate` without a `traceparent`). A test holds
/// the committed files to this list.
pub fn generate() -> Vec<Case> {
    let mut cases = Vec::new();
    fn add(cases: &mut Vec<Case>, name: String, traceparent: &[&str], tracestate: &[&str]) {
        cases.push(Case::w3c(format!("{name}.json"), Carrier::new(traceparent, tracestate)));
    }
    for (i, example) in w3c::examples::TRACEPARENTS.iter().enumerate() {
        if matches!(example.origin, w3c::examples::Origin::Verbatim { .. }) || example.expected.is_ok() {
            add(&mut cases, format!("spec-traceparent-{:02}", i + 1), &[example.value], &[]);
        }
    }
    for (i, example) in w3c::examples::tracestates().iter().enumerate() {
        if matches!(example.origin, w3c::examples::Origin::Verbatim { .. }) {
            add(&mut cases, format!("spec-tracestate-{:02}", i + 1), &[BASE_TRACEPARENT], example.values);
        }
    }
    let parts = crate::headers::Parts::of(BASE_TRACEPARENT).expect("the base traceparent is valid");
    for class in crate::headers::TRACEPARENT_CLASSES {
        for (i, v) in crate::headers::family(class, &parts, &[BASE_TRACESTATE]).into_iter().enumerate() {
            let name = format!("traceparent-{}-{}-{}.json", slug(class), i + 1, slug(v.label));
            cases.push(Case::w3c(name, v.carrier));
        }
    }
    for class in crate::headers::TRACESTATE_CLASSES {
        for (i, v) in crate::headers::tracestate_family(class, BASE_TRACEPARENT).into_iter().enumerate() {
            let name = format!("tracestate-{}-{}-{}.json", slug(class), i + 1, slug(v.label));
            cases.push(Case::w3c(name, v.carrier));
        }
    }
    let members = |n: usize, value: &str| (0..n).map(|i| format!("k{i}={value}{i}")).collect::<Vec<_>>().join(",");
    let edge: [(&str, Vec<String>); 12] = [
        ("32-members", vec![members(32, "v")]),
        ("33-members-over-two-fields", vec![members(16, "v"), members(17, "w")]),
        ("two-fields", vec!["rojo=00f067aa0ba902b7".into(), BASE_TRACESTATE.into()]),
        ("duplicate-key-over-two-fields", vec!["rojo=1".into(), "rojo=2".into()]),
        ("multi-tenant-key", vec!["tenant@vendor=1,congo=2".into()]),
        ("key-starting-with-a-digit", vec!["1rojo=1".into()]),
        ("multi-tenant-key-with-a-long-system-id", vec![format!("t@{}=1", "v".repeat(15))]),
        ("key-with-two-at-signs", vec!["foo@bar@baz=1".into()]),
        ("ows-around-members", vec![" rojo=1 ,\t congo=2\t".into()]),
        ("empty-member-at-either-end", vec![",rojo=1,".into()]),
        ("over-512-characters", vec![members(8, &"x".repeat(80))]),
        ("value-with-trailing-space", vec!["rojo=a ,congo=b".into()]),
    ];
    for (name, values) in edge {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        add(&mut cases, format!("tracestate-edge-{name}"), &[BASE_TRACEPARENT], &values);
    }
    add(&mut cases, "missing-traceparent-with-tracestate".into(), &[], &[BASE_TRACESTATE]);
    add(&mut cases, "no-headers".into(), &[], &[]);
    cases.extend(b3_cases());
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// The B3 cases of the committed corpus: each form and sampling state,
/// 64-bit trace ids, invalid ids, a decision without ids, the lenient
/// `true`, both forms present, and each form read by the other propagator
/// (as a composite `b3multi,tracecontext` reads a `b3` neighbour's header).
fn b3_cases() -> Vec<Case> {
    const T: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const S: &str = "e457b5a2e4d86bd1";
    const P: &str = "05e3ac9a4f6e3b90";
    const T64: &str = "64fe8b2a57d3eff7";
    let single = |v: String| vec![("b3", v)];
    let multi = |t: &str, s: &str, extra: &[(&'static str, &str)]| {
        let mut h = vec![("x-b3-traceid", t.to_string()), ("x-b3-spanid", s.to_string())];
        h.extend(extra.iter().map(|(n, v)| (*n, v.to_string())));
        h
    };
    use b3::Reader::{Multi, Single};
    let cases: Vec<(&str, b3::Reader, Vec<(&'static str, String)>)> = vec![
        ("single-accept", Single, single(format!("{T}-{S}-1"))),
        ("single-deny", Single, single(format!("{T}-{S}-0"))),
        ("single-debug", Single, single(format!("{T}-{S}-d"))),
        ("single-deferred", Single, single(format!("{T}-{S}"))),
        ("single-with-parent", Single, single(format!("{T}-{S}-1-{P}"))),
        ("single-64-bit-trace-id", Single, single(format!("{T64}-{S}-1"))),
        ("single-upper-case-trace-id", Single, single(format!("{}-{S}-1", T.to_uppercase()))),
        ("single-zero-trace-id", Single, single(format!("{}-{S}-1", "0".repeat(32)))),
        ("single-zero-span-id", Single, single(format!("{T}-{}-1", "0".repeat(16)))),
        ("single-sampled-true", Single, single(format!("{T}-{S}-true"))),
        ("single-five-fields", Single, single(format!("{T}-{S}-1-{P}-1"))),
        ("single-deny-only", Single, single("0".into())),
        ("single-read-by-b3multi-accept", Multi, single(format!("{T}-{S}-1"))),
        ("single-read-by-b3multi-debug", Multi, single(format!("{T}-{S}-d"))),
        ("multi-accept", Multi, multi(T, S, &[("x-b3-sampled", "1")])),
        ("multi-deny", Multi, multi(T, S, &[("x-b3-sampled", "0")])),
        ("multi-debug-flag", Multi, multi(T, S, &[("x-b3-flags", "1")])),
        ("multi-deferred", Multi, multi(T, S, &[])),
        ("multi-64-bit-trace-id", Multi, multi(T64, S, &[("x-b3-sampled", "1")])),
        ("multi-sampled-true", Multi, multi(T, S, &[("x-b3-sampled", "true")])),
        ("multi-missing-span-id", Multi, vec![("x-b3-traceid", T.to_string()), ("x-b3-sampled", "1".to_string())]),
        ("multi-read-by-b3-debug-flag", Single, multi(T, S, &[("x-b3-flags", "1")])),
        ("both-forms-single-wins", Single, {
            let mut h = single(format!("{T}-{S}-1"));
            h.extend(multi(T64, P, &[("x-b3-sampled", "0")]));
            h
        }),
    ];
    cases
        .into_iter()
        .map(|(name, reader, headers)| Case {
            name: format!("b3-{name}.json"),
            carrier: Carrier { b3: headers.into_iter().map(|(n, v)| (n.to_string(), v)).collect(), ..Carrier::new(&[], &[]) },
            reader: Some(reader),
        })
        .collect()
}

/// A case file's text as [`generate`] writes it: the keys of the headers
/// present, `traceparent` first, then the B3 headers, then the B3
/// propagator when it is not the one the headers imply.
pub fn case_file_text(case: &Case) -> String {
    let carrier = &case.carrier;
    let mut doc = serde_json::Map::new();
    if !carrier.traceparent.is_empty() {
        doc.insert("traceparent".into(), carrier.traceparent.clone().into());
    }
    if !carrier.tracestate.is_empty() {
        doc.insert("tracestate".into(), carrier.tracestate.clone().into());
    }
    for (name, value) in &carrier.b3 {
        doc.insert(name.clone(), value.clone().into());
    }
    let implied = b3::Reader::implied_by(&carrier.b3);
    if let Some(reader) = case.reader
        && (reader != implied || carrier.b3.is_empty())
    {
        doc.insert("propagator".into(), reader.name().into());
    }
    let mut text = serde_json::to_string_pretty(&serde_json::Value::Object(doc)).unwrap_or_default();
    text.push('\n');
    text
}
