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
