//! The differential between the W3C reference and the Rust SDK's propagator
//! (`tracewright::differential`), and the committed list of accepted
//! divergences it is held to (`conformance/expectations.json`).

use std::path::Path;

use tracewright::differential::{Differential, HeaderLines, SUT, Verdict};
use tracewright::headers::CarrierRef;
use tracewright::expectations::{DEFAULT_PATH, Expectations};

use crate::repo;

fn expectations() -> Expectations {
    Expectations::load(&repo().join(DEFAULT_PATH)).expect("the committed expectations load")
}

/// Each listed example shows exactly its class, under its rule, and nothing
/// else: an example that showed two classes could not tell which one an
/// entry accepts.
#[test]
fn every_expected_class_is_reproduced_by_its_example() {
    let expectations = expectations();
    let differential = Differential::new();
    assert!(!expectations.entries().is_empty());
    // The in-process differential calls the propagator API: the entries of
    // the HTTP stack are reproduced over HTTP (tests/integration/http.rs), and
    // the B3 classes against the B3 reference (corpus::b3_expectations_…).
    let in_api = |e: &&tracewright::expectations::Entry| e.sut == SUT && e.layer() == "propagator" && !e.class.starts_with("b3/");
    for entry in expectations.entries().iter().filter(in_api) {
        let lines = HeaderLines::parse(&entry.example).expect("examples are header lines");
        let verdict = differential.compare(lines.carrier());
        let found: Vec<(String, &str)> = verdict
            .disagreements()
            .iter()
            .map(|d| (d.class.to_string(), d.rule))
            .collect();
        assert_eq!(
            found,
            [(entry.class.clone(), entry.rule.as_str())],
            "example of {}:\n{}",
            entry.class,
            entry.example
        );
        assert!(expectations.expected(SUT, &entry.class).is_some());
    }
    let stale: Vec<_> = expectations.unmatched(SUT).into_iter().filter(in_api).collect();
    assert_eq!(stale, Vec::<&tracewright::expectations::Entry>::new());
}

/// Inputs on which the SDK does what the reference says, from each corner of
/// the grammar: the spec's examples, OWS, a higher version, a restart, and
/// lists the SDK cleans as the reference does.
#[test]
fn the_sdk_agrees_on_conforming_and_plainly_broken_inputs() {
    const V: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7";
    let sampled = format!("{V}-01");
    let not_sampled = format!("{V}-00");
    let ows = format!(" \t{V}-01\t ");
    let higher = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like";
    let upper_trace_id = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
    let zero_trace_id = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
    let version_ff = "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let cases: &[(&[&str], &[&str])] = &[
        (&[&sampled], &["congo=t61rcWkgMzE"]),
        (&[&not_sampled], &["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]),
        (&[&ows], &["foo=1 \t , \t bar=2, \t baz=3"]),
        (&[higher], &["congo=t61rcWkgMzE"]),
        (&[&sampled], &["foo=1,,bar=2", ""]),
        (&[&sampled], &["congo=congosFirstPosition,rojo=rojosFirstPosition,congo=congosSecondPosition"]),
        (&[upper_trace_id], &["congo=t61rcWkgMzE"]),
        (&[zero_trace_id], &[]),
        (&[version_ff], &["congo=t61rcWkgMzE"]),
        (&[], &["congo=t61rcWkgMzE"]),
        (&[], &[]),
    ];
    let differential = Differential::new();
    for &(traceparent, tracestate) in cases {
        let verdict = differential.compare(CarrierRef::new(traceparent, tracestate));
        assert_eq!(verdict, Verdict::Agree, "{traceparent:?} {tracestate:?}");
    }
    // Both discard these lists; the SDK then sends the empty list it holds,
    // which is the accepted `inject/sends-empty/tracestate` and nothing more.
    let traceparent = [sampled.as_str()];
    for tracestate in ["foo=1,Bar=2", "foo=1,bar", "foo=1,foo ,bar=2", ""] {
        let tracestate = [tracestate];
        let verdict = differential.compare(CarrierRef::new(&traceparent, &tracestate));
        let classes: Vec<String> = verdict.classes().map(|c| c.to_string()).collect();
        assert_eq!(classes, ["inject/sends-empty/tracestate"], "{tracestate:?}");
    }
}

#[test]
fn a_disagreement_reports_class_rule_both_sides_and_the_input() {
    let traceparent = ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"];
    let tracestate = ["congo=t61rcWkgMzE"];
    let verdict = Differential::new().compare(CarrierRef::new(&traceparent, &tracestate));
    let [found] = verdict.disagreements() else { panic!("one disagreement: {verdict:?}") };
    insta::assert_snapshot!(found.to_string(), @r#"
    traceparent/differs/random-flag: the rust SDK and the W3C reference disagree
      rule: Processing Model: A traceparent is Received
      sdk: continues with trace-id 4bf92f3577b34da6a3ce929d0e0e4736, parent-id 00f067aa0ba902b7, flags 01, tracestate "congo=t61rcWkgMzE"
      reference: continue trace 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03, carrying flags 03
      input: traceparent ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"], tracestate ["congo=t61rcWkgMzE"]
    "#);
}

/// One valid entry, for the malformed variants below to break.
const VALID_FILE: &str = r#"{
  "version": 1,
  "divergences": [
    {
      "sut": "rust",
      "class": "inject/sends-empty/tracestate",
      "rule": "tracestate Header Field Values",
      "example": "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "why": "a SHOULD"
    }
  ]
}
"#;

fn load_text(text: &str) -> Result<Expectations, String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("expectations.json");
    std::fs::write(&path, text).expect("write");
    Expectations::load(&path).map_err(|e| {
        let shown = e.to_string();
        shown.replace(&dir.path().display().to_string(), "<dir>")
    })
}

#[test]
fn the_loader_accepts_a_valid_file() {
    let loaded = load_text(VALID_FILE).expect("valid");
    assert_eq!(loaded.entries().len(), 1);
    assert_eq!(loaded.unmatched("rust").len(), 1);
    assert!(loaded.expected("rust", "inject/sends-empty/tracestate").is_some());
    assert!(loaded.unmatched("rust").is_empty());
}

#[test]
fn the_loader_rejects_malformed_files_with_file_and_line() {
    let cases: [(String, &str); 7] = [
        (
            VALID_FILE.replace("\"why\": \"a SHOULD\"", "\"why\": \"a SHOULD\","),
            "<dir>/expectations.json:10:5: expectations JSON is not valid",
        ),
        (VALID_FILE[..120].to_string(), "<dir>/expectations.json:7:8: expectations file is truncated"),
        (
            VALID_FILE.replace("\"why\": \"a SHOULD\"", "\"because\": \"a SHOULD\""),
            "<dir>/expectations.json:9:15: expectations file is not valid",
        ),
        (
            VALID_FILE.replace("\"version\": 1", "\"version\": 2"),
            "<dir>/expectations.json:2: expectations format 2 is newer than this tracewright",
        ),
        (
            VALID_FILE.replace("\"why\": \"a SHOULD\"", "\"why\": \"\""),
            "<dir>/expectations.json:6: `why` of class \"inject/sends-empty/tracestate\" is empty",
        ),
        (
            VALID_FILE.replace("\"example\": \"traceparent:", "\"example\": \"trace-parent:"),
            "<dir>/expectations.json:6: the example of class \"inject/sends-empty/tracestate\": line 1 is \"trace-parent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"; expected `traceparent: VALUE` or `tracestate: VALUE`",
        ),
        (
            VALID_FILE.replace("\"class\": \"inject/sends-empty/tracestate\"", "\"class\": \"inject\""),
            "<dir>/expectations.json:6: class \"inject\" is not of the form <stage>/<kind>/<detail>",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(text, message)| {
            let got = load_text(text).err();
            (got.as_deref() != Some(*message)).then(|| format!("expected {message:?}\n     got {got:?}\n  for {text}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let missing = Expectations::load(Path::new("/nonexistent/expectations.json"));
    assert!(missing.is_err());
}

/// Each committed regression under `fuzz/regressions/{traceparent,tracestate}`
/// is named by the class it shows (`/` written as `.`), still shows it, and
/// that class is listed in the expectations with its W3C rule: a regression
/// whose disagreement went away or changed class fails here.
#[test]
fn every_committed_regression_shows_the_class_it_is_named_by() {
    let expectations = expectations();
    let differential = Differential::new();
    let mut seen = 0;
    for target in ["traceparent", "tracestate"] {
        let dir = repo().join("fuzz/regressions").join(target);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let class = path.file_name().unwrap().to_string_lossy().replace('.', "/");
            let text = std::fs::read_to_string(&path).unwrap();
            let lines = HeaderLines::parse(&text).expect("regressions are header lines");
            let verdict = differential.compare(lines.carrier());
            let classes: Vec<String> = verdict.disagreements().iter().map(|d| d.class.to_string()).collect();
            assert!(classes.contains(&class), "{}: shows {classes:?}", path.display());
            let listed = expectations.expected(SUT, &class);
            assert!(listed.is_some_and(|e| !e.rule.is_empty()), "{}: {class} is not in {DEFAULT_PATH}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} regressions committed");
}
