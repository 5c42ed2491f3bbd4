//! The HTTP transport: every SDK through its real instrumented HTTP server
//! and client (`drivers/PROTOCOL.md`, "The HTTP transport"), the corpus and
//! the walks over it, and `tracewright serve` driven by a harness of our own
//! that speaks the W3C trace-context test-suite protocol.
//!
//! A missing driver fails these tests (never a silent skip): the HTTP
//! transport is installed by `bash ci/install-drivers.sh` with the drivers.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tracewright::conformance::corpus::{self, Layer, Subject};
use tracewright::differential::HeaderLines;
use tracewright::expectations::{DEFAULT_PATH, Expectations};
use tracewright::headers::Carrier;
use tracewright::sut::sdk::http::{self as transport, Capture, Head, HttpSdk, Transport};
use tracewright::sut::sdk::{self, Extract, Inject, Sdk, SamplerKind, SdkKind, ServiceConfig, StartSpan};

use crate::{repo, stdout, tracewright};

/// Every SDK over HTTP, and Python's second stack.
const SUTS: [&str; 5] = ["rust", "go", "python", "python:wsgi", "js"];

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Opens `name` over HTTP; a driver that is missing or has no HTTP stack
/// fails the test with the installer's hint.
fn open(name: &str) -> transport::Opened {
    match transport::open_named(name, &repo(), Some(Transport::Http)) {
        Ok(o) => o,
        Err(e) => panic!("{name} over http: {} (run `bash ci/install-drivers.sh`)", e.render()),
    }
}

fn configure(sdk: &mut dyn Sdk) {
    sdk.configure(&[ServiceConfig::new("svc", SamplerKind::ParentbasedAlwaysOn)]).unwrap();
}

/// A context sent over HTTP is extracted by the server's instrumentation, a
/// child continues it, and the instrumented client's request carries the
/// client span (a child of that child) in its traceparent, byte for byte on
/// the wire.
#[test]
fn each_stack_extracts_and_injects_over_real_http() {
    for name in SUTS {
        let mut o = open(name);
        assert_eq!(o.transport, Transport::Http);
        let sdk = o.sdk.as_mut();
        configure(sdk);
        let ext = sdk.extract(&Extract::headers("svc", &[("traceparent", TRACEPARENT), ("tracestate", "rojo=00f067aa0ba902b7")])).unwrap();
        assert!(ext.valid, "{name}: {ext:?}");
        assert_eq!((ext.trace_id.as_str(), ext.span_id.as_str()), (TRACE_ID, "00f067aa0ba902b7"), "{name}");
        assert_eq!(ext.tracestate, "rojo=00f067aa0ba902b7", "{name}");
        let child = sdk.start_span(&StartSpan { service: "svc".into(), name: "child".into(), parent: Some(ext.context.clone()) }).unwrap();
        assert_eq!(child.trace_id, TRACE_ID, "{name}");
        let injected = sdk.inject(&Inject { service: "svc".into(), span: child.span.clone() }).unwrap();
        let client = injected.client_span.clone().unwrap_or_else(|| panic!("{name}: no client span"));
        assert_eq!(client.parent_span_id, child.span_id, "{name}: the client span is the child's");
        assert_eq!(injected.carrier["traceparent"], format!("00-{TRACE_ID}-{}-01", client.span_id), "{name}");
        assert_eq!(injected.carrier.get("tracestate").map(String::as_str), Some("rojo=00f067aa0ba902b7"), "{name}");
        let wire = injected.wire.clone().unwrap_or_default();
        let head = Head::parse(wire.as_bytes()).unwrap();
        assert!(head.start.starts_with("GET /forward HTTP/1.1"), "{name}: {wire}");
        assert_eq!(head.values("traceparent").len(), 1, "{name}: one traceparent line: {wire}");
        sdk.end_span(&child.span).unwrap();
        let spans = sdk.spans().unwrap();
        assert!(spans.iter().any(|s| s.span_id == child.span_id && s.parent_span_id == "00f067aa0ba902b7"), "{name}: {spans:?}");
        sdk.shutdown().unwrap();
    }
}

/// What each stack makes of a field sent on two lines: the facts the
/// HTTP-stack entries of the expectations rest on, per SDK.
#[test]
fn repeated_field_lines_reach_each_propagator_as_its_stack_reads_them() {
    let two_lines = Extract {
        service: "svc".into(),
        carrier: [
            ("traceparent".to_string(), vec![TRACEPARENT.to_string()]),
            ("tracestate".to_string(), vec!["rojo=1".to_string(), "congo=2".to_string()]),
        ]
        .into_iter()
        .collect(),
    };
    let twice = Extract::headers("svc", &[("traceparent", TRACEPARENT), ("traceparent", TRACEPARENT)]);
    let mut held = Vec::new();
    for name in SUTS {
        let mut o = open(name);
        let sdk = o.sdk.as_mut();
        configure(sdk);
        let state = sdk.extract(&two_lines).unwrap();
        let repeated = sdk.extract(&twice).unwrap();
        held.push(format!("{name}: tracestate {:?}, traceparent twice → valid={}", state.tracestate, repeated.valid));
        sdk.shutdown().unwrap();
    }
    assert_eq!(
        held,
        [
            // http::HeaderMap::get: the first line.
            "rust: tracestate \"rojo=1\", traceparent twice → valid=true",
            // net/http Header.Get: the first line.
            "go: tracestate \"rojo=1\", traceparent twice → valid=true",
            // ASGI: every line, as a list; the propagator reads traceparent's first.
            "python: tracestate \"rojo=1,congo=2\", traceparent twice → valid=true",
            // wsgiref joins repeated fields with ',' into one environ value.
            "python:wsgi: tracestate \"rojo=1,congo=2\", traceparent twice → valid=false",
            // Node's http joins repeated fields with ', '.
            "js: tracestate \"rojo=1,congo=2\", traceparent twice → valid=false",
        ]
    );
}

/// The committed corpus over HTTP on every SDK: no divergence outside the
/// expectations, and each HTTP-stack entry is shown by its own example over
/// HTTP and not through the API.
#[test]
fn the_corpus_over_http_conforms_to_the_expectations_on_every_sdk() {
    let exp = Expectations::load(&repo().join(DEFAULT_PATH)).unwrap();
    let cases = corpus::load(&repo().join("conformance/corpus")).unwrap();
    let mut subjects: Vec<Subject> = SUTS
        .iter()
        .map(|name| {
            let o = open(name);
            Subject { name: o.name, version: o.version, sdk: o.sdk }
        })
        .collect();
    let base = |sut: &str| sut.split(':').next().unwrap_or(sut).to_string();
    let outcome = corpus::run(&cases, &mut subjects, &|sut, class, layer| exp.expected_in(&base(sut), class, layer.name()).is_some()).unwrap();
    let new: Vec<String> = outcome
        .divergences
        .iter()
        .filter(|d| !d.expected)
        .map(|d| format!("{} {} in the {} {:?}", d.sut, d.class, d.layer.name(), d.cases))
        .collect();
    assert_eq!(new, Vec::<String>::new(), "new divergences over http");

    for entry in exp.entries().iter().filter(|e| e.layer() == "http") {
        let Some(s) = subjects.iter_mut().find(|s| s.name == entry.sut) else {
            panic!("an http entry for {}, which this test does not run", entry.sut)
        };
        let lines = HeaderLines::parse(&entry.example).unwrap();
        let carrier = Carrier::new(&lines.traceparent, &lines.tracestate);
        let seen = corpus::observe(s.sdk.as_mut(), &carrier).unwrap();
        let found = corpus::classify(&carrier, &seen, |k, v| corpus::refuses_member(s.sdk.as_mut(), k, v).unwrap());
        assert!(found.iter().any(|f| f.class == entry.class), "{}: over http the example of {} shows {found:?}", entry.sut, entry.class);
        let api = s.sdk.api().expect("an HTTP subject has the API beside it");
        corpus::configure(api).unwrap();
        let seen = corpus::observe(api, &carrier).unwrap();
        let found = corpus::classify(&carrier, &seen, |k, v| corpus::refuses_member(api, k, v).unwrap());
        assert!(!found.iter().any(|f| f.class == entry.class), "{}: {} shows through the API too: not the HTTP stack's", entry.sut, entry.class);
        corpus::configure(s.sdk.as_mut()).unwrap();
    }
    for s in &mut subjects {
        let _ = s.sdk.shutdown();
    }
    let _ = Layer::Http;
}

/// `conform --corpus … --transport http` over every SDK in one command, with
/// the table telling propagator divergences from HTTP-stack ones.
#[test]
fn conform_corpus_over_http_runs_every_sdk_in_one_command() {
    let o = tracewright(&["conform", "--corpus", "conformance/corpus", "--sut", "rust,python,python:wsgi,js,go", "--transport", "http"]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", crate::stderr(&o));
    assert!(text.contains("(http: hyper)") && text.contains("(http: net/http)") && text.contains("(http: wsgi)"), "{text}");
    assert!(text.contains("tracestate/first-field-only/forward [tracestate Header Field Values] in the HTTP stack"), "{text}");
    assert!(text.contains("in the propagator"), "{text}");
    assert!(text.contains("expected/h"), "{text}");
}

/// Random walks of the model and a committed counterexample over HTTP.
#[test]
fn walks_and_replays_run_over_http() {
    let out = tempfile::tempdir().unwrap();
    let o = tracewright(&[
        "conform", "--sut", "rust,go,python,js", "--transport", "http", "--cases", "12", "--seed", "3", "--out", out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), crate::stderr(&o));
    let trace = crate::committed_trace("TraceContext.bug_WrongSpanId.ParentChildCorrect");
    for sut in ["rust", "go", "python", "js"] {
        let o = tracewright(&["replay", &trace, "--sut", sut, "--transport", "http"]);
        let text = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{sut}: {text}{}", crate::stderr(&o));
        assert!(text.contains("over http") && text.contains("reproduced: ParentChildCorrect"), "{sut}: {text}");
    }
}

/// A `tracewright serve` child, killed and reaped when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(sut: &str) -> (Served, SocketAddr) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .args(["serve", "--sut", sut, "--listen", &addr.to_string(), "--duration", "120"])
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let served = Served(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "serve --sut {sut} did not listen on {addr} within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    (served, addr)
}

/// Our own harness of the W3C test-suite protocol: POST /test a list of
/// `{"url", "arguments"}` with a traceparent/tracestate variant, and check
/// the callback the service makes: a POST of the arguments as JSON, with a
/// child's context (the same trace when the traceparent was valid, a new one
/// otherwise) and the tracestate propagated.
#[test]
fn serve_speaks_the_w3c_test_protocol_for_every_sdk() {
    let harness = Capture::start().unwrap();
    let variants: [(&str, &[(&str, &str)], bool); 4] = [
        ("valid", &[("traceparent", TRACEPARENT), ("tracestate", "foo=1,bar=2")], true),
        ("unsampled", &[("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")], true),
        ("invalid", &[("traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), ("tracestate", "foo=1")], false),
        ("none", &[], false),
    ];
    for sut in SUTS {
        let (_served, addr) = serve(sut);
        for (label, headers, continues) in variants {
            let fields: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            let body = format!(r#"[{{"url": "{}", "arguments": {{"case": "{label}"}}}}]"#, harness.url());
            harness.drain();
            let bytes = transport::request_bytes(&addr.to_string(), "/test", &fields, body.as_bytes());
            let response = transport::exchange(addr, &bytes, Duration::from_secs(20)).unwrap();
            assert_eq!(response.status, 200, "{sut} {label}: {}", String::from_utf8_lossy(&response.body));
            let (head, body) = harness.next_request(Duration::from_secs(10)).unwrap_or_else(|| panic!("{sut} {label}: no callback"));
            let head = Head::parse(&head).unwrap();
            assert!(head.start.starts_with("POST "), "{sut} {label}: {}", head.start);
            let args: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{sut} {label}: body {e}"));
            assert_eq!(args, serde_json::json!({"case": label}), "{sut} {label}");
            let tp = head.values("traceparent");
            assert_eq!(tp.len(), 1, "{sut} {label}: {head:?}");
            let parts: Vec<&str> = tp[0].split('-').collect();
            assert_eq!((parts.len(), parts[0]), (4, "00"), "{sut} {label}: {}", tp[0]);
            assert_ne!(parts[2], "00f067aa0ba902b7", "{sut} {label}: the callback comes from a child span");
            assert_eq!(parts[1] == TRACE_ID, continues, "{sut} {label}: {}", tp[0]);
            if label == "valid" {
                assert_eq!(head.values("tracestate"), ["foo=1,bar=2"], "{sut} {label}");
                assert_eq!(parts[3], "01", "{sut} {label}");
            }
            if label == "unsampled" {
                assert_eq!(parts[3], "00", "{sut} {label}: the sampled flag is propagated");
            }
            if label == "invalid" {
                // Rust and JS write an empty tracestate (an expected divergence of their propagators).
                assert!(head.values("tracestate").iter().all(|v| v.is_empty()), "{sut} {label}: a restarted trace drops tracestate");
            }
        }
    }
}

/// `serve` refuses what it cannot serve, with exit 2.
#[test]
fn serve_refuses_bad_input() {
    let o = tracewright(&["serve", "--sut", "cobol", "--listen", "127.0.0.1:0", "--duration", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = tracewright(&["serve", "--sut", "rust", "--listen", "10.1.2.3:80", "--duration", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = tracewright(&["serve", "--sut", "python:nope", "--listen", "127.0.0.1:0", "--duration", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", crate::stderr(&o));
}

/// The HTTP transport is only for SDKs; `api` still works everywhere.
#[test]
fn the_api_transport_stays_and_http_is_the_default() {
    let trace = crate::committed_trace("TraceContext.bug_NoInjection.TraceIdPreserved");
    let o = tracewright(&["replay", &trace, "--sut", "go"]);
    assert!(stdout(&o).contains("over http: net/http"), "{}", stdout(&o));
    let o = tracewright(&["replay", &trace, "--sut", "go", "--transport", "api"]);
    assert!(stdout(&o).contains("over api"), "{}", stdout(&o));
    let _ = HttpSdk::new(sdk::open(SdkKind::Rust, &repo()).unwrap(), None).unwrap();
}

/// Bytes only the HTTP transport can send, and what each stack makes of
/// them: header names in any case, optional whitespace, very long lines and
/// obsolete line folding (RFC 9112 5.2: a server either rejects it with 400
/// or replaces it with spaces). Each row is the status line's code and, when
/// the service saw the request, whether it continued the trace and how long
/// a tracestate it kept.
#[test]
fn casing_whitespace_long_lines_and_folding_per_stack() {
    let members: Vec<String> = (0..32).map(|i| format!("k{i}={}", "v".repeat(250))).collect();
    let cases: Vec<(&str, Vec<(String, String)>)> = vec![
        ("cased", vec![("TraceParent".into(), TRACEPARENT.into()), ("TRACESTATE".into(), "rojo=1".into())]),
        ("ows", vec![("traceparent".into(), format!("\t {TRACEPARENT} \t")), ("tracestate".into(), "  rojo=1  ".into())]),
        ("8k-tracestate", vec![("traceparent".into(), TRACEPARENT.into()), ("tracestate".into(), members.join(","))]),
        ("20k-line", vec![("traceparent".into(), TRACEPARENT.into()), ("tracestate".into(), format!("rojo=1,{}", "x".repeat(20_000)))]),
        ("70k-line", vec![("traceparent".into(), TRACEPARENT.into()), ("tracestate".into(), format!("rojo=1,{}", "x".repeat(70_000)))]),
        ("obs-fold", vec![("traceparent".into(), TRACEPARENT.into()), ("tracestate".into(), "rojo=1,\r\n congo=2".into())]),
    ];
    let mut rows = Vec::new();
    for name in SUTS {
        let (kind, stack) = match name.split_once(':') {
            Some((k, s)) => (k.parse::<SdkKind>().unwrap(), Some(s.to_string())),
            None => (name.parse::<SdkKind>().unwrap(), None),
        };
        let mut http = HttpSdk::new(sdk::open(kind, &repo()).unwrap_or_else(|e| panic!("{}", e.render())), stack).unwrap();
        configure(&mut http);
        for (label, fields) in &cases {
            let row = match http.send("svc", fields, b"[]") {
                Ok(r) if r.status == 200 => {
                    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                    format!("200 valid={} tracestate={}", v["valid"], v["tracestate"].as_str().unwrap_or_default().len())
                }
                Ok(r) => r.status.to_string(),
                // Node answers 431 and resets the connection while the request is still being written.
                Err(e) => format!("connection error ({})", e.render().lines().next().unwrap_or_default().contains("reset")),
            };
            rows.push(format!("{name} {label}: {row}"));
        }
        http.shutdown().unwrap();
    }
    let want = [
        "rust cased: 200 valid=true tracestate=6",
        "rust ows: 200 valid=true tracestate=6",
        "rust 8k-tracestate: 200 valid=true tracestate=8149",
        "rust 20k-line: 200 valid=true tracestate=0",
        "rust 70k-line: 200 valid=true tracestate=0",
        "rust obs-fold: 400",
        "go cased: 200 valid=true tracestate=6",
        "go ows: 200 valid=true tracestate=6",
        "go 8k-tracestate: 200 valid=true tracestate=8149",
        "go 20k-line: 200 valid=true tracestate=0",
        "go 70k-line: 200 valid=true tracestate=0",
        "go obs-fold: 200 valid=true tracestate=14",
        "python cased: 200 valid=true tracestate=6",
        "python ows: 200 valid=true tracestate=6",
        "python 8k-tracestate: 200 valid=true tracestate=8149",
        "python 20k-line: 200 valid=true tracestate=0",
        "python 70k-line: 200 valid=true tracestate=0",
        "python obs-fold: 200 valid=true tracestate=14",
        "python:wsgi cased: 200 valid=true tracestate=6",
        "python:wsgi ows: 200 valid=true tracestate=6",
        "python:wsgi 8k-tracestate: 200 valid=true tracestate=8149",
        "python:wsgi 20k-line: 200 valid=true tracestate=0",
        "python:wsgi 70k-line: 431",
        "python:wsgi obs-fold: 200 valid=true tracestate=0",
        "js cased: 200 valid=true tracestate=6",
        "js ows: 200 valid=true tracestate=6",
        "js 8k-tracestate: 200 valid=true tracestate=507",
        "js 20k-line: 431",
        "js 70k-line: JS",
        "js obs-fold: 400",
    ];
    for (row, want) in rows.iter().zip(want) {
        if want == "js 70k-line: JS" {
            assert!(row == "js 70k-line: 431" || row.starts_with("js 70k-line: connection error"), "{row}");
        } else {
            assert_eq!(row, want);
        }
    }
    assert_eq!(rows.len(), want.len());
}
