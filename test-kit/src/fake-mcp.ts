/**
 * The smallest Streamable HTTP MCP endpoint the SDK client accepts (JSON answers, one session), for the fake
 * resource servers of the kit (the hostile lab, the client's fake lab). Authorization is the caller's: it decides
 * before it asks for an answer.
 */
import { json } from './serve.ts';

export interface FakeMcpOptions {
  /** `serverInfo.name` */
  readonly name: string;
  /** Names of the tools `tools/list` announces. */
  readonly tools: readonly string[];
  readonly sessionId: string;
  /** Answers `tools/call` with a Response (e.g. a 403 step-up) or a result; default: method not found. */
  readonly call?: (params: Record<string, unknown> | undefined) => Response | Record<string, unknown>;
}

interface RpcRequest {
  readonly id?: number | string;
  readonly method: string;
  readonly params?: Record<string, unknown>;
}

/** Answers one MCP request (`method` is the HTTP method, `body` the JSON-RPC text). */
export function fakeMcpAnswer(method: string, body: string, opts: FakeMcpOptions): Response {
  if (method === 'DELETE') return new Response(null, { status: 200 });
  if (method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST, DELETE' } });
  const msg = JSON.parse(body) as RpcRequest;
  if (msg.id === undefined) return new Response(null, { status: 202 });
  const reply = (result: unknown) => json({ jsonrpc: '2.0', id: msg.id, result }, 200, { 'mcp-session-id': opts.sessionId });
  switch (msg.method) {
    case 'initialize':
      return reply({ protocolVersion: msg.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: opts.name, version: '0.0.0' } });
    case 'tools/list':
      return reply({ tools: opts.tools.map((name) => ({ name, inputSchema: { type: 'object' } })) });
    case 'tools/call':
      if (opts.call) {
        const answer = opts.call(msg.params);
        return answer instanceof Response ? answer : reply(answer);
      }
    // falls through: no tools/call
    default:
      return json({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'method not found' } });
  }
}
