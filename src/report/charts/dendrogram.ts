/** Dendrogram of a hierarchical model's merge tree, with the cut that gives its k segments. */
import type { TopLevelSpec } from 'vega-lite';
import type { DendrogramData, ReportSegment } from '../types.js';
import { int } from '../format.js';
import { config } from './theme.js';
import { segmentColor } from '../palette.js';

export function dendrogramSpec(tree: DendrogramData, segments: readonly ReportSegment[]): TopLevelSpec {
  const named = new Map(segments.map((s) => [s.label, s.color]));
  const present = new Set([...tree.links.map((l) => l.segment), ...tree.leaves.map((l) => l.segment)].filter((s) => s !== ''));
  // legend in the segments' order, then any cluster not matched to a segment
  const labels = [...segments.map((s) => s.label).filter((l) => present.has(l)), ...[...present].filter((l) => !named.has(l)).sort()];
  const range = labels.map((l, i) => named.get(l) ?? segmentColor(i));
  const top = Math.max(tree.cut, ...tree.links.map((l) => l.y2));
  return {
    config,
    width: Math.max(360, Math.min(760, tree.leaves.length * 18)),
    height: 260,
    layer: [
      {
        name: 'links',
        data: { values: tree.links },
        mark: { type: 'rule', strokeWidth: 1.5, aria: false },
        encoding: {
          x: { field: 'x', type: 'quantitative', axis: null, scale: { domain: [-0.5, tree.leaves.length - 0.5] } },
          x2: { field: 'x2' },
          y: { field: 'y', type: 'quantitative', title: 'merge distance', scale: { domain: [0, top * 1.08], nice: false } },
          y2: { field: 'y2' },
          color: {
            field: 'segment',
            type: 'nominal',
            scale: { domain: ['', ...labels], range: ['#8a8a8a', ...range] },
            legend: labels.length ? { title: 'Segment', values: labels } : null,
          },
        },
      },
      {
        name: 'cut',
        data: { values: [{ cut: tree.cut, label: `cut here → ${tree.k} segments` }] },
        mark: { type: 'rule', color: '#d62728', strokeDash: [6, 4], strokeWidth: 1.5, aria: false },
        encoding: { y: { field: 'cut', type: 'quantitative' } },
      },
      {
        name: 'cut_label',
        data: { values: [{ cut: tree.cut, label: `cut here → ${tree.k} segments` }] },
        mark: { type: 'text', color: '#d62728', align: 'left', dy: -6, x: 4, fontSize: 11, aria: false },
        encoding: { y: { field: 'cut', type: 'quantitative' }, text: { field: 'label', type: 'nominal' } },
      },
      {
        name: 'leaf_sizes',
        data: { values: tree.leaves.map((l) => ({ ...l, text: int(l.size) })) },
        mark: { type: 'text', angle: 270, align: 'right', baseline: 'middle', dy: 0, fontSize: 9, color: '#555', aria: false },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { datum: 0, type: 'quantitative' }, yOffset: { value: 6 }, text: { field: 'text', type: 'nominal' } },
      },
    ],
  };
}
