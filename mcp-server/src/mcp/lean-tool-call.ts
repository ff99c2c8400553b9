/**
 * The lean tools/call path: in an existing Streamable HTTP session, a single `tools/call` request for one of our
 * tools is answered directly (one JSON response) instead of through the SDK transport, which would build a Web
 * Request, a ReadableStream and an SSE response per call. The route still authenticates, claims the session for
 * the caller and checks permissions first; this module only decides eligibility and produces the reply.
 *
 * Only what the SDK would accept and answer the same way takes this path; anything else (batches, notifications,
 * `_meta`, task-augmented calls, unknown tools, arguments that fail validation, headers the SDK would refuse)
 * returns `undefined` and goes to the SDK transport unchanged.
 * See the MCP "Transports" spec (Streamable HTTP: the server may answer a POST with `application/json`)
 * and JSON-RPC 2.0 §4–5.
 */
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, JSONRPCResultResponse } from '@modelcontextprotocol/sdk/types.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import type { NotesStore } from '../notes/store.ts';
import { assertPermissions } from './tool-permissions.ts';
import { toolNamed } from './tools.ts';
import type { NotesTool } from './tools.ts';

/** A tools/call request the lean path may answer. */
export interface LeanToolCall {
  readonly id: string | number;
  readonly tool: NotesTool;
  /** Validated arguments (the tool schema's output, unknown keys stripped as the SDK does). */
  readonly args: Readonly<Record<string, unknown>>;
}

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The body as a lean tools/call, or undefined. Every accepted body is one the SDK's strict JSON-RPC request
 * schema and CallToolRequest schema accept too, so checking it here replaces the zod parse, never loosens it.
 */
export function leanToolCall(body: unknown): LeanToolCall | undefined {
  if (!isPlainObject(body) || body.jsonrpc !== '2.0' || body.method !== 'tools/call') return undefined;
  for (const key in body) if (!REQUEST_KEYS.has(key)) return undefined;
  const id = body.id;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isSafeInteger(id))) return undefined;
  const params = body.params;
  if (!isPlainObject(params) || typeof params.name !== 'string') return undefined;
  // _meta (progress tokens, related tasks) and task augmentation need the SDK's protocol machinery.
  if (params._meta !== undefined || params.task !== undefined) return undefined;
  const tool = toolNamed(params.name);
  if (!tool) return undefined;
  const raw = params.arguments;
  if (raw !== undefined && !isPlainObject(raw)) return undefined;
  if (!tool.inputSchema) return { id, tool, args: {} };
  // A failed validation goes to the SDK, which words the error result itself.
  const parsed = tool.inputSchema.safeParse(raw ?? {});
  return parsed.success ? { id, tool, args: parsed.data } : undefined;
}

/**
 * True when the SDK transport would accept this POST's headers (Accept lists both media types, the body is
 * JSON, a given MCP-Protocol-Version is supported), so that answering without it changes nothing but the framing.
 */
export function leanHeadersOk(headers: IncomingHttpHeaders): boolean {
  const accept = headers.accept;
  if (accept === undefined || !accept.includes('application/json') || !accept.includes('text/event-stream')) return false;
  if (!isJsonContentType(headers['content-type'])) return false;
  const version = headers['mcp-protocol-version'];
  return version === undefined || (typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version));
}

/**
 * Runs the call and builds the JSON-RPC response as the SDK does (members in the order `result`, `jsonrpc`, `id`,
 * so that its serialisation is byte-identical); a throwing tool (or a missing permission, re-checked here as the
 * SDK path re-checks it) becomes an `isError` result, as McpServer reports it.
 */
export function runLeanToolCall(call: LeanToolCall, caller: Principal, notes: NotesStore): JSONRPCResultResponse {
  let result: CallToolResult;
  try {
    // Defence in depth, as in the SDK path: the route already refused calls lacking a permission.
    assertPermissions(caller, call.tool.permissions);
    result = call.tool.run(caller, call.args, notes);
  } catch (err) {
    result = { content: [{ type: 'text', text: err instanceof Error ? err.message : String(err) }], isError: true };
  }
  return { result, jsonrpc: '2.0', id: call.id };
}
