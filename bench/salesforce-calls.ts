/**
 * API calls the Salesforce connector spends, counted at the loopback fake org
 * (test/connectors/salesforce/fake-org.ts), against the least any client could:
 *
 *   pull N contacts and M won opportunities   minimum ceil(N/2000) + ceil(M/2000) query pages
 *   push N membership changes (adds)          minimum 2 x ceil(N/200): one CampaignMember insert
 *                                             and one Contact field update per 200
 *
 * The pull is a first sync with the engine's default page size (5,000); above
 * bulkThreshold (50,000) contacts come through a Bulk API 2.0 job. The push is
 * prepare (describe, campaign lookup, campaign creation) plus the apply batches,
 * with the segment field already in place (creating it is a one-time cost).
 * Target: at most 1.1x the minimum.
 *
 *   npm run build:bench && node dist/bench/salesforce-calls.js [contacts opportunities changes]
 */
import { pathToFileURL } from 'node:url';
import salesforce from '../connectors/salesforce/index.js';
import { salesforceConfigSchema, salesforceTargetSchema, type SalesforceConfig, type SalesforceTarget } from '../connectors/salesforce/config.js';
import type { ConnectorContext, MembershipOp, SegmentRef, WriterContext } from '../src/connector/contract.js';
import { createRetryPolicy } from '../src/connector/retry.js';
import { silentLogger } from '../src/core/logger.js';
import { FakeOrg } from '../test/connectors/salesforce/fake-org.js';

export interface SalesforceCallCounts {
  pullCalls: number;
  pullMinimum: number;
  pushCalls: number;
  pushMinimum: number;
  /** Moving half of the pushed contacts to another segment (remove + add each). */
  moves?: { calls: number; minimum: number };
}

const SEGMENTS: SegmentRef[] = ['Champions', 'Loyal', 'At risk', 'New', 'Big spenders'].map((name, i) => ({
  id: `seg_${i + 1}`,
  name,
  description: `${name} customers`,
  retired: false,
}));

export async function salesforceCallCounts(opts: { contacts: number; opportunities: number; changes: number }): Promise<SalesforceCallCounts> {
  const org = await new FakeOrg().start();
  try {
    const contacts: string[] = [];
    for (let i = 0; i < opts.contacts; i++) contacts.push(org.insert('Contact', { Email: `p${i}@example.com`, LastName: `P${i}`, MailingCountry: 'US', LeadSource: 'Web' }).Id as string);
    for (let i = 0; i < opts.opportunities; i++) {
      const opp = org.insert('Opportunity', { Amount: 100 + (i % 50), CloseDate: '2026-03-01', StageName: 'Closed Won', IsWon: true, CurrencyIsoCode: 'USD' });
      org.insert('OpportunityContactRole', { OpportunityId: opp.Id, ContactId: contacts[i % Math.max(1, contacts.length)], IsPrimary: true });
    }
    org.customFields.set('Contact.Segment__c', { type: 'picklist', visible: true });
    const config: SalesforceConfig = salesforceConfigSchema.parse({ name: 'sf', type: 'salesforce', instanceUrl: org.url, accessToken: 'tok-0' });
    const ctx = (): ConnectorContext<SalesforceConfig> => ({
      name: 'sf',
      config,
      logger: silentLogger(),
      // one job per step: its own client and API budget
      signal: new AbortController().signal,
      retry: createRetryPolicy({ sleep: async () => {} }),
      baseDir: process.cwd(),
    });

    // pull: a first sync of both streams, as the sync engine reads them
    const pullStart = org.count();
    const pullCtx = ctx();
    const read = { contacts: 0, transactions: 0 };
    for (const name of ['contacts', 'transactions'] as const) {
      const stream = salesforce.streams[name];
      for await (const page of stream.read(pullCtx, undefined, { full: false, pageSize: 5000 })) {
        for (const r of page.records) if (stream.parse(r, { connector: 'sf', config }).ok) read[name]++;
      }
    }
    if (read.contacts !== opts.contacts || read.transactions !== opts.opportunities) {
      throw new Error(`pulled ${read.contacts} contacts / ${read.transactions} transactions, expected ${opts.contacts} / ${opts.opportunities}`);
    }
    const pullCalls = org.count() - pullStart;

    // push: N adds
    const writer = salesforce.writer;
    if (!writer) throw new Error('no writer');
    const target: SalesforceTarget = salesforceTargetSchema.parse({ connector: 'sf' });
    const pushCtx: WriterContext<SalesforceConfig, SalesforceTarget> = { ...ctx(), target };
    const n = Math.min(opts.changes, contacts.length);
    const pushStart = org.count();
    const lists = await writer.prepare(pushCtx, SEGMENTS, {});
    const segOf = (i: number, shift = 0): SegmentRef => SEGMENTS[(i + shift) % SEGMENTS.length] as SegmentRef;
    const op = (kind: 'add' | 'remove', i: number, shift: number): MembershipOp => {
      const s = segOf(i, shift);
      return { key: `${kind}:${i}:${s.id}`, op: kind, externalId: contacts[i] as string, customerId: `c${i}`, segmentId: s.id, segmentName: s.name, listId: lists[s.id] };
    };
    const apply = async (ops: MembershipOp[]): Promise<void> => {
      for (let i = 0; i < ops.length; i += writer.maxBatch) {
        const res = await writer.apply(pushCtx, ops.slice(i, i + writer.maxBatch));
        const bad = res.find((r) => !r.ok);
        if (bad) throw new Error(`push failed: ${bad.error}`);
      }
    };
    await apply(Array.from({ length: n }, (_, i) => op('add', i, 0)));
    const pushCalls = org.count() - pushStart;

    // moves: every other pushed contact to the next segment, as the diff orders them
    const moveCtx: WriterContext<SalesforceConfig, SalesforceTarget> = { ...ctx(), target };
    const movers = Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === 0);
    const moveStart = org.count();
    const lists2 = await writer.prepare(moveCtx, SEGMENTS, lists);
    if (JSON.stringify(lists2) !== JSON.stringify(lists)) throw new Error('campaigns changed between pushes');
    const moveOps = movers.flatMap((i) => [op('remove', i, 0), op('add', i, 1)]);
    for (let i = 0; i < moveOps.length; i += writer.maxBatch) {
      const res = await writer.apply(moveCtx, moveOps.slice(i, i + writer.maxBatch));
      if (res.some((r) => !r.ok)) throw new Error('move failed');
    }
    const moveCalls = org.count() - moveStart;
    const m = movers.length;

    return {
      pullCalls,
      pullMinimum: Math.ceil(opts.contacts / 2000) + Math.ceil(opts.opportunities / 2000),
      pushCalls,
      pushMinimum: 2 * Math.ceil(n / 200),
      moves: { calls: moveCalls, minimum: 3 * Math.ceil(m / 200) },
    };
  } finally {
    await org.stop();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).map(Number);
  const sizes: [number, number, number][] =
    args.length === 3 && args.every((x) => Number.isInteger(x) && x >= 0)
      ? [[args[0] as number, args[1] as number, args[2] as number]]
      : [
          [2_000, 1_000, 2_000],
          [10_000, 5_000, 10_000],
          [40_000, 20_000, 40_000],
          [100_000, 50_000, 100_000],
        ];
  const ratio = (a: number, b: number): string => (b ? (a / b).toFixed(2) : '-');
  process.stdout.write('contacts  opportunities  changes | pull calls / min  ratio | push calls / min  ratio | moves calls / min  ratio\n');
  const rows: unknown[] = [];
  for (const [contacts, opportunities, changes] of sizes) {
    const r = await salesforceCallCounts({ contacts, opportunities, changes });
    rows.push({ contacts, opportunities, changes, ...r });
    process.stdout.write(
      `${String(contacts).padStart(8)}  ${String(opportunities).padStart(13)}  ${String(changes).padStart(7)} | ` +
        `${String(r.pullCalls).padStart(10)} / ${String(r.pullMinimum).padEnd(4)} ${ratio(r.pullCalls, r.pullMinimum).padStart(5)} | ` +
        `${String(r.pushCalls).padStart(10)} / ${String(r.pushMinimum).padEnd(4)} ${ratio(r.pushCalls, r.pushMinimum).padStart(5)} | ` +
        `${String(r.moves?.calls).padStart(11)} / ${String(r.moves?.minimum).padEnd(4)} ${ratio(r.moves?.calls ?? 0, r.moves?.minimum ?? 0).padStart(5)}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ bench: 'salesforce-calls', rows })}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
