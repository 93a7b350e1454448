/** Plain-language labels and number formats shared by the charts and the HTML. */

const FEATURE_LABELS: Record<string, string> = {
  recency_days: 'Days since last purchase',
  frequency: 'Orders',
  monetary: 'Total spend',
  avg_order_value: 'Average order value',
  tenure_days: 'Days since first purchase',
};

export function featureLabel(key: string): string {
  const known = FEATURE_LABELS[key];
  if (known) return known;
  const words = key.replace(/[_-]+/g, ' ').trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : key;
}

export function int(v: number): string {
  return Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–';
}

export function pct(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`;
}

/** A feature value: whole numbers above 100, one decimal below. */
export function amount(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return Math.abs(v) >= 100 ? int(v) : v.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

export function signed(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return '–';
  const s = v.toFixed(digits);
  return v > 0 ? `+${s}` : s.replace('-', '−');
}

export function fixed(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** ISO timestamp -> "2026-07-01 03:00 UTC". */
export function when(iso: string | null | undefined): string {
  if (!iso) return '–';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** How far from average, in words: the reader sees this, not a z-score. */
export function direction(z: number): string {
  const a = Math.abs(z);
  const much = a >= 1.5 ? 'far ' : a >= 0.75 ? '' : 'slightly ';
  return `${much}${z >= 0 ? 'above' : 'below'} average`;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and attribute values. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c] as string);
}
