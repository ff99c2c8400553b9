/**
 * The resource server and the embedded IdP as real processes, with real tokens from the authorization-code +
 * PKCE flow (RFC 7636, RFC 8707 resource indicators): the MCP SDK's own clients over both transports, with a bearer
 * token and with the RS's session cookie.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, type SseStream } from '@mcp-lab/test-kit/sse';
import { ALICE, bearerChallengeOf, connectSseWithBearer, connectStreamable, embeddedToken, fetchWith, INIT_BODY, type Note, NOTES_SCOPE, NOTES_TOOLS, toolJson } from '@mcp-lab/test-kit/rs-session';
import { startEmbeddedStack, type EmbeddedStack } from '@mcp-lab/test-kit/stack-embedded';
import type { ObtainedToken } from '@mcp-lab/test-kit/tokens';

let stack: EmbeddedStack;
let aliceMcp: ObtainedToken;
let aliceSse: ObtainedToken;

beforeAll(async () => {
  stack = await startEmbeddedStack();
  [aliceMcp, aliceSse] = await Promise.all([embeddedToken(stack, ALICE, '/mcp'), embeddedToken(stack, ALICE, '/sse')]);
});

afterAll(async () => {
  await stack?.stop();
});

/** Trades a bearer token for the RS's session cookie (`name=value`). */
async function sessionCookie(token: string): Promise<string> {
  const res = await fetch(`${stack.rsUrl}/session`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(204);
  const [setCookie] = res.headers.getSetCookie();
  expect(setCookie).toMatch(/^mcp_lab_session=[A-Za-z0-9_-]+; /);
  expect(setCookie).toContain('HttpOnly');
  expect(setCookie).toContain('SameSite=Strict');
  return setCookie!.split(';')[0]!;
}

/** Opens GET /sse with `headers`; the stream's announced message endpoint and a way to hang up. */
function openRawSse(headers: Record<string, string>): Promise<SseStream> {
  return openSse(`${stack.rsUrl}/sse`, headers);
}

describe('real tokens from the embedded IdP', () => {
  it('are RS256 JWT access tokens for the requested resource, with a refresh token', () => {
    const [header, payload] = aliceMcp.access_token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: stack.idpIssuer, sub: ALICE.sub, aud: `${stack.rsUrl}/mcp`, scope: NOTES_SCOPE });
    expect(aliceMcp.token_type.toLowerCase()).toBe('bearer');
    expect(aliceMcp.refresh_token).toEqual(expect.any(String));
  });
});

describe('Streamable HTTP with a bearer token', () => {
  it("initializes, lists the tools, and whoami reports alice's verified identity", async () => {
    const { client, transport } = await connectStreamable(stack.rsUrl, aliceMcp.access_token);
    try {
      expect(client.getServerVersion()?.name).toBe('mcp-lab-notes');
      expect(transport.sessionId).toEqual(expect.any(String));
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(NOTES_TOOLS);
      const who = toolJson(await client.callTool({ name: 'whoami', arguments: {} }));
      expect(who).toMatchObject({
        iss: stack.idpIssuer,
        sub: ALICE.sub,
        aud: [`${stack.rsUrl}/mcp`],
        permissions: ['notes:read', 'notes:write'],
        client_id: aliceMcp.client_id,
        email: ALICE.email,
      });
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });

  it('adds a note, lists it, deletes it', async () => {
    const { client, transport } = await connectStreamable(stack.rsUrl, aliceMcp.access_token);
    try {
      const added = toolJson<Note>(await client.callTool({ name: 'notes_add', arguments: { text: 'streamable: buy milk' } }));
      expect(added).toMatchObject({ id: expect.any(String), text: 'streamable: buy milk', createdAt: expect.any(String) });
      const listed = toolJson<Note[]>(await client.callTool({ name: 'notes_list', arguments: {} }));
      expect(listed).toContainEqual(added);
      const deleted = await client.callTool({ name: 'notes_delete', arguments: { id: added.id } });
      expect(deleted.isError).not.toBe(true);
      expect(toolJson(deleted)).toEqual({ deleted: added.id });
      const after = toolJson<Note[]>(await client.callTool({ name: 'notes_list', arguments: {} }));
      expect(after.map((n) => n.id)).not.toContain(added.id);
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });
});

describe('HTTP+SSE with a bearer token', () => {
  it('lists the tools, whoami, adds, lists and deletes a note', async () => {
    const client = await connectSseWithBearer(stack.rsUrl, aliceSse.access_token);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(NOTES_TOOLS);
      expect(toolJson(await client.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({
        iss: stack.idpIssuer,
        sub: ALICE.sub,
        aud: [`${stack.rsUrl}/sse`],
        permissions: ['notes:read', 'notes:write'],
      });
      const added = toolJson<Note>(await client.callTool({ name: 'notes_add', arguments: { text: 'sse: call bob' } }));
      expect(toolJson<Note[]>(await client.callTool({ name: 'notes_list', arguments: {} }))).toContainEqual(added);
      expect(toolJson(await client.callTool({ name: 'notes_delete', arguments: { id: added.id } }))).toEqual({ deleted: added.id });
      expect(toolJson<Note[]>(await client.callTool({ name: 'notes_list', arguments: {} })).map((n) => n.id)).not.toContain(added.id);
    } finally {
      await client.close();
    }
  });

  it('shares notes with Streamable HTTP: one user, one store', async () => {
    const sse = await connectSseWithBearer(stack.rsUrl, aliceSse.access_token);
    const { client: http, transport } = await connectStreamable(stack.rsUrl, aliceMcp.access_token);
    try {
      const added = toolJson<Note>(await sse.callTool({ name: 'notes_add', arguments: { text: 'written over sse' } }));
      expect(toolJson<Note[]>(await http.callTool({ name: 'notes_list', arguments: {} }))).toContainEqual(added);
      await http.callTool({ name: 'notes_delete', arguments: { id: added.id } });
    } finally {
      await sse.close();
      await transport.terminateSession();
      await http.close();
    }
  });
});

describe('HTTP+SSE with the session cookie only', () => {
  it('authenticates GET /sse and POST /messages by the cookie, never sending Authorization', async () => {
    const cookie = await sessionCookie(aliceSse.access_token);
    const sent: Headers[] = [];
    const client = new Client({ name: 'rs-embedded', version: '1' });
    const transport = new SSEClientTransport(new URL(`${stack.rsUrl}/sse`), {
      eventSourceInit: { fetch: fetchWith({ cookie }, sent) },
      // POSTs change state: a cookie-authenticated one must name an allowed Origin.
      fetch: fetchWith({ cookie, origin: stack.rsUrl }, sent),
    });
    await client.connect(transport);
    try {
      expect(toolJson(await client.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({ iss: stack.idpIssuer, sub: ALICE.sub });
      const added = toolJson<Note>(await client.callTool({ name: 'notes_add', arguments: { text: 'cookie: water plants' } }));
      expect(toolJson<Note[]>(await client.callTool({ name: 'notes_list', arguments: {} }))).toContainEqual(added);
      expect(toolJson(await client.callTool({ name: 'notes_delete', arguments: { id: added.id } }))).toEqual({ deleted: added.id });
    } finally {
      await client.close();
    }
    expect(sent.length).toBeGreaterThanOrEqual(5); // GET /sse, initialize, initialized, whoami, notes_*
    for (const headers of sent) {
      expect(headers.has('authorization')).toBe(false);
      expect(headers.get('cookie')).toBe(cookie);
    }
  });

  it('refuses a cookie-authenticated POST /messages without an Origin header (403)', async () => {
    const cookie = await sessionCookie(aliceSse.access_token);
    const sse = await openRawSse({ cookie });
    try {
      const res = await fetch(sse.endpoint, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(INIT_BODY) });
      expect(res.status).toBe(403);
      // A JSON-RPC error with the request's id; the OAuth-style code travels in data.
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: INIT_BODY.id, error: { code: -31403, data: { error: 'forbidden_origin' } } });
    } finally {
      sse.close();
    }
  });

  it('refuses a cookie-authenticated POST /messages from a foreign Origin (403)', async () => {
    const cookie = await sessionCookie(aliceSse.access_token);
    const sse = await openRawSse({ cookie });
    try {
      const res = await fetch(sse.endpoint, {
        method: 'POST',
        headers: { cookie, origin: 'http://evil.example', 'content-type': 'application/json' },
        body: JSON.stringify(INIT_BODY),
      });
      expect(res.status).toBe(403);
    } finally {
      sse.close();
    }
  });

  it('no longer authenticates with the cookie after DELETE /session (401 challenge)', async () => {
    const cookie = await sessionCookie(aliceSse.access_token);
    const del = await fetch(`${stack.rsUrl}/session`, { method: 'DELETE', headers: { cookie, origin: stack.rsUrl } });
    expect(del.status).toBe(204);
    const res = await fetch(`${stack.rsUrl}/sse`, { headers: { cookie, accept: 'text/event-stream' } });
    expect(res.status).toBe(401);
    await res.body?.cancel();
    expect(bearerChallengeOf(res).params).toEqual({ scope: 'notes:read', resource_metadata: `${stack.rsUrl}/.well-known/oauth-protected-resource/sse` });
  });
});
