/**
 * CSV injection, end to end through the built CLI: contacts whose ids, emails
 * and names start like spreadsheet formulas (=, +, -, @, tab, CR) or read like
 * SQL are stored exactly as written, and every CSV segsync writes (the
 * memberships file of a push, `export memberships`) defuses them with a leading
 * "'"; the JSON export keeps them as they are.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import Database from 'better-sqlite3';
import { cli, tempProject, writeCsvConfig } from './helpers.js';

const HOSTILE_IDS = ['=HYPERLINK("http://evil.test","click")', '+1+1', '-2+3', '@SUM(A1:A9)', "'); DROP TABLE contacts;--"];
const HOSTILE_EMAILS = ["=cmd|'/Ccalc'!A0@evil.test", '+x@evil.test', '-x@evil.test', "o'brien@evil.test"];
const HOSTILE_NAMES = ["=cmd|' /C calc'!A0", '\t=1+1', '\r=1+1', '@foo', "Robert'); DROP TABLE contacts;--"];

/** A cell a spreadsheet would evaluate. */
const live = (cell: string): boolean => /^[=+\-@\t\r]/.test(cell);
const csvQuote = (v: string): string => `"${v.replace(/"/g, '""')}"`;

describe('CSV injection (built CLI)', () => {
  const dir = tempProject('segsync-csvinj-');
  const contacts: { id: string; email: string; name: string }[] = [];

  beforeAll(() => {
    writeCsvConfig(dir, 'privacy: { fields: [firstName] }\n');
    // plain customers in three behaviour groups, then the hostile ones
    for (let i = 0; i < 60; i++) contacts.push({ id: `c${i}`, email: `c${i}@example.com`, name: `Name${i}` });
    HOSTILE_IDS.forEach((id, i) => contacts.push({ id, email: `h${i}@example.com`, name: 'Plain' }));
    HOSTILE_EMAILS.forEach((email, i) => contacts.push({ id: `e${i}`, email, name: 'Plain' }));
    HOSTILE_NAMES.forEach((name, i) => contacts.push({ id: `n${i}`, email: `n${i}@example.com`, name }));
    const txs: string[] = ['id,contact_id,amount,currency,occurred_at,status'];
    contacts.forEach((c, i) => {
      const orders = 1 + (i % 3) * 4;
      for (let j = 0; j < orders; j++) {
        const day = new Date(Date.UTC(2026, 5, 28) - (i % 3 === 1 ? 300 : 10 + j * 15) * 86_400_000).toISOString().slice(0, 10);
        txs.push([`t${i}-${j}`, csvQuote(c.id), String(20 + ((i * 7 + j * 13) % 90) * (i % 3 === 2 ? 10 : 1)), 'USD', day, 'won'].join(','));
      }
    });
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data/contacts.csv'), ['id,email,first_name,country', ...contacts.map((c) => [c.id, c.email, c.name, 'US'].map(csvQuote).join(','))].join('\n'));
    writeFileSync(join(dir, 'data/transactions.csv'), `${txs.join('\n')}\n`);
  });

  it('stores the values as data, unchanged', () => {
    const r = cli(['--json', 'run'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const db = new Database(join(dir, 'store.db'), { readonly: true });
    const rows = db.prepare('SELECT external_id, email, first_name FROM contacts').all() as { external_id: string; email: string; first_name: string }[];
    db.close();
    expect(rows).toHaveLength(contacts.length);
    const byId = new Map(rows.map((x) => [x.external_id, x]));
    for (const c of contacts) {
      expect(byId.get(c.id), c.id).toMatchObject({ email: c.email.toLowerCase(), first_name: c.name.trim() });
    }
  });

  it('the memberships file of the push defuses every formula-like cell', () => {
    const text = readFileSync(join(dir, 'out/memberships.csv'), 'utf8');
    const cells = parse(text, { columns: true }) as Record<string, string>[];
    expect(cells.length).toBe(contacts.length);
    for (const row of cells) for (const v of Object.values(row)) expect(live(v), JSON.stringify(v)).toBe(false);
    // defused, not lost: the value follows the "'"
    const ids = new Set(cells.map((r) => r.external_id));
    for (const id of HOSTILE_IDS) expect(ids.has(live(id) ? `'${id}` : id), id).toBe(true);
    const emails = new Set(cells.map((r) => r.email));
    for (const e of HOSTILE_EMAILS.map((x) => x.toLowerCase())) expect(emails.has(live(e) ? `'${e}` : e), e).toBe(true);
  });

  it('`export memberships` defuses them in CSV and keeps them as they are in JSON', () => {
    const r = cli(['export', 'memberships', '--out', 'export.csv'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const rows = parse(readFileSync(join(dir, 'export.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.length).toBe(contacts.length);
    for (const row of rows) for (const v of Object.values(row)) expect(live(v), JSON.stringify(v)).toBe(false);
    expect(rows.map((x) => x.external_id)).toContain(`'${HOSTILE_IDS[0]}`);

    const j = cli(['export', 'memberships', '--format', 'json'], { cwd: dir });
    expect(j.code, j.stderr).toBe(0);
    const parsed = JSON.parse(j.stdout) as { externalId?: string; external_id?: string; email: string }[];
    const ids = new Set(parsed.map((x) => x.externalId ?? x.external_id));
    for (const id of HOSTILE_IDS) expect(ids.has(id), id).toBe(true);
  });
});
