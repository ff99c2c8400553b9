/** Small units: permission mapping, credential extraction, cookie-session expiry, the notes store. */
import { BearerError } from '@mcp-lab/protocol';
import { describe, expect, it } from 'vitest';
import { createCookieSessionStore } from '../src/auth/cookie-sessions.ts';
import { extractCredentials, forgetBearerToken } from '../src/auth/credentials.ts';
import { permissionsOf } from '../src/auth/permissions.ts';
import { requiredPermissions } from '../src/mcp/tool-permissions.ts';
import { openNotesStore } from '../src/notes/store.ts';
import { cookieSessionContract } from './cookie-session-contract.ts';

describe('permissionsOf', () => {
  const scope = { permissionsFrom: { kind: 'scope' as const }, permissionMap: {} };
  const claim = {
    permissionsFrom: { kind: 'claim' as const, claim: 'email' },
    permissionMap: { 'notes:read': ['*'], 'notes:write': ['alice@example.com', 'admins'] },
  };
  it.each([
    { name: 'scope string', payload: { scope: 'notes:read  notes:write' }, config: scope, expected: ['notes:read', 'notes:write'] },
    { name: 'scp array', payload: { scp: ['notes:read'] }, config: scope, expected: ['notes:read'] },
    { name: 'scp string', payload: { scp: 'notes:write' }, config: scope, expected: ['notes:write'] },
    { name: 'no scope', payload: {}, config: scope, expected: [] },
    { name: 'claim matches the write list', payload: { email: 'alice@example.com' }, config: claim, expected: ['notes:read', 'notes:write'] },
    { name: 'claim array matches a group', payload: { email: ['x@example.com', 'admins'] }, config: claim, expected: ['notes:read', 'notes:write'] },
    { name: 'claim without a match gets only *', payload: { email: 'bob@example.com' }, config: claim, expected: ['notes:read'] },
    { name: 'claim mode ignores scopes', payload: { scope: 'notes:write' }, config: claim, expected: ['notes:read'] },
  ])('$name', ({ payload, config, expected }) => {
    expect(permissionsOf(payload, config)).toEqual(expected);
  });
});

describe('requiredPermissions', () => {
  it('collects every tools/call in a batch, ignoring other methods and unknown tools', () => {
    expect(
      requiredPermissions([
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'notes_list' } },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'notes_add', arguments: { text: 'x' } } },
        { jsonrpc: '2.0', id: 3, method: 'tools/list' },
        { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'nope' } },
      ]),
    ).toEqual(['notes:read', 'notes:write']);
  });
});

describe('extractCredentials', () => {
  const base = { rawHeaders: [] as string[], query: {}, cookies: {} };
  it('prefers the bearer header over the cookie', () => {
    expect(extractCredentials({ ...base, headers: { authorization: 'bearer abc' }, cookies: { mcp_lab_session: 'x' } })).toEqual({ kind: 'bearer', token: 'abc' });
  });
  it('falls back to the cookie', () => {
    expect(extractCredentials({ ...base, headers: {}, cookies: { mcp_lab_session: 'x' } })).toEqual({ kind: 'cookie', sessionId: 'x' });
  });
  it.each(['Bearer', 'Bearer a b', 'Token abc', 'Bearer a,b'])('%j is invalid_request', (value) => {
    const err = (() => {
      try {
        extractCredentials({ ...base, headers: { authorization: value } });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(BearerError);
    expect((err as BearerError).code).toBe('invalid_request');
  });
});

describe('forgetBearerToken', () => {
  it('drops the token from the parsed and the raw headers, keeping the rest', () => {
    const req = {
      headers: { host: 'rs.example', authorization: 'Bearer abc', accept: 'text/event-stream' },
      rawHeaders: ['Host', 'rs.example', 'Authorization', 'Bearer abc', 'Accept', 'text/event-stream'],
    };
    forgetBearerToken(req);
    expect(req.headers).toEqual({ host: 'rs.example', accept: 'text/event-stream' });
    expect(req.rawHeaders).toEqual(['Host', 'rs.example', 'Authorization', '', 'Accept', 'text/event-stream']);
    expect(JSON.stringify(req)).not.toContain('abc');
  });
});

describe('cookie sessions (in memory)', () => {
  cookieSessionContract(async (limits, clock) => ({ store: createCookieSessionStore(() => clock.t, limits), close: async () => {} }));
});

describe('notes store', () => {
  it('scopes every operation by issuer and subject', () => {
    const store = openNotesStore(':memory:');
    const a = { iss: 'https://as1', sub: 'u' };
    const sameSubOtherIssuer = { iss: 'https://as2', sub: 'u' };
    const n = store.add(a, 'hello');
    expect(store.list(sameSubOtherIssuer).notes).toEqual([]);
    expect(store.delete(sameSubOtherIssuer, n.id)).toBe(false);
    expect(store.list(a).notes).toEqual([n]);
    expect(store.delete(a, n.id)).toBe(true);
    store.close();
  });
});
