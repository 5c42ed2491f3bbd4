//! `<>P` under the fairness of the behaviour spec.
//!
//! Under `WF_vars(Next)` a behaviour may stop only in a state where no step
//! changes the state. So `<>P` fails exactly when, among the reachable states
//! where P is false, there is a cycle of real steps, or a state whose only
//! steps (if any) are stutters. A depth-first search over the P-false states,
//! from each P-false initial state, finds either one: a back edge to a state
//! on the stack closes a lasso; a state without a real successor ends in
//! eternal stuttering (the lasso loops on the last state).
//!
//! Without fairness any behaviour may stutter forever in its first state, so
//! `<>P` fails exactly when P is false in some initial state.
//!
//! Like TLC's, these counterexamples are not necessarily the shortest.

use std::sync::atomic::{AtomicBool, Ordering};


use super::{fingerprint, Counterexample, Fingerprint};
use crate::model::{Explorable, Fairness, Verdict};

pub enum Result<M: Explorable> {
    Holds,
    Violated(Counterexample<M>),
    Interrupted,
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
    /// Successors not yet followed, as (action, state, fingerprint).
    pending: Vec<(M::Action, M::State, Fingerprint)>,
}

pub fn check<M: Explorable>(
    model: &M,
    judge: fn(&M, &M::State) -> Verdict,
    fairness: Fairness,
    stop: &AtomicBool,
) -> Result<M> {
    let holds = |s: &M::State| judge(model, s).is_ok();
    let mut inits = model.init_states();
    inits.sort_by_key(fingerprint);
    if fairness == Fairness::None {
        return match inits.into_iter().find(|s| !holds(s)) {
            None => Result::Holds,
            Some(s) => {
                let violation = judge(model, &s).expect_err("P is false here");
                Result::Violated(Counterexample {
                    path: vec![(None, s)],
                    loop_index: Some(0),
                    violation: violation
                        .with("why", "without fairness the behaviour may stutter in its first state forever"),
                })
            }
        };
    }
    let mut marks: hashbrown::HashMap<Fingerprint, Mark> = hashbrown::HashMap::new();
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
        // Follow successors in a fixed order so the lasso found is the same in every run.
        next.sort_by_key(|(_, _, f)| std::cmp::Reverse(*f));
        next
    };
    let mut steps: u64 = 0;
    for init in inits {
        let fp = fingerprint(&init);
        if holds(&init) || marks.contains_key(&fp) {
            continue;
        }
        let pending = successors(&init, fp);
        let mut stack: Vec<Frame<M>> = vec![Frame { action: None, state: init, fp, pending }];
        marks.insert(fp, Mark::OnStack(0));
        if stack[0].pending.is_empty() {
            return Result::Violated(lasso(model, judge, stack, None));
        }
        while let Some(top) = stack.last_mut() {
            steps += 1;
            if steps % 4096 == 0 && stop.load(Ordering::Relaxed) {
                return Result::Interrupted;
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
            let depth = stack.len();
            marks.insert(nfp, Mark::OnStack(depth));
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
    judge: fn(&M, &M::State) -> Verdict,
    stack: Vec<Frame<M>>,
    loop_to: Option<usize>,
) -> Counterexample<M> {
    let last = stack.len() - 1;
    let why = match loop_to {
        Some(at) => format!("the behaviour cycles from state {} back to state {} without reaching it", last, at),
        None => format!("state {last} has no step that changes the state, so the behaviour stutters there forever"),
    };
    let violation = judge(model, &stack[last].state)
        .expect_err("every state on the stack falsifies P")
        .with("why", why);
    Counterexample {
        path: stack.into_iter().map(|f| (f.action, f.state)).collect(),
        loop_index: Some(loop_to.unwrap_or(last)),
        violation,
    }
}
