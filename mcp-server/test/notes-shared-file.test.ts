/**
 * Replicas sharing one notes database file (the scale profile's volume): a write that meets another process's
 * write lock waits for it (SQLite's busy timeout) instead of failing with "database is locked". The other process
 * is a real one: a child holding an IMMEDIATE transaction until the parent has tried to write.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openNotesStore } from '../src/notes/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcp-lab-notes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A child process that takes the database's write lock, says so, and commits 300 ms later. */
const HOLDER = `
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); }, 300);
`;

describe('notes store on a file shared by processes', () => {
  it("waits for another process's write lock and then writes, rather than failing", async () => {
    const path = join(dir, 'notes.db');
    const store = openNotesStore(path);
    try {
      const holder = spawn(process.execPath, ['--no-warnings', '-e', HOLDER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('locked')) resolve();
        });
        holder.once('exit', (code) => reject(new Error(`holder exited (${code}) before locking`)));
      });
      // The lock is held now: this write blocks until the holder commits, then succeeds.
      const note = store.add({ iss: 'https://idp.example', sub: 'alice' }, 'written while another replica held the lock');
      const exit = await new Promise<number | null>((resolve) => {
        if (holder.exitCode !== null) resolve(holder.exitCode);
        else holder.once('exit', resolve);
      });
      expect(exit).toBe(0);
      expect(out).toContain('released');
      expect(store.list({ iss: 'https://idp.example', sub: 'alice' }).notes.map((n) => n.id)).toEqual([note.id]);
    } finally {
      store.close();
    }
  });
});
