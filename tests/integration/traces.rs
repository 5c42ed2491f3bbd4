//! Data-driven tests over the committed `traces/`: one case per file. Every
//! trace is exactly what `check --all` writes today, replays on the model as
//! `reproduced`, is read by the `itf` crate, and renders (snapshots).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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

/// A consumer's own types for the states of each spec, decoded by the `itf`
/// crate: what another ITF tool would write to read these traces.
mod consumer {
    use serde::Deserialize;
    
    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Span {
        pub svc: String,
        pub tid: u64,
        pub sid: u64,
        pub parent: u64,
        pub sampled: bool,
        pub st: String,
        #[serde(rename = "inBackend")]
        pub in_backend: u64,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Msg {
        pub hop: u64,
        pub from: u64,
        pub st: String,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct TraceContext {
        pub spans: Vec<Span>,
        pub msgs: Vec<Msg>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Event {
        pub e: String,
        pub act: u64,
        pub n: u64,
        #[serde(rename = "type")]
        pub ty: String,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Act {
        pub kind: String,
        pub step: u64,
        pub st: String,
        pub attempts: u64,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Workflow {
        pub history: Vec<Event>,
        pub acts: Vec<Act>,
        pub replay: Vec<String>,
    }
}

fn itf_states_and_vars<S: serde::de::DeserializeOwned>(text: &str, path: &Path) -> (usize, Vec<String>, Option<u64>, Option<String>) {
    let trace: itf::Trace<S> = itf::trace_from_str(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (trace.states.len(), trace.vars, trace.loop_index, trace.meta.other.get("property").cloned())
}

#[test]
fn the_itf_crate_reads_every_committed_trace() {
    for path in committed() {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = TraceDoc::read(&path).unwrap();
        let (states, vars, loop_index, property) = match doc.spec.as_str() {
            "TraceContext" => itf_states_and_vars::<consumer::TraceContext>(&text, &path),
            "Workflow" => itf_states_and_vars::<consumer::Workflow>(&text, &path),
            other => panic!("{}: no consumer type for module {other}", path.display()),
        };
        assert_eq!(states, doc.steps.len());
        assert_eq!(vars, doc.vars);
        assert_eq!(property.as_ref(), Some(&doc.property));
        assert_eq!(loop_index.map(|l| l as usize), doc.loop_index);
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
