/**
 * The body of an error the MCP endpoint returns: a JSON-RPC error object with the request's `id` (when one was
 * read), whose `data` keeps the RFC 6750 / OAuth fields (`error`, `error_description`). The HTTP status and the
 * `WWW-Authenticate` challenge are the app's error handler's and do not change: a client that follows RFC 6750
 * reads those, an MCP client reads a JSON-RPC error either way (MCP 2026-07-28 basic §Error Responses).
 */
import { HTTP_LAYER_CODES, JSONRPC_CODES, jsonRpcErrorResponse, requestIdOf } from './jsonrpc.ts';
import type { JsonRpcErrorResponse } from './jsonrpc.ts';

/** The OAuth-style body the error handler builds for every route. */
export interface OAuthStyleBody {
  readonly error: string;
  readonly error_description: string;
}

/** The JSON-RPC code for an HTTP-layer failure, by status (see HTTP_LAYER_CODES). */
export function jsonRpcCodeForStatus(status: number): number {
  switch (status) {
    case 401:
      return HTTP_LAYER_CODES.unauthorized;
    case 403:
      return HTTP_LAYER_CODES.forbidden;
    case 404:
      return HTTP_LAYER_CODES.notFound;
    case 405:
      return HTTP_LAYER_CODES.methodNotAllowed;
    case 503:
      return HTTP_LAYER_CODES.unavailable;
    default:
      return status >= 500 ? JSONRPC_CODES.internalError : JSONRPC_CODES.invalidRequest;
  }
}

/** The JSON-RPC form of an OAuth-style error body, for a request whose (parsed) body was `requestBody`. */
export function mcpErrorBody(requestBody: unknown, status: number, body: OAuthStyleBody): JsonRpcErrorResponse {
  return jsonRpcErrorResponse(requestIdOf(requestBody), {
    code: jsonRpcCodeForStatus(status),
    message: body.error_description,
    data: body,
  });
}
