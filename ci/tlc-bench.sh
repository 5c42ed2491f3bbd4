#!/usr/bin/env bash
# TLC's throughput on the specs benches/tla.rs measures, with 1 and 2 workers:
# median wall time (JVM start included) and distinct states per second of wall
# time and of CPU time (user + system of the JVM, JIT and GC threads
# included), so the interpreter's figures (`cargo bench --bench tla`, which
# prints the same two rates) can be set beside TLC's.
#
#   TLA2TOOLS_JAR=/tmp/tla2tools.jar ci/tlc-bench.sh [runs]        # default 3 runs
#
# Not run in CI: TLC is on no registry this project reaches (fetch a
# tla2tools.jar, never commit it). Fails if a run finds a violation or its
# distinct-state count differs between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
uptime >&2
jar=${TLA2TOOLS_JAR:?set TLA2TOOLS_JAR to the path of tla2tools.jar}
runs=${1:-3}
# module, config: the same list as benches/tla.rs
specs=(
  "tests/data/tla/Commit.tla benches/tla/Commit_bench.cfg"
  "specs/trace_context/TraceContext.tla benches/tla/TraceContext_bounded.cfg"
  "specs/workflow/Workflow.tla specs/workflow/Workflow.cfg"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-26s %7s %9s %9s %12s %12s\n' config workers distinct 'wall s' distinct/s 'per CPU s'
for pair in "${specs[@]}"; do
  read -r tla cfg <<<"$pair"
  for workers in 1 2; do
    : > "$work/times"
    : > "$work/cpu"
    for i in $(seq "$runs"); do
      start=$(date +%s.%N)
      /usr/bin/time -f '%U %S' -o "$work/rusage" \
        java -XX:+UseParallelGC -cp "$jar" tlc2.TLC -workers "$workers" -noGenerateSpecTE -cleanup \
        -metadir "$work/meta" -config "$(realpath "$cfg")" "$(realpath "${tla%.tla}")" > "$work/out" 2>&1 || true
      echo "$(date +%s.%N) - $start" | bc >> "$work/times"
      awk '{print $1 + $2}' "$work/rusage" >> "$work/cpu"
      if grep -qE "is violated|Error:" "$work/out"; then
        echo "TLC reported an error or a violation on $cfg:" >&2
        cat "$work/out" >&2
        exit 1
      fi
      distinct=$(grep -oE '[0-9,]+ distinct states found' "$work/out" | tail -n 1 | tr -d ,)
      distinct=${distinct%% *}
      if [ -n "${first:-}" ] && [ "$first" != "$distinct" ]; then
        echo "distinct states differ between runs on $cfg: $first vs $distinct" >&2
        exit 1
      fi
      first=$distinct
    done
    med() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
    median=$(med "$work/times")
    cpu=$(med "$work/cpu")
    printf '%-26s %7s %9s %9.2f %12.0f %12.0f\n' "$(basename "$cfg")" "$workers" "$first" "$median" \
      "$(echo "$first / $median" | bc -l)" "$(echo "$first / $cpu" | bc -l)"
  done
  unset first
done
