/**
 * Step 8: MCP over the authorized transport (MCP SDK client transports): initialize, tools/list, tools/call.
 * The token travels in the Authorization header of every request (MCP Access Token Usage), added by a custom
 * fetch; or, in the lab's cookie mode, a session cookie from POST /session plus an Origin header.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Challenge } from '@mcp-lab/protocol';
import { FlowError, messageOf } from '../errors.ts';
import type { FetchLike } from '../http.ts';
import type { StepContext } from '../step-context.ts';
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
    super(`${operation}: HTTP ${failure.status}${code ? ` ${code}` : ''}`, { cause });
    this.failure = failure;
  }
}

export interface McpConnection {
  readonly client: Client;
  readonly transport: TransportKind;
  /** Runs an operation, turning a recorded 401/403 into an AuthFailureError. */
  run<T>(operation: string, fn: (client: Client) => Promise<T>): Promise<T>;
  /** Closes the connection; `terminate` also ends a Streamable HTTP session (DELETE, MCP transports). */
  close(terminate?: boolean): Promise<void>;
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

/** Connects and runs initialize (the SDK sends initialize and notifications/initialized in connect()). */
export async function connectMcp(
  ctx: StepContext,
  fetch: FetchLike,
  serverUrl: string,
  transport: TransportKind,
  auth: McpAuth,
): Promise<McpConnection> {
  let failure: AuthFailure | undefined;
  const f = authorizedFetch(fetch, auth, (x) => (failure = x), (m) => ctx.diagnostic(m, 'warn'));
  const url = new URL(serverUrl);
  const t: Transport =
    transport === 'http'
      ? new StreamableHTTPClientTransport(url, { fetch: f })
      : new SSEClientTransport(url, { fetch: f, eventSourceInit: { fetch: f } });
  const client = new Client({ name: 'mcp-lab-client', version: '0.1.0' });
  const run = async <T>(operation: string, fn: (c: Client) => Promise<T>): Promise<T> => {
    failure = undefined;
    try {
      return await fn(client);
    } catch (cause) {
      if (failure) throw new AuthFailureError(operation, failure, cause);
      throw new FlowError(`${operation} failed: ${messageOf(cause)}`, { cause });
    }
  };
  const connection: McpConnection = {
    client,
    transport,
    run,
    async close(terminate = false) {
      try {
        if (terminate && t instanceof StreamableHTTPClientTransport && t.sessionId !== undefined) await t.terminateSession();
        await client.close();
      } catch (err) {
        ctx.diagnostic(`closing the MCP connection failed: ${messageOf(err)}`, 'warn');
      }
    },
  };
  // Errors after connect (e.g. the SSE stream dropping) are reported by the operation that notices them.
  client.onerror = () => undefined;
  await run('initialize', (c) => c.connect(t));
  const version = client.getServerVersion();
  ctx.record({ name: 'initialized', ok: true, detail: `${version?.name ?? 'server'} ${version?.version ?? ''} over ${transport === 'http' ? 'Streamable HTTP' : 'HTTP+SSE'}`.trim() });
  return connection;
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
