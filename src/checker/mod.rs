//! Exhaustive, parallel, breadth-first exploration of a model.
//!
//! The search is level-synchronous. For each depth:
//!
//! 1. *expand* (parallel over the frontier): every action of every frontier
//!    state yields a successor; successors whose fingerprint is not yet stored
//!    become candidates, bucketed by fingerprint shard. The store is only read.
//! 2. *merge* (parallel over shards): each shard, owned by one task, sorts its
//!    candidates by (fingerprint, parent), keeps the first of each, stores it
//!    and judges the invariants on it.
//!
//! No locks are taken and nothing depends on thread timing: the states of a
//! level, the parent recorded for each (the smallest-fingerprinted one of the
//! previous level), and the counterexample chosen for each property (the one
//! ending in the smallest fingerprint at the shallowest depth) are the same for
//! any thread count. Counterexamples are therefore shortest and reproducible.
//!
//! As in TLC, only 64-bit fingerprints are stored, with each state's parent
//! fingerprint for rebuilding paths; the summary estimates the chance that two
//! distinct states shared a fingerprint. Liveness (`<>P`) is checked afterwards
//! by [`liveness`].

pub mod liveness;

use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::model::{Explorable, Fairness, Verdict, Violation};

pub type Fingerprint = u64;

/// The fingerprint of a state: a fixed-seed 64-bit hash, the same in every run.
pub fn fingerprint<S: Hash>(state: &S) -> Fingerprint {
    foldhash::quality::FixedState::with_seed(0x7472_6163_6577_7269).hash_one(state)
}

/// Keys are fingerprints already: the store hashes them no further.
#[derive(Default, Clone, Copy)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 fingerprints are hashed")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Shard = hashbrown::HashMap<Fingerprint, Fingerprint, BuildHasherDefault<IdentityHasher>>;

/// Shards are chosen by fingerprint bits the tables themselves do not use for
/// bucket or tag, so every shard stays evenly spread.
const SHARD_BITS: u32 = 8;
const SHARDS: usize = 1 << SHARD_BITS;

fn shard_of(fp: Fingerprint) -> usize {
    ((fp >> 32) as usize) & (SHARDS - 1)
}

/// What a run checks.
pub struct Checked<M: Explorable> {
    pub name: String,
    pub kind: CheckKind<M>,
}

pub enum CheckKind<M: Explorable> {
    Invariant(fn(&M, &M::State) -> Verdict),
    Eventually(fn(&M, &M::State) -> Verdict, Fairness),
    /// TLC's deadlock check: a reachable state with no successor.
    Deadlock,
}

/// Bounds and controls for a run.
#[derive(Clone)]
pub struct Options {
    pub threads: usize,
    pub max_states: Option<u64>,
    pub max_depth: Option<u32>,
    pub timeout: Option<Duration>,
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
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::MaxStates(n) => write!(f, "--max-states {n} reached"),
            StopReason::MaxDepth(n) => write!(f, "--max-depth {n} reached with states left to explore"),
            StopReason::Timeout(d) => write!(f, "--timeout {}s reached", d.as_secs()),
            StopReason::Interrupted => write!(f, "interrupted"),
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

/// The first violation found for one property.
struct Found {
    depth: u64,
    fp: Fingerprint,
    violation: Violation,
}

fn keep_first(slot: &mut Option<Found>, depth: u64, fp: Fingerprint, violation: Violation) {
    let better = match slot {
        None => true,
        Some(f) => (depth, fp) < (f.depth, f.fp),
    };
    if better {
        *slot = Some(Found { depth, fp, violation });
    }
}

/// States expanded between two merges. Fixed, so that which parent a state
/// records never depends on the number of threads.
const BLOCK: usize = 1 << 14;

struct Step<S> {
    fresh: Vec<(Fingerprint, S)>,
    generated: u64,
    dead: Vec<Fingerprint>,
    violations: Vec<(usize, Fingerprint, Violation)>,
}

struct Candidate<S> {
    fp: Fingerprint,
    parent: Fingerprint,
    state: S,
}

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
            .build()
            .expect("a thread pool can be built");
        pool.install(|| self.explore())
    }

    fn invariants(&self) -> Vec<(usize, fn(&M, &M::State) -> Verdict)> {
        self.checks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c.kind {
                CheckKind::Invariant(f) => Some((i, f)),
                _ => None,
            })
            .collect()
    }

    fn judge(&self, invariants: &[(usize, fn(&M, &M::State) -> Verdict)], state: &M::State) -> Vec<(usize, Violation)> {
        invariants
            .iter()
            .filter_map(|&(i, f)| f(self.model, state).err().map(|v| (i, v)))
            .collect()
    }

    fn explore(&self) -> Outcome<M> {
        let start = Instant::now();
        let model = self.model;
        let invariants = self.invariants();
        let deadlock_index = self.checks.iter().position(|c| matches!(c.kind, CheckKind::Deadlock));
        let mut found: Vec<Option<Found>> = self.checks.iter().map(|_| None).collect();
        let mut store: Vec<Shard> = (0..SHARDS).map(|_| Shard::default()).collect();
        let mut generated: u64 = 0;
        let mut distinct: u64 = 0;
        let mut stopped = None;

        // Level 1: the initial states.
        let mut first: Vec<(Fingerprint, M::State)> = Vec::new();
        let mut inits = model.init_states();
        generated += inits.len() as u64;
        inits.sort_by_key(fingerprint);
        for state in inits {
            let fp = fingerprint(&state);
            let shard = &mut store[shard_of(fp)];
            if shard.contains_key(&fp) {
                continue;
            }
            shard.insert(fp, fp);
            distinct += 1;
            for (i, v) in self.judge(&invariants, &state) {
                keep_first(&mut found[i], 1, fp, v);
            }
            first.push((fp, state));
        }
        let mut depth: u64 = if first.is_empty() { 0 } else { 1 };
        // A level is a list of blocks of at most BLOCK states, expanded and
        // merged one block at a time: memory holds one level and one block's
        // successors, not a whole level's duplicates.
        let mut frontier: Vec<Vec<(Fingerprint, M::State)>> = vec![first];
        self.publish(distinct, generated, depth);

        'levels: while frontier.iter().any(|b| !b.is_empty()) {
            if self.options.max_depth.is_some_and(|d| depth >= u64::from(d)) {
                stopped = Some(StopReason::MaxDepth(self.options.max_depth.unwrap_or(0)));
                break;
            }
            let next_depth = depth + 1;
            let mut next: Vec<Vec<(Fingerprint, M::State)>> = Vec::new();
            for block in std::mem::take(&mut frontier) {
                if let Some(reason) = self.should_stop(start, distinct) {
                    stopped = Some(reason);
                    break 'levels;
                }
                let step = self.expand(block, &mut store, &invariants);
                generated += step.generated;
                distinct += step.fresh.len() as u64;
                if let Some(d) = deadlock_index {
                    for fp in step.dead {
                        let v = Violation::new("a reachable state has no successor (deadlock)")
                            .with("hint", "add CHECK_DEADLOCK FALSE to the config if terminal states are intended");
                        keep_first(&mut found[d], depth, fp, v);
                    }
                }
                for (i, fp, v) in step.violations {
                    keep_first(&mut found[i], next_depth, fp, v);
                }
                for item in step.fresh {
                    match next.last_mut() {
                        Some(b) if b.len() < BLOCK => b.push(item),
                        _ => {
                            let mut b = Vec::with_capacity(BLOCK.min(1024));
                            b.push(item);
                            next.push(b);
                        }
                    }
                }
                self.publish(distinct, generated, depth);
            }
            if !next.is_empty() {
                depth = next_depth;
            }
            frontier = next;
            self.publish(distinct, generated, depth);
        }

        let mut properties = Vec::new();
        for (i, check) in self.checks.iter().enumerate() {
            let status = match (&check.kind, found[i].take()) {
                (_, Some(f)) => Status::Violated(self.rebuild(&store, f)),
                (CheckKind::Eventually(judge, fairness), None) => {
                    if stopped.is_some() {
                        Status::Unknown
                    } else {
                        match liveness::check(model, *judge, *fairness, &self.options.stop) {
                            liveness::Result::Holds => Status::Holds,
                            liveness::Result::Violated(cx) => Status::Violated(cx),
                            liveness::Result::Interrupted => {
                                stopped = Some(StopReason::Interrupted);
                                Status::Unknown
                            }
                        }
                    }
                }
                (_, None) if stopped.is_some() => Status::Unknown,
                (_, None) => Status::Holds,
            };
            properties.push(PropertyOutcome { name: check.name.clone(), status });
        }
        let entry = std::mem::size_of::<(Fingerprint, Fingerprint)>() as u64 + 1;
        let store_bytes = store.iter().map(|s| s.capacity() as u64 * entry).sum();
        Outcome {
            distinct,
            generated,
            depth,
            elapsed: start.elapsed(),
            threads: self.options.threads.max(1),
            stopped,
            properties,
            store_bytes,
        }
    }

    /// Expands one block of a level (in parallel, reading the store) and
    /// merges its successors into the store (in parallel, one task per shard).
    fn expand(
        &self,
        block: Vec<(Fingerprint, M::State)>,
        store: &mut [Shard],
        invariants: &[(usize, fn(&M, &M::State) -> Verdict)],
    ) -> Step<M::State> {
        let model = self.model;
        let threads = rayon::current_num_threads().max(1);
        let chunk = block.len().div_ceil(threads * 4).max(1);
        let store_ref: &[Shard] = store;
        let expanded: Vec<(Vec<Vec<Candidate<M::State>>>, u64, Vec<Fingerprint>)> = block
            .par_chunks(chunk)
            .map(|part| {
                let mut buckets: Vec<Vec<Candidate<M::State>>> = (0..SHARDS).map(|_| Vec::new()).collect();
                let mut made = 0u64;
                let mut dead = Vec::new();
                let mut actions = Vec::new();
                for (parent, state) in part {
                    actions.clear();
                    model.actions(state, &mut actions);
                    let mut successors = 0;
                    for action in actions.drain(..) {
                        let Some(next) = model.next_state(state, action) else { continue };
                        successors += 1;
                        let fp = fingerprint(&next);
                        let shard = shard_of(fp);
                        if !store_ref[shard].contains_key(&fp) {
                            buckets[shard].push(Candidate { fp, parent: *parent, state: next });
                        }
                    }
                    made += successors;
                    if successors == 0 {
                        dead.push(*parent);
                    }
                }
                (buckets, made, dead)
            })
            .collect();
        drop(block);
        let mut step = Step { fresh: Vec::new(), generated: 0, dead: Vec::new(), violations: Vec::new() };
        let mut per_shard: Vec<Vec<Candidate<M::State>>> = (0..SHARDS).map(|_| Vec::new()).collect();
        for (buckets, made, dead) in expanded {
            step.generated += made;
            step.dead.extend(dead);
            for (shard, mut bucket) in buckets.into_iter().enumerate() {
                per_shard[shard].append(&mut bucket);
            }
        }
        let merged: Vec<(Vec<(Fingerprint, M::State)>, Vec<(usize, Fingerprint, Violation)>)> = store
            .par_iter_mut()
            .zip(per_shard.into_par_iter())
            .map(|(shard, mut candidates)| {
                // The smallest parent wins, whichever thread found it first.
                candidates.sort_unstable_by_key(|c| (c.fp, c.parent));
                let mut fresh = Vec::new();
                let mut violations = Vec::new();
                let mut last = None;
                for c in candidates {
                    if last == Some(c.fp) {
                        continue;
                    }
                    last = Some(c.fp);
                    shard.insert(c.fp, c.parent);
                    for (i, v) in self.judge(invariants, &c.state) {
                        violations.push((i, c.fp, v));
                    }
                    fresh.push((c.fp, c.state));
                }
                (fresh, violations)
            })
            .collect();
        for (fresh, violations) in merged {
            step.fresh.extend(fresh);
            step.violations.extend(violations);
        }
        step
    }

    fn publish(&self, distinct: u64, generated: u64, depth: u64) {
        let stats = &self.options.stats;
        stats.distinct.store(distinct, Ordering::Relaxed);
        stats.generated.store(generated, Ordering::Relaxed);
        stats.depth.store(depth, Ordering::Relaxed);
    }

    fn should_stop(&self, start: Instant, distinct: u64) -> Option<StopReason> {
        if self.options.stop.load(Ordering::Relaxed) {
            return Some(StopReason::Interrupted);
        }
        if let Some(t) = self.options.timeout {
            if start.elapsed() >= t {
                return Some(StopReason::Timeout(t));
            }
        }
        if let Some(n) = self.options.max_states {
            if distinct >= n {
                return Some(StopReason::MaxStates(n));
            }
        }
        None
    }

    /// Rebuilds the path to a stored state: parent fingerprints back to an
    /// initial state, then forward by finding, at each step, the action whose
    /// successor has the next fingerprint.
    fn rebuild(&self, store: &[Shard], found: Found) -> Counterexample<M> {
        let mut fps = vec![found.fp];
        loop {
            let fp = *fps.last().expect("non-empty");
            let parent = store[shard_of(fp)][&fp];
            if parent == fp {
                break;
            }
            fps.push(parent);
        }
        fps.reverse();
        let path = replay_fingerprints(self.model, &fps);
        Counterexample { path, loop_index: None, violation: found.violation }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_use_bits_the_tables_do_not() {
        // hashbrown takes bucket bits from the bottom and tag bits from the top.
        assert_eq!(shard_of(0xFFFF_FF00_0000_00FF), 0);
        assert_eq!(shard_of(0x0000_0001_0000_0000), 1);
    }
}
