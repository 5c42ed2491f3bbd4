//! A TLA+ interpreter: a spec with no Rust model is parsed
//! (tree-sitter-tlaplus), its names resolved ([`parse`]), and its Init and
//! Next enumerated ([`eval`]) the way TLC does, so that the parallel checker
//! explores it as it explores a hand-written model ([`model`]).
//!
//! What is refused (with its position, exit 2) rather than half-supported is
//! listed in [`REFUSED`].

/// The children of a syntax-tree node, in order, for the walks over the tree
/// (`visit`, and `fold::visit_mut` that rewrites it): `$kind` is `&e.kind`
/// or `&mut e.kind`, `$each` a closure called on each child expression, and
/// `$arc` what reaches into the `Arc` of a LAMBDA or a LET value, giving an
/// `Option` (`Some` to read it; `Arc::get_mut` to rewrite it, which leaves a
/// shared one alone). The written-out `&`/`&mut` of a field is `$($mut)?`.
macro_rules! each_child {
    ($kind:expr, $each:ident, $arc:path $(, $mut_:tt)?) => {
        match $kind {
            Kind::Lit(_) | Kind::Const(_) | Kind::Var(_) | Kind::Prime(_) | Kind::Local(_) | Kind::OpValue(_) | Kind::BuiltinValue(..) => {}
            Kind::PrimeExpr(a) | Kind::Not(a) | Kind::Unchanged(a) | Kind::Enabled(a) | Kind::Always(a) | Kind::Eventually(a) => $each(a),
            Kind::Call(_, xs) | Kind::LetCall(_, xs) | Kind::LetFnApply(_, xs) | Kind::ParamCall(_, xs) | Kind::FnDefApply(_, xs)
            | Kind::Builtin(_, xs) | Kind::And(xs) | Kind::Or(xs) | Kind::SetEnum(xs) | Kind::Tuple(xs) => {
                for x in xs {
                    $each(x)
                }
            }
            Kind::Lambda(l) => {
                if let Some(l) = $arc(l) {
                    $each(& $($mut_)? l.body)
                }
            }
            Kind::Implies(a, b) | Kind::Equiv(a, b) | Kind::FunSet(a, b) | Kind::BoxAction(a, b) | Kind::AngleAction(a, b) | Kind::LeadsTo(a, b) => {
                $each(a);
                $each(b)
            }
            Kind::If(a, b, c) => {
                $each(a);
                $each(b);
                $each(c)
            }
            Kind::Case(arms, other) => {
                for (g, v) in arms {
                    $each(g);
                    $each(v);
                }
                if let Some(o) = other {
                    $each(o)
                }
            }
            Kind::Let { values, body, .. } => {
                for v in values {
                    if let Some(v) = $arc(v) {
                        $each(v)
                    }
                }
                $each(body)
            }
            Kind::Exists(bs, body) | Kind::Forall(bs, body) | Kind::SetMap(bs, body) | Kind::FunDef(bs, body) => {
                for b in bs {
                    $each(& $($mut_)? b.set)
                }
                $each(body)
            }
            Kind::Choose(b, body) | Kind::SetFilter(b, body) => {
                $each(& $($mut_)? b.set);
                $each(body)
            }
            Kind::FunApp(a, xs) => {
                $each(a);
                for x in xs {
                    $each(x)
                }
            }
            Kind::Dot(a, _) => $each(a),
            Kind::RecDef(fs) | Kind::RecSet(fs) => {
                for (_, v) in fs {
                    $each(v)
                }
            }
            Kind::Except(a, ups, _) => {
                $each(a);
                for (path, v) in ups {
                    for s in path {
                        if let ast::ExceptStep::Apply(xs) = s {
                            for x in xs {
                                $each(x)
                            }
                        }
                    }
                    $each(v)
                }
            }
            Kind::Fair { vars, action, .. } => {
                $each(vars);
                $each(action)
            }
        }
    };
}

pub mod ast;
pub mod eval;
mod fold;
pub mod model;
pub mod parse;
pub mod stack;
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
    "subexpression references (Op!1, Op!<<, Op!:) and an instance-qualified operator symbol (I!\\oplus)",
    "INSTANCE with an operator parameter (I(F(_)) == INSTANCE M), substituting an operator symbol, and a function definition f[x \\in S] == e or an operator passed as an argument in a module instantiated with parameters",
    "ENABLED of an action that reads a primed expression, or compares one in UNCHANGED, whose variables it has not assigned (as for a refined spec's fairness through a substitution that is not a variable: TLC computes some of these)",
    "unbounded quantifiers \\E x : P / \\A x : P and CHOOSE without a set",
    "temporal properties other than []P, <>P, []<>P, <>[]P, P ~> Q, [](P => <>Q), [][A]_v, WF_v(A), SF_v(A), a state predicate on the initial states (so a refined spec I!Spec), their conjunctions and \\A x \\in S over them (with P, Q state predicates); \\E, ~, \\/ and nesting deeper than these",
    "behaviour specs other than Init /\\ [][Next]_v /\\ fairness (WF_v(A), SF_v(A), conjunctions and \\A x \\in S of them); temporal existential quantification \\EE, \\AA",
    "Real numbers",
    "RECURSIVE inside LET with a LET value defined between the declaration and the definition, RECURSIVE of an operator symbol in LET, and a RECURSIVE LET operator passed as an argument inside its own definition",
    "the operators ENABLED, UNCHANGED, [], <>, ~>, -+->, \\cdot and ' passed as an argument",
    "constant operators (CONSTANT F(_))",
    "a module nested in a module, and an instance of a standard module with parameters (S(x) == INSTANCE Sequences)",
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

/// The modules a spec reads: the root (first) and every non-standard module
/// it extends or instantiates, directly or not, each parsed once.
struct Loader {
    libs: Vec<PathBuf>,
    sources: Vec<parse::Source>,
    by_name: HashMap<String, usize>,
}

/// The INSTANCE node a module unit holds: `INSTANCE M …` or
/// `I(…) == INSTANCE M …`, LOCAL or not.
fn instance_of(unit: Node<'_>) -> Option<Node<'_>> {
    let unit = if unit.kind() == "local_definition" { parse::children(unit).into_iter().next()? } else { unit };
    match unit.kind() {
        "instance" => Some(unit),
        "module_definition" => unit.child_by_field_name("definition"),
        _ => None,
    }
}

/// The name of the module an INSTANCE node instantiates.
fn instantiated<'t>(inst: Node<'t>) -> Option<Node<'t>> {
    parse::children(inst).into_iter().find(|n| n.kind() == "identifier_ref")
}

impl Loader {
    fn find(&self, name: &str, beside: &Path) -> Option<PathBuf> {
        let file = format!("{name}.tla");
        let dir = beside.parent().unwrap_or(Path::new("."));
        std::iter::once(dir.to_path_buf()).chain(self.libs.iter().cloned()).map(|d| d.join(&file)).find(|p| p.is_file())
    }

    /// Loads a module, then the modules it extends and instantiates.
    fn load(&mut self, path: &Path) -> Result<()> {
        let src = parse::read_source(path)?;
        if let Some((line, text)) = crate::spec::tla::first_error(&src.tree, &src.text) {
            return Err(Error::Spec(
                Diagnostic::new(Location::at(path, line), "TLA+ syntax error")
                    .evidence("line", text)
                    .hint("run SANY or TLC on the module to see the full parse error"),
            ));
        }
        // Before anything walks the tree by recursion.
        if let Some(node) = stack::too_nested(&src.tree) {
            let at = node.start_position();
            return Err(Error::Spec(
                Diagnostic::new(Location::at_column(path, at.row + 1, at.column + 1), stack::nests_too_deeply())
                    .hint("no spec nests expressions that deep; check that the right file was given"),
            ));
        }
        let root = src.tree.root_node();
        let module = parse::children(root).into_iter().find(|n| n.kind() == "module").ok_or_else(|| {
            Error::Spec(Diagnostic::new(Location::file(path), "no MODULE in this file").hint("a spec starts with `---- MODULE Name ----`"))
        })?;
        let mut uses = Vec::new();
        for unit in parse::children(module) {
            if unit.kind() == "extends" {
                for id in parse::children(unit) {
                    uses.push((src.text[id.byte_range()].to_string(), id.start_position().row + 1));
                }
            } else if let Some(m) = instance_of(unit).and_then(instantiated) {
                uses.push((src.text[m.byte_range()].to_string(), m.start_position().row + 1));
            }
        }
        let name = module.child_by_field_name("name").map(|n| src.text[n.byte_range()].to_string()).unwrap_or_default();
        self.by_name.insert(name, self.sources.len());
        self.sources.push(src);
        for (used, line) in uses {
            if parse::STANDARD.contains(&used.as_str()) || self.by_name.contains_key(&used) {
                continue;
            }
            let Some(p) = self.find(&used, path) else {
                return Err(Error::Spec(
                    Diagnostic::new(Location::at(path, line), format!("module {used} is not standard and not found"))
                        .hint("put it beside the spec, or pass --lib DIR"),
                ));
            };
            self.load(&p)?;
        }
        Ok(())
    }
}

/// What a name of a module stands for.
#[derive(Clone, Copy, Debug)]
enum Ent {
    Def(u32),
    Const(u32),
    Var(u32),
}

/// A name a module makes visible to those that extend or instantiate it;
/// `true` for a constant or variable (which INSTANCE does not import).
type Export = (Arc<str>, Ent, bool);

/// One way a module is read: the root module and what it extends, or an
/// instance of a module with its substitutions.
struct Inst {
    id: usize,
    /// Prepended to the names of its definitions (`I!`, `I!J!`).
    prefix: String,
    hidden: u32,
    hidden_names: Vec<Arc<str>>,
    main: bool,
    /// The WITH substitutions for its constants and variables.
    explicit: HashMap<Arc<str>, Ent>,
    /// The instantiating module's names, for the implicit substitutions.
    outer: Option<parse::Names>,
    /// The INSTANCE, for errors.
    at: Pos,
    module: String,
}

enum Job<'t> {
    Def { def: u32, ns: usize, file: u16, node: Node<'t> },
    Subst { def: u32, ns: usize, file: u16, inst_def: Option<Node<'t>>, expr: Node<'t> },
    Assume { ns: usize, file: u16, node: Node<'t> },
}

/// The first pass: every module, as extended and instantiated, gets its
/// names ([`parse::Names`]) and its definitions a place in
/// [`Program::defs`]; their bodies are compiled afterwards ([`Job`]).
struct Declarer<'t> {
    sources: &'t [parse::Source],
    by_name: &'t HashMap<String, usize>,
    namespaces: Vec<parse::Names>,
    jobs: Vec<Job<'t>>,
    extended: HashMap<(usize, usize), Vec<Export>>,
    next_inst: usize,
}

impl<'t> Declarer<'t> {
    fn text(&self, file: u16, n: Node<'_>) -> &'t str {
        &self.sources[file as usize].text[n.byte_range()]
    }

    fn refuse(&self, file: u16, n: Node<'_>, what: &str) -> Error {
        let src = &self.sources[file as usize];
        let snippet: String = src.text[n.byte_range()].lines().next().unwrap_or("").chars().take(60).collect();
        let p = parse::pos_of(file, n);
        Error::Spec(Diagnostic::new(
            Location::at(&src.path, p.line as usize),
            format!("{what} is not supported by the TLA+ interpreter (`{snippet}`) (column {})", p.col),
        ))
    }

    fn error_at(&self, file: u16, n: Node<'_>, msg: &str) -> Error {
        let src = &self.sources[file as usize];
        let p = parse::pos_of(file, n);
        Error::Spec(Diagnostic::new(Location::at(&src.path, p.line as usize), format!("{msg} (column {})", p.col)))
    }

    fn insert(&mut self, ns: usize, name: Arc<str>, ent: Ent) {
        let names = &mut self.namespaces[ns];
        match ent {
            Ent::Def(d) => names.globals.insert(name, d),
            Ent::Const(c) => names.consts.insert(name, c),
            Ent::Var(v) => names.vars.insert(name, v),
        };
    }

    /// What an instance substitutes for a constant or variable of its module.
    fn substitute(&self, prog: &Program, inst: &Inst, name: &Arc<str>, what: &str) -> Result<Ent> {
        if let Some(e) = inst.explicit.get(name) {
            return Ok(*e);
        }
        if let Some(outer) = &inst.outer {
            if let Some(&d) = outer.globals.get(name) {
                let def = &prog.defs[d as usize];
                if def.params.len() == def.hidden {
                    return Ok(Ent::Def(d));
                }
            } else if let Some(&c) = outer.consts.get(name) {
                return Ok(Ent::Const(c));
            } else if let Some(&v) = outer.vars.get(name) {
                return Ok(Ent::Var(v));
            }
        }
        Err(prog.error_at(
            inst.at,
            &format!(
                "INSTANCE {}: its {what} `{name}` has no substitution (add `{name} <- …` after WITH, or declare or define `{name}` in the instantiating module)",
                inst.module
            ),
        ))
    }

    fn declare(&mut self, prog: &mut Program, m: usize, inst: &Inst) -> Result<Vec<Export>> {
        let file = m as u16;
        let src = &self.sources[m];
        let module = parse::children(src.tree.root_node()).into_iter().find(|n| n.kind() == "module").expect("checked on load");
        let module_name: Arc<str> = module.child_by_field_name("name").map(|n| Arc::from(self.text(file, n))).unwrap_or_else(|| Arc::from(""));
        let ns = self.namespaces.len();
        self.namespaces.push(parse::Names { hidden: inst.hidden, module: module_name, ..Default::default() });
        let mut exports: Vec<Export> = Vec::new();
        for unit in parse::children(module) {
            let (local, unit) = if unit.kind() == "local_definition" {
                (true, parse::children(unit).into_iter().next().unwrap_or(unit))
            } else {
                (false, unit)
            };
            match unit.kind() {
                "extends" => {
                    for id in parse::children(unit) {
                        let name = self.text(file, id);
                        if parse::STANDARD.contains(&name) {
                            continue;
                        }
                        let mi = self.by_name[name];
                        let ex = match self.extended.get(&(inst.id, mi)) {
                            Some(ex) => ex.clone(),
                            None => {
                                let ex = self.declare(prog, mi, inst)?;
                                self.extended.insert((inst.id, mi), ex.clone());
                                ex
                            }
                        };
                        for (n, ent, decl) in ex {
                            self.insert(ns, n.clone(), ent);
                            exports.push((n, ent, decl));
                        }
                    }
                }
                "constant_declaration" | "variable_declaration" => {
                    let constant = unit.kind() == "constant_declaration";
                    for c in parse::children(unit) {
                        match c.kind() {
                            "identifier" => {
                                let n: Arc<str> = Arc::from(self.text(file, c));
                                let ent = if !inst.main {
                                    self.substitute(prog, inst, &n, if constant { "constant" } else { "variable" })?
                                } else if constant {
                                    prog.consts.push(n.clone());
                                    Ent::Const(prog.consts.len() as u32 - 1)
                                } else {
                                    prog.vars.push(n.clone());
                                    Ent::Var(prog.vars.len() as u32 - 1)
                                };
                                self.insert(ns, n.clone(), ent);
                                exports.push((n, ent, true));
                            }
                            "operator_declaration" => return Err(self.refuse(file, c, "a constant operator (CONSTANT F(_))")),
                            _ => {}
                        }
                    }
                }
                "operator_definition" | "function_definition" => {
                    let Some(name) = unit.child_by_field_name("name") else { continue };
                    let (key, shown): (Arc<str>, &str) = match name.kind() {
                        "identifier" => (Arc::from(self.text(file, name)), self.text(file, name)),
                        "infix_op_symbol" | "prefix_op_symbol" | "postfix_op_symbol" => {
                            let key = parse::symbol_key(&self.sources[m].text, name).map_err(|msg| self.error_at(file, name, &msg))?;
                            (key, self.text(file, name))
                        }
                        _ => return Err(self.refuse(file, unit, "a definition of this name")),
                    };
                    let is_fn = unit.kind() == "function_definition";
                    let text = &self.sources[m].text;
                    let (arities, pnames) =
                        if is_fn { (Vec::new(), Vec::new()) } else { (parse::def_arities(text, unit), parse::def_param_names(text, unit)) };
                    let mut params = vec![0; inst.hidden as usize];
                    params.extend(arities);
                    let mut names = inst.hidden_names.clone();
                    names.extend(pnames);
                    let mut def = parse::new_def(Arc::from(format!("{}{shown}", inst.prefix)), params, names, is_fn, parse::pos_of(file, name));
                    def.hidden = inst.hidden as usize;
                    let id = prog.defs.len() as u32;
                    prog.defs.push(def);
                    self.insert(ns, key.clone(), Ent::Def(id));
                    self.jobs.push(Job::Def { def: id, ns, file, node: unit });
                    if !local {
                        exports.push((key, Ent::Def(id), false));
                    }
                }
                "assumption" if inst.main => self.jobs.push(Job::Assume { ns, file, node: unit }),
                "module_definition" | "instance" => self.instance(prog, ns, file, unit, local, inst, &mut exports)?,
                "module" => return Err(self.refuse(file, unit, "a nested module")),
                _ => {}
            }
        }
        Ok(exports)
    }

    /// `INSTANCE M WITH …` or `I(p…) == INSTANCE M WITH …` in namespace `ns`.
    #[allow(clippy::too_many_arguments)]
    fn instance(&mut self, prog: &mut Program, ns: usize, file: u16, unit: Node<'t>, local: bool, inst: &Inst, exports: &mut Vec<Export>) -> Result<()> {
        let (named, inst_def, node) = if unit.kind() == "module_definition" {
            let Some(name) = unit.child_by_field_name("name") else { return Ok(()) };
            let Some(node) = unit.child_by_field_name("definition") else { return Ok(()) };
            (Some(self.text(file, name)), Some(unit), node)
        } else {
            (None, None, unit)
        };
        let Some(mnode) = instantiated(node) else { return Err(self.refuse(file, node, "this INSTANCE")) };
        let mname = self.text(file, mnode);
        if parse::STANDARD.contains(&mname) {
            if let Some(n) = named {
                if inst_def.is_some_and(|d| !parse::def_arities("", d).is_empty()) {
                    return Err(self.refuse(file, unit, "an instance of a standard module with parameters"));
                }
                self.namespaces[ns].std_instances.insert(Arc::from(n));
            }
            return Ok(());
        }
        let mi = self.by_name[mname];
        let (arities, pnames) = match inst_def {
            Some(d) => (parse::def_arities("", d), parse::def_param_names(&self.sources[file as usize].text, d)),
            None => (Vec::new(), Vec::new()),
        };
        if arities.iter().any(|&a| a > 0) {
            return Err(self.refuse(file, unit, "an instance with an operator parameter"));
        }
        let hidden = inst.hidden + arities.len() as u32;
        let mut hidden_names = inst.hidden_names.clone();
        hidden_names.extend(pnames);
        let prefix = match named {
            Some(n) => format!("{}{n}!", inst.prefix),
            None => inst.prefix.clone(),
        };
        let mut explicit = HashMap::new();
        for sub in parse::children(node).into_iter().filter(|n| n.kind() == "substitution") {
            let parts = parse::children(sub);
            let (Some(lhs), Some(rhs)) = (parts.first().copied(), parts.last().copied()) else { continue };
            if lhs.kind() != "identifier_ref" {
                return Err(self.refuse(file, sub, "substituting an operator symbol"));
            }
            let lname: Arc<str> = Arc::from(self.text(file, lhs));
            // A variable or constant of the instantiating module stands for
            // itself, so `x <- y` keeps y' assignable.
            let direct = if rhs.kind() == "identifier_ref" {
                let names = &self.namespaces[ns];
                let t = self.text(file, rhs);
                match (names.globals.get(t), names.vars.get(t), names.consts.get(t)) {
                    (None, Some(&v), _) => Some(Ent::Var(v)),
                    (None, None, Some(&c)) => Some(Ent::Const(c)),
                    _ => None,
                }
            } else {
                None
            };
            let ent = match direct {
                Some(e) => e,
                None => {
                    let mut def = parse::new_def(
                        Arc::from(format!("{prefix}{lname}")),
                        vec![0; hidden as usize],
                        hidden_names.clone(),
                        false,
                        parse::pos_of(file, sub),
                    );
                    def.hidden = hidden as usize;
                    let id = prog.defs.len() as u32;
                    prog.defs.push(def);
                    self.jobs.push(Job::Subst { def: id, ns, file, inst_def, expr: rhs });
                    Ent::Def(id)
                }
            };
            explicit.insert(lname, ent);
        }
        self.next_inst += 1;
        let inner = Inst {
            id: self.next_inst,
            prefix,
            hidden,
            hidden_names,
            main: false,
            explicit,
            outer: Some(self.namespaces[ns].clone()),
            at: parse::pos_of(file, node),
            module: mname.to_string(),
        };
        let ex = self.declare(prog, mi, &inner)?;
        for (n, ent, decl) in ex {
            let key: Arc<str> = match named {
                Some(i) if matches!(ent, Ent::Def(_)) => Arc::from(format!("{i}!{n}")),
                None if !decl => n,
                _ => continue,
            };
            self.insert(ns, key.clone(), ent);
            if !local {
                exports.push((key, ent, false));
            }
        }
        Ok(())
    }
}

fn spec_err(prog: &Program, e: SpecError) -> Error {
    prog.error_at(e.pos, &e.msg)
}

/// Loads a spec and binds the constants of a config.
pub fn load(tla: &Path, cfg: &Cfg, libs: &[PathBuf]) -> Result<Program> {
    let mut loader = Loader { libs: libs.to_vec(), sources: Vec::new(), by_name: HashMap::new() };
    loader.load(tla)?;
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
    // First pass: every module's names, so bodies can refer to later ones.
    let mut decl = Declarer {
        sources: &sources,
        by_name: &loader.by_name,
        namespaces: Vec::new(),
        jobs: Vec::new(),
        extended: HashMap::new(),
        next_inst: 0,
    };
    let root = Inst {
        id: 0,
        prefix: String::new(),
        hidden: 0,
        hidden_names: Vec::new(),
        main: true,
        explicit: HashMap::new(),
        outer: None,
        at: Pos::default(),
        module: String::new(),
    };
    decl.declare(&mut prog, 0, &root)?;
    let Declarer { mut namespaces, jobs, .. } = decl;
    prog.module = namespaces[0].module.to_string();
    prog.names = namespaces[0].globals.clone();
    // Operator overrides from the config: `Op <- Other` for a definition
    // Op, and `Op <- [M] Other` for Op as module M defines it (in every
    // instance of M); Other is the root module's.
    let mut const_binding: Vec<Option<Binding>> = vec![None; prog.consts.len()];
    for b in &cfg.constants {
        let scoped = b.module.as_deref().filter(|m| *m != prog.module);
        if scoped.is_none() {
            if let Some(ci) = prog.consts.iter().position(|c| **c == *b.name) {
                const_binding[ci] = Some(b.binding.clone());
                continue;
            }
        }
        let name = b.name.as_str();
        match &b.binding {
            Binding::Substitution(other) if scoped.is_some() || prog.names.contains_key(name) => {
                let Some(&target) = prog.names.get(other.as_str()) else {
                    return Err(Error::Spec(Diagnostic::new(
                        Location::at(&cfg.path, b.line),
                        format!("`{name} <- {other}`: module {} has no definition `{other}`", prog.module),
                    )));
                };
                let own = |d: u32| prog.defs[d as usize].params.len() - prog.defs[d as usize].hidden;
                // The definitions replaced: the root module's Op, or Op of
                // every reading of module M; every name for them (`Op`,
                // `I!Op`, in any module) then stands for Other.
                let old: std::collections::HashSet<u32> = match scoped {
                    None => prog.names.get(name).copied().into_iter().collect(),
                    Some(m) => namespaces.iter().filter(|ns| *ns.module == *m).filter_map(|ns| ns.globals.get(name).copied()).collect(),
                };
                for &d in &old {
                    if own(d) != own(target) {
                        return Err(Error::Spec(Diagnostic::new(
                            Location::at(&cfg.path, b.line),
                            format!("`{name} <- {other}`: `{name}` takes {} arguments and `{other}` {}", own(d), own(target)),
                        )));
                    }
                }
                let replaced = old.len();
                for ns in namespaces.iter_mut() {
                    for d in ns.globals.values_mut() {
                        if old.contains(d) {
                            *d = target;
                        }
                    }
                }
                if replaced == 0 {
                    return Err(Error::Spec(Diagnostic::new(
                        Location::at(&cfg.path, b.line),
                        format!("`{name} <- [{}] {other}`: module {} is not used by the spec, or does not define `{name}`", scoped.unwrap_or(""), scoped.unwrap_or("")),
                    )));
                }
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
    // Second pass: bodies.
    let mut assumes = Vec::new();
    for job in jobs {
        match job {
            Job::Def { def, ns, file, node } => {
                let src = &sources[file as usize];
                let mut c = parse::Compiler { prog: &mut prog, file, src: &src.text, ns: &namespaces[ns] };
                if node.kind() == "function_definition" {
                    let (bounds, body) = c.function_definition(node).map_err(|e| spec_err(&prog, e))?;
                    let d = &mut prog.defs[def as usize];
                    d.function = Some(bounds);
                    d.body = Some(body);
                } else {
                    let (_, body) = c.definition(node).map_err(|e| spec_err(&prog, e))?;
                    prog.defs[def as usize].body = Some(body);
                }
            }
            Job::Subst { def, ns, file, inst_def, expr } => {
                let src = &sources[file as usize];
                let mut c = parse::Compiler { prog: &mut prog, file, src: &src.text, ns: &namespaces[ns] };
                let body = c.substitution(inst_def, expr).map_err(|e| spec_err(&prog, e))?;
                prog.defs[def as usize].body = Some(body);
            }
            Job::Assume { ns, file, node } => {
                let src = &sources[file as usize];
                let mut c = parse::Compiler { prog: &mut prog, file, src: &src.text, ns: &namespaces[ns] };
                if let Some(body) = parse::children(node).into_iter().last() {
                    let mut scope = parse::Scope::new();
                    match c.expr(body, &mut scope) {
                        Ok(e) => assumes.push(e),
                        Err(e) => return Err(spec_err(&prog, e)),
                    }
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
        let Some(&d) = namespaces[0].globals.get(def.as_str()) else {
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
    fold::fold_constants(&mut prog);
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
    visit_calling_lets(prog, e, &mut |k| match k {
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
                // A LET function definition (its body a function constructor).
                Kind::LetFnApply(..) => found = true,
                Kind::LetCall(l, _) if matches!(prog.lambdas[*l as usize].body.kind, Kind::FunDef(..)) => found = true,
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
    visit_calling_lets(prog, e, &mut |k| match k {
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

/// [`visit`], and also every node of the LET operators the expression
/// calls, directly or through each other (each once: they may recurse).
fn visit_calling_lets(prog: &Program, e: &Expr, f: &mut dyn FnMut(&Kind)) {
    let mut calls = Vec::new();
    visit(e, &mut |k| {
        if let Kind::LetCall(i, _) | Kind::LetFnApply(i, _) = k {
            calls.push(*i);
        }
        f(k)
    });
    let mut seen = std::collections::HashSet::new();
    while let Some(i) = calls.pop() {
        if !seen.insert(i) {
            continue;
        }
        visit(&prog.lambdas[i as usize].body, &mut |k| {
            if let Kind::LetCall(j, _) | Kind::LetFnApply(j, _) = k {
                calls.push(*j);
            }
            f(k)
        });
    }
}

/// Calls `f` on every node of an expression.
pub fn visit(e: &Expr, f: &mut dyn FnMut(&Kind)) {
    f(&e.kind);
    let mut each = |x: &Expr| visit(x, f);
    each_child!(&e.kind, each, Some);
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
