#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, and says so with `docker info`. Idempotent: does nothing when one
# already answers. Otherwise installs Debian's docker.io and docker-compose (v1.29) when missing and starts
# `dockerd --iptables=false --storage-driver=vfs` in the background, logging to the cache dir, then waits (bounded).
#
# Why these flags: this machine kind has no overlay-capable storage and may not let dockerd program iptables; vfs
# always works (slow, big: every layer is a full copy, so keep images small). Without iptables, published ports are
# still served by docker-proxy (the userland proxy) on the host address, and containers on one user network reach
# each other over the bridge; only outbound NAT is missing, which nothing here needs (no registry is reachable anyway).
#
# Usage: bash scripts/ensure-docker.sh            # prints the server version on stdout when ready
# Env:   MCP_LAB_CACHE (default ~/.cache/mcp-auth-lab), MCP_LAB_DOCKERD_WAIT_S (default 60),
#        MCP_LAB_DOCKERD_ARGS (extra dockerd flags, word-split).
set -euo pipefail
CACHE="${MCP_LAB_CACHE:-$HOME/.cache/mcp-auth-lab}"
WAIT_S="${MCP_LAB_DOCKERD_WAIT_S:-60}"
LOG="$CACHE/dockerd.log"

say() { echo "ensure-docker: $*" >&2; }
die() { say "$*"; exit 1; }

server_version() { docker version --format '{{.Server.Version}}' 2>/dev/null; }
# Live dockerd pids; a killed daemon may linger as a zombie (PID 1 of a sandbox need not reap), which pgrep and
# kill -0 still see.
live_dockerd() { ps -C dockerd -o pid=,stat= 2>/dev/null | awk '$2 !~ /^Z/ { print $1 }'; }

if command -v docker >/dev/null 2>&1 && v=$(server_version) && [ -n "$v" ]; then
  command -v docker-compose >/dev/null 2>&1 || say "warning: docker-compose is missing (apt-get install docker-compose)"
  echo "$v"; exit 0
fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ "${#need[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${need[*]} (or install them yourself)"
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${need[*]} with your package manager"
  say "installing ${need[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 || die "apt-get install ${need[*]} failed"
fi
command -v docker >/dev/null 2>&1 || die "no docker client on PATH after installing docker.io"

mkdir -p "$CACHE"
if [ -n "$(live_dockerd)" ]; then
  say "a dockerd is already running (pid $(live_dockerd | tr '\n' ' ')); waiting for it to answer"
else
  [ "$(id -u)" = 0 ] || die "dockerd is not running and starting it needs root"
  # A stale pid file from a killed daemon makes dockerd refuse to start.
  pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ]; then rm -f "$pidfile"; fi
  say "starting dockerd (vfs, no iptables); log: $LOG"
  # setsid + nohup: the daemon outlives this shell and its job control.
  # shellcheck disable=SC2086
  setsid nohup dockerd --iptables=false --storage-driver=vfs ${MCP_LAB_DOCKERD_ARGS:-} >>"$LOG" 2>&1 </dev/null &
fi

deadline=$(( $(date +%s) + WAIT_S ))
until v=$(server_version) && [ -n "$v" ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    say "dockerd did not answer within ${WAIT_S}s; last lines of $LOG:"
    tail -n 20 "$LOG" >&2 2>/dev/null || true
    exit 1
  fi
  if [ -z "$(live_dockerd)" ]; then
    say "dockerd exited; last lines of $LOG:"
    tail -n 20 "$LOG" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.5
done
echo "$v"
