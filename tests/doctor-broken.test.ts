/**
 * `mcp-lab-client doctor` (a subprocess, `--json`, real HTTP on loopback) against deliberately broken servers: one
 * test double per failure (mcp-client/test/doctor-lab.ts served over HTTP), each making exactly its check fail,
 * with a real login (the double's authorization endpoint redirects straight back) and a second audience.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '@mcp-lab/test-kit/cli';
import { serve, type Served } from '@mcp-lab/test-kit/serve';
import type { FetchLike } from '../mcp-client/src/http.ts';
import { BROKEN_SERVERS, doctorLab, FOREIGN, type Defect } from '../mcp-client/test/doctor-lab.ts';

const servers: Served[] = [];

/** A loopback server whose handler is set once the double (which must know its origin) exists. */
async function loopback(): Promise<{ served: Served; handle(fetch: FetchLike): void }> {
  let fetch: FetchLike | undefined;
  const served = await serve((request) => (fetch ? fetch(request) : new Response('not ready', { status: 503 })));
  servers.push(served);
  return { served, handle: (f) => void (fetch = f) };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The double with these defects on two loopback origins (RS, AS), and the doctor run against it. */
async function doctorAgainst(defects: readonly Defect[]) {
  const [rs, as] = [await loopback(), await loopback()];
  const lab = await doctorLab({ defects, origins: { rs: rs.served.origin, issuer: as.served.origin } });
  rs.handle(lab.net.fetch);
  as.handle(lab.net.fetch);
  const expired = await lab.mint(lab.mcpUrl, -600);
  const run = await runCli(['doctor', lab.mcpUrl, '--login', 'alice:any', '--foreign-resource', FOREIGN, '--expired-token', expired]);
  const checks = run.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { id: string; verdict: string; summary: string });
  return { ...run, checks, failed: checks.filter((c) => c.verdict === 'fail').map((c) => c.id) };
}

describe('doctor over real HTTP', () => {
  it('a healthy double: nothing fails, exit code 0', { timeout: 60_000 }, async () => {
    const run = await doctorAgainst([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.failed).toEqual([]);
    expect(run.checks.find((c) => c.id === 'token-expired')?.verdict).toBe('pass');
    expect(run.checks.find((c) => c.id === 'token-foreign-audience')?.verdict).toBe('pass');
  });
});

/** The CLI with `input` on its stdin (the kit's runner gives it none). */
function cliWithStdin(args: readonly string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = fileURLToPath(new URL('../mcp-client/bin.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1', MCP_CONFORMANCE_SCENARIO: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('doctor --token - (the token on stdin, not on the command line)', () => {
  it('uses the piped token for the token checks', { timeout: 60_000 }, async () => {
    const [rs, as] = [await loopback(), await loopback()];
    const lab = await doctorLab({ defects: ['accepts-alg-none'], origins: { rs: rs.served.origin, issuer: as.served.origin } });
    rs.handle(lab.net.fetch);
    as.handle(lab.net.fetch);
    const run = await cliWithStdin(['doctor', lab.mcpUrl, '--token', '-', '--json'], `${await lab.mint(lab.mcpUrl)}\n`);
    const verdicts = Object.fromEntries(run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { id: string; verdict: string }).map((c) => [c.id, c.verdict]));
    expect(verdicts['token-accepted'], run.stderr).toBe('pass');
    expect(verdicts['token-alg-none']).toBe('fail');
    expect(run.code).toBe(1);
  });

  it('an empty stdin is a usage error (exit code 2)', { timeout: 30_000 }, async () => {
    const run = await cliWithStdin(['doctor', 'http://127.0.0.1:9/mcp', '--token', '-'], '');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--token -: stdin held no token');
  });
});

describe('doctor against deliberately broken servers (real HTTP, the CLI as a subprocess)', () => {
  it.each(BROKEN_SERVERS)('$defect: exactly $fails fails, exit code 1, the error links its catalog entry', { timeout: 60_000 }, async ({ defect, fails }) => {
    const run = await doctorAgainst([defect]);
    expect(run.failed, run.stderr).toEqual([fails]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${fails} (docs/errors.md#${fails})`);
  });

  it('no iss at all: a warning only (MCP recommends RFC 9207), exit code 0', { timeout: 60_000 }, async () => {
    const run = await doctorAgainst(['no-iss']);
    expect(run.failed).toEqual([]);
    expect(run.checks.filter((c) => c.verdict === 'warn').map((c) => c.id)).toEqual(['as-iss-parameter']);
    expect(run.code).toBe(0);
  });
});
