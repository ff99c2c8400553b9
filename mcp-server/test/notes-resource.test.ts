/**
 * The caller's notes as an MCP resource, through `app.inject`: each user lists only their own, reads only their
 * own (anyone else's URI answers exactly as a URI that does not exist), needs the notes_list permission for it,
 * and both eras serve the same resource. A listen filter naming only someone else's URI is acknowledged empty.
 */
import { describe, expect, it } from 'vitest';
import { rpcMessages } from '@mcp-lab/test-kit/sse';
import { NOTES_URI_PREFIX, notesResourceUri } from '../src/mcp/notes-resource.ts';
import { ISSUER, MCP_HEADERS, modernRequest, openSession, toolCall } from './helpers.ts';
import { useTestRs } from './use-rs.ts';

const rs = useTestRs({}, { tokens: { alice: { sub: 'alice' }, bob: { sub: 'bob' }, writeOnly: { sub: 'alice', scope: 'notes:write' } } });

const ALICE_URI = notesResourceUri({ iss: ISSUER, sub: 'alice' });
const BOB_URI = notesResourceUri({ iss: ISSUER, sub: 'bob' });

function send(token: string, req: ReturnType<typeof modernRequest>) {
  return rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...req.headers, authorization: `Bearer ${token}` }, payload: req.payload });
}

/** One request in a 2025 session; the one JSON-RPC answer. */
async function inSession(token: string, sid: string, body: unknown) {
  const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid }, payload: body as object });
  return { status: res.statusCode, message: rpcMessages(res.body)[0]! };
}

async function addNote(token: string, text: string) {
  const res = await send(token, modernRequest('tools/call', { name: 'notes_add', arguments: { text } }));
  expect(res.json().result.isError).toBeUndefined();
}

describe('the notes resource URI', () => {
  it('is one per user, opaque (neither iss nor sub readable), stable, and already in the form the SDKs key it by', () => {
    expect(ALICE_URI).not.toBe(BOB_URI);
    expect(ALICE_URI.startsWith(NOTES_URI_PREFIX)).toBe(true);
    expect(ALICE_URI).not.toContain('alice');
    expect(ALICE_URI).not.toContain('127.0.0.1');
    expect(notesResourceUri({ iss: ISSUER, sub: 'alice' })).toBe(ALICE_URI);
    expect(notesResourceUri({ iss: 'https://other.example', sub: 'alice' })).not.toBe(ALICE_URI);
    expect(new URL(ALICE_URI).href).toBe(ALICE_URI);
  });
});

describe('2026-07-28 resources', () => {
  it('server/discover advertises resources.subscribe and no listChanged', async () => {
    const { result } = (await send(rs.tokens.alice, modernRequest('server/discover'))).json();
    expect(result.capabilities.resources).toEqual({ subscribe: true, listChanged: false });
  });

  it('resources/list shows each caller only their own notes resource, cacheScope private', async () => {
    const mine = (await send(rs.tokens.alice, modernRequest('resources/list'))).json().result;
    expect(mine).toMatchObject({ resultType: 'complete', cacheScope: 'private', ttlMs: 300_000 });
    expect(mine.resources).toEqual([expect.objectContaining({ uri: ALICE_URI, name: 'notes', mimeType: 'application/json' })]);
    const theirs = (await send(rs.tokens.bob, modernRequest('resources/list'))).json().result;
    expect(theirs.resources.map((r: { uri: string }) => r.uri)).toEqual([BOB_URI]);
  });

  it("resources/read of one's own URI returns all one's notes, private and never fresh (ttlMs 0)", async () => {
    await addNote(rs.tokens.alice, 'resource one');
    await addNote(rs.tokens.alice, 'resource two');
    const res = await send(rs.tokens.alice, modernRequest('resources/read', { uri: ALICE_URI }));
    expect(res.statusCode).toBe(200);
    const { result } = res.json();
    expect(result).toMatchObject({ resultType: 'complete', cacheScope: 'private', ttlMs: 0 });
    expect(result.contents).toHaveLength(1);
    expect(result.contents[0]).toMatchObject({ uri: ALICE_URI, mimeType: 'application/json' });
    const texts = (JSON.parse(result.contents[0].text) as Array<{ text: string }>).map((n) => n.text);
    expect(texts).toEqual(expect.arrayContaining(['resource one', 'resource two']));
  });

  it("someone else's URI answers exactly as a URI that does not exist: -32602 Resource not found", async () => {
    await addNote(rs.tokens.bob, "bob's secret");
    const foreign = (await send(rs.tokens.alice, modernRequest('resources/read', { uri: BOB_URI }, 41))).json();
    const missing = `${NOTES_URI_PREFIX}${'A'.repeat(22)}`;
    const unknown = (await send(rs.tokens.alice, modernRequest('resources/read', { uri: missing }, 41))).json();
    expect(foreign).toEqual({ jsonrpc: '2.0', id: 41, error: { code: -32602, message: `Resource not found: ${BOB_URI}`, data: { uri: BOB_URI } } });
    expect(JSON.stringify(unknown).replaceAll(missing, '<uri>')).toBe(JSON.stringify(foreign).replaceAll(BOB_URI, '<uri>'));
    expect(JSON.stringify(foreign)).not.toContain('secret');
  });

  it('reading notes without notes:read → 403 insufficient_scope before dispatch, for any notes URI', async () => {
    for (const uri of [ALICE_URI, BOB_URI, ALICE_URI.replace('notes:', 'NOTES:')]) {
      const res = await send(rs.tokens.writeOnly, modernRequest('resources/read', { uri }, 42));
      expect(res.statusCode).toBe(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(res.headers['www-authenticate']).toContain('scope="notes:read"');
    }
  });

  it('an Mcp-Name header naming a notes URI needs notes:read even when the body names another URI', async () => {
    const req = modernRequest('resources/read', { uri: 'file:///elsewhere' }, 43);
    req.headers['mcp-name'] = ALICE_URI;
    expect((await send(rs.tokens.writeOnly, req)).statusCode).toBe(403);
  });
});

describe('listen filters naming someone else', () => {
  it("a listen naming only bob's URI is acknowledged without it, and the stream ends at once (nothing to deliver)", async () => {
    const res = await send(rs.tokens.alice, modernRequest('subscriptions/listen', { notifications: { resourceSubscriptions: [BOB_URI, 'file:///nope'] } }, 44));
    expect(res.statusCode).toBe(200);
    const [ack, end] = rpcMessages(res.body);
    expect(ack).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: {}, _meta: { 'io.modelcontextprotocol/subscriptionId': 44 } },
    });
    expect(end).toMatchObject({ id: 44, result: { resultType: 'complete' } });
  });

  it('a listen filter naming a notes URI needs notes:read (403 before dispatch)', async () => {
    const res = await send(rs.tokens.writeOnly, modernRequest('subscriptions/listen', { notifications: { resourceSubscriptions: [ALICE_URI] } }, 45));
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toContain('scope="notes:read"');
  });

  it('a malformed filter is left to the SDK, which refuses it (-32602)', async () => {
    const res = await send(rs.tokens.alice, modernRequest('subscriptions/listen', { notifications: { resourceSubscriptions: [ALICE_URI, 7] } }, 46));
    expect(res.json()).toMatchObject({ id: 46, error: { code: -32602 } });
  });
});

describe('2025 sessions serve the same resource', () => {
  it('initialize advertises resources; list and read agree with 2026-07-28', async () => {
    const init = await rs.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${rs.tokens.alice}` },
      payload: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
    });
    expect(rpcMessages(init.body)[0]!.result.capabilities.resources).toEqual({ subscribe: true, listChanged: false });
    const sid = await openSession(rs.app, rs.tokens.alice);
    const list = await inSession(rs.tokens.alice, sid, { jsonrpc: '2.0', id: 2, method: 'resources/list' });
    expect(list.message.result.resources.map((r: { uri: string }) => r.uri)).toEqual([ALICE_URI]);
    const legacy = await inSession(rs.tokens.alice, sid, { jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: ALICE_URI } });
    const modern = (await send(rs.tokens.alice, modernRequest('resources/read', { uri: ALICE_URI }))).json().result;
    expect(legacy.message.result.contents).toEqual(modern.contents);
  });

  it("someone else's URI answers as an unknown one, in read and in resources/subscribe", async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const missing = `${NOTES_URI_PREFIX}${'B'.repeat(22)}`;
    for (const method of ['resources/read', 'resources/subscribe']) {
      const foreign = await inSession(rs.tokens.alice, sid, { jsonrpc: '2.0', id: 4, method, params: { uri: BOB_URI } });
      const unknown = await inSession(rs.tokens.alice, sid, { jsonrpc: '2.0', id: 4, method, params: { uri: missing } });
      expect(foreign.message.error).toMatchObject({ code: -32602, message: expect.stringContaining('not found') });
      expect(JSON.stringify(unknown.message).replaceAll(missing, '<uri>')).toBe(JSON.stringify(foreign.message).replaceAll(BOB_URI, '<uri>'));
    }
  });

  it('reading or subscribing without notes:read → 403 insufficient_scope in the session too', async () => {
    const sid = await openSession(rs.app, rs.tokens.writeOnly);
    for (const method of ['resources/read', 'resources/subscribe']) {
      const res = await inSession(rs.tokens.writeOnly, sid, { jsonrpc: '2.0', id: 5, method, params: { uri: ALICE_URI } });
      expect(res.status).toBe(403);
    }
    // Tools are unaffected: a write is allowed, and the session stays usable.
    expect((await inSession(rs.tokens.writeOnly, sid, toolCall('notes_add', { text: 'w' }, 6))).status).toBe(200);
  });
});


