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

use super::ast::{self, Builtin, Expr, Kind, Lambda};
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
        each_child!(&mut e.kind, each, Arc::get_mut, mut);
    }
    f(e)
}
