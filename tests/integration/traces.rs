//! Data-driven tests over the committed `traces/`: one case per file. Every
//! trace is exactly what `check --all` writes today, replays on the model as
//! `reproduced`, is read by the `itf` crate, and renders (snapshots).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tracewright::checker::Options;
use tracewright::engine::{self, open_trace, ReplayVerdict};
use tracewright::trace::TraceDoc;

use crate::{all_configs, repo};

fn committed() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".itf.json"))
        .collect();
    files.sort();
    assert!(files.len() >= 18, "traces/ holds the counterexamples of every bug and fault config");
    files
}

fn without_tool(mut doc: TraceDoc) -> TraceDoc {
    doc.tool = String::new();
    doc
}

#[test]
fn committed_traces_are_exactly_what_check_all_writes() {
    let out = tempfile::tempdir().unwrap();
    for files in all_configs() {
        engine::prepare(&files).unwrap().run(Options::default(), Some(out.path())).unwrap();
    }
    let names = |dir: &Path| -> BTreeSet<String> {
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".itf.json")).collect()
    };
    let (written, kept) = (names(out.path()), names(&repo().join("traces")));
    assert_eq!(written, kept, "regenerate with `cargo run --release -- check --all` and commit traces/");
    for name in written {
        let fresh = without_tool(TraceDoc::read(&out.path().join(&name)).unwrap());
        let old = without_tool(TraceDoc::read(&repo().join("traces").join(&name)).unwrap());
        assert_eq!(fresh, old, "{name}");
    }
}

#[test]
fn every_committed_trace_replays_on_the_model_as_reproduced() {
    for path in committed() {
        let (doc, model) = open_trace(&path).unwrap();
        let report = model.replay(&doc, &path).unwrap();
        assert!(matches!(report.verdict, ReplayVerdict::Reproduced(_)), "{}: {:?}", path.display(), report.verdict);
        assert_eq!(report.steps, doc.steps.len() - 1);
    }
}

/// A consumer's own types for TraceContext states, decoded by the `itf` crate.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Span {
    svc: String,
    tid: u64,
    sid: u64,
    parent: u64,
    sampled: bool,
    st: String,
    #[serde(rename = "inBackend")]
    in_backend: u64,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Msg {
    hop: u64,
    from: u64,
    st: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct State {
    spans: Vec<Span>,
    msgs: Vec<Msg>,
}

#[test]
fn the_itf_crate_reads_every_committed_trace() {
    for path in committed() {
        let text = std::fs::read_to_string(&path).unwrap();
        let trace: itf::Trace<State> = itf::trace_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc = TraceDoc::read(&path).unwrap();
        assert_eq!(trace.states.len(), doc.steps.len());
        assert_eq!(trace.vars, ["spans", "msgs"]);
        assert_eq!(trace.meta.other.get("property"), Some(&doc.property));
        assert_eq!(trace.loop_index.map(|l| l as usize), doc.loop_index);
    }
}

#[test]
fn every_committed_trace_renders() {
    insta::glob!("../../traces", "*.itf.json", |path| {
        let (doc, model) = open_trace(path).unwrap();
        let relative = path.strip_prefix(repo()).unwrap();
        let text = model.show(&doc, relative, false).unwrap();
        let mermaid = model.show(&doc, relative, true).unwrap();
        insta::assert_snapshot!(format!("{text}\n{mermaid}"));
    });
}
