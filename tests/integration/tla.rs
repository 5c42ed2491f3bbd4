//! The TLA+ interpreter against its oracles: every project config gives,
//! through the interpreter, the counts and verdicts of the Rust model (which
//! are TLC's, pinned in tests/integration/pinned.rs); the corpus specs under
//! tests/data/tla give TLC 2.20's counts, pinned here.

mod bags;
mod corpus;
mod errors;
mod lasso;
mod oracle;
mod project;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tracewright::checker::{Checker, Options, Status};
use tracewright::spec::cfg::Cfg;
use tracewright::tla;

/// What a run of the interpreter found.
#[derive(Debug, PartialEq, Eq)]
pub struct Counts {
    pub distinct: u64,
    pub generated: u64,
    pub depth: u64,
    pub violated: BTreeSet<String>,
    /// States on each counterexample (TLC's "State n" count).
    pub trace_states: BTreeMap<String, usize>,
    /// For each lasso counterexample, the index its last state steps back to.
    pub loops: BTreeMap<String, usize>,
}

/// Checks a spec with the interpreter.
pub fn interpret(tla: &Path, cfg: &Path, threads: usize) -> Result<Counts, String> {
    let cfg = Cfg::read(cfg).map_err(|e| e.render())?;
    let (model, checks) = tla::model::prepare(tla, &cfg, &[]).map_err(|e| e.render())?;
    let options = Options { threads, ..Options::default() };
    model.stop_with(options.stop.clone());
    let outcome = Checker::new(&*model, &checks, options).run();
    if let Some(e) = model.take_error() {
        return Err(e.render());
    }
    assert!(outcome.stopped.is_none(), "explored completely");
    let violated = outcome
        .properties
        .iter()
        .filter(|p| matches!(p.status, Status::Violated(_)))
        .map(|p| p.name.clone())
        .collect();
    let trace_states = outcome
        .properties
        .iter()
        .filter_map(|p| match &p.status {
            Status::Violated(cx) => Some((p.name.clone(), cx.path.len())),
            _ => None,
        })
        .collect();
    let loops = outcome
        .properties
        .iter()
        .filter_map(|p| match &p.status {
            Status::Violated(cx) => cx.loop_index.map(|i| (p.name.clone(), i)),
            _ => None,
        })
        .collect();
    Ok(Counts { distinct: outcome.distinct, generated: outcome.generated, depth: outcome.depth, violated, trace_states, loops })
}
