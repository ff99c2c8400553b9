import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlowOptions } from '../src/flow.ts';
import type { UserAgent } from '../src/steps/authorize.ts';
import { TokenStore, type StoredTokens } from '../src/store.ts';
import { json } from './fake-http.ts';
import { ISSUER, MCP, RS, asMetadataDocument, fakeLab, runFakeFlow, type FakeLab } from './fake-lab.ts';

/**
 * The warm path: a stored, unexpired token for exactly this resource goes straight to initialize; a refusal
 * leads to full discovery; a token issued for another resource is never sent.
 */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-lab-client-warm-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(lab: FakeLab, userAgent: UserAgent, extra: Partial<FlowOptions> = {}) {
  return runFakeFlow(lab, dir, userAgent, extra);
}

/** Bearer tokens sent with requests made from index `from` on. */
function bearersSent(lab: FakeLab, from = 0): string[] {
  return lab.net.seen
    .slice(from)
    .map((r) => r.headers.get('authorization'))
    .filter((h): h is string => h !== null && h.startsWith('Bearer '))
    .map((h) => h.slice('Bearer '.length));
}

const stored = (over: Partial<StoredTokens>): StoredTokens => ({
  issuer: ISSUER,
  client_id: 'dcr-client',
  resource: MCP,
  access_token: 'stored-access-token',
  token_type: 'Bearer',
  expires_at: Date.now() + 3_600_000,
  requested_scope: ['notes:read'],
  ...over,
});

describe('warm path', () => {
  it('skips probe and discovery: the stored token goes straight to initialize', async () => {
    const lab = fakeLab();
    await run(lab, lab.userAgent()).promise;
    const from = lab.net.seen.length;
    const warm = run(lab, lab.userAgent());
    const result = await warm.promise;
    expect(warm.steps()).toEqual(['stored-token:ok', 'initialize:ok', 'tools-list:ok']);
    expect(result.tools?.map((t) => t.name)).toEqual(['notes_add']);
    // Only MCP requests: no PRM, no AS metadata, no registration, no token request.
    expect(new Set(lab.net.calls().slice(from))).toEqual(new Set([`POST ${MCP}`, `DELETE ${MCP}`]));
    const step = warm.events[0]!;
    expect(step.data).toMatchObject({ source: 'store', issuer: ISSUER, client_id: 'dcr-client', resource: MCP, discovery: 'skipped' });
    expect(step.checks.map((c) => c.name)).toContain('discovery skipped');
    expect(JSON.stringify(warm.events)).not.toContain([...lab.tokens.keys()][0]);
  });
});

describe('warm path: what a repeat run says, and --fresh', () => {
  it('says that it used the stored token, and how to watch discovery again (--fresh)', async () => {
    const lab = fakeLab();
    const first = run(lab, lab.userAgent());
    await first.promise;
    expect(first.infos.join('\n')).not.toMatch(/stored token/);
    const warm = run(lab, lab.userAgent(), { command: 'connect' });
    await warm.promise;
    expect(warm.infos).toEqual([
      `used the stored token for ${MCP} (probe, discovery and authorization skipped); to watch it again: mcp-lab-client connect ${MCP} --fresh`,
    ]);
    expect(warm.event('stored-token')?.checks.find((c) => c.name === 'discovery skipped')?.detail).toMatch(/--fresh ignores the stored token/);
  });

  it('--fresh ignores the stored token: probe, discovery and a new authorization (no refresh)', async () => {
    const lab = fakeLab();
    await run(lab, lab.userAgent()).promise;
    const stored = await new TokenStore(dir).getTokensForResource(MCP);
    const from = lab.net.seen.length;
    const fresh = run(lab, lab.userAgent(), { fresh: true });
    await fresh.promise;
    expect(fresh.steps()).toEqual([
      'probe:ok', 'resource-metadata:ok', 'as-metadata:ok', 'registration:ok', 'authorize:ok', 'callback:ok', 'token:ok', 'initialize:ok', 'tools-list:ok',
    ]);
    expect(fresh.event('registration')?.data.method).toBe('stored-dcr');
    expect(lab.authorizations).toHaveLength(2);
    expect(fresh.infos.join('\n')).not.toMatch(/stored token/);
    // Neither the stored access token nor its refresh token was sent.
    expect(bearersSent(lab, from)).not.toContain(stored[0]!.access_token);
    expect(lab.net.seen.slice(from).some((r) => r.body.includes(stored[0]!.refresh_token!))).toBe(false);
    // The new token replaces the stored one: the next run is warm again, with it.
    const after = await new TokenStore(dir).getTokensForResource(MCP);
    expect(after).toHaveLength(1);
    expect(after[0]!.access_token).not.toBe(stored[0]!.access_token);
  });

  it('after discovery, a stored token for (issuer, client, resource) is announced too', async () => {
    const lab = fakeLab();
    await run(lab, lab.userAgent()).promise;
    // A second stored token for the resource (another AS) makes the warm path step aside: discovery decides.
    await new TokenStore(dir).putTokens(stored({ issuer: 'https://other-as.example.com', client_id: 'x', access_token: 'token-from-other-as' }));
    const r = run(lab, lab.userAgent());
    await r.promise;
    expect(r.steps().slice(3, 5)).toEqual(['registration:ok', 'stored-token:ok']);
    expect(r.infos).toEqual([`used the stored token for ${MCP} (authorization skipped); to watch it again: mcp-lab-client tools ${MCP} --fresh`]);
  });
});

describe('warm path: refusals lead to discovery', () => {
  it('does not open the optional GET stream on Streamable HTTP', async () => {
    const lab = fakeLab();
    await run(lab, lab.userAgent()).promise;
    expect(lab.net.seen.filter((r) => r.method === 'GET' && r.url === MCP)).toEqual([]);
  });

  it('falls back to full discovery when the server answers 401 to the stored token', async () => {
    const lab = fakeLab();
    await run(lab, lab.userAgent()).promise;
    lab.tokens.clear(); // the RS no longer accepts the stored access token
    const from = lab.net.seen.length;
    const warm = run(lab, lab.userAgent());
    await warm.promise;
    expect(warm.steps()).toEqual([
      'stored-token:ok', 'initialize:fail', 'resource-metadata:ok', 'as-metadata:ok', 'registration:ok', 'refresh:ok', 'initialize:ok', 'tools-list:ok',
    ]);
    expect(warm.events[1]!.data.next).toBe('discovery');
    // Discovery started from the challenge's resource_metadata.
    expect(lab.net.calls().slice(from)).toContain(`GET ${RS}/.well-known/oauth-protected-resource/mcp`);
    expect(lab.authorizations).toHaveLength(1);
  });

  it('steps up after discovery when the server answers 403 insufficient_scope to the stored token', async () => {
    const lab = fakeLab();
    await run(lab, lab.userAgent()).promise;
    const warm = run(lab, lab.userAgent(), { command: 'call', call: { tool: 'notes_add', args: {} } });
    await warm.promise;
    expect(warm.steps()).toEqual([
      'stored-token:ok', 'initialize:ok', 'tools-call:fail', 'resource-metadata:ok', 'as-metadata:ok', 'registration:ok',
      'step-up:ok', 'authorize:ok', 'callback:ok', 'token:ok', 'initialize:ok', 'tools-call:ok',
    ]);
    expect(lab.authorizations.at(-1)).toEqual(['notes:read', 'notes:write', 'offline_access']);
  });

  it('a challenge naming another authorization server leads to full discovery, not to the stored grant', async () => {
    const lab = fakeLab();
    await run(lab, lab.userAgent()).promise;
    const first = await new TokenStore(dir).getTokensForResource(MCP);
    expect(first).toHaveLength(1);
    const other = 'https://other-as.example.com';
    lab.tokens.clear();
    lab.net.on('GET', `${RS}/.well-known/oauth-protected-resource/mcp`, json({ resource: MCP, authorization_servers: [other] }));
    lab.net.on('GET', `${other}/.well-known/oauth-authorization-server`, json(asMetadataDocument(other)));
    lab.net.on('POST', `${other}/register`, (req) => json({ ...(JSON.parse(req.body) as object), client_id: 'other-client' }, 201));
    let asked: URL | undefined;
    const deny: UserAgent = async (_ctx, url, listener) => {
      asked = url;
      const p = new URLSearchParams({ error: 'access_denied', state: url.searchParams.get('state') ?? '', iss: other });
      return new URL(`${listener.redirectUri}?${p}`);
    };
    const from = lab.net.seen.length;
    const warm = run(lab, deny);
    await expect(warm.promise).rejects.toThrow(/access_denied/);
    expect(warm.steps().slice(0, 6)).toEqual(['stored-token:ok', 'initialize:fail', 'resource-metadata:ok', 'as-metadata:ok', 'registration:ok', 'authorize:ok']);
    expect(asked?.origin).toBe(other);
    // The first AS's grant was not used: no refresh at it, and neither of its tokens went to the other AS.
    const later = lab.net.seen.slice(from);
    expect(later.filter((r) => r.url.startsWith(ISSUER))).toEqual([]);
    expect(later.filter((r) => r.url.startsWith(other)).some((r) => r.body.includes(first[0]!.refresh_token!))).toBe(false);
    expect(bearersSent(lab, from)).toEqual([first[0]!.access_token]);
  });
});

describe('warm path: only a token for exactly this resource', () => {
  it.each([
    ['another path on the same server', `${RS}/sse`],
    ['another origin', 'https://elsewhere.example.com/mcp'],
    ['the server URL with a different port', 'https://rs.example.com:8443/mcp'],
  ])('never sends a token issued for %s', async (_name, resource) => {
    const lab = fakeLab();
    const store = new TokenStore(dir);
    await store.putTokens(stored({ resource, access_token: 'token-for-another-resource' }));
    const r = run(lab, lab.userAgent());
    await r.promise;
    expect(r.steps()[0]).toBe('probe:ok');
    expect(bearersSent(lab)).not.toContain('token-for-another-resource');
    expect(JSON.stringify(lab.net.seen.map((s) => s.body))).not.toContain('token-for-another-resource');
  });

  it('does not take the warm path with an expired token, nor with a token of another --client-id', async () => {
    const lab = fakeLab();
    const store = new TokenStore(dir);
    await store.putTokens(stored({ access_token: 'expired-token', expires_at: Date.now() - 1000 }));
    const expired = run(lab, lab.userAgent());
    await expired.promise;
    expect(expired.steps()[0]).toBe('probe:ok');
    expect(bearersSent(lab)).not.toContain('expired-token');

    await rm(dir, { recursive: true, force: true });
    const lab2 = fakeLab();
    await new TokenStore(dir).putTokens(stored({ client_id: 'someone-else', access_token: 'other-client-token' }));
    const pinned = run(lab2, lab2.userAgent(), { clientId: 'mcp-lab-cli' });
    await pinned.promise;
    expect(pinned.steps()[0]).toBe('probe:ok');
    expect(bearersSent(lab2)).not.toContain('other-client-token');
  });

  it('with tokens from two authorization servers for the resource, discovery decides', async () => {
    const lab = fakeLab();
    await run(lab, lab.userAgent()).promise;
    const store = new TokenStore(dir);
    await store.putTokens(stored({ issuer: 'https://other-as.example.com', client_id: 'x', access_token: 'token-from-other-as' }));
    const from = lab.net.seen.length;
    const r = run(lab, lab.userAgent());
    await r.promise;
    expect(r.steps()).toEqual(['probe:ok', 'resource-metadata:ok', 'as-metadata:ok', 'registration:ok', 'stored-token:ok', 'initialize:ok', 'tools-list:ok']);
    expect(bearersSent(lab, from)).not.toContain('token-from-other-as');
  });
});
