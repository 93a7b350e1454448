/**
 * The Salesforce source against the loopback fake org, driven through the real
 * sync engine: query + queryMore paging, the tie-safe cursor, Bulk API 2.0
 * multi-page results, deletions and merges, REQUEST_LIMIT_EXCEEDED stop and
 * resume, the API budget.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeOrg } from './fake-org.js';
import { contactsIn, harness, seedContacts, seedWon, transactionsIn } from './helpers.js';
import { RemoteError } from '../../../src/core/errors.js';
import { clock } from '../../../connectors/salesforce/streams.js';

let org: FakeOrg;
beforeEach(async () => {
  org = await new FakeOrg().start();
});
afterEach(async () => {
  await org.stop();
});

const queries = (o: FakeOrg): string[] => o.requests.filter((r) => r.path === '/query' || r.path === '/queryAll').map((r) => r.query.get('q') ?? '');
const queryMores = (o: FakeOrg): number => o.requests.filter((r) => r.path.startsWith('/query/')).length;

describe('contacts: query + queryMore paging', () => {
  it('reads every page, commits each with its cursor, and reads only changes next time', async () => {
    const rows = seedContacts(org, 4500);
    const h = harness(org);
    const [contacts] = await h.sync();
    expect(contacts).toMatchObject({ stream: 'contacts', read: 4500, upserted: 4500, pages: 3 });
    expect(queries(org).filter((q) => q.includes('FROM Contact'))).toHaveLength(1);
    expect(queryMores(org)).toBe(2);
    // a first sync has nothing in the store to delete: no deleted-opportunities query
    expect(queries(org).filter((q) => q.includes('IsDeleted = true'))).toHaveLength(0);
    const stored = contactsIn(h.store);
    expect(stored).toHaveLength(4500);
    expect(stored[0]).toMatchObject({ email: 'c0@example.com', country: 'US', properties: { LeadSource: 'Partner' } });
    const last = rows[rows.length - 1];
    const cp = h.store.sync.getCheckpoint('sf', 'contacts') as Record<string, unknown>;
    expect(cp).toMatchObject({ contactId: last?.Id, contactStamp: last?.SystemModstamp });

    // incremental: only the changed rows, with the cursor in the query
    org.update(rows[10]?.Id as string, { Email: 'changed@example.com' });
    org.update(rows[20]?.Id as string, { FirstName: 'Changed' });
    const before = org.requests.length;
    const [again] = await h.sync();
    expect(again).toMatchObject({ read: 2, upserted: 2 });
    const q = queries(org).filter((x) => x.includes('FROM Contact')).pop() ?? '';
    expect(q).toMatch(/SystemModstamp > \S+Z OR \(SystemModstamp = \S+Z AND Id > '/);
    expect(q).toMatch(/ORDER BY SystemModstamp, Id$/);
    expect(org.requests.slice(before).filter((r) => r.path.startsWith('/query'))).toHaveLength(3); // contacts, roles, deleted opportunities
    expect(contactsIn(h.store).find((c) => c.externalId === rows[10]?.Id)?.email).toBe('changed@example.com');

    // --full reads everything again, deletions included
    const [full] = await h.sync({ full: true });
    expect(full).toMatchObject({ read: 4500 });
    expect(queries(org).filter((q) => q.includes('IsDeleted = true'))).toHaveLength(2);
  });
});

describe('contacts: the tie-safe cursor', () => {
  it('resumes inside a run of equal SystemModstamps without skipping or re-reading a row', async () => {
    org.maxQueryPage = 200;
    const stamp = new Date(org.clock + 5000).toISOString();
    const tied = seedContacts(org, 500, { stamp });
    const h = harness(org);
    // cancel the run after its first page: that page and its cursor are committed
    const ac = new AbortController();
    const read: string[] = [];
    const hook = org.hooks.push((r) => {
      if (r.path.startsWith('/query/')) ac.abort();
      return undefined;
    });
    const first = await h.sync({ signal: ac.signal });
    org.hooks.splice(hook - 1, 1);
    expect(first[0]).toMatchObject({ read: 400, pages: 2 });
    const cp = h.store.sync.getCheckpoint('sf', 'contacts') as Record<string, string>;
    expect(cp.contactStamp).toBe(stamp);
    expect(cp.contactId).toBe(tied[399]?.Id);

    // more rows at the very same stamp arrive meanwhile
    const late = seedContacts(org, 3, { stamp, from: 5000 });
    const second = await h.sync();
    expect(second[0]).toMatchObject({ read: 103, upserted: 103 });
    const q = queries(org).filter((x) => x.includes('FROM Contact')).pop() ?? '';
    expect(q).toContain(`SystemModstamp = ${stamp.slice(0, 19)}Z AND Id > '${tied[399]?.Id}'`);
    for (const r of [...tied, ...late]) read.push(r.Id as string);
    const stored = contactsIn(h.store).map((c) => c.externalId);
    expect(stored).toEqual([...read].sort());
  });
});

describe('contacts: Bulk API 2.0 above bulkThreshold', () => {
  it('reads a multi-page job by its Sforce-Locator, unordered, and moves the cursor to the latest row', async () => {
    const rows = seedContacts(org, 450);
    const h = harness(org, { connector: 'bulkThreshold: 100' });
    const [c] = await h.sync({ pageSize: 200 });
    expect(c).toMatchObject({ read: 450, upserted: 450 });
    const jobs = org.requests.filter((r) => r.path === '/jobs/query' && r.method === 'POST');
    expect(jobs).toHaveLength(1);
    const job = jobs[0]?.body as { operation: string; query: string };
    expect(job.operation).toBe('queryAll');
    expect(job.query).not.toMatch(/ORDER BY/);
    const pages = org.requests.filter((r) => /^\/jobs\/query\/[^/]+\/results$/.test(r.path));
    expect(pages).toHaveLength(3);
    expect(pages[0]?.query.get('locator')).toBeNull();
    expect(pages[1]?.query.get('locator')).toBeTruthy();
    expect(pages[2]?.query.get('locator')).toBeTruthy();
    expect(contactsIn(h.store)).toHaveLength(450);
    const last = rows[rows.length - 1];
    expect(h.store.sync.getCheckpoint('sf', 'contacts')).toMatchObject({ contactId: last?.Id, contactStamp: last?.SystemModstamp, contactBulkJob: null });
  });

  it('resumes a cancelled bulk read at the saved locator of the same job', async () => {
    seedContacts(org, 450);
    const h = harness(org, { connector: 'bulkThreshold: 100' });
    const ac = new AbortController();
    org.hooks.push((r) => {
      if (r.path.endsWith('/results')) ac.abort();
      return undefined;
    });
    const [first] = await h.sync({ signal: ac.signal, pageSize: 200 });
    org.hooks.length = 0;
    expect(first?.read).toBe(200);
    const cp = h.store.sync.getCheckpoint('sf', 'contacts') as Record<string, string | null>;
    expect(cp.contactBulkJob).toBeTruthy();
    expect(cp.contactBulkLocator).toBeTruthy();
    const [second] = await h.sync({ pageSize: 200 });
    expect(second?.read).toBe(250);
    expect(org.requests.filter((r) => r.path === '/jobs/query' && r.method === 'POST')).toHaveLength(1);
    const resumed = org.requests.filter((r) => r.path.endsWith('/results')).slice(1);
    expect(resumed[0]?.query.get('locator')).toBe(cp.contactBulkLocator);
    expect(contactsIn(h.store)).toHaveLength(450);
  });

  it('starts over from the cursor when the job results are gone', async () => {
    seedContacts(org, 300);
    const h = harness(org, { connector: 'bulkThreshold: 100' });
    const ac = new AbortController();
    org.hooks.push((r) => {
      if (r.path.endsWith('/results')) ac.abort();
      return undefined;
    });
    await h.sync({ signal: ac.signal, pageSize: 200 });
    org.hooks.length = 0;
    const firstJob = (h.store.sync.getCheckpoint('sf', 'contacts') as Record<string, string>).contactBulkJob as string;
    org.hooks.push((r) => (r.path === `/jobs/query/${firstJob}/results` ? { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'job expired' }] } : undefined));
    const [second] = await h.sync({ pageSize: 200 });
    expect(second?.read).toBe(300);
    expect(org.requests.filter((r) => r.path === '/jobs/query' && r.method === 'POST')).toHaveLength(2);
    expect(contactsIn(h.store)).toHaveLength(300);
  });
});

describe('deletions', () => {
  it('removes deleted and merged contacts (queryAll) and converted leads', async () => {
    const rows = seedContacts(org, 10);
    const lead = org.insert('Lead', { Email: 'lead@example.com', LastName: 'Lead', Company: 'Acme', Status: 'Open' });
    const lead2 = org.insert('Lead', { Email: 'lead2@example.com', LastName: 'Lead2', Company: 'Acme', Status: 'Open' });
    const h = harness(org, { connector: 'includeLeads: true' });
    await h.sync();
    expect(contactsIn(h.store)).toHaveLength(12);
    org.delete(rows[1]?.Id as string);
    org.delete(rows[2]?.Id as string);
    org.merge(rows[3]?.Id as string, rows[4]?.Id as string);
    org.update(lead.Id as string, { IsConverted: true });
    const [c] = await h.sync();
    expect(c?.deleted).toBe(4);
    const gone = contactsIn(h.store).filter((x) => x.deleted).map((x) => x.externalId).sort();
    expect(gone).toEqual([rows[1]?.Id, rows[2]?.Id, rows[4]?.Id, lead.Id].sort());
    expect(contactsIn(h.store).find((x) => x.externalId === lead2.Id)).toMatchObject({ deleted: false, company: 'Acme' });
    expect(queries(org).some((q) => q.includes('FROM Lead'))).toBe(true);
  });

  it('with deletions: getDeleted, lists them through the getDeleted endpoint', async () => {
    const rows = seedContacts(org, 6);
    const h = harness(org, { connector: 'deletions: getDeleted' });
    // the connector's wall clock follows the org's
    clock.now = () => org.clock + 60_000;
    await h.sync();
    org.clock += 120_000;
    org.delete(rows[0]?.Id as string);
    org.merge(rows[1]?.Id as string, rows[2]?.Id as string);
    org.clock += 120_000;
    const [c] = await h.sync();
    clock.now = () => Date.now();
    expect(c?.deleted).toBe(2);
    expect(org.requests.some((r) => r.path === '/sobjects/Contact/deleted/')).toBe(true);
    expect(org.requests.filter((r) => r.path === '/queryAll')).toHaveLength(0);
    expect(contactsIn(h.store).filter((x) => x.deleted).map((x) => x.externalId).sort()).toEqual([rows[0]?.Id, rows[2]?.Id].sort());
  });
});

describe('REQUEST_LIMIT_EXCEEDED', () => {
  it('stops cleanly with the checkpoint saved, and the next run resumes where it stopped', async () => {
    org.maxQueryPage = 200;
    const contacts = seedContacts(org, 450);
    for (const c of contacts.slice(0, 50)) seedWon(org, c.Id as string, 100, '2026-03-01');
    // other integrations use up the org's day while this sync runs
    let n = 0;
    org.hooks.push((r) => {
      if (r.path.startsWith('/query') && ++n === 3) org.limit.used = org.limit.max;
      return undefined;
    });
    const h = harness(org);
    const err = await h.sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ kind: 'daily_limit', code: 'CONNECTOR_RATE_LIMIT' });
    expect((err as RemoteError).hint).toMatch(/progress is saved/);
    // two pages committed, the third refused (once: a daily limit is not retried)
    expect(contactsIn(h.store)).toHaveLength(400);
    expect(org.requests.filter((r) => r.status === 403)).toHaveLength(1);
    const cp = h.store.sync.getCheckpoint('sf', 'contacts') as Record<string, string>;
    expect(cp.contactId).toBe(contacts[399]?.Id);

    org.hooks.length = 0;
    org.limit.used = 0;
    const [c, t] = await h.sync();
    expect(c).toMatchObject({ read: 50 });
    expect(t).toMatchObject({ read: 50, upserted: 50 });
    expect(queries(org).filter((q) => q.includes('FROM Contact')).pop()).toContain(`Id > '${contacts[399]?.Id}'`);
    expect(contactsIn(h.store)).toHaveLength(450);
    expect(transactionsIn(h.store)).toHaveLength(50);
  });

  it('never spends more than maxApiShare of the daily calls left', async () => {
    org.maxQueryPage = 200;
    seedContacts(org, 1200);
    org.limit.used = 990;
    org.limit.max = 1000;
    const h = harness(org, { connector: 'maxApiShare: 0.5' });
    const sent = org.requests.length;
    const err = await h.sync().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'daily_limit' });
    expect((err as Error).message).toMatch(/maxApiShare 0.5 of the 10 daily calls left/);
    // 10 calls were left: the job sent 5
    expect(org.requests.length - sent).toBe(5);
    expect(contactsIn(h.store)).toHaveLength(1000);
  });
});
