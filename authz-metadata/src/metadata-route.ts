import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { insertWellKnown, type AuthorizationServerMetadata } from '@mcp-lab/protocol';

export interface MetadataRouteOptions {
  readonly issuer: string;
  readonly document: Readonly<AuthorizationServerMetadata>;
}

/** Where RFC 8414 §3.1 puts the document of `issuer`: `/.well-known/oauth-authorization-server` + issuer path. */
export function metadataPath(issuer: string): string {
  return new URL(insertWellKnown(issuer, 'oauth-authorization-server')).pathname;
}

/**
 * Serves the RFC 8414 document as it was read at start, with CORS open to every origin: the document is public
 * and carries no credentials, and browser MCP clients fetch it cross-origin (sending MCP-Protocol-Version, which
 * needs a preflight).
 *
 * CORS is written out here rather than taken from @fastify/cors because that plugin registers a catch-all OPTIONS
 * route that would collide with the proxy's, and would add its headers to proxied Dex responses, which must pass
 * untouched.
 */
export async function metadataRoute(app: FastifyInstance, opts: MetadataRouteOptions): Promise<void> {
  const body = JSON.stringify(opts.document);
  const url = metadataPath(opts.issuer);

  app.get(url, function sendMetadata(_request: FastifyRequest, reply: FastifyReply) {
    return reply
      .header('access-control-allow-origin', '*')
      .header('cache-control', 'public, max-age=300')
      .type('application/json')
      .send(body);
  });

  app.options(url, function preflightMetadata(request: FastifyRequest, reply: FastifyReply) {
    const asked = request.headers['access-control-request-headers'];
    return reply
      .code(204)
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', 'GET, OPTIONS')
      .header('access-control-allow-headers', typeof asked === 'string' && asked !== '' ? asked : '*')
      .header('access-control-max-age', '600')
      .send();
  });
}
