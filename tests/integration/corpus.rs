//! `conform --corpus`: the committed example corpus (`conformance/corpus/`)
//! run through every SDK, held to the expectations file, and the errors a
//! broken corpus gets.

use std::path::Path;

use tracewright::conformance::corpus::{self, Subject};
use tracewright::differential::HeaderLines;
use tracewright::expectations::{DEFAULT_PATH, Expectations};
use tracewright::headers::Carrier;
use tracewright::sut::sdk::SdkKind;

use crate::{open_sdk, repo, stderr, stdout, tracewright};

const CORPUS: &str = "conformance/corpus";

fn code(o: &std::process::Output) -> i32 {
    o.status.code().expect("exited")
}

fn expectations() -> Expectations {
    Expectations::load(&repo().join(DEFAULT_PATH)).expect("the committed expectations load")
}

/// The committed corpus is exactly what `corpus::generate` writes, so that it
/// follows the header families of `src/headers.rs`. Regenerate it with
/// `TRACEWRIGHT_BLESS=1 cargo test --test integration corpus`.
#[test]
fn the_committed_corpus_is_what_the_generator_writes() {
    let dir = repo().join(CORPUS);
    let generated = corpus::generate();
    if std::env::var_os("TRACEWRIGHT_BLESS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for old in std::fs::read_dir(&dir).unwrap() {
            std::fs::remove_file(old.unwrap().path()).unwrap();
        }
        for case in &generated {
            std::fs::write(dir.join(&case.name), corpus::case_file_text(case)).unwrap();
        }
    }
    let committed = corpus::load(&dir).expect("the committed corpus loads");
    assert_eq!(
        committed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        generated.iter().map(|c| c.name.as_str()).collect::<Vec<_>>()
    );
    for (c, g) in committed.iter().zip(&generated) {
        assert_eq!((&c.carrier, c.reader), (&g.carrier, g.reader), "{}", c.name);
        let text = std::fs::read_to_string(dir.join(&c.name)).unwrap();
        assert_eq!(text, corpus::case_file_text(g), "{} is written as the generator writes it", c.name);
    }
    assert!(generated.len() >= 30, "a few dozen cases, found {}", generated.len());
}

fn subjects(kinds: &[SdkKind]) -> Vec<Subject> {
    kinds
        .iter()
        .filter_map(|&kind| {
            let mut sdk = open_sdk(kind)?;
            let version = sdk.hello().expect("hello").sdk_version;
            Some(Subject { name: kind.name().to_string(), version, sdk })
        })
        .collect()
}

/// Every disagreement the committed corpus shows on any SDK is listed in the
/// expectations, and the cases pin well-known behaviour of each SDK.
#[test]
fn the_committed_corpus_conforms_to_the_expectations_on_every_sdk() {
    let cases = corpus::load(&repo().join(CORPUS)).unwrap();
    let exp = expectations();
    let mut subjects = subjects(&SdkKind::ALL);
    let outcome = corpus::run(&cases, &mut subjects, &|sut, class, layer| exp.expected_in(sut, class, layer.name()).is_some()).unwrap();
    let new: Vec<String> =
        outcome.divergences.iter().filter(|d| !d.expected).map(|d| format!("{} {} {:?}", d.sut, d.class, d.cases)).collect();
    assert_eq!(new, Vec::<String>::new(), "new divergences");
    let on = |sut: &str, case: &str| -> Vec<String> {
        let c = outcome.cases.iter().find(|c| c.case.name == case).expect("the case exists");
        match c.results.iter().find(|r| r.sut == sut) {
            Some(r) => r.findings.iter().map(|(f, _)| f.class.clone()).collect(),
            None => vec!["(not installed)".to_string()],
        }
    };
    // The specification's own example conforms everywhere.
    for s in &subjects {
        assert_eq!(on(&s.name, "spec-tracestate-04.json"), Vec::<String>::new(), "{}", s.name);
    }
    let installed = |sut: &str| subjects.iter().any(|s| s.name == sut);
    // Facts each SDK's source explains (see the `why` of each entry).
    if installed("go") {
        assert_eq!(on("go", "spec-traceparent-10.json"), ["traceparent/rejects-valid/version-00"]);
    }
    if installed("js") {
        assert_eq!(on("js", "tracestate-duplicatekey-1-same-key-twice.json"), ["tracestate/rewrites/forward"]);
    }
    if installed("python") {
        assert_eq!(on("python", "tracestate-edge-key-starting-with-a-digit.json"), ["tracestate/discards-valid/Level1Key"]);
    }
    if installed("java") {
        assert_eq!(on("java", "traceparent-whitespace-2-trailing-tab.json"), ["traceparent/rejects-valid/version-00"]);
    }
    if installed("rust") {
        assert_eq!(on("rust", "spec-traceparent-08.json"), ["traceparent/differs/random-flag", "inject/sends-empty/tracestate"]);
    }
}

/// Each expectation of a driver SDK is shown by its own example, run the
/// corpus way: an entry nobody can reproduce would accept nothing.
#[test]
fn every_driver_sdk_expectation_is_reproduced_by_its_example() {
    let exp = expectations();
    for kind in [SdkKind::Python, SdkKind::Js, SdkKind::Go, SdkKind::Java] {
        let Some(mut sdk) = open_sdk(kind) else { continue };
        corpus::configure(sdk.as_mut()).unwrap();
        // The HTTP stack's entries are shown over HTTP: tests/integration/http.rs.
        // The B3 entries are shown by b3_expectations_are_reproduced_by_their_examples.
        for entry in exp.entries().iter().filter(|e| e.sut == kind.name() && e.layer() == "propagator" && !e.class.starts_with("b3/")) {
            let lines = HeaderLines::parse(&entry.example).expect("examples are header lines");
            let carrier = Carrier::new(&lines.traceparent, &lines.tracestate);
            let seen = corpus::observe(sdk.as_mut(), &carrier).unwrap();
            let mut probe_sdk = tracewright::sut::sdk::open(kind, &repo()).unwrap();
            corpus::configure(probe_sdk.as_mut()).unwrap();
            let found = corpus::classify(&carrier, &seen, |k, v| corpus::refuses_member(probe_sdk.as_mut(), k, v).unwrap());
            let _ = probe_sdk.shutdown();
            assert!(
                found.iter().any(|f| f.class == entry.class && f.rule == entry.rule),
                "{kind}: the example of {} ({}) shows {found:?}",
                entry.class,
                entry.rule
            );
        }
        let _ = sdk.shutdown();
    }
}

/// Each B3 expectation is shown by its own example (B3 header lines), read
/// by the propagator its class names (`b3/<propagator>/…`), run the corpus
/// way on its SDK.
#[test]
fn b3_expectations_are_reproduced_by_their_examples() {
    let exp = expectations();
    let mut shown = 0;
    for kind in SdkKind::ALL {
        let entries: Vec<_> = exp.entries().iter().filter(|e| e.sut == kind.name() && e.class.starts_with("b3/")).collect();
        if entries.is_empty() {
            continue;
        }
        let Some(mut sdk) = open_sdk(kind) else { continue };
        corpus::configure(sdk.as_mut()).unwrap();
        for entry in entries {
            let propagator = entry.class.split('/').nth(1).unwrap();
            let reader = corpus::b3::Reader::parse(propagator).expect("a B3 class names its propagator");
            let mut carrier = Carrier::new(&[], &[]);
            for line in entry.example.lines() {
                let (name, value) = line.split_once(": ").unwrap();
                carrier.b3.insert(name.to_ascii_lowercase(), value.to_string());
            }
            let seen = corpus::observe_in(sdk.as_mut(), reader.service(), &carrier).unwrap();
            let found = corpus::b3::classify(&carrier, reader, &seen);
            assert!(
                found.iter().any(|f| f.class == entry.class && f.rule == entry.rule),
                "{kind}: the example of {} ({}) shows {found:?}",
                entry.class,
                entry.rule
            );
            shown += 1;
        }
        let _ = sdk.shutdown();
    }
    assert!(shown >= 5, "the B3 expectations are shown ({shown})");
}

fn write_case(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A broken corpus exits 2 before any SDK runs, naming the file, what was
/// expected and what to do; nothing is printed on stdout.
#[test]
fn a_bad_corpus_exits_2_with_a_message_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ok = corpus::case_file_text(&corpus::Case::w3c("ok".into(), Carrier::new(&["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], &[])));
    let broken: [(&str, &str); 5] = [
        ("not-json.json", "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n"),
        ("truncated.json", "{\"traceparent\": [\"00-4bf9"),
        ("a-string-not-a-list.json", "{\"traceparent\": \"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"}"),
        ("unknown-header.json", "{\"traceparent\": [], \"trace-state\": [\"a=1\"]}"),
        ("a-list.json", "[\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"]"),
    ];
    let mut messages = Vec::new();
    for (name, text) in broken {
        let case_dir = tempfile::tempdir().unwrap();
        write_case(case_dir.path(), "a-good-one.json", &ok);
        write_case(case_dir.path(), name, text);
        let o = tracewright(&["conform", "--corpus", case_dir.path().to_str().unwrap(), "--sut", "rust"]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{name}: nothing half-written");
        messages.push(stderr(&o).replace(&case_dir.path().display().to_string(), "[corpus]"));
    }
    let missing = dir.path().join("nowhere");
    let o = tracewright(&["conform", "--corpus", missing.to_str().unwrap(), "--sut", "rust"]);
    assert_eq!(code(&o), 2);
    messages.push(stderr(&o).replace(&dir.path().display().to_string(), "[tmp]"));
    let o = tracewright(&["conform", "--corpus", dir.path().to_str().unwrap(), "--sut", "rust"]);
    assert_eq!(code(&o), 2);
    messages.push(stderr(&o).replace(&dir.path().display().to_string(), "[tmp]"));
    insta::assert_snapshot!(messages.join("\n"));
}

/// A disagreement the expectations do not list fails the run (exit 1) and
/// is named, with its rule, as NEW; listing it makes the same run pass.
#[test]
fn a_divergence_missing_from_the_expectations_is_new_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let corpus_dir = dir.path().join("corpus");
    std::fs::create_dir(&corpus_dir).unwrap();
    // The Rust SDK keeps a member with an empty value, which the grammar forbids.
    write_case(
        &corpus_dir,
        "empty-value.json",
        r#"{"traceparent": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], "tracestate": ["foo="]}"#,
    );
    let none = dir.path().join("none.json");
    std::fs::write(&none, r#"{"version": 1, "divergences": []}"#).unwrap();
    let run = |expectations: &Path, format: &str| {
        tracewright(&[
            "conform",
            "--corpus",
            corpus_dir.to_str().unwrap(),
            "--sut",
            "rust",
            "--expectations",
            expectations.to_str().unwrap(),
            "--format",
            format,
        ])
    };
    let o = run(&none, "human");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("empty-value.json  continue, discarded   NEW/p"), "{text}");
    assert!(text.contains("tracestate/keeps-invalid/EmptyValue [tracestate: Value] in the propagator: NEW"), "{text}");
    assert!(text.contains("verdict: 1 new divergence(s)"), "{text}");

    let o = run(&none, "json");
    assert_eq!(code(&o), 1);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(doc["exit_code"], 1);
    let result = &doc["cases"][0]["results"][0];
    assert_eq!(result["sut"], "rust");
    assert_eq!(result["status"], "NEW/p");
    assert_eq!(result["observed"]["continued"], true);
    assert_eq!(result["observed"]["tracestate"], "foo=");
    assert_eq!(doc["cases"][0]["reference"]["tracestate"], "discarded");
    assert_eq!(doc["divergences"][0]["class"], "tracestate/keeps-invalid/EmptyValue");
    assert_eq!(doc["divergences"][0]["expected"], false);

    let o = run(&none, "junit");
    assert_eq!(code(&o), 1);
    let xml = stdout(&o);
    assert!(xml.contains(r#"<testcase name="empty-value.json" classname="conform.corpus.rust">"#), "{xml}");
    assert!(xml.contains(r#"<failure message="new divergence: tracestate/keeps-invalid/EmptyValue">"#), "{xml}");

    // The committed expectations list it.
    let o = run(&repo().join(DEFAULT_PATH), "human");
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("tracestate/keeps-invalid/EmptyValue [tracestate: Value] in the propagator: expected"));
}
