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
import { mcpErrorBody } from '../mcp/error-body.ts';
import type { OAuthStyleBody } from '../mcp/error-body.ts';
import { JsonRpcHttpError } from '../mcp/jsonrpc-error.ts';
import { JsonRpcError, jsonRpcErrorResponse, requestIdOf } from '../mcp/jsonrpc.ts';
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
    if (error instanceof JsonRpcError) {
      const body = { code: error.code, message: error.message, ...(error.data !== undefined ? { data: error.data } : {}) };
      return reply.code(error.status).send(jsonRpcErrorResponse(requestIdOf(request.body), body));
    }
    // On an MCP endpoint every other error is a JSON-RPC error object too, with the request's id when it was read;
    // the status and the challenge stay as they are, and `data` keeps the RFC 6750 fields (mcp/error-body.ts).
    const shape = (status: number, body: OAuthStyleBody) => (onMcpEndpoint ? mcpErrorBody(request.body, status, body) : body);
    const resourceMetadata = insertWellKnown(
      `${config.publicUrl}${request.routeOptions.config?.resourcePath ?? ''}`,
      'oauth-protected-resource',
    );
    if (error instanceof CredentialsRequired) {
      const challenge = bearerChallenge({ resourceMetadata, scope: [...challengeScope] });
      if (challenge) reply.header('www-authenticate', challenge);
      return reply.code(error.status).send(shape(error.status, { error: 'unauthorized', error_description: error.message }));
    }
    if (error instanceof BearerError) {
      const challenge = bearerChallenge({ resourceMetadata, error });
      if (challenge) reply.header('www-authenticate', challenge);
      if (error.code === 'temporarily_unavailable') {
        request.log.warn({ err: error.cause ?? error }, 'token verification unavailable');
        reply.header('retry-after', '5');
      }
      return reply.code(error.status).send(shape(error.status, bearerErrorBody(error)));
    }
    if (error instanceof HttpError) {
      return reply.code(error.status).send(shape(error.status, { error: error.code, error_description: error.message }));
    }
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send(shape(status, { error: 'invalid_request', error_description: error.message }));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(shape(500, { error: 'server_error', error_description: 'internal error' }));
  });

};

export default fp(errorHandlerPlugin, { name: 'mcp-lab-error-handler', fastify: '5.x' });
