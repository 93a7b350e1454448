/** Desired memberships vs what the target acknowledged -> the ops that close the gap. */
import type { DesiredRow, PlannedOp } from '../store/push-repo.js';

export interface Diff {
  ops: PlannedOp[];
  adds: number;
  removes: number;
  /** per segment id */
  bySegment: Map<string, { adds: number; removes: number }>;
}

export function diffMemberships(
  desired: Iterable<DesiredRow>,
  pushed: ReadonlyMap<string, { segmentId: string; customerId: string }>,
): Diff {
  const ops: PlannedOp[] = [];
  const bySegment = new Map<string, { adds: number; removes: number }>();
  const bump = (seg: string, k: 'adds' | 'removes'): void => {
    const e = bySegment.get(seg) ?? { adds: 0, removes: 0 };
    e[k]++;
    bySegment.set(seg, e);
  };
  const seen = new Set<string>();
  let adds = 0;
  let removes = 0;
  for (const d of desired) {
    seen.add(d.externalId);
    const p = pushed.get(d.externalId);
    if (p && p.segmentId === d.segmentId) continue;
    if (p) {
      ops.push({ opKey: `remove:${d.externalId}:${p.segmentId}`, op: 'remove', externalId: d.externalId, customerId: p.customerId, segmentId: p.segmentId });
      removes++;
      bump(p.segmentId, 'removes');
    }
    ops.push({ opKey: `add:${d.externalId}:${d.segmentId}`, op: 'add', externalId: d.externalId, customerId: d.customerId, segmentId: d.segmentId });
    adds++;
    bump(d.segmentId, 'adds');
  }
  for (const [externalId, p] of pushed) {
    if (seen.has(externalId)) continue;
    ops.push({ opKey: `remove:${externalId}:${p.segmentId}`, op: 'remove', externalId, customerId: p.customerId, segmentId: p.segmentId });
    removes++;
    bump(p.segmentId, 'removes');
  }
  return { ops, adds, removes, bySegment };
}

/** Share of customers in both assignments whose segment differs. */
export function churnBetween(prev: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>): number {
  let both = 0;
  let moved = 0;
  for (const [c, s] of next) {
    const p = prev.get(c);
    if (p === undefined) continue;
    both++;
    if (p !== s) moved++;
  }
  return both ? moved / both : 0;
}
