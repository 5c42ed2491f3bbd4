//! Differential testing of a W3C Trace Context propagator: one incoming
//! carrier is judged by the strict reference ([`crate::w3c::extract`]) and run
//! through `opentelemetry_sdk`'s `TraceContextPropagator`, and every place
//! where the two part ways becomes a typed [`Disagreement`]. Three stages are
//! compared: extraction (does the trace continue, with which ids and flags,
//! and what becomes of `tracestate`), injection of the extracted context (the
//! headers the SDK would send onward), and an extract → inject → extract round
//! trip, which must be stable.
//!
//! # Classes
//!
//! A disagreement's [`Class`] names the kind of difference, never the input
//! bytes, so that every input breaking one rule in one way shares one class and
//! one entry in `conformance/expectations.json` (see
//! [`crate::expectations`]). A class is `<stage>/<kind>/<detail>`:
//!
//! | class | meaning |
//! |-------|---------|
//! | `traceparent/accepts-invalid/<cause>` | the reference restarts the trace for `<cause>` (a [`TraceParentError`] variant, with the field for per-field rules, or `Repeated`); the SDK continues it |
//! | `traceparent/rejects-valid/<version-00\|higher-version>` | the reference continues; the SDK restarts |
//! | `traceparent/differs/<trace-id\|parent-id\|sampled-flag\|random-flag>` | both continue, with different values |
//! | `tracestate/first-field-only/<decision>` | of several `tracestate` field lines the SDK judged only the first; `<decision>` is the reference's for all of them, `forward` or `discard` |
//! | `tracestate/keeps-invalid/<error>` | what the SDK forwards is itself invalid, first by `<error>` (a [`TraceStateError`] variant) |
//! | `tracestate/discards-valid/<why>` | the reference forwards a list, the SDK none, refusing a member on its own; `<why>` is `Key` or `Value` for the first such member, `Level1Key`/`Level1Value` when the reference at Level 1 refuses it too |
//! | `tracestate/truncates/<decision>` | the SDK forwards the first members (perhaps none) and drops the rest |
//! | `tracestate/rewrites/<decision>` | the SDK forwards members the input does not hold |
//! | `inject/<sends-invalid\|differs\|omits\|sends-empty\|sends-without-context>/<what>` | the headers the SDK sends for the context it extracted are not what the reference says a forwarding participant sends |
//! | `roundtrip/unstable/<what>` | extracting what the SDK injected does not give back the context it injected |
//!
//! A part the SDK never read (a later field line, members past a cut) does not
//! name the class: which rule it breaks says nothing about the SDK, so only
//! the reference's decision on the whole, `forward` or `discard`, does.
//!
//! # Judging injection
//!
//! The injected headers are judged against the SDK's own extraction, not the
//! reference's: a difference already made at extraction (say, a lost flag) is
//! reported once, at extraction (a `tracestate` that differed there is not
//! judged again as sent), and injection is checked for what a
//! forwarding participant must do with the context it holds — version 00,
//! lower-case, the flags its level defines and no others, the `tracestate`
//! unchanged, and no empty `tracestate` header.
//!
//! # How the carrier reaches the SDK
//!
//! The SDK's propagator reads one value per header name. [`CarrierRef`] answers
//! as `http::HeaderMap` does through `opentelemetry-http`'s `HeaderExtractor`,
//! the way the Rust SDK meets HTTP in practice: with the first field line of
//! a repeated header. The reference sees every field line.
//!
//! # Example
//!
//! ```
//! use tracewright::differential::{Differential, Verdict};
//! use tracewright::headers::CarrierRef;
//!
//! let upper_case_version = ["0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"];
//! let verdict = Differential::new().compare(CarrierRef::new(&upper_case_version, &["congo=t61rcWkgMzE"]));
//! let Verdict::Disagree(found) = verdict else { panic!("the SDK reads the version leniently") };
//! assert_eq!(found[0].class.as_str(), "traceparent/accepts-invalid/UpperCaseHex/version");
//! assert_eq!(found[0].rule, "traceparent: version");
//! ```

use std::borrow::Cow;
use std::fmt;

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceState as SdkTraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;

use crate::headers::CarrierRef;
use crate::w3c::{
    self, Dropped, Extracted, FLAG_RANDOM, FLAG_SAMPLED, Field, Level, RestartCause, StateDecision,
    TraceDecision, TraceParent, TraceParentError, TraceStateError, TraceStateOutcome,
};

/// The name the SDK under test has in `conformance/expectations.json`.
pub const SUT: &str = "rust";

/// The level the reference judges by: the SDK documents Trace Context Level 2.
pub const LEVEL: Level = Level::Level2;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// The length of a version-00 `traceparent`.
const V00_LEN: usize = 55;

/// What the SDK's propagator sees: the first field line of each header, as
/// `HeaderMap::get` gives it (see the module documentation).
impl Extractor for CarrierRef<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT => self.traceparent.first().copied(),
            TRACESTATE => self.tracestate.first().copied(),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        let mut keys = Vec::new();
        if !self.traceparent.is_empty() {
            keys.push(TRACEPARENT);
        }
        if !self.tracestate.is_empty() {
            keys.push(TRACESTATE);
        }
        keys
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values = match key {
            TRACEPARENT => self.traceparent,
            TRACESTATE => self.tracestate,
            _ => return None,
        };
        (!values.is_empty()).then(|| values.to_vec())
    }
}

/// A carrier written as text, one field line per line: `traceparent: VALUE`
/// or `tracestate: VALUE`. The value is everything after the colon and one
/// optional space, to the end of the line, so leading whitespace beyond that
/// space and trailing whitespace are part of it; a value cannot hold a line
/// feed. One final line feed ends the text and adds no field. This is the
/// form of the `example` field of `conformance/expectations.json` and of the
/// fuzz seeds that start with `t`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderLines<'a> {
    pub traceparent: Vec<&'a str>,
    pub tracestate: Vec<&'a str>,
}

/// Why a text is not a carrier in header lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderLineError {
    /// 1-based.
    pub line: usize,
    pub text: String,
}

impl fmt::Display for HeaderLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} is {:?}; expected `traceparent: VALUE` or `tracestate: VALUE`",
            self.line, self.text
        )
    }
}

impl std::error::Error for HeaderLineError {}

impl<'a> HeaderLines<'a> {
    pub fn parse(text: &'a str) -> Result<HeaderLines<'a>, HeaderLineError> {
        let mut lines = HeaderLines::default();
        for_each_header_line(text, |name, value| match name {
            Header::TraceParent => lines.traceparent.push(value),
            Header::TraceState => lines.tracestate.push(value),
        })?;
        Ok(lines)
    }

    pub fn carrier(&self) -> CarrierRef<'_> {
        CarrierRef { traceparent: &self.traceparent, tracestate: &self.tracestate }
    }
}

/// Which of the two headers a field line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    TraceParent,
    TraceState,
}

/// Calls `each` for every field line of `text`, in order, without allocating:
/// the fuzz targets read their header-line inputs through this.
pub fn for_each_header_line<'a>(
    text: &'a str,
    mut each: impl FnMut(Header, &'a str),
) -> Result<(), HeaderLineError> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() && text.len() <= 1 {
        return Ok(());
    }
    for (i, line) in body.split('\n').enumerate() {
        let (name, rest) = if let Some(rest) = line.strip_prefix("traceparent:") {
            (Header::TraceParent, rest)
        } else if let Some(rest) = line.strip_prefix("tracestate:") {
            (Header::TraceState, rest)
        } else {
            return Err(HeaderLineError { line: i + 1, text: line.to_string() });
        };
        each(name, rest.strip_prefix(' ').unwrap_or(rest));
    }
    Ok(())
}

/// The kind of a disagreement, `<stage>/<kind>/<detail>` (see the module
/// documentation). Held inline, without allocating, since the fuzzers make
/// one for most inputs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Class {
    len: u8,
    bytes: [u8; Class::CAPACITY],
}

impl Class {
    const CAPACITY: usize = 80;

    /// Joins ASCII parts with `/`.
    pub fn of(parts: &[&str]) -> Class {
        let mut class = Class { len: 0, bytes: [0; Class::CAPACITY] };
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                class.push("/");
            }
            class.push(part);
        }
        class
    }

    fn push(&mut self, part: &str) {
        debug_assert!(part.is_ascii(), "class parts are ASCII names");
        let start = usize::from(self.len);
        let end = (start + part.len()).min(Class::CAPACITY);
        debug_assert_eq!(end, start + part.len(), "class longer than {} bytes", Class::CAPACITY);
        self.bytes[start..end].copy_from_slice(&part.as_bytes()[..end - start]);
        // `end` is at most CAPACITY, which fits a u8.
        self.len = end as u8;
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The class of an SDK that continues a trace the reference restarts for
/// `cause`: `traceparent/accepts-invalid/<error>[/<field>]`. The model-based
/// conformance names its divergences by the same classes, so that one
/// expectations entry covers a finding of the fuzzers and of `conform`.
pub fn accepts_invalid_class(cause: &RestartCause) -> Class {
    let (name, field) = match cause {
        RestartCause::Missing => ("Missing", None),
        RestartCause::Repeated { .. } => ("Repeated", None),
        RestartCause::Invalid(error) => traceparent_error_name(error),
    };
    match field {
        Some(field) => Class::of(&["traceparent", "accepts-invalid", name, field.name()]),
        None => Class::of(&["traceparent", "accepts-invalid", name]),
    }
}

/// The class of an SDK that restarts a trace the reference continues under
/// `parent`: `traceparent/rejects-valid/version-00` or `…/higher-version`.
pub fn rejects_valid_class(parent: &TraceParent) -> Class {
    let version = if parent.version == 0 { "version-00" } else { "higher-version" };
    Class::of(&["traceparent", "rejects-valid", version])
}

/// One way in which the SDK did not do what the reference says it must.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement<'a> {
    pub class: Class,
    /// The section of the specification whose rule decides, as the
    /// reference's `rule()` labels name it.
    pub rule: &'static str,
    /// What the SDK did.
    pub observed: Cow<'static, str>,
    /// What the reference says it must do.
    pub expected: Cow<'static, str>,
    /// The exact input.
    pub input: CarrierRef<'a>,
}

impl fmt::Display for Disagreement<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: the {SUT} SDK and the W3C reference disagree", self.class)?;
        writeln!(f, "  rule: {}", self.rule)?;
        writeln!(f, "  sdk: {}", self.observed)?;
        writeln!(f, "  reference: {}", self.expected)?;
        write!(
            f,
            "  input: traceparent {:?}, tracestate {:?}",
            self.input.traceparent, self.input.tracestate
        )
    }
}

/// The outcome of comparing one carrier.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Verdict<'a> {
    Agree,
    /// Never empty, in the order of the stages: extraction, injection, round
    /// trip. Several kinds of difference can show on one input, and each is
    /// listed, so that an accepted one never hides another.
    Disagree(Vec<Disagreement<'a>>),
}

impl<'a> Verdict<'a> {
    pub fn disagreements(&self) -> &[Disagreement<'a>] {
        match self {
            Verdict::Agree => &[],
            Verdict::Disagree(found) => found,
        }
    }

    pub fn classes(&self) -> impl Iterator<Item = Class> + '_ {
        self.disagreements().iter().map(|d| d.class)
    }
}

/// The SDK's propagator, built once, and the reference at [`LEVEL`].
#[derive(Clone, Debug, Default)]
pub struct Differential {
    propagator: TraceContextPropagator,
}

impl Differential {
    pub fn new() -> Differential {
        Differential { propagator: TraceContextPropagator::new() }
    }

    /// Compares the reference and the SDK on one carrier, through extraction,
    /// injection and a round trip.
    pub fn compare<'a>(&self, input: CarrierRef<'a>) -> Verdict<'a> {
        let mut list = Vec::new();
        self.run(input, true, &mut |found| list.push(found));
        if list.is_empty() { Verdict::Agree } else { Verdict::Disagree(list) }
    }

    /// The class and rule of each disagreement [`Differential::compare`]
    /// finds, in the same order, without describing either side: the fuzz
    /// targets' fast path, which allocates nothing of its own.
    pub fn classify(&self, input: CarrierRef<'_>, mut each: impl FnMut(Class, &'static str)) {
        self.run(input, false, &mut |found| each(found.class, found.rule));
    }

    fn run<'a>(&self, input: CarrierRef<'a>, describe: bool, sink: &mut dyn FnMut(Disagreement<'a>)) {
        let reference = w3c::extract(input.traceparent, input.tracestate, LEVEL);
        let cx = self.propagator.extract_with_context(&Context::new(), &input);
        let span = cx.span();
        let sdk = span.span_context();
        let mut found = Findings { input, describe, state_differed: false, sink };

        match (&reference.trace, sdk.is_valid()) {
            (TraceDecision::Restart(_), false) => {}
            (TraceDecision::Restart(cause), true) => found.accepts_invalid(cause, sdk),
            (TraceDecision::Continue(parent), false) => found.rejects_valid(parent),
            (TraceDecision::Continue(parent), true) => {
                found.trace_fields(parent, sdk);
                found.state(&reference, sdk);
            }
        }
        let sent = self.inject(&cx);
        if sdk.is_valid() {
            found.injected(sdk, &sent);
            self.round_trip(sdk, &sent, &mut found);
        } else if sent.traceparent.is_some() || sent.tracestate.is_some() {
            found.push(
                Class::of(&["inject", "sends-without-context", "traceparent"]),
                reference.trace.rule(),
                || format!("sends {sent} without a context"),
                || "sends nothing: there is no context to forward",
            );
        }
    }

    fn inject(&self, cx: &Context) -> Sent {
        let mut sent = Sent::default();
        self.propagator.inject_context(cx, &mut sent);
        sent
    }

    /// Extracts what was injected: the context must come back unchanged. The
    /// headers then come back unchanged too, since injection depends on the
    /// context alone, so they are not injected a second time.
    fn round_trip(&self, first: &SpanContext, sent: &Sent, found: &mut Findings<'_, '_>) {
        let traceparent: [&str; 1] = [sent.traceparent.as_deref().unwrap_or_default()];
        let tracestate: [&str; 1] = [sent.tracestate.as_deref().unwrap_or_default()];
        let carrier = CarrierRef {
            traceparent: &traceparent[..usize::from(sent.traceparent.is_some())],
            tracestate: &tracestate[..usize::from(sent.tracestate.is_some())],
        };
        let cx = self.propagator.extract_with_context(&Context::new(), &carrier);
        let span = cx.span();
        let again = span.span_context();
        if again == first {
            return;
        }
        let what = if !again.is_valid() {
            "context"
        } else if again.trace_id() != first.trace_id() {
            "trace-id"
        } else if again.span_id() != first.span_id() {
            "parent-id"
        } else if again.trace_flags() != first.trace_flags() {
            "flags"
        } else {
            "tracestate"
        };
        let rule = if what == "tracestate" { mutating_rule() } else { continue_rule() };
        found.push(
            Class::of(&["roundtrip", "unstable", what]),
            rule,
            || format!("extracting what it sent ({sent}) gives {}", describe_context(again)),
            || format!("the context it sent: {}", describe_context(first)),
        );
    }
}

/// The headers the SDK's propagator sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Sent {
    traceparent: Option<String>,
    tracestate: Option<String>,
}

impl Injector for Sent {
    fn set(&mut self, key: &str, value: String) {
        match key {
            TRACEPARENT => self.traceparent = Some(value),
            TRACESTATE => self.tracestate = Some(value),
            _ => {}
        }
    }
}

impl fmt::Display for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.traceparent {
            Some(v) => write!(f, "traceparent {v:?}")?,
            None => f.write_str("no traceparent")?,
        }
        match &self.tracestate {
            Some(v) => write!(f, ", tracestate {v:?}"),
            None => f.write_str(", no tracestate"),
        }
    }
}

/// Where the disagreements go as they are found, and whether each side is
/// described in words: the fuzz targets need only the classes.
struct Findings<'a, 's> {
    input: CarrierRef<'a>,
    describe: bool,
    /// Whether a `tracestate` difference was found at extraction.
    state_differed: bool,
    sink: &'s mut dyn FnMut(Disagreement<'a>),
}

impl<'a> Findings<'a, '_> {
    fn push<O, E>(
        &mut self,
        class: Class,
        rule: &'static str,
        observed: impl FnOnce() -> O,
        expected: impl FnOnce() -> E,
    ) where
        O: Into<Cow<'static, str>>,
        E: Into<Cow<'static, str>>,
    {
        self.state_differed |= class.as_str().starts_with("tracestate/");
        let (observed, expected) = if self.describe {
            (observed().into(), expected().into())
        } else {
            (Cow::Borrowed(""), Cow::Borrowed(""))
        };
        (self.sink)(Disagreement { class, rule, observed, expected, input: self.input });
    }

    fn accepts_invalid(&mut self, cause: &RestartCause, sdk: &SpanContext) {
        self.push(
            accepts_invalid_class(cause),
            cause.rule(),
            || format!("continues: {}", describe_context(sdk)),
            || format!("restart the trace: {cause}"),
        );
    }

    fn rejects_valid(&mut self, parent: &TraceParent) {
        self.push(
            rejects_valid_class(parent),
            continue_rule(),
            || "restarts the trace",
            || format!("continue trace {parent}"),
        );
    }

    fn trace_fields(&mut self, parent: &TraceParent, sdk: &SpanContext) {
        let flags = sdk.trace_flags().to_u8();
        let checks: [(&str, bool); 4] = [
            ("trace-id", sdk.trace_id().to_bytes() == parent.trace_id),
            ("parent-id", sdk.span_id().to_bytes() == parent.parent_id),
            ("sampled-flag", (flags & FLAG_SAMPLED != 0) == parent.sampled()),
            (
                "random-flag",
                (flags & FLAG_RANDOM & LEVEL.known_flags())
                    == (parent.flags & FLAG_RANDOM & LEVEL.known_flags()),
            ),
        ];
        for (what, same) in checks {
            if !same {
                self.push(
                    Class::of(&["traceparent", "differs", what]),
                    continue_rule(),
                    || format!("continues with {}", describe_context(sdk)),
                    || {
                        format!(
                            "continue trace {parent}, carrying flags {:02x}",
                            parent.outgoing_flags(LEVEL)
                        )
                    },
                );
            }
        }
    }

    /// Both continue the trace: compare what becomes of `tracestate`.
    fn state(&mut self, reference: &Extracted, sdk: &SpanContext) {
        let observed = sdk.trace_state();
        let outcome = match &reference.state {
            StateDecision::Evaluated(outcome) => outcome,
            // The reference only ignores a tracestate when the trace restarts.
            StateDecision::Ignored(_) => return,
        };
        let refuses = |k: &str, v: &str| SdkTraceState::from_key_value([(k, v)]).is_err();
        let Some((class, rule)) = tracestate_class(observed, outcome, self.input.tracestate, refuses)
        else {
            return;
        };
        let observed_text = || -> Cow<'static, str> {
            if is_empty(observed) {
                Cow::Borrowed("forwards no tracestate")
            } else {
                Cow::Owned(format!("forwards {:?}", observed.header()))
            }
        };
        let expected = || -> Cow<'static, str> {
            match outcome {
                TraceStateOutcome::Absent => Cow::Borrowed("forward no tracestate: none arrived"),
                TraceStateOutcome::Discarded(error) => {
                    Cow::Owned(format!("discard the tracestate: {error}"))
                }
                TraceStateOutcome::Kept(state) | TraceStateOutcome::Cleaned { state, .. } => {
                    Cow::Owned(format!("forward {:?}", state.to_header()))
                }
            }
        };
        self.push(class, rule, observed_text, expected);
    }

    /// The headers the SDK sent for the context it extracted.
    fn injected(&mut self, sdk: &SpanContext, sent: &Sent) {
        let want = TraceParent {
            version: 0,
            trace_id: sdk.trace_id().to_bytes(),
            parent_id: sdk.span_id().to_bytes(),
            flags: sdk.trace_flags().to_u8() & LEVEL.known_flags(),
        };
        if let Some((class, rule)) = inject_traceparent_class(sent.traceparent.as_deref(), &want) {
            let observed = || match sent.traceparent.as_deref() {
                None => Cow::Borrowed("sends no traceparent"),
                Some(value) => Cow::Owned(format!("sends {value:?}")),
            };
            self.push(class, rule, observed, || format!("send {want}"));
        }
        // A tracestate that already differed at extraction is not judged
        // again as sent: one difference, one report.
        if self.state_differed {
            return;
        }
        let state = sdk.trace_state();
        if let Some((class, rule)) = inject_tracestate_class(sent.tracestate.as_deref(), state) {
            let observed = || match sent.tracestate.as_deref() {
                None => Cow::Borrowed("sends no tracestate"),
                Some("") => Cow::Borrowed("sends an empty tracestate header"),
                Some(value) => Cow::Owned(format!("sends {value:?}")),
            };
            let expected = || -> Cow<'static, str> {
                if is_empty(state) {
                    Cow::Borrowed("send no tracestate header: vendors SHOULD avoid sending empty ones")
                } else {
                    Cow::Owned(format!("send {:?} as extracted", state.header()))
                }
            };
            self.push(class, rule, observed, expected);
        }
    }
}

/// The class and rule of a `traceparent` a forwarding participant sends
/// (`sent`, `None` when it sends none) for the context `want`: version 00,
/// exactly 55 characters, `want`'s ids and the flags its level defines.
/// `None` when it sends exactly that.
pub fn inject_traceparent_class(
    sent: Option<&str>,
    want: &TraceParent,
) -> Option<(Class, &'static str)> {
    let Some(value) = sent else {
        return Some((Class::of(&["inject", "omits", "traceparent"]), continue_rule()));
    };
    let parsed = w3c::parse_traceparent(value, LEVEL);
    // Exactly 55 characters: no whitespace around the canonical form.
    if value.len() == V00_LEN && parsed == Ok(*want) {
        return None;
    }
    Some(match parsed {
        Err(error) => {
            let (name, field) = traceparent_error_name(&error);
            let class = match field {
                Some(f) => Class::of(&["inject", "sends-invalid", name, f.name()]),
                None => Class::of(&["inject", "sends-invalid", name]),
            };
            (class, error.rule())
        }
        Ok(got) => {
            let what = if got.version != 0 {
                "version"
            } else if got.trace_id != want.trace_id {
                "trace-id"
            } else if got.parent_id != want.parent_id {
                "parent-id"
            } else if got.flags != want.flags {
                "flags"
            } else {
                "traceparent"
            };
            (Class::of(&["inject", "differs", what]), continue_rule())
        }
    })
}

/// The class and rule of the `tracestate` a forwarding participant sends
/// (`sent`, `None` when it sends none) for the list it holds: that list
/// unchanged, and no header at all for an empty one. `None` when it does so.
pub fn inject_tracestate_class<S: HeldState + ?Sized>(
    sent: Option<&str>,
    held: &S,
) -> Option<(Class, &'static str)> {
    let held_empty = held.members().next().is_none();
    match sent {
        None if !held_empty => {
            Some((Class::of(&["inject", "omits", "tracestate"]), mutating_rule()))
        }
        None => None,
        Some("") if held_empty => {
            Some((Class::of(&["inject", "sends-empty", "tracestate"]), header_field_values_rule()))
        }
        Some(value) if !held.is_written_as(value) => {
            Some((Class::of(&["inject", "differs", "tracestate"]), mutating_rule()))
        }
        Some(_) => None,
    }
}

/// The `tracestate` an SDK holds for a context it extracted, whatever the
/// SDK's own type: the classification of `tracestate` differences reads it
/// through this, so the in-process differential and the corpus of
/// `conform --corpus` (which sees an SDK through the driver protocol) name
/// the same difference by the same class.
pub trait HeldState {
    /// The list-members, left to right.
    fn members(&self) -> impl Iterator<Item = (&str, &str)>;

    /// Whether `header` is this list written as `key=value,key=value`.
    fn is_written_as(&self, header: &str) -> bool {
        fn member<'h>(rest: &'h str, first: bool, key: &str, value: &str) -> Option<&'h str> {
            let rest = if first { rest } else { rest.strip_prefix(',')? };
            rest.strip_prefix(key)?.strip_prefix('=')?.strip_prefix(value)
        }
        let mut rest = header;
        for (i, (key, value)) in self.members().enumerate() {
            match member(rest, i == 0, key, value) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest.is_empty()
    }

    /// The list as one header value.
    fn to_header(&self) -> String {
        let mut header = String::new();
        for (i, (key, value)) in self.members().enumerate() {
            if i > 0 {
                header.push(',');
            }
            header.push_str(key);
            header.push('=');
            header.push_str(value);
        }
        header
    }
}

impl HeldState for SdkTraceState {
    fn members(&self) -> impl Iterator<Item = (&str, &str)> {
        self.into_iter()
    }

    fn to_header(&self) -> String {
        self.header()
    }
}

/// A list as an SDK reported it in header form (the driver protocol's
/// `tracestate` field): members split at `,` and their first `=`, empty ones
/// skipped, nothing validated — judging it is the classification's job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportedState(pub Vec<(String, String)>);

impl ReportedState {
    pub fn parse(header: &str) -> ReportedState {
        ReportedState(
            header
                .split(',')
                .filter(|m| !m.is_empty())
                .map(|m| {
                    let (k, v) = m.split_once('=').unwrap_or((m, ""));
                    (k.to_string(), v.to_string())
                })
                .collect(),
        )
    }
}

impl HeldState for ReportedState {
    fn members(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// The rule a continued trace's ids and flags follow.
pub fn continue_rule() -> &'static str {
    TraceDecision::Continue(TraceParent {
        version: 0,
        trace_id: [0; 16],
        parent_id: [0; 8],
        flags: 0,
    })
    .rule()
}

/// The rule that a forwarded `tracestate` is changed only as it allows.
pub fn mutating_rule() -> &'static str {
    Dropped::DuplicateKey { key: String::new(), member: 0, kept: 0 }.rule()
}

/// The rule on combining, and not sending empty, `tracestate` fields.
pub fn header_field_values_rule() -> &'static str {
    Dropped::EmptyMember { member: 0 }.rule()
}

fn describe_context(sc: &SpanContext) -> String {
    if !sc.is_valid() {
        return "no valid context".to_string();
    }
    format!(
        "trace-id {}, parent-id {}, flags {:02x}, tracestate {:?}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8(),
        sc.trace_state().header()
    )
}

fn is_empty<S: HeldState + ?Sized>(state: &S) -> bool {
    state.members().next().is_none()
}

fn same_members<'s, S: HeldState + ?Sized>(
    observed: &'s S,
    expected: impl Iterator<Item = (&'s str, &'s str)>,
) -> bool {
    observed.members().eq(expected)
}

/// Every non-empty list-member of the combined field values, split at its
/// first `=`, as the reference numbers and trims them. For a list the
/// reference accepts this is the list with its repeated keys left in.
pub fn raw_members<'s>(values: &'s [&'s str]) -> impl Iterator<Item = (&'s str, &'s str)> {
    values
        .iter()
        .flat_map(|value| value.split(','))
        .map(|member| member.trim_matches([' ', '\t']))
        .filter(|member| !member.is_empty())
        .map(|member| member.split_once('=').unwrap_or((member, "")))
}

/// Whether the SDK forwards what the reference says a receiver forwards for
/// `values`: its list, or for a list with repeated keys (Level 2) the list
/// with the repeats left in, which also conforms.
fn forwards_as<S: HeldState + ?Sized>(
    observed: &S,
    outcome: &TraceStateOutcome,
    values: &[&str],
) -> bool {
    match outcome {
        TraceStateOutcome::Absent | TraceStateOutcome::Discarded(_) => is_empty(observed),
        TraceStateOutcome::Kept(state) | TraceStateOutcome::Cleaned { state, .. } => {
            let members = state.members().iter().map(|(k, v)| (k.as_str(), v.as_str()));
            same_members(observed, members)
                || matches!(
                    outcome,
                    TraceStateOutcome::Cleaned { dropped, .. }
                        if dropped.iter().any(|d| matches!(d, Dropped::DuplicateKey { .. }))
                ) && same_members(observed, raw_members(values))
        }
    }
}

/// The class of the difference between the `tracestate` an SDK holds after
/// extracting `values` (the field values that arrived, beside a `traceparent`
/// both sides accept) and the reference's `outcome` for them, with the rule
/// it breaks; `None` when the SDK forwards what the reference does.
/// `refuses(key, value)` says whether the SDK refuses a list of that one
/// member: it tells `discards-valid/Key` from `…/Value`.
pub fn tracestate_class<S: HeldState + ?Sized>(
    observed: &S,
    outcome: &TraceStateOutcome,
    values: &[&str],
    refuses: impl FnMut(&str, &str) -> bool,
) -> Option<(Class, &'static str)> {
    if forwards_as(observed, outcome, values) {
        return None;
    }
    let (kind, detail, rule) = classify_state(observed, outcome, values, refuses);
    Some((Class::of(&["tracestate", kind, detail]), rule))
}

/// The kind and detail of a `tracestate` difference, and the rule it breaks.
/// Checked in this order:
///
/// - `first-field-only/<decision>`: of several field lines the SDK forwards
///   what the reference forwards for the first alone. `<decision>` is the
///   reference's for all of them, `forward` or `discard`.
/// - `keeps-invalid/<error>`: what the SDK forwards is itself invalid.
/// - `discards-valid/<why>`: the SDK forwards nothing of a list the reference
///   forwards, and refuses one of its members on its own; `<why>` is `Key` or
///   `Value` for the first such member, prefixed `Level1` when the reference
///   at Level 1 refuses that member too (the SDK's key grammar is Level 1's).
/// - `truncates/<decision>`: the SDK forwards the first members, perhaps
///   none, and drops the rest, where the reference forwards them all or
///   discards the list.
/// - `rewrites/<decision>`: the SDK forwards members the input does not hold.
fn classify_state<S: HeldState + ?Sized>(
    observed: &S,
    outcome: &TraceStateOutcome,
    values: &[&str],
    refuses: impl FnMut(&str, &str) -> bool,
) -> (&'static str, &'static str, &'static str) {
    let decision = if outcome.state().is_some() { "forward" } else { "discard" };
    if let [first, _, ..] = values
        && forwards_as(observed, &w3c::parse_tracestate(&[first], LEVEL), &[first])
    {
        return ("first-field-only", decision, header_field_values_rule());
    }
    if !is_empty(observed)
        && let TraceStateOutcome::Discarded(own) =
            w3c::parse_tracestate(&[&observed.to_header()], LEVEL)
    {
        return ("keeps-invalid", tracestate_error_name(&own), own.rule());
    }
    if is_empty(observed)
        && let Some((why, rule)) = first_refused_member(values, refuses)
    {
        return ("discards-valid", why, rule);
    }
    let list_rule = TraceStateError::TooManyMembers { count: 0 }.rule();
    let mut members = raw_members(values);
    let is_prefix = observed.members().all(|m| members.next() == Some(m));
    if is_prefix {
        ("truncates", decision, list_rule)
    } else {
        ("rewrites", decision, mutating_rule())
    }
}

/// For a list the SDK discards: the first member the SDK refuses on its own,
/// named `Key` or `Value` and prefixed `Level1` when the reference at Level 1
/// refuses the member too, with the Level 2 rule that makes it valid.
fn first_refused_member(
    values: &[&str],
    mut refuses: impl FnMut(&str, &str) -> bool,
) -> Option<(&'static str, &'static str)> {
    let (key, value) = raw_members(values).find(|&(k, v)| refuses(k, v))?;
    let key_refused = refuses(key, "v");
    let member = format!("{key}={value}");
    let level1_refuses = matches!(
        w3c::parse_tracestate(&[&member], Level::Level1),
        TraceStateOutcome::Discarded(_)
    );
    Some(match (key_refused, level1_refuses) {
        (true, true) => ("Level1Key", "tracestate: Key"),
        (true, false) => ("Key", "tracestate: Key"),
        (false, true) => ("Level1Value", "tracestate: Value"),
        (false, false) => ("Value", "tracestate: Value"),
    })
}

/// The variant name of a `tracestate` error.
pub fn tracestate_error_name(error: &TraceStateError) -> &'static str {
    match error {
        TraceStateError::MissingEquals { .. } => "MissingEquals",
        TraceStateError::EmptyKey { .. } => "EmptyKey",
        TraceStateError::KeyTooLong { .. } => "KeyTooLong",
        TraceStateError::KeyBadFirstCharacter { .. } => "KeyBadFirstCharacter",
        TraceStateError::KeyBadCharacter { .. } => "KeyBadCharacter",
        TraceStateError::TenantIdTooLong { .. } => "TenantIdTooLong",
        TraceStateError::SystemIdTooLong { .. } => "SystemIdTooLong",
        TraceStateError::BadSystemIdStart { .. } => "BadSystemIdStart",
        TraceStateError::EmptyValue { .. } => "EmptyValue",
        TraceStateError::ValueBadCharacter { .. } => "ValueBadCharacter",
        TraceStateError::ValueTooLong { .. } => "ValueTooLong",
        TraceStateError::TooManyMembers { .. } => "TooManyMembers",
        TraceStateError::DuplicateKey { .. } => "DuplicateKey",
    }
}

/// The variant name of a `traceparent` error, and the field for the rules
/// that apply per field.
pub fn traceparent_error_name(error: &TraceParentError) -> (&'static str, Option<Field>) {
    match error {
        TraceParentError::WrongLength { .. } => ("WrongLength", None),
        TraceParentError::FutureVersionTooShort { .. } => ("FutureVersionTooShort", None),
        TraceParentError::BadSeparator { .. } => ("BadSeparator", None),
        TraceParentError::UpperCaseHex { field, .. } => ("UpperCaseHex", Some(*field)),
        TraceParentError::NonHexCharacter { field, .. } => ("NonHexCharacter", Some(*field)),
        TraceParentError::VersionFf => ("VersionFf", None),
        TraceParentError::ZeroTraceId => ("ZeroTraceId", None),
        TraceParentError::ZeroParentId => ("ZeroParentId", None),
        TraceParentError::FutureVersionTrailer { .. } => ("FutureVersionTrailer", None),
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn classes(traceparent: &[&str], tracestate: &[&str]) -> Vec<String> {
        Differential::new()
            .compare(CarrierRef::new(traceparent, tracestate))
            .classes()
            .map(|c| c.to_string())
            .collect()
    }

    #[test]
    fn a_valid_pair_agrees() {
        assert_eq!(classes(&[VALID], &["congo=t61rcWkgMzE"]), Vec::<String>::new());
    }

    #[test]
    fn class_names_join_their_parts() {
        let class = Class::of(&["tracestate", "discards-valid", "Level1Key"]);
        assert_eq!(class.as_str(), "tracestate/discards-valid/Level1Key");
        assert_eq!(format!("{class:?}"), "\"tracestate/discards-valid/Level1Key\"");
    }

    #[test]
    fn every_tracestate_error_has_a_name() {
        let name = tracestate_error_name(&TraceStateError::TooManyMembers { count: 33 });
        assert_eq!(name, "TooManyMembers");
    }

    #[test]
    fn header_lines_read_back_what_display_writes() {
        let tp = [VALID];
        let ts = ["a=1", " b=2 "];
        let carrier = CarrierRef::new(&tp, &ts);
        let text = carrier.to_string();
        let lines = HeaderLines::parse(&text).expect("display writes header lines");
        assert_eq!(lines.carrier(), carrier);
        assert_eq!(HeaderLines::parse(""), Ok(HeaderLines::default()));
        assert_eq!(
            HeaderLines::parse("tracestate:\n").map(|l| l.tracestate),
            Ok(vec![""])
        );
        assert_eq!(
            HeaderLines::parse("traceparent: x\nfoo: y").map_err(|e| e.line),
            Err(2)
        );
    }

    #[test]
    fn is_written_as_matches_exactly() {
        let state = SdkTraceState::from_key_value([("a", "1"), ("b", "2")]).expect("valid");
        assert!(state.is_written_as("a=1,b=2"));
        assert!(!state.is_written_as("a=1,b=2,"));
        assert!(!state.is_written_as("a=1"));
        assert!(SdkTraceState::default().is_written_as(""));
        let reported = ReportedState::parse("a=1,b=2");
        assert!(reported.is_written_as("a=1,b=2"));
        assert_eq!(reported.to_header(), "a=1,b=2");
    }
}
