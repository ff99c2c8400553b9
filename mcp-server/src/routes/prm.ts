/**
 * RFC 9728 §3 Protected Resource Metadata: the root document and one per endpoint (path-suffixed, §3.1),
 * each naming its own canonical resource identifier.
 */
import { canonicalResource } from '@mcp-lab/protocol';
import type { ProtectedResourceMetadata } from '@mcp-lab/protocol';
import type { FastifyPluginAsync } from 'fastify';
import type { RsConfig } from '../config.ts';

export interface PrmRouteOptions {
  readonly config: Pick<RsConfig, 'publicUrl' | 'authorizationServers' | 'scopesSupported'>;
}

/** The document for the resource at `path` under the public URL. */
export function protectedResourceMetadata(config: PrmRouteOptions['config'], path: '' | '/mcp' | '/sse'): ProtectedResourceMetadata {
  return {
    resource: canonicalResource(`${config.publicUrl}${path}`),
    authorization_servers: [...config.authorizationServers],
    scopes_supported: [...config.scopesSupported],
    bearer_methods_supported: ['header'],
    resource_name: path === '/sse' ? 'MCP lab notes (HTTP+SSE)' : 'MCP lab notes',
  };
}

export const prmRoutes: FastifyPluginAsync<PrmRouteOptions> = async function prmRoutes(app, { config }) {
  for (const path of ['', '/mcp', '/sse'] as const) {
    const doc = protectedResourceMetadata(config, path);
    app.get(`/.well-known/oauth-protected-resource${path}`, async function getProtectedResourceMetadata(_request, reply) {
      reply.header('cache-control', 'public, max-age=300');
      return doc;
    });
  }
};

