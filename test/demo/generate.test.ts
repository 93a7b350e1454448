import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  CONTACT_COLUMNS,
  DIRTY_KINDS,
  TRANSACTION_COLUMNS,
  generateDemo,
  type GenerateDemoResult,
} from '../../src/demo/generate.js';

type Row = Record<string, string>;

const tmpDirs: string[] = [];
async function tmp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'segsync-demo-'));
  tmpDirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

function parseCsv(text: string): { header: string[]; rows: Row[] } {
  const records = parse(text, { relax_column_count: false }) as string[][];
  const header = records[0] ?? [];
  const rows = records.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
  return { header, rows };
}

const VALID_EMAIL = /^[a-z0-9._]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const AMOUNT = /^\d+\.\d{2}$/;
const validDate = (s: string): boolean =>
  ISO_UTC.test(s) && !Number.isNaN(Date.parse(s)) && new Date(Date.parse(s)).toISOString().slice(0, 19) + 'Z' === s;

const AS_OF_END = Date.parse('2026-06-30T23:59:59Z');
const DAY_MS = 86_400_000;

interface Generated {
  result: GenerateDemoResult;
  contactsText: string;
  txText: string;
  contacts: Row[];
  txs: Row[];
  contactHeader: string[];
  txHeader: string[];
}

async function generate(customers: number, extra: Partial<Parameters<typeof generateDemo>[0]> = {}): Promise<Generated> {
  const outDir = await tmp();
  const result = await generateDemo({ customers, outDir, ...extra });
  const contactsText = await readFile(result.contactsFile, 'utf8');
  const txText = await readFile(result.transactionsFile, 'utf8');
  const c = parseCsv(contactsText);
  const t = parseCsv(txText);
  return { result, contactsText, txText, contacts: c.rows, txs: t.rows, contactHeader: c.header, txHeader: t.header };
}

describe('generateDemo', () => {
  let g: Generated;
  const N = 5000;

  beforeAll(async () => {
    g = await generate(N);
  });

  it('writes the exact headers and reports the row counts it wrote', () => {
    expect(g.contactHeader).toEqual([...CONTACT_COLUMNS]);
    expect(g.txHeader).toEqual([...TRANSACTION_COLUMNS]);
    expect(g.contactsText.split('\n')[0]).toBe(
      'id,email,first_name,last_name,company,country,lifecycle_stage,created_at,updated_at,num_visits,age',
    );
    expect(g.txText.split('\n')[0]).toBe('id,contact_id,amount,currency,occurred_at,status');
    // \n line ends, trailing newline, no blank lines
    expect(g.contactsText.endsWith('\n')).toBe(true);
    expect(g.contactsText.includes('\r')).toBe(false);
    expect(g.contactsText.split('\n').length - 2).toBe(g.result.contacts);
    expect(g.txText.split('\n').length - 2).toBe(g.result.transactions);
    expect(g.contacts.length).toBe(g.result.contacts);
    expect(g.txs.length).toBe(g.result.transactions);
    expect(g.result.dirtyRows).toBe(DIRTY_KINDS.reduce((a, k) => a + g.result.dirtyByKind[k], 0));
  });

  it('emits the N customers with zero-padded ids, unique valid emails and sane fields', () => {
    const clean = g.contacts.filter((r) => /^c\d{4}$/.test(r.id ?? '') && Number(r.id?.slice(1)) <= N);
    const firstRows = new Map<string, Row>();
    for (const r of clean) if (!firstRows.has(r.id as string)) firstRows.set(r.id as string, r);
    expect(firstRows.size).toBe(N);
    expect(g.contacts[0]?.id).toBe('c0001');
    const emails = new Set<string>();
    const bad: Row[] = [];
    for (const r of firstRows.values()) {
      emails.add(r.email as string);
      const created = Date.parse(r.created_at as string);
      const updated = Date.parse(r.updated_at as string);
      const age = Number(r.age);
      const ok =
        VALID_EMAIL.test(r.email as string) &&
        /^[A-Z]{2}$/.test(r.country as string) &&
        validDate(r.created_at as string) &&
        validDate(r.updated_at as string) &&
        updated >= created &&
        updated <= AS_OF_END &&
        Number.isInteger(age) && age >= 18 && age <= 80 &&
        /^\d+$/.test(r.num_visits as string);
      if (!ok) bad.push(r);
    }
    expect(bad).toEqual([]);
    expect(emails.size).toBe(N);
    const stages = new Set([...firstRows.values()].map((r) => r.lifecycle_stage));
    expect(stages).toContain('customer');
    expect(stages).toContain('lead');
    expect(stages).toContain('subscriber');
    // a few company names need RFC-4180 quoting and survive the round trip
    expect(g.contacts.some((r) => r.company?.includes(','))).toBe(true);
    expect(g.contacts.some((r) => r.company?.includes('"'))).toBe(true);
  });

  it('every clean transaction points at an existing contact; only orphan rows do not', () => {
    const contactIds = new Set(g.contacts.map((r) => r.id));
    const missing = g.txs.filter((t) => !contactIds.has(t.contact_id));
    expect(missing.length).toBe(g.result.dirtyByKind.orphan_transaction);
    // one digit wider than any real id, otherwise a valid row
    expect(missing.filter((t) => !/^c9\d{4}$/.test(t.contact_id as string))).toEqual([]);
    expect(missing.filter((t) => !AMOUNT.test(t.amount ?? '') || !validDate(t.occurred_at ?? ''))).toEqual([]);
    // clean transactions belong to the N customers (never to an extra dirty contact row)
    const clean = g.txs.filter((t) => contactIds.has(t.contact_id));
    expect(clean.filter((t) => !/^c\d{4}$/.test(t.contact_id as string) || Number(t.contact_id?.slice(1)) > N)).toEqual([]);
  });

  it('has clean transactions with sane ids, amounts, currencies, dates and statuses', () => {
    const ids = new Set(g.txs.map((t) => t.id));
    expect(ids.size).toBe(g.txs.length);
    expect(g.txs[0]?.id).toBe('t0000001');
    const clean = g.txs.filter((t) => AMOUNT.test(t.amount ?? '') && validDate(t.occurred_at ?? ''));
    const status = new Map<string, number>();
    const currency = new Map<string, number>();
    const outOfRange: Row[] = [];
    for (const t of clean) {
      status.set(t.status as string, (status.get(t.status as string) ?? 0) + 1);
      currency.set(t.currency as string, (currency.get(t.currency as string) ?? 0) + 1);
      const at = Date.parse(t.occurred_at as string);
      if (at > AS_OF_END || at <= AS_OF_END - 3 * 366 * DAY_MS || Number(t.amount) < 1) outOfRange.push(t);
    }
    expect(outOfRange).toEqual([]);
    expect([...status.keys()].sort()).toEqual(['lost', 'open', 'refunded', 'won']);
    const won = (status.get('won') ?? 0) / clean.length;
    expect(won).toBeGreaterThan(0.88);
    expect(won).toBeLessThan(0.96);
    expect([...currency.keys()].sort()).toEqual(['EUR', 'GBP', 'USD']);
    expect((currency.get('USD') ?? 0) / clean.length).toBeGreaterThan(0.6);
  });

  it('averages ~avgTransactions clean transactions per customer', async () => {
    const clean = g.txs.filter(
      (t) => AMOUNT.test(t.amount ?? '') && validDate(t.occurred_at ?? '') && /^c\d{4}$/.test(t.contact_id ?? ''),
    ).length;
    expect(clean / N).toBeGreaterThan(9);
    expect(clean / N).toBeLessThan(11);

    const small = await generate(2000, { avgTransactions: 4, dirtyRate: 0 });
    expect(small.result.transactions / 2000).toBeGreaterThan(3.6);
    expect(small.result.transactions / 2000).toBeLessThan(4.4);
  });

  it('mixes in dirty rows of every kind at about dirtyRate, each recognisable', () => {
    const { dirtyByKind, dirtyRows, contacts, transactions } = g.result;
    const share = dirtyRows / (contacts + transactions);
    expect(share).toBeGreaterThan(0.005);
    expect(share).toBeLessThan(0.02);
    for (const k of DIRTY_KINDS) expect(dirtyByKind[k], k).toBeGreaterThan(0);

    // contacts: malformed emails, empty ids, repeated ids (updates), repeated emails under a new id
    const malformed = g.contacts.filter((r) => !VALID_EMAIL.test(r.email ?? ''));
    expect(malformed.length).toBe(dirtyByKind.malformed_email);
    expect(malformed.some((r) => r.email?.endsWith('@'))).toBe(true);
    expect(g.contacts.filter((r) => r.id === '').length).toBe(dirtyByKind.empty_id);

    const seenIds = new Map<string, Row>();
    let repeatedIds = 0;
    const badUpdates: Row[] = [];
    for (const r of g.contacts) {
      if (r.id === '') continue;
      const prev = seenIds.get(r.id as string);
      if (prev) {
        repeatedIds++;
        const updated = Date.parse(r.updated_at as string);
        const legit =
          updated > Date.parse(prev.updated_at as string) &&
          updated <= AS_OF_END &&
          r.email === prev.email &&
          r.num_visits !== prev.num_visits &&
          (r.lifecycle_stage !== prev.lifecycle_stage || r.company !== prev.company);
        if (!legit) badUpdates.push(r);
      }
      seenIds.set(r.id as string, r);
    }
    expect(repeatedIds).toBe(dirtyByKind.duplicate_update);
    expect(badUpdates).toEqual([]);

    const emailOwner = new Map<string, string>();
    let sameEmailOtherId = 0;
    for (const r of g.contacts) {
      if (r.id === '' || !VALID_EMAIL.test(r.email ?? '')) continue;
      const owner = emailOwner.get(r.email as string);
      if (owner === undefined) emailOwner.set(r.email as string, r.id as string);
      else if (owner !== r.id) sameEmailOtherId++;
    }
    expect(sameEmailOtherId).toBe(dirtyByKind.duplicate_email);

    // transactions: non-numeric/empty amounts, unparseable dates
    const badAmount = g.txs.filter((t) => !AMOUNT.test(t.amount ?? ''));
    expect(badAmount.length).toBe(dirtyByKind.bad_amount);
    expect(badAmount.some((t) => t.amount === 'N/A')).toBe(true);
    expect(badAmount.every((t) => Number.isNaN(Number.parseFloat(t.amount ?? '')))).toBe(true);
    const badDate = g.txs.filter((t) => !validDate(t.occurred_at ?? ''));
    expect(badDate.length).toBe(dirtyByKind.bad_date);
    expect(badDate.every((t) => Number.isNaN(Date.parse(t.occurred_at ?? '')))).toBe(true);
    expect(badDate.some((t) => t.occurred_at === '2025-13-45')).toBe(true);
    // each dirty transaction row has exactly one defect
    expect(badAmount.filter((t) => !validDate(t.occurred_at ?? '')).length).toBe(0);
  });

  it('dirty contact rows never carry transactions', () => {
    const extra = new Set(
      g.contacts.filter((r) => r.id !== '' && Number(r.id?.slice(1)) > N).map((r) => r.id as string),
    );
    expect(extra.size).toBe(g.result.dirtyByKind.malformed_email + g.result.dirtyByKind.duplicate_email);
    expect(g.txs.some((t) => extra.has(t.contact_id as string))).toBe(false);
  });

  it('shows the latent behaviours in the purchase histories', () => {
    const byContact = new Map<string, number[]>();
    for (const t of g.txs) {
      if (!AMOUNT.test(t.amount ?? '') || !validDate(t.occurred_at ?? '')) continue;
      const list = byContact.get(t.contact_id as string) ?? [];
      list.push(Date.parse(t.occurred_at as string));
      byContact.set(t.contact_id as string, list);
    }
    let none = 0;
    let one = 0;
    let many = 0;
    let lapsed365 = 0;
    let lapsing180 = 0;
    let recentNew = 0;
    for (let i = 1; i <= N; i++) {
      const times = byContact.get(`c${String(i).padStart(4, '0')}`);
      if (!times) {
        none++;
        continue;
      }
      const first = Math.min(...times);
      const last = Math.max(...times);
      if (times.length === 1) one++;
      if (times.length >= 15) many++;
      if (AS_OF_END - last > 365 * DAY_MS) lapsed365++;
      else if (AS_OF_END - last > 180 * DAY_MS) lapsing180++;
      if (AS_OF_END - first < 90 * DAY_MS && times.length <= 2) recentNew++;
    }
    const share = (n: number): number => n / N;
    expect(share(none)).toBeGreaterThan(0.05);
    expect(share(none)).toBeLessThan(0.11);
    expect(share(one)).toBeGreaterThan(0.15);
    expect(share(many)).toBeGreaterThan(0.15);
    expect(share(lapsed365)).toBeGreaterThan(0.1);
    expect(share(lapsing180)).toBeGreaterThan(0.05);
    expect(share(recentNew)).toBeGreaterThan(0.05);

    // big spenders: a visible tail of customers with a high average order
    const amounts = new Map<string, number[]>();
    for (const t of g.txs) {
      if (!AMOUNT.test(t.amount ?? '')) continue;
      const list = amounts.get(t.contact_id as string) ?? [];
      list.push(Number(t.amount));
      amounts.set(t.contact_id as string, list);
    }
    const avgOrder = [...amounts.values()].map((l) => l.reduce((a, b) => a + b, 0) / l.length);
    expect(avgOrder.filter((a) => a > 250).length / N).toBeGreaterThan(0.03);
  });
});

describe('generateDemo determinism and files', () => {
  it('same options give byte-identical files; another seed gives different ones', async () => {
    const a = await generate(1500, { seed: 7 });
    const b = await generate(1500, { seed: 7 });
    const c = await generate(1500, { seed: 8 });
    expect(b.contactsText).toBe(a.contactsText);
    expect(b.txText).toBe(a.txText);
    expect(b.result.dirtyByKind).toEqual(a.result.dirtyByKind);
    expect(c.contactsText).not.toBe(a.contactsText);
    expect(c.txText).not.toBe(a.txText);
  });

  it('defaults to seed 42', async () => {
    const a = await generate(300);
    const b = await generate(300, { seed: 42 });
    expect(b.txText).toBe(a.txText);
    expect(b.contactsText).toBe(a.contactsText);
  });

  it('writes atomically into a created directory and leaves no temp files', async () => {
    const base = await tmp();
    const outDir = join(base, 'nested', 'out');
    const progress: [number, number][] = [];
    const r = await generateDemo({ customers: 2500, outDir, onProgress: (d, t) => progress.push([d, t]) });
    expect((await readdir(outDir)).sort()).toEqual(['contacts.csv', 'transactions.csv']);
    expect(r.contactsFile).toBe(join(outDir, 'contacts.csv'));
    expect(r.transactionsFile).toBe(join(outDir, 'transactions.csv'));
    expect(progress.at(-1)).toEqual([2500, 2500]);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]?.[0]).toBeGreaterThan(progress[i - 1]?.[0] ?? 0);
    }
  });

  it('dirtyRate 0 gives a perfectly clean export', async () => {
    const g = await generate(2000, { dirtyRate: 0 });
    expect(g.result.dirtyRows).toBe(0);
    expect(g.result.contacts).toBe(2000);
    expect(new Set(g.contacts.map((r) => r.id)).size).toBe(2000);
    expect(new Set(g.contacts.map((r) => r.email)).size).toBe(2000);
    expect(g.contacts.every((r) => VALID_EMAIL.test(r.email ?? ''))).toBe(true);
    const ids = new Set(g.contacts.map((r) => r.id));
    expect(g.txs.every((t) => ids.has(t.contact_id) && AMOUNT.test(t.amount ?? '') && validDate(t.occurred_at ?? ''))).toBe(
      true,
    );
  });

  it('honours asOf', async () => {
    const g = await generate(500, { asOf: '2024-01-31', dirtyRate: 0 });
    const end = Date.parse('2024-01-31T23:59:59Z');
    const times = g.txs.map((t) => Date.parse(t.occurred_at as string));
    expect(Math.max(...times)).toBeLessThanOrEqual(end);
    expect(Math.max(...times)).toBeGreaterThan(end - 30 * DAY_MS);
    expect(Math.min(...times)).toBeGreaterThan(end - 3 * 366 * DAY_MS);
    expect(g.contacts.filter((r) => Date.parse(r.updated_at as string) > end)).toEqual([]);
  });

  it('handles zero customers and rejects bad options', async () => {
    const g = await generate(0);
    expect(g.contactsText).toBe(`${CONTACT_COLUMNS.join(',')}\n`);
    expect(g.txText).toBe(`${TRANSACTION_COLUMNS.join(',')}\n`);
    expect(g.result).toMatchObject({ contacts: 0, transactions: 0, dirtyRows: 0 });

    const outDir = await tmp();
    await expect(generateDemo({ customers: -1, outDir })).rejects.toThrow(RangeError);
    await expect(generateDemo({ customers: 1.5, outDir })).rejects.toThrow(RangeError);
    await expect(generateDemo({ customers: 10, outDir, avgTransactions: 0 })).rejects.toThrow(RangeError);
    await expect(generateDemo({ customers: 10, outDir, dirtyRate: 2 })).rejects.toThrow(RangeError);
    await expect(generateDemo({ customers: 10, outDir, asOf: '2026-02-30' })).rejects.toThrow(RangeError);
    await expect(generateDemo({ customers: 10, outDir, asOf: 'yesterday' })).rejects.toThrow(RangeError);
    expect(await readdir(outDir)).toEqual([]);
  });
});
