import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headlessAuthorize, HeadlessLoginError, pkcePair } from '@mcp-lab/test-kit/authorization';
import { startEmbeddedIdp, type RunningIdp } from '@mcp-lab/test-kit/idp-server';
import { CookieJar, pageError } from '@mcp-lab/test-kit/login';
import { obtainToken } from '@mcp-lab/test-kit/tokens';
import { CLI_CLIENT_ID } from '../src/app.ts';
import { INVALID_CREDENTIALS } from '../src/login-page.ts';
import { authorizeUrl, REDIRECT_URI, RESOURCE } from './helpers.ts';

let running: RunningIdp;
// The challenge of requests that are refused before any code is issued.
let anyChallenge: string;
beforeAll(async () => {
  running = await startEmbeddedIdp();
  anyChallenge = (await pkcePair()).challenge;
});
afterAll(async () => {
  await running.close();
});

function cliRequest(overrides: Record<string, string | undefined> = {}): URL {
  return authorizeUrl(running.issuer, {
    client_id: CLI_CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'notes:read',
    resource: RESOURCE,
    code_challenge: anyChallenge,
    code_challenge_method: 'S256',
    state: 'st-1',
    ...overrides,
  });
}

/** The error an authorization request is redirected back with (RFC 6749 §4.1.2.1 + RFC 9207 iss). */
async function authorizationError(url: URL): Promise<URLSearchParams> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(303);
  const location = new URL(res.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  expect(location.searchParams.get('iss')).toBe(running.issuer);
  expect(location.searchParams.get('state')).toBe('st-1');
  return location.searchParams;
}

async function openLoginForm(jar: CookieJar): Promise<{ formUrl: URL; html: string }> {
  let url = cliRequest();
  for (;;) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) ?? '' } });
    jar.store(url, res);
    if (res.status === 303) {
      url = new URL(res.headers.get('location')!, url);
      continue;
    }
    expect(res.status).toBe(200);
    return { formUrl: new URL(`${url.pathname}/login`, url), html: await res.text() };
  }
}

describe('login page', () => {
  it('renders an accessible form posting username and password to /interaction/:uid/login', async () => {
    const { formUrl, html } = await openLoginForm(new CookieJar());
    expect(html).toContain(`<form method="post" action="${formUrl.pathname}"`);
    expect(html).toMatch(/<label for="username">/);
    expect(html).toMatch(/<input id="username" name="username"/);
    expect(html).toMatch(/<label for="password">/);
    expect(html).toMatch(/<input id="password" name="password" type="password"/);
    expect(html).toContain('granted');
  });

  it('answers a wrong password with 200, the form again and the stable error text', async () => {
    const jar = new CookieJar();
    const { formUrl } = await openLoginForm(jar);
    const res = await fetch(formUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(formUrl)!, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: 'wrong' }).toString(),
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(pageError(html)).toBe(INVALID_CREDENTIALS);
    expect(html).toContain('Invalid username or password');
    expect(html).toContain('role="alert"');
    expect(html).toContain('name="password"');
    expect(html).not.toContain('wrong');
  });

  it('makes the headless helper fail with invalid_credentials on a wrong password', async () => {
    await expect(
      headlessAuthorize({ authorizationUrl: cliRequest(), username: 'bob', password: 'alice-password', redirectUri: REDIRECT_URI }),
    ).rejects.toMatchObject({ name: 'HeadlessLoginError', code: 'invalid_credentials' });
  });

  it('refuses a login post without the interaction cookie', async () => {
    const jar = new CookieJar();
    const { formUrl } = await openLoginForm(jar);
    const res = await fetch(formUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=alice-password',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Sign-in expired');
  });

  it('refuses a login post that is not form-encoded', async () => {
    const jar = new CookieJar();
    const { formUrl } = await openLoginForm(jar);
    const res = await fetch(formUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(formUrl)!, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
    });
    expect(res.status).toBe(415);
  });
});

describe('authorization request policy', () => {
  it('refuses a request without PKCE', async () => {
    const p = await authorizationError(cliRequest({ code_challenge: undefined, code_challenge_method: undefined }));
    expect(p.get('error')).toBe('invalid_request');
    expect(p.get('error_description')).toMatch(/PKCE/);
  });

  it('refuses plain PKCE', async () => {
    const p = await authorizationError(cliRequest({ code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) }));
    expect(p.get('error')).toBe('invalid_request');
    expect(p.get('error_description')).toMatch(/code_challenge_method/);
  });

  it('refuses an unknown resource with invalid_target', async () => {
    const p = await authorizationError(cliRequest({ resource: 'http://127.0.0.1:9999/mcp' }));
    expect(p.get('error')).toBe('invalid_target');
  });

  it('refuses a request without a resource with invalid_target', async () => {
    const p = await authorizationError(cliRequest({ resource: undefined }));
    expect(p.get('error')).toBe('invalid_target');
  });

  it('never redirects to a redirect_uri on another host', async () => {
    const res = await fetch(cliRequest({ redirect_uri: 'http://evil.example/callback' }), { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const html = await res.text();
    expect(html).toContain('invalid_redirect_uri');
    expect(html).toContain('redirect_uri did not match any of the client&#39;s registered redirect_uris');
  });

  it('refuses a loopback redirect_uri with another path', async () => {
    const res = await fetch(cliRequest({ redirect_uri: 'http://127.0.0.1:61234/elsewhere' }), { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('refuses to register a native client with a non-loopback http redirect URI', async () => {
    const res = await fetch(`${running.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ application_type: 'native', redirect_uris: ['http://evil.example/callback'], token_endpoint_auth_method: 'none' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_redirect_uri' });
  });
});

describe('token endpoint policy', () => {
  /** Signs alice in for a CLI request with a fresh PKCE pair; the code and the pair's verifier. */
  async function aliceCode(): Promise<{ code: string; verifier: string }> {
    const { verifier, challenge } = await pkcePair();
    const { code } = await headlessAuthorize({
      authorizationUrl: cliRequest({ code_challenge: challenge }),
      username: 'alice',
      password: 'alice-password',
      redirectUri: REDIRECT_URI,
    });
    return { code: code!, verifier };
  }

  /** An authorization_code token request for the CLI client with `params` (code, code_verifier, resource). */
  function codeExchange(params: Record<string, string>): Promise<Response> {
    return fetch(`${running.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CLI_CLIENT_ID, redirect_uri: REDIRECT_URI, ...params }).toString(),
    });
  }

  it('refuses a token request for a resource other than the granted one with invalid_target', async () => {
    const { code, verifier } = await aliceCode();
    const res = await codeExchange({ code, code_verifier: verifier, resource: 'http://127.0.0.1:3000/sse' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_target' });
  });

  it('refuses a code exchange with the wrong code_verifier', async () => {
    const { code } = await aliceCode();
    const res = await codeExchange({ code, code_verifier: (await pkcePair()).verifier, resource: RESOURCE });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('CORS for browser clients', () => {
  const origin = 'http://127.0.0.1:61234';

  it.each(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/jwks'])('allows any origin to GET %s', async (path) => {
    const res = await fetch(`${running.issuer}${path}`, { headers: { origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('answers a registration preflight and lets the browser read the registration response', async () => {
    const pre = await fetch(`${running.issuer}/reg`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    const res = await fetch(`${running.issuer}/reg`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({ application_type: 'native', redirect_uris: [`${origin}/callback`], token_endpoint_auth_method: 'none' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('lets the browser origin of a public client call the token endpoint, and refuses other origins', async () => {
    const tokenPre = await fetch(`${running.issuer}/token`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    expect(tokenPre.status).toBe(204);
    const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: CLI_CLIENT_ID, refresh_token: 'x' }).toString();
    const ok = await fetch(`${running.issuer}/token`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    expect(await ok.json()).toMatchObject({ error: 'invalid_grant' });
    const evil = await fetch(`${running.issuer}/token`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(await evil.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('obtainToken harness', () => {
  it('gets a token for the pre-registered CLI client with a localhost redirect on any port', async () => {
    const t = await obtainToken({
      issuer: running.issuer,
      resource: 'http://127.0.0.1:3000',
      scope: 'notes:read',
      username: 'bob',
      password: 'bob-password',
      clientId: CLI_CLIENT_ID,
      redirectUri: 'http://localhost:49152/callback',
    });
    expect(t.client_id).toBe(CLI_CLIENT_ID);
    expect(t.scope).toBe('notes:read');
    const claims = JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ aud: 'http://127.0.0.1:3000', client_id: CLI_CLIENT_ID, email: 'bob@example.com', scope: 'notes:read' });
    const refreshed = await t.refresh();
    expect(refreshed.access_token).not.toBe(t.access_token);
  });

  it('registers its own client by DCR when no clientId is given', async () => {
    const t = await obtainToken({ issuer: running.issuer, resource: RESOURCE, username: 'alice', password: 'alice-password' });
    expect(t.client_id).not.toBe(CLI_CLIENT_ID);
    expect(t.refresh_token).toEqual(expect.any(String));
  });

  it('surfaces an authorization error from the IdP as HeadlessLoginError', async () => {
    const err = await obtainToken({ issuer: running.issuer, resource: 'http://127.0.0.1:1/nope', username: 'alice', password: 'alice-password' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeadlessLoginError);
    expect(err).toMatchObject({ code: 'authorization_error', error: 'invalid_target' });
  });
});
