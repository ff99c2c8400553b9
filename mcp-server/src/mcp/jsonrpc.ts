/**
 * JSON-RPC at the MCP endpoint: the body checks every POST goes through before a transport sees it, and the one
 * shape every error takes there. MCP base protocol: "All messages between MCP clients and servers MUST follow the
 * JSON-RPC 2.0 specification"; an error response carries the request's `id` unless it could not be read
 * (https://modelcontextprotocol.io/specification/2026-07-28/basic/index#error-responses, JSON-RPC 2.0 §5).
 */
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { JsonRpcHttpError } from './jsonrpc-error.ts';

/** JSON-RPC 2.0 §5.1 codes, and the MCP-defined ones this RS emits (2026-07-28 basic §Error Codes). */
export const JSONRPC_CODES = Object.freeze({
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  headerMismatch: -32020,
  unsupportedProtocolVersion: -32022,
});

/**
 * Application-defined codes for failures of the HTTP layer around MCP (authentication, authorization, sessions,
 * an AS outage). Allocated outside the JSON-RPC reserved range, as MCP asks for codes it does not define
 * ("SHOULD be allocated outside the JSON-RPC reserved range (-32768 to -32000)"), and named after the HTTP status
 * they travel with so that a reader of the body alone knows what happened.
 */
export const HTTP_LAYER_CODES = Object.freeze({
  unauthorized: -31401,
  forbidden: -31403,
  notFound: -31404,
  methodNotAllowed: -31405,
  unavailable: -31503,
});

export type RequestId = string | number;

export interface JsonRpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export interface JsonRpcErrorResponse {
  readonly jsonrpc: '2.0';
  readonly id?: RequestId;
  readonly error: JsonRpcErrorObject;
}

/**
 * A failure answered with a JSON-RPC error object and an HTTP status (both owned here); the app's error handler
 * renders it with the request's id.
 */
export class JsonRpcError extends Error {
  override readonly name = 'JsonRpcError';
  readonly status: number;
  readonly code: number;
  readonly data: unknown;
  constructor(status: number, code: number, message: string, options?: { data?: unknown; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.data = options?.data;
  }
}

/** What the lenient JSON body parser hands on for a body that is not JSON: answered -32700 after authentication. */
export class MalformedJson {
  readonly cause: unknown;
  constructor(cause: unknown) {
    this.cause = cause;
  }
}

/** The id of a single JSON-RPC request body, when it can be read (never for batches or notifications). */
export function requestIdOf(body: unknown): RequestId | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { id, method } = body as { id?: unknown; method?: unknown };
  if (typeof method !== 'string') return undefined;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined;
}

/** A JSON-RPC error response (the `id` member only when one was read). */
export function jsonRpcErrorResponse(id: RequestId | undefined, error: JsonRpcErrorObject): JsonRpcErrorResponse {
  const body: { jsonrpc: '2.0'; id?: RequestId; error: JsonRpcErrorObject } = { jsonrpc: '2.0', error };
  if (id !== undefined) body.id = id;
  return body;
}

/** @throws JsonRpcHttpError 400 -32700 for a body that is not JSON; JsonRpcError 400 -32600 for one that is not JSON-RPC 2.0. */
export function parseJsonRpcBody(body: unknown): JSONRPCMessage | JSONRPCMessage[] {
  // The same refusal the body parser gives an unauthenticated caller's malformed body would (http/error-handler.ts).
  if (body instanceof MalformedJson) throw new JsonRpcHttpError('parse_error', 'Parse error: the body is not valid JSON', { cause: body.cause });
  if (Array.isArray(body)) {
    if (body.length === 0) throw new JsonRpcError(400, JSONRPC_CODES.invalidRequest, 'Invalid Request: empty JSON-RPC batch');
    return body.map((m) => parseOne(m));
  }
  return parseOne(body);
}

function parseOne(m: unknown): JSONRPCMessage {
  const r = JSONRPCMessageSchema.safeParse(m);
  if (!r.success) {
    throw new JsonRpcError(400, JSONRPC_CODES.invalidRequest, 'Invalid Request: the body is not a valid JSON-RPC 2.0 message', {
      cause: r.error,
    });
  }
  return r.data;
}

/** True when the body is (or a batch containing) an `initialize` request. */
export function isInitialize(body: JSONRPCMessage | JSONRPCMessage[]): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((m) => 'method' in m && m.method === 'initialize' && 'id' in m);
}
