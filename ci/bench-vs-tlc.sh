#!/usr/bin/env bash
# Throughput of tracewright against TLC on the same spec, constants and
# properties, both with 2 workers on this machine, in one session:
#
#   TLA2TOOLS_JAR=/path/to/tla2tools.jar ci/bench-vs-tlc.sh [config.cfg] [tlc runs] [tracewright runs]
#
# Prints each tool's median wall time and distinct states per second, the
# ratio, and fails if the two disagree on the distinct-state count. Not run in
# CI: TLC is on no registry this project reaches.
set -euo pipefail
cd "$(dirname "$0")/.."
jar=${TLA2TOOLS_JAR:?set TLA2TOOLS_JAR to the path of tla2tools.jar}
cfg=${1:-specs/trace_context/bench/TraceContext_bench.cfg}
tlc_runs=${2:-3}
tw_runs=${3:-5}
cargo build --release --quiet
tw=target/release/tracewright
dir=$(dirname "$cfg")
tla=$(ls "$dir"/*.tla 2>/dev/null | head -n 1 || true)
[ -n "$tla" ] || tla=$(ls "$dir"/../*.tla | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq "$tlc_runs"); do
  start=$(date +%s.%N)
  java -XX:+UseParallelGC -cp "$jar" tlc2.TLC -workers 2 -noGenerateSpecTE -cleanup \
    -metadir "$work/meta" -config "$cfg" "${tla%.tla}" > "$work/tlc.$i.txt" 2>&1 || true
  echo "$(date +%s.%N) - $start" | bc >> "$work/tlc.times"
  grep -E "distinct states found" "$work/tlc.$i.txt" | tail -n 1 >&2
done
for i in $(seq "$tw_runs"); do
  "$tw" check "$cfg" --threads 2 --format json --progress never --out "$work/traces" > "$work/tw.$i.json" || true
done
python3 - "$work" "$tlc_runs" "$tw_runs" <<'PY'
import json, re, statistics, sys
work, tlc_runs, tw_runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tlc_times = [float(x) for x in open(f"{work}/tlc.times")]
m = re.search(r"([\d,]+) distinct states found", open(f"{work}/tlc.1.txt").read())
tlc_distinct = int(m.group(1).replace(",", ""))
runs = [json.load(open(f"{work}/tw.{i}.json"))["runs"][0] for i in range(1, tw_runs + 1)]
tw_distinct = runs[0]["distinct_states"]
tw_times = [r["wall_time_seconds"] for r in runs]
tlc_med, tw_med = statistics.median(tlc_times), statistics.median(tw_times)
print(f"distinct states    TLC {tlc_distinct}  tracewright {tw_distinct}")
print(f"TLC (2 workers)    median {tlc_med:.2f} s of {tlc_runs} runs (JVM start included), {tlc_distinct / tlc_med:,.0f} distinct states/s")
print(f"tracewright (2)    median {tw_med:.3f} s of {tw_runs} runs, {tw_distinct / tw_med:,.0f} distinct states/s")
print(f"ratio              {tlc_med / tw_med:.1f}x TLC's throughput")
sys.exit(0 if tlc_distinct == tw_distinct else 1)
PY
