/**
 * The one fetch every step uses: it records each exchange (selected headers, credentials redacted) into the
 * step that is running, so the person sees every request the client makes. It also learns every credential that
 * passes through it (see {@link SecretSet}), so nothing printed later can show one, whoever echoes it.
 */
import type { HttpRecord } from './events.ts';
import { redactAuthorization, redactCookie, redactSetCookie, redactUrl, SecretSet } from './redact.ts';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Request headers shown: credentials (redacted), Origin, and the MCP standard headers (era, method, tool); the
 * response headers after them. A record keeps both in one map; these two lists tell them apart (e.g. for HAR).
 */
export const REQUEST_HEADERS = ['authorization', 'cookie', 'origin', 'mcp-protocol-version', 'mcp-method', 'mcp-name'] as const;
export const RESPONSE_HEADERS = ['www-authenticate', 'location', 'content-type', 'set-cookie', 'mcp-session-id'] as const;
/** Form and JSON fields that carry a credential (RFC 6749 §4.1.3, §5.1, §6; RFC 7636 §4.5; RFC 7591 §3.2.1). */
const CREDENTIAL_FIELDS = ['code', 'code_verifier', 'refresh_token', 'access_token', 'id_token', 'client_secret', 'registration_access_token'] as const;
/** Token and registration responses are small; larger JSON is not searched for credentials. */
const MAX_LEARN_BYTES = 64 * 1024;

function redactHeader(name: string, value: string): string {
  switch (name) {
    case 'authorization':
      return redactAuthorization(value);
    case 'cookie':
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
  /** Every credential seen on the wire this run; the orchestrator scrubs each step event with it. */
  readonly secrets: SecretSet;

  constructor(secrets: SecretSet = new SecretSet()) {
    this.secrets = secrets;
  }

  /** Starts a new step's list and returns the previous one. */
  take(): HttpRecord[] {
    const done = this.#current;
    this.#current = [];
    return done;
  }

  /** Records an exchange made without fetch (a browser's EventSource, a top-level navigation). */
  add(record: HttpRecord): void {
    this.#current.push(record);
  }

  /** Wraps a fetch so each exchange is recorded; nothing else about the request changes. */
  wrap(base: FetchLike): FetchLike {
    return async (input, init) => {
      const request = new Request(input, init);
      await this.#learnFromRequest(request);
      const startedAt = new Date().toISOString();
      const started = performance.now();
      const response = await base(input, init);
      const ms = Math.round(performance.now() - started);
      await this.#learnFromResponse(request, response);
      const headers: Record<string, string> = {};
      for (const name of REQUEST_HEADERS) {
        const v = request.headers.get(name);
        if (v !== null) headers[name] = this.secrets.scrub(redactHeader(name, v));
      }
      for (const name of RESPONSE_HEADERS) {
        if (name === 'set-cookie') {
          const cookies = response.headers.getSetCookie();
          // Each Set-Cookie field on its own: joined first, an Expires date's comma would hide the next cookie's value.
          if (cookies.length) headers[name] = cookies.map((c) => this.secrets.scrub(redactSetCookie(c))).join(' | ');
          continue;
        }
        const v = response.headers.get(name);
        if (v !== null) headers[name] = this.secrets.scrub(redactHeader(name, v));
      }
      this.#current.push({ method: request.method, url: this.secrets.scrub(redactUrl(request.url)), status: response.status, headers, startedAt, ms });
      return response;
    };
  }

  /** The bearer token, Basic client secret and form credentials (code, code_verifier, refresh_token, …) sent. */
  async #learnFromRequest(request: Request): Promise<void> {
    const auth = request.headers.get('authorization');
    if (auth !== null) {
      const [scheme, credentials = ''] = auth.split(/\s+/, 2);
      this.secrets.remember(credentials);
      if (scheme?.toLowerCase() === 'basic') {
        const decoded = Buffer.from(credentials, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon >= 0) this.secrets.remember(decodeURIComponent(decoded.slice(colon + 1)));
      }
    }
    for (const param of CREDENTIAL_FIELDS) this.secrets.remember(new URL(request.url).searchParams.get(param));
    const type = request.headers.get('content-type') ?? '';
    if (request.body !== null && type.startsWith('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams(await request.clone().text());
      for (const param of CREDENTIAL_FIELDS) this.secrets.remember(form.get(param));
    }
  }

  /** A code in a redirect, and tokens or a client secret in a (small) JSON answer to a POST. */
  async #learnFromResponse(request: Request, response: Response): Promise<void> {
    const location = response.headers.get('location');
    if (location !== null) {
      const url = URL.parse(location, request.url);
      for (const param of CREDENTIAL_FIELDS) this.secrets.remember(url?.searchParams.get(param));
    }
    const type = response.headers.get('content-type') ?? '';
    const length = Number(response.headers.get('content-length') ?? '0');
    if (request.method !== 'POST' || !/^application\/(.+\+)?json/.test(type) || length > MAX_LEARN_BYTES) return;
    // Token endpoint (form POST) and registration (201) answers only; MCP JSON-RPC responses are not credentials.
    const isForm = (request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded');
    if (!isForm && response.status !== 201) return;
    let body: unknown;
    try {
      body = await response.clone().json();
    } catch {
      // Not JSON after all: the step that reads it reports that; nothing to learn.
      return;
    }
    if (body === null || typeof body !== 'object') return;
    for (const field of CREDENTIAL_FIELDS) {
      const v = (body as Record<string, unknown>)[field];
      if (typeof v === 'string') this.secrets.remember(v);
    }
  }
}
