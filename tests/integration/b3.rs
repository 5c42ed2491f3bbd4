//! The strict B3 reference (`tracewright::b3`): the specification's cases,
//! the precedence of the single header, and both forms round-tripping.

use tracewright::b3::*;


const T: &str = "80f198ee56343ba864fe8b2a57d3eff7";
const S: &str = "e457b5a2e4d86bd1";
const P: &str = "05e3ac9a4f6e3b90";

fn cx(trace_id: &str, sampling: Sampling, parent: Option<&str>) -> Extracted {
    Extracted::Continue(Context {
        trace_id: trace_id.into(),
        span_id: S.into(),
        parent_span_id: parent.map(str::to_string),
        sampling,
    })
}

#[test]
fn single_header_cases_from_the_specification() {
    let cases: Vec<(String, Extracted)> = vec![
        (format!("{T}-{S}-1-{P}"), cx(T, Sampling::Accept, Some(P))),
        (format!("{T}-{S}-1"), cx(T, Sampling::Accept, None)),
        (format!("{T}-{S}"), cx(T, Sampling::Deferred, None)),
        (format!("{T}-{S}-d"), cx(T, Sampling::Debug, None)),
        (format!("{}-{S}-0", &T[16..]), cx(&T[16..], Sampling::Deny, None)),
        ("0".into(), Extracted::SamplingOnly(Sampling::Deny)),
        ("d".into(), Extracted::SamplingOnly(Sampling::Debug)),
        (format!("{}-{S}-1", T.to_uppercase()), Extracted::Restart(Invalid::TraceId)),
        (format!("{}-{S}-1", &T[1..]), Extracted::Restart(Invalid::TraceId)),
        (format!("{}-{S}-1", "0".repeat(32)), Extracted::Restart(Invalid::ZeroTraceId)),
        (format!("{T}-{}-1", "0".repeat(16)), Extracted::Restart(Invalid::ZeroSpanId)),
        (format!("{T}-{}-1", &S[1..]), Extracted::Restart(Invalid::SpanId)),
        (format!("{T}-{S}-true"), Extracted::Restart(Invalid::SamplingState)),
        (format!("{T}-{S}-1-{P}-x"), Extracted::Restart(Invalid::SingleFields)),
        (format!("{T}-{S}-"), Extracted::Restart(Invalid::SingleFields)),
        (format!("{T}-{S}-1-abc"), Extracted::Restart(Invalid::ParentSpanId)),
        ("".into(), Extracted::Restart(Invalid::SingleFields)),
        ("x".into(), Extracted::Restart(Invalid::SamplingState)),
    ];
    for (value, expected) in cases {
        assert_eq!(parse_single(&value), expected, "{value:?}");
    }
}

#[test]
fn multi_header_cases() {
    let m = |t, s, sampled, flags| Multi { trace_id: t, span_id: s, parent_span_id: None, sampled, flags };
    assert_eq!(parse_multi(&m(Some(T), Some(S), Some("1"), None)), cx(T, Sampling::Accept, None));
    assert_eq!(parse_multi(&m(Some(T), Some(S), Some("0"), Some("1"))), cx(T, Sampling::Debug, None));
    assert_eq!(parse_multi(&m(Some(T), Some(S), None, Some("2"))), cx(T, Sampling::Deferred, None));
    assert_eq!(parse_multi(&m(Some(T), Some(S), Some("true"), None)), Extracted::Restart(Invalid::SamplingState));
    assert_eq!(parse_multi(&m(Some(T), None, Some("1"), None)), Extracted::Restart(Invalid::MissingId));
    assert_eq!(parse_multi(&m(None, None, Some("0"), None)), Extracted::SamplingOnly(Sampling::Deny));
    assert_eq!(parse_multi(&Multi::default()), Extracted::Absent);
}

#[test]
fn the_single_header_wins_and_does_not_fall_back() {
    let multi = Multi { trace_id: Some(T), span_id: Some(S), sampled: Some("1"), ..Multi::default() };
    assert_eq!(extract(Some("garbage"), &multi), Extracted::Restart(Invalid::SamplingState));
    assert_eq!(extract(None, &multi), cx(T, Sampling::Accept, None));
}

#[test]
fn both_forms_round_trip_and_64_bit_ids_pad_on_the_left() {
    for sampling in [Sampling::Accept, Sampling::Deny, Sampling::Debug, Sampling::Deferred] {
        for trace_id in [T, &T[16..]] {
            let c = Context { trace_id: trace_id.into(), span_id: S.into(), parent_span_id: None, sampling };
            assert_eq!(parse_single(&c.to_single()), Extracted::Continue(c.clone()));
            let headers = c.to_multi();
            let get = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
            let multi = Multi {
                trace_id: get(TRACE_ID),
                span_id: get(SPAN_ID),
                parent_span_id: get(PARENT_SPAN_ID),
                sampled: get(SAMPLED),
                flags: get(FLAGS),
            };
            assert_eq!(parse_multi(&multi), Extracted::Continue(c.clone()));
            assert_eq!(c.trace_id_128().len(), 32);
            assert!(c.trace_id_128().ends_with(trace_id));
        }
    }
}
