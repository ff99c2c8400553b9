/**
 * The official MCP conformance suite as a subprocess: where its two lines' CLIs are (the stable 0.1 line and the
 * 0.2 alpha, installed as the `conformance-next` alias), the lab CLI as the client command it drives, and one
 * runner that waits for the suite to end and keeps everything it printed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The suites' entry points: `stable` = @modelcontextprotocol/conformance 0.1.x, `next` = the 0.2 alpha. */
export const CONFORMANCE_CLI = Object.freeze({
  stable: join(ROOT, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js'),
  next: join(ROOT, 'node_modules', 'conformance-next', 'dist', 'index.js'),
});

/** `--command` for the suite's `client` mode: the lab CLI from source, on this Node. */
export const LAB_CLIENT_COMMAND = `${process.execPath} ${join(ROOT, 'mcp-client', 'bin.ts')}`;

/** Runs `node <cli> ...args` in `cwd` until it exits; stdout and stderr together, in order of arrival. */
export function runConformance(cli: string, args: readonly string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}
