/**
 * The notes tools, defined once: their MCP metadata, input schema, the permission each needs, and what they do.
 * The SDK server (mcp/server.ts) registers them; the lean tools/call path (mcp/lean-tool-call.ts) runs the same
 * definitions without a transport, so both answer alike.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Principal } from '../auth/principal.ts';
import { NOTE_MAX_CHARS_CEILING } from '../config.ts';
import type { NotesStore } from '../notes/store.ts';

export interface NotesTool {
  readonly title: string;
  readonly description: string;
  /** Permissions the caller needs (checked before dispatch and again inside). */
  readonly permissions: readonly string[];
  /** The zod shape the SDK registers (JSON Schema in tools/list); undefined = no arguments. */
  readonly inputShape?: z.ZodRawShape;
  /** `inputShape` as one object schema, built once (the SDK builds the same `z.object(shape)`). */
  readonly inputSchema?: z.ZodObject<z.ZodRawShape>;
  /** Runs the tool for a caller whose permissions were checked, with validated arguments. */
  run(caller: Principal, args: Readonly<Record<string, unknown>>, notes: NotesStore): CallToolResult;
}

function json(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

function tool(def: Omit<NotesTool, 'inputSchema'>): NotesTool {
  return Object.freeze({ ...def, ...(def.inputShape ? { inputSchema: z.object(def.inputShape) } : {}) });
}

/** Every tool by name, in tools/list order. */
export const TOOLS: Readonly<Record<string, NotesTool>> = Object.freeze({
  whoami: tool({
    title: 'Who am I',
    description: 'The verified identity and permissions of the caller',
    permissions: [],
    run: (p) =>
      json({
        iss: p.iss,
        sub: p.sub,
        aud: p.aud,
        permissions: p.permissions,
        ...(p.clientId !== undefined ? { client_id: p.clientId } : {}),
        ...(p.email !== undefined ? { email: p.email } : {}),
        exp: p.exp,
      }),
  }),
  notes_list: tool({
    title: 'List notes',
    description:
      "One page of the caller's notes, oldest first (a JSON array); when more follow, the result carries nextCursor " +
      '(MCP pagination): pass it back as cursor. limit is capped at the server page size (needs notes:read)',
    permissions: ['notes:read'],
    inputShape: {
      cursor: z.string().min(1).max(200).optional(),
      limit: z.number().int().min(1).max(10_000).optional(),
    },
    run: (p, args, notes) => {
      const page = notes.list(p, { cursor: args.cursor as string | undefined, limit: args.limit as number | undefined });
      // `nextCursor` beside `content`, where an MCP PaginatedResult carries it; the text stays the notes array.
      return page.nextCursor === undefined ? json(page.notes) : { ...json(page.notes), nextCursor: page.nextCursor };
    },
  }),
  notes_add: tool({
    title: 'Add a note',
    description: 'Adds a note for the caller, within the per-user note count, length and size limits (needs notes:write)',
    permissions: ['notes:write'],
    // The configured MCP_NOTE_MAX_CHARS is enforced by the store, with a tool error that names the limit.
    inputShape: { text: z.string().min(1).max(NOTE_MAX_CHARS_CEILING) },
    run: (p, args, notes) => json(notes.add(p, args.text as string)),
  }),
  notes_delete: tool({
    title: 'Delete a note',
    description: "Deletes one of the caller's notes (needs notes:write)",
    permissions: ['notes:write'],
    inputShape: { id: z.string().min(1).max(200) },
    run: (p, args, notes) => {
      const id = args.id as string;
      // Key order as the SDK's result schema emits it (content, then isError): both paths answer byte for byte alike.
      if (!notes.delete(p, id)) return { content: [{ type: 'text', text: `no note ${id}` }], isError: true };
      return json({ deleted: id });
    },
  }),
});

/** The tool named `name`, if it exists (own properties only: `toString` is not a tool). */
export function toolNamed(name: string): NotesTool | undefined {
  return Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
}
