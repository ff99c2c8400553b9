/**
 * Serving a 2026-07-28 (modern, stateless) request on /mcp. The route has authenticated it on its own (no session,
 * no state from earlier requests); here, in order:
 *
 * 1. the per-tool and per-resource permission, from the `Mcp-Name` header (and the body's `params.name` or
 *    `params.uri`: both must be allowed, so the check holds whichever a later layer reads) — before the body is
 *    dispatched; a miss is the same 403 `insufficient_scope` challenge as in the 2025 era, so the same step-up
 *    follows;
 * 2. the lean `tools/call` path (mcp/lean-tool-call.ts) when the request is one it answers exactly as the SDK would;
 * 3. otherwise the official v2 SDK's `createMcpHandler` (`@modelcontextprotocol/server`), modern-only
 *    (`legacy: 'reject'`; 2025 traffic never reaches it): the validation ladder with the spec's error codes
 *    (-32602 envelope, -32020 header mismatch, -32022 unsupported version, -32601 + 404 unknown method),
 *    `server/discover`, `tools/list`, `resources/list` and `resources/read` (the caller's notes) with cache hints,
 *    and `subscriptions/listen` as a long-lived POST stream with SSE keep-alives, fed by the shared change events
 *    (state/server-events.ts) and narrowed to the caller's own resources (mcp/listen-filter.ts), which ends when
 *    the token that opened it expires.
 */
import { createMcpHandler } from '@modelcontextprotocol/server';
import type { AuthInfo, McpHttpHandler, McpRequestContext, ServerEventBus } from '@modelcontextprotocol/server';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import type { NotesStore } from '../notes/store.ts';
import { MalformedJson, parseJsonRpcBody } from './jsonrpc.ts';
import { leanHeadersOk, leanToolCall, runLeanToolCall } from './lean-tool-call.ts';
import { narrowListenRequest } from './listen-filter.ts';
import { createListenQuota } from './listen-quota.ts';
import { createModernMcpServer } from './modern-server.ts';
import type { ModernCacheHints, ModernToolRegistrar } from './modern-server.ts';
import { assertPermissions, requiredPermissions, resourcePermissions, toolPermissions } from './tool-permissions.ts';

export interface ModernEraOptions extends ModernCacheHints {
  readonly notes: NotesStore;
  /**
   * Where the change events that listen streams deliver come from (state/server-events.ts: the shared bus, so that
   * a stream held here hears a change made on any replica).
   */
  readonly events: ServerEventBus;
  /** SSE comment keep-alive interval on subscriptions/listen streams (0 = none). */
  readonly listenKeepAliveMs: number;
  /** Most open subscriptions/listen streams; more are refused in-band (-32603). */
  readonly maxListenStreams: number;
  /** Most open subscriptions/listen streams per subject on this replica; more are refused with 429. */
  readonly maxListenStreamsPerSubject: number;
  readonly now: () => number;
  readonly log: FastifyBaseLogger;
  readonly extraTools?: ModernToolRegistrar;
}

export interface ModernEra {
  /** Answers one authenticated modern request (the reply is sent when the returned promise settles). */
  serve(request: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<FastifyReply>;
  /** Ends open listen streams and in-flight modern exchanges. */
  close(): Promise<void>;
}

/** Headers the SDK sees: never the credentials (no token passthrough, even in-process). */
const WITHHELD = new Set(['authorization', 'cookie']);

const BASE64_SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;

/** The `Mcp-Name` value, Base64 sentinel decoded (SEP-2243 "Value Encoding"); undefined when absent or not decodable. */
export function mcpNameOf(headers: IncomingHttpHeaders): string | undefined {
  const raw = headers['mcp-name'];
  if (typeof raw !== 'string') return undefined;
  const value = raw.trim();
  const m = BASE64_SENTINEL.exec(value);
  return m ? Buffer.from(m[1] ?? '', 'base64').toString('utf8') : value;
}

/**
 * Every permission a modern request needs: those of what its body asks for (tools/call, resources/read, a listen
 * filter's resources) and of what its `Mcp-Method` / `Mcp-Name` headers name (the tool or the resource URI): both
 * must be allowed, so the check holds whichever a later layer reads.
 */
export function modernRequiredPermissions(headers: IncomingHttpHeaders, body: unknown): string[] {
  const needed = new Set(requiredPermissions(body));
  const method = headers['mcp-method'];
  const named = method === 'tools/call' ? toolPermissions(mcpNameOf(headers)) : method === 'resources/read' ? resourcePermissions(mcpNameOf(headers)) : [];
  for (const p of named) needed.add(p);
  return [...needed];
}

function isListen(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'subscriptions/listen';
}

/** The verified principal `serve` put in the request's auth info (never the token). */
function callerOf(ctx: McpRequestContext): Principal {
  const principal = ctx.authInfo?.extra?.principal as Principal | undefined;
  if (!principal) throw new Error('modern MCP request without a verified principal');
  return principal;
}

/** The modern-era server of /mcp. */
export function createModernEra(options: ModernEraOptions): ModernEra {
  const { notes, now, log } = options;
  const listenQuota = createListenQuota(options.maxListenStreamsPerSubject);
  const hints = { toolsListTtlMs: options.toolsListTtlMs, discoverTtlMs: options.discoverTtlMs };
  // One server per request, for its caller: the notes resource it lists and reads is that caller's own.
  const factory = (ctx: McpRequestContext) => createModernMcpServer(notes, hints, callerOf(ctx), options.extraTools);
  const handler: McpHttpHandler = createMcpHandler(factory, {
    legacy: 'reject',
    bus: options.events,
    keepAliveMs: options.listenKeepAliveMs,
    maxSubscriptions: options.maxListenStreams,
    onerror: function reportModernRejection(err) {
      // Rejections (bad envelope, header mismatch, unknown method) are the client's; the answer says why.
      log.debug({ err }, 'modern MCP request rejected or failed');
    },
  });

  function webRequest(request: FastifyRequest, signal: AbortSignal): Request {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || WITHHELD.has(name)) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    // The body is handed over parsed (parsedBody); the SDK reads nothing from the stream.
    return new Request(`http://mcp.invalid${request.url}`, { method: 'POST', headers, signal });
  }

  return {
    async serve(request, reply, principal) {
      const body = request.body;
      if (body instanceof MalformedJson) parseJsonRpcBody(body); // throws the -32700 refusal
      assertPermissions(principal, modernRequiredPermissions(request.headers, body));

      const lean = leanToolCall(body, 'modern');
      if (lean && leanHeadersOk(request.headers, lean)) {
        return reply.header('content-type', 'application/json').send(JSON.stringify(runLeanToolCall(lean, principal, notes)));
      }

      // The exchange ends when the client goes away; a listen stream also when its token expires (a stream
      // must not outlive the authorization it was opened with — the client listens again with a fresh token).
      // A listen stream takes one of the subject's places (429 when none is left) until the exchange ends.
      const listening = isListen(body);
      const release = listening ? listenQuota.acquire(principal) : undefined;
      const ended = new AbortController();
      const end = () => ended.abort();
      if (release) ended.signal.addEventListener('abort', release, { once: true });
      reply.raw.once('close', end);
      let expiry: NodeJS.Timeout | undefined;
      if (listening) {
        // Ended by the server at shutdown (the SDK's graceful close), so the drain does not wait for it.
        request.server.drain.hold(reply.raw);
        expiry = setTimeout(end, Math.max(0, principal.exp * 1000 - now()));
        expiry.unref();
        ended.signal.addEventListener('abort', () => clearTimeout(expiry), { once: true });
      }
      const authInfo: AuthInfo = {
        token: '',
        clientId: principal.clientId ?? '',
        scopes: [...principal.permissions],
        expiresAt: principal.exp,
        extra: { principal },
      };
      // A listen filter names only the caller's own resources by the time the SDK reads it (mcp/listen-filter.ts).
      const parsedBody = listening ? narrowListenRequest(body, principal) : body;
      let response: Response;
      try {
        response = await handler.fetch(webRequest(request, ended.signal), { authInfo, parsedBody });
      } catch (err) {
        end();
        throw err;
      }
      reply.code(response.status);
      response.headers.forEach((value, name) => {
        reply.header(name, value);
      });
      return reply.send(response.body ?? undefined);
    },
    close: () => handler.close(),
  };
}
