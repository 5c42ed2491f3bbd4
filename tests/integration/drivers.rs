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

// ---------------------------------------------------------------- B3

// Every SDK reads `propagators` in `configure` (drivers/PROTOCOL.md; the
// in-process Rust SDK through `ServiceConfig::propagators`): "tracecontext",
// "b3" (B3, injecting the single header), "b3multi" (B3, injecting the
// multiple headers); several make the SDK's composite propagator. The tables
// below pin each SDK's own B3 propagator (Rust opentelemetry-propagator-b3,
// Python opentelemetry-propagator-b3, JS @opentelemetry/propagator-b3, Go
// contrib propagators/b3, Java opentelemetry-extension-trace-propagators)
// against the B3 specification (github.com/openzipkin/b3-propagation, README;
// `tracewright::b3` is its strict reading) and against each other. Columns:
// rust, python, js, go, java.

/// A B3 table row's expected answer for `kind`, the columns in
/// `SdkKind::ALL` order (rust, python, js, go, java).
fn pick_b3<T: Clone>(kind: SdkKind, per_sdk: &[T; 5]) -> T {
    per_sdk[SdkKind::ALL.iter().position(|k| *k == kind).expect("a known SDK")].clone()
}

macro_rules! for_every_b3_sdk {
    ($($test:ident),* $(,)?) => {
        mod b3 {
            use super::*;
            sdk_module!(rust, tracewright::sut::sdk::SdkKind::Rust, [$($test),*]);
            sdk_module!(python, tracewright::sut::sdk::SdkKind::Python, [$($test),*]);
            sdk_module!(js, tracewright::sut::sdk::SdkKind::Js, [$($test),*]);
            sdk_module!(go, tracewright::sut::sdk::SdkKind::Go, [$($test),*]);
            sdk_module!(java, tracewright::sut::sdk::SdkKind::Java, [$($test),*]);
        }
    };
}

for_every_b3_sdk! {
    b3_extract_edge_cases,
    b3_inject_writes,
}

/// The drivers' answers to `propagators` they cannot build (the in-process
/// Rust SDK takes them as a typed `ServiceConfig`).
mod b3_protocol {
    use super::*;
    sdk_module!(python, tracewright::sut::sdk::SdkKind::Python, [b3_propagators_are_read_and_refused_by_name]);
    sdk_module!(js, tracewright::sut::sdk::SdkKind::Js, [b3_propagators_are_read_and_refused_by_name]);
    sdk_module!(go, tracewright::sut::sdk::SdkKind::Go, [b3_propagators_are_read_and_refused_by_name]);
    sdk_module!(java, tracewright::sut::sdk::SdkKind::Java, [b3_propagators_are_read_and_refused_by_name]);
}

/// The HTTP stacks: the per-service propagator also behind the instrumented
/// servers and clients (Java has no HTTP transport).
mod b3_http {
    use super::*;
    sdk_module!(rust, tracewright::sut::sdk::SdkKind::Rust, [b3_over_http]);
    sdk_module!(python, tracewright::sut::sdk::SdkKind::Python, [b3_over_http]);
    sdk_module!(js, tracewright::sut::sdk::SdkKind::Js, [b3_over_http]);
    sdk_module!(go, tracewright::sut::sdk::SdkKind::Go, [b3_over_http]);
}

/// A 128-bit and a 64-bit B3 trace id, the 64-bit one widened by zeros on
/// the left (as the B3 reference widens it), a span id and a parent span id
/// (the B3 README's examples).
const B3_T128: &str = "80f198ee56343ba864fe8b2a57d3eff7";
const B3_T64: &str = "64fe8b2a57d3eff7";
const B3_W64: &str = "000000000000000064fe8b2a57d3eff7";
const B3_S: &str = "e457b5a2e4d86bd1";
const B3_P: &str = "05e3ac9a4f6e3b90";

/// `configure` through the raw protocol, since a `ServiceConfig` has no
/// propagators: (name, sampler, propagators; `None` leaves the field out).
fn configure_propagators(sdk: &mut dyn Sdk, services: &[(&str, &str, Option<&[&str]>)]) {
    let response = sdk.raw(&configure_line(services)).unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(response["ok"], true, "{response}");
}

fn configure_line(services: &[(&str, &str, Option<&[&str]>)]) -> String {
    let services: Vec<serde_json::Value> = services
        .iter()
        .map(|(name, sampler, propagators)| {
            let mut service = serde_json::json!({"name": name, "sampler": sampler});
            if let Some(propagators) = propagators {
                service["propagators"] = serde_json::json!(propagators);
            }
            service
        })
        .collect();
    serde_json::json!({"id": 900, "op": "configure", "services": services}).to_string()
}

/// An extracted context as the tables write it: `invalid`, or
/// `{trace id} {span id} {1|0}` (sampled or not).
fn b3_seen(cx: &Extracted) -> String {
    if cx.valid {
        b3_ctx(&cx.trace_id, &cx.span_id, cx.sampled)
    } else {
        "invalid".into()
    }
}

fn b3_ctx(trace_id: &str, span_id: &str, sampled: bool) -> String {
    format!("{trace_id} {span_id} {}", if sampled { 1 } else { 0 })
}

/// The same expectation for every SDK.
fn b3_all(expected: String) -> [String; 5] {
    [expected.clone(), expected.clone(), expected.clone(), expected.clone(), expected]
}

fn b3_propagators_are_read_and_refused_by_name(sdk: &mut dyn Sdk, _: SdkKind) {
    configure(sdk, &[("orders", SamplerKind::AlwaysOn)]);
    let before = start(sdk, "orders", "before", None);
    let line = |propagators: serde_json::Value| {
        serde_json::json!({"id": 901, "op": "configure", "services": [
            {"name": "a", "sampler": "always_on", "propagators": ["b3"]},
            {"name": "b", "sampler": "always_on", "propagators": propagators}]})
        .to_string()
    };
    for (propagators, message) in [
        (serde_json::json!(["b3", "zipkin"]), r#"unknown propagator: "zipkin""#),
        (serde_json::json!(["B3"]), r#"unknown propagator: "B3""#),
        (serde_json::json!([]), "field 'propagators' must be a non-empty list of strings"),
        (serde_json::json!("b3"), "field 'propagators' must be a non-empty list of strings"),
        (serde_json::json!([3]), "field 'propagators' must be a non-empty list of strings"),
    ] {
        let response = sdk.raw(&line(propagators.clone())).unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(response["ok"], false, "{propagators} -> {response}");
        assert_eq!(response["error"], message, "{propagators} -> {response}");
    }
    // A refused configure keeps the services.
    end(sdk, &before.span);
    assert_eq!(spans(sdk).len(), 1);
    // Absent and null mean ["tracecontext"]; an explicit one writes the same.
    let response = sdk
        .raw(r#"{"id": 902, "op": "configure", "services": [{"name": "absent", "sampler": "always_on"}, {"name": "null", "sampler": "always_on", "propagators": null}, {"name": "w3c", "sampler": "always_on", "propagators": ["tracecontext"]}]}"#)
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(response["ok"], true, "{response}");
    let span = start(sdk, "absent", "op", None);
    for service in ["absent", "null", "w3c"] {
        let carrier = inject(sdk, service, &span.span);
        assert_eq!(
            carrier.keys().map(String::as_str).collect::<Vec<_>>(),
            ["traceparent"],
            "{service}: {carrier:?}"
        );
    }
}

/// What each SDK's B3 propagator extracts from B3 headers: the table's
/// rows are (what, the service's propagators, headers, python, js, go,
/// java). A 64-bit trace id is widened with zeros on the left by all four.
fn b3_extract_edge_cases(sdk: &mut dyn Sdk, kind: SdkKind) {
    configure_propagators(
        sdk,
        &[
            ("single", "parentbased_always_on", Some(&["b3"])),
            ("multi", "parentbased_always_on", Some(&["b3multi"])),
            ("w3c", "parentbased_always_on", None),
            ("b3_then_w3c", "parentbased_always_on", Some(&["b3multi", "tracecontext"])),
            ("w3c_then_b3", "parentbased_always_on", Some(&["tracecontext", "b3multi"])),
        ],
    );
    let (t, t64, w64, s, p) = (B3_T128, B3_T64, B3_W64, B3_S, B3_P);
    let ok = |trace_id: &str, sampled: bool| b3_ctx(trace_id, s, sampled);
    let no = || "invalid".to_string();
    let upper = t.to_uppercase();
    let zeros32 = "0".repeat(32);
    let zeros16 = "0".repeat(16);
    let t20 = &t[..20];
    let single = |v: String| vec![("b3", v)];
    let multi = |fields: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        fields.iter().map(|(k, v)| (*k, v.to_string())).collect()
    };
    type Row = (&'static str, &'static str, Vec<(&'static str, String)>, [String; 5]);
    let rows: Vec<Row> = vec![
        // ---- the single header, `b3: {TraceId}-{SpanId}-{SamplingState}-{ParentSpanId}`
        ("128-bit, sampled", "single", single(format!("{t}-{s}-1")), b3_all(ok(t, true))),
        // The README does not say how a 64-bit trace id becomes 128 bits;
        // all four pad zeros on the left (Python parses the hex into a
        // number; JS and Go prepend 16 zeros; Java's padLeft), as the
        // reference in tracewright::b3 does.
        ("64-bit trace id", "single", single(format!("{t64}-{s}-1")), b3_all(ok(w64, true))),
        ("deny", "single", single(format!("{t}-{s}-0")), b3_all(ok(t, false))),
        // Rust's B3 propagator reads `d` as its own debug trace flag (0x04)
        // without the sampled flag (extract_sampled_state: "d" =>
        // TRACE_FLAG_DEBUG), so the debug trace is not sampled: the B3
        // README's "Debug ... implies accept" is lost.
        ("debug d", "single", single(format!("{t}-{s}-d")), [ok(t, false), ok(t, true), ok(t, true), ok(t, true), ok(t, true)]),
        // Two parts: the sampling decision is deferred to the receiver (B3
        // README: "Absent means defer the decision"). No SDK defers: an
        // OpenTelemetry span context has only a sampled flag. Python records
        // it as sampled ("the b3 spec calls for the sampling state to be
        // deferred ... we set it as recorded": B3MultiFormat.extract sets
        // sampled = "1" before splitting the single header); JS, Go and Java
        // read it as not sampled, so a parent-based sampler denies where the
        // receiver was to decide (Go also keeps "deferred" in the context and
        // passes it on, see b3_inject_writes; Rust keeps it as a trace flag,
        // 0x02, the bit W3C calls random-trace-id).
        ("deferred (2 parts)", "single", single(format!("{t}-{s}")), [ok(t, false), ok(t, true), ok(t, false), ok(t, false), ok(t, false)]),
        ("4 parts, ParentSpanId", "single", single(format!("{t}-{s}-1-{p}")), b3_all(ok(t, true))),
        ("4 parts, deny", "single", single(format!("{t}-{s}-0-{p}")), b3_all(ok(t, false))),
        // A ParentSpanId that is no id: Go (extractSingle parses it,
        // errInvalidParentSpanIDValue) and Rust (extract_single_header checks
        // the fourth part as a span id) refuse; Python and Java never read the
        // fourth part, and JS's unanchored regex matches the head.
        ("4 parts, bad ParentSpanId", "single", single(format!("{t}-{s}-1-xxxxxxxxxxxxxxxx")), [no(), ok(t, true), ok(t, true), no(), ok(t, true)]),
        // Five parts: Python (split("-", 4) gives five fields), Java and Rust
        // (more than 4 parts) refuse; JS's unanchored regex takes the first
        // four; Go refuses by length.
        ("5 parts", "single", single(format!("{t}-{s}-1-{p}-{p}")), [no(), no(), ok(t, true), no(), no()]),
        // `true` is no single-header sampling state (1, 0 or d). Python takes
        // it as sampled (its accepted values are 1, True, true, d), Java too
        // (Boolean.parseBoolean); JS's regex matches `{t}-{s}` without a state
        // (not sampled); Go refuses the header by its length, Rust by the
        // state.
        ("sampling state true", "single", single(format!("{t}-{s}-true")), [no(), ok(t, true), ok(t, false), no(), ok(t, true)]),
        // An unknown state character: Python, JS and Java read it as not
        // sampled; Go (errInvalidSampledByte) and Rust refuse it.
        ("sampling state x", "single", single(format!("{t}-{s}-x")), [no(), ok(t, false), ok(t, false), no(), ok(t, false)]),
        // A sampling state alone carries no ids: no context in any SDK, so
        // the decision itself is lost (see b3_inject_writes for what a new
        // root then writes).
        ("b3: 0", "single", single("0".into()), b3_all(no())),
        ("b3: d", "single", single("d".into()), b3_all(no())),
        ("b3: 1", "single", single("1".into()), b3_all(no())),
        // B3 ids are lower-hex. Python parses ids with int(_, 16) and
        // accepts upper case (its regex is [\da-fA-F]); JS's regex, Go's
        // TraceIDFromHex, Java's TraceIdHex and Rust's extract_trace_id
        // (to_lowercase() != id) want lower case.
        ("upper-case hex", "single", single(format!("{upper}-{s}-1")), [no(), ok(t, true), no(), no(), no()]),
        ("all-zero trace id", "single", single(format!("{zeros32}-{s}-1")), b3_all(no())),
        ("all-zero 64-bit trace id", "single", single(format!("{zeros16}-{s}-1")), b3_all(no())),
        ("all-zero span id", "single", single(format!("{t}-{zeros16}-1")), b3_all(no())),
        // ---- both encodings present: the single header wins (B3 README:
        // "The single-header variant takes precedence").
        (
            "single and multi",
            "single",
            [single(format!("{t}-{s}-1")), multi(&[("x-b3-traceid", TRACE_ID), ("x-b3-spanid", SPAN_ID), ("x-b3-sampled", "0")])].concat(),
            b3_all(ok(t, true)),
        ),
        // An invalid single header beside valid multi headers: Python and JS
        // try only the single header once it is there (B3MultiFormat.extract
        // reads the multi headers only when there is no `b3`; B3Propagator
        // picks B3SinglePropagator when `b3` is set); Go and Java fall back
        // to the multi headers (Go's Extract when extractSingle fails, Java's
        // extractor chain, Rust's extract_single_header(..).or_else(multi)).
        (
            "bad single, good multi",
            "single",
            [single("garbage".into()), multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "1")])].concat(),
            [ok(t, true), no(), no(), ok(t, true), ok(t, true)],
        ),
        // `b3: 0` (deny, no ids) beside sampled multi headers: Go, Java and
        // Rust fall back to the multi headers and sample, against the deny.
        (
            "b3: 0 and sampled multi",
            "single",
            [single("0".into()), multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "1")])].concat(),
            [ok(t, true), no(), no(), ok(t, true), ok(t, true)],
        ),
        // A repeated `b3` field: the README says "the first value wins".
        // Python and JS take the list and read its first value; Rust, Go and
        // Java get the values joined with "," (drivers/PROTOCOL.md,
        // `joined`), which is no B3 value.
        (
            "b3 twice",
            "single",
            vec![("b3", format!("{t}-{s}-1")), ("b3", format!("{TRACE_ID}-{SPAN_ID}-0"))],
            [no(), ok(t, true), ok(t, true), no(), no()],
        ),
        // ---- the multiple headers
        ("multi 128-bit", "multi", multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "1")]), b3_all(ok(t, true))),
        ("multi 64-bit trace id", "multi", multi(&[("x-b3-traceid", t64), ("x-b3-spanid", s), ("x-b3-sampled", "1")]), b3_all(ok(w64, true))),
        ("multi deny", "multi", multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "0")]), b3_all(ok(t, false))),
        // Missing X-B3-Sampled: deferred. Every SDK reads it as not sampled
        // here, Python too (its multi-header default is "0", unlike its
        // single-header one above).
        ("multi deferred", "multi", multi(&[("x-b3-traceid", t), ("x-b3-spanid", s)]), b3_all(ok(t, false))),
        // Debug is `X-B3-Flags: 1`, which implies accept.
        ("X-B3-Flags: 1", "multi", multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-flags", "1")]), b3_all(ok(t, true))),
        ("X-B3-Flags: 1, Sampled: 0", "multi", multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-flags", "1"), ("x-b3-sampled", "0")]), b3_all(ok(t, true))),
        // `X-B3-Sampled: d` is not B3 (d is the single header's debug).
        // Python accepts it as sampled (d is in its accepted values, shared by
        // both encodings); JS (getTraceFlags answers undefined) and Go
        // (errInvalidSampledHeader) refuse the context; Java reads it as not
        // sampled (Boolean.parseBoolean). Rust accepts `d` only in a
        // propagator that injects the single header (extract_sampled_state:
        // "d" if the inject encoding supports SingleHeader), so this b3multi
        // one refuses the context.
        ("X-B3-Sampled: d", "multi", multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "d")]), [no(), ok(t, true), no(), no(), ok(t, false)]),
        // true/false: the README lets "a lenient implementation" accept them;
        // all five do here.
        ("X-B3-Sampled: true", "multi", multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "true")]), b3_all(ok(t, true))),
        // ... but what Rust reads depends on what it injects: its `true` is
        // accepted only when the propagator does not inject the single header
        // (and `d` only when it does), so a b3 (single-injecting) service
        // refuses the same multi headers.
        (
            "X-B3-Sampled: true, read by a b3 service",
            "single",
            multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "true")]),
            [no(), ok(t, true), ok(t, true), ok(t, true), ok(t, true)],
        ),
        (
            "b3 d, read by a b3multi service",
            "multi",
            single(format!("{t}-{s}-d")),
            [no(), ok(t, true), ok(t, true), ok(t, true), ok(t, true)],
        ),
        ("X-B3-Sampled: false", "multi", multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "false")]), b3_all(ok(t, false))),
        // TRUE: Python knows 1, True, true, d only (not sampled); JS knows
        // true and True only and refuses the context; Go lower-cases the value
        // and Java uses Boolean.parseBoolean, which ignores case; Rust
        // matches "true" exactly and refuses the context.
        ("X-B3-Sampled: TRUE", "multi", multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "TRUE")]), [no(), ok(t, false), no(), ok(t, true), ok(t, true)]),
        // Upper-case ids: Python parses them into numbers (the context is
        // lower case again); JS checks them with the API's isValidTraceId,
        // which takes either case, and keeps them upper case; Go, Java and
        // Rust want lower case.
        (
            "multi upper-case hex",
            "multi",
            multi(&[("x-b3-traceid", &upper), ("x-b3-spanid", s), ("x-b3-sampled", "1")]),
            [no(), ok(t, true), ok(&upper, true), no(), no()],
        ),
        // X-B3-Sampled twice (1, then 0): the first wins in Python and JS;
        // the joined "1,0" is no sampling state to Rust and Go (the context
        // is refused) and not "true" to Java (not sampled).
        (
            "X-B3-Sampled twice",
            "multi",
            multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "1"), ("x-b3-sampled", "0")]),
            [no(), ok(t, true), ok(t, true), no(), ok(t, false)],
        ),
        ("multi all-zero trace id", "multi", multi(&[("x-b3-traceid", &zeros32), ("x-b3-spanid", s), ("x-b3-sampled", "1")]), b3_all(no())),
        ("multi trace id only", "multi", multi(&[("x-b3-traceid", t), ("x-b3-sampled", "1")]), b3_all(no())),
        // A trace id of 20 hex digits: JS pads any length up to 32 on the
        // left (getTraceId: padStart(32, '0')); the others want 16 or 32.
        (
            "multi 80-bit trace id",
            "multi",
            multi(&[("x-b3-traceid", t20), ("x-b3-spanid", s), ("x-b3-sampled", "1")]),
            [no(), no(), ok(&format!("{}{t20}", "0".repeat(12)), true), no(), no()],
        ),
        // X-B3-ParentSpanId that is no id: only Go refuses it (Rust checks it
        // and ignores the result: `let _ = self.extract_span_id(parent)`).
        (
            "multi bad ParentSpanId",
            "multi",
            multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-parentspanid", "xyz"), ("x-b3-sampled", "1")]),
            [ok(t, true), ok(t, true), ok(t, true), no(), ok(t, true)],
        ),
        // ---- which propagators read what
        ("B3 into a W3C-only service", "w3c", single(format!("{t}-{s}-1")), b3_all(no())),
        // Composites run every propagator in order, each on the context the
        // one before returned: of two valid contexts the last wins.
        (
            "traceparent and B3, b3multi,tracecontext",
            "b3_then_w3c",
            [vec![("traceparent", SAMPLED.to_string())], multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "0")])].concat(),
            b3_all(b3_ctx(TRACE_ID, SPAN_ID, true)),
        ),
        (
            "traceparent and B3, tracecontext,b3multi",
            "w3c_then_b3",
            [vec![("traceparent", SAMPLED.to_string())], multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "0")])].concat(),
            b3_all(ok(t, false)),
        ),
        // A propagator that finds nothing valid leaves the context as it was.
        (
            "bad traceparent, good B3, b3multi,tracecontext",
            "b3_then_w3c",
            [vec![("traceparent", format!("00-{zeros32}-{SPAN_ID}-01"))], multi(&[("x-b3-traceid", t), ("x-b3-spanid", s), ("x-b3-sampled", "1")])].concat(),
            b3_all(ok(t, true)),
        ),
        // ... except in Python, whose B3 extractor returns the all-zero ids as
        // a context of their own: its check `trace_id ==
        // trace.INVALID_TRACE_ID` compares the header's string with the
        // integer 0 and never holds, the zeros pass its regex, and the
        // invalid span context it builds replaces the one tracecontext found.
        (
            "good traceparent, all-zero B3, tracecontext,b3multi",
            "w3c_then_b3",
            [vec![("traceparent", SAMPLED.to_string())], multi(&[("x-b3-traceid", &zeros32), ("x-b3-spanid", s), ("x-b3-sampled", "0")])].concat(),
            [b3_ctx(TRACE_ID, SPAN_ID, true), no(), b3_ctx(TRACE_ID, SPAN_ID, true), b3_ctx(TRACE_ID, SPAN_ID, true), b3_ctx(TRACE_ID, SPAN_ID, true)],
        ),
        (
            "good traceparent, bad B3, tracecontext,b3multi",
            "w3c_then_b3",
            [vec![("traceparent", SAMPLED.to_string())], multi(&[("x-b3-traceid", "xyz"), ("x-b3-spanid", s), ("x-b3-sampled", "0")])].concat(),
            b3_all(b3_ctx(TRACE_ID, SPAN_ID, true)),
        ),
        (
            "good traceparent, single b3, b3multi,tracecontext",
            "b3_then_w3c",
            [vec![("traceparent", SAMPLED.to_string())], single(format!("{t}-{s}-0"))].concat(),
            b3_all(b3_ctx(TRACE_ID, SPAN_ID, true)),
        ),
    ];
    let mut wrong = Vec::new();
    for (what, service, headers, per_sdk) in &rows {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let cx = extract(sdk, service, &headers);
        let expected = pick_b3(kind, per_sdk);
        let seen = b3_seen(&cx);
        if seen != expected {
            wrong.push(format!("{what} {headers:?} via {service}: {seen}, expected {expected}"));
        } else if cx.valid {
            assert!(cx.remote, "{what}: {cx:?}");
        }
    }
    assert!(wrong.is_empty(), "{kind} disagrees with the pinned B3 table:\n{}", wrong.join("\n"));
}

/// A carrier as the inject table writes it: `name=value` in name order,
/// the span's trace and span ids written as `{t}` and `{s}`.
fn b3_written(carrier: &std::collections::BTreeMap<String, String>, span: &StartedSpan) -> String {
    carrier
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(&span.trace_id, "{t}").replace(&span.span_id, "{s}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What each SDK's B3 propagator writes: header names, sampled or debug,
/// and what survives of a debug or deferred decision from the parent. The
/// rows are (what, the parent's headers and the service that extracts them
/// or `None` for a root, the service that starts and injects the span,
/// python, js, go, java).
fn b3_inject_writes(sdk: &mut dyn Sdk, kind: SdkKind) {
    configure_propagators(
        sdk,
        &[
            ("single", "parentbased_always_on", Some(&["b3"])),
            ("multi", "parentbased_always_on", Some(&["b3multi"])),
            ("single_off", "always_off", Some(&["b3"])),
            ("multi_off", "always_off", Some(&["b3multi"])),
            ("b3_then_w3c", "parentbased_always_on", Some(&["b3multi", "tracecontext"])),
            ("w3c", "parentbased_always_on", None),
        ],
    );
    let (t, s) = (B3_T128, B3_S);
    let same = |rust: &str, python: &str, js: &str, go: &str, java: &str| {
        [rust.to_string(), python.to_string(), js.to_string(), go.to_string(), java.to_string()]
    };
    // Rust, Python, JS and Go write lower-case names; Java the README's
    // X-B3-TraceId etc. Rust's B3 propagator writes the multiple headers
    // whatever its encoding (its inject tests `support(&UnSpecified)`, and
    // any encoding & 0 == 0), so a b3 service also writes them.
    let rust_single = |state: &str| format!("b3={{t}}-{{s}}-{state} x-b3-sampled={state} x-b3-spanid={{s}} x-b3-traceid={{t}}");
    let multi_sampled = |v: &str| {
        same(
            &format!("x-b3-sampled={v} x-b3-spanid={{s}} x-b3-traceid={{t}}"),
            &format!("x-b3-sampled={v} x-b3-spanid={{s}} x-b3-traceid={{t}}"),
            &format!("x-b3-sampled={v} x-b3-spanid={{s}} x-b3-traceid={{t}}"),
            &format!("x-b3-sampled={v} x-b3-spanid={{s}} x-b3-traceid={{t}}"),
            &format!("X-B3-Sampled={v} X-B3-SpanId={{s}} X-B3-TraceId={{t}}"),
        )
    };
    type Row = (&'static str, Option<(&'static str, Vec<(&'static str, String)>)>, &'static str, [String; 5]);
    let d_single = || Some(("single", vec![("b3", format!("{t}-{s}-d"))]));
    let flags_multi = || Some(("multi", vec![("x-b3-traceid", t.to_string()), ("x-b3-spanid", s.to_string()), ("x-b3-flags", "1".to_string())]));
    let rows: Vec<Row> = vec![
        ("a sampled root, single", None, "single", same(&rust_single("1"), "b3={t}-{s}-1", "b3={t}-{s}-1", "b3={t}-{s}-1", "b3={t}-{s}-1")),
        ("an unsampled root, single", None, "single_off", same(&rust_single("0"), "b3={t}-{s}-0", "b3={t}-{s}-0", "b3={t}-{s}-0", "b3={t}-{s}-0")),
        ("a sampled root, multi", None, "multi", multi_sampled("1")),
        ("an unsampled root, multi", None, "multi_off", multi_sampled("0")),
        (
            "a sampled root, b3multi,tracecontext",
            None,
            "b3_then_w3c",
            // Python and Java set W3C's random-trace-id flag (02) on the ids
            // they generate (see inject_flags); Rust writes an empty
            // tracestate (see inject_writes_a_version_00_traceparent_...).
            same(
                "traceparent=00-{t}-{s}-01 tracestate= x-b3-sampled=1 x-b3-spanid={s} x-b3-traceid={t}",
                "traceparent=00-{t}-{s}-03 x-b3-sampled=1 x-b3-spanid={s} x-b3-traceid={t}",
                "traceparent=00-{t}-{s}-01 x-b3-sampled=1 x-b3-spanid={s} x-b3-traceid={t}",
                "traceparent=00-{t}-{s}-01 x-b3-sampled=1 x-b3-spanid={s} x-b3-traceid={t}",
                "X-B3-Sampled=1 X-B3-SpanId={s} X-B3-TraceId={t} traceparent=00-{t}-{s}-03",
            ),
        ),
        // A child of a debug (`d`) parent: the B3 README says debug is
        // propagated ("the same value should be consistently sent
        // downstream"). Python keeps no debug state (its SpanContext has only
        // the sampled flag) and writes 1; JS, Go and Java keep debug in the
        // context the extractor returned and write d again. Rust extracted an
        // unsampled parent (debug flag 0x04 without sampled), the
        // parent-based sampler drops the child, and a dropped span gets
        // default flags (opentelemetry_sdk's tracer): 0, debug gone.
        ("child of b3 d, single", d_single(), "single", same(&rust_single("0"), "b3={t}-{s}-1", "b3={t}-{s}-d", "b3={t}-{s}-d", "b3={t}-{s}-d")),
        // The same child written as multiple headers: debug is `X-B3-Flags:
        // 1`, "so don't also send the X-B3-Sampled header". JS keeps the
        // single header's "d" in the context and its multi injector writes
        // flags only for "1", so it writes sampled 1; Java writes both
        // X-B3-Flags and X-B3-Sampled.
        (
            "child of b3 d, multi",
            d_single(),
            "multi",
            same(
                "x-b3-sampled=0 x-b3-spanid={s} x-b3-traceid={t}",
                "x-b3-sampled=1 x-b3-spanid={s} x-b3-traceid={t}",
                "x-b3-sampled=1 x-b3-spanid={s} x-b3-traceid={t}",
                "x-b3-flags=1 x-b3-spanid={s} x-b3-traceid={t}",
                "X-B3-Flags=1 X-B3-Sampled=1 X-B3-SpanId={s} X-B3-TraceId={t}",
            ),
        ),
        (
            "child of X-B3-Flags: 1, multi",
            flags_multi(),
            "multi",
            same(
                "x-b3-flags=1 x-b3-spanid={s} x-b3-traceid={t}",
                "x-b3-sampled=1 x-b3-spanid={s} x-b3-traceid={t}",
                "x-b3-flags=1 x-b3-spanid={s} x-b3-traceid={t}",
                "x-b3-flags=1 x-b3-spanid={s} x-b3-traceid={t}",
                "X-B3-Flags=1 X-B3-Sampled=1 X-B3-SpanId={s} X-B3-TraceId={t}",
            ),
        ),
        // JS keeps the multi header's "1" as its debug value, and its single
        // injector writes that value as the sampling state: 1, not d. Rust's
        // X-B3-Flags: 1 is debug and sampled (0x05), which a sampled child
        // keeps (the SDK copies the parent's flags).
        ("child of X-B3-Flags: 1, single", flags_multi(), "single", same("b3={t}-{s}-d x-b3-flags=1 x-b3-spanid={s} x-b3-traceid={t}", "b3={t}-{s}-1", "b3={t}-{s}-1", "b3={t}-{s}-d", "b3={t}-{s}-d")),
        // A child of a deferred parent (no sampling state). Python extracted
        // it as sampled (see b3_extract_edge_cases), so the child is sampled;
        // the others extracted an unsampled parent and the parent-based
        // sampler follows it. Go keeps "deferred" in the context and writes
        // no sampling state at all, although its own span is not sampled.
        (
            "child of deferred, single",
            Some(("single", vec![("b3", format!("{t}-{s}"))])),
            "single",
            same(&rust_single("0"), "b3={t}-{s}-1", "b3={t}-{s}-0", "b3={t}-{s}", "b3={t}-{s}-0"),
        ),
        (
            "child of deferred, multi",
            Some(("multi", vec![("x-b3-traceid", t.to_string()), ("x-b3-spanid", s.to_string())])),
            "multi",
            same(
                "x-b3-sampled=0 x-b3-spanid={s} x-b3-traceid={t}",
                "x-b3-sampled=0 x-b3-spanid={s} x-b3-traceid={t}",
                "x-b3-sampled=0 x-b3-spanid={s} x-b3-traceid={t}",
                "x-b3-spanid={s} x-b3-traceid={t}",
                "X-B3-Sampled=0 X-B3-SpanId={s} X-B3-TraceId={t}",
            ),
        ),
        // `b3: d` alone extracts no context (b3_extract_edge_cases), so the
        // span is a new root, sampled by parentbased_always_on. Go's
        // extractSingle has already put debug into the context it returns,
        // and its injector writes d for the new trace.
        ("new root after b3: d", Some(("single", vec![("b3", "d".to_string())])), "single", same(&rust_single("1"), "b3={t}-{s}-1", "b3={t}-{s}-1", "b3={t}-{s}-d", "b3={t}-{s}-1")),
        // `b3: 0` alone: the deny decision is lost with the missing ids; the
        // new root is sampled in every SDK.
        ("new root after b3: 0", Some(("single", vec![("b3", "0".to_string())])), "single", same(&rust_single("1"), "b3={t}-{s}-1", "b3={t}-{s}-1", "b3={t}-{s}-1", "b3={t}-{s}-1")),
        // A debug parent relayed by a b3multi,tracecontext service: the
        // traceparent says sampled (01) in every SDK, debug travels in B3
        // only. Rust keeps debug as a trace flag (0x04) in the span context,
        // but its W3C propagator writes the sampled bit alone.
        (
            "child of X-B3-Flags: 1, b3multi,tracecontext",
            flags_multi(),
            "b3_then_w3c",
            same(
                "traceparent=00-{t}-{s}-01 tracestate= x-b3-flags=1 x-b3-spanid={s} x-b3-traceid={t}",
                "traceparent=00-{t}-{s}-01 x-b3-sampled=1 x-b3-spanid={s} x-b3-traceid={t}",
                "traceparent=00-{t}-{s}-01 x-b3-flags=1 x-b3-spanid={s} x-b3-traceid={t}",
                "traceparent=00-{t}-{s}-01 x-b3-flags=1 x-b3-spanid={s} x-b3-traceid={t}",
                "X-B3-Flags=1 X-B3-Sampled=1 X-B3-SpanId={s} X-B3-TraceId={t} traceparent=00-{t}-{s}-01",
            ),
        ),
    ];
    let mut wrong = Vec::new();
    for (what, parent, service, per_sdk) in &rows {
        let context = parent.as_ref().map(|(extracting, headers)| {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            extract(sdk, extracting, &headers).context.clone()
        });
        let span = start(sdk, service, "op", context.as_deref());
        let written = b3_written(&inject(sdk, service, &span.span), &span);
        let expected = pick_b3(kind, per_sdk);
        if written != expected {
            wrong.push(format!("{what}: wrote {written}, expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{kind} disagrees with the pinned B3 inject table:\n{}", wrong.join("\n"));

    // A child of a 64-bit trace id: every SDK writes the widened 128-bit
    // form onwards (32 digits, 16 zeros first), never the 64-bit id it
    // received; B3 allows either length, so a receiver that keeps only 64
    // bits must read the low half.
    for (extracting, headers, service) in [
        ("single", vec![("b3", format!("{B3_T64}-{s}-1"))], "single"),
        ("multi", vec![("x-b3-traceid", B3_T64.to_string()), ("x-b3-spanid", s.to_string()), ("x-b3-sampled", "1".to_string())], "multi"),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let cx = extract(sdk, extracting, &headers);
        let child = start(sdk, service, "op", Some(&cx.context));
        assert_eq!(child.trace_id, B3_W64, "{headers:?}");
        let carrier = inject(sdk, service, &child.span);
        let written: Vec<&String> = carrier
            .iter()
            .filter(|(k, _)| k.as_str() == "b3" || k.eq_ignore_ascii_case("x-b3-traceid"))
            .map(|(_, v)| v)
            .collect();
        assert!(!written.is_empty() && written.iter().all(|v| v.starts_with(B3_W64)), "{headers:?} -> {carrier:?}");
    }

    // Upper-case B3 ids relayed by a b3multi,tracecontext service. Python
    // parsed them into numbers and writes lower case; JS keeps the ids as
    // received (the API's isValidTraceId takes either case) and writes them
    // upper case into the traceparent too, which a W3C-only next hop refuses
    // (W3C: lower-case hex; traceparent_edge_cases), so the trace restarts
    // there; Rust, Go and Java refused the ids and started a new trace.
    let upper = t.to_uppercase();
    let cx = extract(sdk, "b3_then_w3c", &[("x-b3-traceid", &upper), ("x-b3-spanid", s), ("x-b3-sampled", "1")]);
    let child = start(sdk, "b3_then_w3c", "op", Some(&cx.context));
    let carrier = inject(sdk, "b3_then_w3c", &child.span);
    let traceparent = carrier.get("traceparent").expect("the composite writes a traceparent").clone();
    let relayed = match traceparent.split('-').nth(1) {
        Some(id) if id == upper => "upper case",
        Some(id) if id == t => "lower case",
        _ => "a new trace",
    };
    assert_eq!(relayed, pick_b3(kind, &["a new trace", "lower case", "upper case", "a new trace", "a new trace"]), "{carrier:?}");
    let next_hop = extract(sdk, "w3c", &[("traceparent", &traceparent)]);
    assert_eq!(next_hop.valid, relayed != "upper case", "a W3C-only next hop reading {traceparent}: {next_hop:?}");
}

/// B3 behind the SDKs' instrumented HTTP servers and clients, each service
/// with its own propagators in one driver: what the server extracted from
/// B3 request headers, and which headers the client wrote.
fn b3_over_http(sdk: &mut dyn Sdk, kind: SdkKind) {
    let stacks = sdk.hello().unwrap_or_else(|e| panic!("{}", e.render())).http_stacks;
    assert!(!stacks.is_empty(), "{kind} has an HTTP transport");
    let services: &[(&str, &str, Option<&[&str]>)] = &[
        ("w3c", "parentbased_always_on", None),
        ("single", "parentbased_always_on", Some(&["b3"])),
        ("multi", "parentbased_always_on", Some(&["b3multi"])),
        ("b3_then_w3c", "parentbased_always_on", Some(&["b3multi", "tracecontext"])),
    ];
    let (t64, w64, s) = (B3_T64, B3_W64, B3_S);
    let b3_headers = vec![("b3", format!("{t64}-{s}-d"))];
    let multi_headers = vec![("x-b3-traceid", t64.to_string()), ("x-b3-spanid", s.to_string()), ("x-b3-flags", "1".to_string())];
    let both = vec![("traceparent", SAMPLED.to_string()), ("x-b3-traceid", t64.to_string()), ("x-b3-spanid", s.to_string()), ("x-b3-sampled", "0".to_string())];
    let java_names = vec![("X-B3-TraceId", t64.to_string()), ("X-B3-SpanId", s.to_string()), ("X-B3-Sampled", "1".to_string())];
    // (service, request headers, extracted): the same answers as over the API.
    let extractions = [
        // Rust reads d as not sampled (b3_extract_edge_cases).
        ("single", &b3_headers, b3_ctx(w64, s, kind != SdkKind::Rust)),
        ("multi", &multi_headers, b3_ctx(w64, s, true)),
        ("w3c", &b3_headers, "invalid".to_string()),
        ("w3c", &multi_headers, "invalid".to_string()),
        ("b3_then_w3c", &both, b3_ctx(TRACE_ID, SPAN_ID, true)),
        ("single", &both, b3_ctx(w64, s, false)),
        // The names as the Java SDK writes them: HTTP names are
        // case-insensitive, and every server stack hands them on so.
        ("multi", &java_names, b3_ctx(w64, s, true)),
    ];
    // (service, the B3 and W3C header names its client writes, lower-cased).
    let injections = [
        ("w3c", "traceparent"),
        // Rust's b3 also writes the multiple headers (b3_inject_writes).
        ("single", if kind == SdkKind::Rust { "b3 x-b3-sampled x-b3-spanid x-b3-traceid" } else { "b3" }),
        ("multi", "x-b3-sampled x-b3-spanid x-b3-traceid"),
        ("b3_then_w3c", "traceparent x-b3-sampled x-b3-spanid x-b3-traceid"),
    ];
    let mut wrong = Vec::new();
    for stack in &stacks {
        let inner = tracewright::sut::sdk::open(kind, &repo()).unwrap_or_else(|e| panic!("{}", e.render()));
        let mut http = tracewright::sut::sdk::HttpSdk::new(inner, Some(stack.clone())).unwrap_or_else(|e| panic!("{}", e.render()));
        configure_propagators(&mut http, services);
        for (service, headers, expected) in &extractions {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let cx = extract(&mut http, service, &headers);
            let seen = b3_seen(&cx);
            if &seen != expected {
                wrong.push(format!("{stack}: {service} extracted {seen} from {headers:?}, expected {expected}"));
            }
        }
        // A `b3: ...-d` request whose handler calls on (the service's own
        // client, inside the server span): the debug decision passed on, as
        // over the API (b3_inject_writes: Python writes 1, JS and Go d; Rust
        // read the d as unsampled and writes 0).
        let forward = http.capture().url();
        let body = serde_json::json!([{"url": forward, "arguments": {}}]).to_string();
        http.capture().drain();
        let response = http
            .send("single", &[("b3".to_string(), format!("{t64}-{s}-d"))], body.as_bytes())
            .unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
        let head = http.capture().next(tracewright::sut::sdk::http::HTTP_TIMEOUT).expect("the handler's call");
        let head = tracewright::sut::sdk::http::Head::parse(&head).expect("an HTTP head");
        let b3: Vec<&str> = head.values("b3");
        let state = b3.first().and_then(|v| v.strip_prefix(&format!("{w64}-"))).and_then(|v| v.rsplit('-').next());
        let expected = pick_b3(kind, &[Some("0"), Some("1"), Some("d"), Some("d"), None]);
        if b3.len() != 1 || state != expected {
            wrong.push(format!("{stack}: the single server's handler called on with b3 {b3:?}, expected sampling state {expected:?}"));
        }
        for (service, expected) in injections {
            let span = start(&mut http, service, "op", None);
            http.capture().drain();
            let called = http
                .http_call(&tracewright::sut::sdk::HttpCall {
                    service: service.into(),
                    span: span.span.clone(),
                    url: http.capture().url(),
                    stack: Some(stack.clone()),
                })
                .unwrap_or_else(|e| panic!("{}", e.render()));
            let head = http.capture().next(tracewright::sut::sdk::http::HTTP_TIMEOUT).expect("the client's request");
            let head = tracewright::sut::sdk::http::Head::parse(&head).expect("an HTTP head");
            let mut names: Vec<String> = head
                .fields
                .iter()
                .map(|(n, _)| n.to_ascii_lowercase())
                .filter(|n| n == "traceparent" || n == "b3" || n.starts_with("x-b3-"))
                .collect();
            names.sort();
            if names.join(" ") != expected {
                wrong.push(format!("{stack}: the {service} client wrote {names:?}, expected {expected}"));
            }
            // The headers carry the client span's ids.
            let client = called.client_span;
            for (name, value) in &head.fields {
                let name = name.to_ascii_lowercase();
                let value = value.as_str();
                let carries = match name.as_str() {
                    "b3" => value == format!("{}-{}-1", client.trace_id, client.span_id),
                    "x-b3-traceid" => value == client.trace_id,
                    "x-b3-spanid" => value == client.span_id,
                    "x-b3-sampled" => value == "1",
                    "traceparent" => value == format!("00-{}-{}-01", client.trace_id, client.span_id) || value == format!("00-{}-{}-03", client.trace_id, client.span_id),
                    _ => true,
                };
                if !carries {
                    wrong.push(format!("{stack}: the {service} client wrote {name}: {value} for {client:?}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{kind} over HTTP:\n{}", wrong.join("\n"));
}
