#!/usr/bin/env bash
# Proves the container plumbing on this machine, without the lab's services: the local images start as numeric
# non-root users; on a compose user network one container reaches another by service name once its shell-less
# healthcheck (`node -e` + fetch) passes; ports published on 127.0.0.1 reach containers from the host although
# dockerd runs with --iptables=false (docker-proxy); Dex serves its discovery document.
# Host ports are ephemeral (127.0.0.1::<port>), so it runs next to anything else. Cleans up after itself.
#
# Usage: bash scripts/docker-smoke.sh      (exit 0 and "docker smoke: ok" when everything holds)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "docker-smoke: $*" >&2; }
die() { say "FAIL: $*"; exit 1; }

bash "$ROOT/scripts/ensure-docker.sh" >/dev/null
bash "$ROOT/scripts/build-local-images.sh" node-runtime dex >&2
command -v curl >/dev/null 2>&1 || die "curl is needed on the host"

dir="$(mktemp -d)"
project="mcplabsmoke$$"
compose() { docker-compose -p "$project" -f "$dir/compose.yml" "$@"; }
cleanup() { compose down -v --remove-orphans >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT

cat > "$dir/dex.yaml" <<'YAML'
issuer: http://127.0.0.1:5556/dex
storage:
  type: memory
web:
  http: 0.0.0.0:5556
enablePasswordDB: true
staticClients:
  - id: smoke
    name: smoke
    public: true
YAML
chmod 644 "$dir/dex.yaml"
cat > "$dir/compose.yml" <<'YAML'
services:
  web:
    image: mcp-lab/node-runtime:22
    command: ["node", "-e", "require('node:http').createServer((q, s) => s.end(JSON.stringify({ uid: process.getuid() }))).listen(8080, '0.0.0.0')"]
    healthcheck:
      test: ["CMD", "node", "-e", "fetch('http://127.0.0.1:8080/').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
      interval: 1s
      timeout: 3s
      retries: 60
    ports: ["127.0.0.1::8080"]
    networks: [lab]
  probe:
    image: mcp-lab/node-runtime:22
    depends_on:
      web:
        condition: service_healthy
    command: ["node", "-e", "fetch('http://web:8080/').then(r => r.json()).then(j => { console.log('PROBE ' + JSON.stringify(j)); process.exit(j.uid === 10001 ? 0 : 1) }, e => { console.error(e); process.exit(1) })"]
    networks: [lab]
  dex:
    image: mcp-lab/dex:v2.45.1
    command: ["dex", "serve", "/etc/dex/config.yaml"]
    volumes: ["./dex.yaml:/etc/dex/config.yaml:ro"]
    ports: ["127.0.0.1::5556"]
    networks: [lab]
networks:
  lab: {}
YAML

compose up -d >/dev/null 2>&1 || { compose logs >&2 || true; die "compose up failed"; }
# probe runs once web is healthy and exits; wait for it (bounded).
for _ in $(seq 1 120); do
  state="$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$(compose ps -q probe)" 2>/dev/null || true)"
  case "$state" in exited*) break ;; esac
  sleep 0.5
done
[ "$state" = "exited 0" ] || { compose logs >&2 || true; die "probe did not reach web:8080 by service name ($state)"; }
compose logs probe 2>/dev/null | grep -q 'PROBE {"uid":10001}' || die "probe output missing"

web_port="$(compose port web 8080 | cut -d: -f2)"
curl -fsS "http://127.0.0.1:$web_port/" | grep -q '"uid":10001' || die "web not reachable on the published 127.0.0.1:$web_port"

dex_port="$(compose port dex 5556 | cut -d: -f2)"
for _ in $(seq 1 60); do
  doc="$(curl -fsS "http://127.0.0.1:$dex_port/dex/.well-known/openid-configuration" 2>/dev/null || true)"
  [ -z "$doc" ] || break
  sleep 0.5
done
echo "$doc" | grep -q '"issuer": *"http://127.0.0.1:5556/dex"' \
  || { compose logs dex >&2 || true; die "Dex discovery not served on 127.0.0.1:$dex_port"; }

echo "docker smoke: ok (service DNS + healthcheck, published ports $web_port/$dex_port, Dex discovery)"
