#!/usr/bin/env bash
# Fuzz throughput (DESIGN.md, "Performance targets": fuzz executions per second
# per target). Builds the fuzz targets with cargo-fuzz and runs each for N
# seconds from its committed seeds and regressions, into a fresh corpus, then
# prints executions per second (libFuzzer's final stat::number_of_executed_units
# over the seconds it ran), peak RSS (stat::peak_rss_mb) and covered edges (cov).
#
#   ci/fuzz-bench.sh [SECONDS] [TARGET...]
#
# SECONDS defaults to 60; TARGETs default to every target `cargo fuzz list`
# names. The build is configured by environment variables, printed with the
# results:
#
#   FUZZ_BENCH_SANITIZER   cargo fuzz -s: none (default) or address, as
#                          ci/test.sh runs the targets
#   FUZZ_BENCH_ASSERTIONS  1 (default) builds with -a (debug assertions and
#                          overflow checks), as ci/test.sh does; 0 without
#
# ASan makes every allocation dear, and the propagators allocate on every
# input, so the two sanitizer settings differ several-fold; compare numbers
# of one setting only. Each setting builds into its own target directory, so
# switching does not rebuild what ci/test.sh built.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-60}
shift || true
sanitizer=${FUZZ_BENCH_SANITIZER:-none}
assertions=${FUZZ_BENCH_ASSERTIONS:-1}
flags=(-O -s "$sanitizer")
[ "$assertions" = 1 ] && flags+=(-a)
target_dir="target/bench-$sanitizer-a$assertions"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi
[ "${#targets[@]}" -gt 0 ] || { echo "no fuzz targets listed" >&2; exit 1; }

# cargo-fuzz needs nightly compiler flags; this stable toolchain accepts them
# with RUSTC_BOOTSTRAP=1, for the fuzz build only.
echo "building ${targets[*]} with: cargo fuzz build ${flags[*]} --target-dir $target_dir" >&2
for target in "${targets[@]}"; do
  RUSTC_BOOTSTRAP=1 cargo fuzz build "${flags[@]}" --target-dir "$target_dir" "$target" >&2
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-14s %8s %14s %12s %10s %8s\n' target seconds executions exec/s peak_rss_mb cov
for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  inputs=()
  for d in "seeds/$target" "regressions/$target"; do [ -d "$d" ] && inputs+=("$d"); done
  log="$work/$target.log"
  start=$(date +%s.%N)
  # A crash ends the run early; its exit status and message are shown, and
  # the numbers cover the time it ran.
  status=0
  RUSTC_BOOTSTRAP=1 cargo fuzz run "${flags[@]}" --target-dir "$target_dir" "$target" \
    "$work/$target" "${inputs[@]}" -- \
    -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
    -artifact_prefix="$work/$target-" >"$log" 2>&1 || status=$?
  end=$(date +%s.%N)
  units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  # libFuzzer's own clock starts after the process and the seed corpus are
  # loaded; the wall clock around `cargo fuzz run` would count the start-up
  # too, so the time is libFuzzer's "Done N runs in S second(s)" when it says.
  ran=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  [ -n "$ran" ] && [ "$ran" -gt 0 ] || ran=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  if [ -z "$units" ]; then
    echo "fuzz target $target printed no final stats (exit $status):" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  # Coverage: libFuzzer's count of covered edges ("cov:") on its last status line.
  cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-14s %8s %14s %12.0f %10s %8s\n' "$target" "$ran" "$units" \
    "$(awk -v u="$units" -v s="$ran" 'BEGIN { print u / s }')" "${rss:-?}" "${cov:-?}"
  if [ "$status" -ne 0 ]; then
    echo "fuzz target $target stopped with exit $status:" >&2
    grep -a -E "panicked|new disagreement|ERROR|SUMMARY" -A8 "$log" | head -20 >&2
  fi
done
echo "config: cargo fuzz run ${flags[*]}, ${seconds}s per target from seeds and regressions, $(nproc) cores" >&2
