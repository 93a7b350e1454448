/** Shared look of every chart: system fonts (nothing to download), quiet axes, one colour per segment. */
import type { Config } from 'vega-lite';
import type { ReportSegment } from '../types.js';

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

export const config: Config = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, labelColor: '#333', titleColor: '#222', gridColor: '#ececec', domainColor: '#999', tickColor: '#999' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, labelLimit: 220 },
  title: { fontSize: 13, fontWeight: 600, anchor: 'start', color: '#222' },
  header: { labelFontSize: 12, titleFontSize: 12 },
};

/** The segments' colour scale: the same segment has the same colour everywhere. */
export function segmentScale(segments: readonly ReportSegment[]): { domain: string[]; range: string[] } {
  return { domain: segments.map((s) => s.label), range: segments.map((s) => s.color) };
}
