/**
 * Live MCP transport sessions, each bound to the (iss, sub) that opened it. A request for a session must come
 * from the same principal; the answer to anyone else says nothing about the session or its owner.
 *
 * Every session is bounded: a per-subject cap (the next open is refused, nobody else's session is touched), an
 * idle timeout (no request for that long), and an absolute deadline — its maximum lifetime, or the `exp` of its
 * token if earlier. Held event streams end with a `session_ended` event naming the reason, also when the cookie
 * session they were opened with is logged out or expires.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ServerResponse } from 'node:http';
import { principalKey } from '../auth/principal.ts';
import type { Principal } from '../auth/principal.ts';
import { HttpError } from '../http-error.ts';
import { JsonRpcHttpError } from './jsonrpc-error.ts';

/** Why a session or stream was ended by the server (the `reason` of its `session_ended` event). */
export type SessionEndReason =
  | 'idle_timeout'
  | 'token_expired'
  | 'lifetime_exceeded'
  | 'logged_out'
  | 'cookie_session_expired'
  | 'server_shutdown';

const END_MESSAGES: Readonly<Record<SessionEndReason, string>> = {
  idle_timeout: 'the session was idle too long',
  token_expired: 'the access token of this session expired; reconnect with a fresh token',
  lifetime_exceeded: 'the session reached its maximum lifetime; reconnect',
  logged_out: 'the cookie session of this stream was logged out',
  cookie_session_expired: 'the cookie session of this stream expired',
  server_shutdown: 'the server is shutting down',
};

/** The last event of a stream the server ends (SSE, WHATWG HTML §9.2); MCP clients ignore event types they do not know. */
export function sessionEndedEvent(reason: SessionEndReason): string {
  return `event: session_ended\ndata: ${JSON.stringify({ reason, message: END_MESSAGES[reason] })}\n\n`;
}

/** Writes the `session_ended` event to an open stream and ends it. */
export function endStream(res: ServerResponse, reason: SessionEndReason): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) res.write(sessionEndedEvent(reason));
  res.end();
}

/** The answer for a session no one holds (404); the same on every replica. */
export function sessionNotFound(): HttpError {
  return new HttpError('session_not_found', 'unknown or expired session');
}

/**
 * The answer for someone else's session (403 `session_forbidden`, no Bearer challenge: the token is valid and no
 * scope would help); the same on every replica.
 */
export function foreignSession(): HttpError {
  return new HttpError('session_forbidden', 'this session belongs to a different user');
}

/** A held event stream of a session (a Streamable HTTP GET stream), with its own token deadline. */
interface HeldStream {
  /** The stream ends at this time (ms): its token's `exp`, or the session's deadline if earlier. */
  readonly deadlineMs: number;
  readonly reason: 'token_expired' | 'lifetime_exceeded';
  readonly cookieSessionId: string | undefined;
}

export interface McpSession<T extends Transport> {
  readonly transport: T;
  /** The session's MCP server, once connected (HTTP+SSE sessions connect one on their first message). */
  server: McpServer | undefined;
  /** The connection in progress or made, so that concurrent first messages connect one server. */
  connected?: Promise<void>;
  readonly owner: string;
  /** Set by the registry from the principal that opened it. */
  readonly bounds?: SessionBounds;
  /** Ends the session's own stream with a final event (HTTP+SSE: the session is its stream). */
  readonly endStream?: (reason: SessionEndReason) => void;
}

interface SessionBounds {
  readonly openedAtMs: number;
  lastSeenMs: number;
  /** The token deadline: the opening token's `exp`, extended by later requests' tokens when `extendsWithToken`. */
  tokenExpMs: number;
  readonly cookieSessionId: string | undefined;
  /** Held GET streams (Streamable HTTP); made on the first, so that an HTTP+SSE session does not pay for a Map. */
  streams?: Map<ServerResponse, HeldStream>;
}

export interface SessionLimits {
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
  readonly maxPerSubject: number;
  /**
   * Streamable HTTP: a request with a fresh token keeps the session alive past the opening token's `exp`
   * (its streams still end with their own token). HTTP+SSE: the stream is bound to the token that opened it.
   */
  readonly extendsWithToken: boolean;
  /** What the cap counts, for the refusal's message ("Streamable HTTP sessions", "SSE streams"). */
  readonly label: string;
}

/** How a caller authenticated, as far as session binding cares. */
export interface Credential {
  readonly principal: Principal;
  /** The cookie session id when the request was cookie-authenticated. */
  readonly cookieSessionId?: string | undefined;
}

export class SessionRegistry<T extends Transport> {
  readonly #sessions = new Map<string, McpSession<T>>();
  readonly #byOwner = new Map<string, Set<string>>();
  /** Opens in progress per owner (initialize runs asynchronously before the session has an id). */
  readonly #pending = new Map<string, number>();
  readonly #limits: SessionLimits;
  readonly #now: () => number;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(limits: SessionLimits, now: () => number = Date.now, sweepIntervalMs = 1_000) {
    this.#limits = limits;
    this.#now = now;
    this.#sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
    this.#sweeper.unref();
  }

  /** Whether this process holds the session `id` (live or not yet swept). */
  holds(id: string): boolean {
    return this.#sessions.has(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Sessions held by the subject of `principal`. */
  countOf(principal: Pick<Principal, 'iss' | 'sub'>): number {
    return this.#byOwner.get(principalKey(principal))?.size ?? 0;
  }

  /**
   * Reserves a place for a session `credential` is about to open; call the returned function if it does not
   * (adding the session consumes the reservation).
   * @throws JsonRpcHttpError 429 too_many_sessions when the subject holds its maximum already.
   */
  reserve(credential: Credential): () => void {
    const owner = principalKey(credential.principal);
    const held = (this.#byOwner.get(owner)?.size ?? 0) + (this.#pending.get(owner) ?? 0);
    if (held >= this.#limits.maxPerSubject) {
      throw new JsonRpcHttpError(
        'too_many_sessions',
        `too many ${this.#limits.label}: at most ${this.#limits.maxPerSubject} per user; close one or wait for one to expire`,
      );
    }
    this.#pending.set(owner, (this.#pending.get(owner) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#pending.get(owner) ?? 1) - 1;
      if (n > 0) this.#pending.set(owner, n);
      else this.#pending.delete(owner);
    };
  }

  /** Adds a session opened by `credential` (its reservation, if any, is released by the caller). */
  add(id: string, session: McpSession<T>, credential: Credential): void {
    const now = this.#now();
    const bounds: SessionBounds = {
      openedAtMs: now,
      lastSeenMs: now,
      tokenExpMs: credential.principal.exp * 1000,
      cookieSessionId: credential.cookieSessionId,
    };
    this.#sessions.set(id, { ...session, bounds });
    let ids = this.#byOwner.get(session.owner);
    if (!ids) this.#byOwner.set(session.owner, (ids = new Set()));
    ids.add(id);
  }

  remove(id: string): McpSession<T> | undefined {
    const s = this.#sessions.get(id);
    this.#sessions.delete(id);
    if (s) {
      const ids = this.#byOwner.get(s.owner);
      ids?.delete(id);
      if (ids?.size === 0) this.#byOwner.delete(s.owner);
    }
    return s;
  }

  /**
   * The session, if it exists and belongs to `principal`; counts as activity (idle timeout) and, for Streamable
   * HTTP, lets a fresh token carry the session on.
   * @throws HttpError 404 for an unknown or expired id; HttpError 403 `session_forbidden` — no Bearer challenge: the token is valid and no scope would help, so no
   *   client is sent into a new authorization (RFC 6750 §3.1 keeps `insufficient_scope` for missing privileges) — for a
   *   session owned by someone else.
   */
  claim(id: string, principal: Principal): McpSession<T> {
    const s = this.#sessions.get(id);
    if (!s || this.#expiry(s, this.#now()) !== undefined) throw sessionNotFound();
    if (s.owner !== principalKey(principal)) throw foreignSession();
    this.#touch(s, principal);
    return s;
  }

  /**
   * Holds `res` (an event stream of the session opened by `credential`) until its token or the session ends;
   * it then gets a `session_ended` event.
   */
  holdStream(session: McpSession<T>, res: ServerResponse, credential: Credential): void {
    const b = session.bounds;
    if (!b) return;
    const tokenExpMs = credential.principal.exp * 1000;
    const lifetimeEndMs = b.openedAtMs + this.#limits.maxLifetimeMs;
    const streams = (b.streams ??= new Map());
    streams.set(res, {
      deadlineMs: Math.min(tokenExpMs, lifetimeEndMs),
      reason: tokenExpMs < lifetimeEndMs ? 'token_expired' : 'lifetime_exceeded',
      cookieSessionId: credential.cookieSessionId,
    });
    res.once('close', () => streams.delete(res));
  }

  /** Ends every session and stream opened with the cookie session `cookieSessionId` (logout, its expiry). */
  endByCookie(cookieSessionId: string, reason: 'logged_out' | 'cookie_session_expired'): void {
    for (const [id, s] of this.#sessions) {
      const b = s.bounds;
      if (!b) continue;
      if (b.cookieSessionId === cookieSessionId) {
        void this.end(id, reason);
        continue;
      }
      for (const [res, held] of b.streams ?? []) if (held.cookieSessionId === cookieSessionId) endStream(res, reason);
    }
  }

  /** Ends sessions and streams past their idle timeout or deadline; runs every sweep interval. */
  sweep(): void {
    const now = this.#now();
    for (const [id, s] of this.#sessions) {
      const reason = this.#expiry(s, now);
      if (reason !== undefined) {
        void this.end(id, reason);
        continue;
      }
      for (const [res, held] of s.bounds?.streams ?? []) {
        if (held.deadlineMs <= now) endStream(res, held.reason);
      }
    }
  }

  /** Ends one session: its streams get a final event, then its server (or transport) closes. */
  async end(id: string, reason: SessionEndReason): Promise<void> {
    const s = this.remove(id);
    if (!s) return;
    for (const res of s.bounds?.streams?.keys() ?? []) endStream(res, reason);
    s.endStream?.(reason);
    await (s.server ?? s.transport).close();
  }

  async closeAll(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    // A session without a server yet still has an open transport (an SSE stream) to end.
    await Promise.allSettled([...this.#sessions.keys()].map((id) => this.end(id, 'server_shutdown')));
  }

  #touch(s: McpSession<T>, principal: Principal): void {
    const b = s.bounds;
    if (!b) return;
    b.lastSeenMs = this.#now();
    if (this.#limits.extendsWithToken) b.tokenExpMs = Math.max(b.tokenExpMs, principal.exp * 1000);
  }

  /** Why the session must end now, or undefined while it may live. */
  #expiry(s: McpSession<T>, now: number): SessionEndReason | undefined {
    const b = s.bounds;
    if (!b) return undefined;
    if (now >= b.openedAtMs + this.#limits.maxLifetimeMs) return 'lifetime_exceeded';
    if (now >= b.tokenExpMs) return 'token_expired';
    if (now >= b.lastSeenMs + this.#limits.idleTimeoutMs) return 'idle_timeout';
    return undefined;
  }
}
