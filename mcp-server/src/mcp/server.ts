/**
 * One McpServer per transport session, with the notes tools. Each call reads the caller from the request's
 * auth info (set by the route from the verified principal, never the token) and re-checks its permission.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Principal } from '../auth/principal.ts';
import type { NotesStore } from '../notes/store.ts';
import { assertPermissions, TOOL_PERMISSIONS } from './tool-permissions.ts';

/** The shape the routes put in AuthInfo.extra. */
export interface AuthExtra {
  readonly principal: Principal;
}

interface ToolExtra {
  readonly authInfo?: { readonly extra?: Record<string, unknown> };
}

function callerOf(extra: ToolExtra, tool: string): Principal {
  const principal = extra.authInfo?.extra?.principal as Principal | undefined;
  if (!principal) throw new Error('unauthenticated tool call');
  // Defence in depth: the HTTP layer already refused calls lacking a permission.
  assertPermissions(principal, TOOL_PERMISSIONS[tool] ?? []);
  return principal;
}

function json(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

export const SERVER_INFO = { name: 'mcp-lab-notes', version: '0.1.0' } as const;

/** Builds a server with whoami, notes_list, notes_add, notes_delete. */
export function createMcpServer(notes: NotesStore): McpServer {
  const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} } });

  server.registerTool(
    'whoami',
    { title: 'Who am I', description: 'The verified identity and permissions of the caller' },
    async (extra) => {
      const p = callerOf(extra, 'whoami');
      return json({
        iss: p.iss,
        sub: p.sub,
        aud: p.aud,
        permissions: p.permissions,
        ...(p.clientId !== undefined ? { client_id: p.clientId } : {}),
        ...(p.email !== undefined ? { email: p.email } : {}),
        exp: p.exp,
      });
    },
  );

  server.registerTool(
    'notes_list',
    { title: 'List notes', description: "The caller's notes, oldest first (needs notes:read)" },
    async (extra) => json(notes.list(callerOf(extra, 'notes_list'))),
  );

  server.registerTool(
    'notes_add',
    {
      title: 'Add a note',
      description: 'Adds a note for the caller (needs notes:write)',
      inputSchema: { text: z.string().min(1).max(2000) },
    },
    async ({ text }, extra) => json(notes.add(callerOf(extra, 'notes_add'), text)),
  );

  server.registerTool(
    'notes_delete',
    {
      title: 'Delete a note',
      description: "Deletes one of the caller's notes (needs notes:write)",
      inputSchema: { id: z.string().min(1).max(200) },
    },
    async ({ id }, extra) => {
      const deleted = notes.delete(callerOf(extra, 'notes_delete'), id);
      if (!deleted) return { isError: true, content: [{ type: 'text', text: `no note ${id}` }] };
      return json({ deleted: id });
    },
  );

  return server;
}
