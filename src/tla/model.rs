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
use super::value::Value;
use super::Program;
use crate::checker::{CheckKind, Checked};
use crate::error::{Diagnostic, Error, Location, Result};
use crate::model::{Fairness, Verdict, Violation};
use crate::spec::cfg::{Cfg, DEADLOCK};

/// A state: the values of the spec's variables, in declaration order.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TlaState(pub Arc<[Value]>);

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
        // The properties of one state are judged one after the other on one
        // thread: they share the values of the definitions they call.
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
        let r = ctx.eval_bool(e);
        let memo = ctx.take_memo();
        LAST.with(|last| *last.borrow_mut() = Some((prog_id, state.clone(), memo)));
        match r {
            Ok(b) => b,
            Err(err) => {
                self.failed(err);
                true
            }
        }
    }

    pub fn encode(&self, state: &TlaState) -> serde_json::Map<String, serde_json::Value> {
        self.prog.vars.iter().zip(state.0.iter()).map(|(n, v)| (n.to_string(), v.to_itf())).collect()
    }

    pub fn decode(&self, json: &serde_json::Value) -> std::result::Result<TlaState, String> {
        let obj = json.as_object().ok_or("a state is an object")?;
        let mut vals = Vec::new();
        for n in &self.prog.vars {
            let v = obj.get(&**n).ok_or_else(|| format!("variable {n} is missing"))?;
            vals.push(Value::from_itf(v)?);
        }
        Ok(TlaState(vals.into()))
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
        ctx.out.into_iter().map(|g| TlaState(g.state.into())).collect()
    }

    fn actions(&self, state: &TlaState, actions: &mut Vec<TlaAction>) {
        let mut ctx = Ctx::new(&self.prog, &state.0);
        if let Err(e) = ctx.successors(self.expr(self.next)) {
            self.failed(e);
            return;
        }
        actions.extend(ctx.out.into_iter().map(|g| TlaAction { next: TlaState(g.state.into()), trail: g.trail.into() }));
    }

    fn next_state(&self, _: &TlaState, action: TlaAction) -> Option<TlaState> {
        Some(action.next)
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
    let (init, next, fairness): (&Expr, &Expr, Fairness) = match (&cfg.specification, &cfg.init, &cfg.next) {
        (Some(spec), _, _) => {
            let body = def_body(&spec.name, spec.line)?;
            behaviour(&prog, body).map_err(|m| prog.error_at(body.pos, &m))?
        }
        (None, Some(i), Some(n)) => (def_body(&i.name, i.line)?, def_body(&n.name, n.line)?, Fairness::None),
        _ => {
            return Err(Error::Spec(
                Diagnostic::new(Location::file(&cfg.path), "the config names no behaviour")
                    .hint("add SPECIFICATION Spec, or INIT Init and NEXT Next"),
            ))
        }
    };
    let model = Arc::new(TlaModel {
        prog: prog.clone(),
        init: ExprRef(init),
        next: ExprRef(next),
        fairness,
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
        checks.push(Checked { name: named.name.clone(), kind: CheckKind::Invariant(judge(ExprRef(body), &named.name, false)) });
    }
    for named in &cfg.properties {
        let body = def_body(&named.name, named.line)?;
        let kind = match &body.kind {
            Kind::Eventually(p) => CheckKind::Eventually(judge(ExprRef(&**p), &named.name, true), fairness, None),
            Kind::Always(p) if !super::visit_any(p, &|k| matches!(k, Kind::Prime(_) | Kind::Always(_) | Kind::Eventually(_))) => {
                CheckKind::Invariant(judge(ExprRef(&**p), &named.name, false))
            }
            _ => {
                return Err(prog.error_at(
                    body.pos,
                    &format!("property `{}`: only <>P and []P with P a state predicate are supported by the interpreter", named.name),
                ))
            }
        };
        checks.push(Checked { name: named.name.clone(), kind });
    }
    if cfg.check_deadlock {
        checks.push(Checked { name: DEADLOCK.to_string(), kind: CheckKind::Deadlock });
    }
    Ok((model, checks))
}

fn judge(e: ExprRef, name: &str, eventually: bool) -> Arc<crate::checker::Judge<TlaModel>> {
    let headline: Arc<str> = if eventually {
        Arc::from(format!("{name}: the behaviour never reaches a state where it holds"))
    } else {
        Arc::from(format!("invariant {name} is violated"))
    };
    Arc::new(move |m: &TlaModel, s: &TlaState| -> Verdict {
        if m.holds(e.get(), s) {
            Ok(())
        } else {
            Err(Violation::new(headline.to_string()))
        }
    })
}

/// Init, Next and the fairness of `Init /\ [][Next]_vars /\ WF_vars(Next)`.
fn behaviour<'a>(prog: &'a Program, body: &'a Expr) -> std::result::Result<(&'a Expr, &'a Expr, Fairness), String> {
    let mut conjuncts = Vec::new();
    flatten(prog, body, &mut conjuncts);
    let mut init = None;
    let mut next = None;
    let mut fair = Vec::new();
    for c in conjuncts {
        match &c.kind {
            Kind::Always(inner) => match &inner.kind {
                Kind::BoxAction(a, _) => next = Some(&**a),
                _ => return Err("the behaviour spec's [] must be [][Next]_vars".into()),
            },
            Kind::Fair { strong: false, action, .. } => fair.push(&**action),
            Kind::Fair { strong: true, .. } => return Err("SF_vars(A) (strong fairness) is not supported by the interpreter".into()),
            _ if super::visit_any(c, &|k| matches!(k, Kind::Always(_) | Kind::Eventually(_) | Kind::Fair { .. })) => {
                return Err("this behaviour spec has a temporal form the interpreter does not support".into())
            }
            _ => {
                if init.is_some() {
                    return Err("the behaviour spec has more than one initial predicate".into());
                }
                init = Some(c)
            }
        }
    }
    let (Some(init), Some(next)) = (init, next) else {
        return Err("the behaviour spec must have the form Init /\\ [][Next]_vars /\\ WF_vars(Next)".into());
    };
    let fairness = match fair.as_slice() {
        [] => Fairness::None,
        [a] if same_action(a, next) => Fairness::WeakNext,
        _ => return Err("only WF_vars(Next) on the whole next-state action is supported by the interpreter".into()),
    };
    Ok((init, next, fairness))
}

fn same_action(a: &Expr, b: &Expr) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Call(x, xs), Kind::Call(y, ys)) => x == y && xs.is_empty() && ys.is_empty(),
        _ => std::ptr::eq(a, b),
    }
}

/// The conjuncts of a formula, through zero-argument definitions.
fn flatten<'a>(prog: &'a Program, e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        Kind::And(items) => items.iter().for_each(|i| flatten(prog, i, out)),
        Kind::Call(d, args) if args.is_empty() => {
            let def = &prog.defs[*d as usize];
            match &def.body {
                Some(b) if super::visit_any(b, &|k| matches!(k, Kind::Always(_) | Kind::Fair { .. })) => flatten(prog, b, out),
                _ => out.push(e),
            }
        }
        _ => out.push(e),
    }
}
