/**
 * The resource server trusting a real Keycloak (realm mcp-lab): Keycloak's access tokens carry the RS identifiers in
 * `aud` (audience mapper) and the notes scopes in `scope`, so the RS works with its defaults — only MCP_ISSUER is set,
 * the JWKS is discovered. A token missing notes:write is stepped up with 403 insufficient_scope, and an RS whose
 * audience Keycloak does not put into tokens refuses them with invalid_token.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChallenge, parseWwwAuthenticate } from '@mcp-lab/protocol';
import { freePort } from '@mcp-lab/test-kit/free-port';
import { keycloakTokens, startKeycloak, type RunningKeycloak } from '@mcp-lab/test-kit/keycloak-server';
import { requireKeycloak } from './provisioned.ts';
import type { RunningProcess } from '@mcp-lab/test-kit/processes';
import { startRsProcess } from '@mcp-lab/test-kit/rs-process';
import { INIT_BODY, MCP_HEADERS } from '@mcp-lab/test-kit/mcp-messages';
import { toolJson } from '@mcp-lab/test-kit/rs-session';

const ok = requireKeycloak() !== undefined;

function startRs(issuer: string, port: number, env: Record<string, string> = {}): Promise<RunningProcess> {
  // Keycloak's JVM answers its first metadata/JWKS requests slowly on a busy machine; the RS default is 5 s.
  return startRsProcess({ issuer, port, env: { MCP_JWKS_TIMEOUT_MS: '20000', ...env } });
}

/** Raw JSON-RPC over Streamable HTTP, to see the HTTP status and challenge the SDK would hide. */
async function rpc(url: string, token: string, body: unknown, session?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      ...MCP_HEADERS,
      authorization: `Bearer ${token}`,
      ...(session === undefined ? {} : { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }),
    },
    body: JSON.stringify(body),
  });
}

let kc: RunningKeycloak;
let rs: RunningProcess;
let rsUrl: string;

describe.runIf(ok)('the RS with a real Keycloak as its authorization server', () => {
  beforeAll(async () => {
    const rsPort = await freePort();
    rsUrl = `http://127.0.0.1:${rsPort}`;
    kc = await startKeycloak({ rsUrl });
    rs = await startRs(kc.issuer, rsPort);
  }, 300_000);

  afterAll(async () => {
    if (process.env.MCP_LAB_DEBUG) process.stderr.write(`${rs?.output()}\n${kc?.output()}\n`);
    await rs?.stop();
    await kc?.stop();
  });

  acceptedTokenTests();
  audienceRefusalTests();
});

function acceptedTokenTests(): void {
  it('names Keycloak in its protected resource metadata', async () => {
    const res = await fetch(`${rsUrl}/.well-known/oauth-protected-resource/mcp`);
    const prm = (await res.json()) as { resource: string; authorization_servers: string[] };
    expect(prm.resource).toBe(`${rsUrl}/mcp`);
    expect(prm.authorization_servers).toEqual([kc.issuer]);
  });

  it("serves alice's tools with her Keycloak token (whoami, notes_add, notes_list)", async () => {
    const { access_token } = await keycloakTokens({ issuer: kc.issuer, username: 'alice', password: 'alice-password' });
    const client = new Client({ name: 'keycloak-rs-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${rsUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${access_token}` } } }),
    );
    try {
      const whoami = toolJson(await client.callTool({ name: 'whoami', arguments: {} })) as Record<string, unknown>;
      expect(whoami.iss).toBe(kc.issuer);
      expect(whoami.permissions).toEqual(expect.arrayContaining(['notes:read', 'notes:write']));
      expect(whoami.email).toBe('alice@example.com');
      const added = toolJson(await client.callTool({ name: 'notes_add', arguments: { text: 'from keycloak' } })) as { id: string };
      const notes = toolJson(await client.callTool({ name: 'notes_list', arguments: {} })) as Array<{ id: string; text: string }>;
      expect(notes).toContainEqual(expect.objectContaining({ id: added.id, text: 'from keycloak' }));
    } finally {
      await client.close();
    }
  });

  it('answers 403 insufficient_scope naming notes:write when the token has only notes:read', async () => {
    const { access_token } = await keycloakTokens({
      issuer: kc.issuer,
      username: 'bob',
      password: 'bob-password',
      scope: 'openid notes:read',
    });
    const init = await rpc(`${rsUrl}/mcp`, access_token, INIT_BODY);
    expect(init.status).toBe(200);
    const session = init.headers.get('mcp-session-id') ?? undefined;
    await init.body?.cancel();
    const initialized = await rpc(`${rsUrl}/mcp`, access_token, { jsonrpc: '2.0', method: 'notifications/initialized' }, session);
    await initialized.body?.cancel();
    const call = await rpc(
      `${rsUrl}/mcp`,
      access_token,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'notes_add', arguments: { text: 'no' } } },
      session,
    );
    expect(call.status).toBe(403);
    await call.body?.cancel();
    const challenge = findChallenge(parseWwwAuthenticate(call.headers.get('www-authenticate') ?? ''), 'Bearer');
    expect(challenge?.params.error).toBe('insufficient_scope');
    expect(String(challenge?.params.scope).split(' ')).toContain('notes:write');
  });
}

function audienceRefusalTests(): void {
  it("refuses a Keycloak token at an RS whose identifiers are not in the token's aud", async () => {
    const port = await freePort();
    const other = await startRs(kc.issuer, port);
    try {
      const { access_token } = await keycloakTokens({ issuer: kc.issuer, username: 'alice', password: 'alice-password' });
      const res = await rpc(`http://127.0.0.1:${port}/mcp`, access_token, INIT_BODY);
      expect(res.status).toBe(401);
      await res.body?.cancel();
      const challenge = findChallenge(parseWwwAuthenticate(res.headers.get('www-authenticate') ?? ''), 'Bearer');
      expect(challenge?.params.error).toBe('invalid_token');
    } finally {
      await other.stop();
    }
  });
}
