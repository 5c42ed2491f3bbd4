//! Bad specs stop `check` with exit 2 and the spec's file, line and column:
//! evaluation errors found while exploring, and constructs the interpreter
//! refuses.

use std::process::Command;

fn check(module: &str, body: &str, cfg: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(format!("{module}.tla")), format!("---- MODULE {module} ----\n{body}\n====\n")).expect("write");
    std::fs::write(dir.path().join(format!("{module}.cfg")), cfg).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .current_dir(dir.path())
        .args(["check", &format!("{module}.tla"), "--threads", "1", "--progress", "never"])
        .output()
        .expect("runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

const COUNTER: &str = "EXTENDS Naturals, Sequences\nVARIABLE x\nInit == x = 0\n";

#[test]
fn a_function_applied_outside_its_domain_stops_the_run_at_its_position() {
    let (code, text) = check("Dom", &format!("{COUNTER}Next == x < 3 /\\ x' = <<1, 2>>[x + 1]"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Dom.tla:5") && text.contains("outside its domain") && text.contains("column 23"), "{text}");
}

#[test]
fn choose_without_a_witness_and_an_unbounded_set_stop_the_run() {
    let (code, text) = check("Ch", &format!("{COUNTER}Next == x' = CHOOSE y \\in 1..3 : y > x + 5"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Ch.tla:5") && text.contains("CHOOSE found no element"), "{text}");
    let (code, text) = check("Nat", &format!("{COUNTER}Next == \\E y \\in Nat : x' = y"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Nat.tla:5") && text.contains("Nat is infinite"), "{text}");
}

#[test]
fn comparing_incomparable_values_stops_the_run() {
    let (code, text) = check("Cmp", &format!("{COUNTER}Next == x = \"a\" /\\ x' = x"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Cmp.tla:5") && text.contains("cannot compare"), "{text}");
}

#[test]
fn refused_constructs_are_named_with_their_position() {
    let (code, text) = check("Inst", &format!("{COUNTER}I(n) == INSTANCE Naturals\nNext == x' = x"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Inst.tla:5") && text.contains("an instance of a standard module with parameters is not supported"), "{text}");
    let (code, text) = check("Sub", &format!("{COUNTER}A == x' = x\nNext == A!1"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Sub.tla:6") && text.contains("not supported"), "{text}");
    let (code, text) = check("Op", &format!("{COUNTER}Next == x' = x ++ 1"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Op.tla:5") && text.contains("the infix operator `++` (it is not defined)"), "{text}");
    let (code, text) = check("Unb", &format!("{COUNTER}Next == \\E y : x' = y"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Unb.tla:5") && text.contains("unbounded quantifier"), "{text}");
    // RECURSIVE of an operator symbol in LET.
    let (code, text) = check("Rec", &format!("{COUNTER}Next == LET RECURSIVE _ ++ _\n  a ++ b == a\n  IN x' = x ++ 1"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Rec.tla:5") && text.contains("RECURSIVE of an operator symbol in LET is not supported") && text.contains("column 23"), "{text}");
    // ENABLED passed as an argument.
    let (code, text) = check("En", &format!("{COUNTER}Ap(F(_), a) == F(a)\nNext == Ap(ENABLED, x' = x) /\\ x' = x"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("En.tla:6") && text.contains("`ENABLED` passed as an argument is not supported") && text.contains("column 12"), "{text}");
    // A symbol TLA+ fixes, redefined: an error as in SANY, not a silent override.
    let (code, text) = check("Fix", &format!("{COUNTER}a \\cup b == a\nNext == x' = x"), "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Fix.tla:5") && text.contains("`\\cup` is an operator TLA+ fixes") && text.contains("column 3"), "{text}");
}

#[test]
fn an_instance_without_a_substitution_is_named_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Gauge.tla"), "---- MODULE Gauge ----\nCONSTANT Max\nVARIABLE level\nOk == level <= Max\n====\n").expect("write");
    std::fs::write(dir.path().join("Use.tla"), format!("---- MODULE Use ----\n{COUNTER}G == INSTANCE Gauge WITH level <- x\nNext == x' = x\nInv == G!Ok\n====\n")).expect("write");
    std::fs::write(dir.path().join("Use.cfg"), "INIT Init\nNEXT Next\nINVARIANT Inv\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_tracewright"))
        .current_dir(dir.path())
        .args(["check", "Use.tla", "--threads", "1", "--progress", "never"])
        .output()
        .expect("runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("Use.tla:5") && text.contains("INSTANCE Gauge") && text.contains("`Max` has no substitution"), "{text}");
}

#[test]
fn an_unassigned_variable_is_an_error_not_a_silent_state() {
    let (code, text) = check("Un", "VARIABLES x, y\nInit == x = 0 /\\ y = 0\nNext == x' = 1", "INIT Init\nNEXT Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("leaves variable y unassigned"), "{text}");
}

#[test]
fn refused_temporal_forms_and_config_sections_are_named_with_their_position() {
    let body = format!("{COUNTER}Next == x' = (x + 1) % 3\nSpec == Init /\\ [][Next]_x /\\ WF_x(Next)\nP == <>(x = 1) \\/ [](x = 0)");
    let (code, text) = check("Tf", &body, "SPECIFICATION Spec\nPROPERTY P\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Tf.tla:7") && text.contains("temporal form is not supported"), "{text}");
    let (code, text) = check("Pc", &format!("{COUNTER}Next == x' = x"), "INIT Init\nNEXT Next\nPOSTCONDITION Next\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Pc.cfg:3") && text.contains("POSTCONDITION"), "{text}");
    let (code, text) = check("Sy", &format!("{COUNTER}Next == x' = x\nS == {{<<1, 2>>}}"), "INIT Init\nNEXT Next\nSYMMETRY S\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Sy.cfg:3") && text.contains("not a permutation of model values"), "{text}");
}

// ------------------------------------------------------------ depth limits

/// A module evaluating `init` in Init, with `defs` before it.
fn deep(module: &str, defs: &str, init: &str) -> (i32, String) {
    check(module, &format!("EXTENDS Naturals, FiniteSets\nVARIABLE x\n{defs}\nInit == x = {init}\nNext == x' = x"), "INIT Init\nNEXT Next\n")
}

#[test]
fn endless_recursion_stops_the_run_at_the_call_that_went_too_deep() {
    const TOO_DEEP: &str = "recursion is too deep: more than 20000 nested calls";
    // An operator calling itself, in Init.
    let (code, text) = deep("Op", "RECURSIVE F(_)\nF(n) == F(n)", "F(0)");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Op.tla:5") && text.contains("(column 9)") && text.contains(TOO_DEEP), "{text}");
    // The same in an invariant, checked by the workers.
    let (code, text) = check(
        "Inv",
        "EXTENDS Naturals\nVARIABLE x\nRECURSIVE F(_)\nF(n) == F(n)\nInit == x = 0\nNext == x' = x\nOk == F(x) = 0",
        "INIT Init\nNEXT Next\nINVARIANT Ok\n",
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Inv.tla:5") && text.contains("(column 9)") && text.contains(TOO_DEEP), "{text}");
    // A LET function and a top-level function applying themselves.
    let (code, text) = deep("LetFn", "", "LET f[y \\in Nat] == f[y + 1] IN f[0]");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("LetFn.tla:5") && text.contains("(column 33)") && text.contains(TOO_DEEP), "{text}");
    let (code, text) = deep("TopFn", "g[y \\in Nat] == g[y + 1]", "g[0]");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("TopFn.tla:4") && text.contains("(column 17)") && text.contains(TOO_DEEP), "{text}");
    // A recursion that ends, but 100,000 calls deep.
    let (code, text) = deep("Deep", "RECURSIVE F(_)\nF(n) == IF n = 0 THEN 0 ELSE 1 + F(n - 1)", "F(100000)");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Deep.tla:5") && text.contains("(column 34)") && text.contains(TOO_DEEP), "{text}");
    // A body nesting deep, called deep: the stack runs short before the
    // call limit.
    let body = format!("{}F(n - 1){}", "{".repeat(1900), "}".repeat(1900));
    let (code, text) = deep("Nest", &format!("RECURSIVE F(_)\nF(n) == IF n = 0 THEN 0 ELSE {body}"), "F(20000)");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Nest.tla:5") && text.contains("(column 1930)") && text.contains("the expression nests too deeply"), "{text}");
}

#[test]
fn deep_recursion_within_the_limit_and_a_function_taking_its_own_domain_evaluate() {
    let cfg = "INIT Init\nNEXT Next\nINVARIANT Ok\n";
    let spec = "EXTENDS Naturals, FiniteSets\nVARIABLE x\nRECURSIVE F(_)\nF(n) == IF n = 0 THEN 0 ELSE 1 + F(n - 1)\n\
                g[n \\in 0..x] == IF n = 0 THEN 0 ELSE 1 + g[n - 1]\n\
                h[n \\in 1..5] == IF n = 1 THEN Cardinality(DOMAIN h) ELSE h[n - 1]\n\
                Init == x = F(5000)\nNext == x' = x\nOk == x = 5000 /\\ g[x] = 5000 /\\ LET f[n \\in 0..x] == IF n = 0 THEN 0 ELSE 1 + f[n - 1] IN f[x] = 5000 /\\ h[5] = 5";
    // (g's domain reads x so that g is not folded at load time: folding a
    // recursive function evaluates it at every point of its domain.)
    let (code, text) = check("Legal", spec, cfg);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("verdict: ok"), "{text}");
    // The invariant fails when it should: the run really evaluated it.
    let (code, text) = check("Legal", &spec.replace("h[5] = 5", "h[5] = 4"), cfg);
    assert_eq!(code, 1, "{text}");
}

#[test]
fn syntax_nested_too_deeply_is_refused_with_its_position() {
    // Brackets: refused before tree-sitter parses the module.
    for (module, open, close) in [("Parens", "(", ")"), ("Sets", "{", "}")] {
        let n = if module == "Sets" { 20_000 } else { 50_000 };
        let (code, text) = deep(module, "", &format!("{}1{}", open.repeat(n), close.repeat(n)));
        assert_eq!(code, 2, "{text}");
        assert!(text.contains(&format!("{module}.tla:5:2013")) && text.contains("the expression nests too deeply") && text.contains("2000"), "{text}");
    }
    // Operators without brackets: refused from the syntax tree.
    let (code, text) = deep("Nots", "", &format!("{}TRUE", "~".repeat(5_000)));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Nots.tla:5:") && text.contains("more than 2000 levels of syntax"), "{text}");
    // 1,000 levels are fine.
    let (code, text) = deep("Fine", "", &format!("{}1{}", "(".repeat(1000), ")".repeat(1000)));
    assert_eq!(code, 0, "{text}");
}
