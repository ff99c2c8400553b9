#!/usr/bin/env node
// Plain JavaScript on purpose: this runs on whatever Node the user has (18, 20, …) and provides a Node >= 22.18,
// which the lab needs (it runs TypeScript natively). A new enough current Node is used as is; otherwise the
// official binary package `node-<platform>-<arch>` is fetched once from the npm registry into a cache outside the
// clone (MCP_LAB_CACHE, default ~/.cache/mcp-auth-lab) and reused.
//
//   node scripts/node22.mjs --bin-dir          print the directory holding a Node >= 22.18 binary
//   node scripts/node22.mjs <command> [args…]  run a command with that directory first on PATH
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

const VERSION = process.env.MCP_LAB_NODE_VERSION || '22.23.3';
const MIN = [22, 18];

function recentEnough(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > MIN[0] || (major === MIN[0] && minor >= MIN[1]);
}

/** The directory of a Node >= 22.18 binary, fetching one when needed. */
export function nodeBinDir() {
  if (recentEnough(process.versions.node)) return dirname(process.execPath);
  const cache = process.env.MCP_LAB_CACHE || join(homedir(), '.cache', 'mcp-auth-lab');
  const win = process.platform === 'win32';
  const dir = join(cache, `node-${VERSION}`, 'bin');
  const binary = join(dir, win ? 'node.exe' : 'node');
  if (existsSync(binary)) return dir;
  const pkg = `node-${win ? 'win' : process.platform}-${process.arch}@${VERSION}`;
  process.stderr.write(`node22: Node ${process.versions.node} is too old for the lab; fetching ${pkg} from the npm registry (once)\n`);
  const tmp = mkdtempSync(join(tmpdir(), 'mcp-lab-node-'));
  try {
    execFileSync(win ? 'npm.cmd' : 'npm', ['pack', '--silent', pkg], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'], shell: win });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${pkg} produced no archive`);
    execFileSync('tar', ['-xzf', tgz], { cwd: tmp, stdio: 'inherit' });
    const from = join(tmp, 'package', 'bin', win ? 'node.exe' : 'node');
    if (!existsSync(from)) throw new Error(`${pkg} has no bin/node`);
    mkdirSync(dir, { recursive: true });
    copyFileSync(from, `${binary}.tmp`);
    chmodSync(`${binary}.tmp`, 0o755);
    copyFileSync(`${binary}.tmp`, binary);
    chmodSync(binary, 0o755);
    rmSync(`${binary}.tmp`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('node22.mjs')) {
  const args = process.argv.slice(2);
  let dir;
  try {
    dir = nodeBinDir();
  } catch (err) {
    process.stderr.write(`node22: could not provide Node >= ${MIN.join('.')}: ${err.message}\n`);
    process.exit(1);
  }
  if (args[0] === '--bin-dir') {
    process.stdout.write(`${dir}\n`);
    process.exit(0);
  }
  if (args.length === 0) {
    process.stderr.write('usage: node scripts/node22.mjs --bin-dir | <command> [args…]\n');
    process.exit(2);
  }
  const env = { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` };
  const r = spawnSync(args[0], args.slice(1), { stdio: 'inherit', env, shell: process.platform === 'win32' });
  if (r.error) {
    process.stderr.write(`node22: ${args[0]}: ${r.error.message}\n`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
}
