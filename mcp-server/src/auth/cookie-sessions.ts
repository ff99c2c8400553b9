/**
 * Browser sessions: an opaque random id (the cookie value) mapped server-side to the verified principal.
 * The token itself is never stored; a session dies with the token's `exp`.
 */
import { randomBytes } from 'node:crypto';
import type { Principal } from './principal.ts';

export interface CookieSessionStore {
  create(principal: Principal): string;
  get(id: string): Principal | undefined;
  delete(id: string): void;
  /**
   * Runs `end` once when the session is deleted (logout) or found expired, so that what it opened (an SSE stream)
   * ends with it. Returns a function that unregisters `end` (call it when the stream closes first).
   */
  onEnd(id: string, end: () => void): () => void;
}

/** An in-memory store bounded by `maxSessions` (oldest evicted first) and by each principal's `exp`. */
export function createCookieSessionStore(now: () => number, maxSessions = 10_000): CookieSessionStore {
  const sessions = new Map<string, Principal>();
  const enders = new Map<string, Set<() => void>>();
  function end(id: string): void {
    sessions.delete(id);
    const fns = enders.get(id);
    if (!fns) return;
    enders.delete(id);
    for (const fn of fns) fn();
  }
  return {
    create(principal) {
      const id = randomBytes(32).toString('base64url');
      if (sessions.size >= maxSessions) {
        const oldest = sessions.keys().next();
        if (!oldest.done) end(oldest.value);
      }
      sessions.set(id, principal);
      return id;
    },
    get(id) {
      const p = sessions.get(id);
      if (p && p.exp * 1000 <= now()) {
        end(id);
        return undefined;
      }
      return p;
    },
    delete(id) {
      end(id);
    },
    onEnd(id, fn) {
      if (!sessions.has(id)) {
        fn();
        return () => {};
      }
      let fns = enders.get(id);
      if (!fns) enders.set(id, (fns = new Set()));
      fns.add(fn);
      return function unregister() {
        fns.delete(fn);
        if (fns.size === 0 && enders.get(id) === fns) enders.delete(id);
      };
    },
  };
}
