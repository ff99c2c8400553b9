/**
 * Finds a 2025-era session for a request on any replica: held here (the registry's own checks), held by another
 * replica (the directory), or nowhere. Another replica answers exactly as the owner would: 404 for an unknown or
 * ended session, 403 for someone else's, before anything is relayed.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { principalKey } from '../auth/principal.ts';
import type { Principal } from '../auth/principal.ts';
import { foreignSession, sessionNotFound } from '../mcp/sessions.ts';
import type { McpSession, SessionRegistry } from '../mcp/sessions.ts';
import type { SessionDirectory, SessionKind, SessionOwnership } from './types.ts';

export type Located<T extends Transport> =
  | { readonly local: McpSession<T>; readonly remote?: undefined }
  | { readonly local?: undefined; readonly remote: SessionOwnership };

/**
 * @throws HttpError 404 session_not_found when no replica holds `id`; HttpError 403 session_forbidden when `principal` does not
 *   own it (wherever it is held).
 */
export async function locateSession<T extends Transport>(
  registry: SessionRegistry<T>,
  directory: SessionDirectory,
  kind: SessionKind,
  id: string,
  principal: Principal,
): Promise<Located<T>> {
  if (registry.holds(id)) return { local: registry.claim(id, principal) };
  const found = await directory.lookup(kind, id);
  if (!found) throw sessionNotFound();
  if (found.owner !== principalKey(principal)) throw foreignSession();
  return { remote: found };
}
