/**
 * Vega-Lite spec -> static SVG with vega's headless renderer, made fit to
 * inline many times in one HTML page: element ids prefixed per chart, no
 * namespace URLs, and each mark's description (aria-label) also given as an
 * SVG <title>, which browsers show as the tooltip without any script.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { esc } from './format.js';

/** A loader that refuses everything: chart data is always inline, nothing is ever fetched. */
const offline = {
  load: (uri: string): Promise<string> => Promise.reject(new Error(`the report loads nothing (asked for ${uri})`)),
  sanitize: (uri: string): Promise<{ href: string }> => Promise.reject(new Error(`the report loads nothing (asked for ${uri})`)),
  http: (uri: string): Promise<string> => Promise.reject(new Error(`the report loads nothing (asked for ${uri})`)),
  file: (uri: string): Promise<string> => Promise.reject(new Error(`the report loads nothing (asked for ${uri})`)),
};

export async function renderSvg(spec: TopLevelSpec, chartId: string, description: string): Promise<string> {
  // warnings (e.g. a legend merged across layers) are the charts' business, not the user's: errors only
  // a copy: vega tags the data objects it ingests, and the caller's data must stay as it was
  const vgSpec = compile(structuredClone(spec), { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', loader: offline as unknown as vega.Loader, logLevel: vega.Error });
  try {
    return postProcess(await view.toSVG(), chartId, description);
  } finally {
    view.finalize();
  }
}

const MARK_WITH_LABEL = /<(path|line|rect|circle|text|image)((?:\s[^>]*?)?)\saria-label="([^"]*)"([^>]*?)\/>/g;

export function postProcess(svg: string, chartId: string, description: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1] as string);
  let out = svg
    .replace(/\sxmlns(:xlink)?="[^"]*"/g, '')
    .replace(/\sid="([^"]+)"/g, (_, id: string) => ` id="${chartId}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${chartId}-${id})` : all))
    .replace(/href="#([^"]+)"/g, (all, id: string) => (ids.has(id) ? `href="#${chartId}-${id}"` : all))
    .replace(MARK_WITH_LABEL, (_, tag: string, before: string, label: string, after: string) => `<${tag}${before} aria-label="${label}"${after}><title>${label}</title></${tag}>`);
  out = out.replace(/^<svg\s/, `<svg data-chart="${esc(chartId)}" role="img" aria-label="${esc(description)}" `);
  return out.replace(/<svg([^>]*)>/, (open) => `${open}<title>${esc(description)}</title>`);
}
