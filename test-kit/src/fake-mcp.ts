/**
 * The smallest Streamable HTTP MCP endpoint the SDK clients accept (JSON answers), for the fake resource servers of
 * the kit (the hostile lab, the client's fake lab). Authorization is the caller's: it decides before it asks for an
 * answer.
 *
 * Two eras (MCP 2026-07-28 Versioning §Backward Compatibility):
 * - `legacy` (default): a 2025-only server — `initialize` and one session. It does not know `server/discover`:
 *   as a stateful 2025 server (the v1 SDK's) it refuses a session-less request with HTTP 400 and a non-modern
 *   JSON-RPC error (`legacyDiscover: 'session-required'`, the default when the caller passes the request headers),
 *   or as a stateless one it answers JSON-RPC -32601 method not found (`'method-not-found'`). Either way a
 *   dual-era client falls back to `initialize`.
 * - `both`: a server that also speaks 2026-07-28 — `server/discover` answers, and requests that carry
 *   `MCP-Protocol-Version: 2026-07-28` are served statelessly (no session id; `resultType`, cache hints), with the
 *   `Mcp-Method` / `Mcp-Name` headers checked against the body (400 + -32020 on a mismatch).
 */
import { json } from './serve.ts';

export const FAKE_MODERN_REVISION = '2026-07-28';
const LEGACY_REVISION = '2025-11-25';

export interface FakeMcpOptions {
  /** `serverInfo.name` */
  readonly name: string;
  /** Names of the tools `tools/list` announces. */
  readonly tools: readonly string[];
  readonly sessionId: string;
  /** Answers `tools/call` with a Response (e.g. a 403 step-up) or a result; default: method not found. */
  readonly call?: (params: Record<string, unknown> | undefined) => Response | Record<string, unknown>;
  /** Which eras the endpoint speaks; default `legacy` (2025 only). */
  readonly era?: 'legacy' | 'both';
  /** How a 2025-only endpoint answers `server/discover` (see the module comment); needs `headers` for the default. */
  readonly legacyDiscover?: 'session-required' | 'method-not-found';
}

interface RpcRequest {
  readonly id?: number | string;
  readonly method: string;
  readonly params?: Record<string, unknown>;
}

const rpcError = (id: RpcRequest['id'] | null, code: number, message: string, status = 200) =>
  json({ jsonrpc: '2.0', id: id ?? null, error: { code, message } }, status);

/**
 * Answers one MCP request (`method` is the HTTP method, `body` the JSON-RPC text, `headers` the request's headers;
 * without them the endpoint cannot tell a session-less request and answers as a stateless 2025 server).
 */
export function fakeMcpAnswer(method: string, body: string, opts: FakeMcpOptions, headers?: Headers): Response {
  if (method === 'DELETE') return new Response(null, { status: 200 });
  if (method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST, DELETE' } });
  const msg = JSON.parse(body) as RpcRequest;
  const version = headers?.get('mcp-protocol-version') ?? undefined;
  if (opts.era === 'both' && (msg.method === 'server/discover' || (version !== undefined && version >= FAKE_MODERN_REVISION))) {
    return modernAnswer(msg, opts, headers);
  }
  if (msg.id === undefined) return new Response(null, { status: 202 });
  const stateful = headers !== undefined && (opts.legacyDiscover ?? 'session-required') === 'session-required';
  if (stateful && msg.method !== 'initialize' && headers.get('mcp-session-id') !== opts.sessionId) {
    // What the v1 SDK's stateful transport answers a request without (or with another) session id.
    return rpcError(null, -32000, 'Bad Request: Mcp-Session-Id header is required', 400);
  }
  const reply = (result: unknown) => json({ jsonrpc: '2.0', id: msg.id, result }, 200, { 'mcp-session-id': opts.sessionId });
  switch (msg.method) {
    case 'initialize':
      return reply({ protocolVersion: msg.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: opts.name, version: '0.0.0' } });
    case 'tools/list':
      return reply({ tools: listed(opts) });
    case 'tools/call':
      if (opts.call) {
        const answer = opts.call(msg.params);
        return answer instanceof Response ? answer : reply(answer);
      }
    // falls through: no tools/call
    default:
      return rpcError(msg.id, -32601, 'method not found');
  }
}

const listed = (opts: FakeMcpOptions) => opts.tools.map((name) => ({ name, inputSchema: { type: 'object' } }));

/** The 2026-07-28 era: stateless, every result `complete` and stamped with the server's identity. */
function modernAnswer(msg: RpcRequest, opts: FakeMcpOptions, headers: Headers | undefined): Response {
  if (msg.id === undefined) return new Response(null, { status: 202 });
  const named = msg.method === 'tools/call' ? msg.params?.name : undefined;
  if (headers !== undefined && (headers.get('mcp-method') !== msg.method || (named !== undefined && headers.get('mcp-name') !== named))) {
    return rpcError(msg.id, -32020, 'Mcp-Method / Mcp-Name header does not match the body', 400);
  }
  const reply = (result: Record<string, unknown>) =>
    json({ jsonrpc: '2.0', id: msg.id, result: { ...result, resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': { name: opts.name, version: '0.0.0' } } } });
  switch (msg.method) {
    case 'server/discover':
      return reply({ supportedVersions: [FAKE_MODERN_REVISION, LEGACY_REVISION], capabilities: { tools: {} }, ttlMs: 0, cacheScope: 'private' });
    case 'tools/list':
      return reply({ tools: listed(opts), ttlMs: 0, cacheScope: 'private' });
    case 'tools/call':
      if (opts.call) {
        const answer = opts.call(msg.params);
        return answer instanceof Response ? answer : reply(answer);
      }
    // falls through: no tools/call
    default:
      return rpcError(msg.id, -32601, 'method not found', 404);
  }
}
