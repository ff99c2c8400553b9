/**
 * The legacy MCP HTTP+SSE transport (protocol 2024-11-05): GET /sse opens a stream whose first event names
 * `/messages?sessionId=…`; POSTs there carry the client's messages. Each stream is owned by its opener.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { requireCredential, requirePrincipal } from '../auth/authenticate.ts';
import { forgetBearerToken } from '../auth/credentials.ts';
import { rejectForeignOrigin } from '../auth/origin.ts';
import { principalKey } from '../auth/principal.ts';
import type { Principal } from '../auth/principal.ts';
import type { RsConfig } from '../config.ts';
import { HttpError } from '../http-error.ts';
import { authInfoOf, hijack, hijackHeaders, withAuth } from '../mcp/hijack.ts';
import { parseJsonRpcBody } from '../mcp/jsonrpc.ts';
import { leanToolCall, runLeanToolCall } from '../mcp/lean-tool-call.ts';
import { createMcpServer } from '../mcp/server.ts';
import type { McpSession, SessionRegistry } from '../mcp/sessions.ts';
import { SseStreamTransport } from '../mcp/sse-transport.ts';
import { assertPermissions, requiredPermissions } from '../mcp/tool-permissions.ts';
import type { NotesStore } from '../notes/store.ts';
import { locateSession } from '../state/locate.ts';
import { listenForRelayed, relayToHolder } from '../state/sse-relay.ts';
import type { RelayedMessage } from '../state/sse-relay.ts';
import type { SharedState } from '../state/types.ts';

export interface SseRouteOptions {
  readonly config: Pick<RsConfig, 'allowedOrigins' | 'allowedHosts' | 'limits'>;
  readonly notes: NotesStore;
  readonly sessions: SessionRegistry<SseStreamTransport>;
  /** Where the streams are recorded and how messages reach a stream held by another replica. */
  readonly state: SharedState;
}

/**
 * The Content-Type values the SDK's SSE transport certainly reads as JSON in UTF-8; anything else (other
 * parameters, odd spellings) is left to it.
 */
function isPlainJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json(?:; ?charset=utf-8)?$/i.test(contentType);
}

/**
 * Opens one GET /sse stream: reserves its place, records it in the shared state and announces its endpoint (its
 * own function so that the plugin reads as the wiring of its routes).
 */
async function openStream(app: FastifyInstance, options: SseRouteOptions, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { config, sessions, state } = options;
  const credential = requireCredential(request);
  // Refused (429) when the caller holds its maximum of streams; nobody else's stream is touched.
  const release = sessions.reserve(credential);
  // The stream outlives the request by hours; the verified principal is all it needs of the credentials.
  forgetBearerToken(request.raw);
  const transport = new SseStreamTransport('/messages', reply.raw);
  const id = transport.sessionId;
  const owner = principalKey(credential.principal);
  sessions.add(id, { transport, server: undefined, owner, endStream: (reason) => transport.announceEnd(reason) }, credential);
  release();
  transport.onclose = function forgetSession() {
    sessions.remove(id);
    state.sessions.forget('sse', id).catch((err: unknown) => app.log.warn({ err }, 'could not forget an ended SSE stream in the shared state'));
  };
  // Recorded before the endpoint event names the session, so that a POST to any replica finds it.
  try {
    await state.sessions.record('sse', id, owner, config.limits.sessionMaxLifetimeMs);
  } catch (err) {
    sessions.remove(id);
    throw err;
  }
  transport.open(hijackHeaders(reply));
  // Ended by the server at shutdown (session_ended), so the drain does not wait for it.
  app.drain.hold(reply.raw);
}

export const sseRoutes: FastifyPluginAsync<SseRouteOptions> = async function sseRoutes(app, options) {
  const { config, notes, sessions, state } = options;
  const originGuard = rejectForeignOrigin(config);
  const routeConfig = { resourcePath: '/sse' as const };
  const routeOptions = { onRequest: [originGuard, app.authenticate], config: routeConfig };
  // As on /mcp: authenticate once the body is read, so that every error carries the request's JSON-RPC id.
  const postOptions = { onRequest: [originGuard], preValidation: [app.authenticate], config: routeConfig };

  app.get('/sse', routeOptions, async function openSseStream(request, reply) {
    await openStream(app, options, request, reply);
  });

  const events = { bus: state.serverEvents, onError: (err: unknown) => app.log.warn({ err }, 'a resource update could not be sent') };

  /**
   * Connects the session's MCP server on its first message (once, however many arrive together), for `owner`: the
   * stream's opener, whom every message was checked to come from.
   */
  function connectServer(session: McpSession<SseStreamTransport>, owner: Principal): Promise<void> {
    session.connected ??= (async () => {
      const server = createMcpServer(notes, { owner, events });
      await server.connect(session.transport);
      session.server = server;
    })();
    return session.connected;
  }

  /** A message POSTed to another replica for a stream held here, already checked there (see state/sse-relay.ts). */
  async function handleRelayed({ sessionId, principal, message }: RelayedMessage): Promise<void> {
    if (!sessions.holds(sessionId)) return;
    const session = sessions.claim(sessionId, principal);
    const lean = leanToolCall(message, 'legacy');
    if (lean) {
      await session.transport.send(runLeanToolCall(lean, principal, notes));
      return;
    }
    await connectServer(session, principal);
    session.transport.deliver(message, { authInfo: authInfoOf(principal) });
  }
  const stopRelay = await listenForRelayed(state, handleRelayed, (err) => app.log.warn({ err }, 'a relayed SSE message could not be handled'));
  app.addHook('onClose', async function stopListening() {
    await stopRelay().catch(() => {});
  });

  app.post('/messages', postOptions, async function postSseMessage(request, reply) {
    const principal = requirePrincipal(request);
    const query = request.query as Record<string, unknown>;
    const sessionId = typeof query.sessionId === 'string' ? query.sessionId : undefined;
    if (!sessionId) throw new HttpError('invalid_request', 'missing sessionId query parameter');
    const located = await locateSession(sessions, state.sessions, 'sse', sessionId, principal);
    const lean = leanToolCall(request.body, 'legacy');
    const body = lean ? (request.body as JSONRPCMessage) : parseJsonRpcBody(request.body);
    assertPermissions(principal, lean ? lean.tool.permissions : requiredPermissions(body));
    if (Array.isArray(body)) throw new HttpError('invalid_request', 'the HTTP+SSE transport takes one JSON-RPC message per POST');
    if (located.remote) {
      // Held by another replica: checked here in full, answered there on the stream.
      await relayToHolder(state, located.remote, sessionId, principal, body);
      return reply.code(202).type('text/plain').send('Accepted');
    }
    const session = located.local;
    if (lean && isPlainJson(request.headers['content-type'])) {
      // As the SDK transport answers a POST (202, then the result as an event on the stream), minus the dispatch.
      hijack(reply);
      reply.raw.writeHead(202).end('Accepted');
      try {
        await session.transport.send(runLeanToolCall(lean, principal, notes));
      } catch (err) {
        request.log.warn({ err }, 'the SSE stream closed before the tool result could be sent');
      }
      return;
    }
    await connectServer(session, principal);
    hijack(reply);
    session.transport.handlePostMessage(withAuth(request, principal), reply.raw, body);
  });
};

