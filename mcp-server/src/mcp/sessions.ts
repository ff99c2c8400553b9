/**
 * Live MCP transport sessions, each bound to the (iss, sub) that opened it. A request for a session must come
 * from the same principal; the answer to anyone else says nothing about the session or its owner.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { principalKey } from '../auth/principal.ts';
import type { Principal } from '../auth/principal.ts';
import { HttpError } from '../http-error.ts';

export interface McpSession<T extends Transport> {
  readonly transport: T;
  /** The session's MCP server, once connected (HTTP+SSE sessions connect one on their first message). */
  server: McpServer | undefined;
  /** The connection in progress or made, so that concurrent first messages connect one server. */
  connected?: Promise<void>;
  readonly owner: string;
}

export class SessionRegistry<T extends Transport> {
  readonly #sessions = new Map<string, McpSession<T>>();

  get size(): number {
    return this.#sessions.size;
  }

  add(id: string, session: McpSession<T>): void {
    this.#sessions.set(id, session);
  }

  remove(id: string): McpSession<T> | undefined {
    const s = this.#sessions.get(id);
    this.#sessions.delete(id);
    return s;
  }

  /**
   * The session, if it exists and belongs to `principal`.
   * @throws HttpError 404 for an unknown id; HttpError 403 `session_forbidden` for a session owned by someone
   *   else — without a Bearer challenge: the token is valid and no scope would help, so no client should be sent
   *   into a new authorization (RFC 6750 §3.1 reserves `insufficient_scope` for a token lacking privileges).
   */
  claim(id: string, principal: Principal): McpSession<T> {
    const s = this.#sessions.get(id);
    if (!s) throw new HttpError('session_not_found', 'unknown or expired session');
    if (s.owner !== principalKey(principal)) {
      throw new HttpError('session_forbidden', 'this session belongs to a different user');
    }
    return s;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    // A session without a server yet still has an open transport (an SSE stream) to end.
    await Promise.allSettled(all.map((s) => (s.server ?? s.transport).close()));
  }
}
