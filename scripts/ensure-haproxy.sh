#!/usr/bin/env bash
# Provides Debian's HAProxy (the scale profile's proxy, docker/scale/haproxy.cfg) for the host-side suites and the
# bench, and prints its path: installed with apt-get (as root) when missing.
set -euo pipefail
if ! command -v haproxy >/dev/null 2>&1; then
  echo "ensure-haproxy: installing Debian's haproxy" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q haproxy >&2 || { apt-get update -q >&2 && apt-get install -y -q haproxy >&2; }
fi
command -v haproxy
