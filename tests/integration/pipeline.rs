//! The pipeline targets against the real binaries (`bash ci/install-pipeline.sh`
//! installs them): the official OpenTelemetry Collector and rotel between the
//! Rust SDK and tracewright's OTLP sink. A missing binary fails these tests.

use std::collections::BTreeMap;
use std::time::Duration;

use tracewright::conformance::Verdict;
use tracewright::conformance::pipeline;
use tracewright::model::SpecModel;
use tracewright::models::trace_context::{Action, State, TraceContext};
use tracewright::otlp::load;
use tracewright::otlp::sink::{self, Sink};
use tracewright::sut::pipeline::{Collector, Kind, Options, Protocol};

use super::{repo, stdout, tracewright};

/// The committed counterexamples of the model's pipeline faults.
fn pipeline_traces() -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(repo().join("traces"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| ["fault_CollectorCrash.", "fault_ExporterDrop.", "fault_ExportRetry."].iter().any(|f| n.starts_with(&format!("TraceContext.{f}"))))
        .map(|n| format!("traces/{n}"))
        .collect();
    found.sort();
    found
}

#[test]
fn every_committed_pipeline_trace_is_reproduced_on_the_collector_and_on_rotel() {
    let traces = pipeline_traces();
    assert!(traces.len() >= 5, "the committed pipeline traces: {traces:?}");
    for sut in ["collector", "rotel"] {
        for trace in &traces {
            let o = tracewright(&["replay", trace, "--sut", sut, "--steps"]);
            let text = stdout(&o);
            let property = trace.split('.').nth(2).unwrap();
            assert_eq!(o.status.code(), Some(0), "{trace} on {sut}:\n{text}\n{}", String::from_utf8_lossy(&o.stderr));
            assert!(text.contains(&format!("reproduced: {property} violated")), "{trace} on {sut}:\n{text}");
        }
    }
}

fn default_model() -> TraceContext {
    let files = tracewright::spec::config_of(&repo().join("specs/trace_context/TraceContext.cfg")).unwrap();
    TraceContext::from_constants(&tracewright::spec::load(&files).unwrap().constants).unwrap()
}

/// A path of the model to quiescence, always taking the first action the
/// model offers.
fn first_path(model: &TraceContext) -> Vec<(Option<Action>, State)> {
    use stateright::Model;
    let mut state = model.init_states().remove(0);
    let mut path = vec![(None, state.clone())];
    for _ in 0..200 {
        if model.quiescent(&state) {
            return path;
        }
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        let action = actions.into_iter().next().expect("a state short of quiescence has an action");
        state = model.next_state(&state, action.clone()).unwrap();
        path.push((Some(action), state.clone()));
    }
    panic!("no quiescence within 200 steps");
}

#[test]
fn the_correct_config_conforms_on_the_collector_and_on_rotel() {
    let model = default_model();
    let path = first_path(&model);
    assert!(path.iter().any(|(a, _)| matches!(a, Some(Action::Flush))), "the path flushes the collector");
    for kind in Kind::ALL {
        for protocol in [Protocol::Http, Protocol::Grpc] {
            let run = pipeline::replay(&model, &path, kind, &repo(), None, 0, protocol).unwrap();
            assert_eq!(run.report.verdict, Verdict::Conforms, "{kind} over {protocol:?}: {:?}", run.report.log);
            let sampled = path.last().unwrap().1.spans.iter().filter(|s| s.sampled).count();
            assert_eq!(run.rows.len(), sampled, "every sampled span once at the sink through {kind}");
        }
    }
}

#[test]
fn a_load_run_loses_and_duplicates_nothing_without_faults() {
    const SPANS: usize = 5_000;
    for kind in Kind::ALL {
        for protocol in [Protocol::Http, Protocol::Grpc] {
            let sink = Sink::start(sink::Config::loopback()).unwrap();
            let target = match protocol {
                Protocol::Http => sink.http_addr(),
                Protocol::Grpc => sink.grpc_addr().unwrap(),
            };
            let collector = Collector::start(kind, &repo(), target, &Options { protocol, ..Options::default() }).unwrap();
            let batches = load::batches(SPANS, 500, 1);
            match protocol {
                Protocol::Http => load::send_http(&collector.http_endpoint(), &batches, Duration::from_secs(30)).unwrap(),
                Protocol::Grpc => load::send_grpc(&collector.grpc_endpoint(), &batches, Duration::from_secs(30)).unwrap(),
            }
            assert!(sink.wait_for_spans(SPANS, Duration::from_secs(60)), "{kind} over {protocol:?}: {} of {SPANS} spans arrived", sink.span_count());
            sink.wait_quiet(Duration::from_millis(500), Duration::from_secs(5));
            let mut copies: BTreeMap<(String, String), usize> = BTreeMap::new();
            for r in sink.rows() {
                *copies.entry((r.trace_id, r.span_id)).or_default() += 1;
            }
            assert_eq!(copies.len(), SPANS, "{kind} over {protocol:?}: every span arrived");
            assert!(copies.values().all(|&n| n == 1), "{kind} over {protocol:?}: no span twice");
        }
    }
}

#[test]
fn a_missing_collector_is_a_clear_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = Collector::start(Kind::Collector, dir.path(), ([127, 0, 0, 1], 9).into(), &Options::default()).err().expect("no binary there");
    let text = e.render();
    assert!(text.contains("is not installed") && text.contains("bash ci/install-pipeline.sh"), "{text}");
    assert_eq!(e.exit_code().code(), 2);
}

/// The persistent-queue and tail-sampling configs describe collector shapes
/// the replay does not build yet: replaying them on the one-collector,
/// in-memory pipeline would judge the wrong system, so they are refused.
#[test]
fn traces_of_collector_shapes_the_replay_does_not_build_are_refused() {
    let traces: Vec<String> = std::fs::read_dir(repo().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("TraceContext.collector_"))
        .map(|n| format!("traces/{n}"))
        .collect();
    assert!(traces.len() >= 3, "the committed collector-shape traces: {traces:?}");
    for trace in &traces {
        for sut in ["collector", "rotel"] {
            let o = tracewright(&["replay", trace, "--sut", sut]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{trace} on {sut}: {err}");
            assert!(err.contains("does not build this collector shape yet"), "{trace} on {sut}: {err}");
        }
    }
}

/// What the sink stores is what `audit` judges: spans received over OTLP/HTTP,
/// written as OTLP JSON lines, with a batch sent twice and a trace whose root
/// never arrived, come out as a duplicate and an orphan (exit 1).
#[test]
fn audit_finds_the_duplicates_and_orphans_in_the_sinks_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("spans.json");
    let sink = Sink::start(sink::Config { out: Some(out.clone()), ..sink::Config::loopback() }).unwrap();
    // Two traces of ten spans, a batch each; the first loses its root span.
    let mut batches = load::batches(20, 10, 7);
    assert_eq!(batches.len(), 2);
    batches[0].resource_spans[0].scope_spans[0].spans.remove(0);
    let sent = [batches[0].clone(), batches[1].clone(), batches[1].clone()];
    load::send_http(&sink.http_endpoint(), &sent, Duration::from_secs(20)).unwrap();
    assert!(sink.wait_until(Duration::from_secs(20), |r| r.len() == 3), "the sink stores three requests");
    drop(sink);
    let o = tracewright(&["audit", out.to_str().unwrap()]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("29 spans in 2 traces"), "{text}");
    let line = |name: &str| text.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_default().to_string();
    assert!(line("NoDuplicateSpans").contains("violated"), "{text}");
    assert!(line("NoOrphanSpans").contains("violated"), "{text}");
}
