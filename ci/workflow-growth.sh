#!/usr/bin/env bash
# How the cost of checking the saga grows with its steps and its attempts:
# the correct saga (specs/workflow/Workflow.cfg) with Steps and MaxAttempts
# (= AttemptCap) swept, one row per pair.
#
#   ci/workflow-growth.sh [max steps] [max attempts] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
max_steps=${1:-5}
max_attempts=${2:-4}
threads=${3:-2}
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp specs/workflow/Workflow.tla "$work/"
printf '%-6s %-9s %12s %12s %6s %10s %14s\n' steps attempts distinct generated depth seconds states/s
for steps in $(seq 3 "$max_steps"); do
  for attempts in $(seq 3 "$max_attempts"); do
    cfg="$work/Workflow_s${steps}a${attempts}.cfg"
    sed -e "s/Steps = 3/Steps = $steps/" -e "s/MaxAttempts = 3/MaxAttempts = $attempts/" \
        -e "s/AttemptCap = 3/AttemptCap = $attempts/" specs/workflow/Workflow.cfg > "$cfg"
    target/release/tracewright check "$cfg" --threads "$threads" --format json --progress never --out "$work/traces" \
      | python3 -c "
import json, sys
r = json.load(sys.stdin)['runs'][0]
assert r['verdict'] == 'ok', r['verdict']
print(f\"{$steps:<6} {$attempts:<9} {r['distinct_states']:>12,} {r['generated_states']:>12,} {r['depth']:>6} {r['wall_time_seconds']:>10.2f} {r['distinct_states_per_second']:>14,}\")"
  done
done
