//! `<>P` under the fairness of the behaviour spec.
//!
//! Under `WF_vars(Next)` a behaviour may stop only in a state where no step
//! changes the state. So `<>P` fails exactly when, among the states reachable
//! through P-false states only, there is a cycle of real steps, or a state
//! whose only steps (if any) are stutters: the lasso either closes on the
//! cycle or loops on that last state forever.
//!
//! Two ways to look for one:
//!
//! - **Ranked** (parallel): a model may give a rank that it claims every real
//!   step increases. Then the P-false part has no cycle, and a parallel
//!   breadth-first search over it need only find a state without a real
//!   successor — the shortest such lasso. The search checks the claim on every
//!   step it takes; if one step does not increase the rank, the result is
//!   discarded and the depth-first search below runs instead.
//! - **Depth-first** (sequential): over the P-false states from each P-false
//!   initial state; a step back to a state on the stack closes a cycle.
//!
//! Without fairness any behaviour may stutter forever in its first state, so
//! `<>P` fails exactly when P is false in some initial state.
//!
//! Every other temporal property ([`temporal`]: `P ~> Q`, `<>P`, `[]<>P`,
//! `<>[]P`, `[][A]_v`, under WF/SF conditions per action) is checked on the
//! whole reachable graph: a violation is a fair strongly connected set of
//! states (Emerson–Lei), reported as a lasso. A model without a rank (or
//! whose rank failed) gets its `<>P` checked the same way.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::{bfs, fingerprint, Judge, replay_fingerprints, Counterexample, Fingerprint, Options, StopReason};
use crate::model::{Explorable, Fairness, Violation};

pub enum Result<M: Explorable> {
    Holds,
    Violated(Counterexample<M>),
    Stopped(StopReason),
}

pub fn check<M: Explorable>(
    model: &M,
    judge: &std::sync::Arc<Judge<M>>,
    fairness: Fairness,
    rank: Option<fn(&M, &M::State) -> u64>,
    options: &Options,
) -> Result<M> {
    let holds = |s: &M::State| judge(model, s).is_ok();
    if fairness == Fairness::None && rank.is_some() {
        let mut inits = model.init_states();
        inits.sort_by_key(fingerprint);
        return match inits.into_iter().find(|s| !holds(s)) {
            None => Result::Holds,
            Some(s) => {
                let violation = judge(model, &s).expect_err("P is false here").with(
                    "why",
                    "without fairness the behaviour may stutter in its first state forever",
                );
                Result::Violated(Counterexample { path: vec![(None, s)], loop_index: Some(0), violation })
            }
        };
    }
    if let Some(rank) = rank {
        let visitor = Pending { model, judge: judge.as_ref(), rank, unranked: AtomicBool::new(false) };
        let inits: Vec<M::State> = model.init_states().into_iter().filter(|s| !holds(s)).collect();
        let mut search = bfs::search(inits, &visitor, 0, options);
        if let Some(reason) = search.stopped.take() {
            return Result::Stopped(reason);
        }
        if !visitor.unranked.load(Ordering::Relaxed) {
            return match search.dead {
                None => Result::Holds,
                Some((_, fp)) => {
                    let path = replay_fingerprints(model, &bfs::path_to(&search.store, fp));
                    let last = path.len() - 1;
                    let violation = stutter_violation(model, judge.as_ref(), &path[last].1, last);
                    Result::Violated(Counterexample { path, loop_index: Some(last), violation })
                }
            };
        }
    }
    let fair: Vec<Fair<M>> = match fairness {
        Fairness::None => Vec::new(),
        Fairness::WeakNext => vec![Fair { strong: false, name: "WF_vars(Next)".into(), step: std::sync::Arc::new(|_: &M, _: &M::State, _: &M::State| true) }],
    };
    temporal(model, &Temporal::LeadsTo(None, judge.clone()), &fair, options)
}

fn stutter_violation<M: Explorable>(model: &M, judge: &Judge<M>, state: &M::State, at: usize) -> Violation {
    judge(model, state).expect_err("P is false here").with(
        "why",
        format!("state {at} has no step that changes the state, so the behaviour stutters there forever"),
    )
}

/// The ranked search: real steps into P-false states only.
struct Pending<'m, M: Explorable> {
    model: &'m M,
    judge: &'m Judge<M>,
    rank: fn(&M, &M::State) -> u64,
    /// Set when a real step did not increase the rank.
    unranked: AtomicBool,
}

impl<M: Explorable> bfs::Visitor<M::State> for Pending<'_, M> {
    fn expand(&self, _: Fingerprint, state: &M::State, out: &mut Vec<(Fingerprint, M::State)>) -> (u64, bool) {
        let mut actions = Vec::new();
        self.model.actions(state, &mut actions);
        let here = (self.rank)(self.model, state);
        let (mut generated, mut real) = (0, 0);
        for action in actions {
            let Some(next) = self.model.next_state(state, action) else { continue };
            generated += 1;
            if next == *state {
                continue;
            }
            real += 1;
            if (self.rank)(self.model, &next) <= here {
                self.unranked.store(true, Ordering::Relaxed);
            }
            if (self.judge)(self.model, &next).is_err() {
                out.push((fingerprint(&next), next));
            }
        }
        (generated, real == 0)
    }

    fn judge(&self, _: &M::State) -> Vec<(usize, Violation)> {
        Vec::new()
    }

    fn retire(&self, _: usize) {}
}

/// Whether a step (from, to) satisfies an action: `<<A>>_v` for a fairness
/// condition, `[A]_v` for an action property.
pub type StepJudge<M> = dyn Fn(&M, &<M as stateright::Model>::State, &<M as stateright::Model>::State) -> bool + Send + Sync;

/// `WF_v(A)` or `SF_v(A)`: `step` says whether a real step is an `<<A>>_v`
/// step; A is enabled in a state where some step from it is one.
pub struct Fair<M: Explorable> {
    pub strong: bool,
    pub name: String,
    pub step: std::sync::Arc<StepJudge<M>>,
}

/// A temporal property checked on the whole state graph.
pub enum Temporal<M: Explorable> {
    /// `P ~> Q`; with no P, `<>Q` (from the initial states). `[]<>Q` is
    /// `TRUE ~> Q`.
    LeadsTo(Option<std::sync::Arc<Judge<M>>>, std::sync::Arc<Judge<M>>),
    /// `<>[]P`.
    EventuallyAlways(std::sync::Arc<Judge<M>>),
    /// `[][A]_v`: every step of every behaviour satisfies `[A]_v`.
    ActionAlways(std::sync::Arc<StepJudge<M>>),
    /// `[]P` as a conjunct of a temporal property.
    Invariant(std::sync::Arc<Judge<M>>),
    /// A conjunction: the first conjunct violated is reported.
    Each(Vec<Temporal<M>>),
    /// A state predicate as a conjunct of a property (a refined spec's
    /// Init): it holds in every initial state.
    Initially(std::sync::Arc<Judge<M>>),
    /// `WF_v(A)` or `SF_v(A)` as a property (a refined spec's fairness):
    /// `step` says whether a step is an `<<A>>_v` step, `enabled` whether
    /// one is possible from a state (ENABLED `<<A>>_v`, over every next
    /// state, not only those of the graph).
    Fairness { strong: bool, name: String, enabled: std::sync::Arc<StateTest<M>>, step: std::sync::Arc<StepJudge<M>> },
}

/// Whether a state satisfies a predicate.
pub type StateTest<M> = dyn Fn(&M, &<M as stateright::Model>::State) -> bool + Send + Sync;

/// The reachable state graph, built breadth-first: states by index, each
/// with its breadth-first parent, its real successors (stutters left out:
/// every state may stutter) and, per successor, which fairness conditions
/// the step satisfies (bit k for condition k). The actions of the steps are
/// not kept: a counterexample's are found again ([`to_path`]).
pub struct Graph<M: Explorable> {
    states: Vec<M::State>,
    parent: Vec<Option<u32>>,
    succ: Vec<Vec<(u32, u64)>>,
    /// Bit k: condition k's action is enabled here.
    enabled: Vec<u64>,
    inits: Vec<u32>,
}

fn build<M: Explorable>(model: &M, fair: &[Fair<M>], options: &Options) -> std::result::Result<Graph<M>, StopReason> {
    let mut index: hashbrown::HashMap<Fingerprint, u32> = hashbrown::HashMap::new();
    let mut g = Graph { states: Vec::new(), parent: Vec::new(), succ: Vec::new(), enabled: Vec::new(), inits: Vec::new() };
    let mut inits = model.init_states();
    inits.sort_by_key(fingerprint);
    for s in inits {
        let fp = fingerprint(&s);
        if index.contains_key(&fp) {
            continue;
        }
        index.insert(fp, g.states.len() as u32);
        g.inits.push(g.states.len() as u32);
        g.states.push(s);
        g.parent.push(None);
    }
    let mut at = 0;
    let mut actions = Vec::new();
    while at < g.states.len() {
        if at % 1024 == 0 {
            if options.stop.load(Ordering::Relaxed) {
                return Err(StopReason::Interrupted);
            }
            if let Some(reason) = super::memory::over_budget(options) {
                return Err(reason);
            }
        }
        actions.clear();
        model.actions(&g.states[at], &mut actions);
        let here = fingerprint(&g.states[at]);
        let mut out: Vec<(u32, u64)> = Vec::new();
        let mut enabled = 0u64;
        for a in actions.drain(..) {
            let Some(next) = model.next_state(&g.states[at], a) else { continue };
            let fp = fingerprint(&next);
            if fp == here {
                continue;
            }
            let mut bits = 0u64;
            for (k, f) in fair.iter().enumerate() {
                if (f.step)(model, &g.states[at], &next) {
                    bits |= 1 << k;
                }
            }
            enabled |= bits;
            let to = match index.get(&fp) {
                Some(&i) => i,
                None => {
                    let i = g.states.len() as u32;
                    index.insert(fp, i);
                    g.states.push(next);
                    g.parent.push(Some(at as u32));
                    i
                }
            };
            match out.iter_mut().find(|(t, _)| *t == to) {
                Some(slot) => slot.1 |= bits,
                None => out.push((to, bits)),
            }
        }
        g.succ.push(out);
        g.enabled.push(enabled);
        at += 1;
    }
    Ok(g)
}

/// One expanded state and the fingerprints its real steps lead to (stutters
/// left out), in the order the model gives its actions, as a worker of the safety search saw them.
struct Node<M: Explorable> {
    fp: Fingerprint,
    state: M::State,
    steps: Vec<Fingerprint>,
}

/// The state graph, recorded while the parallel safety search expands each
/// state once: each worker adds the states it expands (to one of a few
/// locked lists, picked by fingerprint, so workers rarely meet). Afterwards
/// [`Recorder::into_graph`] computes the fairness bits of every step in
/// parallel and numbers the states in the order the sequential [`build`]
/// would, so the graph, and every answer and lasso found on it, are the same
/// as that search's for any thread count.
pub(crate) struct Recorder<M: Explorable> {
    lists: Vec<std::sync::Mutex<Vec<Node<M>>>>,
}

const RECORDER_LISTS: usize = 64;

impl<M: Explorable> Default for Recorder<M> {
    fn default() -> Self {
        Recorder { lists: (0..RECORDER_LISTS).map(|_| std::sync::Mutex::new(Vec::new())).collect() }
    }
}

impl<M: Explorable> Recorder<M> {
    pub(crate) fn add(&self, fp: Fingerprint, state: M::State, steps: Vec<Fingerprint>) {
        let list = &self.lists[(fp as usize) % RECORDER_LISTS];
        list.lock().unwrap_or_else(|p| p.into_inner()).push(Node { fp, state, steps });
    }

    /// The graph of a complete search; `None` if a step leads to a state
    /// that was not expanded (the search did not finish).
    pub(crate) fn into_graph(self, model: &M, fair: &[Fair<M>]) -> Option<Graph<M>> {
        assert!(fair.len() <= 64, "at most 64 fairness conditions");
        type Ids = hashbrown::HashMap<Fingerprint, u32, std::hash::BuildHasherDefault<bfs::IdentityHasher>>;
        let mut nodes: Vec<Node<M>> = self.lists.into_iter().flat_map(|l| l.into_inner().unwrap_or_else(|p| p.into_inner())).collect();
        let mut at = Ids::with_capacity_and_hasher(nodes.len(), Default::default());
        for (i, n) in nodes.iter().enumerate() {
            at.insert(n.fp, i as u32);
        }
        // Which fairness conditions each step satisfies, per state, in parallel.
        let bits: Vec<Option<(Vec<u64>, u64)>> = nodes
            .par_iter()
            .map(|n| {
                let mut per = Vec::with_capacity(n.steps.len());
                let mut enabled = 0u64;
                for to in &n.steps {
                    let next = &nodes[*at.get(to)? as usize].state;
                    let mut b = 0u64;
                    for (k, f) in fair.iter().enumerate() {
                        if (f.step)(model, &n.state, next) {
                            b |= 1 << k;
                        }
                    }
                    enabled |= b;
                    per.push(b);
                }
                Some((per, enabled))
            })
            .collect();
        // Number the states as the sequential breadth-first build does.
        let mut inits: Vec<Fingerprint> = model.init_states().iter().map(fingerprint).collect();
        inits.sort_unstable();
        inits.dedup();
        let mut g = Graph { states: Vec::new(), parent: Vec::new(), succ: Vec::new(), enabled: Vec::new(), inits: Vec::new() };
        let mut index = Ids::with_capacity_and_hasher(nodes.len(), Default::default());
        let mut order: Vec<u32> = Vec::with_capacity(nodes.len());
        for fp in inits {
            let pos = *at.get(&fp)?;
            index.insert(fp, order.len() as u32);
            g.inits.push(order.len() as u32);
            order.push(pos);
            g.parent.push(None);
        }
        let mut u = 0;
        while u < order.len() {
            let pos = order[u] as usize;
            let steps = std::mem::take(&mut nodes[pos].steps);
            let (per, enabled) = bits[pos].as_ref()?;
            let mut out: Vec<(u32, u64)> = Vec::new();
            for (to_fp, &b) in steps.into_iter().zip(per) {
                let to = match index.get(&to_fp) {
                    Some(&i) => i,
                    None => {
                        let i = order.len() as u32;
                        index.insert(to_fp, i);
                        order.push(*at.get(&to_fp)?);
                        g.parent.push(Some(u as u32));
                        i
                    }
                };
                match out.iter_mut().find(|(t, _)| *t == to) {
                    Some(slot) => slot.1 |= b,
                    None => out.push((to, b)),
                }
            }
            g.succ.push(out);
            g.enabled.push(*enabled);
            u += 1;
        }
        let mut states: Vec<Option<M::State>> = nodes.into_iter().map(|n| Some(n.state)).collect();
        g.states = order.iter().map(|&p| states[p as usize].take()).collect::<Option<Vec<_>>>()?;
        Some(g)
    }
}

/// The strongly connected components of the subgraph on `mask` (Tarjan,
/// iteratively).
fn components<M: Explorable>(g: &Graph<M>, mask: &[bool]) -> Vec<Vec<u32>> {
    let n = g.states.len();
    let mut index = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    let mut next_index = 0u32;
    for root in 0..n {
        if !mask[root] || index[root] != u32::MAX {
            continue;
        }
        let mut call: Vec<(u32, usize)> = vec![(root as u32, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root as u32);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = call.last_mut() {
            let vu = v as usize;
            if *i < g.succ[vu].len() {
                let w = g.succ[vu][*i].0 as usize;
                *i += 1;
                if !mask[w] {
                    continue;
                }
                if index[w] == u32::MAX {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    call.push((w as u32, 0));
                } else if on_stack[w] {
                    low[vu] = low[vu].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(p, _)) = call.last() {
                    low[p as usize] = low[p as usize].min(low[vu]);
                }
                if low[vu] == index[vu] {
                    let mut comp = Vec::new();
                    loop {
                        let w = stack.pop().expect("on the stack");
                        on_stack[w as usize] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    out.push(comp);
                }
            }
        }
    }
    out
}

/// A set of states, strongly connected (every state may stutter, so one
/// state is a cycle too), on which a behaviour can stay forever while
/// meeting every fairness condition, containing a state of `need` if given
/// (Emerson and Lei's search: a strong condition enabled but never taken
/// removes the states that enable it, and the rest is searched again).
fn fair_component<M: Explorable>(g: &Graph<M>, fair: &[Fair<M>], nodes: Vec<u32>, need: Option<&[bool]>) -> Option<Vec<u32>> {
    let strong: u64 = fair.iter().enumerate().filter(|(_, f)| f.strong).fold(0, |m, (k, _)| m | 1 << k);
    let all: u64 = if fair.is_empty() { 0 } else { u64::MAX >> (64 - fair.len()) };
    let weak = all & !strong;
    let mut work = vec![nodes];
    let mut mask = vec![false; g.states.len()];
    while let Some(set) = work.pop() {
        set.iter().for_each(|&u| mask[u as usize] = true);
        let comps = components(g, &mask);
        set.iter().for_each(|&u| mask[u as usize] = false);
        for comp in comps {
            if need.is_some_and(|need| !comp.iter().any(|&u| need[u as usize])) {
                continue;
            }
            comp.iter().for_each(|&u| mask[u as usize] = true);
            let taken = comp.iter().flat_map(|&u| g.succ[u as usize].iter()).filter(|e| mask[e.0 as usize]).fold(0, |m, e| m | e.1);
            comp.iter().for_each(|&u| mask[u as usize] = false);
            let en_any = comp.iter().fold(0, |m, &u| m | g.enabled[u as usize]);
            let en_all = comp.iter().fold(all, |m, &u| m & g.enabled[u as usize]);
            if weak & en_all & !taken != 0 {
                continue;
            }
            let unmet = strong & en_any & !taken;
            if unmet == 0 {
                return Some(comp);
            }
            let rest: Vec<u32> = comp.into_iter().filter(|&u| g.enabled[u as usize] & unmet == 0).collect();
            if !rest.is_empty() {
                work.push(rest);
            }
        }
    }
    None
}

/// A shortest path inside `mask` from `from` to a state `goal` accepts,
/// as the states after `from`.
fn path_within<M: Explorable>(g: &Graph<M>, mask: &[bool], from: u32, goal: &dyn Fn(u32) -> bool) -> Option<Vec<u32>> {
    if goal(from) {
        return Some(Vec::new());
    }
    let mut prev: hashbrown::HashMap<u32, u32> = hashbrown::HashMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    prev.insert(from, from);
    while let Some(u) = queue.pop_front() {
        for &(w, _) in &g.succ[u as usize] {
            if !mask[w as usize] || prev.contains_key(&w) {
                continue;
            }
            prev.insert(w, u);
            if goal(w) {
                let mut path = vec![w];
                let mut at = w;
                while prev[&at] != from {
                    at = prev[&at];
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(w);
        }
    }
    None
}

/// The breadth-first path from an initial state to `to`.
fn path_from_init<M: Explorable>(g: &Graph<M>, to: u32) -> Vec<u32> {
    let mut path = vec![to];
    let mut at = to;
    while let Some(p) = g.parent[at as usize] {
        path.push(p);
        at = p;
    }
    path.reverse();
    path
}

/// The loop of a lasso inside a fair component, from `start`: it takes one
/// step of each condition the component meets by taking it, passes a
/// state where each weak condition met by being disabled is disabled, and
/// comes back to `start`. Returns the states after `start` (none: the
/// behaviour stutters at `start`).
fn fair_loop<M: Explorable>(g: &Graph<M>, fair: &[Fair<M>], comp: &[u32], start: u32) -> Vec<u32> {
    let mut mask = vec![false; g.states.len()];
    comp.iter().for_each(|&u| mask[u as usize] = true);
    let mut stops: Vec<(u32, Option<u32>)> = Vec::new();
    for (k, f) in fair.iter().enumerate() {
        let bit = 1u64 << k;
        let edge = comp.iter().find_map(|&u| g.succ[u as usize].iter().find(|e| mask[e.0 as usize] && e.1 & bit != 0).map(|e| (u, e.0)));
        match edge {
            Some((u, w)) => stops.push((u, Some(w))),
            None if !f.strong => {
                if let Some(&u) = comp.iter().find(|&&u| g.enabled[u as usize] & bit == 0) {
                    stops.push((u, None))
                }
            }
            None => {}
        }
    }
    let mut cycle = Vec::new();
    let mut at = start;
    for (u, w) in stops {
        cycle.extend(path_within(g, &mask, at, &|x| x == u).expect("strongly connected"));
        at = u;
        if let Some(w) = w {
            cycle.push(w);
            at = w;
        }
    }
    if at != start {
        cycle.extend(path_within(g, &mask, at, &|x| x == start).expect("strongly connected"));
    }
    if cycle.last() == Some(&start) {
        cycle.pop();
    }
    cycle
}

/// A lasso whose prefix already passes a state of its loop, entered there:
/// the prefix up to the first such state, then the loop turned to start at
/// it. The loop keeps its steps (so the fairness it meets), and the lasso
/// gets no longer. `path[loop_index..]` is the loop; its last state steps
/// back to `path[loop_index]`.
fn shortcut(path: Vec<u32>, loop_index: usize) -> (Vec<u32>, usize) {
    let cycle = &path[loop_index..];
    let found = path[..loop_index].iter().enumerate().find_map(|(i, s)| cycle.iter().position(|c| c == s).map(|j| (i, loop_index + j)));
    let Some((i, j)) = found else { return (path, loop_index) };
    let mut out = path[..i].to_vec();
    out.extend_from_slice(&path[j..]);
    out.extend_from_slice(&path[loop_index..j]);
    (out, i)
}

/// States by index, with the action of each step, as a counterexample path:
/// the first of the model's actions from the state before that leads there.
fn to_path<M: Explorable>(model: &M, g: &Graph<M>, indices: &[u32]) -> Vec<(Option<M::Action>, M::State)> {
    let mut path = Vec::with_capacity(indices.len());
    let mut actions = Vec::new();
    for (i, &s) in indices.iter().enumerate() {
        let action = (i > 0).then(|| {
            let from = &g.states[indices[i - 1] as usize];
            let to = fingerprint(&g.states[s as usize]);
            actions.clear();
            model.actions(from, &mut actions);
            actions
                .drain(..)
                .find(|a| model.next_state(from, a.clone()).is_some_and(|next| fingerprint(&next) == to))
                .expect("a step of the graph: actions() must be deterministic")
        });
        path.push((action, g.states[s as usize].clone()));
    }
    path
}

/// Checks a temporal property on the state graph under the fairness
/// conditions; a violation is a lasso: a path and the index its last state
/// steps back to (the last index itself: it stutters there forever).
pub fn temporal<M: Explorable>(model: &M, property: &Temporal<M>, fair: &[Fair<M>], options: &Options) -> Result<M> {
    assert!(fair.len() <= 64, "at most 64 fairness conditions");
    match build(model, fair, options) {
        Ok(g) => on_graph(model, &g, property, fair),
        Err(reason) => Result::Stopped(reason),
    }
}

/// The state graph of the last temporal check, kept for the next one
/// under the same fairness conditions, so a run builds it once.
pub struct GraphCache<M: Explorable> {
    built: Option<(std::sync::Arc<[Fair<M>]>, Graph<M>)>,
}

impl<M: Explorable> Default for GraphCache<M> {
    fn default() -> Self {
        GraphCache { built: None }
    }
}

impl<M: Explorable> GraphCache<M> {
    /// Keeps a graph built elsewhere (recorded by the safety search) for
    /// checks under the fairness conditions `fair`.
    pub(crate) fn put(&mut self, fair: std::sync::Arc<[Fair<M>]>, graph: Graph<M>) {
        self.built = Some((fair, graph));
    }
}

/// [`temporal`] with the graph kept in `cache` between calls.
pub fn temporal_cached<M: Explorable>(
    model: &M,
    property: &Temporal<M>,
    fair: &std::sync::Arc<[Fair<M>]>,
    options: &Options,
    cache: &mut GraphCache<M>,
) -> Result<M> {
    assert!(fair.len() <= 64, "at most 64 fairness conditions");
    let fresh = cache.built.as_ref().is_none_or(|(f, _)| !std::sync::Arc::ptr_eq(f, fair));
    if fresh {
        match build(model, fair, options) {
            Ok(g) => cache.built = Some((fair.clone(), g)),
            Err(reason) => return Result::Stopped(reason),
        }
    }
    let (_, g) = cache.built.as_ref().expect("built above");
    on_graph(model, g, property, fair)
}

fn on_graph<M: Explorable>(model: &M, g: &Graph<M>, property: &Temporal<M>, fair: &[Fair<M>]) -> Result<M> {
    let n = g.states.len();
    let lasso = |prefix: Vec<u32>, comp: &[u32], violation: Violation| {
        let start = *prefix.last().expect("a prefix ends in the component");
        let cycle = fair_loop(g, fair, comp, start);
        let loop_index = prefix.len() - 1;
        let mut all = prefix;
        all.extend(cycle);
        let (all, loop_index) = shortcut(all, loop_index);
        Result::Violated(Counterexample { path: to_path(model, g, &all), loop_index: Some(loop_index), violation })
    };
    match property {
        Temporal::Each(parts) => {
            for p in parts {
                if let Result::Violated(cx) = on_graph(model, g, p, fair) {
                    return Result::Violated(cx);
                }
            }
            Result::Holds
        }
        Temporal::Initially(p) => match g.inits.iter().find_map(|&u| p(model, &g.states[u as usize]).err().map(|v| (u, v))) {
            None => Result::Holds,
            Some((u, violation)) => Result::Violated(Counterexample {
                path: to_path(model, g, &[u]),
                loop_index: None,
                violation: violation.with("why", "an initial state does not satisfy it"),
            }),
        },
        Temporal::Fairness { strong, name, enabled, step } => {
            // A fair behaviour violates WF_v(A) if it ends in a loop through
            // states where <<A>>_v is enabled that takes no <<A>>_v step,
            // SF_v(A) if the loop passes one such state: a fair component of
            // the graph without the <<A>>_v steps (for WF, on the states
            // where it is enabled), with a state where it is (for SF).
            let en: Vec<bool> = g.states.par_iter().map(|s| enabled(model, s)).collect();
            let cut = Graph {
                states: g.states.clone(),
                parent: g.parent.clone(),
                succ: (0..n)
                    .map(|u| g.succ[u].iter().filter(|e| !step(model, &g.states[u], &g.states[e.0 as usize])).cloned().collect())
                    .collect(),
                enabled: g.enabled.clone(),
                inits: g.inits.clone(),
            };
            let found = if *strong {
                fair_component(&cut, fair, (0..n as u32).collect(), Some(&en))
            } else {
                fair_component(&cut, fair, (0..n as u32).filter(|&u| en[u as usize]).collect(), None)
            };
            let Some(comp) = found else { return Result::Holds };
            let start = *comp.iter().find(|&&u| en[u as usize]).expect("the component has a state where it is enabled");
            let prefix = path_from_init(g, start);
            let loop_index = prefix.len() - 1;
            let mut all = prefix;
            all.extend(fair_loop(&cut, fair, &comp, start));
            let (all, loop_index) = shortcut(all, loop_index);
            let violation = Violation::new(format!("{name} is violated")).with(
                "why",
                if *strong {
                    "the behaviour loops forever through a state where the action is enabled and never takes it"
                } else {
                    "the behaviour loops forever through states where the action is enabled and never takes it"
                },
            );
            Result::Violated(Counterexample { path: to_path(model, g, &all), loop_index: Some(loop_index), violation })
        }
        Temporal::Invariant(p) => match (0..n).into_par_iter().find_map_first(|u| p(model, &g.states[u]).err().map(|v| (u, v))) {
            None => Result::Holds,
            Some((u, violation)) => Result::Violated(Counterexample { path: to_path(model, g, &path_from_init(g, u as u32)), loop_index: None, violation }),
        },
        Temporal::ActionAlways(step) => {
            let first = (0..n).into_par_iter().find_map_first(|u| {
                g.succ[u].iter().find(|(w, _)| !step(model, &g.states[u], &g.states[*w as usize])).map(|(w, _)| (u, *w))
            });
            match first {
                None => Result::Holds,
                Some((u, w)) => {
                    let mut path = path_from_init(g, u as u32);
                    path.push(w);
                    let violation = Violation::new("a step violates the action property")
                        .with("step", format!("from state {} to state {}", path.len() - 2, path.len() - 1));
                    Result::Violated(Counterexample { path: to_path(model, g, &path), loop_index: None, violation })
                }
            }
        }
        Temporal::EventuallyAlways(p) => {
            let bad: Vec<bool> = g.states.par_iter().map(|s| p(model, s).is_err()).collect();
            let Some(comp) = fair_component(g, fair, (0..n as u32).collect(), Some(&bad)) else { return Result::Holds };
            let start = *comp.iter().find(|&&u| bad[u as usize]).expect("the component has a P-false state");
            let violation = p(model, &g.states[start as usize]).expect_err("P is false here").with(
                "why",
                "the behaviour loops forever through a state where the property's P is false, so []P never starts to hold",
            );
            lasso(path_from_init(g, start), &comp, violation)
        }
        Temporal::LeadsTo(from, to) => {
            let not_q: Vec<bool> = g.states.par_iter().map(|s| to(model, s).is_err()).collect();
            let starts: Vec<u32> = match from {
                None => g.inits.iter().copied().filter(|&u| not_q[u as usize]).collect(),
                Some(p) => (0..n as u32).into_par_iter().filter(|&u| not_q[u as usize] && p(model, &g.states[u as usize]).is_ok()).collect(),
            };
            // The states reachable from a start through Q-false states, with
            // the start each was first reached from.
            let mut region = vec![false; n];
            let mut via: Vec<u32> = vec![u32::MAX; n];
            let mut queue = std::collections::VecDeque::new();
            for &s in &starts {
                region[s as usize] = true;
                via[s as usize] = s;
                queue.push_back(s);
            }
            while let Some(u) = queue.pop_front() {
                for &(w, _) in &g.succ[u as usize] {
                    if not_q[w as usize] && !region[w as usize] {
                        region[w as usize] = true;
                        via[w as usize] = via[u as usize];
                        queue.push_back(w);
                    }
                }
            }
            let nodes: Vec<u32> = (0..n as u32).filter(|&u| region[u as usize]).collect();
            let Some(comp) = fair_component(g, fair, nodes, None) else { return Result::Holds };
            let entry = comp[0];
            let start = via[entry as usize];
            let mut prefix = path_from_init(g, start);
            prefix.extend(path_within(g, &region, start, &|x| x == entry).expect("reached from its start"));
            let violation = to(model, &g.states[entry as usize]).expect_err("Q is false here").with(
                "why",
                match from {
                    None => format!("from the initial state the behaviour never reaches a state where it holds (it loops from state {})", prefix.len() - 1),
                    Some(_) => format!(
                        "after state {} (where the left side of ~> holds) the behaviour never reaches a state where the right side holds",
                        path_from_init(g, start).len() - 1
                    ),
                },
            );
            lasso(prefix, &comp, violation)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shortcut;

    #[test]
    fn a_prefix_through_the_loop_is_cut_at_its_first_loop_state() {
        // 0 1 2 3 | 0 1 2 (loop from 3): the prefix passes 0, which is on the loop.
        assert_eq!(shortcut(vec![0, 1, 2, 3, 0, 1, 2], 3), (vec![0, 1, 2, 3], 0));
        // 5 1 | 2 1 (loop 2 -> 1 -> 2): cut at 1, the loop turned to start there.
        assert_eq!(shortcut(vec![5, 1, 2, 1], 2), (vec![5, 1, 2], 1));
        // A stuttering loop on a state the prefix passed.
        assert_eq!(shortcut(vec![0, 1, 0], 2), (vec![0], 0));
        // Nothing to cut.
        assert_eq!(shortcut(vec![0, 1, 2], 1), (vec![0, 1, 2], 1));
    }
}
