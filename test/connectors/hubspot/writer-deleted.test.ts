/**
 * A contact deleted in HubSpot between the sync and the push (nock-backed
 * fake): the record is rejected with HubSpot's reason, everything else of the
 * batch and of the run is applied exactly once, the push succeeds, and the
 * next run (whose sync removes the contact) sends nothing. A batch HubSpot
 * refuses as a whole for a contact it names goes again without it; a refusal
 * naming nobody, or an auth error, still fails as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteError } from '../../../src/core/errors.js';
import { pushStatus } from '../../../src/schedule/jobs.js';
import type { Fault, RecordedRequest } from './fake-hubspot.js';
import { advance, expectInSync, populateCustomers, push, segmentNow, setup, teardown, type Env } from './helpers.js';

let env: Env | undefined;
afterEach(() => teardown(env));

const CONTACTS = 100;
const GONE = '1042';
const BATCH_UPDATE = '/crm/v3/objects/contacts/batch/update';

async function ready(o: Parameters<typeof setup>[0] = {}): Promise<Env> {
  const e = setup(o);
  populateCustomers(e.fake, { customers: 90, idle: CONTACTS - 90 });
  await e.sync({ full: true });
  segmentNow(e, 1);
  e.fake.requests.length = 0;
  return e;
}

const inputsOf = (q: RecordedRequest): string[] => (q.body as { inputs: { id: string }[] }).inputs.map((i) => i.id);
const updates = (e: Env): RecordedRequest[] => e.fake.requests.filter((q) => q.path === BATCH_UPDATE);

/** contact -> how many times it was written (property updates HubSpot answered 2xx for, list adds it applied) */
function writesPer(e: Env, accepted: RecordedRequest[]): { property: Map<string, number>; listAdds: Map<string, number> } {
  const property = new Map<string, number>();
  for (const q of accepted) for (const id of inputsOf(q)) property.set(id, (property.get(id) ?? 0) + 1);
  const listAdds = new Map<string, number>();
  for (const m of e.fake.membershipLog) if (m.op === 'add') listAdds.set(m.contact, (listAdds.get(m.contact) ?? 0) + 1);
  return { property, listAdds };
}

/** The store's desired segment of every contact but the deleted one, as HubSpot should now hold it. */
function expectOthersApplied(e: Env, lists: boolean): void {
  const model = e.store.models.activeModel();
  const desired = [...e.store.push.desired('hs', model?.id ?? -1)].filter((d) => d.externalId !== GONE);
  expect(desired).toHaveLength(CONTACTS - 1);
  const listIds = e.store.push.lists('hs');
  for (const d of desired) {
    expect(e.fake.contacts.get(d.externalId)?.properties.segsync_segment, `property of ${d.externalId}`).toBe(d.segmentId);
    if (lists) expect(e.fake.lists.get(listIds[d.segmentId] as string)?.members.has(d.externalId), `list of ${d.externalId}`).toBe(true);
  }
}

describe('HubSpot push: a contact deleted between sync and push', () => {
  it('is rejected with the reason, the rest is applied exactly once, the push succeeds; the next run is clean', async () => {
    env = await ready();
    env.fake.archiveContact(GONE);
    const r = await push(env);
    expect(pushStatus(r)).toBe('succeeded');
    expect(r.targets[0]).toMatchObject({ adds: CONTACTS, written: CONTACTS - 1, failed: 0, rejected: 1, errors: [] });
    expect(r.targets[0]?.rejections).toEqual([{ op: 'add', externalId: GONE, error: `contact ${GONE} does not exist in HubSpot (deleted or merged); the next sync removes it` }]);
    expectOthersApplied(env, true);
    // one batch update of 100 (HubSpot answered 207 for the deleted one), one list call per segment: nobody written twice
    const { property, listAdds } = writesPer(env, updates(env));
    expect(updates(env)).toHaveLength(1);
    expect([...property.values()].every((n) => n === 1)).toBe(true);
    expect(listAdds.size).toBe(CONTACTS - 1);
    expect([...listAdds.values()].every((n) => n === 1)).toBe(true);
    expect(env.fake.membershipLog.filter((m) => m.op === 'remove')).toEqual([]);

    // recorded in the outbox with the reason; the model counts as pushed (no failure held it back)
    expect(env.store.push.outboxCounts('hs')).toEqual({ done: CONTACTS - 1, rejected: 1 });
    expect(env.store.push.rejected('hs', 10)).toEqual([expect.objectContaining({ runId: 1, op: 'add', externalId: GONE, error: expect.stringContaining('does not exist in HubSpot') })]);
    expect(env.store.models.getMeta('pushed_model_id')).toBe(String(env.store.models.activeModel()?.id));
    expect(env.store.push.pushed('hs').has(GONE)).toBe(false);

    // the next run: its sync (archived pass due) removes the contact, so nothing is sent and the rejection is settled
    advance(25 * 3_600_000);
    await env.sync({ runId: 2 });
    const writes = env.fake.writes().length;
    const r2 = await push(env, 2);
    expect(r2.targets[0]).toMatchObject({ adds: 0, removes: 0, written: 0, failed: 0, rejected: 0 });
    expect(pushStatus(r2)).toBe('succeeded');
    expect(env.fake.writes()).toHaveLength(writes);
    expect(env.store.push.outboxCounts('hs').rejected).toBeUndefined();
    expect(env.store.push.rejected('hs', 10)).toEqual([]);
    expectInSync(env);
  });

  it('a batch update refused as a whole for a contact it names goes again without it', async () => {
    env = await ready({ push: 'lists: false' });
    env.fake.archiveContact(GONE);
    // HubSpot refusing the whole batch (nothing applied) and naming the missing contact
    const refuse: Fault = {
      when: (q) => q.path === BATCH_UPDATE && inputsOf(q).includes(GONE),
      reply: [404, { status: 'error', message: 'Could not get some CONTACT objects, they may be deleted or not exist.', category: 'OBJECT_NOT_FOUND', context: { ids: [GONE] }, correlationId: 'c' }],
      times: 10,
    };
    env.fake.faults.push(refuse);
    const r = await push(env);
    expect(pushStatus(r)).toBe('succeeded');
    expect(r.targets[0]).toMatchObject({ written: CONTACTS - 1, failed: 0, rejected: 1 });
    expect(r.targets[0]?.rejections[0]).toMatchObject({ externalId: GONE, error: expect.stringContaining('OBJECT_NOT_FOUND: Could not get some CONTACT objects') });
    // the refused call, then the same batch without the deleted contact: each other contact written once
    expect(updates(env).map((q) => inputsOf(q).length)).toEqual([CONTACTS, CONTACTS - 1]);
    expect(refuse.times).toBe(9);
    const { property } = writesPer(env, updates(env).slice(1));
    expect(property.size).toBe(CONTACTS - 1);
    expect(property.has(GONE)).toBe(false);
    expectOthersApplied(env, false);
  });

  it('a refusal naming no contact still fails its records and the run; nothing is rejected', async () => {
    env = await ready({ push: 'lists: false' });
    env.fake.faults.push({ when: (q) => q.path === BATCH_UPDATE, reply: [400, { status: 'error', message: 'Property values were not valid', category: 'VALIDATION_ERROR', correlationId: 'c' }] });
    const r = await push(env);
    expect(r.targets[0]).toMatchObject({ written: 0, failed: CONTACTS, rejected: 0 });
    expect(pushStatus(r)).toBe('failed');
    expect(env.store.push.outboxCounts('hs')).toEqual({ failed: CONTACTS });
  });

  it('an auth error still stops the push', async () => {
    env = await ready();
    env.fake.archiveContact(GONE);
    env.fake.faults.push({ when: (q) => q.path === BATCH_UPDATE, reply: [401, { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' }] });
    await expect(push(env)).rejects.toSatisfy((e) => e instanceof RemoteError && e.kind === 'auth');
  });
});
