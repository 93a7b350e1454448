/** Segment profiles (size, shares, raw means, standardized centroid) and their one-line descriptions. */
export interface SegmentProfile {
  size: number;
  /** share of all active customers */
  share: number;
  /** share of all won revenue */
  revenueShare: number;
  /** mean of each raw feature */
  means: Record<string, number>;
  /** centroid in the model's input space (scaled features, then 0/1 missing and category columns: a share) */
  z: Record<string, number>;
}

/** A row-major matrix with its column names. */
export interface Columns {
  data: Float64Array;
  d: number;
  columns: readonly string[];
}

export function profiles(
  labels: Int32Array,
  k: number,
  rawM: Columns,
  model: Columns,
  revenue: Float64Array,
  totalCustomers: number,
  totalRevenue: number,
): SegmentProfile[] {
  const n = labels.length;
  const { data: raw, d, columns } = rawM;
  const { data: X, d: dx, columns: xColumns } = model;
  const size = new Float64Array(k);
  const rev = new Float64Array(k);
  const sum = new Float64Array(k * d);
  const zsum = new Float64Array(k * dx);
  const cnt = new Float64Array(k * d);
  for (let i = 0; i < n; i++) {
    const l = labels[i] as number;
    if (l < 0) continue; // noise has its own fixed segment
    size[l] = (size[l] as number) + 1;
    rev[l] = (rev[l] as number) + (revenue[i] ?? 0);
    for (let j = 0; j < dx; j++) zsum[l * dx + j] = (zsum[l * dx + j] as number) + (X[i * dx + j] as number);
    for (let j = 0; j < d; j++) {
      const v = raw[i * d + j] as number;
      if (Number.isNaN(v)) continue;
      sum[l * d + j] = (sum[l * d + j] as number) + v;
      cnt[l * d + j] = (cnt[l * d + j] as number) + 1;
    }
  }
  const out: SegmentProfile[] = [];
  for (let l = 0; l < k; l++) {
    const means: Record<string, number> = {};
    const z: Record<string, number> = {};
    columns.forEach((c, j) => {
      const m = cnt[l * d + j] as number;
      means[c] = m ? (sum[l * d + j] as number) / m : NaN;
    });
    xColumns.forEach((c, j) => {
      z[c] = (size[l] as number) ? (zsum[l * dx + j] as number) / (size[l] as number) : 0;
    });
    out.push({
      size: size[l] as number,
      share: totalCustomers ? (size[l] as number) / totalCustomers : 0,
      revenueShare: totalRevenue ? (rev[l] as number) / totalRevenue : 0,
      means,
      z,
    });
  }
  return out;
}

const money = (v: number): string => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: 0 }) : '-');
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

export function describe(p: SegmentProfile): string {
  const parts = [`${p.size} customers (${pct(p.share)})`];
  if ('monetary' in p.means) {
    parts.push(`${pct(p.revenueShare)} of revenue`);
    parts.push(`last purchase ${Math.round(p.means.recency_days ?? NaN)} days ago on average`);
    parts.push(`${(p.means.frequency ?? NaN).toFixed(1)} orders`);
    parts.push(`${money(p.means.monetary ?? NaN)} spent`);
  } else {
    const top = Object.entries(p.z)
      .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
      .slice(0, 3)
      .map(([c, z]) =>
        c in p.means
          ? `${c.replace(/_/g, ' ')} ${z >= 0 ? 'above' : 'below'} average (${(p.means[c] ?? NaN).toFixed(1)})`
          : // a 0/1 column (a category, a missing value): its mean is the share of the segment that has it
            `${c.replace(/_/g, ' ')} for ${pct(z)}`,
      );
    parts.push(...top);
  }
  return parts.join('; ');
}
