/** Shared fixtures for the RS tests: real keys, a steerable loopback JWKS server (the kit's fake issuer), a token minter, a config. */
import type { JWK, JWTPayload } from 'jose';
import { makeKeys, nowS, signJwt, type Keys } from '@mcp-lab/test-kit/keys';
import { INIT_BODY, MCP_HEADERS, MODERN_META, modernRequest, toolCall } from '@mcp-lab/test-kit/mcp-messages';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import type { AppDeps } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { RsConfig } from '../src/config.ts';
import { freePort } from '@mcp-lab/launcher';
import type { SseEvent } from '@mcp-lab/test-kit/sse';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { serveJwks, type JwksServer } from './jwks-server.ts';

export const ISSUER = 'http://127.0.0.1:4999';
export const PUBLIC_URL = 'http://127.0.0.1:3999';
export const KID = 'test-key-1';

export { makeKeys, type Keys };

export type { HeldFetch, JwksMode, JwksServer } from './jwks-server.ts';

/** A steerable JWKS server (`./jwks-server.ts`) serving `{keys}` at /jwks, with metadata naming `issuer` (default ISSUER, not its own origin). */
export function startJwksServer(jwks: () => JWK[], issuer = ISSUER): Promise<JwksServer> {
  return serveJwks(jwks, issuer);
}

export interface MintOptions {
  readonly kid?: string;
  readonly alg?: string;
  readonly typ?: string;
  readonly expiresInS?: number;
}

/** Mints an RS256 access token with sensible defaults; `claims` override them. */
export async function mint(keys: Keys, claims: JWTPayload = {}, options: MintOptions = {}): Promise<string> {
  const iat = nowS();
  const payload = { iss: ISSUER, sub: 'alice', aud: `${PUBLIC_URL}/mcp`, scope: 'notes:read notes:write', client_id: 'test-client', iat, exp: iat + (options.expiresInS ?? 300), ...claims };
  return signJwt(keys, payload, { kid: options.kid ?? KID, alg: options.alg, typ: options.typ });
}

export function testConfig(env: Record<string, string> = {}): RsConfig {
  return loadConfig({ MCP_ISSUER: ISSUER, MCP_PUBLIC_URL: PUBLIC_URL, MCP_LOG_LEVEL: 'silent', ...env });
}

export async function testApp(env: Record<string, string> = {}, deps: AppDeps = {}) {
  return buildApp(testConfig(env), deps);
}

export { INIT_BODY, MCP_HEADERS, toolCall };

export function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}


/** Opens a Streamable HTTP session with `token`; returns its id. */
export async function openSession(app: FastifyInstance, token: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, payload: INIT_BODY });
  if (res.statusCode !== 200) throw new Error(`initialize failed: ${res.statusCode} ${res.body}`);
  const id = res.headers['mcp-session-id'];
  if (typeof id !== 'string') throw new Error('no session id');
  return id;
}

/**
 * The JSON-RPC error body the MCP endpoint answers with: `code`, the RFC 6750 / OAuth `error` in `data`, and the
 * request's id when it was read.
 */
export function mcpError(code: number, error: string, id?: string | number) {
  return { jsonrpc: '2.0', ...(id !== undefined ? { id } : {}), error: { code, data: { error } } };
}

export { MODERN_META, modernRequest };

export interface ListeningRs {
  readonly keys: Keys;
  readonly app: FastifyInstance;
  /** The RS origin on a real loopback socket. */
  readonly base: string;
  close(): Promise<void>;
}

/** The RS listening on a free loopback port, trusting a fresh key served by a real JWKS server. */
export async function startListeningRs(env: Record<string, string> = {}, deps: AppDeps = {}): Promise<ListeningRs> {
  const keys = await makeKeys();
  const jwks = await startJwksServer(() => [keys.publicJwk]);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const app = await buildApp(
    loadConfig({
      MCP_ISSUER: ISSUER,
      MCP_PUBLIC_URL: base,
      MCP_PORT: String(port),
      MCP_JWKS_URL: `${jwks.url}/jwks`,
      MCP_LOG_LEVEL: 'silent',
      ...env,
    }),
    deps,
  );
  await app.listen({ host: '127.0.0.1', port });
  return {
    keys,
    app,
    base,
    close: async () => {
      await app.close();
      await jwks.close();
    },
  };
}

class StreamEnded extends Error {
  constructor() {
    super('the event stream ended');
  }
}

export type { SseEvent } from '@mcp-lab/test-kit/sse';

export interface EventStream {
  readonly status: number;
  /** The next event; rejects when the stream ended first. */
  next(): Promise<SseEvent>;
  /** Every event until the server ends the stream. */
  rest(): Promise<SseEvent[]>;
  close(): void;
}

/**
 * Opens any event stream (a Streamable HTTP GET stream, or the response of a POST such as `subscriptions/listen`,
 * which the kit's `openSse` does not take: it wants the legacy `endpoint` event first) and reads it with the kit's
 * parser, eventsource-parser; the status is kept, so a refusal can be asserted.
 */
export async function openEventStream(url: string, headers: Record<string, string>, post?: { readonly body: unknown }): Promise<EventStream> {
  const controller = new AbortController();
  const init = post ? { method: 'POST', body: JSON.stringify(post.body) } : {};
  const res = await fetch(url, { ...init, headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  async function next(): Promise<SseEvent> {
    const { value, done } = await reader.read();
    if (done) throw new StreamEnded();
    return { event: value.event ?? 'message', data: value.data };
  }
  return {
    status: res.status,
    next,
    async rest() {
      const events: SseEvent[] = [];
      for (;;) {
        try {
          events.push(await next());
        } catch (err) {
          if (err instanceof StreamEnded) return events;
          throw err;
        }
      }
    },
    close: () => controller.abort(),
  };
}
