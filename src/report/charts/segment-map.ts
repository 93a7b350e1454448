/** Segment map: customers on the two principal axes of the scaled features, coloured by segment, with density contours. */
import type { TopLevelSpec } from 'vega-lite';
import type { MapAxis, ReportSegment, SegmentMapData } from '../types.js';
import { config, segmentScale } from './theme.js';

/** Two lines: the axis and its share of the variation, then what a higher value means. */
function axisTitle(a: MapAxis, arrow: string): string[] {
  return a.meaning ? [a.title, `${arrow} ${a.meaning}`] : [a.title];
}

export function segmentMapSpec(map: SegmentMapData, segments: readonly ReportSegment[]): TopLevelSpec {
  const scale = segmentScale(segments.filter((s) => !s.fixed));
  return {
    config,
    width: 640,
    height: 460,
    encoding: {
      x: { field: 'x', type: 'quantitative', title: axisTitle(map.axes[0], '→'), scale: { zero: false, nice: false }, axis: { grid: false, labels: false, ticks: false, titleLimit: 620 } },
      y: { field: 'y', type: 'quantitative', title: axisTitle(map.axes[1], '↑'), scale: { zero: false, nice: false }, axis: { grid: false, labels: false, ticks: false, titleLimit: 320 } },
    },
    layer: [
      {
        name: 'points',
        data: { values: map.points },
        mark: { type: 'circle', size: 10, opacity: 0.45, aria: false },
        encoding: { color: { field: 'segment', type: 'nominal', scale, legend: { title: 'Segment', symbolOpacity: 1 } } },
      },
      {
        name: 'contours',
        data: { values: map.contours },
        mark: { type: 'line', strokeWidth: 1.6, aria: false },
        encoding: {
          color: { field: 'segment', type: 'nominal', scale, legend: null },
          detail: { field: 'line', type: 'nominal' },
          order: { field: 'order', type: 'quantitative' },
          strokeDash: {
            field: 'level',
            type: 'nominal',
            scale: { domain: ['50%', '90%'], range: [[1, 0], [5, 3]] },
            legend: { title: 'Inside the line', labelExpr: "datum.label + ' of the segment'" },
          },
        },
      },
      {
        name: 'label_halo',
        data: { values: map.centers },
        mark: { type: 'text', fontSize: 12, fontWeight: 'bold', stroke: 'white', strokeWidth: 4, strokeOpacity: 0.85, aria: false },
        encoding: { text: { field: 'segment', type: 'nominal' } },
      },
      {
        name: 'labels',
        data: { values: map.centers },
        mark: { type: 'text', fontSize: 12, fontWeight: 'bold', color: '#111', aria: false },
        encoding: { text: { field: 'segment', type: 'nominal' } },
      },
    ],
  };
}
