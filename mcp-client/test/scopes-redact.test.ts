import { describe, expect, it } from 'vitest';
import { redactAuthorization, redactCookie, redactToken, redactUrl } from '../src/redact.ts';
import { selectScopes, withOfflineAccess } from '../src/scopes.ts';

describe('scope selection (MCP Scope Selection Strategy)', () => {
  it.each([
    { name: 'challenge scope first', input: { challenge: ['a'], prmSupported: ['a', 'b'] }, scopes: ['a'], source: 'challenge' },
    { name: 'else PRM scopes_supported', input: { prmSupported: ['a', 'b'] }, scopes: ['a', 'b'], source: 'scopes_supported' },
    { name: 'else no scope', input: {}, scopes: [], source: 'none' },
    { name: '--scope overrides', input: { override: ['x'], challenge: ['a'] }, scopes: ['x'], source: 'option' },
    { name: 'step-up: union of previous and challenge', input: { previous: ['a', 'offline_access'], challenge: ['b', 'a'] }, scopes: ['a', 'b'], source: 'union' },
  ])('$name', ({ input, scopes, source }) => {
    expect(selectScopes(input)).toEqual({ scopes, source });
  });

  it('adds offline_access only when the AS lists it', () => {
    expect(withOfflineAccess(['a'], ['a', 'offline_access'])).toEqual(['a', 'offline_access']);
    expect(withOfflineAccess(['a'], ['a'])).toEqual(['a']);
    expect(withOfflineAccess(['a'], undefined)).toEqual(['a']);
  });
});

describe('redaction', () => {
  it('keeps six characters of a token', () => {
    expect(redactToken('eyJhbGciOiJSUzI1NiJ9.payload.sig')).toBe('eyJhbG…');
    expect(redactAuthorization('Bearer eyJhbGciOiJSUzI1NiJ9')).toBe('Bearer eyJhbG…');
  });
  it('redacts cookie values but not attributes', () => {
    expect(redactCookie('mcp_lab_session=abcdefghijkl; HttpOnly; SameSite=Strict; Path=/')).toBe('mcp_lab_session=abcdef…; HttpOnly; SameSite=Strict; Path=/');
  });
  it('redacts an authorization code in a URL', () => {
    expect(redactUrl('http://127.0.0.1:1/callback?code=secretcode123&state=s')).toBe('http://127.0.0.1:1/callback?code=secret%E2%80%A6&state=s');
  });
});
