/** The segment table `run`, `segment` and `segments` print. */
import type { Store } from '../store/index.js';
import { table, pct, num } from './table.js';

export interface SegmentSummary {
  id: string;
  name: string;
  size: number;
  description: string;
  profile: Record<string, unknown>;
}

export function activeSegments(store: Store): SegmentSummary[] {
  const model = store.models.activeModel();
  if (!model) return [];
  const sizes = store.models.segmentSizes(model.id);
  return store.models
    .segments()
    .filter((s) => sizes.has(s.id))
    .map((s) => ({ id: s.id, name: s.name, size: sizes.get(s.id) ?? 0, description: s.description, profile: s.profile }))
    .sort((a, b) => b.size - a.size);
}

export function segmentTable(segs: readonly SegmentSummary[]): string {
  const total = segs.reduce((a, s) => a + s.size, 0);
  const rows = segs.map((s) => {
    const p = s.profile as { revenueShare?: number; means?: Record<string, number> };
    const m = p.means ?? {};
    return [
      s.name,
      s.size,
      pct(total ? s.size / total : 0),
      pct(p.revenueShare ?? 0),
      m.recency_days === undefined ? '-' : num(m.recency_days, 0),
      m.frequency === undefined ? '-' : num(m.frequency, 1),
      m.monetary === undefined ? '-' : num(m.monetary, 0),
    ];
  });
  return table(['segment', 'customers', 'share', 'revenue', 'recency (d)', 'frequency', 'monetary'], rows);
}
