/**
 * The server end of the legacy HTTP+SSE transport (MCP 2024-11-05): `GET /sse` opens an event stream whose first
 * event, `endpoint`, names `/messages?sessionId=…`; messages POSTed there reach `onmessage`, and `send` writes
 * `message` events to the stream.
 *
 * Written here rather than taken from the SDK (whose SSEServerTransport is deprecated) because a held stream is
 * the unit of cost (target: 10,000 open streams at ≤ 10 KB each):
 * - the stream opens before its MCP server exists (GET /sse answers at once, the server is connected on the
 *   session's first message), so a held stream costs a socket and this object, not an McpServer (~13 KiB);
 * - its head, with the caller's headers (CORS), is written by one `writeHead`: headers set beforehand with
 *   `setHeader` would each stay copied on the response for the life of the stream (~1 KiB with CORS).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { sessionEndedEvent } from './sessions.ts';
import type { SessionEndReason } from './sessions.ts';

type StreamState = 'new' | 'open' | 'closed';

export class SseStreamTransport implements Transport {
  readonly sessionId: string = randomUUID();
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  /** Where clients POST, a path without a query (the session id is appended). */
  readonly #endpoint: string;
  readonly #res: ServerResponse;
  #state: StreamState = 'new';

  constructor(endpoint: string, res: ServerResponse) {
    this.#endpoint = endpoint;
    this.#res = res;
  }

  /**
   * Writes the head (`headers`, e.g. CORS, plus the event-stream ones) and the `endpoint` event. Only the first
   * call does anything.
   */
  open(headers: OutgoingHttpHeaders = {}): void {
    if (this.#state !== 'new') return;
    this.#state = 'open';
    this.#res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
    });
    this.#res.write(`event: endpoint\ndata: ${this.#endpoint}?sessionId=${encodeURIComponent(this.sessionId)}\n\n`);
    this.#res.on('close', () => this.#closed());
  }

  /** Called by `McpServer.connect`; the stream is normally open by then (see `open`). */
  async start(): Promise<void> {
    this.open();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#state !== 'open') throw new Error('Not connected');
    this.#res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  /** Writes the `session_ended` event (before `close`, when the server ends the stream). */
  announceEnd(reason: SessionEndReason): void {
    if (this.#state === 'open') this.#res.write(sessionEndedEvent(reason));
  }

  async close(): Promise<void> {
    if (this.#state === 'open') this.#res.end();
    this.#closed();
  }

  /**
   * Hands a POSTed message (already parsed and validated) to the MCP server and answers 202 `Accepted`; the
   * reply travels as an event on the stream.
   */
  handlePostMessage(req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, message: JSONRPCMessage): void {
    if (this.#state !== 'open') {
      res.writeHead(500).end('SSE connection not established');
      return;
    }
    const extra: MessageExtraInfo = { requestInfo: { headers: req.headers } };
    if (req.auth) extra.authInfo = req.auth;
    this.deliver(message, extra);
    res.writeHead(202).end('Accepted');
  }

  /**
   * Hands a message to the MCP server without an HTTP exchange: one POSTed to another replica and relayed here
   * (state/sse-relay.ts). False when the stream is no longer open.
   */
  deliver(message: JSONRPCMessage, extra: MessageExtraInfo): boolean {
    if (this.#state !== 'open') return false;
    this.onmessage?.(message, extra);
    return true;
  }

  #closed(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.onclose?.();
  }
}
