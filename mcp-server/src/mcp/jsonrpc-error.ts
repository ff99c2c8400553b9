/**
 * An HTTP refusal on an MCP endpoint answered with a JSON-RPC 2.0 error body (JSON-RPC 2.0 §5.1; the MCP SDK's
 * transports answer their own HTTP-level refusals this way, with `id: null` when no request id is known), so an
 * MCP client reads the reason where it looks for one.
 */
export type JsonRpcRefusalCode = 'parse_error' | 'invalid_request' | 'body_too_large' | 'too_many_sessions' | 'too_many_streams' | 'rate_limited';

export class JsonRpcHttpError extends Error {
  override readonly name = 'JsonRpcHttpError';
  readonly code: JsonRpcRefusalCode;
  readonly status: 400 | 413 | 429;
  /** The JSON-RPC error code: -32700 parse error, -32600 invalid request, -32000 server-defined. */
  readonly rpcCode: number;
  constructor(code: JsonRpcRefusalCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    [this.status, this.rpcCode] = statusOf(code);
  }

  /** The response body. */
  body(): { jsonrpc: '2.0'; id: null; error: { code: number; message: string; data: { reason: JsonRpcRefusalCode } } } {
    return { jsonrpc: '2.0', id: null, error: { code: this.rpcCode, message: this.message, data: { reason: this.code } } };
  }
}

function statusOf(code: JsonRpcRefusalCode): [400 | 413 | 429, number] {
  switch (code) {
    case 'parse_error':
      return [400, -32700];
    case 'invalid_request':
      return [400, -32600];
    case 'body_too_large':
      return [413, -32600];
    case 'too_many_sessions':
    case 'too_many_streams':
    case 'rate_limited':
      return [429, -32000];
  }
}
