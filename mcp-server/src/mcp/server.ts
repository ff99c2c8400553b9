/**
 * One McpServer per transport session, with the notes tools (mcp/tools.ts) and the session owner's notes resource
 * (mcp/legacy-notes-resource.ts). Each call reads the caller from the request's auth info (set by the route from
 * the verified principal, never the token) and re-checks its permission.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { Principal } from '../auth/principal.ts';
import type { NotesStore, Owner } from '../notes/store.ts';
import { registerLegacyNotesResource } from './legacy-notes-resource.ts';
import type { LegacyNotesEvents } from './legacy-notes-resource.ts';
import { assertPermissions } from './tool-permissions.ts';
import { SERVER_INFO } from './server-info.ts';
import { TOOLS } from './tools.ts';

export { SERVER_INFO } from './server-info.ts';
import type { NotesTool } from './tools.ts';

/** The shape the routes put in AuthInfo.extra. */
export interface AuthExtra {
  readonly principal: Principal;
}

interface ToolExtra {
  readonly authInfo?: { readonly extra?: Record<string, unknown> };
}

function callerOf(extra: ToolExtra, tool: NotesTool): Principal {
  const principal = extra.authInfo?.extra?.principal as Principal | undefined;
  if (!principal) throw new Error('unauthenticated tool call');
  // Defence in depth: the HTTP layer already refused calls lacking a permission.
  assertPermissions(principal, tool.permissions);
  return principal;
}


/**
 * One JSON Schema validator for every session. Left to itself, each SDK Server builds its own Ajv instance
 * (~25 KiB of heap), which is most of what a session costs; Ajv caches compiled schemas, so sharing is safe.
 */
const SHARED_VALIDATOR = new AjvJsonSchemaValidator();

/** Who a session's server is for, and what it adds beyond the notes tools. */
export interface SessionServerOptions {
  /** The session's owner: its notes are the resource this server lists and reads. */
  readonly owner: Owner;
  /** The shared change events, for `resources/subscribe`; without them the server does not offer subscriptions. */
  readonly events?: LegacyNotesEvents;
  /** Tools added in conformance mode. */
  readonly extraTools?: (server: McpServer) => void;
}

/** Builds a server with whoami, notes_list, notes_add, notes_delete, the owner's notes resource (and `extraTools`). */
export function createMcpServer(notes: NotesStore, options: SessionServerOptions): McpServer {
  const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} }, jsonSchemaValidator: SHARED_VALIDATOR });
  for (const [name, tool] of Object.entries(TOOLS)) {
    const meta = { title: tool.title, description: tool.description };
    if (tool.inputShape) {
      server.registerTool(name, { ...meta, inputSchema: tool.inputShape }, async (args, extra) =>
        tool.run(callerOf(extra, tool), args, notes),
      );
    } else {
      server.registerTool(name, meta, async (extra) => tool.run(callerOf(extra, tool), {}, notes));
    }
  }
  registerLegacyNotesResource(server, notes, options.owner, options.events);
  options.extraTools?.(server);
  return server;
}
