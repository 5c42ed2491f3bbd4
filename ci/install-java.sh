#!/usr/bin/env bash
# Builds the Java SDK driver (drivers/java, drivers/PROTOCOL.md) into one
# shaded jar, target/drivers/java-driver.jar, which
# `tracewright::sut::driver::launch` starts with `java -jar`.
#
# Maven resolves into its default local repository (~/.m2/repository): the
# first build downloads the OpenTelemetry Java SDK and the plugins from Maven
# Central, later builds run offline (`mvn -o`) and fall back to online only when
# the local repository lacks something. Idempotent: a stamp records the inputs
# (pom.xml and the driver's source) of the jar it built; unchanged inputs skip
# the build. Exits non-zero when the build fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '== %s\n' "$*"; }

command -v java >/dev/null || { echo "java is not installed (Java 17 is needed)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "mvn is not installed (apt-get install maven)" >&2; exit 1; }

project="$root/drivers/java"
jar="$root/target/drivers/java-driver.jar"
stamp="$root/target/drivers/.java-driver.inputs"
inputs=$(cd "$project" && find pom.xml src -type f | LC_ALL=C sort | xargs sha256sum)

if [ -f "$jar" ] && [ -f "$stamp" ] && [ "$inputs" = "$(cat "$stamp")" ]; then
  step "java: target/drivers/java-driver.jar up to date ($(java -version 2>&1 | head -1))"
  exit 0
fi

step "java: building target/drivers/java-driver.jar ($(java -version 2>&1 | head -1))"
mkdir -p "$root/target/drivers"
rm -f "$stamp"
build() { mvn -B -q -f "$project/pom.xml" "$@" package; }
if ! build -o >/dev/null 2>&1; then
  step "java: resolving the driver's dependencies from Maven Central"
  build
fi
cp "$root/target/drivers/java-build/java-driver.jar" "$jar.tmp"
mv "$jar.tmp" "$jar"
printf '%s\n' "$inputs" >"$stamp"
step "java driver installed"
