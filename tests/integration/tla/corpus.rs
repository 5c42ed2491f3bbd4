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
    /// A temporal property TLC finds violated by a lasso: its counts up to
    /// the violation are not comparable (TLC checks liveness after the
    /// search), so the whole-graph counts are pinned, from TLC's run of the
    /// same spec with the property that holds.
    Lasso(&'static str, u64, u64, u64),
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
    ("SemMutex", "SemMutex", Tlc::Holds(20, 49, 5)),
    ("SemMutex", "SemMutex_weak", Tlc::Lasso("NoStarvation", 20, 49, 5)),
    ("SemMutex", "SemMutex_symmetry", Tlc::Holds(7, 19, 5)),
    ("SemMutex", "SemMutex_action", Tlc::Violates("LockNeverStays", 4)),
    ("SemMutex", "SemMutex_stable", Tlc::Lasso("EventuallyLocked", 8, 15, 4)),
    ("Queue", "Queue", Tlc::Holds(15, 26, 9)),
    ("Queue", "Queue_lossy", Tlc::Violates("NoGaps", 5)),
    ("Queue", "Queue_view", Tlc::Holds(15, 36, 9)),
    ("Queue", "Queue_quiet", Tlc::Holds(10, 17, 7)),
    ("Queue", "Queue_lost", Tlc::Lasso("Delivered", 53, 98, 9)),
    ("Incr", "Incr", Tlc::Holds(168, 259, 23)),
    ("Incr", "Incr_race", Tlc::Violates("Total", 23)),
    ("TwoPhase", "TwoPhase", Tlc::Holds(538, 2420, 14)),
    ("TwoPhase", "TwoPhase_quorum", Tlc::Violates("RefinesCommit", 6)),
    ("TwoPhase", "TwoPhase_unfair", Tlc::Lasso("RefinesCommit", 538, 2420, 14)),
    ("RingBuffer", "RingBuffer", Tlc::Holds(12, 15, 9)),
    ("RingBuffer", "RingBuffer_lifo", Tlc::Violates("RefinesFifo", 4)),
    ("Paxos", "Paxos", Tlc::Holds(3921, 10287, 17)),
    ("Paxos", "Paxos_minority", Tlc::Violates("Agreement", 9)),
    ("Paxos", "Paxos_symmetry", Tlc::Holds(443, 1278, 17)),
    ("Ring", "Ring", Tlc::Holds(283, 720, 13)),
    ("Ring", "Ring_lossy", Tlc::Lasso("Elected", 484, 1783, 12)),
    ("Till", "Till", Tlc::Holds(13, 162, 5)),
    ("Till", "Till_roundup", Tlc::Violates("TillEarns", 2)),
    ("Hanoi", "Hanoi", Tlc::Holds(81, 241, 16)),
    ("Hanoi", "Hanoi_solve", Tlc::Violates("NotSolved", 16)),
    ("Hanoi", "Hanoi_reve", Tlc::Violates("NotSolved", 10)),
    ("Hanoi", "Hanoi_careless", Tlc::Violates("Sorted", 3)),
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
                    assert!(got.loops.is_empty(), "{cfg}: a safety counterexample has no loop");
                }
                Tlc::Lasso(property, distinct, generated, depth) => {
                    assert_eq!((got.distinct, got.generated, got.depth), (*distinct, *generated, *depth), "{cfg}");
                    assert_eq!(got.violated, BTreeSet::from([property.to_string()]), "{cfg}");
                    let (states, back) = (got.trace_states[*property], got.loops[*property]);
                    assert!(back < states, "{cfg}: the lasso loops back into itself ({back} of {states})");
                }
            }
        }
    }
}
