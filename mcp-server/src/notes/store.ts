/**
 * Per-user notes in SQLite (node:sqlite; see the README on why not a native binding). Every query is scoped by the owner (iss, sub): one user can neither see nor delete
 * another's notes. Each owner is bounded in note count, note length and total bytes, and lists are read a page
 * at a time, so no user's data makes another's requests slow.
 */
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import type { RsLimits } from '../config.ts';

export interface Note {
  readonly id: string;
  readonly text: string;
  /** ISO 8601. */
  readonly createdAt: string;
}

export interface Owner {
  readonly iss: string;
  readonly sub: string;
}

/** One page of an owner's notes, oldest first; `nextCursor` (opaque) is present when more follow. */
export interface NotesPage {
  readonly notes: Note[];
  readonly nextCursor?: string;
}

export type NotesLimits = Pick<
  RsLimits,
  'notesMaxPerUser' | 'noteMaxChars' | 'notesMaxBytesPerUser' | 'notesPageSizeMax' | 'notesPageMaxBytes'
>;

export type NotesErrorCode = 'too_many_notes' | 'note_too_long' | 'notes_too_large' | 'invalid_cursor';

/**
 * A refused notes operation. Thrown inside a tool, it becomes that tool's `isError` result with this message
 * (MCP "Tools": errors in a tool are reported in the result, not as protocol errors).
 */
export class NotesError extends Error {
  override readonly name = 'NotesError';
  readonly code: NotesErrorCode;
  constructor(code: NotesErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface NotesStore {
  /** Up to `limit` (at most the configured page size, which is also the default) notes after `cursor`. */
  list(owner: Owner, page?: { readonly cursor?: string | undefined; readonly limit?: number | undefined }): NotesPage;
  /** @throws NotesError when the note or the owner's total would exceed a limit. */
  add(owner: Owner, text: string): Note;
  /** True when the owner's note existed and was deleted. */
  delete(owner: Owner, id: string): boolean;
  /** The owner's note count and UTF-8 bytes. */
  usage(owner: Owner): { readonly count: number; readonly bytes: number };
  close(): void;
}

interface NoteRow {
  id: string;
  text: string;
  created_at: string;
  seq: number;
}

export const DEFAULT_NOTES_LIMITS: NotesLimits = Object.freeze({
  notesMaxPerUser: 1_000,
  noteMaxChars: 2_000,
  notesMaxBytesPerUser: 1_048_576,
  notesPageSizeMax: 100,
  notesPageMaxBytes: 65_536,
});

function encodeCursor(seq: number): string {
  return Buffer.from(`n${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^n(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m?.[1]) throw new NotesError('invalid_cursor', 'invalid cursor (pass back a nextCursor from notes_list)');
  return Number(m[1]);
}

/** Creates the schema when missing and prepares the statements the store runs. */
function prepareStatements(db: DatabaseSync) {
  db.exec(`CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY,
    iss TEXT NOT NULL,
    sub TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seq INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS notes_owner ON notes (iss, sub, seq);`);
  return {
    page: db.prepare(
      'SELECT id, text, created_at, seq FROM notes WHERE iss = ? AND sub = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    usage: db.prepare(
      'SELECT COUNT(*) AS n, COALESCE(SUM(length(CAST(text AS BLOB))), 0) AS b FROM notes WHERE iss = ? AND sub = ?',
    ),
    add: db.prepare(
      'INSERT INTO notes (id, iss, sub, text, created_at, seq) VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM notes))',
    ),
    delete: db.prepare('DELETE FROM notes WHERE id = ? AND iss = ? AND sub = ?'),
  };
}

/** Throws when one more note of `size` bytes would pass the owner's note count or byte limit. */
function checkQuota(limits: NotesLimits, usage: { readonly count: number; readonly bytes: number }, size: number): void {
  const { count, bytes } = usage;
  if (count >= limits.notesMaxPerUser) {
    throw new NotesError('too_many_notes', `note limit reached: ${limits.notesMaxPerUser} notes per user (delete some first)`);
  }
  if (bytes + size > limits.notesMaxBytesPerUser) {
    throw new NotesError(
      'notes_too_large',
      `storage limit reached: ${limits.notesMaxBytesPerUser} bytes of notes per user (${bytes} used, this note is ${size})`,
    );
  }
}

/**
 * Cuts a page from `rows` (fetched with one row more than `size`, which tells whether another page follows): it
 * ends at `size` notes or before the note that would pass the byte budget (one note at least).
 */
function cutPage(rows: readonly NoteRow[], size: number, limits: NotesLimits): NotesPage {
  let shownCount = 0;
  let bytes = 0;
  for (const row of rows.slice(0, size)) {
    bytes += Buffer.byteLength(row.text, 'utf8');
    if (shownCount > 0 && bytes > limits.notesPageMaxBytes) break;
    shownCount++;
  }
  const more = rows.length > shownCount;
  const shown = rows.slice(0, shownCount);
  const notes = shown.map((r) => ({ id: r.id, text: r.text, createdAt: r.created_at }));
  const last = shown.at(-1);
  return more && last ? { notes, nextCursor: encodeCursor(last.seq) } : { notes };
}

/** How long a write waits for another process's lock on a shared database file. */
const NOTES_BUSY_TIMEOUT_MS = 5_000;

/** Opens (and migrates) the store at `path` (`:memory:` for a throwaway one). */
export function openNotesStore(
  path: string,
  options: { readonly now?: () => number; readonly limits?: NotesLimits } = {},
): NotesStore {
  const now = options.now ?? Date.now;
  const limits = options.limits ?? DEFAULT_NOTES_LIMITS;
  // Replicas may share one database file (the scale profile's volume): a write that finds another process's lock
  // waits for it (SQLite's busy timeout) instead of failing with "database is locked".
  const db = new DatabaseSync(path, { timeout: NOTES_BUSY_TIMEOUT_MS });
  const stmts = prepareStatements(db);

  const usage = (owner: Owner) => {
    const row = stmts.usage.get(owner.iss, owner.sub) as { n: number; b: number } | undefined;
    return { count: Number(row?.n ?? 0), bytes: Number(row?.b ?? 0) };
  };

  // node:sqlite calls are synchronous, so the check and the insert cannot interleave with another request's.
  const addChecked = (owner: Owner, note: Note): void => {
    checkQuota(limits, usage(owner), Buffer.byteLength(note.text, 'utf8'));
    stmts.add.run(note.id, owner.iss, owner.sub, note.text, note.createdAt);
  };

  return {
    list(owner, page = {}) {
      const after = page.cursor === undefined ? 0 : decodeCursor(page.cursor);
      const size = Math.max(1, Math.min(page.limit ?? limits.notesPageSizeMax, limits.notesPageSizeMax));
      const rows = stmts.page.all(owner.iss, owner.sub, after, size + 1) as unknown as NoteRow[];
      return cutPage(rows, size, limits);
    },
    add(owner, text) {
      if (text.length > limits.noteMaxChars) {
        throw new NotesError('note_too_long', `note too long: ${text.length} characters, at most ${limits.noteMaxChars}`);
      }
      const note: Note = { id: randomUUID(), text, createdAt: new Date(now()).toISOString() };
      addChecked(owner, note);
      return note;
    },
    delete(owner, id) {
      return Number(stmts.delete.run(id, owner.iss, owner.sub).changes) > 0;
    },
    usage,
    close() {
      db.close();
    },
  };
}
