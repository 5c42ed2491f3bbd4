//! What a model must provide to be checked, shown and replayed.
//!
//! A model is a [`stateright::Model`] — so stateright's own checkers and
//! explorer work on it unchanged — plus [`SpecModel`]: the TLA+ module it
//! implements, how it is built from a config's constants, its properties as
//! named functions returning [`Verdict`]s with evidence, and how its states and
//! actions are written to and read from ITF trace files.

use std::borrow::Cow;
use std::fmt::Debug;
use std::hash::Hash;

use crate::error::Result;
use crate::spec::Constants;

/// Why a property does not hold in a state: a headline and labelled evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Static where it can be: judging a state should not allocate to say no.
    pub headline: Cow<'static, str>,
    pub evidence: Vec<(String, String)>,
}

impl Violation {
    pub fn new(headline: impl Into<Cow<'static, str>>) -> Violation {
        Violation { headline: headline.into(), evidence: Vec::new() }
    }

    pub fn with(mut self, label: impl Into<String>, value: impl Into<String>) -> Violation {
        self.evidence.push((label.into(), value.into()));
        self
    }

    /// Adds a (label, value) pair of evidence.
    pub fn with_named(self, (label, value): (String, String)) -> Violation {
        self.with(label, value)
    }
}

/// The outcome of judging one state.
pub type Verdict = std::result::Result<(), Violation>;

/// Turns "every x satisfies p" into a verdict: the first x that does not.
pub fn all<T>(items: impl IntoIterator<Item = T>, mut judge: impl FnMut(T) -> Verdict) -> Verdict {
    items.into_iter().try_for_each(&mut judge)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropertyKind {
    /// `[]P`: P holds in every reachable state.
    Invariant,
    /// `<>P`: every behaviour reaches a state where P holds, under the
    /// fairness of the behaviour spec the config names.
    Eventually,
}

/// A property as the model defines it. For [`PropertyKind::Eventually`],
/// `judge` is the state predicate P of `<>P`.
pub struct PropertyDef<M: SpecModel> {
    pub name: &'static str,
    pub kind: PropertyKind,
    pub judge: fn(&M, &M::State) -> Verdict,
}

/// The fairness a behaviour spec asserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fairness {
    /// `Init /\ [][Next]_vars`: a behaviour may stop (stutter) anywhere.
    None,
    /// `... /\ WF_vars(Next)`: a behaviour stops only where Next is disabled.
    WeakNext,
}

/// A behaviour spec a config can name: `SPECIFICATION name`, or `INIT init`
/// with `NEXT next`.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    Specification { name: &'static str, fairness: Fairness },
    InitNext { init: &'static str, next: &'static str },
}

/// What the checker needs: a stateright model whose states can be hashed,
/// compared and shared between threads.
pub trait Explorable:
    stateright::Model<
        State: Clone + Debug + Hash + Eq + Send + Sync,
        Action: Clone + Debug + Send + Sync,
    > + Sync
{
}

impl<M> Explorable for M where
    M: stateright::Model<
            State: Clone + Debug + Hash + Eq + Send + Sync,
            Action: Clone + Debug + Send + Sync,
        > + Sync
{
}

pub trait SpecModel: Explorable + Send + Sized + 'static {
    /// The TLA+ module this model implements.
    const MODULE: &'static str;
    /// The spec's VARIABLES, in declaration order; each is one ITF variable.
    const VARIABLES: &'static [&'static str];
    /// The spec's CONSTANTS, in declaration order.
    const CONSTANTS: &'static [&'static str];

    /// Builds the model from a config's constants, checking their types and
    /// consistency; errors point at the config line.
    fn from_constants(constants: &Constants) -> Result<Self>;

    /// The behaviour specs this model implements.
    fn behaviours() -> Vec<Behaviour>;

    /// Every property, by the name it has in the `.tla` and the `.cfg`.
    fn property_defs() -> Vec<PropertyDef<Self>>;

    /// Whether [`SpecModel::rank`] is a rank that every real step (one that
    /// changes the state) strictly increases. Liveness is then checked by a
    /// parallel search; the checker verifies the claim on every step it takes
    /// and falls back to a sequential search where it fails.
    const RANKED: bool = false;

    /// See [`SpecModel::RANKED`].
    fn rank(&self, _state: &Self::State) -> u64 {
        0
    }

    /// A stable, readable label for an action, such as `Deliver(m=2)`. Trace
    /// files record labels, not positions, so they replay after the order of
    /// `actions()` changes.
    fn label(&self, action: &Self::Action) -> String;

    /// The state as ITF values, one per variable of [`SpecModel::VARIABLES`].
    fn encode(&self, state: &Self::State) -> serde_json::Map<String, serde_json::Value>;

    /// The state from an ITF state object; the error says what did not fit.
    fn decode(&self, state: &serde_json::Value) -> std::result::Result<Self::State, String>;

    /// A Mermaid sequence diagram of a path, ending with the violation.
    fn mermaid(
        &self,
        path: &[(Option<Self::Action>, Self::State)],
        violation: Option<(&str, &Violation)>,
    ) -> String;
}
