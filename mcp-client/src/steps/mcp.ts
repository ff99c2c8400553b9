/**
 * Step 8: MCP over the authorized transport (MCP SDK client transports): initialize, tools/list, tools/call.
 * The token travels in the Authorization header of every request (MCP Access Token Usage), added by a custom
 * fetch; or, in the lab's cookie mode, a session cookie from POST /session plus an Origin header.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Challenge } from '@mcp-lab/protocol';
import { FlowError, messageOf } from '../errors.ts';
import type { FetchLike } from '../http.ts';
import type { StepContext } from '../step-context.ts';
import { effectiveEra, loadModernSdk, negotiatedEra, type McpClientLike, type ProtocolEra } from './era.ts';
import { readBearerChallenge, type TransportKind } from './probe.ts';

export type McpAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly accessToken: string }
  | { readonly kind: 'cookie'; readonly cookie: string; readonly origin: string };

/** A 401/403 the resource server answered while MCP was running; the orchestrator decides what to do. */
export interface AuthFailure {
  readonly status: 401 | 403;
  readonly challenge: Challenge | undefined;
}

/** Thrown when an MCP operation failed because of authorization, with the server's challenge. */
export class AuthFailureError extends FlowError {
  readonly failure: AuthFailure;
  constructor(operation: string, failure: AuthFailure, cause: unknown) {
    const code = failure.challenge?.params.error;
    super(`${operation}: HTTP ${failure.status}${code ? ` ${code}` : ''}`, { code: 'auth-failure', cause });
    this.failure = failure;
  }
}

export interface McpConnection {
  readonly client: McpClientLike;
  readonly transport: TransportKind;
  /** The era the connection speaks (2026-07-28 `modern`, or 2025 `legacy`) and its protocol version. */
  readonly era: 'modern' | 'legacy';
  readonly protocolVersion: string | undefined;
  /** Runs an operation, turning a recorded 401/403 into an AuthFailureError. */
  run<T>(operation: string, fn: (client: McpClientLike) => Promise<T>): Promise<T>;
  /** Closes the connection; `terminate` also ends a Streamable HTTP session (DELETE, MCP transports). */
  close(terminate?: boolean): Promise<void>;
}

/** What a run needs of the MCP SDK: the client class and a factory for the one transport it uses. */
export interface McpSdk {
  readonly Client: typeof Client;
  /** `streamable` is set for Streamable HTTP (its session can be terminated). */
  createTransport(url: URL, fetch: FetchLike): { readonly transport: Transport; readonly streamable?: StreamableHTTPClientTransport };
}
const sdkLoads = new Map<TransportKind, Promise<McpSdk>>();

/**
 * Loads the MCP SDK client and the one transport a run uses. The SDK (zod schemas, ajv) is the largest part of
 * the CLI's start-up, so it is imported only when MCP steps run; the orchestrator starts this early so that the
 * loading overlaps the requests before initialize. Memoized: the preload and connectMcp share the promise.
 */
export function loadMcpSdk(kind: TransportKind): Promise<McpSdk> {
  let load = sdkLoads.get(kind);
  if (!load) {
    const client = import('@modelcontextprotocol/sdk/client/index.js');
    load =
      kind === 'http'
        ? Promise.all([client, import('@modelcontextprotocol/sdk/client/streamableHttp.js')]).then(([c, m]) => ({
            Client: c.Client,
            createTransport: (url, fetch) => {
              const t = new m.StreamableHTTPClientTransport(url, { fetch });
              return { transport: t, streamable: t };
            },
          }))
        : Promise.all([client, import('@modelcontextprotocol/sdk/client/sse.js')]).then(([c, m]) => ({
            Client: c.Client,
            createTransport: (url, fetch) => ({ transport: new m.SSEClientTransport(url, { fetch, eventSourceInit: { fetch } }) }),
          }));
    sdkLoads.set(kind, load);
  }
  return load;
}

/** Wraps fetch to add the credentials and to notice the resource server's 401/403 challenges. */
function authorizedFetch(
  base: FetchLike,
  auth: McpAuth,
  onFailure: (f: AuthFailure) => void,
  warn: (message: string) => void,
): FetchLike {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if (auth.kind === 'bearer') headers.set('authorization', `Bearer ${auth.accessToken}`);
    if (auth.kind === 'cookie') {
      headers.set('cookie', auth.cookie);
      headers.set('origin', auth.origin);
    }
    const response = await base(input, { ...init, headers });
    if (response.status === 401 || response.status === 403) {
      let challenge: Challenge | undefined;
      try {
        challenge = readBearerChallenge(response);
      } catch (err) {
        // A malformed challenge is still an auth failure; the status decides what happens next.
        warn(messageOf(err));
        challenge = undefined;
      }
      onFailure({ status: response.status, challenge });
    }
    return response;
  };
}

/**
 * Streamable HTTP: a client MAY open a GET stream for server-initiated messages (MCP Transports, Listening for
 * Messages from the Server). A one-shot command (list or call, then exit) has no use for one, so it is not
 * opened: the SDK starts it after notifications/initialized and takes 405 as "the server offers none", so that
 * answer is given here, without a request (and so without a recorded exchange). A resumption GET
 * (Last-Event-ID, after a response stream broke) still goes out.
 */
function withoutListeningStream(base: FetchLike): FetchLike {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if ((init?.method ?? 'GET').toUpperCase() === 'GET' && !headers.has('last-event-id')) return new Response(null, { status: 405 });
    return base(input, init);
  };
}

/**
 * Connects: in the legacy era the v1 SDK runs initialize (and notifications/initialized); in the modern and auto
 * eras the v2 SDK negotiates (steps/era.ts) — `server/discover`, then stateless requests, or `initialize` as the
 * fallback of `auto`.
 */
export async function connectMcp(
  ctx: StepContext,
  fetch: FetchLike,
  serverUrl: string,
  transport: TransportKind,
  auth: McpAuth,
  protocolEra: ProtocolEra = 'legacy',
): Promise<McpConnection> {
  const era = effectiveEra(protocolEra, transport);
  let failure: AuthFailure | undefined;
  const authorized = authorizedFetch(fetch, auth, (x) => (failure = x), (m) => ctx.diagnostic(m, 'warn'));
  const f = transport === 'http' ? withoutListeningStream(authorized) : authorized;
  let client: McpClientLike;
  let t: Transport;
  let streamable: { readonly sessionId: string | undefined; terminateSession(): Promise<void> } | undefined;
  let negotiated: (() => string | undefined) | undefined;
  if (era === 'legacy') {
    const sdk = await loadMcpSdk(transport);
    const created = sdk.createTransport(new URL(serverUrl), f);
    t = created.transport;
    streamable = created.streamable;
    client = new sdk.Client({ name: 'mcp-lab-client', version: '0.1.0' }) as unknown as McpClientLike;
  } else {
    const sdk = await loadModernSdk();
    const modernTransport = sdk.createTransport(new URL(serverUrl), f);
    t = modernTransport as unknown as Transport;
    streamable = modernTransport;
    const modernClient = sdk.createClient(era);
    negotiated = () => modernClient.getNegotiatedProtocolVersion?.();
    client = modernClient;
  }
  const run = async <T>(operation: string, fn: (c: McpClientLike) => Promise<T>): Promise<T> => {
    failure = undefined;
    try {
      return await fn(client);
    } catch (cause) {
      if (failure) throw new AuthFailureError(operation, failure, cause);
      throw new FlowError(`${operation} failed: ${messageOf(cause)}`, { cause });
    }
  };
  const connectionBase = {
    client,
    transport,
    run,
    async close(terminate = false) {
      try {
        if (terminate && streamable?.sessionId !== undefined) await streamable.terminateSession();
        await client.close();
      } catch (err) {
        ctx.diagnostic(`closing the MCP connection failed: ${messageOf(err)}`, 'warn');
      }
    },
  };
  // Errors after connect (e.g. the SSE stream dropping) are reported by the operation that notices them.
  client.onerror = () => undefined;
  await run(era === 'legacy' ? 'initialize' : 'era negotiation', (c) => c.connect(t));
  const version = client.getServerVersion();
  const where = `${version?.name ?? 'server'} ${version?.version ?? ''} over ${transport === 'http' ? 'Streamable HTTP' : 'HTTP+SSE'}`.replace(/ +/g, ' ');
  const outcome = negotiated ? negotiatedEra(negotiated()) : { era: 'legacy' as const, version: undefined };
  if (era === 'legacy') {
    ctx.record({ name: 'initialized', ok: true, detail: where });
  } else if (outcome.era === 'modern') {
    ctx.record({ name: 'era', ok: true, detail: `modern: ${outcome.version} (server/discover answered; stateless, no initialize, no session) — ${where}` });
  } else if (era === 'modern') {
    ctx.record({ name: 'era', ok: false, detail: `--protocol-era modern, but the server does not speak 2026-07-28` });
  } else {
    ctx.record({ name: 'era', ok: true, detail: `legacy: server/discover not recognised, fell back to initialize (${outcome.version ?? '2025'}) — ${where}` });
  }
  const stateful = era === 'legacy' || outcome.era === 'legacy';
  if (transport === 'http' && stateful) ctx.record({ name: 'GET stream for server-initiated messages', ok: true, detail: 'not opened (optional; a one-shot command needs none)' });
  return { ...connectionBase, era: outcome.era === 'modern' && era !== 'legacy' ? 'modern' : 'legacy', protocolVersion: outcome.version };
}

/**
 * Lab cookie mode: POST /session with the bearer token; the RS answers 204 with Set-Cookie mcp_lab_session.
 * Returns the Cookie header value to send from now on.
 */
export async function openCookieSession(ctx: StepContext, serverUrl: string, accessToken: string): Promise<{ cookie: string; origin: string }> {
  const origin = new URL(serverUrl).origin;
  const response = await ctx.fetch(`${origin}/session`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, origin },
    redirect: 'manual',
  });
  await response.body?.cancel();
  if (response.status === 401 || response.status === 403) {
    throw new AuthFailureError('POST /session', { status: response.status, challenge: readBearerChallenge(response) }, undefined);
  }
  ctx.check('session cookie issued', response.status === 204 || response.status === 200, `HTTP ${response.status}`);
  const set = response.headers.getSetCookie().find((c) => c.startsWith('mcp_lab_session='));
  ctx.check('Set-Cookie mcp_lab_session', set !== undefined, set ? 'HttpOnly session cookie' : 'missing');
  const pair = (set as string).split(';')[0] as string;
  const attrs = (set as string).toLowerCase();
  ctx.record({ name: 'cookie attributes', ok: attrs.includes('httponly') && attrs.includes('samesite=strict'), detail: (set as string).split(';').slice(1).map((s) => s.trim()).join('; ') });
  return { cookie: pair, origin };
}
