/** Assembles the one self-contained HTML file: inline CSS and SVG, no script, nothing fetched (the CSP forbids it). */
import type { ReportData, ReportSection } from './types.js';
import { REPORT_CSS } from './css.js';
import { esc, int, pct, when } from './format.js';

/** Nothing may load: no script, no remote style, font, image or frame. Inline styles and data: images only. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

function figures(d: ReportData): string {
  const m = d.model;
  if (!m) return '';
  const clustered = d.segments.filter((s) => !s.fixed).length;
  const customers = d.segments.reduce((a, s) => a + s.size, 0);
  const items: [string, string][] = [
    [int(customers), 'customers segmented'],
    [String(d.segments.length), clustered === d.segments.length ? 'segments' : `segments (${clustered} clustered)`],
    [m.silhouette === null ? '–' : m.silhouette.toFixed(2), 'silhouette (separation, −1 to 1)'],
    [m.churn === null ? '–' : pct(m.churn), 'changed segment since the last model'],
  ];
  return `<div class="ss-figures">${items.map(([v, l]) => `<div class="ss-figure"><b>${esc(v)}</b><span>${esc(l)}</span></div>`).join('')}</div>`;
}

export function reportDocument(d: ReportData, sections: readonly ReportSection[]): string {
  const m = d.model;
  const meta = m
    ? `Model #${esc(m.id)} (${esc(m.algorithm)}, ${esc(m.k ?? '?')} segments) trained ${esc(when(m.createdAt))} · report written ${esc(when(d.generatedAt))}`
    : `Report written ${esc(when(d.generatedAt))}`;
  const nav = sections.map((s) => `<a href="#ss-${esc(s.id)}">${esc(s.title)}</a>`).join('');
  const body = sections.map((s) => `<section class="ss-section" id="ss-${esc(s.id)}"><h2>${esc(s.title)}</h2>${s.html}</section>`).join('\n');
  const notes = d.notes.length ? d.notes.map((n) => `<p class="ss-note">${esc(n)}</p>`).join('') : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<title>${esc(d.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<div class="segsync-report">
<header>
<h1>${esc(d.title)}</h1>
<p class="ss-meta">${meta}</p>
${figures(d)}
${notes}
<nav>${nav}</nav>
</header>
${body}
<footer>Written by segsync from the store ${esc(d.storeFile)}. This file is self-contained: it opens offline and can be mailed or archived as is.</footer>
</div>
</body>
</html>
`;
}
