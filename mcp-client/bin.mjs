#!/usr/bin/env node
// The installed entry point of mcp-lab-client. Plain JavaScript so that it starts on any Node: with Node >= 22.18
// it runs the CLI in this process; on an older Node it runs bin.ts with a Node 22 that scripts/node22.mjs
// provides (cached once from the npm registry). In this process it prefers dist/cli.mjs, the bundle build.mjs
// makes at `npm install` (plain JavaScript: no type stripping, one file per command instead of ~300 modules),
// when every file it was built from is unchanged; otherwise bin.ts, from source.
import { readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  await import(freshBundle() ? './dist/cli.mjs' : './bin.ts');
} else {
  const { nodeBinDir } = await import('../scripts/node22.mjs');
  const node = `${nodeBinDir()}/node`;
  const r = spawnSync(node, [fileURLToPath(new URL('./bin.ts', import.meta.url)), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

/** True when dist/inputs.json exists and every input still has the size and mtime it had at the build. */
function freshBundle() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('./dist/inputs.json', import.meta.url), 'utf8'));
  } catch (err) {
    // No build (or a broken one): run from source.
    if (err.code !== 'ENOENT') process.stderr.write(`mcp-lab-client: ignoring dist/ (${err.message}); running from source\n`);
    return false;
  }
  if (!Array.isArray(manifest?.inputs) || manifest.inputs.length === 0) return false;
  return manifest.inputs.every(([file, size, mtimeMs]) => {
    const st = statSync(new URL(file, import.meta.url), { throwIfNoEntry: false });
    return st !== undefined && st.size === size && st.mtimeMs === mtimeMs;
  });
}
