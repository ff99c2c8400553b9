/**
 * MCP sessions, SSE streams and cookie sessions are bounded: per-subject caps (refused with 429 and a JSON-RPC
 * error; nobody else's sessions touched), idle timeout, maximum lifetime, the token's `exp`, and logout. Streams
 * are real (a listening RS, fetch); time is an injected clock, swept every 20 ms.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { INIT_BODY, MCP_HEADERS, mint, openEventStream, toolCall } from './helpers.ts';
import type { EventStream, SseEvent } from './helpers.ts';
import { useListeningRs } from './use-rs.ts';

let t = Date.now();
const nowS = () => Math.floor(t / 1000);

const rs = useListeningRs(
  {
    MCP_SESSIONS_MAX_PER_SUBJECT: '2',
    MCP_SSE_STREAMS_MAX_PER_SUBJECT: '3',
    MCP_SESSION_IDLE_TIMEOUT_MS: '600000',
    MCP_SESSION_MAX_LIFETIME_MS: '1200000',
    MCP_COOKIE_SESSIONS_MAX_PER_SUBJECT: '2',
    MCP_COOKIE_SESSION_MAX_LIFETIME_MS: '300000',
  },
  { deps: { now: () => t, sweepIntervalMs: 20 } },
);

/** A token for `sub` at the injected clock, for the resource at `path`. */
function token(sub: string, path: '/mcp' | '/sse' | '', lifeS = 7_200): Promise<string> {
  return mint(rs.keys, { sub, aud: `${rs.base}${path}`, iat: nowS(), exp: nowS() + lifeS });
}

async function initialize(auth: Record<string, string>) {
  return rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...auth }, payload: INIT_BODY });
}

async function openSession(auth: Record<string, string>): Promise<string> {
  const res = await initialize(auth);
  expect(res.statusCode).toBe(200);
  return res.headers['mcp-session-id'] as string;
}

async function whoami(auth: Record<string, string>, sid: string): Promise<number> {
  const res = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...auth, 'mcp-session-id': sid }, payload: toolCall('whoami') });
  return res.statusCode;
}

const bearer = (tok: string) => ({ authorization: `Bearer ${tok}` });

/** Advances the injected clock and gives the sweeper time to run. */
async function advance(ms: number): Promise<void> {
  t += ms;
  await sleep(80);
}

/** The events a stream gets until the server ends it (fails if it does not end within 3 s). */
async function untilEnd(stream: EventStream): Promise<SseEvent[]> {
  return Promise.race([stream.rest(), sleep(3_000).then(() => { throw new Error('the stream did not end'); })]);
}

function ended(events: SseEvent[]): { reason: string; message: string } | undefined {
  const last = events.at(-1);
  return last?.event === 'session_ended' ? (JSON.parse(last.data) as { reason: string; message: string }) : undefined;
}

async function cookieFor(tok: string): Promise<string> {
  const res = await rs.app.inject({ method: 'POST', url: '/session', headers: bearer(tok) });
  expect(res.statusCode).toBe(204);
  return String(res.headers['set-cookie']).split(';')[0]!;
}

describe('Streamable HTTP sessions', () => {
  sessionCapTests();
  sessionEndTests();
});

describe('HTTP+SSE streams', () => {
  it("refuses GET /sse past MCP_SSE_STREAMS_MAX_PER_SUBJECT with 429 and a JSON-RPC error; another user's stream is untouched", async () => {
    const alice = await token('sse-cap-alice', '/sse');
    const bob = await token('sse-cap-bob', '/sse');
    const a1 = await openEventStream(`${rs.base}/sse`, bearer(alice));
    const a2 = await openEventStream(`${rs.base}/sse`, bearer(alice));
    const a3 = await openEventStream(`${rs.base}/sse`, bearer(alice));
    const b1 = await openEventStream(`${rs.base}/sse`, bearer(bob));
    try {
      const refused = await fetch(`${rs.base}/sse`, { headers: { ...bearer(alice), accept: 'text/event-stream' } });
      expect(refused.status).toBe(429);
      expect(await refused.json()).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32000, message: 'too many SSE streams: at most 3 per user; close one or wait for one to expire', data: { reason: 'too_many_sessions' } },
      });
      expect([a1.status, a2.status, a3.status, b1.status]).toEqual([200, 200, 200, 200]);
      const endpoint = new URL((await b1.next()).data, rs.base);
      const post = await fetch(endpoint, { method: 'POST', headers: { ...bearer(bob), 'content-type': 'application/json' }, body: JSON.stringify(toolCall('whoami')) });
      expect(post.status).toBe(202);
      expect(JSON.parse((await b1.next()).data).result).toBeDefined();
    } finally {
      for (const s of [a1, a2, a3, b1]) s.close();
    }
  });

  it('ends a stream with session_ended token_expired when the token that opened it expires', async () => {
    const stream = await openEventStream(`${rs.base}/sse`, bearer(await token('sse-exp', '/sse', 100)));
    expect((await stream.next()).event).toBe('endpoint');
    await advance(101_000);
    expect(ended(await untilEnd(stream))?.reason).toBe('token_expired');
  });

  it('ends a stream with session_ended idle_timeout after MCP_SESSION_IDLE_TIMEOUT_MS without a message', async () => {
    const stream = await openEventStream(`${rs.base}/sse`, bearer(await token('sse-idle', '/sse')));
    expect((await stream.next()).event).toBe('endpoint');
    await advance(600_001);
    expect(ended(await untilEnd(stream))).toEqual({ reason: 'idle_timeout', message: 'the session was idle too long' });
  });
});

describe('cookie sessions and the streams opened with them', () => {
  it("DELETE /session ends that cookie's streams and sessions (logged_out); the user's other cookie, a bearer stream and another user are untouched", async () => {
    const aliceSse = await token('logout-alice', '/sse');
    const c1 = await cookieFor(await token('logout-alice', ''));
    const c2 = await cookieFor(await token('logout-alice', ''));
    const bobCookie = await cookieFor(await token('logout-bob', ''));
    const origin = { origin: rs.base };
    const viaC1 = await openEventStream(`${rs.base}/sse`, { cookie: c1 });
    const viaC2 = await openEventStream(`${rs.base}/sse`, { cookie: c2 });
    const viaBearer = await openEventStream(`${rs.base}/sse`, bearer(aliceSse));
    const bobStream = await openEventStream(`${rs.base}/sse`, { cookie: bobCookie });
    const c1Session = await openSession({ cookie: c1, ...origin });
    try {
      const endpoints = new Map<EventStream, URL>();
      for (const s of [viaC1, viaC2, viaBearer, bobStream]) {
        const first = await s.next();
        expect(first.event).toBe('endpoint');
        endpoints.set(s, new URL(first.data, rs.base));
      }
      const del = await rs.app.inject({ method: 'DELETE', url: '/session', headers: { cookie: c1, ...origin } });
      expect(del.statusCode).toBe(204);
      expect(ended(await untilEnd(viaC1))).toEqual({ reason: 'logged_out', message: 'the cookie session of this stream was logged out' });
      expect(await whoami(bearer(await token('logout-alice', '/mcp')), c1Session)).toBe(404);
      // The others still carry messages.
      for (const [stream, auth] of [
        [viaC2, { cookie: c2, ...origin }],
        [viaBearer, bearer(aliceSse)],
        [bobStream, { cookie: bobCookie, ...origin }],
      ] as const) {
        const post = await fetch(endpoints.get(stream)!, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(toolCall('whoami')) });
        expect(post.status).toBe(202);
        expect((await stream.next()).event).toBe('message');
      }
    } finally {
      for (const s of [viaC1, viaC2, viaBearer, bobStream]) s.close();
    }
  });

  it('DELETE /session ends a Streamable HTTP GET stream opened with that cookie; the session opened with a bearer token lives on', async () => {
    const bearerToken = await token('logout-get', '/mcp');
    const sid = await openSession(bearer(bearerToken));
    const cookie = await cookieFor(await token('logout-get', ''));
    const stream = await openEventStream(`${rs.base}/mcp`, { cookie, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
    expect(stream.status).toBe(200);
    const del = await rs.app.inject({ method: 'DELETE', url: '/session', headers: { cookie, origin: rs.base } });
    expect(del.statusCode).toBe(204);
    expect(ended(await untilEnd(stream))?.reason).toBe('logged_out');
    expect(await whoami(bearer(bearerToken), sid)).toBe(200);
  });

  it("replaces the user's own oldest cookie session at MCP_COOKIE_SESSIONS_MAX_PER_SUBJECT, ending its streams; another user's cookie stays", async () => {
    const bobCookie = await cookieFor(await token('replace-bob', ''));
    const oldest = await cookieFor(await token('replace-alice', ''));
    const stream = await openEventStream(`${rs.base}/sse`, { cookie: oldest });
    expect((await stream.next()).event).toBe('endpoint');
    await cookieFor(await token('replace-alice', ''));
    await cookieFor(await token('replace-alice', ''));
    expect(ended(await untilEnd(stream))?.reason).toBe('logged_out');
    const gone = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, cookie: oldest, origin: rs.base }, payload: INIT_BODY });
    expect(gone.statusCode).toBe(401);
    const bobStill = await rs.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, cookie: bobCookie, origin: rs.base }, payload: INIT_BODY });
    expect(bobStill.statusCode).toBe(200);
  });

  it('ends the streams of a cookie session at MCP_COOKIE_SESSION_MAX_LIFETIME_MS (cookie_session_expired), before its token expires', async () => {
    const cookie = await cookieFor(await token('cookie-expiry', ''));
    const stream = await openEventStream(`${rs.base}/sse`, { cookie });
    expect((await stream.next()).event).toBe('endpoint');
    await advance(300_001);
    expect(ended(await untilEnd(stream))).toEqual({ reason: 'cookie_session_expired', message: 'the cookie session of this stream expired' });
  });

  it('sets the cookie to expire with the session, not later than its maximum lifetime', async () => {
    const res = await rs.app.inject({ method: 'POST', url: '/session', headers: bearer(await token('cookie-header', '')) });
    const expires = /Expires=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1];
    expect(new Date(expires!).getTime()).toBe(Math.floor((t + 300_000) / 1000) * 1000);
  });
});

/** The per-subject session cap: the 429, and the place given back. */
function sessionCapTests(): void {
  it("refuses the initialize past MCP_SESSIONS_MAX_PER_SUBJECT with 429 and a JSON-RPC error; the user's sessions and another user's are untouched", async () => {
    const alice = await token('cap-alice', '/mcp');
    const bob = await token('cap-bob', '/mcp');
    const a1 = await openSession(bearer(alice));
    const a2 = await openSession(bearer(alice));
    const refused = await initialize(bearer(alice));
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32000,
        message: 'too many Streamable HTTP sessions: at most 2 per user; close one or wait for one to expire',
        data: { reason: 'too_many_sessions' },
      },
    });
    const b1 = await openSession(bearer(bob));
    expect(await whoami(bearer(alice), a1)).toBe(200);
    expect(await whoami(bearer(alice), a2)).toBe(200);
    expect(await whoami(bearer(bob), b1)).toBe(200);
  });

  it('gives the place back when a session is deleted', async () => {
    const alice = await token('cap-delete', '/mcp');
    const a1 = await openSession(bearer(alice));
    await openSession(bearer(alice));
    expect((await initialize(bearer(alice))).statusCode).toBe(429);
    const del = await rs.app.inject({ method: 'DELETE', url: '/mcp', headers: { ...bearer(alice), 'mcp-session-id': a1, 'mcp-protocol-version': '2025-06-18' } });
    expect(del.statusCode).toBe(200);
    expect((await initialize(bearer(alice))).statusCode).toBe(200);
  });

  it('gives the place back when an initialize fails without opening a session', async () => {
    const alice = await token('cap-failed-init', '/mcp');
    for (let i = 0; i < 3; i++) {
      const refused = await rs.app.inject({
        method: 'POST',
        url: '/mcp',
        headers: { ...bearer(alice), 'content-type': 'application/json', accept: 'application/json' },
        payload: INIT_BODY,
      });
      expect(refused.statusCode).toBe(406);
    }
    await openSession(bearer(alice));
    await openSession(bearer(alice));
    expect((await initialize(bearer(alice))).statusCode).toBe(429);
  });
}

/** How a session ends: idle timeout, maximum lifetime, the token's exp, and its GET stream at exp. */
function sessionEndTests(): void {
  it('ends a session idle for MCP_SESSION_IDLE_TIMEOUT_MS (404 after), keeps an active one, and frees its place', async () => {
    const alice = await token('idle-user', '/mcp');
    const idle = await openSession(bearer(alice));
    const active = await openSession(bearer(alice));
    await advance(400_000);
    expect(await whoami(bearer(alice), active)).toBe(200);
    await advance(300_000);
    expect(await whoami(bearer(alice), idle)).toBe(404);
    expect(await whoami(bearer(alice), active)).toBe(200);
    expect((await initialize(bearer(alice))).statusCode).toBe(200);
  });

  it('ends a session at MCP_SESSION_MAX_LIFETIME_MS however active it is', async () => {
    const alice = await token('lifetime-user', '/mcp');
    const sid = await openSession(bearer(alice));
    for (let i = 0; i < 2; i++) {
      await advance(500_000);
      expect(await whoami(bearer(alice), sid)).toBe(200);
    }
    await advance(200_001);
    expect(await whoami(bearer(alice), sid)).toBe(404);
  });

  it("ends a session at its token's exp when no fresher token came (404 even with a fresh token after)", async () => {
    const short = await token('exp-user', '/mcp', 100);
    const sid = await openSession(bearer(short));
    await advance(101_000);
    expect(await whoami(bearer(await token('exp-user', '/mcp')), sid)).toBe(404);
  });

  it("carries a session past the first token's exp when a request brought a fresher token", async () => {
    const short = await token('refresh-user', '/mcp', 100);
    const sid = await openSession(bearer(short));
    await advance(50_000);
    const fresh = await token('refresh-user', '/mcp');
    expect(await whoami(bearer(fresh), sid)).toBe(200);
    await advance(100_000);
    expect(await whoami(bearer(fresh), sid)).toBe(200);
  });

  it("ends the GET event stream with session_ended token_expired at its token's exp; the session lives on with a fresher token", async () => {
    const long = await token('get-stream-user', '/mcp');
    const sid = await openSession(bearer(long));
    const short = await token('get-stream-user', '/mcp', 100);
    const stream = await openEventStream(`${rs.base}/mcp`, { ...bearer(short), 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
    expect(stream.status).toBe(200);
    await advance(101_000);
    expect(ended(await untilEnd(stream))).toEqual({
      reason: 'token_expired',
      message: 'the access token of this session expired; reconnect with a fresh token',
    });
    expect(await whoami(bearer(long), sid)).toBe(200);
  });
}
