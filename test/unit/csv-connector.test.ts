import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsvPages, type CsvCheckpoint, type CsvRow } from '../../connectors/csv/read.js';
import { mapContact, mapTransaction } from '../../connectors/csv/map.js';
import { csvConfigSchema, type CsvConfig } from '../../connectors/csv/config.js';
import { UserError } from '../../src/core/errors.js';
import type { Page } from '../../src/connector/contract.js';
import type { Contact, ParseResult, Rejected, Transaction } from '../../src/core/records.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'segsync-csv-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

async function read(
  f: string,
  opts: { from?: CsvCheckpoint; full?: boolean; pageSize?: number; signal?: AbortSignal } = {},
): Promise<Page[]> {
  const pages: Page[] = [];
  for await (const p of readCsvPages({
    file: f,
    label: 'contacts',
    delimiter: ',',
    pageSize: opts.pageSize ?? 2,
    from: opts.from,
    full: opts.full ?? false,
    signal: opts.signal ?? new AbortController().signal,
  })) {
    pages.push(p);
  }
  return pages;
}

const rows = (pages: Page[]): CsvRow[] => pages.flatMap((p) => p.records as CsvRow[]);
const lines = (pages: Page[]): [number, string][] => rows(pages).map((r) => [r.line, r.cells[0] ?? '']);
const cp = (p: Page | undefined): CsvCheckpoint => p!.checkpoint as unknown as CsvCheckpoint;
const last = (pages: Page[]): CsvCheckpoint => cp(pages[pages.length - 1]);

describe('readCsvPages', () => {
  it('pages rows with their line numbers and a byte-offset checkpoint', async () => {
    const text = 'id,email\n1,a@x.com\n2,b@x.com\n3,c@x.com\n';
    const f = file('c.csv', text);
    const pages = await read(f);
    expect(pages.map((p) => p.records.length)).toEqual([2, 1]);
    expect(lines(pages)).toEqual([
      [2, '1'],
      [3, '2'],
      [4, '3'],
    ]);
    const first = rows(pages)[0]!;
    expect(first).toMatchObject({ file: f, header: ['id', 'email'], cells: ['1', 'a@x.com'] });
    // after two rows: the offset is the start of row 3, the line is 4
    expect(cp(pages[0])).toMatchObject({ offset: Buffer.byteLength('id,email\n1,a@x.com\n2,b@x.com\n'), line: 4, done: false });
    expect(last(pages)).toMatchObject({ offset: Buffer.byteLength(text), line: 5, done: true });
    expect(JSON.parse(last(pages).header)).toEqual(['id', 'email']);
  });

  it('ends with an empty done page when the rows fill the last page exactly', async () => {
    const pages = await read(file('c.csv', 'id\n1\n2\n'));
    expect(pages.map((p) => p.records.length)).toEqual([2, 0]);
    expect(pages.map((p) => cp(p).done)).toEqual([false, true]);
  });

  it('gives a row with a quoted cell spanning two lines the line it starts on', async () => {
    const pages = await read(file('c.csv', 'id,note\n1,plain\n2,"first\nsecond"\n3,after\n'));
    expect(lines(pages)).toEqual([
      [2, '1'],
      [3, '2'],
      [5, '3'],
    ]);
    expect(rows(pages)[1]!.cells[1]).toBe('first\nsecond');
    expect(cp(pages[0]).line).toBe(5);
  });

  it('counts lines in a CRLF file', async () => {
    const text = 'id,email\r\n1,a@x.com\r\n2,b@x.com\r\n3,c@x.com\r\n';
    const pages = await read(file('c.csv', text));
    expect(lines(pages)).toEqual([
      [2, '1'],
      [3, '2'],
      [4, '3'],
    ]);
    expect(rows(pages)[0]!.cells).toEqual(['1', 'a@x.com']);
    expect(cp(pages[0])).toMatchObject({ offset: Buffer.byteLength('id,email\r\n1,a@x.com\r\n2,b@x.com\r\n'), line: 4 });
  });

  // BUG (connectors/csv/read.ts): csv-parse counts a CRLF inside a quoted cell as two lines
  // (info.lines), while the code subtracts one per "\n" in the cell; that row and every later row
  // (and the checkpoint's line) are one line too far per embedded CRLF.
  it('gives correct lines in a CRLF file with a quoted cell spanning two lines', async () => {
    const pages = await read(file('c.csv', 'id,note\r\n1,plain\r\n2,"first\r\nsecond"\r\n3,after\r\n'));
    expect(lines(pages)).toEqual([
      [2, '1'],
      [3, '2'],
      [5, '3'],
    ]);
  });

  it('strips a UTF-8 BOM from the header and skips blank lines without losing the numbering', async () => {
    const text = '\uFEFFid,email\n1,a@x.com\n\n3,c@x.com';
    const pages = await read(file('c.csv', text));
    expect(rows(pages)[0]!.header).toEqual(['id', 'email']);
    expect(lines(pages)).toEqual([
      [2, '1'],
      [4, '3'],
    ]);
    expect(last(pages)).toMatchObject({ offset: Buffer.byteLength(text), done: true });
  });

  it('counts bytes, not characters, in the offset', async () => {
    const text = 'id,name\n1,Jürgen\n2,Zoë\n3,Ådne\n';
    const f = file('c.csv', text);
    const pages = await read(f);
    expect(cp(pages[0]).offset).toBe(Buffer.byteLength('id,name\n1,Jürgen\n2,Zoë\n'));
    const rest = await read(f, { from: cp(pages[0]) });
    expect(rows(rest).map((r) => r.cells)).toEqual([['3', 'Ådne']]);
  });

  it('resumes from a mid-file checkpoint with exactly the remaining rows', async () => {
    const f = file('c.csv', 'id,note\n1,a\n2,"x\ny"\n3,c\n4,d\n5,e\n');
    const all = await read(f);
    const resumed = await read(f, { from: cp(all[0]) });
    expect(lines(resumed)).toEqual([
      [5, '3'],
      [6, '4'],
      [7, '5'],
    ]);
    expect(lines(resumed)).toEqual(lines(all).slice(2));
    expect(last(resumed)).toEqual(last(all));
    // a checkpoint from the second page
    expect(lines(await read(f, { from: cp(all[1]) }))).toEqual([[7, '5']]);
  });

  it('yields nothing for an unchanged file with a done checkpoint, and everything with full', async () => {
    const f = file('c.csv', 'id\n1\n2\n3\n');
    const first = await read(f);
    expect(last(first).done).toBe(true);
    expect(await read(f, { from: last(first) })).toEqual([]);
    const again = await read(f, { from: last(first), full: true });
    expect(lines(again)).toEqual(lines(first));
  });

  it('re-reads from the start when the file changed since the checkpoint', async () => {
    const f = file('c.csv', 'id\n1\n2\n');
    const first = await read(f);
    appendFileSync(f, '3\n');
    utimesSync(f, new Date(), new Date(Date.now() + 5_000));
    const again = await read(f, { from: last(first) });
    expect(lines(again)).toEqual([
      [2, '1'],
      [3, '2'],
      [4, '3'],
    ]);
    expect(last(again).fingerprint).not.toBe(last(first).fingerprint);
  });

  it('reads a header-only file as one empty done page', async () => {
    for (const text of ['id,email\n', 'id,email', 'id,email\r\n']) {
      const pages = await read(file('c.csv', text));
      expect(pages).toHaveLength(1);
      expect(pages[0]!.records).toEqual([]);
      expect(cp(pages[0])).toMatchObject({ done: true, offset: Buffer.byteLength(text) });
      expect(JSON.parse(cp(pages[0]).header)).toEqual(['id', 'email']);
    }
  });

  it('never marks an aborted read as done', async () => {
    const f = file('c.csv', 'id\n1\n2\n3\n4\n5\n');
    const ac = new AbortController();
    const pages: Page[] = [];
    for await (const p of readCsvPages({ file: f, label: 'contacts', delimiter: ',', pageSize: 2, from: undefined, full: false, signal: ac.signal })) {
      pages.push(p);
      ac.abort();
    }
    expect(pages.length).toBeGreaterThanOrEqual(1);
    expect(rows(pages).length).toBeLessThan(5);
    expect(pages.every((p) => cp(p).done === false)).toBe(true);
    // and a resume from the last checkpoint reads the rest, nothing twice
    const rest = await read(f, { from: last(pages) });
    expect([...rows(pages), ...rows(rest)].map((r) => r.cells[0])).toEqual(['1', '2', '3', '4', '5']);
  });

  it.each([
    ['missing', undefined, 'INPUT_NOT_FOUND'],
    ['empty', '', 'INPUT_INVALID'],
    ['blank', '\n\n', 'INPUT_INVALID'],
    ['duplicate header', 'id,email,id\n1,a,2\n', 'INPUT_INVALID'],
  ])('refuses a %s file with a user error naming it', async (_name, text, code) => {
    const f = text === undefined ? join(dir, 'nope.csv') : file('bad.csv', text);
    const e = await read(f).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).code).toBe(code);
    expect((e as UserError).oneLine()).toContain(f);
  });

  it('commits the rows before a broken quote, then fails naming the file and a line', async () => {
    const f = file('c.csv', 'id,note\n1,a\n2,"never closed\n3,c\n');
    const pages: Page[] = [];
    let err: unknown;
    try {
      for await (const p of readCsvPages({ file: f, label: 'contacts', delimiter: ',', pageSize: 10, from: undefined, full: false, signal: new AbortController().signal })) {
        pages.push(p);
      }
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('INPUT_INVALID');
    expect((err as UserError).where.file).toBe(f);
    expect((err as UserError).where.line).toBeGreaterThanOrEqual(3);
    expect(lines(pages)).toEqual([[2, '1']]);
    expect(cp(pages[0]).done).toBe(false);
    expect(cp(pages[0]).line).toBe(3);
  });

  it('honours another delimiter', async () => {
    const f = file('c.csv', 'id;email\n1;a@x.com\n');
    const pages: Page[] = [];
    for await (const p of readCsvPages({ file: f, label: 'contacts', delimiter: ';', pageSize: 5, from: undefined, full: false, signal: new AbortController().signal })) {
      pages.push(p);
    }
    expect(rows(pages)[0]).toMatchObject({ header: ['id', 'email'], cells: ['1', 'a@x.com'] });
  });
});

const cfg = (extra: Record<string, unknown> = {}): CsvConfig =>
  csvConfigSchema.parse({ name: 'files', type: 'csv', contacts: 'contacts.csv', ...extra });

async function mapped<T>(
  name: string,
  text: string,
  map: (r: CsvRow, connector: string, c: CsvConfig) => ParseResult<T>,
  config = cfg(),
): Promise<{ f: string; results: ParseResult<T>[] }> {
  const f = file(name, text);
  const results = rows(await read(f, { pageSize: 100 })).map((r) => map(r, 'files', config));
  return { f, results };
}
function ok<T>(r: ParseResult<T> | undefined): T {
  if (!r || !r.ok) throw new Error(`expected a record, got ${JSON.stringify(r)}`);
  return r.record;
}
function rejected<T>(r: ParseResult<T> | undefined): Rejected {
  if (!r || r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r)}`);
  return r.rejected;
}

const CONTACT_HEADER = 'id,email,first_name,last_name,company,country,lifecycle_stage,created_at,updated_at';

describe('mapContact', () => {
  it('maps a full row to a canonical contact', async () => {
    const { results } = await mapped(
      'contacts.csv',
      `${CONTACT_HEADER}\n 42 , Ann@Example.COM ,Ann,Lee,Acme,UK,Customer,2024-01-02,2024-03-04T05:06:07+01:00\n`,
      mapContact,
    );
    expect(ok(results[0])).toEqual<Contact>({
      id: 'files:42',
      connector: 'files',
      externalId: '42',
      email: 'ann@example.com',
      firstName: 'Ann',
      lastName: 'Lee',
      company: 'Acme',
      country: 'GB',
      lifecycleStage: 'customer',
      createdAt: '2024-01-02T00:00:00.000Z',
      updatedAt: '2024-03-04T04:06:07.000Z',
      properties: {},
    });
  });

  it('leaves out empty optional fields and falls back on the other date', async () => {
    const { results } = await mapped('contacts.csv', `${CONTACT_HEADER}\n7,,,,,,,,2024-05-06\n8,,,,,,,2024-01-01,\n`, mapContact);
    const c7 = ok(results[0]);
    expect(c7.email).toBeUndefined();
    expect(c7.country).toBeUndefined();
    expect('firstName' in c7).toBe(false);
    expect(c7.createdAt).toBe('2024-05-06T00:00:00.000Z');
    expect(c7.updatedAt).toBe('2024-05-06T00:00:00.000Z');
    const c8 = ok(results[1]);
    expect(c8.updatedAt).toBe('2024-01-01T00:00:00.000Z');
  });

  it('turns extra columns into properties, numbers as numbers', async () => {
    const { results } = await mapped('contacts.csv', 'id,email,num_visits,plan,score,notes\n1,a@x.com,12,gold,-0.5,\n', mapContact);
    expect(ok(results[0]).properties).toEqual({ num_visits: 12, plan: 'gold', score: -0.5, notes: null });
  });

  it.each([
    ['bad email', '1,john@,2024-01-01', /^bad email/, 'john@'],
    ['bad date', '2,a@x.com,2025-02-30', /^bad date: created_at/, '2025-02-30'],
    ['non-ISO date', '3,a@x.com,31/12/2024', /^bad date: created_at/, '31/12/2024'],
  ])('rejects a %s with file:line and a reason naming the problem', async (_n, line, reason, value) => {
    const { f, results } = await mapped('contacts.csv', `id,email,created_at\n0,ok@x.com,2024-01-01\n${line}\n`, mapContact);
    expect(results[0]!.ok).toBe(true);
    const r = rejected(results[1]);
    expect(r.location).toBe(`${f}:3`);
    expect(r.reason).toMatch(reason);
    expect(r.reason).toContain(value);
    expect(r.externalId).toBe(line.split(',')[0]);
    expect(r.payload).toMatchObject({ id: line.split(',')[0] });
  });

  it('rejects an unknown country', async () => {
    const { f, results } = await mapped('contacts.csv', 'id,country\n1,Atlantis\n', mapContact);
    const r = rejected(results[0]);
    expect(r.reason).toMatch(/^bad country/);
    expect(r.location).toBe(`${f}:2`);
  });

  it('rejects a row without id', async () => {
    const { f, results } = await mapped('contacts.csv', 'id,email\n1,a@x.com\n ,b@x.com\n', mapContact);
    const r = rejected(results[1]);
    expect(r.location).toBe(`${f}:3`);
    expect(r.reason).toMatch(/^missing id/);
    expect(r.externalId).toBeUndefined();
  });

  it('rejects a row with the wrong column count, saying how many', async () => {
    const { f, results } = await mapped('contacts.csv', 'id,email,company\n1,a@x.com\n2,b@x.com,Acme,extra\n3,c@x.com,Co\n', mapContact);
    const short = rejected(results[0]);
    expect(short.location).toBe(`${f}:2`);
    expect(short.reason).toMatch(/column count/);
    expect(short.reason).toContain('3');
    expect(short.reason).toContain('2');
    const long = rejected(results[1]);
    expect(long.location).toBe(`${f}:3`);
    expect(long.reason).toContain('4');
    expect(results[2]!.ok).toBe(true);
  });

  it('names the line a multi-line row starts on in its rejection', async () => {
    const { f, results } = await mapped('contacts.csv', 'id,email,note\n1,a@x.com,"two\nlines"\n2,bad@,x\n', mapContact);
    expect(results[0]!.ok).toBe(true);
    expect(rejected(results[1]).location).toBe(`${f}:4`);
  });

  it('applies a columns rename mapping', async () => {
    const config = cfg({ columns: { contacts: { id: 'Contact ID', email: 'E-Mail', updated_at: 'Modified' } } });
    const { results } = await mapped('contacts.csv', 'Contact ID,E-Mail,Modified,Region\nC-9,Z@X.COM,2024-02-03,EMEA\n', mapContact, config);
    const c = ok(results[0]);
    expect(c.externalId).toBe('C-9');
    expect(c.email).toBe('z@x.com');
    expect(c.updatedAt).toBe('2024-02-03T00:00:00.000Z');
    expect(c.properties).toEqual({ Region: 'EMEA' });
  });

  it('names the renamed id column when it is empty', async () => {
    const config = cfg({ columns: { contacts: { id: 'Contact ID' } } });
    const { results } = await mapped('contacts.csv', 'Contact ID,email\n,a@x.com\n', mapContact, config);
    expect(rejected(results[0]).reason).toContain('Contact ID');
  });
});

describe('mapTransaction', () => {
  const HEADER = 'id,contact_id,amount,currency,occurred_at,status';

  it('maps a row to a canonical transaction', async () => {
    const { results } = await mapped(
      'tx.csv',
      `${HEADER},channel\nT1,42,"1,234.50",eur,2024-03-04T10:00:00Z,Closed Won,web\nT2,43,10,,2024-03-05,\n`,
      mapTransaction,
      cfg({ defaultCurrency: 'GBP' }),
    );
    expect(ok(results[0])).toEqual<Transaction>({
      id: 'files:T1',
      connector: 'files',
      externalId: 'T1',
      contactId: 'files:42',
      amount: 1234.5,
      currency: 'EUR',
      occurredAt: '2024-03-04T10:00:00.000Z',
      status: 'won',
      properties: { channel: 'web' },
    });
    // wrong column count: T2 has one cell fewer than the header
    expect(rejected(results[1]).reason).toMatch(/column count/);
  });

  it('uses the default currency and status', async () => {
    const { results } = await mapped('tx.csv', `${HEADER}\nT2,43,10,,2024-03-05,\n`, mapTransaction, cfg({ defaultCurrency: 'GBP' }));
    expect(ok(results[0])).toMatchObject({ currency: 'GBP', status: 'won', amount: 10 });
  });

  it.each([
    ['refunded', 'refunded'],
    ['Pending', 'open'],
    ['cancelled', 'lost'],
    ['closed-lost', 'lost'],
  ])('maps status %j to %s', async (raw, status) => {
    const { results } = await mapped('tx.csv', `${HEADER}\nT1,1,5,USD,2024-01-01,${raw}\n`, mapTransaction);
    expect(ok(results[0]).status).toBe(status);
  });

  it.each([
    ['non-numeric amount', 'T1,1,N/A,USD,2024-01-01,won', /^bad amount/, 'N/A'],
    ['empty amount', 'T1,1,,USD,2024-01-01,won', /^missing amount/, 'amount'],
    ['bad date', 'T1,1,5,USD,2024-13-01,won', /^bad date: occurred_at/, '2024-13-01'],
    ['missing date', 'T1,1,5,USD,,won', /^missing date/, 'occurred_at'],
    ['bad currency', 'T1,1,5,US$,2024-01-01,won', /^bad currency/, 'US$'],
    ['bad status', 'T1,1,5,USD,2024-01-01,maybe', /^bad status/, 'maybe'],
    ['missing contact', 'T1,,5,USD,2024-01-01,won', /^missing contact_id/, 'contact'],
  ])('rejects a %s with file:line and a reason', async (_n, line, reason, mention) => {
    const { f, results } = await mapped('tx.csv', `${HEADER}\nT0,1,1,USD,2024-01-01,won\n${line}\n`, mapTransaction);
    expect(results[0]!.ok).toBe(true);
    const r = rejected(results[1]);
    expect(r.location).toBe(`${f}:3`);
    expect(r.reason).toMatch(reason);
    expect(r.reason).toContain(mention);
    expect(r.externalId).toBe('T1');
  });

  it('rejects a transaction without id', async () => {
    const { f, results } = await mapped('tx.csv', `${HEADER}\n,1,5,USD,2024-01-01,won\n`, mapTransaction);
    const r = rejected(results[0]);
    expect(r.reason).toMatch(/^missing id/);
    expect(r.location).toBe(`${f}:2`);
  });

  it('applies a columns rename mapping', async () => {
    const config = cfg({ columns: { transactions: { id: 'order', contact_id: 'customer', amount: 'total', occurred_at: 'date' } } });
    const { results } = await mapped('tx.csv', 'order,customer,total,date\nO-1,C-1,99.90,2024-06-01\n', mapTransaction, config);
    expect(ok(results[0])).toMatchObject({ externalId: 'O-1', contactId: 'files:C-1', amount: 99.9, occurredAt: '2024-06-01T00:00:00.000Z', properties: {} });
  });
});
