/**
 * The one fetch every step uses: it records each exchange (selected headers, credentials redacted) into the
 * step that is running, so the person sees every request the client makes.
 */
import type { HttpRecord } from './events.ts';
import { redactAuthorization, redactCookie, redactUrl } from './redact.ts';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The request and response headers a record keeps (one map; these two lists tell them apart, e.g. for HAR). */
export const REQUEST_HEADERS = ['authorization', 'cookie', 'origin'] as const;
export const RESPONSE_HEADERS = ['www-authenticate', 'location', 'content-type', 'set-cookie', 'mcp-session-id'] as const;

function redactHeader(name: string, value: string): string {
  switch (name) {
    case 'authorization':
      return redactAuthorization(value);
    case 'cookie':
    case 'set-cookie':
      return redactCookie(value);
    case 'location':
      return redactUrl(value);
    default:
      return value;
  }
}

/** Collects the HTTP exchanges of the step currently running. */
export class HttpRecorder {
  #current: HttpRecord[] = [];

  /** Starts a new step's list and returns the previous one. */
  take(): HttpRecord[] {
    const done = this.#current;
    this.#current = [];
    return done;
  }

  /** Wraps a fetch so each exchange is recorded; nothing else about the request changes. */
  wrap(base: FetchLike): FetchLike {
    return async (input, init) => {
      const request = new Request(input, init);
      const startedAt = new Date().toISOString();
      const started = performance.now();
      const response = await base(input, init);
      const ms = Math.round(performance.now() - started);
      const headers: Record<string, string> = {};
      for (const name of REQUEST_HEADERS) {
        const v = request.headers.get(name);
        if (v !== null) headers[name] = redactHeader(name, v);
      }
      for (const name of RESPONSE_HEADERS) {
        const v = name === 'set-cookie' ? response.headers.getSetCookie().join(', ') || null : response.headers.get(name);
        if (v !== null) headers[name] = redactHeader(name, v);
      }
      this.#current.push({ method: request.method, url: redactUrl(request.url), status: response.status, headers, startedAt, ms });
      return response;
    };
  }
}
