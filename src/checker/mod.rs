//! Exhaustive, parallel, breadth-first exploration of a model, and the
//! results a run reports.
//!
//! Safety properties are judged on every state as the search in [`bfs`]
//! stores it; each property keeps its shortest counterexample (the
//! smallest-fingerprinted at the shallowest depth), so counterexamples are
//! shortest and the same for any thread count. As in TLC, only 64-bit
//! fingerprints are stored, with each state's parent for rebuilding paths; the
//! report estimates the chance that two distinct states shared a fingerprint.
//! Liveness (`<>P`) is checked afterwards by [`liveness`].

mod bfs;
pub mod lasso;
pub mod liveness;
pub mod memory;

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::{Explorable, Fairness, Verdict, Violation};

pub type Fingerprint = u64;

/// The fingerprint of a state: a fixed-seed 64-bit hash, the same in every run.
pub fn fingerprint<S: Hash>(state: &S) -> Fingerprint {
    foldhash::quality::FixedState::with_seed(0x7472_6163_6577_7269).hash_one(state)
}

/// What a run checks.
pub struct Checked<M: Explorable> {
    pub name: String,
    pub kind: CheckKind<M>,
}

/// How a property judges a state: a model's function, or (for a spec
/// interpreted at run time) a closure over the property's expression.
pub type Judge<M> = dyn Fn(&M, &<M as stateright::Model>::State) -> Verdict + Send + Sync;

pub enum CheckKind<M: Explorable> {
    Invariant(Arc<Judge<M>>),
    /// `<>P` with P's judge, the fairness of the behaviour spec, and an
    /// optional rank that every real step increases (see [`liveness`]).
    Eventually(Arc<Judge<M>>, Fairness, Option<fn(&M, &M::State) -> u64>),
    /// TLC's deadlock check: a reachable state with no successor.
    Deadlock,
    /// Any other temporal property, under the behaviour spec's fairness
    /// conditions (see [`liveness::temporal`]).
    Temporal(liveness::Temporal<M>, Arc<[liveness::Fair<M>]>),
}

impl<M: Explorable> CheckKind<M> {
    /// The kind's name in reports and trace files.
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Invariant(_) => "invariant",
            CheckKind::Eventually(..) => "eventually",
            CheckKind::Deadlock => "deadlock",
            // `<>P`, whatever the fairness: the kind the Rust models report.
            CheckKind::Temporal(liveness::Temporal::LeadsTo(None, _), _) => "eventually",
            CheckKind::Temporal(..) => "temporal",
        }
    }
}

/// Bounds and controls for a run.
#[derive(Clone)]
pub struct Options {
    pub threads: usize,
    pub max_states: Option<u64>,
    pub max_depth: Option<u32>,
    pub timeout: Option<Duration>,
    /// Resident bytes the process may hold before the run stops (exit 3);
    /// see [`memory`].
    pub max_memory: Option<u64>,
    /// Whether a temporal check may use the state graph recorded during the
    /// safety search. A model whose stored state stands for several (VIEW,
    /// SYMMETRY) sets it false: the graph must then expand the state the
    /// sequential search reaches first, as TLC does.
    pub record_graph: bool,
    /// Set from outside (Ctrl-C) to stop at the next level boundary or chunk.
    pub stop: Arc<AtomicBool>,
    /// Counters the run keeps current, for a progress line.
    pub stats: Arc<Stats>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_states: None,
            max_depth: None,
            timeout: None,
            max_memory: memory::default_budget(),
            record_graph: true,
            stop: Arc::new(AtomicBool::new(false)),
            stats: Arc::new(Stats::default()),
        }
    }
}

/// Counters a progress reporter can read while a run goes on.
#[derive(Default)]
pub struct Stats {
    pub distinct: AtomicU64,
    pub generated: AtomicU64,
    pub depth: AtomicU64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    MaxStates(u64),
    MaxDepth(u32),
    Timeout(Duration),
    Interrupted,
    /// The process held more resident memory than the budget.
    Memory { budget: u64, resident: u64 },
}

impl StopReason {
    /// Which bound stopped the run, as the JSON report's `stopped_by` names it.
    pub fn bound(&self) -> &'static str {
        match self {
            StopReason::MaxStates(_) => "max_states",
            StopReason::MaxDepth(_) => "max_depth",
            StopReason::Timeout(_) => "timeout",
            StopReason::Interrupted => "interrupt",
            StopReason::Memory { .. } => "max_memory",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::MaxStates(n) => write!(f, "--max-states {n} reached: exactly {n} distinct states stored"),
            StopReason::MaxDepth(n) => write!(f, "--max-depth {n} reached with states left to explore"),
            StopReason::Timeout(d) => write!(f, "--timeout {}s reached", d.as_secs()),
            StopReason::Interrupted => write!(f, "interrupted"),
            StopReason::Memory { budget, resident } => write!(
                f,
                "memory budget of {} reached ({} resident; raise it with --max-memory)",
                memory::human(*budget),
                memory::human(*resident)
            ),
        }
    }
}

/// A path from an initial state: the action that led to each state (none for
/// the first), and for a liveness counterexample the index the path loops to.
pub struct Counterexample<M: Explorable> {
    pub path: Vec<(Option<M::Action>, M::State)>,
    pub loop_index: Option<usize>,
    pub violation: Violation,
}

pub enum Status<M: Explorable> {
    Holds,
    Violated(Counterexample<M>),
    /// Exploration stopped before the property was settled.
    Unknown,
}

pub struct PropertyOutcome<M: Explorable> {
    pub name: String,
    pub status: Status<M>,
}

pub struct Outcome<M: Explorable> {
    pub distinct: u64,
    pub generated: u64,
    /// Length of the longest shortest path, counting the initial state as 1
    /// (TLC's "depth of the complete state graph search").
    pub depth: u64,
    pub elapsed: Duration,
    pub threads: usize,
    pub stopped: Option<StopReason>,
    pub properties: Vec<PropertyOutcome<M>>,
    /// Bytes the fingerprint store holds, for bytes-per-state figures.
    pub store_bytes: u64,
    /// The largest resident set of the process by the end of the run.
    pub peak_memory: u64,
}

impl<M: Explorable> Outcome<M> {
    pub fn complete(&self) -> bool {
        self.stopped.is_none()
    }

    /// TLC's optimistic estimate of a fingerprint collision: n² / 2^65.
    pub fn collision_probability(&self) -> f64 {
        let n = self.distinct as f64;
        n * n / 2f64.powi(65)
    }
}

/// Stack bytes of each worker thread, and of the thread the command line
/// runs on (see `main.rs`). A model's successors and checks may recurse
/// deeply (the TLA+ interpreter evaluates by recursion, up to
/// `tla::stack::MAX_CALL_DEPTH` nested calls); the stack is reserved address
/// space, touched only as deep as it is used.
pub const STACK_SIZE: usize = 256 << 20;

pub struct Checker<'m, M: Explorable> {
    model: &'m M,
    checks: &'m [Checked<M>],
    options: Options,
}

impl<'m, M: Explorable> Checker<'m, M> {
    pub fn new(model: &'m M, checks: &'m [Checked<M>], options: Options) -> Self {
        Checker { model, checks, options }
    }

    pub fn run(&self) -> Outcome<M> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.options.threads.max(1))
            .stack_size(STACK_SIZE)
            .build()
            .expect("a thread pool can be built");
        pool.install(|| self.explore())
    }

    fn explore(&self) -> Outcome<M> {
        let start = Instant::now();
        let model = self.model;
        // The state graph the temporal checks search is recorded while the
        // safety search expands each state, by every worker, instead of
        // being explored again on one thread afterwards.
        let record_for: Option<Arc<[liveness::Fair<M>]>> = if self.options.record_graph {
            self.checks.iter().find_map(|c| match &c.kind {
                CheckKind::Temporal(_, fair) => Some(fair.clone()),
                _ => None,
            })
        } else {
            None
        };
        let recorder = record_for.as_ref().map(|_| liveness::Recorder::default());
        let visitor = Safety { model, checks: self.checks, retired: AtomicU64::new(0), recorder };
        let mut search = bfs::search(model.init_states(), &visitor, self.checks.len(), &self.options);
        let mut stopped = search.stopped.take();
        let mut properties = Vec::new();
        let mut graphs = liveness::GraphCache::default();
        if let (Some(fair), Some(recorder), None) = (record_for, visitor.recorder, &stopped) {
            if let Some(graph) = recorder.into_graph(model, &fair) {
                graphs.put(fair, graph);
            }
        }
        for (i, check) in self.checks.iter().enumerate() {
            let found = match check.kind {
                CheckKind::Deadlock => search.dead.map(|(depth, fp)| bfs::Found {
                    depth,
                    fp,
                    violation: Violation::new("a reachable state has no successor (deadlock)")
                        .with("hint", "add CHECK_DEADLOCK FALSE to the config if terminal states are intended"),
                }),
                _ => search.found[i].take(),
            };
            let status = match (&check.kind, found) {
                (_, Some(f)) => Status::Violated(Counterexample {
                    path: replay_fingerprints(model, &bfs::path_to(&search.store, f.fp)),
                    loop_index: None,
                    violation: f.violation,
                }),
                (_, None) if stopped.is_some() => Status::Unknown,
                (CheckKind::Eventually(judge, fairness, rank), None) => {
                    match liveness::check(model, judge, *fairness, *rank, &self.options) {
                        liveness::Result::Holds => Status::Holds,
                        liveness::Result::Violated(cx) => Status::Violated(cx),
                        liveness::Result::Stopped(reason) => {
                            stopped = Some(reason);
                            Status::Unknown
                        }
                    }
                }
                (CheckKind::Temporal(property, fair), None) => match liveness::temporal_cached(model, property, fair, &self.options, &mut graphs) {
                    liveness::Result::Holds => Status::Holds,
                    liveness::Result::Violated(cx) => Status::Violated(cx),
                    liveness::Result::Stopped(reason) => {
                        stopped = Some(reason);
                        Status::Unknown
                    }
                },
                (_, None) => Status::Holds,
            };
            properties.push(PropertyOutcome { name: check.name.clone(), status });
        }
        let entry = std::mem::size_of::<(Fingerprint, Fingerprint)>() as u64 + 1;
        let store_bytes = search.store.iter().map(|s| s.capacity() as u64 * entry).sum();
        Outcome {
            distinct: search.distinct,
            generated: search.generated,
            depth: search.depth,
            elapsed: start.elapsed(),
            threads: self.options.threads.max(1),
            stopped,
            properties,
            store_bytes,
            peak_memory: memory::peak_resident_bytes(),
        }
    }
}

/// The safety search: every successor is explored; invariants are judged on
/// every new state until each has its shortest counterexample; a state
/// without successors is a dead end (deadlock).
struct Safety<'m, M: Explorable> {
    model: &'m M,
    checks: &'m [Checked<M>],
    /// Bit i set: property i already has its counterexample.
    retired: AtomicU64,
    /// Where each expanded state's real steps are recorded, when a temporal
    /// check will search the state graph.
    recorder: Option<liveness::Recorder<M>>,
}

impl<M: Explorable> bfs::Visitor<M::State> for Safety<'_, M> {
    fn expand(&self, fp: Fingerprint, state: &M::State, out: &mut Vec<(Fingerprint, M::State)>) -> (u64, bool) {
        let mut actions = Vec::new();
        self.model.actions(state, &mut actions);
        // Every action counts as generated and keeps a state from being a
        // deadlock, also one whose successor is outside the model (a state
        // or action constraint: next_state gives none), as in TLC.
        let made = actions.len() as u64;
        match &self.recorder {
            None => {
                for a in actions {
                    if let Some(next) = self.model.next_state(state, a) {
                        out.push((fingerprint(&next), next));
                    }
                }
            }
            Some(recorder) => {
                let mut steps = Vec::with_capacity(actions.len());
                for a in actions {
                    let Some(next) = self.model.next_state(state, a) else { continue };
                    let to = fingerprint(&next);
                    if to != fp {
                        steps.push(to);
                    }
                    out.push((to, next));
                }
                recorder.add(fp, state.clone(), steps);
            }
        }
        (made, made == 0)
    }

    fn judge(&self, state: &M::State) -> Vec<(usize, Violation)> {
        let retired = self.retired.load(Ordering::Relaxed);
        self.checks
            .iter()
            .enumerate()
            .filter(|(i, _)| *i >= 64 || retired & (1 << i) == 0)
            .filter_map(|(i, c)| match &c.kind {
                CheckKind::Invariant(f) => f(self.model, state).err().map(|v| (i, v)),
                _ => None,
            })
            .collect()
    }

    fn retire(&self, index: usize) {
        if index < 64 {
            self.retired.fetch_or(1 << index, Ordering::Relaxed);
        }
    }
}

/// The states and actions along a path of fingerprints from an initial state.
pub(crate) fn replay_fingerprints<M: Explorable>(model: &M, fps: &[Fingerprint]) -> Vec<(Option<M::Action>, M::State)> {
    let first = model
        .init_states()
        .into_iter()
        .find(|s| fingerprint(s) == fps[0])
        .expect("the path starts at an initial state");
    let mut path = vec![(None, first)];
    let mut actions = Vec::new();
    for &fp in &fps[1..] {
        let state = &path.last().expect("non-empty").1;
        actions.clear();
        model.actions(state, &mut actions);
        let step = actions
            .drain(..)
            .find_map(|a| {
                let next = model.next_state(state, a.clone())?;
                (fingerprint(&next) == fp).then_some((Some(a), next))
            })
            .expect("every stored state is a successor of its parent: actions() must be deterministic");
        path.push(step);
    }
    path
}
