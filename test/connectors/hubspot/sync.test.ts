/**
 * The HubSpot streams through the real sync engine and store, against the fake
 * HubSpot: full listings to the end, deals linked through the v4 associations
 * API, incremental keyset search (past the 10,000-result cap, many records on
 * one timestamp, records changing mid-read), archived and merged records.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hubspotCheckpointSchema } from '../../../connectors/hubspot/streams.js';
import { advance, quarantined, setup, storedContacts, storedTransactions, teardown, type Env } from './helpers.js';
import type { RecordedRequest } from './fake-hubspot.js';
import { expectBodiesMatchSdkModels } from './sdk-models.js';

let env: Env | undefined;
afterEach(() => teardown(env));

const listCalls = (e: Env, type: string, archived = false): RecordedRequest[] =>
  e.fake.requests.filter((r) => r.method === 'GET' && r.path === `/crm/v3/objects/${type}` && (r.query.get('archived') === 'true') === archived);
const searches = (e: Env, type: string, since = 0): RecordedRequest[] =>
  e.fake.requests.slice(since).filter((r) => r.path === `/crm/v3/objects/${type}/search`);

interface SearchBody {
  filterGroups: { filters: { propertyName: string; operator: string; value: string }[] }[];
  sorts: { propertyName: string; direction: string }[];
  limit: number;
  after?: string;
}

describe('HubSpot sync: full listing', () => {
  it('pages contacts and deals to the end and links deals to contacts through the associations batch API', async () => {
    env = setup();
    for (let i = 1; i <= 250; i++) env.fake.addContact(i, { email: `P${i}@Example.com`, country: i % 2 ? 'Germany' : 'US', firstname: ` Ann${i} ` });
    for (let d = 1; d <= 230; d++) {
      // every tenth deal is in a custom pipeline whose stages only HubSpot's pipeline metadata explains
      const stage = d % 10 === 0 ? { pipeline: '777', dealstage: d % 20 === 0 ? '9003' : '9002' } : { pipeline: 'default', dealstage: 'closedwon' };
      env.fake.addDeal(5000 + d, { amount: String(d * 10), closedate: '2026-05-01T10:00:00.000Z', deal_currency_code: 'eur', ...stage }, [((d * 7) % 250) + 1]);
    }
    const counts = await env.sync({ full: true });

    expect(counts.map((c) => [c.stream, c.read, c.upserted, c.quarantined])).toEqual([
      ['contacts', 250, 250, 0],
      ['transactions', 230, 230, 0],
    ]);
    // pages of 100, each following the previous page's cursor, to the last page
    const pages = listCalls(env, 'contacts');
    expect(pages.map((r) => [r.query.get('limit'), r.query.get('after')])).toEqual([
      ['100', null],
      ['100', '101'],
      ['100', '201'],
    ]);
    expect(listCalls(env, 'deals')).toHaveLength(3);
    // 230 deals, one associations call (up to 1,000 ids each), one pipelines read for the custom stages
    const assoc = env.fake.requests.filter((r) => r.path === '/crm/v4/associations/deals/contacts/batch/read');
    expect(assoc).toHaveLength(1);
    expect((assoc[0]?.body as { inputs: unknown[] }).inputs).toHaveLength(230);
    expect(env.fake.count('GET', /^\/crm\/v3\/pipelines\/deals$/)).toBe(1);
    expect(expectBodiesMatchSdkModels(env.fake.requests)).toEqual({ BatchInputPublicFetchAssociationsBatchRequest: 1 });
    // full syncs always list archived records too
    expect(listCalls(env, 'contacts', true)).toHaveLength(1);
    expect(listCalls(env, 'deals', true)).toHaveLength(1);

    const contacts = storedContacts(env.store);
    expect(contacts.size).toBe(250);
    expect(contacts.get('7')).toMatchObject({ email: 'p7@example.com', country: 'DE', deleted: false });
    const txs = storedTransactions(env.store);
    expect(txs.size).toBe(230);
    // the canonical contact id: "<connector name>:<hubspot contact id>"
    expect(txs.get('5001')).toEqual({ contactId: 'hs:8', amount: 10, currency: 'EUR', status: 'won', occurredAt: '2026-05-01T10:00:00.000Z', deleted: false });
    expect([txs.get('5010')?.status, txs.get('5020')?.status]).toEqual(['won', 'lost']);

    const cp = hubspotCheckpointSchema.parse(env.store.sync.getCheckpoint('hs', 'contacts'));
    expect(cp).toMatchObject({ phase: 'idle', since: Date.parse('2026-07-01T12:00:00.000Z') });
  });

  it('quarantines what it cannot map, with the reason, and keeps the rest', async () => {
    env = setup();
    env.fake.addContact(1, { email: 'ok@example.com' });
    env.fake.addContact(2, { email: 'not-an-email' });
    env.fake.addContact(3, { email: 'c3@example.com', country: 'Atlantis' });
    env.fake.addDeal(10, { amount: '5', closedate: '2026-01-01T00:00:00Z', dealstage: 'closedwon' }, []);
    env.fake.addDeal(11, { amount: null, closedate: '2026-01-01T00:00:00Z', dealstage: 'closedwon' }, [1]);
    env.fake.addDeal(12, { amount: '7.5', closedate: '2026-01-01T00:00:00Z', dealstage: 'closedwon' }, [1]);
    // deal 13 belongs to a contact that was quarantined: the sync engine rejects it too
    env.fake.addDeal(13, { amount: '9', closedate: '2026-01-01T00:00:00Z', dealstage: 'closedwon' }, [2]);
    await env.sync({ full: true });
    expect([...storedContacts(env.store).keys()]).toEqual(['1']);
    expect([...storedTransactions(env.store).keys()]).toEqual(['12']);
    const q = quarantined(env.store).map((r) => [r.stream, r.external_id, r.reason.split(':')[0]]);
    expect(q).toEqual(
      expect.arrayContaining([
        ['contacts', '2', 'bad email'],
        ['contacts', '3', 'bad country'],
        ['transactions', '10', 'deal has no associated contact'],
        ['transactions', '11', 'missing amount'],
        ['transactions', '13', 'unknown contact'],
      ]),
    );
  });
});

describe('HubSpot sync: incremental search', () => {
  it('reads only what changed since the saved cursor, through the search API', async () => {
    env = setup();
    for (let i = 1; i <= 120; i++) env.fake.addContact(i, { email: `p${i}@example.com` }, '2026-06-01T00:00:00.000Z');
    await env.sync({ full: true });
    const firstRun = env.fake.requests.length;
    const t0 = Date.parse('2026-07-01T12:00:00.000Z');
    advance(3_600_000);
    for (let i = 1; i <= 30; i++) {
      const c = env.fake.contacts.get(String(i));
      if (!c) throw new Error('missing');
      c.properties.email = `new${i}@example.com`;
      c.properties.lastmodifieddate = new Date().toISOString();
    }
    for (let i = 121; i <= 125; i++) env.fake.addContact(i, { email: `p${i}@example.com` }, new Date().toISOString());
    advance(60_000);
    const counts = await env.sync();
    expect(counts[0]).toMatchObject({ stream: 'contacts', read: 35, upserted: 35 });
    // no listing, no archived listing (the interval has not passed): searches only
    expect(env.fake.requests.slice(firstRun).filter((r) => r.method === 'GET' && r.path.startsWith('/crm/v3/objects'))).toHaveLength(0);
    const s = searches(env, 'contacts', firstRun);
    expect(s).toHaveLength(1);
    const body = s[0]?.body as SearchBody;
    expect(body.filterGroups[0]?.filters).toEqual([
      { propertyName: 'lastmodifieddate', operator: 'GTE', value: String(t0 - 5 * 60_000) },
      { propertyName: 'lastmodifieddate', operator: 'LT', value: String(t0 + 3_660_000) },
    ]);
    expect(body.sorts).toEqual([{ propertyName: 'hs_object_id', direction: 'ASCENDING' }]);
    expect(storedContacts(env.store).get('3')?.email).toBe('new3@example.com');
    expect(storedContacts(env.store).size).toBe(125);
    // deals use hs_lastmodifieddate
    const deal = searches(env, 'deals', firstRun)[0]?.body as SearchBody;
    expect(deal.filterGroups[0]?.filters[0]?.propertyName).toBe('hs_lastmodifieddate');
    // the search bodies match the SDK's request model (sorts: HubSpot's documented object form)
    expect(expectBodiesMatchSdkModels(env.fake.requests)).toEqual({ PublicObjectSearchRequest: 2 });
  });

  it('reads 12,000 changes past the 10,000-result cap, 10,200 of them on one timestamp, without offset paging', async () => {
    env = setup();
    await env.sync({ full: true });
    advance(3_600_000);
    const N = 12_000;
    const same = new Date(Date.now() - 1_000).toISOString();
    for (let i = 1; i <= N; i++) {
      env.fake.addContact(100_000 + i, { email: `p${i}@example.com` }, i <= 10_200 ? same : new Date(Date.now() - 500_000 + i).toISOString());
    }
    const before = env.fake.requests.length;
    const counts = await env.sync();
    expect(counts[0]).toMatchObject({ stream: 'contacts', read: N, upserted: N });
    expect(storedContacts(env.store).size).toBe(N);
    const s = searches(env, 'contacts', before);
    expect(s).toHaveLength(Math.ceil(N / 200));
    let last = 0n;
    for (const r of s) {
      const b = r.body as SearchBody;
      // every query starts at offset 0: the cap on paging never applies
      expect(b.after).toBeUndefined();
      expect(b.limit).toBe(200);
      const gt = b.filterGroups[0]?.filters.find((f) => f.propertyName === 'hs_object_id');
      if (last === 0n) expect(gt).toBeUndefined();
      else expect(BigInt(gt?.value ?? '0')).toBe(last);
      last = BigInt(100_000 + Math.min(N, (s.indexOf(r) + 1) * 200));
    }
    // and search stayed within 4 calls per second
    const at = s.map((r) => r.at);
    for (let i = 4; i < at.length; i++) expect((at[i] as number) - (at[i - 4] as number)).toBeGreaterThanOrEqual(1_000);
  });

  it('does not skip records when one already read changes during the pass', async () => {
    env = setup();
    await env.sync({ full: true });
    advance(3_600_000);
    for (let i = 1; i <= 450; i++) env.fake.addContact(i, { email: `p${i}@example.com` }, new Date(Date.now() - 10 * 60_000).toISOString());
    let n = 0;
    env.fake.onRequest = (r) => {
      if (r.path !== '/crm/v3/objects/contacts/search' || ++n !== 2) return;
      // contact 10 (read on page 1) is edited now: offset paging would now skip contact 201
      const c = env?.fake.contacts.get('10');
      if (c) c.properties.lastmodifieddate = new Date().toISOString();
    };
    await env.sync();
    expect(storedContacts(env.store).size).toBe(450);
    // the edit is newer than this pass: the next pass reads it again
    env.fake.onRequest = undefined;
    advance(60_000);
    const before = env.fake.requests.length;
    const again = await env.sync();
    expect(again[0]).toMatchObject({ read: 1 });
    expect((searches(env, 'contacts', before)[0]?.body as SearchBody).filterGroups).toHaveLength(1);
  });

  it('a deal created with a new contact between the two streams is read on the next sync, after its contact', async () => {
    env = setup();
    env.fake.addContact(1, { email: 'p1@example.com' }, '2026-06-01T00:00:00.000Z');
    await env.sync({ full: true });
    advance(3_600_000);
    const t = Date.now();
    let done = false;
    env.fake.onRequest = (r) => {
      // the contacts pass has read up to t; then, before the deals pass, someone adds a customer
      // and their deal, and the deals pass starts ten minutes later (a slow contacts pass)
      if (done || r.path !== '/crm/v3/objects/contacts/search') return;
      done = true;
      env?.fake.addContact(900, { email: 'new@example.com' }, new Date(t + 60_000).toISOString());
      env?.fake.addDeal(901, { amount: '30', closedate: '2026-07-01T12:00:00Z', dealstage: 'closedwon' }, [900], new Date(t + 120_000).toISOString());
      advance(10 * 60_000);
    };
    await env.sync();
    env.fake.onRequest = undefined;
    advance(60_000);
    await env.sync();
    expect(storedTransactions(env.store).get('901')).toMatchObject({ contactId: 'hs:900', amount: 30 });
    expect(quarantined(env.store)).toEqual([]);
  });

  it('a deal quarantined for a contact that did not exist yet leaves quarantine once a later sync stores it', async () => {
    env = setup();
    env.fake.addContact(1, { email: 'p1@example.com' }, '2026-06-01T00:00:00.000Z');
    const won = { amount: '40', closedate: '2026-06-15T00:00:00Z', dealstage: 'closedwon' };
    // deal 20's contact is created later; deal 21's never is
    env.fake.addDeal(20, won, [2], '2026-06-01T00:00:00.000Z');
    env.fake.addDeal(21, won, [99], '2026-06-01T00:00:00.000Z');
    await env.sync({ full: true, runId: 1 });
    expect(quarantined(env.store).map((q) => [q.external_id, q.reason.split(':')[0]])).toEqual([
      ['20', 'unknown contact'],
      ['21', 'unknown contact'],
    ]);

    advance(3_600_000);
    const now = new Date().toISOString();
    env.fake.addContact(2, { email: 'p2@example.com' }, now);
    for (const id of ['20', '21']) {
      const d = env.fake.deals.get(id);
      if (!d) throw new Error('missing deal');
      d.properties.hs_lastmodifieddate = now;
    }
    advance(60_000);
    const counts = await env.sync({ runId: 2 });
    expect(counts.map((c) => [c.stream, c.read, c.upserted, c.quarantined])).toEqual([
      ['contacts', 1, 1, 0],
      ['transactions', 2, 1, 1],
    ]);
    expect(storedTransactions(env.store).get('20')).toMatchObject({ contactId: 'hs:2', amount: 40 });
    // what `segsync status` lists: deal 20 is gone from it, deal 21 still fails and stays
    const left = quarantined(env.store);
    expect(left.map((q) => q.external_id)).toEqual(['21']);
    expect(env.store.status.quarantineGroups()).toEqual([{ connector: 'hs', stream: 'transactions', reason: 'unknown contact', count: 1 }]);
    expect(env.store.status.counts().quarantined).toBe(1);
  });

  it('with nothing changed, an incremental sync makes one search per stream and reads nothing', async () => {
    env = setup();
    for (let i = 1; i <= 10; i++) env.fake.addContact(i, { email: `p${i}@example.com` }, '2026-06-01T00:00:00.000Z');
    await env.sync({ full: true });
    advance(10 * 60_000);
    const before = env.fake.requests.length;
    const counts = await env.sync();
    expect(counts.map((c) => c.read)).toEqual([0, 0]);
    expect(env.fake.requests.slice(before).map((r) => r.path)).toEqual(['/crm/v3/objects/contacts/search', '/crm/v3/objects/deals/search']);
  });
});

describe('HubSpot sync: deletions and merges', () => {
  it('marks archived contacts deleted on full syncs and on the configured interval', async () => {
    env = setup({ connector: 'archivedCheckInterval: 24h' });
    for (let i = 1; i <= 20; i++) env.fake.addContact(i, { email: `p${i}@example.com` }, '2026-06-01T00:00:00.000Z');
    env.fake.addDeal(70, { amount: '1', closedate: '2026-01-01T00:00:00Z', dealstage: 'closedwon' }, [4]);
    await env.sync({ full: true });
    expect(storedContacts(env.store).get('3')?.deleted).toBe(false);

    env.fake.archiveContact('3');
    env.fake.deals.delete('70');
    env.fake.archivedDeals.set('70', { id: '70', properties: {}, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z', archivedAt: '2026-07-01T12:00:00.000Z' });
    advance(3_600_000);
    await env.sync();
    // within the interval: no archived listing yet
    expect(storedContacts(env.store).get('3')?.deleted).toBe(false);

    advance(24 * 3_600_000);
    const before = env.fake.requests.length;
    const counts = await env.sync();
    expect(env.fake.requests.slice(before).filter((r) => r.query.get('archived') === 'true').map((r) => r.path)).toEqual([
      '/crm/v3/objects/contacts',
      '/crm/v3/objects/deals',
    ]);
    expect(counts.map((c) => c.deleted)).toEqual([1, 1]);
    expect(storedContacts(env.store).get('3')?.deleted).toBe(true);
    expect(storedTransactions(env.store).get('70')?.deleted).toBe(true);
    // the next run within the interval does not list archived records again
    advance(3_600_000);
    const b2 = env.fake.requests.length;
    await env.sync();
    expect(env.fake.requests.slice(b2).filter((r) => r.query.get('archived') === 'true')).toHaveLength(0);
  });

  it('with archivedCheckInterval "never", only full syncs list archived records', async () => {
    env = setup({ connector: 'archivedCheckInterval: never' });
    for (let i = 1; i <= 5; i++) env.fake.addContact(i, { email: `p${i}@example.com` }, '2026-06-01T00:00:00.000Z');
    await env.sync({ full: true });
    env.fake.archiveContact('4');
    advance(40 * 24 * 3_600_000);
    await env.sync();
    expect(storedContacts(env.store).get('4')?.deleted).toBe(false);
    await env.sync({ full: true });
    expect(storedContacts(env.store).get('4')?.deleted).toBe(true);
  });

  it('a contact whose hs_merged_object_ids names others absorbs them: the merged-away ids are deleted', async () => {
    env = setup();
    for (let i = 1; i <= 10; i++) env.fake.addContact(i, { email: `p${i}@example.com` }, '2026-06-01T00:00:00.000Z');
    await env.sync({ full: true });
    advance(3_600_000);
    env.fake.mergeContacts('9', '5');
    env.fake.mergeContacts('9', '6');
    advance(60_000);
    const counts = await env.sync();
    expect(counts[0]).toMatchObject({ read: 1, upserted: 1, deleted: 2 });
    const c = storedContacts(env.store);
    expect([c.get('5')?.deleted, c.get('6')?.deleted, c.get('9')?.deleted]).toEqual([true, true, false]);
    // a full sync sees the survivor again: the merged ids stay deleted, nothing comes back
    await env.sync({ full: true });
    const after = storedContacts(env.store);
    expect([after.get('5')?.deleted, after.get('6')?.deleted]).toEqual([true, true]);
  });
});
