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
    model_of("TraceContext.cfg")
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

/// The traces of the collector-shape configs (persistent queue, split tail
/// sampling).
fn collector_shape_traces() -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(repo().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("TraceContext.collector_"))
        .map(|n| format!("traces/{n}"))
        .collect();
    found.sort();
    found
}

/// The persistent-queue trace and the two split tail-sampling traces on the
/// official collector built in their shape: a file_storage queue kept across
/// the SIGKILL (the restarted collector sends the batch the sink stored
/// without answering again: the duplicate), and two gateway collectors with
/// the contrib tail_sampling processor, B keeping orders and billing, A
/// dropping the rest (the loss and the orphan).
#[test]
fn the_collector_shape_traces_are_reproduced_on_the_official_collector() {
    let traces = collector_shape_traces();
    assert_eq!(traces.len(), 3, "the committed collector-shape traces: {traces:?}");
    for trace in &traces {
        let o = tracewright(&["replay", trace, "--sut", "collector", "--steps"]);
        let text = stdout(&o);
        let property = trace.split('.').nth(2).unwrap();
        assert_eq!(o.status.code(), Some(0), "{trace}:\n{text}\n{}", String::from_utf8_lossy(&o.stderr));
        assert!(text.contains(&format!("reproduced: {property} violated")), "{trace}:\n{text}");
        if trace.contains("TailSamplingSplit") {
            assert!(text.contains("×2 (gateways A and B)"), "two collectors: {text}");
            assert!(text.contains("gateway A decided on 1 trace(s), gateway B decided on 1 trace(s); the sink stores 2 span(s)"), "{text}");
        } else {
            assert!(text.contains("on the same queue directory; the collector holds 1 span(s) in flight, the sink stores 1"), "{text}");
        }
    }
}

/// rotel has neither a persistent queue nor a tail-sampling processor: the
/// traces that need one are refused (exit 2), naming what is missing.
#[test]
fn rotel_refuses_the_collector_shapes_it_lacks() {
    for trace in collector_shape_traces() {
        let o = tracewright(&["replay", &trace, "--sut", "rotel"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{trace}: {err}");
        let missing = if trace.contains("PersistentQueue") { "it has no persistent sending queue" } else { "it has no tail-sampling processor" };
        assert!(err.contains(&format!("rotel cannot replay this trace: {missing}")), "{trace}: {err}");
        assert!(err.contains("--sut collector"), "{err}");
    }
}

fn model_of(cfg: &str) -> TraceContext {
    let files = tracewright::spec::config_of(&repo().join("specs/trace_context").join(cfg)).unwrap();
    TraceContext::from_constants(&tracewright::spec::load(&files).unwrap().constants).unwrap()
}

/// One gateway with the tail_sampling processor sees the whole trace, finds
/// billing's ERROR spans and keeps all of it: the model's path conforms.
#[test]
fn the_single_gateway_tail_sampling_config_conforms_on_the_official_collector() {
    let model = model_of("TraceContext_collector_TailSampling.cfg");
    let path = first_path(&model);
    assert!(path.iter().any(|(a, _)| matches!(a, Some(Action::Flush))), "the path flushes the collector");
    let run = pipeline::replay(&model, &path, Kind::Collector, &repo(), None, 0, Protocol::Http).unwrap();
    assert_eq!(run.report.verdict, Verdict::Conforms, "{:?}", run.report.log);
    let sampled = path.last().unwrap().1.spans.iter().filter(|s| s.sampled).count();
    assert_eq!(sampled, 5);
    assert_eq!(run.rows.len(), sampled, "the gateway kept the whole trace");
}

/// What the sink stored in the split tail-sampling replay, written as the
/// sink writes it (one OTLP JSON request per line), is what `audit` judges:
/// it reports the orphan (orders, whose parent gateway A dropped) and the
/// lost spans that leaves behind (the missing parent and the missing root).
#[test]
fn audit_reports_the_orphans_and_losses_of_the_split_tail_sampling_replay() {
    let trace = collector_shape_traces().into_iter().find(|t| t.contains("TailSamplingSplit.NoOrphanSpans")).unwrap();
    let doc = tracewright::trace::TraceDoc::read(&repo().join(&trace)).unwrap();
    let (model, path) = tracewright::engine::model_path::<TraceContext>(&doc, &repo().join(&trace)).unwrap();
    let run = pipeline::replay(&model, &path, Kind::Collector, &repo(), None, 0, Protocol::Http).unwrap();
    assert_eq!(run.rows.len(), 2, "gateway B forwarded orders and billing: {:?}", run.rows);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("spans.json");
    let lines: String = run.stored.iter().map(|r| serde_json::to_string(r).unwrap() + "\n").collect();
    std::fs::write(&out, lines).unwrap();
    let o = tracewright(&["audit", out.to_str().unwrap()]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("2 spans in 1 trace"), "{text}");
    let line = |name: &str| text.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_default().to_string();
    assert!(line("NoOrphanSpans").contains("violated"), "{text}");
    assert!(line("NoDuplicateSpans").contains("holds"), "{text}");
    assert!(text.contains("lost upstream: 1 parent span(s) referenced but never recorded; 1 trace(s) without a root span"), "{text}");
}

/// The claim for the persistent queue: a crash loses nothing the
/// collector accepted. The sink refuses while the collector holds 1,000
/// accepted spans; SIGKILL, restart on the same queue directory, the sink
/// accepts: every span arrives, once. The same run with the in-memory queue
/// behind the batch processor loses all of them (fault_CollectorCrash).
#[test]
fn a_crash_loses_nothing_with_the_persistent_queue_and_everything_without() {
    const SPANS: usize = 1_000;
    for persistent in [true, false] {
        let sink = Sink::start(sink::Config::loopback()).unwrap();
        sink.set_mode(sink::Mode::Refuse);
        let options = Options { persistent_queue: persistent, ..Options::default() };
        let mut collector = Collector::start(Kind::Collector, &repo(), sink.http_addr(), &options).unwrap();
        let batches = load::batches(SPANS, 100, 3);
        load::send_http(&collector.http_endpoint(), &batches, Duration::from_secs(30)).unwrap();
        // Every batch has left the batch processor and met the refusing sink
        // at least once: the collector holds them all, retrying.
        assert!(sink.wait_counters(Duration::from_secs(30), |k| k.refused_spans >= SPANS as u64), "{:?}", sink.counters());
        collector.crash().unwrap();
        sink.set_mode(sink::Mode::Accept);
        if persistent {
            assert!(sink.wait_for_spans(SPANS, Duration::from_secs(60)), "{} of {SPANS} spans arrived after the restart", sink.span_count());
        }
        sink.wait_quiet(Duration::from_secs(2), Duration::from_secs(10));
        let mut copies: BTreeMap<(String, String), usize> = BTreeMap::new();
        for r in sink.rows() {
            *copies.entry((r.trace_id, r.span_id)).or_default() += 1;
        }
        if persistent {
            assert_eq!(copies.len(), SPANS, "the persistent queue lost spans");
            assert!(copies.values().all(|&n| n == 1), "a span twice");
        } else {
            assert_eq!(copies.len(), 0, "the in-memory queue lost what it held");
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

/// Every committed pipeline trace, through the official collector into a
/// real Jaeger (the sink in front of it plays the faults and relays what it
/// stores), judged on what Jaeger's query API returns. Losses and orphans
/// come out as the model says. A duplicate does not: Jaeger received the
/// batch twice, but its query API returns each span once (its span-hash
/// dedupe adjuster), so the model's backend "stores it twice" diverges from
/// what a Jaeger user sees — the recorded verdict of the two
/// NoDuplicateSpans traces on Jaeger (a finding, not bent away).
#[test]
fn every_pipeline_trace_replays_through_jaeger_with_its_recorded_verdict() {
    let mut traces = pipeline_traces();
    traces.extend(collector_shape_traces());
    assert_eq!(traces.len(), 8, "{traces:?}");
    for trace in &traces {
        let o = tracewright(&["replay", trace, "--sut", "jaeger", "--steps"]);
        let text = stdout(&o);
        let property = trace.split('.').nth(2).unwrap();
        assert!(text.contains("into jaeger v1.76.0 (in-memory store)"), "{trace}:\n{text}");
        if property == "NoDuplicateSpans" {
            assert_eq!(o.status.code(), Some(1), "{trace}:\n{text}\n{}", String::from_utf8_lossy(&o.stderr));
            assert!(text.contains("stored 2 time(s) by the backend, observed 1 copy in Jaeger's query API"), "{trace}:\n{text}");
            assert!(text.contains("class: pipeline/backend"), "{trace}:\n{text}");
        } else {
            assert_eq!(o.status.code(), Some(0), "{trace}:\n{text}\n{}", String::from_utf8_lossy(&o.stderr));
            assert!(text.contains(&format!("reproduced: {property} violated")), "{trace}:\n{text}");
        }
    }
}

#[test]
fn the_correct_config_conforms_through_jaeger() {
    let model = default_model();
    let path = first_path(&model);
    let run = pipeline::replay_to(&model, &path, Kind::Collector, pipeline::Backend::Jaeger, &repo(), None, 0, Protocol::Http).unwrap();
    assert_eq!(run.report.verdict, Verdict::Conforms, "{:?}", run.report.log);
    let sampled = path.last().unwrap().1.spans.iter().filter(|s| s.sampled).count();
    assert_eq!(run.rows.len(), sampled, "Jaeger returns every sampled span once");
    assert!(run.collector.contains("jaeger"), "{}", run.collector);
}

#[test]
fn a_missing_jaeger_is_a_clear_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = tracewright::sut::pipeline::jaeger::Jaeger::start(dir.path()).err().expect("no binary there");
    let text = e.render();
    assert!(text.contains("Jaeger is not installed") && text.contains("bash ci/install-pipeline.sh"), "{text}");
    assert_eq!(e.exit_code().code(), 2);
    let model = default_model();
    let path = first_path(&model);
    let e = pipeline::replay_to(&model, &path, Kind::Collector, pipeline::Backend::Jaeger, dir.path(), None, 0, Protocol::Http).err().expect("no Jaeger there");
    assert!(e.render().contains("Jaeger is not installed"), "{}", e.render());
}
