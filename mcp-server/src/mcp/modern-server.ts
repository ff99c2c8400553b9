/**
 * The 2026-07-28 (stateless) MCP server: the official v2 SDK's `McpServer` (`@modelcontextprotocol/server`) with
 * the same tools, from the same table (mcp/tools.ts), and the same notes resource (mcp/notes-resource.ts) as the
 * 2025 sessions' v1 server (mcp/server.ts). One instance per request, built for its caller, as the v2 SDK's
 * `createMcpHandler` serves the modern era; each call reads the caller from the request's auth info (set by the
 * route from the verified principal, never the token) and re-checks its permission.
 */
import { McpServer, ResourceNotFoundError } from '@modelcontextprotocol/server';
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import type { Principal } from '../auth/principal.ts';
import type { NotesStore } from '../notes/store.ts';
import { NOTES_RESOURCE, NOTES_RESOURCE_PERMISSIONS, notesResourceUri, readNotesResource } from './notes-resource.ts';
import { SERVER_INFO } from './server-info.ts';
import { assertPermissions } from './tool-permissions.ts';
import { TOOLS } from './tools.ts';

/** Caching hints of the modern era's cacheable results (MCP 2026-07-28 server/utilities/caching). */
export interface ModernCacheHints {
  /** `tools/list` and `resources/list` freshness; the scope is always `private` (see below). */
  readonly toolsListTtlMs: number;
  /** `server/discover` freshness; the scope is `public` (versions, capabilities, identity: nothing per user). */
  readonly discoverTtlMs: number;
}

/** Extra tools registered beside the notes tools (the conformance fixtures, in the lab's conformance mode only). */
export type ModernToolRegistrar = (server: McpServer) => void;

function callerOf(ctx: ServerContext, permissions: readonly string[]): Principal {
  const principal = ctx.http?.authInfo?.extra?.principal as Principal | undefined;
  if (!principal) throw new Error('unauthenticated request');
  // Defence in depth: the HTTP layer already refused requests lacking a permission.
  assertPermissions(principal, permissions);
  return principal;
}

/**
 * The caller's notes resource: the only one this instance lists and reads, so another user's URI is unknown here
 * (`-32602` "Resource not found", as for any URI that does not exist). `private`, never cached (`ttlMs` 0): it is
 * one user's data and changes with every note; `notifications/resources/updated` on a listen stream says when.
 */
function registerNotesResource(server: McpServer, notes: NotesStore, caller: Principal): void {
  const uri = notesResourceUri(caller);
  const config = { ...NOTES_RESOURCE.metadata, cacheHint: { ttlMs: 0, cacheScope: 'private' as const } };
  server.registerResource(NOTES_RESOURCE.name, uri, config, async (requested: URL, ctx: ServerContext) => {
    const reader = callerOf(ctx, NOTES_RESOURCE_PERMISSIONS);
    if (notesResourceUri(reader) !== requested.href) throw new ResourceNotFoundError(requested.href);
    return readNotesResource(notes, reader);
  });
}

/** One validator for every per-request instance (each would otherwise build its own Ajv). */
const SHARED_VALIDATOR = new AjvJsonSchemaValidator();

/**
 * Builds a modern-era server for `caller` with whoami, notes_list, notes_add, notes_delete and the caller's notes
 * resource. Resources advertise `subscribe` (listen streams carry `notifications/resources/updated`) and not
 * `listChanged`: a caller's list is always its one notes resource.
 *
 * `tools/list` and `resources/list` are `cacheScope: "private"`: they are served only to an authorized caller, and
 * what they hold depends on its token; a `public` answer may be handed by a shared cache to anyone, authorized or
 * not (Caching §Security Considerations). `server/discover` carries nothing of the caller and is `public`.
 */
export function createModernMcpServer(notes: NotesStore, hints: ModernCacheHints, caller: Principal, extraTools?: ModernToolRegistrar): McpServer {
  const server = new McpServer(
    { ...SERVER_INFO },
    {
      capabilities: { tools: {}, resources: { subscribe: true, listChanged: false } },
      jsonSchemaValidator: SHARED_VALIDATOR,
      cacheHints: {
        'tools/list': { ttlMs: hints.toolsListTtlMs, cacheScope: 'private' },
        'resources/list': { ttlMs: hints.toolsListTtlMs, cacheScope: 'private' },
        'server/discover': { ttlMs: hints.discoverTtlMs, cacheScope: 'public' },
      },
    },
  );
  for (const [name, tool] of Object.entries(TOOLS)) {
    const meta = { title: tool.title, description: tool.description };
    if (tool.inputSchema) {
      server.registerTool(
        name,
        { ...meta, inputSchema: tool.inputSchema },
        async (args: Record<string, unknown>, ctx: ServerContext): Promise<CallToolResult> => tool.run(callerOf(ctx, tool.permissions), args, notes),
      );
    } else {
      server.registerTool(name, meta, async (ctx: ServerContext): Promise<CallToolResult> => tool.run(callerOf(ctx, tool.permissions), {}, notes));
    }
  }
  registerNotesResource(server, notes, caller);
  extraTools?.(server);
  return server;
}
