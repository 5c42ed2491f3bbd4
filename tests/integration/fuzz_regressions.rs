//! Every committed fuzz seed and regression, replayed through the same
//! library functions the fuzz targets call: none may panic.

use crate::repo;

fn replay(target: &str, run: fn(&[u8])) {
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let dir = repo().join("fuzz").join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                run(&std::fs::read(&path).unwrap());
                count += 1;
            }
        }
    }
    assert!(count > 0, "fuzz target {target} has no committed seeds");
}

#[test]
fn cfg_seeds_and_regressions_do_not_panic() {
    replay("cfg", tracewright::fuzzing::cfg);
}

#[test]
fn tla_seeds_and_regressions_do_not_panic() {
    replay("tla", tracewright::fuzzing::tla);
}

#[test]
fn trace_seeds_and_regressions_do_not_panic() {
    replay("trace", tracewright::fuzzing::trace);
}

#[test]
fn traceparent_seeds_and_regressions_do_not_panic() {
    replay("traceparent", tracewright::fuzzing::traceparent);
}

#[test]
fn tracestate_seeds_and_regressions_do_not_panic() {
    replay("tracestate", tracewright::fuzzing::tracestate);
}
