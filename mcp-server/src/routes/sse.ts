/**
 * The legacy MCP HTTP+SSE transport (protocol 2024-11-05): GET /sse opens a stream whose first event names
 * `/messages?sessionId=…`; POSTs there carry the client's messages. Each stream is owned by its opener.
 */
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { requirePrincipal } from '../auth/authenticate.ts';
import { checkOrigin } from '../auth/origin.ts';
import { principalKey } from '../auth/principal.ts';
import type { RsConfig } from '../config.ts';
import { HttpError } from '../http-error.ts';
import { hijack, withAuth } from '../mcp/hijack.ts';
import { parseJsonRpcBody } from '../mcp/jsonrpc.ts';
import { createMcpServer } from '../mcp/server.ts';
import type { SessionRegistry } from '../mcp/sessions.ts';
import { assertPermissions, requiredPermissions } from '../mcp/tool-permissions.ts';
import type { NotesStore } from '../notes/store.ts';

export interface SseRouteOptions {
  readonly config: Pick<RsConfig, 'allowedOrigins'>;
  readonly notes: NotesStore;
  readonly sessions: SessionRegistry<SSEServerTransport>;
}

const sseRoutes: FastifyPluginAsync<SseRouteOptions> = async function sseRoutes(app, options) {
  const { config, notes, sessions } = options;
  async function rejectForeignOrigin(request: FastifyRequest): Promise<void> {
    checkOrigin(request.headers.origin, config.allowedOrigins);
  }
  const routeOptions = { onRequest: [rejectForeignOrigin, app.authenticate], config: { resourcePath: '/sse' as const } };

  app.get('/sse', routeOptions, async function openSseStream(request, reply) {
    const principal = requirePrincipal(request);
    hijack(reply);
    const transport = new SSEServerTransport('/messages', reply.raw);
    const server = createMcpServer(notes);
    const id = transport.sessionId;
    sessions.add(id, { transport, server, owner: principalKey(principal) });
    transport.onclose = function forgetSession() {
      sessions.remove(id);
    };
    await server.connect(transport);
  });

  app.post('/messages', routeOptions, async function postSseMessage(request, reply) {
    const principal = requirePrincipal(request);
    const query = request.query as Record<string, unknown>;
    const sessionId = typeof query.sessionId === 'string' ? query.sessionId : undefined;
    if (!sessionId) throw new HttpError('invalid_request', 'missing sessionId query parameter');
    const session = sessions.claim(sessionId, principal);
    const body = parseJsonRpcBody(request.body);
    assertPermissions(principal, requiredPermissions(body));
    hijack(reply);
    await session.transport.handlePostMessage(withAuth(request, principal), reply.raw, body);
  });
};

export default fp(sseRoutes, { name: 'mcp-lab-sse', fastify: '5.x', dependencies: ['mcp-lab-auth'] });
