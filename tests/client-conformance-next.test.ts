/**
 * The conformance alpha (`conformance-next`, @modelcontextprotocol/conformance 0.2.0-alpha) runs mcp-lab-client in
 * its conformance mode against the suite's mock servers at both `--requirements` levels: every scenario the
 * revision scores must pass — discovery and authorization, the 2026-07-28 wire (server/discover, per-request
 * `_meta`, Mcp-Method / Mcp-Name / Mcp-Param headers, MRTR), and a tools/call of the tool each scenario names.
 * Scenarios the suite runs but does not score at a level (extensions, added after the release) are listed by the
 * suite and left out here. The scored scenarios are named, so a regression shows which one.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_CLI, LAB_CLIENT_COMMAND, runConformance } from '@mcp-lab/test-kit/conformance';

const SUITE_CLI = CONFORMANCE_CLI.next;
const CLIENT = LAB_CLIENT_COMMAND;

/** The authorization scenarios both levels score. */
const AUTH_2025 = [
  'auth/metadata-default', 'auth/metadata-var1', 'auth/metadata-var2', 'auth/metadata-var3', 'auth/basic-cimd',
  'auth/scope-from-www-authenticate', 'auth/scope-from-scopes-supported', 'auth/scope-omitted-when-undefined',
  'auth/scope-step-up', 'auth/scope-retry-limit', 'auth/token-endpoint-auth-basic', 'auth/token-endpoint-auth-post',
  'auth/token-endpoint-auth-none', 'auth/pre-registration',
];

/** The scenarios each level scores (0.2.0-alpha.12): all must pass, and any other scored scenario too. */
const SCORED: Record<string, readonly string[]> = {
  '2026-07-28': [
    ...AUTH_2025, 'auth/resource-mismatch', 'auth/offline-access-scope', 'auth/offline-access-not-supported',
    'auth/authorization-server-migration', 'auth/iss-supported', 'auth/iss-not-advertised', 'auth/iss-supported-missing',
    'auth/iss-wrong-issuer', 'auth/iss-unexpected', 'auth/iss-normalized', 'auth/metadata-issuer-mismatch',
    'tools_call', 'request-metadata', 'sep-2322-client-request-state', 'http-standard-headers', 'http-custom-headers',
    'http-invalid-tool-headers', 'json-schema-ref-no-deref',
  ],
  '2025-11-25': [...AUTH_2025, 'initialize', 'tools_call', 'elicitation-sep1034-client-defaults', 'sse-retry'],
};

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'mcp-lab-client-conformance-next-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

function conformance(...args: string[]): Promise<{ code: number | null; output: string }> {
  return runConformance(SUITE_CLI, ['client', '--command', CLIENT, ...args], cwd);
}

/** The suite summary: each scenario's outcome, and the ones the level does not score. */
function outcomes(output: string): { passed: string[]; failed: string[]; unscored: string[] } {
  const summary = output.slice(output.indexOf('=== SUITE SUMMARY ==='));
  const notScored = summary.indexOf('Not scored for');
  const scoredPart = notScored === -1 ? summary : summary.slice(0, notScored);
  const unscored = notScored === -1 ? [] : [...summary.slice(notScored).matchAll(/^\s+[✓✗] (\S+) \(/gm)].map((m) => m[1] as string);
  const line = (mark: string) => [...scoredPart.matchAll(new RegExp(`^${mark} (\\S+): `, 'gm'))].map((m) => m[1] as string);
  return { passed: line('✓').filter((s) => !unscored.includes(s)), failed: line('✗').filter((s) => !unscored.includes(s)), unscored };
}

describe('MCP conformance alpha (client) against mcp-lab-client', () => {
  it('the suite is installed', () => {
    expect(existsSync(SUITE_CLI), `missing ${SUITE_CLI}; run npm install`).toBe(true);
  });

  it.each(Object.keys(SCORED))('--requirements %s: every scored scenario passes', async (level) => {
    // A generous per-client timeout: the suite runs its scenarios in parallel on a shared 2-core machine.
    const r = await conformance('--requirements', level, '--timeout', '90000');
    expect(r.output, r.output.slice(-4000)).toContain('=== SUITE SUMMARY ===');
    const { passed, failed } = outcomes(r.output);
    expect(failed, `failed scored scenarios: ${failed.join(', ')}\n${r.output.slice(-6000)}`).toEqual([]);
    expect(passed).toEqual(expect.arrayContaining([...(SCORED[level] ?? [])]));
  }, 300_000);
});
