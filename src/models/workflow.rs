//! A Temporal-style durable workflow running a saga: the Rust twin of
//! `specs/workflow/Workflow.tla`.
//!
//! The workflow code runs `Steps` activities in order and registers each
//! step's compensation after it completes; a step failing for good (a
//! non-retryable error, or retries used up) makes the code run the registered
//! compensations — in reverse order, one at a time, by default — and fail the
//! workflow. The server keeps the history, retries attempts under the retry
//! policy and records only an activity's last attempt. Workers crash: the
//! workflow worker loses its cache and replays the history; the activity
//! worker loses its attempt in flight. A tracing interceptor emits
//! StartWorkflow, RunWorkflow, StartActivity, RunActivity (per attempt) and
//! CompleteWorkflow, exported by a simple or batch span processor.
//!
//! The state is exactly the spec's six variables with the spec's 1-based
//! handles, so the distinct-state count equals TLC's for the same config.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::error::{Error, Result};
use crate::model::{all, Behaviour, Fairness, PropertyDef, PropertyKind, SpecModel, Verdict, Violation};
use crate::spec::Constants;
use crate::trace::itf;

named!(Ev {
    WorkflowExecutionStarted = "WorkflowExecutionStarted",
    WorkflowTaskScheduled = "WorkflowTaskScheduled",
    WorkflowTaskStarted = "WorkflowTaskStarted",
    WorkflowTaskCompleted = "WorkflowTaskCompleted",
    WorkflowTaskFailed = "WorkflowTaskFailed",
    ActivityTaskScheduled = "ActivityTaskScheduled",
    ActivityTaskStarted = "ActivityTaskStarted",
    ActivityTaskCompleted = "ActivityTaskCompleted",
    ActivityTaskFailed = "ActivityTaskFailed",
    ActivityTaskTimedOut = "ActivityTaskTimedOut",
    WorkflowExecutionCompleted = "WorkflowExecutionCompleted",
    WorkflowExecutionFailed = "WorkflowExecutionFailed",
});

impl Ev {
    fn closes(self) -> bool {
        matches!(self, Ev::WorkflowExecutionCompleted | Ev::WorkflowExecutionFailed)
    }

    fn is_final(self) -> bool {
        matches!(self, Ev::ActivityTaskCompleted | Ev::ActivityTaskFailed | Ev::ActivityTaskTimedOut)
    }

    fn is_wt(self) -> bool {
        matches!(
            self,
            Ev::WorkflowTaskScheduled | Ev::WorkflowTaskStarted | Ev::WorkflowTaskCompleted | Ev::WorkflowTaskFailed
        )
    }

    fn ends_wt(self) -> bool {
        matches!(self, Ev::WorkflowTaskCompleted | Ev::WorkflowTaskFailed)
    }
}

named!(Kind { Step = "step", Comp = "comp" });
named!(ActSt {
    Scheduled = "scheduled",
    Running = "running",
    Backoff = "backoff",
    Completed = "completed",
    Failed = "failed",
    TimedOut = "timedout",
});
named!(Outcome {
    Ok = "ok",
    Retryable = "retryable",
    NonRetryable = "nonretryable",
    EffectTimeout = "effect-timeout",
    Timeout = "timeout",
});
named!(Mode { Sequential = "sequential", Continue = "continue", Parallel = "parallel" });
named!(Export { Simple = "simple", Batch = "batch" });
named!(Cache { Warm = "warm", Cold = "cold" });
named!(SpanName {
    StartWorkflow = "StartWorkflow",
    RunWorkflow = "RunWorkflow",
    StartActivity = "StartActivity",
    RunActivity = "RunActivity",
    CompleteWorkflow = "CompleteWorkflow",
});
named!(Proc { Client = "client", Wf = "wf", Act = "act" });
named!(SpanSt { Buffered = "buffered", Exported = "exported", Lost = "lost" });

impl ActSt {
    fn resolved(self) -> bool {
        matches!(self, ActSt::Completed | ActSt::Failed | ActSt::TimedOut)
    }
}

/// An activity type as the history records it: `Step2`, `Compensate1`, or
/// `Step1v2` (step 1 renamed by the code deployed after a crash).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActType {
    None,
    Step(u8),
    Step1v2,
    Compensate(u8),
}

impl ActType {
    pub fn name(self) -> String {
        match self {
            ActType::None => String::new(),
            ActType::Step(i) => format!("Step{i}"),
            ActType::Step1v2 => "Step1v2".to_string(),
            ActType::Compensate(i) => format!("Compensate{i}"),
        }
    }

    fn parse(s: &str) -> Option<ActType> {
        if s.is_empty() {
            return Some(ActType::None);
        }
        if s == "Step1v2" {
            return Some(ActType::Step1v2);
        }
        let num = |rest: &str| rest.parse::<u8>().ok().filter(|n| *n > 0 && rest == n.to_string());
        if let Some(rest) = s.strip_prefix("Compensate") {
            return num(rest).map(ActType::Compensate);
        }
        s.strip_prefix("Step").and_then(num).map(ActType::Step)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    pub e: Ev,
    /// The activity handle (1-based), 0 if none.
    pub act: u8,
    /// The attempt, on ActivityTaskStarted; 0 otherwise.
    pub n: u8,
    pub ty: ActType,
}

impl Event {
    fn plain(e: Ev) -> Event {
        Event { e, act: 0, n: 0, ty: ActType::None }
    }

    fn of(e: Ev, act: u8) -> Event {
        Event { e, act, n: 0, ty: ActType::None }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Act {
    pub kind: Kind,
    pub step: u8,
    pub st: ActSt,
    pub attempts: u8,
    /// The attempt that failed non-retryably, 0 if none.
    pub nr_at: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ledger {
    pub done: u8,
    pub undone: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Worker {
    pub cache: Cache,
    pub code: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WSpan {
    pub name: SpanName,
    pub act: u8,
    pub n: u8,
    pub parent: u8,
    pub proc: Proc,
    pub st: SpanSt,
}

/// The spec's variables.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    pub history: Vec<Event>,
    pub acts: Vec<Act>,
    pub ledger: Vec<Ledger>,
    pub worker: Worker,
    pub replay: Vec<ActType>,
    pub spans: Vec<WSpan>,
}

impl State {
    pub fn act(&self, a: u8) -> &Act {
        &self.acts[a as usize - 1]
    }

    fn act_handles(&self) -> impl Iterator<Item = u8> + '_ {
        1..=self.acts.len() as u8
    }

    pub fn started(&self) -> bool {
        !self.history.is_empty()
    }

    pub fn closed(&self) -> bool {
        self.history.iter().any(|e| e.e.closes())
    }

    /// The index (0-based) of the last workflow-task event, if any.
    fn last_wt(&self) -> Option<usize> {
        self.history.iter().rposition(|e| e.e.is_wt())
    }

    fn outstanding(&self) -> bool {
        self.last_wt().is_some_and(|i| self.history[i].e == Ev::WorkflowTaskScheduled)
    }

    fn acts_of(&self, kind: Kind) -> impl Iterator<Item = u8> + '_ {
        self.act_handles().filter(move |&a| self.act(a).kind == kind)
    }

    fn act_of(&self, kind: Kind, step: u8) -> Option<u8> {
        self.act_handles().find(|&a| self.act(a).kind == kind && self.act(a).step == step)
    }

    /// The step that failed for good, if any.
    pub fn failed_step(&self) -> Option<u8> {
        self.acts_of(Kind::Step)
            .find(|&a| self.act(a).st.resolved() && self.act(a).st != ActSt::Completed)
            .map(|a| self.act(a).step)
    }

    fn completed_steps(&self) -> BTreeSet<u8> {
        self.acts_of(Kind::Step).filter(|&a| self.act(a).st == ActSt::Completed).map(|a| self.act(a).step).collect()
    }

    fn comp_failed(&self) -> bool {
        self.acts_of(Kind::Comp).any(|a| self.act(a).st.resolved() && self.act(a).st != ActSt::Completed)
    }

    fn comp_pending(&self) -> bool {
        self.acts_of(Kind::Comp).any(|a| !self.act(a).st.resolved())
    }

    /// The activity types the history records, by activity handle.
    fn scheduled(&self) -> Vec<ActType> {
        self.act_handles()
            .map(|a| {
                self.history
                    .iter()
                    .find(|e| e.e == Ev::ActivityTaskScheduled && e.act == a)
                    .map_or(ActType::None, |e| e.ty)
            })
            .collect()
    }

    fn buffered(&self, p: Proc) -> bool {
        self.spans.iter().any(|s| s.proc == p && s.st == SpanSt::Buffered)
    }

    fn start_activity_span(&self, a: u8) -> u8 {
        self.spans
            .iter()
            .position(|s| s.name == SpanName::StartActivity && s.act == a)
            .map_or(0, |i| i as u8 + 1)
    }

    /// Closed, and no span waits in a batch processor.
    fn settled(&self) -> bool {
        self.closed() && self.spans.iter().all(|s| s.st != SpanSt::Buffered)
    }
}

/// A command of the workflow code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Schedule(Kind, u8),
    Complete,
    Fail,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    StartWorkflow,
    ProcessWT,
    StartAttempt { act: u8 },
    EndAttempt { act: u8, outcome: Outcome },
    Flush { proc: Proc },
    CrashWorkflowWorker,
    CrashActivityWorker { act: u8 },
}

pub const FAULTS: [&str; 3] = ["WorkerCrash", "CompensationFailure", "TimeoutAfterSideEffect"];
pub const BUGS: [&str; 7] = [
    "ForwardCompensation",
    "CompensateUncompleted",
    "UnboundedRetry",
    "RetryNonRetryable",
    "NoCompensation",
    "Nondeterministic",
    "DropTracerHeader",
];

#[derive(Clone, Debug)]
pub struct Workflow {
    pub steps: u8,
    pub max_attempts: u8,
    pub attempt_cap: u8,
    outcomes: Vec<Outcome>,
    pub compensation: Mode,
    pub export: Export,
    faults: BTreeSet<String>,
    bugs: BTreeSet<String>,
}

impl Workflow {
    pub fn fault(&self, name: &str) -> bool {
        self.faults.contains(name)
    }

    pub fn bug(&self, name: &str) -> bool {
        self.bugs.contains(name)
    }

    fn with_wt(s: &State, mut evs: Vec<Event>) -> Vec<Event> {
        if !s.outstanding() {
            evs.push(Event::plain(Ev::WorkflowTaskScheduled));
        }
        evs
    }

    /// The compensations the code registered.
    fn registered(&self, s: &State) -> BTreeSet<u8> {
        let mut r = s.completed_steps();
        if let (true, Some(f)) = (self.bug("CompensateUncompleted"), s.failed_step()) {
            r.insert(f);
        }
        r
    }

    fn comp_order(&self, s: &State) -> Vec<u8> {
        let registered = self.registered(s);
        if self.bug("ForwardCompensation") {
            registered.into_iter().collect()
        } else {
            registered.into_iter().rev().collect()
        }
    }

    fn next_comp(&self, s: &State) -> Option<u8> {
        self.comp_order(s).into_iter().find(|&i| s.act_of(Kind::Comp, i).is_none())
    }

    fn type_of(kind: Kind, step: u8, code: u8) -> ActType {
        match (kind, step, code) {
            (Kind::Comp, i, _) => ActType::Compensate(i),
            (Kind::Step, 1, 2) => ActType::Step1v2,
            (Kind::Step, i, _) => ActType::Step(i),
        }
    }

    /// The spec's `Commands`: what the code does at a workflow task.
    fn commands(&self, s: &State) -> Vec<Command> {
        let Some(_) = s.failed_step() else {
            let n = s.acts_of(Kind::Step).count() as u8;
            return if n == 0 {
                vec![Command::Schedule(Kind::Step, 1)]
            } else if s.acts_of(Kind::Step).any(|a| !s.act(a).st.resolved()) {
                vec![]
            } else if n < self.steps {
                vec![Command::Schedule(Kind::Step, n + 1)]
            } else {
                vec![Command::Complete]
            };
        };
        if self.bug("NoCompensation") {
            return vec![Command::Fail];
        }
        if self.compensation == Mode::Parallel {
            let registered = self.registered(s);
            return if s.acts_of(Kind::Comp).next().is_none() && !registered.is_empty() {
                self.comp_order(s).into_iter().map(|i| Command::Schedule(Kind::Comp, i)).collect()
            } else if s.comp_pending() {
                vec![]
            } else {
                vec![Command::Fail]
            };
        }
        if s.comp_pending() {
            vec![]
        } else if self.compensation == Mode::Sequential && s.comp_failed() {
            vec![Command::Fail]
        } else if let Some(i) = self.next_comp(s) {
            vec![Command::Schedule(Kind::Comp, i)]
        } else {
            vec![Command::Fail]
        }
    }

    fn replayed(&self, s: &State) -> Vec<ActType> {
        s.acts.iter().map(|a| Self::type_of(a.kind, a.step, s.worker.code)).collect()
    }

    fn span(&self, name: SpanName, act: u8, n: u8, parent: u8, proc: Proc) -> WSpan {
        let st = if self.export == Export::Simple { SpanSt::Exported } else { SpanSt::Buffered };
        WSpan { name, act, n, parent, proc, st }
    }

    fn attempt_outcomes(&self, act: &Act) -> Vec<Outcome> {
        if act.kind == Kind::Comp {
            let mut o = vec![Outcome::Ok];
            if self.fault("CompensationFailure") {
                o.push(Outcome::NonRetryable);
            }
            o
        } else {
            let mut o = self.outcomes.clone();
            if self.fault("TimeoutAfterSideEffect") {
                o.push(Outcome::EffectTimeout);
            }
            o
        }
    }

    fn retries(&self, act: &Act, o: Outcome) -> bool {
        o != Outcome::Ok
            && (o != Outcome::NonRetryable || self.bug("RetryNonRetryable"))
            && (self.max_attempts == 0 || self.bug("UnboundedRetry") || act.attempts < self.max_attempts)
    }

    /// The spec's `Settle(a, o)`, applied to `next` (a copy of `s`).
    fn settle(&self, s: &State, next: &mut State, a: u8, o: Outcome) {
        let act = *s.act(a);
        let retries = self.retries(&act, o);
        let (final_ev, final_st) = match o {
            Outcome::Ok => (Ev::ActivityTaskCompleted, ActSt::Completed),
            Outcome::Timeout | Outcome::EffectTimeout => (Ev::ActivityTaskTimedOut, ActSt::TimedOut),
            Outcome::Retryable | Outcome::NonRetryable => (Ev::ActivityTaskFailed, ActSt::Failed),
        };
        let x = &mut next.acts[a as usize - 1];
        x.st = if retries { ActSt::Backoff } else { final_st };
        if o == Outcome::NonRetryable && act.nr_at == 0 {
            x.nr_at = act.attempts;
        }
        if !retries {
            let started = Event { e: Ev::ActivityTaskStarted, act: a, n: act.attempts, ty: ActType::None };
            let evs = Self::with_wt(s, vec![started, Event::of(final_ev, a)]);
            next.history.extend(evs);
        }
    }

    fn lose(spans: &mut [WSpan], p: Proc) {
        for x in spans.iter_mut().filter(|x| x.proc == p && x.st == SpanSt::Buffered) {
            x.st = SpanSt::Lost;
        }
    }

    fn flagged(&self, s: &State, i: u8) -> bool {
        let comp = s.act_of(Kind::Comp, i);
        comp.is_some_and(|c| s.act(c).st.resolved() && s.act(c).st != ActSt::Completed)
            || (self.compensation == Mode::Sequential && s.comp_failed() && comp.is_none())
    }

    fn all_compensated(&self, s: &State) -> bool {
        self.registered(s)
            .into_iter()
            .all(|i| s.act_of(Kind::Comp, i).is_some_and(|c| s.act(c).st == ActSt::Completed))
    }

    fn describe_act(&self, s: &State, a: u8) -> String {
        let x = s.act(a);
        let ty = Self::type_of(x.kind, x.step, 1).name();
        let nr = if x.nr_at > 0 { format!(", failed non-retryably at attempt {}", x.nr_at) } else { String::new() };
        format!("{ty} (activity {a}): {}, {} attempt{}{nr}", x.st.name(), x.attempts, if x.attempts == 1 { "" } else { "s" })
    }

    fn describe_event(s: &State, i: usize) -> String {
        let e = &s.history[i];
        let mut out = format!("#{} {}", i + 1, e.e.name());
        if e.act != 0 {
            let _ = write!(out, " act={}", e.act);
        }
        if e.n != 0 {
            let _ = write!(out, " attempt={}", e.n);
        }
        if e.ty != ActType::None {
            let _ = write!(out, " type={}", e.ty.name());
        }
        out
    }

    fn describe_span(s: &State, i: usize) -> String {
        let x = &s.spans[i];
        let act = if x.act != 0 { format!(" act={}", x.act) } else { String::new() };
        let n = if x.n != 0 { format!(" attempt={}", x.n) } else { String::new() };
        format!("span {} {}{act}{n} parent={} in {} ({})", i + 1, x.name.name(), x.parent, x.proc.name(), x.st.name())
    }
}

// ---------------------------------------------------------------------------
// Building the model from a config.

impl Workflow {
    fn build(c: &Constants) -> Result<Workflow> {
        let bad = |name: &str, headline: String| Error::Spec(c.error(name, headline));
        let small = |name: &str, lo: i64, hi: i64| -> Result<u8> {
            let n = c.int(name)?;
            if !(lo..=hi).contains(&n) {
                return Err(bad(name, format!("{name} must be between {lo} and {hi}, found {n}")));
            }
            Ok(n as u8)
        };
        let steps = small("Steps", 1, 8)?;
        let max_attempts = small("MaxAttempts", 0, 8)?;
        let attempt_cap = small("AttemptCap", 1, 8)?;
        if max_attempts > attempt_cap {
            return Err(bad("AttemptCap", format!("AttemptCap ({attempt_cap}) must be at least MaxAttempts ({max_attempts})")));
        }
        let outcome_names = ["ok", "retryable", "nonretryable"];
        let outcomes: Vec<Outcome> = c.names_from("Outcomes", &outcome_names)?.iter().filter_map(|n| Outcome::parse(n)).collect();
        if !outcomes.contains(&Outcome::Ok) {
            return Err(bad("Outcomes", "Outcomes must contain \"ok\"".to_string()));
        }
        let one_of = |name: &str, known: &[&str]| -> Result<String> {
            let v = c.string(name)?;
            if known.contains(&v.as_str()) {
                Ok(v)
            } else {
                Err(Error::Spec(c.error(name, format!("`{v}` is not a known {name}")).evidence("known", known.join(", "))))
            }
        };
        let compensation = Mode::parse(&one_of("Compensation", &["sequential", "continue", "parallel"])?).expect("validated");
        let export = Export::parse(&one_of("Export", &["simple", "batch"])?).expect("validated");
        let faults = c.names_from("Faults", &FAULTS)?.into_iter().collect();
        let bugs = c.names_from("Bugs", &BUGS)?.into_iter().collect();
        Ok(Workflow { steps, max_attempts, attempt_cap, outcomes, compensation, export, faults, bugs })
    }
}

// ---------------------------------------------------------------------------
// The transition relation.

impl stateright::Model for Workflow {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![State {
            history: Vec::new(),
            acts: Vec::new(),
            ledger: vec![Ledger { done: 0, undone: 0 }; self.steps as usize],
            worker: Worker { cache: Cache::Cold, code: 1 },
            replay: Vec::new(),
            spans: Vec::new(),
        }]
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
        if !s.started() {
            actions.push(Action::StartWorkflow);
        }
        if s.outstanding() {
            actions.push(Action::ProcessWT);
        }
        let running = s.acts.iter().any(|a| a.st == ActSt::Running);
        for a in s.act_handles() {
            let act = s.act(a);
            if matches!(act.st, ActSt::Scheduled | ActSt::Backoff) && act.attempts < self.attempt_cap && !running {
                actions.push(Action::StartAttempt { act: a });
            }
            if act.st == ActSt::Running {
                for outcome in self.attempt_outcomes(act) {
                    actions.push(Action::EndAttempt { act: a, outcome });
                }
            }
        }
        for proc in Proc::ALL {
            if s.buffered(*proc) {
                actions.push(Action::Flush { proc: *proc });
            }
        }
        if self.fault("WorkerCrash") {
            if s.started() && !s.closed() && (s.worker.cache == Cache::Warm || s.buffered(Proc::Wf)) {
                actions.push(Action::CrashWorkflowWorker);
            }
            for a in s.act_handles() {
                if s.act(a).st == ActSt::Running {
                    actions.push(Action::CrashActivityWorker { act: a });
                }
            }
        }
    }

    fn next_state(&self, s: &State, action: Action) -> Option<State> {
        let mut next = s.clone();
        match action {
            Action::StartWorkflow => {
                next.history = vec![Event::plain(Ev::WorkflowExecutionStarted), Event::plain(Ev::WorkflowTaskScheduled)];
                next.spans = vec![self.span(SpanName::StartWorkflow, 0, 0, 0, Proc::Client)];
            }
            Action::ProcessWT => {
                let cold = s.worker.cache == Cache::Cold;
                let replayed = self.replayed(s);
                if cold && replayed != s.scheduled() {
                    next.history.push(Event::plain(Ev::WorkflowTaskStarted));
                    next.history.push(Event::plain(Ev::WorkflowTaskFailed));
                    next.replay = replayed;
                    return Some(next);
                }
                let cmds = self.commands(s);
                let base = s.acts.len() as u8;
                next.history.push(Event::plain(Ev::WorkflowTaskStarted));
                next.history.push(Event::plain(Ev::WorkflowTaskCompleted));
                if !s.spans.iter().any(|x| x.name == SpanName::RunWorkflow) {
                    next.spans.push(self.span(SpanName::RunWorkflow, 0, 0, 1, Proc::Wf));
                }
                for (k, cmd) in cmds.iter().enumerate() {
                    let handle = base + k as u8 + 1;
                    match *cmd {
                        Command::Schedule(kind, step) => {
                            next.history.push(Event {
                                e: Ev::ActivityTaskScheduled,
                                act: handle,
                                n: 0,
                                ty: Self::type_of(kind, step, s.worker.code),
                            });
                            next.acts.push(Act { kind, step, st: ActSt::Scheduled, attempts: 0, nr_at: 0 });
                            next.spans.push(self.span(SpanName::StartActivity, handle, 0, 1, Proc::Wf));
                        }
                        Command::Complete | Command::Fail => {
                            let e = if *cmd == Command::Complete {
                                Ev::WorkflowExecutionCompleted
                            } else {
                                Ev::WorkflowExecutionFailed
                            };
                            next.history.push(Event::plain(e));
                            next.spans.push(self.span(SpanName::CompleteWorkflow, 0, 0, 1, Proc::Wf));
                        }
                    }
                }
                next.worker.cache = Cache::Warm;
                if cold {
                    next.replay = replayed;
                }
            }
            Action::StartAttempt { act } => {
                let x = &mut next.acts[act as usize - 1];
                x.st = ActSt::Running;
                x.attempts += 1;
            }
            Action::EndAttempt { act, outcome } => {
                self.settle(s, &mut next, act, outcome);
                let x = *s.act(act);
                if matches!(outcome, Outcome::Ok | Outcome::EffectTimeout) {
                    let l = &mut next.ledger[x.step as usize - 1];
                    if x.kind == Kind::Step {
                        l.done += 1;
                    } else {
                        l.undone += 1;
                    }
                }
                let parent = if self.bug("DropTracerHeader") { 0 } else { s.start_activity_span(act) };
                next.spans.push(self.span(SpanName::RunActivity, act, x.attempts, parent, Proc::Act));
            }
            Action::Flush { proc } => {
                for x in next.spans.iter_mut().filter(|x| x.proc == proc && x.st == SpanSt::Buffered) {
                    x.st = SpanSt::Exported;
                }
            }
            Action::CrashWorkflowWorker => {
                next.worker = Worker {
                    cache: Cache::Cold,
                    code: if self.bug("Nondeterministic") { 2 } else { s.worker.code },
                };
                Self::lose(&mut next.spans, Proc::Wf);
            }
            Action::CrashActivityWorker { act } => {
                self.settle(s, &mut next, act, Outcome::Timeout);
                Self::lose(&mut next.spans, Proc::Act);
            }
        }
        Some(next)
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        // stateright's own checkers see the same properties, as booleans.
        macro_rules! wrap {
            ($make:ident; $($name:ident),*) => {
                vec![$(stateright::Property::$make(stringify!($name), |m: &Self, s: &State| m.$name(s).is_ok()),)*]
            };
        }
        let mut props = wrap!(always;
            HistoryWellFormed, SingleWorkflowTask, ActivityLifecycle, RetryBound, NoRetryAfterNonRetryable,
            TerminalAbsorbing, CompensateOnlyCompleted, ReverseOrderCompensation, SagaAtomicOutcome,
            ReplayDeterministic, SpanSingleTrace, NoOrphanSpans, OneRunActivityPerAttempt);
        props.extend(wrap!(eventually; EventuallyClosed, CompensationsComplete));
        props
    }
}

// ---------------------------------------------------------------------------
// Properties: the same names as in Workflow.tla.

#[allow(non_snake_case)]
impl Workflow {
    /// Started first and once; at most one close, last; a workflow task is
    /// Started only after it was Scheduled, and Completed or Failed only after
    /// it was Started.
    pub fn HistoryWellFormed(&self, s: &State) -> Verdict {
        let h = &s.history;
        let bad = |i: usize, why: &str| {
            Err(Violation::new(format!("history event {} is out of place: {why}", i + 1))
                .with("event", Self::describe_event(s, i)))
        };
        if let Some(first) = h.first() {
            if first.e != Ev::WorkflowExecutionStarted {
                return bad(0, "the history must start with WorkflowExecutionStarted");
            }
        }
        if let Some(i) = h.iter().skip(1).position(|e| e.e == Ev::WorkflowExecutionStarted) {
            return bad(i + 1, "WorkflowExecutionStarted appears twice");
        }
        if let Some(i) = h.iter().position(|e| e.e.closes()) {
            if i != h.len() - 1 {
                return bad(i + 1, "an event follows the close event");
            }
        }
        let mut prev_wt: Option<Ev> = None;
        for (i, e) in h.iter().enumerate() {
            if e.e == Ev::WorkflowTaskStarted && prev_wt != Some(Ev::WorkflowTaskScheduled) {
                return bad(i, "a workflow task started that was not scheduled");
            }
            if e.e.ends_wt() && prev_wt != Some(Ev::WorkflowTaskStarted) {
                return bad(i, "a workflow task ended that had not started");
            }
            if e.e.is_wt() {
                prev_wt = Some(e.e);
            }
        }
        Ok(())
    }

    /// At most one workflow task outstanding at a time.
    pub fn SingleWorkflowTask(&self, s: &State) -> Verdict {
        let mut open = 0i32;
        for (i, e) in s.history.iter().enumerate() {
            if e.e == Ev::WorkflowTaskScheduled {
                open += 1;
            } else if e.e.ends_wt() {
                open -= 1;
            }
            if open > 1 {
                return Err(Violation::new(format!("two workflow tasks are outstanding at history event {}", i + 1))
                    .with("event", Self::describe_event(s, i)));
            }
        }
        Ok(())
    }

    /// Each activity: scheduled once, then started and resolved once, in that
    /// order, and the server's view agrees with the history.
    pub fn ActivityLifecycle(&self, s: &State) -> Verdict {
        all(s.act_handles(), |a| {
            let events: Vec<usize> = (0..s.history.len()).filter(|&i| s.history[i].act == a).collect();
            let count = |pred: &dyn Fn(Ev) -> bool| events.iter().filter(|&&i| pred(s.history[i].e)).count();
            let index = |e: Ev| events.iter().copied().find(|&i| s.history[i].e == e);
            let bad = |why: String| {
                let mut v = Violation::new(format!("activity {a}: {why}")).with("activity", self.describe_act(s, a));
                for &i in &events {
                    v = v.with("event", Self::describe_event(s, i));
                }
                Err(v)
            };
            if count(&|e| e == Ev::ActivityTaskScheduled) != 1 {
                return bad("not scheduled exactly once".into());
            }
            if count(&|e| e == Ev::ActivityTaskStarted) > 1 || count(&|e| e.is_final()) > 1 {
                return bad("started or resolved more than once".into());
            }
            if let (Some(sch), Some(st)) = (index(Ev::ActivityTaskScheduled), index(Ev::ActivityTaskStarted)) {
                if sch >= st {
                    return bad("started before it was scheduled".into());
                }
            }
            for &i in &events {
                if s.history[i].e.is_final() && index(Ev::ActivityTaskStarted) != Some(i.wrapping_sub(1)) {
                    return bad("resolved without its ActivityTaskStarted just before".into());
                }
            }
            let resolved_in_history = events.iter().any(|&i| s.history[i].e.is_final());
            if s.act(a).st.resolved() != resolved_in_history {
                return bad(format!("the server says {}, the history disagrees", s.act(a).st.name()));
            }
            Ok(())
        })
    }

    /// No activity makes more attempts than MaximumAttempts allows.
    pub fn RetryBound(&self, s: &State) -> Verdict {
        if self.max_attempts == 0 {
            return Ok(());
        }
        all(s.act_handles(), |a| {
            if s.act(a).attempts <= self.max_attempts {
                return Ok(());
            }
            Err(Violation::new(format!(
                "activity {a} made {} attempts with MaximumAttempts {}",
                s.act(a).attempts,
                self.max_attempts
            ))
            .with("activity", self.describe_act(s, a)))
        })
    }

    /// No attempt after a non-retryable failure.
    pub fn NoRetryAfterNonRetryable(&self, s: &State) -> Verdict {
        all(s.act_handles(), |a| {
            let x = s.act(a);
            if x.nr_at == 0 || (x.attempts == x.nr_at && x.st == ActSt::Failed) {
                return Ok(());
            }
            Err(Violation::new(format!("activity {a} was retried after failing non-retryably at attempt {}", x.nr_at))
                .with("activity", self.describe_act(s, a)))
        })
    }

    /// Once closed, the close event stays last and nothing is left running.
    pub fn TerminalAbsorbing(&self, s: &State) -> Verdict {
        if !s.closed() {
            return Ok(());
        }
        let last = s.history.len() - 1;
        if !s.history[last].e.closes() {
            return Err(Violation::new("the history grew after the workflow closed")
                .with("last event", Self::describe_event(s, last)));
        }
        all(s.act_handles(), |a| {
            if s.act(a).st.resolved() {
                return Ok(());
            }
            Err(Violation::new(format!("activity {a} is still live after the workflow closed"))
                .with("activity", self.describe_act(s, a)))
        })
    }

    /// Only a step that completed is compensated.
    pub fn CompensateOnlyCompleted(&self, s: &State) -> Verdict {
        all(s.acts_of(Kind::Comp), |c| {
            let step = s.act(c).step;
            let done = s.acts_of(Kind::Step).any(|a| s.act(a).step == step && s.act(a).st == ActSt::Completed);
            if done {
                return Ok(());
            }
            let mut v = Violation::new(format!("step {step} is compensated but never completed"))
                .with("compensation", self.describe_act(s, c));
            if let Some(a) = s.act_of(Kind::Step, step) {
                v = v.with("step", self.describe_act(s, a));
            }
            Err(v)
        })
    }

    /// Sequential and continue modes compensate in reverse order of completion.
    pub fn ReverseOrderCompensation(&self, s: &State) -> Verdict {
        if self.compensation == Mode::Parallel {
            return Ok(());
        }
        let comps: Vec<u8> = s.acts_of(Kind::Comp).collect();
        all(comps.windows(2), |w| {
            let (c, d) = (w[0], w[1]);
            if s.act(c).step > s.act(d).step {
                return Ok(());
            }
            Err(Violation::new(format!(
                "step {} was compensated before step {}, which completed after it",
                s.act(c).step,
                s.act(d).step
            ))
            .with("first", self.describe_act(s, c))
            .with("then", self.describe_act(s, d)))
        })
    }

    /// At close: every step's effect applied once and none undone, or every
    /// applied effect undone or flagged.
    pub fn SagaAtomicOutcome(&self, s: &State) -> Verdict {
        if !s.closed() {
            return Ok(());
        }
        let committed = s.ledger.iter().all(|l| l.done == 1 && l.undone == 0);
        let rolled_back = s.failed_step().is_some()
            && (1..=self.steps).all(|i| {
                let l = s.ledger[i as usize - 1];
                l.done == l.undone || self.flagged(s, i)
            });
        if committed || rolled_back {
            return Ok(());
        }
        let mut v = Violation::new(if s.failed_step().is_some() {
            "the saga failed but left effects neither undone nor flagged"
        } else {
            "the saga completed but its effects are not each applied exactly once"
        });
        for (i, l) in s.ledger.iter().enumerate() {
            v = v.with(format!("step {}", i + 1), format!("applied {} time(s), undone {} time(s)", l.done, l.undone));
        }
        Err(v)
    }

    /// Replaying the history reproduced the commands it records.
    pub fn ReplayDeterministic(&self, s: &State) -> Verdict {
        let recorded = s.scheduled();
        all(s.replay.iter().enumerate(), |(k, ty)| {
            if recorded.get(k) == Some(ty) {
                return Ok(());
            }
            Err(Violation::new(format!(
                "on replay the code scheduled {} where the history records {}",
                ty.name(),
                recorded.get(k).map_or("nothing".into(), |t| t.name())
            ))
            .with("activity", (k + 1).to_string())
            .with("worker", format!("cache {}, code version {}", s.worker.cache.name(), s.worker.code)))
        })
    }

    /// One trace: StartWorkflow is the only root.
    pub fn SpanSingleTrace(&self, s: &State) -> Verdict {
        all(0..s.spans.len(), |i| {
            if s.spans[i].parent != 0 || i == 0 {
                return Ok(());
            }
            Err(Violation::new(format!("span {} starts a second trace", i + 1)).with("span", Self::describe_span(s, i)))
        })
    }

    /// Once settled, every exported span's parent was exported too.
    pub fn NoOrphanSpans(&self, s: &State) -> Verdict {
        if !s.settled() {
            return Ok(());
        }
        all(0..s.spans.len(), |i| {
            let x = s.spans[i];
            if x.st != SpanSt::Exported || x.parent == 0 || s.spans[x.parent as usize - 1].st == SpanSt::Exported {
                return Ok(());
            }
            Err(Violation::new(format!("exported span {} has a parent that was never exported", i + 1))
                .with("span", Self::describe_span(s, i))
                .with("parent", Self::describe_span(s, x.parent as usize - 1)))
        })
    }

    /// At most one RunActivity per attempt, under its activity's StartActivity.
    pub fn OneRunActivityPerAttempt(&self, s: &State) -> Verdict {
        all(0..s.spans.len(), |i| {
            let x = s.spans[i];
            if x.name != SpanName::RunActivity {
                return Ok(());
            }
            let parent = s.start_activity_span(x.act);
            if x.parent != parent {
                return Err(Violation::new(format!(
                    "RunActivity span {} has parent {} instead of its StartActivity span {parent}",
                    i + 1,
                    x.parent
                ))
                .with("span", Self::describe_span(s, i)));
            }
            match (0..s.spans.len()).find(|&j| {
                j != i && s.spans[j].name == SpanName::RunActivity && s.spans[j].act == x.act && s.spans[j].n == x.n
            }) {
                None => Ok(()),
                Some(j) => Err(Violation::new(format!("attempt {} of activity {} has two RunActivity spans", x.n, x.act))
                    .with("span", Self::describe_span(s, i))
                    .with("span", Self::describe_span(s, j))),
            }
        })
    }

    /// The predicate of `EventuallyClosed == <>Closed`.
    pub fn EventuallyClosed(&self, s: &State) -> Verdict {
        if s.closed() { Ok(()) } else { Err(Violation::new("the workflow never closes")) }
    }

    /// The predicate of `CompensationsComplete`: closed, and after a step
    /// failed for good, every registered compensation completed.
    pub fn CompensationsComplete(&self, s: &State) -> Verdict {
        if s.closed() && (s.failed_step().is_none() || self.all_compensated(s)) {
            Ok(())
        } else {
            Err(Violation::new("the workflow never closes with every compensation completed"))
        }
    }
}

// ---------------------------------------------------------------------------
// Trace files.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItfEvent {
    e: String,
    act: u8,
    n: u8,
    #[serde(rename = "type")]
    ty: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ItfAct {
    kind: String,
    step: u8,
    st: String,
    attempts: u8,
    nr_at: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItfLedger {
    done: u8,
    undone: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItfWorker {
    cache: String,
    code: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItfSpan {
    name: String,
    act: u8,
    n: u8,
    parent: u8,
    proc: String,
    st: String,
}

#[derive(Deserialize)]
struct ItfState {
    history: Vec<ItfEvent>,
    acts: Vec<ItfAct>,
    ledger: Vec<ItfLedger>,
    worker: ItfWorker,
    replay: Vec<String>,
    spans: Vec<ItfSpan>,
}

fn parse_named<T>(what: &str, name: &str, parse: fn(&str) -> Option<T>) -> std::result::Result<T, String> {
    parse(name).ok_or_else(|| format!("unknown {what} `{name}`"))
}

impl Workflow {
    fn decode_state(&self, raw: ItfState) -> std::result::Result<State, String> {
        let history = raw
            .history
            .into_iter()
            .map(|e| {
                Ok(Event {
                    e: parse_named("event", &e.e, Ev::parse)?,
                    act: e.act,
                    n: e.n,
                    ty: parse_named("activity type", &e.ty, ActType::parse)?,
                })
            })
            .collect::<std::result::Result<Vec<_>, String>>()?;
        let acts = raw
            .acts
            .into_iter()
            .map(|a| {
                if a.step == 0 || a.step > self.steps {
                    return Err(format!("an activity names step {}, which the saga lacks", a.step));
                }
                Ok(Act {
                    kind: parse_named("activity kind", &a.kind, Kind::parse)?,
                    step: a.step,
                    st: parse_named("activity status", &a.st, ActSt::parse)?,
                    attempts: a.attempts,
                    nr_at: a.nr_at,
                })
            })
            .collect::<std::result::Result<Vec<_>, String>>()?;
        if raw.ledger.len() != self.steps as usize {
            return Err(format!("the ledger has {} entries for {} steps", raw.ledger.len(), self.steps));
        }
        if let Some(e) = history.iter().find(|e| e.act as usize > acts.len()) {
            return Err(format!("an event names activity {}, which does not exist", e.act));
        }
        let spans = raw
            .spans
            .into_iter()
            .map(|x| {
                Ok(WSpan {
                    name: parse_named("span name", &x.name, SpanName::parse)?,
                    act: x.act,
                    n: x.n,
                    parent: x.parent,
                    proc: parse_named("process", &x.proc, Proc::parse)?,
                    st: parse_named("span status", &x.st, SpanSt::parse)?,
                })
            })
            .collect::<std::result::Result<Vec<_>, String>>()?;
        if let Some(x) = spans.iter().find(|x| x.parent as usize > spans.len() || x.act as usize > acts.len()) {
            return Err(format!("a span names parent {} or activity {}, which do not exist", x.parent, x.act));
        }
        Ok(State {
            history,
            acts,
            ledger: raw.ledger.into_iter().map(|l| Ledger { done: l.done, undone: l.undone }).collect(),
            worker: Worker { cache: parse_named("cache", &raw.worker.cache, Cache::parse)?, code: raw.worker.code },
            replay: raw
                .replay
                .iter()
                .map(|t| parse_named("activity type", t, ActType::parse))
                .collect::<std::result::Result<Vec<_>, String>>()?,
            spans,
        })
    }
}

fn record(fields: &[(&str, Json)]) -> Json {
    Json::Object(fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

impl SpecModel for Workflow {
    const MODULE: &'static str = "Workflow";
    const VARIABLES: &'static [&'static str] = &["history", "acts", "ledger", "worker", "replay", "spans"];
    const CONSTANTS: &'static [&'static str] =
        &["Steps", "MaxAttempts", "AttemptCap", "Outcomes", "Compensation", "Export", "Faults", "Bugs"];

    fn from_constants(constants: &Constants) -> Result<Self> {
        Workflow::build(constants)
    }

    fn behaviours() -> Vec<Behaviour> {
        vec![
            Behaviour::Specification { name: "Spec", fairness: Fairness::WeakNext },
            Behaviour::InitNext { init: "Init", next: "Next" },
        ]
    }

    fn property_defs() -> Vec<PropertyDef<Self>> {
        macro_rules! defs {
            ($kind:expr; $($name:ident),*) => {
                vec![$(PropertyDef { name: stringify!($name), kind: $kind, judge: Self::$name },)*]
            };
        }
        let mut d = defs!(PropertyKind::Invariant;
            HistoryWellFormed, SingleWorkflowTask, ActivityLifecycle, RetryBound, NoRetryAfterNonRetryable,
            TerminalAbsorbing, CompensateOnlyCompleted, ReverseOrderCompensation, SagaAtomicOutcome,
            ReplayDeterministic, SpanSingleTrace, NoOrphanSpans, OneRunActivityPerAttempt);
        d.extend(defs!(PropertyKind::Eventually; EventuallyClosed, CompensationsComplete));
        d
    }

    const RANKED: bool = true;

    /// Every action appends to the history or the spans, or moves an
    /// activity forward (an attempt more, or a status later in
    /// scheduled < running < backoff < resolved), or takes a span out of a
    /// batch processor, or loses the workflow cache; the weights make each
    /// such change outweigh what the same action takes back.
    fn rank(&self, s: &State) -> u64 {
        let ord = |st: ActSt| match st {
            ActSt::Scheduled => 0,
            ActSt::Running => 1,
            ActSt::Backoff => 2,
            ActSt::Completed | ActSt::Failed | ActSt::TimedOut => 3,
        };
        let mut r = 128 * s.history.len() as u64 + 8 * s.spans.len() as u64;
        r += s.acts.iter().map(|a| 8 * u64::from(a.attempts) + 4 * ord(a.st)).sum::<u64>();
        r += s.spans.iter().filter(|x| x.st != SpanSt::Buffered).count() as u64;
        r += u64::from(s.worker.cache == Cache::Cold);
        r
    }

    fn label(&self, action: &Action) -> String {
        match action {
            Action::StartWorkflow => "StartWorkflow".into(),
            Action::ProcessWT => "ProcessWT".into(),
            Action::StartAttempt { act } => format!("StartAttempt(a={act})"),
            Action::EndAttempt { act, outcome } => format!("EndAttempt(a={act}, outcome={})", outcome.name()),
            Action::Flush { proc } => format!("Flush(p={})", proc.name()),
            Action::CrashWorkflowWorker => "CrashWorkflowWorker".into(),
            Action::CrashActivityWorker { act } => format!("CrashActivityWorker(a={act})"),
        }
    }

    fn encode(&self, s: &State) -> Map<String, Json> {
        let mut vars = Map::new();
        vars.insert(
            "history".into(),
            Json::Array(
                s.history
                    .iter()
                    .map(|e| {
                        record(&[
                            ("e", Json::from(e.e.name())),
                            ("act", itf::int(e.act)),
                            ("n", itf::int(e.n)),
                            ("type", Json::from(e.ty.name())),
                        ])
                    })
                    .collect(),
            ),
        );
        vars.insert(
            "acts".into(),
            Json::Array(
                s.acts
                    .iter()
                    .map(|a| {
                        record(&[
                            ("kind", Json::from(a.kind.name())),
                            ("step", itf::int(a.step)),
                            ("st", Json::from(a.st.name())),
                            ("attempts", itf::int(a.attempts)),
                            ("nrAt", itf::int(a.nr_at)),
                        ])
                    })
                    .collect(),
            ),
        );
        vars.insert(
            "ledger".into(),
            Json::Array(s.ledger.iter().map(|l| record(&[("done", itf::int(l.done)), ("undone", itf::int(l.undone))])).collect()),
        );
        vars.insert(
            "worker".into(),
            record(&[("cache", Json::from(s.worker.cache.name())), ("code", itf::int(s.worker.code))]),
        );
        vars.insert("replay".into(), Json::Array(s.replay.iter().map(|t| Json::from(t.name())).collect()));
        vars.insert(
            "spans".into(),
            Json::Array(
                s.spans
                    .iter()
                    .map(|x| {
                        record(&[
                            ("name", Json::from(x.name.name())),
                            ("act", itf::int(x.act)),
                            ("n", itf::int(x.n)),
                            ("parent", itf::int(x.parent)),
                            ("proc", Json::from(x.proc.name())),
                            ("st", Json::from(x.st.name())),
                        ])
                    })
                    .collect(),
            ),
        );
        vars
    }

    fn decode(&self, state: &Json) -> std::result::Result<State, String> {
        let raw: ItfState = itf::from_value(state)?;
        self.decode_state(raw)
    }

    /// The saga as the reference diagram draws it: the workflow, and a
    /// participant per activity it ran.
    fn mermaid(&self, path: &[(Option<Action>, State)], violation: Option<(&str, &Violation)>) -> String {
        let last = &path.last().expect("a path has a state").1;
        let mut out = String::from("sequenceDiagram\n    participant Client\n    participant Workflow\n");
        let mut seen = BTreeSet::new();
        for a in last.acts.iter() {
            let ty = Self::type_of(a.kind, a.step, 1).name();
            if seen.insert(ty.clone()) {
                let _ = writeln!(out, "    participant {ty}");
            }
        }
        let ty_of = |s: &State, a: u8| Self::type_of(s.act(a).kind, s.act(a).step, 1).name();
        for window in path.windows(2) {
            let (before, (action, after)) = (&window[0].1, (&window[1].0, &window[1].1));
            let Some(action) = action else { continue };
            let lines: Vec<String> = match action {
                Action::StartWorkflow => vec!["    Client->>Workflow: StartWorkflow".into()],
                Action::ProcessWT => {
                    let added = &after.history[before.history.len()..];
                    if added.iter().any(|e| e.e == Ev::WorkflowTaskFailed) {
                        vec!["    Note over Workflow: replay disagrees with the history: nondeterminism error".into()]
                    } else {
                        let mut l = Vec::new();
                        if before.worker.cache == Cache::Cold && !before.acts.is_empty() {
                            l.push("    Note over Workflow: cache lost: replays the history".into());
                        }
                        for e in added {
                            match e.e {
                                Ev::ActivityTaskScheduled => l.push(format!(
                                    "    Workflow->>{}: schedule ({})",
                                    ty_of(after, e.act),
                                    e.ty.name()
                                )),
                                Ev::WorkflowExecutionCompleted => {
                                    l.push("    Note over Workflow: every step done: WorkflowExecutionCompleted".into())
                                }
                                Ev::WorkflowExecutionFailed => l.push(format!(
                                    "    Note over Workflow: closes WorkflowExecutionFailed ({})",
                                    if after.failed_step().is_some() && self.all_compensated(after) {
                                        "every effect rolled back"
                                    } else {
                                        "not every effect rolled back"
                                    }
                                )),
                                _ => {}
                            }
                        }
                        l
                    }
                }
                Action::StartAttempt { act } => {
                    vec![format!("    Note over {}: attempt {}", ty_of(after, *act), after.act(*act).attempts)]
                }
                Action::EndAttempt { act, outcome } => {
                    let result = match (outcome, after.act(*act).st) {
                        (Outcome::Ok, _) => "ok".to_string(),
                        (o, ActSt::Backoff) => format!("{}: retry", o.name()),
                        (o, _) => format!("{}: no more retries", o.name()),
                    };
                    vec![format!("    {}-->>Workflow: {result}", ty_of(after, *act))]
                }
                Action::Flush { proc } => vec![format!("    Note over Client,Workflow: {} exports its span batch", proc.name())],
                Action::CrashWorkflowWorker => vec!["    Note over Workflow: worker crash: cache and unexported spans lost".into()],
                Action::CrashActivityWorker { act } => vec![format!(
                    "    Note over {}: activity worker crash: attempt lost, timed out",
                    ty_of(after, *act)
                )],
            };
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
        }
        if let Some((name, v)) = violation {
            let _ = writeln!(out, "    Note over Client,Workflow: {name} violated: {}", v.headline.replace([';', '#'], ","));
        }
        out
    }
}
