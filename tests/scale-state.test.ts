/**
 * The shared state's Redis implementations against a real Redis, two "replicas" (two connected states, each with
 * its own ioredis connections) in one process: the cookie-session store passes the contract the in-memory store
 * passes (mcp-server/test/cookie-session-contract.ts) and keeps its rules across replicas (per-subject replacement,
 * global cap, expiry) even when they create sessions at the same instant; every end is heard on every replica
 * exactly once, and the session directory and bus behave as the routes rely on (publish counts receivers; a
 * forgotten session is gone everywhere); the listen streams' change events reach every replica once, on a channel of
 * their own database.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { CookieSessionLimits } from '../mcp-server/src/auth/cookie-sessions.ts';
import type { Principal } from '../mcp-server/src/auth/principal.ts';
import { createRedisState } from '../mcp-server/src/state/redis.ts';
import type { ServerEvent } from '@modelcontextprotocol/server';
import { serverEventsChannel } from '../mcp-server/src/state/types.ts';
import type { SharedState } from '../mcp-server/src/state/types.ts';
import { cookieSessionContract } from '../mcp-server/test/cookie-session-contract.ts';
import { scalePrereqs } from './scale-harness.ts';

const redisUrl = process.env.MCP_LAB_REDIS_URL;
const ok = await scalePrereqs();

const DB = 14;
const LIMITS: CookieSessionLimits = { cookieSessionsMaxPerSubject: 2, cookieSessionsMax: 4, cookieSessionMaxLifetimeMs: 60_000 };

function principal(sub: string, expS = Math.floor(Date.now() / 1000) + 600): Principal {
  return { iss: 'https://as.example', sub, aud: ['https://rs.example'], permissions: ['notes:read'], exp: expS };
}

function dbUrl(): string {
  const u = new URL(redisUrl!);
  u.pathname = `/${DB}`;
  return u.href;
}

/** Waits until `check` holds (bus messages arrive asynchronously). */
async function eventually(check: () => boolean, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What the two-replica tests share: the fake clock both states read, the two states and an admin connection. */
interface StateSuite {
  clock: number;
  a: SharedState;
  b: SharedState;
  admin: Redis;
}

describe.runIf(ok)('shared state in Redis (two replicas)', () => {
  const suite = { clock: Date.now() } as StateSuite;
  const now = () => suite.clock;

  beforeAll(async () => {
    suite.admin = new Redis(dbUrl());
    await suite.admin.flushdb();
    suite.a = await createRedisState({ url: dbUrl(), now, limits: LIMITS });
    suite.b = await createRedisState({ url: dbUrl(), now, limits: LIMITS });
  });
  afterEach(async () => {
    await suite.admin.flushdb();
    suite.clock = Date.now();
  });
  afterAll(async () => {
    await suite.a?.close();
    await suite.b?.close();
    await suite.admin?.quit();
  });

  cookieSessionTests(suite);
  directoryAndBusTests(suite);
  serverEventTests(suite);
});

describe.runIf(ok)('cookie-session store contract (Redis)', () => {
  cookieSessionContract(async (limits, clock) => {
    const admin = new Redis(dbUrl());
    await admin.flushdb();
    await admin.quit();
    const state = await createRedisState({ url: dbUrl(), now: () => clock.t, limits });
    return { store: state.cookieSessions, close: () => state.close() };
  });
});

describe.runIf(ok)('cookie-session caps under concurrent creation (two replicas)', () => {
  concurrentCapTests();
});

/** The cookie-session store's rules hold across replicas. */
function cookieSessionTests(suite: StateSuite): void {
  it('a cookie session made on one replica is found on the other, and a logout there is heard on both', async () => {
    const endsA: string[] = [];
    const endsB: string[] = [];
    suite.a.cookieSessions.onEnd((id, why) => endsA.push(`${id}:${why}`));
    suite.b.cookieSessions.onEnd((id, why) => endsB.push(`${id}:${why}`));
    const { id } = await suite.a.cookieSessions.create(principal('alice'));
    expect((await suite.b.cookieSessions.get(id))?.sub).toBe('alice');
    await suite.b.cookieSessions.delete(id);
    expect(await suite.a.cookieSessions.get(id)).toBeUndefined();
    await eventually(() => endsA.length === 1 && endsB.length === 1);
    expect(endsA).toEqual([`${id}:logged_out`]);
    expect(endsB).toEqual([`${id}:logged_out`]);
  });

  it("a subject's newest cookie session replaces its own oldest, whichever replica made them", async () => {
    const first = await suite.a.cookieSessions.create(principal('alice'));
    const second = await suite.b.cookieSessions.create(principal('alice'));
    const bobs = await suite.a.cookieSessions.create(principal('bob'));
    const third = await suite.a.cookieSessions.create(principal('alice'));
    expect(await suite.b.cookieSessions.get(first.id)).toBeUndefined();
    expect(await suite.b.cookieSessions.get(second.id)).toBeDefined();
    expect(await suite.b.cookieSessions.get(third.id)).toBeDefined();
    expect(await suite.b.cookieSessions.get(bobs.id)).toBeDefined();
    expect(await suite.a.cookieSessions.countOf(principal('alice'))).toBe(2);
  });

  it('the store-wide cap refuses a new cookie session with 503 cookie_sessions_full', async () => {
    for (const sub of ['u1', 'u2', 'u3', 'u4']) await suite.a.cookieSessions.create(principal(sub));
    await expect(suite.b.cookieSessions.create(principal('u5'))).rejects.toMatchObject({ code: 'cookie_sessions_full', status: 503 });
  });

  it('an expired cookie session is refused, and the sweep of both replicas announces it once', async () => {
    const ends: string[] = [];
    suite.a.cookieSessions.onEnd((id, why) => ends.push(`${id}:${why}`));
    const { id } = await suite.a.cookieSessions.create(principal('alice', Math.floor(suite.clock / 1000) + 5));
    suite.clock += 10_000;
    await Promise.all([suite.a.cookieSessions.sweep(), suite.b.cookieSessions.sweep()]);
    expect(await suite.b.cookieSessions.get(id)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 100));
    expect(ends.filter((e) => e === `${id}:expired`)).toHaveLength(1);
  });
}

/** The session directory and the bus behave as the routes rely on. */
function directoryAndBusTests(suite: StateSuite): void {
  it("the session directory gives every replica the owner and holder; forgotten, it is gone for all", async () => {
    await suite.a.sessions.record('sse', 's-1', 'owner-1', 60_000);
    expect(await suite.b.sessions.lookup('sse', 's-1')).toEqual({ owner: 'owner-1', replica: suite.a.replica });
    expect(await suite.b.sessions.lookup('streamable', 's-1')).toBeUndefined();
    await suite.a.sessions.forget('sse', 's-1');
    expect(await suite.b.sessions.lookup('sse', 's-1')).toBeUndefined();
  });

  it('publish reaches the subscribed replica and counts it; after unsubscribing it counts none', async () => {
    const got: string[] = [];
    const stop = await suite.a.bus.subscribe('mcp-lab:test-channel', (m) => got.push(m));
    expect(await suite.b.bus.publish('mcp-lab:test-channel', 'hello')).toBe(1);
    await eventually(() => got.length === 1);
    expect(got).toEqual(['hello']);
    await stop();
    expect(await suite.b.bus.publish('mcp-lab:test-channel', 'again')).toBe(0);
  });
}

/** Two replicas over an emptied database, sharing a clock; closed by the caller. */
async function twoReplicas(limits: CookieSessionLimits): Promise<{ a: SharedState; b: SharedState; close(): Promise<void> }> {
  const admin = new Redis(dbUrl());
  await admin.flushdb();
  await admin.quit();
  const t = Date.now();
  const a = await createRedisState({ url: dbUrl(), now: () => t, limits });
  const b = await createRedisState({ url: dbUrl(), now: () => t, limits });
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
}

/** Live ids among `ids`, asked of `state`. */
async function liveOf(state: SharedState, ids: readonly string[]): Promise<string[]> {
  const found = await Promise.all(ids.map(async (id) => ((await state.cookieSessions.get(id)) ? id : undefined)));
  return found.filter((id): id is string => id !== undefined);
}

/** The caps hold when both replicas create at once: creation is one atomic script, not a read then a write. */
function concurrentCapTests(): void {
  it('60 creations for one subject at once from two replicas leave exactly its cap, each other one replaced once', async () => {
    const r = await twoReplicas({ cookieSessionsMaxPerSubject: 3, cookieSessionsMax: 1_000, cookieSessionMaxLifetimeMs: 60_000 });
    try {
      const ends: string[] = [];
      r.a.cookieSessions.onEnd((id, why) => ends.push(`${id}:${why}`));
      const bobs = [(await r.a.cookieSessions.create(principal('bob'))).id, (await r.b.cookieSessions.create(principal('bob'))).id];
      const made = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? r.a : r.b).cookieSessions.create(principal('alice'))));
      const ids = made.map((m) => m.id);
      expect(await r.a.cookieSessions.countOf(principal('alice'))).toBe(3);
      const live = await liveOf(r.b, ids);
      expect(live).toHaveLength(3);
      const replaced = ids.filter((id) => !live.includes(id)).map((id) => `${id}:replaced`);
      await eventually(() => ends.length >= replaced.length);
      expect(ends.toSorted()).toEqual(replaced.toSorted());
      expect(await liveOf(r.a, bobs)).toEqual(bobs);
    } finally {
      await r.close();
    }
  });

  it("a burst from two replicas on a subject at its cap replaces exactly that subject's oldest sessions", async () => {
    const cap = 5;
    const r = await twoReplicas({ cookieSessionsMaxPerSubject: cap, cookieSessionsMax: 1_000, cookieSessionMaxLifetimeMs: 60_000 });
    try {
      for (let round = 0; round < 10; round++) {
        const history: string[] = [];
        for (let i = 0; i < cap; i++) history.push((await (i % 2 ? r.a : r.b).cookieSessions.create(principal(`u${round}`))).id);
        const burst = await Promise.all(Array.from({ length: cap - 1 }, (_, i) => (i % 2 ? r.b : r.a).cookieSessions.create(principal(`u${round}`))));
        // Each creation in the burst replaces the oldest then left: the first cap - 1 of the history, never a newer one.
        expect(await liveOf(r.a, history)).toEqual(history.slice(cap - 1));
        expect(await liveOf(r.b, burst.map((m) => m.id))).toHaveLength(cap - 1);
        expect(await r.b.cookieSessions.countOf(principal(`u${round}`))).toBe(cap);
      }
    } finally {
      await r.close();
    }
  });

  it('the store-wide cap is never exceeded when 40 subjects create at once on two replicas; the rest get 503', async () => {
    const r = await twoReplicas({ cookieSessionsMaxPerSubject: 2, cookieSessionsMax: 10, cookieSessionMaxLifetimeMs: 60_000 });
    try {
      const tries = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => (i % 2 ? r.a : r.b).cookieSessions.create(principal(`s${i}`))));
      const made = tries.flatMap((t) => (t.status === 'fulfilled' ? [t.value.id] : []));
      const refused = tries.flatMap((t) => (t.status === 'rejected' ? [t.reason as unknown] : []));
      expect(made).toHaveLength(10);
      expect(await liveOf(r.b, made)).toHaveLength(10);
      expect(refused).toHaveLength(30);
      for (const err of refused) expect(err).toMatchObject({ code: 'cookie_sessions_full', status: 503 });
    } finally {
      await r.close();
    }
  });

  it('both caps hold together while 5 subjects each create 6 sessions at once on two replicas', async () => {
    const r = await twoReplicas({ cookieSessionsMaxPerSubject: 2, cookieSessionsMax: 8, cookieSessionMaxLifetimeMs: 60_000 });
    try {
      const subjects = ['p', 'q', 'r', 's', 't'];
      const jobs = subjects.flatMap((sub) => Array.from({ length: 6 }, (_, i) => ({ sub, replica: i % 2 ? r.a : r.b })));
      const tries = await Promise.allSettled(jobs.map((j) => j.replica.cookieSessions.create(principal(j.sub))));
      const made = tries.map((t, i) => (t.status === 'fulfilled' ? { sub: jobs[i]!.sub, id: t.value.id } : undefined)).filter((m) => m !== undefined);
      for (const t of tries) if (t.status === 'rejected') expect(t.reason).toMatchObject({ code: 'cookie_sessions_full', status: 503 });
      const live = await liveOf(r.a, made.map((m) => m.id));
      expect(live.length).toBeLessThanOrEqual(8);
      for (const sub of subjects) {
        const own = made.filter((m) => m.sub === sub && live.includes(m.id));
        expect(own.length, sub).toBeLessThanOrEqual(2);
        expect(await r.b.cookieSessions.countOf(principal(sub)), sub).toBe(own.length);
      }
    } finally {
      await r.close();
    }
  });
}

/** The v2 SDK's event bus over Redis (state/server-events.ts): what listen streams on every replica hear. */
function serverEventTests(suite: StateSuite): void {
  it('a change event published on one replica is heard once by every listener of both; one subscription per replica', async () => {
    const heard: Record<'a1' | 'a2' | 'b', ServerEvent[]> = { a1: [], a2: [], b: [] };
    const stops = [
      suite.a.serverEvents.subscribe((e) => heard.a1.push(e)),
      suite.a.serverEvents.subscribe((e) => heard.a2.push(e)),
      suite.b.serverEvents.subscribe((e) => heard.b.push(e)),
    ];
    try {
      const event: ServerEvent = { kind: 'resource_updated', uri: 'notes://user/abc' };
      suite.b.serverEvents.publish(event);
      await eventually(() => heard.a1.length === 1 && heard.a2.length === 1 && heard.b.length === 1);
      expect(heard).toEqual({ a1: [event], a2: [event], b: [event] });
      // Three listeners, two Redis subscribers (one per replica) on this database's channel, none on another's.
      expect(await suite.admin.publish(serverEventsChannel(DB), JSON.stringify({ kind: 'tools_list_changed' }))).toBe(2);
      expect(await suite.admin.publish(serverEventsChannel(DB + 1), JSON.stringify({ kind: 'tools_list_changed' }))).toBe(0);
      await eventually(() => heard.b.length === 2);
      // An unsubscribed listener hears no more (the other listener of its replica, served by the same dispatch, does).
      stops[0]!();
      suite.a.serverEvents.publish({ kind: 'resource_updated', uri: 'notes://user/def' });
      await eventually(() => heard.a2.length === 3);
      expect(heard.a1).toHaveLength(2);
    } finally {
      for (const stop of stops) stop();
    }
  });

  it('a malformed message on the channel is reported and reaches no listener; a failed publish is reported', async () => {
    const errors: string[] = [];
    const c = await createRedisState({ url: dbUrl(), now: Date.now, limits: LIMITS, onError: (err) => errors.push(err.message) });
    const heard: ServerEvent[] = [];
    c.serverEvents.subscribe((e) => heard.push(e));
    await suite.admin.publish(serverEventsChannel(DB), '{"kind":"resource_updated"}');
    await suite.admin.publish(serverEventsChannel(DB), JSON.stringify({ kind: 'resources_list_changed' }));
    await eventually(() => heard.length === 1);
    expect(heard).toEqual([{ kind: 'resources_list_changed' }]);
    expect(errors).toEqual([`ignored a malformed message on ${serverEventsChannel(DB)}`]);
    await c.close();
    c.serverEvents.publish({ kind: 'tools_list_changed' });
    await eventually(() => errors.length === 2);
    expect(errors[1]).toMatch(/closed/i);
  });
}
