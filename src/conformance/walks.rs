//! Model-based conformance: random walks of the trace-context model, each run
//! on every SDK, with every divergence shrunk to a minimal walk.
//!
//! A walk is a list of choices: at each state the walk takes the enabled
//! action the next choice picks (modulo how many are enabled), so any list is
//! a valid walk and proptest's shrinking (drop choices, lower them) yields
//! shorter, simpler walks that are still walks. A second number picks which
//! member of a corrupt header's concrete family is sent.
//!
//! Committed counterexamples seed walks too: [`choices_of`] turns a trace's
//! actions back into choices, and [`neighbour`] perturbs them — a step
//! inserted, dropped or swapped, a header corrupted differently — so a
//! counterexample is the seed of a family of cases.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::corpus::{Expected, Layer};
use super::trace_context::replay;
use super::{Report, Verdict};
use crate::error::Result;
use crate::model::SpecModel;
use crate::models::trace_context::{Action, State, TraceContext};
use crate::sut::sdk::Sdk;
use stateright::Model;

/// A walk: choices among enabled actions, and the header-variant pick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walk {
    pub choices: Vec<u16>,
    pub variant: u8,
}

/// The path a walk takes through the model.
pub fn path_of(model: &TraceContext, walk: &Walk) -> Vec<(Option<Action>, State)> {
    let mut path = vec![(None, model.init_states().remove(0))];
    let mut actions = Vec::new();
    for &choice in &walk.choices {
        let state = &path.last().expect("non-empty").1;
        actions.clear();
        model.actions(state, &mut actions);
        if actions.is_empty() {
            break;
        }
        let action = actions.swap_remove(choice as usize % actions.len());
        let next = model.next_state(state, action.clone()).expect("an enabled action has a successor");
        path.push((Some(action), next));
    }
    path
}

/// The choices that make a walk follow `labels` (a trace's actions), or
/// `None` if some label is not enabled where the trace takes it.
pub fn choices_of(model: &TraceContext, labels: &[String]) -> Option<Vec<u16>> {
    let mut state = model.init_states().remove(0);
    let mut choices = Vec::new();
    let mut actions = Vec::new();
    for label in labels {
        actions.clear();
        model.actions(&state, &mut actions);
        // `path_of` picks with swap_remove, which takes index i in place.
        let i = actions.iter().position(|a| &model.label(a) == label)?;
        choices.push(i as u16);
        state = model.next_state(&state, actions[i].clone())?;
    }
    Some(choices)
}

pub fn strategy(max_len: usize) -> impl Strategy<Value = Walk> {
    (proptest::collection::vec(any::<u16>(), 1..=max_len), any::<u8>()).prop_map(|(choices, variant)| Walk { choices, variant })
}

/// A walk near `base`: one step inserted, dropped or swapped with the next,
/// or the header variant changed.
pub fn neighbour(base: Walk) -> impl Strategy<Value = Walk> {
    let len = base.choices.len().max(1);
    (0..4u8, 0..len, any::<u16>(), any::<u8>()).prop_map(move |(op, at, value, variant)| {
        let mut w = base.clone();
        match op {
            0 => w.choices.insert(at.min(w.choices.len()), value),
            1 if !w.choices.is_empty() => {
                w.choices.remove(at.min(w.choices.len() - 1));
            }
            2 if w.choices.len() > 1 => {
                let i = at.min(w.choices.len() - 2);
                w.choices.swap(i, i + 1);
            }
            _ => w.variant = variant,
        }
        w
    })
}

/// One SDK under test.
pub struct Subject {
    pub name: String,
    pub sdk: Box<dyn Sdk>,
}

/// One walk's verdict on every SDK.
#[derive(Clone, Debug)]
pub struct Case {
    pub index: usize,
    pub steps: usize,
    pub verdicts: Vec<(String, Verdict)>,
}

/// A divergence of one SDK, with the minimal walk that still shows it.
#[derive(Clone, Debug)]
pub struct Finding {
    pub sut: String,
    pub class: String,
    /// Where it lives: over HTTP, `propagator` when the minimal walk shows
    /// the same class through the SDK's propagator API too.
    pub layer: Layer,
    pub expected: bool,
    /// How many cases showed this (sut, class).
    pub cases: usize,
    pub minimal: Walk,
    pub path: Vec<(Option<Action>, State)>,
    pub report: Report,
}

pub struct Outcome {
    pub cases: Vec<Case>,
    pub findings: Vec<Finding>,
}

fn run_one(model: &TraceContext, walk: &Walk, subject: &mut Subject) -> Result<(Vec<(Option<Action>, State)>, Report)> {
    let path = path_of(model, walk);
    subject.sdk.reset()?;
    let report = replay(model, &path, subject.sdk.as_mut(), &subject.name, None, walk.variant as usize)?;
    Ok((path, report))
}

fn class_of(report: &Report) -> Option<&str> {
    match &report.verdict {
        Verdict::Diverged(d) => Some(d.class.as_str()),
        _ => None,
    }
}

/// Shrinks `tree` while `subject` still diverges with `class`.
fn shrink(
    model: &TraceContext,
    tree: &mut impl ValueTree<Value = Walk>,
    subject: &mut Subject,
    class: &str,
) -> Result<(Walk, Vec<(Option<Action>, State)>, Report)> {
    let mut best = tree.current();
    let (mut path, mut report) = run_one(model, &best, subject)?;
    let mut budget = 2000;
    while budget > 0 && tree.simplify() {
        budget -= 1;
        let candidate = tree.current();
        let (p, r) = run_one(model, &candidate, subject)?;
        if class_of(&r) == Some(class) {
            best = candidate;
            path = p;
            report = r;
        } else if !tree.complicate() {
            break;
        }
    }
    Ok((best, path, report))
}

/// Runs `cases` random walks (from `seed`) of at most `max_len` steps on every
/// subject. `expected(sut, class)` says which divergences are accepted and
/// understood; each (sut, class) is shrunk once, from the first case showing it.
pub fn run(
    model: &TraceContext,
    subjects: &mut [Subject],
    cases: usize,
    seed: u64,
    max_len: usize,
    expected: Expected,
) -> Result<Outcome> {
    let strategy = strategy(max_len);
    // Each case draws from its own seed, so a case can be regenerated alone,
    // to shrink it or to rerun it.
    let tree_for = |index: usize| {
        let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed_for(seed, index)));
        strategy.new_tree(&mut runner).expect("walk strategies never reject")
    };
    let mut outcome = Outcome { cases: Vec::new(), findings: Vec::new() };
    for index in 0..cases {
        let walk = tree_for(index).current();
        let mut verdicts = Vec::new();
        let mut steps = 0;
        for subject in subjects.iter_mut() {
            let (path, report) = run_one(model, &walk, subject)?;
            steps = path.len() - 1;
            if let Some(class) = class_of(&report) {
                match outcome.findings.iter_mut().find(|f| f.sut == subject.name && f.class == class) {
                    Some(f) => f.cases += 1,
                    None => {
                        let class = class.to_string();
                        let (minimal, path, report) = shrink(model, &mut tree_for(index), subject, &class)?;
                        let layer = match subject.sdk.api() {
                            Some(api) => {
                                api.reset()?;
                                let through_api = replay(model, &path, api, &subject.name, None, minimal.variant as usize)?;
                                if class_of(&through_api) == Some(class.as_str()) { Layer::Propagator } else { Layer::Http }
                            }
                            None => Layer::Propagator,
                        };
                        outcome.findings.push(Finding {
                            sut: subject.name.clone(),
                            expected: expected(&subject.name, &class, layer),
                            layer,
                            class,
                            cases: 1,
                            minimal,
                            path,
                            report,
                        });
                    }
                }
            }
            verdicts.push((subject.name.clone(), report.verdict));
        }
        outcome.cases.push(Case { index, steps, verdicts });
    }
    Ok(outcome)
}

fn seed_for(seed: u64, index: usize) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&(index as u64).to_le_bytes());
    bytes
}

/// The outcome as JUnit XML: a suite per SDK, a case per walk. A walk fails
/// when its divergence is not listed in the expectations; a listed one
/// passes with its class in the case's output. `written` holds the trace of
/// each finding, in the order of `outcome.findings`.
pub fn render_junit(
    outcome: &Outcome,
    subjects: &[(String, String)],
    written: &[crate::trace::Written],
    expected: Expected,
) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("tracewright conform");
    for (sut, version) in subjects {
        let mut suite = TestSuite::new(format!("{sut} {version}"));
        for c in &outcome.cases {
            let Some((_, verdict)) = c.verdicts.iter().find(|(s, _)| s == sut) else { continue };
            let mut out = None;
            let layer_of = |class: &str| {
                outcome.findings.iter().find(|f| f.sut == *sut && f.class == class).map_or(Layer::Propagator, |f| f.layer)
            };
            let status = match verdict {
                Verdict::Diverged(d) if !expected(sut, &d.class, layer_of(&d.class)) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(format!("new divergence: {}", d.class));
                    let trace = outcome
                        .findings
                        .iter()
                        .zip(written)
                        .find(|(f, _)| f.sut == *sut && f.class == d.class)
                        .map(|(_, w)| format!("\nminimal walk: {}", w.path().display()))
                        .unwrap_or_default();
                    s.set_description(format!("{d}{trace}"));
                    s
                }
                Verdict::Diverged(d) => {
                    out = Some(format!("expected divergence {}: {d}", d.class));
                    TestCaseStatus::success()
                }
                _ => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(format!("walk {} ({} steps)", c.index, c.steps), status);
            case.set_classname(format!("conform.walks.{sut}"));
            if let Some(out) = out {
                case.set_system_out(out);
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("JUnit XML serializes")
}
