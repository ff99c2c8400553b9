/**
 * Checks a POSTed body is a JSON-RPC 2.0 message or a non-empty batch (MCP base protocol) before any
 * transport sees it, so malformed input is a 400 here rather than an SDK-side failure.
 */
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { HttpError } from '../http-error.ts';

/** @throws HttpError invalid_request (400). */
export function parseJsonRpcBody(body: unknown): JSONRPCMessage | JSONRPCMessage[] {
  if (Array.isArray(body)) {
    if (body.length === 0) throw new HttpError('invalid_request', 'empty JSON-RPC batch');
    return body.map((m) => parseOne(m));
  }
  return parseOne(body);
}

function parseOne(m: unknown): JSONRPCMessage {
  const r = JSONRPCMessageSchema.safeParse(m);
  if (!r.success) throw new HttpError('invalid_request', 'the body is not a valid JSON-RPC 2.0 message', { cause: r.error });
  return r.data;
}

/** True when the body is (or a batch containing) an `initialize` request. */
export function isInitialize(body: JSONRPCMessage | JSONRPCMessage[]): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((m) => 'method' in m && m.method === 'initialize' && 'id' in m);
}
