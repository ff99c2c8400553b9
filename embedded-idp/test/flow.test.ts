import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headlessAuthorize, pkcePair } from '@mcp-lab/test-kit/authorization';
import { startEmbeddedIdp, type RunningIdp } from '@mcp-lab/test-kit/idp-server';
import { discover, registerNativeClient } from '@mcp-lab/test-kit/tokens';
import { DEMO_USERS } from '../src/accounts.ts';
import { REDIRECT_URI, RESOURCE } from './helpers.ts';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const alice = DEMO_USERS.find((u) => u.username === 'alice')!;

/** What each step of the flow hands on to the next (set by beforeAll and by the tests, in order). */
interface FlowState {
  running: RunningIdp;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  tokens: oauth.TokenEndpointResponse;
}

describe('authorization code flow with DCR, PKCE and a resource indicator', () => {
  const flow = {} as FlowState;

  beforeAll(async () => {
    flow.running = await startEmbeddedIdp();
  });
  afterAll(async () => {
    await flow.running.close();
  });

  discoveryAndRegistrationTests(flow);

  authorizationTests(flow);

  tokenTests(flow);
});

/** RFC 8414 discovery, then RFC 7591 registration of the client the later steps use. */
function discoveryAndRegistrationTests(flow: FlowState): void {
  it('serves RFC 8414 metadata at /.well-known/oauth-authorization-server with the exact issuer', async () => {
    flow.as = await discover(flow.running.issuer);
    expect(flow.as.issuer).toBe(flow.running.issuer);
    expect(flow.as.code_challenge_methods_supported).toEqual(['S256']);
    expect(flow.as.authorization_response_iss_parameter_supported).toBe(true);
    expect(flow.as.registration_endpoint).toBe(`${flow.running.issuer}/reg`);
    expect(flow.as.response_types_supported).toEqual(['code']);
    expect(flow.as.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    expect(flow.as.scopes_supported).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
    const oidc = await (await fetch(`${flow.running.issuer}/.well-known/openid-configuration`)).json();
    expect(oidc).toEqual(flow.as);
  });

  it('registers a native public client with a loopback redirect URI (RFC 7591)', async () => {
    flow.client = await registerNativeClient(flow.as, 'http://127.0.0.1/callback');
    expect(flow.client.client_id).toEqual(expect.any(String));
    expect(flow.client.token_endpoint_auth_method).toBe('none');
    expect(flow.client.application_type).toBe('native');
  });
}

/** The authorization code flow with PKCE through the sign-in form, and the form's CSP. */
function authorizationTests(flow: FlowState): void {
  it('signs alice in headlessly and returns code, state and iss to a loopback redirect on another port (RFC 8252 §7.3)', async () => {
    const { verifier, challenge } = await pkcePair();
    const state = oauth.generateRandomState();
    const url = new URL(flow.as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: flow.client.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'notes:read notes:write',
      resource: RESOURCE,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
    }).toString();
    const result = await headlessAuthorize({ authorizationUrl: url, username: 'alice', password: 'alice-password', redirectUri: REDIRECT_URI });
    expect(result.state).toBe(state);
    expect(result.iss).toBe(flow.running.issuer);
    expect(result.code).toEqual(expect.any(String));
    expect(`${result.callbackUrl.origin}${result.callbackUrl.pathname}`).toBe(REDIRECT_URI);

    const params = oauth.validateAuthResponse(flow.as, flow.client, result.callbackUrl, state);
    const res = await oauth.authorizationCodeGrantRequest(flow.as, flow.client, oauth.None(), params, REDIRECT_URI, verifier, {
      additionalParameters: { resource: RESOURCE },
      ...insecure,
    });
    flow.tokens = await oauth.processAuthorizationCodeResponse(flow.as, flow.client, res);
    expect(flow.tokens.token_type).toBe('bearer');
    expect(flow.tokens.expires_in).toBe(600);
    expect(flow.tokens.scope).toBe('notes:read notes:write');
    expect(flow.tokens.refresh_token).toEqual(expect.any(String));
  });

  it("lets the sign-in form's redirect chain end at the client's redirect URI origin (CSP form-action)", async () => {
    const { challenge } = await pkcePair();
    const url = new URL(flow.as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: flow.client.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'notes:read',
      resource: RESOURCE,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 's',
    }).toString();
    const start = await fetch(url, { redirect: 'manual' });
    expect(start.status).toBe(303);
    const cookie = start.headers.getSetCookie().map((c) => c.split(';', 1)[0]).join('; ');
    const login = await fetch(new URL(start.headers.get('location')!, flow.running.issuer), { headers: { cookie } });
    expect(login.status).toBe(200);
    // Browsers apply form-action to every redirect after the form's POST, the last one included.
    expect(login.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:61234; frame-ancestors 'none'",
    );
  });
}

/** The access token (RFC 9068) and the refresh token rotation. */
function tokenTests(flow: FlowState): void {
  it('issues an RFC 9068 JWT access token for the resource, verifiable with the published JWKS', async () => {
    const jwks = createRemoteJWKSet(new URL(flow.as.jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(flow.tokens.access_token, jwks, {
      issuer: flow.running.issuer,
      audience: RESOURCE,
      typ: 'at+jwt',
      algorithms: ['RS256'],
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({
      iss: flow.running.issuer,
      aud: RESOURCE,
      sub: alice.sub,
      client_id: flow.client.client_id,
      scope: 'notes:read notes:write',
      email: 'alice@example.com',
    });
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('rotates the refresh token of a public client and keeps the audience', async () => {
    const res = await oauth.refreshTokenGrantRequest(flow.as, flow.client, oauth.None(), flow.tokens.refresh_token!, {
      additionalParameters: { resource: RESOURCE },
      ...insecure,
    });
    const refreshed = await oauth.processRefreshTokenResponse(flow.as, flow.client, res);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(flow.tokens.refresh_token);
    expect(decodeProtectedHeader(refreshed.access_token).typ).toBe('at+jwt');
    const { payload } = await jwtVerify(refreshed.access_token, createRemoteJWKSet(new URL(flow.as.jwks_uri!)), {
      issuer: flow.running.issuer,
      audience: RESOURCE,
    });
    expect(payload.scope).toBe('notes:read notes:write');

    // The rotated-away refresh token is spent.
    const reuse = await oauth.refreshTokenGrantRequest(flow.as, flow.client, oauth.None(), flow.tokens.refresh_token!, insecure);
    await expect(oauth.processRefreshTokenResponse(flow.as, flow.client, reuse)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
}
