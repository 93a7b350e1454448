import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../../src/store/index.js';
import { idRange, type PageWrite } from '../../src/store/sync-repo.js';
import type { Contact, Rejected, Transaction } from '../../src/core/records.js';

let dir: string;
let store: Store;
let raw: Database.Database;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'segsync-sync-'));
  const file = join(dir, 'store.db');
  store = openStore(file);
  raw = new Database(file, { readonly: true });
});
afterEach(() => {
  raw.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const NOW = '2025-01-10T00:00:00.000Z';

function contact(ext: string, over: Partial<Contact> = {}, connector = 'files'): Contact {
  return {
    id: `${connector}:${ext}`,
    connector,
    externalId: ext,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-06-01T00:00:00.000Z',
    properties: {},
    ...over,
  };
}

function tx(ext: string, contactExt: string, over: Partial<Transaction> = {}): Transaction {
  return {
    id: `files:${ext}`,
    connector: 'files',
    externalId: ext,
    contactId: `files:${contactExt}`,
    amount: 10,
    currency: 'USD',
    occurredAt: '2024-05-01T00:00:00.000Z',
    status: 'won',
    properties: {},
    ...over,
  };
}

function contactsPage(contacts: Contact[], over: Partial<PageWrite> = {}): PageWrite {
  return { runId: 1, connector: 'files', stream: 'contacts', contacts, rejected: [], checkpoint: { page: 1 }, now: NOW, ...over };
}
function txPage(transactions: Transaction[], over: Partial<PageWrite> = {}): PageWrite {
  return { runId: 1, connector: 'files', stream: 'transactions', transactions, rejected: [], checkpoint: { page: 1 }, now: NOW, ...over };
}

interface ContactRow {
  id: string;
  customer_id: string;
  email: string | null;
  first_name: string | null;
  updated_at: string;
  deleted_at: string | null;
  properties: string;
}
const row = (id: string): ContactRow | undefined =>
  raw.prepare<[string], ContactRow>('SELECT * FROM contacts WHERE id = ?').get(id);
const count = (sql: string): number => raw.prepare<[], number>(sql).pluck().get() ?? -1;

describe('commitPage: contacts', () => {
  it('inserts contacts with their fields and properties', () => {
    const r = store.sync.commitPage(
      contactsPage([contact('1', { email: 'a@example.com', firstName: 'Ann', properties: { visits: 3, tier: 'gold', none: null } })]),
    );
    expect(r).toEqual({ upserted: 1, deleted: 0, quarantined: 0 });
    const c = row('files:1');
    expect(c).toMatchObject({ email: 'a@example.com', first_name: 'Ann', deleted_at: null });
    expect(JSON.parse(c!.properties)).toEqual({ visits: 3, tier: 'gold', none: null });
  });

  it('gives contacts with the same email one customer, across connectors', () => {
    store.sync.commitPage(
      contactsPage([contact('1', { email: 'same@example.com' }), contact('2', { email: 'other@example.com' }), contact('3')]),
    );
    store.sync.commitPage(
      contactsPage([contact('900', { email: 'same@example.com' }, 'hubspot')], { connector: 'hubspot' }),
    );
    const a = row('files:1')!.customer_id;
    expect(row('hubspot:900')!.customer_id).toBe(a);
    expect(row('files:2')!.customer_id).not.toBe(a);
    expect(row('files:3')!.customer_id).not.toBe(a);
    expect(row('files:3')!.customer_id).not.toBe(row('files:2')!.customer_id);
    expect(store.status.counts().customers).toBe(3);
  });

  it('derives customer ids deterministically (same ids in a rebuilt store, in any order)', () => {
    const contacts = [contact('1', { email: 'x@example.com' }), contact('2')];
    store.sync.commitPage(contactsPage(contacts));
    const first = [row('files:1')!.customer_id, row('files:2')!.customer_id];
    expect(first[0]).toMatch(/^cus_[0-9a-f]+$/);

    const file2 = join(dir, 'second.db');
    const s2 = openStore(file2);
    s2.sync.commitPage(contactsPage([...contacts].reverse()));
    s2.close();
    const raw2 = new Database(file2, { readonly: true });
    const get = raw2.prepare<[string], string>('SELECT customer_id FROM contacts WHERE id = ?').pluck();
    const second = ['files:1', 'files:2'].map((id) => get.get(id));
    raw2.close();
    expect(second).toEqual(first);
  });

  it('lets a newer updatedAt win', () => {
    store.sync.commitPage(contactsPage([contact('1', { firstName: 'Old', updatedAt: '2024-06-01T00:00:00.000Z' })]));
    store.sync.commitPage(contactsPage([contact('1', { firstName: 'New', updatedAt: '2024-07-01T00:00:00.000Z' })]));
    expect(row('files:1')).toMatchObject({ first_name: 'New', updated_at: '2024-07-01T00:00:00.000Z' });
  });

  it('does not let an older duplicate overwrite a newer record (across pages and within one page)', () => {
    store.sync.commitPage(contactsPage([contact('1', { firstName: 'New', email: 'new@example.com', updatedAt: '2024-07-01T00:00:00.000Z' })]));
    store.sync.commitPage(contactsPage([contact('1', { firstName: 'Old', email: 'old@example.com', updatedAt: '2024-06-01T00:00:00.000Z' })]));
    expect(row('files:1')).toMatchObject({ first_name: 'New', email: 'new@example.com', updated_at: '2024-07-01T00:00:00.000Z' });

    store.sync.commitPage(
      contactsPage([
        contact('2', { firstName: 'Newest', updatedAt: '2024-09-01T00:00:00.000Z' }),
        contact('2', { firstName: 'Stale', updatedAt: '2024-08-01T00:00:00.000Z' }),
      ]),
    );
    expect(row('files:2')).toMatchObject({ first_name: 'Newest' });
    expect(count("SELECT count(*) FROM contacts WHERE id = 'files:2'")).toBe(1);
  });

  it('moves a contact to a new customer when its email changes', () => {
    store.sync.commitPage(contactsPage([contact('1', { email: 'a@example.com' }), contact('2', { email: 'b@example.com' })]));
    store.sync.commitPage(contactsPage([contact('1', { email: 'b@example.com', updatedAt: '2024-08-01T00:00:00.000Z' })]));
    expect(row('files:1')!.customer_id).toBe(row('files:2')!.customer_id);
  });

  it('saves the checkpoint in the same call, replacing the previous one', () => {
    expect(store.sync.getCheckpoint('files', 'contacts')).toBeUndefined();
    store.sync.commitPage(contactsPage([contact('1')], { checkpoint: { offset: 100, done: false } }));
    expect(store.sync.getCheckpoint('files', 'contacts')).toEqual({ offset: 100, done: false });
    store.sync.commitPage(contactsPage([], { checkpoint: { offset: 250, done: true } }));
    expect(store.sync.getCheckpoint('files', 'contacts')).toEqual({ offset: 250, done: true });
    // per connector and stream
    expect(store.sync.getCheckpoint('files', 'transactions')).toBeUndefined();
    expect(store.sync.getCheckpoint('hubspot', 'contacts')).toBeUndefined();
    store.sync.resetCheckpoint('files', 'contacts');
    expect(store.sync.getCheckpoint('files', 'contacts')).toBeUndefined();
  });

  it('commits nothing, not even the checkpoint, when a record in the page fails', () => {
    store.sync.commitPage(contactsPage([contact('0')], { checkpoint: { offset: 1 } }));
    const broken = contact('2', { createdAt: undefined as unknown as string }); // NOT NULL violation
    expect(() => store.sync.commitPage(contactsPage([contact('1'), broken], { checkpoint: { offset: 2 } }))).toThrow();
    expect(row('files:1')).toBeUndefined();
    expect(store.sync.getCheckpoint('files', 'contacts')).toEqual({ offset: 1 });
  });

  it('marks deleted ids with deleted_at, once', () => {
    store.sync.commitPage(contactsPage([contact('1'), contact('2')]));
    const r = store.sync.commitPage(contactsPage([], { deleted: ['1', 'does-not-exist'], now: '2025-02-02T00:00:00.000Z' }));
    expect(r.deleted).toBe(1);
    expect(row('files:1')!.deleted_at).toBe('2025-02-02T00:00:00.000Z');
    expect(row('files:2')!.deleted_at).toBeNull();
    // deleting again changes nothing and keeps the first deletion time
    expect(store.sync.commitPage(contactsPage([], { deleted: ['1'], now: '2025-03-03T00:00:00.000Z' })).deleted).toBe(0);
    expect(row('files:1')!.deleted_at).toBe('2025-02-02T00:00:00.000Z');
    expect(store.status.counts()).toMatchObject({ contacts: 1, deletedContacts: 1 });
  });

  it('a contact deleted in its source keeps no personal data: fields, properties, rejected payloads and an identity key of its own go', () => {
    const person = { email: 'ann@example.com', firstName: 'Ann', lastName: 'Lee', company: 'Acme Widgets Ltd', country: 'FR', lifecycleStage: 'customer', properties: { age: 41 } };
    store.sync.commitPage(contactsPage([contact('1', person), contact('2', { email: 'bob@example.com' }), contact('3', { email: 'ann@example.com' }, 'hubspot')]));
    const rejected: Rejected[] = [{ externalId: '1', reason: 'bad date: "x"', location: 'contacts.csv:2', payload: { id: '1', email: 'ann@example.com' } }];
    store.sync.commitPage(contactsPage([], { rejected }));
    store.sync.commitPage(contactsPage([contact('4', { email: 'cy@example.com', firstName: 'Cy' })]));
    const ann = row('files:1')!.customer_id;
    const cy = row('files:4')!.customer_id;

    // reported deleted (HubSpot, Salesforce) and arriving deleted (a CSV deleted_at)
    store.sync.commitPage(contactsPage([], { deleted: ['1'], now: '2025-02-02T00:00:00.000Z' }));
    store.sync.commitPage(contactsPage([contact('4', { email: 'cy@example.com', firstName: 'Cy', deletedAt: '2025-02-03T00:00:00.000Z' })]));
    for (const id of ['files:1', 'files:4']) {
      expect(raw.prepare('SELECT email, first_name, last_name, company, country, lifecycle_stage, properties FROM contacts WHERE id = ?').get(id)).toEqual({
        email: null, first_name: null, last_name: null, company: null, country: null, lifecycle_stage: null, properties: '{}',
      });
    }
    expect(row('files:1')!.deleted_at).toBe('2025-02-02T00:00:00.000Z');
    expect(row('files:4')!.deleted_at).toBe('2025-02-03T00:00:00.000Z');
    expect(count("SELECT count(*) FROM quarantine WHERE external_id = '1'")).toBe(0);
    // Ann lives on in HubSpot: her customer keeps its key; Cy is gone everywhere: his is erased
    expect(raw.prepare('SELECT identity_key FROM customers WHERE id = ?').pluck().get(ann)).toMatch(/^email:/);
    expect(raw.prepare('SELECT identity_key FROM customers WHERE id = ?').pluck().get(cy)).toBe(`erased:${cy}`);
    expect(count("SELECT count(*) FROM customers WHERE identity_key LIKE '%cy@example.com%'")).toBe(0);
    // the others are untouched
    expect(row('files:2')).toMatchObject({ email: 'bob@example.com', deleted_at: null });

    // and no byte of what went stays in the store files once the erasures are folded
    expect(store.sync.foldErasures()).toBe(true);
    const file = join(dir, 'store.db');
    const bytes = Buffer.concat([file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
    expect(bytes.length).toBeGreaterThan(0);
    for (const gone of ['cy@example.com', 'Acme Widgets']) expect(bytes.includes(gone), gone).toBe(false);
    expect(bytes.includes('bob@example.com')).toBe(true);
  });

  it('deletes only within the page\'s connector', () => {
    store.sync.commitPage(contactsPage([contact('1')]));
    store.sync.commitPage(contactsPage([contact('1', {}, 'hubspot')], { connector: 'hubspot' }));
    store.sync.commitPage(contactsPage([], { connector: 'hubspot', deleted: ['1'] }));
    expect(row('files:1')!.deleted_at).toBeNull();
    expect(row('hubspot:1')!.deleted_at).toBe(NOW);
  });

  it('stores the rejections it is given in quarantine', () => {
    const rejected: Rejected[] = [{ externalId: '7', reason: 'bad email: "x@"', location: 'contacts.csv:8', payload: { id: '7' } }];
    const r = store.sync.commitPage(contactsPage([contact('1')], { rejected, runId: 42 }));
    expect(r.quarantined).toBe(1);
    expect(store.status.quarantine(42, 10)).toEqual([
      { runId: 42, connector: 'files', stream: 'contacts', externalId: '7', location: 'contacts.csv:8', reason: 'bad email: "x@"' },
    ]);
  });
});

describe('commitPage: transactions', () => {
  beforeEach(() => {
    store.sync.commitPage(contactsPage([contact('c1', { email: 'c1@example.com' })]));
  });

  it('upserts transactions of known contacts', () => {
    const r = store.sync.commitPage(txPage([tx('t1', 'c1'), tx('t2', 'c1', { amount: 99.5, status: 'refunded' })]));
    expect(r).toEqual({ upserted: 2, deleted: 0, quarantined: 0 });
    expect(count('SELECT count(*) FROM transactions')).toBe(2);
    store.sync.commitPage(txPage([tx('t1', 'c1', { amount: 12 })]));
    expect(raw.prepare("SELECT amount FROM transactions WHERE id = 'files:t1'").pluck().get()).toBe(12);
    expect(count('SELECT count(*) FROM transactions')).toBe(2);
  });

  it('quarantines a transaction for an unknown contact with a reason, and still commits the rest', () => {
    const r = store.sync.commitPage(txPage([tx('t1', 'c1'), tx('t9', 'ghost')], { runId: 5, locations: ['t.csv:2', 't.csv:3'], checkpoint: { offset: 9 } }));
    expect(r).toEqual({ upserted: 1, deleted: 0, quarantined: 1 });
    expect(count("SELECT count(*) FROM transactions WHERE id = 'files:t9'")).toBe(0);
    const q = store.status.quarantine(5, 10);
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ stream: 'transactions', externalId: 't9', location: 't.csv:3' });
    expect(q[0]!.reason).toContain('ghost');
    expect(q[0]!.reason).toMatch(/^unknown contact: contact ghost not found/);
    expect(store.sync.getCheckpoint('files', 'transactions')).toEqual({ offset: 9 });
  });

  it('does not match a contact of another connector', () => {
    store.sync.commitPage(contactsPage([contact('h1', {}, 'hubspot')], { connector: 'hubspot' }));
    const r = store.sync.commitPage(txPage([tx('t1', 'h1')]));
    expect(r.quarantined).toBe(1);
  });

  it('marks deleted transactions', () => {
    store.sync.commitPage(txPage([tx('t1', 'c1'), tx('t2', 'c1')]));
    const r = store.sync.commitPage(txPage([], { deleted: ['t2'] }));
    expect(r.deleted).toBe(1);
    expect(store.status.counts().transactions).toBe(1);
    expect(raw.prepare("SELECT deleted_at FROM transactions WHERE id = 'files:t2'").pluck().get()).toBe(NOW);
  });
});

describe('commitPage: quarantine rows of records stored later', () => {
  /** quarantine rows as [connector, stream, external id, run] */
  const rows = (): [string, string, string | null, number][] =>
    raw
      .prepare<[], [string, string, string | null, number]>('SELECT connector, stream, external_id, run_id FROM quarantine ORDER BY id')
      .raw()
      .all();
  const reject = (externalId: string, reason: string): Rejected => ({ externalId, reason, payload: { id: externalId } });

  it('a transaction quarantined for an unknown contact leaves quarantine when a later sync stores it; one that still fails stays, once', () => {
    store.sync.commitPage(contactsPage([contact('c1')], { runId: 1 }));
    // run 1: t1's contact c2 is not there yet, t2's never will be; t3 has a bad amount
    store.sync.commitPage(txPage([tx('t1', 'c2'), tx('t2', 'ghost'), tx('t4', 'c1')], { runId: 1, rejected: [reject('t3', 'bad amount: "x"')] }));
    // the same external id elsewhere: a contact row, and another connector's transaction
    store.sync.commitPage(contactsPage([], { runId: 1, rejected: [reject('t1', 'bad email: "x@"')] }));
    store.sync.commitPage(txPage([], { runId: 1, connector: 'hubspot', rejected: [reject('t1', 'unknown contact: contact 9 not found')] }));
    expect(rows()).toEqual([
      ['files', 'transactions', 't3', 1],
      ['files', 'transactions', 't1', 1],
      ['files', 'transactions', 't2', 1],
      ['files', 'contacts', 't1', 1],
      ['hubspot', 'transactions', 't1', 1],
    ]);

    // run 2: c2 has arrived, the file is read again
    store.sync.commitPage(contactsPage([contact('c2')], { runId: 2 }));
    const r = store.sync.commitPage(txPage([tx('t1', 'c2'), tx('t2', 'ghost'), tx('t4', 'c1')], { runId: 2 }));
    expect(r).toEqual({ upserted: 2, deleted: 0, quarantined: 1 });
    expect(count("SELECT count(*) FROM transactions WHERE id = 'files:t1'")).toBe(1);
    // t2 failed again: its row of this run replaced the earlier one
    expect(rows()).toEqual([
      ['files', 'transactions', 't3', 1],
      ['files', 'contacts', 't1', 1],
      ['hubspot', 'transactions', 't1', 1],
      ['files', 'transactions', 't2', 2],
    ]);
    // what `segsync status` counts and lists
    expect(store.status.counts().quarantined).toBe(4);
    expect(store.status.quarantine(2, 10).map((q) => q.externalId)).toEqual(['t2']);
  });

  it('a contact rejected once and stored later leaves quarantine, in one page and across pages', () => {
    store.sync.commitPage(contactsPage([contact('c1')], { rejected: [reject('c2', 'bad email: "x@"'), reject('c3', 'bad country: "Atlantis"')] }));
    store.sync.commitPage(contactsPage([contact('c2')]));
    expect(rows().map((q) => q[2])).toEqual(['c3']);
    expect(store.status.quarantineGroups()).toEqual([{ connector: 'files', stream: 'contacts', reason: 'bad country', count: 1 }]);
  });

  it('a record its source deletes leaves quarantine, even one never stored', () => {
    store.sync.commitPage(contactsPage([contact('c1')], { rejected: [reject('c2', 'bad email: "ann@"'), reject('c3', 'bad email: "bob@"')] }));
    store.sync.commitPage(txPage([tx('t1', 'ghost')], { rejected: [reject('t2', 'bad date: "x"')] }));
    expect(rows().map((q) => q[2])).toEqual(['c2', 'c3', 't2', 't1']);
    store.sync.commitPage(contactsPage([], { deleted: ['c2'] }));
    store.sync.commitPage(txPage([], { deleted: ['t1'] }));
    expect(rows().map((q) => q[2])).toEqual(['c3', 't2']);
  });

  it('a transaction quarantined for an unknown contact is stored when the contact arrives, without the transactions being read again', () => {
    store.sync.commitPage(contactsPage([contact('c1')], { runId: 1 }));
    store.sync.commitPage(txPage([tx('t1', 'c2', { amount: 12.5 }), tx('t2', 'ghost'), tx('t5', 'c3')], { runId: 1, rejected: [reject('t3', 'bad amount: "x"')] }));
    expect(count('SELECT count(*) FROM transactions')).toBe(0);
    expect(rows().map((q) => q[2])).toEqual(['t3', 't1', 't2', 't5']);

    // run 2 reads only contacts.csv (the transactions file did not change): c2 arrives, c3 arrives deleted
    const r = store.sync.commitPage(contactsPage([contact('c2'), contact('c3', { deletedAt: NOW })], { runId: 2 }));
    expect(r.upserted).toBe(2);
    expect(raw.prepare('SELECT id, contact_id, amount FROM transactions').all()).toEqual([{ id: 'files:t1', contact_id: 'files:c2', amount: 12.5 }]);
    // the ghost's row, the bad amount and the deleted contact's deal stay listed
    expect(rows().map((q) => q[2])).toEqual(['t3', 't2', 't5']);
    // a later read of the same transaction is an ordinary upsert
    store.sync.commitPage(txPage([tx('t1', 'c2', { amount: 13 })], { runId: 3 }));
    expect(count("SELECT count(*) FROM transactions WHERE id = 'files:t1' AND amount = 13")).toBe(1);
  });

  it('a contact deleted in its CRM takes its own quarantine rows, not a transaction row with the same id', () => {
    // HubSpot numbers contacts and deals separately: contact 7 and deal 7 are different records
    store.sync.commitPage(contactsPage([contact('c1'), contact('7')], { rejected: [reject('c3', 'bad email: "x@"')] }));
    store.sync.commitPage(contactsPage([], { rejected: [reject('7', 'bad country: "Atlantis"')] }));
    store.sync.commitPage(txPage([tx('7', 'ghost')]));
    expect(rows().map((q) => `${q[1]}:${q[2]}`)).toEqual(['contacts:c3', 'contacts:7', 'transactions:7']);
    store.sync.commitPage(contactsPage([], { deleted: ['7'] }));
    expect(rows().map((q) => `${q[1]}:${q[2]}`)).toEqual(['contacts:c3', 'transactions:7']);
  });

  it('clears only the page\'s own rows, whether the range holds fewer quarantined rows than the page has ids or more', () => {
    store.sync.commitPage(contactsPage([contact('c1')]));
    store.sync.commitPage(txPage([], { rejected: ['t10', 't12', 't14', 't16', 't18'].map((id) => reject(id, 'bad date: "x"')) }));
    // fewer: t12, t14 and t16 lie in the range t11..t17 of a six-id page; only t12 is the page's
    store.sync.commitPage(txPage(['t11', 't12', 't13', 't15', 't17', 't17'].map((id) => tx(id, 'c1'))));
    expect(rows().map((q) => q[2])).toEqual(['t10', 't14', 't16', 't18']);
    // more: t10..t18 hold four rows, the page two ids
    store.sync.commitPage(txPage([tx('t10', 'c1'), tx('t18', 'c1')]));
    expect(rows().map((q) => q[2])).toEqual(['t14', 't16']);
  });

  it('finds ids whose order differs between JavaScript and SQLite (characters from U+D800 up)', () => {
    // JavaScript puts "a😀" (a surrogate pair) before "a\uE000"; SQLite's UTF-8 order puts it after
    const smile = 'a\u{1F600}';
    store.sync.commitPage(contactsPage([], { rejected: [reject(smile, 'bad email: "x@"')] }));
    store.sync.commitPage(contactsPage([contact('a\uE000'), contact(smile)]));
    expect(rows()).toEqual([]);
  });

  it('idRange gives the extremes in SQLite order, or nothing when the orders may differ', () => {
    expect(idRange([])).toBeUndefined();
    expect(idRange(['t0002', 't0001', 't0003'])).toEqual(['t0001', 't0003']);
    // numeric ids compare as text: every id still lies between the extremes
    expect(idRange(['9', '10', '100'])).toEqual(['10', '9']);
    expect(idRange(['b', 'a\uE000'])).toBeUndefined();
    expect(idRange(['b', 'c\u{1F600}'])).toBeUndefined();
    // a high unit inside the range is no problem: it orders the same way past the first difference
    expect(idRange(['a', 'b\u{1F600}', 'c'])).toEqual(['a', 'c']);
  });
});

describe('contacts index by customer around a first load', () => {
  const hasIndex = (): boolean => count("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'contacts_customer'") === 1;

  it('loads an empty table without it and builds it after, on the same rows', () => {
    expect(hasIndex()).toBe(true);
    store.sync.beginContacts();
    expect(hasIndex()).toBe(false);
    store.sync.commitPage(contactsPage([contact('1', { email: 'a@example.com' }), contact('2')]));
    store.sync.finishContacts();
    expect(hasIndex()).toBe(true);
    const plan = raw.prepare<[], { detail: string }>("EXPLAIN QUERY PLAN SELECT id FROM contacts WHERE customer_id = 'x'").all();
    expect(plan.map((r) => r.detail).join(' ')).toContain('contacts_customer');
    expect(raw.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
  });

  it('keeps it for a table with rows, and makes it again when a killed first load left it out', () => {
    store.sync.commitPage(contactsPage([contact('1')]));
    store.sync.beginContacts();
    expect(hasIndex()).toBe(true);
    // a first load killed between its pages: rows, no index
    store.sync.finishContacts();
    const rw = new Database(join(dir, 'store.db'));
    rw.exec('DROP INDEX contacts_customer');
    rw.close();
    expect(hasIndex()).toBe(false);
    store.sync.beginContacts();
    expect(hasIndex()).toBe(true);
  });
});
