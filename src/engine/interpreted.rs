//! An interpreted spec behind the engine's object-safe interfaces: a
//! [`Prepared`] run for `check`, and a [`Registered`] entry that `show` and
//! `replay --sut model` use for traces the interpreter wrote.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;

use crate::tla::model::{TlaAction, TlaModel, TlaState};
use crate::checker::liveness::Temporal;
use crate::checker::{lasso, CheckKind, Checked, Checker, Options};
use super::{display_path, Divergence, Prepared, Registered, ReplayReport, ReplayVerdict, RunReport, TOOL};
use crate::error::{Diagnostic, Error, Location, Result};
use crate::model::Violation;
use crate::spec::cfg::Cfg;
use crate::spec::{Loaded, SpecFiles};
use crate::trace::{itf, Step, TraceDoc};

/// Marks trace files the interpreter wrote (in `#meta.tool`).
pub const TOOL_SUFFIX: &str = "(TLA+ interpreter)";

pub struct TlaRun {
    files: SpecFiles,
    cfg: Cfg,
    model: Arc<TlaModel>,
    checks: Vec<Checked<TlaModel>>,
}

/// Loads a spec and a config for the interpreter.
pub fn prepare(files: &SpecFiles, libs: &[PathBuf]) -> Result<Box<dyn Prepared>> {
    let cfg = Cfg::read(&files.cfg)?;
    let (model, checks) = crate::tla::model::prepare(&files.tla, &cfg, libs)?;
    Ok(Box::new(TlaRun { files: files.clone(), cfg, model, checks }))
}

impl TlaRun {
    fn trace_doc(&self, property: &str, kind: &str, violation: &Violation, loop_index: Option<usize>, path: &[(Option<TlaAction>, TlaState)]) -> TraceDoc {
        let m = &self.model;
        TraceDoc {
            spec: m.prog.module.clone(),
            source: display_path(&self.files.tla),
            config: display_path(&self.files.cfg),
            config_label: self.files.config_label(),
            property: property.to_string(),
            kind: kind.to_string(),
            tool: format!("{TOOL} {TOOL_SUFFIX}"),
            headline: violation.headline.to_string(),
            evidence: violation.evidence.clone(),
            constants: m.prog.consts.iter().zip(&m.prog.const_values).map(|(n, v)| (n.to_string(), v.to_itf())).collect(),
            vars: m.prog.vars.iter().map(|v| v.to_string()).collect(),
            loop_index,
            header_variant: None,
            steps: path
                .iter()
                .map(|(a, s)| Step { action: a.as_ref().map(|a| m.label_of(&a.trail)), vars: m.encode(s) })
                .collect(),
        }
    }
}

impl Prepared for TlaRun {
    fn files(&self) -> &SpecFiles {
        &self.files
    }

    fn run(&self, mut options: Options, out: Option<&Path>) -> Result<RunReport> {
        let threads = options.threads.max(1);
        // A stored state that stands for several (VIEW, SYMMETRY) is the one
        // the parallel search merged first; the liveness graph must expand
        // the one a sequential search reaches first, as TLC's does.
        options.record_graph &= !self.model.merges_states();
        self.model.stop_with(options.stop.clone());
        let outcome = Checker::new(&*self.model, &self.checks, options).run();
        if let Some(e) = self.model.take_error() {
            return Err(e);
        }
        let expected = |_: usize, check: &Checked<TlaModel>| self.cfg.expect_violation.contains_key(&check.name);
        let trace = |name: &str, kind: &str, violation: &Violation, loop_index: Option<usize>, path: &[(Option<TlaAction>, TlaState)]| {
            self.trace_doc(name, kind, violation, loop_index, path)
        };
        super::run_report(&self.checks, outcome, expected, trace, self.model.prog.module.clone(), &self.files, threads, out)
    }
}

/// Traces written by the interpreter: `show` and `replay --sut model` load
/// the spec and config the trace names and replay its steps on them.
pub struct Interpreted;

pub static INTERPRETED: Interpreted = Interpreted;

/// Whether a trace was written by the interpreter.
pub fn wrote(doc: &TraceDoc) -> bool {
    doc.tool.ends_with(TOOL_SUFFIX)
}

fn reload(doc: &TraceDoc, path: &Path) -> Result<(TlaRun, Vec<(Option<TlaAction>, TlaState)>, std::result::Result<(), Divergence>)> {
    let files = SpecFiles { tla: PathBuf::from(&doc.source), cfg: PathBuf::from(&doc.config) };
    for f in [&files.tla, &files.cfg] {
        if !f.is_file() {
            return Err(Error::Trace(
                Diagnostic::new(Location::file(path), format!("the trace's spec file {} is not found", f.display()))
                    .hint("run show/replay from the directory `check` ran in"),
            ));
        }
    }
    let cfg = Cfg::read(&files.cfg)?;
    let (model, checks) = crate::tla::model::prepare(&files.tla, &cfg, &[])?;
    let run = TlaRun { files, cfg, model, checks };
    let m = &run.model;
    let mut states = Vec::new();
    for (k, step) in doc.steps.iter().enumerate() {
        let s = m.decode(&Json::Object(step.vars.clone())).map_err(|e| {
            Error::Trace(Diagnostic::new(Location::file(path), format!("state {k} is not a state of {}", m.prog.module)).evidence("problem", e))
        })?;
        states.push(s);
    }
    let render = |s: &TlaState| itf::render(&Json::Object(m.encode(s)));
    let mut iter = states.into_iter();
    let Some(first) = iter.next() else {
        return Err(Error::Trace(Diagnostic::new(Location::file(path), "the trace has no state")));
    };
    let inits = stateright::Model::init_states(&**m);
    if let Some(e) = m.take_error() {
        return Err(e);
    }
    let mut walked = vec![(None, first.clone())];
    if !inits.contains(&first) {
        let d = Divergence { step: 0, expected: "an initial state of the spec".into(), observed: render(&first) };
        return Ok((run, walked, Err(d)));
    }
    for ((k, step), recorded) in doc.steps.iter().enumerate().skip(1).zip(iter) {
        let label = step.action.clone().unwrap_or_default();
        let state = walked.last().expect("non-empty").1.clone();
        let mut actions = Vec::new();
        stateright::Model::actions(&**m, &state, &mut actions);
        if let Some(e) = m.take_error() {
            return Err(e);
        }
        let labelled: Vec<&TlaAction> = actions.iter().filter(|a| m.label_of(&a.trail) == label).collect();
        match labelled.iter().find(|a| a.next == recorded) {
            Some(a) => walked.push((Some((*a).clone()), recorded)),
            None => {
                let d = if labelled.is_empty() {
                    let enabled: Vec<String> = actions.iter().map(|a| m.label_of(&a.trail)).collect();
                    Divergence {
                        step: k,
                        expected: format!("action {label} to be enabled"),
                        observed: format!("enabled: {}", if enabled.is_empty() { "none".into() } else { enabled.join(", ") }),
                    }
                } else {
                    Divergence {
                        step: k,
                        expected: format!("{} (as the trace records)", render(&recorded)),
                        observed: format!("{} (as the spec computes after {label})", render(&labelled[0].next)),
                    }
                };
                return Ok((run, walked, Err(d)));
            }
        }
    }
    Ok((run, walked, Ok(())))
}

impl Registered for Interpreted {
    fn module(&self) -> &'static str {
        "(any module, interpreted)"
    }

    fn constants(&self) -> &'static [&'static str] {
        &[]
    }

    fn variables(&self) -> &'static [&'static str] {
        &[]
    }

    fn property_names(&self) -> Vec<&'static str> {
        Vec::new()
    }

    fn prepare(&self, loaded: Loaded) -> Result<Box<dyn Prepared>> {
        prepare(&loaded.files, &[])
    }

    fn show(&self, doc: &TraceDoc, path: &Path, mermaid: bool) -> Result<String> {
        if mermaid {
            return Err(Error::usage(
                "--format mermaid draws the project's own models only; an interpreted spec has no diagram",
                Some("use --format text"),
            ));
        }
        let (_, _, replayed) = reload(doc, path)?;
        let mut text = crate::render::text(doc, path);
        if let Err(d) = replayed {
            text.push_str(&format!(
                "\nnote: the spec no longer replays this trace: diverged at step {}: expected {}, observed {}\n",
                d.step, d.expected, d.observed
            ));
        }
        Ok(text)
    }

    fn replay(&self, doc: &TraceDoc, path: &Path) -> Result<ReplayReport> {
        let (run, walked, replayed) = reload(doc, path)?;
        if let Err(d) = replayed {
            return Ok(ReplayReport { steps: d.step, verdict: ReplayVerdict::Diverged(d) });
        }
        let steps = walked.len() - 1;
        let m = &run.model;
        let last = &walked.last().expect("a trace has a state").1;
        let verdict = match doc.kind.as_str() {
            "deadlock" => {
                let mut actions = Vec::new();
                stateright::Model::actions(&**m, last, &mut actions);
                if actions.is_empty() {
                    ReplayVerdict::Reproduced(Violation::new(doc.headline.clone()))
                } else {
                    ReplayVerdict::Conforms(format!("the last state has {} successors: no deadlock", actions.len()))
                }
            }
            _ => {
                let check = run.checks.iter().find(|c| c.name == doc.property).ok_or_else(|| {
                    Error::Trace(Diagnostic::new(Location::file(path), format!("the config no longer checks `{}`", doc.property)))
                })?;
                match &check.kind {
                    CheckKind::Invariant(judge) => match judge(m, last) {
                        Err(v) => ReplayVerdict::Reproduced(v),
                        Ok(()) => ReplayVerdict::Conforms(format!("{} holds in the last state", doc.property)),
                    },
                    CheckKind::Eventually(judge, fairness, _) => {
                        let fair = lasso::fair_conditions::<TlaModel>(*fairness);
                        let property = Temporal::LeadsTo(None, judge.clone());
                        let states: Vec<TlaState> = walked.iter().map(|(_, s)| s.clone()).collect();
                        super::lasso_verdict(lasso::judge(&**m, &states, doc.loop_index, &property, &fair), doc, steps)
                    }
                    CheckKind::Deadlock => ReplayVerdict::Conforms("a deadlock trace is replayed by its kind".into()),
                    // The lasso (or finite path) is judged again: its closing
                    // step, the behaviour spec's fairness, and the property.
                    CheckKind::Temporal(property, fair) => {
                        let states: Vec<TlaState> = walked.iter().map(|(_, s)| s.clone()).collect();
                        super::lasso_verdict(lasso::judge(&**m, &states, doc.loop_index, property, fair), doc, steps)
                    }
                }
            }
        };
        if let Some(e) = m.take_error() {
            return Err(e);
        }
        Ok(ReplayReport { steps, verdict })
    }
}
