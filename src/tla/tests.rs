//! The evaluator on semantics TLC documents.

use std::path::Path;

use super::eval::Ctx;
use super::value::Value;
use crate::spec::cfg::Cfg;

/// Evaluates `expr` in a module that extends the standard modules.
fn eval(expr: &str) -> Result<Value, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let tla = dir.path().join("T.tla");
    let src = format!(
        "---- MODULE T ----\nEXTENDS Naturals, Integers, Sequences, FiniteSets, TLC\n\
         RECURSIVE Fact(_)\nFact(n) == IF n = 0 THEN 1 ELSE n * Fact(n - 1)\n\
         fib[n \\in 0..20] == IF n < 2 THEN n ELSE fib[n - 1] + fib[n - 2]\n\
         Twice(F(_), x) == F(F(x))\n\
         X == {expr}\n====\n"
    );
    std::fs::write(&tla, src).map_err(|e| e.to_string())?;
    let cfg = Cfg::parse(Path::new("T.cfg"), "INIT Init\nNEXT Next\n").map_err(|e| e.render())?;
    let prog = super::load(&tla, &cfg, &[]).map_err(|e| e.render())?;
    let d = prog.def("X").expect("X");
    let empty: [Value; 0] = [];
    let mut ctx = Ctx::new(&prog, &empty);
    ctx.call_def(d, Vec::new(), prog.defs[d as usize].pos).map_err(|e| format!("line {} column {}: {}", e.pos.line, e.pos.col, e.msg))
}

fn shows(expr: &str) -> String {
    match eval(expr) {
        Ok(v) => v.to_string(),
        Err(e) => format!("error: {e}"),
    }
}

fn truth(expr: &str) -> bool {
    match eval(expr) {
        Ok(Value::Bool(b)) => b,
        other => panic!("{expr}: {other:?}"),
    }
}

#[test]
fn sets_are_equal_by_their_elements() {
    assert!(truth("{1, 2, 2, 3} = {3, 2, 1}"));
    assert!(truth("{} = {x \\in {1, 2} : x > 5}"));
    assert!(truth("1..3 = {1, 2, 3}"));
    assert!(truth("SUBSET {1, 2} = {{}, {1}, {2}, {1, 2}}"));
    assert!(truth("{1, 2} \\subseteq Nat /\\ ~({-1} \\subseteq Nat)"));
    assert!(truth("{<<1, 2>>} = {1} \\X {2}"));
    assert!(truth("Cardinality({1, 2} \\X {3, 4} \\X {5}) = 4"));
    assert!(truth("UNION {{1}, {2, 3}} = 1..3"));
    assert_eq!(shows("{x * x : x \\in -2..2}"), "{0, 1, 4}");
}

#[test]
fn functions_records_tuples_and_sequences_are_one_kind_of_value() {
    assert!(truth("<<\"a\", \"b\">> = [i \\in 1..2 |-> IF i = 1 THEN \"a\" ELSE \"b\"]"));
    assert!(truth("[a |-> 1, b |-> 2] = [x \\in {\"a\", \"b\"} |-> IF x = \"a\" THEN 1 ELSE 2]"));
    assert!(truth("<<>> = [x \\in {} |-> 1]"));
    assert!(truth("(1 :> \"x\" @@ 2 :> \"y\") = <<\"x\", \"y\">>"));
    assert!(truth("DOMAIN [a |-> 1, b |-> 2] = {\"a\", \"b\"}"));
    assert!(truth("[{1, 2} -> {TRUE}] = {<<TRUE, TRUE>>}"));
    assert!(truth("<<1, 2>> \\in [1..2 -> Nat]"));
    assert!(truth("[a : {1, 2}, b : {3}] = {[a |-> 1, b |-> 3], [a |-> 2, b |-> 3]}"));
    assert!(truth("<<1, 2>> \\in Seq(Nat) /\\ ~(<<-1>> \\in Seq(Nat))"));
}

#[test]
fn except_updates_nested_paths_and_at_is_the_old_value() {
    assert_eq!(shows("[[a |-> [b |-> 1, c |-> 2]] EXCEPT !.a.b = @ + 10]"), "[a |-> [b |-> 11, c |-> 2]]");
    assert_eq!(shows("[<<<<1, 2>>, <<3>>>> EXCEPT ![1][2] = @ * 5, ![2][1] = 0]"), "<<<<1, 10>>, <<0>>>>");
    assert_eq!(shows("[[i \\in 1..2 |-> [x |-> i]] EXCEPT ![2].x = @ - 1]"), "<<[x |-> 1], [x |-> 1]>>");
    // Later updates see earlier ones.
    assert_eq!(shows("[<<1>> EXCEPT ![1] = 5, ![1] = @ + 1]"), "<<6>>");
    // Outside the domain, EXCEPT changes nothing.
    assert_eq!(shows("[<<1>> EXCEPT ![3] = 5]"), "<<1>>");
}

#[test]
fn choose_is_deterministic_and_fails_without_a_witness() {
    assert_eq!(shows("CHOOSE x \\in {3, 1, 2} : TRUE"), "1");
    assert_eq!(shows("CHOOSE x \\in {3, 1, 2} : x > 1"), "2");
    assert_eq!(shows("CHOOSE s \\in {\"b\", \"a\"} : TRUE"), "\"a\"");
    let err = shows("CHOOSE x \\in {1, 2} : x > 5");
    assert!(err.contains("CHOOSE found no element") && err.contains("line 7"), "{err}");
}

#[test]
fn integer_division_and_modulus_on_negatives_as_tlc() {
    assert_eq!(shows("<<7 \\div 2, (-7) \\div 2, 7 \\div (-2), (-7) \\div (-2), -7 \\div 2>>"), "<<3, -4, -4, 3, -3>>");
    assert_eq!(shows("<<7 % 2, (-7) % 2, (-8) % 3, 0 % 5, -7 % 2>>"), "<<1, 1, 1, 0, 1>>");
    assert!(shows("1 \\div 0").contains("error"));
    assert!(shows("5 % -2").contains("error"));
    assert_eq!(shows("2^10 - 3 * -4"), "1036");
}

#[test]
fn sequence_operators_at_their_bounds() {
    assert_eq!(shows("<<Len(<<>>), Len(<<1, 2>>)>>"), "<<0, 2>>");
    assert_eq!(shows("Append(<<>>, 1) \\o <<2>>"), "<<1, 2>>");
    assert_eq!(shows("SubSeq(<<1, 2, 3>>, 2, 3)"), "<<2, 3>>");
    assert_eq!(shows("SubSeq(<<1, 2, 3>>, 3, 2)"), "<<>>");
    assert!(shows("SubSeq(<<1, 2, 3>>, 0, 2)").contains("error"));
    assert_eq!(shows("Tail(<<1>>)"), "<<>>");
    assert!(shows("Head(<<>>)").contains("Head of the empty sequence"));
    assert!(shows("Tail(<<>>)").contains("error"));
    assert_eq!(shows("SelectSeq(<<1, 2, 3, 4>>, LAMBDA x : x % 2 = 0)"), "<<2, 4>>");
    assert_eq!(shows("SortSeq(<<3, 1, 2>>, LAMBDA a, b : a < b)"), "<<1, 2, 3>>");
}

#[test]
fn errors_name_the_position_and_the_problem() {
    let e = shows("<<1, 2>>[3]");
    assert!(e.contains("outside its domain") && e.contains("line 7 column 6"), "{e}");
    let e = shows("1 = \"a\"");
    assert!(e.contains("cannot compare"), "{e}");
    let e = shows("\\E x \\in Nat : x > 2");
    assert!(e.contains("Nat is infinite"), "{e}");
    let e = shows("[a |-> 1].b");
    assert!(e.contains("no field `b`"), "{e}");
}

#[test]
fn recursion_higher_order_operators_and_tlc_operators() {
    assert_eq!(shows("Fact(5)"), "120");
    assert_eq!(shows("fib[10]"), "55");
    assert_eq!(shows("Twice(LAMBDA y : y + 3, 1)"), "7");
    assert_eq!(shows("LET G(y) == y * 2 IN Twice(G, 3)"), "12");
    assert_eq!(shows("Cardinality(Permutations({1, 2, 3}))"), "6");
    assert_eq!(shows("ToString(<<1, \"a\">>)"), "\"<<1, \\\"a\\\">>\"");
    assert_eq!(shows("CASE 1 > 2 -> \"a\" [] OTHER -> \"b\""), "\"b\"");
    assert_eq!(shows("LET a == 1 b == a + 1 IN <<a, b>>"), "<<1, 2>>");
    assert!(truth("\\A x \\in 1..3 : \\E y \\in 1..3 : y = x"));
}

/// Evaluates `X` of module `T`, written beside the other `modules`
/// (name, text without the MODULE line), in a state of no variables.
fn eval_in(modules: &[(&str, &str)], t: &str) -> Result<Value, String> {
    eval_in_cfg(modules, t, "INIT Init\nNEXT Next\n")
}

fn eval_in_cfg(modules: &[(&str, &str)], t: &str, cfg: &str) -> Result<Value, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for (name, body) in modules.iter().chain(std::iter::once(&("T", t))) {
        let text = format!("---- MODULE {name} ----\n{body}\n====\n");
        std::fs::write(dir.path().join(format!("{name}.tla")), text).map_err(|e| e.to_string())?;
    }
    let cfg = Cfg::parse(Path::new("T.cfg"), cfg).map_err(|e| e.render())?;
    let prog = super::load(&dir.path().join("T.tla"), &cfg, &[]).map_err(|e| e.render())?;
    let d = prog.def("X").expect("X");
    let empty: [Value; 0] = [];
    let mut ctx = Ctx::new(&prog, &empty);
    ctx.call_def(d, Vec::new(), prog.defs[d as usize].pos).map_err(|e| format!("line {} column {}: {}", e.pos.line, e.pos.col, e.msg))
}

fn shows_in(modules: &[(&str, &str)], t: &str) -> String {
    match eval_in(modules, t) {
        Ok(v) => v.to_string(),
        Err(e) => format!("error: {e}"),
    }
}

const POINT: (&str, &str) = (
    "Point",
    "EXTENDS Naturals\nCONSTANTS Base, Step\nLOCAL Double(a) == 2 * a\nAt(k) == Base + k * Step\nFar == At(Double(Step))\nPair(k) == <<At(k), Far>>",
);

#[test]
fn named_instances_substitute_explicitly_and_implicitly() {
    // Step is substituted explicitly, Base implicitly by T's own Base.
    let t = "EXTENDS Naturals\nBase == 100\nP == INSTANCE Point WITH Step <- 3\nQ == INSTANCE Point WITH Base <- 0, Step <- Base + 1\nX == <<P!At(2), P!Far, Q!At(1), Q!Pair(0)>>";
    assert_eq!(shows_in(&[POINT], t), "<<106, 118, 101, <<0, 20402>>>>");
    // A LOCAL definition is not visible through the instance.
    let t = "EXTENDS Naturals\nBase == 1\nP == INSTANCE Point WITH Step <- 3\nX == P!Double(2)";
    assert!(shows_in(&[POINT], t).contains("unknown name `P!Double`"), "{}", shows_in(&[POINT], t));
    // A constant with no substitution and no namesake is an error at the INSTANCE.
    let t = "P == INSTANCE Point WITH Step <- 3\nX == P!Far";
    let e = shows_in(&[POINT], t);
    assert!(e.contains("INSTANCE Point") && e.contains("`Base` has no substitution") && e.contains("T.tla:2"), "{e}");
}

#[test]
fn parameterised_and_unnamed_instances() {
    // I(x)!Op: the instance's parameter reaches every definition of it.
    let t = "EXTENDS Naturals\nBase == 10\nP(s) == INSTANCE Point WITH Step <- s\nX == <<P(1)!At(2), P(5)!Far, P(2)!Pair(1)>>";
    assert_eq!(shows_in(&[POINT], t), "<<12, 60, <<12, 18>>>>");
    // INSTANCE M imports M's definitions, substituted.
    let t = "EXTENDS Naturals\nBase == 7\nStep == 2\nINSTANCE Point\nX == <<At(1), Far>>";
    assert_eq!(shows_in(&[POINT], t), "<<9, 15>>");
    // Nested: an instance of a module that instantiates another.
    let outer = ("Outer", "EXTENDS Naturals\nCONSTANT S\nBase == 1000\nIn == INSTANCE Point WITH Step <- S\nTop == In!At(1)");
    let t = "O(k) == INSTANCE Outer WITH S <- k\nX == <<O(4)!Top, O(5)!In!Far>>";
    assert_eq!(shows_in(&[POINT, outer], t), "<<1004, 1050>>");
    // A named instance of a standard module.
    assert_eq!(shows_in(&[], "S == INSTANCE Sequences\nX == S!Len(<<1, 2, 3>>)"), "3");
}

#[test]
fn recursive_operators_inside_let() {
    let t = "EXTENDS Naturals\nX == LET RECURSIVE Sum(_)\n         Sum(n) == IF n = 0 THEN 0 ELSE n + Sum(n - 1)\n     IN Sum(10)";
    assert_eq!(shows_in(&[], t), "55");
    // Mutual recursion, and a LET value the operators read.
    let t = "EXTENDS Naturals\nX == LET k == 3\n         RECURSIVE Even(_), Odd(_)\n         Even(n) == IF n = 0 THEN TRUE ELSE Odd(n - 1)\n         Odd(n) == IF n = 0 THEN FALSE ELSE Even(n - 1)\n     IN <<Even(k + 1), Odd(k), Even(k)>>";
    assert_eq!(shows_in(&[], t), "<<TRUE, TRUE, FALSE>>");
    // Declared and never defined.
    let e = shows_in(&[], "X == LET RECURSIVE F(_) IN 1");
    assert!(e.contains("declared RECURSIVE") && e.contains("not defined"), "{e}");
}

#[test]
fn user_defined_infix_prefix_and_postfix_operators() {
    let t = "EXTENDS Naturals, Sequences\na (+) b == (a + b) % 5\ns ++ x == Append(s, x)\nn^+ == n + 100\n-. a == 0 - a\nX == <<3 \\oplus 4, 3 (+) 4, <<1>> ++ 2 ++ 3, 2^+, -(7)>>";
    assert_eq!(shows_in(&[], t), "<<2, 2, <<1, 2, 3>>, 102, -7>>");
    // Defined in an instantiated module, used unqualified.
    let ring = ("Ring", "EXTENDS Naturals\nCONSTANT N\na (+) b == (a + b) % N");
    assert_eq!(shows_in(&[ring], "INSTANCE Ring WITH N <- 3\nX == 2 (+) 2"), "1");
    // An infix symbol nobody defines is refused with its position.
    let e = shows_in(&[], "X == 1 ++ 2");
    assert!(e.contains("`++`") && e.contains("not supported"), "{e}");
}

#[test]
fn a_module_scoped_override_replaces_the_definition_in_every_instance() {
    // As TLC 2.20 evaluates it: `At <- [Point] MyAt` reaches P, Q and the
    // instance of Point inside Outer.
    let outer = ("Outer", "EXTENDS Naturals\nCONSTANT S\nBase == 1000\nIn == INSTANCE Point WITH Step <- S\nTop == In!At(1)");
    let t = "EXTENDS Naturals\nBase == 100\nMyAt(k) == k\nP == INSTANCE Point WITH Step <- 3\nQ == INSTANCE Point WITH Base <- 0, Step <- Base + 1\nO(k) == INSTANCE Outer WITH S <- k\nX == <<<<P!At(2), P!Far, Q!At(1), Q!Pair(0)>>, O(4)!Top>>";
    let cfg = "CONSTANT At <- [Point] MyAt\nINIT Init\nNEXT Next\n";
    assert_eq!(eval_in_cfg(&[POINT, outer], t, cfg).map(|v| v.to_string()), Ok("<<<<2, 6, 1, <<0, 202>>>>, 1>>".to_string()));
    // Without the override.
    assert_eq!(shows_in(&[POINT, outer], t), "<<<<106, 118, 101, <<0, 20402>>>>, 1004>>");
    // A module the spec does not use.
    let e = eval_in_cfg(&[POINT], t.replace("O(k) == INSTANCE Outer WITH S <- k\n", "").replace(", O(4)!Top", "").as_str(), "CONSTANT At <- [Nowhere] MyAt\nINIT Init\nNEXT Next\n");
    assert!(e.as_ref().is_err_and(|e| e.contains("module Nowhere is not used")), "{e:?}");
}

/// The column (1-based) where `needle` starts in `line`.
fn col_of(line: &str, needle: &str) -> usize {
    line.find(needle).map_or(0, |i| i + 1)
}

#[test]
fn let_function_definitions_are_whole_functions_that_may_recurse() {
    // Applied, it is evaluated at the argument alone: a recursive function
    // over Nat (as TLC evaluates it lazily).
    assert_eq!(shows("LET f[n \\in Nat] == IF n = 0 THEN 1 ELSE n * f[n - 1] IN f[5]"), "120");
    // Not applied, it is the whole function over its domain.
    assert_eq!(shows("LET g[x \\in 1..3] == x * 2 IN g"), "<<2, 4, 6>>");
    assert!(truth("LET f[n \\in 0..4] == IF n = 0 THEN 1 ELSE n * f[n - 1] IN f = [n \\in 0..4 |-> Fact(n)]"));
    assert!(truth("LET g[x \\in {\"a\", \"b\"}] == x IN DOMAIN g = {\"a\", \"b\"} /\\ g[\"b\"] = \"b\""));
    // Several arguments: f[a, b] and f[<<a, b>>] are one application.
    let binom = "LET c[n \\in 0..5, k \\in 0..5] == IF k = 0 \\/ k = n THEN 1 ELSE IF k > n THEN 0 ELSE c[n - 1, k - 1] + c[n - 1, k] IN ";
    assert_eq!(shows(&format!("{binom}<<c[4, 2], c[<<5, 1>>], c[2, 5]>>")), "<<6, 5, 0>>");
    // The body sees the bound variables around the LET, and LET values
    // before it; a LET inside the body and a LAMBDA may apply it.
    assert!(truth("\\A m \\in 1..4 : LET p[i \\in 0..m] == IF i = 0 THEN 0 ELSE p[i - 1] + m IN p[m] = m * m"));
    assert_eq!(shows("LET k == 10 f[n \\in 0..4] == LET prev == f[n - 1] IN IF n = 0 THEN k ELSE prev + n IN f[4]"), "20");
    assert_eq!(shows("LET sq[n \\in 1..3] == n * n IN SelectSeq(<<1, 2, 3>>, LAMBDA x : sq[x] > 1)"), "<<2, 3>>");
    // DOMAIN f inside f's own definition is its domain, as TLC evaluates it.
    assert_eq!(shows("LET f[x \\in 1..3] == IF x = 1 THEN Cardinality(DOMAIN f) ELSE f[x - 1] + 1 IN f[3]"), "5");
    assert!(truth("LET f[x \\in 1..2, y \\in {\"a\"}] == IF <<x, y>> \\in DOMAIN f THEN x ELSE 0 IN DOMAIN f = (1..2) \\X {\"a\"} /\\ f[2, \"a\"] = 2"));
    assert!(truth("LET f[x, y \\in 1..2] == x IN DOMAIN f = (1..2) \\X (1..2) /\\ f = [p \\in (1..2) \\X (1..2) |-> p[1]]"));
    // Operator parameters and use inside an operator.
    let t = "EXTENDS Naturals\nScale(k, F(_)) == LET s[i \\in 1..3] == F(i) * k IN s\nX == <<Scale(10, LAMBDA i : i + 1), Scale(2, LAMBDA i : i)>>";
    assert_eq!(shows_in(&[], t), "<<<<20, 30, 40>>, <<2, 4, 6>>>>");
}

#[test]
fn a_top_level_function_definition_may_take_its_own_domain() {
    // As a LET one does: DOMAIN g is its binders' sets, not g evaluated.
    let t = "EXTENDS Naturals, FiniteSets\n\
             g[x \\in 1..5] == IF x = 1 THEN Cardinality(DOMAIN g) ELSE g[x - 1]\n\
             h[a \\in 1..2, b \\in {\"a\"}] == IF <<a, b>> \\in DOMAIN h THEN a ELSE 0\n\
             k[a, b \\in 1..2] == a\n\
             X == <<g[5], DOMAIN g = 1..5, h[2, \"a\"], DOMAIN h = (1..2) \\X {\"a\"}, DOMAIN k = (1..2) \\X (1..2), g>>";
    assert_eq!(shows_in(&[], t), "<<5, TRUE, 2, TRUE, TRUE, <<5, 5, 5, 5, 5>>>>");
    // The domain check it shares with LET functions.
    let e = shows("fib[21]");
    assert!(e.contains("function fib applied outside its domain: 21 is not in"), "{e}");
}

#[test]
fn recursion_deeper_than_the_stack_allows_is_an_error_not_an_abort() {
    // On a test thread's small stack the stack-room check stops it.
    let e = shows("Fact(100000)");
    assert!(e.contains("line 4 column") && (e.contains("nests too deeply") || e.contains("recursion is too deep")), "{e}");
    let e = shows("LET f[n \\in Nat] == f[n + 1] IN f[0]");
    assert!(e.contains("line 7 column") && (e.contains("nests too deeply") || e.contains("recursion is too deep")), "{e}");
}

#[test]
fn a_let_function_applied_outside_its_domain_is_an_error_at_the_application() {
    let expr = "LET f[n \\in 0..3] == n IN f[5]";
    let e = shows(expr);
    let col = col_of(&format!("X == {expr}"), "f[5]");
    assert!(e.contains("outside its domain") && e.contains("5 is not in {0, 1, 2, 3}") && e.contains(&format!("line 7 column {col}:")), "{e}");
    // A recursive application that leaves the domain: the inner f[n - 1].
    let expr = "LET f[n \\in 1..3] == f[n - 1] IN f[2]";
    let e = shows(expr);
    let col = col_of(&format!("X == {expr}"), "f[n - 1]");
    assert!(e.contains("0 is not in {1, 2, 3}") && e.contains(&format!("line 7 column {col}:")), "{e}");
    // Applied as an operator.
    let e = shows("LET f[n \\in 1..3] == n IN f(1)");
    assert!(e.contains("`f` is a function") && e.contains("T.tla:7") && e.contains("column 32"), "{e}");
    // Outside the domain of several arguments.
    let e = shows("LET f[a \\in 1..2, b \\in 1..2] == a + b IN f[1]");
    assert!(e.contains("outside its domain"), "{e}");
}

#[test]
fn recursive_let_operators_without_arguments() {
    assert_eq!(shows("LET RECURSIVE c\n c == 7 IN c + 1"), "8");
    // One of a mutually recursive pair, read as a value.
    let t = "LET RECURSIVE Total, Sum(_)\n Sum(n) == IF n = 0 THEN 0 ELSE n + Sum(n - 1)\n Total == Sum(4) IN <<Total, Total * 2>>";
    assert_eq!(shows(t), "<<10, 20>>");
    let t = "LET RECURSIVE Down, Count(_)\n Count(n) == IF n = 0 THEN <<>> ELSE <<n>> \\o Count(n - 1)\n Down == Count(3) IN Twice(LAMBDA s : s \\o Down, <<>>)";
    assert_eq!(shows(t), "<<3, 2, 1, 3, 2, 1>>");
}

#[test]
fn operator_symbols_defined_in_let_and_passed_as_arguments() {
    assert_eq!(shows("LET a ++ b == a + b IN 1 ++ 2"), "3");
    assert_eq!(shows("LET a ^# == a * a IN 3^#"), "9");
    assert_eq!(shows("LET -. a == 10 - a IN -(3)"), "7");
    // A LET symbol reads the bound variables around it.
    assert!(truth("\\A m \\in 2..4 : LET a (+) b == (a + b) % m IN (m - 1) \\oplus 1 = 0"));
    // Symbols as arguments: LET, top-level and built-in ones, and an infix
    // operator parameter.
    let t = "EXTENDS Naturals, Sequences\na (+) b == (a + b) % 5\nAp(Op(_, _), a, b) == Op(a, b)\nAp1(Op(_), a) == Op(a)\nIx(_ ** _, a, b) == (a ** b) ** b\nRECURSIVE Fold(_, _, _)\nFold(Op(_, _), s, z) == IF s = <<>> THEN z ELSE Op(Head(s), Fold(Op, Tail(s), z))\n\
             X == LET a ++ b == a * 10 + b IN <<Ap(++, 1, 2), Ap(\\oplus, 3, 4), Ap(+, 3, 4), Ap(-, 3, 4), Ap1(-., 4), Ix(++, 1, 2), Fold(\\oplus, <<1, 2, 3>>, 0), Fold(\\o, <<<<1>>, <<2>>>>, <<>>)>>";
    assert_eq!(shows_in(&[], t), "<<12, 2, 7, -1, -4, 122, 1, <<1, 2>>>>");
    // A symbol nobody defines, as an argument, is refused with its position.
    let t = "EXTENDS Naturals\nAp(Op(_, _), a, b) == Op(a, b)\nX == Ap(%%, 1, 2)";
    let e = shows_in(&[], t);
    assert!(e.contains("`%%` is passed as an argument but not defined") && e.contains("T.tla:4"), "{e}");
    // The operators TLA+ fixes pass as TLC passes them.
    let t = "EXTENDS Integers\nAp(Op(_, _), a, b) == Op(a, b)\nAp1(Op(_), a) == Op(a)\n\
             X == <<Ap(/\\, TRUE, FALSE), Ap(\\/, FALSE, TRUE), Ap(=>, TRUE, FALSE), Ap(<=>, FALSE, FALSE), Ap(\\cup, {1}, {2}), Ap(#, 1, 2), Ap1(~, TRUE), Ap1(SUBSET, {1}), Ap1(DOMAIN, <<5>>), Ap1(UNION, {{1}, {2}}), Ap1(-., 2)>>";
    assert_eq!(shows_in(&[], t), "<<FALSE, TRUE, FALSE, TRUE, {1, 2}, TRUE, FALSE, {{}, {1}}, {1}, {1, 2}, -2>>");
    let e = shows_in(&[], "Ap1(Op(_), a) == Op(a)\nX == Ap1(ENABLED, TRUE)");
    assert!(e.contains("`ENABLED` passed as an argument is not supported") && e.contains("T.tla:3"), "{e}");
    // A LET symbol applied with the wrong arity is an error, not an unknown name.
    let e = shows("LET a ++ b == a + b IN Twice(++, 1)");
    assert!(e.contains("operator ++ takes 2 arguments, given 1"), "{e}");
    // The prefix form of a user-defined infix symbol.
    assert_eq!(shows_in(&[], "EXTENDS Naturals\na (+) b == a * b\nX == \\oplus(3, 4) + +(1, 2) + -.(1)"), "14");
    // Symbols TLA+ fixes cannot be redefined, at the top level or in LET
    // (SANY refuses these modules).
    for (t, line) in [
        ("a \\cup b == 1\nX == {1} \\cup {2}", 2),
        ("X == LET a /\\ b == 1 IN TRUE /\\ FALSE", 2),
        ("a \\X b == 1\nX == 1", 2),
    ] {
        let e = shows_in(&[], t);
        assert!(e.contains("an operator TLA+ fixes") && e.contains(&format!("T.tla:{line}")), "{t}: {e}");
    }
}

/// The variables a state predicate reads, which its results are cached by
/// (`model::ByReads`): through definitions, LET functions and operators
/// passed as arguments; unknown (no cache) under ENABLED or Print.
#[test]
fn a_predicate_reads_the_variables_it_reaches_and_no_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tla = dir.path().join("R.tla");
    let src = "---- MODULE R ----\nEXTENDS Naturals, TLC\nVARIABLES x, y, z\n\
               Helper(a) == a + z > 0\n\
               Apply(F(_), a) == F(a)\n\
               P == x > 0\n\
               Q == Helper(y)\n\
               L == LET f[i \\in 1..2] == y + i IN f[1] > 0\n\
               O == Apply(LAMBDA a : a < z, 1)\n\
               C == 1 > 0\n\
               E == ENABLED (x' = 1)\n\
               W == PrintT(x) /\\ TRUE\n\
               Init == x = 0 /\\ y = 0 /\\ z = 0\nNext == UNCHANGED <<x, y, z>>\n====\n";
    std::fs::write(&tla, src).expect("write");
    let cfg = Cfg::parse(Path::new("R.cfg"), "INIT Init\nNEXT Next\n").expect("cfg");
    let prog = super::load(&tla, &cfg, &[]).expect("load");
    let reads = |name: &str| {
        let d = prog.def(name).expect(name);
        super::model::reads(&prog, prog.defs[d as usize].body.as_ref().expect("body"))
    };
    assert_eq!(reads("P"), Some(vec![0]));
    assert_eq!(reads("Q"), Some(vec![1, 2]));
    assert_eq!(reads("L"), Some(vec![1]));
    assert_eq!(reads("O"), Some(vec![2]));
    assert_eq!(reads("C"), Some(vec![]));
    assert_eq!(reads("E"), None);
    assert_eq!(reads("W"), None);
}

/// A value is two words: states hold vectors of them, and the memory line
/// of a run depends on it.
#[test]
fn a_value_is_two_words() {
    assert_eq!(std::mem::size_of::<Value>(), 16);
    assert_eq!(std::mem::size_of::<super::value::Str>(), 8);
}
