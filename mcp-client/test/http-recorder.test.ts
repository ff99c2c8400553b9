/**
 * The recording fetch: what a step event may show of each exchange. Real Response objects, no patched globals.
 */
import { describe, expect, it } from 'vitest';
import { HttpRecorder } from '../src/http.ts';
import { fakeNetwork, json } from './fake-http.ts';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldA';
const REFRESH = 'rt-0123456789abcdefghijklmnop';
const CODE = 'code-0123456789abcdefghij';
const VERIFIER = 'verifier-0123456789abcdefghijklmnopqrstuvwxyz';
const SECRET = 'client-secret-0123456789';

function recorder(): { rec: HttpRecorder; net: ReturnType<typeof fakeNetwork>; fetch: ReturnType<HttpRecorder['wrap']> } {
  const rec = new HttpRecorder();
  const net = fakeNetwork();
  return { rec, net, fetch: rec.wrap(net.fetch) };
}

describe('HttpRecorder: Set-Cookie', () => {
  it('cuts the value of a cookie that follows one with an Expires attribute (its comma once hid the next value)', async () => {
    const { rec, net, fetch } = recorder();
    const headers = new Headers();
    headers.append('set-cookie', '_interaction=AAAAAAAAAAAAAAAAAAAAAAAA; path=/interaction/x; expires=Wed, 02 Dec 2026 00:10:00 GMT; samesite=lax; httponly');
    headers.append('set-cookie', '_session=SESSIONSECRETSESSIONSECRET; path=/; expires=Wed, 02 Dec 2026 08:00:00 GMT; samesite=lax; httponly');
    net.on('GET', 'http://idp.test/auth', () => new Response(null, { status: 303, headers }));
    await fetch('http://idp.test/auth');
    const shown = rec.take()[0]!.headers['set-cookie']!;
    expect(shown).toBe(
      '_interaction=…(24 chars); path=/interaction/x; expires=Wed, 02 Dec 2026 00:10:00 GMT; samesite=lax; httponly | ' +
        '_session=…(26 chars); path=/; expires=Wed, 02 Dec 2026 08:00:00 GMT; samesite=lax; httponly',
    );
    expect(shown).not.toContain('SESSIONSECRET');
    expect(shown).not.toContain('AAAAAA');
  });
});

describe('HttpRecorder: credentials echoed by a server are never shown', () => {
  it('redacts the bearer token a server echoes in WWW-Authenticate', async () => {
    const { rec, net, fetch } = recorder();
    net.on('POST', 'http://rs.test/mcp', () =>
      new Response('{}', { status: 401, headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="bad token ${TOKEN}"` } }),
    );
    await fetch('http://rs.test/mcp', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    const [record] = rec.take();
    expect(record!.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="bad token eyJhbG…"');
    expect(record!.headers.authorization).toBe('Bearer eyJhbG…');
    expect(JSON.stringify(record)).not.toContain(TOKEN.slice(6));
  });

  it('learns code, code_verifier, refresh token and client secret from the token request, and tokens from its answer', async () => {
    const { rec, net, fetch } = recorder();
    const NEW_ACCESS = 'new-access-token-0123456789abcdef';
    const NEW_REFRESH = 'new-refresh-token-0123456789abcdef';
    net.on('POST', 'http://as.test/token', () => json({ access_token: NEW_ACCESS, refresh_token: NEW_REFRESH, token_type: 'Bearer' }));
    await fetch('http://as.test/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`client:${SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: CODE, code_verifier: VERIFIER, refresh_token: REFRESH }),
    });
    rec.take();
    // A later answer echoing all of them, in any header.
    const echo = [CODE, VERIFIER, REFRESH, SECRET, NEW_ACCESS, NEW_REFRESH].join(' ');
    net.on('GET', 'http://rs.test/echo', () => new Response(null, { status: 302, headers: { location: `http://rs.test/x?e=${encodeURIComponent(echo)}`, 'mcp-session-id': echo } }));
    await fetch('http://rs.test/echo');
    const [record] = rec.take();
    for (const secret of [CODE, VERIFIER, REFRESH, SECRET, NEW_ACCESS, NEW_REFRESH]) {
      expect(JSON.stringify(record), secret).not.toContain(secret);
      expect(JSON.stringify(record), secret).not.toContain(encodeURIComponent(secret));
    }
    expect(record!.headers['mcp-session-id']).toBe('code-0… verifi… rt-012… client… new-ac… new-re…');
  });

  it('learns the authorization code from the redirect that carries it', async () => {
    const { rec, net, fetch } = recorder();
    net.on('GET', 'http://idp.test/auth/x', () => new Response(null, { status: 303, headers: { location: `http://127.0.0.1:9/callback?code=${CODE}&state=s` } }));
    await fetch('http://idp.test/auth/x');
    expect(rec.secrets.scrub(`error: code ${CODE} already used`)).toBe('error: code code-0… already used');
  });

  it('learns the client secret a registration answer (201) carries', async () => {
    const { rec, net, fetch } = recorder();
    net.on('POST', 'http://as.test/reg', () => json({ client_id: 'c', client_secret: SECRET }, 201));
    await fetch('http://as.test/reg', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(rec.secrets.scrub(SECRET)).toBe('client…');
  });
});
