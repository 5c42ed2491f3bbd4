//! Pinned facts about every config: distinct states, generated states and
//! depth — each triple equal to TLC 2.20's for the `.tla` with the same
//! constants (checked by `ci/tlc-crosscheck.sh`) — and exactly which
//! properties each config violates.

use std::collections::BTreeSet;

use stateright::Checker as _;
use tracewright::checker::Options;
use tracewright::engine::{self, PropertyStatus, RunReport};
use tracewright::models::trace_context::TraceContext;
use tracewright::models::workflow::Workflow;

use crate::{all_configs, repo};

/// (module, config label, distinct, generated, depth, violated properties)
const PINNED: &[(&str, &str, u64, u64, u64, &[&str])] = &[
    ("TraceContext", "default", 615, 1767, 21, &[]),
    ("TraceContext", "b3_CompositeMesh", 128, 280, 17, &[]),
    ("TraceContext", "bug_AcceptInvalid", 1221, 3525, 21, &["RestartOnInvalidHeader"]),
    ("TraceContext", "bug_IdCollision", 615, 1767, 21, &["UniqueSpanId"]),
    ("TraceContext", "bug_NewTraceIdPerHop", 615, 1767, 21, &["ParentChildCorrect", "TraceIdPreserved", "NoOrphanSpans"]),
    ("TraceContext", "bug_NoInjection", 615, 1767, 21, &["TraceIdPreserved"]),
    ("TraceContext", "bug_NonParentBasedSampling", 255, 639, 20, &["SamplingConsistent", "NoOrphanSpans"]),
    ("TraceContext", "bug_WrongSpanId", 615, 1767, 21, &["ParentChildCorrect"]),
    ("TraceContext", "collector_PersistentQueue", 5481, 13861, 23, &["NoDuplicateSpans"]),
    ("TraceContext", "collector_TailSampling", 133, 359, 21, &[]),
    ("TraceContext", "collector_TailSamplingSplit", 133, 359, 21, &["NoLostSpans", "NoOrphanSpans"]),
    ("TraceContext", "concurrent", 39832, 133770, 24, &[]),
    ("TraceContext", "fault_B3Debug", 48, 81, 16, &["SamplingConsistent"]),
    ("TraceContext", "fault_B3IntoW3C", 128, 280, 17, &["TraceIdPreserved"]),
    ("TraceContext", "fault_B3TraceId64", 128, 280, 17, &["ParentChildCorrect", "TraceIdPreserved", "NoOrphanSpans"]),
    ("TraceContext", "fault_CollectorCrash", 2058, 6310, 22, &["NoLostSpans", "NoOrphanSpans"]),
    ("TraceContext", "fault_CorruptHeader", 1827, 5283, 21, &["TraceIdPreserved"]),
    ("TraceContext", "fault_DropHeader", 1221, 3525, 21, &["TraceIdPreserved"]),
    ("TraceContext", "fault_DuplicateDelivery", 2535, 8593, 24, &["OneSpanPerRequest"]),
    ("TraceContext", "fault_ExportRetry", 5481, 17303, 21, &["NoDuplicateSpans"]),
    ("TraceContext", "fault_ExporterDrop", 2058, 7088, 21, &["NoLostSpans", "NoOrphanSpans"]),
    ("TraceContext", "fault_LostRequest", 740, 2165, 21, &["EventuallyQuiescent"]),
    ("Workflow", "default", 35713, 108788, 33, &[]),
    ("Workflow", "bug_CompensateUncompleted", 54425, 167904, 36, &["CompensateOnlyCompleted", "SagaAtomicOutcome"]),
    ("Workflow", "bug_DropTracerHeader", 35713, 108788, 33, &["SpanSingleTrace", "OneRunActivityPerAttempt"]),
    ("Workflow", "bug_ForwardCompensation", 35713, 108788, 33, &["ReverseOrderCompensation"]),
    ("Workflow", "bug_NoCompensation", 12493, 36710, 27, &["SagaAtomicOutcome", "CompensationsComplete"]),
    ("Workflow", "bug_Nondeterministic", 88773, 118173, 39, &["ReplayDeterministic", "EventuallyClosed", "CompensationsComplete"]),
    ("Workflow", "bug_RetryNonRetryable", 187611, 582777, 33, &["NoRetryAfterNonRetryable"]),
    ("Workflow", "bug_UnboundedRetry", 78271, 240405, 39, &["RetryBound", "EventuallyClosed", "CompensationsComplete"]),
    ("Workflow", "continue", 73135, 224945, 33, &["CompensationsComplete"]),
    ("Workflow", "fault_CompensationFailure", 52255, 159623, 33, &["CompensationsComplete"]),
    ("Workflow", "fault_TimeoutAfterSideEffect", 431699, 1333693, 33, &["SagaAtomicOutcome"]),
    ("Workflow", "fault_WorkerCrash", 60583, 145577, 33, &["NoOrphanSpans", "CompensationsComplete"]),
    ("Workflow", "parallel", 72631, 229433, 33, &[]),
];

fn check(files: &tracewright::spec::SpecFiles, threads: usize) -> RunReport {
    let prepared = engine::prepare(files).expect("every committed config loads");
    prepared.run(Options { threads, ..Options::default() }, None).expect("runs")
}

fn violated(run: &RunReport) -> BTreeSet<String> {
    run.properties.iter().filter(|p| p.result == PropertyStatus::Violated).map(|p| p.name.clone()).collect()
}

#[test]
fn every_config_is_pinned_and_comes_out_as_it_expects() {
    let configs = all_configs();
    let labels: BTreeSet<(String, String)> = configs.iter().map(|f| (f.module_stem(), f.config_label())).collect();
    let pinned: BTreeSet<(String, String)> = PINNED.iter().map(|p| (p.0.to_string(), p.1.to_string())).collect();
    assert_eq!(labels, pinned, "a config was added or removed: pin its TLC-checked counts here");
    for files in &configs {
        let run = check(files, 2);
        let (_, label, distinct, generated, depth, expected) = PINNED
            .iter()
            .find(|p| p.0 == files.module_stem() && p.1 == files.config_label())
            .copied()
            .expect("pinned");
        if label.starts_with("fault_") || label.starts_with("bug_") {
            assert!(!expected.is_empty(), "{label}: a fault or bug config must break something");
        }
        assert_eq!((run.distinct, run.generated, run.depth), (distinct, generated, depth), "{label}");
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(violated(&run), expected, "{label}: violated properties");
        assert!(run.stopped.is_none(), "{label}: explored completely");
        assert_eq!(run.exit_code(), tracewright::error::ExitCode::Ok, "{label}: as its config expects");
    }
}

#[test]
fn one_thread_and_two_threads_agree_on_counts_and_counterexamples() {
    for files in all_configs() {
        let (one, two) = (check(&files, 1), check(&files, 2));
        assert_eq!((one.distinct, one.generated, one.depth), (two.distinct, two.generated, two.depth));
        let hashes = |r: &RunReport| -> Vec<Option<String>> {
            r.properties.iter().map(|p| p.doc.as_ref().map(|d| d.content_hash())).collect()
        };
        assert_eq!(hashes(&one), hashes(&two), "{}: counterexamples differ by thread count", files.config_label());
    }
}

/// stateright's own breadth-first checker, on the same model, visits the same
/// number of states as tracewright's.
#[test]
fn stateright_bfs_agrees_on_the_state_count() {
    fn count<M: tracewright::model::SpecModel + stateright::Model>(path: &str) -> usize
    where
        M::Action: PartialEq,
    {
        let files = tracewright::spec::config_of(&repo().join(path)).unwrap();
        let loaded = tracewright::spec::load(&files).unwrap();
        let model = M::from_constants(&loaded.constants).unwrap();
        model.checker().threads(2).spawn_bfs().join().unique_state_count()
    }
    assert_eq!(count::<TraceContext>("specs/trace_context/TraceContext.cfg"), 615);
    assert_eq!(count::<TraceContext>("specs/trace_context/TraceContext_concurrent.cfg"), 39832);
    assert_eq!(count::<Workflow>("specs/workflow/Workflow.cfg"), 35713);
}
