/**
 * Keeps segment ids stable across retrains: new clusters are matched to the
 * previous model's segments by customer overlap (Hungarian on the overlap
 * table), so CRM lists keep their identity. Unmatched clusters get new ids.
 */
import { hungarian } from './hungarian.js';

export interface Matching {
  /** segment id per new cluster */
  ids: string[];
  /** previous segment ids no cluster took over */
  retired: string[];
}

export function matchSegments(
  customerIds: readonly string[],
  labels: Int32Array,
  k: number,
  previous: ReadonlyMap<string, string>,
  newId: () => string,
): Matching {
  const prevIds = [...new Set(previous.values())].sort();
  const col = new Map(prevIds.map((id, j) => [id, j] as const));
  const overlap: number[][] = Array.from({ length: k }, () => new Array<number>(prevIds.length).fill(0));
  customerIds.forEach((c, i) => {
    const p = previous.get(c);
    const j = p === undefined ? undefined : col.get(p);
    const row = overlap[labels[i] as number];
    if (j !== undefined && row) row[j] = (row[j] ?? 0) + 1;
  });
  const assign = prevIds.length ? hungarian(overlap.map((r) => r.map((v) => -v))) : new Array<number>(k).fill(-1);
  const taken = new Set<string>();
  const ids = assign.map((j, cluster) => {
    // a match with no shared customer is no match
    if (j >= 0 && (overlap[cluster]?.[j] ?? 0) > 0) {
      const id = prevIds[j] as string;
      taken.add(id);
      return id;
    }
    return '';
  });
  for (let c = 0; c < k; c++) if (ids[c] === '') ids[c] = newId();
  return { ids, retired: prevIds.filter((id) => !taken.has(id)) };
}
