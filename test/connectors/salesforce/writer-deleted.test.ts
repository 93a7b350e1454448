/**
 * A Contact deleted in Salesforce between the sync and the push (loopback fake
 * org): its CampaignMember insert and field write come back ENTITY_IS_DELETED
 * in the sObject Collections results, so the record is rejected with that
 * reason while every other record of the same calls is applied exactly once and
 * the push succeeds; the next run's sync removes the contact and its push sends
 * nothing. Other record errors (a validation rule) still fail the run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeOrg } from './fake-org.js';
import { harness, seedCustomers, type Harness } from './helpers.js';
import { runPush, type PushResult } from '../../../src/push/engine.js';
import { pushStatus } from '../../../src/schedule/jobs.js';
import { runSegmentation } from '../../../src/segment/run.js';

let org: FakeOrg;
beforeEach(async () => {
  org = await new FakeOrg().start();
});
afterEach(async () => {
  await org.stop();
});

const CONTACTS = 99;

const push = (h: Harness, runId = 1): Promise<PushResult> => {
  const job = h.job();
  return runPush(job, { runId, dryRun: false, approve: false, signal: job.signal });
};

async function synced(): Promise<Harness> {
  seedCustomers(org, 90, 9);
  const h = harness(org);
  await h.sync();
  runSegmentation(h.job(), { runId: 1 });
  return h;
}

/** Contact id -> how often a PATCH carried it. */
function fieldWrites(): Map<string, number> {
  const n = new Map<string, number>();
  for (const q of org.requests.filter((r) => r.path === '/composite/sobjects' && r.method === 'PATCH')) {
    for (const rec of (q.body as { records: { Id: string; attributes: { type: string } }[] }).records) {
      if (rec.attributes.type === 'Contact') n.set(rec.Id, (n.get(rec.Id) ?? 0) + 1);
    }
  }
  return n;
}

describe('Salesforce push: a contact deleted between sync and push', () => {
  it('is rejected with the reason, the rest is applied exactly once, the push succeeds; the next run is clean', async () => {
    const h = await synced();
    const model = h.store.models.activeModel();
    const desired = [...h.store.push.desired('sf', model?.id ?? -1)];
    expect(desired).toHaveLength(CONTACTS);
    const gone = desired[17]?.externalId as string;
    org.delete(gone);

    const r = await push(h);
    expect(pushStatus(r)).toBe('succeeded');
    expect(r.targets[0]).toMatchObject({ adds: CONTACTS, written: CONTACTS - 1, failed: 0, rejected: 1, errors: [] });
    expect(r.targets[0]?.rejections).toEqual([
      { op: 'add', externalId: gone, error: expect.stringMatching(new RegExp(`^contact ${gone} into campaign \\w+: ENTITY_IS_DELETED: entity is deleted; contact ${gone}: Segment__c: ENTITY_IS_DELETED`)) },
    ]);
    // every other contact: in its campaign once, never removed, its field written once (in the same calls as the deleted one)
    const others = desired.filter((d) => d.externalId !== gone);
    const adds = new Map<string, number>();
    for (const m of org.membershipLog) adds.set(m.person, (adds.get(m.person) ?? 0) + (m.op === 'add' ? 1 : 100));
    expect(adds.size).toBe(CONTACTS - 1);
    expect([...adds.values()].every((n) => n === 1)).toBe(true);
    const writes = fieldWrites();
    for (const d of others) {
      expect(writes.get(d.externalId), d.externalId).toBe(1);
      expect(org.get(d.externalId)?.Segment__c, d.externalId).toBe(d.segmentName);
    }
    expect(writes.get(gone)).toBe(1);
    expect(h.store.push.outboxCounts('sf')).toEqual({ done: CONTACTS - 1, rejected: 1 });
    expect(h.store.push.rejected('sf', 10)).toEqual([expect.objectContaining({ op: 'add', externalId: gone, error: expect.stringContaining('ENTITY_IS_DELETED') })]);

    // the next run: the incremental sync sees the deletion, the push has nothing to send
    await h.sync();
    const before = org.requests.length;
    const r2 = await push(h, 2);
    expect(r2.targets[0]).toMatchObject({ adds: 0, removes: 0, written: 0, failed: 0, rejected: 0 });
    expect(org.requests.slice(before).filter((q) => q.method !== 'GET')).toEqual([]);
    expect(h.store.push.rejected('sf', 10)).toEqual([]);
    h.store.close();
  });

  it('a record refused for another reason (a validation rule) still fails the run', async () => {
    const h = await synced();
    const x = [...h.store.push.desired('sf', h.store.models.activeModel()?.id ?? -1)][5]?.externalId as string;
    org.rejectUpdates.set(x, { statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Segment is locked for VIPs' });
    const r = await push(h);
    expect(r.targets[0]).toMatchObject({ written: CONTACTS - 1, failed: 1, rejected: 0 });
    expect(pushStatus(r)).toBe('failed');
    h.store.close();
  });
});
