/** Opens (or creates) the SQLite store: WAL, migrations, and clear errors for foreign or locked files. */
import Database from 'better-sqlite3';
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode, UserError } from '../core/errors.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './migrations.js';

export type Db = Database.Database;

function sqliteCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

export function translateSqliteError(e: unknown, file: string): unknown {
  const code = sqliteCode(e);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new UserError('STORE_NOT_SEGSYNC', 'is not a segsync store (not an SQLite database)', {
      where: { file },
      exitCode: ExitCode.usage,
      hint: 'point `store:` in the config at a new file, or move this one away',
      cause: e,
    });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new UserError('STORE_LOCKED', 'the store is locked by another process', {
      where: { file },
      exitCode: ExitCode.locked,
      hint: 'wait for the other segsync process to finish, then try again',
      cause: e,
    });
  }
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_FULL' || code === 'SQLITE_IOERR' || code?.startsWith('SQLITE_IOERR')) {
    return new UserError('STORE_IO', `cannot write the store (${code})`, {
      where: { file },
      hint: code === 'SQLITE_FULL' ? 'free disk space, then run again' : 'check the file and directory permissions and free space',
      cause: e,
    });
  }
  return e;
}

export interface OpenOptions {
  readonly?: boolean;
  /** How long to wait for another writer before failing with STORE_LOCKED. */
  busyTimeoutMs?: number;
}

export function openDb(file: string, opts: OpenOptions = {}): Db {
  if (file !== ':memory:') {
    if (existsSync(file) && statSync(file).isDirectory()) {
      throw new UserError('STORE_NOT_SEGSYNC', 'is a directory, not a segsync store', { where: { file }, exitCode: ExitCode.usage });
    }
    if (!opts.readonly) mkdirSync(dirname(file), { recursive: true });
  }
  let db: Db | undefined;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) {
      throw new UserError('STORE_NOT_SEGSYNC', 'is an SQLite database but not a segsync store', {
        where: { file },
        exitCode: ExitCode.usage,
        hint: 'point `store:` in the config at a new file',
      });
    }
    if (version > SCHEMA_VERSION) {
      throw new UserError('STORE_TOO_NEW', `store schema version ${version} is newer than this segsync supports (${SCHEMA_VERSION})`, {
        where: { file },
        exitCode: ExitCode.usage,
        hint: 'upgrade segsync',
      });
    }
    if (!opts.readonly) {
      if (file !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // checkpoint the WAL every ~400 MB rather than every 4 MB: a bulk sync rewrites the same
      // index pages commit after commit, and a checkpoint writes (and syncs) each page once
      // however often it changed since the last one. With the cache below, syncing 1M contacts
      // (three indexes on random keys) went from 119 s to 84 s and 10M transactions from 181 s
      // to 134 s. The WAL is reset after each checkpoint and truncated when a command ends.
      db.pragma('wal_autocheckpoint = 100000');
      db.pragma('foreign_keys = ON');
      migrate(db, version);
    }
    // 256 MB, so the random-key indexes of a 1M-customer store (customers by id and by
    // identity, contacts by customer: ~120 MB) stay in memory while a sync inserts into them
    db.pragma('cache_size = -262144');
    db.pragma('temp_store = MEMORY');
    return db;
  } catch (e) {
    db?.close();
    throw translateSqliteError(e, file);
  }
}

function migrate(db: Db, from: number): void {
  for (const m of MIGRATIONS) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
