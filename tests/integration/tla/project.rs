//! Every config under specs/: the interpreter equals the Rust model.

use std::collections::BTreeSet;

use tracewright::checker::Options;
use tracewright::engine::{self, PropertyStatus};
use tracewright::spec;

use super::{interpret, Counts};
use crate::repo;

fn rust_model(files: &spec::SpecFiles) -> (Counts, Vec<String>) {
    let run = engine::prepare(files).expect("loads").run(Options { threads: 2, ..Options::default() }, None).expect("runs");
    let violated: BTreeSet<String> =
        run.properties.iter().filter(|p| p.result == PropertyStatus::Violated).map(|p| p.name.clone()).collect();
    let liveness: Vec<String> = run.properties.iter().filter(|p| p.kind == "eventually").map(|p| p.name.clone()).collect();
    let trace_states = run
        .properties
        .iter()
        .filter(|p| !liveness.contains(&p.name))
        .filter_map(|p| p.steps.map(|s| (p.name.clone(), s + 1)))
        .collect();
    (Counts { distinct: run.distinct, generated: run.generated, depth: run.depth, violated, trace_states, loops: Default::default() }, liveness)
}

fn compare(filter: &str, only: Option<&[&str]>) {
    let configs = spec::all_configs(&repo().join("specs")).expect("configs");
    let mut seen = 0;
    let wanted = |f: &&spec::SpecFiles| only.is_none_or(|o| o.contains(&f.config_label().as_str()));
    for files in configs.iter().filter(|f| f.module_stem() == filter).filter(wanted) {
        let label = files.config_label();
        let interpreted = interpret(&files.tla, &files.cfg, 2).unwrap_or_else(|e| panic!("{label}: {e}"));
        let (model, liveness) = rust_model(files);
        let mut interpreted = interpreted;
        // Liveness counterexamples need not be shortest (the Rust models rank
        // their states for a breadth-first search; the interpreter searches
        // depth-first, as TLC does): only their existence is compared.
        for name in &liveness {
            interpreted.trace_states.remove(name);
            assert!(!interpreted.violated.contains(name) || interpreted.loops.contains_key(name), "{label}: {name} has a lasso");
        }
        interpreted.loops.clear();
        assert_eq!(interpreted, model, "{filter} {label}: interpreter vs Rust model");
        seen += 1;
    }
    assert!(seen > 0, "no config of {filter}");
}

#[test]
fn trace_context_configs_equal_the_rust_model() {
    compare("TraceContext", None);
}

/// The interpreter explores Workflow at about a thousand states a second
/// (its invariants are quadratic in the history); the configs here are the
/// ones small enough for a test run: the correct saga, and a bug that breaks
/// an invariant and a liveness property.
#[test]
fn workflow_configs_equal_the_rust_model() {
    compare("Workflow", Some(&["default", "bug_NoCompensation"]));
}
