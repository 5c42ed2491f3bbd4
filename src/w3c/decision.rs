//! The receiving side of the processing model: given the `traceparent` and
//! `tracestate` field values of one incoming request, whether the trace
//! continues or restarts and what becomes of the `tracestate`, each with the
//! rule that decided it. This is the verdict an SDK's extraction is compared
//! against.

use std::fmt;

use super::{Level, TraceParent, TraceParentError, TraceState, TraceStateOutcome};
use super::{parse_traceparent, parse_tracestate};

/// Why the receiver starts a new trace instead of continuing the caller's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RestartCause {
    /// No `traceparent` field arrived.
    Missing,
    /// More than one `traceparent` field arrived. The header is not a list,
    /// so the fields cannot be combined into one valid value (RFC 9110 §5.3).
    Repeated { count: usize },
    /// The one `traceparent` field is invalid.
    Invalid(TraceParentError),
}

impl RestartCause {
    pub fn rule(&self) -> &'static str {
        match self {
            RestartCause::Missing => "Processing Model: No traceparent Received",
            RestartCause::Repeated { .. } => "RFC 9110 Field Order",
            RestartCause::Invalid(error) => error.rule(),
        }
    }
}

impl fmt::Display for RestartCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartCause::Missing => f.write_str("no traceparent was received"),
            RestartCause::Repeated { count } => {
                write!(f, "traceparent was received {count} times; it may appear once")
            }
            RestartCause::Invalid(error) => error.fmt(f),
        }
    }
}

/// What happens to the caller's trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TraceDecision {
    /// Keep the trace-id and take `parent-id` as the parent of the new span.
    Continue(TraceParent),
    /// Generate a new trace-id: the caller's context cannot be used.
    Restart(RestartCause),
}

impl TraceDecision {
    /// The caller's context, when the trace continues.
    pub fn parent(&self) -> Option<&TraceParent> {
        match self {
            TraceDecision::Continue(parent) => Some(parent),
            TraceDecision::Restart(_) => None,
        }
    }

    pub fn rule(&self) -> &'static str {
        match self {
            TraceDecision::Continue(_) => "Processing Model: A traceparent is Received",
            TraceDecision::Restart(cause) => cause.rule(),
        }
    }
}

/// Why a `tracestate` was not looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ignored {
    /// A `tracestate` without a `traceparent` "is invalid and MUST be
    /// discarded".
    NoTraceParent,
    /// The `traceparent` was invalid or repeated, and a vendor that failed to
    /// parse it "MUST NOT attempt to parse tracestate".
    TraceParentRejected,
}

/// What happens to the caller's `tracestate`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StateDecision {
    /// The trace continues, so the `tracestate` was judged on its own.
    Evaluated(TraceStateOutcome),
    /// The trace restarts, so the `tracestate` that arrived is dropped unread,
    /// however well-formed.
    Ignored(Ignored),
}

impl StateDecision {
    /// The list to forward, if any.
    pub fn forwarded(&self) -> Option<&TraceState> {
        match self {
            StateDecision::Evaluated(outcome) => outcome.state(),
            StateDecision::Ignored(_) => None,
        }
    }

    pub fn rule(&self) -> &'static str {
        match self {
            StateDecision::Evaluated(outcome) => outcome.rule(),
            StateDecision::Ignored(Ignored::NoTraceParent) => {
                "Processing Model: No traceparent Received"
            }
            StateDecision::Ignored(Ignored::TraceParentRejected) => "Tracestate Header",
        }
    }
}

/// The receiver's verdict on one request's trace context.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Extracted {
    pub trace: TraceDecision,
    pub state: StateDecision,
}

/// Applies the request-side processing model to the `traceparent` and
/// `tracestate` field values of one request, in arrival order (an empty slice
/// means the header was not sent).
///
/// The two headers are judged in the order the processing model gives: the
/// `traceparent` first, and the `tracestate` only if the trace continues.
/// The converse does not hold — a broken `tracestate` never restarts the
/// trace.
pub fn extract(traceparent: &[&str], tracestate: &[&str], level: Level) -> Extracted {
    let trace = match traceparent {
        [] => TraceDecision::Restart(RestartCause::Missing),
        [value] => match parse_traceparent(value, level) {
            Ok(parent) => TraceDecision::Continue(parent),
            Err(error) => TraceDecision::Restart(RestartCause::Invalid(error)),
        },
        values => TraceDecision::Restart(RestartCause::Repeated { count: values.len() }),
    };
    let state = match (&trace, tracestate) {
        // Nothing arrived, so there is nothing to ignore either.
        (_, []) => StateDecision::Evaluated(TraceStateOutcome::Absent),
        (TraceDecision::Continue(_), values) => {
            StateDecision::Evaluated(parse_tracestate(values, level))
        }
        (TraceDecision::Restart(RestartCause::Missing), _) => {
            StateDecision::Ignored(Ignored::NoTraceParent)
        }
        (TraceDecision::Restart(_), _) => StateDecision::Ignored(Ignored::TraceParentRejected),
    };
    Extracted { trace, state }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::w3c::{Dropped, TraceStateError};

    const VALID: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn nothing_received_starts_a_trace_with_no_state() {
        let got = extract(&[], &[], Level::Level2);
        assert_eq!(got.trace, TraceDecision::Restart(RestartCause::Missing));
        assert_eq!(got.state, StateDecision::Evaluated(TraceStateOutcome::Absent));
        assert_eq!(got.trace.rule(), "Processing Model: No traceparent Received");
    }

    #[test]
    fn tracestate_without_traceparent_is_discarded() {
        let got = extract(&[], &["foo=1"], Level::Level2);
        assert_eq!(got.trace, TraceDecision::Restart(RestartCause::Missing));
        assert_eq!(got.state, StateDecision::Ignored(Ignored::NoTraceParent));
        assert_eq!(got.state.forwarded(), None);
        assert_eq!(got.state.rule(), "Processing Model: No traceparent Received");
    }

    #[test]
    fn a_valid_pair_continues_and_keeps_the_state() {
        let got = extract(&[VALID], &["congo=t61rcWkgMzE"], Level::Level2);
        assert_eq!(got.trace.parent().map(TraceParent::to_header), Some(VALID.to_string()));
        assert_eq!(got.trace.rule(), "Processing Model: A traceparent is Received");
        assert_eq!(
            got.state.forwarded().map(TraceState::to_header),
            Some("congo=t61rcWkgMzE".into())
        );
        assert_eq!(got.state.rule(), "tracestate Header Field Values");
    }

    #[test]
    fn an_invalid_traceparent_restarts_and_its_tracestate_is_not_read() {
        let upper = VALID.to_uppercase();
        // The tracestate is itself broken; it must not even be judged.
        let got = extract(&[&upper], &["FOO=1"], Level::Level2);
        assert!(matches!(
            got.trace,
            TraceDecision::Restart(RestartCause::Invalid(TraceParentError::UpperCaseHex { .. }))
        ));
        assert_eq!(got.trace.rule(), "traceparent: trace-id");
        assert_eq!(got.state, StateDecision::Ignored(Ignored::TraceParentRejected));
        assert_eq!(got.state.rule(), "Tracestate Header");
    }

    #[test]
    fn a_repeated_traceparent_restarts_even_when_the_copies_agree() {
        for values in
            [[VALID, VALID], [VALID, "00-12345678901234567890123456789012-1234567890123456-01"]]
        {
            let got = extract(&values, &["foo=1"], Level::Level2);
            assert_eq!(got.trace, TraceDecision::Restart(RestartCause::Repeated { count: 2 }));
            assert_eq!(got.trace.rule(), "RFC 9110 Field Order");
            assert_eq!(got.state, StateDecision::Ignored(Ignored::TraceParentRejected));
        }
    }

    #[test]
    fn a_broken_tracestate_does_not_restart_the_trace() {
        let got = extract(&[VALID], &["foo=1,foo"], Level::Level2);
        assert!(matches!(got.trace, TraceDecision::Continue(_)));
        assert_eq!(
            got.state,
            StateDecision::Evaluated(TraceStateOutcome::Discarded(
                TraceStateError::MissingEquals { member: 1 }
            ))
        );
        assert_eq!(got.state.rule(), "tracestate: list");
    }

    #[test]
    fn a_cleaned_tracestate_is_forwarded_without_the_dropped_members() {
        let got = extract(&[VALID], &["foo=1", ""], Level::Level2);
        assert_eq!(got.state.forwarded().map(TraceState::to_header), Some("foo=1".into()));
        assert!(matches!(
            got.state,
            StateDecision::Evaluated(TraceStateOutcome::Cleaned { ref dropped, .. })
                if dropped == &[Dropped::EmptyMember { member: 1 }]
        ));
    }

    #[test]
    fn the_level_decides_a_duplicate_key() {
        let l1 = extract(&[VALID], &["foo=1,foo=2"], Level::Level1);
        assert_eq!(l1.state.forwarded(), None);
        assert_eq!(l1.state.rule(), "tracestate: Combined Header Value");
        let l2 = extract(&[VALID], &["foo=1,foo=2"], Level::Level2);
        assert_eq!(l2.state.forwarded().map(TraceState::to_header), Some("foo=1".into()));
        assert_eq!(l2.state.rule(), "Mutating the tracestate Field");
    }

    #[test]
    fn the_specs_congo_rojo_walk_through() {
        // "Relationship Between the Headers": each hop's output is the next
        // hop's input, and each one continues the same trace.
        let hops = [
            ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "congo=t61rcWkgMzE"),
            (
                "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01",
                "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
            ),
            (
                "00-0af7651916cd43dd8448eb211c80319c-b9c7c989f97918e1-01",
                "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7",
            ),
        ];
        for (traceparent, tracestate) in hops {
            for level in [Level::Level1, Level::Level2] {
                let got = extract(&[traceparent], &[tracestate], level);
                let parent = got.trace.parent().expect("the walk-through's headers are valid");
                assert_eq!(parent.trace_id[..2], [0x0a, 0xf7]);
                assert_eq!(
                    got.state,
                    StateDecision::Evaluated(parse_tracestate(&[tracestate], level))
                );
                assert_eq!(
                    got.state.forwarded().map(TraceState::to_header),
                    Some(tracestate.to_string())
                );
            }
        }
    }

    #[test]
    fn restart_causes_read_as_sentences() {
        let messages = [
            RestartCause::Missing,
            RestartCause::Repeated { count: 2 },
            RestartCause::Invalid(TraceParentError::VersionFf),
        ]
        .map(|c| c.to_string())
        .join("\n");
        insta::assert_snapshot!(messages, @r"
        no traceparent was received
        traceparent was received 2 times; it may appear once
        version ff is forbidden
        ");
    }
}
