/**
 * The 2026-07-28 era on /mcp: stateless requests, each authenticated on its own; server/discover; the standard
 * headers checked against the body with the spec's codes; cache hints; the same challenges and step-up as 2025.
 */
import { describe, expect, it } from 'vitest';
import { rpcMessages } from '@mcp-lab/test-kit/sse';
import { INIT_BODY, mcpError, MCP_HEADERS, MODERN_META, mint, modernRequest, openSession, PUBLIC_URL, testApp, toolCall } from './helpers.ts';
import { useTestRs } from './use-rs.ts';

const rs = useTestRs({}, { tokens: { writer: { sub: 'alice' }, reader: { sub: 'reader', scope: 'notes:read' } } });

const PRM_MCP = `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp`;

function send(token: string | undefined, req: ReturnType<typeof modernRequest>, headers: Record<string, string | undefined> = {}) {
  const all: Record<string, string> = { ...req.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) delete all[k];
    else all[k] = v;
  }
  return rs.app.inject({ method: 'POST', url: '/mcp', headers: all, payload: req.payload });
}

describe('server/discover and lists', () => {
  it('server/discover names 2026-07-28, the tools capability and the server, cacheable publicly', async () => {
    const res = await send(rs.tokens.writer, modernRequest('server/discover'));
    expect(res.statusCode).toBe(200);
    const { result, id } = res.json();
    expect(id).toBe(5);
    expect(result).toMatchObject({
      resultType: 'complete',
      supportedVersions: ['2026-07-28'],
      capabilities: { tools: {} },
      ttlMs: 3_600_000,
      cacheScope: 'public',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mcp-lab-notes', version: '0.1.0' } },
    });
    expect(res.headers['mcp-session-id']).toBeUndefined();
  });

  it('tools/list lists the four tools with cacheScope private and the configured ttlMs', async () => {
    const res = await send(rs.tokens.reader, modernRequest('tools/list'));
    expect(res.statusCode).toBe(200);
    const { result } = res.json();
    expect(result.tools.map((t: { name: string }) => t.name)).toEqual(['whoami', 'notes_list', 'notes_add', 'notes_delete']);
    expect(result).toMatchObject({ resultType: 'complete', ttlMs: 300_000, cacheScope: 'private' });
  });

  it('takes the tools/list ttlMs from MCP_TOOLS_LIST_TTL_MS', async () => {
    const other = await testApp({ ...rs.jwksEnv, MCP_TOOLS_LIST_TTL_MS: '1234' });
    try {
      const req = modernRequest('tools/list');
      const res = await other.inject({ method: 'POST', url: '/mcp', headers: { ...req.headers, authorization: `Bearer ${rs.tokens.reader}` }, payload: req.payload });
      expect(res.json().result).toMatchObject({ ttlMs: 1234, cacheScope: 'private' });
    } finally {
      await other.close();
    }
  });
});

describe('stateless tools/call', () => {
  it('answers whoami without a session, from the token of this request alone', async () => {
    const res = await send(rs.tokens.reader, modernRequest('tools/call', { name: 'whoami', arguments: {} }));
    expect(res.statusCode).toBe(200);
    expect(res.headers['mcp-session-id']).toBeUndefined();
    const { result } = res.json();
    expect(result.resultType).toBe('complete');
    expect(JSON.parse(result.content[0].text)).toMatchObject({ sub: 'reader', permissions: ['notes:read'] });
  });

  it('the lean path answers byte for byte as the v2 SDK does', async () => {
    for (const [name, args] of [['whoami', {}], ['notes_list', {}], ['notes_delete', { id: 'none' }]] as const) {
      const req = modernRequest('tools/call', { name, arguments: args }, 11);
      const lean = await send(rs.tokens.writer, req);
      // The Base64 sentinel form of the same name: valid (the SDK decodes it), but not the lean path's exact match.
      const sdk = await send(rs.tokens.writer, req, { 'mcp-name': `=?base64?${Buffer.from(name).toString('base64')}?=` });
      expect(lean.statusCode).toBe(200);
      expect(sdk.statusCode).toBe(200);
      expect(lean.body).toBe(sdk.body);
    }
  });

  it('a call with a progress token goes to the SDK and still answers', async () => {
    const req = modernRequest('tools/call', { name: 'notes_list', arguments: {} });
    req.payload.params._meta = { ...MODERN_META, progressToken: 'p1' } as typeof MODERN_META;
    const res = await send(rs.tokens.reader, req);
    expect(res.statusCode).toBe(200);
    expect(rpcMessages(res.body).at(-1)).toMatchObject({ id: 5, result: { resultType: 'complete' } });
  });

  it('ignores an Mcp-Session-Id header: no session is looked up, minted or echoed', async () => {
    const res = await send(rs.tokens.reader, modernRequest('tools/call', { name: 'whoami' }), { 'mcp-session-id': 'no-such-session' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['mcp-session-id']).toBeUndefined();
  });
});

describe('authorization is the same as in the 2025 era', () => {
  it('no credentials → 401 with the same challenge, as a JSON-RPC error with the request id', async () => {
    const res = await send(undefined, modernRequest('tools/list', {}, 'a1'));
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer scope="notes:read", resource_metadata="${PRM_MCP}"`);
    expect(res.json()).toMatchObject(mcpError(-31401, 'unauthorized', 'a1'));
  });

  it('server/discover also needs a token (every request is authenticated on its own)', async () => {
    const res = await send(undefined, modernRequest('server/discover'));
    expect(res.statusCode).toBe(401);
  });

  it('an invalid token → 401 invalid_token', async () => {
    const bad = await mint(rs.keys, { aud: 'https://elsewhere.example' });
    const res = await send(bad, modernRequest('tools/call', { name: 'whoami' }));
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    expect(res.json()).toMatchObject(mcpError(-31401, 'invalid_token', 5));
  });

  it('a tool beyond the token → 403 insufficient_scope, the challenge the 2025 era sends (same step-up)', async () => {
    const modern = await send(rs.tokens.reader, modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'x' } }, 8));
    const sid = await openSession(rs.app, rs.tokens.reader);
    const legacy = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.reader}`, 'mcp-session-id': sid },
      payload: toolCall('notes_add', { text: 'x' }, 8),
    });
    expect(modern.statusCode).toBe(403);
    expect(legacy.statusCode).toBe(403);
    expect(modern.headers['www-authenticate']).toBe(legacy.headers['www-authenticate']);
    expect(modern.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_scope", error_description="this operation needs notes:write", scope="notes:write", resource_metadata="${PRM_MCP}"`,
    );
    expect(modern.json()).toEqual(legacy.json());
    expect(modern.json()).toMatchObject(mcpError(-31403, 'insufficient_scope', 8));
  });

  it('Mcp-Name naming a tool beyond the token → 403 before the body is dispatched, whatever the body names', async () => {
    const res = await send(rs.tokens.reader, modernRequest('tools/call', { name: 'whoami' }), { 'mcp-name': 'notes_add' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toMatch(/scope="notes:write"/);
  });

  it('a body naming a tool beyond the token behind an innocent Mcp-Name → 403, nothing runs', async () => {
    const res = await send(rs.tokens.reader, modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'smuggled' } }), { 'mcp-name': 'whoami' });
    expect(res.statusCode).toBe(403);
  });

  it('Mcp-Name and body disagreeing, both allowed → 400 -32020 and the body tool does not run', async () => {
    const res = await send(rs.tokens.writer, modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'mismatch' } }, 21), { 'mcp-name': 'whoami' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ jsonrpc: '2.0', id: 21, error: { code: -32020 } });
    const list = await send(rs.tokens.writer, modernRequest('tools/call', { name: 'notes_list' }));
    expect(list.json().result.content[0].text).not.toContain('mismatch');
  });
});

describe('header and envelope validation (spec error codes, JSON-RPC bodies with the id)', () => {
  it.each([
    { name: 'missing Mcp-Method → 400 -32020', headers: { 'mcp-method': undefined }, status: 400, code: -32020 },
    { name: 'missing MCP-Protocol-Version → 400 -32020', headers: { 'mcp-protocol-version': undefined }, status: 400, code: -32020 },
    { name: 'missing Mcp-Name on tools/call → 400 -32020', headers: { 'mcp-name': undefined }, status: 400, code: -32020 },
    { name: 'Mcp-Method naming another method → 400 -32020', headers: { 'mcp-method': 'tools/list' }, status: 400, code: -32020 },
    { name: 'MCP-Protocol-Version disagreeing with the envelope → 400 -32020', headers: { 'mcp-protocol-version': '2025-11-25' }, status: 400, code: -32020 },
  ])('$name', async ({ headers, status, code }) => {
    const res = await send(rs.tokens.reader, modernRequest('tools/call', { name: 'whoami' }, 31), headers);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ jsonrpc: '2.0', id: 31, error: { code } });
  });

  it('an envelope naming an unsupported revision → 400 -32022 listing the supported ones', async () => {
    const req = modernRequest('tools/list', {}, 32);
    req.payload.params._meta = { ...MODERN_META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' };
    const res = await send(rs.tokens.reader, req, { 'mcp-protocol-version': '2099-01-01' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ id: 32, error: { code: -32022, data: { supported: ['2026-07-28'], requested: '2099-01-01' } } });
  });

  it('an envelope without clientCapabilities → 400 -32602', async () => {
    const req = modernRequest('server/discover', {}, 33);
    req.payload.params._meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } as typeof MODERN_META;
    const res = await send(rs.tokens.reader, req);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ id: 33, error: { code: -32602 } });
  });

  it('a modern MCP-Protocol-Version header on a body without the envelope → 400 -32602', async () => {
    const res = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.reader}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
      payload: { jsonrpc: '2.0', id: 34, method: 'tools/list' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ id: 34, error: { code: -32602 } });
  });

  it.each(['unknown/method', 'initialize', 'ping', 'logging/setLevel', 'resources/subscribe'])(
    'the method %s (not served in 2026-07-28) → 404 -32601 with the id',
    async (method) => {
      const res = await send(rs.tokens.reader, modernRequest(method, {}, 35));
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ jsonrpc: '2.0', id: 35, error: { code: -32601 } });
    },
  );

  it('malformed JSON with a modern protocol header → 400 -32700, after authentication', async () => {
    const headers = { ...modernRequest('tools/list').headers, authorization: `Bearer ${rs.tokens.reader}` };
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers, payload: '{"jsonrpc":' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });
    const anonymous = await rs.app.inject({ method: 'POST', url: '/mcp', headers: modernRequest('tools/list').headers, payload: '{"jsonrpc":' });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('both eras on one endpoint', () => {
  it('a 2025 session and 2026-07-28 requests of the same user, interleaved, see the same notes', async () => {
    const token = await mint(rs.keys, { sub: 'both-eras' });
    const sid = await openSession(rs.app, token);
    const added = await send(token, modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'from 2026' } }));
    expect(added.statusCode).toBe(200);
    const legacy = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid },
      payload: toolCall('notes_list'),
    });
    expect(legacy.statusCode).toBe(200);
    expect(legacy.json().result).not.toHaveProperty('resultType');
    expect(legacy.json().result.content[0].text).toContain('from 2026');
  });

  it('initialize without the envelope still opens a 2025 session', async () => {
    const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.reader}` }, payload: INIT_BODY });
    expect(res.statusCode).toBe(200);
    expect(res.headers['mcp-session-id']).toEqual(expect.any(String));
  });

  it('a 2025 request without a session names both ways in, with supported versions', async () => {
    const res = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.reader}` },
      payload: toolCall('whoami', {}, 41),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ id: 41, error: { code: -32600, data: { supportedVersions: expect.arrayContaining(['2026-07-28', '2025-11-25']) } } });
  });
});

describe('conformance fixtures', () => {
  it('are absent unless MCP_CONFORMANCE_FIXTURES=true, and behind the same authentication when present', async () => {
    const withFixtures = await testApp({ ...rs.jwksEnv, MCP_CONFORMANCE_FIXTURES: 'true' });
    try {
      const req = modernRequest('tools/call', { name: 'test_simple_text', arguments: {} });
      const anonymous = await withFixtures.inject({ method: 'POST', url: '/mcp', headers: req.headers, payload: req.payload });
      expect(anonymous.statusCode).toBe(401);
      const ok = await withFixtures.inject({ method: 'POST', url: '/mcp', headers: { ...req.headers, authorization: `Bearer ${rs.tokens.reader}` }, payload: req.payload });
      expect(ok.json().result.content[0].text).toBe('This is a simple text response for testing.');
      const absent = await send(rs.tokens.reader, req);
      expect(absent.json()).toMatchObject({ error: { code: -32602 } });
    } finally {
      await withFixtures.close();
    }
  });
});
