/**
 * Which permission each tool and resource needs, and the pre-dispatch check that turns a missing one into an HTTP
 * 403 insufficient_scope (MCP "Runtime Insufficient Scope Errors") before the JSON-RPC layer sees the request.
 */
import { BearerError } from '@mcp-lab/protocol';
import type { Principal } from '../auth/principal.ts';
import { missingPermissions } from '../auth/permissions.ts';
import { listenResourceSubscriptions } from './listen-filter.ts';
import { isNotesUri, NOTES_RESOURCE_PERMISSIONS } from './notes-resource.ts';
import { TOOLS } from './tools.ts';
import { isPlainObject } from '../plain-object.ts';

/** Each tool's permissions, from the one tool table. */
export const TOOL_PERMISSIONS: Readonly<Record<string, readonly string[]>> = Object.freeze(
  Object.fromEntries(Object.entries(TOOLS).map(([name, tool]) => [name, tool.permissions])),
);


/** What a tool needs (unknown tools need nothing here: the SDK answers them). */
export function toolPermissions(name: unknown): readonly string[] {
  return typeof name === 'string' && Object.hasOwn(TOOL_PERMISSIONS, name) ? (TOOL_PERMISSIONS[name] ?? []) : [];
}

/**
 * What a request about resource `uri` needs: a notes-scheme URI needs the notes read permission, decided by the
 * scheme alone, so the answer is the same for every user's URI; whose it is is checked later, after this.
 */
export function resourcePermissions(uri: unknown): readonly string[] {
  return isNotesUri(uri) ? NOTES_RESOURCE_PERMISSIONS : [];
}

/** What one JSON-RPC message needs: its tool's permissions, or those of the resources it reads or watches. */
function messagePermissions(m: unknown): readonly string[] {
  if (!isPlainObject(m) || !isPlainObject(m.params)) return [];
  switch (m.method) {
    case 'tools/call':
      return toolPermissions(m.params.name);
    case 'resources/read':
    case 'resources/subscribe':
      return resourcePermissions(m.params.uri);
    case 'subscriptions/listen':
      return (listenResourceSubscriptions(m) ?? []).flatMap((uri) => resourcePermissions(uri));
    default:
      return [];
  }
}

/** Every permission the requests in a JSON-RPC message or batch need. */
export function requiredPermissions(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  return [...new Set(messages.flatMap((m) => messagePermissions(m)))];
}

/**
 * @throws BearerError insufficient_scope naming every permission the request needs (all at once, so the client
 *   steps up in one round trip).
 */
export function assertPermissions(principal: Principal, required: readonly string[]): void {
  if (missingPermissions(principal.permissions, required).length > 0) {
    throw new BearerError('insufficient_scope', `this operation needs ${required.join(' ')}`, { scope: required });
  }
}
