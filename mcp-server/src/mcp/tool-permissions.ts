/**
 * Which permission each tool needs, and the pre-dispatch check that turns a missing one into an HTTP 403
 * insufficient_scope (MCP "Runtime Insufficient Scope Errors") before the JSON-RPC layer sees the call.
 */
import { BearerError } from '@mcp-lab/protocol';
import type { Principal } from '../auth/principal.ts';
import { missingPermissions } from '../auth/permissions.ts';
import { TOOLS } from './tools.ts';

/** Each tool's permissions, from the one tool table. */
export const TOOL_PERMISSIONS: Readonly<Record<string, readonly string[]>> = Object.freeze(
  Object.fromEntries(Object.entries(TOOLS).map(([name, tool]) => [name, tool.permissions])),
);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every permission the `tools/call` requests in a JSON-RPC message or batch need (unknown tools need none here). */
export function requiredPermissions(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  const needed = new Set<string>();
  for (const m of messages) {
    if (!isRecord(m) || m.method !== 'tools/call' || !isRecord(m.params)) continue;
    const name = m.params.name;
    if (typeof name === 'string' && Object.hasOwn(TOOL_PERMISSIONS, name)) {
      for (const p of TOOL_PERMISSIONS[name] ?? []) needed.add(p);
    }
  }
  return [...needed];
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
