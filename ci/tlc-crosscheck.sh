#!/usr/bin/env bash
# Cross-checks tracewright against TLC on every config under specs/ (or the
# configs given): TLC's distinct-state count, generated-state count and search
# depth must equal tracewright's, and every property must come out the same.
#
# TLC stops at its first violation, so one run cannot judge every property.
# Per config this runs TLC once with every property tracewright says holds
# (TLC must find nothing; this run explores everything and gives the counts),
# and once per property tracewright says is violated, alone (TLC must find
# the violation).
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
import json, os, re, shutil, subprocess, sys, tempfile, time

jar, tw = os.environ["TLA2TOOLS_JAR"], os.environ["TRACEWRIGHT"]
work = tempfile.mkdtemp(prefix="tlc-crosscheck-")

def tlc(cfg_path, module_path):
    # One worker by default: TLC 2.20 with two workers reported depth 17 for
    # tests/data/tla/Hanoi.cfg, whose breadth-first depth is 16 (2^4 - 1 moves),
    # as it does with one.
    args = ["java", "-XX:+UseParallelGC", "-cp", jar, "tlc2.TLC", "-workers", os.environ.get("TLC_WORKERS", "1"),
            "-cleanup", "-noGenerateSpecTE", "-metadir", os.path.join(work, "meta")]
    start = time.monotonic()
    out = subprocess.run(args + ["-config", cfg_path, module_path], capture_output=True, text=True).stdout
    return out, time.monotonic() - start

def violations(out):
    found = set(re.findall(r"Invariant (\w+) is violated", out))
    if "Temporal properties were violated" in out or re.search(r"Action property .* is violated", out):
        found.add("<temporal>")
    return found

KEYWORD = re.compile(r"^\s*(CONSTANTS?|INIT|NEXT|SPECIFICATION|INVARIANTS?|PROPERT(?:Y|IES)|CONSTRAINTS?|"
                     r"ACTION_CONSTRAINTS?|SYMMETRY|VIEW|ALIAS|CHECK_DEADLOCK|POSTCONDITION)\b", re.M)

def variant(cfg_text, invariants, properties):
    # The config as it is (constants, behaviour spec, CONSTRAINT, SYMMETRY,
    # VIEW, ALIAS, ...) less its INVARIANT, PROPERTY and CHECK_DEADLOCK
    # sections, with only the given properties.
    cuts = [m.start() for m in KEYWORD.finditer(cfg_text)] + [len(cfg_text)]
    text = cfg_text[:cuts[0]]
    for start, end in zip(cuts, cuts[1:]):
        section = cfg_text[start:end]
        if not re.match(r"\s*(INVARIANTS?|PROPERT(?:Y|IES)|CHECK_DEADLOCK)\b", section):
            text += section
    text += "\n"
    if invariants:
        text += "INVARIANTS\n" + "".join(f"    {n}\n" for n in invariants)
    if properties:
        text += "PROPERTIES\n" + "".join(f"    {n}\n" for n in properties)
    text += "CHECK_DEADLOCK FALSE\n" if "CHECK_DEADLOCK FALSE" in cfg_text else ""
    return text

status = 0
for cfg in sys.argv[1:]:
    directory = os.path.dirname(cfg)
    # A config in a subdirectory (bench/, conform/) belongs to the module above it.
    if not any(f.endswith(".tla") for f in os.listdir(directory)):
        directory = os.path.dirname(directory)
    # The module named as the config (Foo.cfg, Foo_variant.cfg -> Foo.tla),
    # or the one module of the directory.
    stem = os.path.basename(cfg)[:-4]
    named = [m for m in (stem, stem.split("_")[0]) if os.path.exists(os.path.join(directory, m + ".tla"))]
    module = named[0] if named else [f for f in os.listdir(directory) if f.endswith(".tla")][0][:-4]
    # TLC runs on a copy of the module in a scratch directory, beside the
    # config variants it is given, so nothing is written under specs/.
    scratch = tempfile.mkdtemp(dir=work)
    # Beside it, the other modules of its directory (those it extends or
    # instantiates).
    for f in os.listdir(directory):
        if f.endswith(".tla"):
            shutil.copy(os.path.join(directory, f), scratch)
    module_path = os.path.join(scratch, module)
    cfg_text = open(cfg).read()
    run = json.loads(subprocess.run([tw, "check", cfg, "--format", "json", "--out", os.path.join(work, "traces"),
                                     "--progress", "never"], capture_output=True, text=True).stdout)["runs"][0]
    props = [p for p in run["properties"] if p["kind"] != "deadlock"]
    holds = [p for p in props if p["result"] == "holds"]
    violated = [p for p in props if p["result"] == "violated"]
    problems = []
    theirs = None
    secs = 0.0
    checks = [(holds, set())] + [([p], {p["name"] if p["kind"] == "invariant" else "<temporal>"}) for p in violated]
    for group, expect in checks:
        text = variant(cfg_text, [p["name"] for p in group if p["kind"] == "invariant"],
                       [p["name"] for p in group if p["kind"] != "invariant"])
        path = os.path.join(scratch, "variant.cfg")
        with open(path, "w") as f:
            f.write(text)
        out, took = tlc(path, module_path)
        got = violations(out)
        if not expect:
            # The run without violations explored the whole state space.
            secs = took
            m = re.search(r"([\d,]+) states generated, ([\d,]+) distinct states found", out)
            d = re.search(r"depth of the complete state graph search is (\d+)", out)
            if not m or not d:
                problems.append("TLC did not finish:\n" + out[-2000:])
                continue
            theirs = (int(m.group(2).replace(",", "")), int(m.group(1).replace(",", "")), int(d.group(1)))
        if got != expect:
            names = ", ".join(p["name"] for p in group) or "no properties"
            problems.append(f"TLC on [{names}] reports violated {sorted(got)}, tracewright {sorted(expect)}")
    ours = (run["distinct_states"], run["generated_states"], run["depth"])
    if theirs != ours:
        problems.append(f"counts differ: TLC {theirs}, tracewright {ours}")
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
