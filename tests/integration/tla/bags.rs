//! The Bags operators TLC evaluates (SubBag, BagUnion) give TLC 2.20's
//! answers, and BagOfAll (which TLC 2.20 fails to evaluate: "The first
//! argument of BagOfAll should be an operator") gives the standard module's
//! definition: each invariant below is an equation; a wrong one is violated.

use crate::{stdout, tracewright_in};

const SPEC: &str = r#"---- MODULE Bagged ----
EXTENDS Naturals, Bags, FiniteSets
VARIABLE x
Init == x = 0
Next == UNCHANGED x
Half(n) == n \div 2
One(n) == 1
B == SetToBag({1, 2}) (+) SetToBag({1})
Sub == SubBag(SetToBag({1}) (+) SetToBag({1})) = {EmptyBag, SetToBag({1}), SetToBag({1}) (+) SetToBag({1})}
SubCount == Cardinality(SubBag(B)) = 6 /\ \A b \in SubBag(B) : b \sqsubseteq B
Union == BagUnion({SetToBag({1, 2}), SetToBag({2, 3})}) = SetToBag({1, 3}) (+) SetToBag({2}) (+) SetToBag({2})
UnionEmpty == BagUnion({}) = EmptyBag
OfAll == CopiesIn(1, BagOfAll(Half, SetToBag({2, 3}) (+) SetToBag({2}))) = 3
OfAllCount == BagCardinality(BagOfAll(One, B)) = BagCardinality(B)
WrongCount == Cardinality(SubBag(B)) = 5
====
"#;

fn check(invariants: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Bagged.tla"), SPEC).expect("spec");
    std::fs::write(dir.path().join("Bagged.cfg"), format!("INIT Init\nNEXT Next\nINVARIANTS {invariants}\nCHECK_DEADLOCK FALSE\n")).expect("cfg");
    let o = tracewright_in(dir.path(), &["check", "Bagged.cfg", "--out", "traces"]);
    (o.status.code().unwrap_or(-1), stdout(&o))
}

#[test]
fn subbag_bagunion_and_bagofall_evaluate_as_the_bags_module_defines_them() {
    // TLC 2.20 (java -cp tla2tools.jar tlc2.TLC) finds Sub, SubCount, Union
    // and UnionEmpty true and WrongCount violated by the initial state.
    let (code, out) = check("Sub SubCount Union UnionEmpty OfAll OfAllCount");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("verdict: ok"), "{out}");
    let (code, out) = check("WrongCount");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("WrongCount") && out.contains("violated"), "{out}");
}
