/**
 * Cookie sessions shared by every replica through Redis: a cookie made by one replica authenticates on all of
 * them, and a logout or expiry on one ends, on every replica, the MCP streams opened with it (announced on the
 * bus). Same rules as the in-memory store: the token is never stored, a session dies with the token's `exp` or
 * its maximum lifetime, one subject holds at most `cookieSessionsMaxPerSubject` (the newest replaces that
 * subject's own oldest), and at most `cookieSessionsMax` live in all.
 *
 * Keys: `…:cookie:<id>` the session (JSON, with a Redis TTL at its expiry), `…:cookies` every live id scored by
 * its expiry (for the cap and the sweep), `…:cookie-owner:<owner>` a subject's ids scored by creation order
 * (`…:cookie-sequence`, one counter for all replicas).
 * Creation is one atomic Lua script (redis-cookie-create.ts): the caps hold however many replicas create sessions
 * at the same instant, for one subject or for many.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CookieSessionEnd, CookieSessionLimits, CookieSessionStore } from '../auth/cookie-sessions.ts';
import { principalKey } from '../auth/principal.ts';
import type { Principal } from '../auth/principal.ts';
import { HttpError } from '../http-error.ts';
import { defineCreateCookieSession } from './redis-cookie-create.ts';
import type { EventBus } from './types.ts';

const PREFIX = 'mcp-lab:';
const ALL = `${PREFIX}cookies`;
const SESSION_PREFIX = `${PREFIX}cookie:`;
const OWNER_PREFIX = `${PREFIX}cookie-owner:`;
const sessionKey = (id: string) => `${SESSION_PREFIX}${id}`;
const ownerKey = (owner: string) => `${OWNER_PREFIX}${owner}`;
/** A counter giving every cookie session its place in creation order, across replicas (clocks may tie). */
const SEQUENCE = `${PREFIX}cookie-sequence`;

interface StoredSession {
  readonly principal: Principal;
  readonly owner: string;
  readonly expiresAtMs: number;
}

function isCookieSessionEnd(v: unknown): v is CookieSessionEnd {
  return v === 'logged_out' || v === 'replaced' || v === 'expired';
}

/**
 * An end announced on the bus, or undefined for a message that is not one (a bus is shared; a malformed message
 * is ignored rather than thrown inside the subscriber).
 */
function parseCookieEnd(message: string): { readonly id: string; readonly why: CookieSessionEnd } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  const { id, why } = (parsed ?? {}) as { id?: unknown; why?: unknown };
  if (typeof id !== 'string' || !isCookieSessionEnd(why)) return undefined;
  return { id, why };
}

/**
 * `create` of the store: one atomic script call (the caps, the user's own oldest replaced, expired ones swept when
 * full), then the ends it caused announced by this replica — the script took them out of the index, so this is
 * the one place they are announced, once, as `forget` does for the others.
 */
function sessionCreator(
  createAtomically: ReturnType<typeof defineCreateCookieSession>,
  announce: (id: string, why: CookieSessionEnd) => Promise<void>,
  now: () => number,
  limits: CookieSessionLimits,
): CookieSessionStore['create'] {
  return async function create(principal) {
    const owner = principalKey(principal);
    const id = randomBytes(32).toString('base64url');
    const nowMs = now();
    const expiresAtMs = Math.min(principal.exp * 1000, nowMs + limits.cookieSessionMaxLifetimeMs);
    const stored: StoredSession = { principal, owner, expiresAtMs };
    const outcome = await createAtomically({
      id,
      owner,
      json: JSON.stringify(stored),
      nowMs,
      expiresAtMs,
      maxPerSubject: limits.cookieSessionsMaxPerSubject,
      maxSessions: limits.cookieSessionsMax,
      ownerTtlMs: limits.cookieSessionMaxLifetimeMs,
    });
    for (const old of outcome.replaced) await announce(old, 'replaced');
    for (const old of outcome.expired) await announce(old, 'expired');
    if (!outcome.written) {
      throw new HttpError('cookie_sessions_full', 'too many browser sessions on this server; use a bearer token or retry later');
    }
    return { id, expiresAtMs };
  };
}

/** A Redis-backed store; `bus` carries the ends to every replica's listeners. */
export async function createRedisCookieSessionStore(
  redis: Redis,
  bus: EventBus,
  now: () => number,
  limits: CookieSessionLimits,
  /** Where ends are announced (types.ts cookieEndChannel). */
  endChannel: string,
): Promise<CookieSessionStore & { readonly unsubscribe: () => Promise<void> }> {
  const listeners: Array<(id: string, why: CookieSessionEnd) => void> = [];
  const unsubscribe = await bus.subscribe(endChannel, function onCookieEnd(message) {
    const end = parseCookieEnd(message);
    if (end) for (const listener of listeners) listener(end.id, end.why);
  });

  const createAtomically = defineCreateCookieSession(redis, { all: ALL, sequence: SEQUENCE, sessionPrefix: SESSION_PREFIX, ownerPrefix: OWNER_PREFIX });

  async function announce(id: string, why: CookieSessionEnd): Promise<void> {
    await bus.publish(endChannel, JSON.stringify({ id, why }));
  }

  async function read(id: string): Promise<StoredSession | undefined> {
    const raw = await redis.get(sessionKey(id));
    return raw === null ? undefined : (JSON.parse(raw) as StoredSession);
  }

  /** Forgets a session; the replica whose removal took it out of the index announces the end (once). */
  async function forget(id: string, why: CookieSessionEnd, known?: StoredSession): Promise<void> {
    const entry = known ?? (await read(id));
    const tx = redis.multi().del(sessionKey(id)).zrem(ALL, id);
    if (entry) tx.zrem(ownerKey(entry.owner), id);
    const results = await tx.exec();
    const removed = results?.[1]?.[1];
    if (removed === 1) await announce(id, why);
  }

  async function sweep(): Promise<void> {
    const expired = await redis.zrangebyscore(ALL, '-inf', now());
    for (const id of expired) await forget(id, 'expired');
  }

  return {
    create: sessionCreator(createAtomically, announce, now, limits),
    async get(id) {
      const entry = await read(id);
      if (!entry) return undefined;
      if (entry.expiresAtMs <= now()) {
        await forget(id, 'expired', entry);
        return undefined;
      }
      return entry.principal;
    },
    async delete(id) {
      await forget(id, 'logged_out');
    },
    async countOf(principal) {
      return redis.zcard(ownerKey(principalKey(principal)));
    },
    sweep,
    onEnd(listener) {
      listeners.push(listener);
    },
    unsubscribe,
  };
}
