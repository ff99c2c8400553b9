/**
 * The CLI (--json) in each era against the same RS on the embedded IdP: `--protocol-era modern` (2026-07-28, the v2
 * SDK pinned), `auto` (server/discover, stays modern), and the default legacy (initialize + session) — each to a
 * tool result with step-up. The era negotiation is its own step, and the trace shows Mcp-Method / Mcp-Name.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { embeddedCliSuite } from '@mcp-lab/test-kit/cli-suite';
import { toolText, type CliRun } from '@mcp-lab/test-kit/cli';

const suite = embeddedCliSuite('mcp-lab-client-eras-');
const { cli } = suite;
let rsOrigin: string;
beforeAll(() => ({ rsOrigin } = suite));

const LOGIN = ['--login', 'alice:alice-password'];
const DISCOVERY = ['probe', 'resource-metadata', 'as-metadata', 'registration'];
const AUTHORIZATION = ['authorize', 'callback', 'token'];

function mcpPosts(run: CliRun, step: string) {
  return run.events.filter((e) => e.step === step).flatMap((e) => e.http).filter((h) => h.method === 'POST' && h.url === `${rsOrigin}/mcp`);
}

describe.each(['modern', 'auto'] as const)('mcp-lab-client --protocol-era %s', (era) => {
  it('negotiates 2026-07-28 in its own step, then steps up to a tool result without a session', async () => {
    const run = await cli('connect', `${rsOrigin}/mcp`, '--protocol-era', era, '--fresh', ...LOGIN, '--call', 'notes_add', '--args', '{"text":"from the modern CLI"}');
    expect(run.code, run.stderr).toBe(0);
    expect(run.steps).toEqual([
      ...DISCOVERY, ...AUTHORIZATION, 'era', 'tools-list', 'tools-call:fail', 'step-up', ...AUTHORIZATION, 'era', 'tools-call',
    ]);
    const negotiation = run.events.find((e) => e.step === 'era');
    expect(negotiation?.data).toMatchObject({ requested: era, era: 'modern', protocolVersion: '2026-07-28' });
    expect(negotiation?.checks.find((c) => c.name === 'era')).toMatchObject({ ok: true, detail: expect.stringMatching(/^modern: 2026-07-28/) });
    // The probe is server/discover with the 2026-07-28 headers; never initialize, never a session id.
    const discover = mcpPosts(run, 'era')[0];
    expect(discover?.headers).toMatchObject({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' });
    const calls = mcpPosts(run, 'tools-call');
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect(c.headers).toMatchObject({ 'mcp-method': 'tools/call', 'mcp-name': 'notes_add' });
    expect(calls.map((c) => c.status)).toContain(403);
    for (const e of run.events) for (const h of e.http) expect(h.headers['mcp-session-id']).toBeUndefined();
    expect(JSON.parse(toolText(run))).toMatchObject({ text: 'from the modern CLI' });
  });
});

describe('mcp-lab-client in the 2025 era (the default)', () => {
  it('initialize and a session, then the same step-up to a tool result', async () => {
    const run = await cli('connect', `${rsOrigin}/mcp`, '--fresh', ...LOGIN, '--call', 'notes_add', '--args', '{"text":"from the 2025 CLI"}');
    expect(run.code, run.stderr).toBe(0);
    expect(run.steps).toEqual([
      ...DISCOVERY, ...AUTHORIZATION, 'initialize', 'tools-list', 'tools-call:fail', 'step-up', ...AUTHORIZATION, 'initialize', 'tools-call',
    ]);
    expect(run.events.find((e) => e.step === 'initialize')?.http.some((h) => h.headers['mcp-session-id'] !== undefined)).toBe(true);
    expect(JSON.parse(toolText(run))).toMatchObject({ text: 'from the 2025 CLI' });
  });
});
