import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AuthorizationServerMetadata } from '@mcp-lab/protocol';
import type { AuthzMetadataConfig } from './config.ts';
import { metadataPath, metadataRoute } from './metadata-route.ts';
import { quirkLayerRoutes } from './quirks/layer.ts';
import { proxyRoutes } from './proxy.ts';

export { loadConfig, type AuthzMetadataConfig } from './config.ts';
export { loadMetadataDocument } from './document.ts';
export { ConfigError, BadGatewayError } from './errors.ts';
export { metadataPath } from './metadata-route.ts';
export * from './quirks/catalogue.ts';
export { dexAuthorizationServerMetadata, formatMetadataDocument } from './dex-metadata.ts';

export interface AppDeps {
  /** The RFC 8414 document read at start; required when config.metadataEnabled. */
  readonly document?: Readonly<AuthorizationServerMetadata>;
  /** Replaces the pino logger (tests pass false). */
  readonly logger?: boolean;
}

function sendError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = error.statusCode ?? 500;
  if (status >= 500) request.log.error({ err: error }, error.message);
  else request.log.info({ err: error }, error.message);
  return reply
    .code(status)
    .type('application/json')
    .send({ error: error.code ?? 'server_error', error_description: error.message });
}

/**
 * The public origin of an authorization server that lacks RFC 8414: the document at
 * `/.well-known/oauth-authorization-server{issuer path}` is answered here (RFC 8414 §3), everything else is
 * reverse-proxied to the upstream unchanged. Never listens; main.ts does.
 */
export async function buildApp(config: AuthzMetadataConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      deps.logger === false
        ? false
        : {
            level: config.logLevel,
            redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
          },
  });
  app.setErrorHandler(sendError);

  if (config.metadataEnabled && !deps.document) throw new TypeError('buildApp: metadata is enabled but no document was given');
  if (config.quirks.length > 0) {
    // The fault-injecting layer answers everything, the metadata document included, so its quirks apply to it.
    const document = config.metadataEnabled && deps.document ? { path: metadataPath(config.issuer), body: deps.document } : undefined;
    await app.register(quirkLayerRoutes, { upstream: config.upstream, quirks: config.quirks, issuer: config.issuer, ...(document ? { document } : {}) });
    return app;
  }
  if (config.metadataEnabled && deps.document) await app.register(metadataRoute, { issuer: config.issuer, document: deps.document });
  await app.register(proxyRoutes, { upstream: config.upstream });
  return app;
}
