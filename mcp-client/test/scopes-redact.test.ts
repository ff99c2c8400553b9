import { describe, expect, it } from 'vitest';
import { redactAuthorization, redactCookie, redactSetCookie, redactToken, redactUrl, SecretSet } from '../src/redact.ts';
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
  it('cuts each Cookie pair of a request header', () => {
    expect(redactCookie('mcp_lab_session=abcdefghijkl; _other=zyxwvutsrq')).toBe('mcp_lab_session=abcdef…; _other=zyxwvu…');
  });
  it('shows a Set-Cookie by name and attributes only, its value cut to a length', () => {
    expect(redactSetCookie('mcp_lab_session=abcdefghijkl; HttpOnly; SameSite=Strict; Path=/')).toBe('mcp_lab_session=…(12 chars); HttpOnly; SameSite=Strict; Path=/');
  });
  it('redacts an authorization code in a URL', () => {
    expect(redactUrl('http://127.0.0.1:1/callback?code=secretcode123&state=s')).toBe('http://127.0.0.1:1/callback?code=secret%E2%80%A6&state=s');
  });
});

describe('SecretSet: credentials the run holds are never printed, whatever echoes them', () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
  it('cuts a held token wherever it appears in a string, as is or percent-encoded', () => {
    const s = new SecretSet();
    s.remember(token);
    s.remember('code+with/odd=chars');
    expect(s.scrub(`Bearer error="invalid_token", error_description="token ${token} expired"`)).toBe('Bearer error="invalid_token", error_description="token eyJhbG… expired"');
    expect(s.scrub(`https://x.example/?c=${encodeURIComponent('code+with/odd=chars')}`)).toBe('https://x.example/?c=code+w…');
  });
  it('scrubs every string of a nested value and leaves other values alone', () => {
    const s = new SecretSet();
    s.remember(token);
    expect(s.scrubDeep({ a: [token, 1, { b: `x${token}y` }], n: null, ok: true })).toEqual({ a: ['eyJhbG…', 1, { b: 'xeyJhbG…y' }], n: null, ok: true });
  });
  it('ignores values too short to search for', () => {
    const s = new SecretSet();
    s.remember('abc');
    expect(s.size).toBe(0);
    expect(s.scrub('abc')).toBe('abc');
  });
});
