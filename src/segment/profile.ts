/** Segment profiles (size, shares, raw means, standardized centroid) and their one-line descriptions. */
export interface SegmentProfile {
  size: number;
  /** share of all active customers */
  share: number;
  /** share of all won revenue */
  revenueShare: number;
  /** mean of each raw feature */
  means: Record<string, number>;
  /** centroid in the standardized space */
  z: Record<string, number>;
}

export function profiles(
  labels: Int32Array,
  k: number,
  raw: Float64Array,
  X: Float64Array,
  d: number,
  columns: readonly string[],
  revenue: Float64Array,
  totalCustomers: number,
  totalRevenue: number,
): SegmentProfile[] {
  const n = labels.length;
  const size = new Float64Array(k);
  const rev = new Float64Array(k);
  const sum = new Float64Array(k * d);
  const zsum = new Float64Array(k * d);
  const cnt = new Float64Array(k * d);
  for (let i = 0; i < n; i++) {
    const l = labels[i] as number;
    if (l < 0) continue; // noise has its own fixed segment
    size[l] = (size[l] as number) + 1;
    rev[l] = (rev[l] as number) + (revenue[i] ?? 0);
    for (let j = 0; j < d; j++) {
      const v = raw[i * d + j] as number;
      zsum[l * d + j] = (zsum[l * d + j] as number) + (X[i * d + j] as number);
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
      z[c] = (size[l] as number) ? (zsum[l * d + j] as number) / (size[l] as number) : 0;
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
      .map(([c, z]) => `${c.replace(/_/g, ' ')} ${z >= 0 ? 'above' : 'below'} average (${(p.means[c] ?? NaN).toFixed(1)})`);
    parts.push(...top);
  }
  return parts.join('; ');
}
