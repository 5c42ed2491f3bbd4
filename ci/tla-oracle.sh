#!/usr/bin/env bash
# The interpreter oracle: every project config (specs/**/*.cfg, or the configs
# given) is checked twice, by the hand-written Rust model (`--engine rust`) and
# by the TLA+ interpreter (`--engine tla`), both in release mode, and the two
# JSON summaries must agree on
#   - the distinct-state count, the generated-state count and the depth,
#   - the exit code and the verdict,
#   - the properties (names, kinds, expectations) and each one's result,
#     so the set of violated properties,
#   - the length of every safety counterexample (both searches are
#     breadth-first, so both are shortest; lassos need not be the same length,
#     only present on both sides).
# It fails closed: a run that exits 2 or more, does not finish (`complete`
# false, e.g. the per-config timeout), or prints a JSON it cannot read is a
# failure of that config. Each failure names the config and the field.
#
#   ci/tla-oracle.sh [config.cfg ...]
#
# Environment:
#   TRACEWRIGHT            the binary (default target/release/tracewright,
#                          built if missing)
#   TLA_ORACLE_TIMEOUT     seconds per config and engine (default 900)
#   TLA_ORACLE_THREADS     worker threads (default: all cores)
#
# It prints one line per config with both engines' wall and CPU times, and
# exits 0 when every config agrees, 1 when any differs or fails.
#
# What it cost on the project's 2-core machine, shared with one other build
# (load average 3), interpreter wall time with the default threads, on
# 2026-11-29: the 13 Workflow configs 110 s together (Workflow.cfg 3.9 s,
# fault_TimeoutAfterSideEffect, 431,699 states, 45.6 s); the bench configs
# Workflow_large (833,025 states) 156 s and TraceContext_bench (1,226,497
# states) 75 s. Every one agreed with the Rust model.
set -euo pipefail
cd "$(dirname "$0")/.."
export TRACEWRIGHT=${TRACEWRIGHT:-target/release/tracewright}
if [ "$TRACEWRIGHT" = target/release/tracewright ]; then
  cargo build --release --locked --quiet
fi
[ -x "$TRACEWRIGHT" ] || { echo "tla-oracle: $TRACEWRIGHT is not an executable" >&2; exit 2; }
if [ $# -eq 0 ]; then
  mapfile -t configs < <(find specs -name '*.cfg' | LC_ALL=C sort)
  set -- "${configs[@]}"
fi
[ $# -gt 0 ] || { echo "tla-oracle: no configs found" >&2; exit 2; }
export TLA_ORACLE_TIMEOUT=${TLA_ORACLE_TIMEOUT:-900}
export TLA_ORACLE_THREADS=${TLA_ORACLE_THREADS:-}
exec python3 - "$@" <<'PY'
import json, os, resource, subprocess, sys, tempfile, time

tw = os.environ["TRACEWRIGHT"]
timeout = os.environ["TLA_ORACLE_TIMEOUT"]
threads = os.environ["TLA_ORACLE_THREADS"]
work = tempfile.mkdtemp(prefix="tla-oracle-")


def children_cpu():
    """User and system CPU seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cfg, engine):
    """One engine's summary of one config, or the reason there is none."""
    args = [tw, "check", cfg, "--engine", engine, "--format", "json", "--progress", "never",
            "--timeout", timeout, "--out", os.path.join(work, engine)]
    if threads:
        args += ["--threads", threads]
    start, cpu = time.monotonic(), children_cpu()
    try:
        p = subprocess.run(args, capture_output=True, text=True)
    except OSError as e:
        return None, f"could not run {tw}: {e}", (0.0, 0.0)
    took = (time.monotonic() - start, children_cpu() - cpu)
    stderr = p.stderr.strip().splitlines()
    why = f"exit {p.returncode}" + (f": {stderr[0]}" if stderr else "")
    if p.returncode == 3:
        try:
            r = json.loads(p.stdout)["runs"][0]
            why += f": stopped by {r.get('stopped_by')} ({r.get('stop_reason')}) after {r.get('distinct_states')} distinct states"
        except (ValueError, KeyError, TypeError, IndexError):
            pass
    if p.returncode not in (0, 1):
        return None, why, took
    try:
        doc = json.loads(p.stdout)
        runs = doc["runs"]
    except (ValueError, KeyError, TypeError) as e:
        return None, f"unreadable JSON ({type(e).__name__}: {e}); {why}", took
    if not isinstance(runs, list) or len(runs) != 1 or not isinstance(runs[0], dict):
        return None, f"expected one run in the JSON, found {len(runs) if isinstance(runs, list) else runs!r}", took
    r = runs[0]
    if doc.get("exit_code") != p.returncode:
        return None, f"JSON exit_code {doc.get('exit_code')!r} but the process exited {p.returncode}", took
    if r.get("complete") is not True:
        return None, f"did not explore completely (stopped by {r.get('stopped_by')!r}: {r.get('stop_reason')!r})", took
    return r, None, took


def summary(r):
    """The fields both engines must agree on, by name; KeyError when one is missing."""
    fields = {
        "distinct_states": r["distinct_states"],
        "generated_states": r["generated_states"],
        "depth": r["depth"],
        "exit_code": r["exit_code"],
        "verdict": r["verdict"],
        "properties": [p["name"] for p in r["properties"]],
        "violated": sorted(p["name"] for p in r["properties"] if p["result"] == "violated"),
    }
    for p in r["properties"]:
        name = p["name"]
        fields[f"{name}.kind"] = p["kind"]
        fields[f"{name}.expected"] = p["expected"]
        fields[f"{name}.result"] = p["result"]
        fields[f"{name}.as_expected"] = p["as_expected"]
        if p["result"] == "violated":
            # A safety counterexample is shortest in both; a lasso only exists.
            fields[f"{name}.steps"] = p["steps"] if p["kind"] == "invariant" else "lasso"
    return fields


status = 0
total = {"rust": [0.0, 0.0], "tla": [0.0, 0.0]}
for cfg in sys.argv[1:]:
    sides = {}
    problems = []
    for engine in ("rust", "tla"):
        r, why, took = run(cfg, engine)
        total[engine][0] += took[0]
        total[engine][1] += took[1]
        sides[engine] = (r, took)
        if why:
            problems.append(f"--engine {engine}: {why}")
    rust, tla = sides["rust"][0], sides["tla"][0]
    (rw, rc), (tw_, tc) = sides["rust"][1], sides["tla"][1]
    line = f"{cfg}: rust {rw:.1f}s ({rc:.1f} CPU-s), tla {tw_:.1f}s ({tc:.1f} CPU-s)"
    if not problems:
        try:
            ours, theirs = summary(rust), summary(tla)
        except (KeyError, TypeError) as e:
            problems.append(f"a field is missing from the JSON: {e}")
        else:
            for field in sorted(set(ours) | set(theirs)):
                a, b = ours.get(field, "<absent>"), theirs.get(field, "<absent>")
                if a != b:
                    problems.append(f"{field}: rust {a!r}, tla {b!r}")
            line += (f"; distinct/generated/depth {ours['distinct_states']}/{ours['generated_states']}/"
                     f"{ours['depth']}; verdict {ours['verdict']}; violated: {', '.join(ours['violated']) or 'none'}")
    if problems:
        status = 1
        print(f"FAIL {line}\n     " + "\n     ".join(problems))
    else:
        print(f"ok   {line}")
    sys.stdout.flush()
print(f"tla-oracle: {len(sys.argv) - 1} configs, rust {total['rust'][0]:.1f}s ({total['rust'][1]:.1f} CPU-s), "
      f"tla {total['tla'][0]:.1f}s ({total['tla'][1]:.1f} CPU-s): "
      + ("every config agrees" if status == 0 else "DIFFERENCES (see FAIL lines)"))
sys.exit(status)
PY
