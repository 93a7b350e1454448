/**
 * The pages the CSV streams hand the sync engine: mapped records (packed to cross
 * the thread boundary, then unpacked), their file:line locations, rejections and
 * checkpoints. The inline path (TypeScript sources, this thread) must equal plain
 * read + map, and the worker path (compiled dist, a worker thread, as the CLI runs
 * it) must equal the inline path, page for page — errors included.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { csvConfigSchema } from '../../../connectors/csv/config.js';
import { mapContact, mapTransaction } from '../../../connectors/csv/map.js';
import type * as inlineModule from '../../../connectors/csv/parsed-pages.js';
import { mapPagesInline, readRows, type CsvStreamName, type ParsedPagesOptions } from '../../../connectors/csv/parsed-pages.js';
import { readCsvPages, type CsvCheckpoint, type CsvRow } from '../../../connectors/csv/read.js';
import { UserError } from '../../../src/core/errors.js';
import type { Page } from '../../../src/connector/contract.js';

/** The compiled module has the same shape as the source one. */
type ParsedPagesModule = typeof inlineModule;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segsync-csv-pages-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const CONTACTS = [
  '\uFEFFid,email,first_name,last_name,company,country,lifecycle_stage,created_at,updated_at,num_visits,plan,notes',
  'c1,Ann@Example.com,Ann,Lee,"Smith, Jones & Partners",UK,Customer,2024-01-02,2024-03-04T05:06:07Z,12,gold,',
  '',
  'c2,not-an-email,Bob,,,US,lead,2024-01-02,,3,,"two',
  'lines"',
  'c3,c3@example.com,Cé,"The ""Good"" Co",,Atlantis,,2024-01-02,,,,',
  ',nobody@example.com,,,,,,,,,,',
  'c5,c5@example.com,Eve,Ng,,de,customer,2025-02-30,,x,y,z',
  'c6,c6@example.com\r',
  'c7,c7@example.com,Zoë,Å,中文,FR,,2024-05-06,2024-05-07,1.5,-2,"a\r\nb"',
  'c8,c8@example.com,,,,,,,,007,1e3,',
].join('\n');

const TRANSACTIONS = [
  'id,contact_id,amount,currency,occurred_at,status,channel',
  't1,c1,10.50,usd,2025-03-01T10:00:00Z,won,web',
  't2,c1,N/A,USD,2025-03-02T10:00:00Z,won,web',
  '',
  '',
  't3,c9,"1,234.50",EUR,2025-03-02,Closed Won,"shop\nfloor"',
  't4,c5,7,,2025-03-03 12:00,refunded,',
  't5,,5,USD,2025-03-03,won,x',
  't6,c1,5,US$,2025-03-03,won,x',
  't7,c1,5,USD,2025-13-03,won,x',
  't8,c1,5,USD,2025-03-03,maybe,x',
  't9,c1,5,USD,2025-03-03,constructor,x',
  't10,c1,-3,USD,1735689600000,lost,\r',
  't11,c1,4',
].join('\n');

function options(stream: CsvStreamName, file: string, pageSize: number, from?: CsvCheckpoint): ParsedPagesOptions {
  return {
    stream,
    file,
    label: stream,
    pageSize,
    from,
    full: false,
    connector: 'files',
    config: csvConfigSchema.parse({ name: 'files', type: 'csv', contacts: 'contacts.csv', defaultCurrency: 'GBP' }),
  };
}

async function collect(pages: AsyncIterable<Page>): Promise<{ pages: Page[]; error?: unknown }> {
  const out: Page[] = [];
  try {
    for await (const p of pages) out.push(p);
    return { pages: out };
  } catch (error) {
    return { pages: out, error };
  }
}

const inline = (o: ParsedPagesOptions): Promise<{ pages: Page[]; error?: unknown }> => collect(mapPagesInline(o, new AbortController().signal));

const files: [string, CsvStreamName, string][] = [
  ['contacts', 'contacts', CONTACTS],
  ['contacts, CRLF', 'contacts', CONTACTS.replace(/\r?\n/g, '\r\n')],
  ['transactions', 'transactions', TRANSACTIONS],
  ['transactions, CRLF, no final line feed', 'transactions', TRANSACTIONS.replace(/\r?\n/g, '\r\n').replace(/\r\n$/, '')],
  ['transactions with a quote never closed', 'transactions', `${TRANSACTIONS}\nt12,c1,"5,USD,2025-03-03,won,x\nt13,c1,5,USD,2025-03-03,won,x\n`],
];

describe('CSV pages, inline (this thread)', () => {
  for (const [name, stream, text] of files) {
    it(`equal read + map, with file:line locations (${name})`, async () => {
      const f = join(dir, `${name.replace(/\W+/g, '-')}.csv`);
      writeFileSync(f, text);
      for (const pageSize of [1, 2, 5, 100]) {
        const o = options(stream, f, pageSize);
        const got = await inline(o);
        const map = stream === 'contacts' ? mapContact : mapTransaction;
        const raw = await collect(readCsvPages({ ...o, delimiter: ',', signal: new AbortController().signal }));
        const want = raw.pages.map((p) => ({ records: (p.records as CsvRow[]).map((r) => map(r, 'files', o.config)), checkpoint: p.checkpoint }));
        expect(got.pages).toEqual(want);
        expect(got.error).toEqual(raw.error);
        for (const p of got.pages) {
          for (const r of p.records as { ok: boolean; location?: string; rejected?: { location?: string } }[]) {
            expect(r.ok ? r.location : r.rejected?.location).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+$`));
          }
        }
      }
    });
  }

  it('packs a page bigger than a read from several reads, with the same pages as one read per page', async () => {
    const f = join(dir, 'big.csv');
    const rows = Array.from({ length: 12_345 }, (_, i) => (i % 1000 === 7 ? `t${i},c1,N/A,USD,2025-03-01,won,"x\ny"` : `t${i},c${i % 50},${i}.25,USD,2025-03-01T10:00:00Z,won,web`));
    writeFileSync(f, `${TRANSACTIONS.split('\n')[0]}\n${rows.join('\n')}\n`);
    expect(readRows(10_000)).toBe(5_000);
    expect(readRows(9_999)).toBe(3_333);
    expect(readRows(10_007)).toBe(10_007);
    for (const pageSize of [10_000, 6_000]) {
      const o = options('transactions', f, pageSize);
      const got = await inline(o);
      const raw = await collect(readCsvPages({ ...o, delimiter: ',', signal: new AbortController().signal }));
      expect(got.pages.map((p) => p.records.length)).toEqual(raw.pages.map((p) => p.records.length));
      expect(got.pages).toEqual(raw.pages.map((p) => ({ records: (p.records as CsvRow[]).map((r) => mapTransaction(r, 'files', o.config)), checkpoint: p.checkpoint })));
    }
  });

  it('names rows by the line they start on, and checkpoints the next one', async () => {
    const f = join(dir, 'lines.csv');
    writeFileSync(f, TRANSACTIONS);
    const { pages } = await inline(options('transactions', f, 3));
    const locations = pages.flatMap((p) => (p.records as { ok: boolean; location?: string; rejected?: { location?: string } }[]).map((r) => (r.ok ? r.location : r.rejected?.location)?.slice(f.length + 1)));
    expect(locations).toEqual(['2', '3', '6', '8', '9', '10', '11', '12', '13', '14', '15']);
    expect(pages.map((p) => (p.checkpoint as unknown as CsvCheckpoint).line)).toEqual([8, 11, 14, 16]);
    expect(pages.map((p) => (p.checkpoint as unknown as CsvCheckpoint).done)).toEqual([false, false, false, true]);
    const rejected = pages.flatMap((p) => p.records as { ok: boolean; rejected?: { reason: string } }[]).filter((r) => !r.ok);
    expect(rejected.map((r) => r.rejected?.reason.split(':')[0])).toEqual([
      'bad amount',
      'missing contact_id',
      'bad currency',
      'bad date',
      'bad status',
      'bad status',
      'wrong column count',
    ]);
  });

  it('resumes from each checkpoint with exactly the remaining records', async () => {
    const f = join(dir, 'resume.csv');
    writeFileSync(f, CONTACTS);
    const all = (await inline(options('contacts', f, 2))).pages;
    for (let i = 0; i < all.length - 1; i++) {
      const rest = await inline(options('contacts', f, 2, all[i]!.checkpoint as unknown as CsvCheckpoint));
      expect(rest.pages).toEqual(all.slice(i + 1));
    }
  });
});

describe('CSV pages, worker thread (compiled dist) against inline', () => {
  const dist = resolve(import.meta.dirname, '../../../dist/connectors/csv/parsed-pages.js');
  let worker: ParsedPagesModule;
  beforeAll(async () => {
    // test/global-setup.ts builds dist when it is missing; run `npm run build` after changing the sources
    expect(existsSync(dist), `${dist} missing: run npm run build`).toBe(true);
    worker = (await import(pathToFileURL(dist).href)) as ParsedPagesModule;
  });

  for (const [name, stream, text] of files) {
    it(`yields the same pages, rejections and errors (${name})`, async () => {
      const f = join(dir, `w-${name.replace(/\W+/g, '-')}.csv`);
      writeFileSync(f, text);
      for (const pageSize of [1, 3, 100]) {
        const o = options(stream, f, pageSize);
        const viaWorker = await collect(worker.parsedPages(o, new AbortController().signal));
        const here = await inline(o);
        expect(viaWorker.pages).toEqual(here.pages);
        if (here.error === undefined) expect(viaWorker.error).toBeUndefined();
        else {
          expect(viaWorker.error).toBeInstanceOf(Error);
          expect(here.error).toBeInstanceOf(UserError);
          const [a, b] = [viaWorker.error as UserError, here.error as UserError];
          expect({ name: a.name, code: a.code, message: a.message, where: a.where, hint: a.hint }).toEqual({
            name: b.name,
            code: b.code,
            message: b.message,
            where: b.where,
            hint: b.hint,
          });
        }
      }
    });
  }

  it('stops quietly between pages on abort (no "thread exited" error)', async () => {
    const f = join(dir, 'abort.csv');
    const rows = Array.from({ length: 3000 }, (_, i) => `t${i},c1,${i}.5,USD,2025-03-01T10:00:00Z,won,web`);
    writeFileSync(f, `${TRANSACTIONS.split('\n')[0]}\n${rows.join('\n')}\n`);
    for (const abortAfter of [0, 1, 2]) {
      const ac = new AbortController();
      const seen: Page[] = [];
      const { error } = await collect(
        (async function* () {
          for await (const p of worker.parsedPages(options('transactions', f, 100), ac.signal)) {
            seen.push(p);
            if (seen.length > abortAfter) {
              ac.abort();
              // the terminated thread's exit lands while the consumer is busy
              await new Promise((r) => setTimeout(r, 50));
            }
            yield p;
          }
        })(),
      );
      expect(error).toBeUndefined();
      expect(seen.length).toBe(abortAfter + 1);
    }
  });

  it('runs on a worker thread and reports progress in bytes', async () => {
    const f = join(dir, 'progress.csv');
    writeFileSync(f, TRANSACTIONS);
    const seen: [number, number | undefined][] = [];
    const { pages } = await collect(worker.parsedPages(options('transactions', f, 4), new AbortController().signal, (d, t) => seen.push([d, t])));
    expect(pages.length).toBe(3);
    expect(seen.at(-1)).toEqual([Buffer.byteLength(TRANSACTIONS), Buffer.byteLength(TRANSACTIONS)]);
  });
});
