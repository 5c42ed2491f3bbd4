//! The SDK driver protocol (`drivers/PROTOCOL.md`) against every SDK.
//!
//! Each behaviour below is one function over `&mut dyn Sdk`; `for_every_sdk!`
//! turns it into one test per SDK (`drivers::python::tracestate_round_trips`),
//! so the Rust SDK in-process and the Python, JS and Go drivers all answer the
//! same questions. Where the SDKs legitimately disagree, the test pins each
//! SDK's answer in a table instead of picking a winner: a change in any SDK
//! shows up as a failing row.
//!
//! A driver that is not installed fails its tests when `CI` is set, with the
//! message to run `bash ci/install-drivers.sh`; elsewhere its tests print one
//! line and skip.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tracewright::error::Error;
use tracewright::sut::sdk::driver::{DriverCommand, DriverProcess};
use tracewright::sut::sdk::{
    Extract, Headers, Extracted, Inject, SamplerKind, Sdk, SdkKind, ServiceConfig, StartSpan,
    StartedSpan,
};

use super::repo;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";
const SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const UNSAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

use crate::open_sdk as open;

fn run(kind: SdkKind, test: fn(&mut dyn Sdk, SdkKind)) {
    if let Some(mut sdk) = open(kind) {
        test(sdk.as_mut(), kind);
    }
}

macro_rules! sdk_module {
    ($module:ident, $kind:expr, [$($test:ident),*]) => {
        mod $module {
            $(
                #[test]
                fn $test() {
                    super::run($kind, super::$test);
                }
            )*
        }
    };
}

macro_rules! for_every_sdk {
    ($($test:ident),* $(,)?) => {
        sdk_module!(rust, tracewright::sut::sdk::SdkKind::Rust, [$($test),*]);
        sdk_module!(python, tracewright::sut::sdk::SdkKind::Python, [$($test),*]);
        sdk_module!(js, tracewright::sut::sdk::SdkKind::Js, [$($test),*]);
        sdk_module!(go, tracewright::sut::sdk::SdkKind::Go, [$($test),*]);
        sdk_module!(java, tracewright::sut::sdk::SdkKind::Java, [$($test),*]);
    };
}

for_every_sdk! {
    hello_reports_protocol_1_and_the_sdk,
    root_spans_have_w3c_ids_and_follow_the_sampler,
    inject_writes_a_version_00_traceparent_with_the_span_ids,
    extract_then_start_span_continues_the_trace,
    invalid_traceparent_restarts_the_trace,
    tracestate_round_trips,
    always_off_and_parentbased_always_off,
    spans_lists_finished_spans_with_their_parents,
    malformed_requests_are_refused_and_the_driver_keeps_working,
    refused_configure_keeps_the_services,
    reset_forgets_spans_and_handles,
    shutdown_ends_the_sdk,
    traceparent_edge_cases,
    tracestate_edge_cases,
    traceidratio_decides_on_the_trace_id,
    repeated_traceparent_headers,
    inject_flags,
    a_child_keeps_the_tracestate_under_every_sampler,
    ratio_out_of_range,
    ending_a_span_twice,
}

// ---------------------------------------------------------------- helpers

fn configure(sdk: &mut dyn Sdk, services: &[(&str, SamplerKind)]) {
    let configs: Vec<ServiceConfig> =
        services.iter().map(|(name, sampler)| ServiceConfig::new(name, *sampler)).collect();
    sdk.configure(&configs).unwrap_or_else(|e| panic!("{}", e.render()));
}

fn start(sdk: &mut dyn Sdk, service: &str, name: &str, parent: Option<&str>) -> StartedSpan {
    let request = StartSpan {
        service: service.into(),
        name: name.into(),
        parent: parent.map(str::to_string),
    };
    sdk.start_span(&request).unwrap_or_else(|e| panic!("{}", e.render()))
}

fn extract(sdk: &mut dyn Sdk, service: &str, headers: &[(&str, &str)]) -> Extracted {
    sdk.extract(&Extract::headers(service, headers)).unwrap_or_else(|e| panic!("{}", e.render()))
}

fn extract_carrier(sdk: &mut dyn Sdk, service: &str, carrier: Headers) -> Extracted {
    sdk.extract(&Extract { service: service.into(), carrier })
        .unwrap_or_else(|e| panic!("{}", e.render()))
}

fn inject(
    sdk: &mut dyn Sdk,
    service: &str,
    span: &str,
) -> std::collections::BTreeMap<String, String> {
    sdk.inject(&Inject { service: service.into(), span: span.into() })
        .unwrap_or_else(|e| panic!("{}", e.render()))
        .carrier
}

fn end(sdk: &mut dyn Sdk, span: &str) {
    sdk.end_span(span).unwrap_or_else(|e| panic!("{}", e.render()));
}

fn spans(sdk: &mut dyn Sdk) -> Vec<tracewright::sut::sdk::FinishedSpan> {
    sdk.spans().unwrap_or_else(|e| panic!("{}", e.render()))
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn assert_ids(trace_id: &str, span_id: &str) {
    assert!(is_hex(trace_id, 32) && trace_id != "0".repeat(32), "trace id {trace_id:?}");
    assert!(is_hex(span_id, 16) && span_id != "0".repeat(16), "span id {span_id:?}");
}

/// The error message of a refused op, for asserting on it.
fn refusal(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(Error::Sut { headline, .. }) => headline,
        Err(e) => panic!("expected a refusal from the SDK, got {}", e.render()),
    }
}

/// A table row's expected answer per SDK, in `SdkKind::ALL` order.
fn pick<T: Copy>(kind: SdkKind, per_sdk: [T; 5]) -> T {
    per_sdk[SdkKind::ALL.iter().position(|k| *k == kind).expect("a known SDK")]
}

// ---------------------------------------------------------------- behaviours

fn hello_reports_protocol_1_and_the_sdk(sdk: &mut dyn Sdk, kind: SdkKind) {
    let hello = sdk.hello().unwrap();
    assert_eq!(hello.protocol, 1);
    assert_eq!(hello.sdk, kind.name());
    assert!(!hello.sdk_version.is_empty() && !hello.language_version.is_empty(), "{hello:?}");
}

fn root_spans_have_w3c_ids_and_follow_the_sampler(sdk: &mut dyn Sdk, _: SdkKind) {
    use SamplerKind::*;
    let configs = vec![
        ServiceConfig::new("on", AlwaysOn),
        ServiceConfig::new("off", AlwaysOff),
        ServiceConfig::new("pb_on", ParentbasedAlwaysOn),
        ServiceConfig::new("pb_off", ParentbasedAlwaysOff),
        ServiceConfig::ratio("ratio_1", Traceidratio, 1.0),
        ServiceConfig::ratio("ratio_0", Traceidratio, 0.0),
        ServiceConfig::ratio("pb_ratio_1", ParentbasedTraceidratio, 1.0),
        ServiceConfig::ratio("pb_ratio_0", ParentbasedTraceidratio, 0.0),
    ];
    sdk.configure(&configs).unwrap();
    let expected = [
        ("on", true),
        ("off", false),
        ("pb_on", true),
        ("pb_off", false),
        ("ratio_1", true),
        ("ratio_0", false),
        ("pb_ratio_1", true),
        ("pb_ratio_0", false),
    ];
    let mut trace_ids = std::collections::BTreeSet::new();
    for (service, sampled) in expected {
        let span = start(sdk, service, "root", None);
        assert_ids(&span.trace_id, &span.span_id);
        assert_eq!(span.sampled, sampled, "root span of {service}");
        assert_eq!(span.tracestate, "", "a root span has no tracestate");
        assert!(trace_ids.insert(span.trace_id.clone()), "every root starts a new trace");
    }
}

fn inject_writes_a_version_00_traceparent_with_the_span_ids(sdk: &mut dyn Sdk, kind: SdkKind) {
    configure(sdk, &[("on", SamplerKind::AlwaysOn), ("off", SamplerKind::AlwaysOff)]);
    for service in ["on", "off"] {
        let span = start(sdk, service, "root", None);
        let carrier = inject(sdk, service, &span.span);
        let traceparent = carrier.get("traceparent").expect("inject writes traceparent");
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(parts.len(), 4, "{traceparent}");
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1], span.trace_id);
        assert_eq!(parts[2], span.span_id);
        let flags = u8::from_str_radix(parts[3], 16).expect("hex flags");
        assert!(is_hex(parts[3], 2), "{traceparent}");
        assert_eq!(flags & 1 == 1, span.sampled, "{traceparent}");
        // Only the Rust SDK writes a tracestate header for an empty tracestate.
        let expected_keys: &[&str] =
            if kind == SdkKind::Rust { &["traceparent", "tracestate"] } else { &["traceparent"] };
        assert_eq!(carrier.keys().map(String::as_str).collect::<Vec<_>>(), expected_keys);
        if let Some(tracestate) = carrier.get("tracestate") {
            assert_eq!(tracestate, "");
        }
    }
}

fn extract_then_start_span_continues_the_trace(sdk: &mut dyn Sdk, _: SdkKind) {
    configure(
        sdk,
        &[
            ("gateway", SamplerKind::ParentbasedAlwaysOn),
            ("orders", SamplerKind::ParentbasedAlwaysOn),
        ],
    );
    let root = start(sdk, "gateway", "GET /orders", None);
    let carrier = inject(sdk, "gateway", &root.span);
    let headers: Vec<(&str, &str)> =
        carrier.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let cx = extract(sdk, "orders", &headers);
    assert!(cx.valid && cx.remote, "{cx:?}");
    assert_eq!(
        (cx.trace_id.as_str(), cx.span_id.as_str()),
        (root.trace_id.as_str(), root.span_id.as_str())
    );
    assert!(cx.sampled);
    let child = start(sdk, "orders", "list orders", Some(&cx.context));
    assert_eq!(child.trace_id, root.trace_id);
    assert_ne!(child.span_id, root.span_id);
    assert!(child.sampled);
    end(sdk, &child.span);
    end(sdk, &root.span);
    let finished = spans(sdk);
    assert_eq!(finished.len(), 2, "{finished:?}");
    assert_eq!(
        (finished[0].name.as_str(), finished[0].parent_span_id.as_str()),
        ("list orders", root.span_id.as_str())
    );
    assert_eq!(
        (finished[1].name.as_str(), finished[1].parent_span_id.as_str()),
        ("GET /orders", "")
    );
}

fn invalid_traceparent_restarts_the_trace(sdk: &mut dyn Sdk, _: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::ParentbasedAlwaysOn)]);
    let invalid = "00-00000000000000000000000000000000-00f067aa0ba902b7-01"; // all-zero trace id
    let cx = extract(
        sdk,
        "orders",
        &[("traceparent", invalid), ("tracestate", "rojo=00f067aa0ba902b7")],
    );
    assert!(!cx.valid && !cx.remote && !cx.sampled, "{cx:?}");
    assert_eq!(
        (cx.trace_id.as_str(), cx.span_id.as_str()),
        ("0".repeat(32).as_str(), "0".repeat(16).as_str())
    );
    assert_eq!(cx.tracestate, "", "an invalid traceparent drops the tracestate");
    let span = start(sdk, "orders", "list orders", Some(&cx.context));
    assert_ids(&span.trace_id, &span.span_id);
    assert!(!span.trace_id.starts_with("4bf92f3577b34da6"), "a new trace: {span:?}");
    assert!(span.sampled, "a new root under parentbased_always_on is sampled");
    assert_eq!(span.tracestate, "");
    end(sdk, &span.span);
    assert_eq!(spans(sdk)[0].parent_span_id, "", "the restarted trace's span is a root");

    // A missing traceparent is the same as an invalid one.
    let cx = extract(sdk, "orders", &[("tracestate", "rojo=00f067aa0ba902b7")]);
    assert!(!cx.valid, "{cx:?}");
}

fn tracestate_round_trips(sdk: &mut dyn Sdk, _: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::ParentbasedAlwaysOn)]);
    let mut carrier = Headers::new();
    carrier.insert("traceparent".into(), vec![SAMPLED.into()]);
    carrier.insert(
        "tracestate".into(),
        vec!["rojo=00f067aa0ba902b7".into(), "congo=t61rcWkgMzE".into()],
    );
    let cx = extract_carrier(sdk, "orders", carrier);
    let both = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
    assert_eq!(cx.tracestate, both, "repeated tracestate headers combine in order");
    let span = start(sdk, "orders", "list orders", Some(&cx.context));
    assert_eq!(span.tracestate, both, "a child inherits the tracestate");
    let injected = inject(sdk, "orders", &span.span);
    assert_eq!(injected.get("tracestate").map(String::as_str), Some(both));
    end(sdk, &span.span);
    assert_eq!(spans(sdk)[0].tracestate, both);
}

fn always_off_and_parentbased_always_off(sdk: &mut dyn Sdk, _: SdkKind) {
    configure(
        sdk,
        &[("off", SamplerKind::AlwaysOff), ("pb_off", SamplerKind::ParentbasedAlwaysOff)],
    );
    let sampled = extract(sdk, "off", &[("traceparent", SAMPLED)]);
    let unsampled = extract(sdk, "off", &[("traceparent", UNSAMPLED)]);
    assert!(sampled.sampled && !unsampled.sampled);
    // (service, parent, sampled?)
    let cases = [
        ("off", None, false),
        ("off", Some(&sampled.context), false),
        ("off", Some(&unsampled.context), false),
        ("pb_off", None, false),
        ("pb_off", Some(&sampled.context), true),
        ("pb_off", Some(&unsampled.context), false),
    ];
    let mut expected_exported = Vec::new();
    for (service, parent, expect_sampled) in cases {
        let span = start(sdk, service, "op", parent.map(String::as_str));
        assert_eq!(span.sampled, expect_sampled, "{service} under {parent:?}");
        if parent.is_some() {
            assert_eq!(
                span.trace_id, TRACE_ID,
                "a child stays in its parent's trace, sampled or not"
            );
        }
        end(sdk, &span.span);
        if expect_sampled {
            expected_exported.push(span.span_id);
        }
    }
    let exported: Vec<String> = spans(sdk).into_iter().map(|s| s.span_id).collect();
    assert_eq!(exported, expected_exported, "only sampled spans are exported");
}

fn spans_lists_finished_spans_with_their_parents(sdk: &mut dyn Sdk, _: SdkKind) {
    use SamplerKind::ParentbasedAlwaysOn as On;
    configure(sdk, &[("browser", On), ("gateway", On), ("orders", On)]);
    let root = start(sdk, "browser", "click", None);
    let hop1 = inject(sdk, "browser", &root.span);
    let cx1 = extract(sdk, "gateway", &[("traceparent", &hop1["traceparent"])]);
    let child = start(sdk, "gateway", "GET /orders", Some(&cx1.context));
    let hop2 = inject(sdk, "gateway", &child.span);
    let cx2 = extract(sdk, "orders", &[("traceparent", &hop2["traceparent"])]);
    let grandchild = start(sdk, "orders", "SELECT", Some(&cx2.context));
    let unfinished = start(sdk, "orders", "never ended", Some(&cx2.context));
    assert!(spans(sdk).is_empty(), "nothing is exported before it ends");
    end(sdk, &grandchild.span);
    end(sdk, &child.span);
    end(sdk, &root.span);
    let listed: Vec<(String, String, String, String, bool)> = spans(sdk)
        .into_iter()
        .map(|s| {
            assert_eq!(s.trace_id, root.trace_id);
            (s.service, s.name, s.span_id, s.parent_span_id, s.sampled)
        })
        .collect();
    let expected = vec![
        ("orders".into(), "SELECT".into(), grandchild.span_id.clone(), child.span_id.clone(), true),
        ("gateway".into(), "GET /orders".into(), child.span_id.clone(), root.span_id.clone(), true),
        ("browser".into(), "click".into(), root.span_id.clone(), String::new(), true),
    ];
    assert_eq!(listed, expected, "in export order, never the unfinished {unfinished:?}");
}

fn malformed_requests_are_refused_and_the_driver_keeps_working(sdk: &mut dyn Sdk, _: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::AlwaysOn)]);
    let refused = |sdk: &mut dyn Sdk, line: &str, id: serde_json::Value| {
        let response = sdk.raw(line).unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(response["ok"], false, "{line} -> {response}");
        assert_eq!(response["id"], id, "{line} -> {response}");
        let error =
            response["error"].as_str().unwrap_or_else(|| panic!("an error message: {response}"));
        assert!(!error.is_empty());
        error.to_string()
    };
    use serde_json::json;
    assert_eq!(
        refused(sdk, r#"{"id": 41, "op": "frobnicate"}"#, json!(41)),
        "unknown op: frobnicate"
    );
    refused(sdk, "this is not json", json!(null));
    refused(sdk, r#"{"id": 42, "op": "start_sp"#, json!(null));
    refused(sdk, "[1, 2, 3]", json!(null));
    refused(sdk, r#"{"op": "hello"}"#, json!(null));
    refused(sdk, r#"{"id": 43, "op": "start_span", "service": "nope", "name": "x"}"#, json!(43));
    refused(sdk, r#"{"id": 44, "op": "start_span", "service": "orders"}"#, json!(44));
    refused(
        sdk,
        r#"{"id": 45, "op": "start_span", "service": "orders", "name": "x", "parent": "c999"}"#,
        json!(45),
    );
    refused(sdk, r#"{"id": 46, "op": "end_span", "span": "s999"}"#, json!(46));
    refused(sdk, r#"{"id": 47, "op": "inject", "service": "orders", "span": 7}"#, json!(47));
    refused(
        sdk,
        r#"{"id": 48, "op": "extract", "service": "orders", "carrier": {"traceparent": "not a list"}}"#,
        json!(48),
    );
    refused(
        sdk,
        r#"{"id": 49, "op": "configure", "services": [{"name": "a", "sampler": "sometimes"}]}"#,
        json!(49),
    );
    refused(
        sdk,
        r#"{"id": 50, "op": "configure", "services": [{"name": "a", "sampler": "traceidratio"}]}"#,
        json!(50),
    );

    // The typed interface reports a refusal as an error with the SDK's message.
    let unknown = refusal(sdk.start_span(&StartSpan {
        service: "nope".into(),
        name: "x".into(),
        parent: None,
    }));
    assert!(unknown.contains("refused `start_span`") && unknown.contains("nope"), "{unknown}");

    // ... and the SDK still works, with its services.
    let ok = sdk.raw(r#"{"id": 51, "op": "hello"}"#).unwrap();
    assert_eq!((ok["id"].as_u64(), ok["ok"].as_bool()), (Some(51), Some(true)), "{ok}");
    let span = start(sdk, "orders", "still here", None);
    end(sdk, &span.span);
    assert_eq!(spans(sdk).len(), 1);
}

fn refused_configure_keeps_the_services(sdk: &mut dyn Sdk, _: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::AlwaysOn)]);
    let before = start(sdk, "orders", "before", None);
    let bad = [
        ServiceConfig::new("a", SamplerKind::AlwaysOn),
        ServiceConfig::new("b", SamplerKind::Traceidratio),
    ];
    refusal(sdk.configure(&bad));
    let twice = [
        ServiceConfig::new("a", SamplerKind::AlwaysOn),
        ServiceConfig::new("a", SamplerKind::AlwaysOff),
    ];
    refusal(sdk.configure(&twice));
    end(sdk, &before.span);
    assert_eq!(spans(sdk).len(), 1, "the handle and the exporter survive a refused configure");
    // A successful configure replaces the services and forgets handles.
    configure(sdk, &[("payments", SamplerKind::AlwaysOn)]);
    refusal(sdk.start_span(&StartSpan {
        service: "orders".into(),
        name: "x".into(),
        parent: None,
    }));
    assert!(spans(sdk).is_empty());
}

fn reset_forgets_spans_and_handles(sdk: &mut dyn Sdk, _: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::AlwaysOn)]);
    let done = start(sdk, "orders", "done", None);
    let open_span = start(sdk, "orders", "open", None);
    let cx = extract(sdk, "orders", &[("traceparent", SAMPLED)]);
    end(sdk, &done.span);
    assert_eq!(spans(sdk).len(), 1);
    sdk.reset().unwrap();
    assert!(spans(sdk).is_empty());
    refusal(sdk.end_span(&open_span.span));
    refusal(sdk.start_span(&StartSpan {
        service: "orders".into(),
        name: "x".into(),
        parent: Some(cx.context.clone()),
    }));
    let after = start(sdk, "orders", "after", None);
    assert_ne!(after.span, open_span.span, "handles are not reused");
    end(sdk, &after.span);
    assert_eq!(spans(sdk).into_iter().map(|s| s.name).collect::<Vec<_>>(), ["after"]);
}

fn shutdown_ends_the_sdk(sdk: &mut dyn Sdk, _: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::AlwaysOn)]);
    sdk.shutdown().unwrap_or_else(|e| panic!("{}", e.render()));
    assert!(sdk.hello().is_err(), "nothing answers after shutdown");
}

/// W3C-invalid and odd `traceparent` values, and whether each SDK accepts
/// them (rust, python, js, go). Valid W3C input is accepted by all.
fn traceparent_edge_cases(sdk: &mut dyn Sdk, kind: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::ParentbasedAlwaysOn)]);
    let t = TRACE_ID;
    let s = SPAN_ID;
    let cases: Vec<(String, [bool; 5])> = vec![
        (format!("00-{t}-{s}-01"), [true; 5]),
        (format!("00-{t}-{s}-00"), [true; 5]),
        // A future version may append fields; version 00 may not.
        (format!("01-{t}-{s}-01-what-the-future-holds"), [true; 5]),
        (format!("00-{t}-{s}-01-extra"), [false; 5]),
        (format!("ff-{t}-{s}-01"), [false; 5]),
        (format!("00-{}-{s}-01", t.to_uppercase()), [false; 5]),
        (format!("00-{}-{s}-01", "0".repeat(32)), [false; 5]),
        (format!("00-{t}-{}-01", "0".repeat(16)), [false; 5]),
        (format!("00-{t}-{s}-1x"), [false; 5]),
        (format!("00-{t}-{s}"), [false; 5]),
        (String::new(), [false; 5]),
        // Reserved flag bits in version 00: only Go refuses the header.
        (format!("00-{t}-{s}-09"), [true, true, true, false, true]),
        // A trailing "-" after version 00: Rust and Go accept it.
        (format!("00-{t}-{s}-01-"), [true, false, false, true, false]),
        // Short fields: only Rust accepts them (it parses each as a number).
        (format!("00-4bf92f35-{s}-01"), [true, false, false, false, false]),
        (format!("00-{}-{s}-01", &t[1..]), [true, false, false, false, false]),
        (format!("00-{t}-00f067aa-01"), [true, false, false, false, false]),
        (format!("00-{t}-{s}-1"), [true, false, false, false, false]),
        // A sign in an id: only Rust accepts it.
        (format!("00-+{}-{s}-01", &t[1..]), [true, false, false, false, false]),
        // Surrounding whitespace: Go refuses any, JS allows one character.
        (format!(" 00-{t}-{s}-01"), [true, true, true, false, false]),
        (format!("00-{t}-{s}-01 "), [true, true, true, false, false]),
        (format!("  00-{t}-{s}-01"), [true, true, false, false, false]),
        (format!("\t00-{t}-{s}-01"), [true, true, true, false, false]),
    ];
    let mut wrong = Vec::new();
    for (traceparent, per_sdk) in &cases {
        let cx = extract(sdk, "orders", &[("traceparent", traceparent)]);
        let expected = pick(kind, *per_sdk);
        if cx.valid != expected {
            wrong.push(format!("{traceparent:?}: valid={} expected {expected}", cx.valid));
        } else if cx.valid {
            assert!(cx.remote, "{traceparent:?}: {cx:?}");
            if traceparent.contains(t) {
                assert_eq!(cx.trace_id, t, "{traceparent:?}");
            }
        }
    }
    assert!(wrong.is_empty(), "{kind} disagrees with the pinned table:\n{}", wrong.join("\n"));
}

/// `tracestate` values against W3C's rules, and what each SDK keeps of them
/// (rust, python, js, go); `None` means the same as the input.
fn tracestate_edge_cases(sdk: &mut dyn Sdk, kind: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::ParentbasedAlwaysOn)]);
    let thirty_three: String = (0..33).map(|i| format!("k{i}=v{i}")).collect::<Vec<_>>().join(",");
    let first_32: String = (0..32).map(|i| format!("k{i}=v{i}")).collect::<Vec<_>>().join(",");
    let cases: Vec<(&str, [Option<&str>; 5])> = vec![
        ("rojo=00f067aa0ba902b7", [None; 5]),
        ("tenant@vendor=value,a=b", [None; 5]),
        ("", [None; 5]),
        // W3C: an invalid member discards the whole header.
        ("rojo=1,BAD KEY=2", [Some(""), Some(""), Some("rojo=1"), Some(""), Some("")]),
        // Duplicate keys: Python, Go and Java discard the header, Rust keeps
        // both, JS keeps the last.
        ("rojo=1,dup=2,dup=3", [None, Some(""), Some("rojo=1,dup=3"), Some(""), Some("")]),
        ("rojo=1 , congo=2", [Some("rojo=1,congo=2"); 5]),
        ("rojo=1,,congo=2", [Some("rojo=1,congo=2"); 5]),
        // 33 members: Python, Go and Java discard the header, Rust and JS keep 32.
        (&thirty_three, [Some(&first_32), Some(""), Some(&first_32), Some(""), Some("")]),
    ];
    let mut wrong = Vec::new();
    for (tracestate, per_sdk) in &cases {
        let cx = extract(sdk, "orders", &[("traceparent", SAMPLED), ("tracestate", tracestate)]);
        assert!(cx.valid, "a bad tracestate never invalidates the traceparent");
        let expected = pick(kind, *per_sdk).unwrap_or(tracestate);
        if cx.tracestate != expected {
            wrong.push(format!("{tracestate:?}: kept {:?}, expected {expected:?}", cx.tracestate));
        }
    }
    assert!(wrong.is_empty(), "{kind} disagrees with the pinned table:\n{}", wrong.join("\n"));
}

/// A non-parent-based `traceidratio` sampler decides on the trace id even
/// under a sampled remote parent. Rust, Python and Go compare the trace id's
/// low 64 bits with the ratio; JS XORs its four 32-bit words; Java compares
/// the absolute value of the low 64 bits read as a signed number.
fn traceidratio_decides_on_the_trace_id(sdk: &mut dyn Sdk, kind: SdkKind) {
    sdk.configure(&[ServiceConfig::ratio("half", SamplerKind::Traceidratio, 0.5)]).unwrap();
    // (trace id, sampled by rust, python, js, go)
    let cases = [
        ("00000000000000000000000000000001", [true; 5]),
        ("0000000000000000ffffffffffffffff", [false, false, true, false, true]),
        ("ffffffff000000000000000000000001", [true, true, false, true, true]),
        ("00000000000000008000000000000001", [false; 5]),
    ];
    let mut wrong = Vec::new();
    for (trace_id, per_sdk) in cases {
        let traceparent = format!("00-{trace_id}-{SPAN_ID}-01");
        let cx = extract(sdk, "half", &[("traceparent", &traceparent)]);
        let span = start(sdk, "half", "op", Some(&cx.context));
        let expected = pick(kind, per_sdk);
        if span.sampled != expected {
            wrong.push(format!("{trace_id}: sampled={} expected {expected}", span.sampled));
        }
    }
    assert!(wrong.is_empty(), "{kind} disagrees with the pinned table:\n{}", wrong.join("\n"));
}

/// Two `traceparent` header values. Python and JS take the list and use the
/// first value; Rust, Go and Java get one joined string, which is no
/// traceparent.
fn repeated_traceparent_headers(sdk: &mut dyn Sdk, kind: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::ParentbasedAlwaysOn)]);
    let other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let mut carrier = Headers::new();
    carrier.insert("traceparent".into(), vec![SAMPLED.into(), other.into()]);
    let cx = extract_carrier(sdk, "orders", carrier);
    let joined = pick(kind, [true, false, false, true, true]);
    assert_eq!(cx.joined, joined);
    assert_eq!(cx.valid, !joined, "{cx:?}");
    if cx.valid {
        assert_eq!(cx.trace_id, TRACE_ID, "the first value wins");
    }
}

/// The flags byte each SDK injects for a sampled root span, and for a child
/// of a remote parent whose flags were 01. Only Python and Java set W3C
/// Level 2's random-trace-id flag (02) on the trace ids they generate.
fn inject_flags(sdk: &mut dyn Sdk, kind: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::ParentbasedAlwaysOn)]);
    let flags = |carrier: &std::collections::BTreeMap<String, String>| {
        carrier["traceparent"].rsplit('-').next().unwrap_or_default().to_string()
    };
    let root = start(sdk, "orders", "root", None);
    let root_flags = flags(&inject(sdk, "orders", &root.span));
    let mut child_flags = Vec::new();
    for parent_flags in ["01", "03"] {
        let traceparent = format!("00-{TRACE_ID}-{SPAN_ID}-{parent_flags}");
        let cx = extract(sdk, "orders", &[("traceparent", &traceparent)]);
        let child = start(sdk, "orders", "child", Some(&cx.context));
        child_flags.push(flags(&inject(sdk, "orders", &child.span)));
    }
    let expected = pick(
        kind,
        [
            ("01", "01", "01"),
            ("03", "01", "03"),
            ("01", "01", "01"),
            ("01", "01", "03"),
            ("03", "01", "03"),
        ],
    );
    assert_eq!((root_flags.as_str(), child_flags[0].as_str(), child_flags[1].as_str()), expected);
}

// ---------------------------------------------------------------- the client

/// A fake driver: `sh -c script` in the repository.
fn fake_driver(script: &str) -> DriverProcess {
    let command = DriverCommand {
        program: PathBuf::from("sh"),
        args: vec!["-c".into(), script.into()],
        dir: repo(),
    };
    DriverProcess::spawn("fake driver", command).expect("sh starts")
}

#[test]
fn client_times_out_on_a_driver_that_hangs() {
    let mut driver = fake_driver("sleep 30").with_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = driver.hello().expect_err("no answer").render();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(error.contains("fake driver: did not answer `hello` within 300"), "{error}");
    assert!(error.contains("sleep 30"), "the message names the command: {error}");
    let again = driver.hello().expect_err("still broken").render();
    assert!(again.contains("an earlier request failed"), "{again}");
    // Dropping kills and reaps `sleep 30` at once.
    let started = Instant::now();
    drop(driver);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn client_reports_a_driver_that_dies_with_its_stderr() {
    let mut driver =
        fake_driver("read line; echo 'Traceback: no module named opentelemetry' >&2; exit 3");
    let error = driver.hello().expect_err("it dies").render();
    assert!(error.contains("exited (exit status: 3) before answering `hello`"), "{error}");
    assert!(error.contains("no module named opentelemetry"), "{error}");
}

#[test]
fn client_refuses_garbage_and_wrong_ids() {
    let mut driver = fake_driver("read line; echo 'hello there'; sleep 30");
    let error = driver.hello().expect_err("garbage").render();
    assert!(error.contains("not a JSON object: hello there"), "{error}");
    let mut driver = fake_driver(r#"read line; echo '{"id": 7, "ok": true}'; sleep 30"#);
    let error = driver.hello().expect_err("wrong id").render();
    assert!(error.contains("wrong id"), "{error}");
}

#[test]
fn client_refuses_a_newer_protocol() {
    let hello = r#"{"id": 1, "ok": true, "protocol": 2, "sdk": "python", "sdk_version": "9", "language_version": "4"}"#;
    let mut driver = fake_driver(&format!("read line; echo '{hello}'; sleep 30"));
    let error = driver.handshake(SdkKind::Python).expect_err("too new").render();
    assert!(
        error.contains("speaks protocol version 2, but this tracewright speaks version 1"),
        "{error}"
    );
}

#[test]
fn client_says_how_to_install_a_missing_driver() {
    let empty = tempfile::tempdir().unwrap();
    for kind in [SdkKind::Python, SdkKind::Js, SdkKind::Go] {
        let error = match tracewright::sut::sdk::launch(kind, empty.path()) {
            Ok(_) => panic!("{kind} cannot be installed in an empty directory"),
            Err(e) => e,
        };
        assert_eq!(error.exit_code(), tracewright::error::ExitCode::BadInput);
        let text = error.render().replace(&empty.path().display().to_string(), "[ROOT]");
        let missing = match kind {
            SdkKind::Python => ".venv/bin/python",
            SdkKind::Js => "drivers/js/node_modules/@opentelemetry/sdk-trace-base/package.json",
            _ => "target/drivers/go-driver",
        };
        assert_eq!(
            text,
            format!(
                "error: {kind} driver: not installed ([ROOT]/{missing} is missing)\n  \
                 (hint: run `bash ci/install-drivers.sh` from the repository root)\n"
            )
        );
    }
}

/// A child of a remote parent carries the parent's tracestate whatever the
/// sampler decides.
fn a_child_keeps_the_tracestate_under_every_sampler(sdk: &mut dyn Sdk, _: SdkKind) {
    use SamplerKind::*;
    let samplers = [
        AlwaysOn,
        AlwaysOff,
        Traceidratio,
        ParentbasedAlwaysOn,
        ParentbasedAlwaysOff,
        ParentbasedTraceidratio,
    ];
    let configs: Vec<ServiceConfig> = samplers
        .iter()
        .enumerate()
        .map(|(i, s)| ServiceConfig::ratio(&format!("s{i}"), *s, 0.5))
        .collect();
    sdk.configure(&configs).unwrap();
    let mut wrong = Vec::new();
    for config in &configs {
        for traceparent in [SAMPLED, UNSAMPLED] {
            let cx = extract(
                sdk,
                &config.name,
                &[("traceparent", traceparent), ("tracestate", "rojo=1")],
            );
            let span = start(sdk, &config.name, "op", Some(&cx.context));
            if span.tracestate != "rojo=1" {
                wrong.push(format!(
                    "{:?} under {traceparent}: {:?}",
                    config.sampler, span.tracestate
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A ratio outside [0, 1]: Python and Java refuse the sampler, the others
/// clamp it.
fn ratio_out_of_range(sdk: &mut dyn Sdk, kind: SdkKind) {
    for (ratio, sampled) in [(1.5, true), (-0.5, false)] {
        let result = sdk.configure(&[ServiceConfig::ratio("r", SamplerKind::Traceidratio, ratio)]);
        let refused_by = match kind {
            SdkKind::Python => Some("ValueError"),
            SdkKind::Java => Some("IllegalArgumentException"),
            _ => None,
        };
        if let Some(exception) = refused_by {
            let message = refusal(result);
            assert!(message.contains(exception), "{message}");
            continue;
        }
        result.unwrap_or_else(|e| panic!("{}", e.render()));
        let span = start(sdk, "r", "op", None);
        assert_eq!(span.sampled, sampled, "ratio {ratio}");
    }
}

/// Ending a span twice is accepted and exports it once.
fn ending_a_span_twice(sdk: &mut dyn Sdk, _: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::AlwaysOn)]);
    let span = start(sdk, "orders", "op", None);
    end(sdk, &span.span);
    end(sdk, &span.span);
    assert_eq!(spans(sdk).len(), 1);
}

/// The Java driver's `propagators` field (drivers/PROTOCOL.md, "The Java
/// driver") through the SDK's own B3 propagators: what they write, and how
/// they read a 64-bit trace id, the debug flag and a `true` sampled value
/// (which the strict reference in `tracewright::b3` refuses).
#[test]
fn java_b3_propagators() {
    let Some(mut sdk) = open(SdkKind::Java) else { return };
    let call = |sdk: &mut dyn Sdk, line: &str| -> serde_json::Value {
        let response = sdk.raw(line).unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(response["ok"], true, "{line} -> {response}");
        response
    };
    call(
        sdk.as_mut(),
        r#"{"id": 1, "op": "configure", "services": [{"name": "composite", "sampler": "parentbased_always_on", "propagators": ["b3multi", "tracecontext"]}, {"name": "single", "sampler": "parentbased_always_on", "propagators": ["b3"]}]}"#,
    );
    let root = call(sdk.as_mut(), r#"{"id": 2, "op": "start_span", "service": "composite", "name": "root"}"#);
    let (t, s) = (root["trace_id"].as_str().unwrap().to_string(), root["span_id"].as_str().unwrap().to_string());
    let both = call(sdk.as_mut(), r#"{"id": 3, "op": "inject", "service": "composite", "span": "s1"}"#);
    let mut keys: Vec<&str> = both["carrier"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["X-B3-Sampled", "X-B3-SpanId", "X-B3-TraceId", "traceparent"], "{both}");
    assert_eq!(both["carrier"]["X-B3-TraceId"], t.as_str());
    let single = call(sdk.as_mut(), r#"{"id": 4, "op": "inject", "service": "single", "span": "s1"}"#);
    assert_eq!(single["carrier"], serde_json::json!({"b3": format!("{t}-{s}-1")}));
    // (carrier, valid, trace id, sampled)
    let cases = [
        (r#"{"b3": ["64fe8b2a57d3eff7-e457b5a2e4d86bd1-d"]}"#, true, "000000000000000064fe8b2a57d3eff7", true),
        (r#"{"x-b3-traceid": ["64fe8b2a57d3eff7"], "x-b3-spanid": ["e457b5a2e4d86bd1"], "x-b3-flags": ["1"]}"#, true, "000000000000000064fe8b2a57d3eff7", true),
        (r#"{"x-b3-traceid": ["64fe8b2a57d3eff7"], "x-b3-spanid": ["e457b5a2e4d86bd1"], "x-b3-sampled": ["true"]}"#, true, "000000000000000064fe8b2a57d3eff7", true),
        (r#"{"b3": ["64FE8B2A57D3EFF7-e457b5a2e4d86bd1-1"]}"#, false, "00000000000000000000000000000000", false),
    ];
    for (n, (carrier, valid, trace_id, sampled)) in cases.into_iter().enumerate() {
        let line = format!(r#"{{"id": {}, "op": "extract", "service": "composite", "carrier": {carrier}}}"#, 10 + n);
        let cx = call(sdk.as_mut(), &line);
        assert_eq!((cx["valid"].as_bool(), cx["trace_id"].as_str(), cx["sampled"].as_bool()), (Some(valid), Some(trace_id), Some(sampled)), "{carrier}: {cx}");
    }
}
