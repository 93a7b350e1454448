/**
 * Fault scenario 4: records change and disappear in the CRMs while a sync reads
 * them (pages that change between two reads). HubSpot changes arrive while the
 * deals are listed (after the contacts stream, its archived pass included, is
 * done); Salesforce changes arrive while the contacts query is paged, behind
 * and ahead of the cursor. The next incremental run (half an hour later) must
 * catch up: its store, lists, campaigns and fields equal those of a run that saw
 * the changed CRMs from the start.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FakeHubspot } from '../connectors/hubspot/fake-hubspot.js';
import type { FakeOrg } from '../connectors/salesforce/fake-org.js';
import { seedWon } from '../connectors/salesforce/helpers.js';
import type { Interceptor, SeenRequest } from '../support/fake-http.js';
import { endState, fakeClock, openSession, runPipeline, startWorld, type World } from './support/world.js';

/** Explicit stamps, the same in both worlds (the faked clock stands still between waits). */
const STAMP = '2026-07-01T12:00:00.000Z';
const WORLD = { hubspot: ['archivedCheckInterval: 30m'] };

function changeHubspot(hs: FakeHubspot): void {
  const c100 = hs.contacts.get('100');
  const c150 = hs.contacts.get('150');
  if (!c100 || !c150) throw new Error('seed changed');
  Object.assign(c100.properties, { email: 'c100.renamed@example.com', firstname: 'Renamed', lastmodifieddate: STAMP });
  Object.assign(c150.properties, { country: 'FR', lastmodifieddate: STAMP });
  hs.archiveContact('101');
  hs.addContact(9000, { email: 'new9000@example.com', country: 'DE' }, STAMP);
  for (let i = 0; i < 4; i++) {
    hs.addDeal(990_000 + i, { amount: '75.00', closedate: `2026-06-${10 + i}T00:00:00.000Z`, dealstage: 'closedwon', pipeline: 'default', deal_currency_code: 'USD' }, [9000], STAMP);
  }
  // one deal of contact 102 changes its amount, one of contact 103 is deleted
  const of = (c: string): string => [...hs.dealContacts].find(([, cs]) => cs.includes(c))?.[0] ?? '';
  const d102 = hs.deals.get(of('102'));
  const d103 = hs.deals.get(of('103'));
  if (!d102 || !d103) throw new Error('seed changed');
  Object.assign(d102.properties, { amount: '999.00', hs_lastmodifieddate: STAMP });
  hs.deals.delete(d103.id);
  hs.archivedDeals.set(d103.id, { ...d103, archivedAt: STAMP });
}

function changeSalesforce(sf: FakeOrg): void {
  const byEmail = (e: string): string => sf.live('Contact').find((c) => c.Email === e)?.Id as string;
  // behind the cursor: changed, deleted; ahead of it: deleted
  sf.update(byEmail('c0@example.com'), { Email: 'c0.renamed@example.com', FirstName: 'Renamed' });
  sf.delete(byEmail('c1@example.com'));
  sf.delete(byEmail('c62@example.com'));
  const fresh = sf.insert('Contact', { Email: 'sfnew@example.com', FirstName: 'New', LastName: 'Person', MailingCountry: 'Germany', LeadSource: 'Web' });
  for (let i = 0; i < 3; i++) seedWon(sf, fresh.Id as string, 120, `2026-06-0${i + 1}`);
  const opp = sf.live('OpportunityContactRole').find((r) => r.ContactId === byEmail('c2@example.com'))?.OpportunityId as string;
  sf.delete(opp);
}

/** From now on the org stamps its writes a minute before the (faked) time of the runs, as a live org would. */
function alignOrgClock(sf: FakeOrg): void {
  sf.clock = Date.now() - 60_000;
}

/** Runs `change` once, when the first request matching `when` arrives (before it is answered). */
function once(when: (r: SeenRequest) => boolean, change: () => void): Interceptor {
  let done = false;
  return (r) => {
    if (!done && when(r)) {
      done = true;
      change();
    }
    return undefined;
  };
}

const worlds: World[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const w of worlds.splice(0)) await w.stop();
});

describe('records changed and deleted in the CRMs during a sync', () => {
  it('the next incremental sync catches up: the same end state as a run that saw the changes from the start', async () => {
    // the reference: the CRMs already changed when the first of its two runs starts
    fakeClock(5);
    const ref = await startWorld(WORLD);
    worlds.push(ref);
    alignOrgClock(ref.sf);
    changeHubspot(ref.hs);
    changeSalesforce(ref.sf);
    const r = openSession(ref, fakeClock(5).retry);
    expect((await runPipeline(r, true)).status).toBe('succeeded');
    // the same two runs, half an hour apart (the newest changes wait one run in both worlds)
    vi.setSystemTime(new Date(Date.now() + 31 * 60_000));
    expect((await runPipeline(r)).status).toBe('succeeded');
    r.close();
    const want = endState(ref, { live: true, contactStamps: false });

    fakeClock(5);
    const w = await startWorld(WORLD);
    worlds.push(w);
    alignOrgClock(w.sf);
    const { retry } = fakeClock(5);
    w.hs.interceptors.unshift(once((q) => q.method === 'GET' && q.path === '/crm/v3/objects/deals', () => changeHubspot(w.hs)));
    // the second page of the contacts query (queryMore): rows before it were read, rows after it were not
    w.sf.interceptors.unshift(once((q) => q.method === 'GET' && /^\/query\/01gFAKE1-\d+$/.test(q.path), () => changeSalesforce(w.sf)));
    const s = openSession(w, retry);
    const first = await runPipeline(s, true);
    // the contacts deleted after they were read are rejected, each with the reason; the rest is pushed and the run succeeds
    expect(first.status, first.error).toBe('succeeded');
    type Target = { target: string; failed: number; rejected: number; rejections: { externalId: string; error: string }[] };
    const targets = (first.counts.push as { targets: Target[] }).targets;
    expect(targets.map((t) => [t.target, t.failed, t.rejected])).toEqual([
      ['hs', 0, 1],
      ['sf', 0, 1],
    ]);
    expect(targets[0]?.rejections.map((x) => [x.externalId, x.error])).toEqual([['101', 'contact 101 does not exist in HubSpot (deleted or merged); the next sync removes it']]);
    expect(targets[1]?.rejections[0]?.error).toMatch(/^contact \w+ into campaign \w+: ENTITY_IS_DELETED: entity is deleted; contact \w+: Segment__c: ENTITY_IS_DELETED/);
    // the first run missed some of it
    const missed = endState(w, { live: true, contactStamps: false });
    expect(missed.store.contacts).not.toEqual(want.store.contacts);
    expect(missed.store.transactions).not.toEqual(want.store.transactions);

    vi.setSystemTime(new Date(Date.now() + 31 * 60_000));
    const second = await runPipeline(s);
    s.close();
    expect(second.status, second.error).toBe('succeeded');
    expect(second.counts.push).toMatchObject({ failed: 0, rejected: 0 });
    const sync = second.counts.sync as { deleted: number; read: number };
    // HubSpot's contact 101 (its archived pass is due again), Salesforce's c1 (read before it was deleted); the deal,
    // the opportunity and c62 were deleted before the first run's cursor got to them
    expect(sync.deleted).toBe(2);

    const got = endState(w, { live: true, contactStamps: false });
    // HubSpot's full listing read the deals of contact 9000 (created after the contacts were read): quarantined then,
    // stored now, and so out of quarantine. Salesforce's new contact's opportunities waited for the next run (newer than
    // the contacts read), so none were quarantined
    expect(missed.store.quarantine).toEqual([0, 1, 2, 3].map((i) => ['hs', 'transactions', String(990_000 + i), "unknown contact: contact 9000 not found in this connector's contacts"]));
    expect(got.store.quarantine).toEqual([]);
    // (a world that saw the changes from the start quarantines the deals of contacts deleted before its first read)
    expect({ ...got, store: { ...got.store, quarantine: [] } }).toEqual({ ...want, store: { ...want.store, quarantine: [] } });
  }, 120_000);
});
