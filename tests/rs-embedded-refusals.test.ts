/**
 * Refusals and refresh with real tokens from the embedded IdP: a token for another audience, from another IdP or
 * with an altered signature is refused with 401 invalid_token; a request without credentials is challenged towards
 * its metadata; refresh tokens rotate and a rotated-away one is refused.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obtainToken } from '@mcp-lab/test-kit/tokens';
import { ALICE, BOB, bearerChallengeOf, connectStreamable, embeddedToken, INIT_BODY, MCP_HEADERS, NOTES_SCOPE, toolJson } from '@mcp-lab/test-kit/rs-session';
import { startEmbeddedStack, type EmbeddedStack } from '@mcp-lab/test-kit/stack-embedded';
import type { ObtainedToken } from '@mcp-lab/test-kit/tokens';

let stack: EmbeddedStack;
/** An RS that only accepts tokens for https://other.example (its own IdP issues tokens for the RS's URLs). */
let wrongAudience: EmbeddedStack;
let aliceMcp: ObtainedToken;
let aliceAtWrongAudience: ObtainedToken;

beforeAll(async () => {
  [stack, wrongAudience] = await Promise.all([startEmbeddedStack(), startEmbeddedStack({ rsEnv: { MCP_AUDIENCE: 'https://other.example' } })]);
  [aliceMcp, aliceAtWrongAudience] = await Promise.all([embeddedToken(stack, ALICE, '/mcp'), embeddedToken(wrongAudience, ALICE, '/mcp')]);
});

afterAll(async () => {
  await Promise.all([stack?.stop(), wrongAudience?.stop()]);
});

describe('refusals of real tokens', () => {
  it('an RS configured for another audience refuses alice\'s token with 401 invalid_token', async () => {
    const res = await fetch(`${wrongAudience.rsUrl}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${aliceAtWrongAudience.access_token}` },
      body: JSON.stringify(INIT_BODY),
    });
    expect(res.status).toBe(401);
    // A JSON-RPC error with the request's id; the RFC 6750 code travels in data.
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: INIT_BODY.id, error: { code: -31401, data: { error: 'invalid_token' } } });
    const { params } = bearerChallengeOf(res);
    expect(params.error).toBe('invalid_token');
    expect(params.error_description).toContain('aud');
    expect(params.resource_metadata).toBe(`${wrongAudience.rsUrl}/.well-known/oauth-protected-resource/mcp`);
  });

  it("the SDK client cannot connect to that RS with alice's token", async () => {
    const client = new Client({ name: 'rs-embedded', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${wrongAudience.rsUrl}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${aliceAtWrongAudience.access_token}` } },
    });
    await expect(client.connect(transport)).rejects.toMatchObject({ code: 401 });
    await client.close();
  });

  it("refuses a token from another IdP (foreign issuer and keys) with 401 invalid_token", async () => {
    const res = await fetch(`${stack.rsUrl}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${aliceAtWrongAudience.access_token}` },
      body: JSON.stringify(INIT_BODY),
    });
    expect(res.status).toBe(401);
    await res.body?.cancel();
    expect(bearerChallengeOf(res).params.error).toBe('invalid_token');
  });

  it('refuses a real token whose signature was altered with 401 invalid_token', async () => {
    const [h, p, s] = aliceMcp.access_token.split('.') as [string, string, string];
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    const res = await fetch(`${stack.rsUrl}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${h}.${p}.${flipped}` },
      body: JSON.stringify(INIT_BODY),
    });
    expect(res.status).toBe(401);
    await res.body?.cancel();
    expect(bearerChallengeOf(res).params).toMatchObject({ error: 'invalid_token', error_description: 'the access token signature is invalid' });
  });

  it('challenges a request without credentials, pointing at metadata that names the IdP', async () => {
    const res = await fetch(`${stack.rsUrl}/mcp`, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INIT_BODY) });
    expect(res.status).toBe(401);
    await res.body?.cancel();
    const { params } = bearerChallengeOf(res);
    expect(params).toEqual({ scope: 'notes:read', resource_metadata: `${stack.rsUrl}/.well-known/oauth-protected-resource/mcp` });
    const prm = await fetch(params.resource_metadata!);
    expect(prm.status).toBe(200);
    expect(await prm.json()).toMatchObject({ resource: `${stack.rsUrl}/mcp`, authorization_servers: [stack.idpIssuer] });
  });
});

describe('refresh', () => {
  it('a refreshed access token works, and the refresh token rotates', async () => {
    const refreshed = await aliceMcp.refresh();
    expect(refreshed.access_token).not.toBe(aliceMcp.access_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(aliceMcp.refresh_token);

    const { client, transport } = await connectStreamable(stack.rsUrl, refreshed.access_token);
    try {
      expect(toolJson(await client.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({
        iss: stack.idpIssuer,
        sub: ALICE.sub,
        aud: [`${stack.rsUrl}/mcp`],
        permissions: ['notes:read', 'notes:write'],
      });
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });

  it('a rotated-away refresh token is refused by the IdP', async () => {
    const token = await obtainToken({ issuer: stack.idpIssuer, resource: `${stack.rsUrl}/mcp`, scope: NOTES_SCOPE, username: BOB.username, password: BOB.password });
    await token.refresh();
    await expect(token.refresh(token.refresh_token)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
