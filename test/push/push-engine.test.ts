/**
 * The push engine against a recording fake writer: diff-based, batched,
 * idempotent, resumable after a crash mid-push, per-record failures retried,
 * held above maxChurn.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { z } from 'zod';
import { defineConnector, type MembershipOp, type OpResult } from '../../src/connector/contract.js';
import { createRegistry } from '../../src/connector/registry.js';
import csv from '../../connectors/csv/index.js';
import { parseConfig } from '../../src/config/load.js';
import { runPush } from '../../src/push/engine.js';
import { runSegmentation } from '../../src/segment/run.js';
import { jobContext, openTestStore, seedStore, tempDir } from '../support/store-fixture.js';
import type { Store } from '../../src/store/index.js';

interface FakeRemote {
  calls: MembershipOp[][];
  /** list id -> members */
  lists: Map<string, Set<string>>;
  failAtCall?: number;
  rejectIds?: Set<string>;
}

function fakeConnector(remote: FakeRemote) {
  return defineConnector({
    type: 'fake',
    configSchema: z.looseObject({ name: z.string(), type: z.literal('fake') }),
    check: async () => ({ lines: [] }),
    // this fake only writes; its streams read nothing
    streams: {
      contacts: { checkpointSchema: z.record(z.string(), z.never()), async *read() {}, parse: () => ({ ok: false, rejected: { externalId: undefined, reason: 'unused', payload: null } }) },
      transactions: { checkpointSchema: z.record(z.string(), z.never()), async *read() {}, parse: () => ({ ok: false, rejected: { externalId: undefined, reason: 'unused', payload: null } }) },
    },
    targetSchema: z.strictObject({ connector: z.string() }),
    writer: {
      maxBatch: 50,
      async prepare(_ctx, segments, known) {
        const out: Record<string, string> = { ...known };
        for (const s of segments) if (!out[s.id]) out[s.id] = `list-${s.id}`;
        for (const id of Object.values(out)) if (!remote.lists.has(id)) remote.lists.set(id, new Set());
        return out;
      },
      async apply(_ctx, ops): Promise<OpResult[]> {
        remote.calls.push(ops);
        if (remote.failAtCall !== undefined && remote.calls.length === remote.failAtCall) throw new Error('connection reset by CRM');
        return ops.map((o) => {
          if (remote.rejectIds?.has(o.externalId)) return { key: o.key, ok: false, error: `contact ${o.externalId} is locked` };
          const list = remote.lists.get(o.listId ?? '') ?? new Set<string>();
          if (o.op === 'add') list.add(o.externalId);
          else list.delete(o.externalId);
          return { key: o.key, ok: true };
        });
      },
    },
  });
}

function setup(remote: FakeRemote, maxChurn = 0.3) {
  const dir = tempDir();
  const registry = createRegistry([csv, fakeConnector(remote)]);
  const config = parseConfig(
    `store: ./store.db
connectors:
  - { name: crm, type: fake }
features: { preset: rfm, asOf: 2026-06-30 }
segmentation: { k: 3, nInit: 1, silhouetteSample: 1000 }
push: { maxChurn: ${maxChurn}, targets: [ { connector: crm } ] }
`,
    join(dir, 'segsync.yaml'),
    { registry, env: {} },
  );
  const store = openTestStore(dir);
  seedStore(store, { customers: 240, idle: 30, connector: 'crm' });
  const ctx = { ...jobContext(config, store), registry };
  return { ctx, store };
}

const push = (ctx: ReturnType<typeof setup>['ctx'], o: { dryRun?: boolean; approve?: boolean } = {}) =>
  runPush(ctx, { runId: 1, dryRun: o.dryRun ?? false, approve: o.approve ?? false, signal: ctx.signal });

function members(remote: FakeRemote): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [list, set] of remote.lists) for (const id of set) out.set(id, [...(out.get(id) ?? []), list]);
  return out;
}

function assertEachContactInOneList(remote: FakeRemote, store: Store): void {
  const m = members(remote);
  const model = store.models.activeModel();
  const desired = [...store.push.desired('crm', model?.id ?? -1)];
  expect(m.size).toBe(desired.length);
  for (const d of desired) expect(m.get(d.externalId)).toEqual([`list-${d.segmentId}`]);
}

describe('push engine', () => {
  it('pushes everything in batches of maxBatch, then a second push makes zero write calls', async () => {
    const remote: FakeRemote = { calls: [], lists: new Map() };
    const { ctx, store } = setup(remote);
    runSegmentation(ctx, { runId: 1 });
    const dry = await push(ctx, { dryRun: true });
    expect(remote.calls).toHaveLength(0);
    expect(dry.targets[0]?.adds).toBe(270);
    const r = await push(ctx);
    expect(r.targets[0]).toMatchObject({ adds: 270, removes: 0, written: 270, failed: 0 });
    expect(remote.calls.every((c) => c.length <= 50)).toBe(true);
    expect(remote.calls).toHaveLength(Math.ceil(270 / 50));
    assertEachContactInOneList(remote, store);
    const before = remote.calls.length;
    const again = await push(ctx);
    expect(remote.calls.length).toBe(before);
    expect(again.targets[0]).toMatchObject({ adds: 0, removes: 0, written: 0 });
  });

  it('resumes after a crash mid-push without sending any acknowledged op twice', async () => {
    const remote: FakeRemote = { calls: [], lists: new Map(), failAtCall: 3 };
    const { ctx, store } = setup(remote);
    runSegmentation(ctx, { runId: 1 });
    await expect(push(ctx)).rejects.toThrow(/connection reset/);
    const acked = remote.calls.slice(0, 2).flat();
    expect(store.push.pushed('crm').size).toBe(acked.length);
    remote.failAtCall = undefined;
    await push(ctx);
    const sentAfter = remote.calls.slice(3).flat();
    const ackedIds = new Set(acked.map((o) => o.externalId));
    for (const o of sentAfter) expect(ackedIds.has(o.externalId)).toBe(false);
    // the batch that failed is sent again, everything else once
    expect(sentAfter.length).toBe(270 - acked.length);
    assertEachContactInOneList(remote, store);
  });

  it('records per-record failures and retries only those on the next push', async () => {
    const remote: FakeRemote = { calls: [], lists: new Map(), rejectIds: new Set(['c000007', 'c000100']) };
    const { ctx } = setup(remote);
    runSegmentation(ctx, { runId: 1 });
    const r = await push(ctx);
    expect(r.targets[0]).toMatchObject({ written: 268, failed: 2 });
    expect(r.targets[0]?.errors).toContain('contact c000007 is locked');
    remote.rejectIds = undefined;
    const n = remote.calls.length;
    const r2 = await push(ctx);
    expect(r2.targets[0]).toMatchObject({ adds: 2, written: 2, failed: 0 });
    expect(remote.calls.slice(n).flat().map((o) => o.externalId).sort()).toEqual(['c000007', 'c000100']);
  });

  it('a deleted contact leaves its list; a moved one is removed from the old list and added to the new', async () => {
    const remote: FakeRemote = { calls: [], lists: new Map() };
    const { ctx, store } = setup(remote, 1);
    runSegmentation(ctx, { runId: 1 });
    await push(ctx);
    store.sync.commitPage({ runId: 2, connector: 'crm', stream: 'contacts', deleted: ['c000003'], rejected: [], checkpoint: { x: 1 }, now: '2026-07-02T00:00:00.000Z' });
    runSegmentation(ctx, { runId: 2 });
    const r = await push(ctx);
    expect(r.targets[0]?.removes).toBeGreaterThanOrEqual(1);
    expect(members(remote).has('c000003')).toBe(false);
    assertEachContactInOneList(remote, store);
  });

  it('holds the push when churn exceeds maxChurn, and --approve releases it', async () => {
    const remote: FakeRemote = { calls: [], lists: new Map() };
    const { ctx, store } = setup(remote, 0.05);
    runSegmentation(ctx, { runId: 1 });
    await push(ctx);
    const n = remote.calls.length;
    // retrain on a different k: many customers change segment
    runSegmentation(ctx, { runId: 2, k: 5 });
    const held = await push(ctx);
    expect(held.held).toBe(true);
    expect(held.churn).toBeGreaterThan(0.05);
    expect(remote.calls.length).toBe(n);
    expect(held.targets[0]?.adds).toBeGreaterThan(0);
    const ok = await push(ctx, { approve: true });
    expect(ok.held).toBe(false);
    expect(remote.calls.length).toBeGreaterThan(n);
    assertEachContactInOneList(remote, store);
  });
});
