/** Heat map: segments x features, each cell the segment's standardized mean difference from all clustered customers. */
import type { TopLevelSpec } from 'vega-lite';
import type { FeatureInfo, ReportSegment } from '../types.js';
import { amount, signed } from '../format.js';
import { config } from './theme.js';

export interface HeatCell {
  segment: string;
  feature: string;
  z: number;
  value: string;
  tip: string;
}

export function heatCells(segments: readonly ReportSegment[], features: readonly FeatureInfo[]): HeatCell[] {
  const cells: HeatCell[] = [];
  for (const s of segments) {
    if (s.fixed) continue;
    for (const f of features) {
      const z = s.z[f.key];
      if (z === undefined) continue;
      const mean = s.means[f.key] ?? NaN;
      cells.push({
        segment: s.label,
        feature: wrap(f.label),
        z,
        value: signed(z, 1),
        tip: `${s.label} · ${f.label}: ${amount(mean)} on average vs ${amount(f.overall)} for all customers (${signed(z)} standard deviations)`,
      });
    }
  }
  return cells;
}

/** Greedy word wrap at about 14 characters a line, lines joined by "|" (split again by the axis). */
export function wrap(label: string, width = 14): string {
  const lines: string[] = [];
  for (const w of label.split(' ')) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 1 + w.length <= width) lines[lines.length - 1] = `${last} ${w}`;
    else lines.push(w);
  }
  return lines.join('|');
}

export function heatmapSpec(segments: readonly ReportSegment[], features: readonly FeatureInfo[]): TopLevelSpec {
  const cells = heatCells(segments, features);
  const max = Math.max(1, ...cells.map((c) => Math.abs(c.z)));
  const lim = Math.min(3, Math.ceil(max * 2) / 2);
  return {
    config,
    data: { values: cells },
    width: { step: 100 },
    height: { step: 36 },
    encoding: {
      x: {
        field: 'feature',
        type: 'nominal',
        sort: features.map((f) => wrap(f.label)),
        title: null,
        axis: { orient: 'bottom', labelAngle: 0, labelLimit: 160, labelFontWeight: 600, labelExpr: "split(datum.label, '|')", labelPadding: 6 },
      },
      y: { field: 'segment', type: 'nominal', sort: segments.filter((s) => !s.fixed).map((s) => s.label), title: null, axis: { labelFontWeight: 600, labelLimit: 200 } },
    },
    layer: [
      {
        name: 'cells',
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: {
          color: {
            field: 'z',
            type: 'quantitative',
            scale: { scheme: 'redblue', domain: [-lim, lim], clamp: true },
            legend: { title: ['Below (red) or above (blue)', 'average, in standard deviations'], orient: 'bottom', gradientLength: 260, titleLimit: 300 },
          },
          description: { field: 'tip', type: 'nominal' },
        },
      },
      {
        name: 'cell_values',
        mark: { type: 'text', fontSize: 11, aria: false },
        encoding: {
          text: { field: 'value', type: 'nominal' },
          color: { condition: { test: `abs(datum.z) > ${lim * 0.55}`, value: 'white' }, value: '#222' },
        },
      },
    ],
  };
}
