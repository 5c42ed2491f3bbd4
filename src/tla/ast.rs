//! The interpreter's syntax tree: TLA+ expressions with every name resolved
//! (a state variable, a constant, a definition, a bound variable's slot) and
//! the source position of each node for error messages.

use std::sync::Arc;

use super::value::{Str, Value};

/// A position in a source file: file index into [`Program::files`], 1-based
/// line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub file: u16,
    pub line: u32,
    pub col: u32,
}

#[derive(Debug)]
pub struct Expr {
    pub kind: Kind,
    pub pos: Pos,
}

/// How bound variables are introduced: `x \in S` or `<<a, b>> \in S`.
#[derive(Debug)]
pub struct Bound {
    /// The names bound, for action labels.
    pub names: Vec<Arc<str>>,
    /// Number of slots this binder fills: 1 for `x`, n for `<<x1, …, xn>>`.
    pub tuple: Option<usize>,
    pub set: Expr,
}

/// A LAMBDA, a LET operator with parameters (or declared RECURSIVE), or a
/// LET function definition (its body a [`Kind::FunDef`]): a body compiled in
/// a frame whose first `depth` slots are the enclosing frame's.
#[derive(Debug)]
pub struct Lambda {
    pub name: Arc<str>,
    pub depth: usize,
    pub arity: usize,
    pub body: Expr,
}

#[derive(Debug)]
pub enum ExceptStep {
    Apply(Vec<Expr>),
    Field(Str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    // arithmetic
    Plus,
    Minus,
    Times,
    Div,
    Mod,
    Pow,
    Neg,
    Lt,
    Gt,
    Le,
    Ge,
    Range,
    // equality and sets
    Eq,
    Neq,
    In,
    NotIn,
    Cup,
    Cap,
    SetMinus,
    Subseteq,
    Subset,
    Supseteq,
    Supset,
    Powerset,
    Union,
    Domain,
    Product,
    // sequences
    Concat,
    Len,
    Append,
    Head,
    Tail,
    SubSeq,
    SelectSeq,
    Seq,
    // finite sets
    Cardinality,
    IsFiniteSet,
    // TLC module
    ColonGt,
    AtAt,
    Print,
    PrintT,
    Assert,
    ToString,
    Permutations,
    SortSeq,
    JavaTime,
    TLCEval,
    Any,
    // Bags
    BagToSet,
    SetToBag,
    BagIn,
    EmptyBag,
    BagCup,
    BagDiff,
    BagCardinality,
    CopiesIn,
    SubBag,
    BagOfAll,
    IsABag,
    BagUnion,
    SqSubseteq,
}

#[derive(Debug)]
pub enum Kind {
    Lit(Value),
    Const(u32),
    Var(u32),
    /// `x'` for a state variable x.
    Prime(u32),
    /// `e'` for any other expression: e evaluated in the next state.
    PrimeExpr(Box<Expr>),
    /// A bound variable, parameter or LET value, by slot in the frame.
    Local(u32),
    /// A top-level definition applied to arguments.
    Call(u32, Vec<Expr>),
    /// A LET operator with parameters, by index into [`super::Program::lambdas`].
    LetCall(u32, Vec<Expr>),
    /// An operator parameter (`F(_)`) applied.
    ParamCall(u32, Vec<Expr>),
    /// A recursive function definition `f[x \in S] == e` applied: `f[a]`.
    FnDefApply(u32, Vec<Expr>),
    /// A LET function definition `f[x \in S] == e` applied: `f[a]`, by
    /// index into [`super::Program::lambdas`], whose body is the
    /// [`Kind::FunDef`] `[x \in S |-> e]` (the whole function, `f` alone, is
    /// a [`Kind::LetCall`] of it without arguments).
    LetFnApply(u32, Vec<Expr>),
    Builtin(Builtin, Vec<Expr>),
    /// An operator as an argument: LAMBDA or a LET operator.
    Lambda(Arc<Lambda>),
    /// A top-level operator as an argument.
    OpValue(u32),
    BuiltinValue(Builtin, usize),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Implies(Box<Expr>, Box<Expr>),
    Equiv(Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Case(Vec<(Expr, Expr)>, Option<Box<Expr>>),
    /// LET: zero-arity definitions fill the slots from `first` on, lazily.
    Let { first: u32, values: Vec<Arc<Expr>>, body: Box<Expr> },
    Exists(Vec<Bound>, Box<Expr>),
    Forall(Vec<Bound>, Box<Expr>),
    Choose(Box<Bound>, Box<Expr>),
    SetEnum(Vec<Expr>),
    SetFilter(Box<Bound>, Box<Expr>),
    SetMap(Vec<Bound>, Box<Expr>),
    FunDef(Vec<Bound>, Box<Expr>),
    FunApp(Box<Expr>, Vec<Expr>),
    Dot(Box<Expr>, Str),
    FunSet(Box<Expr>, Box<Expr>),
    RecDef(Vec<(Str, Expr)>),
    RecSet(Vec<(Str, Expr)>),
    Tuple(Vec<Expr>),
    /// `[f EXCEPT !p = e, …]`; `@` in e is the slot `at`.
    Except(Box<Expr>, Vec<(Vec<ExceptStep>, Expr)>, u32),
    Unchanged(Box<Expr>),
    /// `[A]_v`
    BoxAction(Box<Expr>, Box<Expr>),
    /// `<<A>>_v`
    AngleAction(Box<Expr>, Box<Expr>),
    Enabled(Box<Expr>),
    Always(Box<Expr>),
    Eventually(Box<Expr>),
    LeadsTo(Box<Expr>, Box<Expr>),
    /// WF_v(A) (`strong` false) or SF_v(A).
    Fair { strong: bool, vars: Box<Expr>, action: Box<Expr> },
}

/// A top-level definition.
#[derive(Debug)]
pub struct Def {
    pub name: Arc<str>,
    /// Arity of each parameter: 0 for a value, n for an operator `F(_, …)`.
    /// The first `hidden` are the parameters of the instances it was
    /// instantiated through (`I(x) == INSTANCE M`: every definition of M
    /// takes x first), values all.
    pub params: Vec<usize>,
    pub hidden: usize,
    pub param_names: Vec<Arc<str>>,
    /// Defined as a function `f[x \in S] == e`.
    pub is_function: bool,
    pub body: Option<Expr>,
    /// `f[x \in S] == e`: the binders; the body is e.
    pub function: Option<Vec<Bound>>,
    pub pos: Pos,
    /// Its value, when it is constant-level and was evaluated once.
    pub folded: Option<Value>,
    /// Refers to state variables (directly or through other definitions).
    pub state_level: bool,
    /// Refers to primed variables, UNCHANGED or ENABLED (directly or not):
    /// its value is not a function of the current state alone.
    pub action_level: bool,
}
