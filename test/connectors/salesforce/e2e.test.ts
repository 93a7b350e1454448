/**
 * End to end against the fake org: sync (OAuth, contacts, leads, won
 * opportunities) -> runSegmentation -> runPush; the org ends up with one
 * campaign per segment holding exactly the desired members and the segment
 * field on every contact and lead; a second push sends nothing; then changes in
 * the CRM (a deletion, a merge, a new purchase) flow through a second cycle.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FakeOrg } from './fake-org.js';
import { authYaml, contactsIn, harness, seedCustomers, seedWon } from './helpers.js';
import { runPush } from '../../../src/push/engine.js';
import { runSegmentation } from '../../../src/segment/run.js';
import type { Harness } from './helpers.js';

let org: FakeOrg;
beforeEach(async () => {
  org = await new FakeOrg().start();
});
afterEach(async () => {
  await org.stop();
});

function remoteState(): { members: Map<string, string[]>; fields: Map<string, string> } {
  const names = new Map(org.rows('Campaign').filter((c) => c.IsActive).map((c) => [c.Id, c.Name as string]));
  const members = new Map<string, string[]>();
  for (const m of org.live('CampaignMember')) {
    const n = names.get(m.CampaignId);
    if (n) members.set(n, [...(members.get(n) ?? []), (m.ContactId ?? m.LeadId) as string].sort());
  }
  const fields = new Map<string, string>();
  for (const r of [...org.live('Contact'), ...org.live('Lead')]) if (r.Segment__c) fields.set(r.Id as string, r.Segment__c as string);
  return { members, fields };
}

function wanted(h: Harness): { members: Map<string, string[]>; fields: Map<string, string> } {
  const members = new Map<string, string[]>();
  const fields = new Map<string, string>();
  for (const d of h.store.push.desired('sf', h.store.models.activeModel()?.id ?? -1)) {
    const n = `segsync: ${d.segmentName}`;
    members.set(n, [...(members.get(n) ?? []), d.externalId].sort());
    fields.set(d.externalId, d.segmentName);
  }
  return { members, fields };
}

it('sync -> segment -> push, then CRM changes through a second cycle', async () => {
  const contacts = seedCustomers(org, 120, 12);
  const leads = [1, 2, 3].map((i) => org.insert('Lead', { Email: `lead${i}@example.com`, LastName: `Lead${i}`, Company: 'Prospects Inc', Status: 'Open - Not Contacted' }));
  const h = harness(org, { auth: authYaml(org, 'oauth'), connector: 'includeLeads: true' });

  const streams = await h.sync();
  expect(streams.map((s) => [s.stream, s.upserted, s.quarantined])).toEqual([
    ['contacts', 135, 0],
    ['transactions', org.live('Opportunity').length, 0],
  ]);
  const seg = runSegmentation(h.job(), { runId: 1 });
  expect(seg.segments).toBeGreaterThanOrEqual(3);
  const job = h.job();
  const first = await runPush(job, { runId: 1, dryRun: false, approve: false, signal: job.signal });
  expect(first.targets[0]).toMatchObject({ adds: 135, written: 135, failed: 0 });
  expect(remoteState()).toEqual(wanted(h));
  // leads are campaign members by LeadId and carry the field too (created on Lead as well)
  expect(org.live('CampaignMember').filter((m) => m.LeadId).map((m) => m.LeadId).sort()).toEqual(leads.map((l) => l.Id).sort());
  expect(org.requests.filter((r) => r.path === '/tooling/sobjects/CustomField').map((r) => (r.body as { FullName: string }).FullName)).toEqual(['Contact.Segment__c', 'Lead.Segment__c']);

  const before = org.requests.length;
  const again = await runPush(h.job(), { runId: 2, dryRun: false, approve: false, signal: job.signal });
  expect(again.targets[0]).toMatchObject({ adds: 0, removes: 0, written: 0 });
  expect(org.requests.length).toBe(before);

  // changes in the CRM
  const [gone, winner, loser, idle] = [contacts[0], contacts[1], contacts[2], contacts[125]].map((c) => c?.Id as string) as [string, string, string, string];
  org.delete(gone);
  org.merge(winner, loser);
  for (let i = 0; i < 14; i++) seedWon(org, idle, 60, `2026-06-${String(10 + i).padStart(2, '0')}`);
  const [c2, t2] = await h.sync();
  expect(c2).toMatchObject({ deleted: 2 });
  expect(t2?.upserted).toBe(14);
  expect(contactsIn(h.store).filter((c) => c.deleted).map((c) => c.externalId).sort()).toEqual([gone, loser].sort());
  runSegmentation(h.job(), { runId: 3 });
  const second = await runPush(h.job(), { runId: 3, dryRun: false, approve: true, signal: job.signal });
  expect(second.targets[0]?.failed).toBe(0);
  expect(second.targets[0]?.removes).toBeGreaterThanOrEqual(2);
  expect(remoteState()).toEqual(wanted(h));
  expect(remoteState().fields.get(idle)).toBe(wanted(h).fields.get(idle));
  // and once more: nothing to send
  const n = org.requests.length;
  await runPush(h.job(), { runId: 4, dryRun: false, approve: false, signal: job.signal });
  expect(org.requests.length).toBe(n);
});
