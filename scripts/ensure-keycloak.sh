#!/usr/bin/env bash
# Provides a Keycloak 26 server distribution and prints its home directory. KEYCLOAK_HOME wins when set.
# Otherwise org.keycloak:keycloak-quarkus-dist:<version>:zip is fetched from Maven Central with Maven, unzipped once
# into ${MCP_LAB_CACHE:-$HOME/.cache/mcp-auth-lab}/keycloak-<version>/ and reused. The first use also starts it once
# (start-dev, throwaway run directory) so that Quarkus' one-time build step, which writes into lib/quarkus/ of the
# shared home, is done here and never by two test runs at the same time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# keycloak/VERSION pins the version (newest 26.x on Maven Central when chosen); MCP_LAB_KEYCLOAK_VERSION overrides it.
KEYCLOAK_VERSION="${MCP_LAB_KEYCLOAK_VERSION:-$(tr -d '[:space:]' < "$here/../keycloak/VERSION")}"
if [ -n "${KEYCLOAK_HOME:-}" ]; then
  [ -x "$KEYCLOAK_HOME/bin/kc.sh" ] || { echo "ensure-keycloak: KEYCLOAK_HOME=$KEYCLOAK_HOME has no bin/kc.sh" >&2; exit 1; }
  echo "$KEYCLOAK_HOME"; exit 0
fi
CACHE="${MCP_LAB_CACHE:-$HOME/.cache/mcp-auth-lab}"
dir="$CACHE/keycloak-$KEYCLOAK_VERSION"
home="$dir/keycloak-$KEYCLOAK_VERSION"
if [ -f "$dir/.ready" ] && [ -x "$home/bin/kc.sh" ]; then echo "$home"; exit 0; fi

# Java first: without it the download is of no use.
bash "$here/keycloak-java.sh" >/dev/null
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [ -f "$dir/.ready" ] && [ -x "$home/bin/kc.sh" ]; then echo "$home"; exit 0; fi

if [ ! -x "$home/bin/kc.sh" ]; then
  command -v mvn >/dev/null 2>&1 || {
    echo "ensure-keycloak: Maven (mvn) is needed to fetch org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip from" \
      "Maven Central; install it (apt-get install maven) or set KEYCLOAK_HOME to an unpacked Keycloak $KEYCLOAK_VERSION" >&2
    exit 1; }
  command -v unzip >/dev/null 2>&1 || { echo "ensure-keycloak: unzip is not installed (apt-get install unzip)" >&2; exit 1; }
  tmp="$dir/download"
  rm -rf "$tmp" && mkdir -p "$tmp"
  echo "ensure-keycloak: fetching Keycloak $KEYCLOAK_VERSION from Maven Central (about 170 MB, once per machine)" >&2
  start=$(date +%s)
  mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" "-DoutputDirectory=$tmp" >&2 \
    || { echo "ensure-keycloak: mvn could not fetch org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" >&2; exit 1; }
  unzip -q "$tmp/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$tmp/x"
  rm -rf "$home"
  mv "$tmp/x/keycloak-$KEYCLOAK_VERSION" "$home"
  rm -rf "$tmp"
  echo "ensure-keycloak: fetched and unpacked in $(( $(date +%s) - start )) s" >&2
fi

# One warm-up start does Quarkus' build step (about 20-40 s) and proves that Java and the realm file work.
echo "ensure-keycloak: first start of Keycloak $KEYCLOAK_VERSION (one-time build step)" >&2
log="$dir/warm-up.log"
KEYCLOAK_HOME="$home" bash "$here/start-keycloak.sh" --port 0 --management-port 0 >"$log" 2>&1 &
pid=$!
ok=0
for _ in $(seq 1 600); do
  if grep -q 'Keycloak .* started in' "$log"; then ok=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ "$ok" != 1 ]; then
  echo "ensure-keycloak: Keycloak did not start; its output is in $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
touch "$dir/.ready"
echo "$home"
