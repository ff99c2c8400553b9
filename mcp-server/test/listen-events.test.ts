/**
 * Change events on one process, on a real socket: a 2026-07-28 `subscriptions/listen` stream naming the caller's
 * notes URI (and, hostilely, someone else's) is acknowledged with the caller's URI only, then carries
 * `notifications/resources/updated` — URI and subscription id — for every note change the caller makes, whichever
 * era, transport or path (lean or SDK) made it, and nothing for anyone else's. A 2025 session's
 * `resources/subscribe` hears the same events on its GET stream.
 */
import { describe, expect, it } from 'vitest';
import { connectSseWithBearer } from '@mcp-lab/test-kit/rs-session';
import { rpcMessages } from '@mcp-lab/test-kit/sse';
import { notesResourceUri } from '../src/mcp/notes-resource.ts';
import { INIT_BODY, ISSUER, MCP_HEADERS, modernRequest, openEventStream, toolCall } from './helpers.ts';
import type { EventStream } from './helpers.ts';
import { useListeningRs } from './use-rs.ts';

const ALICE_URI = notesResourceUri({ iss: ISSUER, sub: 'alice' });
const BOB_URI = notesResourceUri({ iss: ISSUER, sub: 'bob' });
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

const rs = useListeningRs(
  { MCP_LISTEN_KEEPALIVE_MS: '0' },
  { tokens: (origin) => ({ alice: { sub: 'alice', aud: `${origin}/mcp` }, bob: { sub: 'bob', aud: `${origin}/mcp` }, aliceSse: { sub: 'alice', aud: `${origin}/sse` } }) },
);
const base = () => rs.base;

/** A 2026-07-28 POST over the socket; the JSON-RPC messages of its answer. */
async function modern(token: string, req: ReturnType<typeof modernRequest>) {
  const res = await fetch(`${base()}/mcp`, { method: 'POST', headers: { ...req.headers, authorization: `Bearer ${token}` }, body: JSON.stringify(req.payload) });
  return { status: res.status, messages: rpcMessages(await res.text()) };
}

/** Opens a listen stream for `uris` and returns it with its (already read) acknowledgment. */
async function listen(token: string, uris: readonly string[], id: string | number) {
  const req = modernRequest('subscriptions/listen', { notifications: { resourceSubscriptions: uris } }, id);
  const stream = await openEventStream(`${base()}/mcp`, { ...req.headers, authorization: `Bearer ${token}` }, { body: req.payload });
  expect(stream.status).toBe(200);
  const ack = JSON.parse((await stream.next()).data) as Record<string, any>;
  return { stream, ack };
}

async function nextMessage(stream: EventStream): Promise<Record<string, any>> {
  return JSON.parse((await stream.next()).data) as Record<string, any>;
}

/** Opens a 2025 session with `token`; its id. */
async function openSession(token: string): Promise<string> {
  const res = await fetch(`${base()}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: JSON.stringify(INIT_BODY) });
  await res.text();
  const sid = res.headers.get('mcp-session-id');
  if (!sid) throw new Error(`initialize answered ${res.status} without a session`);
  const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
  await (await fetch(`${base()}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid }, body: JSON.stringify(initialized) })).text();
  return sid;
}

async function inSession(token: string, sid: string, body: unknown) {
  const res = await fetch(`${base()}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid }, body: JSON.stringify(body) });
  return { status: res.status, messages: rpcMessages(await res.text()) };
}

/** A tools/call whose `_meta` (a progress token) keeps it off the lean path: the SDK's own dispatch runs it. */
function viaSdk(call: ReturnType<typeof toolCall>) {
  return { ...call, params: { ...call.params, _meta: { progressToken: 'p' } } };
}

/** One note change by rs.tokens.alice, each through a different era, transport or path. */
const WRITE_PATHS: ReadonlyArray<readonly [string, () => Promise<void>]> = [
  ['2026-07-28 notes_add (lean path)', async () => {
    const { messages } = await modern(rs.tokens.alice, modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'modern lean' } }));
    expect(messages[0]!.result.isError).toBeUndefined();
  }],
  ['2026-07-28 notes_add (the v2 SDK)', async () => {
    const req = modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'modern sdk' } });
    req.payload.params._meta = { ...req.payload.params._meta, progressToken: 'p' } as typeof req.payload.params._meta;
    const { messages } = await modern(rs.tokens.alice, req);
    expect(messages.at(-1)!.result.content[0].text).toContain('modern sdk');
  }],
  ['2025 session notes_add (lean path)', async () => {
    const sid = await openSession(rs.tokens.alice);
    expect((await inSession(rs.tokens.alice, sid, toolCall('notes_add', { text: 'legacy lean' }))).status).toBe(200);
  }],
  ['2025 session notes_add (the v1 SDK transport)', async () => {
    const sid = await openSession(rs.tokens.alice);
    const { messages } = await inSession(rs.tokens.alice, sid, viaSdk(toolCall('notes_add', { text: 'legacy sdk' })));
    expect(messages.at(-1)!.result.content[0].text).toContain('legacy sdk');
  }],
  ['2024-11-05 HTTP+SSE notes_add (the v1 SDK client)', async () => {
    const client = await connectSseWithBearer(base(), rs.tokens.aliceSse);
    try {
      expect((await client.callTool({ name: 'notes_add', arguments: { text: 'sse' } })).isError).toBeFalsy();
    } finally {
      await client.close();
    }
  }],
  ['2026-07-28 notes_delete', async () => {
    const added = await modern(rs.tokens.alice, modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'to delete' } }));
    const { id } = JSON.parse(added.messages[0]!.result.content[0].text) as { id: string };
    // The add announced itself; the delete is the change this path checks.
    const addEvent = await nextMessage(listening!.stream);
    expect(addEvent.params.uri).toBe(ALICE_URI);
    const { messages } = await modern(rs.tokens.alice, modernRequest('tools/call', { name: 'notes_delete', arguments: { id } }));
    expect(messages[0]!.result.isError).toBeUndefined();
  }],
];

let listening: Awaited<ReturnType<typeof listen>> | undefined;

describe('2025 resources/subscribe', () => {
  it("delivers notifications/resources/updated on the session's GET stream for the owner's changes only", async () => {
    const sid = await openSession(rs.tokens.alice);
    const headers = { authorization: `Bearer ${rs.tokens.alice}`, 'mcp-session-id': sid, 'mcp-protocol-version': INIT_BODY.params.protocolVersion };
    const stream = await openEventStream(`${base()}/mcp`, headers);
    try {
      expect(stream.status).toBe(200);
      const subscribed = await inSession(rs.tokens.alice, sid, { jsonrpc: '2.0', id: 7, method: 'resources/subscribe', params: { uri: ALICE_URI } });
      expect(subscribed.messages[0]).toEqual({ jsonrpc: '2.0', id: 7, result: {} });
      // Bob's change first, then alice's (made statelessly, elsewhere than the session): only alice's arrives.
      await modern(rs.tokens.bob, modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'bob, unheard' } }));
      await modern(rs.tokens.alice, modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'heard by the session' } }));
      expect(await nextMessage(stream)).toEqual({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: ALICE_URI } });
      const unsubscribed = await inSession(rs.tokens.alice, sid, { jsonrpc: '2.0', id: 8, method: 'resources/unsubscribe', params: { uri: ALICE_URI } });
      expect(unsubscribed.messages[0]).toEqual({ jsonrpc: '2.0', id: 8, result: {} });
    } finally {
      stream.close();
    }
  });
});

describe('a subscriptions/listen stream on the caller\'s notes', () => {
  it("is acknowledged with the caller's own URI only (bob's and an unknown one stripped)", async () => {
    listening = await listen(rs.tokens.alice, [BOB_URI, ALICE_URI, 'file:///unknown'], 'sub-a');
    expect(listening.ack).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: { resourceSubscriptions: [ALICE_URI] }, _meta: { [SUBSCRIPTION_ID]: 'sub-a' } },
    });
  });

  it.each(WRITE_PATHS)('%s → notifications/resources/updated with the URI and the subscription id', async (_name, write) => {
    await write();
    expect(await nextMessage(listening!.stream)).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/resources/updated',
      params: { uri: ALICE_URI, _meta: { [SUBSCRIPTION_ID]: 'sub-a' } },
    });
  });

  it("bob's note changes never reach it, though it named bob's URI; refused writes announce nothing", async () => {
    const added = await modern(rs.tokens.bob, modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'bob writes' } }));
    const { id } = JSON.parse(added.messages[0]!.result.content[0].text) as { id: string };
    await modern(rs.tokens.bob, modernRequest('tools/call', { name: 'notes_delete', arguments: { id } }));
    const refused = await modern(rs.tokens.alice, modernRequest('tools/call', { name: 'notes_add', arguments: { text: 'x'.repeat(2_001) } }));
    expect(refused.messages[0]!.result.isError).toBe(true);
    await modern(rs.tokens.alice, modernRequest('tools/call', { name: 'notes_delete', arguments: { id: 'no-such-note' } }));
    // Ending the server ends the stream gracefully: all that is left on it is the spec's closing result.
    const rest = listening!.stream.rest();
    await rs.app.close();
    expect((await rest).map((e) => JSON.parse(e.data))).toEqual([
      { jsonrpc: '2.0', id: 'sub-a', result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID]: 'sub-a', 'io.modelcontextprotocol/serverInfo': expect.any(Object) } } },
    ]);
  });
});
