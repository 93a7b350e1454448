import { describe, it, expect } from 'vitest';
import { churnBetween, diffMemberships } from '../../src/push/diff.js';
import type { DesiredRow } from '../../src/store/push-repo.js';

const want = (externalId: string, segmentId: string, customerId = `cus_${externalId}`): DesiredRow => ({
  externalId,
  customerId,
  email: `${externalId}@example.com`,
  segmentId,
  segmentName: segmentId.toUpperCase(),
});
const pushedMap = (entries: [string, string, string?][]) =>
  new Map(entries.map(([e, s, c]) => [e, { segmentId: s, customerId: c ?? `cus_${e}` }] as const));

describe('diffMemberships', () => {
  it('adds every desired record when nothing was pushed', () => {
    const d = diffMemberships([want('1', 'a'), want('2', 'b'), want('3', 'a')], new Map());
    expect(d.adds).toBe(3);
    expect(d.removes).toBe(0);
    expect(d.ops.map((o) => [o.op, o.externalId, o.segmentId])).toEqual([
      ['add', '1', 'a'],
      ['add', '2', 'b'],
      ['add', '3', 'a'],
    ]);
    expect(d.ops[0]).toMatchObject({ customerId: 'cus_1' });
    expect(Object.fromEntries(d.bySegment)).toEqual({ a: { adds: 2, removes: 0 }, b: { adds: 1, removes: 0 } });
  });

  it('makes no op for records already in the right segment (idempotent push)', () => {
    const desired = [want('1', 'a'), want('2', 'b')];
    const d = diffMemberships(desired, pushedMap([['1', 'a'], ['2', 'b']]));
    expect(d.ops).toEqual([]);
    expect(d.adds).toBe(0);
    expect(d.removes).toBe(0);
    expect(d.bySegment.size).toBe(0);
  });

  it('moves a record with a remove from the old segment and an add to the new one', () => {
    const d = diffMemberships([want('1', 'b')], pushedMap([['1', 'a']]));
    expect(d.ops.map((o) => [o.op, o.externalId, o.segmentId])).toEqual([
      ['remove', '1', 'a'],
      ['add', '1', 'b'],
    ]);
    expect(d.adds).toBe(1);
    expect(d.removes).toBe(1);
    expect(Object.fromEntries(d.bySegment)).toEqual({ a: { adds: 0, removes: 1 }, b: { adds: 1, removes: 0 } });
  });

  it('removes a record that is no longer desired (deleted contact), with the pushed customer id', () => {
    const d = diffMemberships([want('1', 'a')], pushedMap([['1', 'a'], ['gone', 'b', 'cus_old']]));
    expect(d.ops).toEqual([
      expect.objectContaining({ op: 'remove', externalId: 'gone', segmentId: 'b', customerId: 'cus_old' }),
    ]);
    expect(d.removes).toBe(1);
    expect(d.adds).toBe(0);
  });

  it('gives every op a distinct, stable key', () => {
    const desired = [want('1', 'b'), want('2', 'a'), want('3', 'c')];
    const pushed = pushedMap([['1', 'a'], ['2', 'a'], ['4', 'c']]);
    const d1 = diffMemberships(desired, pushed);
    const d2 = diffMemberships(desired, pushed);
    const keys = d1.ops.map((o) => o.opKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(d2.ops.map((o) => o.opKey)).toEqual(keys);
    // remove and add of the same record differ
    const k1 = d1.ops.filter((o) => o.externalId === '1').map((o) => o.opKey);
    expect(k1).toHaveLength(2);
    expect(k1[0]).not.toBe(k1[1]);
  });

  it('counts a mixed diff per segment and in total consistently', () => {
    const desired = [want('1', 'a'), want('2', 'b'), want('3', 'b'), want('5', 'c')];
    const pushed = pushedMap([
      ['1', 'a'], // unchanged
      ['2', 'a'], // moved a -> b
      ['4', 'b'], // vanished from b
      ['5', 'a'], // moved a -> c
    ]);
    const d = diffMemberships(desired, pushed);
    expect(Object.fromEntries(d.bySegment)).toEqual({
      a: { adds: 0, removes: 2 },
      b: { adds: 2, removes: 1 },
      c: { adds: 1, removes: 0 },
    });
    expect(d.adds).toBe(3);
    expect(d.removes).toBe(3);
    expect(d.ops.filter((o) => o.op === 'add')).toHaveLength(d.adds);
    expect(d.ops.filter((o) => o.op === 'remove')).toHaveLength(d.removes);
    let sumAdds = 0;
    let sumRemoves = 0;
    for (const v of d.bySegment.values()) {
      sumAdds += v.adds;
      sumRemoves += v.removes;
    }
    expect([sumAdds, sumRemoves]).toEqual([d.adds, d.removes]);
  });

  it('accepts any iterable (a generator from the store)', () => {
    function* gen(): Generator<DesiredRow> {
      yield want('1', 'a');
      yield want('2', 'a');
    }
    expect(diffMemberships(gen(), new Map()).adds).toBe(2);
  });

  it('applying the diff to the pushed state reaches the desired state', () => {
    const desired = [want('1', 'a'), want('2', 'b'), want('3', 'c'), want('6', 'a')];
    const pushed = pushedMap([['1', 'b'], ['2', 'b'], ['4', 'a'], ['5', 'c']]);
    const state = new Map([...pushed].map(([e, v]) => [e, v.segmentId]));
    for (const op of diffMemberships(desired, pushed).ops) {
      if (op.op === 'remove') {
        expect(state.get(op.externalId)).toBe(op.segmentId);
        state.delete(op.externalId);
      } else {
        expect(state.has(op.externalId)).toBe(false);
        state.set(op.externalId, op.segmentId);
      }
    }
    expect(Object.fromEntries(state)).toEqual({ 1: 'a', 2: 'b', 3: 'c', 6: 'a' });
  });
});

describe('churnBetween', () => {
  it('is the share of customers present in both that changed segment', () => {
    const prev = new Map([
      ['a', 's1'],
      ['b', 's1'],
      ['c', 's2'],
      ['d', 's2'],
      ['gone', 's1'],
    ]);
    const next = new Map([
      ['a', 's1'],
      ['b', 's2'],
      ['c', 's2'],
      ['d', 's1'],
      ['new', 's3'],
    ]);
    expect(churnBetween(prev, next)).toBe(0.5);
  });

  it('is 0 with nothing in common or nothing changed, 1 when everyone moved', () => {
    expect(churnBetween(new Map(), new Map([['a', 's1']]))).toBe(0);
    expect(churnBetween(new Map([['a', 's1']]), new Map([['b', 's1']]))).toBe(0);
    expect(churnBetween(new Map([['a', 's1'], ['b', 's2']]), new Map([['a', 's1'], ['b', 's2']]))).toBe(0);
    expect(churnBetween(new Map([['a', 's1'], ['b', 's2']]), new Map([['a', 's2'], ['b', 's1']]))).toBe(1);
  });
});
