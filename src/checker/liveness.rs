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

use std::sync::atomic::{AtomicBool, Ordering};

use super::{bfs, fingerprint, Judge, replay_fingerprints, Counterexample, Fingerprint, Options, StopReason};
use crate::model::{Explorable, Fairness, Violation};

pub enum Result<M: Explorable> {
    Holds,
    Violated(Counterexample<M>),
    Stopped(StopReason),
}

pub fn check<M: Explorable>(
    model: &M,
    judge: &Judge<M>,
    fairness: Fairness,
    rank: Option<fn(&M, &M::State) -> u64>,
    options: &Options,
) -> Result<M> {
    let holds = |s: &M::State| judge(model, s).is_ok();
    if fairness == Fairness::None {
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
        let visitor = Pending { model, judge, rank, unranked: AtomicBool::new(false) };
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
                    let violation = stutter_violation(model, judge, &path[last].1, last);
                    Result::Violated(Counterexample { path, loop_index: Some(last), violation })
                }
            };
        }
    }
    depth_first(model, judge, options)
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
    fn expand(&self, state: &M::State, out: &mut Vec<M::State>) -> (u64, bool) {
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
                out.push(next);
            }
        }
        (generated, real == 0)
    }

    fn judge(&self, _: &M::State) -> Vec<(usize, Violation)> {
        Vec::new()
    }

    fn retire(&self, _: usize) {}
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    OnStack(usize),
    Done,
}

struct Frame<M: Explorable> {
    action: Option<M::Action>,
    state: M::State,
    fp: Fingerprint,
    /// Real successors not yet followed, as (action, state, fingerprint).
    pending: Vec<(M::Action, M::State, Fingerprint)>,
}

fn depth_first<M: Explorable>(model: &M, judge: &Judge<M>, options: &Options) -> Result<M> {
    let holds = |s: &M::State| judge(model, s).is_ok();
    let successors = |state: &M::State, fp: Fingerprint| {
        let mut actions = Vec::new();
        model.actions(state, &mut actions);
        let mut next: Vec<(M::Action, M::State, Fingerprint)> = actions
            .into_iter()
            .filter_map(|a| {
                let n = model.next_state(state, a.clone())?;
                let nfp = fingerprint(&n);
                (nfp != fp).then_some((a, n, nfp))
            })
            .collect();
        // Follow successors in a fixed order so the lasso is the same in every run.
        next.sort_by_key(|(_, _, f)| std::cmp::Reverse(*f));
        next
    };
    let mut marks: hashbrown::HashMap<Fingerprint, Mark> = hashbrown::HashMap::new();
    let mut inits = model.init_states();
    inits.sort_by_key(fingerprint);
    let mut steps: u64 = 0;
    for init in inits {
        let fp = fingerprint(&init);
        if holds(&init) || marks.contains_key(&fp) {
            continue;
        }
        let pending = successors(&init, fp);
        let dead_end = pending.is_empty();
        let mut stack: Vec<Frame<M>> = vec![Frame { action: None, state: init, fp, pending }];
        marks.insert(fp, Mark::OnStack(0));
        if dead_end {
            return Result::Violated(lasso(model, judge, stack, None));
        }
        while let Some(top) = stack.last_mut() {
            steps += 1;
            if steps % 4096 == 0 && options.stop.load(Ordering::Relaxed) {
                return Result::Stopped(StopReason::Interrupted);
            }
            let Some((action, state, nfp)) = top.pending.pop() else {
                let done = stack.pop().expect("non-empty");
                marks.insert(done.fp, Mark::Done);
                continue;
            };
            if holds(&state) {
                continue;
            }
            match marks.get(&nfp) {
                Some(Mark::Done) => continue,
                Some(Mark::OnStack(at)) => {
                    let at = *at;
                    return Result::Violated(lasso(model, judge, stack, Some(at)));
                }
                None => {}
            }
            let pending = successors(&state, nfp);
            marks.insert(nfp, Mark::OnStack(stack.len()));
            let dead_end = pending.is_empty();
            stack.push(Frame { action: Some(action), state, fp: nfp, pending });
            if dead_end {
                return Result::Violated(lasso(model, judge, stack, None));
            }
        }
    }
    Result::Holds
}

fn lasso<M: Explorable>(
    model: &M,
    judge: &Judge<M>,
    stack: Vec<Frame<M>>,
    loop_to: Option<usize>,
) -> Counterexample<M> {
    let last = stack.len() - 1;
    let violation = match loop_to {
        Some(at) => judge(model, &stack[last].state).expect_err("P is false on the stack").with(
            "why",
            format!("the behaviour cycles from state {last} back to state {at} without P ever holding"),
        ),
        None => stutter_violation(model, judge, &stack[last].state, last),
    };
    Counterexample {
        path: stack.into_iter().map(|f| (f.action, f.state)).collect(),
        loop_index: Some(loop_to.unwrap_or(last)),
        violation,
    }
}
