//! Concrete headers for the model's abstract header classes.
//!
//! The trace-context model speaks of a header that is `valid`, `missing`, or
//! corrupt by a named W3C invalidity class. A replay against a real SDK needs
//! bytes: each class maps to a family of concrete header values, made from
//! the valid header the SDK injected. Which W3C rule decides each member is
//! not written here by hand: it is what the strict reference in [`crate::w3c`]
//! says, so a family can never claim a rule the oracle does not apply. Tests
//! hold every member of an invalidity class to being rejected by the oracle.

use std::fmt;

use crate::w3c::{self, Level};

/// One concrete incoming carrier: the `traceparent` values and the
/// `tracestate` values (each header may repeat; an empty list is an absent
/// header).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Carrier {
    pub traceparent: Vec<String>,
    pub tracestate: Vec<String>,
    /// The B3 headers (`b3`, `x-b3-*`), by lower-case name, one value each;
    /// empty when the request carries none.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub b3: std::collections::BTreeMap<String, String>,
}

impl Carrier {
    pub fn new(traceparent: &[&str], tracestate: &[&str]) -> Carrier {
        Carrier {
            traceparent: traceparent.iter().map(|s| s.to_string()).collect(),
            tracestate: tracestate.iter().map(|s| s.to_string()).collect(),
            b3: Default::default(),
        }
    }

    /// What the strict B3 reference decides for this carrier's B3 headers.
    pub fn b3_reference(&self) -> crate::b3::Extracted {
        let get = |name: &str| self.b3.get(name).map(String::as_str);
        let multi = crate::b3::Multi {
            trace_id: get(crate::b3::TRACE_ID),
            span_id: get(crate::b3::SPAN_ID),
            parent_span_id: get(crate::b3::PARENT_SPAN_ID),
            sampled: get(crate::b3::SAMPLED),
            flags: get(crate::b3::FLAGS),
        };
        crate::b3::extract(get(crate::b3::SINGLE), &multi)
    }

    /// What the strict reference decides for this carrier.
    pub fn reference(&self) -> w3c::Extracted {
        let tp: Vec<&str> = self.traceparent.iter().map(String::as_str).collect();
        let ts: Vec<&str> = self.tracestate.iter().map(String::as_str).collect();
        w3c::extract(&tp, &ts, Level::Level2)
    }
}

/// A [`Carrier`] borrowed: the field values as slices, so that the fuzzers
/// and the differential judge a request without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CarrierRef<'a> {
    pub traceparent: &'a [&'a str],
    pub tracestate: &'a [&'a str],
}

impl<'a> CarrierRef<'a> {
    pub fn new(traceparent: &'a [&'a str], tracestate: &'a [&'a str]) -> CarrierRef<'a> {
        CarrierRef { traceparent, tracestate }
    }
}

/// The carrier as header lines, one `name: value` line per field: the form
/// [`crate::differential::HeaderLines::parse`] reads. A value holding a line feed cannot be written
/// this way unambiguously; `{:?}` always can.
impl fmt::Display for CarrierRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = self
            .traceparent
            .iter()
            .map(|v| ("traceparent", v))
            .chain(self.tracestate.iter().map(|v| ("tracestate", v)));
        for (i, (name, value)) in lines.enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{name}: {value}")?;
        }
        Ok(())
    }
}

/// A member of a family: a label a person can read and the carrier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    pub label: &'static str,
    pub carrier: Carrier,
}

impl Variant {
    /// The W3C rule the reference applies to this variant.
    pub fn rule(&self) -> &'static str {
        self.carrier.reference().trace.rule()
    }
}

/// The parts of a valid version-00 traceparent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parts {
    pub trace_id: String,
    pub parent_id: String,
    pub flags: String,
}

impl Parts {
    /// Splits a valid version-00 traceparent; `None` if it is not one.
    pub fn of(traceparent: &str) -> Option<Parts> {
        let tp = w3c::parse_traceparent(traceparent, Level::Level2).ok()?;
        let header = tp.to_header();
        let mut fields = header.split('-').skip(1);
        Some(Parts {
            trace_id: fields.next()?.to_string(),
            parent_id: fields.next()?.to_string(),
            flags: fields.next()?.to_string(),
        })
    }

    fn header(&self, version: &str, trace_id: &str, parent_id: &str, flags: &str) -> String {
        format!("{version}-{trace_id}-{parent_id}-{flags}")
    }

    fn with_flags(&self, flags: &str) -> String {
        self.header("00", &self.trace_id, &self.parent_id, flags)
    }
}

/// The abstract traceparent classes of the trace-context model.
pub const MODEL_CLASSES: [&str; 8] =
    ["UpperCaseHex", "VersionFF", "ZeroTraceId", "ZeroParentId", "WrongLength", "IllegalCharacter", "BadFlags", "Duplicated"];

/// The family of a model class (or of one of the further classes the
/// conformance corpus uses), built around a valid header's parts, with the
/// tracestate the request carried. The first member is the one a replay uses.
pub fn family(class: &str, p: &Parts, tracestate: &[&str]) -> Vec<Variant> {
    let one = |label: &'static str, tp: String| Variant { label, carrier: Carrier::new(&[tp.as_str()], tracestate) };
    // Upper case, and at least one upper-case letter: an id of digits only
    // (one in about 1,800 random parent-ids) is the same in either case, so
    // its last digit becomes `A` to keep the member invalid.
    let upper = |s: &str| {
        let mut up = s.to_ascii_uppercase();
        if !up.bytes().any(|b| b.is_ascii_uppercase()) {
            up.pop();
            up.push('A');
        }
        up
    };
    let zero_tid = "0".repeat(32);
    let zero_pid = "0".repeat(16);
    match class {
        "UpperCaseHex" => vec![
            one("upper-case trace-id", p.header("00", &upper(&p.trace_id), &p.parent_id, &p.flags)),
            one("upper-case parent-id", p.header("00", &p.trace_id, &upper(&p.parent_id), &p.flags)),
            one("upper-case everything", upper(&p.header("00", &p.trace_id, &p.parent_id, &p.flags))),
        ],
        "VersionFF" => vec![
            one("version ff", p.header("ff", &p.trace_id, &p.parent_id, &p.flags)),
            one("version FF", p.header("FF", &p.trace_id, &p.parent_id, &p.flags)),
        ],
        "ZeroTraceId" => vec![one("all-zero trace-id", p.header("00", &zero_tid, &p.parent_id, &p.flags))],
        "ZeroParentId" => vec![one("all-zero parent-id", p.header("00", &p.trace_id, &zero_pid, &p.flags))],
        "WrongLength" => vec![
            one("trace-id one digit short", p.header("00", &p.trace_id[1..], &p.parent_id, &p.flags)),
            one("trace-id one digit long", p.header("00", &format!("{}0", p.trace_id), &p.parent_id, &p.flags)),
            one("parent-id one digit short", p.header("00", &p.trace_id, &p.parent_id[1..], &p.flags)),
            one("flags one digit", p.header("00", &p.trace_id, &p.parent_id, &p.flags[1..])),
            one("version one digit", p.header("0", &p.trace_id, &p.parent_id, &p.flags)),
            one("version 00 with a trailing field", format!("{}-00", p.with_flags(&p.flags))),
            one("version 00 with a trailing dash", format!("{}-", p.with_flags(&p.flags))),
        ],
        "IllegalCharacter" => vec![
            one("non-hex letter in trace-id", p.header("00", &format!("g{}", &p.trace_id[1..]), &p.parent_id, &p.flags)),
            one("underscore separator", p.with_flags(&p.flags).replacen('-', "_", 1)),
            one("plus sign in parent-id", p.header("00", &p.trace_id, &format!("+{}", &p.parent_id[1..]), &p.flags)),
        ],
        "BadFlags" => vec![one("flags not hex", p.with_flags("0g")), one("flags upper-case", p.with_flags("0A"))],
        "FutureVersion" => vec![
            one("version 01 with a trailing field", format!("{}-what-the-future-holds", p.header("01", &p.trace_id, &p.parent_id, &p.flags))),
            one("version 01 exactly", p.header("01", &p.trace_id, &p.parent_id, &p.flags)),
            one("version 01 with junk after the flags", format!("{}.x", p.header("01", &p.trace_id, &p.parent_id, &p.flags))),
        ],
        "Whitespace" => vec![
            one("leading space", format!(" {}", p.with_flags(&p.flags))),
            one("trailing tab", format!("{}\t", p.with_flags(&p.flags))),
            one("inner space", p.with_flags(&p.flags).replacen('-', " -", 1)),
        ],
        "Duplicated" => {
            let tp = p.with_flags(&p.flags);
            vec![Variant {
                label: "traceparent sent twice",
                carrier: Carrier { traceparent: vec![tp.clone(), tp], tracestate: tracestate.iter().map(|s| s.to_string()).collect(), b3: Default::default() },
            }]
        }
        _ => Vec::new(),
    }
}

/// Tracestate classes: each a family of tracestate values sent beside a
/// valid traceparent.
pub fn tracestate_family(class: &str, traceparent: &str) -> Vec<Variant> {
    let one = |label: &'static str, ts: Vec<String>| Variant {
        label,
        carrier: Carrier { traceparent: vec![traceparent.to_string()], tracestate: ts, b3: Default::default() },
    };
    let members = |n: usize| (0..n).map(|i| format!("k{i}=v{i}")).collect::<Vec<_>>().join(",");
    match class {
        "TooManyMembers" => vec![one("33 members", vec![members(33)]), one("32 members over two fields", vec![members(16), members(16)])],
        "BadKey" => vec![
            one("upper-case key", vec!["Rojo=1".into()]),
            one("key with a space", vec!["ro jo=1".into()]),
            one("multi-tenant key starting with @", vec!["@rojo=1".into()]),
            one("multi-tenant key with an upper-case system", vec!["tenant@Rojo=1".into()]),
            one("key of 257 characters", vec![format!("{}=1", "k".repeat(257))]),
        ],
        "BadValue" => vec![
            one("value with a comma-free equals", vec!["rojo=a=b".into()]),
            one("value of 257 characters", vec![format!("rojo={}", "v".repeat(257))]),
            one("value with a tab inside", vec!["rojo=a\tb".into()]),
        ],
        "EmptyMembers" => vec![one("empty members between commas", vec!["rojo=1,,,congo=2".into()]), one("empty field", vec![String::new()])],
        "DuplicateKey" => vec![one("same key twice", vec!["rojo=1,rojo=2".into()])],
        _ => Vec::new(),
    }
}

/// Every traceparent class the corpus covers, model classes first.
pub const TRACEPARENT_CLASSES: [&str; 10] = [
    "UpperCaseHex",
    "VersionFF",
    "ZeroTraceId",
    "ZeroParentId",
    "WrongLength",
    "IllegalCharacter",
    "BadFlags",
    "FutureVersion",
    "Whitespace",
    "Duplicated",
];

pub const TRACESTATE_CLASSES: [&str; 5] = ["TooManyMembers", "BadKey", "BadValue", "EmptyMembers", "DuplicateKey"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::w3c::TraceDecision;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn parts() -> Parts {
        Parts::of(VALID).expect("valid")
    }

    #[test]
    fn every_member_of_a_model_class_restarts_the_trace_by_the_reference() {
        for class in MODEL_CLASSES {
            let members = family(class, &parts(), &["rojo=1"]);
            assert!(!members.is_empty(), "{class}");
            for v in members {
                assert!(
                    matches!(v.carrier.reference().trace, TraceDecision::Restart(_)),
                    "{class}: {} ({:?}) must restart",
                    v.label,
                    v.carrier.traceparent
                );
            }
        }
    }

    /// Ids of decimal digits only are the same in upper case: the member
    /// must still be invalid (found by the model_actions fuzzer, whose Rust
    /// SDK drew parent-id 1527390118027757).
    #[test]
    fn members_stay_invalid_for_ids_without_hex_letters() {
        let digits = Parts::of("00-12345678901234567890123456789012-1527390118027757-01").expect("valid");
        for class in MODEL_CLASSES {
            for v in family(class, &digits, &[]) {
                assert!(matches!(v.carrier.reference().trace, TraceDecision::Restart(_)), "{class}: {} ({:?}) must restart", v.label, v.carrier.traceparent);
            }
        }
    }

    #[test]
    fn corpus_classes_are_decided_as_their_names_say() {
        let continues = |class: &str| {
            family(class, &parts(), &[]).into_iter().map(|v| (v.label, matches!(v.carrier.reference().trace, TraceDecision::Continue(_)))).collect::<Vec<_>>()
        };
        // Invalid by the grammar: every member restarts.
        for class in ["WrongLength", "IllegalCharacter", "BadFlags", "Duplicated"] {
            for (label, cont) in continues(class) {
                assert!(!cont, "{class}: {label} must restart");
            }
        }
        // A future version is read by its version-00 prefix, unless what follows is not `-`.
        assert_eq!(
            continues("FutureVersion"),
            [("version 01 with a trailing field", true), ("version 01 exactly", true), ("version 01 with junk after the flags", false)]
        );
        // HTTP strips surrounding whitespace; whitespace inside is an error.
        assert_eq!(continues("Whitespace"), [("leading space", true), ("trailing tab", true), ("inner space", false)]);
    }

    #[test]
    fn each_member_names_the_rule_the_reference_applies() {
        let v = &family("ZeroTraceId", &parts(), &[])[0];
        assert_eq!(v.rule(), crate::w3c::parse_traceparent(&v.carrier.traceparent[0], Level::Level2).unwrap_err().rule());
    }

    #[test]
    fn tracestate_families_are_discarded_or_cleaned_by_the_reference() {
        use crate::w3c::{StateDecision, TraceStateOutcome};
        for class in TRACESTATE_CLASSES {
            for v in tracestate_family(class, VALID) {
                let decision = v.carrier.reference().state;
                let changed = matches!(
                    decision,
                    StateDecision::Evaluated(TraceStateOutcome::Discarded(_) | TraceStateOutcome::Cleaned { .. })
                );
                assert!(changed, "{class}: {} must not be forwarded unchanged ({decision:?})", v.label);
            }
        }
    }
}
