/** Model selection: silhouette, Davies-Bouldin and Calinski-Harabasz per k for each algorithm tried, the chosen model ringed. */
import type { TopLevelSpec } from 'vega-lite';
import type { CandidateRow } from '../types.js';
import { fixed } from '../format.js';
import { config } from './theme.js';

export const METRICS = [
  { key: 'silhouette', title: 'Silhouette', better: 'higher is better', digits: 3 },
  { key: 'daviesBouldin', title: 'Davies–Bouldin', better: 'lower is better', digits: 3 },
  { key: 'calinskiHarabasz', title: 'Calinski–Harabasz', better: 'higher is better', digits: 0 },
] as const;

export function modelSelectionSpec(candidates: readonly CandidateRow[]): TopLevelSpec {
  const algorithms = [...new Set(candidates.map((c) => c.algorithm))];
  const ks = [...new Set(candidates.map((c) => c.k))].sort((a, b) => a - b);
  return {
    config,
    hconcat: METRICS.map((m) => {
      const values = candidates.map((c) => ({
        algorithm: c.algorithm,
        k: c.k,
        value: c[m.key],
        chosen: c.chosen,
        eligible: c.eligible,
        tip: `${c.algorithm}, k = ${c.k}: ${m.title} ${fixed(c[m.key], m.digits)}${c.chosen ? ' (chosen)' : ''}${c.eligible ? '' : ' (not eligible: a segment is too small)'}`,
      }));
      return {
        title: { text: m.title, subtitle: m.better, subtitleColor: '#666' },
        data: { values },
        width: 210,
        height: 170,
        encoding: {
          x: { field: 'k', type: 'ordinal', sort: ks, title: 'number of segments (k)', axis: { labelAngle: 0 } },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false }, axis: { tickCount: 5, format: m.digits ? '.2f' : '~s' } },
          color: { field: 'algorithm', type: 'nominal', title: 'Algorithm', scale: { domain: algorithms, scheme: 'tableau10' }, legend: algorithms.length > 1 ? {} : null },
        },
        layer: [
          { name: `lines_${m.key}`, mark: { type: 'line', strokeWidth: 1.5, aria: false } },
          {
            name: `points_${m.key}`,
            mark: { type: 'point', filled: true, size: 45 },
            encoding: {
              opacity: { condition: { test: 'datum.eligible', value: 1 }, value: 0.35 },
              description: { field: 'tip', type: 'nominal' },
            },
          },
          {
            name: `chosen_${m.key}`,
            transform: [{ filter: 'datum.chosen' }],
            mark: { type: 'point', filled: false, size: 260, strokeWidth: 2.5, color: '#d62728', aria: false },
            encoding: { color: { value: '#d62728' } },
          },
        ],
      };
    }),
    resolve: { scale: { color: 'shared' } },
  };
}
