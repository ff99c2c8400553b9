import { createRemoteJWKSet, decodeJwt, jwtVerify, errors as joseErrors } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationServerMetadataUrls, parseAuthorizationServerMetadata } from '@mcp-lab/protocol';
import { browserLogin, loginFormAction } from '@mcp-lab/test-kit/login';
import { startDexStack, type DexStack } from '@mcp-lab/test-kit/dex-stack';
import { DEX_CLI_CLIENT, dexAuthorizationRequest } from '@mcp-lab/test-kit/stack-dex';
import { discover } from '@mcp-lab/test-kit/tokens';
import { requireDex } from './provisioned.ts';

const dexBin = requireDex() ?? '';
const dexReady = dexBin !== '';

const CLIENT = DEX_CLI_CLIENT;
const RS_AUDIENCE_SCOPE = 'audience:server:client_id:mcp-lab-rs';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

interface Authorized {
  readonly location: URL;
  readonly tokens: oauth.TokenEndpointResponse;
}


async function authorize(as: oauth.AuthorizationServer, scope: string, login: string, password: string): Promise<Authorized> {
  const start = await dexAuthorizationRequest(as, scope);
  const outcome = await browserLogin({ authorizationUrl: start.url, redirectUri: start.redirectUri, username: login, password, driver: 'dex' });
  if (outcome.kind !== 'redirect') throw new Error(`login rejected with ${outcome.status}`);
  const params = oauth.validateAuthResponse(as, CLIENT, outcome.location, start.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    CLIENT,
    oauth.None(),
    params,
    start.redirectUri,
    start.verifier,
    insecure,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, CLIENT, response);
  return { location: outcome.location, tokens };
}

let stack: DexStack;
let as: oauth.AuthorizationServer;

describe.runIf(dexReady)('Dex behind authz-metadata (real processes)', () => {
  beforeAll(async () => {
    stack = await startDexStack({ dexBin });
    as = await discover(stack.issuer);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  metadataAndIssuanceTests();
  refusalAndCorsTests();
});

function metadataAndIssuanceTests(): void {
  it('serves RFC 8414 metadata at the path-inserted URL, with the issuer and endpoints Dex itself announces', async () => {
    const rfc8414Url = `${stack.publicOrigin}/.well-known/oauth-authorization-server/dex`;
    expect(authorizationServerMetadataUrls(stack.issuer)[0]).toBe(rfc8414Url);

    const rfc8414 = parseAuthorizationServerMetadata(await (await fetch(rfc8414Url)).json());
    const oidc = parseAuthorizationServerMetadata(await (await fetch(`${stack.issuer}/.well-known/openid-configuration`)).json());

    expect(oidc.issuer).toBe(stack.issuer);
    expect(rfc8414.issuer).toBe(oidc.issuer);
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint'] as const) {
      expect(rfc8414[field], field).toBe(oidc[field]);
    }
    expect(rfc8414.code_challenge_methods_supported).toEqual(['S256']);
    expect(oidc.code_challenge_methods_supported).toContain('S256');
    expect(rfc8414.token_endpoint_auth_methods_supported).toContain('none');
    expect(rfc8414).not.toHaveProperty('registration_endpoint');
    expect(oidc).not.toHaveProperty('registration_endpoint');
    // oauth4webapi accepted the same document in beforeAll, issuer check included.
    expect(as.issuer).toBe(stack.issuer);
  });

  it('runs authorization code + PKCE S256 for mcp-lab-cli on any loopback port and issues a JWT for mcp-lab-rs', async () => {
    const { location, tokens } = await authorize(
      as,
      `openid email offline_access ${RS_AUDIENCE_SCOPE}`,
      'alice@example.com',
      'alice-password',
    );
    // Dex does not implement RFC 9207.
    expect(location.searchParams.has('iss')).toBe(false);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(typeof tokens.refresh_token).toBe('string');

    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: stack.issuer,
      audience: 'mcp-lab-rs',
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.iss).toBe(stack.issuer);
    expect(payload.aud).toEqual(['mcp-lab-rs', 'mcp-lab-cli']);
    expect(payload.azp).toBe('mcp-lab-cli');
    expect(payload.email).toBe('alice@example.com');
    expect(payload.email_verified).toBe(true);
    expect(typeof payload.sub).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload).not.toHaveProperty('scope');
  });

  it('refreshes with the public client and keeps the audience', async () => {
    const { tokens } = await authorize(as, `openid email offline_access ${RS_AUDIENCE_SCOPE}`, 'bob@example.com', 'bob-password');
    const res = await oauth.refreshTokenGrantRequest(as, CLIENT, oauth.None(), tokens.refresh_token!, insecure);
    const refreshed = await oauth.processRefreshTokenResponse(as, CLIENT, res);
    // Rotation is on, but within expiry.refreshTokens.reuseInterval (3s) Dex hands back the same token.
    expect(typeof refreshed.refresh_token).toBe('string');
    const { payload } = await jwtVerify(refreshed.access_token, createRemoteJWKSet(new URL(as.jwks_uri!)), {
      issuer: stack.issuer,
      audience: 'mcp-lab-rs',
    });
    expect(payload.email).toBe('bob@example.com');
  });

  it('without the audience scope, aud is the client alone and an RS checking for mcp-lab-rs rejects the token', async () => {
    const { tokens } = await authorize(as, 'openid email', 'alice@example.com', 'alice-password');
    expect(decodeJwt(tokens.access_token).aud).toBe('mcp-lab-cli');
    await expect(
      jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(as.jwks_uri!)), { issuer: stack.issuer, audience: 'mcp-lab-rs' }),
    ).rejects.toBeInstanceOf(joseErrors.JWTClaimValidationFailed);
  });
}

function refusalAndCorsTests(): void {
  it('answers a wrong password with the form again (401) and its error text', async () => {
    const start = await dexAuthorizationRequest(as, 'openid email');
    const outcome = await browserLogin({ authorizationUrl: start.url, username: 'alice@example.com', password: 'not-her-password', driver: 'dex' });
    expect(outcome.kind).toBe('page');
    if (outcome.kind !== 'page') return;
    expect(outcome.status).toBe(401);
    expect(outcome.html).toContain('id="login-error"');
    expect(outcome.html).toContain('Invalid Email Address and password.');
    expect(loginFormAction(outcome.html, outcome.visited.at(-1)!.replace(/^POST /, '')).pathname).toBe('/dex/auth/local/login');
    expect(outcome.visited.map((u) => new URL(u.replace(/^POST /, '')).pathname)).toEqual([
      '/dex/auth',
      '/dex/auth/local',
      '/dex/auth/local/login',
      '/dex/auth/local/login',
    ]);
  });

  it('rejects a scope it does not know (an RS permission such as notes:read) with invalid_scope', async () => {
    const start = await dexAuthorizationRequest(as, 'openid notes:read');
    const res = await fetch(start.url, { redirect: 'manual' });
    // Dex validates scopes after the connector redirect; follow to the error redirect.
    const next = await fetch(new URL(res.headers.get('location')!, start.url), { redirect: 'manual' });
    const location = new URL(next.headers.get('location')!);
    expect(location.href.startsWith(start.redirectUri)).toBe(true);
    expect(location.searchParams.get('error')).toBe('invalid_scope');
    expect(location.searchParams.get('error_description')).toContain('notes:read');
  });

  it('refuses a non-loopback redirect_uri for the public client', async () => {
    const start = await dexAuthorizationRequest(as, 'openid');
    start.url.searchParams.set('redirect_uri', 'http://evil.example/callback');
    const res = await fetch(start.url, { redirect: 'manual' });
    const next = await fetch(new URL(res.headers.get('location')!, start.url), { redirect: 'manual' });
    expect(next.status).toBe(400);
    expect(await next.text()).toContain('Unregistered redirect_uri');
  });

  it("passes Dex's own CORS through for an allowed browser origin", async () => {
    const res = await fetch(`${stack.issuer}/token`, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3000');
  });
}

describe.runIf(dexReady)('Dex behind authz-metadata with AUTHZ_METADATA_ENABLED=false (the fallback case)', () => {
  let stack: DexStack;
  beforeAll(async () => {
    stack = await startDexStack({ dexBin, metadataEnabled: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('has no RFC 8414 document, so discovery must fall back to OpenID Connect discovery', async () => {
    const rfc8414 = await fetch(`${stack.publicOrigin}/.well-known/oauth-authorization-server/dex`);
    expect(rfc8414.status).toBe(404);
    await rfc8414.body?.cancel();
    const url = new URL(stack.issuer);
    const oidc = await oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url, { algorithm: 'oidc', ...insecure }));
    expect(oidc.issuer).toBe(stack.issuer);
  });
});
