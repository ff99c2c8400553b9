/**
 * The caller's notes as one MCP resource (MCP 2026-07-28 server/resources), defined once for both eras: its URI
 * scheme, what reading it returns, the permission it needs, and what a change to it announces.
 *
 * Each user has exactly one notes resource, `notes://user/<id>`, where `<id>` is derived from the token's (iss, sub)
 * alone — the same on every replica and across restarts, without a shared secret — and says nothing readable about
 * either. It is an identifier, not a capability: every read, subscription and listen filter is checked against the
 * caller's own URI, so knowing someone else's URI gives nothing (it answers as an unknown resource would).
 * Because each user's URI is distinct, the SDK's exact-URI listen filter keeps users' change events apart.
 */
import { createHash } from 'node:crypto';
import type { ServerEventBus } from '@modelcontextprotocol/server';
import { principalKey } from '../auth/principal.ts';
import type { Note, NotesStore, Owner } from '../notes/store.ts';
import { toolNamed } from './tools.ts';

/** Every notes resource URI begins with this (the one place the scheme is written). */
export const NOTES_URI_PREFIX = 'notes://user/';

const NOTES_SCHEME = new URL(NOTES_URI_PREFIX).protocol;

function permissionsOfTool(name: string): readonly string[] {
  const tool = toolNamed(name);
  if (!tool) throw new Error(`no tool ${name}`);
  return tool.permissions;
}

/** Reading the notes resource needs what `notes_list` needs: it shows the same notes. */
export const NOTES_RESOURCE_PERMISSIONS: readonly string[] = permissionsOfTool('notes_list');

/** The resource's registration: its name in `resources/list` and its metadata, for both SDKs. */
export const NOTES_RESOURCE = Object.freeze({
  name: 'notes',
  metadata: {
    title: 'My notes',
    description:
      "All of the caller's notes, oldest first (a JSON array of {id, text, createdAt}, as notes_list returns them page " +
      'by page); notes/resources/updated announces every change to it (needs notes:read)',
    mimeType: 'application/json',
  },
});

/** The URI of `owner`'s notes: 128 bits of SHA-256 over the (iss, sub) key, base64url. */
export function notesResourceUri(owner: Pick<Owner, 'iss' | 'sub'>): string {
  const id = createHash('sha256').update(principalKey(owner)).digest('base64url').slice(0, 22);
  return `${NOTES_URI_PREFIX}${id}`;
}

/**
 * Whether `uri` is in the notes scheme, whoever's it is and however it is spelled (`NOTES://…` parses to the same
 * resource): what decides that a request about it needs {@link NOTES_RESOURCE_PERMISSIONS}, before anyone looks at
 * whose it is.
 */
export function isNotesUri(uri: unknown): boolean {
  if (typeof uri !== 'string') return false;
  try {
    return new URL(uri).protocol === NOTES_SCHEME;
  } catch {
    // Not a URI at all: not ours either; the SDK answers it as invalid.
    return false;
  }
}

/** Every note of `owner`, oldest first, read a page at a time (bounded by the per-user note and byte limits). */
function allNotes(notes: NotesStore, owner: Owner): Note[] {
  const all: Note[] = [];
  let cursor: string | undefined;
  do {
    const page = notes.list(owner, { cursor });
    all.push(...page.notes);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return all;
}

/** The `resources/read` result for `owner`'s own notes (the caller was checked to be `owner`). */
export function readNotesResource(notes: NotesStore, owner: Owner) {
  return { contents: [{ uri: notesResourceUri(owner), mimeType: NOTES_RESOURCE.metadata.mimeType, text: JSON.stringify(allNotes(notes, owner)) }] };
}

/**
 * The notes store, announcing each successful change on `events` as `resource_updated` for the owner's URI — after
 * the write, never for a refused one. Every path that writes notes (both eras' SDK servers, the lean `tools/call`
 * path, relayed SSE messages) goes through the store, so none can forget to announce.
 */
export function announcingNotesChanges(notes: NotesStore, events: Pick<ServerEventBus, 'publish'>): NotesStore {
  const changed = (owner: Owner) => events.publish({ kind: 'resource_updated', uri: notesResourceUri(owner) });
  return {
    list: (owner, page) => notes.list(owner, page),
    add(owner, text) {
      const note = notes.add(owner, text);
      changed(owner);
      return note;
    },
    delete(owner, id) {
      const deleted = notes.delete(owner, id);
      if (deleted) changed(owner);
      return deleted;
    },
    usage: (owner) => notes.usage(owner),
    close: () => notes.close(),
  };
}
