/**
 * The lean tools/call path: same checks, same answer as the SDK transport (JSON instead of one SSE event), and
 * everything it does not handle still reaches the SDK transport unchanged.
 */
import { describe, expect, it } from 'vitest';
import { leanToolCall, runLeanToolCall } from '../src/mcp/lean-tool-call.ts';
import { parseSse, rpcMessages } from '@mcp-lab/test-kit/sse';
import { MCP_HEADERS, openSession, PUBLIC_URL, toolCall } from './helpers.ts';
import { useTestRs } from './use-rs.ts';

const rs = useTestRs({}, {
  tokens: { alice: { sub: 'alice', email: 'alice@example.com' }, reader: { sub: 'reader', scope: 'notes:read' } },
});

function post(token: string, sid: string, body: unknown, headers: Record<string, string> = {}) {
  return rs.app.inject({
    method: 'POST',
    url: '/mcp',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid, ...headers },
    payload: body as object,
  });
}

/** The SDK transport's answer to the same call: `_meta` is one of the things the lean path leaves to it. */
function viaSdk(name: string, args: Record<string, unknown>, id: number) {
  const call = toolCall(name, args, id);
  return { ...call, params: { ...call.params, _meta: {} } };
}

/** The `data` of the single SSE event the SDK transport answers a request with. */
function sseData(body: string): string {
  const events = parseSse(body);
  expect(events).toHaveLength(1);
  return events[0]!.data;
}

describe('lean tools/call in a Streamable HTTP session', () => {
  it.each([
    ['whoami', {}],
    ['whoami', { ignored: true }],
    ['notes_list', {}],
    ['notes_delete', { id: 'no-such-note' }],
  ])('answers %s %j with JSON byte-identical to the SDK transport answer', async (name, args) => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const lean = await post(rs.tokens.alice, sid, toolCall(name, args, 7));
    const sdk = await post(rs.tokens.alice, sid, viaSdk(name, args, 7));
    expect(lean.statusCode).toBe(200);
    expect(sdk.statusCode).toBe(200);
    expect(lean.headers['content-type']).toMatch(/^application\/json/);
    expect(sdk.headers['content-type']).toBe('text/event-stream');
    expect(lean.headers['mcp-session-id']).toBe(sid);
    expect(lean.body).toBe(sseData(sdk.body));
  });

  it('adds a note with validated arguments and returns it as the SDK would', async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const res = await post(rs.tokens.alice, sid, toolCall('notes_add', { text: 'lean', extra: 1 }, 'req-1'));
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const msg = JSON.parse(res.body);
    expect(Object.keys(msg)).toEqual(['result', 'jsonrpc', 'id']);
    expect(msg.id).toBe('req-1');
    expect(JSON.parse(msg.result.content[0].text)).toMatchObject({ text: 'lean' });
    const list = rpcMessages((await post(rs.tokens.alice, sid, toolCall('notes_list'))).body)[0]!;
    expect(JSON.parse(list.result.content[0].text).map((n: { text: string }) => n.text)).toContain('lean');
  });

  it('still refuses a tool the token lacks the permission for (403 insufficient_scope with the scope)', async () => {
    const sid = await openSession(rs.app, rs.tokens.reader);
    const res = await post(rs.tokens.reader, sid, toolCall('notes_add', { text: 'x' }));
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_scope", error_description="this operation needs notes:write", scope="notes:write", resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it("still refuses another user's session (403) and an unknown one (404)", async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    expect((await post(rs.tokens.reader, sid, toolCall('whoami'))).statusCode).toBe(403);
    expect((await post(rs.tokens.alice, 'no-such-session', toolCall('whoami'))).statusCode).toBe(404);
  });

  it('leaves invalid arguments to the SDK, which answers with its own tool error', async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const res = await post(rs.tokens.alice, sid, toolCall('notes_add', { text: '' }));
    expect(res.headers['content-type']).toBe('text/event-stream');
    const [msg] = rpcMessages(res.body);
    expect(msg?.result?.isError).toBe(true);
    expect(msg?.result?.content?.[0]?.text).toContain('Input validation error');
  });

  it('leaves an unknown tool, a batch and a notification to the SDK transport', async () => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const unknown = await post(rs.tokens.alice, sid, toolCall('no_such_tool'));
    expect(unknown.headers['content-type']).toBe('text/event-stream');
    expect(rpcMessages(unknown.body)[0]?.result?.isError).toBe(true);
    const batch = await post(rs.tokens.alice, sid, [toolCall('whoami', {}, 1), toolCall('notes_list', {}, 2)]);
    expect(batch.headers['content-type']).toBe('text/event-stream');
    expect(rpcMessages(batch.body).map((m) => m.id).sort()).toEqual([1, 2]);
    const notification = await post(rs.tokens.alice, sid, { jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(notification.statusCode).toBe(202);
  });

  it.each([
    ['Accept without text/event-stream', { accept: 'application/json' }, 406],
    ['Accept without application/json', { accept: 'text/event-stream' }, 406],
    ['an unsupported MCP-Protocol-Version', { 'mcp-protocol-version': '1999-01-01' }, 400],
  ])('answers as the SDK transport for %s', async (_label, headers, status) => {
    const sid = await openSession(rs.app, rs.tokens.alice);
    const res = await post(rs.tokens.alice, sid, toolCall('whoami'), headers);
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
  });
});

describe('leanToolCall', () => {
  const ok = toolCall('whoami', {}, 1);
  it.each([
    ['a batch', [ok]],
    ['a notification', { jsonrpc: '2.0', method: 'tools/call', params: { name: 'whoami' } }],
    ['another method', { ...ok, method: 'tools/list' }],
    ['jsonrpc 1.0', { ...ok, jsonrpc: '1.0' }],
    ['an extra top-level member', { ...ok, extra: 1 }],
    ['a fractional id', { ...ok, id: 1.5 }],
    ['a null id', { ...ok, id: null }],
    ['params that are an array', { ...ok, params: [] }],
    ['a non-string tool name', { ...ok, params: { name: 1 } }],
    ['arguments that are not an object', { ...ok, params: { name: 'whoami', arguments: [] } }],
    ['_meta', { ...ok, params: { name: 'whoami', _meta: { progressToken: 1 } } }],
    ['task augmentation', { ...ok, params: { name: 'whoami', task: { ttl: 1000 } } }],
    ['an inherited property as tool name', { ...ok, params: { name: 'toString' } }],
    ['arguments failing the tool schema', { ...ok, params: { name: 'notes_delete', arguments: { id: 5 } } }],
  ])('leaves %s to the SDK', (_label, body) => {
    expect(leanToolCall(body)).toBeUndefined();
  });

  it('takes a plain call and strips arguments the tool does not declare', () => {
    expect(leanToolCall(toolCall('notes_add', { text: 'a', other: 2 }, 'x'))).toMatchObject({ id: 'x', args: { text: 'a' } });
  });
});

describe('runLeanToolCall', () => {
  it('re-checks the permission itself and reports a refusal as a tool error, never running the tool', () => {
    const call = leanToolCall(toolCall('notes_add', { text: 'x' }, 9))!;
    const caller = { iss: 'i', sub: 's', aud: ['a'], permissions: ['notes:read'], exp: 2_000_000_000 };
    const notes = {
      list: () => ({ notes: [] }),
      add: () => { throw new Error('must not run'); },
      delete: () => false,
      usage: () => ({ count: 0, bytes: 0 }),
      close: () => {},
    };
    expect(runLeanToolCall(call, caller, notes)).toEqual({
      result: { content: [{ type: 'text', text: 'this operation needs notes:write' }], isError: true },
      jsonrpc: '2.0',
      id: 9,
    });
  });
});
