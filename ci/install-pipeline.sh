#!/usr/bin/env bash
# Installs the pipeline systems under test (tracewright replay --sut
# collector|rotel|jaeger), in project-local places only:
#
#   target/tools/builder          the OpenTelemetry Collector Builder v0.161.0
#   target/collector/otelcol-tracewright
#                                 the official collector, built from
#                                 drivers/collector/manifest.yaml
#   target/jaeger/jaeger          Jaeger v2 (v1.76.0), built from the tools
#                                 module drivers/jaeger/go.mod (`--sut jaeger`;
#                                 its cold build is the longest step of all)
#   .venv/lib/python3.*/site-packages/rotel/rotel-agent
#                                 PyPI `rotel`, pinned in drivers/rotel/requirements.txt
#
# `tracewright::sut::pipeline` starts the binaries from exactly these places.
# Idempotent: a build whose inputs did not change since it last succeeded is
# skipped (a stamp next to the binary records the inputs it was built from);
# the Go module and build caches make a changed build incremental. The two Go
# builds run one after the other, never at once. Exits non-zero when any step
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '== %s\n' "$*"; }
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

# stamp_ok STAMP INPUT... : the stamp holds exactly the inputs' contents.
stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# The Collector Builder.
builder="$root/target/tools/builder"
if [ -x "$builder" ] && "$builder" version 2>/dev/null | grep -q '0.161.0'; then
  step "collector builder: $("$builder" version)"
else
  step "collector builder: go install go.opentelemetry.io/collector/cmd/builder@v0.161.0"
  mkdir -p "$root/target/tools"
  GOBIN="$root/target/tools" go install go.opentelemetry.io/collector/cmd/builder@v0.161.0
fi

# The official collector.
manifest="$root/drivers/collector/manifest.yaml"
collector="$root/target/collector/otelcol-tracewright"
stamp="$root/target/collector/.tracewright-manifest"
want=$(stamp_of "$manifest")
if [ -x "$collector" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  step "collector: target/collector/otelcol-tracewright up to date"
else
  step "collector: building from drivers/collector/manifest.yaml (several minutes when cold)"
  start=$(date +%s)
  rm -f "$stamp"
  "$builder" --config "$manifest"
  echo "$want" >"$stamp"
  step "collector: built in $(( $(date +%s) - start ))s"
fi

# Jaeger v2.
jaeger_mod="$root/drivers/jaeger"
jaeger="$root/target/jaeger/jaeger"
stamp="$root/target/jaeger/.tracewright-go-sum"
want=$(stamp_of "$jaeger_mod/go.mod" "$jaeger_mod/go.sum")
if [ -x "$jaeger" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  step "jaeger: target/jaeger/jaeger up to date"
else
  step "jaeger: go build github.com/jaegertracing/jaeger/cmd/jaeger (several minutes when cold)"
  start=$(date +%s)
  rm -f "$stamp"
  mkdir -p "$root/target/jaeger"
  go -C "$jaeger_mod" build -o "$jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
  echo "$want" >"$stamp"
  step "jaeger: built in $(( $(date +%s) - start ))s"
fi

# rotel, into the project's venv (created by ci/install-drivers.sh or here).
venv="$root/.venv"
requirements="$root/drivers/rotel/requirements.txt"
stamp="$venv/.tracewright-rotel"
rotel_agent() { ls "$venv"/lib/python3*/site-packages/rotel/rotel-agent 2>/dev/null | head -1; }
if [ -n "$(rotel_agent)" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
  step "rotel: $(rotel_agent) up to date"
else
  step "rotel: installing drivers/rotel/requirements.txt into .venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
    -r "$requirements"
  cp "$requirements" "$stamp"
fi
[ -n "$(rotel_agent)" ] || { echo "rotel-agent missing after installing rotel" >&2; exit 1; }
"$(rotel_agent)" --version

step "pipeline installed"
