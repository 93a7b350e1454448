/** The change-event queue: dedupe by event id, arrival order, done marks, pruning, the per-contact index. */
import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/connector/contract.js';
import { planEvents } from '../../src/realtime/apply.js';
import { openTestStore, tempDir } from '../support/store-fixture.js';

const ev = (id: string, objectId: string, action: ChangeEvent['action'] = 'upsert', occurredAt = 1, mergedIds: string[] = []): ChangeEvent => ({ eventId: id, action, objectId, mergedIds, occurredAt });

describe('change events', () => {
  it('stores an event id once per source, hands them out in arrival order and forgets only applied ones past the retention', () => {
    const store = openTestStore(tempDir());
    expect(store.changes.enqueue('hs', [ev('1', '10'), ev('2', '11'), ev('1', '10')], 1_000)).toEqual({ accepted: 2, duplicates: 1 });
    expect(store.changes.enqueue('hs', [ev('2', '11'), ev('3', '12', 'merge', 5, ['13'])], 2_000)).toEqual({ accepted: 1, duplicates: 1 });
    // another source may reuse an id
    expect(store.changes.enqueue('hs-eu', [ev('1', '10')], 2_000)).toEqual({ accepted: 1, duplicates: 0 });
    const pending = store.changes.pending('hs', 10);
    expect(pending.map((p) => [p.eventId, p.objectId, p.receivedAt])).toEqual([['1', '10', 1_000], ['2', '11', 1_000], ['3', '12', 2_000]]);
    expect(pending[2]).toMatchObject({ action: 'merge', mergedIds: ['13'], occurredAt: 5 });
    expect(store.changes.oldestPending('hs')).toBe(1_000);

    expect(store.changes.markDone(pending.slice(0, 2).map((p) => p.seq), 7, 3_000)).toBe(2);
    expect(store.changes.counts('hs')).toEqual({ done: 2, pending: 1 });
    expect(store.changes.pending('hs', 10).map((p) => p.eventId)).toEqual(['3']);
    // pruned ids no longer dedupe; the pending one is never pruned
    expect(store.changes.prune(3_001)).toBe(2);
    expect(store.changes.counts('hs')).toEqual({ done: 0, pending: 1 });
    expect(store.changes.enqueue('hs', [ev('1', '10')], 4_000).accepted).toBe(1);

    expect(store.changes.ensureContactIndex()).toBe(true);
    expect(store.changes.ensureContactIndex()).toBe(false);
    store.close();
  });

  it('plans one answer per contact: the newest event wins, a merge removes what it absorbed', () => {
    const stored = [ev('1', '10', 'upsert', 1), ev('2', '10', 'delete', 2), ev('3', '11', 'delete', 1), ev('4', '11', 'upsert', 3), ev('5', '12', 'merge', 4, ['13', '14']), ev('6', '13', 'upsert', 2)].map(
      (e, i) => ({ ...e, seq: i + 1, receivedAt: 0 }),
    );
    expect(planEvents(stored)).toEqual({ fetch: ['11', '12'], remove: ['10', '13', '14'], fetchTx: [], removeTx: [] });
    // deals are planned apart: the same id may be a contact and a deal
    const deals = [ev('7', '10', 'transaction.upsert', 1), ev('8', '20', 'transaction.merge', 2, ['21']), ev('9', '22', 'transaction.delete', 3)].map((e, i) => ({ ...e, seq: 10 + i, receivedAt: 0 }));
    expect(planEvents([...stored, ...deals])).toEqual({ fetch: ['11', '12'], remove: ['10', '13', '14'], fetchTx: ['10', '20'], removeTx: ['21', '22'] });
  });
});
