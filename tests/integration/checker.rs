//! The checker on small models whose answers are known by hand: shortest
//! counterexamples, determinism across thread counts, liveness (cycles,
//! stuttering, fairness), deadlock, and bounds.

use std::sync::Arc;

use stateright::Model;
use tracewright::checker::{CheckKind, Checked, Checker, Options, Outcome, Status, StopReason};
use tracewright::model::{Fairness, Verdict, Violation};

/// A walk on a grid from (0, 0): right or up, to at most (n, n).
struct Grid {
    n: u8,
}

impl Model for Grid {
    type State = (u8, u8);
    type Action = char;
    fn init_states(&self) -> Vec<(u8, u8)> {
        vec![(0, 0)]
    }
    fn actions(&self, s: &(u8, u8), actions: &mut Vec<char>) {
        if s.0 < self.n {
            actions.push('R');
        }
        if s.1 < self.n {
            actions.push('U');
        }
    }
    fn next_state(&self, s: &(u8, u8), a: char) -> Option<(u8, u8)> {
        Some(if a == 'R' { (s.0 + 1, s.1) } else { (s.0, s.1 + 1) })
    }
}

fn below_corner(_: &Grid, s: &(u8, u8)) -> Verdict {
    if *s == (3, 3) { Err(Violation::new("reached (3, 3)")) } else { Ok(()) }
}

fn anywhere(_: &Grid, _: &(u8, u8)) -> Verdict {
    Ok(())
}

fn options(threads: usize) -> Options {
    Options { threads, ..Options::default() }
}

fn run<M: tracewright::model::Explorable>(model: &M, checks: &[Checked<M>], options: Options) -> Outcome<M> {
    Checker::new(model, checks, options).run()
}

fn violated<M: tracewright::model::Explorable>(o: &Outcome<M>, i: usize) -> &tracewright::checker::Counterexample<M> {
    match &o.properties[i].status {
        Status::Violated(cx) => cx,
        _ => panic!("{} should be violated", o.properties[i].name),
    }
}

#[test]
fn counts_every_state_once_and_reports_depth_like_tlc() {
    let checks = [Checked { name: "Anywhere".into(), kind: CheckKind::Invariant(std::sync::Arc::new(anywhere)) }];
    let o = run(&Grid { n: 4 }, &checks, options(2));
    assert_eq!(o.distinct, 25);
    // Every state but the corner has a successor per enabled move, plus the initial state.
    assert_eq!(o.generated, 1 + 2 * 16 + 4 + 4);
    assert_eq!(o.depth, 9, "(0,0) to (4,4) is 9 states long");
    assert!(matches!(o.properties[0].status, Status::Holds));
}

#[test]
fn counterexample_is_shortest_and_the_same_for_any_thread_count() {
    let checks = [Checked { name: "BelowCorner".into(), kind: CheckKind::Invariant(std::sync::Arc::new(below_corner)) }];
    let one = run(&Grid { n: 5 }, &checks, options(1));
    let two = run(&Grid { n: 5 }, &checks, options(2));
    let (a, b) = (violated(&one, 0), violated(&two, 0));
    assert_eq!(a.path.len(), 7, "six moves reach (3, 3)");
    assert_eq!(a.path.last().unwrap().1, (3, 3));
    let moves = |cx: &tracewright::checker::Counterexample<Grid>| {
        cx.path.iter().filter_map(|(a, _)| *a).collect::<String>()
    };
    assert_eq!(moves(a), moves(b), "20 shortest paths exist; both runs must pick the same");
    assert_eq!(one.distinct, two.distinct);
}

#[test]
fn deadlock_is_found_where_no_action_is_enabled() {
    let checks = [Checked { name: "Deadlock".into(), kind: CheckKind::Deadlock }];
    let o = run(&Grid { n: 2 }, &checks, options(2));
    let cx = violated(&o, 0);
    assert_eq!(cx.path.last().unwrap().1, (2, 2), "the corner is the only state without a move");
    assert_eq!(cx.path.len(), 5);
}

/// A clock that counts 0, 1, ..., n-1 and wraps, or stops at the top.
struct Clock {
    n: u8,
    wraps: bool,
    /// A self-loop: a step that changes nothing, which fairness does not force.
    idle: bool,
}

impl Model for Clock {
    type State = u8;
    type Action = &'static str;
    fn init_states(&self) -> Vec<u8> {
        vec![0]
    }
    fn actions(&self, s: &u8, actions: &mut Vec<&'static str>) {
        if self.wraps || *s + 1 < self.n {
            actions.push("tick");
        }
        if self.idle {
            actions.push("idle");
        }
    }
    fn next_state(&self, s: &u8, a: &'static str) -> Option<u8> {
        Some(if a == "idle" { *s } else { (*s + 1) % self.n })
    }
}

fn reaches_two(_: &Clock, s: &u8) -> Verdict {
    if *s == 2 { Ok(()) } else { Err(Violation::new("not at 2")) }
}

fn reaches_nine(_: &Clock, s: &u8) -> Verdict {
    if *s == 9 { Ok(()) } else { Err(Violation::new("not at 9")) }
}

fn eventually(f: fn(&Clock, &u8) -> Verdict, fairness: Fairness) -> [Checked<Clock>; 1] {
    [Checked { name: "Eventually".into(), kind: CheckKind::Eventually(std::sync::Arc::new(f), fairness, None) }]
}

#[test]
fn liveness_holds_when_every_fair_behaviour_gets_there() {
    let clock = Clock { n: 4, wraps: true, idle: true };
    let o = run(&clock, &eventually(reaches_two, Fairness::WeakNext), options(2));
    assert!(matches!(o.properties[0].status, Status::Holds));
}

#[test]
fn liveness_finds_a_cycle_that_never_gets_there() {
    let clock = Clock { n: 4, wraps: true, idle: false };
    let o = run(&clock, &eventually(reaches_nine, Fairness::WeakNext), options(2));
    let cx = violated(&o, 0);
    assert_eq!(cx.path.iter().map(|(_, s)| *s).collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert_eq!(cx.loop_index, Some(0), "3 ticks back to 0");
}

#[test]
fn liveness_finds_a_state_where_only_stuttering_is_left() {
    let clock = Clock { n: 2, wraps: false, idle: true };
    let o = run(&clock, &eventually(reaches_two, Fairness::WeakNext), options(1));
    let cx = violated(&o, 0);
    assert_eq!(cx.path.last().unwrap().1, 1);
    assert_eq!(cx.loop_index, Some(cx.path.len() - 1), "the lasso loops on its last state");
}

#[test]
fn without_fairness_a_behaviour_may_stop_at_once() {
    let clock = Clock { n: 4, wraps: true, idle: false };
    let unfair = run(&clock, &eventually(reaches_two, Fairness::None), options(1));
    let cx = violated(&unfair, 0);
    // Only a behaviour that stops before 2 violates it: a stuttering lasso.
    assert_eq!(cx.loop_index, Some(cx.path.len() - 1), "it stutters at its last state");
    assert!(cx.path.iter().all(|(_, s)| *s != 2) && cx.path.len() <= 2, "{:?}", cx.path);
    let fair = run(&clock, &eventually(reaches_two, Fairness::WeakNext), options(1));
    assert!(matches!(fair.properties[0].status, Status::Holds));
}

#[test]
fn bounds_stop_exploration_and_leave_properties_unknown() {
    let checks = [Checked { name: "Anywhere".into(), kind: CheckKind::Invariant(std::sync::Arc::new(anywhere)) }];
    let o = run(&Grid { n: 50 }, &checks, Options { max_states: Some(100), ..options(2) });
    assert_eq!(o.stopped, Some(StopReason::MaxStates(100)));
    assert!(matches!(o.properties[0].status, Status::Unknown));
    let o = run(&Grid { n: 50 }, &checks, Options { max_depth: Some(3), ..options(2) });
    assert_eq!(o.stopped, Some(StopReason::MaxDepth(3)));
    assert_eq!(o.distinct, 6, "depths 1 to 3 hold 1 + 2 + 3 states");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let o = run(&Grid { n: 50 }, &checks, Options { stop, ..options(2) });
    assert_eq!(o.stopped, Some(StopReason::Interrupted));
}

#[test]
fn a_violation_found_before_a_bound_is_still_reported() {
    let checks = [Checked { name: "BelowCorner".into(), kind: CheckKind::Invariant(std::sync::Arc::new(below_corner)) }];
    let o = run(&Grid { n: 50 }, &checks, Options { max_depth: Some(8), ..options(2) });
    assert!(o.stopped.is_some());
    assert_eq!(violated(&o, 0).path.len(), 7);
}

fn value(_: &Clock, s: &u8) -> u64 {
    u64::from(*s)
}

fn flat(_: &Clock, _: &u8) -> u64 {
    0
}

#[test]
fn a_ranked_liveness_search_finds_the_shortest_stuttering_lasso() {
    let clock = Clock { n: 6, wraps: false, idle: true };
    let checks = [Checked { name: "E".into(), kind: CheckKind::Eventually(std::sync::Arc::new(reaches_nine), Fairness::WeakNext, Some(value)) }];
    let o = run(&clock, &checks, options(2));
    let cx = violated(&o, 0);
    assert_eq!(cx.path.iter().map(|(_, s)| *s).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
    assert_eq!(cx.loop_index, Some(5));
    let fine = [Checked { name: "E".into(), kind: CheckKind::Eventually(std::sync::Arc::new(reaches_two), Fairness::WeakNext, Some(value)) }];
    assert!(matches!(run(&clock, &fine, options(2)).properties[0].status, Status::Holds));
}

#[test]
fn a_false_rank_claim_is_caught_and_the_cycle_still_found() {
    // Claims every step increases a constant rank; the wrapping clock has a cycle.
    let clock = Clock { n: 4, wraps: true, idle: false };
    let checks = [Checked { name: "E".into(), kind: CheckKind::Eventually(std::sync::Arc::new(reaches_nine), Fairness::WeakNext, Some(flat)) }];
    let o = run(&clock, &checks, options(2));
    let cx = violated(&o, 0);
    assert_eq!(cx.loop_index, Some(0), "the depth-first search closes the cycle back to 0");
}

/// Whether `path` is a lasso of the model: each state a successor of the one
/// before, and the last one stepping back to `path[loop_index]` (or, with
/// the loop index on the last state, stuttering there).
fn is_lasso<M: tracewright::model::Explorable>(model: &M, cx: &tracewright::checker::Counterexample<M>) -> bool {
    let steps_to = |from: &M::State, to: &M::State| {
        let mut actions = Vec::new();
        model.actions(from, &mut actions);
        actions.into_iter().any(|a| model.next_state(from, a).as_ref() == Some(to))
    };
    let Some(back) = cx.loop_index else { return false };
    let last = cx.path.len() - 1;
    model.init_states().contains(&cx.path[0].1)
        && cx.path.windows(2).all(|w| steps_to(&w[0].1, &w[1].1))
        && back <= last
        && (back == last || steps_to(&cx.path[last].1, &cx.path[back].1))
}

/// The liveness graph is recorded by every worker of the safety search;
/// with one thread or two, and against the graph built afterwards on one
/// thread, every temporal property comes out the same, with the same lasso,
/// and each lasso is one of the spec.
#[test]
fn temporal_verdicts_and_lassos_are_the_same_for_any_thread_count_and_a_valid_lasso() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tla");
    let mut lassos = 0;
    for (module, config) in
        [("SemMutex", "SemMutex"), ("SemMutex", "SemMutex_weak"), ("SemMutex", "SemMutex_stable"), ("Queue", "Queue_lost"), ("Queue", "Queue"), ("Incr", "Incr")]
    {
        let cfg = tracewright::spec::cfg::Cfg::read(&dir.join(format!("{config}.cfg"))).expect("cfg");
        let (model, checks) = tracewright::tla::model::prepare(&dir.join(format!("{module}.tla")), &cfg, &[]).expect("loads");
        assert!(checks.iter().any(|c| matches!(c.kind, CheckKind::Temporal(..))), "{config} has a temporal property");
        let runs: Vec<Outcome<tracewright::tla::model::TlaModel>> = [(1, true), (2, true), (1, false), (2, false)]
            .into_iter()
            .map(|(threads, record_graph)| {
                let o = run(&*model, &checks, Options { record_graph, ..options(threads) });
                assert!(o.stopped.is_none() && model.take_error().is_none(), "{config}: explored completely");
                o
            })
            .collect();
        let answer = |o: &Outcome<tracewright::tla::model::TlaModel>| -> Vec<(String, Option<(Vec<tracewright::tla::model::TlaState>, Option<usize>)>)> {
            o.properties
                .iter()
                .map(|p| {
                    let cx = match &p.status {
                        Status::Holds => None,
                        Status::Violated(cx) => Some((cx.path.iter().map(|(_, s)| s.clone()).collect(), cx.loop_index)),
                        Status::Unknown => panic!("{config}: {} unknown", p.name),
                    };
                    (p.name.clone(), cx)
                })
                .collect()
        };
        let first = answer(&runs[0]);
        for (k, o) in runs.iter().enumerate().skip(1) {
            assert_eq!(answer(o), first, "{config}: run {k} differs from one thread with the recorded graph");
        }
        for (check, p) in checks.iter().zip(&runs[1].properties) {
            if let (CheckKind::Temporal(..), Status::Violated(cx)) = (&check.kind, &p.status) {
                assert!(is_lasso(&*model, cx), "{config}: {} is not a lasso of the spec", p.name);
                lassos += 1;
            }
        }
    }
    assert!(lassos >= 3, "the violated configs give lassos ({lassos})");
}
