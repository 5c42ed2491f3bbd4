//! From a loaded config to results, for any model: matching the config's
//! names to the model's properties, running the checker, writing the
//! counterexamples, and reading them back for `show` and `replay`.
//!
//! Models are listed in [`registry`]; everything here is generic over
//! [`SpecModel`] and reached through the object-safe [`Registered`], so a new
//! model needs no change outside its own module and its registry line.

pub mod interpreted;

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value as Json;

use crate::checker::{CheckKind, Checked, Checker, Options, Outcome, Status, StopReason};
use crate::error::{Diagnostic, Error, ExitCode, Location, Result};
use crate::model::{Behaviour, Explorable, Fairness, PropertyKind, SpecModel, Violation};
use crate::spec::cfg::{Cfg, DEADLOCK};
use crate::spec::value::Value;
use crate::spec::{Constant, Constants, Loaded};
use crate::trace::{itf, Step, TraceDoc, Written};

pub const TOOL: &str = concat!("tracewright ", env!("CARGO_PKG_VERSION"));

/// How a property came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropertyStatus {
    Holds,
    Violated,
    /// Exploration stopped before the property was settled.
    Unknown,
}

#[derive(Clone, Debug)]
pub struct PropertyReport {
    pub name: String,
    pub kind: &'static str,
    pub expect_violation: bool,
    pub result: PropertyStatus,
    pub violation: Option<Violation>,
    /// The counterexample, for a violated property.
    pub doc: Option<TraceDoc>,
    /// Where the counterexample was written, when an output directory was given.
    pub trace: Option<Written>,
    pub steps: Option<usize>,
}

impl PropertyReport {
    /// Whether the property came out as the config expects; `None` if unknown.
    pub fn as_expected(&self) -> Option<bool> {
        match self.result {
            PropertyStatus::Holds => Some(!self.expect_violation),
            PropertyStatus::Violated => Some(self.expect_violation),
            PropertyStatus::Unknown => None,
        }
    }
}

/// The model-independent result of checking one config.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub spec: String,
    pub config: PathBuf,
    pub config_label: String,
    pub distinct: u64,
    pub generated: u64,
    pub depth: u64,
    pub elapsed: Duration,
    pub threads: usize,
    pub stopped: Option<StopReason>,
    pub store_bytes: u64,
    /// The largest resident set of the process by the end of the run.
    pub peak_memory: u64,
    pub collision_probability: f64,
    pub properties: Vec<PropertyReport>,
}

impl RunReport {
    pub fn exit_code(&self) -> ExitCode {
        if self.properties.iter().any(|p| p.as_expected() == Some(false)) {
            ExitCode::Unexpected
        } else if self.stopped.is_some() {
            ExitCode::Incomplete
        } else {
            ExitCode::Ok
        }
    }
}

/// A config checked against its model, ready to run: every name resolved.
pub trait Prepared: Send {
    fn files(&self) -> &crate::spec::SpecFiles;
    fn run(&self, options: Options, out: Option<&Path>) -> Result<RunReport>;
}

/// What the CLI needs of a model, without knowing its types.
pub trait Registered: Sync {
    fn module(&self) -> &'static str;
    fn constants(&self) -> &'static [&'static str];
    fn variables(&self) -> &'static [&'static str];
    fn property_names(&self) -> Vec<&'static str>;
    fn prepare(&self, loaded: Loaded) -> Result<Box<dyn Prepared>>;
    fn show(&self, doc: &TraceDoc, path: &Path, mermaid: bool) -> Result<String>;
    fn replay(&self, doc: &TraceDoc, path: &Path) -> Result<ReplayReport>;
}

pub struct Registration<M>(pub PhantomData<M>);

static TRACE_CONTEXT: Registration<crate::models::trace_context::TraceContext> = Registration::new();
static WORKFLOW: Registration<crate::models::workflow::Workflow> = Registration::new();

/// Every model, in the order `check --all` and error messages list them.
pub fn registry() -> Vec<&'static dyn Registered> {
    vec![&TRACE_CONTEXT, &WORKFLOW]
}

/// The model implementing TLA+ module `module`.
pub fn find(module: &str) -> Option<&'static dyn Registered> {
    registry().into_iter().find(|r| r.module() == module)
}

impl<M: SpecModel> Registration<M> {
    pub const fn new() -> Self {
        Registration(PhantomData)
    }
}

impl<M: SpecModel> Default for Registration<M> {
    fn default() -> Self {
        Self::new()
    }
}

struct PreparedRun<M: SpecModel> {
    loaded: Loaded,
    model: M,
    checks: Vec<Checked<M>>,
    expected: Vec<bool>,
}

/// The fairness of the behaviour spec the config names.
fn fairness_of<M: SpecModel>(cfg: &Cfg) -> Result<Fairness> {
    let known = M::behaviours();
    let describe = || {
        known
            .iter()
            .map(|b| match b {
                Behaviour::Specification { name, .. } => format!("SPECIFICATION {name}"),
                Behaviour::InitNext { init, next } => format!("INIT {init} + NEXT {next}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unknown = |line: usize, what: String| {
        Error::Spec(
            Diagnostic::new(Location::at(&cfg.path, line), format!("the Rust model of {} does not implement {what}", M::MODULE))
                .evidence("implemented", describe())
                .hint("tracewright explores the Rust model; name a behaviour spec it implements"),
        )
    };
    if let Some(spec) = &cfg.specification {
        return known
            .iter()
            .find_map(|b| match b {
                Behaviour::Specification { name, fairness } if *name == spec.name => Some(*fairness),
                _ => None,
            })
            .ok_or_else(|| unknown(spec.line, format!("SPECIFICATION {}", spec.name)));
    }
    let (init, next) = (cfg.init.as_ref().expect("validated"), cfg.next.as_ref().expect("validated"));
    known
        .iter()
        .find_map(|b| match b {
            Behaviour::InitNext { init: i, next: n } if *i == init.name && *n == next.name => Some(Fairness::None),
            _ => None,
        })
        .ok_or_else(|| unknown(init.line, format!("INIT {} with NEXT {}", init.name, next.name)))
}

impl<M: SpecModel> Registered for Registration<M> {
    fn module(&self) -> &'static str {
        M::MODULE
    }

    fn constants(&self) -> &'static [&'static str] {
        M::CONSTANTS
    }

    fn variables(&self) -> &'static [&'static str] {
        M::VARIABLES
    }

    fn property_names(&self) -> Vec<&'static str> {
        M::property_defs().iter().map(|d| d.name).collect()
    }

    fn prepare(&self, loaded: Loaded) -> Result<Box<dyn Prepared>> {
        let model = M::from_constants(&loaded.constants)?;
        let fairness = fairness_of::<M>(&loaded.cfg)?;
        let defs = M::property_defs();
        let cfg = &loaded.cfg;
        if let Some((word, named)) = cfg.state_space_sections().first() {
            return Err(Error::Spec(
                Diagnostic::new(Location::at(&cfg.path, named.line), format!("the Rust model of {} does not implement the {word} section", M::MODULE))
                    .hint("check the spec with the TLA+ interpreter: --engine tla"),
            ));
        }
        let mut checks = Vec::new();
        let listed = cfg.invariants.iter().map(|n| (n, PropertyKind::Invariant))
            .chain(cfg.properties.iter().map(|n| (n, PropertyKind::Eventually)));
        for (named, section) in listed {
            let at = Location::at(&cfg.path, named.line);
            let def = defs.iter().find(|d| d.name == named.name).ok_or_else(|| {
                Error::Spec(
                    Diagnostic::new(at.clone(), format!("unknown property `{}`: the Rust model of {} does not implement it", named.name, M::MODULE))
                        .evidence("implemented", defs.iter().map(|d| d.name).collect::<Vec<_>>().join(", "))
                        .hint("every property a config checks needs a function of the same name in the Rust model"),
                )
            })?;
            if def.kind != section {
                let (is, belongs) = match def.kind {
                    PropertyKind::Invariant => ("a state invariant", "INVARIANTS"),
                    PropertyKind::Eventually => ("a temporal property", "PROPERTIES"),
                };
                return Err(Error::Spec(
                    Diagnostic::new(at, format!("`{}` is {is}", named.name))
                        .hint(format!("list it under {belongs}")),
                ));
            }
            let kind = match def.kind {
                PropertyKind::Invariant => CheckKind::Invariant(std::sync::Arc::new(def.judge)),
                PropertyKind::Eventually => {
                    let rank: Option<fn(&M, &M::State) -> u64> = if M::RANKED { Some(M::rank) } else { None };
                    CheckKind::Eventually(std::sync::Arc::new(def.judge), fairness, rank)
                }
            };
            checks.push(Checked { name: def.name.to_string(), kind });
        }
        if cfg.check_deadlock {
            checks.push(Checked { name: DEADLOCK.to_string(), kind: CheckKind::Deadlock });
        }
        let expected = checks.iter().map(|c| cfg.expect_violation.contains_key(&c.name)).collect();
        Ok(Box::new(PreparedRun { loaded, model, checks, expected }))
    }

    fn show(&self, doc: &TraceDoc, path: &Path, mermaid: bool) -> Result<String> {
        let model: M = model_of_trace(doc, path)?;
        let states = decode_states(&model, doc, path)?;
        let replayed = replay_steps(&model, doc, states);
        if mermaid {
            let path_states = replayed.map_err(|d| d.into_error(path))?;
            let violation = Violation { headline: doc.headline.clone().into(), evidence: doc.evidence.clone() };
            return Ok(model.mermaid(&path_states, Some((&doc.property, &violation))));
        }
        let mut text = crate::render::text(doc, path);
        if let Err(d) = replayed {
            text.push_str(&format!(
                "\nnote: the model no longer replays this trace: diverged at step {}: expected {}, observed {}\n",
                d.step, d.expected, d.observed
            ));
        }
        Ok(text)
    }

    fn replay(&self, doc: &TraceDoc, path: &Path) -> Result<ReplayReport> {
        let model: M = model_of_trace(doc, path)?;
        let decoded = decode_states(&model, doc, path)?;
        let states = match replay_steps(&model, doc, decoded) {
            Ok(states) => states,
            Err(d) => return Ok(ReplayReport { steps: d.step, verdict: ReplayVerdict::Diverged(d) }),
        };
        let steps = states.len() - 1;
        let defs = M::property_defs();
        let last = &states.last().expect("a trace has a state").1;
        let verdict = match doc.kind.as_str() {
            "divergence" => ReplayVerdict::Conforms(format!(
                "the trace records where a system under test left the model ({}), not a violation of the model",
                doc.headline
            )),
            "deadlock" => {
                let mut actions = Vec::new();
                model.actions(last, &mut actions);
                let successors = actions.into_iter().filter_map(|a| model.next_state(last, a)).count();
                if successors == 0 {
                    ReplayVerdict::Reproduced(Violation::new(doc.headline.clone()))
                } else {
                    ReplayVerdict::Conforms(format!("the last state has {successors} successors: no deadlock"))
                }
            }
            _ => {
                let def = defs.iter().find(|d| d.name == doc.property).ok_or_else(|| {
                    Error::Trace(Diagnostic::new(Location::file(path), format!("the trace's property `{}` is not one the model implements", doc.property)))
                })?;
                match def.kind {
                    PropertyKind::Invariant => match (def.judge)(&model, last) {
                        Err(v) => ReplayVerdict::Reproduced(v),
                        Ok(()) => ReplayVerdict::Conforms(format!("{} holds in the last state", doc.property)),
                    },
                    PropertyKind::Eventually => {
                        // The lasso is judged again: its closing step, the
                        // fairness of the config's behaviour spec, and `<>P`.
                        let cfg = trace_config(doc, path)?;
                        let fair = crate::checker::lasso::fair_conditions::<M>(fairness_of::<M>(&cfg)?);
                        let judge = def.judge;
                        let property = crate::checker::liveness::Temporal::LeadsTo(None, std::sync::Arc::new(move |m: &M, s: &M::State| judge(m, s)));
                        let path_states: Vec<M::State> = states.iter().map(|(_, s)| s.clone()).collect();
                        lasso_verdict(crate::checker::lasso::judge(&model, &path_states, doc.loop_index, &property, &fair), doc, steps)
                    }
                }
            }
        };
        Ok(ReplayReport { steps, verdict })
    }
}

/// The config a trace names, for what the trace itself does not record (the
/// behaviour spec's fairness).
fn trace_config(doc: &TraceDoc, path: &Path) -> Result<Cfg> {
    let cfg = PathBuf::from(&doc.config);
    if !cfg.is_file() {
        return Err(Error::Trace(
            Diagnostic::new(Location::file(path), format!("the trace's config {} is not found: its fairness judges the lasso", cfg.display()))
                .hint("run replay from the directory `check` ran in"),
        ));
    }
    Cfg::read(&cfg)
}

/// A re-judged lasso as a replay verdict: a closing step the spec does not
/// take is a divergence at the step after the last.
pub(crate) fn lasso_verdict(judged: crate::checker::lasso::Judged, doc: &TraceDoc, steps: usize) -> ReplayVerdict {
    use crate::checker::lasso::Judged;
    match judged {
        Judged::Violated(v) => ReplayVerdict::Reproduced(v),
        Judged::Satisfied(why) => ReplayVerdict::Conforms(format!("{} is not violated on this behaviour: {why}", doc.property)),
        Judged::NotALasso { expected, observed } => ReplayVerdict::Diverged(Divergence { step: steps + 1, expected, observed }),
    }
}

/// Where and how a trace stopped matching the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub step: usize,
    pub expected: String,
    pub observed: String,
}

impl Divergence {
    fn into_error(self, path: &Path) -> Error {
        Error::Trace(
            Diagnostic::new(Location::file(path), format!("trace does not replay on the model: diverged at step {}", self.step))
                .evidence("expected", self.expected)
                .evidence("observed", self.observed)
                .hint("the model changed since the trace was written; `tracewright replay` shows the same divergence, and `check` writes a new trace"),
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// Every step matched and the last state shows the violation.
    Reproduced(Violation),
    /// Every step matched but the violation is not there.
    Conforms(String),
    Diverged(Divergence),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    pub steps: usize,
    pub verdict: ReplayVerdict,
}

/// The typed path of a trace file of model `M`: the model rebuilt from the
/// trace's constants, and every recorded step replayed on it. A replayer on a
/// real system starts from this, so it never acts on a trace the model
/// itself no longer takes.
pub fn model_path<M: SpecModel>(doc: &TraceDoc, path: &Path) -> Result<(M, Vec<(Option<M::Action>, M::State)>)> {
    if doc.spec != M::MODULE {
        return Err(Error::Trace(Diagnostic::new(
            Location::file(path),
            format!("the trace is of module {}, not {}", doc.spec, M::MODULE),
        )));
    }
    let model: M = model_of_trace(doc, path)?;
    let decoded = decode_states(&model, doc, path)?;
    let states = replay_steps(&model, doc, decoded).map_err(|d| d.into_error(path))?;
    Ok((model, states))
}

/// Rebuilds the model a trace was checked on from the constants it records.
fn model_of_trace<M: SpecModel>(doc: &TraceDoc, path: &Path) -> Result<M> {
    let mut values = std::collections::BTreeMap::new();
    for (name, json) in &doc.constants {
        let value = value_from_itf(json).map_err(|e| {
            Error::Trace(Diagnostic::new(Location::file(path), format!("constant `{name}` in `#meta.constants` is malformed: {e}")))
        })?;
        values.insert(name.clone(), Constant { value, line: 0 });
    }
    M::from_constants(&Constants { cfg_path: path.to_path_buf(), values }).map_err(|e| match e {
        Error::Spec(d) => Error::Trace(Diagnostic { location: Location::file(path), ..d }),
        other => other,
    })
}

fn value_from_itf(json: &Json) -> std::result::Result<Value, String> {
    match json {
        Json::Bool(b) => Ok(Value::Bool(*b)),
        Json::Number(n) => n.as_i64().map(Value::Int).ok_or_else(|| format!("number {n} is out of range")),
        Json::String(s) => Ok(Value::Str(s.clone())),
        Json::Array(items) => items.iter().map(value_from_itf).collect::<std::result::Result<_, _>>().map(Value::Tuple),
        Json::Object(o) => {
            if let Some(Json::String(n)) = o.get("#bigint") {
                return n.parse().map(Value::Int).map_err(|_| format!("bigint {n:?} is out of range"));
            }
            if let Some(Json::Array(items)) = o.get("#set") {
                return items.iter().map(value_from_itf).collect::<std::result::Result<_, _>>().map(Value::Set);
            }
            if let Some(Json::Array(items)) = o.get("#tup") {
                return items.iter().map(value_from_itf).collect::<std::result::Result<_, _>>().map(Value::Tuple);
            }
            o.iter()
                .map(|(k, v)| Ok((k.clone(), value_from_itf(v)?)))
                .collect::<std::result::Result<_, String>>()
                .map(Value::Record)
        }
        Json::Null => Err("null is not a TLA+ value".to_string()),
    }
}

/// Every state of a trace as a state of the model; a state that is not one
/// means the file is damaged (exit 2), unlike a divergence.
fn decode_states<M: SpecModel>(model: &M, doc: &TraceDoc, path: &Path) -> Result<Vec<M::State>> {
    doc.steps
        .iter()
        .enumerate()
        .map(|(k, step)| {
            model.decode(&Json::Object(step.vars.clone())).map_err(|e| {
                Error::Trace(
                    Diagnostic::new(Location::file(path), format!("state {k} is not a state of the {} model", M::MODULE))
                        .evidence("problem", e)
                        .hint("the file was edited or damaged; re-run `tracewright check` to write it again"),
                )
            })
        })
        .collect()
}

/// Replays a trace's action labels on the model: at each step the action with
/// the recorded label must be enabled and lead to the recorded state.
fn replay_steps<M: SpecModel>(
    model: &M,
    doc: &TraceDoc,
    states: Vec<M::State>,
) -> std::result::Result<Vec<(Option<M::Action>, M::State)>, Divergence> {
    let render = |state: &M::State| itf::render(&Json::Object(model.encode(state)));
    let mut states = states.into_iter();
    let first = states.next().expect("a trace has a state");
    if !model.init_states().contains(&first) {
        return Err(Divergence { step: 0, expected: "an initial state of the model".into(), observed: render(&first) });
    }
    let mut path = vec![(None, first)];
    for ((k, step), recorded) in doc.steps.iter().enumerate().skip(1).zip(states) {
        let label = step.action.as_deref().unwrap_or("");
        let state = &path.last().expect("non-empty").1;
        let mut actions = Vec::new();
        model.actions(state, &mut actions);
        let Some(action) = actions.iter().find(|a| model.label(a) == label).cloned() else {
            let enabled: Vec<String> = actions.iter().map(|a| model.label(a)).collect();
            return Err(Divergence {
                step: k,
                expected: format!("action {label} to be enabled"),
                observed: format!("enabled: {}", if enabled.is_empty() { "none".to_string() } else { enabled.join(", ") }),
            });
        };
        let Some(next) = model.next_state(state, action.clone()) else {
            return Err(Divergence { step: k, expected: format!("action {label} to have a successor"), observed: "none".into() });
        };
        if next != recorded {
            let mut changes = Vec::new();
            let (want, got) = (Json::Object(model.encode(&recorded)), Json::Object(model.encode(&next)));
            itf::diff("", Some(&want), Some(&got), &mut changes);
            let (at, want, got) = changes.into_iter().next().unwrap_or_default();
            return Err(Divergence {
                step: k,
                expected: format!("{at} = {} (as the trace records)", want.unwrap_or_else(|| "absent".into())),
                observed: format!("{at} = {} (as the model computes after {label})", got.unwrap_or_else(|| "absent".into())),
            });
        }
        path.push((Some(action), next));
    }
    Ok(path)
}

pub(crate) fn display_path(p: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd.as_deref().and_then(|c| p.strip_prefix(c).ok()).unwrap_or(p);
    shown.to_string_lossy().replace('\\', "/")
}

impl<M: SpecModel> Prepared for PreparedRun<M> {
    fn files(&self) -> &crate::spec::SpecFiles {
        &self.loaded.files
    }

    fn run(&self, options: Options, out: Option<&Path>) -> Result<RunReport> {
        let threads = options.threads.max(1);
        let outcome = Checker::new(&self.model, &self.checks, options).run();
        let expected = |i: usize, _: &Checked<M>| self.expected[i];
        let trace = |name: &str, kind: &str, violation: &Violation, loop_index: Option<usize>, path: &[(Option<M::Action>, M::State)]| {
            trace_doc(&self.model, &self.loaded, name, kind, violation, loop_index, path)
        };
        run_report(&self.checks, outcome, expected, trace, M::MODULE.to_string(), &self.loaded.files, threads, out)
    }
}

/// A checker run as `check` reports it, the same for every engine: one
/// report per property, each counterexample rendered by `trace` and written
/// into `out` when given. `expected` says whether the config expects the
/// i-th property to be violated.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_report<M: Explorable>(
    checks: &[Checked<M>],
    outcome: Outcome<M>,
    expected: impl Fn(usize, &Checked<M>) -> bool,
    trace: impl Fn(&str, &'static str, &Violation, Option<usize>, &[(Option<M::Action>, M::State)]) -> TraceDoc,
    spec: String,
    files: &crate::spec::SpecFiles,
    threads: usize,
    out: Option<&Path>,
) -> Result<RunReport> {
    let collision_probability = outcome.collision_probability();
    let mut properties = Vec::new();
    for (i, (check, prop)) in checks.iter().zip(outcome.properties).enumerate() {
        let mut report = PropertyReport {
            name: prop.name.clone(),
            kind: check.kind.name(),
            expect_violation: expected(i, check),
            result: PropertyStatus::Unknown,
            violation: None,
            doc: None,
            trace: None,
            steps: None,
        };
        match prop.status {
            Status::Holds => report.result = PropertyStatus::Holds,
            Status::Unknown => {}
            Status::Violated(cx) => {
                report.result = PropertyStatus::Violated;
                report.steps = Some(cx.path.len() - 1);
                let doc = trace(&prop.name, report.kind, &cx.violation, cx.loop_index, &cx.path);
                if let Some(dir) = out {
                    report.trace = Some(doc.write_into(dir)?);
                }
                report.doc = Some(doc);
                report.violation = Some(cx.violation);
            }
        }
        properties.push(report);
    }
    Ok(RunReport {
        spec,
        config: files.cfg.clone(),
        config_label: files.config_label(),
        distinct: outcome.distinct,
        generated: outcome.generated,
        depth: outcome.depth,
        elapsed: outcome.elapsed,
        threads,
        collision_probability,
        stopped: outcome.stopped,
        store_bytes: outcome.store_bytes,
        peak_memory: outcome.peak_memory,
        properties,
    })
}

/// A path as a trace file: a counterexample to `property`, or (with kind
/// `divergence`) a walk on which a system under test left the model.
pub fn trace_doc<M: SpecModel>(
    model: &M,
    loaded: &Loaded,
    property: &str,
    kind: &str,
    violation: &Violation,
    loop_index: Option<usize>,
    path: &[(Option<M::Action>, M::State)],
) -> TraceDoc {
    let files = &loaded.files;
    TraceDoc {
        spec: M::MODULE.to_string(),
        source: display_path(&files.tla),
        config: display_path(&files.cfg),
        config_label: files.config_label(),
        property: property.to_string(),
        kind: kind.to_string(),
        tool: TOOL.to_string(),
        headline: violation.headline.to_string(),
        evidence: violation.evidence.clone(),
        constants: loaded.constants.values.iter().map(|(k, c)| (k.clone(), c.value.to_itf())).collect(),
        vars: M::VARIABLES.iter().map(|v| v.to_string()).collect(),
        loop_index,
        header_variant: None,
        steps: path.iter().map(|(a, s)| Step { action: a.as_ref().map(|a| model.label(a)), vars: model.encode(s) }).collect(),
    }
}

/// Which engine checks a spec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineChoice {
    /// The Rust model where one implements the module, else the interpreter.
    #[default]
    Auto,
    /// The hand-written Rust model (an error if there is none).
    Rust,
    /// The TLA+ interpreter, even where a Rust model exists.
    Tla,
}

/// Loads a config and prepares it for its model.
pub fn prepare(files: &crate::spec::SpecFiles) -> Result<Box<dyn Prepared>> {
    prepare_with(files, EngineChoice::Auto, &[])
}

/// Loads a config and prepares it for the chosen engine; `libs` are where
/// the interpreter looks for modules the spec extends.
pub fn prepare_with(files: &crate::spec::SpecFiles, engine: EngineChoice, libs: &[PathBuf]) -> Result<Box<dyn Prepared>> {
    match engine {
        EngineChoice::Tla => return interpreted::prepare(files, libs),
        EngineChoice::Auto if find(&files.module_stem()).is_none() => return interpreted::prepare(files, libs),
        _ => {}
    }
    let loaded = crate::spec::load(files)?;
    let registered = find(&loaded.module.name).ok_or_else(|| {
        Error::Spec(
            Diagnostic::new(Location::file(&files.tla), format!("no Rust model implements module {}", loaded.module.name))
                .evidence("models", registry().iter().map(|r| r.module()).collect::<Vec<_>>().join(", "))
                .hint("check it with --engine tla"),
        )
    })?;
    registered.prepare(loaded)
}

/// Reads a trace and finds the model it belongs to.
pub fn open_trace(path: &Path) -> Result<(TraceDoc, &'static dyn Registered)> {
    let doc = TraceDoc::read(path)?;
    if interpreted::wrote(&doc) {
        return Ok((doc, &interpreted::INTERPRETED));
    }
    let registered = find(&doc.spec).ok_or_else(|| {
        Error::Trace(
            Diagnostic::new(Location::file(path), format!("the trace is of module {}, which no model here implements", doc.spec))
                .evidence("models", registry().iter().map(|r| r.module()).collect::<Vec<_>>().join(", ")),
        )
    })?;
    Ok((doc, registered))
}
