#!/usr/bin/env bash
# tracewright as a CI gate: checks every config under a specs directory and
# writes JUnit XML for the CI system to display. Its exit code is tracewright's:
#   0 every property came out as its config expects
#   1 a property came out otherwise (an unexpected violation, or an expected
#     violation that did not happen)
#   2 bad input or setup (a malformed .cfg, an unknown invariant, ...)
#   3 incomplete (a bound, a timeout or Ctrl-C stopped exploration)
#
# usage: ci/tracewright-gate.sh [SPECS_DIR] [JUNIT_FILE] [TRACES_DIR]
# Uses `tracewright` from PATH if there is one, else builds this checkout.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
specs=${1:-specs}
junit=${2:-tracewright-junit.xml}
traces=${3:-traces}
if command -v tracewright >/dev/null 2>&1; then
  tw=(tracewright)
else
  cargo build --release --quiet --locked --manifest-path "$here/Cargo.toml" || exit 2
  tw=("$here/target/release/tracewright")
fi
"${tw[@]}" check --all --specs "$specs" --out "$traces" --format junit --progress never > "$junit"
code=$?
case $code in
  0) echo "tracewright: every property came out as expected ($junit)" ;;
  1) echo "tracewright: a property came out otherwise than expected; see $junit and $traces/" >&2 ;;
  2) echo "tracewright: bad input or setup; nothing was checked" >&2 ;;
  3) echo "tracewright: exploration incomplete; see $junit" >&2 ;;
esac
exit $code
