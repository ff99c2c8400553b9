/**
 * What every cookie-session store promises (auth/cookie-sessions.ts), as one set of tests run against each
 * implementation: the in-memory store (units.test.ts) and the Redis one (tests/scale-state.test.ts). Answers are
 * awaited (the Redis store answers later) and ends are awaited until heard (the Redis store announces them on its
 * bus); what is asserted is the same for both.
 */
import { afterEach, expect, it, vi } from 'vitest';
import type { CookieSessionLimits, CookieSessionStore } from '../src/auth/cookie-sessions.ts';
import type { Principal } from '../src/auth/principal.ts';

/** A store under test, reading `clock.t` as its clock (ms); `close` releases what it holds. */
export interface OpenedStore {
  readonly store: CookieSessionStore;
  close(): Promise<void>;
}

export type OpenStore = (limits: CookieSessionLimits, clock: { t: number }) => Promise<OpenedStore>;

const LIMITS: CookieSessionLimits = { cookieSessionsMaxPerSubject: 2, cookieSessionsMax: 3, cookieSessionMaxLifetimeMs: 3_600_000 };

export function user(sub: string, expS = 10_000): Principal {
  return { iss: 'i', sub, aud: [], permissions: [], exp: expS };
}

/** Registers the contract's tests in the current describe block. */
export function cookieSessionContract(open: OpenStore): void {
  const opened: OpenedStore[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.close();
  });
  async function start(t: number, limits = LIMITS) {
    const clock = { t };
    const o = await open(limits, clock);
    opened.push(o);
    const ended: string[] = [];
    o.store.onEnd((id, why) => ended.push(`${id}:${why}`));
    return { store: o.store, clock, ended };
  }

  it('forget a session once its token expired', async () => {
    const { store, clock } = await start(1_000_000, { ...LIMITS, cookieSessionMaxLifetimeMs: 43_200_000 });
    const { id } = await store.create(user('s', 1_000 + 60));
    expect((await store.get(id))?.sub).toBe('s');
    clock.t = (1_000 + 60) * 1000;
    expect(await store.get(id)).toBeUndefined();
  });

  it('forget a session at its maximum lifetime even when the token lives longer', async () => {
    const { store, clock } = await start(0);
    const { id, expiresAtMs } = await store.create(user('s'));
    expect(expiresAtMs).toBe(3_600_000);
    clock.t = 3_600_000;
    expect(await store.get(id)).toBeUndefined();
  });

  it("replace the subject's own oldest session at its cap, never another subject's", async () => {
    const { store, ended } = await start(0);
    const bob = (await store.create(user('bob'))).id;
    const a1 = (await store.create(user('alice'))).id;
    const a2 = (await store.create(user('alice'))).id;
    const a3 = (await store.create(user('alice'))).id;
    expect(await store.get(a1)).toBeUndefined();
    expect((await store.get(a2))?.sub).toBe('alice');
    expect((await store.get(a3))?.sub).toBe('alice');
    expect((await store.get(bob))?.sub).toBe('bob');
    expect(await store.countOf(user('alice'))).toBe(2);
    await vi.waitFor(() => expect(ended).toEqual([`${a1}:replaced`]));
  });

  it('refuse a new session with 503 when the whole store is full of live sessions', async () => {
    const { store } = await start(0);
    const kept = [(await store.create(user('a'))).id, (await store.create(user('b'))).id, (await store.create(user('c'))).id];
    await expect(Promise.resolve().then(() => store.create(user('d')))).rejects.toMatchObject({ code: 'cookie_sessions_full', status: 503 });
    for (const id of kept) expect(await store.get(id)).toBeDefined();
    expect(await store.countOf(user('d'))).toBe(0);
  });

  it('make room from expired sessions before refusing, and announce them expired', async () => {
    const { store, clock, ended } = await start(0);
    const gone = (await store.create(user('a', 1))).id;
    await store.create(user('b'));
    await store.create(user('c'));
    clock.t = 1_000;
    expect((await store.create(user('d'))).id).toBeTypeOf('string');
    await vi.waitFor(() => expect(ended).toEqual([`${gone}:expired`]));
  });

  it('end a session at logout, announced as logged_out', async () => {
    const { store, ended } = await start(0);
    const { id } = await store.create(user('alice'));
    await store.delete(id);
    expect(await store.get(id)).toBeUndefined();
    expect(await store.countOf(user('alice'))).toBe(0);
    await vi.waitFor(() => expect(ended).toEqual([`${id}:logged_out`]));
  });
}
