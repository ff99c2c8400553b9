#!/usr/bin/env bash
# Prints a JAVA_HOME that Keycloak 26 supports (OpenJDK 17, 21 or 25: https://www.keycloak.org/server/supported-configurations).
# KEYCLOAK_JAVA_HOME wins when set. Otherwise the candidates are JAVA_HOME, the JDKs under /usr/lib/jvm and the `java` on
# PATH; the first of major version 21, then 17 (as the project asks), then 25 is taken (21 is what the Keycloak container image runs).
set -euo pipefail
major_of() { # prints the feature version of <home>/bin/java, or nothing
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p') || return 0
  echo "${v%%.*}"
}
if [ -n "${KEYCLOAK_JAVA_HOME:-}" ]; then
  [ -x "$KEYCLOAK_JAVA_HOME/bin/java" ] || { echo "keycloak-java: KEYCLOAK_JAVA_HOME=$KEYCLOAK_JAVA_HOME has no bin/java" >&2; exit 1; }
  echo "$KEYCLOAK_JAVA_HOME"; exit 0
fi
candidates=()
[ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
for d in /usr/lib/jvm/*/; do [ -x "$d/bin/java" ] && [ ! -L "${d%/}" ] && candidates+=("${d%/}"); done
if command -v java >/dev/null 2>&1; then candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"); fi
for want in 21 17 25; do
  for home in "${candidates[@]}"; do
    [ -x "$home/bin/java" ] || continue
    if [ "$(major_of "$home")" = "$want" ]; then echo "$home"; exit 0; fi
  done
done
echo "keycloak-java: no Java 17, 21 or 25 found (looked at JAVA_HOME, /usr/lib/jvm/*, PATH). Install OpenJDK 21" \
  "(e.g. apt-get install openjdk-21-jre-headless) or set KEYCLOAK_JAVA_HOME." >&2
exit 1
