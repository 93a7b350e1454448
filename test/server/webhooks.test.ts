/**
 * POST /webhooks/hubspot end to end, in process: a fake HubSpot behind nock,
 * the admin server through Fastify's inject, the real runner and processor.
 * A delivery is signed as HubSpot signs it (v3); the contact it names is
 * re-read, assigned with the active model and pushed alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import hubspot from '../../connectors/hubspot/index.js';
import { parseWebhookBody, signatureV3, signedUri } from '../../connectors/hubspot/webhooks.js';
import { silentLogger } from '../../src/core/logger.js';
import { noProgress } from '../../src/core/progress.js';
import type { ChangeFeed } from '../../src/connector/contract.js';
import { ChangeProcessor } from '../../src/realtime/processor.js';
import { assignCustomers } from '../../src/segment/assign-customers.js';
import { JobRunner } from '../../src/schedule/runner.js';
import { buildServer } from '../../src/server/app.js';
import type { BaseContext } from '../../src/server/views.js';
import { customerIdFor, identityKey } from '../../src/store/ids.js';
import type { RunRecord } from '../../src/store/runs-repo.js';
import { populateCustomers, push, registry, segmentNow, setup, storedContacts, storedTransactions, teardown, type Env } from '../connectors/hubspot/helpers.js';

const SECRET = 'app-client-secret-0000-1111';
const HOST = 'segsync.test';
const URL_SIGNED = `http://${HOST}/webhooks/hubspot`;
const DAY = 86_400_000;
const AS_OF = Date.parse('2026-06-30T00:00:00Z');

interface Harness {
  env: Env;
  app: FastifyInstance;
  runner: JobRunner;
  processor: ChangeProcessor;
}

let h: Harness | undefined;

async function start(o: { batchWindow?: number; maxBatch?: number } = {}): Promise<Harness> {
  const env = setup();
  populateCustomers(env.fake, { customers: 90, idle: 6 });
  await env.sync({ full: true });
  segmentNow(env, 1, 3);
  await push(env);
  const base: BaseContext = { config: env.config, store: env.store, logger: silentLogger(), progress: noProgress, registry, retry: env.clock.retry, now: () => new Date() };
  const runner = new JobRunner({ base });
  const source = env.config.connectors.find((c) => c.name === 'hs');
  if (!source) throw new Error('no hs');
  const processor = new ChangeProcessor({
    runner,
    store: env.store,
    logger: silentLogger(),
    realtime: { batchWindow: o.batchWindow ?? 30, maxBatch: o.maxBatch ?? 1000, dedupeRetention: 7 * DAY },
    source,
    connector: hubspot,
  });
  const app = await buildServer({
    ctx: base,
    runner,
    token: 'test-admin-token-0123456789abcdef',
    webhooks: { source: 'hs', feed: hubspot.changes as ChangeFeed<unknown>, secret: SECRET, notify: () => processor.notify() },
  });
  h = { env, app, runner, processor };
  return h;
}

beforeEach(() => {
  h = undefined;
});

afterEach(async () => {
  if (h) {
    h.processor.stop();
    await h.runner.stop(5_000);
    await h.app.close();
  }
  teardown(h?.env);
});

let nextEventId = 1;

function event(type: string, objectId: number | string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: nextEventId++,
    subscriptionId: 2001,
    portalId: 424242,
    appId: 99,
    occurredAt: Date.now(),
    subscriptionType: type,
    attemptNumber: 0,
    objectId: Number(objectId),
    changeSource: 'CRM',
    ...extra,
  };
}

interface Delivery {
  body: string;
  headers: Record<string, string>;
}

function sign(events: unknown[], o: { secret?: string; timestamp?: number; url?: string } = {}): Delivery {
  const body = JSON.stringify(events);
  const ts = String(o.timestamp ?? Date.now());
  return {
    body,
    headers: {
      host: HOST,
      'content-type': 'application/json',
      'x-hubspot-signature-v3': signatureV3(o.secret ?? SECRET, 'POST', o.url ?? URL_SIGNED, body, ts),
      'x-hubspot-request-timestamp': ts,
      'x-hubspot-signature-version': 'v3',
    },
  };
}

async function deliver(d: Delivery, path = '/webhooks/hubspot'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await (h as Harness).app.inject({ method: 'POST', url: path, headers: d.headers, payload: d.body });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

const customerOf = (id: number): string => customerIdFor(identityKey(`hs:${id}`, `c${id}@example.com`));

function membership(env: Env, contact: number): string | undefined {
  const model = env.store.models.activeModel();
  if (!model) throw new Error('no model');
  return env.store.models.memberships(model.id).get(customerOf(contact));
}

function realtimeRuns(env: Env): RunRecord[] {
  return env.store.runs.list(100).filter((r) => r.kind === 'realtime');
}

/** Gives a one-off buyer a run of recent orders, like the frequent buyers (group 0). */
function startBuyingOften(env: Env, contact: number, firstDeal: number): void {
  for (let j = 0; j < 10; j++) {
    const at = new Date(AS_OF - (3 + j * 15) * DAY).toISOString();
    env.fake.addDeal(firstDeal + j, { amount: '50.00', closedate: at, dealstage: 'closedwon', pipeline: 'default', deal_currency_code: 'USD' }, [contact]);
  }
}

/** List memberships and property updates HubSpot received since `from` (request index): contact ids. */
function pushedContacts(env: Env, from: number): { lists: string[]; properties: string[] } {
  const lists = new Set<string>();
  const properties = new Set<string>();
  for (const r of env.fake.requests.slice(from)) {
    const b = r.body as { recordIdsToAdd?: string[]; recordIdsToRemove?: string[]; inputs?: { id: string }[] } | undefined;
    if (/\/memberships\/add-and-remove$/.test(r.path)) for (const id of [...(b?.recordIdsToAdd ?? []), ...(b?.recordIdsToRemove ?? [])]) lists.add(String(id));
    if (/\/contacts\/batch\/update$/.test(r.path)) for (const i of b?.inputs ?? []) properties.add(String(i.id));
  }
  return { lists: [...lists].sort(), properties: [...properties].sort() };
}

describe('POST /webhooks/hubspot', () => {
  it('refuses a bad signature, a stale timestamp and a missing signature, and stores nothing', async () => {
    const { env } = await start();
    const events = [event('contact.propertyChange', 1002)];

    const forged = await deliver(sign(events, { secret: 'not-the-secret' }));
    expect(forged.status).toBe(401);
    expect((forged.body.error as { code: string }).code).toBe('SIGNATURE_INVALID');

    // correctly signed, but six minutes old: a captured delivery replayed later
    const stale = await deliver(sign(events, { timestamp: Date.now() - 6 * 60_000 }));
    expect(stale.status).toBe(401);
    expect((stale.body.error as { code: string }).code).toBe('TIMESTAMP_STALE');

    // a signed body changed on the way
    const good = sign(events);
    const tampered = await deliver({ ...good, body: good.body.replace('1002', '1003') });
    expect((tampered.body.error as { code: string }).code).toBe('SIGNATURE_INVALID');

    const bare = await deliver({ body: good.body, headers: { host: HOST, 'content-type': 'application/json' } });
    expect(bare.status).toBe(401);
    expect((bare.body.error as { code: string }).code).toBe('SIGNATURE_MISSING');

    expect(env.store.changes.counts('hs')).toEqual({ done: 0, pending: 0 });
    expect(realtimeRuns(env)).toEqual([]);
  });

  it('moves one contact to its new segment and pushes only that contact; a replayed event id is not applied again', async () => {
    const { env, processor } = await start();
    const oneOff = membership(env, 1002);
    const frequent = membership(env, 1000);
    expect(oneOff).toBeDefined();
    expect(frequent).not.toBe(oneOff);
    const model = env.store.models.activeModel();
    const before = new Map(env.store.models.memberships(model?.id ?? 0));

    // another customer moved in the store and is not pushed yet: a whole push would send it, this one must not
    const orders = Array.from({ length: 10 }, (_, j) => ({
      id: `hs:local${j}`, connector: 'hs', externalId: `local${j}`, contactId: 'hs:1008', amount: 50, currency: 'USD',
      occurredAt: new Date(AS_OF - (3 + j * 15) * DAY).toISOString(), status: 'won' as const, properties: {},
    }));
    env.store.sync.applyChanges({ runId: 0, connector: 'hs', stream: 'transactions', transactions: orders, rejected: [], now: new Date().toISOString() });
    expect(assignCustomers(env.store, env.config, [customerOf(1008)]).moved).toHaveLength(1);
    before.set(customerOf(1008), membership(env, 1008) as string);

    startBuyingOften(env, 1002, 900_000);
    const from = env.fake.requests.length;
    const d = sign([event('contact.propertyChange', 1002, { propertyName: 'hs_lifecyclestage_customer_date', propertyValue: '1' })]);
    const res = await deliver(d);
    expect(res).toEqual({ status: 200, body: { accepted: 1, duplicates: 0, ignored: 0 } });
    await processor.whenIdle();

    expect(membership(env, 1002)).toBe(frequent);
    const after = env.store.models.memberships(model?.id ?? 0);
    for (const [c, s] of before) if (c !== customerOf(1002)) expect(after.get(c), c).toBe(s);
    expect(storedTransactions(env.store).get('900000')?.contactId).toBe('hs:1002');

    // HubSpot heard about contact 1002 only: out of one list, into another, its property set
    expect(pushedContacts(env, from)).toEqual({ lists: ['1002'], properties: ['1002'] });
    const lists = env.store.push.lists('hs');
    expect(env.fake.lists.get(lists[frequent as string] as string)?.members.has('1002')).toBe(true);
    expect(env.fake.lists.get(lists[oneOff as string] as string)?.members.has('1002')).toBe(false);
    expect(env.fake.contacts.get('1002')?.properties.segsync_segment).toBe(frequent);

    const runs = realtimeRuns(env);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'webhook', status: 'succeeded', counts: { events: 1, fetched: 1, moved: 1, push: { adds: 1, removes: 1, written: 2, failed: 0 } } });

    // the same delivery again (a replay within the 5 minutes, or HubSpot redelivering): acknowledged, not applied
    const reads = env.fake.count('POST', /^\/crm\/v3\/objects\/contacts\/batch\/read$/);
    const again = await deliver(d);
    expect(again).toEqual({ status: 200, body: { accepted: 0, duplicates: 1, ignored: 0 } });
    await processor.whenIdle();
    await new Promise((r) => setTimeout(r, 60));
    expect(realtimeRuns(env)).toHaveLength(1);
    expect(env.fake.count('POST', /^\/crm\/v3\/objects\/contacts\/batch\/read$/)).toBe(reads);
    expect(env.store.changes.counts('hs')).toEqual({ done: 1, pending: 0 });
  });

  it('applies a burst of deliveries in one run', async () => {
    const { env, processor } = await start({ batchWindow: 300 });
    const from = env.fake.requests.length;
    startBuyingOften(env, 1005, 910_000);
    const replies = [];
    for (const id of [1005, 1008, 1011]) replies.push(await deliver(sign([event('contact.propertyChange', id)])));
    // other objects' events are counted, not applied
    replies.push(await deliver(sign([event('company.propertyChange', 77)])));
    expect(replies.map((r) => r.body)).toEqual([
      { accepted: 1, duplicates: 0, ignored: 0 },
      { accepted: 1, duplicates: 0, ignored: 0 },
      { accepted: 1, duplicates: 0, ignored: 0 },
      { accepted: 0, duplicates: 0, ignored: 1 },
    ]);
    await processor.whenIdle();
    const runs = realtimeRuns(env);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.counts).toMatchObject({ events: 3, fetched: 3, customers: 3, moved: 1 });
    // one batch read for the three contacts
    expect(env.fake.requests.slice(from).filter((r) => /^\/crm\/v3\/objects\/contacts\/batch\/read$/.test(r.path))).toHaveLength(1);
    expect(pushedContacts(env, from).lists).toEqual(['1005']);
  });

  it('splits a burst bigger than maxBatch over consecutive runs without losing an event', async () => {
    const { env, processor } = await start({ batchWindow: 50, maxBatch: 4 });
    const ids = [1001, 1004, 1007, 1010, 1013, 1016, 1019, 1022, 1025, 1028];
    await deliver(sign(ids.map((id) => event('contact.propertyChange', id))));
    await processor.whenIdle();
    const runs = realtimeRuns(env);
    expect(runs.map((r) => r.counts.events).sort()).toEqual([2, 4, 4]);
    expect(env.store.changes.counts('hs')).toEqual({ done: 10, pending: 0 });
  });

  it('takes a deleted contact out of the store, its segment and its list; a merge keeps the survivor with both purchase histories', async () => {
    const { env, processor } = await start();
    const lists = env.store.push.lists('hs');
    const seg = membership(env, 1004) as string;
    env.fake.archiveContact('1004');
    expect((await deliver(sign([event('contact.deletion', 1004)]))).status).toBe(200);
    await processor.whenIdle();
    expect(storedContacts(env.store).get('1004')?.deleted).toBe(true);
    expect(membership(env, 1004)).toBeUndefined();
    expect(env.fake.lists.get(lists[seg] as string)?.members.has('1004')).toBe(false);

    // 1007 is merged into 1001: HubSpot moves its deals to the survivor
    const absorbed = [...storedTransactions(env.store)].filter(([, t]) => t.contactId === 'hs:1007').map(([id]) => id);
    expect(absorbed.length).toBeGreaterThan(0);
    const seg1007 = membership(env, 1007) as string;
    env.fake.mergeContacts('1001', '1007');
    const merge = event('contact.merge', 1001, { primaryObjectId: 1001, mergedObjectIds: [1007], newObjectId: 1001, numberOfPropertiesMoved: 3 });
    expect((await deliver(sign([merge]))).body).toEqual({ accepted: 1, duplicates: 0, ignored: 0 });
    await processor.whenIdle();
    expect(storedContacts(env.store).get('1007')?.deleted).toBe(true);
    expect(membership(env, 1007)).toBeUndefined();
    expect(env.fake.lists.get(lists[seg1007] as string)?.members.has('1007')).toBe(false);
    const txs = storedTransactions(env.store);
    for (const id of absorbed) expect(txs.get(id)?.contactId).toBe('hs:1001');
    expect(membership(env, 1001)).toBeDefined();
  });

  it('applies deal events: a new won deal re-reads its contact with all its deals, a deleted deal leaves the store', async () => {
    const { env, processor } = await start();
    const frequent = membership(env, 1000);
    expect(membership(env, 1002)).not.toBe(frequent);
    startBuyingOften(env, 1002, 920_000);
    const from = env.fake.requests.length;
    // one deal.creation (the last of the ten) and a generic object.creation for a deal: both name deals
    const res = await deliver(sign([event('deal.creation', 920_009), { ...event('object.creation', 920_008), objectTypeId: '0-3' }]));
    expect(res.body).toEqual({ accepted: 2, duplicates: 0, ignored: 0 });
    await processor.whenIdle();
    expect(membership(env, 1002)).toBe(frequent);
    const txs = storedTransactions(env.store);
    for (let j = 0; j < 10; j++) expect(txs.get(String(920_000 + j))?.contactId, `deal ${920_000 + j}`).toBe('hs:1002');
    expect(pushedContacts(env, from).lists).toEqual(['1002']);
    expect(realtimeRuns(env)[0]?.counts).toMatchObject({ events: 2, fetched: 1, moved: 1 });

    env.fake.deals.delete('920003');
    env.fake.dealContacts.delete('920003');
    await deliver(sign([event('deal.deletion', 920_003)]));
    await processor.whenIdle();
    expect(storedTransactions(env.store).get('920003')?.deleted).toBe(true);
  });

  it('respects the churn hold: while a retrained model waits for approval, a webhook run assigns but pushes nothing and ends held', async () => {
    const { env, processor } = await start();
    env.config.push.maxChurn = 0;
    segmentNow(env, 3, 4); // a retrain nobody approved: every push is held until `push --approve`
    const from = env.fake.requests.length;
    startBuyingOften(env, 1002, 930_000);
    await deliver(sign([event('contact.propertyChange', 1002)]));
    await processor.whenIdle();
    const run = realtimeRuns(env)[0];
    expect(run).toMatchObject({ status: 'held', counts: { events: 1, push: { held: true, written: 0 } } });
    expect(env.fake.writes().filter((r) => env.fake.requests.indexOf(r) >= from)).toEqual([]);
    expect(env.store.changes.counts('hs')).toEqual({ done: 1, pending: 0 });
  });

  it('applies events left pending by a previous process when it starts', async () => {
    const { env, processor } = await start();
    env.store.changes.enqueue('hs', [{ eventId: 'left-1', action: 'upsert', objectId: '1010', mergedIds: [], occurredAt: Date.now() }], Date.now());
    processor.start();
    await processor.whenIdle();
    expect(env.store.changes.counts('hs')).toEqual({ done: 1, pending: 0 });
    expect(realtimeRuns(env)).toHaveLength(1);
  });

  it('answers 400 naming the field for a signed body that is not a HubSpot event array', async () => {
    await start();
    const res = await deliver(sign([{ eventId: 5, subscriptionType: 'contact.creation' }]));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_REQUEST', field: '0.occurredAt' });
  });
});

describe('HubSpot webhook payload', () => {
  it('maps contact and deal events, ignores other objects and, with a portal id, other portals', () => {
    const body = [
      { eventId: 1, subscriptionType: 'contact.creation', occurredAt: 5, objectId: 11, portalId: 7 },
      { eventId: 2, subscriptionType: 'contact.merge', occurredAt: 6, objectId: 12, primaryObjectId: 12, mergedObjectIds: [13], newObjectId: 14, portalId: 7 },
      { eventId: 3, subscriptionType: 'deal.deletion', occurredAt: 7, objectId: 21, portalId: 7 },
      { eventId: 4, subscriptionType: 'contact.associationChange', occurredAt: 8, associationType: 'DEAL_TO_CONTACT', fromObjectId: 22, toObjectId: 15, portalId: 7 },
      { eventId: 5, subscriptionType: 'company.creation', occurredAt: 9, objectId: 31, portalId: 7 },
      { eventId: 6, subscriptionType: 'contact.deletion', occurredAt: 9, objectId: 16, portalId: 8 },
    ];
    const all = parseWebhookBody(body);
    expect(all).toEqual({
      ok: true,
      ignored: 1,
      events: [
        { eventId: '1', action: 'upsert', objectId: '11', mergedIds: [], occurredAt: 5 },
        { eventId: '2', action: 'merge', objectId: '14', mergedIds: ['12', '13'], occurredAt: 6 },
        { eventId: '3', action: 'transaction.delete', objectId: '21', mergedIds: [], occurredAt: 7 },
        { eventId: '4', action: 'upsert', objectId: '15', mergedIds: [], occurredAt: 8 },
        { eventId: '6', action: 'delete', objectId: '16', mergedIds: [], occurredAt: 9 },
      ],
    });
    const mine = parseWebhookBody(body, { account: '7' });
    expect(mine.ok && mine.events.map((e) => e.eventId)).toEqual(['1', '2', '3', '4']);
    expect(mine.ok && mine.ignored).toBe(2);
  });
});

describe('HubSpot v3 signature', () => {
  it('signs the URI with only HubSpot\'s listed escapes decoded', () => {
    expect(signedUri('https://x.test/hooks/hub%3Aspot?a=%2Fb%3fc%20d%2C')).toBe('https://x.test/hooks/hub:spot?a=/b?c%20d,');
    const a = signatureV3('s', 'POST', 'https://x.test/a%3Ab', '[]', '1');
    expect(a).toBe(signatureV3('s', 'POST', 'https://x.test/a:b', '[]', '1'));
    expect(a).not.toBe(signatureV3('s', 'POST', 'https://x.test/a%20b', '[]', '1'));
  });
});
