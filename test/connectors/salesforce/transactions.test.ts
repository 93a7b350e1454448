/**
 * Transactions: won Opportunities linked to contacts through
 * OpportunityContactRole (primary first, else the earliest role), their
 * currency (multi-currency orgs, or the org's currency), opportunities that stop
 * being won or are deleted, opportunities whose roles span a page boundary;
 * and activated Orders as the alternative source.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeOrg } from './fake-org.js';
import { harness, quarantineIn, seedContacts, seedWon, transactionsIn } from './helpers.js';

let org: FakeOrg;
beforeEach(async () => {
  org = await new FakeOrg().start();
});
afterEach(async () => {
  await org.stop();
});

describe('won opportunities through contact roles', () => {
  it('links each opportunity to its primary contact role, else the earliest role', async () => {
    const [a, b, c] = seedContacts(org, 3).map((r) => r.Id as string) as [string, string, string];
    // the primary role was added after another one
    const o1 = org.insert('Opportunity', { Amount: 1200, CloseDate: '2026-02-01', StageName: 'Closed Won', IsWon: true, CurrencyIsoCode: 'EUR' });
    org.insert('OpportunityContactRole', { OpportunityId: o1.Id, ContactId: b, IsPrimary: false });
    org.insert('OpportunityContactRole', { OpportunityId: o1.Id, ContactId: a, IsPrimary: true });
    // no primary: the earliest role
    const o2 = org.insert('Opportunity', { Amount: 50.5, CloseDate: '2026-03-15', StageName: 'Won', IsWon: true, CurrencyIsoCode: 'USD' });
    org.insert('OpportunityContactRole', { OpportunityId: o2.Id, ContactId: c, IsPrimary: false });
    org.insert('OpportunityContactRole', { OpportunityId: o2.Id, ContactId: b, IsPrimary: false });
    // open and lost ones are not transactions
    const open = org.insert('Opportunity', { Amount: 9, CloseDate: '2026-04-01', StageName: 'Prospecting', IsWon: false, CurrencyIsoCode: 'USD' });
    org.insert('OpportunityContactRole', { OpportunityId: open.Id, ContactId: a, IsPrimary: true });
    // a won one without an amount is quarantined with its reason
    const bad = org.insert('Opportunity', { Amount: null, CloseDate: '2026-04-01', StageName: 'Closed Won', IsWon: true, CurrencyIsoCode: 'USD' });
    org.insert('OpportunityContactRole', { OpportunityId: bad.Id, ContactId: a, IsPrimary: true });

    const h = harness(org);
    const [, t] = await h.sync();
    expect(t).toMatchObject({ stream: 'transactions', upserted: 2, quarantined: 1 });
    expect(transactionsIn(h.store)).toEqual([
      { externalId: o1.Id, contactId: `sf:${a}`, amount: 1200, currency: 'EUR', deleted: false },
      { externalId: o2.Id, contactId: `sf:${c}`, amount: 50.5, currency: 'USD', deleted: false },
    ]);
    expect(quarantineIn(h.store)).toEqual([{ stream: 'transactions', externalId: bad.Id, reason: 'missing amount: Amount is empty' }]);
  });

  it('removes opportunities that stop being won or are deleted; picks up changed ones', async () => {
    const [a, b] = seedContacts(org, 2).map((r) => r.Id as string) as [string, string];
    const o1 = seedWon(org, a, 100, '2026-01-10');
    const o2 = seedWon(org, b, 200, '2026-01-11');
    const o3 = seedWon(org, b, 300, '2026-01-12');
    const h = harness(org);
    await h.sync();
    expect(transactionsIn(h.store).filter((t) => !t.deleted)).toHaveLength(3);
    org.update(o1.Id as string, { IsWon: false, StageName: 'Closed Lost' });
    org.delete(o2.Id as string);
    org.update(o3.Id as string, { Amount: 333 });
    const [, t] = await h.sync();
    expect(t).toMatchObject({ upserted: 1, deleted: 2 });
    const byId = new Map(transactionsIn(h.store).map((x) => [x.externalId, x]));
    expect(byId.get(o1.Id as string)?.deleted).toBe(true);
    expect(byId.get(o2.Id as string)?.deleted).toBe(true);
    expect(byId.get(o3.Id as string)).toMatchObject({ amount: 333, deleted: false });
    // and a third run reads nothing again
    const [, t3] = await h.sync();
    expect(t3).toMatchObject({ read: 0, upserted: 0, deleted: 0 });
  });

  it('takes an opportunity once when its roles straddle a page boundary, also across a resume', async () => {
    org.maxQueryPage = 200;
    const people = seedContacts(org, 4).map((r) => r.Id as string);
    const opps: string[] = [];
    for (let i = 0; i < 199; i++) opps.push(seedWon(org, people[i % 4] as string, 10 + i, '2026-02-01').Id as string);
    const multi = org.insert('Opportunity', { Amount: 999, CloseDate: '2026-02-02', StageName: 'Closed Won', IsWon: true, CurrencyIsoCode: 'USD' });
    org.insert('OpportunityContactRole', { OpportunityId: multi.Id, ContactId: people[1], IsPrimary: false });
    org.insert('OpportunityContactRole', { OpportunityId: multi.Id, ContactId: people[2], IsPrimary: true });
    org.insert('OpportunityContactRole', { OpportunityId: multi.Id, ContactId: people[3], IsPrimary: false });
    for (let i = 0; i < 5; i++) opps.push(seedWon(org, people[0] as string, 5, '2026-02-03').Id as string);
    const h = harness(org);
    // cancel after the first page of roles: it ends inside the three-role opportunity
    const ac = new AbortController();
    org.hooks.push((r) => {
      if (r.path === '/query' && r.query.get('q')?.includes('OpportunityContactRole')) ac.abort();
      return undefined;
    });
    await h.sync({ signal: ac.signal });
    org.hooks.length = 0;
    expect(transactionsIn(h.store)).toHaveLength(200);
    const [, t] = await h.sync();
    expect(t?.upserted).toBe(5);
    const all = transactionsIn(h.store);
    expect(all).toHaveLength(205);
    expect(all.find((x) => x.externalId === multi.Id)).toMatchObject({ contactId: `sf:${people[2]}`, amount: 999 });

    // and in one run, where the next page starts with the same opportunity's other roles
    const fresh = harness(org);
    const [, t2] = await fresh.sync();
    expect(t2?.upserted).toBe(205);
    expect(transactionsIn(fresh.store).find((x) => x.externalId === multi.Id)).toMatchObject({ contactId: `sf:${people[2]}` });
  });

  it('in a single-currency org uses the org currency, read once and kept in the checkpoint', async () => {
    org.multiCurrency = false;
    const [a] = seedContacts(org, 1).map((r) => r.Id as string) as [string];
    seedWon(org, a, 70, '2026-05-01');
    const h = harness(org);
    await h.sync();
    expect(transactionsIn(h.store)).toEqual([expect.objectContaining({ amount: 70, currency: 'EUR' })]);
    expect(h.store.sync.getCheckpoint('sf', 'transactions')).toMatchObject({ currency: 'EUR', source: 'opportunities' });
    const orgQueries = () => org.requests.filter((r) => r.query.get('q')?.includes('FROM Organization')).length;
    expect(orgQueries()).toBe(1);
    seedWon(org, a, 80, '2026-05-02');
    await h.sync();
    expect(orgQueries()).toBe(1);
    expect(transactionsIn(h.store)).toHaveLength(2);
  });
});

describe('orders', () => {
  it('reads activated orders for their contact and drops drafts and deleted ones', async () => {
    const [a, b] = seedContacts(org, 2).map((r) => r.Id as string) as [string, string];
    const o1 = org.insert('Order', { TotalAmount: 40, EffectiveDate: '2026-01-05', Status: 'Activated', StatusCode: 'Activated', BillToContactId: a, CurrencyIsoCode: 'GBP' });
    const o2 = org.insert('Order', { TotalAmount: 60, EffectiveDate: '2026-01-06', Status: 'Draft', StatusCode: 'Draft', BillToContactId: b, CurrencyIsoCode: 'GBP' });
    const o3 = org.insert('Order', { TotalAmount: 80, EffectiveDate: '2026-01-07', Status: 'Activated', StatusCode: 'Activated', BillToContactId: b, CurrencyIsoCode: 'GBP' });
    const h = harness(org, { connector: 'transactions: { source: orders }' });
    await h.sync();
    expect(transactionsIn(h.store).map((t) => [t.externalId, t.contactId, t.amount, t.currency])).toEqual([
      [o1.Id, `sf:${a}`, 40, 'GBP'],
      [o3.Id, `sf:${b}`, 80, 'GBP'],
    ]);
    org.update(o2.Id as string, { Status: 'Activated', StatusCode: 'Activated' });
    org.delete(o3.Id as string);
    const [, t] = await h.sync();
    expect(t).toMatchObject({ upserted: 1, deleted: 1 });
    expect(org.requests.some((r) => r.query.get('q')?.includes('Opportunity'))).toBe(false);
  });
});
