//! Pinned facts about every config: distinct states, generated states and
//! depth — each triple equal to TLC 2.20's for the `.tla` with the same
//! constants (checked by `ci/tlc-crosscheck.sh`) — and exactly which
//! properties each config violates.

use std::collections::BTreeSet;

use stateright::{Checker as _, Model as _};
use tracewright::checker::Options;
use tracewright::engine::{self, PropertyStatus, RunReport};
use tracewright::model::SpecModel as _;
use tracewright::models::trace_context::TraceContext;

use crate::{all_configs, repo};

/// (config label, distinct, generated, depth, violated properties)
const PINNED: &[(&str, u64, u64, u64, &[&str])] = &[
    ("default", 615, 1767, 21, &[]),
    ("bug_AcceptInvalid", 1221, 3525, 21, &["RestartOnInvalidHeader"]),
    ("bug_IdCollision", 615, 1767, 21, &["UniqueSpanId"]),
    ("bug_NewTraceIdPerHop", 615, 1767, 21, &["ParentChildCorrect", "TraceIdPreserved", "NoOrphanSpans"]),
    ("bug_NoInjection", 615, 1767, 21, &["TraceIdPreserved"]),
    ("bug_NonParentBasedSampling", 255, 639, 20, &["SamplingConsistent", "NoOrphanSpans"]),
    ("bug_WrongSpanId", 615, 1767, 21, &["ParentChildCorrect"]),
    ("concurrent", 39832, 133770, 24, &[]),
    ("fault_CollectorCrash", 2058, 6310, 22, &["NoLostSpans", "NoOrphanSpans"]),
    ("fault_CorruptHeader", 1827, 5283, 21, &["TraceIdPreserved"]),
    ("fault_DropHeader", 1221, 3525, 21, &["TraceIdPreserved"]),
    ("fault_DuplicateDelivery", 2535, 8593, 24, &["OneSpanPerRequest"]),
    ("fault_ExportRetry", 5481, 17303, 21, &["NoDuplicateSpans"]),
    ("fault_ExporterDrop", 2058, 7088, 21, &["NoLostSpans", "NoOrphanSpans"]),
    ("fault_LostRequest", 740, 2165, 21, &["EventuallyQuiescent"]),
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
    let labels: BTreeSet<String> = configs.iter().map(|f| f.config_label()).collect();
    let pinned: BTreeSet<String> = PINNED.iter().map(|p| p.0.to_string()).collect();
    assert_eq!(labels, pinned, "a config was added or removed: pin its TLC-checked counts here");
    for files in &configs {
        let run = check(files, 2);
        let (label, distinct, generated, depth, expected) =
            PINNED.iter().find(|p| p.0 == files.config_label()).copied().expect("pinned");
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
    for (label, expected) in [("TraceContext.cfg", 615), ("TraceContext_concurrent.cfg", 39832)] {
        let files = tracewright::spec::config_of(&repo().join("specs/trace_context").join(label)).unwrap();
        let loaded = tracewright::spec::load(&files).unwrap();
        let model = TraceContext::from_constants(&loaded.constants).unwrap();
        let checker = model.checker().threads(2).spawn_bfs().join();
        assert_eq!(checker.unique_state_count(), expected, "{label}");
    }
}
