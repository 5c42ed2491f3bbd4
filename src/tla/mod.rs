//! A TLA+ interpreter: a spec with no Rust model is parsed
//! (tree-sitter-tlaplus), its names resolved ([`parse`]), and its Init and
//! Next enumerated ([`eval`]) the way TLC does, so that the parallel checker
//! explores it as it explores a hand-written model ([`model`]).
//!
//! What is refused (with its position, exit 2) rather than half-supported is
//! listed in [`REFUSED`].

pub mod ast;
pub mod eval;
pub mod model;
pub mod parse;
pub mod value;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tree_sitter::Node;

use crate::error::{Diagnostic, Error, Location, Result};
use crate::spec::cfg::{Binding, Cfg};
use ast::{Def, Expr, Kind, Lambda, Pos};
use value::Value;

/// Constructs the interpreter refuses, each with a clear error at its position.
pub const REFUSED: &[&str] = &[
    "INSTANCE (named or bare) and Inst!Op references, so refinement properties Inst!Spec",
    "unbounded quantifiers \\E x : P / \\A x : P and CHOOSE without a set",
    "temporal properties other than []P, <>P, []<>P, <>[]P, P ~> Q, [](P => <>Q), [][A]_v, their conjunctions and \\A x \\in S over them (with P, Q state predicates); \\E, ~, \\/ and nesting deeper than these",
    "behaviour specs other than Init /\\ [][Next]_v /\\ fairness (WF_v(A), SF_v(A), conjunctions and \\A x \\in S of them); temporal existential quantification \\EE, \\AA",
    "Real numbers",
    "RECURSIVE inside LET",
    "user-defined infix, prefix and postfix operators",
    "constant operators (CONSTANT F(_))",
    "TLCGet, TLCSet, RandomElement, JavaTime, Any",
    "config sections POSTCONDITION, TYPE, TYPE_CONSTRAINT",
];

/// A problem found while loading a spec, at a position in it.
#[derive(Clone, Debug)]
pub struct SpecError {
    pub pos: Pos,
    pub msg: String,
}

/// A loaded, resolved spec with its constants bound.
pub struct Program {
    pub module: String,
    pub files: Vec<PathBuf>,
    pub vars: Vec<Arc<str>>,
    pub consts: Vec<Arc<str>>,
    pub const_values: Vec<Value>,
    pub defs: Vec<Def>,
    pub lambdas: Vec<Arc<Lambda>>,
    pub names: HashMap<Arc<str>, u32>,
    pub assumes: Vec<Expr>,
    /// Where unassigned-variable errors point: the Init or Next definition.
    pub action_pos: Pos,
    /// Per definition: a call with arguments is worth caching per state (see
    /// [`eval::Memo`]): it reads only the current state, takes no operator
    /// arguments, and its body ranges over a set or calls one that does.
    pub memo_args: Vec<bool>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Program({})", self.module)
    }
}

impl Program {
    /// An error at a position in the spec, as a diagnostic: file, line,
    /// column.
    pub fn error_at(&self, pos: Pos, msg: &str) -> Error {
        let file = self.files.get(pos.file as usize).cloned().unwrap_or_default();
        let location = if pos.line == 0 { Location::file(&file) } else { Location::at(&file, pos.line as usize) };
        Error::Spec(Diagnostic::new(location, format!("{msg} (column {})", pos.col)))
    }

    pub fn def(&self, name: &str) -> Option<u32> {
        self.names.get(name).copied()
    }
}

struct Loader {
    libs: Vec<PathBuf>,
    sources: Vec<parse::Source>,
    loaded: Vec<String>,
}

impl Loader {
    fn find(&self, name: &str, beside: &Path) -> Option<PathBuf> {
        let file = format!("{name}.tla");
        let dir = beside.parent().unwrap_or(Path::new("."));
        std::iter::once(dir.to_path_buf()).chain(self.libs.iter().cloned()).map(|d| d.join(&file)).find(|p| p.is_file())
    }

    /// Loads a module and, first, the modules it extends.
    fn load(&mut self, path: &Path, from: Option<(Pos, &str)>) -> Result<()> {
        let src = parse::read_source(path).map_err(|m| match from {
            Some((_, f)) => Error::Spec(Diagnostic::new(Location::file(Path::new(f)), m)),
            None => Error::Spec(Diagnostic::new(Location::file(path), m)),
        })?;
        if let Some((line, text)) = crate::spec::tla::first_error(&src.tree, &src.text) {
            return Err(Error::Spec(
                Diagnostic::new(Location::at(path, line), "TLA+ syntax error")
                    .evidence("line", text)
                    .hint("run SANY or TLC on the module to see the full parse error"),
            ));
        }
        let root = src.tree.root_node();
        let module = parse::children(root).into_iter().find(|n| n.kind() == "module").ok_or_else(|| {
            Error::Spec(Diagnostic::new(Location::file(path), "no MODULE in this file").hint("a spec starts with `---- MODULE Name ----`"))
        })?;
        let mut extends = Vec::new();
        for unit in parse::children(module) {
            if unit.kind() == "extends" {
                for id in parse::children(unit) {
                    extends.push((src.text[id.byte_range()].to_string(), id.start_position().row + 1));
                }
            }
        }
        let name = module.child_by_field_name("name").map(|n| src.text[n.byte_range()].to_string()).unwrap_or_default();
        self.loaded.push(name);
        for (ext, line) in extends {
            if parse::STANDARD.contains(&ext.as_str()) || self.loaded.contains(&ext) {
                continue;
            }
            let Some(p) = self.find(&ext, path) else {
                return Err(Error::Spec(
                    Diagnostic::new(Location::at(path, line), format!("module {ext} is not standard and not found"))
                        .hint("put it beside the spec, or pass --lib DIR"),
                ));
            };
            let p2 = p.clone();
            self.load(&p2, Some((Pos::default(), &path.to_string_lossy())))?;
        }
        self.sources.push(src);
        Ok(())
    }
}

fn spec_err(prog: &Program, e: SpecError) -> Error {
    prog.error_at(e.pos, &e.msg)
}

/// Loads a spec and binds the constants of a config.
pub fn load(tla: &Path, cfg: &Cfg, libs: &[PathBuf]) -> Result<Program> {
    let mut loader = Loader { libs: libs.to_vec(), sources: Vec::new(), loaded: Vec::new() };
    loader.load(tla, None)?;
    let sources = loader.sources;
    let mut prog = Program {
        module: String::new(),
        files: sources.iter().map(|s| s.path.clone()).collect(),
        vars: Vec::new(),
        consts: Vec::new(),
        const_values: Vec::new(),
        defs: Vec::new(),
        lambdas: Vec::new(),
        names: HashMap::new(),
        assumes: Vec::new(),
        action_pos: Pos::default(),
        memo_args: Vec::new(),
    };
    // First pass: every declared name, so bodies can refer to later ones.
    let mut units: Vec<(u16, Vec<Node<'_>>)> = Vec::new();
    for (fi, src) in sources.iter().enumerate() {
        let file = fi as u16;
        let root = src.tree.root_node();
        let module = parse::children(root).into_iter().find(|n| n.kind() == "module").expect("checked on load");
        if fi + 1 == sources.len() {
            prog.module = module.child_by_field_name("name").map(|n| src.text[n.byte_range()].to_string()).unwrap_or_default();
        }
        let mut list = Vec::new();
        for unit in parse::children(module) {
            let unit = if unit.kind() == "local_definition" { parse::children(unit).into_iter().next().unwrap_or(unit) } else { unit };
            let path = src.path.clone();
            let err = |n: Node<'_>, what: &str| {
                let snippet: String = src.text[n.byte_range()].lines().next().unwrap_or("").chars().take(60).collect();
                let p = parse::pos_of(file, n);
                Error::Spec(Diagnostic::new(
                    Location::at(&path, p.line as usize),
                    format!("{what} is not supported by the TLA+ interpreter (`{snippet}`) (column {})", p.col),
                ))
            };
            match unit.kind() {
                "constant_declaration" => {
                    for c in parse::children(unit) {
                        match c.kind() {
                            "identifier" => prog.consts.push(Arc::from(&src.text[c.byte_range()])),
                            "operator_declaration" => return Err(err(c, "a constant operator (CONSTANT F(_))")),
                            _ => {}
                        }
                    }
                }
                "variable_declaration" => {
                    for c in parse::children(unit) {
                        if c.kind() == "identifier" {
                            prog.vars.push(Arc::from(&src.text[c.byte_range()]));
                        }
                    }
                }
                "operator_definition" | "function_definition" => {
                    let Some(name) = unit.child_by_field_name("name") else { continue };
                    if name.kind() != "identifier" {
                        return Err(err(unit, "a user-defined infix, prefix or postfix operator"));
                    }
                    let n: Arc<str> = Arc::from(&src.text[name.byte_range()]);
                    let is_fn = unit.kind() == "function_definition";
                    let (arities, pnames) = if is_fn {
                        (Vec::new(), Vec::new())
                    } else {
                        (parse::def_arities(&src.text, unit), parse::def_param_names(&src.text, unit))
                    };
                    let id = prog.defs.len() as u32;
                    prog.defs.push(parse::new_def(n.clone(), arities, pnames, is_fn, parse::pos_of(file, name)));
                    prog.names.insert(n, id);
                    list.push(unit);
                }
                "assumption" => list.push(unit),
                "module_definition" | "instance" => return Err(err(unit, "INSTANCE")),
                "module" => return Err(err(unit, "a nested module")),
                _ => {}
            }
        }
        units.push((file, list));
    }
    // Operator overrides from the config: `Op <- Other` for a definition Op.
    let mut globals = prog.names.clone();
    let mut const_binding: Vec<Option<Binding>> = vec![None; prog.consts.len()];
    for b in &cfg.constants {
        if let Some(ci) = prog.consts.iter().position(|c| **c == *b.name) {
            const_binding[ci] = Some(b.binding.clone());
            continue;
        }
        match &b.binding {
            Binding::Substitution(other) if prog.names.contains_key(b.name.as_str()) => {
                let Some(&target) = prog.names.get(other.as_str()) else {
                    return Err(Error::Spec(Diagnostic::new(
                        Location::at(&cfg.path, b.line),
                        format!("`{} <- {other}`: module {} has no definition `{other}`", b.name, prog.module),
                    )));
                };
                globals.insert(Arc::from(b.name.as_str()), target);
            }
            _ => {
                return Err(Error::Spec(
                    Diagnostic::new(
                        Location::at(&cfg.path, b.line),
                        format!("unknown constant `{}`: module {} does not declare it", b.name, prog.module),
                    )
                    .evidence("declared", prog.consts.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")),
                ));
            }
        }
    }
    for (i, b) in const_binding.iter().enumerate() {
        if b.is_none() {
            return Err(Error::Spec(
                Diagnostic::new(Location::file(&cfg.path), format!("constant `{}` of module {} is not assigned", prog.consts[i], prog.module))
                    .hint(format!("add `{} = …` under CONSTANTS", prog.consts[i])),
            ));
        }
    }
    let consts: HashMap<Arc<str>, u32> = prog.consts.iter().enumerate().map(|(i, c)| (c.clone(), i as u32)).collect();
    let vars: HashMap<Arc<str>, u32> = prog.vars.iter().enumerate().map(|(i, v)| (v.clone(), i as u32)).collect();
    // Second pass: bodies.
    let mut def_id = 0usize;
    let mut assumes = Vec::new();
    for (file, list) in &units {
        let src = &sources[*file as usize];
        for unit in list {
            let mut c = parse::Compiler { prog: &mut prog, file: *file, src: &src.text, globals: &globals, consts: &consts, vars: &vars };
            match unit.kind() {
                "assumption" => {
                    let body = parse::children(*unit).into_iter().last();
                    if let Some(body) = body {
                        let mut scope = parse::Scope::new();
                        match c.expr(body, &mut scope) {
                            Ok(e) => assumes.push(e),
                            Err(e) => return Err(spec_err(&prog, e)),
                        }
                    }
                }
                "function_definition" => {
                    let r = c.function_definition(*unit);
                    let (bounds, body) = r.map_err(|e| spec_err(&prog, e))?;
                    let def = &mut prog.defs[def_id];
                    def.function = Some(bounds);
                    def.body = Some(body);
                    def_id += 1;
                }
                _ => {
                    let r = c.definition(*unit);
                    let (_, body) = r.map_err(|e| spec_err(&prog, e))?;
                    prog.defs[def_id].body = Some(body);
                    def_id += 1;
                }
            }
        }
    }
    prog.assumes = assumes;
    // Which definitions depend on the state: a least fixpoint.
    for d in prog.defs.iter_mut() {
        d.state_level = false;
    }
    loop {
        let mut changed = false;
        for i in 0..prog.defs.len() {
            if prog.defs[i].state_level {
                continue;
            }
            let level = prog.defs[i].body.as_ref().is_some_and(|b| state_level(&prog, b))
                || prog.defs[i].function.as_ref().is_some_and(|bs| bs.iter().any(|b| state_level(&prog, &b.set)));
            if level {
                prog.defs[i].state_level = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Which definitions read the next state.
    loop {
        let mut changed = false;
        for i in 0..prog.defs.len() {
            if prog.defs[i].action_level {
                continue;
            }
            let level = prog.defs[i].body.as_ref().is_some_and(|b| action_level(&prog, b));
            if level {
                prog.defs[i].action_level = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    prog.memo_args = memo_args(&prog);
    // Constants: values from the config, or the value of a definition.
    prog.const_values = vec![Value::Bool(false); prog.consts.len()];
    let mut pending = Vec::new();
    for (i, b) in const_binding.into_iter().enumerate() {
        match b.expect("checked above") {
            Binding::Value(v) => prog.const_values[i] = from_cfg(&v),
            Binding::Substitution(def) => pending.push((i, def)),
        }
    }
    for (i, def) in pending {
        let line = cfg.constants.iter().find(|b| *b.name == *prog.consts[i]).map_or(0, |b| b.line);
        let Some(&d) = globals.get(def.as_str()) else {
            return Err(Error::Spec(Diagnostic::new(
                Location::at(&cfg.path, line),
                format!("`{} <- {def}`: module {} has no definition `{def}`", prog.consts[i], prog.module),
            )));
        };
        let empty: [Value; 0] = [];
        let mut ctx = eval::Ctx::new(&prog, &empty);
        let v = ctx.call_def(d, Vec::new(), prog.defs[d as usize].pos).map_err(|e| prog.error_at(e.pos, &e.msg))?;
        prog.const_values[i] = v;
    }
    // Constant-level definitions without parameters are evaluated once.
    for i in 0..prog.defs.len() {
        let d = &prog.defs[i];
        if d.state_level || !d.params.is_empty() || d.body.is_none() || d.folded.is_some() {
            continue;
        }
        let empty: [Value; 0] = [];
        let mut ctx = eval::Ctx::new(&prog, &empty);
        let folded = ctx.call_def(i as u32, Vec::new(), d.pos).ok().and_then(|v| v.normalized().ok());
        prog.defs[i].folded = folded;
    }
    // ASSUME
    for a in &prog.assumes {
        let empty: [Value; 0] = [];
        let mut ctx = eval::Ctx::new(&prog, &empty);
        match ctx.eval_bool(a) {
            Ok(true) => {}
            Ok(false) => return Err(prog.error_at(a.pos, "ASSUME is false for the config's constants")),
            Err(e) => return Err(prog.error_at(e.pos, &e.msg)),
        }
    }
    Ok(prog)
}

/// Whether an expression reads the state (a variable, primed or not, or a
/// definition that does).
fn state_level(prog: &Program, e: &Expr) -> bool {
    let mut found = false;
    visit(e, &mut |k| match k {
        Kind::Var(_) | Kind::Prime(_) | Kind::PrimeExpr(_) | Kind::Unchanged(_) | Kind::Enabled(_) => found = true,
        Kind::Call(d, _) | Kind::FnDefApply(d, _) | Kind::OpValue(d) => {
            if prog.defs[*d as usize].state_level {
                found = true
            }
        }
        _ => {}
    });
    found
}

/// Which definitions [`Program::memo_args`] marks: those whose body iterates
/// (a quantifier, CHOOSE, a set or function constructor) directly or through
/// the definitions it calls.
fn memo_args(prog: &Program) -> Vec<bool> {
    let n = prog.defs.len();
    let mut iterates = vec![false; n];
    loop {
        let mut changed = false;
        for i in 0..n {
            if iterates[i] {
                continue;
            }
            let Some(body) = &prog.defs[i].body else { continue };
            let mut found = false;
            visit(body, &mut |k| match k {
                Kind::Exists(..) | Kind::Forall(..) | Kind::Choose(..) | Kind::SetFilter(..) | Kind::SetMap(..) | Kind::FunDef(..) => {
                    found = true
                }
                Kind::Call(d, _) | Kind::FnDefApply(d, _) if iterates[*d as usize] => found = true,
                _ => {}
            });
            if found {
                iterates[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    prog.defs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            iterates[i] && !d.params.is_empty() && d.params.iter().all(|&a| a == 0) && !d.action_level && !d.is_function
        })
        .collect()
}

/// Whether an expression reads the next state.
fn action_level(prog: &Program, e: &Expr) -> bool {
    let mut found = false;
    visit(e, &mut |k| match k {
        Kind::Prime(_) | Kind::PrimeExpr(_) | Kind::Unchanged(_) | Kind::Enabled(_) | Kind::BoxAction(..) | Kind::AngleAction(..) => found = true,
        Kind::Call(d, _) | Kind::FnDefApply(d, _) | Kind::OpValue(d) => {
            if prog.defs[*d as usize].action_level {
                found = true
            }
        }
        // An operator argument may be an action: be conservative.
        Kind::ParamCall(..) | Kind::Lambda(_) => found = true,
        _ => {}
    });
    found
}

/// Calls `f` on every node of an expression.
pub fn visit(e: &Expr, f: &mut dyn FnMut(&Kind)) {
    f(&e.kind);
    let mut each = |x: &Expr| visit(x, f);
    match &e.kind {
        Kind::Lit(_) | Kind::Const(_) | Kind::Var(_) | Kind::Prime(_) | Kind::Local(_) | Kind::OpValue(_) | Kind::BuiltinValue(..) => {}
        Kind::PrimeExpr(a) | Kind::Not(a) | Kind::Unchanged(a) | Kind::Enabled(a) | Kind::Always(a) | Kind::Eventually(a) => each(a),
        Kind::Call(_, xs) | Kind::LetCall(_, xs) | Kind::ParamCall(_, xs) | Kind::FnDefApply(_, xs) | Kind::Builtin(_, xs)
        | Kind::And(xs) | Kind::Or(xs) | Kind::SetEnum(xs) | Kind::Tuple(xs) => xs.iter().for_each(each),
        Kind::Lambda(l) => each(&l.body),
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
            values.iter().for_each(|v| each(v));
            each(body)
        }
        Kind::Exists(bs, body) | Kind::Forall(bs, body) | Kind::SetMap(bs, body) | Kind::FunDef(bs, body) => {
            bs.iter().for_each(|b| each(&b.set));
            each(body)
        }
        Kind::Choose(b, body) | Kind::SetFilter(b, body) => {
            each(&b.set);
            each(body)
        }
        Kind::FunApp(a, xs) => {
            each(a);
            xs.iter().for_each(each)
        }
        Kind::Dot(a, _) => each(a),
        Kind::RecDef(fs) | Kind::RecSet(fs) => fs.iter().for_each(|(_, v)| each(v)),
        Kind::Except(a, ups, _) => {
            each(a);
            for (path, v) in ups {
                for s in path {
                    if let ast::ExceptStep::Apply(xs) = s {
                        xs.iter().for_each(&mut each)
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

/// A `.cfg` value as an interpreter value.
pub fn from_cfg(v: &crate::spec::value::Value) -> Value {
    use crate::spec::value::Value as C;
    match v {
        C::Bool(b) => Value::Bool(*b),
        C::Int(n) => Value::Int(*n),
        C::Str(s) => Value::str(s),
        C::ModelValue(s) => Value::Model(value::Str::new(s)),
        C::Set(items) => Value::set_of(items.iter().map(from_cfg).collect()),
        C::Tuple(items) => Value::Seq(Arc::new(items.iter().map(from_cfg).collect())),
        C::Record(fields) => Value::record(fields.iter().map(|(k, v)| (value::Str::new(k), from_cfg(v))).collect()),
    }
}

/// Whether any node of an expression satisfies `pred`.
pub fn visit_any(e: &Expr, pred: &dyn Fn(&Kind) -> bool) -> bool {
    let mut found = false;
    visit(e, &mut |k| {
        if pred(k) {
            found = true
        }
    });
    found
}

#[cfg(test)]
mod tests;
