//! The header values the specification itself prints, and the values its
//! sentences describe without printing, each with the verdict this module
//! must reach at each level. They are the first corpus every SDK adapter is
//! run against: if an SDK and the oracle disagree on these, the fault is
//! not subtle.

use super::{
    Dropped, Field, TraceParent, TraceParentError, TraceState, TraceStateError, TraceStateOutcome,
};

/// Where a value comes from, so a report can send the reader to the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Printed in the section named.
    Verbatim { section: &'static str },
    /// A printed value changed as a sentence of the section describes; `change`
    /// says how.
    Derived { section: &'static str, change: &'static str },
}

/// A `traceparent` value and its verdict, the same at both levels: none of
/// the specification's values is of a higher version, the only case where
/// the levels read a `traceparent` differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParentExample {
    pub value: &'static str,
    pub origin: Origin,
    pub expected: Result<TraceParent, TraceParentError>,
}

/// A set of `tracestate` field values and its verdict at each level, for a
/// request whose `traceparent` is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStateExample {
    pub values: &'static [&'static str],
    pub origin: Origin,
    pub level1: TraceStateOutcome,
    pub level2: TraceStateOutcome,
}

const RELATIONSHIP: &str = "Relationship Between the Headers";
const TRACEPARENT_EXAMPLES: &str = "Examples of HTTP traceparent Headers";
const RESPONSE_MODEL: &str = "Processing Model for Working with Trace Context Response Header";
const TRACESTATE_EXAMPLES: &str = "Examples of tracestate HTTP Headers";
const COMBINED: &str = "Combined Header Value";

/// The trace-id and parent-ids the specification's examples use.
const CONGO_TRACE: [u8; 16] = hex("0af7651916cd43dd8448eb211c80319c");
const SAMPLE_TRACE: [u8; 16] = hex("4bf92f3577b34da6a3ce929d0e0e4736");
const SAMPLE_PARENT: [u8; 8] = hex("00f067aa0ba902b7");

const fn v00(
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
) -> Result<TraceParent, TraceParentError> {
    Ok(TraceParent { version: 0, trace_id, parent_id, flags })
}

/// Every `traceparent` value the specification prints or describes.
pub const TRACEPARENTS: &[TraceParentExample] = &[
    TraceParentExample {
        value: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        origin: Origin::Verbatim { section: RELATIONSHIP },
        expected: v00(CONGO_TRACE, hex("b7ad6b7169203331"), 0x01),
    },
    TraceParentExample {
        value: "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01",
        origin: Origin::Verbatim { section: RELATIONSHIP },
        expected: v00(CONGO_TRACE, SAMPLE_PARENT, 0x01),
    },
    TraceParentExample {
        value: "00-0af7651916cd43dd8448eb211c80319c-b9c7c989f97918e1-01",
        origin: Origin::Verbatim { section: RELATIONSHIP },
        expected: v00(CONGO_TRACE, hex("b9c7c989f97918e1"), 0x01),
    },
    TraceParentExample {
        value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        origin: Origin::Verbatim { section: TRACEPARENT_EXAMPLES },
        expected: v00(SAMPLE_TRACE, SAMPLE_PARENT, 0x01),
    },
    TraceParentExample {
        value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        origin: Origin::Verbatim { section: TRACEPARENT_EXAMPLES },
        expected: v00(SAMPLE_TRACE, SAMPLE_PARENT, 0x00),
    },
    TraceParentExample {
        value: "00-4bf92f3577b34da6a3ce929d0e0e4736-d75597dee50b0cac-01",
        origin: Origin::Verbatim { section: RESPONSE_MODEL },
        expected: v00(SAMPLE_TRACE, hex("d75597dee50b0cac"), 0x01),
    },
    TraceParentExample {
        value: "00-4bf92f3577b34da6a3ce929d0e0e4736-d75597dee50b0cac-00",
        origin: Origin::Verbatim { section: RESPONSE_MODEL },
        expected: v00(SAMPLE_TRACE, hex("d75597dee50b0cac"), 0x00),
    },
    TraceParentExample {
        value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
        origin: Origin::Derived { section: "trace-flags", change: "flags 03: sampled and random" },
        expected: v00(SAMPLE_TRACE, SAMPLE_PARENT, 0x03),
    },
    TraceParentExample {
        value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02",
        origin: Origin::Derived { section: "trace-flags", change: "flags 02: random, not sampled" },
        expected: v00(SAMPLE_TRACE, SAMPLE_PARENT, 0x02),
    },
    TraceParentExample {
        value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09",
        origin: Origin::Derived {
            section: "trace-flags (Level 1)",
            change: "flags 09: sampled with a reserved bit",
        },
        expected: v00(SAMPLE_TRACE, SAMPLE_PARENT, 0x09),
    },
    TraceParentExample {
        value: "00-000000000000000053ce929d0e0e4736-00f067aa0ba902b7-01",
        origin: Origin::Derived {
            section: "Interoperating with existing systems which use shorter identifiers",
            change: "the zero-padded trace-id the section prints, in the sample header",
        },
        expected: v00(hex("000000000000000053ce929d0e0e4736"), SAMPLE_PARENT, 0x01),
    },
    TraceParentExample {
        value: "00-234a5bcd543ef3fa53ce929d0e0e4736-00f067aa0ba902b7-01",
        origin: Origin::Derived {
            section: "Handling trace-id for compliant platforms with shorter internal identifiers",
            change: "the trace-id the section prints, in the sample header",
        },
        expected: v00(hex("234a5bcd543ef3fa53ce929d0e0e4736"), SAMPLE_PARENT, 0x01),
    },
    TraceParentExample {
        value: "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        origin: Origin::Derived {
            section: "trace-id",
            change: "the all-zero trace-id the section prints",
        },
        expected: Err(TraceParentError::ZeroTraceId),
    },
    TraceParentExample {
        value: "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        origin: Origin::Derived {
            section: "parent-id",
            change: "the all-zero parent-id the section prints",
        },
        expected: Err(TraceParentError::ZeroParentId),
    },
    TraceParentExample {
        value: "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        origin: Origin::Derived { section: "version", change: "version ff" },
        expected: Err(TraceParentError::VersionFf),
    },
    TraceParentExample {
        value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        origin: Origin::Derived { section: "parent-id", change: "parent-id in upper-case hex" },
        expected: Err(TraceParentError::UpperCaseHex {
            field: Field::ParentId,
            index: 38,
            found: 'F',
        }),
    },
];

/// Every `tracestate` value the specification prints or describes.
pub fn tracestates() -> Vec<TraceStateExample> {
    let kept = |pairs: &[(&str, &str)]| {
        TraceStateOutcome::Kept(TraceState::from_members(pairs.iter().copied()))
    };
    let both = |values, origin, outcome: TraceStateOutcome| TraceStateExample {
        values,
        origin,
        level1: outcome.clone(),
        level2: outcome,
    };
    vec![
        both(
            &["congo=t61rcWkgMzE"],
            Origin::Verbatim { section: RELATIONSHIP },
            kept(&[("congo", "t61rcWkgMzE")]),
        ),
        both(
            &["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"],
            Origin::Verbatim { section: RELATIONSHIP },
            kept(&[("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")]),
        ),
        both(
            &["congo=ucfJifl5GOE,rojo=00f067aa0ba902b7"],
            Origin::Verbatim { section: RELATIONSHIP },
            kept(&[("congo", "ucfJifl5GOE"), ("rojo", "00f067aa0ba902b7")]),
        ),
        both(
            &["rojo=00f067aa0ba902b7"],
            Origin::Verbatim { section: TRACESTATE_EXAMPLES },
            kept(&[("rojo", "00f067aa0ba902b7")]),
        ),
        both(
            &["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"],
            Origin::Verbatim { section: TRACESTATE_EXAMPLES },
            kept(&[("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")]),
        ),
        both(
            &["vendorname1=opaqueValue1,vendorname2=opaqueValue2"],
            Origin::Verbatim { section: COMBINED },
            kept(&[("vendorname1", "opaqueValue1"), ("vendorname2", "opaqueValue2")]),
        ),
        both(
            &["congo=congosSecondPosition,rojo=rojosFirstPosition"],
            Origin::Verbatim { section: COMBINED },
            kept(&[("congo", "congosSecondPosition"), ("rojo", "rojosFirstPosition")]),
        ),
        // The section prints this as what the value "would not be".
        TraceStateExample {
            values: &[
                "congo=congosFirstPosition,rojo=rojosFirstPosition,congo=congosSecondPosition",
            ],
            origin: Origin::Verbatim { section: COMBINED },
            level1: TraceStateOutcome::Discarded(TraceStateError::DuplicateKey {
                key: "congo".into(),
                first: 0,
                again: 2,
            }),
            level2: TraceStateOutcome::Cleaned {
                state: TraceState::from_members([
                    ("congo", "congosFirstPosition"),
                    ("rojo", "rojosFirstPosition"),
                ]),
                dropped: vec![Dropped::DuplicateKey { key: "congo".into(), member: 2, kept: 0 }],
            },
        },
        both(
            &[""],
            Origin::Derived {
                section: "tracestate Header Field Values",
                change: "an empty header, which vendors MUST accept",
            },
            TraceStateOutcome::Cleaned {
                state: TraceState::default(),
                dropped: vec![Dropped::EmptyMember { member: 0 }],
            },
        ),
        TraceStateExample {
            values: &["my-tracing-system=1"],
            origin: Origin::Derived {
                section: "Key (Level 1)",
                change: "the simple-key example given a value",
            },
            level1: kept(&[("my-tracing-system", "1")]),
            level2: kept(&[("my-tracing-system", "1")]),
        },
    ]
}

/// Decodes lower-case hex at compile time. Only the constants above call it,
/// so a typo fails the build instead of a test.
const fn hex<const N: usize>(s: &str) -> [u8; N] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not lower-case hex"),
        }
    }
    let bytes = s.as_bytes();
    assert!(bytes.len() == 2 * N, "wrong number of hex digits");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (digit(bytes[2 * i]) << 4) | digit(bytes[2 * i + 1]);
        i += 1;
    }
    out
}
