//! `replay --sut model` of a liveness counterexample judges the property
//! again on the replayed lasso: its closing step, the behaviour spec's
//! fairness and the property itself. An honest lasso is reproduced; a
//! tampered one (a loop that does not close, a behaviour the fairness
//! excludes, a property that holds on it) is not.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::{committed_trace, repo, stdout, tracewright, tracewright_in};

fn read(path: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).expect("trace readable")).expect("trace is JSON")
}

fn write(path: &Path, doc: &Json) {
    std::fs::write(path, serde_json::to_string_pretty(doc).expect("serialises")).expect("written");
}

/// Keeps the first `keep` states and loops back to `loop_index`.
fn cut(doc: &Json, keep: usize, loop_index: usize) -> Json {
    let mut doc = doc.clone();
    doc["states"].as_array_mut().expect("states").truncate(keep);
    doc["loop"] = Json::from(loop_index);
    doc
}

fn replay(dir: &Path, trace: &Path) -> (i32, String) {
    let o = tracewright_in(dir, &["replay", trace.to_str().expect("utf-8"), "--sut", "model"]);
    (o.status.code().unwrap_or(-1), stdout(&o))
}

/// Checks `cfg` (relative to `dir`) with the interpreter and returns the
/// trace written for `property`.
fn interpreted_trace(dir: &Path, cfg: &str, property: &str) -> PathBuf {
    let out = dir.join("traces");
    let o = tracewright_in(dir, &["check", cfg, "--engine", "tla", "--format", "json", "--out", out.to_str().expect("utf-8")]);
    let doc: Json = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{cfg}: {e}: {}", crate::stderr(&o)));
    let prop = doc["runs"][0]["properties"].as_array().expect("properties").iter().find(|p| p["name"] == property).cloned();
    let prop = prop.unwrap_or_else(|| panic!("{cfg} checks {property}"));
    assert_eq!(prop["result"], "violated", "{cfg}: {property}");
    PathBuf::from(prop["trace"].as_str().expect("a trace was written"))
}

#[test]
fn an_interpreted_lasso_is_judged_again_and_a_tampered_one_is_not_reproduced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = repo().join("tests/data/tla");
    std::fs::copy(data.join("SemMutex.tla"), dir.path().join("SemMutex.tla")).expect("copied");
    // Weak fairness on Enter: a waiting process can starve. The config also
    // checks a property that holds (someone keeps entering).
    std::fs::write(
        dir.path().join("SemMutex.cfg"),
        "\\* expect-violation: NoStarvation\nCONSTANTS Procs = {p1, p2, p3}\nSPECIFICATION WeakSpec\nPROPERTIES NoStarvation SomeoneEnters\n",
    )
    .expect("cfg");
    std::fs::write(dir.path().join("SemMutex_strong.cfg"), "CONSTANTS Procs = {p1, p2, p3}\nSPECIFICATION Spec\nPROPERTIES NoStarvation\n").expect("cfg");
    let trace = interpreted_trace(dir.path(), "SemMutex.cfg", "NoStarvation");
    let honest = read(&trace);
    let states = honest["states"].as_array().expect("states").len();
    let l = honest["loop"].as_u64().expect("a lasso has a loop") as usize;
    assert!(l + 1 < states, "the starvation lasso loops through other processes entering: loop {l} of {states}");

    let (code, out) = replay(dir.path(), &trace);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("reproduced: NoStarvation violated"), "{out}");

    // The loop closes on a state its last state does not step to.
    let tampered = dir.path().join("closing.itf.json");
    let mut doc = honest.clone();
    let wrong = (0..states).find(|&k| k != l && honest["states"][k] != honest["states"][l]).expect("another state");
    doc["loop"] = Json::from(wrong);
    write(&tampered, &doc);
    let (code, out) = replay(dir.path(), &tampered);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("diverged at step {states}")) && out.contains(&format!("back to state {wrong}")), "{out}");

    // The prefix alone, stuttering where processes can still move: weak
    // fairness excludes it.
    let tampered = dir.path().join("stutter.itf.json");
    write(&tampered, &cut(&honest, l + 1, l));
    let (code, out) = replay(dir.path(), &tampered);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("conforms") && out.contains("not fair") && out.contains("weak fairness"), "{out}");

    // The same lasso, claimed against the spec with strong fairness on
    // Enter: the starving process is enabled on the loop and never enters.
    let tampered = dir.path().join("strong.itf.json");
    let mut doc = honest.clone();
    doc["#meta"]["config"] = Json::from("SemMutex_strong.cfg");
    write(&tampered, &doc);
    let (code, out) = replay(dir.path(), &tampered);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not fair") && out.contains("strong fairness") && out.contains("SF("), "{out}");

    // The same lasso, claimed to violate a property that holds on it.
    let tampered = dir.path().join("property.itf.json");
    let mut doc = honest.clone();
    doc["#meta"]["property"] = Json::from("SomeoneEnters");
    write(&tampered, &doc);
    let (code, out) = replay(dir.path(), &tampered);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("SomeoneEnters is not violated on this behaviour") && out.contains("on the loop"), "{out}");
}

#[test]
fn a_rust_model_lasso_is_judged_again_and_a_tampered_one_is_not_reproduced() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["TraceContext.fault_LostRequest.EventuallyQuiescent", "Workflow.bug_UnboundedRetry.EventuallyClosed"] {
        let trace = committed_trace(name);
        let o = tracewright(&["replay", &trace, "--sut", "model"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stdout(&o));
        assert!(stdout(&o).contains("reproduced"), "{name}: {}", stdout(&o));

        let honest = read(&repo().join(&trace));
        let states = honest["states"].as_array().expect("states").len();
        assert_eq!(honest["loop"].as_u64(), Some(states as u64 - 1), "{name}: the Rust models' lassos stutter at their end");

        // Cut before the last step: the behaviour stutters where Next can
        // still move, which WF_vars(Next) excludes.
        let tampered = dir.path().join(format!("{name}.cut.itf.json"));
        write(&tampered, &cut(&honest, states - 1, states - 2));
        let (code, out) = replay(&repo(), &tampered);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.contains("conforms") && out.contains("WF_vars(Next)") && out.contains("not fair"), "{name}: {out}");

        // A loop back to the first state, which the last does not step to.
        let tampered = dir.path().join(format!("{name}.loop.itf.json"));
        let mut doc = honest.clone();
        doc["loop"] = Json::from(0);
        write(&tampered, &doc);
        let (code, out) = replay(&repo(), &tampered);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.contains(&format!("diverged at step {states}")), "{name}: {out}");
    }
}
