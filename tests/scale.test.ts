/**
 * Scale-out without a proxy: three resource-server replicas on loopback sharing a real Redis. Requests are sent to
 * chosen replicas on purpose (what a load balancer without affinity does): a legacy HTTP+SSE stream and a cookie
 * session keep working wherever their requests land, another user is refused a session on every replica exactly
 * as on its owner, a change made on one replica reaches the listen streams and resource subscriptions held by
 * another (never another user's), and killing one replica ends only the streams it held. The replicas share one
 * SQLite notes file, as the compose profile's volume does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modernRequest } from '@mcp-lab/test-kit/mcp-messages';
import { openSse, type SseStream } from '@mcp-lab/test-kit/sse';
import {
  INITIALIZE,
  INITIALIZED,
  PUBLIC_URL,
  listenOn,
  modernPost,
  nextEvent,
  notesUriOf,
  openInitialized,
  postMessage,
  scalePrereqs,
  responseTo,
  startScaleStack,
  whoami,
  whoamiSub,
  type ScaleStack,
} from './scale-harness.ts';

const redisUrl = process.env.MCP_LAB_REDIS_URL;
const ok = await scalePrereqs();

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** What the replicas' tests share: the stack, the two users' tokens and every stream opened (closed at the end). */
interface ScaleSuite {
  stack: ScaleStack;
  alice: string;
  bob: string;
  readonly streams: Array<{ close(): void }>;
}

describe.runIf(ok)('three replicas sharing Redis, no proxy', () => {
  const suite = { streams: [] as Array<{ close(): void }> } as ScaleSuite;
  let dir: string | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-lab-scale-'));
    suite.stack = await startScaleStack(redisUrl!, 3, 11, { MCP_DB_PATH: join(dir, 'notes.db') });
    suite.alice = await suite.stack.token('alice');
    suite.bob = await suite.stack.token('bob');
  });
  afterAll(async () => {
    for (const s of suite.streams) s.close();
    await suite.stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  crossReplicaTests(suite);
  foreignSessionTests(suite);
  changeEventTests(suite);
});

/** A stream and a cookie session keep working wherever their requests land. */
function crossReplicaTests(suite: ScaleSuite): void {
  it('a legacy SSE stream held by replica 0 answers messages POSTed to replicas 1 and 2', async () => {
    const [r0, r1, r2] = suite.stack.replicas.map((r) => r.url) as [string, string, string];
    const stream = await openInitialized(r0, bearer(suite.alice), r1);
    suite.streams.push(stream);
    expect((await postMessage(r2, stream.endpoint, whoami(2), bearer(suite.alice))).status).toBe(202);
    expect(whoamiSub(await responseTo(stream, 2))).toBe('alice');
    // The holder itself still answers its own POSTs.
    expect((await postMessage(r0, stream.endpoint, whoami(3), bearer(suite.alice))).status).toBe(202);
    expect(whoamiSub(await responseTo(stream, 3))).toBe('alice');
  });

  it('a cookie session made on replica 0 authenticates on replicas 1 and 2, and a logout on 2 ends its stream on 1', async () => {
    const [r0, r1, r2] = suite.stack.replicas.map((r) => r.url) as [string, string, string];
    const made = await fetch(`${r0}/session`, { method: 'POST', headers: bearer(suite.alice) });
    expect(made.status).toBe(204);
    const cookie = made.headers.get('set-cookie')!.split(';', 1)[0]!;
    // State-changing cookie requests need an allowed Origin (CSRF rule); the stream GET does not.
    const cookieHeaders = { cookie, origin: PUBLIC_URL };
    const stream = await openSse(`${r1}/sse`, { cookie });
    suite.streams.push(stream);
    expect((await postMessage(r2, stream.endpoint, INITIALIZE, cookieHeaders)).status).toBe(202);
    expect((await responseTo(stream, 1)).result?.serverInfo).toBeDefined();
    expect((await postMessage(r0, stream.endpoint, INITIALIZED, cookieHeaders)).status).toBe(202);
    expect((await postMessage(r0, stream.endpoint, whoami(2), cookieHeaders)).status).toBe(202);
    expect(whoamiSub(await responseTo(stream, 2))).toBe('alice');

    const out = await fetch(`${r2}/session`, { method: 'DELETE', headers: cookieHeaders });
    expect(out.status).toBe(204);
    const ended = await nextEvent(stream);
    expect(ended.event).toBe('session_ended');
    expect(JSON.parse(ended.data).reason).toBe('logged_out');
    for (const r of [r0, r1, r2]) {
      const res = await fetch(`${r}/sse`, { headers: { cookie, accept: 'text/event-stream' } });
      expect(res.status, r).toBe(401);
    }
  });
}

/** Another user's or an unknown session is refused the same way on every replica. */
function foreignSessionTests(suite: ScaleSuite): void {
  it('another user is refused an SSE session on every replica exactly as on the one holding it', async () => {
    const [r0, r1] = suite.stack.replicas.map((r) => r.url) as [string, string, string];
    const stream = await openInitialized(r0, bearer(suite.alice), r1);
    suite.streams.push(stream);
    const answers = await Promise.all(
      suite.stack.replicas.map(async (r) => {
        const res = await postMessage(r.url, stream.endpoint, whoami(9), bearer(suite.bob));
        return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
      }),
    );
    expect(answers[0]!.status).toBe(403);
    // 403 session_forbidden (a JSON-RPC error, no Bearer challenge: the token is valid, no scope would help).
    expect(answers[0]!.challenge).toBeNull();
    expect(JSON.parse(answers[0]!.body).error.code).toBe(-31403);
    for (const a of answers) expect(a).toEqual(answers[0]);
    // Nothing reached alice's stream: her next own request is the next event.
    expect((await postMessage(r1, stream.endpoint, whoami(10), bearer(suite.alice))).status).toBe(202);
    expect(whoamiSub(await responseTo(stream, 10))).toBe('alice');
  });

  it('another user is refused a Streamable HTTP session on every replica exactly as on its owner', async () => {
    const r0 = suite.stack.replicas[0]!.url;
    const init = await fetch(`${r0}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...bearer(suite.alice) },
      body: JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, protocolVersion: '2025-06-18' } }),
    });
    expect(init.status).toBe(200);
    const sessionId = init.headers.get('mcp-session-id')!;
    await init.text();
    const answers = await Promise.all(
      suite.stack.replicas.map(async (r) => {
        const res = await fetch(`${r.url}/mcp`, {
          method: 'POST',
          headers: { ...MCP_HEADERS, ...bearer(suite.bob), 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
          body: JSON.stringify(whoami(2)),
        });
        return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
      }),
    );
    expect(answers[0]!.status).toBe(403);
    for (const a of answers) expect(a).toEqual(answers[0]);
  });

  it('an unknown session id is 404 on every replica', async () => {
    for (const r of suite.stack.replicas) {
      const res = await postMessage(r.url, new URL('/messages?sessionId=00000000-0000-4000-8000-000000000000', r.url), whoami(1), bearer(suite.alice));
      expect(res.status, r.url).toBe(404);
    }
  });
}

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

function addNote(text: string) {
  return modernRequest('tools/call', { name: 'notes_add', arguments: { text } });
}

/** Change events cross replicas over the Redis bus, to their user's streams only. */
function changeEventTests(suite: ScaleSuite): void {
  it("a listen stream on replica 0 hears alice's note added on replica 2, and never bob's added on replica 1", async () => {
    const [r0, r1, r2] = suite.stack.replicas.map((r) => r.url) as [string, string, string];
    // Every replica names the same URI for the same user (resources/list on 1 and 2, the stream on 0).
    const aliceUri = await notesUriOf(r1, suite.alice);
    const bobUri = await notesUriOf(r2, suite.bob);
    expect(bobUri).not.toBe(aliceUri);
    const { stream, ack } = await listenOn(r0, suite.alice, [aliceUri, bobUri], 'across');
    suite.streams.push(stream);
    expect(ack.params.notifications).toEqual({ resourceSubscriptions: [aliceUri] });

    const updated = { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: aliceUri, _meta: { [SUBSCRIPTION_ID]: 'across' } } };
    expect((await modernPost(r2, suite.alice, addNote('added on replica 2'))).status).toBe(200);
    expect(JSON.parse((await nextEvent(stream)).data)).toEqual(updated);
    // The stream's replica reads what replica 2 wrote (one notes file), as a client does after the notification.
    const read = await modernPost(r0, suite.alice, modernRequest('resources/read', { uri: aliceUri }));
    expect(read.messages[0]!.result.contents[0].text).toContain('added on replica 2');

    // Bob's change, then alice's, both from replica 1 (one Redis connection, so published in this order): had
    // bob's reached the stream, it would come first.
    expect((await modernPost(r1, suite.bob, addNote("bob's, on replica 1"))).status).toBe(200);
    expect((await modernPost(r1, suite.alice, addNote('added on replica 1'))).status).toBe(200);
    expect(JSON.parse((await nextEvent(stream)).data)).toEqual(updated);
  });

  it("a 2025 resources/subscribe on an SSE stream held by replica 0 hears alice's note added on replica 2", async () => {
    const [r0, r1, r2] = suite.stack.replicas.map((r) => r.url) as [string, string, string];
    const stream = await openInitialized(r0, bearer(suite.alice), r1);
    suite.streams.push(stream);
    const uri = await notesUriOf(r2, suite.alice);
    const subscribe = { jsonrpc: '2.0', id: 20, method: 'resources/subscribe', params: { uri } };
    expect((await postMessage(r1, stream.endpoint, subscribe, bearer(suite.alice))).status).toBe(202);
    expect((await responseTo(stream, 20)).result).toEqual({});
    expect((await modernPost(r2, suite.alice, addNote('heard by the 2025 stream'))).status).toBe(200);
    const event = await nextEvent(stream);
    expect(JSON.parse(event.data)).toEqual({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } });
  });
}

describe.runIf(ok)('killing one replica', () => {
  let stack: ScaleStack;
  let alice: string;

  beforeAll(async () => {
    stack = await startScaleStack(redisUrl!, 3, 12);
    alice = await stack.token('alice');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('ends only the streams it held; the others keep answering through the survivors', async () => {
    const [r0, r1, r2] = stack.replicas.map((r) => r.url) as [string, string, string];
    const onVictim = await openInitialized(r0, bearer(alice), r1);
    const onSurvivor = await openInitialized(r1, bearer(alice), r0);
    try {
      stack.replicas[0]!.process.child.kill('SIGKILL');
      await expect(nextEvent(onVictim)).rejects.toThrow();
      // The survivor's stream answers a request relayed from the third replica.
      expect((await postMessage(r2, onSurvivor.endpoint, whoami(5), bearer(alice))).status).toBe(202);
      expect(whoamiSub(await responseTo(onSurvivor, 5))).toBe('alice');
      // The dead replica's stream is gone for every survivor: 404, the client opens a new stream.
      expect((await postMessage(r1, onVictim.endpoint, whoami(6), bearer(alice))).status).toBe(404);
      expect((await postMessage(r2, onVictim.endpoint, whoami(7), bearer(alice))).status).toBe(404);
    } finally {
      onVictim.close();
      onSurvivor.close();
    }
  });
});
