//! Constant folding: every sub-expression that reads neither the state nor a
//! bound variable (`{"a", "b"}`, `1..Steps`, `<<0, 0>>`, `Steps + 1`) is
//! evaluated once, when the spec is loaded, and replaced by its value, so
//! the search does not rebuild it in every state. Definitions without
//! parameters are folded whole by the loader; this pass reaches the constant
//! pieces of everything else.
//!
//! A piece is folded only when its evaluation succeeds: one that fails (a
//! division by zero in a branch never taken) stays as it is, and fails where
//! and when the search reaches it, as TLC reports it. Operators with effects
//! (Print, PrintT, Assert) and Permutations (whose value can be far larger
//! than the spec ever uses) are never folded.

use std::sync::Arc;

use super::ast::{Builtin, ExceptStep, Expr, Kind, Lambda};
use super::eval::Ctx;
use super::value::Value;
use super::Program;

/// Folds the constant sub-expressions of every definition, function domain
/// and LET operator of the program.
pub fn fold_constants(prog: &mut Program) {
    for i in 0..prog.defs.len() {
        if let Some(mut body) = prog.defs[i].body.take() {
            fold(prog, &mut body);
            prog.defs[i].body = Some(body);
        }
        if let Some(mut bounds) = prog.defs[i].function.take() {
            for b in bounds.iter_mut() {
                fold(prog, &mut b.set);
            }
            prog.defs[i].function = Some(bounds);
        }
    }
    for i in 0..prog.lambdas.len() {
        let placeholder = Arc::new(Lambda {
            name: prog.lambdas[i].name.clone(),
            depth: 0,
            arity: 0,
            body: Expr { kind: Kind::Lit(Value::Bool(false)), pos: Default::default() },
        });
        let mut lambda = std::mem::replace(&mut prog.lambdas[i], placeholder);
        // A LET operator also referred to from its syntax tree is shared;
        // its body is then left as it is.
        if let Some(l) = Arc::get_mut(&mut lambda) {
            fold(prog, &mut l.body);
        }
        prog.lambdas[i] = lambda;
    }
}

/// Folds the constant sub-expressions of `e`, innermost first.
fn fold(prog: &Program, e: &mut Expr) {
    visit_mut(e, &mut |node| {
        if foldable(prog, &node.kind) {
            let empty: [Value; 0] = [];
            let mut ctx = Ctx::new(prog, &empty);
            if let Ok(v) = ctx.eval(node) {
                node.kind = Kind::Lit(v);
            }
        }
    });
}

/// A leaf whose value is known at load time.
fn known(prog: &Program, e: &Expr) -> bool {
    match &e.kind {
        Kind::Lit(Value::Op(_)) => false,
        Kind::Lit(_) | Kind::Const(_) => true,
        Kind::Call(d, args) => args.is_empty() && prog.defs[*d as usize].folded.is_some(),
        _ => false,
    }
}

/// Whether a node, whose children have been folded already, is computed
/// from known values alone by an operator without effects.
fn foldable(prog: &Program, k: &Kind) -> bool {
    let all = |xs: &[Expr]| xs.iter().all(|x| known(prog, x));
    match k {
        Kind::Builtin(b, xs) => {
            !matches!(b, Builtin::Print | Builtin::PrintT | Builtin::Assert | Builtin::JavaTime | Builtin::Any | Builtin::Permutations)
                && all(xs)
        }
        Kind::SetEnum(xs) | Kind::Tuple(xs) | Kind::And(xs) | Kind::Or(xs) => !xs.is_empty() && all(xs),
        Kind::Not(a) | Kind::Dot(a, _) => known(prog, a),
        Kind::Implies(a, b) | Kind::Equiv(a, b) | Kind::FunSet(a, b) => known(prog, a) && known(prog, b),
        Kind::If(a, b, c) => known(prog, a) && known(prog, b) && known(prog, c),
        Kind::FunApp(f, xs) => known(prog, f) && all(xs),
        Kind::RecDef(fs) => fs.iter().all(|(_, v)| known(prog, v)),
        _ => false,
    }
}

/// Calls `f` on every node of an expression, children before their parent.
/// LET values and LAMBDA bodies shared with another part of the tree are not
/// entered.
fn visit_mut(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    {
        let mut each = |x: &mut Expr| visit_mut(x, f);
        match &mut e.kind {
            Kind::Lit(_) | Kind::Const(_) | Kind::Var(_) | Kind::Prime(_) | Kind::Local(_) | Kind::OpValue(_) | Kind::BuiltinValue(..) => {}
            Kind::PrimeExpr(a) | Kind::Not(a) | Kind::Unchanged(a) | Kind::Enabled(a) | Kind::Always(a) | Kind::Eventually(a) => each(a),
            Kind::Call(_, xs) | Kind::LetCall(_, xs) | Kind::LetFnApply(_, xs) | Kind::ParamCall(_, xs) | Kind::FnDefApply(_, xs) | Kind::Builtin(_, xs)
            | Kind::And(xs) | Kind::Or(xs) | Kind::SetEnum(xs) | Kind::Tuple(xs) => xs.iter_mut().for_each(each),
            Kind::Lambda(l) => {
                if let Some(l) = Arc::get_mut(l) {
                    each(&mut l.body)
                }
            }
            Kind::Implies(a, b) | Kind::Equiv(a, b) | Kind::FunSet(a, b) | Kind::BoxAction(a, b) | Kind::AngleAction(a, b) | Kind::LeadsTo(a, b) => {
                each(a);
                each(b)
            }
            Kind::If(a, b, c) => {
                each(a);
                each(b);
                each(c)
            }
            Kind::Case(arms, other) => {
                for (g, v) in arms {
                    each(g);
                    each(v);
                }
                if let Some(o) = other {
                    each(o)
                }
            }
            Kind::Let { values, body, .. } => {
                for v in values.iter_mut() {
                    if let Some(v) = Arc::get_mut(v) {
                        each(v)
                    }
                }
                each(body)
            }
            Kind::Exists(bs, body) | Kind::Forall(bs, body) | Kind::SetMap(bs, body) | Kind::FunDef(bs, body) => {
                bs.iter_mut().for_each(|b| each(&mut b.set));
                each(body)
            }
            Kind::Choose(b, body) | Kind::SetFilter(b, body) => {
                each(&mut b.set);
                each(body)
            }
            Kind::FunApp(a, xs) => {
                each(a);
                xs.iter_mut().for_each(each)
            }
            Kind::Dot(a, _) => each(a),
            Kind::RecDef(fs) | Kind::RecSet(fs) => fs.iter_mut().for_each(|(_, v)| each(v)),
            Kind::Except(a, ups, _) => {
                each(a);
                for (path, v) in ups.iter_mut() {
                    for s in path.iter_mut() {
                        if let ExceptStep::Apply(xs) = s {
                            xs.iter_mut().for_each(&mut each)
                        }
                    }
                    each(v)
                }
            }
            Kind::Fair { vars, action, .. } => {
                each(vars);
                each(action)
            }
        }
    }
    f(e)
}
