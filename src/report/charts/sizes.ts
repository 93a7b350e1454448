/** Segment sizes and revenue share: one bar per segment, in the same order and colours. */
import type { TopLevelSpec } from 'vega-lite';
import type { ReportSegment } from '../types.js';
import { int, pct } from '../format.js';
import { config, segmentScale } from './theme.js';

function bars(segments: readonly ReportSegment[], field: 'size' | 'revenueShare', title: string, label: (s: ReportSegment) => string, tip: (s: ReportSegment) => string): TopLevelSpec {
  const values = segments.map((s) => ({ segment: s.label, size: s.size, revenueShare: s.revenueShare, label: label(s), tip: tip(s) }));
  return {
    config,
    data: { values },
    width: 300,
    height: { step: 26 },
    encoding: {
      y: { field: 'segment', type: 'nominal', sort: segments.map((s) => s.label), title: null, axis: { labelLimit: 180, labelFontWeight: 600 } },
      x: {
        field,
        type: 'quantitative',
        title,
        axis: field === 'revenueShare' ? { format: '.0%', tickCount: 4 } : { format: '~s', tickCount: 4 },
        scale: { domainMax: Math.max(...values.map((v) => v[field]), field === 'size' ? 1 : 0.01) * 1.45 },
      },
    },
    layer: [
      {
        name: 'bars',
        mark: { type: 'bar', cornerRadiusEnd: 2 },
        encoding: { color: { field: 'segment', type: 'nominal', scale: segmentScale(segments), legend: null }, description: { field: 'tip', type: 'nominal' } },
      },
      { name: 'bar_labels', mark: { type: 'text', align: 'left', dx: 4, fontSize: 11, aria: false }, encoding: { text: { field: 'label', type: 'nominal' } } },
    ],
  };
}

export function sizesSpec(segments: readonly ReportSegment[]): TopLevelSpec {
  return bars(
    segments,
    'size',
    'Customers',
    (s) => `${int(s.size)} · ${pct(s.share)}`,
    (s) => `${s.label}: ${int(s.size)} customers (${pct(s.share)} of all)`,
  );
}

export function revenueSpec(segments: readonly ReportSegment[]): TopLevelSpec {
  return bars(
    segments,
    'revenueShare',
    'Share of revenue',
    (s) => pct(s.revenueShare),
    (s) => `${s.label}: ${pct(s.revenueShare)} of revenue from ${pct(s.share)} of customers`,
  );
}
