/**
 * The Salesforce writer through the real push engine (runPush, a config from
 * parseConfig with our registry) against the fake org: field creation through
 * the Tooling API and the clear error when not permitted, campaigns found or
 * created, members and field values in calls of at most 200, per-record
 * failures, DUPLICATE_VALUE as success, moves, retired campaigns deactivated,
 * and a second push with no change sending zero write requests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeOrg } from './fake-org.js';
import { harness, seedCustomers, writerCtx, type Harness } from './helpers.js';
import { runPush, type PushResult } from '../../../src/push/engine.js';
import { runSegmentation } from '../../../src/segment/run.js';
import { UserError } from '../../../src/core/errors.js';
import salesforce from '../../../connectors/salesforce/index.js';

let org: FakeOrg;
beforeEach(async () => {
  org = await new FakeOrg().start();
});
afterEach(async () => {
  await org.stop();
});

const push = (h: Harness, approve = false): Promise<PushResult> => {
  const job = h.job();
  return runPush(job, { runId: 1, dryRun: false, approve, signal: job.signal });
};

async function synced(o: Parameters<typeof harness>[1] = {}, customers = 90, idle = 9): Promise<Harness> {
  seedCustomers(org, customers, idle);
  const h = harness(org, o);
  await h.sync();
  runSegmentation(h.job(), { runId: 1 });
  return h;
}

/** campaign name -> contact ids, from the fake org */
function members(prefix = 'segsync: '): Map<string, string[]> {
  const names = new Map(org.rows('Campaign').map((c) => [c.Id, c.Name as string]));
  const out = new Map<string, string[]>();
  for (const m of org.live('CampaignMember')) {
    const n = names.get(m.CampaignId) ?? '?';
    if (!n.startsWith(prefix)) continue;
    out.set(n, [...(out.get(n) ?? []), m.ContactId as string].sort());
  }
  return out;
}

/** What the store wants: campaign name -> contact ids, and contact id -> segment name. */
function desired(h: Harness, prefix = 'segsync: '): { byCampaign: Map<string, string[]>; field: Map<string, string> } {
  const model = h.store.models.activeModel();
  const byCampaign = new Map<string, string[]>();
  const field = new Map<string, string>();
  for (const d of h.store.push.desired('sf', model?.id ?? -1)) {
    const n = `${prefix}${d.segmentName}`;
    byCampaign.set(n, [...(byCampaign.get(n) ?? []), d.externalId].sort());
    field.set(d.externalId, d.segmentName);
  }
  return { byCampaign, field };
}

function fieldValues(): Map<string, string> {
  return new Map(org.live('Contact').filter((c) => c.Segment__c).map((c) => [c.Id as string, c.Segment__c as string]));
}

const collectionCalls = () => org.requests.filter((r) => r.path === '/composite/sobjects');

describe('first push', () => {
  it('creates the field through the Tooling API, one campaign per segment, every member and value; then a no-change push sends nothing', async () => {
    const h = await synced();
    const r = await push(h);
    const want = desired(h);
    expect(r.targets[0]).toMatchObject({ target: 'sf', adds: 99, removes: 0, written: 99, failed: 0 });

    const tooling = org.requests.filter((x) => x.path === '/tooling/sobjects/CustomField');
    expect(tooling).toHaveLength(1);
    const body = tooling[0]?.body as { FullName: string; Metadata: { type: string; valueSet: { restricted: boolean; valueSetDefinition: { value: { fullName: string }[] } } } };
    expect(body.FullName).toBe('Contact.Segment__c');
    expect(body.Metadata.type).toBe('Picklist');
    expect(body.Metadata.valueSet.restricted).toBe(false);
    expect(body.Metadata.valueSet.valueSetDefinition.value.map((v) => v.fullName).sort()).toEqual([...new Set(want.field.values())].sort());
    // the new field was made editable for the user's profile
    expect(org.rows('FieldPermissions')).toEqual([expect.objectContaining({ Field: 'Contact.Segment__c', ParentId: org.permissionSetId, PermissionsEdit: true })]);

    expect(members()).toEqual(want.byCampaign);
    expect(fieldValues()).toEqual(want.field);
    expect(org.live('Campaign').every((c) => c.IsActive === true)).toBe(true);
    for (const c of collectionCalls()) {
      const n = c.method === 'DELETE' ? (c.query.get('ids') ?? '').split(',').length : (c.body as { records: unknown[] }).records.length;
      expect(n).toBeLessThanOrEqual(200);
    }
    // the engine kept the campaign ids
    expect(Object.values(h.store.push.lists('sf')).sort()).toEqual(org.live('Campaign').map((c) => c.Id as string).sort());

    const before = org.requests.length;
    const again = await push(h);
    expect(again.targets[0]).toMatchObject({ adds: 0, removes: 0, written: 0 });
    expect(org.requests.length - before).toBe(0);
  });

  it('uses 200 records per collection call for large pushes', async () => {
    const h = await synced({}, 450, 30);
    const r = await push(h);
    expect(r.targets[0]).toMatchObject({ adds: 480, written: 480, failed: 0 });
    const inserts = collectionCalls().filter((c) => c.method === 'POST' && (c.body as { records: { attributes: { type: string } }[] }).records[0]?.attributes.type === 'CampaignMember');
    const updates = collectionCalls().filter((c) => c.method === 'PATCH' && (c.body as { records: { attributes: { type: string } }[] }).records[0]?.attributes.type === 'Contact');
    expect(inserts.map((c) => (c.body as { records: unknown[] }).records.length)).toEqual([200, 200, 80]);
    expect(updates.map((c) => (c.body as { records: unknown[] }).records.length)).toEqual([200, 200, 80]);
  });

  it('finds existing campaigns by name, and counts DUPLICATE_VALUE members as pushed', async () => {
    const h = await synced();
    const want = desired(h);
    const [name, ids] = [...want.byCampaign][0] as [string, string[]];
    const existing = org.insert('Campaign', { Name: name, IsActive: false });
    org.insert('CampaignMember', { CampaignId: existing.Id, ContactId: ids[0] });
    org.customFields.set('Contact.Segment__c', { type: 'string', visible: true, length: 255 });
    const r = await push(h);
    expect(r.targets[0]).toMatchObject({ written: 99, failed: 0 });
    expect(org.live('Campaign').filter((c) => c.Name === name)).toHaveLength(1);
    expect(org.get(existing.Id as string)?.IsActive).toBe(true);
    expect(org.requests.filter((x) => x.path.startsWith('/tooling'))).toHaveLength(0);
    expect(members()).toEqual(want.byCampaign);
  });
});

describe('per-record results', () => {
  it('records failures per record and retries only those next time', async () => {
    const h = await synced();
    const ids = [...desired(h).field.keys()];
    const [x, y] = [ids[3] as string, ids[40] as string];
    org.rejectUpdates.set(x, { statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Segment is locked for VIPs' });
    org.rejectUpdates.set(y, { statusCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record' });
    const r = await push(h);
    expect(r.targets[0]).toMatchObject({ written: 97, failed: 2 });
    expect(r.targets[0]?.errors.join('\n')).toContain(`contact ${x}: Segment__c: FIELD_CUSTOM_VALIDATION_EXCEPTION: Segment is locked for VIPs`);
    expect(r.targets[0]?.errors.join('\n')).toContain(`contact ${y}: Segment__c: UNABLE_TO_LOCK_ROW`);
    org.rejectUpdates.clear();
    const before = collectionCalls().length;
    const r2 = await push(h);
    expect(r2.targets[0]).toMatchObject({ adds: 2, written: 2, failed: 0 });
    const sent = collectionCalls().slice(before);
    const patched = sent.filter((c) => c.method === 'PATCH').flatMap((c) => (c.body as { records: { Id: string }[] }).records.map((z) => z.Id));
    expect(patched.sort()).toEqual([x, y].sort());
    // their campaign membership went in the first time: now it answers DUPLICATE_VALUE, which counts as done
    expect(fieldValues()).toEqual(desired(h).field);
  });
});

describe('apply', () => {
  it('counts a member removed by someone else between lookup and delete as removed', async () => {
    const h = await synced();
    await push(h);
    const ctx = writerCtx(h.config);
    const lists = h.store.push.lists('sf');
    const [d] = [...h.store.push.desired('sf', h.store.models.activeModel()?.id ?? -1)];
    if (!d) throw new Error('no member');
    org.hooks.push((r) => {
      if (r.method === 'DELETE') for (const m of org.live('CampaignMember')) if (m.ContactId === d.externalId) org.delete(m.Id as string);
      return undefined;
    });
    const res = await salesforce.writer?.apply(ctx, [
      { key: 'k1', op: 'remove', externalId: d.externalId, customerId: d.customerId, segmentId: d.segmentId, segmentName: d.segmentName, listId: lists[d.segmentId] },
    ]);
    expect(res).toEqual([{ key: 'k1', ok: true }]);
    expect(org.requests.filter((r) => r.method === 'DELETE' && r.status === 200)).toHaveLength(1);
    expect(org.get(d.externalId)?.Segment__c).toBeNull();
  });
});

describe('limits during a push', () => {
  it('stops on REQUEST_LIMIT_EXCEEDED with acknowledged batches kept; the next push sends only the rest', async () => {
    const h = await synced({}, 90, 2500);
    org.customFields.set('Contact.Segment__c', { type: 'picklist', visible: true });
    // the org runs out of calls after the first apply batch (campaigns created, then 2000 ops = 20 collection calls)
    let writes = 0;
    org.hooks.push((r) => {
      if (r.path === '/composite/sobjects' && ++writes === 22) org.limit.used = org.limit.max;
      return undefined;
    });
    const err = await push(h).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'daily_limit', code: 'CONNECTOR_RATE_LIMIT' });
    expect(h.store.push.pushed('sf').size).toBe(2000);
    org.hooks.length = 0;
    org.limit.used = 0;
    const before = collectionCalls().length;
    const r = await push(h);
    expect(r.targets[0]).toMatchObject({ adds: 590, written: 590, failed: 0 });
    const sentIds = collectionCalls()
      .slice(before)
      .filter((c) => c.method === 'POST')
      .flatMap((c) => (c.body as { records: { ContactId?: string }[] }).records.map((x) => x.ContactId));
    expect(sentIds).toHaveLength(590);
    const want = desired(h);
    expect(members()).toEqual(want.byCampaign);
    expect(fieldValues()).toEqual(want.field);
  });
});

describe('the field', () => {
  it('stops with a clear error naming the field and the permission when it may not be created', async () => {
    org.permissions.customizeApplication = false;
    const h = await synced();
    const err = await push(h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const e = err as UserError;
    expect(e.code).toBe('CONNECTOR_SCOPE');
    expect(e.message).toBe('the Contact field Segment__c does not exist and the Salesforce user may not create it');
    expect(e.hint).toMatch(/Object Manager > Contact > Fields & Relationships: a Picklist field with the API name Segment__c/);
    expect(e.hint).toMatch(/"Customize Application"/);
    expect(org.live('CampaignMember')).toHaveLength(0);
    expect(org.requests.filter((r) => r.path === '/composite/sobjects' && r.method === 'PATCH')).toHaveLength(0);
  });

  it('names the missing values of a restricted picklist', async () => {
    org.customFields.set('Contact.Segment__c', { type: 'picklist', visible: true, restricted: true, values: [] });
    const h = await synced();
    const err = (await push(h).catch((e: unknown) => e)) as UserError;
    expect(err.message).toMatch(/^Contact\.Segment__c is a restricted picklist without the values "/);
    expect(err.hint).toMatch(/add these values/);
  });

  it('explains a field the user cannot see (it exists, field-level security hides it)', async () => {
    org.customFields.set('Contact.Segment__c', { type: 'string', visible: false });
    const h = await synced();
    const err = (await push(h).catch((e: unknown) => e)) as UserError;
    expect(err.message).toBe('the Contact field Segment__c exists but the Salesforce user cannot see or edit it');
    expect(err.hint).toMatch(/field-level security/);
  });

  it('finishes a field it created itself whose access grant never happened (a run killed in between, a lost answer)', async () => {
    org.customFields.set('Contact.Segment__c', { type: 'picklist', visible: false, description: 'Customer segment, written by segsync' });
    const h = await synced();
    const r = await push(h);
    expect(r.targets[0]).toMatchObject({ failed: 0 });
    expect(org.customFields.get('Contact.Segment__c')?.visible).toBe(true);
    expect(new Map(org.live('Contact').filter((c) => c.Segment__c).map((c) => [c.Id as string, c.Segment__c as string]))).toEqual(desired(h).field);
  });

  it('pushes the field only with campaigns: false, and a text field when configured', async () => {
    const h = await synced({ target: 'campaigns: false\nfield: Cluster__c\nfieldType: text' });
    const r = await push(h);
    expect(r.targets[0]).toMatchObject({ written: 99, failed: 0 });
    expect(org.rows('Campaign')).toHaveLength(0);
    const body = org.requests.find((x) => x.path === '/tooling/sobjects/CustomField')?.body as { FullName: string; Metadata: { type: string; length: number } };
    expect(body).toMatchObject({ FullName: 'Contact.Cluster__c', Metadata: { type: 'Text', length: 255 } });
    expect(new Map(org.live('Contact').filter((c) => c.Cluster__c).map((c) => [c.Id as string, c.Cluster__c as string]))).toEqual(desired(h).field);
  });
});

describe('changes', () => {
  it('moves contacts between campaigns, rewrites the field once per contact and deactivates retired campaigns', async () => {
    const h = await synced();
    runSegmentation(h.job(), { runId: 2, k: 4 });
    await push(h, true);
    const campaignsBefore = org.live('Campaign').length;
    runSegmentation(h.job(), { runId: 3, k: 3 });
    const before = collectionCalls().length;
    const r = await push(h, true);
    expect(r.targets[0]?.removes).toBeGreaterThan(0);
    const want = desired(h);
    expect(members()).toEqual(want.byCampaign);
    expect(fieldValues()).toEqual(want.field);
    // each moved contact got one field update, not a clear and a set
    const patched = collectionCalls()
      .slice(before)
      .filter((c) => c.method === 'PATCH')
      .flatMap((c) => (c.body as { records: { attributes: { type: string }; Id: string }[] }).records.filter((x) => x.attributes.type === 'Contact').map((x) => x.Id));
    expect(new Set(patched).size).toBe(patched.length);
    const retired = h.store.models.segments({ includeRetired: true }).filter((s) => s.retiredAt !== null);
    expect(retired.length).toBeGreaterThan(0);
    const lists = h.store.push.lists('sf');
    for (const s of retired) expect(org.get(lists[s.id] as string)?.IsActive).toBe(false);
    // deactivated, not deleted
    expect(org.live('Campaign').length).toBe(campaignsBefore);
  });

  it('renames the campaign and the field values when a segment is renamed', async () => {
    const h = await synced();
    await push(h);
    const seg = h.store.models.segments()[0];
    if (!seg) throw new Error('no segment');
    const listId = h.store.push.lists('sf')[seg.id] as string;
    const ctx = writerCtx(h.config);
    const segments = h.store.models.segments({ includeRetired: true }).map((s) => ({ id: s.id, name: s.id === seg.id ? 'Loyal fans' : s.name, description: s.description, retired: s.retiredAt !== null }));
    const ids = await salesforce.writer?.prepare(ctx, segments, h.store.push.lists('sf'));
    expect(ids?.[seg.id]).toBe(listId);
    expect(org.get(listId)?.Name).toBe('segsync: Loyal fans');
    const holders = org.live('Contact').filter((c) => c.Segment__c === 'Loyal fans').length;
    expect(holders).toBe(desired(h).byCampaign.get(`segsync: ${seg.name}`)?.length);
    expect(org.live('Contact').filter((c) => c.Segment__c === seg.name)).toHaveLength(0);
  });
});
