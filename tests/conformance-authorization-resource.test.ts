/**
 * The conformance suite's 0.2.0 alpha line (`conformance-next`) checks that a client sends the resource identifier
 * exactly as the Protected Resource Metadata publishes it (`resource-parameter-matches-prm`), in the authorization and
 * the token request. Run for mcp-lab-client in its conformance mode on every metadata location the suite varies —
 * including metadata-var2, where only the root document exists and its `resource` is the server's origin (RFC 9728
 * §3.3: the identifier the root well-known URI was built from), which the client must send as is.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_CLIENT_COMMAND, runConformance } from '@mcp-lab/test-kit/conformance';
import { SUITE_NEXT_CLI } from './conformance-authorization.ts';

const CLIENT = LAB_CLIENT_COMMAND;

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'mcp-lab-conformance-next-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

interface Check {
  readonly id: string;
  readonly status: string;
  readonly details?: Record<string, unknown>;
}

async function scenario(name: string): Promise<{ output: string; checks: Check[] }> {
  const out = join(cwd, name.replace('/', '-'));
  const { output } = await runConformance(SUITE_NEXT_CLI, ['client', '--command', CLIENT, '--scenario', name, '--timeout', '60000', '-o', out], cwd);
  const checks: Check[] = [];
  for (const dir of await readdir(out, { recursive: true })) {
    if (!dir.endsWith('checks.json')) continue;
    checks.push(...(JSON.parse(await readFile(join(out, dir), 'utf8')) as Check[]));
  }
  return { output, checks };
}

describe('conformance 0.2.0-alpha: resource-parameter-matches-prm for mcp-lab-client', () => {
  it.each([
    ['auth/metadata-default', '/mcp'],
    ['auth/metadata-var1', '/mcp'],
    ['auth/metadata-var2', ''],
    ['auth/metadata-var3', '/mcp'],
  ])('%s: every check passes, and the resource sent is the PRM resource exactly', async (name, path) => {
    const { output, checks } = await scenario(name);
    expect(checks.length, output.slice(-3000)).toBeGreaterThan(0);
    expect(checks.filter((c) => c.status === 'FAILURE'), output.slice(-3000)).toEqual([]);
    const match = checks.find((c) => c.id === 'resource-parameter-matches-prm');
    expect(match?.status, output.slice(-3000)).toBe('SUCCESS');
    const prm = String(match?.details?.prmResource);
    // metadata-var2 publishes the origin (no path, no trailing slash); the others the /mcp endpoint.
    expect(new URL(prm).pathname).toBe(path === '' ? '/' : path);
    expect(prm.endsWith('/')).toBe(false);
    expect(match?.details).toMatchObject({ authorizationResource: prm, tokenResource: prm });
  }, 120_000);
});
