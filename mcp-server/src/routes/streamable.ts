/**
 * MCP Streamable HTTP at /mcp, both eras on the one endpoint (mcp/era.ts decides which a request belongs to):
 * - 2026-07-28 (modern): every POST is served on its own, statelessly (mcp/modern.ts);
 * - 2025-11-25 and earlier (legacy): initialize opens a session owned by the caller's (iss, sub); later requests
 *   name it with `Mcp-Session-Id` (v1 SDK transport).
 * Every request is authenticated on its own, the same way in both eras, and permission checks run before any
 * transport sees the body. Errors are JSON-RPC error objects (route config `jsonRpcErrors`).
 */
import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { requireCredential, requirePrincipal } from '../auth/authenticate.ts';
import { rejectForeignOrigin } from '../auth/origin.ts';
import { principalKey } from '../auth/principal.ts';
import type { Principal } from '../auth/principal.ts';
import type { RsConfig } from '../config.ts';
import { HttpError } from '../http-error.ts';
import { MODERN_REVISIONS, requestEra } from '../mcp/era.ts';
import { hijack, withAuth } from '../mcp/hijack.ts';
import { isInitialize, JSONRPC_CODES, JsonRpcError, parseJsonRpcBody } from '../mcp/jsonrpc.ts';
import { leanHeadersOk, leanToolCall, runLeanToolCall } from '../mcp/lean-tool-call.ts';
import type { ModernEra } from '../mcp/modern.ts';
import { createMcpServer } from '../mcp/server.ts';
import type { SessionRegistry } from '../mcp/sessions.ts';
import { assertPermissions, requiredPermissions } from '../mcp/tool-permissions.ts';
import type { NotesStore } from '../notes/store.ts';
import { locateSession } from '../state/locate.ts';
import type { SharedState } from '../state/types.ts';

/** Every protocol version /mcp serves, newest first. */
const SUPPORTED_VERSIONS = Object.freeze([...MODERN_REVISIONS, ...SUPPORTED_PROTOCOL_VERSIONS]);

export interface StreamableRouteOptions {
  readonly config: Pick<RsConfig, 'allowedOrigins' | 'allowedHosts' | 'limits'>;
  readonly notes: NotesStore;
  readonly sessions: SessionRegistry<StreamableHTTPServerTransport>;
  /** Where sessions are recorded, so that every replica answers for them as their owner would. */
  readonly state: SharedState;
  readonly modern: ModernEra;
  /** Tools added to every 2025 session's server (the conformance fixtures, in conformance mode only). */
  readonly extraLegacyTools?: (server: McpServer) => void;
}

function sessionIdOf(request: FastifyRequest): string | undefined {
  const v = request.headers['mcp-session-id'];
  return typeof v === 'string' && v ? v : undefined;
}

/** What opening a 2025 session needs of the plugin: its options and how it forgets an ended session. */
interface LegacyOpenContext {
  readonly options: StreamableRouteOptions;
  readonly forget: (id: string) => void;
}

/**
 * Opens a 2025-11-25 session for an initialize request without Mcp-Session-Id (its own function so that the
 * route handler reads as the era / session dispatch it is).
 */
async function openLegacySession(
  ctx: LegacyOpenContext,
  request: FastifyRequest,
  reply: FastifyReply,
  principal: Principal,
  body: ReturnType<typeof parseJsonRpcBody>,
): Promise<void> {
  const { config, notes, sessions, state, extraLegacyTools } = ctx.options;
  const { forget } = ctx;
  assertPermissions(principal, requiredPermissions(body));
  // Refused (429) when the caller holds its maximum of sessions; nobody else's session is touched. The place is
  // taken by the session, or given back when this response ends without one.
  const credential = requireCredential(request);
  const release = sessions.reserve(credential);
  reply.raw.once('close', release);
  const events = { bus: state.serverEvents, onError: (err: unknown) => request.log.warn({ err }, 'a resource update could not be sent') };
  const server = createMcpServer(notes, { owner: principal, events, ...(extraLegacyTools ? { extraTools: extraLegacyTools } : {}) });
  const owner = principalKey(principal);
  const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: async (id) => {
      sessions.add(id, { transport, server, owner }, credential);
      release();
      await state.sessions.record('streamable', id, owner, config.limits.sessionMaxLifetimeMs);
    },
    onsessionclosed: (id) => {
      sessions.remove(id);
      forget(id);
    },
  });
  transport.onclose = function forgetSession() {
    if (!transport.sessionId) return;
    sessions.remove(transport.sessionId);
    forget(transport.sessionId);
  };
  await server.connect(transport);
  hijack(reply);
  await transport.handleRequest(withAuth(request, principal), reply.raw, body);
}

export const streamableRoutes: FastifyPluginAsync<StreamableRouteOptions> = async function streamableRoutes(app, options) {
  const { config, notes, sessions, state, modern } = options;

  /**
   * The session named by the request, held here. One held by another replica cannot be served here (its SDK
   * transport lives there): its owner is told 404, as the spec has a client re-initialize, after the same owner
   * check every replica makes (the proxy's affinity on Mcp-Session-Id avoids this; README "Scale-out").
   */
  async function claimHere(sessionId: string, principal: Principal) {
    const located = await locateSession(sessions, state.sessions, 'streamable', sessionId, principal);
    if (located.remote) throw new HttpError('session_not_found', 'this session is held by another replica of this server; route requests by Mcp-Session-Id');
    return located.local;
  }
  function forget(id: string): void {
    state.sessions.forget('streamable', id).catch((err: unknown) => app.log.warn({ err }, 'could not forget an ended session in the shared state'));
  }
  const originGuard = rejectForeignOrigin(config);
  const routeConfig = { resourcePath: '/mcp' as const };
  const routeOptions = { onRequest: [originGuard, app.authenticate], config: routeConfig };
  // POSTs authenticate once their body is read (leniently: mcp/json-body.ts), so that every error carries the
  // request's id; a request without credentials is still a 401 whatever its body.
  const postOptions = { onRequest: [originGuard], preValidation: [app.authenticate], config: routeConfig };

  app.post('/mcp', postOptions, async function postMcp(request, reply) {
    const principal = requirePrincipal(request);
    if (requestEra({ method: request.method, headers: request.headers, body: request.body }) === 'modern') {
      return modern.serve(request, reply, principal);
    }
    const sessionId = sessionIdOf(request);
    // The common case first: one tools/call in a live session, answered without the SDK transport.
    const lean = sessionId !== undefined ? leanToolCall(request.body, 'legacy') : undefined;
    const body = lean ? (request.body as JSONRPCMessage) : parseJsonRpcBody(request.body);
    if (sessionId !== undefined) {
      const session = await claimHere(sessionId, principal);
      assertPermissions(principal, lean ? lean.tool.permissions : requiredPermissions(body));
      if (lean && leanHeadersOk(request.headers, lean)) {
        const response = JSON.stringify(runLeanToolCall(lean, principal, notes));
        return reply.header('content-type', 'application/json').header('mcp-session-id', sessionId).send(response);
      }
      hijack(reply);
      await session.transport.handleRequest(withAuth(request, principal), reply.raw, body);
      return;
    }
    if (!isInitialize(body)) {
      // Neither a 2026-07-28 request (no per-request envelope) nor a 2025 one (no session): say both ways in.
      throw new JsonRpcError(400, JSONRPC_CODES.invalidRequest, 'missing Mcp-Session-Id: only initialize opens a session (2025-11-25), or send the 2026-07-28 per-request _meta envelope', {
        data: { supportedVersions: SUPPORTED_VERSIONS },
      });
    }
    await openLegacySession({ options, forget }, request, reply, principal, body);
  });

  async function existingSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const principal = requirePrincipal(request);
    const sessionId = sessionIdOf(request);
    if (sessionId === undefined) throw new HttpError('invalid_request', 'missing Mcp-Session-Id header');
    const session = await claimHere(sessionId, principal);
    // The standalone event stream ends with its token, its cookie session, or the session (see SessionRegistry).
    if (request.method === 'GET') {
      sessions.holdStream(session, reply.raw, requireCredential(request));
      app.drain.hold(reply.raw);
    }
    hijack(reply);
    await session.transport.handleRequest(withAuth(request, principal), reply.raw);
  }

  app.get('/mcp', routeOptions, async function getMcp(request, reply) {
    await existingSession(request, reply);
  });
  app.delete('/mcp', routeOptions, async function deleteMcp(request, reply) {
    await existingSession(request, reply);
  });
};

