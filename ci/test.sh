#!/usr/bin/env bash
# The project's test command (README: "Run the tests"). It installs what the
# tests need that a fresh machine lacks, then runs every test; it exits non-zero
# when any test fails.
#
#   0. the SDK drivers (Python, JS, Go) installed into project-local folders by
#      ci/install-drivers.sh, for the shared driver test suite;
#   1. cargo test: unit tests, the integration suite (checker, pinned TLC-checked
#      state counts, spec/model agreement, committed traces, CLI snapshots,
#      bad input) and the replay of every committed fuzz seed and regression;
#   2. every fuzz target (from `cargo fuzz list`) built with cargo-fuzz and run
#      briefly from its committed seeds;
#   3. the CI gate script end to end on the project's own specs;
#   4. ci/tla-oracle.sh: the TLA+ interpreter and the Rust models give the same
#      counts and verdicts on the project's configs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fuzz_seconds=${FUZZ_SECONDS:-15}

echo "== SDK drivers"
bash ci/install-drivers.sh
bash ci/install-java.sh
bash ci/install-temporal.sh
bash ci/install-pipeline.sh

echo "== cargo test"
cargo test --locked --all-targets

echo "== fuzz targets"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
# cargo-fuzz needs nightly compiler flags; this stable toolchain accepts them
# with RUSTC_BOOTSTRAP=1, for the fuzz build only.
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
(
  cd fuzz
  targets=$(cargo fuzz list)
  [ -n "$targets" ] || { echo "no fuzz targets listed" >&2; exit 1; }
  RUSTC_BOOTSTRAP=1 cargo fuzz build -O -a
  for target in $targets; do
    mkdir -p "$corpus/$target"
    seeds=()
    for d in "seeds/$target" "regressions/$target"; do [ -d "$d" ] && seeds+=("$d"); done
    echo "-- fuzz $target for ${fuzz_seconds}s"
    # cargo fuzz exits non-zero on a crash: its status is kept apart from the
    # filtering of its output, and a failure shows the whole report.
    log="$corpus/$target.log"
    status=0
    RUSTC_BOOTSTRAP=1 cargo fuzz run -O -a "$target" "$corpus/$target" "${seeds[@]}" -- \
      -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
    grep -a -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
    if [ "$status" -ne 0 ]; then
      grep -a -E "panicked|SUMMARY|ERROR|new disagreement|model_actions:" -A12 "$log" | head -60 >&2
      echo "fuzz target $target failed (exit $status)" >&2
      exit 1
    fi
  done
)

echo "== CI gate script"
out=$(mktemp -d)
bash ci/tracewright-gate.sh "$root/specs" "$out/junit.xml" "$out/traces"
grep -q '<testsuites' "$out/junit.xml"
rm -rf "$out"

echo "== both engines agree on the project's configs"
# The TLA+ interpreter against the hand-written models, in release mode: every
# TraceContext and Workflow config but the bench ones (those are run by hand:
# see the script's header for what they cost).
bash ci/tla-oracle.sh $(find specs/trace_context specs/workflow -name '*.cfg' ! -path '*/bench/*' | LC_ALL=C sort)
echo "all tests passed"
