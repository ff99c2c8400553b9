/**
 * The one error handler: every error that owns its status (RFC 6750 challenges, HTTP refusals, JSON-RPC refusals
 * on the MCP endpoints, rate limits) becomes its answer here; anything else is a logged 500 that says nothing.
 */
import { BearerError, bearerChallenge, bearerErrorBody, insertWellKnown } from '@mcp-lab/protocol';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RateLimited } from '../auth/rate-limit.ts';
import type { RsConfig } from '../config.ts';
import { CredentialsRequired, HttpError } from '../http-error.ts';
import { JsonRpcHttpError } from '../mcp/jsonrpc-error.ts';
import '../routes/route-config.ts';

export interface ErrorHandlerOptions {
  readonly config: Pick<RsConfig, 'publicUrl'>;
  /** The `scope` a challenge without credentials names. */
  readonly challengeScope: readonly string[];
}

/**
 * A refused request body on an MCP endpoint (too large, not JSON, nested too deep) as a JSON-RPC error, with the
 * status Fastify gave it; undefined for every other error.
 */
function bodyRefusal(error: FastifyError | Error): JsonRpcHttpError | undefined {
  const status = 'statusCode' in error ? error.statusCode : undefined;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (status === 413) return new JsonRpcHttpError('body_too_large', error.message, { cause: error });
  if (status !== 400) return undefined;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return new JsonRpcHttpError('parse_error', 'Parse error: the body is not valid JSON', { cause: error });
  }
  if (code.startsWith('FST_ERR_CTP_') || code === 'MCP_LAB_JSON_TOO_DEEP') {
    return new JsonRpcHttpError('invalid_request', error.message, { cause: error });
  }
  return undefined;
}

const errorHandlerPlugin: FastifyPluginAsync<ErrorHandlerOptions> = async function errorHandlerPlugin(app, { config, challengeScope }) {
  app.setErrorHandler(function renderError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
    const onMcpEndpoint = request.routeOptions.config?.resourcePath === '/mcp' || request.routeOptions.config?.resourcePath === '/sse';
    if (error instanceof RateLimited) {
      reply.header('retry-after', String(error.retryAfterS));
      if (!onMcpEndpoint) return reply.code(429).send({ error: 'rate_limited', error_description: error.message });
    }
    const rpcError =
      error instanceof JsonRpcHttpError
        ? error
        : error instanceof RateLimited
          ? new JsonRpcHttpError('rate_limited', error.message)
          : onMcpEndpoint
            ? bodyRefusal(error)
            : undefined;
    if (rpcError) return reply.code(rpcError.status).send(rpcError.body());
    const resourceMetadata = insertWellKnown(
      `${config.publicUrl}${request.routeOptions.config?.resourcePath ?? ''}`,
      'oauth-protected-resource',
    );
    if (error instanceof CredentialsRequired) {
      const challenge = bearerChallenge({ resourceMetadata, scope: [...challengeScope] });
      if (challenge) reply.header('www-authenticate', challenge);
      return reply.code(error.status).send({ error: 'unauthorized', error_description: error.message });
    }
    if (error instanceof BearerError) {
      const challenge = bearerChallenge({ resourceMetadata, error });
      if (challenge) reply.header('www-authenticate', challenge);
      if (error.code === 'temporarily_unavailable') {
        request.log.warn({ err: error.cause ?? error }, 'token verification unavailable');
        reply.header('retry-after', '5');
      }
      return reply.code(error.status).send(bearerErrorBody(error));
    }
    if (error instanceof HttpError) {
      return reply.code(error.status).send({ error: error.code, error_description: error.message });
    }
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'invalid_request', error_description: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ error: 'server_error', error_description: 'internal error' });
  });

};

export default fp(errorHandlerPlugin, { name: 'mcp-lab-error-handler', fastify: '5.x' });
