/**
 * The resource server and the embedded IdP as real processes, with real tokens from the authorization-code +
 * PKCE flow (RFC 7636, RFC 8707 resource indicators) and the MCP SDK's own clients over both transports.
 */
import { DEMO_USERS, CLI_CLIENT_ID } from '@mcp-lab/embedded-idp';
import { findChallenge, parseWwwAuthenticate } from '@mcp-lab/protocol';
import type { Challenge } from '@mcp-lab/protocol';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obtainToken } from './harness/idp-token.ts';
import type { ObtainedToken } from './harness/idp-token.ts';
import { startEmbeddedStack } from './harness/stack-embedded.ts';
import type { EmbeddedStack } from './harness/stack-embedded.ts';

const SCOPE = 'notes:read notes:write';
const TOOLS = ['notes_add', 'notes_delete', 'notes_list', 'whoami'];
const INIT_BODY = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'rs-embedded', version: '1' } },
};
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function demoUser(username: string) {
  const user = DEMO_USERS.find((u) => u.username === username);
  if (user === undefined) throw new Error(`no demo user ${username}`);
  return user;
}
const ALICE = demoUser('alice');
const BOB = demoUser('bob');

let stack: EmbeddedStack;
/** An RS that only accepts tokens for https://other.example (its own IdP issues tokens for the RS's URLs). */
let wrongAudience: EmbeddedStack;
let aliceMcp: ObtainedToken;
let aliceSse: ObtainedToken;
let bobMcp: ObtainedToken;
let aliceReadOnly: ObtainedToken;
let aliceAtWrongAudience: ObtainedToken;

beforeAll(async () => {
  [stack, wrongAudience] = await Promise.all([startEmbeddedStack(), startEmbeddedStack({ rsEnv: { MCP_AUDIENCE: 'https://other.example' } })]);
  const login = (s: EmbeddedStack, user: { username: string; password: string }, path: '/mcp' | '/sse', scope = SCOPE, clientId?: string) =>
    obtainToken({
      issuer: s.idpIssuer,
      resource: `${s.rsUrl}${path}`,
      scope,
      username: user.username,
      password: user.password,
      ...(clientId === undefined ? {} : { clientId }),
    });
  [aliceMcp, aliceSse, bobMcp, aliceReadOnly, aliceAtWrongAudience] = await Promise.all([
    login(stack, ALICE, '/mcp'),
    login(stack, ALICE, '/sse'),
    // The pre-registered CLI client as well as dynamically registered ones.
    login(stack, BOB, '/mcp', SCOPE, CLI_CLIENT_ID),
    login(stack, ALICE, '/mcp', 'notes:read'),
    login(wrongAudience, ALICE, '/mcp'),
  ]);
});

afterAll(async () => {
  await Promise.all([stack?.stop(), wrongAudience?.stop()]);
});

interface Note {
  readonly id: string;
  readonly text: string;
  readonly createdAt: string;
}

/** The JSON a tool returned as its one text content. */
function toolJson<T = unknown>(result: unknown): T {
  const content = (result as { content: Array<{ type: string; text: string }> }).content;
  expect(content[0]?.type).toBe('text');
  return JSON.parse(content[0]!.text) as T;
}

/** A fetch that sets `extra` headers on every request and records the headers each request was sent with. */
function fetchWith(extra: Record<string, string>, sent: Headers[] = []): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(extra)) headers.set(name, value);
    sent.push(headers);
    return fetch(input, { ...init, headers });
  };
}

async function connectStreamable(token: string, fetchImpl?: typeof fetch): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'rs-embedded', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(`${stack.rsUrl}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
  });
  await client.connect(transport);
  return { client, transport };
}

async function connectSseWithBearer(token: string): Promise<Client> {
  const client = new Client({ name: 'rs-embedded', version: '1' });
  const authorization = `Bearer ${token}`;
  const transport = new SSEClientTransport(new URL(`${stack.rsUrl}/sse`), {
    eventSourceInit: { fetch: fetchWith({ authorization }) },
    requestInit: { headers: { authorization } },
  });
  await client.connect(transport);
  return client;
}

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

/** Opens GET /sse by hand with `headers`; returns the announced message endpoint and a way to hang up. */
async function openRawSse(headers: Record<string, string>): Promise<{ endpoint: URL; close: () => void }> {
  const controller = new AbortController();
  const res = await fetch(`${stack.rsUrl}/sse`, { headers: { ...headers, accept: 'text/event-stream' }, signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('stream ended before the endpoint event');
    buffer += value;
    const m = /event: endpoint\ndata: (\S+)\n/.exec(buffer);
    if (m?.[1]) return { endpoint: new URL(m[1], stack.rsUrl), close: () => controller.abort() };
  }
}

/** The single Bearer challenge of a response. */
function bearerChallengeOf(res: Response): Challenge {
  const header = res.headers.get('www-authenticate');
  expect(header).not.toBeNull();
  const challenge = findChallenge(parseWwwAuthenticate(header!), 'Bearer');
  expect(challenge).toBeDefined();
  return challenge!;
}

describe('real tokens from the embedded IdP', () => {
  it('are RS256 JWT access tokens for the requested resource, with a refresh token', () => {
    const [header, payload] = aliceMcp.access_token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: stack.idpIssuer, sub: ALICE.sub, aud: `${stack.rsUrl}/mcp`, scope: SCOPE });
    expect(aliceMcp.token_type.toLowerCase()).toBe('bearer');
    expect(aliceMcp.refresh_token).toEqual(expect.any(String));
  });
});

describe('Streamable HTTP with a bearer token', () => {
  it("initializes, lists the tools, and whoami reports alice's verified identity", async () => {
    const { client, transport } = await connectStreamable(aliceMcp.access_token);
    try {
      expect(client.getServerVersion()?.name).toBe('mcp-lab-notes');
      expect(transport.sessionId).toEqual(expect.any(String));
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
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
    const { client, transport } = await connectStreamable(aliceMcp.access_token);
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
    const client = await connectSseWithBearer(aliceSse.access_token);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
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
    const sse = await connectSseWithBearer(aliceSse.access_token);
    const { client: http, transport } = await connectStreamable(aliceMcp.access_token);
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
      expect(await res.json()).toMatchObject({ error: 'forbidden_origin' });
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

describe('users are kept apart', () => {
  it("bob sees none of alice's notes and cannot delete them", async () => {
    const alice = await connectStreamable(aliceMcp.access_token);
    const bob = await connectStreamable(bobMcp.access_token);
    try {
      expect(toolJson(await bob.client.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({ sub: BOB.sub, email: BOB.email, client_id: CLI_CLIENT_ID });
      const added = toolJson<Note>(await alice.client.callTool({ name: 'notes_add', arguments: { text: 'alice only' } }));

      const bobsNotes = toolJson<Note[]>(await bob.client.callTool({ name: 'notes_list', arguments: {} }));
      expect(bobsNotes.map((n) => n.id)).not.toContain(added.id);
      expect(bobsNotes.map((n) => n.text)).not.toContain('alice only');

      const attempt = await bob.client.callTool({ name: 'notes_delete', arguments: { id: added.id } });
      expect(attempt.isError).toBe(true);
      expect(toolJson<Note[]>(await alice.client.callTool({ name: 'notes_list', arguments: {} }))).toContainEqual(added);

      await alice.client.callTool({ name: 'notes_delete', arguments: { id: added.id } });
    } finally {
      await alice.transport.terminateSession();
      await bob.transport.terminateSession();
      await Promise.all([alice.client.close(), bob.client.close()]);
    }
  });

  it("refuses bob's real token on alice's Streamable HTTP session (403)", async () => {
    const alice = await connectStreamable(aliceMcp.access_token);
    try {
      const res = await fetch(`${stack.rsUrl}/mcp`, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${bobMcp.access_token}`, 'mcp-session-id': alice.transport.sessionId! },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'notes_list', arguments: {} } }),
      });
      expect(res.status).toBe(403);
      const text = await res.text();
      expect(text).not.toContain(ALICE.sub);
      // What it is: someone else's session, not a scope problem (no challenge, so no client re-authorizes).
      expect(res.headers.get('www-authenticate')).toBeNull();
      expect(JSON.parse(text)).toMatchObject({ error: 'session_forbidden' });
    } finally {
      await alice.transport.terminateSession();
      await alice.client.close();
    }
  });
});

describe('a token with only notes:read', () => {
  it('may read, but notes_add answers HTTP 403 insufficient_scope naming notes:write', async () => {
    const exchanges: Array<{ body: string; res: Response }> = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      exchanges.push({ body: typeof init?.body === 'string' ? init.body : '', res });
      return res;
    };
    const { client, transport } = await connectStreamable(aliceReadOnly.access_token, recording);
    try {
      expect(toolJson(await client.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({ sub: ALICE.sub, permissions: ['notes:read'] });
      expect(toolJson(await client.callTool({ name: 'notes_list', arguments: {} }))).toEqual(expect.any(Array));

      await expect(client.callTool({ name: 'notes_add', arguments: { text: 'not allowed' } })).rejects.toMatchObject({ code: 403 });
      const refused = exchanges.find((e) => e.body.includes('"notes_add"'))!.res;
      expect(refused.status).toBe(403);
      const challenges = parseWwwAuthenticate(refused.headers.get('www-authenticate')!);
      expect(challenges).toHaveLength(1);
      const { params } = challenges[0]!;
      expect(challenges[0]!.scheme).toBe('Bearer');
      expect(params.error).toBe('insufficient_scope');
      expect(params.scope?.split(' ')).toContain('notes:write');
      expect(params.resource_metadata).toBe(`${stack.rsUrl}/.well-known/oauth-protected-resource/mcp`);
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });
});

describe('refusals of real tokens', () => {
  it('an RS configured for another audience refuses alice\'s token with 401 invalid_token', async () => {
    const res = await fetch(`${wrongAudience.rsUrl}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${aliceAtWrongAudience.access_token}` },
      body: JSON.stringify(INIT_BODY),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });
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

    const { client, transport } = await connectStreamable(refreshed.access_token);
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
    const token = await obtainToken({ issuer: stack.idpIssuer, resource: `${stack.rsUrl}/mcp`, scope: SCOPE, username: BOB.username, password: BOB.password });
    await token.refresh();
    await expect(token.refresh(token.refresh_token)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
