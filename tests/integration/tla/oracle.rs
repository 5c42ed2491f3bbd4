//! ci/tla-oracle.sh fails closed: run on a config with a tracewright whose
//! interpreter side is tampered with (a count off by one, a property's
//! result flipped, JSON it cannot read, an error exit), it exits non-zero
//! and names the config and the field; untampered, it passes.

use std::process::Command;

use crate::repo;

/// A stand-in for the tracewright binary: the real one, with the output of
/// `--engine tla` changed as TAMPER says.
const WRAPPER: &str = r#"#!/usr/bin/env bash
set -u
real="$REAL_TRACEWRIGHT"
case " $* " in
  *" --engine tla "*) ;;
  *) exec "$real" "$@" ;;
esac
case "$TAMPER" in
  none) exec "$real" "$@" ;;
  garbage) "$real" "$@" >/dev/null; echo '{"runs": [ truncated'; exit 0 ;;
  error) echo "error: something went wrong" >&2; exit 2 ;;
esac
out=$("$real" "$@"); code=$?
printf '%s' "$out" | python3 -c '
import json, os, sys
doc = json.load(sys.stdin)
run = doc["runs"][0]
if os.environ["TAMPER"] == "distinct":
    run["distinct_states"] += 1
elif os.environ["TAMPER"] == "result":
    run["properties"][0].update(result="violated", steps=1)
print(json.dumps(doc))
'
exit $code
"#;

fn oracle(tamper: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let wrapper = dir.path().join("tracewright");
    std::fs::write(&wrapper, WRAPPER).expect("wrapper");
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("executable");
    let o = Command::new("bash")
        .arg(repo().join("ci/tla-oracle.sh"))
        .arg("specs/trace_context/TraceContext.cfg")
        .current_dir(repo())
        .env("TRACEWRIGHT", &wrapper)
        .env("REAL_TRACEWRIGHT", env!("CARGO_BIN_EXE_tracewright"))
        .env("TAMPER", tamper)
        .env("TLA_ORACLE_THREADS", "2")
        .output()
        .expect("bash runs");
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), text)
}

#[test]
fn the_oracle_script_passes_agreeing_engines_and_fails_closed_on_any_difference() {
    let (code, out) = oracle("none");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok   specs/trace_context/TraceContext.cfg") && out.contains("every config agrees"), "{out}");

    let (code, out) = oracle("distinct");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL specs/trace_context/TraceContext.cfg") && out.contains("distinct_states: rust 615, tla 616"), "{out}");

    let (code, out) = oracle("result");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL") && out.contains("UniqueTraceId.result: rust 'holds', tla 'violated'"), "{out}");
    assert!(out.contains("violated: rust [], tla ['UniqueTraceId']"), "{out}");

    let (code, out) = oracle("garbage");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL") && out.contains("--engine tla: unreadable JSON"), "{out}");

    let (code, out) = oracle("error");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL") && out.contains("--engine tla: exit 2: error: something went wrong"), "{out}");
}
