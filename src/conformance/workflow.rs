//! Workflow paths on a real Temporal server: each step of a path of the
//! workflow model (`src/models/workflow.rs`) is done by the saga worker
//! driver (`src/sut/workflow/`), then the server's history, the exported
//! spans, the attempts and the effects are mapped onto a state of the model
//! and compared with the state the model predicts. The verdict comes from the
//! model's OWN property functions applied to the observed state.
//!
//! What is observed and what is not:
//! - `history`: the server's event history, mapped event by event (activity
//!   handles by scheduling order, attempt numbers from ActivityTaskStarted).
//!   A failed workflow task is retried by the server with attempt ≥ 2 as
//!   transient events it shows but does not persist; the model stands for
//!   that as a stuck workflow, so such retries that never completed are left
//!   out (and counted in the step's note).
//! - `acts`: resolution from the history; backoff when the server holds the
//!   activity pending on a later attempt than the last one handed out;
//!   attempts, the running attempt and the non-retryable failure from what
//!   the activity worker was handed.
//! - `ledger`: the effects the activities applied.
//! - `spans`: the interceptor's exported spans (OTLP JSON lines), matched to
//!   the model's spans by name, activity and attempt; a span the model holds
//!   buffered or lost must not be exported, and vice versa. Parents come from
//!   the real parent span ids.
//! - `worker` (cache, code version) is not observable and is taken from the
//!   model; `replay` is observed through the nondeterminism error the SDK
//!   reports (none: the code reproduced the recorded commands).
//!
//! The workflow worker takes a workflow task as soon as it is scheduled, so
//! where the model has a task outstanding, the state after it (the model's
//! `ProcessWT`) is accepted too; a path that acts on the workflow worker
//! while a task is outstanding cannot be driven and is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use super::{Divergence, Replayed, ReplayRequest, Report, StepLog, Target, Verdict};
use crate::error::{Error, Result};
use crate::model::{PropertyKind, SpecModel, Violation};
use crate::models::workflow::{Act, ActSt, ActType, Action, Ev, Event, Kind, Ledger, Proc, SpanName, SpanSt, State, Workflow, BUGS};
use crate::otlp::SpanRow;
use crate::sut::workflow::{self as sut, HistoryEvent, Observation, SagaConfig, SagaDriver, SagaRun, TemporalServer};
use crate::trace::itf;

/// Bounds of a replay.
#[derive(Clone, Debug)]
pub struct Options {
    /// How long the system may take to reach the state a step predicts.
    pub step_timeout: Duration,
    /// For a liveness counterexample: how long the last state must persist.
    pub settle: Duration,
    /// Run the saga with these seeded bugs instead of the model's (a control:
    /// the correct code on a buggy path must not reproduce the bug).
    pub bugs: Option<Vec<String>>,
    /// Extra environment for the driver (fault injection in tests).
    pub driver_env: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options { step_timeout: Duration::from_secs(30), settle: Duration::from_secs(3), bugs: None, driver_env: Vec::new() }
    }
}

/// What a replay on Temporal found, with its evidence.
#[derive(Clone, Debug)]
pub struct Run {
    pub report: Report,
    /// The real history at the end (every event, transient ones included).
    pub history: Vec<HistoryEvent>,
    /// Every span exported.
    pub spans: Vec<SpanRow>,
    /// The saga variant the workflow worker ran (and ran after a crash).
    pub variant: String,
    /// For the nondeterministic-code bug: the SDK Replayer's verdicts on the
    /// recorded history, against the changed code and the original code.
    pub replayer: Vec<sut::Replayed>,
    /// Where the history JSON and the spans file were kept, if kept.
    pub kept: Option<PathBuf>,
    /// The server and SDK versions, in a line.
    pub system: String,
}

/// `replay --sut temporal`.
pub const TEMPORAL: Target = Target {
    name: "temporal",
    module: "Workflow",
    about: "a real Temporal server (the temporal CLI's dev server) running the saga through the Python SDK's worker",
    replay: replay_trace,
};

fn replay_trace(req: &ReplayRequest) -> Result<Replayed> {
    let (model, path) = crate::engine::model_path::<Workflow>(req.doc, req.path)?;
    let server = TemporalServer::start(req.root)?;
    let run = run_path(&server, req.root, &model, &path, Some(&req.doc.property), &Options::default(), None)?;
    let mut report = run.report.clone();
    if let Verdict::Reproduced { headline, .. } = &mut report.verdict {
        for line in evidence(&run) {
            headline.push_str("\n  ");
            headline.push_str(&line);
        }
    }
    Ok(Replayed { system: format!("{}; server start-up {:.2} s", run.system, server.startup.as_secs_f64()), report })
}

/// The real evidence of a run, as lines: the saga variant, the history, the
/// exported spans as a tree, the Replayer's verdicts.
pub fn evidence(run: &Run) -> Vec<String> {
    let mut out = vec![format!("saga variant: {}", run.variant), format!("history ({} events):", run.history.len())];
    out.extend(run.history.iter().map(|e| format!("  {}", e.describe())));
    out.push(format!("exported spans ({}):", run.spans.len()));
    out.extend(span_tree(&run.spans).into_iter().map(|l| format!("  {l}")));
    for r in &run.replayer {
        out.push(match &r.error {
            Some(e) => format!(
                "Replayer (no server), saga variant {}: {}: {}",
                r.variant,
                r.error_type.as_deref().unwrap_or("error"),
                e.chars().take(300).collect::<String>()
            ),
            None => format!("Replayer (no server), saga variant {}: replays cleanly", r.variant),
        });
    }
    out
}

/// One line per system: `temporal version … / temporalio …`.
pub fn describe_system(server: &TemporalServer, hello: &sut::Hello) -> String {
    format!(
        "{} with the Python SDK temporalio {} (OpenTelemetry SDK {}, Python {})",
        server.version, hello.sdk_version, hello.otel_sdk_version, hello.language_version
    )
}

fn action_json(a: &Action) -> Json {
    match a {
        Action::StartWorkflow => json!({"kind": "StartWorkflow"}),
        Action::ProcessWT => json!({"kind": "ProcessWT"}),
        Action::StartAttempt { act } => json!({"kind": "StartAttempt", "act": act}),
        Action::EndAttempt { act, outcome } => json!({"kind": "EndAttempt", "act": act, "outcome": outcome.name()}),
        Action::Flush { proc } => json!({"kind": "Flush", "proc": proc.name()}),
        Action::CrashWorkflowWorker => json!({"kind": "CrashWorkflowWorker"}),
        Action::CrashActivityWorker { act } => json!({"kind": "CrashActivityWorker", "act": act}),
    }
}

fn outstanding(s: &State) -> bool {
    s.history.iter().rev().find(|e| {
        matches!(e.e, Ev::WorkflowTaskScheduled | Ev::WorkflowTaskStarted | Ev::WorkflowTaskCompleted | Ev::WorkflowTaskFailed)
    }).is_some_and(|e| e.e == Ev::WorkflowTaskScheduled)
}

fn act_type(name: &str) -> Option<ActType> {
    if name == "Step1v2" {
        return Some(ActType::Step1v2);
    }
    let num = |rest: &str| rest.parse::<u8>().ok().filter(|n| *n > 0 && rest == n.to_string());
    if let Some(rest) = name.strip_prefix("Compensate") {
        return num(rest).map(ActType::Compensate);
    }
    name.strip_prefix("Step").and_then(num).map(ActType::Step)
}

/// The observed state, built against a candidate state of the model (which
/// supplies what cannot be observed), and what in the observation the model
/// has no place for.
struct Mapped {
    state: State,
    unexplained: Vec<String>,
    dropped_transient: usize,
}

fn map_observation(cand: &State, obs: &Observation, events: &[HistoryEvent], spans: &[SpanRow]) -> Mapped {
    let mut unexplained = Vec::new();
    // Transient retries of a failed workflow task: attempt >= 2, never completed.
    let completed_sched: Vec<u64> =
        events.iter().filter(|e| e.kind == "WorkflowTaskCompleted").filter_map(|e| e.scheduled_event_id).collect();
    let transient: Vec<u64> = events
        .iter()
        .filter(|e| e.kind == "WorkflowTaskScheduled" && e.attempt.unwrap_or(1) >= 2 && !completed_sched.contains(&e.id))
        .map(|e| e.id)
        .collect();
    let kept: Vec<&HistoryEvent> = events
        .iter()
        .filter(|e| !transient.contains(&e.id) && !e.scheduled_event_id.is_some_and(|s| e.kind.starts_with("WorkflowTask") && transient.contains(&s)))
        .collect();
    let dropped_transient = events.len() - kept.len();
    // Activity handles: scheduling order.
    let scheduled: Vec<&HistoryEvent> = kept.iter().copied().filter(|e| e.kind == "ActivityTaskScheduled").collect();
    let handle_of_event = |id: u64| scheduled.iter().position(|e| e.id == id).map(|i| i as u8 + 1);
    let handle_of_activity = |aid: &str| scheduled.iter().position(|e| e.activity_id.as_deref() == Some(aid)).map(|i| i as u8 + 1);
    let mut history = Vec::new();
    for e in &kept {
        let Some(ev) = Ev::parse(&e.kind) else {
            unexplained.push(format!("history event {} has no counterpart in the model", e.describe()));
            continue;
        };
        let mut out = Event { e: ev, act: 0, n: 0, ty: ActType::None };
        match ev {
            Ev::ActivityTaskScheduled => {
                out.act = handle_of_event(e.id).unwrap_or(0);
                match e.activity_type.as_deref().and_then(act_type) {
                    Some(t) => out.ty = t,
                    None => unexplained.push(format!("history event {} schedules an activity type the saga does not have", e.describe())),
                }
            }
            Ev::ActivityTaskStarted | Ev::ActivityTaskCompleted | Ev::ActivityTaskFailed | Ev::ActivityTaskTimedOut => {
                out.act = e.scheduled_event_id.and_then(handle_of_event).unwrap_or(0);
                if ev == Ev::ActivityTaskStarted {
                    out.n = e.attempt.unwrap_or(0) as u8;
                }
            }
            _ => {}
        }
        history.push(out);
    }
    // Activities.
    let mut acts = Vec::new();
    for (i, sch) in scheduled.iter().enumerate() {
        let h = i as u8 + 1;
        let (kind, step) = match sch.activity_type.as_deref().and_then(act_type) {
            Some(ActType::Step(n)) => (Kind::Step, n),
            Some(ActType::Step1v2) => (Kind::Step, 1),
            Some(ActType::Compensate(n)) => (Kind::Comp, n),
            _ => (Kind::Step, 1),
        };
        let aid = sch.activity_id.clone().unwrap_or_default();
        let rows: Vec<&sut::Attempt> = obs.attempts.iter().filter(|a| a.activity_id == aid).collect();
        let attempts = rows.iter().map(|a| a.attempt).max().unwrap_or(0) as u8;
        let nr_at = rows.iter().find(|a| a.outcome.as_deref() == Some("nonretryable")).map_or(0, |a| a.attempt as u8);
        let resolved = history.iter().rev().find(|e| e.act == h && matches!(e.e, Ev::ActivityTaskCompleted | Ev::ActivityTaskFailed | Ev::ActivityTaskTimedOut));
        let st = match (resolved.map(|e| e.e), rows.iter().max_by_key(|a| a.attempt)) {
            (Some(Ev::ActivityTaskCompleted), _) => ActSt::Completed,
            (Some(Ev::ActivityTaskFailed), _) => ActSt::Failed,
            (Some(_), _) => ActSt::TimedOut,
            (None, None) => ActSt::Scheduled,
            (None, Some(last)) if last.outcome.is_none() => ActSt::Running,
            // An ended attempt is in backoff once the server has scheduled
            // the next one; until then the server has not decided.
            (None, Some(last)) if obs.pending.iter().any(|p| p.activity_id == aid && p.attempt > last.attempt) => ActSt::Backoff,
            (None, Some(_)) => ActSt::Running,
        };
        acts.push(Act { kind, step, st, attempts, nr_at });
    }
    for a in &obs.attempts {
        if handle_of_activity(&a.activity_id).is_none() {
            unexplained.push(format!("the activity worker ran {} attempt {} (activity {}), which the history does not schedule", a.ty, a.attempt, a.activity_id));
        }
    }
    // Effects.
    let mut ledger = vec![Ledger { done: 0, undone: 0 }; cand.ledger.len()];
    for e in &obs.ledger {
        match ledger.get_mut((e.step as usize).wrapping_sub(1)) {
            Some(l) if e.op == "do" => l.done += 1,
            Some(l) if e.op == "undo" => l.undone += 1,
            _ => unexplained.push(format!("an effect {} of step {} by {} the saga does not have", e.op, e.step, e.ty)),
        }
    }
    // Replay: a nondeterminism error names the command the code gave on replay.
    let recorded: Vec<ActType> = history.iter().filter(|e| e.e == Ev::ActivityTaskScheduled).map(|e| e.ty).collect();
    let nde = events.iter().find_map(|e| {
        let d = e.detail.as_deref()?;
        if e.kind != "WorkflowTaskFailed" || !d.contains("Nondeterminism") {
            return None;
        }
        let quoted: Vec<&str> = d.split('\'').skip(1).step_by(2).collect();
        match quoted.as_slice() {
            [was, now, ..] => Some((act_type(was), act_type(now))),
            _ => Some((None, None)),
        }
    });
    let replay = match nde {
        Some((Some(was), Some(now))) => {
            let mut swapped = false;
            recorded
                .iter()
                .map(|t| {
                    if *t == was && !swapped {
                        swapped = true;
                        now
                    } else {
                        *t
                    }
                })
                .collect()
        }
        Some(_) => {
            unexplained.push("a nondeterminism error whose activity types cannot be read".into());
            cand.replay.clone()
        }
        None if cand.replay.iter().zip(&recorded).all(|(a, b)| a == b) && cand.replay.len() <= recorded.len() => cand.replay.clone(),
        None => recorded.iter().copied().take(cand.replay.len()).collect(),
    };
    // Spans.
    let span_act = |s: &SpanRow, name: SpanName| -> Option<(u8, u8)> {
        match name {
            SpanName::StartActivity => {
                let ty = s.name.split_once(':')?.1;
                let h = scheduled.iter().position(|e| e.activity_type.as_deref() == Some(ty))? as u8 + 1;
                Some((h, 0))
            }
            SpanName::RunActivity => {
                let h = handle_of_activity(s.attributes.get("temporalActivityID")?)?;
                let n = s.attributes.get("temporalActivityAttempt")?.parse().ok()?;
                Some((h, n))
            }
            _ => Some((0, 0)),
        }
    };
    let real_key: Vec<Option<(SpanName, u8, u8)>> = spans
        .iter()
        .map(|s| {
            let name = SpanName::parse(s.name.split(':').next().unwrap_or(""))?;
            let (a, n) = span_act(s, name)?;
            Some((name, a, n))
        })
        .collect();
    let mut used = vec![false; spans.len()];
    let mut real_of = vec![None; cand.spans.len()];
    for (i, x) in cand.spans.iter().enumerate() {
        let key = (x.name, x.act, if x.name == SpanName::RunActivity { x.n } else { 0 });
        if let Some(j) = (0..spans.len()).find(|&j| !used[j] && real_key[j] == Some(key)) {
            used[j] = true;
            real_of[i] = Some(j);
        }
    }
    let mut out_spans = cand.spans.clone();
    for (i, x) in out_spans.iter_mut().enumerate() {
        x.st = match (real_of[i], cand.spans[i].st) {
            (Some(_), _) => SpanSt::Exported,
            (None, SpanSt::Exported) => SpanSt::Buffered,
            (None, st) => st,
        };
    }
    let root_trace = real_of.first().copied().flatten().map(|j| spans[j].trace_id.clone());
    for i in 0..out_spans.len() {
        let Some(j) = real_of[i] else { continue };
        let pid = &spans[j].parent_span_id;
        out_spans[i].parent = if pid.is_empty() {
            0
        } else if let Some(p) = (0..out_spans.len()).find(|&p| real_of[p].is_some_and(|q| &spans[q].span_id == pid)) {
            p as u8 + 1
        } else {
            // The parent was never exported: it is the model's parent if that
            // one is unexported too, and in the same trace.
            let p = cand.spans[i].parent;
            let unexported = p != 0 && out_spans[p as usize - 1].st != SpanSt::Exported;
            let same_trace = root_trace.as_ref().is_none_or(|t| t == &spans[j].trace_id);
            if !(unexported && same_trace) {
                unexplained.push(format!(
                    "exported span {:?} (line {}) has parent {} which is not among the exported spans",
                    spans[j].name, spans[j].origin, pid
                ));
            }
            p
        };
    }
    for (j, s) in spans.iter().enumerate() {
        if !used[j] {
            unexplained.push(format!("exported span {:?} ({}, line {}, {:?}) has no counterpart in the model", s.name, s.service, s.origin, s.attributes));
        }
    }
    let state = State { history, acts, ledger, worker: cand.worker, replay, spans: out_spans };
    Mapped { state, unexplained, dropped_transient }
}

/// The first difference between the predicted and the observed state.
fn first_difference(model: &Workflow, want: &State, got: &Mapped) -> (String, String) {
    let mut changes = Vec::new();
    let (w, g) = (Json::Object(model.encode(want)), Json::Object(model.encode(&got.state)));
    itf::diff("", Some(&w), Some(&g), &mut changes);
    match changes.into_iter().next() {
        Some((at, want, got)) => (
            format!("{at} = {}", want.unwrap_or_else(|| "absent".into())),
            format!("{at} = {}", got.unwrap_or_else(|| "absent".into())),
        ),
        None => {
            let why = got.unexplained.first().cloned().unwrap_or_default();
            ("the model's state and nothing more".into(), why)
        }
    }
}

static RUNS: AtomicU64 = AtomicU64::new(0);

/// The saga's parameters from the model's constants.
pub fn saga_config(model: &Workflow) -> SagaConfig {
    SagaConfig {
        steps: u32::from(model.steps),
        max_attempts: u32::from(model.max_attempts),
        compensation: model.compensation.name().to_string(),
        export: model.export.name().to_string(),
        bugs: BUGS.iter().filter(|b| model.bug(b)).map(|b| b.to_string()).collect(),
    }
}

/// Runs `path` on the server, step by step, and judges it. `property` is the
/// property the path is a counterexample to (None for a walk: then every
/// invariant is judged at every step). Each run has its own task queue and
/// workflow id on the shared server.
pub fn run_path(
    server: &TemporalServer,
    root: &Path,
    model: &Workflow,
    path: &[(Option<Action>, State)],
    property: Option<&str>,
    options: &Options,
    keep: Option<&Path>,
) -> Result<Run> {
    for (k, (action, _)) in path.iter().enumerate().skip(1) {
        let before = &path[k - 1].1;
        if matches!(action, Some(Action::CrashWorkflowWorker) | Some(Action::Flush { proc: Proc::Wf })) && outstanding(before) {
            return Err(Error::Sut {
                sut: "temporal".into(),
                headline: format!(
                    "step {k} ({}) acts on the workflow worker while a workflow task is outstanding; a real worker takes the task at once",
                    action.as_ref().map(|a| model.label(a)).unwrap_or_default()
                ),
                hint: Some("such an interleaving cannot be driven on a real server; `conform` walks avoid it".into()),
            });
        }
    }
    let dir = tempfile::tempdir().map_err(|e| Error::io(Path::new("/tmp"), "create a directory for a Temporal run", e))?;
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let tag = format!("tw-{}-{n}-{stamp}", std::process::id());
    let (spans_file, ledger_file, history_file) =
        (dir.path().join("spans.jsonl"), dir.path().join("ledger.jsonl"), dir.path().join("history.json"));
    let run = SagaRun {
        address: &server.address,
        namespace: "default",
        task_queue: &tag,
        workflow_id: &tag,
        spans_file: &spans_file,
        ledger_file: &ledger_file,
        history_file: &history_file,
    };
    let (mut driver, hello) = SagaDriver::launch_with(root, &options.driver_env)?;
    let system = describe_system(server, &hello);
    let mut config = saga_config(model);
    if let Some(bugs) = &options.bugs {
        config.bugs.clone_from(bugs);
    }
    let started = driver.start(&run, &config)?;
    let variant = format!(
        "{}{}",
        started.get("variant").and_then(Json::as_str).unwrap_or("?"),
        match started.get("variant_after_crash").and_then(Json::as_str) {
            Some(v) if Some(v) != started.get("variant").and_then(Json::as_str) => format!(", then {v} after a crash"),
            _ => String::new(),
        }
    );
    let defs = Workflow::property_defs();
    let mut log = Vec::new();
    let mut seen_events = 0usize;
    let mut last: Option<(Mapped, Vec<HistoryEvent>, Vec<SpanRow>)> = None;
    let mut verdict = None;
    for (k, (action, expected)) in path.iter().enumerate().skip(1) {
        let Some(action) = action else { continue };
        let label = model.label(action);
        let answer = driver.act(action_json(action), options.step_timeout)?;
        let mut candidates = vec![expected.clone()];
        if outstanding(expected) {
            if let Some(next) = stateright::Model::next_state(model, expected, Action::ProcessWT) {
                candidates.push(next);
            }
        }
        let deadline = Instant::now() + options.step_timeout;
        let matched = loop {
            let obs = driver.observe()?;
            let events = sut::history_events(&obs.history).map_err(|e| Error::Sut { sut: "temporal".into(), headline: e, hint: None })?;
            let spans = sut::read_spans(&spans_file)?;
            let mapped: Vec<Mapped> = candidates.iter().map(|c| map_observation(c, &obs, &events, &spans)).collect();
            if let Some(i) = (0..candidates.len()).find(|&i| mapped[i].state == candidates[i] && mapped[i].unexplained.is_empty()) {
                let m = mapped.into_iter().nth(i).expect("index in range");
                break Ok((m, events, spans, i));
            }
            if Instant::now() >= deadline {
                let first = mapped.into_iter().next().expect("one candidate");
                break Err((first, events, spans));
            }
            thread::sleep(Duration::from_millis(100));
        };
        match matched {
            Ok((m, events, spans, which)) => {
                let new: Vec<String> = events.iter().skip(seen_events).map(HistoryEvent::describe).collect();
                seen_events = events.len();
                let mut note = String::new();
                if let Some(a) = answer.get("attempt") {
                    note.push_str(&format!("attempt {a}; "));
                }
                if which == 1 {
                    note.push_str("the worker already took the workflow task; ");
                }
                note.push_str(&if new.is_empty() { "history unchanged".to_string() } else { format!("history + {}", new.join(", ")) });
                if m.dropped_transient > 0 {
                    note.push_str(&format!(" ({} transient workflow-task retry events left out)", m.dropped_transient));
                }
                log.push(StepLog { step: k, action: label.clone(), note });
                if property.is_none() {
                    for def in defs.iter().filter(|d| d.kind == PropertyKind::Invariant) {
                        if let Err(v) = (def.judge)(model, &m.state) {
                            verdict = Some(Verdict::Reproduced { property: def.name.to_string(), headline: headline(&v) });
                            break;
                        }
                    }
                }
                last = Some((m, events, spans));
                if verdict.is_some() {
                    break;
                }
            }
            Err((m, events, spans)) => {
                let (want, got) = first_difference(model, expected, &m);
                let evidence: Vec<String> = events.iter().skip(seen_events.saturating_sub(3)).map(HistoryEvent::describe).collect();
                let mut observed = format!("{got} after {} s", options.step_timeout.as_secs());
                if !m.unexplained.is_empty() {
                    observed.push_str(&format!("; {}", m.unexplained.join("; ")));
                }
                observed.push_str(&format!("; history: {}", evidence.join(", ")));
                verdict = Some(Verdict::Diverged(Divergence {
                    step: k,
                    action: label.clone(),
                    expected: want,
                    observed,
                    carrier: None,
                    class: "workflow/temporal".into(),
                }));
                log.push(StepLog { step: k, action: label, note: "diverged".into() });
                last = Some((m, events, spans));
                break;
            }
        }
    }
    let steps = log.len();
    if verdict.is_none() {
        let final_state = &last.as_ref().expect("a path has a step").0.state;
        verdict = Some(match property.and_then(|p| defs.iter().find(|d| d.name == p)) {
            None if property.is_some() => {
                return Err(Error::Sut {
                    sut: "temporal".into(),
                    headline: format!("the workflow model has no property {:?}", property.unwrap_or_default()),
                    hint: None,
                });
            }
            None => Verdict::Conforms,
            Some(def) => match (def.judge)(model, final_state) {
                Ok(()) => Verdict::Conforms,
                Err(v) if def.kind == PropertyKind::Invariant => Verdict::Reproduced { property: def.name.into(), headline: headline(&v) },
                Err(v) => {
                    // A liveness counterexample ends where the model stutters
                    // forever: the real workflow must stay as it is.
                    thread::sleep(options.settle);
                    let obs = driver.observe()?;
                    let events = sut::history_events(&obs.history).map_err(|e| Error::Sut { sut: "temporal".into(), headline: e, hint: None })?;
                    let spans = sut::read_spans(&spans_file)?;
                    let again = map_observation(path.last().map(|p| &p.1).expect("non-empty"), &obs, &events, &spans);
                    let status = obs.status.clone().unwrap_or_else(|| "?".into());
                    let still = (def.judge)(model, &again.state);
                    let moved = if again.state == *final_state && again.unexplained.is_empty() {
                        "unchanged".to_string()
                    } else {
                        let (_, got) = first_difference(model, final_state, &again);
                        format!("since then {got}")
                    };
                    last = Some((again, events, spans));
                    match still {
                        Err(_) => Verdict::Reproduced {
                            property: def.name.into(),
                            headline: format!(
                                "{} (still so {} s after the last step: execution {status}, {moved})",
                                headline(&v),
                                options.settle.as_secs()
                            ),
                        },
                        Ok(()) => Verdict::Conforms,
                    }
                }
            },
        });
    }
    let (_, history, spans) = last.expect("a path has a step");
    let mut replayer = Vec::new();
    if model.bug("Nondeterministic") {
        // The recorded history against the changed code and against the
        // code that recorded it, with the SDK's Replayer and no server.
        replayer.push(driver.replay(&history_file, "Nondeterministic")?);
        replayer.push(driver.replay(&history_file, "correct")?);
    }
    // The answers decide; the driver's exit does not (sdk-python #300): a
    // driver that aborts after answering changes nothing, and one that
    // aborted before answering has already made an error of the op it died in.
    let _ = driver.shutdown();
    let kept = match keep {
        Some(to) => {
            std::fs::create_dir_all(to).map_err(|e| Error::io(to, "create", e))?;
            for f in [&spans_file, &ledger_file, &history_file] {
                if let Some(name) = f.file_name() {
                    let _ = std::fs::copy(f, to.join(name));
                }
            }
            Some(to.to_path_buf())
        }
        None => None,
    };
    let report = Report { sut: "temporal".into(), steps, sut_steps: steps, verdict: verdict.expect("decided"), log };
    Ok(Run { report, history, spans, variant, replayer, kept, system })
}

fn headline(v: &Violation) -> String {
    let mut out = v.headline.to_string();
    for (k, val) in &v.evidence {
        out.push_str(&format!("; {k}: {val}"));
    }
    out
}

/// The exported spans as a tree, for reports: each span under its parent,
/// a span whose parent was never exported marked as an orphan.
pub fn span_tree(spans: &[SpanRow]) -> Vec<String> {
    let ids: BTreeMap<&str, usize> = spans.iter().enumerate().map(|(i, s)| (s.span_id.as_str(), i)).collect();
    let mut out = Vec::new();
    fn walk(spans: &[SpanRow], i: usize, depth: usize, out: &mut Vec<String>) {
        let s = &spans[i];
        let attempt = s.attributes.get("temporalActivityAttempt").map(|a| format!(" attempt={a}")).unwrap_or_default();
        out.push(format!("{}{} [{}] span={}{attempt}", "  ".repeat(depth), s.name, s.service, s.span_id));
        for (j, c) in spans.iter().enumerate() {
            if c.parent_span_id == s.span_id {
                walk(spans, j, depth + 1, out);
            }
        }
    }
    for (i, s) in spans.iter().enumerate() {
        if s.parent_span_id.is_empty() {
            walk(spans, i, 0, &mut out);
        } else if !ids.contains_key(s.parent_span_id.as_str()) {
            out.push(format!("ORPHAN (parent {} never exported):", s.parent_span_id));
            walk(spans, i, 1, &mut out);
        }
    }
    out
}

/// A random walk of the workflow model that a real server can follow: a
/// workflow task is processed as soon as it is scheduled (the real worker
/// takes it at once), attempts start in scheduling order (the activity
/// worker takes one at a time, as the server hands them out), and once the
/// workflow has closed every process flushes its spans. Seeded, so a walk is
/// reproducible from its seed.
pub fn walk(model: &Workflow, seed: u64, max_len: usize) -> Vec<(Option<Action>, State)> {
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next_rand = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    let mut path = vec![(None, stateright::Model::init_states(model).remove(0))];
    while path.len() <= max_len {
        let s = &path.last().expect("non-empty").1;
        let mut actions = Vec::new();
        stateright::Model::actions(model, s, &mut actions);
        let first_startable = actions.iter().find_map(|a| match a {
            Action::StartAttempt { act } => Some(*act),
            _ => None,
        });
        let choice: Vec<Action> = if actions.contains(&Action::ProcessWT) {
            vec![Action::ProcessWT]
        } else if s.closed() {
            actions.into_iter().filter(|a| matches!(a, Action::Flush { .. })).collect()
        } else {
            actions
                .into_iter()
                .filter(|a| match a {
                    Action::StartAttempt { act } => Some(*act) == first_startable,
                    // Flushes at the end only: they commute with the rest.
                    Action::Flush { .. } => false,
                    _ => true,
                })
                .collect()
        };
        if choice.is_empty() {
            break;
        }
        let a = choice[next_rand(choice.len())].clone();
        let Some(next) = stateright::Model::next_state(model, s, a.clone()) else { break };
        path.push((Some(a), next));
    }
    path
}

/// The path of the model that takes the actions with these labels, from the
/// initial state; an error names the first label that is not enabled.
pub fn path_from_labels(model: &Workflow, labels: &[&str]) -> std::result::Result<Vec<(Option<Action>, State)>, String> {
    let mut path = vec![(None, stateright::Model::init_states(model).remove(0))];
    for label in labels {
        let s = &path.last().expect("non-empty").1;
        let mut actions = Vec::new();
        stateright::Model::actions(model, s, &mut actions);
        let a = actions.into_iter().find(|a| model.label(a) == *label).ok_or_else(|| format!("{label} is not enabled after {} steps", path.len() - 1))?;
        let next = stateright::Model::next_state(model, s, a.clone()).ok_or_else(|| format!("{label} has no successor"))?;
        path.push((Some(a), next));
    }
    Ok(path)
}

/// One case of a workflow conform run.
#[derive(Clone, Debug)]
pub struct ConformCase {
    pub index: usize,
    pub seed: u64,
    pub steps: usize,
    pub verdict: Verdict,
    /// For a divergence: the shortest prefix of the walk that still diverges
    /// on the server (confirmed by running it again), with its verdict.
    pub minimal: Option<(Vec<(Option<Action>, State)>, Verdict)>,
}

/// `conform --sut temporal`: `cases` random walks of the workflow model
/// ([`walk`]), each run on the server and judged step by step. A divergence
/// is shrunk to the prefix ending at the diverging step, run again to
/// confirm (a prefix that no longer diverges keeps the whole walk).
pub fn conform(server: &TemporalServer, root: &Path, model: &Workflow, cases: usize, seed: u64, max_steps: usize) -> Result<Vec<ConformCase>> {
    let options = Options::default();
    let mut out = Vec::new();
    for index in 0..cases {
        let case_seed = seed.wrapping_add(index as u64);
        let path = walk(model, case_seed, max_steps);
        let run = run_path(server, root, model, &path, None, &options, None)?;
        let minimal = match &run.report.verdict {
            Verdict::Diverged(d) if d.step + 1 < path.len() => {
                let prefix = path[..=d.step].to_vec();
                let again = run_path(server, root, model, &prefix, None, &options, None)?;
                match again.report.verdict {
                    v @ Verdict::Diverged(_) => Some((prefix, v)),
                    _ => Some((path.clone(), run.report.verdict.clone())),
                }
            }
            Verdict::Diverged(_) => Some((path.clone(), run.report.verdict.clone())),
            _ => None,
        };
        out.push(ConformCase { index, seed: case_seed, steps: path.len() - 1, verdict: run.report.verdict, minimal });
    }
    Ok(out)
}
