#!/usr/bin/env bash
# Provides a Redis for the scale-out suites and prints its URL (redis://127.0.0.1:PORT). MCP_LAB_REDIS_URL wins when
# set. Otherwise Debian's redis-server is installed if missing (apt-get, as root) and one is started on loopback at
# MCP_LAB_REDIS_PORT (default 6391, not Redis's usual 6379), without persistence, daemonized, its pid and log in the
# cache; a Redis already answering there is reused. Stop it with: kill "$(cat "$CACHE/redis-$PORT.pid")".
set -euo pipefail
if [ -n "${MCP_LAB_REDIS_URL:-}" ]; then echo "$MCP_LAB_REDIS_URL"; exit 0; fi
CACHE="${MCP_LAB_CACHE:-$HOME/.cache/mcp-auth-lab}"
PORT="${MCP_LAB_REDIS_PORT:-6391}"
mkdir -p "$CACHE/redis"
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "ensure-redis: installing Debian's redis-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q redis-server >&2 || { apt-get update -q >&2 && apt-get install -y -q redis-server >&2; }
fi
ping() { [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ]; }
if ! ping; then
  redis-server --bind 127.0.0.1 --port "$PORT" --protected-mode yes --save '' --appendonly no \
    --daemonize yes --dir "$CACHE/redis" --pidfile "$CACHE/redis-$PORT.pid" --logfile "$CACHE/redis/redis-$PORT.log" >&2
  for _ in $(seq 1 50); do ping && break; sleep 0.1; done
  ping || { echo "ensure-redis: redis-server did not answer on 127.0.0.1:$PORT (log: $CACHE/redis/redis-$PORT.log)" >&2; exit 1; }
fi
echo "redis://127.0.0.1:$PORT"
