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
# names. The build and the run are configured by environment variables,
# printed with the results:
#
#   FUZZ_BENCH_SANITIZER   cargo fuzz -s: none (default) or address, as
#                          ci/test.sh runs the targets
#   FUZZ_BENCH_ASSERTIONS  1 (default) builds with -a (debug assertions and
#                          overflow checks), as ci/test.sh does; 0 without
#   FUZZ_BENCH_WORKERS     libFuzzer processes per target (default: the
#                          number of cores), run as libFuzzer's parallel mode
#                          -jobs=N -workers=N: N independent fuzzers over one
#                          shared corpus directory, as `cargo fuzz run TARGET
#                          -- -jobs=N -workers=N` runs them. Executions are
#                          summed for the machine's rate and also given per
#                          worker; peak RSS is the largest worker's.
#   FUZZ_BENCH_RSS_LIMIT_MB libFuzzer's -rss_limit_mb (default 2048): a
#                          worker that grows past it stops with an error, so
#                          a long run at 1024 proves the 1 GiB bound.
#
# ASan makes every allocation dear, and the propagators allocate on every
# input, so the two sanitizer settings differ several-fold; compare numbers
# of one setting only. Each setting builds into its own target directory, so
# switching does not rebuild what ci/test.sh built.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
fuzz_dir=$(pwd)

seconds=${1:-60}
shift || true
sanitizer=${FUZZ_BENCH_SANITIZER:-none}
assertions=${FUZZ_BENCH_ASSERTIONS:-1}
workers=${FUZZ_BENCH_WORKERS:-$(nproc)}
rss_limit=${FUZZ_BENCH_RSS_LIMIT_MB:-2048}
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
bin_dir="$fuzz_dir/$target_dir/$(rustc -vV | sed -n 's/^host: //p')/release"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-14s %7s %8s %14s %12s %20s %10s %8s\n' \
  target workers seconds executions exec/s exec/s_per_worker peak_rss_mb cov
for target in "${targets[@]}"; do
  run="$work/$target"
  mkdir -p "$run/corpus"
  inputs=()
  for d in "seeds/$target" "regressions/$target"; do [ -d "$d" ] && inputs+=("$fuzz_dir/$d"); done
  # The binary cargo fuzz built, run directly from a scratch directory: in
  # parallel mode libFuzzer writes each worker's output to fuzz-<job>.log in
  # the current directory. A crash ends a worker early; its exit status and
  # message are shown, and the numbers cover the time it ran.
  status=0
  (cd "$run" && "$bin_dir/$target" corpus "${inputs[@]}" \
    -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb="$rss_limit" \
    -jobs="$workers" -workers="$workers" -artifact_prefix="$run/" >"$run/main.log" 2>&1) || status=$?
  logs=("$run"/fuzz-*.log)
  [ -e "${logs[0]}" ] || logs=("$run/main.log")
  total=0 ran=0 rss=0 cov=0 per=()
  for log in "${logs[@]}"; do
    units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$units" ]; then
      echo "fuzz target $target printed no final stats in $(basename "$log") (exit $status):" >&2
      tail -20 "$log" >&2
      exit 1
    fi
    # libFuzzer's own clock ("Done N runs in S second(s)") starts after the
    # seed corpus is loaded, so start-up is not counted.
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    [ -n "$secs" ] && [ "$secs" -gt 0 ] || secs=$seconds
    w_rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    # Coverage: libFuzzer's count of covered edges ("cov:") on its last status line.
    w_cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    total=$((total + units))
    [ "$secs" -gt "$ran" ] && ran=$secs
    [ "${w_rss:-0}" -gt "$rss" ] && rss=${w_rss:-0}
    [ "${w_cov:-0}" -gt "$cov" ] && cov=${w_cov:-0}
    per+=("$(awk -v u="$units" -v s="$secs" 'BEGIN { printf "%.0f", u / s }')")
  done
  per_text=$(IFS=/; echo "${per[*]}")
  printf '%-14s %7s %8s %14s %12.0f %20s %10s %8s\n' "$target" "${#logs[@]}" "$ran" "$total" \
    "$(awk -v u="$total" -v s="$ran" 'BEGIN { print u / s }')" "$per_text" "$rss" "$cov"
  if [ "$status" -ne 0 ] || grep -q -a -E "panicked|ERROR: libFuzzer" "${logs[@]}" "$run/main.log"; then
    echo "fuzz target $target stopped with exit $status:" >&2
    grep -h -a -E "panicked|new disagreement|ERROR|SUMMARY" -A8 "${logs[@]}" "$run/main.log" | head -20 >&2
  fi
done
echo "config: ${flags[*]}, ${seconds}s per target from seeds and regressions, $workers worker(s) on $(nproc) cores, -rss_limit_mb=$rss_limit" >&2
