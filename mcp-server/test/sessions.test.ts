/**
 * Session binding, cookie sessions, Origin checks, per-user notes, robustness and the JWKS outage, via inject.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { rpcMessages } from '@mcp-lab/test-kit/sse';
import { MCP_HEADERS, mint, openSession, PUBLIC_URL, testApp, toolCall, INIT_BODY, mcpError } from './helpers.ts';
import { useTestRs } from './use-rs.ts';

const PRM_MCP = `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp`;

const rs = useTestRs({}, { tokens: { alice: { sub: 'alice', email: 'alice@example.com' }, bob: { sub: 'bob' } } });

async function call(token: string | { cookie: string; origin?: string }, sid: string, body: unknown) {
  const auth = typeof token === 'string' ? { authorization: `Bearer ${token}` } : { cookie: token.cookie, ...(token.origin ? { origin: token.origin } : {}) };
  return rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...auth, 'mcp-session-id': sid }, payload: body as object });
}

function toolText(body: string): unknown {
  const [msg] = rpcMessages(body);
  return JSON.parse(msg?.result?.content?.[0]?.text);
}

describe('Streamable HTTP session binding', () => {
  it("rejects user B's token on user A's Streamable session with 403 and no session data", async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const res = await call(rs.tokens.bob, sid, toolCall('whoami'));
    expect(res.statusCode).toBe(403);
    // No Bearer challenge: bob's token is valid, and no scope would open alice's session, so nothing may send a
    // client into a new authorization (a 403 insufficient_scope would).
    expect(res.headers['www-authenticate']).toBeUndefined();
    // A JSON-RPC error on the MCP endpoint; the code and description travel in data.
    expect(res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -31403, data: { error: 'session_forbidden', error_description: 'this session belongs to a different user' } } });
    expect(res.body).not.toContain('alice');
  });

  it("rejects a credential-less request on an existing session with 401", async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, 'mcp-session-id': sid }, payload: toolCall('whoami') });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer scope="notes:read", resource_metadata="${PRM_MCP}"`);
  });

  it('answers 404 for an unknown session id', async () => {
    const res = await call(rs.tokens.alice, 'no-such-session', toolCall('whoami'));
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject(mcpError(-31404, 'session_not_found', 2));
  });

  it("refuses user B's DELETE of user A's session, and the session survives", async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const del = await rs.app.inject({ method: 'DELETE', url: '/mcp', headers: { authorization: `Bearer ${rs.tokens.bob}`, 'mcp-session-id': sid } });
    expect(del.statusCode).toBe(403);
    expect((await call(rs.tokens.alice, sid, toolCall('whoami'))).statusCode).toBe(200);
  });

  it('DELETE ends the session; it is then unknown (404)', async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const del = await rs.app.inject({ method: 'DELETE', url: '/mcp', headers: { authorization: `Bearer ${rs.tokens.alice}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' } });
    expect(del.statusCode).toBe(200);
    expect((await call(rs.tokens.alice, sid, toolCall('whoami'))).statusCode).toBe(404);
  });

  it('requires initialize to open a session (400 otherwise)', async () => {
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}` }, payload: toolCall('whoami') });
    expect(res.statusCode).toBe(400);
  });
});

describe('notes are per user', () => {
  it("never shows or deletes another user's notes", async () => {
    const a = await openSession(rs.app, rs.tokens.alice);
    const b = await openSession(rs.app, rs.tokens.bob);
    const added = toolText((await call(rs.tokens.alice, a, toolCall('notes_add', { text: 'alice secret' }))).body) as { id: string };
    expect(added.id).toBeTypeOf('string');

    expect(toolText((await call(rs.tokens.bob, b, toolCall('notes_list'))).body)).toEqual([]);
    const del = await call(rs.tokens.bob, b, toolCall('notes_delete', { id: added.id }));
    expect(del.statusCode).toBe(200);
    expect(rpcMessages(del.body)[0]?.result?.isError).toBe(true);

    const list = toolText((await call(rs.tokens.alice, a, toolCall('notes_list'))).body) as Array<{ id: string; text: string }>;
    expect(list.map((n) => n.text)).toEqual(['alice secret']);
  });

  it('whoami reports the verified identity', async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const who = toolText((await call(rs.tokens.alice, sid, toolCall('whoami'))).body);
    expect(who).toMatchObject({
      iss: 'http://127.0.0.1:4999',
      sub: 'alice',
      aud: [`${PUBLIC_URL}/mcp`],
      permissions: ['notes:read', 'notes:write'],
      client_id: 'test-client',
      email: 'alice@example.com',
    });
  });

  it('rejects an over-long note via the tool schema, without a 5xx', async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const res = await call(rs.tokens.alice, sid, toolCall('notes_add', { text: 'x'.repeat(2001) }));
    expect(res.statusCode).toBe(200);
    expect(rpcMessages(res.body)[0]?.result?.isError ?? rpcMessages(res.body)[0]?.error).toBeTruthy();
  });
});

describe('cookie sessions', () => {
  async function login(token: string): Promise<string> {
    const res = await rs.app.inject({ method: 'POST', url: '/session', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(204);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^mcp_lab_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain('Expires=');
    return setCookie.split(';')[0]!;
  }

  it('sets an opaque HttpOnly SameSite=Strict cookie that is not the token', async () => {
    const cookie = await login(rs.tokens.alice);
    expect(cookie).not.toContain(rs.tokens.alice.split('.')[1]!);
  });

  it('authenticates an MCP session with the cookie and an allowed Origin', async () => {
    const cookie = await login(rs.tokens.alice);
    const init = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, cookie, origin: PUBLIC_URL }, payload: INIT_BODY });
    expect(init.statusCode).toBe(200);
    const sid = String(init.headers['mcp-session-id']);
    const who = await call({ cookie, origin: PUBLIC_URL }, sid, toolCall('whoami'));
    expect(toolText(who.body)).toMatchObject({ sub: 'alice' });
  });

  it('refuses a cookie request from a foreign Origin with 403', async () => {
    const cookie = await login(rs.tokens.alice);
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, cookie, origin: 'http://evil.example' }, payload: INIT_BODY });
    expect(res.statusCode).toBe(403);
    // Refused by the Origin guard before the body is read: a JSON-RPC error without an id.
    expect(res.json()).toMatchObject(mcpError(-31403, 'forbidden_origin'));
    expect(res.json()).not.toHaveProperty('id');
  });

  it('refuses a cookie-authenticated POST without any Origin with 403', async () => {
    const cookie = await login(rs.tokens.alice);
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, cookie }, payload: INIT_BODY });
    expect(res.statusCode).toBe(403);
    // The cookie's CSRF rule runs with authentication, after the body is read: the error carries its id.
    expect(res.json()).toMatchObject(mcpError(-31403, 'forbidden_origin', INIT_BODY.id));
  });

  it('lets the bearer win over the cookie', async () => {
    const cookie = await login(rs.tokens.alice);
    const sid = await openSession(rs.app, rs.tokens.bob);
    const res = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, cookie, authorization: `Bearer ${rs.tokens.bob}`, 'mcp-session-id': sid },
      payload: toolCall('whoami'),
    });
    expect(toolText(res.body)).toMatchObject({ sub: 'bob' });
  });

  it("binds cookie requests to the session owner too (alice's cookie on bob's session → 403)", async () => {
    const cookie = await login(rs.tokens.alice);
    const sid = await openSession(rs.app, rs.tokens.bob);
    const res = await call({ cookie, origin: PUBLIC_URL }, sid, toolCall('whoami'));
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -31403, data: { error: 'session_forbidden' } } });
  });

  it('DELETE /session forgets the cookie; it then gets a 401 challenge', async () => {
    const cookie = await login(rs.tokens.alice);
    const del = await rs.app.inject({ method: 'DELETE', url: '/session', headers: { cookie, origin: PUBLIC_URL } });
    expect(del.statusCode).toBe(204);
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, cookie, origin: PUBLIC_URL }, payload: INIT_BODY });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer scope="notes:read", resource_metadata="${PRM_MCP}"`);
  });

  it('POST /session needs a bearer token, not a cookie', async () => {
    const cookie = await login(rs.tokens.alice);
    const res = await rs.app.inject({ method: 'POST', url: '/session', headers: { cookie, origin: PUBLIC_URL } });
    expect(res.statusCode).toBe(401);
  });
});

describe('Origin validation (DNS rebinding)', () => {
  it('refuses a bearer request from a foreign Origin with 403', async () => {
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}`, origin: 'http://evil.example' }, payload: INIT_BODY });
    expect(res.statusCode).toBe(403);
  });

  it('refuses GET /sse from a foreign Origin with 403', async () => {
    const res = await rs.app.inject({ method: 'GET', url: '/sse', headers: { authorization: `Bearer ${rs.tokens.alice}`, origin: 'http://evil.example' } });
    expect(res.statusCode).toBe(403);
  });

  it('accepts the RS own origin', async () => {
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}`, origin: PUBLIC_URL }, payload: INIT_BODY });
    expect(res.statusCode).toBe(200);
  });
});

describe('hostile bodies never cause a 5xx', () => {
  it.each([
    { name: 'invalid JSON', payload: '{"jsonrpc":', type: 'application/json', status: 400 },
    { name: 'not JSON-RPC', payload: '{"hello":"world"}', type: 'application/json', status: 400 },
    { name: 'empty batch', payload: '[]', type: 'application/json', status: 400 },
    { name: 'JSON-RPC with a bad version', payload: '{"jsonrpc":"1.0","id":1,"method":"x"}', type: 'application/json', status: 400 },
    { name: 'a string body', payload: '"initialize"', type: 'application/json', status: 400 },
    { name: 'text/plain', payload: 'hello', type: 'text/plain', status: 400 },
    { name: 'unsupported media type', payload: '<x/>', type: 'application/xml', status: 415 },
    { name: 'a 2 MiB body', payload: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x', params: { pad: 'x'.repeat(2 * 1024 * 1024) } }), type: 'application/json', status: 413 },
  ])('$name → $status', async ({ payload, type, status }) => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const res = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, 'content-type': type, authorization: `Bearer ${rs.tokens.alice}`, 'mcp-session-id': sid },
      payload,
    });
    expect(res.statusCode).toBe(status);
  });

  it('malformed JSON without credentials is a 401, not a parse error (auth runs first)', async () => {
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: '{nope' });
    expect(res.statusCode).toBe(401);
  });

  it('POST /messages without sessionId → 400; unknown sessionId → 404', async () => {
    const h = { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}` };
    expect((await rs.app.inject({ method: 'POST', url: '/messages', headers: h, payload: toolCall('whoami') })).statusCode).toBe(400);
    expect((await rs.app.inject({ method: 'POST', url: '/messages?sessionId=nope', headers: h, payload: toolCall('whoami') })).statusCode).toBe(404);
  });
});

describe('authorization server outages', () => {
  it('answers 503 (not 401) when the JWKS is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = await testApp({ MCP_JWKS_URL: `http://127.0.0.1:${port}/jwks` });
    try {
      const res = await down.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}` }, payload: INIT_BODY });
      expect(res.statusCode).toBe(503);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.json()).toMatchObject(mcpError(-31503, 'temporarily_unavailable', INIT_BODY.id));
    } finally {
      await down.close();
    }
  });

  it('answers 503 after a bounded wait when the JWKS hangs', async () => {
    const hanging: Server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const port = (hanging.address() as AddressInfo).port;
    const slow = await testApp({ MCP_JWKS_URL: `http://127.0.0.1:${port}/jwks`, MCP_JWKS_TIMEOUT_MS: '200' });
    try {
      const res = await slow.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}` }, payload: INIT_BODY });
      expect(res.statusCode).toBe(503);
    } finally {
      await slow.close();
      hanging.closeAllConnections();
      await new Promise<void>((r) => hanging.close(() => r()));
    }
  });

  it('answers 503 when JWKS discovery from the issuer metadata fails, then recovers once the AS is up and the retry window passed', async () => {
    let up = false;
    let t = Date.now();
    const fetchImpl: typeof fetch = async (input) => {
      const url = String(input instanceof Request ? input.url : input);
      if (!up) throw new TypeError('fetch failed');
      if (url === 'http://127.0.0.1:4999/.well-known/oauth-authorization-server') {
        return Response.json({ issuer: 'http://127.0.0.1:4999', jwks_uri: 'http://127.0.0.1:4999/jwks' });
      }
      if (url === 'http://127.0.0.1:4999/jwks') return Response.json({ keys: [rs.keys.publicJwk] });
      return new Response('not found', { status: 404 });
    };
    const lazy = await testApp({ MCP_JWKS_RETRY_MS: '10000' }, { fetch: fetchImpl, now: () => t });
    try {
      const h = { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}` };
      expect((await lazy.inject({ method: 'POST', url: '/mcp', headers: h, payload: INIT_BODY })).statusCode).toBe(503);
      up = true;
      // The failure is remembered for the retry window: no new attempt, still 503.
      expect((await lazy.inject({ method: 'POST', url: '/mcp', headers: h, payload: INIT_BODY })).statusCode).toBe(503);
      t += 10_000;
      expect((await lazy.inject({ method: 'POST', url: '/mcp', headers: h, payload: INIT_BODY })).statusCode).toBe(200);
    } finally {
      await lazy.close();
    }
  });

  it('refuses metadata whose issuer differs from the configured one (503, never trusting it)', async () => {
    const fetchImpl: typeof fetch = async () => Response.json({ issuer: 'http://evil.example', jwks_uri: 'http://evil.example/jwks' });
    const lazy = await testApp({}, { fetch: fetchImpl });
    try {
      const res = await lazy.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}` }, payload: INIT_BODY });
      expect(res.statusCode).toBe(503);
    } finally {
      await lazy.close();
    }
  });
});
