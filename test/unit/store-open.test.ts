import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../../src/store/index.js';
import { APPLICATION_ID, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { ExitCode, UserError } from '../../src/core/errors.js';
import type { Contact } from '../../src/core/records.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'segsync-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function caught(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

const contact = (id: string, email?: string): Contact => ({
  id: `files:${id}`,
  connector: 'files',
  externalId: id,
  ...(email ? { email } : {}),
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-02T00:00:00.000Z',
  properties: {},
});

function page(contacts: Contact[]) {
  return {
    runId: 1,
    connector: 'files',
    stream: 'contacts' as const,
    contacts,
    rejected: [],
    checkpoint: { offset: 1 },
    now: '2024-02-01T00:00:00.000Z',
  };
}

describe('openStore', () => {
  it('refuses a file of random bytes with STORE_NOT_SEGSYNC naming the file on one line', () => {
    const file = join(dir, 'random.db');
    const bytes = randomBytes(8192);
    writeFileSync(file, bytes);
    const e = caught(() => openStore(file));
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(e.code).toBe('STORE_NOT_SEGSYNC');
    expect(e.exitCode).toBe(ExitCode.usage);
    const line = e.oneLine();
    expect(line).not.toContain('\n');
    expect(line).toContain(file);
    expect(line.startsWith('STORE_NOT_SEGSYNC')).toBe(true);
  });

  it('refuses a text file', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'hello, this is not a database\n'.repeat(200));
    expect(caught(() => openStore(file)).code).toBe('STORE_NOT_SEGSYNC');
  });

  it('refuses another application\'s SQLite database and leaves it untouched', () => {
    const file = join(dir, 'other.db');
    const other = new Database(file);
    other.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)');
    other.prepare('INSERT INTO invoices (total) VALUES (?)').run(9.5);
    other.close();

    const e = caught(() => openStore(file));
    expect(e.code).toBe('STORE_NOT_SEGSYNC');
    expect(e.oneLine()).toContain(file);

    const check = new Database(file, { readonly: true });
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(['invoices']);
    expect(check.pragma('user_version', { simple: true })).toBe(0);
    check.close();
  });

  it('refuses a database with a foreign application_id even without tables', () => {
    const file = join(dir, 'foreign-id.db');
    const other = new Database(file);
    other.pragma('application_id = 12345');
    other.close();
    expect(caught(() => openStore(file)).code).toBe('STORE_NOT_SEGSYNC');
  });

  it('refuses a directory', () => {
    const sub = join(dir, 'adir');
    mkdirSync(sub);
    expect(caught(() => openStore(sub)).code).toBe('STORE_NOT_SEGSYNC');
  });

  it('refuses a store written by a newer segsync (STORE_TOO_NEW)', () => {
    const file = join(dir, 'new.db');
    openStore(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const e = caught(() => openStore(file));
    expect(e.code).toBe('STORE_TOO_NEW');
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.message).toContain(String(SCHEMA_VERSION + 1));
    expect(e.oneLine()).toContain(file);
  });

  it('creates a fresh store (and its directory) marked with application_id and the schema version', () => {
    const file = join(dir, 'deep', 'er', 'segsync.db');
    const store = openStore(file);
    store.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['contacts', 'transactions', 'customers', 'sync_state', 'quarantine']));
    raw.close();
  });

  it('keeps the data when re-opened', () => {
    const file = join(dir, 'keep.db');
    const a = openStore(file);
    a.sync.commitPage(page([contact('1', 'a@example.com'), contact('2')]));
    a.close();

    const b = openStore(file);
    expect(b.sync.getCheckpoint('files', 'contacts')).toEqual({ offset: 1 });
    expect(b.status.counts()).toMatchObject({ contacts: 2 });
    b.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT count(*) FROM contacts').pluck().get()).toBe(2);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('works in memory', () => {
    const s = openStore(':memory:');
    s.sync.commitPage(page([contact('1')]));
    expect(s.sync.getCheckpoint('files', 'contacts')).toEqual({ offset: 1 });
    s.close();
  });

  it('close() twice is harmless', () => {
    const s = openStore(join(dir, 'twice.db'));
    s.close();
    expect(() => s.close()).not.toThrow();
  });

  it('turns a write blocked by another connection into STORE_LOCKED (exit 3)', () => {
    const file = join(dir, 'locked.db');
    const store = openStore(file, { busyTimeoutMs: 20 });
    const other = new Database(file);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const t0 = Date.now();
      const e = caught(() => store.sync.commitPage(page([contact('1')])));
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(e.code).toBe('STORE_LOCKED');
      expect(e.exitCode).toBe(ExitCode.locked);
      expect(e.exitCode).toBe(3);
      expect(e.oneLine()).toContain(file);
      expect(e.oneLine()).not.toContain('\n');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    // once released, the same store writes fine
    expect(store.sync.commitPage(page([contact('1')])).upserted).toBe(1);
    store.close();
  });

  it('translates a locked write in the other repos too', () => {
    const file = join(dir, 'locked2.db');
    const store = openStore(file, { busyTimeoutMs: 20 });
    const other = new Database(file);
    other.exec('BEGIN EXCLUSIVE');
    try {
      expect(caught(() => store.runs.start('sync', 'manual', '2024-01-01T00:00:00.000Z')).code).toBe('STORE_LOCKED');
      expect(caught(() => store.models.setMeta('k', 'v')).code).toBe('STORE_LOCKED');
    } finally {
      other.exec('ROLLBACK');
      other.close();
      store.close();
    }
  });

  it('refuses to open a store while another process holds an exclusive lock on a fresh file', () => {
    const file = join(dir, 'fresh-locked.db');
    const other = new Database(file);
    other.pragma('journal_mode = WAL');
    other.exec('BEGIN EXCLUSIVE');
    other.exec('CREATE TABLE IF NOT EXISTS x (a)');
    try {
      const e = caught(() => openStore(file, { busyTimeoutMs: 20 }));
      // the migration cannot take the write lock: a user error, never a raw SqliteError
      expect(e.code).toBe('STORE_LOCKED');
      expect(e.exitCode).toBe(ExitCode.locked);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });
});
