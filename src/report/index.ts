/**
 * The visual segment report: `segsync report --out report.html`, and the same
 * sections for the dashboard (`renderReportSections` + `REPORT_CSS`).
 */
import { resolve } from 'node:path';
import type { Store } from '../store/index.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import { gatherReportData } from './data.js';
import { buildSections } from './sections.js';
import { reportDocument } from './html.js';
import type { ReportData, ReportOptions, ReportSection } from './types.js';

export { REPORT_CSS } from './css.js';
export { gatherReportData } from './data.js';
export { reportOptionsFor } from './options.js';
export { mapSnapshot, MAP_SNAPSHOT_KEY, type MapSnapshot } from './snapshot.js';
export type { ReportData, ReportOptions, ReportSection } from './types.js';

/** The report's sections as HTML fragments (inline SVG, no script): wrap them in an element with class "segsync-report" and include REPORT_CSS. */
export async function renderReportSections(store: Store, opts: ReportOptions = {}): Promise<ReportSection[]> {
  return buildSections(await gatherReportData(store, opts));
}

/** The whole self-contained HTML document. */
export async function renderReport(store: Store, opts: ReportOptions = {}): Promise<{ html: string; data: ReportData }> {
  const data = await gatherReportData(store, opts);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const sections = await buildSections(data);
  const c = process.cpuUsage(c0);
  data.timings.render = Math.round(performance.now() - t0);
  data.timings.renderCpu = Math.round((c.user + c.system) / 1000);
  return { html: reportDocument(data, sections), data };
}

export interface WrittenReport {
  file: string;
  bytes: number;
  ms: number;
  segments: number;
  /** customers drawn on the segment map */
  points: number;
  /** milliseconds per step */
  timings: Record<string, number>;
}

/** Writes the report atomically (temp file, then rename) and says where. */
export async function writeReport(store: Store, file: string, opts: ReportOptions = {}): Promise<WrittenReport> {
  const t0 = performance.now();
  const { html, data } = await renderReport(store, opts);
  const out = resolve(file);
  await writeFileAtomic(out, [html]);
  return { file: out, bytes: Buffer.byteLength(html), ms: Math.round(performance.now() - t0), segments: data.segments.length, points: data.map?.points.length ?? 0, timings: data.timings };
}
