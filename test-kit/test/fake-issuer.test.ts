import * as oauth from 'oauth4webapi';
import { beforeEach, describe, expect, it } from 'vitest';
import { pkcePair } from '../src/authorization.ts';
import { createFakeIssuer, type FakeIssuer } from '../src/fake-issuer.ts';

const ISSUER = 'https://as.example.com';
const REDIRECT = 'http://127.0.0.1:5555/callback';
const RESOURCE = 'https://rs.example.com/mcp';

let as: FakeIssuer;
let verifier: string;
let code: string;

function tokenRequest(params: Record<string, string>): Promise<Response> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', client_id: 'c1', redirect_uri: REDIRECT, resource: RESOURCE, code, code_verifier: verifier, ...params });
  return as.handle(new Request(`${ISSUER}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }));
}

beforeEach(async () => {
  as = createFakeIssuer({ issuer: ISSUER });
  const pair = await pkcePair();
  verifier = pair.verifier;
  const url = new URL(`${ISSUER}/authorize`);
  url.search = new URLSearchParams({ client_id: 'c1', redirect_uri: REDIRECT, scope: 'notes:read offline_access', resource: RESOURCE, state: 's1', code_challenge: pair.challenge, code_challenge_method: 'S256' }).toString();
  const res = await as.handle(new Request(url));
  expect(res.status).toBe(302);
  const callback = new URL(res.headers.get('location')!);
  expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
  expect(callback.searchParams.get('state')).toBe('s1');
  expect(callback.searchParams.get('iss')).toBe(ISSUER);
  code = callback.searchParams.get('code')!;
});

describe('the fake issuer', () => {
  it('serves RFC 8414 metadata that oauth4webapi accepts for its issuer', async () => {
    const res = await as.handle(new Request(`${ISSUER}/.well-known/oauth-authorization-server`));
    const meta = await oauth.processDiscoveryResponse(new URL(ISSUER), res);
    expect(meta).toMatchObject({ issuer: ISSUER, token_endpoint: `${ISSUER}/token`, code_challenge_methods_supported: ['S256'] });
  });

  it('redeems a code once, with the right verifier, for an opaque token and a refresh token', async () => {
    const res = await tokenRequest({});
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'notes:read' });
    expect(as.tokens.get(body.access_token!)).toMatchObject({ clientId: 'c1', resource: RESOURCE, scope: ['notes:read', 'offline_access'] });
    expect((await tokenRequest({})).status).toBe(400);
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: body.refresh_token! });
    expect(refreshed.status).toBe(200);
  });

  it.each([
    ['another code_verifier', { code_verifier: 'x'.repeat(43) }],
    ['another redirect_uri', { redirect_uri: 'http://127.0.0.1:5556/callback' }],
    ['another client_id', { client_id: 'c2' }],
    ['another resource', { resource: 'https://rs.example.com/sse' }],
  ])('refuses the code with %s (invalid_grant)', async (_name, params) => {
    const res = await tokenRequest(params);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_grant' });
  });

  it('answers /jwks through the jwksEndpoint hook (a misbehaving endpoint), still counting the request', async () => {
    const jwk = { kty: 'oct', k: 'AAAA', kid: 'k' };
    const seen: string[] = [];
    const odd = createFakeIssuer({
      issuer: ISSUER,
      jwks: () => [jwk],
      jwksEndpoint: async (request, keySet) => {
        seen.push(new URL(request.url).pathname);
        return seen.length === 1 ? new Response('down', { status: 503 }) : keySet();
      },
    });
    expect((await odd.handle(new Request(`${ISSUER}/jwks`))).status).toBe(503);
    expect(await (await odd.handle(new Request(`${ISSUER}/jwks`))).json()).toEqual({ keys: [jwk] });
    expect(seen).toEqual(['/jwks', '/jwks']);
    expect(odd.jwksRequests()).toBe(2);
  });
});
