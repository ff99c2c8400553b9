/**
 * What the resource server shares between replicas, as interfaces: one process uses the in-memory
 * implementations (memory.ts), several use Redis (redis.ts). Token verification is not here: every replica
 * verifies tokens itself with its own cached JWKS.
 */
import type { CookieSessionStore } from '../auth/cookie-sessions.ts';
import type { SharedServerEvents } from './server-events.ts';

/**
 * A publish/subscribe bus between replicas (Redis pub/sub, or an in-process emitter). Delivery is at most once
 * and only to subscribers listening when the message is published: what needs more must keep its own state.
 * The legacy `/messages` route, cookie-session ends and the change events of listen streams travel on it.
 */
export interface EventBus {
  /** Publishes `message` on `channel`; resolves to the number of subscribers (replicas) that received it. */
  publish(channel: string, message: string): Promise<number>;
  /** Calls `handler` with every message published on `channel` from now on; resolves once subscribed. */
  subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe>;
}

export type Unsubscribe = () => Promise<void>;

/** The two session kinds of the 2025 era: Streamable HTTP sessions and HTTP+SSE streams. */
export type SessionKind = 'streamable' | 'sse';

/** Who owns a live session, and which replica holds it. */
export interface SessionOwnership {
  /** principalKey of the (iss, sub) that opened it. */
  readonly owner: string;
  /** The replica holding the session's transport (its bus channel is `replicaChannel(replica)`). */
  readonly replica: string;
}

/**
 * Where each live 2025-era session is held and by whom, so that any replica answers a request for it as its
 * owner would: 404 for an unknown one, 403 for someone else's.
 */
export interface SessionDirectory {
  /** Records a session held by this replica; it is forgotten after `ttlMs` at the latest. */
  record(kind: SessionKind, id: string, owner: string, ttlMs: number): Promise<void>;
  /** The session's owner and replica, or undefined when no replica holds it. */
  lookup(kind: SessionKind, id: string): Promise<SessionOwnership | undefined>;
  forget(kind: SessionKind, id: string): Promise<void>;
}

/** Everything shared, with this replica's identity. */
export interface SharedState {
  /** `memory` (one process) or `redis`. */
  readonly kind: 'memory' | 'redis';
  /** This replica's id (random per process). */
  readonly replica: string;
  readonly cookieSessions: CookieSessionStore;
  readonly sessions: SessionDirectory;
  readonly bus: EventBus;
  /**
   * The change events `subscriptions/listen` streams (and 2025 `resources/subscribe`) deliver, on the bus's
   * `serverEventsChannel`: a change on any replica reaches the streams of all (state/server-events.ts).
   */
  readonly serverEvents: SharedServerEvents;
  /** Ends subscriptions and connections. */
  close(): Promise<void>;
}

/** The bus channel on which a replica receives messages for the sessions it holds. */
export function replicaChannel(replica: string): string {
  return `mcp-lab:replica:${replica}`;
}

/**
 * The bus channel on which cookie-session ends are announced to every replica. Redis pub/sub ignores the database
 * number, so the channel names it: labs on different databases of one Redis do not hear each other's ends.
 */
export function cookieEndChannel(db = 0): string {
  return `mcp-lab:${db}:cookie-session-ended`;
}

/**
 * The bus channel on which change events for listen streams (`resource_updated` …) reach every replica; named with
 * the database number for the same reason as `cookieEndChannel`.
 */
export function serverEventsChannel(db = 0): string {
  return `mcp-lab:${db}:server-events`;
}
