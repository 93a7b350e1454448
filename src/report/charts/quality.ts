/** Data quality: quarantined records by reason, stacked by connector. */
import type { TopLevelSpec } from 'vega-lite';
import type { QuarantineGroup } from '../../store/status-repo.js';
import { int } from '../format.js';
import { config } from './theme.js';

export function qualitySpec(groups: readonly QuarantineGroup[]): TopLevelSpec {
  const total = new Map<string, number>();
  for (const g of groups) total.set(g.reason, (total.get(g.reason) ?? 0) + g.count);
  const reasons = [...total].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([r]) => r);
  const values = groups.map((g) => ({ ...g, who: `${g.connector} (${g.stream})`, tip: `${g.connector} · ${g.stream} · ${g.reason}: ${int(g.count)} records` }));
  return {
    config,
    data: { values },
    width: 420,
    height: { step: 24 },
    encoding: {
      y: { field: 'reason', type: 'nominal', sort: reasons, title: null, axis: { labelLimit: 320 } },
      x: { field: 'count', type: 'quantitative', stack: 'zero', title: 'quarantined records', axis: { format: '~s', tickCount: 5 } },
    },
    layer: [
      {
        name: 'bars',
        mark: { type: 'bar' },
        encoding: {
          color: { field: 'who', type: 'nominal', title: 'Connector (stream)', scale: { scheme: 'tableau10' } },
          description: { field: 'tip', type: 'nominal' },
        },
      },
    ],
  };
}
