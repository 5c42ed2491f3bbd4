//! An interpreted spec as a [`stateright::Model`], so the parallel checker
//! explores it as it explores a hand-written model.
//!
//! Successors are computed once, in `actions`: each action carries the state
//! it leads to and the path (operators, bound values) that made it, from
//! which its label is written. Evaluation errors cannot be returned through
//! stateright's interface: the first one is kept, the run is stopped, and the
//! caller turns it into an exit-2 error with its position.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::ast::{Expr, Kind};
use super::eval::{Ctx, EvalError, Memo, Trail};
use crate::checker::liveness::{Fair, Temporal};
use super::value::Value;
use super::Program;
use crate::checker::{CheckKind, Checked};
use crate::error::{Diagnostic, Error, Location, Result};
use crate::model::{Fairness, Verdict, Violation};
use crate::spec::cfg::{Cfg, DEADLOCK};

/// A state: the values of the spec's variables, in declaration order, and,
/// under a VIEW or SYMMETRY, the key by which it is stored: states with equal
/// keys are one state (the view, and the least of the state's or view's
/// images under the permutations).
#[derive(Clone)]
pub struct TlaState(pub Arc<[Value]>, Option<Arc<Value>>);

impl PartialEq for TlaState {
    fn eq(&self, other: &Self) -> bool {
        match (&self.1, &other.1) {
            (Some(a), Some(b)) => a == b,
            _ => self.0 == other.0,
        }
    }
}
impl Eq for TlaState {}
impl std::hash::Hash for TlaState {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match &self.1 {
            Some(k) => k.hash(h),
            None => self.0.hash(h),
        }
    }
}

impl std::fmt::Debug for TlaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

/// A step: where it leads and how it was generated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TlaAction {
    pub next: TlaState,
    pub trail: Arc<[Trail]>,
    /// The step leaves the model (a CONSTRAINT or ACTION_CONSTRAINT is
    /// false): TLC counts it as generated but neither stores nor expands it.
    pub pruned: bool,
}

/// A pointer into the program's syntax tree, which the model keeps alive.
#[derive(Clone, Copy)]
struct ExprRef(*const Expr);

// SAFETY: the pointee is owned by the `Arc<Program>` the model holds and is
// never mutated after loading.
unsafe impl Send for ExprRef {}
unsafe impl Sync for ExprRef {}

impl ExprRef {
    fn get(&self) -> &Expr {
        // SAFETY: see above; callers hold the model, which holds the program.
        unsafe { &*self.0 }
    }
}

pub struct TlaModel {
    pub prog: Arc<Program>,
    init: ExprRef,
    next: ExprRef,
    pub fairness: Fairness,
    constraints: Vec<ExprRef>,
    action_constraints: Vec<ExprRef>,
    view: Option<ExprRef>,
    alias: Option<ExprRef>,
    /// SYMMETRY: each permutation as (model value, image) pairs, sorted.
    perms: Vec<Vec<(Value, Value)>>,
    error: Mutex<Option<EvalError>>,
    stop: Mutex<Option<Arc<AtomicBool>>>,
}

impl TlaModel {
    fn expr(&self, r: ExprRef) -> &Expr {
        // SAFETY: see ExprRef.
        unsafe { &*r.0 }
    }

    /// Records an evaluation error (the first, by position, wins) and stops
    /// the run.
    fn failed(&self, e: Box<EvalError>) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        let better = match &*slot {
            None => true,
            Some(old) => (e.pos.file, e.pos.line, e.pos.col, &e.msg) < (old.pos.file, old.pos.line, old.pos.col, &old.msg),
        };
        if better {
            *slot = Some(*e);
        }
        if let Some(stop) = &*self.stop.lock().unwrap_or_else(|p| p.into_inner()) {
            stop.store(true, Ordering::Relaxed);
        }
    }

    /// Whether states with different values may be stored as one (a VIEW or
    /// a SYMMETRY gives them one key).
    pub fn merges_states(&self) -> bool {
        self.view.is_some() || !self.perms.is_empty()
    }

    /// The flag a run polls; an evaluation error sets it.
    pub fn stop_with(&self, flag: Arc<AtomicBool>) {
        *self.stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(flag);
    }

    /// The evaluation error that stopped the run, as an exit-2 error.
    pub fn take_error(&self) -> Option<Error> {
        let e = self.error.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        Some(self.prog.error_at(e.pos, &format!("evaluation error: {}", e.msg)))
    }

    /// The label of an action: the innermost operator of Next it went
    /// through, with the values bound on the way, e.g. `Deliver(m=2)`.
    pub fn label_of(&self, trail: &[Trail]) -> String {
        let op = trail.iter().rev().find_map(|t| match t {
            Trail::Op(d) => Some(self.prog.defs[*d as usize].name.to_string()),
            _ => None,
        });
        let mut binds: Vec<(&str, &Value)> = Vec::new();
        for t in trail {
            if let Trail::Bind(n, v) = t {
                match binds.iter_mut().find(|(m, _)| *m == &**n) {
                    Some(slot) => slot.1 = v,
                    None => binds.push((n, v)),
                }
            }
        }
        let mut label = op.unwrap_or_else(|| "Next".to_string());
        if !binds.is_empty() {
            let args: Vec<String> = binds.iter().map(|(n, v)| format!("{n}={v}")).collect();
            label.push('(');
            label.push_str(&args.join(", "));
            label.push(')');
        }
        label
    }

    /// Evaluates a state predicate; an error is recorded and reads as true.
    pub fn holds(&self, e: &Expr, state: &TlaState) -> bool {
        self.holds_with(e, state, &[])
    }

    /// A state as ITF: its variables and, under an ALIAS, the alias
    /// record's fields beside them (a field named as a variable is left to
    /// the variable, so the trace still replays).
    pub fn encode(&self, state: &TlaState) -> serde_json::Map<String, serde_json::Value> {
        let mut out: serde_json::Map<String, serde_json::Value> =
            self.prog.vars.iter().zip(state.0.iter()).map(|(n, v)| (n.to_string(), v.to_itf())).collect();
        if let Some(alias) = self.alias {
            let mut ctx = Ctx::new(&self.prog, &state.0);
            match ctx.eval(alias.get()) {
                Ok(Value::Rec(fields)) => {
                    for (k, v) in fields.iter() {
                        out.entry(k.to_string()).or_insert_with(|| v.to_itf());
                    }
                }
                Ok(other) => self.failed(Box::new(EvalError {
                    pos: alias.get().pos,
                    msg: format!("ALIAS must be a record, not {}", other.kind()),
                })),
                Err(e) => self.failed(e),
            }
        }
        out
    }

    /// A state with its storage key (VIEW, SYMMETRY), and whether it
    /// satisfies the state constraints.
    fn seal(&self, vals: Vec<Value>) -> (TlaState, bool) {
        let vals: Arc<[Value]> = vals.into();
        if self.constraints.is_empty() && self.view.is_none() && self.perms.is_empty() {
            return (TlaState(vals, None), true);
        }
        let mut ctx = Ctx::new(&self.prog, &vals);
        let mut in_model = true;
        for c in &self.constraints {
            match ctx.eval_bool(c.get()) {
                Ok(b) => in_model &= b,
                Err(e) => self.failed(e),
            }
        }
        let key = if self.view.is_none() && self.perms.is_empty() {
            None
        } else {
            let base = match self.view {
                Some(v) => match ctx.eval(v.get()) {
                    Ok(x) => x,
                    Err(e) => {
                        self.failed(e);
                        Value::Bool(false)
                    }
                },
                None => Value::Seq(Arc::new(vals.to_vec())),
            };
            let least = self.perms.iter().map(|p| permute(&base, p)).min().unwrap_or(base);
            Some(Arc::new(least))
        };
        (TlaState(vals, key), in_model)
    }

    /// Whether a step satisfies the action constraints.
    fn step_allowed(&self, from: &TlaState, to: &TlaState) -> bool {
        self.action_constraints.iter().all(|c| {
            let mut ctx = Ctx::new(&self.prog, &from.0);
            match ctx.eval_step(c.get(), &to.0, &[]) {
                Ok(b) => b,
                Err(e) => {
                    self.failed(e);
                    true
                }
            }
        })
    }

    pub fn decode(&self, json: &serde_json::Value) -> std::result::Result<TlaState, String> {
        let obj = json.as_object().ok_or("a state is an object")?;
        let mut vals = Vec::new();
        for n in &self.prog.vars {
            let v = obj.get(&**n).ok_or_else(|| format!("variable {n} is missing"))?;
            vals.push(Value::from_itf(v)?);
        }
        Ok(self.seal(vals).0)
    }
}

impl stateright::Model for TlaModel {
    type State = TlaState;
    type Action = TlaAction;

    fn init_states(&self) -> Vec<TlaState> {
        let empty: [Value; 0] = [];
        let mut ctx = Ctx::new(&self.prog, &empty);
        if let Err(e) = ctx.init_states(self.expr(self.init)) {
            self.failed(e);
            return Vec::new();
        }
        let out = std::mem::take(&mut ctx.out);
        out.into_iter().map(|g| self.seal(g.state)).filter(|(_, in_model)| *in_model).map(|(s, _)| s).collect()
    }

    fn actions(&self, state: &TlaState, actions: &mut Vec<TlaAction>) {
        let mut ctx = Ctx::new(&self.prog, &state.0);
        if let Err(e) = ctx.successors(self.expr(self.next)) {
            self.failed(e);
            return;
        }
        let out = std::mem::take(&mut ctx.out);
        actions.extend(out.into_iter().map(|g| {
            let (next, in_model) = self.seal(g.state);
            let pruned = !in_model || !self.step_allowed(state, &next);
            TlaAction { next, trail: g.trail.into(), pruned }
        }));
    }

    fn next_state(&self, _: &TlaState, action: TlaAction) -> Option<TlaState> {
        (!action.pruned).then_some(action.next)
    }
}

/// Loads a spec for a config: the model, and the checks the config lists.
pub fn prepare(tla: &Path, cfg: &Cfg, libs: &[std::path::PathBuf]) -> Result<(Arc<TlaModel>, Vec<Checked<TlaModel>>)> {
    let prog = Arc::new(super::load(tla, cfg, libs)?);
    let at = |line: usize| Location::at(&cfg.path, line);
    let def_body = |name: &str, line: usize| -> Result<&Expr> {
        let d = prog.def(name).ok_or_else(|| {
            Error::Spec(Diagnostic::new(at(line), format!("unknown name `{name}`: module {} does not define it", prog.module)))
        })?;
        let def = &prog.defs[d as usize];
        if !def.params.is_empty() {
            return Err(Error::Spec(Diagnostic::new(at(line), format!("`{name}` takes arguments; the config can only name a formula"))));
        }
        def.body.as_ref().ok_or_else(|| Error::Spec(Diagnostic::new(at(line), format!("`{name}` has no body"))))
    };
    let (init, next, fair): (&Expr, &Expr, Vec<FairSpec>) = match (&cfg.specification, &cfg.init, &cfg.next) {
        (Some(spec), _, _) => {
            let body = def_body(&spec.name, spec.line)?;
            behaviour(&prog, body).map_err(|(pos, m)| prog.error_at(pos, &m))?
        }
        (None, Some(i), Some(n)) => (def_body(&i.name, i.line)?, def_body(&n.name, n.line)?, Vec::new()),
        _ => {
            return Err(Error::Spec(
                Diagnostic::new(Location::file(&cfg.path), "the config names no behaviour")
                    .hint("add SPECIFICATION Spec, or INIT Init and NEXT Next"),
            ))
        }
    };
    let fairness = if fair.is_empty() { Fairness::None } else { Fairness::WeakNext };
    let state_pred = |name: &crate::spec::cfg::Named, what: &str| -> Result<ExprRef> {
        let body = def_body(&name.name, name.line)?;
        if super::visit_any(body, &|k| matches!(k, Kind::Always(_) | Kind::Eventually(_) | Kind::LeadsTo(..) | Kind::Fair { .. })) {
            return Err(Error::Spec(Diagnostic::new(at(name.line), format!("`{}` is temporal; {what} must not be", name.name))));
        }
        Ok(ExprRef(body))
    };
    let mut constraints = Vec::new();
    for c in &cfg.constraints {
        let e = state_pred(c, "a CONSTRAINT")?;
        if prog.def(&c.name).is_some_and(|d| prog.defs[d as usize].action_level) {
            return Err(Error::Spec(Diagnostic::new(at(c.line), format!("`{}` reads the next state; list it under ACTION_CONSTRAINTS", c.name))));
        }
        constraints.push(e);
    }
    let action_constraints = cfg.action_constraints.iter().map(|c| state_pred(c, "an ACTION_CONSTRAINT")).collect::<Result<Vec<_>>>()?;
    let view = cfg.view.as_ref().map(|v| state_pred(v, "a VIEW")).transpose()?;
    let alias = cfg.alias.as_ref().map(|v| state_pred(v, "an ALIAS")).transpose()?;
    let perms = match &cfg.symmetry {
        None => Vec::new(),
        Some(sym) => {
            let body = state_pred(sym, "SYMMETRY")?;
            let empty: [Value; 0] = [];
            let mut ctx = Ctx::new(&prog, &empty);
            let set = ctx.eval(body.get()).map_err(|e| prog.error_at(e.pos, &e.msg))?;
            let items = set.elements().map_err(|m| prog.error_at(body.get().pos, &m))?;
            let mut perms = Vec::new();
            for p in items.iter() {
                let pairs = p.fun_pairs().filter(|ps| ps.iter().all(|(k, v)| matches!((k, v), (Value::Model(_), Value::Model(_)))));
                let Some(pairs) = pairs else {
                    return Err(Error::Spec(
                        Diagnostic::new(at(sym.line), format!("SYMMETRY {}: {p} is not a permutation of model values", sym.name))
                            .hint("SYMMETRY takes Permutations(S) of a set S of model values, or a union of them"),
                    ));
                };
                perms.push(pairs);
            }
            group_of(perms)
        }
    };
    let fair: Arc<[Fair<TlaModel>]> = fair.into_iter().map(|f| f.into_fair(&prog, next)).collect();
    let model = Arc::new(TlaModel {
        prog: prog.clone(),
        init: ExprRef(init),
        next: ExprRef(next),
        fairness,
        constraints,
        action_constraints,
        view,
        alias,
        perms,
        error: Mutex::new(None),
        stop: Mutex::new(None),
    });
    let mut checks = Vec::new();
    for named in &cfg.invariants {
        let body = def_body(&named.name, named.line)?;
        if super::visit_any(body, &|k| matches!(k, Kind::Prime(_) | Kind::PrimeExpr(_) | Kind::Always(_) | Kind::Eventually(_))) {
            return Err(Error::Spec(
                Diagnostic::new(at(named.line), format!("`{}` is not a state predicate", named.name)).hint("list temporal formulas under PROPERTIES"),
            ));
        }
        checks.push(Checked { name: named.name.clone(), kind: CheckKind::Invariant(judge(&prog, ExprRef(body), Vec::new(), &named.name, false)) });
    }
    for named in &cfg.properties {
        let body = def_body(&named.name, named.line)?;
        let mut parts = Vec::new();
        property(&prog, body, &named.name, &mut Vec::new(), &mut parts).map_err(|(pos, m)| prog.error_at(pos, &m))?;
        let kind = match parts.len() {
            1 => match parts.pop().expect("one part") {
                Part::Invariant(j) => CheckKind::Invariant(j),
                Part::Temporal(t) => CheckKind::Temporal(t, fair.clone()),
            },
            _ => {
                let mut all = Vec::new();
                for p in parts {
                    all.push(match p {
                        Part::Invariant(j) => Temporal::Invariant(j),
                        Part::Temporal(t) => t,
                    });
                }
                CheckKind::Temporal(Temporal::Each(all), fair.clone())
            }
        };
        checks.push(Checked { name: named.name.clone(), kind });
    }
    if cfg.check_deadlock {
        checks.push(Checked { name: DEADLOCK.to_string(), kind: CheckKind::Deadlock });
    }
    Ok((model, checks))
}

/// The group the SYMMETRY permutations generate: every composition of them,
/// each once, without fixed points (the identity is the empty list), as TLC
/// takes a set such as `Permutations(A) \cup Permutations(B)`: states equal
/// under a permutation of A and one of B at once are one state.
fn group_of(generators: Vec<Vec<(Value, Value)>>) -> Vec<Vec<(Value, Value)>> {
    let moved = |p: Vec<(Value, Value)>| -> Vec<(Value, Value)> { p.into_iter().filter(|(k, v)| k != v).collect() };
    let generators: Vec<Vec<(Value, Value)>> = generators.into_iter().map(moved).collect();
    let image = |p: &[(Value, Value)], x: &Value| match p.binary_search_by(|(k, _)| k.cmp(x)) {
        Ok(i) => p[i].1.clone(),
        Err(_) => x.clone(),
    };
    let mut seen: std::collections::BTreeSet<Vec<(Value, Value)>> = generators.iter().cloned().collect();
    let mut queue: Vec<Vec<(Value, Value)>> = seen.iter().cloned().collect();
    while let Some(p) = queue.pop() {
        for g in &generators {
            // g after p, on every value either moves.
            let mut domain: Vec<Value> = p.iter().chain(g.iter()).map(|(k, _)| k.clone()).collect();
            domain.sort();
            domain.dedup();
            let composed = moved(domain.into_iter().map(|x| { let y = image(g, &image(&p, &x)); (x, y) }).collect());
            if seen.insert(composed.clone()) {
                queue.push(composed);
            }
        }
    }
    seen.into_iter().collect()
}

/// The image of a value under a permutation of model values.
pub fn permute(v: &Value, perm: &[(Value, Value)]) -> Value {
    match v {
        Value::Model(_) => match perm.binary_search_by(|(k, _)| k.cmp(v)) {
            Ok(i) => perm[i].1.clone(),
            Err(_) => v.clone(),
        },
        Value::Set(items) => Value::set_of(items.iter().map(|x| permute(x, perm)).collect()),
        Value::Seq(items) => Value::Seq(Arc::new(items.iter().map(|x| permute(x, perm)).collect())),
        Value::Rec(fields) => Value::Rec(Arc::new(fields.iter().map(|(k, x)| (k.clone(), permute(x, perm))).collect())),
        Value::Fun(pairs) => Value::fun_of(pairs.iter().map(|(k, x)| (permute(k, perm), permute(x, perm))).collect()),
        _ => v.clone(),
    }
}

/// One conjunct of a property: a state invariant, or a temporal form.
enum Part {
    Invariant(Arc<crate::checker::Judge<TlaModel>>),
    Temporal(Temporal<TlaModel>),
}

fn is_temporal(e: &Expr) -> bool {
    super::visit_any(e, &|k| matches!(k, Kind::Always(_) | Kind::Eventually(_) | Kind::LeadsTo(..) | Kind::Fair { .. }))
}

fn is_action(e: &Expr) -> bool {
    super::visit_any(e, &|k| matches!(k, Kind::Prime(_) | Kind::PrimeExpr(_) | Kind::Unchanged(_)))
}

type Failure = (super::ast::Pos, String);

/// Splits a property into the forms the checker knows: conjunctions and
/// `\A x \in S` (S constant) are expanded; `[]P`, `<>P`, `[]<>P`, `<>[]P`,
/// `P ~> Q`, `[](P => <>Q)` and `[][A]_v` are recognised.
fn property(prog: &Program, e: &Expr, name: &str, locals: &mut Vec<Value>, out: &mut Vec<Part>) -> std::result::Result<(), Failure> {
    let refuse = |e: &Expr| -> Failure {
        (
            e.pos,
            format!(
                "property `{name}`: this temporal form is not supported by the interpreter (supported: []P, <>P, []<>P, <>[]P, P ~> Q, [][A]_v, their conjunctions and \\A x \\in S over them)"
            ),
        )
    };
    let state = |e: &Expr| -> std::result::Result<ExprRef, Failure> {
        if is_temporal(e) || is_action(e) {
            Err(refuse(e))
        } else {
            Ok(ExprRef(e))
        }
    };
    let j = |e: ExprRef, locals: &Vec<Value>, eventually: bool| judge(prog, e, locals.clone(), name, eventually);
    match &e.kind {
        Kind::And(items) => {
            for i in items {
                property(prog, i, name, locals, out)?;
            }
        }
        Kind::Call(d, args)
            if prog.defs[*d as usize].params.len() == prog.defs[*d as usize].hidden
                && prog.defs[*d as usize].body.as_ref().is_some_and(is_temporal) =>
        {
            let body = prog.defs[*d as usize].body.as_ref().expect("checked");
            // The callee's locals start afresh, with the arguments of the
            // instances it is defined in (`I(x)!Spec`).
            let empty: [Value; 0] = [];
            let mut inner = Vec::new();
            for a in args {
                let mut ctx = Ctx::new(prog, &empty);
                inner.push(ctx.eval_with(a, locals).map_err(|err| (err.pos, err.msg))?);
            }
            property(prog, body, name, &mut inner, out)?;
        }
        Kind::Forall(bounds, body) if is_temporal(body) => {
            let empty: [Value; 0] = [];
            let mut sets = Vec::new();
            for b in bounds {
                if b.tuple.is_some() {
                    return Err(refuse(e));
                }
                let mut ctx = Ctx::new(prog, &empty);
                let set = ctx.eval_with(&b.set, locals).map_err(|err| (err.pos, err.msg))?;
                sets.push(set.elements().map_err(|m| (b.set.pos, m))?);
            }
            let mut combos: Vec<Vec<Value>> = vec![Vec::new()];
            for set in &sets {
                combos = combos.into_iter().flat_map(|c| set.iter().map(move |x| [c.clone(), vec![x.clone()]].concat())).collect();
            }
            for c in combos {
                let n = c.len();
                locals.extend(c);
                let r = property(prog, body, name, locals, out);
                locals.truncate(locals.len() - n);
                r?;
            }
        }
        Kind::Always(inner) => match &inner.kind {
            Kind::Eventually(p) => out.push(Part::Temporal(Temporal::LeadsTo(Some(always_true()), j(state(p)?, locals, true)))),
            Kind::BoxAction(..) if !is_temporal(inner) => {
                let a = ExprRef(&**inner);
                let locals = locals.clone();
                let step = move |m: &TlaModel, s: &TlaState, t: &TlaState| m.step_holds(a, s, t, &locals);
                out.push(Part::Temporal(Temporal::ActionAlways(Arc::new(step))));
            }
            Kind::Implies(p, q) if matches!(q.kind, Kind::Eventually(_)) => {
                let Kind::Eventually(q) = &q.kind else { unreachable!("matched") };
                out.push(Part::Temporal(Temporal::LeadsTo(Some(j(state(p)?, locals, false)), j(state(q)?, locals, true))));
            }
            _ => out.push(Part::Invariant(j(state(inner)?, locals, false))),
        },
        Kind::Eventually(inner) => match &inner.kind {
            Kind::Always(p) => out.push(Part::Temporal(Temporal::EventuallyAlways(j(state(p)?, locals, false)))),
            _ => out.push(Part::Temporal(Temporal::LeadsTo(None, j(state(inner)?, locals, true)))),
        },
        Kind::LeadsTo(p, q) => out.push(Part::Temporal(Temporal::LeadsTo(Some(j(state(p)?, locals, false)), j(state(q)?, locals, true)))),
        // A refined spec's fairness, WF_v(A) or SF_v(A), as a property.
        Kind::Fair { strong, vars, action } => {
            let (vars, action, strong) = (ExprRef(&**vars), ExprRef(&**action), *strong);
            let kind = if strong { "SF" } else { "WF" };
            let shown = if locals.is_empty() {
                format!("its {kind} condition")
            } else {
                format!("its {kind} condition for {}", locals.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
            };
            let (l1, l2) = (locals.clone(), locals.clone());
            let enabled = move |m: &TlaModel, s: &TlaState| m.enabled_changing(action, vars, s, &l1);
            let step = move |m: &TlaModel, s: &TlaState, t: &TlaState| {
                m.value_with(vars, s, &l2) != m.value_with(vars, t, &l2) && m.step_holds(action, s, t, &l2)
            };
            out.push(Part::Temporal(Temporal::Fairness { strong, name: shown, enabled: Arc::new(enabled), step: Arc::new(step) }));
        }
        // A state predicate (a refined spec's Init): the initial states
        // satisfy it.
        _ if !is_temporal(e) && !is_action(e) => {
            let p = ExprRef(e);
            let locals = locals.clone();
            let headline = format!("an initial state does not satisfy {}", describe(prog, e));
            out.push(Part::Temporal(Temporal::Initially(Arc::new(move |m: &TlaModel, s: &TlaState| -> Verdict {
                if m.holds_with(p.get(), s, &locals) {
                    Ok(())
                } else {
                    Err(Violation::new(headline.clone()))
                }
            }))));
        }
        _ => return Err(refuse(e)),
    }
    Ok(())
}

/// A short name for a property's conjunct in a message: the definition it
/// calls, or its position.
fn describe(prog: &Program, e: &Expr) -> String {
    match &e.kind {
        Kind::Call(d, _) => format!("`{}`", prog.defs[*d as usize].name),
        _ => format!("the predicate at line {}, column {}", e.pos.line, e.pos.col),
    }
}

fn always_true() -> Arc<crate::checker::Judge<TlaModel>> {
    Arc::new(|_: &TlaModel, _: &TlaState| -> Verdict { Ok(()) })
}

fn judge(prog: &Program, e: ExprRef, locals: Vec<Value>, name: &str, eventually: bool) -> Arc<crate::checker::Judge<TlaModel>> {
    let headline: Arc<str> = if eventually {
        Arc::from(format!("{name}: the behaviour never reaches a state where it holds"))
    } else {
        Arc::from(format!("{name} is violated"))
    };
    let cache = reads(prog, e.get()).filter(|vars| vars.len() < prog.vars.len()).map(ByReads::new);
    Arc::new(move |m: &TlaModel, s: &TlaState| -> Verdict {
        let holds = match &cache {
            Some(cache) => cache.get_or(s, || m.holds_with(e.get(), s, &locals)),
            None => m.holds_with(e.get(), s, &locals),
        };
        if holds {
            Ok(())
        } else {
            Err(Violation::new(headline.to_string()))
        }
    })
}

/// The state variables a state predicate reads, directly or through the
/// definitions, LET operators and operators passed as arguments it calls;
/// `None` when that is not a question of which variables (ENABLED, UNCHANGED,
/// a primed expression) or when evaluating it has an effect (Print).
pub(super) fn reads(prog: &Program, e: &Expr) -> Option<Vec<u32>> {
    let mut vars = std::collections::BTreeSet::new();
    let mut opaque = false;
    let mut defs = std::collections::HashSet::new();
    let mut lets = std::collections::HashSet::new();
    let mut todo = vec![e];
    while let Some(x) = todo.pop() {
        let mut more: Vec<&Expr> = Vec::new();
        super::visit(x, &mut |k| match k {
            Kind::Var(v) | Kind::Prime(v) => {
                vars.insert(*v);
            }
            Kind::PrimeExpr(_) | Kind::Unchanged(_) | Kind::Enabled(_) => opaque = true,
            Kind::Builtin(super::ast::Builtin::Print | super::ast::Builtin::PrintT, _) => opaque = true,
            Kind::Call(d, _) | Kind::FnDefApply(d, _) | Kind::OpValue(d) => {
                if defs.insert(*d) {
                    let def = &prog.defs[*d as usize];
                    more.extend(def.body.iter());
                    more.extend(def.function.iter().flatten().map(|b| &b.set));
                }
            }
            Kind::LetCall(i, _) | Kind::LetFnApply(i, _) => {
                if lets.insert(*i) {
                    more.push(&prog.lambdas[*i as usize].body);
                }
            }
            _ => {}
        });
        todo.extend(more);
    }
    (!opaque).then(|| vars.into_iter().collect())
}

/// Calls `f` with the two 64-bit hashes (different seeds) of each variable
/// in `vars` of state `s`, in order. The hashes of the last state asked
/// about are kept per thread: the predicates of one state are judged one
/// after the other, and share them. The state is held while they are kept,
/// so its address is not reused by another.
fn var_hashes(s: &TlaState, vars: &[u32], mut f: impl FnMut(u64, u64)) {
    use std::hash::{BuildHasher, Hash, Hasher};
    thread_local! {
        static LAST: std::cell::RefCell<Option<(TlaState, Vec<Option<(u64, u64)>>)>> = const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if !matches!(&*last, Some((t, _)) if Arc::ptr_eq(&t.0, &s.0)) {
            *last = Some((s.clone(), vec![None; s.0.len()]));
        }
        let (_, hashes) = last.as_mut().expect("set above");
        for &v in vars {
            let (a, b) = *hashes[v as usize].get_or_insert_with(|| {
                let mut lo = foldhash::quality::FixedState::with_seed(0x9e37_79b9_7f4a_7c15).build_hasher();
                let mut hi = foldhash::quality::FixedState::with_seed(0xc2b2_ae3d_27d4_eb4f).build_hasher();
                s.0[v as usize].hash(&mut lo);
                s.0[v as usize].hash(&mut hi);
                (lo.finish(), hi.finish())
            });
            f(a, b);
        }
    })
}

/// The results of one state predicate by the values of the variables it
/// reads, when it reads only some of them: the states of a search that
/// agree on those (many, when the others vary alone) share one evaluation.
/// A result is filed under a 128-bit hash of those values (two 64-bit
/// hashes with different seeds), so the cache holds no values; a search's
/// state store already rests on 64-bit fingerprints. Each shard keeps at
/// most [`ByReads::CAP`] results and starts over when full: at most
/// 16 x 4,096 x 32 bytes (2 MiB) per predicate.
struct ByReads {
    vars: Vec<u32>,
    shards: Vec<Mutex<hashbrown::HashTable<(u128, bool)>>>,
}

impl ByReads {
    const SHARDS: usize = 16;
    const CAP: usize = 1 << 12;

    fn new(vars: Vec<u32>) -> ByReads {
        ByReads { vars, shards: (0..Self::SHARDS).map(|_| Mutex::new(hashbrown::HashTable::new())).collect() }
    }

    fn get_or(&self, s: &TlaState, eval: impl FnOnce() -> bool) -> bool {
        let (mut lo, mut hi) = (0u64, 0u64);
        var_hashes(s, &self.vars, |a, b| {
            lo = (lo.rotate_left(23) ^ a).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            hi = (hi.rotate_left(29) ^ b).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
        });
        let key = (u128::from(hi) << 64) | u128::from(lo);
        let shard = &self.shards[(hi as usize) % Self::SHARDS];
        if let Some((_, b)) = shard.lock().unwrap_or_else(|p| p.into_inner()).find(lo, |(k, _)| *k == key) {
            return *b;
        }
        let b = eval();
        let mut table = shard.lock().unwrap_or_else(|p| p.into_inner());
        if table.len() >= Self::CAP {
            table.clear();
        }
        if table.find(lo, |(k, _)| *k == key).is_none() {
            table.insert_unique(lo, (key, b), |(k, _)| *k as u64);
        }
        b
    }
}

/// A fairness condition of the behaviour spec: `WF_v(A)` or `SF_v(A)`,
/// with the values of the `\A` variables around it.
struct FairSpec {
    strong: bool,
    vars: ExprRef,
    action: ExprRef,
    locals: Vec<Value>,
    name: String,
}

impl FairSpec {
    /// The condition as the checker takes it: whether a step changes `v`
    /// and is an A step. A is enumerated from each state once (the graph
    /// asks about every step from one state in a row), and not at all when
    /// it is the next-state action itself, whose steps every edge is.
    fn into_fair(self, prog: &Program, next: &Expr) -> Fair<TlaModel> {
        let FairSpec { strong, vars, action, locals, name } = self;
        let is_next = locals.is_empty() && same_action(action.get(), next);
        let tuple = var_tuple(prog, vars.get(), 0);
        // A's successors of the last state asked about, per thread: the
        // graph's fairness bits are computed by several threads at once.
        thread_local! {
            static SUCCESSORS: std::cell::RefCell<hashbrown::HashMap<usize, (Arc<[Value]>, Vec<Arc<[Value]>>)>> =
                std::cell::RefCell::new(hashbrown::HashMap::new());
        }
        static IDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let id = IDS.fetch_add(1, Ordering::Relaxed);
        let step = move |m: &TlaModel, s: &TlaState, t: &TlaState| -> bool {
            let changes = match &tuple {
                Some(vs) => vs.iter().any(|&v| s.0[v as usize] != t.0[v as usize]),
                None => match (m.value_with(vars, s, &locals), m.value_with(vars, t, &locals)) {
                    (Some(before), Some(after)) => before != after,
                    _ => false,
                },
            };
            if !changes {
                return false;
            }
            if is_next {
                return true;
            }
            SUCCESSORS.with(|cache| {
                let mut cache = cache.borrow_mut();
                let fresh = cache.get(&id).is_none_or(|(from, _)| *from != s.0);
                if fresh {
                    let mut ctx = Ctx::new(&m.prog, &s.0);
                    let succ = match ctx.successors_with(action.get(), &locals) {
                        Ok(()) => ctx.out.drain(..).map(|g| Arc::from(g.state)).collect(),
                        Err(e) => {
                            m.failed(e);
                            Vec::new()
                        }
                    };
                    cache.insert(id, (s.0.clone(), succ));
                }
                cache.get(&id).is_some_and(|(_, succ)| succ.iter().any(|x| *x == t.0))
            })
        };
        Fair { strong, name, step: Arc::new(step) }
    }
}

/// The state variables `v` is a tuple of (`x`, `<<x, y>>`, or a definition
/// without parameters that is one, such as `vars`), or `None` for any other
/// expression: a step changes such a `v` exactly when it changes one of the
/// variables, which needs no evaluation.
fn var_tuple(prog: &Program, v: &Expr, depth: usize) -> Option<Vec<u32>> {
    match &v.kind {
        Kind::Var(x) => Some(vec![*x]),
        Kind::Tuple(items) => items.iter().map(|i| if let Kind::Var(x) = i.kind { Some(x) } else { None }).collect(),
        Kind::Call(d, args) if args.is_empty() && depth < 8 => {
            let def = &prog.defs[*d as usize];
            if def.params.is_empty() && !def.is_function { var_tuple(prog, def.body.as_ref()?, depth + 1) } else { None }
        }
        _ => None,
    }
}

/// Whether a fairness condition's action is the next-state action.
fn same_action(a: &Expr, next: &Expr) -> bool {
    match (&a.kind, &next.kind) {
        (Kind::Call(x, xs), Kind::Call(y, ys)) => x == y && xs.is_empty() && ys.is_empty(),
        _ => std::ptr::eq(a, next),
    }
}

impl TlaModel {
    /// Evaluates a state predicate with locals bound; an error is recorded
    /// and reads as true.
    fn holds_with(&self, e: &Expr, state: &TlaState, locals: &[Value]) -> bool {
        // The properties of one state are judged one after the other on one
        // thread: they share the values of the definitions they call (which
        // see none of the property's locals).
        thread_local! {
            static LAST: std::cell::RefCell<Option<(usize, TlaState, Memo)>> = const { std::cell::RefCell::new(None) };
        }
        let prog_id = Arc::as_ptr(&self.prog) as usize;
        let memo = LAST.with(|last| match last.borrow_mut().take() {
            Some((p, s, memo)) if p == prog_id && Arc::ptr_eq(&s.0, &state.0) => memo,
            Some((_, _, mut memo)) => {
                memo.clear();
                memo
            }
            None => Memo::default(),
        });
        let mut ctx = Ctx::with_memo(&self.prog, &state.0, memo);
        let r = ctx.eval_with(e, locals);
        let memo = ctx.take_memo();
        LAST.with(|last| *last.borrow_mut() = Some((prog_id, state.clone(), memo)));
        match r {
            Ok(Value::Bool(b)) => b,
            Ok(other) => {
                self.failed(Box::new(EvalError { pos: e.pos, msg: format!("a property must be a boolean, not {}", other.kind()) }));
                true
            }
            Err(err) => {
                self.failed(err);
                true
            }
        }
    }

    fn value_with(&self, e: ExprRef, state: &TlaState, locals: &[Value]) -> Option<Value> {
        let mut ctx = Ctx::new(&self.prog, &state.0);
        match ctx.eval_with(e.get(), locals) {
            Ok(v) => Some(v),
            Err(err) => {
                self.failed(err);
                None
            }
        }
    }

    /// ENABLED `<<A>>_v` in a state; an error is recorded and reads as
    /// false.
    fn enabled_changing(&self, a: ExprRef, v: ExprRef, s: &TlaState, locals: &[Value]) -> bool {
        let mut ctx = Ctx::new(&self.prog, &s.0);
        match ctx.enabled_changing(a.get(), v.get(), locals) {
            Ok(b) => b,
            Err(err) => {
                self.failed(err);
                false
            }
        }
    }

    /// Whether the step from `s` to `t` satisfies an action.
    fn step_holds(&self, a: ExprRef, s: &TlaState, t: &TlaState, locals: &[Value]) -> bool {
        let mut ctx = Ctx::new(&self.prog, &s.0);
        match ctx.eval_step(a.get(), &t.0, locals) {
            Ok(b) => b,
            Err(err) => {
                self.failed(err);
                false
            }
        }
    }
}

/// Init, Next and the fairness conditions of
/// `Init /\ [][Next]_vars /\ WF_vars(A) /\ SF_vars(B) /\ \A p \in S : WF_vars(C(p))`.
fn behaviour<'a>(prog: &'a Program, body: &'a Expr) -> std::result::Result<(&'a Expr, &'a Expr, Vec<FairSpec>), Failure> {
    let mut conjuncts = Vec::new();
    flatten(prog, body, &mut conjuncts);
    let mut init = None;
    let mut next = None;
    let mut fair = Vec::new();
    for c in conjuncts {
        match &c.kind {
            Kind::Always(inner) => match &inner.kind {
                Kind::BoxAction(a, _) => next = Some(&**a),
                _ => return Err((c.pos, "the behaviour spec's [] must be [][Next]_vars".into())),
            },
            Kind::Fair { .. } | Kind::Forall(..) if is_temporal(c) => fairness(prog, c, &mut Vec::new(), &mut fair)?,
            _ if is_temporal(c) => return Err((c.pos, "this behaviour spec has a temporal form the interpreter does not support".into())),
            _ => {
                if init.is_some() {
                    return Err((c.pos, "the behaviour spec has more than one initial predicate".into()));
                }
                init = Some(c)
            }
        }
    }
    let (Some(init), Some(next)) = (init, next) else {
        return Err((body.pos, "the behaviour spec must have the form Init /\\ [][Next]_vars /\\ WF_vars(A) /\\ …".into()));
    };
    if fair.len() > 64 {
        return Err((body.pos, "more than 64 fairness conditions".into()));
    }
    Ok((init, next, fair))
}

/// The fairness conditions of a conjunct of the behaviour spec: `WF_v(A)`,
/// `SF_v(A)`, conjunctions of them, and `\A x \in S` (S constant) around them.
fn fairness(prog: &Program, e: &Expr, locals: &mut Vec<Value>, out: &mut Vec<FairSpec>) -> std::result::Result<(), Failure> {
    match &e.kind {
        Kind::Fair { strong, vars, action } => {
            let kind = if *strong { "SF" } else { "WF" };
            let name = if locals.is_empty() {
                kind.to_string()
            } else {
                format!("{kind}({})", locals.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
            };
            out.push(FairSpec { strong: *strong, vars: ExprRef(&**vars), action: ExprRef(&**action), locals: locals.clone(), name });
        }
        Kind::And(items) => {
            for i in items {
                fairness(prog, i, locals, out)?;
            }
        }
        Kind::Forall(bounds, body) if bounds.iter().all(|b| b.tuple.is_none()) => {
            let empty: [Value; 0] = [];
            let mut combos: Vec<Vec<Value>> = vec![Vec::new()];
            for b in bounds {
                let mut ctx = Ctx::new(prog, &empty);
                let set = ctx.eval_with(&b.set, locals).map_err(|e| (e.pos, e.msg))?;
                let items = set.elements().map_err(|m| (b.set.pos, m))?;
                combos = combos.into_iter().flat_map(|c| items.iter().map(move |x| [c.clone(), vec![x.clone()]].concat())).collect();
            }
            for c in combos {
                let n = c.len();
                locals.extend(c);
                let r = fairness(prog, body, locals, out);
                locals.truncate(locals.len() - n);
                r?;
            }
        }
        _ => return Err((e.pos, "a fairness condition must be WF_v(A), SF_v(A), or a conjunction or \\A x \\in S of them".into())),
    }
    Ok(())
}

/// The conjuncts of a formula, through zero-argument definitions.
fn flatten<'a>(prog: &'a Program, e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        Kind::And(items) => items.iter().for_each(|i| flatten(prog, i, out)),
        Kind::Call(d, args) if args.is_empty() => {
            let def = &prog.defs[*d as usize];
            match &def.body {
                Some(b) if is_temporal(b) => flatten(prog, b, out),
                _ => out.push(e),
            }
        }
        _ => out.push(e),
    }
}
