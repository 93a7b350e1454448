/**
 * Fuzzing the CSV connector end to end (read, parse, map, commit into a real
 * store): any contacts.csv / transactions.csv ends in a clean sync — every row
 * read is stored or quarantined — or in a UserError with a stable code, never a
 * crash. Well-formed files with hostile cell values round-trip exactly.
 * Seeded and bounded (FUZZ_SEED / FUZZ_RUNS explore further, see params.ts).
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import csv from '../../connectors/csv/index.js';
import { csvConfigSchema } from '../../connectors/csv/config.js';
import { syncConnector, type StreamCounts } from '../../src/sync/engine.js';
import { openStore, type Store } from '../../src/store/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { noProgress } from '../../src/core/progress.js';
import { createRetryPolicy } from '../../src/connector/retry.js';
import { UserError, type ErrorCode } from '../../src/core/errors.js';
import type { AnyConnector } from '../../src/connector/contract.js';
import { fuzzParams } from './params.js';

/** The built connector: what the CLI runs, parsing on a worker thread (the sources run the same code inline). */
const BUILT_CSV = join(import.meta.dirname, '../../dist/connectors/csv/index.js');

/** The codes a bad CSV file may end in. */
const CSV_CODES: readonly ErrorCode[] = ['INPUT_INVALID', 'INPUT_NOT_FOUND'];

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'segsync-fuzz-csv-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

interface Outcome {
  counts?: StreamCounts[];
  error?: ErrorCode;
  /** the connector name this sync used (one per sync: syncs share a store) */
  connector: string;
  runId: number;
}

/** One store per test, opened once (opening one per case would dominate the run time). */
let store: Store;
let storeDir: string;
function freshStore(): void {
  storeDir = join(root, `store-${n++}`);
  store = openStore(join(storeDir, 'store.db'));
}
afterEach(() => {
  store?.close();
});

/** One sync of the files, under a connector name of its own; a non-user error fails the property. */
async function syncFiles(
  contacts: string | Uint8Array,
  transactions: string | Uint8Array | undefined,
  settings: Record<string, unknown> = {},
  pageSize = 7,
  connector: AnyConnector = csv,
): Promise<Outcome> {
  const name = `f${n++}`;
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'contacts.csv'), contacts);
  if (transactions !== undefined) writeFileSync(join(dir, 'transactions.csv'), transactions);
  const cfg = csvConfigSchema.parse({
    name,
    type: 'csv',
    contacts: 'contacts.csv',
    ...(transactions !== undefined ? { transactions: 'transactions.csv' } : {}),
    ...settings,
  });
  const runId = store.runs.start('sync', 'manual', new Date().toISOString());
  try {
    const counts = await syncConnector(
      {
        store,
        logger: silentLogger(),
        progress: noProgress,
        retry: createRetryPolicy({ sleep: async () => {} }),
        baseDir: dir,
        pageSize,
        now: () => new Date('2026-07-01T00:00:00Z'),
      },
      connector,
      { name, type: 'csv', settings: cfg },
      { runId, full: false, signal: new AbortController().signal },
    );
    return { counts, connector: name, runId };
  } catch (e) {
    // the built connector throws the built UserError class: recognised by its shape
    const user = e instanceof UserError || (e instanceof Error && e.name === 'UserError');
    if (!user) {
      throw new Error(`not a user error: ${String(e)}\ncontacts: ${JSON.stringify(String(contacts).slice(0, 400))}`, { cause: e });
    }
    const u = e as UserError;
    expect(CSV_CODES).toContain(u.code);
    expect(u.oneLine()).not.toMatch(/\n\s+at /);
    return { error: u.code, connector: name, runId };
  }
}

interface StoredContact {
  id: string;
  first_name: string | null;
  company: string | null;
  properties: string;
}

/** Reads the store file straight, as a user's SQLite browser would. */
function query<T>(sql: string, ...args: unknown[]): T[] {
  const db = new Database(join(storeDir, 'store.db'), { readonly: true });
  try {
    return db.prepare<unknown[], T>(sql).all(...args);
  } finally {
    db.close();
  }
}

function storedContacts(connector: string): Map<string, StoredContact> {
  return new Map(query<StoredContact>('SELECT id, first_name, company, properties FROM contacts WHERE connector = ?', connector).map((r) => [r.id, r]));
}

/** Every row read was stored or quarantined, and the store agrees with the counts. */
function checkAccounting(o: Outcome): void {
  if (!o.counts) return;
  for (const c of o.counts) expect(c.upserted + c.quarantined, `${c.stream}: read ${c.read}`).toBe(c.read);
  const quarantined = o.counts.reduce((a, c) => a + c.quarantined, 0);
  expect(query<{ n: number }>('SELECT COUNT(*) AS n FROM quarantine WHERE run_id = ?', o.runId)[0]?.n).toBe(quarantined);
  const contacts = o.counts.find((c) => c.stream === 'contacts');
  const rows = query<{ n: number }>('SELECT COUNT(*) AS n FROM contacts WHERE connector = ?', o.connector)[0]?.n ?? 0;
  expect(rows).toBeLessThanOrEqual(contacts?.upserted ?? 0);
}

const HOSTILE = [
  '', ' ', '"', '""', '"a,b"', 'a"b', '\n', '\r\n', '\r', ',', ';', '\t', '\u0000', '\uFEFF', '\u2028', 'ä', '🙂', 'x'.repeat(300),
  "=cmd|' /C calc'!A0", '+1+1', '-2+3', '@SUM(A1)', '\t=1+1', '\r=1+1', "Robert'); DROP TABLE contacts;--", "' OR 1=1 --",
  'a@b.co', 'A@B.CO ', 'not-an-email', 'a@b', '2026-02-29', '2024-02-29', '2026-13-01', '1700000000000', 'NaN', '1e999', '-0',
  '1,234.50', '0042', 'DE', 'Germany', 'Atlantis', 'won', 'Closed Won', 'refund', 'EUR', 'eu', 'null', 'undefined', '__proto__',
];
const cellArb = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }));
const CONTACT_HEADERS = ['id', 'email', 'first_name', 'last_name', 'company', 'country', 'lifecycle_stage', 'created_at', 'updated_at', 'visits', 'id2', ''];
const TX_HEADERS = ['id', 'contact_id', 'amount', 'currency', 'occurred_at', 'status', 'note', ''];

/** A cell as a CSV writer would write it (quoted when needed) or raw (maybe breaking the row). */
const encode = (v: string, quote: boolean): string => (quote || /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function fileArb(headers: string[]): fc.Arbitrary<string> {
  return fc
    .record({
      header: fc.shuffledSubarray(headers, { minLength: 1 }),
      rows: fc.array(fc.array(fc.tuple(cellArb, fc.boolean()), { maxLength: 12 }), { maxLength: 25 }),
      raw: fc.boolean(),
      eol: fc.constantFrom('\n', '\r\n', '\r'),
      bom: fc.boolean(),
      trailing: fc.boolean(),
    })
    .map(({ header, rows, raw, eol, bom, trailing }) => {
      const line = (cells: [string, boolean][]): string => cells.map(([v, q]) => (raw ? v : encode(v, q))).join(',');
      const text = [header.join(','), ...rows.map(line)].join(eol) + (trailing ? eol : '');
      return bom ? `\uFEFF${text}` : text;
    });
}

/** Ids 1..n so that some transactions find their contact. */
function withIds(text: string): string {
  let i = 0;
  return text.replace(/^/gm, () => (i++ === 0 ? '' : `${i - 1}`));
}

describe('CSV connector fuzz', () => {
  it('arbitrary bytes as contacts.csv: a clean sync or an input error', async () => {
    freshStore();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
        const o = await syncFiles(bytes, undefined);
        checkAccounting(o);
      }),
      fuzzParams(8201, 120),
    );
  });

  it('through the worker thread of the built connector: a clean sync or an input error', async () => {
    freshStore();
    const built = ((await import(pathToFileURL(BUILT_CSV).href)) as { default: AnyConnector }).default;
    const codes = new Set<string>();
    await fc.assert(
      // a worker per file costs a module load: few cases, contacts only
      fc.asyncProperty(fc.oneof(fileArb(CONTACT_HEADERS), fc.uint8Array({ maxLength: 400 })), async (contacts) => {
        const o = await syncFiles(typeof contacts === 'string' ? withIds(contacts) : contacts, undefined, {}, 5, built);
        codes.add(o.error ?? 'ok');
        checkAccounting(o);
      }),
      fuzzParams(8205, 12),
    );
    expect(codes.has('ok')).toBe(true);
  });

  it('CSV-shaped files with hostile cells, broken quoting, odd line ends: every row stored or quarantined', async () => {
    freshStore();
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fileArb(CONTACT_HEADERS),
        fileArb(TX_HEADERS),
        fc.boolean(),
        fc.integer({ min: 1, max: 9 }),
        async (contacts, txs, ids, pageSize) => {
          const o = await syncFiles(ids ? withIds(contacts) : contacts, ids ? withIds(txs) : txs, {}, pageSize);
          codes.add(o.error ?? 'ok');
          checkAccounting(o);
        },
      ),
      fuzzParams(8202, 150),
    );
    expect(codes.has('ok')).toBe(true);
  });

  it('odd connector settings (delimiters, renamed columns, currencies) never crash', async () => {
    freshStore();
    await fc.assert(
      fc.asyncProperty(
        fileArb(CONTACT_HEADERS),
        fc.constantFrom(',', ';', '\t', '|', '"', ' ', 'a', '\n', '\r', '#', "'", '\\'),
        fc.option(fc.record({ id: fc.constantFrom('id', 'id2', 'email', 'nope', '') }), { nil: undefined }),
        async (contacts, delimiter, rename) => {
          const settings: Record<string, unknown> = { delimiter };
          if (rename && rename.id !== '') settings.columns = { contacts: rename };
          const o = await syncFiles(contacts, undefined, settings);
          checkAccounting(o);
        },
      ),
      fuzzParams(8203, 120),
    );
  });

  it('well-formed files: names, companies and properties (formulas and SQL included) are stored exactly as written, trimmed', async () => {
    freshStore();
    const value = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 16 }), fc.string({ unit: 'grapheme', maxLength: 8 }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(value, value, value), { minLength: 1, maxLength: 20 }), async (rows) => {
        const text = ['id,first_name,company,note', ...rows.map(([a, b, c], i) => [`c${i}`, a, b, c].map((v) => encode(v, true)).join(','))].join('\n');
        const o = await syncFiles(`${text}\n`, undefined);
        expect(o.error).toBeUndefined();
        const stored = storedContacts(o.connector);
        for (const [i, [first, company, note]] of rows.entries()) {
          const got = stored.get(`${o.connector}:c${i}`);
          expect(got, `row ${i}`).toBeDefined();
          expect(got?.first_name ?? '').toBe(first.trim());
          expect(got?.company ?? '').toBe(company.trim());
          const p = (JSON.parse(got?.properties ?? '{}') as Record<string, unknown>).note;
          expect(p === null ? '' : String(p)).toBe(typeof p === 'number' ? String(Number(note.trim())) : note.trim());
        }
      }),
      fuzzParams(8204, 100),
    );
  });
});
