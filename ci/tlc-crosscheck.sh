#!/usr/bin/env bash
# Cross-checks tracewright against TLC on every config under specs/ (or the
# configs given): TLC's distinct-state count, generated-state count and search
# depth must equal tracewright's, and every property must come out the same.
#
# TLC stops judging a state at its first violated invariant, so one run cannot
# tell whether the others hold there. Per config this runs TLC once to count
# (with -continue), once with every property tracewright says holds (TLC must
# find nothing), and once per property tracewright says is violated, alone
# (TLC must find the violation).
#
# TLC is not on any package registry this project can reach, so this runs
# where a tla2tools.jar is at hand, not in CI:
#
#   TLA2TOOLS_JAR=/path/to/tla2tools.jar ci/tlc-crosscheck.sh [config.cfg ...]
set -euo pipefail
cd "$(dirname "$0")/.."
export TLA2TOOLS_JAR=${TLA2TOOLS_JAR:?set TLA2TOOLS_JAR to the path of tla2tools.jar}
export TRACEWRIGHT=${TRACEWRIGHT:-target/release/tracewright}
[ -x "$TRACEWRIGHT" ] || cargo build --release --quiet
if [ $# -eq 0 ]; then set -- $(ls specs/*/*.cfg | sort); fi
exec python3 - "$@" <<'PY'
import json, os, re, subprocess, sys, tempfile, time

jar, tw = os.environ["TLA2TOOLS_JAR"], os.environ["TRACEWRIGHT"]
work = tempfile.mkdtemp(prefix="tlc-crosscheck-")

def tlc(cfg_path, module_path, cont):
    args = ["java", "-XX:+UseParallelGC", "-cp", jar, "tlc2.TLC", "-workers", "auto",
            "-cleanup", "-noGenerateSpecTE", "-metadir", os.path.join(work, "meta")]
    if cont:
        args.append("-continue")
    start = time.monotonic()
    out = subprocess.run(args + ["-config", cfg_path, module_path], capture_output=True, text=True).stdout
    return out, time.monotonic() - start

def violations(out):
    found = set(re.findall(r"Invariant (\w+) is violated", out))
    if "Temporal properties were violated" in out:
        found.add("<temporal>")
    return found

def variant(cfg, cfg_text, invariants, properties):
    # The config's own constants and behaviour spec, with only the given properties.
    head = re.split(r"^\s*(?:INVARIANTS?|PROPERT(?:Y|IES)|CHECK_DEADLOCK)\b", cfg_text, flags=re.M)[0]
    text = head + "\n"
    if invariants:
        text += "INVARIANTS\n" + "".join(f"    {n}\n" for n in invariants)
    if properties:
        text += "PROPERTIES\n" + "".join(f"    {n}\n" for n in properties)
    text += "CHECK_DEADLOCK FALSE\n" if "CHECK_DEADLOCK FALSE" in cfg_text else ""
    # Beside the original, so TLC finds the module; removed after the run.
    path = os.path.join(os.path.dirname(cfg), f"_crosscheck_{os.getpid()}.cfg")
    return text, path

status = 0
for cfg in sys.argv[1:]:
    directory = os.path.dirname(cfg)
    module = [f for f in os.listdir(directory) if f.endswith(".tla")][0][:-4]
    module_path = os.path.join(directory, module)
    cfg_text = open(cfg).read()
    run = json.loads(subprocess.run([tw, "check", cfg, "--format", "json", "--out", os.path.join(work, "traces"),
                                     "--progress", "never"], capture_output=True, text=True).stdout)["runs"][0]
    out, secs = tlc(cfg, module_path, cont=True)
    m = re.search(r"([\d,]+) states generated, ([\d,]+) distinct states found", out)
    d = re.search(r"depth of the complete state graph search is (\d+)", out)
    if not m or not d:
        print(f"FAIL {cfg}: TLC did not finish:\n{out[-2000:]}")
        status = 1
        continue
    theirs = (int(m.group(2).replace(",", "")), int(m.group(1).replace(",", "")), int(d.group(1)))
    ours = (run["distinct_states"], run["generated_states"], run["depth"])
    problems = [] if ours == theirs else [f"counts differ"]
    props = [p for p in run["properties"] if p["kind"] != "deadlock"]
    holds = [p for p in props if p["result"] == "holds"]
    violated = [p for p in props if p["result"] == "violated"]
    checks = [([p for p in holds], set())] + [([p], {p["name"] if p["kind"] == "invariant" else "<temporal>"}) for p in violated]
    for group, expect in checks:
        if not group:
            continue
        text, path = variant(cfg, cfg_text, [p["name"] for p in group if p["kind"] == "invariant"],
                             [p["name"] for p in group if p["kind"] == "eventually"])
        with open(path, "w") as f:
            f.write(text)
        try:
            got = violations(tlc(path, module_path, cont=False)[0])
        finally:
            os.remove(path)
        if got != expect:
            names = ", ".join(p["name"] for p in group)
            problems.append(f"TLC on [{names}] reports violated {sorted(got)}, tracewright {sorted(expect)}")
    verdicts = ", ".join(p["name"] for p in violated) or "none"
    line = (f"{cfg}: distinct/generated/depth TLC {theirs} tracewright {ours}; violated (both): {verdicts}; "
            f"TLC {secs:.1f}s, tracewright {run['wall_time_seconds']:.2f}s")
    if problems:
        status = 1
        print(f"FAIL {line}\n     " + "\n     ".join(problems))
    else:
        print(f"ok   {line}")
    sys.stdout.flush()
sys.exit(status)
PY
