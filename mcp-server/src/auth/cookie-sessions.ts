/**
 * Browser sessions: an opaque random id (the cookie value) mapped server-side to the verified principal.
 * The token itself is never stored. A session dies with the token's `exp` or its maximum lifetime, whichever is
 * first; one subject holds at most `maxPerSubject` (a new one replaces that subject's own oldest, never anyone
 * else's), and the store holds at most `maxSessions` in all (beyond, new sessions are refused until some expire).
 */
import { randomBytes } from 'node:crypto';
import type { RsLimits } from '../config.ts';
import { HttpError } from '../http-error.ts';
import { principalKey } from './principal.ts';
import type { Principal } from './principal.ts';

/** Why a cookie session ended: logout (DELETE /session), replaced by the subject's newer one, or expired. */
export type CookieSessionEnd = 'logged_out' | 'replaced' | 'expired';

type Awaitable<T> = T | Promise<T>;

/**
 * What the app needs of a cookie-session store. The in-memory one (below) answers at once; the shared one
 * (state/redis-cookie-sessions.ts, several replicas) answers through Redis, so callers await every answer.
 */
export interface CookieSessionStore {
  /** @throws HttpError 503 cookie_sessions_full when the store is full of live sessions. */
  create(principal: Principal): Awaitable<{ readonly id: string; readonly expiresAtMs: number }>;
  get(id: string): Awaitable<Principal | undefined>;
  delete(id: string): Awaitable<void>;
  /** Sessions the subject of `principal` holds. */
  countOf(principal: Pick<Principal, 'iss' | 'sub'>): Awaitable<number>;
  /** Forgets expired sessions (each reported to the listeners); runs on a timer in the app. */
  sweep(): Awaitable<void>;
  /**
   * Registers a listener for ended sessions (MCP streams opened with one end too). A shared store reports the
   * end on every replica, wherever the logout or the expiry happened.
   */
  onEnd(listener: (id: string, why: CookieSessionEnd) => void): void;
}

/** The in-memory store: one process, every answer at once. */
export interface MemoryCookieSessionStore extends CookieSessionStore {
  create(principal: Principal): { readonly id: string; readonly expiresAtMs: number };
  get(id: string): Principal | undefined;
  delete(id: string): void;
  countOf(principal: Pick<Principal, 'iss' | 'sub'>): number;
  sweep(): void;
}

interface Entry {
  readonly principal: Principal;
  readonly owner: string;
  readonly expiresAtMs: number;
}

export type CookieSessionLimits = Pick<RsLimits, 'cookieSessionsMaxPerSubject' | 'cookieSessionsMax' | 'cookieSessionMaxLifetimeMs'>;

export const DEFAULT_COOKIE_SESSION_LIMITS: CookieSessionLimits = Object.freeze({
  cookieSessionsMaxPerSubject: 10,
  cookieSessionsMax: 100_000,
  cookieSessionMaxLifetimeMs: 43_200_000,
});

/** An in-memory store bounded per subject, in all, and in time (see the module comment). */
export function createCookieSessionStore(now: () => number, limits: CookieSessionLimits = DEFAULT_COOKIE_SESSION_LIMITS): MemoryCookieSessionStore {
  const sessions = new Map<string, Entry>();
  /** owner → its session ids, oldest first (Set keeps insertion order). */
  const byOwner = new Map<string, Set<string>>();
  const listeners: Array<(id: string, why: CookieSessionEnd) => void> = [];

  function forget(id: string, why: CookieSessionEnd): void {
    const entry = sessions.get(id);
    if (!entry) return;
    sessions.delete(id);
    const ids = byOwner.get(entry.owner);
    ids?.delete(id);
    if (ids?.size === 0) byOwner.delete(entry.owner);
    for (const listener of listeners) listener(id, why);
  }

  function sweep(): void {
    const t = now();
    for (const [id, entry] of sessions) if (entry.expiresAtMs <= t) forget(id, 'expired');
  }

  return {
    create(principal) {
      const owner = principalKey(principal);
      const own = byOwner.get(owner);
      if (own && own.size >= limits.cookieSessionsMaxPerSubject) {
        const oldest = own.values().next();
        if (!oldest.done) forget(oldest.value, 'replaced');
      }
      if (sessions.size >= limits.cookieSessionsMax) sweep();
      if (sessions.size >= limits.cookieSessionsMax) {
        throw new HttpError('cookie_sessions_full', 'too many browser sessions on this server; use a bearer token or retry later');
      }
      const id = randomBytes(32).toString('base64url');
      const expiresAtMs = Math.min(principal.exp * 1000, now() + limits.cookieSessionMaxLifetimeMs);
      sessions.set(id, { principal, owner, expiresAtMs });
      let ids = byOwner.get(owner);
      if (!ids) byOwner.set(owner, (ids = new Set()));
      ids.add(id);
      return { id, expiresAtMs };
    },
    get(id) {
      const entry = sessions.get(id);
      if (!entry) return undefined;
      if (entry.expiresAtMs <= now()) {
        forget(id, 'expired');
        return undefined;
      }
      return entry.principal;
    },
    delete(id) {
      forget(id, 'logged_out');
    },
    countOf(principal) {
      return byOwner.get(principalKey(principal))?.size ?? 0;
    },
    sweep,
    onEnd(listener) {
      listeners.push(listener);
    },
  };
}
