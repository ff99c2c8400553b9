/**
 * The lean tools/call path, one for every era and transport: a single `tools/call` request for one of our tools is
 * answered directly (one JSON response, or one event on an HTTP+SSE stream) instead of through an SDK transport —
 * in a 2025 Streamable HTTP session, on a 2024-11-05 HTTP+SSE stream, and as a stateless 2026-07-28 request. The
 * routes still authenticate, claim the session (2025) and check permissions first; this module only decides
 * eligibility and produces the reply, shaped as the SDK of that era shapes it.
 *
 * Kept because measured (`npm run bench -- --scenario lean`: the same authenticated `tools/call whoami` through
 * `app.inject`, CPU per call, median of 5 × 400, 2-core CI machine kind under load, 2026-12-01): 2026-07-28 lean
 * 135 µs vs the v2 SDK's `createMcpHandler` 834 µs (a Web Request, a server instance and a per-request transport
 * each call); 2025 session lean 74 µs vs the v1 transport 443 µs. Over HTTP (`npm run bench`, targets c/d) the
 * lean path is what holds the RS near the bare-Fastify ceiling: 31 µs of server CPU per stateless request.
 *
 * Only what the SDK would accept and answer the same way takes this path; anything else (batches, notifications,
 * `_meta` beyond the modern envelope, progress tokens, task-augmented calls, unknown tools, arguments that fail
 * validation, headers the SDK would refuse or check) returns `undefined` and goes to the SDK unchanged.
 * See the MCP "Transports" spec (Streamable HTTP: the server may answer a POST with `application/json`)
 * and JSON-RPC 2.0 §4–5.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  SERVER_INFO_META_KEY,
} from '@modelcontextprotocol/server';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, JSONRPCResultResponse } from '@modelcontextprotocol/sdk/types.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import type { NotesStore } from '../notes/store.ts';
import type { Era } from './era.ts';
import { MODERN_REVISIONS } from './era.ts';
import { SERVER_INFO } from './server-info.ts';
import { assertPermissions } from './tool-permissions.ts';
import { toolNamed } from './tools.ts';
import type { NotesTool } from './tools.ts';
import { isPlainObject } from '../plain-object.ts';

/** A tools/call request the lean path may answer. */
export interface LeanToolCall {
  readonly id: string | number;
  /** The tool's name, as the body gave it. */
  readonly name: string;
  readonly tool: NotesTool;
  /** Validated arguments (the tool schema's output, unknown keys stripped as the SDK does). */
  readonly args: Readonly<Record<string, unknown>>;
  /** The era whose answer shape the reply takes. */
  readonly era: Era;
  /** Modern era: the revision the request's envelope names. */
  readonly revision?: string;
}

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);


const ENVELOPE_KEYS = new Set([PROTOCOL_VERSION_META_KEY, CLIENT_INFO_META_KEY, CLIENT_CAPABILITIES_META_KEY]);

/**
 * The revision of a modern `_meta` envelope that holds nothing but a supported protocol version, the client's
 * capabilities and (optionally) its name and version — the only `_meta` the lean path answers; undefined otherwise.
 */
function plainEnvelopeRevision(meta: unknown): string | undefined {
  if (!isPlainObject(meta)) return undefined;
  for (const key in meta) if (!ENVELOPE_KEYS.has(key)) return undefined;
  const revision = meta[PROTOCOL_VERSION_META_KEY];
  if (typeof revision !== 'string' || !MODERN_REVISIONS.includes(revision)) return undefined;
  if (!isPlainObject(meta[CLIENT_CAPABILITIES_META_KEY])) return undefined;
  const info = meta[CLIENT_INFO_META_KEY];
  if (info !== undefined && !(isPlainObject(info) && typeof info.name === 'string' && typeof info.version === 'string')) return undefined;
  return revision;
}

/**
 * The body as a lean tools/call, or undefined. Every accepted body is one the SDK's strict JSON-RPC request
 * schema and CallToolRequest schema accept too, so checking it here replaces the zod parse, never loosens it.
 */
export function leanToolCall(body: unknown, era: Era = 'legacy'): LeanToolCall | undefined {
  if (!isPlainObject(body) || body.jsonrpc !== '2.0' || body.method !== 'tools/call') return undefined;
  for (const key in body) if (!REQUEST_KEYS.has(key)) return undefined;
  const id = body.id;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isSafeInteger(id))) return undefined;
  const params = body.params;
  if (!isPlainObject(params) || typeof params.name !== 'string') return undefined;
  // Other _meta (progress tokens, log levels, related tasks) and task augmentation need the SDK's machinery; a
  // modern request must carry its envelope, a 2025 one nothing.
  if (params.task !== undefined) return undefined;
  let revision: string | undefined;
  if (era === 'modern') {
    revision = plainEnvelopeRevision(params._meta);
    if (revision === undefined) return undefined;
  } else if (params._meta !== undefined) return undefined;
  const tool = toolNamed(params.name);
  if (!tool) return undefined;
  const raw = params.arguments;
  if (raw !== undefined && !isPlainObject(raw)) return undefined;
  const shape = { id, name: params.name, tool, era, ...(revision !== undefined ? { revision } : {}) };
  if (!tool.inputSchema) return { ...shape, args: {} };
  // A failed validation goes to the SDK, which words the error result itself.
  const parsed = tool.inputSchema.safeParse(raw ?? {});
  return parsed.success ? { ...shape, args: parsed.data } : undefined;
}

/**
 * True when the SDK transport would accept this POST's headers (Accept lists both media types, the body is
 * JSON, a given MCP-Protocol-Version is supported), so that answering without it changes nothing but the framing.
 */
export function leanHeadersOk(headers: IncomingHttpHeaders, call?: LeanToolCall): boolean {
  const accept = headers.accept;
  if (accept === undefined || !accept.includes('application/json') || !accept.includes('text/event-stream')) return false;
  if (!isJsonContentType(headers['content-type'])) return false;
  const version = headers['mcp-protocol-version'];
  if (call?.era === 'modern') {
    // The standard headers of 2026-07-28 present and naming exactly what the body says (the SDK checks the
    // rest, decoding included, on its path): MCP-Protocol-Version, Mcp-Method, Mcp-Name (SEP-2243).
    return version === call.revision && headers['mcp-method'] === 'tools/call' && headers['mcp-name'] === call.name;
  }
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
  if (call.era === 'modern') {
    // As the v2 SDK encodes a 2026-07-28 result: resultType and the server's identity follow the tool's fields.
    const modern = { ...result, resultType: 'complete', _meta: { [SERVER_INFO_META_KEY]: SERVER_INFO } };
    return { result: modern, jsonrpc: '2.0', id: call.id };
  }
  return { result, jsonrpc: '2.0', id: call.id };
}

