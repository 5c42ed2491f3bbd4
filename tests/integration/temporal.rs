//! Workflow counterexamples on a real Temporal server: every committed
//! `traces/Workflow.*` trace replayed through the Python SDK's saga worker
//! (`drivers/temporal/`), each with its recorded verdict; controls that show
//! the replay can tell the systems apart (the correct saga on a buggy path
//! diverges; correct paths conform). One dev server serves every replay of a
//! test (each replay has its own task queue and workflow id). A missing
//! server or SDK fails these tests: `ci/test.sh` installs them
//! (`ci/install-temporal.sh`).

use std::path::{Path, PathBuf};

use tracewright::conformance::workflow::{self, Options, Run};
use tracewright::conformance::Verdict;
use tracewright::model::SpecModel;
use tracewright::models::workflow::Workflow;
use tracewright::spec;
use tracewright::sut::workflow::TemporalServer;
use tracewright::trace::TraceDoc;

use crate::repo;

/// The verdict of every committed workflow trace on the real server.
const RECORDED: &[(&str, &str)] = &[
    ("Workflow.bug_CompensateUncompleted.CompensateOnlyCompleted", "reproduced CompensateOnlyCompleted"),
    ("Workflow.bug_CompensateUncompleted.SagaAtomicOutcome", "reproduced SagaAtomicOutcome"),
    ("Workflow.bug_DropTracerHeader.OneRunActivityPerAttempt", "reproduced OneRunActivityPerAttempt"),
    ("Workflow.bug_DropTracerHeader.SpanSingleTrace", "reproduced SpanSingleTrace"),
    ("Workflow.bug_ForwardCompensation.ReverseOrderCompensation", "reproduced ReverseOrderCompensation"),
    ("Workflow.bug_NoCompensation.CompensationsComplete", "reproduced CompensationsComplete"),
    ("Workflow.bug_NoCompensation.SagaAtomicOutcome", "reproduced SagaAtomicOutcome"),
    ("Workflow.bug_Nondeterministic.CompensationsComplete", "reproduced CompensationsComplete"),
    ("Workflow.bug_Nondeterministic.EventuallyClosed", "reproduced EventuallyClosed"),
    ("Workflow.bug_Nondeterministic.ReplayDeterministic", "reproduced ReplayDeterministic"),
    ("Workflow.bug_RetryNonRetryable.NoRetryAfterNonRetryable", "reproduced NoRetryAfterNonRetryable"),
    ("Workflow.bug_UnboundedRetry.CompensationsComplete", "reproduced CompensationsComplete"),
    ("Workflow.bug_UnboundedRetry.EventuallyClosed", "reproduced EventuallyClosed"),
    ("Workflow.bug_UnboundedRetry.RetryBound", "reproduced RetryBound"),
    ("Workflow.continue.CompensationsComplete", "reproduced CompensationsComplete"),
    ("Workflow.fault_CompensationFailure.CompensationsComplete", "reproduced CompensationsComplete"),
    ("Workflow.fault_TimeoutAfterSideEffect.SagaAtomicOutcome", "reproduced SagaAtomicOutcome"),
    ("Workflow.fault_WorkerCrash.CompensationsComplete", "reproduced CompensationsComplete"),
    ("Workflow.fault_WorkerCrash.NoOrphanSpans", "reproduced NoOrphanSpans"),
];

fn workflow_traces() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().unwrap().to_string_lossy().starts_with("Workflow."))
        .collect();
    files.sort();
    files
}

/// The trace's name without its hash: `Workflow.<config>.<property>`.
fn stem(trace: &Path) -> String {
    let name = trace.file_name().unwrap().to_string_lossy().into_owned();
    let parts: Vec<&str> = name.trim_end_matches(".itf.json").split('.').collect();
    parts[..parts.len() - 1].join(".")
}

fn server() -> TemporalServer {
    TemporalServer::start(&repo()).unwrap_or_else(|e| panic!("the Temporal dev server must run here: {}", e.render()))
}

fn replay(server: &TemporalServer, trace: &Path, options: &Options) -> Run {
    let doc = TraceDoc::read(trace).unwrap();
    let (model, path) = tracewright::engine::model_path::<Workflow>(&doc, trace).unwrap();
    workflow::run_path(server, &repo(), &model, &path, Some(&doc.property), options, None)
        .unwrap_or_else(|e| panic!("{}: {}", trace.display(), e.render()))
}

fn word(v: &Verdict) -> String {
    match v {
        Verdict::Reproduced { property, .. } => format!("reproduced {property}"),
        Verdict::Conforms => "conforms".into(),
        Verdict::Diverged(d) => format!("diverged at step {} ({})", d.step, d.action),
    }
}

fn model_of(config: &str) -> Workflow {
    let files = spec::resolve(&repo().join("specs/workflow").join(config).to_string_lossy(), &repo()).unwrap();
    Workflow::from_constants(&spec::load(&files).unwrap().constants).unwrap()
}

#[test]
fn every_committed_workflow_trace_on_a_real_temporal_server() {
    let server = server();
    let traces = workflow_traces();
    assert_eq!(traces.len(), RECORDED.len(), "a verdict is recorded for every committed workflow trace");
    let mut wrong = Vec::new();
    for trace in &traces {
        let stem = stem(trace);
        let want = RECORDED.iter().find(|(s, _)| *s == stem).map(|(_, v)| *v).unwrap_or_else(|| panic!("no recorded verdict for {stem}"));
        let run = replay(&server, trace, &Options::default());
        let got = word(&run.report.verdict);
        if got != want {
            wrong.push(format!("{stem}: recorded {want}, got {got}: {:?}", run.report.verdict));
        }
        // The orphan span, seen in the exported spans themselves: a
        // RunActivity whose StartActivity parent was never exported.
        if stem == "Workflow.fault_WorkerCrash.NoOrphanSpans" {
            let ids: Vec<&str> = run.spans.iter().map(|s| s.span_id.as_str()).collect();
            let orphan = run.spans.iter().find(|s| s.name.starts_with("RunActivity:") && !ids.contains(&s.parent_span_id.as_str()));
            assert!(orphan.is_some(), "an exported RunActivity without its parent: {:#?}", run.spans);
            assert!(!run.spans.iter().any(|s| s.name.starts_with("StartActivity:")), "the StartActivity span was lost with the crashed worker");
            assert!(run.history.iter().any(|e| e.kind == "ActivityTaskFailed"), "{:#?}", run.history);
        }
        // The real nondeterminism error, from the SDK's Replayer with no
        // server; the code that recorded the history replays it cleanly.
        if stem.starts_with("Workflow.bug_Nondeterministic.") {
            let [changed, original] = &run.replayer[..] else { panic!("two replays: {:?}", run.replayer) };
            assert!(changed.failed && changed.error_type.as_deref() == Some("NondeterminismError"), "{changed:?}");
            assert!(changed.error.as_deref().unwrap_or("").contains("Step1v2"), "{changed:?}");
            assert!(!original.failed, "{original:?}");
            assert!(run.history.iter().any(|e| e.kind == "WorkflowTaskFailed" && e.detail.as_deref().unwrap_or("").contains("Nondeterminism")));
        }
    }
    assert!(wrong.is_empty(), "verdicts changed:\n{}", wrong.join("\n"));
}

/// The replay can fail: the correct saga, run on a path that needs a bug,
/// leaves the path where the real code does what the model's correct code
/// does instead.
#[test]
fn the_correct_saga_does_not_reproduce_workflow_code_bugs() {
    let server = server();
    // What the real correct code did where the path needs the bug.
    for (stem, real) in [
        ("Workflow.bug_NoCompensation.SagaAtomicOutcome", "ActivityTaskScheduled Compensate1"),
        ("Workflow.bug_ForwardCompensation.ReverseOrderCompensation", "ActivityTaskScheduled Compensate2"),
        ("Workflow.bug_RetryNonRetryable.NoRetryAfterNonRetryable", "ActivityTaskFailed [NonRetryable"),
    ] {
        let trace = workflow_traces().into_iter().find(|t| self::stem(t) == stem).unwrap();
        let options = Options { bugs: Some(Vec::new()), step_timeout: std::time::Duration::from_secs(10), ..Options::default() };
        let run = replay(&server, &trace, &options);
        match &run.report.verdict {
            Verdict::Diverged(d) => assert!(d.observed.contains(real), "{stem}: {d}"),
            other => panic!("{stem} with the correct saga: {other:?}"),
        }
    }
}

/// Correct paths conform, every invariant holding at every step on the real
/// server: retries stop at MaximumAttempts, none follows a non-retryable
/// error, compensations run in reverse order for completed steps only.
#[test]
fn correct_saga_paths_conform_on_a_real_temporal_server() {
    let server = server();
    let model = model_of("Workflow.cfg");
    let flush = ["Flush(p=client)", "Flush(p=act)", "Flush(p=wf)"];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("retries stop at MaximumAttempts", {
            let mut l = vec!["StartWorkflow", "ProcessWT"];
            for _ in 0..3 {
                l.extend(["StartAttempt(a=1)", "EndAttempt(a=1, outcome=retryable)"]);
            }
            l.push("ProcessWT");
            l.extend(flush);
            l
        }),
        ("no retry after a non-retryable error", {
            let mut l = vec!["StartWorkflow", "ProcessWT", "StartAttempt(a=1)", "EndAttempt(a=1, outcome=retryable)"];
            l.extend(["StartAttempt(a=1)", "EndAttempt(a=1, outcome=nonretryable)", "ProcessWT"]);
            l.extend(flush);
            l
        }),
        ("reverse-order compensation of completed steps", {
            let mut l = vec![];
            l.extend(["StartWorkflow", "ProcessWT", "StartAttempt(a=1)", "EndAttempt(a=1, outcome=ok)", "ProcessWT"]);
            l.extend(["StartAttempt(a=2)", "EndAttempt(a=2, outcome=ok)", "ProcessWT"]);
            l.extend(["StartAttempt(a=3)", "EndAttempt(a=3, outcome=nonretryable)", "ProcessWT"]);
            l.extend(["StartAttempt(a=4)", "EndAttempt(a=4, outcome=ok)", "ProcessWT"]);
            l.extend(["StartAttempt(a=5)", "EndAttempt(a=5, outcome=ok)", "ProcessWT"]);
            l.extend(flush);
            l
        }),
        ("every step completes", {
            let mut l = vec!["StartWorkflow", "ProcessWT"];
            for a in ["1", "2", "3"] {
                l.extend([format!("StartAttempt(a={a})").leak() as &str, format!("EndAttempt(a={a}, outcome=ok)").leak(), "ProcessWT"]);
            }
            l.extend(flush);
            l
        }),
    ];
    for (what, labels) in cases {
        let path = workflow::path_from_labels(&model, &labels).unwrap_or_else(|e| panic!("{what}: {e}"));
        let run = workflow::run_path(&server, &repo(), &model, &path, None, &Options::default(), None)
            .unwrap_or_else(|e| panic!("{what}: {}", e.render()));
        assert_eq!(run.report.verdict, Verdict::Conforms, "{what}: {:#?}", run.report);
        assert_eq!(run.report.steps, labels.len(), "{what}");
    }
}

/// The Python client can abort at interpreter exit (sdk-python #300): a
/// driver that aborts after its last answer changes no verdict, either way.
#[test]
fn a_driver_aborting_at_exit_changes_no_verdict() {
    let server = server();
    let abort = Options { driver_env: vec![("TRACEWRIGHT_TEMPORAL_ABORT_AT_EXIT".into(), "1".into())], ..Options::default() };
    let trace = workflow_traces().into_iter().find(|t| stem(t) == "Workflow.fault_WorkerCrash.NoOrphanSpans").unwrap();
    let run = replay(&server, &trace, &abort);
    assert!(matches!(&run.report.verdict, Verdict::Reproduced { property, .. } if property == "NoOrphanSpans"), "{:?}", run.report.verdict);
    let model = model_of("Workflow.cfg");
    let labels = ["StartWorkflow", "ProcessWT", "StartAttempt(a=1)", "EndAttempt(a=1, outcome=nonretryable)", "ProcessWT"];
    let path = workflow::path_from_labels(&model, &labels).unwrap();
    let run = workflow::run_path(&server, &repo(), &model, &path, None, &abort, None).unwrap();
    assert_eq!(run.report.verdict, Verdict::Conforms);
}

/// No server, no replay: a checkout without the Temporal CLI is an error
/// (exit 2) that says how to install it, never a pass.
#[test]
fn a_missing_temporal_cli_is_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let e = TemporalServer::start(empty.path()).err().expect("no server without the CLI");
    assert_eq!(e.exit_code(), tracewright::error::ExitCode::BadInput);
    let text = e.render();
    assert!(text.contains("ci/install-temporal.sh") && text.contains(".venv/bin/temporal"), "{text}");
}

/// `conform --sut temporal`: random walks of the correct saga on a real
/// server all conform (exit 0), and say so per case.
#[test]
fn conform_walks_the_workflow_model_on_a_real_server() {
    let out = tempfile::tempdir().unwrap();
    let o = crate::tracewright(&["conform", "--sut", "temporal", "--cases", "2", "--seed", "7", "--out", &out.path().to_string_lossy()]);
    let text = crate::stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}\n{}", crate::stderr(&o));
    assert!(text.contains("Workflow.cfg") && text.matches("conforms").count() == 2 && text.contains("0 of 2 walks diverged"), "{text}");
}
