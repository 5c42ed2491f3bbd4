#!/usr/bin/env bash
# Installs what the SDK drivers (drivers/PROTOCOL.md) need, in project-local
# places only:
#
#   .venv/                      Python venv with drivers/python/requirements.txt
#   drivers/js/node_modules/    `npm ci` from drivers/js/package-lock.json
#   target/drivers/go-driver    `go build` of drivers/go (default module cache)
#
# Each driver's HTTP transport (drivers/PROTOCOL.md) comes with it, pinned in
# the same files: uvicorn, httpx and the ASGI/WSGI/httpx instrumentations;
# @opentelemetry/instrumentation-http and the async-hooks context manager;
# otelhttp in drivers/go/go.mod. So do the SDKs' B3 propagators, which the
# `propagators` field of `configure` names: opentelemetry-propagator-b3,
# @opentelemetry/propagator-b3, go.opentelemetry.io/contrib/propagators/b3.
#
# `tracewright::sut::driver::launch` starts the drivers from exactly these
# places. Idempotent: a step whose inputs did not change since it last
# succeeded is skipped (a stamp file records the input it installed), and the
# Go build is incremental. Exits non-zero when any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '== %s\n' "$*"; }

# Python: a venv, reinstalled when requirements.txt changes.
venv="$root/.venv"
requirements="$root/drivers/python/requirements.txt"
stamp="$venv/.tracewright-requirements"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
  step "python: .venv up to date ($("$venv/bin/python" --version))"
else
  step "python: installing drivers/python/requirements.txt into .venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
    -r "$requirements"
  cp "$requirements" "$stamp"
  "$venv/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -i '^opentelemetry'
fi

# JavaScript: npm ci, redone when package-lock.json changes.
js="$root/drivers/js"
stamp="$js/node_modules/.tracewright-package-lock.json"
if [ -f "$stamp" ] && cmp -s "$js/package-lock.json" "$stamp"; then
  step "js: drivers/js/node_modules up to date (node $(node --version))"
else
  step "js: npm ci in drivers/js (node $(node --version))"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$js/package-lock.json" "$stamp"
fi

# Go: go build is incremental; GOTOOLCHAIN=local refuses to download a toolchain.
step "go: building target/drivers/go-driver ($(go version | cut -d' ' -f3))"
mkdir -p "$root/target/drivers"
GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
  go -C "$root/drivers/go" build -o "$root/target/drivers/go-driver" .

step "drivers installed"
