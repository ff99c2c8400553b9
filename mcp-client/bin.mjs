#!/usr/bin/env node
// The installed entry point of mcp-lab-client. Plain JavaScript so that it starts on any Node: with Node >= 22.18
// it runs bin.ts in this process (Node strips the types); on an older Node it runs bin.ts with a Node 22 that
// scripts/node22.mjs provides (cached once from the npm registry).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeBinDir } from '../scripts/node22.mjs';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  await import('./bin.ts');
} else {
  const node = `${nodeBinDir()}/node`;
  const r = spawnSync(node, [fileURLToPath(new URL('./bin.ts', import.meta.url)), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
