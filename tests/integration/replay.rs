//! Replaying committed counterexamples against the real SDKs, walks of the
//! model as conformance cases, and the span oracle over recorded spans.

use std::collections::BTreeSet;
use std::path::PathBuf;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use tracewright::conformance::walks::{self, Walk};
use tracewright::conformance::{trace_context, Verdict};
use tracewright::engine::open_trace;
use tracewright::expectations::Expectations;
use tracewright::model::SpecModel;
use tracewright::models::trace_context::TraceContext;
use tracewright::sut::sdk::{RustSdk, Sdk, SdkKind};

use crate::{committed_trace, open_sdk, repo, stdout, tracewright};

fn trace_context_traces() -> Vec<PathBuf> {
    // The model's counterexamples, and the divergences `conform` wrote.
    let mut files: Vec<PathBuf> = ["traces", "traces/conform"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(repo().join(dir)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().unwrap().to_string_lossy().starts_with("TraceContext."))
        .collect();
    files.sort();
    assert!(files.len() >= 18);
    files
}

/// Whether the trace's mesh speaks B3 (its verdicts are pinned by
/// [`b3_mesh_traces_replay_on_every_sdk_through_its_own_b3_propagators`]).
fn speaks_b3(path: &std::path::Path) -> bool {
    let (doc, _) = open_trace(path).unwrap();
    let (model, _) = tracewright::engine::model_path::<TraceContext>(&doc, path).unwrap();
    model.uses_b3()
}

/// The verdict's word and, for a divergence, its class.
fn verdict_class(v: &Verdict) -> String {
    match v {
        Verdict::Reproduced { property, .. } => format!("reproduced {property}"),
        Verdict::Conforms => "conforms".to_string(),
        Verdict::Diverged(d) => format!("diverged@{} {}", d.step, d.class),
    }
}

/// The B3 mesh counterexamples (web -W3C-> edge -composite-> legacy -B3
/// single-> orders) on every SDK, each service with its SDK's own B3
/// propagator as the model names it, over the propagator API:
///
/// - a B3-only hop into a W3C-only service restarts the trace on every SDK
///   (reproduced), except that the Rust SDK's B3 single-header propagator
///   also writes the multi headers (`B3Encoding::support(&UnSpecified)` is
///   always true), which the model's single-header hop does not;
/// - a 64-bit B3 trace id is widened on the left by every SDK, where the
///   counterexample needs `orders` to pad it on the right (`PadRight`);
/// - the B3 debug flag is read as sampled by every SDK, where the
///   counterexample needs `orders` to read it as unsampled
///   (`DebugUnsampled`).
///
/// The last two are findings about the model's seeded behaviours, not bugs
/// of the SDKs: B3 says to left-pad and that debug implies accept.
#[test]
fn b3_mesh_traces_replay_on_every_sdk_through_its_own_b3_propagators() {
    let traces = [
        "TraceContext.fault_B3IntoW3C.TraceIdPreserved",
        "TraceContext.fault_B3TraceId64.TraceIdPreserved",
        "TraceContext.fault_B3TraceId64.ParentChildCorrect",
        "TraceContext.fault_B3TraceId64.NoOrphanSpans",
        "TraceContext.fault_B3Debug.SamplingConsistent",
    ];
    let rust_single = "diverged@6 b3/b3/inject/form-both";
    let want = |kind: SdkKind, trace: &str| -> &'static str {
        match (kind, trace) {
            (SdkKind::Rust, _) => rust_single,
            (_, t) if t.contains("B3IntoW3C") => "reproduced TraceIdPreserved",
            (_, t) if t.contains("B3TraceId64") => "diverged@7 b3/trace-id-64/padded-left",
            _ => "diverged@7 sampling/parent-based",
        }
    };
    let mut opened = 0;
    for kind in SdkKind::ALL {
        let Some(mut sdk) = open_sdk(kind) else { continue };
        opened += 1;
        for trace in traces {
            let file = committed_trace(trace);
            assert!(speaks_b3(&repo().join(&file)));
            let v = replay_on(sdk.as_mut(), kind.name(), &file);
            assert_eq!(verdict_class(&v), want(kind, trace), "{trace} on {kind}: {}", summary(&v));
        }
        let _ = sdk.shutdown();
    }
    assert!(opened >= 1);
}

/// The B3 headers a replay wrote onto a carrier (the sender's 64-bit trace
/// id) are in the divergence's evidence, by name.
#[test]
fn a_b3_divergence_shows_the_b3_headers_sent() {
    let trace = committed_trace("TraceContext.fault_B3TraceId64.TraceIdPreserved");
    let o = tracewright(&["replay", &trace, "--sut", "java"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", String::from_utf8_lossy(&o.stderr));
    let b3 = regex::Regex::new(r#"headers: traceparent \[\], tracestate \[\], b3 "[0-9a-f]{16}-[0-9a-f]{16}-1""#).unwrap();
    assert!(b3.is_match(&out) && out.contains("class: b3/trace-id-64/padded-left"), "{out}");
}

/// `conform` runs the five SDKs unless told otherwise.
#[test]
fn conform_defaults_to_the_five_sdks() {
    let o = tracewright(&["conform", "--help"]);
    assert!(stdout(&o).contains("[default: rust,python,js,go,java]"), "{}", stdout(&o));
}

fn replay_on(sdk: &mut dyn Sdk, name: &str, trace: &str) -> Verdict {
    let path = repo().join(trace);
    let (doc, _) = open_trace(&path).unwrap();
    sdk.reset().unwrap();
    trace_context::replay_trace(&doc, &path, sdk, name).unwrap().verdict
}

/// The verdict without the random real ids, for snapshots.
fn summary(v: &Verdict) -> String {
    let ids = regex::Regex::new(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{16}\b").unwrap();
    let text = match v {
        Verdict::Reproduced { property, .. } => format!("reproduced {property}"),
        Verdict::Conforms => "conforms".to_string(),
        Verdict::Diverged(d) => format!("diverged at step {} ({}) [{}]: expected {}, observed {}", d.step, d.action, d.class, d.expected, d.observed),
    };
    ids.replace_all(&text, "[id]").into_owned()
}

/// Every committed trace-context counterexample, on every SDK, comes out as
/// recorded in the snapshot: faults and application bugs reproduce with the
/// real SDKs; the seeded SDK bugs diverge where the real SDKs behave right.
#[test]
fn every_committed_trace_replays_on_every_sdk_as_recorded() {
    let mut sdks: Vec<(SdkKind, Box<dyn Sdk>)> = SdkKind::ALL.iter().filter_map(|&k| open_sdk(k).map(|s| (k, s))).collect();
    let mut table = String::new();
    for path in trace_context_traces().into_iter().filter(|p| !speaks_b3(p)) {
        let name = path.strip_prefix(repo()).unwrap().to_string_lossy().into_owned();
        table.push_str(&format!("{}\n", path.file_name().unwrap().to_string_lossy()));
        for (kind, sdk) in sdks.iter_mut() {
            let verdict = replay_on(sdk.as_mut(), kind.name(), &name);
            table.push_str(&format!("  {:<7}{}\n", kind.name(), summary(&verdict)));
        }
    }
    if sdks.len() == SdkKind::ALL.len() {
        insta::assert_snapshot!(table);
    }
}

fn on_rust(trace: &str) -> Verdict {
    replay_on(&mut RustSdk::new(), "rust", &committed_trace(trace))
}

fn diverged_class(v: &Verdict) -> &str {
    match v {
        Verdict::Diverged(d) => &d.class,
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn new_trace_id_per_hop_diverges_on_the_rust_sdk_which_keeps_the_callers_trace_id() {
    let v = on_rust("TraceContext.bug_NewTraceIdPerHop.TraceIdPreserved");
    assert_eq!(diverged_class(&v), "traceparent/differs/trace-id");
}

#[test]
fn id_collision_diverges_on_the_rust_sdk_which_draws_a_fresh_random_span_id() {
    let v = on_rust("TraceContext.bug_IdCollision.UniqueSpanId");
    assert_eq!(diverged_class(&v), "ids/span-id");
}

#[test]
fn accept_invalid_diverges_on_the_rust_sdk_which_restarts_on_an_upper_case_traceparent() {
    let v = on_rust("TraceContext.bug_AcceptInvalid.RestartOnInvalidHeader");
    assert_eq!(diverged_class(&v), "model/continues-where-w3c-restarts");
}

#[test]
fn non_parent_based_sampling_diverges_on_the_rust_sdk_whose_sampler_follows_the_parent() {
    let v = on_rust("TraceContext.bug_NonParentBasedSampling.SamplingConsistent");
    assert_eq!(diverged_class(&v), "sampling/parent-based");
}

#[test]
fn no_injection_is_reproduced_on_the_rust_sdk_since_no_header_reaches_it() {
    assert!(matches!(on_rust("TraceContext.bug_NoInjection.TraceIdPreserved"), Verdict::Reproduced { .. }));
}

#[test]
fn wrong_span_id_is_reproduced_on_the_rust_sdk_since_the_application_forwards_the_received_header() {
    assert!(matches!(on_rust("TraceContext.bug_WrongSpanId.ParentChildCorrect"), Verdict::Reproduced { .. }));
}

#[test]
fn a_corrupt_header_splits_the_trace_on_the_rust_sdk_too() {
    assert!(matches!(on_rust("TraceContext.fault_CorruptHeader.TraceIdPreserved"), Verdict::Reproduced { .. }));
}

#[test]
fn workflow_traces_cannot_be_replayed_on_an_sdk() {
    let trace = committed_trace("Workflow.bug_ForwardCompensation.ReverseOrderCompensation");
    let o = tracewright(&["replay", &trace, "--sut", "rust"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot be replayed on rust"));
}

#[test]
fn replay_cli_prints_the_steps_and_the_verdict() {
    let trace = committed_trace("TraceContext.fault_DropHeader.TraceIdPreserved");
    let o = tracewright(&["replay", &trace, "--sut", "rust", "--steps"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("reproduced: TraceIdPreserved violated with the real system"), "{text}");
    assert!(text.contains("injected 00-"), "{text}");
}

fn conform_model() -> TraceContext {
    let files = tracewright::spec::config_of(&repo().join("specs/trace_context/conform/TraceContext_conform.cfg")).unwrap();
    TraceContext::from_constants(&tracewright::spec::load(&files).unwrap().constants).unwrap()
}

fn expectations() -> Expectations {
    Expectations::load(&repo().join("conformance/expectations.json")).unwrap()
}

/// Walks of the conformance model on the in-process Rust SDK: every
/// divergence is one the expectations list.
#[test]
fn random_walks_on_the_rust_sdk_diverge_only_as_expected() {
    let model = conform_model();
    let exp = expectations();
    let mut subjects = vec![walks::Subject { name: "rust".into(), sdk: Box::new(RustSdk::new()) }];
    let outcome = walks::run(&model, &mut subjects, 150, 7, 40, &|sut, class, layer| exp.expected_in(sut, class, layer.name()).is_some()).unwrap();
    let new: Vec<String> = outcome.findings.iter().filter(|f| !f.expected).map(|f| format!("{}: {}", f.class, summary(&f.report.verdict))).collect();
    assert!(new.is_empty(), "new divergences: {new:#?}");
    assert_eq!(outcome.cases.len(), 150);
}

/// Committed counterexamples seed conformance cases: each trace's walk, and
/// walks near it, run on the Rust SDK. Traces of seeded SDK bugs are left out:
/// a correct SDK leaves those models by design (see the tests above).
#[test]
fn walks_near_each_committed_counterexample_diverge_only_as_expected() {
    let exp = expectations();
    let sdk_bugs = ["NewTraceIdPerHop", "IdCollision", "AcceptInvalid", "NonParentBasedSampling"];
    let mut seeded = 0;
    for path in trace_context_traces() {
        let (doc, _) = open_trace(&path).unwrap();
        let bugs = doc.constants.get("Bugs").map(|b| b.to_string()).unwrap_or_default();
        if sdk_bugs.iter().any(|b| bugs.contains(b)) {
            continue;
        }
        let files = tracewright::spec::config_of(&repo().join(&doc.config)).unwrap();
        let model = TraceContext::from_constants(&tracewright::spec::load(&files).unwrap().constants).unwrap();
        if model.uses_b3() {
            // Pinned per SDK by b3_mesh_traces_replay_on_every_sdk_through_its_own_b3_propagators.
            continue;
        }
        let labels: Vec<String> = doc.steps.iter().filter_map(|s| s.action.clone()).collect();
        let choices = walks::choices_of(&model, &labels).expect("a committed trace is a walk of its model");
        let base = Walk { choices, variant: 0 };
        assert_eq!(walks::path_of(&model, &base).len(), doc.steps.len(), "{}: the walk retraces the trace", path.display());
        let mut runner = TestRunner::new(Config { cases: 24, ..Config::default() });
        let strategy = walks::neighbour(base);
        let mut sdk = RustSdk::new();
        for _ in 0..24 {
            let walk = strategy.new_tree(&mut runner).unwrap().current();
            let p = walks::path_of(&model, &walk);
            sdk.reset().unwrap();
            let report = tracewright::conformance::trace_context::replay(&model, &p, &mut sdk, "rust", None, walk.variant as usize).unwrap();
            if let Verdict::Diverged(d) = &report.verdict {
                assert!(exp.expected("rust", &d.class).is_some(), "{}: a neighbour diverged anew: {}", path.display(), summary(&report.verdict));
            }
        }
        seeded += 1;
    }
    assert!(seeded >= 10, "most committed traces seed cases ({seeded})");
}

#[test]
fn audit_judges_recorded_spans_with_the_same_oracle() {
    let data = repo().join("tests/data/audit");
    let mut names: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(&data).unwrap() {
        names.insert(entry.unwrap().file_name().to_string_lossy().into_owned());
    }
    let mut out = String::new();
    for name in &names {
        let o = tracewright(&["audit", &format!("tests/data/audit/{name}")]);
        out.push_str(&format!("== {name} (exit {})\n{}{}", o.status.code().unwrap_or(-1), stdout(&o), String::from_utf8_lossy(&o.stderr)));
    }
    insta::assert_snapshot!(out);
}
