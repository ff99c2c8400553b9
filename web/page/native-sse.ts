/**
 * An MCP SDK Transport over the browser's own EventSource (HTTP+SSE, MCP 2024-11-05): the stream is opened with
 * `withCredentials`, so the RS session cookie authenticates it — the reason cookie sessions exist, since an
 * EventSource cannot send an Authorization header. Messages are POSTed to the announced endpoint with the cookie
 * (`credentials: 'include'`); the browser adds the Origin header the RS checks (CSRF).
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { FetchLike } from 'mcp-lab-client/browser';

export interface StreamEnd {
  /** Milliseconds from `watchEnd()` to the server closing the stream. */
  readonly endedAfterMs: number;
  /** True when the browser's reconnect was refused (EventSource CLOSED): the cookie no longer works. */
  readonly reconnectRefused: boolean;
}

export class NativeSseTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  readonly #url: URL;
  readonly #fetch: FetchLike;
  readonly #onOpen: (url: string) => void;
  #source: EventSource | undefined;
  #endpoint: URL | undefined;
  #ended: (() => void) | undefined;
  #refused: (() => void) | undefined;

  /** `fetch` sends the POSTs (the page's recording fetch); `onOpen` hears of the stream opening. */
  constructor(url: URL, fetch: FetchLike, onOpen: (url: string) => void) {
    this.#url = url;
    this.#fetch = fetch;
    this.#onOpen = onOpen;
  }

  get readyState(): number {
    return this.#source?.readyState ?? EventSource.CLOSED;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const source = new EventSource(this.#url, { withCredentials: true });
      this.#source = source;
      source.addEventListener('endpoint', (e) => {
        this.#endpoint = new URL((e as MessageEvent<string>).data, this.#url);
        this.#onOpen(this.#url.href);
        resolve();
      });
      source.addEventListener('message', (e) => {
        let message: JSONRPCMessage;
        try {
          message = JSON.parse((e as MessageEvent<string>).data) as JSONRPCMessage;
        } catch (err) {
          this.onerror?.(err as Error);
          return;
        }
        this.onmessage?.(message);
      });
      source.addEventListener('error', () => {
        if (this.#endpoint === undefined) {
          source.close();
          reject(new Error(`the EventSource to ${this.#url.href} was refused (no cookie, or a foreign origin)`));
          return;
        }
        this.#ended?.();
        if (source.readyState === EventSource.CLOSED) {
          this.#refused?.();
          this.onclose?.();
        }
      });
    });
  }

  /**
   * Resolves when the server ends the stream and the browser's reconnect is refused (or `timeoutMs` passes, with
   * `reconnectRefused` false). Nothing here closes the stream: only the server can end it.
   */
  watchEnd(timeoutMs: number): Promise<StreamEnd | undefined> {
    const started = performance.now();
    let endedAt: number | undefined;
    const ended = new Promise<void>((r) => (this.#ended = r)).then(() => {
      endedAt ??= performance.now();
    });
    const refused = new Promise<void>((r) => (this.#refused = r));
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs));
    return Promise.race([Promise.all([ended, refused]).then(() => 'refused' as const), timeout]).then((how) =>
      endedAt === undefined ? undefined : { endedAfterMs: Math.round(endedAt - started), reconnectRefused: how === 'refused' },
    );
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#endpoint === undefined) throw new Error('the SSE stream is not open');
    const response = await this.#fetch(this.#endpoint.href, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`POST ${this.#endpoint.pathname}: HTTP ${response.status}`);
  }

  async close(): Promise<void> {
    this.#source?.close();
    this.onclose?.();
  }
}
