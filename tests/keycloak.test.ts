import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { authorizationServerMetadataUrls, parseAuthorizationServerMetadata } from '@mcp-lab/protocol';
import type { AuthorizationServerMetadata } from '@mcp-lab/protocol';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { pkcePair } from '@mcp-lab/test-kit/authorization';
import { browserLogin } from '@mcp-lab/test-kit/login';
import { KEYCLOAK_CLIENT_ID, startKeycloak, type RunningKeycloak } from '@mcp-lab/test-kit/keycloak-server';
import { requireKeycloak } from './provisioned.ts';

const ok = requireKeycloak() !== undefined;

let kc: RunningKeycloak;
let rsUrl: string;
let meta: AuthorizationServerMetadata;
// Any loopback port: the client registers http://127.0.0.1/* and Keycloak ignores the port of loopback redirects.
let redirectUri: string;

function authorizationUrl(params: Record<string, string>): URL {
  const u = new URL(String(meta.authorization_endpoint));
  const all = { response_type: 'code', client_id: KEYCLOAK_CLIENT_ID, redirect_uri: redirectUri, ...params };
  for (const [k, v] of Object.entries(all)) u.searchParams.set(k, v);
  return u;
}

async function loginAndGetCode(scope: string): Promise<{ code: string; verifier: string; location: URL; state: string }> {
  const { verifier, challenge } = await pkcePair();
  const state = randomBytes(12).toString('base64url');
  const url = authorizationUrl({ scope, state, code_challenge: challenge, code_challenge_method: 'S256' });
  const result = await browserLogin({ authorizationUrl: url, username: 'alice', password: 'alice-password' });
  if (result.kind !== 'redirect') throw new Error(`expected a redirect, got a ${result.status} page: ${result.error}`);
  const code = result.location.searchParams.get('code');
  if (code === null) throw new Error(`no code in ${result.location.search}`);
  return { code, verifier, location: result.location, state };
}

async function token(params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(String(meta.token_endpoint), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: KEYCLOAK_CLIENT_ID, ...params }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe.runIf(ok)('Keycloak realm mcp-lab (real Keycloak, kc.sh start-dev)', () => {
  beforeAll(async () => {
    rsUrl = `http://127.0.0.1:${await freePort()}`;
    redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
    kc = await startKeycloak({ rsUrl });
    const res = await fetch(`${kc.issuer}/.well-known/openid-configuration`);
    meta = parseAuthorizationServerMetadata(await res.json());
  }, 300_000);

  afterAll(async () => {
    await kc?.stop();
  });

  discoveryAndIssuanceTests();
  refusalTests();
});

function discoveryAndIssuanceTests(): void {
  it('publishes OpenID discovery for the realm with S256 PKCE, RFC 9207 iss and the notes scopes', () => {
    expect(meta.issuer).toBe(kc.issuer);
    expect(meta.authorization_endpoint).toBe(`${kc.issuer}/protocol/openid-connect/auth`);
    expect(meta.token_endpoint).toBe(`${kc.issuer}/protocol/openid-connect/token`);
    expect(meta.jwks_uri).toBe(`${kc.issuer}/protocol/openid-connect/certs`);
    expect(meta.code_challenge_methods_supported).toContain('S256');
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['openid', 'notes:read', 'notes:write']));
    expect((meta as Record<string, unknown>).authorization_response_iss_parameter_supported).toBe(true);
  });

  it('serves RFC 8414 metadata at the path-inserted URL the MCP client tries first', async () => {
    const [rfc8414] = authorizationServerMetadataUrls(kc.issuer);
    expect(rfc8414).toBe(`${kc.url}/.well-known/oauth-authorization-server/realms/mcp-lab`);
    const res = await fetch(rfc8414!);
    expect(res.status).toBe(200);
    const doc = parseAuthorizationServerMetadata(await res.json());
    expect(doc.issuer).toBe(kc.issuer);
    expect(doc.token_endpoint).toBe(meta.token_endpoint);
  });

  it('logs alice in headlessly and issues a JWT access token for the resource server with both notes scopes', async () => {
    const { code, verifier, location, state } = await loginAndGetCode('openid notes:read notes:write');
    expect(location.origin + location.pathname).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.get('iss')).toBe(kc.issuer);

    const { status, body } = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    expect(status).toBe(200);
    expect(body.token_type).toBe('Bearer');
    expect(typeof body.refresh_token).toBe('string');
    expect(String(body.scope).split(' ')).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));

    const jwks = createRemoteJWKSet(new URL(String(meta.jwks_uri)));
    const { payload, protectedHeader } = await jwtVerify(String(body.access_token), jwks, {
      issuer: kc.issuer,
      audience: `${rsUrl}/mcp`,
      algorithms: ['RS256'],
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.aud).toEqual(expect.arrayContaining([rsUrl, `${rsUrl}/mcp`, `${rsUrl}/sse`]));
    expect(String(payload.scope).split(' ')).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
    expect(payload.azp).toBe(KEYCLOAK_CLIENT_ID);
    expect(payload.preferred_username).toBe('alice');
    expect(payload.email).toBe('alice@example.com');
    expect(typeof payload.sub).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('puts only the requested notes scope in the token (notes:write is optional, not default)', async () => {
    const { code, verifier } = await loginAndGetCode('openid notes:read');
    const { status, body } = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    expect(status).toBe(200);
    const scopes = String(body.scope).split(' ');
    expect(scopes).toContain('notes:read');
    expect(scopes).not.toContain('notes:write');
  });

  it('refreshes the access token with the refresh token', async () => {
    const { code, verifier } = await loginAndGetCode('openid notes:read');
    const first = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    const second = await token({ grant_type: 'refresh_token', refresh_token: String(first.body.refresh_token) });
    expect(second.status).toBe(200);
    expect(typeof second.body.access_token).toBe('string');
    expect(String(second.body.scope).split(' ')).toContain('notes:read');
  });
}

function refusalTests(): void {
  it('refuses an authorization request without a PKCE code_challenge', async () => {
    const url = authorizationUrl({ scope: 'openid notes:read', state: 's-no-pkce' });
    const result = await browserLogin({ authorizationUrl: url, username: 'alice', password: 'alice-password' });
    expect(result.kind).toBe('redirect');
    if (result.kind !== 'redirect') return;
    expect(result.location.searchParams.get('error')).toBe('invalid_request');
    expect(result.location.searchParams.get('error_description')).toBe('Missing parameter: code_challenge_method');
    expect(result.location.searchParams.get('iss')).toBe(kc.issuer);
    expect(result.location.searchParams.has('code')).toBe(false);
  });

  it('refuses the plain PKCE method', async () => {
    const { verifier } = await pkcePair();
    const url = authorizationUrl({ scope: 'openid', state: 's-plain', code_challenge: verifier, code_challenge_method: 'plain' });
    const result = await browserLogin({ authorizationUrl: url, username: 'alice', password: 'alice-password' });
    expect(result.kind).toBe('redirect');
    if (result.kind !== 'redirect') return;
    expect(result.location.searchParams.get('error')).toBe('invalid_request');
  });

  it('refuses to redeem a code without the code_verifier', async () => {
    const { code } = await loginAndGetCode('openid notes:read');
    const { status, body } = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it('refuses to redeem a code with the wrong code_verifier', async () => {
    const { code } = await loginAndGetCode('openid notes:read');
    const { status, body } = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: (await pkcePair()).verifier,
    });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it('shows the login form again with an error for a wrong password', async () => {
    const { challenge } = await pkcePair();
    const url = authorizationUrl({ scope: 'openid', state: 's-bad', code_challenge: challenge, code_challenge_method: 'S256' });
    const result = await browserLogin({ authorizationUrl: url, username: 'alice', password: 'not-her-password' });
    expect(result.kind).toBe('page');
    if (result.kind !== 'page') return;
    expect(result.status).toBe(200);
    expect(result.error).toBe('Invalid username or password.');
    expect(result.html).toContain('id="kc-form-login"');
  });

  it('accepts a localhost redirect URI on any port', async () => {
    const { challenge } = await pkcePair();
    const localhostRedirect = `http://localhost:${await freePort()}/cb`;
    const url = authorizationUrl({ scope: 'openid', state: 's-lh', code_challenge: challenge, code_challenge_method: 'S256' });
    url.searchParams.set('redirect_uri', localhostRedirect);
    const result = await browserLogin({ authorizationUrl: url, username: 'bob', password: 'bob-password' });
    expect(result.kind).toBe('redirect');
    if (result.kind !== 'redirect') return;
    expect(result.location.origin + result.location.pathname).toBe(localhostRedirect);
    expect(result.location.searchParams.has('code')).toBe(true);
  });

  it('refuses a redirect URI that is not loopback', async () => {
    const { challenge } = await pkcePair();
    const url = authorizationUrl({ scope: 'openid', state: 's-evil', code_challenge: challenge, code_challenge_method: 'S256' });
    url.searchParams.set('redirect_uri', 'http://evil.example/cb');
    const result = await browserLogin({ authorizationUrl: url, username: 'alice', password: 'alice-password' });
    expect(result.kind).toBe('page');
    if (result.kind !== 'page') return;
    expect(result.status).toBe(400);
    expect(result.error).toBe('Invalid parameter: redirect_uri');
  });
}
