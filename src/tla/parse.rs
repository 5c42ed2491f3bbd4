//! From tree-sitter-tlaplus syntax trees to [`super::ast`]: every name
//! resolved, every construct the interpreter does not implement refused with
//! its position.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tree_sitter::Node;

use super::ast::{Bound, Builtin, Def, ExceptStep, Expr, Kind, Lambda, Pos};
use super::value::{Lazy, Str, Value};
use super::{Program, SpecError};

/// Modules TLC provides; their operators are built in.
pub const STANDARD: &[&str] =
    &["Naturals", "Integers", "Sequences", "FiniteSets", "TLC", "Bags", "TLAPS", "Reals", "RealTime"];

pub(super) struct Source {
    pub path: PathBuf,
    pub text: String,
    pub tree: tree_sitter::Tree,
}

#[derive(Clone, Copy)]
enum Name {
    Slot(u32),
    /// An operator parameter of the given arity (> 0).
    Param(u32, usize),
    LetOp(u32, usize),
    /// A LET function definition `f[x \in S] == e`, by lambda index, and
    /// the lambda of its domain (what `DOMAIN f` is without evaluating e,
    /// as TLC does: e may take DOMAIN f).
    LetFn(u32, u32),
}

pub(super) struct Scope {
    names: Vec<(Arc<str>, Name)>,
    depth: u32,
}

impl Scope {
    pub(super) fn new() -> Scope {
        Scope { names: Vec::new(), depth: 0 }
    }

    fn bind(&mut self, name: Arc<str>) -> u32 {
        let slot = self.depth;
        self.names.push((name, Name::Slot(slot)));
        self.depth += 1;
        slot
    }

    fn lookup(&self, name: &str) -> Option<Name> {
        self.names.iter().rev().find(|(n, _)| &**n == name).map(|(_, b)| *b)
    }

    fn mark(&self) -> (usize, u32) {
        (self.names.len(), self.depth)
    }

    fn reset(&mut self, (names, depth): (usize, u32)) {
        self.names.truncate(names);
        self.depth = depth;
    }
}

/// What the names of one module, as extended or instantiated, stand for:
/// its definitions (and those it imports, `I!Op` for a named instance I),
/// and its constants and variables, or what an INSTANCE substitutes for
/// them (a variable or constant of the instantiating module, or a
/// definition holding the substituted expression).
#[derive(Clone, Default, Debug)]
pub(super) struct Names {
    pub globals: HashMap<Arc<str>, u32>,
    pub consts: HashMap<Arc<str>, u32>,
    pub vars: HashMap<Arc<str>, u32>,
    /// Named instances of standard modules (`S == INSTANCE Sequences`):
    /// `S!Len(s)` is the built-in Len.
    pub std_instances: HashSet<Arc<str>>,
    /// The parameters of the instances this module is instantiated
    /// through, which every definition of it takes first.
    pub hidden: u32,
    /// The module these names belong to.
    pub module: Arc<str>,
}

/// The key of a definition in [`Names::globals`]: its name, or for a
/// user-defined operator symbol its fixity and the symbol's node kind (so
/// `(+)` and `\oplus` are one operator).
pub(super) fn op_key(fix: &str, kind: &str) -> Arc<str> {
    Arc::from(format!("{fix}:{kind}"))
}

/// Whether an operator symbol (its fixity and node kind) is one TLA+
/// fixes, so that no definition or parameter may take it (SANY: "is a
/// built-in operator, and cannot be redefined").
pub(super) fn fixed_symbol(fix: &str, kind: &str) -> bool {
    match fix {
        "infix" => matches!(
            kind,
            "eq" | "neq" | "in" | "notin" | "land" | "lor" | "implies" | "iff" | "equiv" | "leads_to" | "plus_arrow" | "cdot"
                | "cup" | "cap" | "setminus" | "subseteq" | "times"
        ),
        "prefix" => kind != "negative",
        _ => kind == "prime",
    }
}

/// The key of an operator symbol node (`infix_op_symbol` and the like), or
/// an error if TLA+ fixes its meaning.
pub(super) fn symbol_key(src: &str, node: Node<'_>) -> Result<Arc<str>, String> {
    let sym = kids(node).first().copied().unwrap_or(node);
    let fix = node.kind().split('_').next().unwrap_or("infix");
    if fixed_symbol(fix, sym.kind()) {
        let shown = src[node.byte_range()].trim();
        return Err(format!("`{shown}` is an operator TLA+ fixes: it cannot be redefined"));
    }
    Ok(op_key(fix, sym.kind()))
}

pub(super) struct Compiler<'p> {
    pub prog: &'p mut Program,
    pub file: u16,
    pub src: &'p str,
    pub ns: &'p Names,
}

fn kids<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut c = node.walk();
    node.named_children(&mut c).filter(|n| !matches!(n.kind(), "comment" | "block_comment")).collect()
}

fn field_all<'t>(node: Node<'t>, field: &str) -> Vec<Node<'t>> {
    let mut c = node.walk();
    node.children_by_field_name(field, &mut c)
        .filter(|n| n.is_named() && !matches!(n.kind(), "comment" | "block_comment"))
        .collect()
}

pub(super) fn pos_of(file: u16, node: Node<'_>) -> Pos {
    let p = node.start_position();
    Pos { file, line: p.row as u32 + 1, col: p.column as u32 + 1 }
}

fn builtin_named(name: &str) -> Option<(Builtin, usize)> {
    use Builtin::*;
    Some(match name {
        "Len" => (Len, 1),
        "Append" => (Append, 2),
        "Head" => (Head, 1),
        "Tail" => (Tail, 1),
        "SubSeq" => (SubSeq, 3),
        "SelectSeq" => (SelectSeq, 2),
        "Seq" => (Seq, 1),
        "Cardinality" => (Cardinality, 1),
        "IsFiniteSet" => (IsFiniteSet, 1),
        "Print" => (Print, 2),
        "PrintT" => (PrintT, 1),
        "Assert" => (Assert, 2),
        "ToString" => (ToString, 1),
        "Permutations" => (Permutations, 1),
        "SortSeq" => (SortSeq, 2),
        "JavaTime" => (JavaTime, 0),
        "TLCEval" => (TLCEval, 1),
        "Any" => (Any, 0),
        "BagToSet" => (BagToSet, 1),
        "SetToBag" => (SetToBag, 1),
        "BagIn" => (BagIn, 2),
        "EmptyBag" => (EmptyBag, 0),
        "BagCardinality" => (BagCardinality, 1),
        "CopiesIn" => (CopiesIn, 2),
        "SubBag" => (SubBag, 1),
        "BagOfAll" => (BagOfAll, 2),
        "IsABag" => (IsABag, 1),
        "BagUnion" => (BagUnion, 1),
        _ => return None,
    })
}

fn infix_builtin(kind: &str) -> Option<Builtin> {
    use Builtin::*;
    Some(match kind {
        "plus" => Plus,
        "minus" => Minus,
        "mul" => Times,
        "div" => Div,
        "mod" => Mod,
        "pow" => Pow,
        "lt" => Lt,
        "gt" => Gt,
        "leq" => Le,
        "geq" => Ge,
        "dots_2" => Range,
        "eq" => Eq,
        "neq" => Neq,
        "in" => In,
        "notin" => NotIn,
        "cup" => Cup,
        "cap" => Cap,
        "setminus" => SetMinus,
        "subseteq" => Subseteq,
        "subset" => Subset,
        "supseteq" => Supseteq,
        "supset" => Supset,
        "circ" => Concat,
        "times" => Product,
        "map_to" => ColonGt,
        "compose" => AtAt,
        "oplus" => BagCup,
        "ominus" => BagDiff,
        "sqsubseteq" => SqSubseteq,
        _ => return None,
    })
}

fn unescape(raw: &str) -> String {
    let inner = &raw[1..raw.len().saturating_sub(1).max(1)];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('f') => out.push('\u{c}'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl<'p> Compiler<'p> {
    fn text(&self, node: Node<'_>) -> &'p str {
        &self.src[node.byte_range()]
    }

    fn pos(&self, node: Node<'_>) -> Pos {
        pos_of(self.file, node)
    }

    fn err(&self, node: Node<'_>, msg: impl Into<String>) -> SpecError {
        SpecError { pos: self.pos(node), msg: msg.into() }
    }

    fn refuse(&self, node: Node<'_>, what: &str) -> SpecError {
        let snippet: String = self.text(node).lines().next().unwrap_or("").chars().take(60).collect();
        self.err(node, format!("{what} is not supported by the TLA+ interpreter (`{snippet}`)"))
    }

    /// A LET operator passed as an argument: the closure of its definition.
    fn let_op_value(&mut self, node: Node, i: u32) -> Result<Expr, SpecError> {
        let lambda = self.prog.lambdas[i as usize].clone();
        if lambda.depth == usize::MAX {
            return Err(self.refuse(node, "a RECURSIVE LET operator passed as an argument inside its own definition"));
        }
        Ok(self.mk(node, Kind::Lambda(lambda)))
    }

    fn mk(&self, node: Node<'_>, kind: Kind) -> Expr {
        Expr { kind, pos: self.pos(node) }
    }

    /// A scope holding the hidden parameters (those of the instances the
    /// module is instantiated through), which no name can refer to.
    pub fn hidden_scope(&self) -> Scope {
        let mut scope = Scope::new();
        for _ in 0..self.ns.hidden {
            scope.bind(Arc::from("\u{0}"));
        }
        scope
    }

    /// Compiles an INSTANCE substitution `a <- e` of `I(p…) == INSTANCE M`:
    /// e with the hidden parameters and I's parameters bound.
    pub fn substitution(&mut self, instance_def: Option<Node<'_>>, expr: Node<'_>) -> Result<Expr, SpecError> {
        let mut scope = self.hidden_scope();
        if let Some(d) = instance_def {
            let arities = self.params(d, &mut scope)?;
            if arities.iter().any(|&a| a > 0) {
                return Err(self.refuse(d, "an instance with an operator parameter"));
            }
        }
        self.expr(expr, &mut scope)
    }

    /// A call of a definition: its hidden parameters first (the first of
    /// them this context's own, then the instance arguments given), then
    /// its own arguments.
    fn call(&mut self, node: Node<'_>, d: u32, inst_args: Vec<Expr>, params: &[Node<'_>], scope: &mut Scope) -> Result<Kind, SpecError> {
        let def = &self.prog.defs[d as usize];
        let (hidden, own) = (def.hidden, def.params.len() - def.hidden);
        let name = def.name.clone();
        if params.len() != own {
            return Err(self.err(node, format!("`{name}` takes {own} arguments, given {}", params.len())));
        }
        let Some(implicit) = hidden.checked_sub(inst_args.len()).filter(|&i| i <= self.ns.hidden as usize) else {
            return Err(self.err(node, format!("`{name}` is applied to the wrong number of instance arguments")));
        };
        let mut args: Vec<Expr> = (0..implicit).map(|i| self.mk(node, Kind::Local(i as u32))).collect();
        args.extend(inst_args);
        args.extend(self.args(params, scope)?);
        Ok(Kind::Call(d, args))
    }

    /// A user-defined operator symbol applied: `a (+) b`, `-. a`, `a^+`.
    fn user_op(&mut self, node: Node<'_>, fix: &str, sym: Node<'_>, operands: &[Node<'_>], scope: &mut Scope) -> Result<Option<Kind>, SpecError> {
        let key = op_key(fix, sym.kind());
        if let Some(b) = scope.lookup(&key) {
            // A LET definition of the symbol, or an operator parameter.
            let shown = self.text(sym);
            return match b {
                Name::LetOp(i, arity) if arity == operands.len() => Ok(Some(Kind::LetCall(i, self.args(operands, scope)?))),
                Name::Param(s, arity) if arity == operands.len() => Ok(Some(Kind::ParamCall(s, self.args(operands, scope)?))),
                _ => Err(self.err(node, format!("`{shown}` is applied to {} operands, not as it is defined", operands.len()))),
            };
        }
        let Some(&d) = self.ns.globals.get(&key) else { return Ok(None) };
        self.call(node, d, Vec::new(), operands, scope).map(Some)
    }

    /// `I!Op`, `I(x)!Op(a)`, `I!J!Op`: a definition of a named instance.
    fn prefixed(&mut self, node: Node<'_>, scope: &mut Scope) -> Result<Kind, SpecError> {
        let prefix = self.need(node, "prefix")?;
        let op = self.need(node, "op")?;
        let mut key = String::new();
        let mut inst_args = Vec::new();
        let comps = kids(prefix);
        for (i, c) in comps.iter().enumerate() {
            let c = if c.kind() == "subexpr_component" { kids(*c).first().copied().unwrap_or(*c) } else { *c };
            let c = &c;
            let name = match c.kind() {
                "identifier_ref" => self.text(*c),
                "bound_op" => {
                    let n = self.need(*c, "name")?;
                    for p in field_all(*c, "parameter") {
                        inst_args.push(self.expr(p, scope)?);
                    }
                    self.text(n)
                }
                _ => return Err(self.refuse(*c, "this kind of instance-qualified name")),
            };
            if i == 0 && comps.len() == 1 && self.ns.std_instances.contains(name) {
                // S!Op for S == INSTANCE of a standard module.
                let (opname, params) = match op.kind() {
                    "identifier_ref" => (self.text(op), Vec::new()),
                    "bound_op" => (self.text(self.need(op, "name")?), field_all(op, "parameter")),
                    _ => return Err(self.refuse(op, "this operator of a standard module instance")),
                };
                return self.name(node, opname, &params, scope);
            }
            key.push_str(name);
            key.push('!');
        }
        let params = match op.kind() {
            "identifier_ref" => {
                key.push_str(self.text(op));
                Vec::new()
            }
            "bound_op" => {
                key.push_str(self.text(self.need(op, "name")?));
                field_all(op, "parameter")
            }
            _ => return Err(self.refuse(op, "an operator symbol after `!`")),
        };
        let Some(&d) = self.ns.globals.get(key.as_str()) else {
            return Err(self.err(node, format!("unknown name `{key}`")));
        };
        self.call(node, d, inst_args, &params, scope)
    }

    /// Compiles a top-level definition's body with its parameters bound.
    pub fn definition(&mut self, def: Node<'_>) -> Result<(Vec<usize>, Expr), SpecError> {
        let mut scope = self.hidden_scope();
        let params = self.params(def, &mut scope)?;
        let body = def.child_by_field_name("definition").ok_or_else(|| self.err(def, "definition without a body"))?;
        let body = self.expr(body, &mut scope)?;
        Ok((params, body))
    }

    fn params(&mut self, def: Node<'_>, scope: &mut Scope) -> Result<Vec<usize>, SpecError> {
        let mut arities = Vec::new();
        for p in field_all(def, "parameter") {
            match p.kind() {
                "identifier" => {
                    scope.bind(Arc::from(self.text(p)));
                    arities.push(0);
                }
                "operator_declaration" => {
                    let name = p.child_by_field_name("name").ok_or_else(|| self.err(p, "operator parameter without a name"))?;
                    let arity = kids(p).iter().filter(|k| k.kind() == "placeholder").count();
                    // `_ \oplus _` as a parameter: bound under the symbol's key.
                    let key: Arc<str> = match name.kind() {
                        "identifier" => Arc::from(self.text(name)),
                        "infix_op_symbol" | "prefix_op_symbol" | "postfix_op_symbol" => {
                            symbol_key(self.src, name).map_err(|m| self.err(name, m))?
                        }
                        _ => return Err(self.refuse(p, "this kind of operator parameter")),
                    };
                    let slot = scope.depth;
                    scope.names.push((key, Name::Param(slot, arity)));
                    scope.depth += 1;
                    arities.push(arity);
                }
                _ => return Err(self.refuse(p, "this kind of parameter")),
            }
        }
        Ok(arities)
    }

    /// `f[x \in S, …] == e`: the binders, then the body.
    pub fn function_definition(&mut self, def: Node<'_>) -> Result<(Vec<Bound>, Expr), SpecError> {
        if self.ns.hidden > 0 {
            return Err(self.refuse(def, "a function definition f[x \\in S] == e in a module instantiated with parameters"));
        }
        let mut scope = Scope::new();
        let bounds: Vec<Node<'_>> = kids(def).into_iter().filter(|k| k.kind() == "quantifier_bound").collect();
        let bounds = self.bounds(&bounds, &mut scope)?;
        let body = def.child_by_field_name("definition").ok_or_else(|| self.err(def, "function definition without a body"))?;
        let body = self.expr(body, &mut scope)?;
        Ok((bounds, body))
    }

    /// Compiles binders, binding their names in `scope`.
    fn bounds(&mut self, nodes: &[Node<'_>], scope: &mut Scope) -> Result<Vec<Bound>, SpecError> {
        // Sets are evaluated outside the binders: compile them all first.
        let mut out = Vec::new();
        let mut names = Vec::new();
        for qb in nodes {
            let set = qb.child_by_field_name("set").ok_or_else(|| self.err(*qb, "binder without a set"))?;
            let intros = field_all(*qb, "intro");
            let set_expr_for = |c: &mut Self, scope: &mut Scope| c.expr(set, scope);
            match intros.as_slice() {
                [t] if t.kind() == "tuple_of_identifiers" => {
                    let ids: Vec<Arc<str>> =
                        kids(*t).into_iter().filter(|k| k.kind() == "identifier").map(|k| Arc::from(self.text(k))).collect();
                    out.push(Bound { names: ids.clone(), tuple: Some(ids.len()), set: set_expr_for(self, scope)? });
                    names.extend(ids);
                }
                ids => {
                    for id in ids {
                        let name: Arc<str> = Arc::from(self.text(*id));
                        out.push(Bound { names: vec![name.clone()], tuple: None, set: set_expr_for(self, scope)? });
                        names.push(name);
                    }
                }
            }
        }
        for n in names {
            scope.bind(n);
        }
        Ok(out)
    }

    fn exprs(&mut self, nodes: &[Node<'_>], scope: &mut Scope) -> Result<Vec<Expr>, SpecError> {
        nodes.iter().map(|n| self.expr(*n, scope)).collect()
    }

    fn boxed(&mut self, node: Node<'_>, scope: &mut Scope) -> Result<Box<Expr>, SpecError> {
        Ok(Box::new(self.expr(node, scope)?))
    }

    fn need<'t>(&self, node: Node<'t>, field: &str) -> Result<Node<'t>, SpecError> {
        node.child_by_field_name(field).ok_or_else(|| self.err(node, format!("missing {field}")))
    }

    /// Arguments to an operator: values, or operators where the parameter
    /// takes one.
    fn args(&mut self, nodes: &[Node<'_>], scope: &mut Scope) -> Result<Vec<Expr>, SpecError> {
        nodes.iter().map(|n| self.arg(*n, scope)).collect()
    }

    fn arg(&mut self, node: Node<'_>, scope: &mut Scope) -> Result<Expr, SpecError> {
        match node.kind() {
            "lambda" => {
                let ks = kids(node);
                let (ids, body) = ks.split_at(ks.len() - 1);
                let mark = scope.mark();
                let depth = scope.depth as usize;
                for id in ids {
                    scope.bind(Arc::from(self.text(*id)));
                }
                let body = self.expr(body[0], scope);
                scope.reset(mark);
                let lambda = Lambda { name: Arc::from("LAMBDA"), depth, arity: ids.len(), body: body? };
                Ok(self.mk(node, Kind::Lambda(Arc::new(lambda))))
            }
            "identifier_ref" => {
                let name = self.text(node);
                match scope.lookup(name) {
                    // A LET value declared RECURSIVE, or a LET function: a value.
                    Some(Name::LetOp(_, 0) | Name::LetFn(..)) => {}
                    Some(Name::LetOp(i, _)) => return self.let_op_value(node, i),
                    Some(Name::Param(slot, _)) => return Ok(self.mk(node, Kind::Local(slot))),
                    Some(Name::Slot(_)) => {}
                    None => {
                        if let Some(&d) = self.ns.globals.get(name) {
                            let def = &self.prog.defs[d as usize];
                            if def.params.len() > def.hidden {
                                if def.hidden > 0 {
                                    return Err(self.refuse(node, "an operator of a module instantiated with parameters, passed as an argument"));
                                }
                                return Ok(self.mk(node, Kind::OpValue(d)));
                            }
                        } else if let Some((b, arity)) = builtin_named(name) {
                            if arity > 0 {
                                return Ok(self.mk(node, Kind::BuiltinValue(b, arity)));
                            }
                        }
                    }
                }
                self.expr(node, scope)
            }
            "infix_op_symbol" | "prefix_op_symbol" | "postfix_op_symbol" => {
                let sym = kids(node).first().copied().unwrap_or(node);
                let fix = node.kind().split('_').next().unwrap_or("infix");
                let key = op_key(fix, sym.kind());
                // A LET definition of the symbol, an operator parameter, a
                // top-level definition, then the built-in meaning.
                match scope.lookup(&key) {
                    Some(Name::LetOp(i, _)) => return self.let_op_value(node, i),
                    Some(Name::Param(slot, _)) => return Ok(self.mk(node, Kind::Local(slot))),
                    _ => {}
                }
                if let Some(&d) = self.ns.globals.get(&key) {
                    if self.prog.defs[d as usize].hidden > 0 {
                        return Err(self.refuse(node, "an operator of a module instantiated with parameters, passed as an argument"));
                    }
                    return Ok(self.mk(node, Kind::OpValue(d)));
                }
                if let ("infix", Some(b)) = (fix, infix_builtin(sym.kind())) {
                    return Ok(self.mk(node, Kind::BuiltinValue(b, 2)));
                }
                // The other operators TLA+ fixes, as TLC passes them: a
                // LAMBDA of no captured slots over their parameters.
                let p = |i: u32| Box::new(self.mk(node, Kind::Local(i)));
                let (arity, body) = match (fix, sym.kind()) {
                    ("infix", "land") => (2, Kind::And(vec![*p(0), *p(1)])),
                    ("infix", "lor") => (2, Kind::Or(vec![*p(0), *p(1)])),
                    ("infix", "implies") => (2, Kind::Implies(p(0), p(1))),
                    ("infix", "iff" | "equiv") => (2, Kind::Equiv(p(0), p(1))),
                    ("prefix", "lnot") => (1, Kind::Not(p(0))),
                    ("prefix", "negative") => (1, Kind::Builtin(Builtin::Neg, vec![*p(0)])),
                    ("prefix", "powerset") => (1, Kind::Builtin(Builtin::Powerset, vec![*p(0)])),
                    ("prefix", "union") => (1, Kind::Builtin(Builtin::Union, vec![*p(0)])),
                    ("prefix", "domain") => (1, Kind::Builtin(Builtin::Domain, vec![*p(0)])),
                    _ if fixed_symbol(fix, sym.kind()) => {
                        return Err(self.refuse(node, &format!("the operator `{}` passed as an argument", self.text(node))));
                    }
                    _ => return Err(self.err(node, format!("the operator `{}` is passed as an argument but not defined", self.text(node)))),
                };
                let lambda = Lambda { name: Arc::from(self.text(node)), depth: 0, arity, body: self.mk(node, body) };
                Ok(self.mk(node, Kind::Lambda(Arc::new(lambda))))
            }
            _ => self.expr(node, scope),
        }
    }

    pub fn expr(&mut self, node: Node<'_>, scope: &mut Scope) -> Result<Expr, SpecError> {
        let k = kids(node);
        let kind = match node.kind() {
            "nat_number" => Kind::Lit(Value::Int(self.text(node).parse().map_err(|_| self.err(node, "number out of range"))?)),
            "hex_number" | "octal_number" | "binary_number" => {
                let t = self.text(node);
                let (radix, digits) = match t.get(..2) {
                    Some("\\h" | "\\H") => (16, &t[2..]),
                    Some("\\o" | "\\O") => (8, &t[2..]),
                    Some("\\b" | "\\B") => (2, &t[2..]),
                    _ => return Err(self.refuse(node, "this number format")),
                };
                Kind::Lit(Value::Int(i64::from_str_radix(digits, radix).map_err(|_| self.err(node, "number out of range"))?))
            }
            "real_number" => return Err(self.refuse(node, "a real number")),
            "string" => Kind::Lit(Value::str(&unescape(self.text(node)))),
            "boolean" => Kind::Lit(Value::Bool(self.text(node) == "TRUE")),
            "nat_number_set" => Kind::Lit(Value::Lazy(Arc::new(Lazy::Nat))),
            "int_number_set" => Kind::Lit(Value::Lazy(Arc::new(Lazy::Int))),
            "boolean_set" => Kind::Lit(Value::set_of(vec![Value::Bool(false), Value::Bool(true)])),
            "string_set" => Kind::Lit(Value::Lazy(Arc::new(Lazy::Str))),
            "real_number_set" => return Err(self.refuse(node, "Real")),
            "parentheses" => return self.expr(k[0], scope),
            "label" => return self.expr(self.need(node, "expression")?, scope),
            "identifier_ref" => self.name(node, self.text(node), &[], scope)?,
            "bound_op" => {
                let name = self.need(node, "name")?;
                let params = field_all(node, "parameter");
                self.name(node, self.text(name), &params, scope)?
            }
            "bound_nonfix_op" => {
                let sym = self.need(node, "symbol")?;
                let inner = kids(sym).first().copied().unwrap_or(sym);
                let args: Vec<Node<'_>> = k.into_iter().filter(|n| n.id() != sym.id()).collect();
                // `\oplus(a, b)`: a user-defined symbol first, as infix.
                let fix = sym.kind().split('_').next().unwrap_or("infix");
                if let Some(call) = self.user_op(node, fix, inner, &args, scope)? {
                    return Ok(self.mk(node, call));
                }
                match (inner.kind(), infix_builtin(inner.kind())) {
                    (_, Some(b)) if fix == "infix" && args.len() == 2 => Kind::Builtin(b, self.exprs(&args, scope)?),
                    ("negative", _) if fix == "prefix" && args.len() == 1 => Kind::Builtin(Builtin::Neg, self.exprs(&args, scope)?),
                    _ => return Err(self.refuse(node, "this operator in prefix form")),
                }
            }
            "bound_infix_op" => {
                let sym = self.need(node, "symbol")?;
                let lhs = self.need(node, "lhs")?;
                let rhs = self.need(node, "rhs")?;
                match sym.kind() {
                    "land" => Kind::And(vec![self.expr(lhs, scope)?, self.expr(rhs, scope)?]),
                    "lor" => Kind::Or(vec![self.expr(lhs, scope)?, self.expr(rhs, scope)?]),
                    "implies" => Kind::Implies(self.boxed(lhs, scope)?, self.boxed(rhs, scope)?),
                    "iff" | "equiv" => Kind::Equiv(self.boxed(lhs, scope)?, self.boxed(rhs, scope)?),
                    "leads_to" => Kind::LeadsTo(self.boxed(lhs, scope)?, self.boxed(rhs, scope)?),
                    "times" => {
                        // A \X B \X C is one product of three sets.
                        let mut factors = Vec::new();
                        self.product_factors(node, &mut factors);
                        Kind::Builtin(Builtin::Product, self.exprs(&factors, scope)?)
                    }
                    other => match self.user_op(node, "infix", sym, &[lhs, rhs], scope)? {
                        Some(call) => call,
                        None => match infix_builtin(other) {
                            Some(b) => Kind::Builtin(b, vec![self.expr(lhs, scope)?, self.expr(rhs, scope)?]),
                            None => return Err(self.refuse(sym, &format!("the infix operator `{}` (it is not defined)", self.text(sym)))),
                        },
                    },
                }
            }
            "bound_prefix_op" => {
                let sym = self.need(node, "symbol")?;
                let rhs = self.need(node, "rhs")?;
                if let Some(call) = self.user_op(node, "prefix", sym, &[rhs], scope)? {
                    return Ok(self.mk(node, call));
                }
                if sym.kind() == "domain" && rhs.kind() == "identifier_ref" {
                    if let Some(Name::LetFn(_, dom)) = scope.lookup(self.text(rhs)) {
                        return Ok(self.mk(node, Kind::LetCall(dom, Vec::new())));
                    }
                }
                let a = self.boxed(rhs, scope)?;
                match sym.kind() {
                    "lnot" => Kind::Not(a),
                    "negative" => Kind::Builtin(Builtin::Neg, vec![*a]),
                    "powerset" => Kind::Builtin(Builtin::Powerset, vec![*a]),
                    "union" => Kind::Builtin(Builtin::Union, vec![*a]),
                    "domain" => Kind::Builtin(Builtin::Domain, vec![*a]),
                    "enabled" => Kind::Enabled(a),
                    "unchanged" => Kind::Unchanged(a),
                    "always" => Kind::Always(a),
                    "eventually" => Kind::Eventually(a),
                    _ => return Err(self.refuse(sym, "this prefix operator")),
                }
            }
            "bound_postfix_op" => {
                let sym = self.need(node, "symbol")?;
                let lhs = self.need(node, "lhs")?;
                match sym.kind() {
                    "prime" => {
                        let inner = self.expr(lhs, scope)?;
                        match inner.kind {
                            Kind::Var(v) => Kind::Prime(v),
                            _ => Kind::PrimeExpr(Box::new(inner)),
                        }
                    }
                    _ => match self.user_op(node, "postfix", sym, &[lhs], scope)? {
                        Some(call) => call,
                        None => return Err(self.refuse(sym, &format!("the postfix operator `{}` (it is not defined)", self.text(sym)))),
                    },
                }
            }
            "conj_list" => Kind::And(
                k.iter().map(|item| self.expr(*kids(*item).last().unwrap_or(item), scope)).collect::<Result<_, _>>()?,
            ),
            "disj_list" => Kind::Or(
                k.iter().map(|item| self.expr(*kids(*item).last().unwrap_or(item), scope)).collect::<Result<_, _>>()?,
            ),
            "if_then_else" => Kind::If(
                self.boxed(self.need(node, "if")?, scope)?,
                self.boxed(self.need(node, "then")?, scope)?,
                self.boxed(self.need(node, "else")?, scope)?,
            ),
            "case" => {
                let mut arms = Vec::new();
                let mut other = None;
                for c in k {
                    match c.kind() {
                        "case_arm" => {
                            let es: Vec<Node<'_>> = kids(c).into_iter().filter(|n| n.kind() != "case_arrow").collect();
                            arms.push((self.expr(es[0], scope)?, self.expr(es[1], scope)?));
                        }
                        "other_arm" => {
                            let es: Vec<Node<'_>> = kids(c).into_iter().filter(|n| n.kind() != "case_arrow").collect();
                            other = Some(self.boxed(es[0], scope)?);
                        }
                        _ => {}
                    }
                }
                Kind::Case(arms, other)
            }
            "let_in" => return self.let_in(node, scope),
            "bounded_quantification" => {
                let q = self.need(node, "quantifier")?;
                let bounds = field_all(node, "bound");
                let mark = scope.mark();
                let bs = self.bounds(&bounds, scope);
                let body = bs.and_then(|bs| Ok((bs, self.boxed(self.need(node, "expression")?, scope)?)));
                scope.reset(mark);
                let (bs, body) = body?;
                if q.kind() == "exists" { Kind::Exists(bs, body) } else { Kind::Forall(bs, body) }
            }
            "unbounded_quantification" => return Err(self.refuse(node, "an unbounded quantifier (\\E x : P without a set)")),
            "choose" => {
                let set = node.child_by_field_name("set").ok_or_else(|| self.refuse(node, "CHOOSE without a bounding set"))?;
                let intro = self.need(node, "intro")?;
                let set = self.expr(set, scope)?;
                let mark = scope.mark();
                let mut names: Vec<Arc<str>> = Vec::new();
                let tuple = if intro.kind() == "tuple_of_identifiers" {
                    let ids: Vec<Node<'_>> = kids(intro).into_iter().filter(|k| k.kind() == "identifier").collect();
                    for id in &ids {
                        names.push(Arc::from(self.text(*id)));
                    }
                    Some(ids.len())
                } else {
                    names.push(Arc::from(self.text(intro)));
                    None
                };
                for n in &names {
                    scope.bind(n.clone());
                }
                let body = self.boxed(self.need(node, "expression")?, scope);
                scope.reset(mark);
                Kind::Choose(Box::new(Bound { names, tuple, set }), body?)
            }
            "finite_set_literal" => Kind::SetEnum(self.exprs(&k, scope)?),
            "set_filter" => {
                let generator = self.need(node, "generator")?;
                let mark = scope.mark();
                let r = self.bounds(&[generator], scope).and_then(|mut b| Ok((b.remove(0), self.boxed(self.need(node, "filter")?, scope)?)));
                scope.reset(mark);
                let (b, f) = r?;
                Kind::SetFilter(Box::new(b), f)
            }
            "set_map" => {
                let gens = field_all(node, "generator");
                let mark = scope.mark();
                let r = self.bounds(&gens, scope).and_then(|b| Ok((b, self.boxed(self.need(node, "map")?, scope)?)));
                scope.reset(mark);
                let (b, m) = r?;
                Kind::SetMap(b, m)
            }
            "function_literal" => {
                let gens: Vec<Node<'_>> = k.iter().copied().filter(|n| n.kind() == "quantifier_bound").collect();
                let body = *k.last().ok_or_else(|| self.err(node, "function without a body"))?;
                let mark = scope.mark();
                let r = self.bounds(&gens, scope).and_then(|b| Ok((b, self.boxed(body, scope)?)));
                scope.reset(mark);
                let (b, e) = r?;
                Kind::FunDef(b, e)
            }
            "function_evaluation" => {
                let f = k[0];
                let args = self.exprs(&k[1..], scope)?;
                if f.kind() == "identifier_ref" {
                    if let Some(Name::LetFn(i, _)) = scope.lookup(self.text(f)) {
                        return Ok(self.mk(node, Kind::LetFnApply(i, args)));
                    }
                }
                if f.kind() == "identifier_ref" && scope.lookup(self.text(f)).is_none() {
                    if let Some(&d) = self.ns.globals.get(self.text(f)) {
                        if self.prog.defs[d as usize].is_function {
                            return Ok(self.mk(node, Kind::FnDefApply(d, args)));
                        }
                    }
                }
                Kind::FunApp(self.boxed(f, scope)?, args)
            }
            "record_value" => {
                let e = self.boxed(k[0], scope)?;
                Kind::Dot(e, Str::new(self.text(k[1])))
            }
            "set_of_functions" => {
                let es: Vec<Node<'_>> = k.into_iter().filter(|n| n.kind() != "maps_to").collect();
                Kind::FunSet(self.boxed(es[0], scope)?, self.boxed(es[1], scope)?)
            }
            "record_literal" | "set_of_records" => {
                let items: Vec<Node<'_>> = k.into_iter().filter(|n| n.kind() != "all_map_to").collect();
                let mut fields = Vec::new();
                for pair in items.chunks(2) {
                    if pair.len() != 2 {
                        return Err(self.err(node, "malformed record"));
                    }
                    fields.push((Str::new(self.text(pair[0])), self.expr(pair[1], scope)?));
                }
                if node.kind() == "record_literal" { Kind::RecDef(fields) } else { Kind::RecSet(fields) }
            }
            "tuple_literal" => {
                let items: Vec<Node<'_>> =
                    k.into_iter().filter(|n| !matches!(n.kind(), "langle_bracket" | "rangle_bracket")).collect();
                Kind::Tuple(self.exprs(&items, scope)?)
            }
            "except" => {
                let base = self.boxed(self.need(node, "expr_to_update")?, scope)?;
                // Paths are evaluated before @ is bound; values see @.
                let mut paths = Vec::new();
                let mut values = Vec::new();
                for u in k.iter().filter(|n| n.kind() == "except_update") {
                    let spec = kids(*u).into_iter().find(|n| n.kind() == "except_update_specifier");
                    let Some(spec) = spec else { return Err(self.err(*u, "EXCEPT without a path")) };
                    let mut path = Vec::new();
                    for step in kids(spec) {
                        match step.kind() {
                            "except_update_record_field" => {
                                let id = kids(step).into_iter().next().ok_or_else(|| self.err(step, "field without a name"))?;
                                path.push(ExceptStep::Field(Str::new(self.text(id))));
                            }
                            "except_update_fn_appl" => path.push(ExceptStep::Apply(self.exprs(&kids(step), scope)?)),
                            _ => return Err(self.refuse(step, "this EXCEPT path")),
                        }
                    }
                    paths.push(path);
                    values.push(self.need(*u, "new_val")?);
                }
                let mark = scope.mark();
                let at = scope.bind(Arc::from("@"));
                let compiled: Result<Vec<Expr>, SpecError> = values.iter().map(|v| self.expr(*v, scope)).collect();
                scope.reset(mark);
                Kind::Except(base, paths.into_iter().zip(compiled?).collect(), at)
            }
            "prev_func_val" => match scope.lookup("@") {
                Some(Name::Slot(s)) => Kind::Local(s),
                _ => return Err(self.err(node, "@ outside an EXCEPT")),
            },
            "step_expr_or_stutter" => Kind::BoxAction(self.boxed(k[0], scope)?, self.boxed(k[1], scope)?),
            "step_expr_no_stutter" => {
                let es: Vec<Node<'_>> =
                    k.into_iter().filter(|n| !matches!(n.kind(), "langle_bracket" | "rangle_bracket_sub")).collect();
                Kind::AngleAction(self.boxed(es[0], scope)?, self.boxed(es[1], scope)?)
            }
            "fairness" => {
                let strong = self.text(node).trim_start().starts_with("SF_");
                Kind::Fair { strong, vars: self.boxed(k[0], scope)?, action: self.boxed(k[1], scope)? }
            }
            "lambda" => return Err(self.refuse(node, "LAMBDA outside an operator argument")),
            "prefixed_op" => self.prefixed(node, scope)?,
            "subexpression" => return Err(self.refuse(node, "a subexpression reference (Op!1, Op!<<, …)")),
            "unbounded" => return Err(self.refuse(node, "this expression")),
            "ERROR" => return Err(self.err(node, "TLA+ syntax error")),
            other => return Err(self.refuse(node, &format!("the construct `{other}`"))),
        };
        Ok(self.mk(node, kind))
    }

    fn product_factors<'t>(&self, node: Node<'t>, out: &mut Vec<Node<'t>>) {
        if node.kind() == "bound_infix_op" && node.child_by_field_name("symbol").is_some_and(|s| s.kind() == "times") {
            if let (Some(l), Some(r)) = (node.child_by_field_name("lhs"), node.child_by_field_name("rhs")) {
                self.product_factors(l, out);
                out.push(r);
                return;
            }
        }
        out.push(node);
    }

    /// A name applied to `params` (none for a bare identifier).
    fn name(&mut self, node: Node<'_>, name: &str, params: &[Node<'_>], scope: &mut Scope) -> Result<Kind, SpecError> {
        if let Some(b) = scope.lookup(name) {
            return match b {
                Name::Slot(s) if params.is_empty() => Ok(Kind::Local(s)),
                Name::Slot(_) => Err(self.err(node, format!("`{name}` is a value, not an operator: it takes no arguments"))),
                Name::Param(s, arity) if params.is_empty() => {
                    let _ = arity;
                    Ok(Kind::Local(s))
                }
                Name::Param(s, arity) => {
                    if params.len() != arity {
                        return Err(self.err(node, format!("`{name}` takes {arity} arguments, given {}", params.len())));
                    }
                    Ok(Kind::ParamCall(s, self.args(params, scope)?))
                }
                Name::LetFn(i, _) if params.is_empty() => Ok(Kind::LetCall(i, Vec::new())),
                Name::LetFn(..) => Err(self.err(node, format!("`{name}` is a function: apply it as {name}[…], not {name}(…)"))),
                Name::LetOp(i, arity) => {
                    if params.len() != arity {
                        return Err(self.err(node, format!("`{name}` takes {arity} arguments, given {}", params.len())));
                    }
                    Ok(Kind::LetCall(i, self.args(params, scope)?))
                }
            };
        }
        if let Some(&d) = self.ns.globals.get(name) {
            return self.call(node, d, Vec::new(), params, scope);
        }
        if let Some(&c) = self.ns.consts.get(name) {
            if !params.is_empty() {
                return Err(self.refuse(node, "a constant operator (CONSTANT F(_))"));
            }
            return Ok(Kind::Const(c));
        }
        if let Some(&v) = self.ns.vars.get(name) {
            if !params.is_empty() {
                return Err(self.err(node, format!("`{name}` is a variable, not an operator")));
            }
            return Ok(Kind::Var(v));
        }
        if let Some((b, arity)) = builtin_named(name) {
            if params.len() != arity {
                return Err(self.err(node, format!("`{name}` takes {arity} arguments, given {}", params.len())));
            }
            return Ok(Kind::Builtin(b, self.args(params, scope)?));
        }
        match name {
            "Nat" | "Int" | "BOOLEAN" | "STRING" if params.is_empty() => {
                return Ok(Kind::Lit(match name {
                    "Nat" => Value::Lazy(Arc::new(Lazy::Nat)),
                    "Int" => Value::Lazy(Arc::new(Lazy::Int)),
                    "BOOLEAN" => Value::set_of(vec![Value::Bool(false), Value::Bool(true)]),
                    _ => Value::Lazy(Arc::new(Lazy::Str)),
                }));
            }
            "Real" => return Err(self.refuse(node, "Real")),
            "RandomElement" | "TLCGet" | "TLCSet" => return Err(self.refuse(node, name)),
            _ => {}
        }
        Err(self.err(node, format!("unknown name `{name}`")))
    }

    fn let_in(&mut self, node: Node<'_>, scope: &mut Scope) -> Result<Expr, SpecError> {
        let mark = scope.mark();
        let r = self.let_in_inner(node, scope);
        scope.reset(mark);
        r
    }

    fn let_in_inner(&mut self, node: Node<'_>, scope: &mut Scope) -> Result<Expr, SpecError> {
        let first = scope.depth;
        let mut values = Vec::new();
        // RECURSIVE operators declared and not yet defined: name, lambda
        // index, arity, and the frame depth at the declaration.
        let mut pending: Vec<(Arc<str>, u32, usize, u32)> = Vec::new();
        for d in field_all(node, "definitions") {
            match d.kind() {
                "operator_definition" => {
                    let name = self.need(d, "name")?;
                    // An operator symbol (`a ++ b == …`) is a LET operator
                    // under its key, as top-level ones are.
                    let (name_text, shown): (Arc<str>, Arc<str>) = match name.kind() {
                        "identifier" => (Arc::from(self.text(name)), Arc::from(self.text(name))),
                        "infix_op_symbol" | "prefix_op_symbol" | "postfix_op_symbol" => {
                            (symbol_key(self.src, name).map_err(|m| self.err(name, m))?, Arc::from(self.text(name)))
                        }
                        _ => return Err(self.refuse(d, "a LET definition of this name")),
                    };
                    let params = field_all(d, "parameter");
                    let body = self.need(d, "definition")?;
                    let declared = pending.iter().position(|p| p.0 == name_text);
                    if params.is_empty() && declared.is_none() {
                        let value = self.expr(body, scope)?;
                        values.push(Arc::new(value));
                        scope.bind(name_text);
                    } else {
                        let depth = scope.depth as usize;
                        let idx = match declared {
                            Some(i) => {
                                let (_, idx, arity, at) = pending.remove(i);
                                if arity != params.len() {
                                    return Err(self.err(d, format!("`{name_text}` is declared RECURSIVE with {arity} arguments and defined with {}", params.len())));
                                }
                                if at != scope.depth {
                                    return Err(self.refuse(d, "a LET value defined between a RECURSIVE declaration and its operator's definition"));
                                }
                                idx
                            }
                            None => self.prog.lambdas.len() as u32,
                        };
                        let mark = scope.mark();
                        let ps = self.params(d, scope);
                        let body = ps.and_then(|_| self.expr(body, scope));
                        scope.reset(mark);
                        let lambda = Arc::new(Lambda { name: shown, depth, arity: params.len(), body: body? });
                        if declared.is_some() {
                            self.prog.lambdas[idx as usize] = lambda;
                        } else {
                            self.prog.lambdas.push(lambda);
                            scope.names.push((name_text, Name::LetOp(idx, params.len())));
                        }
                    }
                }
                "recursive_declaration" => {
                    for decl in kids(d) {
                        let (name, arity) = match decl.kind() {
                            "identifier" => (decl, 0),
                            "operator_declaration" => (
                                self.need(decl, "name")?,
                                kids(decl).iter().filter(|k| k.kind() == "placeholder").count(),
                            ),
                            _ => return Err(self.refuse(decl, "this RECURSIVE declaration")),
                        };
                        if name.kind() != "identifier" {
                            return Err(self.refuse(decl, "RECURSIVE of an operator symbol in LET"));
                        }
                        let name_text: Arc<str> = Arc::from(self.text(name));
                        let idx = self.prog.lambdas.len() as u32;
                        // A placeholder until the definition is compiled.
                        let placeholder = Lambda { name: name_text.clone(), depth: usize::MAX, arity, body: self.mk(decl, Kind::Lit(Value::Bool(false))) };
                        self.prog.lambdas.push(Arc::new(placeholder));
                        scope.names.push((name_text.clone(), Name::LetOp(idx, arity)));
                        pending.push((name_text, idx, arity, scope.depth));
                    }
                }
                "function_definition" => {
                    // `f[x \in S] == e`: a LET operator whose body is
                    // `[x \in S |-> e]`; `f[a]` evaluates e at a alone, so e
                    // may apply f (it is recursive, as TLC allows).
                    let name: Arc<str> = Arc::from(self.text(self.need(d, "name")?));
                    let bounds: Vec<Node<'_>> = kids(d).into_iter().filter(|k| k.kind() == "quantifier_bound").collect();
                    let depth = scope.depth as usize;
                    // Its domain: the binders' sets (their product for several).
                    let mut sets = Vec::new();
                    for qb in &bounds {
                        let set = self.need(*qb, "set")?;
                        let n = field_all(*qb, "intro").len();
                        let set = self.expr(set, scope)?;
                        if n == 1 {
                            sets.push(set);
                        } else {
                            for _ in 1..n {
                                sets.push(self.expr(self.need(*qb, "set")?, scope)?);
                            }
                            sets.push(set);
                        }
                    }
                    let domain = if sets.len() == 1 { sets.remove(0) } else { self.mk(d, Kind::Builtin(Builtin::Product, sets)) };
                    let dom = self.prog.lambdas.len() as u32;
                    self.prog.lambdas.push(Arc::new(Lambda { name: name.clone(), depth, arity: 0, body: domain }));
                    let idx = self.prog.lambdas.len() as u32;
                    let placeholder = Lambda { name: name.clone(), depth, arity: bounds.len(), body: self.mk(d, Kind::Lit(Value::Bool(false))) };
                    self.prog.lambdas.push(Arc::new(placeholder));
                    scope.names.push((name.clone(), Name::LetFn(idx, dom)));
                    let mark = scope.mark();
                    let r = self.bounds(&bounds, scope).and_then(|b| Ok((b, self.boxed(self.need(d, "definition")?, scope)?)));
                    scope.reset(mark);
                    let (b, body) = r?;
                    let body = self.mk(d, Kind::FunDef(b, body));
                    self.prog.lambdas[idx as usize] = Arc::new(Lambda { name, depth, arity: bounds.len(), body });
                }
                _ => return Err(self.refuse(d, "this LET definition")),
            }
        }
        if let Some((name, ..)) = pending.first() {
            return Err(self.err(node, format!("`{name}` is declared RECURSIVE in this LET but not defined")));
        }
        let body = self.boxed(self.need(node, "expression")?, scope)?;
        Ok(self.mk(node, Kind::Let { first, values, body }))
    }
}

/// The parameter count of a top-level definition node, for the first pass.
pub(super) fn def_arities(src: &str, def: Node<'_>) -> Vec<usize> {
    let _ = src;
    field_all(def, "parameter")
        .into_iter()
        .map(|p| if p.kind() == "operator_declaration" { kids(p).iter().filter(|k| k.kind() == "placeholder").count() } else { 0 })
        .collect()
}

pub(super) fn children(node: Node<'_>) -> Vec<Node<'_>> {
    kids(node)
}

pub(super) fn new_def(name: Arc<str>, params: Vec<usize>, param_names: Vec<Arc<str>>, is_function: bool, pos: Pos) -> Def {
    Def { name, params, hidden: 0, param_names, is_function, body: None, function: None, pos, folded: None, state_level: true, action_level: false }
}

/// The parameter names of a top-level definition node.
pub(super) fn def_param_names(src: &str, def: Node<'_>) -> Vec<Arc<str>> {
    field_all(def, "parameter")
        .into_iter()
        .map(|p| {
            let n = if p.kind() == "operator_declaration" { p.child_by_field_name("name").unwrap_or(p) } else { p };
            Arc::from(&src[n.byte_range()])
        })
        .collect()
}

pub(super) fn read_source(path: &Path) -> crate::error::Result<Source> {
    use crate::error::{Diagnostic, Error, Location};
    let failed = |m: String| Error::Spec(Diagnostic::new(Location::file(path), m));
    let bytes = std::fs::read(path).map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes).map_err(|_| failed(format!("{} is not valid UTF-8", path.display())))?;
    // Brackets are the cheap part of [`super::stack::MAX_NESTING`]'s check,
    // done before tree-sitter takes seconds over absurdly nested text.
    crate::spec::tla::check_nesting(path, &text, super::stack::MAX_NESTING)?;
    let tree = crate::spec::tla::syntax_tree(&text);
    Ok(Source { path: path.to_path_buf(), text, tree })
}
