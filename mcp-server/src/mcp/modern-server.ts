/**
 * The 2026-07-28 (stateless) MCP server: the official v2 SDK's `McpServer` (`@modelcontextprotocol/server`) with
 * the same tools, from the same table (mcp/tools.ts), as the 2025 sessions' v1 server (mcp/server.ts). One instance
 * per request, as the v2 SDK's `createMcpHandler` serves the modern era; each call reads the caller from the
 * request's auth info (set by the route from the verified principal, never the token) and re-checks its permission.
 */
import { McpServer } from '@modelcontextprotocol/server';
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import type { Principal } from '../auth/principal.ts';
import type { NotesStore } from '../notes/store.ts';
import { SERVER_INFO } from './server-info.ts';
import { assertPermissions } from './tool-permissions.ts';
import { TOOLS } from './tools.ts';
import type { NotesTool } from './tools.ts';

/** Caching hints of the modern era's cacheable results (MCP 2026-07-28 server/utilities/caching). */
export interface ModernCacheHints {
  /** `tools/list` freshness; the scope is always `private` (see below). */
  readonly toolsListTtlMs: number;
  /** `server/discover` freshness; the scope is `public` (versions, capabilities, identity: nothing per user). */
  readonly discoverTtlMs: number;
}

/** Extra tools registered beside the notes tools (the conformance fixtures, in the lab's conformance mode only). */
export type ModernToolRegistrar = (server: McpServer) => void;

function callerOf(ctx: ServerContext, tool: NotesTool): Principal {
  const principal = ctx.http?.authInfo?.extra?.principal as Principal | undefined;
  if (!principal) throw new Error('unauthenticated tool call');
  // Defence in depth: the HTTP layer already refused calls lacking a permission.
  assertPermissions(principal, tool.permissions);
  return principal;
}

/** One validator for every per-request instance (each would otherwise build its own Ajv). */
const SHARED_VALIDATOR = new AjvJsonSchemaValidator();

/**
 * Builds a modern-era server with whoami, notes_list, notes_add, notes_delete.
 *
 * `tools/list` is `cacheScope: "private"`: the list is served only to an authorized caller, and which tools a caller
 * may use depends on its token; a `public` answer may be handed by a shared cache to anyone, authorized or not
 * (Caching §Security Considerations). `server/discover` carries nothing of the caller and is `public`.
 */
export function createModernMcpServer(notes: NotesStore, hints: ModernCacheHints, extraTools?: ModernToolRegistrar): McpServer {
  const server = new McpServer(
    { ...SERVER_INFO },
    {
      capabilities: { tools: {} },
      jsonSchemaValidator: SHARED_VALIDATOR,
      cacheHints: {
        'tools/list': { ttlMs: hints.toolsListTtlMs, cacheScope: 'private' },
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
        async (args: Record<string, unknown>, ctx: ServerContext): Promise<CallToolResult> => tool.run(callerOf(ctx, tool), args, notes),
      );
    } else {
      server.registerTool(name, meta, async (ctx: ServerContext): Promise<CallToolResult> => tool.run(callerOf(ctx, tool), {}, notes));
    }
  }
  extraTools?.(server);
  return server;
}
