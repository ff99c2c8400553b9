/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance) runs mcp-lab-client in its
 * conformance mode against the suite's own mock servers: `--suite auth` (2026-07-28 flow with Protected Resource
 * Metadata) and `--suite backcompat` (2025-03-26-era servers without PRM: AS metadata at the server origin, or
 * the default /authorize, /token, /register endpoints), which the client reaches through its deprecated
 * legacy-discovery step — used only when the server publishes no PRM at all. Both must pass fully.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_CLI, LAB_CLIENT_COMMAND, runConformance } from '@mcp-lab/test-kit/conformance';

const SUITE_CLI = CONFORMANCE_CLI.stable;
const CLIENT = LAB_CLIENT_COMMAND;

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'mcp-lab-client-conformance-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

function conformance(...args: string[]): Promise<{ code: number | null; output: string }> {
  return runConformance(SUITE_CLI, ['client', '--command', CLIENT, ...args], cwd);
}

function summary(output: string): string {
  return output.slice(output.indexOf('=== SUITE SUMMARY ===')).trim() || output.slice(-2000);
}

describe('MCP conformance suite (client: auth, backcompat)', () => {
  it('the suite is installed', () => {
    expect(existsSync(SUITE_CLI), `missing ${SUITE_CLI}; run npm install`).toBe(true);
  });

  it('--suite auth: every scenario passes', async () => {
    const r = await conformance('--suite', 'auth');
    expect(r.output, summary(r.output)).toMatch(/Total: \d+ passed, 0 failed/);
    expect(r.code).toBe(0);
  }, 180_000);

  it('--suite backcompat: every 2025-03-26 scenario passes', async () => {
    const r = await conformance('--suite', 'backcompat');
    expect(r.output, summary(r.output)).toMatch(/Total: [1-9]\d* passed, 0 failed/);
    expect(r.code).toBe(0);
  }, 120_000);

  it.each(['auth/resource-mismatch', 'auth/offline-access-scope', 'auth/offline-access-not-supported'])('draft scenario %s passes', async (scenario) => {
    const r = await conformance('--scenario', scenario);
    expect(r.output, r.output.slice(-3000)).toMatch(/Passed: (\d+)\/\1, 0 failed/);
  }, 60_000);
});
