/** Shared fixtures for the RS tests: real keys, a real loopback JWKS server, a token minter, a config. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import type { AppDeps } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { RsConfig } from '../src/config.ts';
import { freePort } from '../../scripts/lab/free-port.ts';

export const ISSUER = 'http://127.0.0.1:4999';
export const PUBLIC_URL = 'http://127.0.0.1:3999';
export const KID = 'test-key-1';

export interface Keys {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function makeKeys(kid = KID): Promise<Keys> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, publicJwk };
}

export interface JwksServer {
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

/** Serves `{keys}` at /jwks and the issuer metadata at /.well-known/oauth-authorization-server. */
export async function startJwksServer(jwks: () => JWK[], issuer = ISSUER): Promise<JwksServer> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/jwks') {
      count++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks() }));
    } else if (req.url === '/.well-known/oauth-authorization-server') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, jwks_uri: `${base}/jwks` }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export interface MintOptions {
  readonly kid?: string;
  readonly alg?: string;
  readonly typ?: string;
  readonly expiresInS?: number;
}

/** Mints an RS256 access token with sensible defaults; `claims` override them. */
export async function mint(keys: Keys, claims: JWTPayload = {}, options: MintOptions = {}): Promise<string> {
  const nowS = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: ISSUER,
    sub: 'alice',
    aud: `${PUBLIC_URL}/mcp`,
    scope: 'notes:read notes:write',
    client_id: 'test-client',
    iat: nowS,
    exp: nowS + (options.expiresInS ?? 300),
    ...claims,
  })
    .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? KID, typ: options.typ ?? 'at+jwt' })
    .sign(keys.privateKey);
}

export function testConfig(env: Record<string, string> = {}): RsConfig {
  return loadConfig({ MCP_ISSUER: ISSUER, MCP_PUBLIC_URL: PUBLIC_URL, MCP_LOG_LEVEL: 'silent', ...env });
}

export async function testApp(env: Record<string, string> = {}, deps: AppDeps = {}) {
  return buildApp(testConfig(env), deps);
}

export const INIT_BODY = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
};

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

export function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}


/** The JSON-RPC messages in an SSE or JSON response body. */
export function rpcMessages(body: string): Array<Record<string, any>> {
  const trimmed = body.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const parsed = JSON.parse(trimmed);
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  return trimmed
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)));
}

/** Opens a Streamable HTTP session with `token`; returns its id. */
export async function openSession(app: FastifyInstance, token: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, payload: INIT_BODY });
  if (res.statusCode !== 200) throw new Error(`initialize failed: ${res.statusCode} ${res.body}`);
  const id = res.headers['mcp-session-id'];
  if (typeof id !== 'string') throw new Error('no session id');
  return id;
}

export function toolCall(name: string, args: Record<string, unknown> = {}, id: string | number = 2) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

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

export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

export interface EventStream {
  readonly status: number;
  readonly headers: Headers;
  /** The next event; rejects when the stream ended first. */
  next(): Promise<SseEvent>;
  /** Every event until the server ends the stream. */
  rest(): Promise<SseEvent[]>;
  close(): void;
}

/** Opens a real event stream with fetch and reads it event by event (the one SSE reader of these tests). */
export async function openEventStream(url: string, headers: Record<string, string>): Promise<EventStream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  async function next(): Promise<SseEvent> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return { event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message', data: /^data: (.*)$/m.exec(block)?.[1] ?? '' };
      }
      const { value, done } = await reader.read();
      if (done) throw new StreamEnded();
      buffer += value;
    }
  }
  return {
    status: res.status,
    headers: res.headers,
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
