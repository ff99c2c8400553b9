/**
 * Per-user notes in SQLite (node:sqlite). Every query is scoped by the owner (iss, sub): one user can neither
 * see nor delete another's notes.
 */
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';

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

export interface NotesStore {
  list(owner: Owner): Note[];
  add(owner: Owner, text: string): Note;
  /** True when the owner's note existed and was deleted. */
  delete(owner: Owner, id: string): boolean;
  close(): void;
}

interface NoteRow {
  id: string;
  text: string;
  created_at: string;
}

/** Opens (and migrates) the store at `path` (`:memory:` for a throwaway one). */
export function openNotesStore(path: string, now: () => number = Date.now): NotesStore {
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY,
    iss TEXT NOT NULL,
    sub TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seq INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS notes_owner ON notes (iss, sub, seq);`);
  const listStmt = db.prepare('SELECT id, text, created_at FROM notes WHERE iss = ? AND sub = ? ORDER BY seq');
  const addStmt = db.prepare(
    'INSERT INTO notes (id, iss, sub, text, created_at, seq) VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM notes))',
  );
  const deleteStmt = db.prepare('DELETE FROM notes WHERE id = ? AND iss = ? AND sub = ?');
  return {
    list(owner) {
      const rows = listStmt.all(owner.iss, owner.sub) as unknown as NoteRow[];
      return rows.map((r) => ({ id: r.id, text: r.text, createdAt: r.created_at }));
    },
    add(owner, text) {
      const note: Note = { id: randomUUID(), text, createdAt: new Date(now()).toISOString() };
      addStmt.run(note.id, owner.iss, owner.sub, note.text, note.createdAt);
      return note;
    },
    delete(owner, id) {
      return Number(deleteStmt.run(id, owner.iss, owner.sub).changes) > 0;
    },
    close() {
      db.close();
    },
  };
}
