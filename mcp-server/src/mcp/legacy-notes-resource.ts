/**
 * The notes resource (mcp/notes-resource.ts) on a 2025-era session's v1 `McpServer`, so that both eras list and read
 * the same resource: one per session, its owner's, since a session is bound to the subject that opened it.
 *
 * With `resources/subscribe` (MCP 2025-11-25 server/resources "Subscriptions"): the session hears the same shared
 * change events as the 2026-07-28 listen streams (state/server-events.ts) and sends
 * `notifications/resources/updated` on its event stream (the Streamable HTTP GET stream, or the HTTP+SSE stream) —
 * a change made on any replica included. One bus listener per session at most, dropped when the session ends.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ServerEventBus } from '@modelcontextprotocol/server';
import type { Principal } from '../auth/principal.ts';
import type { NotesStore, Owner } from '../notes/store.ts';
import { NOTES_RESOURCE, NOTES_RESOURCE_PERMISSIONS, notesResourceUri, readNotesResource } from './notes-resource.ts';
import { assertPermissions } from './tool-permissions.ts';

/** What the session needs of the shared change events, and where a failed notification is reported. */
export interface LegacyNotesEvents {
  readonly bus: Pick<ServerEventBus, 'subscribe'>;
  readonly onError: (err: unknown) => void;
}

interface RequestExtra {
  readonly authInfo?: { readonly extra?: Record<string, unknown> };
}

/** As the v1 SDK words an unknown resource, so that someone else's URI answers exactly as a missing one. */
function unknownResource(uri: string): McpError {
  return new McpError(ErrorCode.InvalidParams, `Resource ${uri} not found`);
}

/** The URI as the SDK keys resources (`new URL(uri).toString()`), or the string itself when it is no URL. */
function canonical(uri: string): string {
  try {
    return new URL(uri).href;
  } catch {
    return uri;
  }
}

/** resources/subscribe and resources/unsubscribe for the owner's notes URI only. */
function registerSubscriptions(server: McpServer, uri: string, events: LegacyNotesEvents): void {
  let stop: (() => void) | undefined;
  const unsubscribe = () => {
    stop?.();
    stop = undefined;
  };
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    if (canonical(request.params.uri) !== uri) throw unknownResource(request.params.uri);
    stop ??= events.bus.subscribe(function sendUpdated(event) {
      if (event.kind !== 'resource_updated' || event.uri !== uri) return;
      server.server.sendResourceUpdated({ uri }).catch(events.onError);
    });
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    if (canonical(request.params.uri) !== uri) throw unknownResource(request.params.uri);
    unsubscribe();
    return {};
  });
  server.server.onclose = unsubscribe;
}

/**
 * Registers `owner`'s notes resource on a session's server, and `resources/subscribe` when `events` is given.
 * Capabilities: `resources.subscribe` as wired, never `listChanged` (the list is always this one resource).
 */
export function registerLegacyNotesResource(server: McpServer, notes: NotesStore, owner: Owner, events?: LegacyNotesEvents): void {
  const uri = notesResourceUri(owner);
  server.registerResource(NOTES_RESOURCE.name, uri, NOTES_RESOURCE.metadata, async (requested, extra: RequestExtra) => {
    const reader = extra.authInfo?.extra?.principal as Principal | undefined;
    if (!reader) throw new Error('unauthenticated request');
    // Defence in depth: the route refused requests lacking the permission, and the session is its owner's.
    assertPermissions(reader, NOTES_RESOURCE_PERMISSIONS);
    if (notesResourceUri(reader) !== requested.href) throw unknownResource(requested.href);
    return readNotesResource(notes, reader);
  });
  server.server.registerCapabilities({ resources: { subscribe: events !== undefined, listChanged: false } });
  if (events) registerSubscriptions(server, uri, events);
}
