#!/usr/bin/env node
// `npm run build -w @mcp-lab/web`: writes the page's bundle to web/dist/ (the server builds the same in memory at start).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from './src/bundle.ts';

const out = join(dirname(fileURLToPath(import.meta.url)), 'dist');
let bytes = 0;
for (const [path, file] of await buildBundle()) {
  const target = join(out, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.body);
  bytes += file.body.byteLength;
}
process.stdout.write(`web: bundle written to ${out} (${Math.round(bytes / 1024)} KiB)\n`);
