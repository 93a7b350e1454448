/**
 * API calls the HubSpot connector makes, counted against a fake HubSpot behind
 * nock (no network): pulling N contacts with M deals (a first, full sync), and
 * pushing N membership changes (N contacts moving segment, lists and property
 * already in place), each against the minimum possible.
 *
 *   pullMinimum = ceil(N/100) contact pages + ceil(M/100) deal pages
 *                 + ceil(M/1000) association batch reads
 *   pushMinimum = ceil(N/100) property batch updates
 *                 + sum over lists of ceil(ids changed in it / 1000) membership calls
 *
 * The counted calls include everything else too (archived listings, the
 * pipelines read, the writer's checks of its property and lists).
 *
 *   npm run build:bench && node dist/bench/hubspot-calls.js [--contacts 10000] [--deals 20000] [--changes 10000]
 */
import { pathToFileURL } from 'node:url';
import nock from 'nock';
import hubspot from '../connectors/hubspot/index.js';
import { hubspotConfigSchema, hubspotTargetSchema, type HubspotConfig, type HubspotTarget } from '../connectors/hubspot/config.js';
import { ASSOCIATIONS_BATCH, LIST_PAGE } from '../connectors/hubspot/streams.js';
import { BATCH_UPDATE_CHUNK, LIST_MEMBERSHIP_CHUNK } from '../connectors/hubspot/writer.js';
import type { ListIds, MembershipOp, SegmentRef, WriterContext } from '../src/connector/contract.js';
import { createRetryPolicy } from '../src/connector/retry.js';
import { silentLogger } from '../src/core/logger.js';
import { FAKE_TOKEN, fakeHubspot } from '../test/connectors/hubspot/fake-hubspot.js';

const BASE = 'https://hubspot.bench';
const SEGMENTS = 5;

export interface HubspotCallCounts {
  pullCalls: number;
  pullMinimum: number;
  pushCalls: number;
  pushMinimum: number;
}

export async function hubspotCallCounts(opts: { contacts: number; deals: number; changes: number }): Promise<HubspotCallCounts> {
  const { contacts: n, deals: m } = opts;
  const changes = Math.min(opts.changes, n);
  nock.disableNetConnect();
  const fake = fakeHubspot({ base: BASE });
  try {
    for (let i = 1; i <= n; i++) fake.addContact(i, { email: `p${i}@example.com` });
    for (let d = 1; d <= m; d++) {
      fake.addDeal(1_000_000 + d, { amount: '10', closedate: '2026-05-01T00:00:00.000Z', dealstage: 'closedwon', pipeline: 'default' }, [((d - 1) % n) + 1]);
    }
    const config: HubspotConfig = hubspotConfigSchema.parse({
      name: 'hubspot',
      type: 'hubspot',
      accessToken: FAKE_TOKEN,
      baseUrl: BASE,
      // the budget is not what is measured here: keep the bench from waiting on it
      rateLimit: { requestsPer10s: 10_000, searchPerSecond: 100 },
    });
    const ctx = {
      name: 'hubspot',
      config,
      logger: silentLogger(),
      signal: new AbortController().signal,
      retry: createRetryPolicy({ sleep: async () => {} }),
      baseDir: process.cwd(),
    };

    // pull: a first sync reads everything, contacts then deals
    let records = 0;
    for (const stream of [hubspot.streams.contacts, hubspot.streams.transactions] as const) {
      for await (const page of stream.read(ctx, undefined, { full: true, pageSize: 5_000 })) {
        for (const raw of page.records) if (stream.parse(raw, { connector: 'hubspot', config }).ok) records++;
      }
    }
    if (records !== n + m) throw new Error(`pulled ${records} records, expected ${n + m}`);
    const pullCalls = fake.requests.length;
    const pullMinimum = Math.ceil(n / LIST_PAGE) + Math.ceil(m / LIST_PAGE) + Math.ceil(m / ASSOCIATIONS_BATCH);

    // push: segments, lists and property exist from an earlier push; `changes` contacts move segment
    const writer = hubspot.writer;
    if (!writer) throw new Error('the HubSpot connector has no writer');
    const segments: SegmentRef[] = Array.from({ length: SEGMENTS }, (_, i) => ({ id: `seg_${i}`, name: `Segment ${i}`, description: '', retired: false }));
    const target: HubspotTarget = hubspotTargetSchema.parse({ connector: 'hubspot' });
    const wctx = (): WriterContext<HubspotConfig, HubspotTarget> => ({ ...ctx, target });
    const known: ListIds = await writer.prepare(wctx(), segments, {});
    const segOf = (i: number, shift: number): SegmentRef => segments[(i + shift) % SEGMENTS] as SegmentRef;
    // the earlier push: every contact in segment (i mod 5)
    await applyAll(wctx(), Array.from({ length: n }, (_, k) => op(k + 1, 'add', segOf(k, 0), known)));

    const before = fake.requests.length;
    const c = wctx();
    const ids = await writer.prepare(c, segments, known);
    const ops: MembershipOp[] = [];
    for (let k = 0; k < changes; k++) ops.push(op(k + 1, 'remove', segOf(k, 0), ids), op(k + 1, 'add', segOf(k, 1), ids));
    await applyAll(c, ops);
    const pushCalls = fake.requests.length - before;
    const perList = new Map<string, number>();
    for (const o of ops) perList.set(o.segmentId, (perList.get(o.segmentId) ?? 0) + 1);
    const pushMinimum = Math.ceil(changes / BATCH_UPDATE_CHUNK) + [...perList.values()].reduce((s, x) => s + Math.ceil(x / LIST_MEMBERSHIP_CHUNK), 0);
    return { pullCalls, pullMinimum, pushCalls, pushMinimum };

    async function applyAll(wc: WriterContext<HubspotConfig, HubspotTarget>, all: MembershipOp[]): Promise<void> {
      if (!writer) return;
      // as the push engine does: batches of maxBatch, in outbox order
      for (let i = 0; i < all.length; i += writer.maxBatch) {
        const res = await writer.apply(wc, all.slice(i, i + writer.maxBatch));
        const failed = res.filter((r) => !r.ok);
        if (failed.length) throw new Error(`push failed for ${failed.length} ops: ${failed[0]?.error}`);
      }
    }
  } finally {
    fake.done();
    nock.enableNetConnect();
  }
}

let seq = 0;
function op(contact: number, kind: 'add' | 'remove', s: SegmentRef, lists: ListIds): MembershipOp {
  return { key: String(++seq), op: kind, externalId: String(contact), customerId: `cust_${contact}`, segmentId: s.id, segmentName: s.name, listId: lists[s.id] };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive whole number`);
    return v;
  };
  const o = { contacts: opt('contacts', 10_000), deals: opt('deals', 20_000), changes: opt('changes', 10_000) };
  const t0 = performance.now();
  const r = await hubspotCallCounts(o);
  const ratio = (a: number, b: number): string => (a / b).toFixed(3);
  process.stdout.write(
    [
      `HubSpot API calls (fake HubSpot, no network), ${o.contacts} contacts, ${o.deals} deals, ${o.changes} membership changes:`,
      `  pull: ${r.pullCalls} calls, minimum ${r.pullMinimum} (${ratio(r.pullCalls, r.pullMinimum)}x)`,
      `  push: ${r.pushCalls} calls, minimum ${r.pushMinimum} (${ratio(r.pushCalls, r.pushMinimum)}x)`,
      `  target: at most 1.1x — ${r.pullCalls <= 1.1 * r.pullMinimum && r.pushCalls <= 1.1 * r.pushMinimum ? 'met' : 'NOT met'} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      JSON.stringify({ bench: 'hubspot-calls', ...o, ...r }),
      '',
    ].join('\n'),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
