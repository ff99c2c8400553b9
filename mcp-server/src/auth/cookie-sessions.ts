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
}

/** An in-memory store bounded by `maxSessions` (oldest evicted first) and by each principal's `exp`. */
export function createCookieSessionStore(now: () => number, maxSessions = 10_000): CookieSessionStore {
  const sessions = new Map<string, Principal>();
  return {
    create(principal) {
      const id = randomBytes(32).toString('base64url');
      if (sessions.size >= maxSessions) {
        const oldest = sessions.keys().next();
        if (!oldest.done) sessions.delete(oldest.value);
      }
      sessions.set(id, principal);
      return id;
    },
    get(id) {
      const p = sessions.get(id);
      if (p && p.exp * 1000 <= now()) {
        sessions.delete(id);
        return undefined;
      }
      return p;
    },
    delete(id) {
      sessions.delete(id);
    },
  };
}
