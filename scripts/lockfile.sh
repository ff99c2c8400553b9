#!/usr/bin/env bash
# Writes package-lock.json from scratch: `npm install --package-lock-only` on a copy of the package manifests alone
# (the root package.json and each workspace's), in a temporary directory, then copies the lockfile back.
#
#   bash scripts/lockfile.sh
#
# Why not in place: with a node_modules/ present npm takes what it lists from there, and a tree installed from an
# older lockfile can leave other platforms' optional packages (rollup/rolldown, esbuild, lightningcss native builds)
# or `integrity` out, after which `npm ci` on another machine fails as "out of sync". From the manifests alone npm
# resolves every platform's optional packages. Run it after changing any package.json's dependencies, commit both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-lab-lockfile-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$root"
cp package.json "$work/"
[ -f .npmrc ] && cp .npmrc "$work/"
for ws in $(node -p "(require('./package.json').workspaces || []).join(' ')"); do
  mkdir -p "$work/$ws"
  cp "$ws/package.json" "$work/$ws/package.json"
done
(cd "$work" && npm install --package-lock-only --no-audit --no-fund)
cp "$work/package-lock.json" "$root/package-lock.json"
node -e "
const p = require('./package-lock.json').packages;
const regs = Object.entries(p).filter(([k, v]) => k.startsWith('node_modules/') && !v.link);
const bare = regs.filter(([, v]) => !v.integrity).map(([k]) => k);
if (bare.length) { console.error('lockfile: entries without integrity: ' + bare.join(', ')); process.exit(1); }
console.error('lockfile: ' + regs.length + ' packages, every one with its integrity');
"
