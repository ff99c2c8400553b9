#!/usr/bin/env bash
# Provides a Dex v2.45.1 binary and prints its path. DEX_BIN wins when set. Otherwise the binary is built once
# from the Go module proxy into a cache outside the clone (a throwaway wrapper module, CGO_ENABLED=0) and reused.
set -euo pipefail
DEX_VERSION=v2.45.1
DEX_COMMIT=11d2eeb52b42e1980e14cb91e69dd9e3faab2076
# The proxy serves the release commit only under its pseudo-version (commit time, UTC, and the short hash).
DEX_PSEUDO=v0.0.0-20260303133905-11d2eeb52b42
DEX_API_VERSION=v2.4.0
if [ -n "${DEX_BIN:-}" ]; then
  [ -x "$DEX_BIN" ] || { echo "ensure-dex: DEX_BIN=$DEX_BIN is not an executable file" >&2; exit 1; }
  echo "$DEX_BIN"; exit 0
fi
CACHE="${MCP_LAB_CACHE:-$HOME/.cache/mcp-auth-lab}"
out="$CACHE/dex-$DEX_VERSION/dex"
if [ -x "$out" ] && "$out" version >/dev/null 2>&1; then echo "$out"; exit 0; fi
command -v go >/dev/null 2>&1 || {
  echo "ensure-dex: Go is not installed; install Go >= 1.24 or set DEX_BIN to a Dex $DEX_VERSION binary" >&2; exit 1; }
work="$CACHE/dex-build"
rm -rf "$work" && mkdir -p "$work" "$(dirname "$out")"
cd "$work"
cat > go.mod <<MOD
module mcplab/dexbuild

go 1.25.0
MOD
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/dexidp/dex/cmd/dex"
GO
echo "ensure-dex: building Dex $DEX_VERSION from the Go module proxy (once per machine)" >&2
export GOFLAGS=-mod=mod CGO_ENABLED=0
go get "github.com/dexidp/dex@$DEX_PSEUDO" "github.com/dexidp/dex/api/v2@$DEX_API_VERSION" >&2
go build -trimpath -o "$out.tmp" github.com/dexidp/dex/cmd/dex >&2
mv "$out.tmp" "$out"
"$out" version >&2
echo "$out"
