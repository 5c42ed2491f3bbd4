//! Specs that are not tracewright's own, checked by TLC 2.20 (rev 96056d9)
//! with `java -cp tla2tools.jar tlc2.TLC -workers 1 -config X.cfg X.tla`:
//! its counts for configs where everything holds (TLC explores all), and for
//! configs with a violation the property and the length of TLC's
//! (shortest, breadth-first) counterexample.

use std::collections::BTreeSet;

use super::interpret;
use crate::repo;

enum Tlc {
    /// distinct, generated, depth; no property violated.
    Holds(u64, u64, u64),
    /// The violated property and the states on TLC's counterexample.
    Violates(&'static str, usize),
}

const PINNED: &[(&str, &str, Tlc)] = &[
    ("Jugs", "Jugs", Tlc::Holds(54, 649, 7)),
    ("Jugs", "Jugs_solve", Tlc::Violates("NotMeasured", 7)),
    ("Peterson", "Peterson", Tlc::Holds(90, 133, 17)),
    ("Peterson", "Peterson_bug", Tlc::Violates("MutualExclusion", 7)),
    ("Channel", "Channel", Tlc::Holds(89, 117, 9)),
    ("Channel", "Channel_repeat", Tlc::Violates("NoRepeat", 3)),
    ("Commit", "Commit", Tlc::Holds(288, 1146, 11)),
    ("Commit", "Commit_abort", Tlc::Violates("NobodyAborts", 2)),
];

#[test]
fn corpus_specs_give_tlcs_counts_and_verdicts() {
    let dir = repo().join("tests/data/tla");
    let mut cfgs: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus")
        .filter_map(|e| e.ok()?.path().file_name()?.to_str().map(str::to_string))
        .filter(|n| n.ends_with(".cfg"))
        .map(|n| n.trim_end_matches(".cfg").to_string())
        .collect();
    cfgs.sort();
    let mut pinned: Vec<String> = PINNED.iter().map(|p| p.1.to_string()).collect();
    pinned.sort();
    assert_eq!(cfgs, pinned, "every corpus config is pinned");
    for (module, cfg, tlc) in PINNED {
        for threads in [1, 2] {
            let got = interpret(&dir.join(format!("{module}.tla")), &dir.join(format!("{cfg}.cfg")), threads)
                .unwrap_or_else(|e| panic!("{cfg}: {e}"));
            match tlc {
                Tlc::Holds(distinct, generated, depth) => {
                    assert_eq!((got.distinct, got.generated, got.depth), (*distinct, *generated, *depth), "{cfg}");
                    assert!(got.violated.is_empty(), "{cfg}: {:?}", got.violated);
                }
                Tlc::Violates(property, states) => {
                    assert_eq!(got.violated, BTreeSet::from([property.to_string()]), "{cfg}");
                    assert_eq!(got.trace_states.get(*property), Some(states), "{cfg}: counterexample length");
                }
            }
        }
    }
}
