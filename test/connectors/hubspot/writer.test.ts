/**
 * The HubSpot writer through the real push engine (planned outbox, batches,
 * acknowledgements) against the fake HubSpot: the property and one MANUAL list
 * per segment, found or created once, renamed with the segment, emptied and
 * renamed "(retired)" with it; 207 partial failures recorded and retried; a
 * second push with nothing changed sends nothing; request bodies match the
 * SDK's request models.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { desiredOptions } from '../../../connectors/hubspot/writer.js';
import type { SegmentRef } from '../../../src/connector/contract.js';
import { UserError } from '../../../src/core/errors.js';
import { expectBodiesMatchSdkModels } from './sdk-models.js';
import { advance, expectInSync, populateCustomers, push, segmentNow, setup, sqlWrite, teardown, type Env } from './helpers.js';

let env: Env | undefined;
afterEach(() => teardown(env));

const CUSTOMERS = 90;
const IDLE = 10;

async function ready(o: Parameters<typeof setup>[0] = {}): Promise<Env> {
  const e = setup(o);
  populateCustomers(e.fake, { customers: CUSTOMERS, idle: IDLE });
  await e.sync({ full: true });
  segmentNow(e, 1);
  e.fake.requests.length = 0;
  return e;
}

const listCreates = (e: Env): number => e.fake.count('POST', /^\/crm\/v3\/lists\/?$/);

describe('HubSpot writer: first push', () => {
  it('creates the property in its group and one MANUAL list per segment, then puts every contact in its list and property', async () => {
    env = await ready();
    const segments = env.store.models.segments();
    const r = await push(env);
    expect(r.targets[0]).toMatchObject({ adds: CUSTOMERS + IDLE, removes: 0, written: CUSTOMERS + IDLE, failed: 0 });

    // the property: enumeration in group segsync, option value = segment id, label = name
    expect(env.fake.groups.has('segsync')).toBe(true);
    const prop = env.fake.properties.get('segsync_segment');
    expect(prop).toMatchObject({ type: 'enumeration', fieldType: 'select', groupName: 'segsync', label: 'segsync segment' });
    expect(prop?.options.map((o) => [o.value, o.label, o.hidden]).sort()).toEqual(segments.map((s) => [s.id, s.name, false]).sort());

    // one MANUAL contact list per segment, named prefix + segment name, ids kept in the store
    const lists = env.store.push.lists('hs');
    expect(Object.keys(lists).sort()).toEqual(segments.map((s) => s.id).sort());
    for (const s of segments) {
      expect(env.fake.lists.get(lists[s.id] as string)).toMatchObject({ name: `segsync: ${s.name}`, processingType: 'MANUAL', objectTypeId: '0-1' });
    }
    expect(listCreates(env)).toBe(segments.length);
    expectInSync(env);

    // batch endpoints at their limits: 100 contacts per update, one membership call per list
    const updates = env.fake.requests.filter((q) => q.path === '/crm/v3/objects/contacts/batch/update');
    expect(updates).toHaveLength(Math.ceil((CUSTOMERS + IDLE) / 100));
    for (const u of updates) expect((u.body as { inputs: unknown[] }).inputs.length).toBeLessThanOrEqual(100);
    expect(env.fake.count('PUT', /\/memberships\/add-and-remove$/)).toBe(segments.length);
  });

  it('sends request bodies that match the SDK request models', async () => {
    env = await ready();
    await push(env);
    const checked = expectBodiesMatchSdkModels(env.fake.requests);
    expect(Object.keys(checked).sort()).toEqual(
      ['BatchInputSimplePublicObjectBatchInput', 'ListCreateRequest', 'MembershipChangeRequest', 'PropertyCreate', 'PropertyGroupCreate'].sort(),
    );
  });

  it('a list that already exists by name is found and used, not duplicated; a non-MANUAL one is refused by name', async () => {
    env = await ready();
    const seg = env.store.models.segments()[0];
    if (!seg) throw new Error('no segment');
    env.fake.lists.set('77', { listId: '77', name: `segsync: ${seg.name}`, processingType: 'MANUAL', objectTypeId: '0-1', members: new Set() });
    await push(env);
    expect(env.store.push.lists('hs')[seg.id]).toBe('77');
    expect([...env.fake.lists.values()].filter((l) => l.name === `segsync: ${seg.name}`)).toHaveLength(1);
    expectInSync(env);

    teardown(env);
    env = await ready();
    env.fake.lists.set('78', { listId: '78', name: `segsync: ${seg.name}`, processingType: 'DYNAMIC', objectTypeId: '0-1', members: new Set() });
    const e = await push(env).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toContain(`a HubSpot list named "segsync: ${seg.name}" already exists (list 78) but it is a DYNAMIC list`);
  });
});

describe('HubSpot writer: later pushes', () => {
  it('a second push with nothing changed sends zero requests (no write endpoint hit)', async () => {
    env = await ready();
    await push(env);
    const before = env.fake.requests.length;
    const writes = env.fake.writes().length;
    const r = await push(env);
    expect(r.targets[0]).toMatchObject({ adds: 0, removes: 0, written: 0 });
    expect(env.fake.writes()).toHaveLength(writes);
    expect(env.fake.requests).toHaveLength(before);
  });

  it('lists are created once and reused: a later push finds them by their stored ids', async () => {
    env = await ready();
    await push(env);
    const creates = listCreates(env);
    const ids = env.store.push.lists('hs');
    // a contact is deleted in HubSpot: the next sync and push take it out of its list
    const gone = [...env.fake.lists.values()].flatMap((l) => [...l.members])[0] as string;
    env.fake.archiveContact(gone);
    advance(25 * 3_600_000);
    await env.sync();
    segmentNow(env, 2);
    const before = env.fake.requests.length;
    const r = await push(env, 2);
    expect(r.targets[0]).toMatchObject({ removes: 1, failed: 0 });
    expect(listCreates(env)).toBe(creates);
    expect(env.store.push.lists('hs')).toEqual(ids);
    // prepare: one read of the lists by id and one of the property, nothing else
    const prep = env.fake.requests.slice(before).filter((q) => !/memberships|batch\/update/.test(q.path));
    expect(prep.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /crm/v3/properties/contacts/segsync_segment', 'GET /crm/v3/lists/']);
    expect([...env.fake.lists.values()].some((l) => l.members.has(gone))).toBe(false);
    expectInSync(env);
  });

  it('records 207 per-record failures and retries only those records on the next push', async () => {
    env = await ready();
    env.fake.refuseUpdates = new Set(['1003', '1050']);
    const r = await push(env);
    expect(r.targets[0]).toMatchObject({ written: CUSTOMERS + IDLE - 2, failed: 2 });
    expect(r.targets[0]?.errors).toEqual(
      expect.arrayContaining([expect.stringContaining('contact 1003 (VALIDATION_ERROR: contact 1003 is locked by a workflow)')]),
    );
    expect([...env.store.push.pushed('hs').keys()]).not.toContain('1003');

    env.fake.refuseUpdates.clear();
    const before = env.fake.requests.length;
    const r2 = await push(env, 2);
    expect(r2.targets[0]).toMatchObject({ adds: 2, written: 2, failed: 0 });
    const sent = env.fake.requests.slice(before).filter((q) => q.path === '/crm/v3/objects/contacts/batch/update');
    expect(sent).toHaveLength(1);
    expect((sent[0]?.body as { inputs: { id: string }[] }).inputs.map((i) => i.id).sort()).toEqual(['1003', '1050']);
    expectInSync(env);
  });

  it('a renamed segment: the property option label follows (value kept) and its list is renamed, not recreated', async () => {
    env = await ready();
    await push(env);
    const seg = env.store.models.segments().find((s) => s.id !== 'seg_no_purchases');
    if (!seg) throw new Error('no segment');
    const listId = env.store.push.lists('hs')[seg.id] as string;
    const creates = listCreates(env);
    sqlWrite(env.store, 'UPDATE segments SET name = ? WHERE id = ?', 'VIP regulars', seg.id);
    // the push engine prepares targets when there is something to push: one contact leaves
    env.store.sync.commitPage({ runId: 3, connector: 'hs', stream: 'contacts', deleted: ['1001'], rejected: [], checkpoint: env.store.sync.getCheckpoint('hs', 'contacts') as never, now: new Date().toISOString() });
    const before = env.fake.requests.length;
    await push(env, 3);
    const patch = env.fake.requests.slice(before).find((q) => q.method === 'PATCH');
    expect(patch?.path).toBe('/crm/v3/properties/contacts/segsync_segment');
    const option = env.fake.properties.get('segsync_segment')?.options.find((o) => o.value === seg.id);
    expect(option).toMatchObject({ label: 'VIP regulars', hidden: false });
    const rename = env.fake.requests.slice(before).find((q) => q.path.endsWith('/update-list-name'));
    expect(rename?.path).toBe(`/crm/v3/lists/${listId}/update-list-name`);
    expect(rename?.query.get('listName')).toBe('segsync: VIP regulars');
    expect(env.fake.lists.get(listId)?.name).toBe('segsync: VIP regulars');
    expect(listCreates(env)).toBe(creates);
    expect(env.store.push.lists('hs')[seg.id]).toBe(listId);
    expectInSync(env);
    expectBodiesMatchSdkModels(env.fake.requests.slice(before));
  });

  it('two segments swapping names on a retrain: both lists are renamed, none recreated', async () => {
    env = await ready();
    await push(env);
    const [a, b] = env.store.models.segments().filter((s) => s.id !== 'seg_no_purchases');
    if (!a || !b) throw new Error('need two segments');
    const lists = env.store.push.lists('hs');
    sqlWrite(env.store, 'UPDATE segments SET name = ? WHERE id = ?', b.name, a.id);
    sqlWrite(env.store, 'UPDATE segments SET name = ? WHERE id = ?', a.name, b.id);
    env.store.sync.commitPage({ runId: 3, connector: 'hs', stream: 'contacts', deleted: ['1001'], rejected: [], checkpoint: env.store.sync.getCheckpoint('hs', 'contacts') as never, now: new Date().toISOString() });
    const creates = listCreates(env);
    await push(env, 3);
    expect(env.fake.lists.get(lists[a.id] as string)?.name).toBe(`segsync: ${b.name}`);
    expect(env.fake.lists.get(lists[b.id] as string)?.name).toBe(`segsync: ${a.name}`);
    expect(listCreates(env)).toBe(creates);
    expectInSync(env);
  });

  it('a retired segment: its list is emptied and renamed "(retired)", its option hidden, its members moved', async () => {
    env = await ready();
    await push(env);
    const before3 = new Map(env.store.models.segments().map((s) => [s.id, s.name]));
    const lists = env.store.push.lists('hs');
    // retrain with fewer segments: one is retired
    segmentNow(env, 2, 2);
    const retired = env.store.models.segments({ includeRetired: true }).filter((s) => s.retiredAt !== null);
    expect(retired.length).toBeGreaterThanOrEqual(1);
    const gone = retired[0];
    if (!gone) throw new Error('nothing retired');
    const listId = lists[gone.id] as string;
    expect(env.fake.lists.get(listId)?.members.size).toBeGreaterThan(0);
    const before = env.fake.requests.length;
    const r = await push(env, 2);
    expect(r.targets[0]?.failed).toBe(0);
    const l = env.fake.lists.get(listId);
    expect(l?.name).toBe(`segsync: ${before3.get(gone.id)} (retired)`);
    expect(l?.members.size).toBe(0);
    const after = env.fake.requests.slice(before);
    expect(after.filter((q) => q.method === 'DELETE').map((q) => q.path)).toEqual([`/crm/v3/lists/${listId}/memberships`]);
    // emptied at once: no member-by-member removes from that list
    expect(after.filter((q) => q.path === `/crm/v3/lists/${listId}/memberships/add-and-remove`)).toHaveLength(0);
    const option = env.fake.properties.get('segsync_segment')?.options.find((o) => o.value === gone.id);
    expect(option).toMatchObject({ label: `${before3.get(gone.id)} (retired)`, hidden: true });
    expectInSync(env);

    // later pushes leave the retired list alone
    env.store.sync.commitPage({ runId: 4, connector: 'hs', stream: 'contacts', deleted: ['1002'], rejected: [], checkpoint: env.store.sync.getCheckpoint('hs', 'contacts') as never, now: new Date().toISOString() });
    const b4 = env.fake.requests.length;
    await push(env, 4);
    expect(env.fake.requests.slice(b4).filter((q) => q.path.startsWith(`/crm/v3/lists/${listId}/`))).toHaveLength(0);
    expectInSync(env);
  });
});

describe('desiredOptions', () => {
  const seg = (id: string, name: string, retired = false): SegmentRef => ({ id, name, description: '', retired });
  it('one option per active segment, retired ones hidden when they were used, others left alone', () => {
    const out = desiredOptions(
      [seg('s1', 'Champions'), seg('s2', 'Lost', true), seg('s3', 'Never pushed', true)],
      [
        { value: 's2', label: 'Lost', hidden: false },
        { value: 'manual', label: 'Added by hand', hidden: false, displayOrder: 9 },
      ],
    );
    expect(out).toEqual([
      { value: 's1', label: 'Champions', hidden: false, displayOrder: 0 },
      { value: 's2', label: 'Lost (retired)', hidden: true, displayOrder: 1 },
      { value: 'manual', label: 'Added by hand', hidden: false, displayOrder: 9 },
    ]);
  });
});
