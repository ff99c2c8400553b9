/**
 * Client ID Metadata Documents against the real embedded IdP: advertised in the metadata, fetched from the lab's own
 * https host on loopback (trusted by configuration only), and refused from any other loopback origin.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headlessAuthorize, pkcePair } from '@mcp-lab/test-kit/authorization';
import { startEmbeddedIdp, type RunningIdp } from '@mcp-lab/test-kit/idp-server';
import { discover } from '@mcp-lab/test-kit/tokens';
import { startCimdHost, type CimdHost } from './cimd-host.ts';
import { authorizeUrl, REDIRECT_URI, RESOURCE } from './helpers.ts';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
let host: CimdHost;
let untrusted: CimdHost;
let running: RunningIdp;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  host = await startCimdHost();
  untrusted = await startCimdHost();
  running = await startEmbeddedIdp({ IDP_CIMD_TRUSTED_ORIGINS: host.origin, IDP_CIMD_CA_FILE: host.caFile });
  as = await discover(running.issuer);
});
afterAll(async () => {
  await running?.close();
  await host?.close();
  await untrusted?.close();
});

function request(clientId: string, challenge: string): URL {
  return authorizeUrl(running.issuer, {
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'notes:read notes:write',
    resource: RESOURCE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st',
  });
}

describe('Client ID Metadata Documents (MCP 2026-07-28 client registration)', () => {
  it('advertises client_id_metadata_document_supported in RFC 8414 metadata', () => {
    expect(as.client_id_metadata_document_supported).toBe(true);
  });

  it('authorizes a client whose client_id is the https URL of its metadata document, and issues its token', async () => {
    const { verifier, challenge } = await pkcePair();
    const r = await headlessAuthorize({ authorizationUrl: request(host.clientId, challenge), username: 'alice', password: 'alice-password', redirectUri: REDIRECT_URI });
    expect(host.fetches()).toBeGreaterThan(0);
    const client = { client_id: host.clientId };
    const params = oauth.validateAuthResponse(as, client, r.callbackUrl, 'st');
    const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, verifier, {
      additionalParameters: { resource: RESOURCE },
      ...insecure,
    });
    const t = await oauth.processAuthorizationCodeResponse(as, client, res);
    const claims = JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ client_id: host.clientId, aud: RESOURCE, scope: 'notes:read notes:write' });
  });

  it('refuses a metadata document on a loopback origin it was not told to trust (SSRF guard)', async () => {
    const res = await fetch(request(untrusted.clientId, (await pkcePair()).challenge), { redirect: 'manual' });
    // Without a known client there is no redirect back: an error page naming the error, never a code.
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('invalid_client');
    expect(untrusted.fetches()).toBe(0);
  });
});
