//! A temporal property judged again on one recorded behaviour, for
//! `replay --sut model`: the counterexample a trace file holds is believed
//! only if it is one.
//!
//! A lasso `s0 … sn` with loop index `L` stands for the infinite behaviour
//! `s0 … s(L-1) (sL … sn)^ω`: its last state steps back to `sL` (with
//! `L = n`, it stutters at `sn` forever). It is a counterexample when
//!
//! 1. that closing step is a step of the spec (or a stutter);
//! 2. it meets every fairness condition of the behaviour spec: `WF_v(A)` is
//!    broken by a loop where A is enabled in every state and no loop step is
//!    an `<<A>>_v` step, `SF_v(A)` by one where A is enabled somewhere on the
//!    loop and never taken (a behaviour the spec excludes is no
//!    counterexample);
//! 3. the property is false on it: `<>Q` when no state has Q; `P ~> Q` (and
//!    `[]<>Q`, which is `TRUE ~> Q`) when no loop state has Q and some state
//!    has P with no Q from there to the end; `<>[]P` when a loop state has
//!    not P; `[]P` and `[][A]_v` when a state or a real step breaks them.
//!
//! A path without a loop is a finite counterexample: only `[]P` and
//! `[][A]_v` parts can be false on it.
//!
//! The earlier steps are the caller's to check (they are the recorded
//! actions replayed on the model).

use super::fingerprint;
use super::liveness::{Fair, Temporal};
use crate::model::{Explorable, Fairness, Violation};

/// How a recorded behaviour came out.
pub enum Judged {
    /// It is a counterexample: the property is false on it.
    Violated(Violation),
    /// It is a behaviour of the spec, but no counterexample: why.
    Satisfied(String),
    /// Its closing step is no step of the spec: what was expected and what
    /// the spec does instead.
    NotALasso { expected: String, observed: String },
}

/// The fairness conditions a Rust model's behaviour spec asserts, as the
/// graph search takes them.
pub fn fair_conditions<M: Explorable>(fairness: Fairness) -> Vec<Fair<M>> {
    match fairness {
        Fairness::None => Vec::new(),
        Fairness::WeakNext => {
            vec![Fair { strong: false, name: "WF_vars(Next)".into(), step: std::sync::Arc::new(|_: &M, _: &M::State, _: &M::State| true) }]
        }
    }
}

/// The real successors of a state (stutters left out, as in the state graph).
fn successors<M: Explorable>(model: &M, s: &M::State) -> Vec<M::State> {
    let mut actions = Vec::new();
    model.actions(s, &mut actions);
    let here = fingerprint(s);
    actions.into_iter().filter_map(|a| model.next_state(s, a)).filter(|t| fingerprint(t) != here).collect()
}

/// Judges `property` on the behaviour `states` (looping back to
/// `states[loop_index]` after its last state, or finite without a loop)
/// under the fairness conditions `fair`.
pub fn judge<M: Explorable>(model: &M, states: &[M::State], loop_index: Option<usize>, property: &Temporal<M>, fair: &[Fair<M>]) -> Judged {
    let Some(last) = states.len().checked_sub(1) else {
        return Judged::Satisfied("the trace has no state".into());
    };
    let Some(l) = loop_index else {
        return on_behaviour(model, states, None, property);
    };
    if l > last {
        return Judged::NotALasso {
            expected: format!("the loop to start at a state of the trace (0 to {last})"),
            observed: format!("loop index {l}"),
        };
    }
    let closing_is_stutter = fingerprint(&states[last]) == fingerprint(&states[l]);
    if !closing_is_stutter && !successors(model, &states[last]).iter().any(|t| fingerprint(t) == fingerprint(&states[l])) {
        return Judged::NotALasso {
            expected: format!("state {last}, the loop's last, to step back to state {l}"),
            observed: format!("no step of the spec leads from state {last} to state {l}"),
        };
    }
    // The loop's steps, the closing one included; a stutter is none.
    let mut steps: Vec<(usize, usize)> = (l..last).map(|i| (i, i + 1)).collect();
    if !closing_is_stutter {
        steps.push((last, l));
    }
    steps.retain(|&(i, j)| fingerprint(&states[i]) != fingerprint(&states[j]));
    for f in fair {
        let taken = steps.iter().any(|&(i, j)| (f.step)(model, &states[i], &states[j]));
        if taken {
            continue;
        }
        let enabled: Vec<bool> =
            (l..=last).map(|i| successors(model, &states[i]).iter().any(|t| (f.step)(model, &states[i], t))).collect();
        let kind = if f.strong { "strong" } else { "weak" };
        if f.strong && enabled.iter().any(|&e| e) {
            let at = l + enabled.iter().position(|&e| e).expect("some");
            return Judged::Satisfied(format!(
                "the lasso is not fair: {} ({kind} fairness) is enabled at state {at} of the loop (states {l} to {last}) and never taken, so the spec excludes this behaviour",
                f.name
            ));
        }
        if !f.strong && enabled.iter().all(|&e| e) {
            return Judged::Satisfied(format!(
                "the lasso is not fair: {} ({kind} fairness) is enabled in every state of the loop (states {l} to {last}) and never taken, so the spec excludes this behaviour",
                f.name
            ));
        }
    }
    on_behaviour(model, states, Some(l), property)
}

/// The property on a behaviour the spec allows.
fn on_behaviour<M: Explorable>(model: &M, states: &[M::State], loop_index: Option<usize>, property: &Temporal<M>) -> Judged {
    let last = states.len() - 1;
    let no_loop = || Judged::Satisfied("a liveness property is false only on an infinite behaviour, and the trace has no loop".into());
    match property {
        Temporal::Each(parts) => {
            let mut why = Vec::new();
            for p in parts {
                match on_behaviour(model, states, loop_index, p) {
                    Judged::Satisfied(w) => why.push(w),
                    other => return other,
                }
            }
            Judged::Satisfied(why.join("; "))
        }
        Temporal::Invariant(p) => match states.iter().enumerate().find_map(|(k, s)| p(model, s).err().map(|v| (k, v))) {
            Some((k, v)) => Judged::Violated(v.with("at", format!("state {k}"))),
            None => Judged::Satisfied("the invariant part holds in every state".into()),
        },
        Temporal::ActionAlways(step) => {
            let mut pairs: Vec<(usize, usize)> = (0..last).map(|i| (i, i + 1)).collect();
            pairs.extend(loop_index.map(|l| (last, l)));
            let real = |&(i, j): &(usize, usize)| fingerprint(&states[i]) != fingerprint(&states[j]);
            match pairs.iter().filter(|p| real(p)).find(|&&(i, j)| !step(model, &states[i], &states[j])) {
                Some(&(i, j)) => Judged::Violated(
                    Violation::new("a step violates the action property").with("step", format!("from state {i} to state {j}")),
                ),
                None => Judged::Satisfied("every step satisfies the action property".into()),
            }
        }
        Temporal::LeadsTo(from, to) => {
            let Some(l) = loop_index else { return no_loop() };
            let q: Vec<bool> = states.iter().map(|s| to(model, s).is_ok()).collect();
            match from {
                None => match q.iter().position(|&x| x) {
                    Some(k) => Judged::Satisfied(format!("it holds at state {k}")),
                    None => Judged::Violated(to(model, &states[l]).expect_err("Q is false here").with(
                        "why",
                        format!("no state of the lasso has it, and the behaviour loops from state {last} back to state {l} forever"),
                    )),
                },
                Some(p) => {
                    if let Some(k) = (l..=last).find(|&k| q[k]) {
                        return Judged::Satisfied(format!("the right side of ~> holds at state {k}, on the loop, so it recurs forever"));
                    }
                    // No Q on the loop: a P state with no Q from it to the end is never answered.
                    let unanswered = (0..=last).find(|&i| p(model, &states[i]).is_ok() && !q[i..].iter().any(|&x| x));
                    match unanswered {
                        Some(i) => Judged::Violated(to(model, &states[i]).expect_err("Q is false here").with(
                            "why",
                            format!("after state {i} (where the left side of ~> holds) no state has the right side; the behaviour loops from state {last} back to state {l} forever"),
                        )),
                        None => Judged::Satisfied("every state with the left side of ~> is followed by one with the right side".into()),
                    }
                }
            }
        }
        Temporal::Initially(p) => match p(model, &states[0]) {
            Err(v) => Judged::Violated(v.with("at", "state 0")),
            Ok(()) => Judged::Satisfied("the initial state satisfies it".into()),
        },
        Temporal::Fairness { strong, name, enabled, step } => {
            let Some(l) = loop_index else { return no_loop() };
            // A step of the loop (the closing one too) that is an <<A>>_v step.
            let mut pairs: Vec<(usize, usize)> = (l..last).map(|i| (i, i + 1)).collect();
            pairs.push((last, l));
            if let Some(&(i, j)) = pairs.iter().find(|&&(i, j)| step(model, &states[i], &states[j])) {
                return Judged::Satisfied(format!("the loop takes the action (from state {i} to state {j})"));
            }
            let en: Vec<bool> = (l..=last).map(|k| enabled(model, &states[k])).collect();
            let violated = if *strong { en.iter().any(|&e| e) } else { en.iter().all(|&e| e) };
            if violated {
                Judged::Violated(Violation::new(format!("{name} is violated")).with(
                    "why",
                    format!("the action is enabled {} of the loop (states {l} to {last}) and never taken", if *strong { "in a state" } else { "in every state" }),
                ))
            } else {
                Judged::Satisfied(format!("the action is not enabled {} of the loop", if *strong { "in any state" } else { "in every state" }))
            }
        }
        Temporal::EventuallyAlways(p) => {
            let Some(l) = loop_index else { return no_loop() };
            match (l..=last).find_map(|k| p(model, &states[k]).err().map(|v| (k, v))) {
                Some((k, v)) => Judged::Violated(v.with(
                    "why",
                    format!("state {k} is on the loop (states {l} to {last}), so P is false infinitely often and []P never starts to hold"),
                )),
                None => Judged::Satisfied(format!("it holds in every state of the loop (states {l} to {last})")),
            }
        }
    }
}
