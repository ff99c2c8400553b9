#!/usr/bin/env bash
# Runs Keycloak (`kc.sh start-dev`) on 127.0.0.1 with the mcp-lab realm imported, until SIGTERM/SIGINT.
#
#   scripts/start-keycloak.sh [--port 8080] [--management-port 9000] [--rs-url http://127.0.0.1:3000] [--realm FILE]
#                             [--run-dir DIR] [--features LIST]
#
# Issuer: http://127.0.0.1:<port>/realms/mcp-lab. Every run gets its own Keycloak home (a small directory whose lib/,
# themes/, providers/ and conf/ link to the cached distribution, see ensure-keycloak.sh) with its own data/: the H2
# database, transaction logs and data/import/realm-mcp-lab.json. So runs never share state, the realm is imported fresh,
# and parallel runs do not fight over the H2 file. The realm is --realm FILE, or keycloak/realm-mcp-lab.json rendered
# for --rs-url by launcher/src/idp/keycloak-realm.ts (profiles/keycloak.json's client and audiences). Without --run-dir a temporary one is made and removed
# on exit; with --run-dir the caller owns it and this script execs kc.sh (so signals reach Keycloak directly).
# --features enables Keycloak features (a build-time option): such a run gets its own copy of lib/quarkus (3 MB), so
# the Quarkus re-build never touches the shared cache; a build kept by an earlier run with the same features
# (launcher/src/idp/keycloak.ts keeps it) spares the re-build.
# KEYCLOAK_HOME overrides the cached distribution; KEYCLOAK_JAVA_HOME the JDK (see keycloak-java.sh).
# The master realm gets the admin admin/admin (KC_BOOTSTRAP_ADMIN_USERNAME/PASSWORD override it): loopback only, lab use.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
port=8080
mport=9000
rs_url=http://127.0.0.1:3000
run_dir=
realm=
features=
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --management-port) mport="$2"; shift 2 ;;
    --rs-url) rs_url="${2%/}"; shift 2 ;;
    --run-dir) run_dir="$2"; shift 2 ;;
    --realm) realm="$2"; shift 2 ;;
    --features) features="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-keycloak: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$port$mport" in *[!0-9]*) echo "start-keycloak: --port and --management-port must be numbers" >&2; exit 2 ;; esac
case "$rs_url" in http://*|https://*) ;; *) echo "start-keycloak: --rs-url must be an http(s) URL, got $rs_url" >&2; exit 2 ;; esac

kc_home="${KEYCLOAK_HOME:-$(bash "$here/ensure-keycloak.sh")}"
java_home="$(bash "$here/keycloak-java.sh")"

own_run_dir=0
if [ -z "$run_dir" ]; then run_dir="$(mktemp -d "${TMPDIR:-/tmp}/mcp-lab-keycloak.XXXXXX")"; own_run_dir=1; fi
mkdir -p "$run_dir/bin" "$run_dir/data/import"
# A copy, not a link: kc.sh derives its home from its own resolved path.
cp "$kc_home/bin/kc.sh" "$run_dir/bin/kc.sh"
for d in themes providers conf; do ln -sfn "$kc_home/$d" "$run_dir/$d"; done
if [ -z "$features" ]; then
  ln -sfn "$kc_home/lib" "$run_dir/lib"
else
  # A private lib/quarkus for the re-build (quarkus-run.jar too: its manifest names lib/quarkus relative to itself).
  mkdir -p "$run_dir/lib"
  for f in "$kc_home"/lib/*; do
    case "$(basename "$f")" in quarkus|quarkus-run.jar) cp -R "$f" "$run_dir/lib/" ;; *) ln -sfn "$f" "$run_dir/lib/$(basename "$f")" ;; esac
  done
  kept="$(dirname "$kc_home")/quarkus-features-${features//,/-}"
  if [ -f "$kept/quarkus-application.dat" ]; then rm -rf "$run_dir/lib/quarkus"; cp -R "$kept" "$run_dir/lib/quarkus"; fi
fi
if [ -n "$realm" ]; then cp "$realm" "$run_dir/data/import/realm-mcp-lab.json"
else node "$repo/launcher/src/idp/keycloak-realm.ts" --rs-url "$rs_url" "$run_dir/data/import/realm-mcp-lab.json"; fi

export JAVA_HOME="$java_home"
export JAVA_OPTS_KC_HEAP="${JAVA_OPTS_KC_HEAP:--Xms64m -Xmx512m}"
export KC_BOOTSTRAP_ADMIN_USERNAME="${KC_BOOTSTRAP_ADMIN_USERNAME:-admin}"
export KC_BOOTSTRAP_ADMIN_PASSWORD="${KC_BOOTSTRAP_ADMIN_PASSWORD:-admin}"
echo "start-keycloak: Keycloak $(cat "$kc_home/version.txt" 2>/dev/null | sed 's/.*Version //') with $JAVA_HOME," \
  "issuer http://127.0.0.1:$port/realms/mcp-lab, run dir $run_dir" >&2

args=(start-dev
  --http-host=127.0.0.1 --http-port="$port"
  --http-management-port="$mport"
  --hostname="http://127.0.0.1:$port"
  --import-realm)
if [ -n "$features" ]; then args+=(--features="$features"); fi
# With --run-dir the caller owns the directory: become kc.sh, which forwards TERM/INT to its JVM.
if [ "$own_run_dir" = 0 ]; then exec "$run_dir/bin/kc.sh" "${args[@]}"; fi
# Otherwise forward TERM/INT to kc.sh and remove the run directory afterwards.
"$run_dir/bin/kc.sh" "${args[@]}" &
kc=$!
on_signal() { kill -TERM "$kc" 2>/dev/null || true; wait "$kc" || true; rm -rf "$run_dir"; exit 143; }
trap on_signal TERM INT
status=0
wait "$kc" || status=$?
rm -rf "$run_dir"
exit "$status"
