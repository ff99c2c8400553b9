/**
 * `--protocol-era auto` (the default) against the fake lab: the v2 SDK probes with `server/discover`; a 2025-only
 * server refuses the session-less probe (HTTP 400, as the v1 SDK's stateful transport does) and the client falls
 * back to `initialize` and a session; a dual-era server answers the probe and the run stays stateless. Both to a
 * tool result through a step-up. (MCP 2026-07-28 Versioning §Backward Compatibility.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MCP, fakeLab, runFakeFlow, type FakeLab } from './fake-lab.ts';
import type { SeenRequest } from './fake-http.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-lab-client-era-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CALL = { command: 'call' as const, call: { tool: 'notes_add', args: { text: 'x' } } };
/** The steps of a call that needs a step-up, after the first authorization (probe … token). */
const STEP_UP = ['era:ok', 'tools-call:fail', 'step-up:ok', 'authorize:ok', 'callback:ok', 'token:ok', 'era:ok', 'tools-call:ok'];

/** The JSON-RPC POSTs to the MCP endpoint that carried a token (the probe step's anonymous initialize excluded). */
function authorizedMcpPosts(lab: FakeLab): Array<{ req: SeenRequest; method: string; name?: string }> {
  return lab.net.seen
    .filter((r) => r.method === 'POST' && r.url === MCP && r.headers.get('authorization') !== null)
    .map((req) => {
      const msg = JSON.parse(req.body) as { method: string; params?: { name?: string } };
      return { req, method: msg.method, ...(msg.params?.name !== undefined ? { name: msg.params.name } : {}) };
    });
}

describe('era negotiation: auto (default) → legacy against a 2025-only server', () => {
  it('server/discover is refused with HTTP 400, the client falls back to initialize and a session, and steps up to a tool result', async () => {
    const lab = fakeLab({ era: 'legacy' });
    const r = runFakeFlow(lab, dir, lab.userAgent(), CALL);
    const result = await r.promise;
    expect(r.steps().slice(7)).toEqual(STEP_UP);
    expect(result.callResult).toMatchObject({ content: [{ type: 'text', text: 'added' }] });
    const era = r.events.filter((e) => e.step === 'era');
    expect(era.map((e) => e.data.requested)).toEqual(['auto', 'auto']);
    expect(era.map((e) => e.data.era)).toEqual(['legacy', 'legacy']);
    expect(era[0]?.checks.find((c) => c.name === 'era')).toMatchObject({ ok: true, detail: expect.stringMatching(/^legacy: server\/discover not recognised, fell back to initialize/) });

    const posts = authorizedMcpPosts(lab);
    // Each connection: the probe (no session id), then initialize; later requests carry the session.
    expect(posts.slice(0, 2).map((p) => p.method)).toEqual(['server/discover', 'initialize']);
    expect(posts[0]?.req.headers.get('mcp-session-id')).toBeNull();
    const calls = posts.filter((p) => p.method === 'tools/call');
    expect(calls).toHaveLength(2);
    for (const c of calls) expect(c.req.headers.get('mcp-session-id')).toBe('session-1');
    expect(posts.filter((p) => p.method === 'server/discover')).toHaveLength(2);
  });

  it('--protocol-era modern against the same server fails the era step instead of falling back', async () => {
    const lab = fakeLab({ era: 'legacy' });
    const r = runFakeFlow(lab, dir, lab.userAgent(), { ...CALL, protocolEra: 'modern' });
    await expect(r.promise).rejects.toThrow();
    expect(r.steps()).toContain('era:fail');
    expect(authorizedMcpPosts(lab).map((p) => p.method)).not.toContain('initialize');
  });
});

describe('era negotiation: auto (default) → modern against a dual-era server', () => {
  it('server/discover answers 2026-07-28: stateless requests (no initialize, no session) with Mcp-Method / Mcp-Name, through a step-up', async () => {
    const lab = fakeLab({ era: 'both' });
    const r = runFakeFlow(lab, dir, lab.userAgent(), CALL);
    const result = await r.promise;
    expect(r.steps().slice(7)).toEqual(STEP_UP);
    expect(result.callResult).toMatchObject({ content: [{ type: 'text', text: 'added' }] });
    const era = r.events.filter((e) => e.step === 'era');
    expect(era.map((e) => e.data.era)).toEqual(['modern', 'modern']);
    expect(era.map((e) => e.data.protocolVersion)).toEqual(['2026-07-28', '2026-07-28']);
    expect(era[0]?.checks.find((c) => c.name === 'era')).toMatchObject({ ok: true, detail: expect.stringMatching(/^modern: 2026-07-28/) });

    const posts = authorizedMcpPosts(lab);
    expect(posts.map((p) => p.method)).not.toContain('initialize');
    expect(posts.map((p) => p.method)).toEqual(expect.arrayContaining(['server/discover', 'tools/call']));
    for (const p of posts) {
      expect(p.req.headers.get('mcp-session-id')).toBeNull();
      expect(p.req.headers.get('mcp-method')).toBe(p.method);
      expect(p.req.headers.get('mcp-protocol-version')).toBe('2026-07-28');
    }
    const calls = posts.filter((p) => p.method === 'tools/call');
    expect(calls).toHaveLength(2);
    for (const c of calls) expect(c.req.headers.get('mcp-name')).toBe('notes_add');
  });

  it('--protocol-era legacy against the same server still speaks 2025: initialize and a session, no probe', async () => {
    const lab = fakeLab({ era: 'both' });
    const r = runFakeFlow(lab, dir, lab.userAgent(), { protocolEra: 'legacy' });
    await r.promise;
    expect(r.steps().slice(7)).toEqual(['initialize:ok', 'tools-list:ok']);
    const posts = authorizedMcpPosts(lab);
    expect(posts[0]?.method).toBe('initialize');
    expect(posts.map((p) => p.method)).not.toContain('server/discover');
  });
});
