//! Evaluation of expressions, and enumeration of the states an Init or Next
//! formula allows, as TLC does it: a disjunction, an `\E` and an `x' \in S`
//! branch; conjuncts are taken left to right; `x' = e` binds x' when it is
//! not yet bound and tests it otherwise; every branch that gets through all
//! its conjuncts is one generated state.

use std::sync::Arc;

use super::ast::{Bound, Builtin, ExceptStep, Expr, Kind, Lambda, Pos};
use super::value::{Lazy, Value};
use super::{stack, Program};

/// An evaluation error at a position in the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    pub pos: Pos,
    pub msg: String,
}

pub type R<T> = Result<T, Box<EvalError>>;

fn fail<T>(pos: Pos, msg: impl Into<String>) -> R<T> {
    Err(Box::new(EvalError { pos, msg: msg.into() }))
}

/// A value shown in an error message, cut short.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 200 {
        format!("{}…", &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)])
    } else {
        s
    }
}

/// An operator passed as a value.
pub struct Closure {
    pub name: Arc<str>,
    pub arity: usize,
    pub target: Target,
}

pub enum Target {
    Global(u32),
    Lambda(Arc<Lambda>, Vec<Value>),
    Builtin(Builtin),
}

impl PartialEq for Closure {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for Closure {}
impl PartialOrd for Closure {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Closure {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self as *const Closure as usize).cmp(&(other as *const Closure as usize))
    }
}
impl std::hash::Hash for Closure {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self as *const Closure as usize).hash(state)
    }
}
impl std::fmt::Debug for Closure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<operator {}>", self.name)
    }
}

#[derive(Clone)]
enum Slot<'p> {
    Val(Value),
    Pending(&'p Expr),
}

/// The elements of a finite set, in order: listed, or the integers lo..hi.
enum Elems {
    List(Arc<Vec<Value>>),
    Ints(i64, i64),
}

impl Elems {
    fn len(&self) -> usize {
        match self {
            Elems::List(items) => items.len(),
            Elems::Ints(lo, hi) => if hi < lo { 0 } else { (hi - lo) as usize + 1 },
        }
    }

    fn get(&self, k: usize) -> Value {
        match self {
            Elems::List(items) => items[k].clone(),
            Elems::Ints(lo, _) => Value::Int(lo + k as i64),
        }
    }
}

/// Which variables an `x = e` conjunct may bind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Evaluating in one state.
    State,
    /// Enumerating Init: unprimed variables are being assigned.
    Init,
    /// Enumerating Next: primed variables are being assigned.
    Next,
}

/// One step of the path that led to a generated state, for its label.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Trail {
    Op(u32),
    Bind(Arc<str>, Value),
}

struct Cont<'p> {
    expr: &'p Expr,
    base: usize,
    depth: usize,
}

/// A generated state and the path of operators and bindings that made it.
pub struct Generated {
    pub state: Vec<Value>,
    pub trail: Vec<Trail>,
}

pub struct Ctx<'p, 's> {
    pub prog: &'p Program,
    stack: Vec<Slot<'p>>,
    base: usize,
    cur: &'s [Value],
    next: Vec<Option<Value>>,
    mode: Mode,
    primed: bool,
    trail: Vec<Trail>,
    /// Stop at the first generated state (ENABLED).
    probe: bool,
    /// ENABLED <<A>>_v: a generated step counts only if it changes v (the
    /// expression, and the stack base and depth it is evaluated at).
    angle: Option<(&'p Expr, usize, usize)>,
    /// Values of definitions that read only the current state, computed
    /// once per state.
    memo: Memo,
    pub out: Vec<Generated>,
    /// Calls being evaluated, nested, and the thread's [`stack::floor`]
    /// (a context is used on the thread that made it).
    calls: u32,
    floor: usize,
}

/// Values of definitions computed in one state: argument-free ones by
/// definition, and calls with arguments of those [`Program::memo_args`] marks
/// by definition and argument values. A [`Ctx`] for another state must start
/// from an empty one (see [`Ctx::with_memo`]).
#[derive(Default)]
pub struct Memo {
    zero: Vec<Option<Value>>,
    args: hashbrown::HashMap<(u32, Vec<Value>), Value, foldhash::fast::FixedState>,
}

impl Memo {
    pub fn clear(&mut self) {
        self.zero.clear();
        self.args.clear();
    }
}

impl<'p, 's> Ctx<'p, 's> {
    pub fn new(prog: &'p Program, cur: &'s [Value]) -> Ctx<'p, 's> {
        Ctx {
            prog,
            stack: Vec::with_capacity(64),
            base: 0,
            cur,
            next: vec![None; prog.vars.len()],
            mode: Mode::State,
            primed: false,
            trail: Vec::new(),
            probe: false,
            angle: None,
            memo: Memo::default(),
            out: Vec::new(),
            calls: 0,
            floor: stack::floor(),
        }
    }

    /// A context whose memo starts from `memo`, which must hold values
    /// computed in the state `cur` of the same program (or nothing).
    pub fn with_memo(prog: &'p Program, cur: &'s [Value], memo: Memo) -> Ctx<'p, 's> {
        let mut ctx = Ctx::new(prog, cur);
        ctx.memo = memo;
        ctx
    }

    /// The memo, to be handed to the next context on the same state.
    pub fn take_memo(&mut self) -> Memo {
        std::mem::take(&mut self.memo)
    }

    // ---------------------------------------------------------------- frames

    /// Runs `f` with the frame at `base` cut to `depth` slots; slots above
    /// are set aside and put back.
    fn at_depth<T>(&mut self, base: usize, depth: usize, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        let old = self.base;
        self.base = base;
        let cut = base + depth;
        let saved = if self.stack.len() > cut { Some(self.stack.split_off(cut)) } else { None };
        let r = f(self);
        self.stack.truncate(cut);
        if let Some(s) = saved {
            self.stack.extend(s);
        }
        self.base = old;
        r
    }

    /// Runs `f`, the body of a call at `pos`, one call deeper; an error at
    /// `pos` when calls nest past [`stack::MAX_CALL_DEPTH`] or the stack runs
    /// short.
    fn deeper<T>(&mut self, pos: Pos, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        if self.calls >= stack::MAX_CALL_DEPTH {
            return fail(pos, stack::too_deep());
        }
        if !stack::room(self.floor) {
            return fail(pos, stack::out_of_stack());
        }
        self.calls += 1;
        let r = f(self);
        self.calls -= 1;
        r
    }

    fn local(&mut self, k: u32) -> R<Value> {
        let i = self.base + k as usize;
        match &self.stack[i] {
            Slot::Val(v) => Ok(v.clone()),
            Slot::Pending(e) => {
                let e = *e;
                let base = self.base;
                let v = self.at_depth(base, k as usize, |c| c.eval(e))?;
                self.stack[i] = Slot::Val(v.clone());
                Ok(v)
            }
        }
    }

    fn push(&mut self, v: Value) {
        self.stack.push(Slot::Val(v));
    }

    fn pop(&mut self, n: usize) {
        let len = self.stack.len() - n;
        self.stack.truncate(len);
    }

    // ------------------------------------------------------------ evaluation

    pub fn eval_bool(&mut self, e: &'p Expr) -> R<bool> {
        match self.eval(e)? {
            Value::Bool(b) => Ok(b),
            other => fail(e.pos, format!("expected a boolean, found {} ({})", show(&other), other.kind())),
        }
    }

    fn var(&self, v: u32, pos: Pos) -> R<Value> {
        let read_next = self.primed || self.mode == Mode::Init;
        if read_next {
            match &self.next[v as usize] {
                Some(x) => Ok(x.clone()),
                None => fail(
                    pos,
                    format!(
                        "variable {}{} is read before it is assigned",
                        self.prog.vars[v as usize],
                        if self.mode == Mode::Init { "" } else { "'" }
                    ),
                ),
            }
        } else {
            Ok(self.cur[v as usize].clone())
        }
    }

    pub fn eval(&mut self, e: &'p Expr) -> R<Value> {
        match &e.kind {
            Kind::Lit(v) => Ok(v.clone()),
            Kind::Const(c) => Ok(self.prog.const_values[*c as usize].clone()),
            Kind::Var(v) => self.var(*v, e.pos),
            Kind::Prime(v) => {
                if self.primed {
                    return fail(e.pos, "a primed expression is primed again");
                }
                match &self.next[*v as usize] {
                    Some(x) => Ok(x.clone()),
                    None if self.mode == Mode::Next => {
                        fail(e.pos, format!("{}' is read before it is assigned", self.prog.vars[*v as usize]))
                    }
                    None => fail(e.pos, format!("{}' appears where there is no next state", self.prog.vars[*v as usize])),
                }
            }
            Kind::PrimeExpr(inner) => {
                if self.mode != Mode::Next {
                    return fail(e.pos, "a primed expression appears where there is no next state");
                }
                let was = self.primed;
                self.primed = true;
                let r = self.eval(inner);
                self.primed = was;
                r
            }
            Kind::Local(k) => self.local(*k),
            Kind::Call(d, args) => {
                let def = &self.prog.defs[*d as usize];
                if let Some(v) = &def.folded {
                    return Ok(v.clone());
                }
                let in_state = self.in_state();
                let memoizable = args.is_empty() && self.zero_memoizable(def);
                if memoizable {
                    if let Some(Some(v)) = self.memo.zero.get(*d as usize) {
                        return Ok(v.clone());
                    }
                }
                let vals = self.eval_all(args)?;
                if in_state && self.prog.memo_args.get(*d as usize) == Some(&true) {
                    let key = (*d, vals);
                    if let Some(v) = self.memo.args.get(&key) {
                        return Ok(v.clone());
                    }
                    let v = self.call_def(*d, key.1.clone(), e.pos)?;
                    self.memo.args.insert(key, v.clone());
                    return Ok(v);
                }
                let v = self.call_def(*d, vals, e.pos)?;
                if memoizable {
                    if self.memo.zero.len() <= *d as usize {
                        self.memo.zero.resize(self.prog.defs.len(), None);
                    }
                    self.memo.zero[*d as usize] = Some(v.clone());
                }
                Ok(v)
            }
            Kind::LetCall(i, args) => {
                let lambda: &'p Lambda = &self.prog.lambdas[*i as usize];
                let vals = self.eval_all(args)?;
                let base = self.base;
                self.at_depth(base, lambda.depth, |c| {
                    for v in vals {
                        c.push(v);
                    }
                    c.deeper(e.pos, |c| c.eval(&lambda.body))
                })
            }
            Kind::ParamCall(slot, args) => {
                let op = self.local(*slot)?;
                let vals = self.eval_all(args)?;
                self.call_value(&op, vals, e.pos)
            }
            Kind::FnDefApply(d, args) => {
                let vals = self.eval_all(args)?;
                self.apply_fn_def(*d, vals, e.pos)
            }
            Kind::LetFnApply(i, args) => {
                let vals = self.eval_all(args)?;
                self.apply_let_fn(*i, vals, e.pos)
            }
            Kind::Lambda(l) => {
                let mut captured = Vec::with_capacity(l.depth);
                for k in 0..l.depth {
                    captured.push(self.local(k as u32)?);
                }
                Ok(Value::Op(Arc::new(Closure {
                    name: l.name.clone(),
                    arity: l.arity,
                    target: Target::Lambda(l.clone(), captured),
                })))
            }
            Kind::OpValue(d) => {
                let def = &self.prog.defs[*d as usize];
                Ok(Value::Op(Arc::new(Closure { name: def.name.clone(), arity: def.params.len(), target: Target::Global(*d) })))
            }
            Kind::BuiltinValue(b, arity) => {
                Ok(Value::Op(Arc::new(Closure { name: Arc::from(format!("{b:?}")), arity: *arity, target: Target::Builtin(*b) })))
            }
            Kind::Builtin(b, args) => self.builtin(*b, args, e.pos),
            Kind::Not(a) => Ok(Value::Bool(!self.eval_bool(a)?)),
            Kind::And(items) => {
                for i in items {
                    if !self.eval_bool(i)? {
                        return Ok(Value::Bool(false));
                    }
                }
                Ok(Value::Bool(true))
            }
            Kind::Or(items) => {
                for i in items {
                    if self.eval_bool(i)? {
                        return Ok(Value::Bool(true));
                    }
                }
                Ok(Value::Bool(false))
            }
            Kind::Implies(a, b) => Ok(Value::Bool(!self.eval_bool(a)? || self.eval_bool(b)?)),
            Kind::Equiv(a, b) => Ok(Value::Bool(self.eval_bool(a)? == self.eval_bool(b)?)),
            Kind::If(c, t, f) => {
                if self.eval_bool(c)? {
                    self.eval(t)
                } else {
                    self.eval(f)
                }
            }
            Kind::Case(arms, other) => {
                for (guard, value) in arms {
                    if self.eval_bool(guard)? {
                        return self.eval(value);
                    }
                }
                match other {
                    Some(o) => self.eval(o),
                    None => fail(e.pos, "no CASE arm is true and there is no OTHER"),
                }
            }
            Kind::Let { values, body, .. } => {
                for v in values {
                    self.stack.push(Slot::Pending(v));
                }
                let r = self.eval(body);
                self.pop(values.len());
                r
            }
            Kind::Exists(bounds, body) => {
                let mut found = false;
                self.each_binding(bounds, e.pos, &mut |c| {
                    found = c.eval_bool(body)?;
                    Ok(!found)
                })?;
                Ok(Value::Bool(found))
            }
            Kind::Forall(bounds, body) => {
                let mut all = true;
                self.each_binding(bounds, e.pos, &mut |c| {
                    all = c.eval_bool(body)?;
                    Ok(all)
                })?;
                Ok(Value::Bool(all))
            }
            Kind::Choose(bound, body) => {
                let set = self.eval(&bound.set)?;
                let items = set.elements().or_else(|m| fail(bound.set.pos, m))?;
                for x in items.iter() {
                    let n = self.bind(bound, x.clone(), e.pos)?;
                    let ok = self.eval_bool(body);
                    self.pop(n);
                    if ok? {
                        return Ok(x.clone());
                    }
                }
                fail(e.pos, format!("CHOOSE found no element of {} that satisfies its predicate", show(&set)))
            }
            Kind::SetEnum(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for i in items {
                    vals.push(self.eval(i)?.normalized().or_else(|m| fail(i.pos, m))?);
                }
                Ok(Value::set_of(vals))
            }
            Kind::SetFilter(bound, pred) => {
                let items = self.elems(&bound.set)?;
                let mut out = Vec::new();
                for k in 0..items.len() {
                    let x = items.get(k);
                    let n = self.bind(bound, x.clone(), e.pos)?;
                    let ok = self.eval_bool(pred);
                    self.pop(n);
                    if ok? {
                        out.push(x.clone());
                    }
                }
                Ok(Value::Set(Arc::new(out)))
            }
            Kind::SetMap(bounds, map) => {
                let mut out = Vec::new();
                self.each_binding(bounds, e.pos, &mut |c| {
                    out.push(c.eval(map)?.normalized().or_else(|m| fail(map.pos, m))?);
                    Ok(true)
                })?;
                Ok(Value::set_of(out))
            }
            Kind::FunDef(bounds, body) => {
                let mut pairs = Vec::new();
                let single = bounds.len() == 1;
                self.each_binding_keyed(bounds, e.pos, &mut |c, key| {
                    let v = c.eval(body)?.normalized().or_else(|m| fail(body.pos, m))?;
                    pairs.push((key, v));
                    Ok(true)
                })?;
                let _ = single;
                Ok(Value::fun_of(pairs))
            }
            Kind::FunApp(f, args) => {
                if self.peek(f).is_some() {
                    // f is read, not computed: only the result is cloned.
                    let arg = self.fn_arg(args)?;
                    let fv = self.peek(f).expect("evaluating the argument leaves f readable");
                    return match fv.apply(&arg) {
                        Some(v) => Ok(v.clone()),
                        None => self.apply(&fv.clone(), &arg, e.pos),
                    };
                }
                let fv = self.eval(f)?;
                let arg = self.fn_arg(args)?;
                self.apply(&fv, &arg, e.pos)
            }
            Kind::Dot(r, field) => {
                if let Some(v) = self.peek(r).and_then(|rv| rv.field(*field)) {
                    return Ok(v.clone());
                }
                let rv = self.eval(r)?;
                match rv.field(*field) {
                    Some(v) => Ok(v.clone()),
                    None => fail(e.pos, format!("record {} has no field `{field}`", show(&rv))),
                }
            }
            Kind::FunSet(a, b) => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                Ok(Value::Lazy(Arc::new(Lazy::Funs(a, b))))
            }
            Kind::RecDef(fields) => {
                let mut out = Vec::with_capacity(fields.len());
                for (k, v) in fields {
                    out.push((k.clone(), self.eval(v)?.normalized().or_else(|m| fail(v.pos, m))?));
                }
                Ok(Value::record(out))
            }
            Kind::RecSet(fields) => {
                let mut sets = Vec::new();
                for (k, v) in fields {
                    let s = self.eval(v)?;
                    sets.push((k.clone(), s.elements().or_else(|m| fail(v.pos, m))?));
                }
                let mut out: Vec<Vec<(super::value::Str, Value)>> = vec![Vec::new()];
                for (k, items) in &sets {
                    let mut grown = Vec::new();
                    for partial in &out {
                        for x in items.iter() {
                            let mut r = partial.clone();
                            r.push((k.clone(), x.clone()));
                            grown.push(r);
                        }
                    }
                    out = grown;
                }
                Ok(Value::set_of(out.into_iter().map(Value::record).collect()))
            }
            Kind::Tuple(items) => {
                let mut vals = Vec::with_capacity(items.len());
                for i in items {
                    vals.push(self.eval(i)?.normalized().or_else(|m| fail(i.pos, m))?);
                }
                Ok(Value::Seq(Arc::new(vals)))
            }
            Kind::Except(base, updates, _) => {
                let mut v = self.eval(base)?;
                for (path, new) in updates {
                    let mut keys = Vec::with_capacity(path.len());
                    for step in path {
                        keys.push(match step {
                            ExceptStep::Field(f) => Value::Str(*f),
                            ExceptStep::Apply(args) => self.fn_arg(args)?,
                        });
                    }
                    v = self.except(v, &keys, new, e.pos)?;
                }
                Ok(v)
            }
            Kind::Unchanged(inner) => {
                if self.mode != Mode::Next {
                    return fail(e.pos, "UNCHANGED appears where there is no next state");
                }
                let now = self.eval(inner)?;
                let was = self.primed;
                self.primed = true;
                let then = self.eval(inner);
                self.primed = was;
                Ok(Value::Bool(now == then?))
            }
            Kind::BoxAction(a, v) => {
                if self.eval_bool(a)? {
                    return Ok(Value::Bool(true));
                }
                let now = self.eval(v)?;
                let was = self.primed;
                self.primed = true;
                let then = self.eval(v);
                self.primed = was;
                Ok(Value::Bool(now == then?))
            }
            Kind::AngleAction(a, v) => {
                if !self.eval_bool(a)? {
                    return Ok(Value::Bool(false));
                }
                let now = self.eval(v)?;
                let was = self.primed;
                self.primed = true;
                let then = self.eval(v);
                self.primed = was;
                Ok(Value::Bool(now != then?))
            }
            Kind::Enabled(a) => self.enabled(a).map(Value::Bool),
            Kind::Always(_) | Kind::Eventually(_) | Kind::LeadsTo(..) | Kind::Fair { .. } => {
                fail(e.pos, "a temporal formula cannot be evaluated in a state; list it under PROPERTIES")
            }
        }
    }

    /// The value of an expression that only reads one already there (a
    /// variable of the current state, a primed variable already bound, a
    /// constant, a bound local, a record field of one of those), borrowed
    /// instead of cloned; `None` for anything else, which [`Ctx::eval`]
    /// computes (and reports the errors of).
    fn peek<'a>(&'a self, e: &'a Expr) -> Option<&'a Value> {
        match &e.kind {
            Kind::Lit(v) => Some(v),
            Kind::Var(v) if !self.primed && self.mode != Mode::Init => self.cur.get(*v as usize),
            Kind::Prime(v) if !self.primed => self.next.get(*v as usize)?.as_ref(),
            Kind::Const(c) => self.prog.const_values.get(*c as usize),
            Kind::Local(k) => match self.stack.get(self.base + *k as usize)? {
                Slot::Val(v) => Some(v),
                Slot::Pending(_) => None,
            },
            Kind::Dot(r, field) => self.peek(r)?.field(*field),
            // f[a] with both read: a function applied inside its domain (an
            // argument outside it is left to eval, which reports it).
            Kind::FunApp(f, args) if args.len() == 1 => self.peek(f)?.apply(self.peek(&args[0])?),
            // A definition without arguments already computed: folded, or
            // memoized in this state.
            Kind::Call(d, args) if args.is_empty() => {
                let def = &self.prog.defs[*d as usize];
                if let Some(v) = &def.folded {
                    return Some(v);
                }
                if self.zero_memoizable(def) {
                    return self.memo.zero.get(*d as usize)?.as_ref();
                }
                None
            }
            _ => None,
        }
    }

    /// Whether this context evaluates in the current state alone (not
    /// enumerating Init, not under a prime): where [`Memo`] holds.
    fn in_state(&self) -> bool {
        self.mode != Mode::Init && !self.primed
    }

    /// Whether the value of `def` without arguments is kept in, and read
    /// from, the state's [`Memo`].
    fn zero_memoizable(&self, def: &super::ast::Def) -> bool {
        self.in_state() && !def.action_level && !def.is_function
    }

    fn eval_all(&mut self, args: &'p [Expr]) -> R<Vec<Value>> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(a)?);
        }
        Ok(vals)
    }

    /// The argument of `f[a, b]`: one value, or a tuple of several.
    fn fn_arg(&mut self, args: &'p [Expr]) -> R<Value> {
        if args.len() == 1 {
            self.eval(&args[0])
        } else {
            Ok(Value::Seq(Arc::new(self.eval_all(args)?)))
        }
    }

    fn apply(&self, f: &Value, arg: &Value, pos: Pos) -> R<Value> {
        match f.apply(arg) {
            Some(v) => Ok(v.clone()),
            None if f.is_function() => {
                fail(pos, format!("function applied outside its domain: argument {} is not in the domain of {}", show(arg), show(f)))
            }
            None => fail(pos, format!("{} is {}, not a function, and cannot be applied", show(f), f.kind())),
        }
    }

    pub fn call_def(&mut self, d: u32, vals: Vec<Value>, pos: Pos) -> R<Value> {
        let prog = self.prog;
        let def = &prog.defs[d as usize];
        if def.is_function {
            return self.whole_fn_def(d, pos);
        }
        let Some(body) = &def.body else {
            return fail(pos, format!("`{}` has no definition", def.name));
        };
        let old = self.base;
        let depth = self.stack.len();
        self.base = depth;
        for v in vals {
            self.push(v);
        }
        let r = self.deeper(pos, |c| c.eval(body));
        self.stack.truncate(depth);
        self.base = old;
        r
    }

    fn call_value(&mut self, op: &Value, vals: Vec<Value>, pos: Pos) -> R<Value> {
        let Value::Op(c) = op else {
            return fail(pos, format!("{} is not an operator", show(op)));
        };
        if c.arity != vals.len() {
            return fail(pos, format!("operator {} takes {} arguments, given {}", c.name, c.arity, vals.len()));
        }
        match &c.target {
            Target::Global(d) => self.call_def(*d, vals, pos),
            Target::Builtin(b) => self.builtin_values(*b, vals, pos),
            Target::Lambda(l, captured) => {
                let old = self.base;
                let depth = self.stack.len();
                self.base = depth;
                for v in captured {
                    self.push(v.clone());
                }
                for v in vals {
                    self.push(v);
                }
                // SAFETY: every Lambda is owned by the Program's syntax tree
                // (closures hold clones of its Arcs), so its body lives for 'p.
                let body: &Expr = &l.body;
                let body: &'p Expr = unsafe { &*(body as *const Expr) };
                let r = self.deeper(pos, |c| c.eval(body));
                self.stack.truncate(depth);
                self.base = old;
                r
            }
        }
    }

    /// `f[a]` for a top-level function definition `f[x \in S] == e`.
    fn apply_fn_def(&mut self, d: u32, vals: Vec<Value>, pos: Pos) -> R<Value> {
        let prog = self.prog;
        let def = &prog.defs[d as usize];
        let (Some(bounds), Some(body)) = (&def.function, &def.body) else {
            return fail(pos, format!("`{}` is not defined as a function", def.name));
        };
        let old = self.base;
        let depth = self.stack.len();
        self.base = depth;
        let r = self.bind_fn_arg(&def.name, bounds, vals, pos).and_then(|()| self.deeper(pos, |c| c.eval(body)));
        self.stack.truncate(depth);
        self.base = old;
        r
    }

    /// `f[a]` for a LET function definition `f[x \in S] == e` (a lambda
    /// whose body is `[x \in S |-> e]`): e at a alone, in the frame of the
    /// LET, so that e may apply f again.
    fn apply_let_fn(&mut self, i: u32, vals: Vec<Value>, pos: Pos) -> R<Value> {
        let prog = self.prog;
        let lambda: &'p Lambda = &prog.lambdas[i as usize];
        let Kind::FunDef(bounds, body) = &lambda.body.kind else {
            return fail(pos, format!("`{}` is not defined as a function", lambda.name));
        };
        let base = self.base;
        self.at_depth(base, lambda.depth, |c| {
            c.bind_fn_arg(&lambda.name, bounds, vals, pos)?;
            c.deeper(pos, |c| c.eval(body))
        })
    }

    /// Binds the binders of the function definition `name[bounds] == e` to
    /// the argument `f[vals]` is applied to, after checking that it lies in
    /// the function's domain: each part in its binder's set.
    fn bind_fn_arg(&mut self, name: &str, bounds: &'p [Bound], vals: Vec<Value>, pos: Pos) -> R<()> {
        let key = if vals.len() == 1 { vals.into_iter().next().expect("one") } else { Value::Seq(Arc::new(vals)) };
        let parts: Vec<Value> = if bounds.len() == 1 && bounds[0].tuple.is_none() {
            vec![key]
        } else {
            match &key {
                Value::Seq(items) if items.len() == bounds.len() => items.as_ref().clone(),
                _ => return fail(pos, format!("function {name} applied outside its domain: {}", show(&key))),
            }
        };
        for (b, part) in bounds.iter().zip(parts) {
            let set = self.eval(&b.set)?;
            if !set.contains(&part).or_else(|m| fail(b.set.pos, m))? {
                return fail(pos, format!("function {name} applied outside its domain: {} is not in {}", show(&part), show(&set)));
            }
            self.bind(b, part, pos)?;
        }
        Ok(())
    }

    /// `DOMAIN f` for a top-level function definition `f[x \in S] == e`:
    /// its binders' sets (their product for several), without evaluating e,
    /// as TLC does (e may take DOMAIN f). A LET function's is compiled to
    /// the same (see `parse.rs`).
    fn fn_def_domain(&mut self, d: u32, pos: Pos) -> R<Value> {
        let prog = self.prog;
        let def = &prog.defs[d as usize];
        let Some(bounds) = &def.function else {
            return fail(pos, format!("`{}` is not defined as a function", def.name));
        };
        let old = self.base;
        let depth = self.stack.len();
        self.base = depth;
        let r = (|| {
            if let [b] = bounds.as_slice() {
                return self.eval(&b.set);
            }
            let sets = bounds.iter().map(|b| self.eval(&b.set)).collect::<R<Vec<Value>>>()?;
            self.builtin_values(Builtin::Product, sets, pos)
        })();
        self.stack.truncate(depth);
        self.base = old;
        r
    }

    fn whole_fn_def(&mut self, d: u32, pos: Pos) -> R<Value> {
        let prog = self.prog;
        let def = &prog.defs[d as usize];
        let (Some(bounds), Some(body)) = (&def.function, &def.body) else {
            return fail(pos, format!("`{}` is not defined as a function", def.name));
        };
        let old = self.base;
        let depth = self.stack.len();
        self.base = depth;
        let mut pairs = Vec::new();
        let r = self.deeper(pos, |c| {
            c.each_binding_keyed(bounds, pos, &mut |c, key| {
                pairs.push((key, c.eval(body)?));
                Ok(true)
            })
        });
        self.stack.truncate(depth);
        self.base = old;
        r?;
        Ok(Value::fun_of(pairs))
    }

    /// The elements a binder ranges over. `DOMAIN s` of a sequence and a
    /// range `a..b` are integers counted, not listed; any other set is
    /// evaluated and listed (with the errors of [`Value::elements`]).
    fn elems(&mut self, set: &'p Expr) -> R<Elems> {
        match &set.kind {
            Kind::Builtin(Builtin::Domain, args) if args.len() == 1 => {
                if let Some(Value::Seq(items)) = self.peek(&args[0]) {
                    return Ok(Elems::Ints(1, items.len() as i64));
                }
            }
            Kind::Builtin(Builtin::Range, args) if args.len() == 2 => {
                let lo = self.eval(&args[0])?;
                let hi = self.eval(&args[1])?;
                if let (Value::Int(a), Value::Int(b)) = (&lo, &hi) {
                    if b.saturating_sub(*a) <= super::value::EAGER_RANGE {
                        return Ok(Elems::Ints(*a, *b));
                    }
                }
                let v = self.builtin_values(Builtin::Range, vec![lo, hi], set.pos)?;
                return Ok(Elems::List(v.elements().or_else(|m| fail(set.pos, m))?));
            }
            _ => {}
        }
        let v = self.eval(set)?;
        Ok(Elems::List(v.elements().or_else(|m| fail(set.pos, m))?))
    }

    /// Binds one binder to x; returns the number of slots pushed.
    fn bind(&mut self, b: &Bound, x: Value, pos: Pos) -> R<usize> {
        match b.tuple {
            None => {
                self.push(x);
                Ok(1)
            }
            Some(n) => match &x {
                Value::Seq(items) if items.len() == n => {
                    for i in items.iter() {
                        self.push(i.clone());
                    }
                    Ok(n)
                }
                _ => fail(pos, format!("{} does not match a tuple of {n} names", show(&x))),
            },
        }
    }

    /// Calls `f` for each assignment to the binders, until it returns false.
    fn each_binding(&mut self, bounds: &'p [Bound], pos: Pos, f: &mut dyn FnMut(&mut Self) -> R<bool>) -> R<bool> {
        let mut sets = Vec::with_capacity(bounds.len());
        for b in bounds {
            sets.push(self.elems(&b.set)?);
        }
        self.each_of(bounds, &sets, 0, pos, false, &mut |c, _| f(c))
    }

    /// As [`Ctx::each_binding`], also giving the function argument the
    /// binding stands for.
    fn each_binding_keyed(
        &mut self,
        bounds: &'p [Bound],
        pos: Pos,
        f: &mut dyn FnMut(&mut Self, Value) -> R<bool>,
    ) -> R<bool> {
        let mut sets = Vec::with_capacity(bounds.len());
        for b in bounds {
            sets.push(self.elems(&b.set)?);
        }
        self.each_of(bounds, &sets, 0, pos, true, f)
    }

    fn each_of(
        &mut self,
        bounds: &'p [Bound],
        sets: &[Elems],
        i: usize,
        pos: Pos,
        keyed: bool,
        f: &mut dyn FnMut(&mut Self, Value) -> R<bool>,
    ) -> R<bool> {
        if i == bounds.len() {
            let key = if keyed { self.key_of(bounds) } else { Value::Bool(false) };
            return f(self, key);
        }
        for k in 0..sets[i].len() {
            let n = self.bind(&bounds[i], sets[i].get(k), pos)?;
            let go = self.each_of(bounds, sets, i + 1, pos, keyed, f);
            self.pop(n);
            if !go? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The tuple of the values bound by `bounds`, for a multi-argument function.
    fn key_of(&self, bounds: &[Bound]) -> Value {
        let slots: usize = bounds.iter().map(|b| b.tuple.unwrap_or(1)).sum();
        let top = self.stack.len();
        let vals: Vec<Value> = self.stack[top - slots..]
            .iter()
            .map(|s| match s {
                Slot::Val(v) => v.clone(),
                Slot::Pending(_) => Value::Bool(false),
            })
            .collect();
        // Each binder is one component; a tuple binder's component is its tuple.
        let mut comps = Vec::new();
        let mut at = 0;
        for b in bounds {
            match b.tuple {
                None => {
                    comps.push(vals[at].clone());
                    at += 1;
                }
                Some(n) => {
                    comps.push(Value::Seq(Arc::new(vals[at..at + n].to_vec())));
                    at += n;
                }
            }
        }
        if comps.len() == 1 { comps.pop().expect("one") } else { Value::Seq(Arc::new(comps)) }
    }

    fn except(&mut self, v: Value, keys: &[Value], new: &'p Expr, pos: Pos) -> R<Value> {
        let Some((key, rest)) = keys.split_first() else {
            // @ is the old value.
            self.push(v);
            let r = self.eval(new).and_then(|x| x.normalized().or_else(|m| fail(new.pos, m)));
            self.pop(1);
            return r;
        };
        let Some(old) = v.apply(key).cloned() else {
            if v.is_function() {
                // [f EXCEPT ![x] = e] with x outside DOMAIN f is f.
                return Ok(v);
            }
            return fail(pos, format!("EXCEPT applied to {} ({}), not a function", show(&v), v.kind()));
        };
        let updated = self.except(old, rest, new, pos)?;
        Ok(match v {
            Value::Seq(mut items) => {
                let Value::Int(i) = key else { unreachable!("applied above") };
                Arc::make_mut(&mut items)[(*i - 1) as usize] = updated;
                Value::Seq(items)
            }
            Value::Rec(mut fields) => {
                let Value::Str(k) = key else { unreachable!("applied above") };
                let f = Arc::make_mut(&mut fields);
                if let Some(slot) = f.iter_mut().find(|(n, _)| n == k) {
                    slot.1 = updated;
                }
                Value::Rec(fields)
            }
            Value::Fun(mut pairs) => {
                let p = Arc::make_mut(&mut pairs);
                if let Ok(i) = p.binary_search_by(|(k, _)| k.cmp(key)) {
                    p[i].1 = updated;
                }
                Value::Fun(pairs)
            }
            other => other,
        })
    }

    fn enabled(&mut self, a: &'p Expr) -> R<bool> {
        self.enabled_with(a, None)
    }

    /// ENABLED <<A>>_v in the current state, with `locals` bound first (the
    /// variables of `\A p \in S` around a fairness condition): whether some
    /// step from here is an A step that changes v.
    pub fn enabled_changing(&mut self, a: &'p Expr, v: &'p Expr, locals: &[Value]) -> R<bool> {
        let base = self.stack.len();
        for x in locals {
            self.push(x.clone());
        }
        let r = self.enabled_with(a, Some((v, base, locals.len())));
        self.pop(locals.len());
        r
    }

    fn enabled_with(&mut self, a: &'p Expr, angle: Option<(&'p Expr, usize, usize)>) -> R<bool> {
        if self.mode == Mode::Init {
            return fail(a.pos, "ENABLED appears in Init");
        }
        let saved_angle = std::mem::replace(&mut self.angle, angle);
        let saved_next = std::mem::replace(&mut self.next, vec![None; self.prog.vars.len()]);
        let saved_mode = std::mem::replace(&mut self.mode, Mode::Next);
        let saved_probe = std::mem::replace(&mut self.probe, true);
        let saved_out = std::mem::take(&mut self.out);
        let saved_trail = std::mem::take(&mut self.trail);
        let mut conts = Vec::new();
        let r = self.enumerate(a, &mut conts);
        let found = !self.out.is_empty();
        self.angle = saved_angle;
        self.next = saved_next;
        self.mode = saved_mode;
        self.probe = saved_probe;
        self.out = saved_out;
        self.trail = saved_trail;
        r?;
        Ok(found)
    }

    /// Evaluates an action predicate on the step from the current state to
    /// `next`, with `locals` bound first (the variables of `\A p \in S`
    /// around a fairness condition).
    pub fn eval_step(&mut self, a: &'p Expr, next: &[Value], locals: &[Value]) -> R<bool> {
        self.next = next.iter().cloned().map(Some).collect();
        self.mode = Mode::Next;
        for v in locals {
            self.push(v.clone());
        }
        let r = self.eval_bool(a);
        self.pop(locals.len());
        r
    }

    /// The successors of the current state under an action, with `locals`
    /// bound first.
    pub fn successors_with(&mut self, a: &'p Expr, locals: &[Value]) -> R<()> {
        for v in locals {
            self.push(v.clone());
        }
        let r = self.successors(a);
        self.pop(locals.len());
        r
    }

    /// Evaluates an expression with `locals` bound first.
    pub fn eval_with(&mut self, e: &'p Expr, locals: &[Value]) -> R<Value> {
        for v in locals {
            self.push(v.clone());
        }
        let r = self.eval(e);
        self.pop(locals.len());
        r
    }

    // ----------------------------------------------------------- enumeration

    /// The initial states `init` allows.
    pub fn init_states(&mut self, init: &'p Expr) -> R<()> {
        self.mode = Mode::Init;
        self.next = vec![None; self.prog.vars.len()];
        let mut conts = Vec::new();
        self.enumerate(init, &mut conts)?;
        Ok(())
    }

    /// The successors of the current state under `next`.
    pub fn successors(&mut self, next: &'p Expr) -> R<()> {
        self.mode = Mode::Next;
        for n in self.next.iter_mut() {
            *n = None;
        }
        let mut conts = Vec::new();
        self.enumerate(next, &mut conts)?;
        Ok(())
    }

    /// Whether the target of an assignment is a variable not yet bound.
    fn target(&self, e: &Expr) -> Option<u32> {
        match (&e.kind, self.mode) {
            (Kind::Prime(v), Mode::Next) | (Kind::Var(v), Mode::Init) if self.next[*v as usize].is_none() => Some(*v),
            _ => None,
        }
    }

    /// Continues with the remaining conjuncts; at the end, emits a state.
    /// Returns true to stop (ENABLED found a state).
    fn proceed(&mut self, conts: &mut Vec<Cont<'p>>) -> R<bool> {
        let Some(c) = conts.pop() else {
            return self.emit();
        };
        let r = self.at_depth(c.base, c.depth, |ctx| ctx.enumerate(c.expr, conts));
        conts.push(c);
        r
    }

    fn emit(&mut self) -> R<bool> {
        if self.probe {
            // ENABLED: variables the action leaves unassigned may take any
            // value, as TLC computes it.
            if let Some((v, base, depth)) = self.angle {
                let changed = self.at_depth(base, depth, |c| {
                    let now = c.eval(v)?;
                    let was = c.primed;
                    c.primed = true;
                    let then = c.eval(v);
                    c.primed = was;
                    Ok(now != then?)
                })?;
                if !changed {
                    return Ok(false);
                }
            }
            self.out.push(Generated { state: Vec::new(), trail: Vec::new() });
            return Ok(true);
        }
        let mut state = Vec::with_capacity(self.next.len());
        for (i, v) in self.next.iter().enumerate() {
            match v {
                Some(v) => state.push(v.clone()),
                None => {
                    let name = &self.prog.vars[i];
                    return fail(
                        self.prog.action_pos,
                        format!(
                            "a {} leaves variable {name} unassigned",
                            if self.mode == Mode::Init { "initial state" } else { "step" }
                        ),
                    );
                }
            }
        }
        self.out.push(Generated { state, trail: if self.probe { Vec::new() } else { self.trail.clone() } });
        Ok(self.probe)
    }

    fn assign(&mut self, v: u32, value: Value, pos: Pos, conts: &mut Vec<Cont<'p>>) -> R<bool> {
        let value = value.normalized().or_else(|m| fail(pos, m))?;
        self.next[v as usize] = Some(value);
        let r = self.proceed(conts);
        self.next[v as usize] = None;
        r
    }

    fn enumerate(&mut self, e: &'p Expr, conts: &mut Vec<Cont<'p>>) -> R<bool> {
        match &e.kind {
            Kind::And(items) => {
                let base = self.base;
                let depth = self.stack.len() - base;
                for item in items[1..].iter().rev() {
                    conts.push(Cont { expr: item, base, depth });
                }
                let r = self.enumerate(&items[0], conts);
                conts.truncate(conts.len() - (items.len() - 1));
                r
            }
            Kind::Or(items) => {
                for item in items {
                    if self.enumerate(item, conts)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Kind::Exists(bounds, body) => {
                let mut stop = false;
                let names: Vec<&Arc<str>> = bounds.iter().flat_map(|b| b.names.iter()).collect();
                self.each_binding(bounds, e.pos, &mut |c| {
                    let slots = names.len();
                    let top = c.stack.len();
                    let mark = c.trail.len();
                    if !c.probe {
                        for (k, n) in names.iter().enumerate() {
                            if let Slot::Val(v) = &c.stack[top - slots + k] {
                                c.trail.push(Trail::Bind((*n).clone(), v.clone()));
                            }
                        }
                    }
                    let r = c.enumerate(body, conts);
                    c.trail.truncate(mark);
                    stop = r?;
                    Ok(!stop)
                })?;
                Ok(stop)
            }
            Kind::If(c, t, f) => {
                if self.eval_bool(c)? {
                    self.enumerate(t, conts)
                } else {
                    self.enumerate(f, conts)
                }
            }
            Kind::Case(arms, other) => {
                for (guard, value) in arms {
                    if self.eval_bool(guard)? {
                        return self.enumerate(value, conts);
                    }
                }
                match other {
                    Some(o) => self.enumerate(o, conts),
                    None => fail(e.pos, "no CASE arm is true and there is no OTHER"),
                }
            }
            Kind::Let { values, body, .. } => {
                for v in values {
                    self.stack.push(Slot::Pending(v));
                }
                let r = self.enumerate(body, conts);
                self.pop(values.len());
                r
            }
            Kind::Call(d, args) => {
                let prog = self.prog;
                let def = &prog.defs[*d as usize];
                if def.folded.is_some() || def.is_function || !def.state_level {
                    return self.guard(e, conts);
                }
                let Some(body) = &def.body else { return self.guard(e, conts) };
                let vals = self.eval_all(args)?;
                let mark = self.trail.len();
                if !self.probe {
                    self.trail.push(Trail::Op(*d));
                    for (n, v) in def.param_names.iter().zip(&vals) {
                        self.trail.push(Trail::Bind(n.clone(), v.clone()));
                    }
                }
                let old = self.base;
                let depth = self.stack.len();
                self.base = depth;
                for v in vals {
                    self.push(v);
                }
                let r = self.deeper(e.pos, |c| c.enumerate(body, conts));
                self.stack.truncate(depth);
                self.base = old;
                self.trail.truncate(mark);
                r
            }
            Kind::LetCall(i, args) => {
                let lambda: &'p Lambda = &self.prog.lambdas[*i as usize];
                let vals = self.eval_all(args)?;
                let base = self.base;
                self.at_depth(base, lambda.depth, |c| {
                    for v in vals {
                        c.push(v);
                    }
                    c.deeper(e.pos, |c| c.enumerate(&lambda.body, conts))
                })
            }
            Kind::Local(k) => {
                if let Slot::Pending(body) = &self.stack[self.base + *k as usize] {
                    let body = *body;
                    let base = self.base;
                    // A LET definition used as an action: enumerated, not cached.
                    return self.at_depth(base, *k as usize, |c| c.enumerate(body, conts));
                }
                self.guard(e, conts)
            }
            Kind::Builtin(Builtin::Eq, args) => {
                if let Some(v) = self.target(&args[0]) {
                    let value = self.eval(&args[1])?;
                    return self.assign(v, value, e.pos, conts);
                }
                self.guard(e, conts)
            }
            Kind::Builtin(Builtin::In, args) => {
                if let Some(v) = self.target(&args[0]) {
                    let set = self.eval(&args[1])?;
                    let items = set.elements().or_else(|m| fail(args[1].pos, m))?;
                    for x in items.iter() {
                        if self.assign(v, x.clone(), e.pos, conts)? {
                            return Ok(true);
                        }
                    }
                    return Ok(false);
                }
                self.guard(e, conts)
            }
            Kind::Unchanged(inner) if self.mode == Mode::Next => self.unchanged(inner, e.pos, conts),
            Kind::BoxAction(a, v) if self.mode == Mode::Next => {
                if self.enumerate(a, conts)? {
                    return Ok(true);
                }
                self.unchanged(v, e.pos, conts)
            }
            Kind::Implies(a, b) => {
                if self.eval_bool(a)? {
                    self.enumerate(b, conts)
                } else {
                    self.proceed(conts)
                }
            }
            _ => self.guard(e, conts),
        }
    }

    /// A conjunct that assigns nothing: evaluated, and a false one prunes.
    fn guard(&mut self, e: &'p Expr, conts: &mut Vec<Cont<'p>>) -> R<bool> {
        if self.eval_bool(e)? {
            self.proceed(conts)
        } else {
            Ok(false)
        }
    }

    /// `UNCHANGED e`: binds each variable of e to its value now.
    fn unchanged(&mut self, inner: &'p Expr, pos: Pos, conts: &mut Vec<Cont<'p>>) -> R<bool> {
        let mut vars = Vec::new();
        if !self.unchanged_vars(inner, &mut vars) {
            // Not a tuple of variables: compare e and e'.
            let now = self.eval(inner)?;
            let was = self.primed;
            self.primed = true;
            let then = self.eval(inner);
            self.primed = was;
            return if now == then? { self.proceed(conts) } else { Ok(false) };
        }
        let mut bound = Vec::new();
        for v in vars {
            match &self.next[v as usize] {
                None => {
                    self.next[v as usize] = Some(self.cur[v as usize].clone());
                    bound.push(v);
                }
                Some(x) => {
                    if *x != self.cur[v as usize] {
                        for b in bound {
                            self.next[b as usize] = None;
                        }
                        return Ok(false);
                    }
                }
            }
        }
        let _ = pos;
        let r = self.proceed(conts);
        for b in bound {
            self.next[b as usize] = None;
        }
        r
    }

    fn unchanged_vars(&self, e: &Expr, out: &mut Vec<u32>) -> bool {
        match &e.kind {
            Kind::Var(v) => {
                out.push(*v);
                true
            }
            Kind::Tuple(items) => items.iter().all(|i| self.unchanged_vars(i, out)),
            Kind::Call(d, args) if args.is_empty() => {
                let def = &self.prog.defs[*d as usize];
                if def.folded.is_some() {
                    return true;
                }
                match &def.body {
                    Some(b) if !def.is_function => self.unchanged_vars(b, out),
                    _ => false,
                }
            }
            Kind::Lit(_) | Kind::Const(_) => true,
            _ => false,
        }
    }

    // -------------------------------------------------------------- builtins

    fn builtin(&mut self, b: Builtin, args: &'p [Expr], pos: Pos) -> R<Value> {
        use Builtin::*;
        // The size of a sequence or a set read where it is, not cloned.
        if let (Len | Cardinality, [x]) = (b, args) {
            let n = self.peek(x).and_then(|v| match (b, v) {
                (Len, Value::Seq(items)) | (Cardinality, Value::Set(items)) => Some(items.len()),
                _ => None,
            });
            if let Some(n) = n {
                return Ok(Value::Int(n as i64));
            }
        }
        match b {
            Domain if matches!(&args[0].kind, Kind::Call(d, a) if a.is_empty() && self.prog.defs[*d as usize].function.is_some()) => {
                let Kind::Call(d, _) = &args[0].kind else { unreachable!("matched above") };
                self.fn_def_domain(*d, pos)
            }
            Eq | Neq => {
                let eq = match (self.peek(&args[0]), self.peek(&args[1])) {
                    (Some(x), Some(y)) => self.equal(x, y, pos)?,
                    (Some(_), None) => {
                        let y = self.eval(&args[1])?;
                        let x = self.peek(&args[0]).expect("evaluating y leaves x readable");
                        self.equal(x, &y, pos)?
                    }
                    (None, Some(_)) => {
                        let x = self.eval(&args[0])?;
                        let y = self.peek(&args[1]).expect("evaluating x leaves y readable");
                        self.equal(&x, y, pos)?
                    }
                    (None, None) => {
                        let (x, y) = (self.eval(&args[0])?, self.eval(&args[1])?);
                        self.equal(&x, &y, pos)?
                    }
                };
                Ok(Value::Bool(if b == Eq { eq } else { !eq }))
            }
            In | NotIn => {
                let r = match (self.peek(&args[0]), self.peek(&args[1])) {
                    (Some(x), Some(s)) => s.contains(x),
                    _ => {
                        let x = self.eval(&args[0])?;
                        match self.peek(&args[1]) {
                            Some(s) => s.contains(&x),
                            None => self.eval(&args[1])?.contains(&x),
                        }
                    }
                };
                let r = r.or_else(|m| fail(pos, m))?;
                Ok(Value::Bool(if b == In { r } else { !r }))
            }
            // Integer arithmetic and comparison, the commonest operators,
            // without a vector of arguments; other operands go the general way.
            Plus | Minus | Times | Lt | Gt | Le | Ge => {
                let x = self.eval(&args[0])?;
                let y = self.eval(&args[1])?;
                if let (Value::Int(a), Value::Int(c)) = (&x, &y) {
                    let (a, c) = (*a, *c);
                    let n = match b {
                        Plus => a.checked_add(c),
                        Minus => a.checked_sub(c),
                        Times => a.checked_mul(c),
                        Lt => return Ok(Value::Bool(a < c)),
                        Gt => return Ok(Value::Bool(a > c)),
                        Le => return Ok(Value::Bool(a <= c)),
                        _ => return Ok(Value::Bool(a >= c)),
                    };
                    return match n {
                        Some(n) => Ok(Value::Int(n)),
                        None => fail(pos, "integer overflow"),
                    };
                }
                self.builtin_values(b, vec![x, y], pos)
            }
            _ => {
                let vals = self.eval_all(args)?;
                self.builtin_values(b, vals, pos)
            }
        }
    }

    fn equal(&self, x: &Value, y: &Value, pos: Pos) -> R<bool> {
        if !x.comparable(y) {
            return fail(pos, format!("cannot compare {} ({}) with {} ({})", show(x), x.kind(), show(y), y.kind()));
        }
        match (x, y) {
            (Value::Lazy(_), _) | (_, Value::Lazy(_)) => {
                let a = x.clone().normalized().or_else(|m| fail(pos, m))?;
                let b = y.clone().normalized().or_else(|m| fail(pos, m))?;
                Ok(a == b)
            }
            _ => Ok(x == y),
        }
    }

    pub fn builtin_values(&mut self, b: Builtin, vals: Vec<Value>, pos: Pos) -> R<Value> {
        use Builtin::*;
        let int = |v: &Value| -> R<i64> {
            match v {
                Value::Int(n) => Ok(*n),
                other => fail(pos, format!("expected an integer, found {} ({})", show(other), other.kind())),
            }
        };
        let seq = |v: &Value| -> R<Arc<Vec<Value>>> {
            match v {
                Value::Seq(items) => Ok(items.clone()),
                other => fail(pos, format!("expected a sequence, found {} ({})", show(other), other.kind())),
            }
        };
        let set = |v: &Value| -> R<Arc<Vec<Value>>> { v.elements().or_else(|m| fail(pos, m)) };
        let overflow = || Box::new(EvalError { pos, msg: "integer overflow".into() });
        let arith = |f: fn(i64, i64) -> Option<i64>| -> R<Value> {
            Ok(Value::Int(f(int(&vals[0])?, int(&vals[1])?).ok_or_else(overflow)?))
        };
        Ok(match b {
            Plus => arith(i64::checked_add)?,
            Minus => arith(i64::checked_sub)?,
            Times => arith(i64::checked_mul)?,
            Neg => Value::Int(int(&vals[0])?.checked_neg().ok_or_else(overflow)?),
            Div => {
                let (a, d) = (int(&vals[0])?, int(&vals[1])?);
                if d == 0 {
                    return fail(pos, "the second argument of \\div is 0");
                }
                // Floor division, as TLC's \div.
                let q = a / d;
                Value::Int(if a % d != 0 && ((a < 0) != (d < 0)) { q - 1 } else { q })
            }
            Mod => {
                let (a, d) = (int(&vals[0])?, int(&vals[1])?);
                if d <= 0 {
                    return fail(pos, format!("the second argument of % must be positive, found {d}"));
                }
                Value::Int(a.rem_euclid(d))
            }
            Pow => {
                let (a, e) = (int(&vals[0])?, int(&vals[1])?);
                if e < 0 {
                    return fail(pos, "negative exponent");
                }
                Value::Int(a.checked_pow(u32::try_from(e).map_err(|_| overflow())?).ok_or_else(overflow)?)
            }
            Lt => Value::Bool(int(&vals[0])? < int(&vals[1])?),
            Gt => Value::Bool(int(&vals[0])? > int(&vals[1])?),
            Le => Value::Bool(int(&vals[0])? <= int(&vals[1])?),
            Ge => Value::Bool(int(&vals[0])? >= int(&vals[1])?),
            Range => Value::range(int(&vals[0])?, int(&vals[1])?),
            Eq => Value::Bool(self.equal(&vals[0], &vals[1], pos)?),
            Neq => Value::Bool(!self.equal(&vals[0], &vals[1], pos)?),
            In => Value::Bool(vals[1].contains(&vals[0]).or_else(|m| fail(pos, m))?),
            NotIn => Value::Bool(!vals[1].contains(&vals[0]).or_else(|m| fail(pos, m))?),
            Cup => {
                if matches!(vals[0], Value::Lazy(_)) || matches!(vals[1], Value::Lazy(_)) {
                    return fail(pos, "\\cup of an infinite set is not supported");
                }
                let (a, c) = (set(&vals[0])?, set(&vals[1])?);
                let mut out = Vec::with_capacity(a.len() + c.len());
                out.extend(a.iter().cloned());
                out.extend(c.iter().cloned());
                Value::set_of(out)
            }
            Cap => {
                if let Value::Lazy(_) = vals[0] {
                    let c = set(&vals[1])?;
                    let mut out = Vec::new();
                    for x in c.iter() {
                        if vals[0].contains(x).or_else(|m| fail(pos, m))? {
                            out.push(x.clone());
                        }
                    }
                    return Ok(Value::Set(Arc::new(out)));
                }
                let a = set(&vals[0])?;
                let mut out = Vec::new();
                for x in a.iter() {
                    if vals[1].contains(x).or_else(|m| fail(pos, m))? {
                        out.push(x.clone());
                    }
                }
                Value::Set(Arc::new(out))
            }
            SetMinus => {
                if let Value::Lazy(_) = vals[0] {
                    return Ok(Value::Lazy(Arc::new(Lazy::Diff(vals[0].clone(), vals[1].clone()))));
                }
                let a = set(&vals[0])?;
                let mut out = Vec::new();
                for x in a.iter() {
                    if !vals[1].contains(x).or_else(|m| fail(pos, m))? {
                        out.push(x.clone());
                    }
                }
                Value::Set(Arc::new(out))
            }
            Subseteq | Subset | Supseteq | Supset => {
                let (small, big) = if matches!(b, Subseteq | Subset) { (&vals[0], &vals[1]) } else { (&vals[1], &vals[0]) };
                let items = set(small)?;
                let mut all = true;
                for x in items.iter() {
                    if !big.contains(x).or_else(|m| fail(pos, m))? {
                        all = false;
                        break;
                    }
                }
                let strict = matches!(b, Subset | Supset);
                Value::Bool(all && (!strict || !self.equal(small, big, pos)?))
            }
            Powerset => Value::Lazy(Arc::new(Lazy::Subset(vals[0].clone()))),
            Union => {
                let outer = set(&vals[0])?;
                let mut out = Vec::new();
                for s in outer.iter() {
                    out.extend(set(s)?.iter().cloned());
                }
                Value::set_of(out)
            }
            Domain => match vals[0].domain() {
                Some(d) => d,
                None => return fail(pos, format!("DOMAIN of {} ({}), which is not a function", show(&vals[0]), vals[0].kind())),
            },
            Product => {
                let mut out: Vec<Vec<Value>> = vec![Vec::new()];
                for v in &vals {
                    let items = set(v)?;
                    let mut grown = Vec::with_capacity(out.len() * items.len());
                    for partial in &out {
                        for x in items.iter() {
                            let mut t = partial.clone();
                            t.push(x.clone());
                            grown.push(t);
                        }
                    }
                    out = grown;
                }
                Value::set_of(out.into_iter().map(|t| Value::Seq(Arc::new(t))).collect())
            }
            Concat => {
                if let (Value::Str(a), Value::Str(c)) = (&vals[0], &vals[1]) {
                    return Ok(Value::str(&format!("{a}{c}")));
                }
                let (a, c) = (seq(&vals[0])?, seq(&vals[1])?);
                let mut out = Vec::with_capacity(a.len() + c.len());
                out.extend(a.iter().cloned());
                out.extend(c.iter().cloned());
                Value::Seq(Arc::new(out))
            }
            Len => match &vals[0] {
                Value::Str(s) => Value::Int(s.chars().count() as i64),
                other => Value::Int(seq(other)?.len() as i64),
            },
            Append => {
                let mut s = seq(&vals[0])?;
                Arc::make_mut(&mut s).push(vals[1].clone().normalized().or_else(|m| fail(pos, m))?);
                Value::Seq(s)
            }
            Head => match seq(&vals[0])?.first() {
                Some(v) => v.clone(),
                None => return fail(pos, "Head of the empty sequence"),
            },
            Tail => {
                let s = seq(&vals[0])?;
                if s.is_empty() {
                    return fail(pos, "Tail of the empty sequence");
                }
                Value::Seq(Arc::new(s[1..].to_vec()))
            }
            SubSeq => {
                let s = seq(&vals[0])?;
                let (m, n) = (int(&vals[1])?, int(&vals[2])?);
                if m > n {
                    return Ok(Value::empty_seq());
                }
                if m < 1 || n > s.len() as i64 {
                    return fail(pos, format!("SubSeq({}, {m}, {n}) is out of the sequence's bounds 1..{}", show(&vals[0]), s.len()));
                }
                Value::Seq(Arc::new(s[(m - 1) as usize..n as usize].to_vec()))
            }
            SelectSeq => {
                let s = seq(&vals[0])?;
                let mut out = Vec::new();
                for x in s.iter() {
                    match self.call_value(&vals[1], vec![x.clone()], pos)? {
                        Value::Bool(true) => out.push(x.clone()),
                        Value::Bool(false) => {}
                        other => return fail(pos, format!("SelectSeq's test returned {} ({})", show(&other), other.kind())),
                    }
                }
                Value::Seq(Arc::new(out))
            }
            Seq => Value::Lazy(Arc::new(Lazy::Seqs(vals[0].clone()))),
            Cardinality => Value::Int(set(&vals[0])?.len() as i64),
            IsFiniteSet => Value::Bool(match &vals[0] {
                Value::Set(_) => true,
                Value::Lazy(l) => l.elements().is_ok(),
                other => return fail(pos, format!("IsFiniteSet of {}", other.kind())),
            }),
            ColonGt => Value::fun_of(vec![(vals[0].clone(), vals[1].clone())]),
            AtAt => {
                let (Some(f), Some(g)) = (vals[0].fun_pairs(), vals[1].fun_pairs()) else {
                    return fail(pos, "@@ needs two functions");
                };
                let mut out = f;
                for (k, v) in g {
                    if out.binary_search_by(|(x, _)| x.cmp(&k)).is_err() {
                        out.push((k, v));
                    }
                }
                Value::fun_of(out)
            }
            Print => {
                eprintln!("{} {}", vals[0], vals[1]);
                vals[1].clone()
            }
            PrintT => {
                eprintln!("{}", vals[0]);
                Value::Bool(true)
            }
            Assert => match &vals[0] {
                Value::Bool(true) => Value::Bool(true),
                Value::Bool(false) => {
                    let msg = match &vals[1] {
                        Value::Str(s) => s.to_string(),
                        other => other.to_string(),
                    };
                    return fail(pos, format!("Assert failed: {msg}"));
                }
                other => return fail(pos, format!("Assert of {} ({})", show(other), other.kind())),
            },
            ToString => Value::str(&vals[0].to_string()),
            Permutations => {
                let items = set(&vals[0])?;
                let n = items.len();
                if n > 8 {
                    return fail(pos, format!("Permutations of {n} elements is too large"));
                }
                let mut out = Vec::new();
                let mut perm: Vec<usize> = (0..n).collect();
                permute(&mut perm, 0, &mut |p| {
                    out.push(Value::fun_of(items.iter().cloned().zip(p.iter().map(|&i| items[i].clone())).collect()));
                });
                Value::set_of(out)
            }
            SortSeq => {
                let s = seq(&vals[0])?;
                let mut items = s.as_ref().clone();
                // Insertion sort: the comparison can fail, and must be called as TLC does.
                for i in 1..items.len() {
                    let mut j = i;
                    while j > 0 {
                        let less = self.call_value(&vals[1], vec![items[j].clone(), items[j - 1].clone()], pos)?;
                        if less != Value::Bool(true) {
                            break;
                        }
                        items.swap(j, j - 1);
                        j -= 1;
                    }
                }
                Value::Seq(Arc::new(items))
            }
            JavaTime => return fail(pos, "JavaTime is not supported: it would make runs differ"),
            TLCEval => vals[0].clone(),
            Any => return fail(pos, "Any is not supported"),
            BagToSet => match vals[0].domain() {
                Some(d) => d,
                None => return fail(pos, "BagToSet of a non-bag"),
            },
            SetToBag => Value::fun_of(set(&vals[0])?.iter().map(|x| (x.clone(), Value::Int(1))).collect()),
            BagIn => Value::Bool(vals[1].apply(&vals[0]).is_some()),
            EmptyBag => Value::empty_seq(),
            CopiesIn => match vals[1].apply(&vals[0]) {
                Some(v) => v.clone(),
                None => Value::Int(0),
            },
            BagCardinality => {
                let pairs = vals[0].fun_pairs().ok_or_else(|| Box::new(EvalError { pos, msg: "not a bag".into() }))?;
                let mut n = 0i64;
                for (_, c) in pairs {
                    n += int(&c)?;
                }
                Value::Int(n)
            }
            BagCup | BagDiff => {
                let (Some(a), Some(c)) = (vals[0].fun_pairs(), vals[1].fun_pairs()) else {
                    return fail(pos, "bag operator on a non-bag");
                };
                let mut out: Vec<(Value, Value)> = Vec::new();
                let mut keys: Vec<Value> = a.iter().chain(c.iter()).map(|(k, _)| k.clone()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let x = a.iter().find(|(q, _)| *q == k).map_or(Ok(0), |(_, v)| int(v))?;
                    let y = c.iter().find(|(q, _)| *q == k).map_or(Ok(0), |(_, v)| int(v))?;
                    let n = if b == BagCup { x + y } else { x - y };
                    if n > 0 {
                        out.push((k, Value::Int(n)));
                    }
                }
                Value::fun_of(out)
            }
            SqSubseteq => {
                let (Some(a), Some(_)) = (vals[0].fun_pairs(), vals[1].fun_pairs()) else {
                    return fail(pos, "\\sqsubseteq on a non-bag");
                };
                let mut all = true;
                for (k, v) in a {
                    let other = vals[1].apply(&k).cloned().unwrap_or(Value::Int(0));
                    if int(&v)? > int(&other)? {
                        all = false;
                    }
                }
                Value::Bool(all)
            }
            IsABag => Value::Bool(vals[0].fun_pairs().is_some_and(|p| p.iter().all(|(_, v)| matches!(v, Value::Int(n) if *n > 0)))),
            SubBag => {
                let pairs = vals[0].fun_pairs().ok_or_else(|| Box::new(EvalError { pos, msg: "SubBag of a non-bag".into() }))?;
                let mut bags: Vec<Vec<(Value, Value)>> = vec![Vec::new()];
                for (k, c) in pairs {
                    let n = int(&c)?;
                    let mut grown = Vec::with_capacity(bags.len() * (n.max(0) as usize + 1));
                    for bag in &bags {
                        grown.push(bag.clone());
                        for i in 1..=n {
                            let mut with = bag.clone();
                            with.push((k.clone(), Value::Int(i)));
                            grown.push(with);
                        }
                    }
                    bags = grown;
                }
                Value::set_of(bags.into_iter().map(Value::fun_of).collect())
            }
            BagUnion | BagOfAll => {
                // BagUnion(S): the sum of the bags in S; BagOfAll(F, B): F of
                // each element of B, as often as B holds it.
                let mut counts: std::collections::BTreeMap<Value, i64> = std::collections::BTreeMap::new();
                let mut add = |k: Value, n: i64| -> R<()> {
                    let slot = counts.entry(k).or_insert(0);
                    *slot = slot.checked_add(n).ok_or_else(overflow)?;
                    Ok(())
                };
                if b == BagUnion {
                    for bag in set(&vals[0])?.iter() {
                        for (k, c) in bag.fun_pairs().ok_or_else(|| Box::new(EvalError { pos, msg: "BagUnion of a set that holds a non-bag".into() }))? {
                            add(k, int(&c)?)?;
                        }
                    }
                } else {
                    for (k, c) in vals[1].fun_pairs().ok_or_else(|| Box::new(EvalError { pos, msg: "BagOfAll of a non-bag".into() }))? {
                        let image = self.call_value(&vals[0], vec![k], pos)?;
                        add(image, int(&c)?)?;
                    }
                }
                Value::fun_of(counts.into_iter().filter(|(_, n)| *n > 0).map(|(k, n)| (k, Value::Int(n))).collect())
            }
        })
    }
}

fn permute(p: &mut Vec<usize>, k: usize, f: &mut dyn FnMut(&[usize])) {
    if k == p.len() {
        f(p);
        return;
    }
    for i in k..p.len() {
        p.swap(k, i);
        permute(p, k + 1, f);
        p.swap(k, i);
    }
}
