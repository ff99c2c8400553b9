/**
 * Scopes a registered client may ask for (step-up after DCR with a narrower `scope`, as the MCP SDKs register) and
 * the documented default scope of a request without `scope` (RFC 6749 §3.3).
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headlessAuthorize, pkcePair } from '@mcp-lab/test-kit/authorization';
import { startEmbeddedIdp, type RunningIdp } from '@mcp-lab/test-kit/idp-server';
import { discover } from '@mcp-lab/test-kit/tokens';
import { CLI_CLIENT_ID } from '../src/app.ts';
import { authorizeUrl, REDIRECT_URI, RESOURCE } from './helpers.ts';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
let running: RunningIdp;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  running = await startEmbeddedIdp();
  as = await discover(running.issuer);
});
afterAll(async () => {
  await running.close();
});

async function register(metadata: Record<string, unknown>): Promise<Response> {
  return fetch(as.registration_endpoint!, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: ['http://127.0.0.1/callback'],
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...metadata,
    }),
  });
}

/** Authorization (headless alice) + token exchange; returns the token response. */
async function tokenFor(clientId: string, scope: string | undefined): Promise<oauth.TokenEndpointResponse> {
  const { verifier, challenge } = await pkcePair();
  const url = authorizeUrl(running.issuer, {
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope,
    resource: RESOURCE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st',
  });
  const r = await headlessAuthorize({ authorizationUrl: url, username: 'alice', password: 'alice-password', redirectUri: REDIRECT_URI });
  const client = { client_id: clientId };
  const params = oauth.validateAuthResponse(as, client, r.callbackUrl, 'st');
  const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, verifier, {
    additionalParameters: { resource: RESOURCE },
    ...insecure,
  });
  return oauth.processAuthorizationCodeResponse(as, client, res);
}

describe('a client registered (DCR) with the first challenge scope, as the MCP SDKs register', () => {
  it('is registered with every scope the IdP serves (RFC 7591 §3.2.1: the AS may replace requested metadata)', async () => {
    const res = await register({ scope: 'notes:read' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { scope: string };
    expect(body.scope.split(' ')).toEqual(expect.arrayContaining(['notes:read', 'notes:write', 'openid', 'offline_access']));
  });

  it('is granted notes:read notes:write on a later (step-up) authorization request', async () => {
    const { client_id } = (await (await register({ scope: 'notes:read' })).json()) as { client_id: string };
    expect((await tokenFor(client_id, 'notes:read')).scope).toBe('notes:read');
    const stepUp = await tokenFor(client_id, 'notes:read notes:write');
    expect(stepUp.scope).toBe('notes:read notes:write');
  });

  it('still refuses a registration that names a scope the IdP does not serve', async () => {
    const res = await register({ scope: 'notes:read admin:everything' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_client_metadata' });
  });
});

describe('an authorization request without scope', () => {
  it('is processed with the documented default scope (notes:read), not answered access_denied', async () => {
    const t = await tokenFor(CLI_CLIENT_ID, undefined);
    expect(t.scope).toBe('notes:read');
    const claims = JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ aud: RESOURCE, scope: 'notes:read' });
  });

  it('uses IDP_DEFAULT_SCOPE when set', async () => {
    const other = await startEmbeddedIdp({ IDP_DEFAULT_SCOPE: 'notes:read notes:write' });
    try {
      const saved = { running, as };
      running = other;
      as = await discover(other.issuer);
      try {
        expect((await tokenFor(CLI_CLIENT_ID, undefined)).scope).toBe('notes:read notes:write');
      } finally {
        ({ running, as } = saved);
      }
    } finally {
      await other.close();
    }
  });
});
