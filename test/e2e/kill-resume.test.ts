/**
 * Invariant 1: a page and its checkpoint commit together. SIGKILL a sync of a
 * large CSV at several points, run it again, and the store must equal the one an
 * uninterrupted sync builds: nothing lost, nothing duplicated.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { cli, cliAsync, tempProject, writeCsvConfig } from './helpers.js';

type Snapshot = Record<string, unknown[]>;

/** Pages small enough that every kill point falls between commits (the CSV defaults make a few big pages). */
const PAGES = 'sync: { pageSize: 1000 }';

function snapshot(dbFile: string): Snapshot {
  const db = new Database(dbFile, { readonly: true });
  try {
    const all = (sql: string, ...params: unknown[]): unknown[] => db.prepare(sql).raw().all(...params);
    return {
      contacts: all('SELECT * FROM contacts ORDER BY id'),
      transactions: all('SELECT * FROM transactions ORDER BY id'),
      customers: all('SELECT * FROM customers ORDER BY id'),
      // locations name the file by its absolute path; the two stores live in different directories
      quarantine: all(
        "SELECT connector, stream, external_id, replace(location, ?, '') AS loc, reason, payload FROM quarantine ORDER BY connector, stream, loc, reason",
        dirname(dbFile),
      ),
      cursors: all("SELECT connector, stream, json_remove(cursor, '$.fingerprint') FROM sync_state ORDER BY 1, 2"),
    };
  } finally {
    db.close();
  }
}

/** Offset of the transactions checkpoint, read while the sync runs (WAL lets us). */
function progress(dbFile: string): { stream: string; offset: number } | undefined {
  try {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT stream, json_extract(cursor, '$.offset') AS offset FROM sync_state").all() as { stream: string; offset: number }[];
      return rows.find((r) => r.stream === 'transactions') ?? rows.find((r) => r.stream === 'contacts');
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

async function killDuringSync(dir: string, stream: string, atOffset: number): Promise<boolean> {
  const child = cliAsync(['sync'], { cwd: dir });
  const dbFile = join(dir, 'store.db');
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let killed = false;
  for (let i = 0; i < 2000 && child.exitCode === null; i++) {
    const p = progress(dbFile);
    if (p && (p.stream === stream || p.stream === 'transactions') && p.offset >= atOffset) {
      child.kill('SIGKILL');
      killed = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await exited;
  return killed;
}

describe('SIGKILL during sync, then rerun', () => {
  const source = tempProject('segsync-kill-src-');
  let reference: Snapshot;
  let txSize = 0;
  let contactsSize = 0;

  beforeAll(() => {
    const g = cli(['demo', 'generate', '--customers', '6000', '--out', join(source, 'data')], { cwd: source });
    expect(g.code, g.stderr).toBe(0);
    txSize = statSync(join(source, 'data/transactions.csv')).size;
    contactsSize = statSync(join(source, 'data/contacts.csv')).size;
    const ref = tempProject('segsync-kill-ref-');
    writeCsvConfig(ref, PAGES);
    cpSync(join(source, 'data'), join(ref, 'data'), { recursive: true, preserveTimestamps: true });
    const r = cli(['sync'], { cwd: ref });
    expect(r.code, r.stderr).toBe(0);
    reference = snapshot(join(ref, 'store.db'));
    expect((reference.transactions ?? []).length).toBeGreaterThan(50_000);
  }, 120_000);

  const points: [string, number][] = [
    ['contacts', 0.3],
    ['transactions', 0.05],
    ['transactions', 0.45],
    ['transactions', 0.9],
  ];
  for (const [stream, share] of points) {
    it(`killed at ${share * 100}% of ${stream}: the rerun gives the same store`, async () => {
      const dir = tempProject('segsync-kill-');
      writeCsvConfig(dir, PAGES);
      mkdirSync(join(dir, 'data'));
      cpSync(join(source, 'data'), join(dir, 'data'), { recursive: true, preserveTimestamps: true });
      const size = stream === 'contacts' ? contactsSize : txSize;
      const killed = await killDuringSync(dir, stream, Math.floor(size * share));
      expect(killed, 'the sync finished before the kill point; make the data set larger').toBe(true);
      const before = snapshot(join(dir, 'store.db'));
      expect((before.transactions ?? []).length).toBeLessThan((reference.transactions ?? []).length);
      const r = cli(['sync'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const after = snapshot(join(dir, 'store.db'));
      for (const table of Object.keys(reference)) {
        expect(after[table]?.length, table).toBe(reference[table]?.length);
        expect(after[table], table).toEqual(reference[table]);
      }
    }, 120_000);
  }
});
