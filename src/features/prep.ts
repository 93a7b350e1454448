/**
 * The prep step: raw features -> the model's input matrix. Fitted on the
 * training rows only and saved with the model, so a customer assigned later is
 * transformed exactly as the training customers were.
 *
 * Per numeric column, in this order: median imputation (plus a 0/1 "missing"
 * column when the training rows miss it more often than the configured share),
 * winsorizing at training percentiles, log1p where the spec says, then
 * standard (mean / standard deviation) or robust (median / interquartile range)
 * scaling. Categorical columns become one 0/1 column per top training value
 * plus "other". The 0/1 columns are not scaled: a rare category standardized
 * would weigh several standard deviations in every distance.
 */
import type { CategoricalColumn, FeatureMatrix, PrepOptions, Transform } from './build.js';

export interface NumericPrep {
  column: string;
  transform: Transform;
  /** training median of the raw value; imputes a missing one */
  median: number;
  /** winsorizing bounds on the raw value; null: not clipped on that side */
  lo: number | null;
  hi: number | null;
  /** a 0/1 column `<column>_missing` follows the numeric columns */
  indicator: boolean;
  center: number;
  scale: number;
}

export interface CategoricalPrep {
  property: string;
  /** the values with a column of their own, most frequent first */
  values: string[];
  /** training rows had other values: they (and unseen ones) share an "other" column; without it they are all zeros */
  other: boolean;
}

export interface Prep {
  version: 2;
  scaling: PrepOptions['scaling'];
  numeric: NumericPrep[];
  categorical: CategoricalPrep[];
}

export const OTHER_CATEGORY = 'other';

/** Output column names, in matrix order. */
export function prepColumns(p: Prep): string[] {
  return [
    ...p.numeric.map((c) => c.column),
    ...p.numeric.filter((c) => c.indicator).map((c) => `${c.column}_missing`),
    ...p.categorical.flatMap((c) => [...c.values, ...(c.other ? [OTHER_CATEGORY] : [])].map((v) => `${c.property}=${v}`)),
  ];
}

/** The q-th quantile (0..1) of sorted values, interpolated linearly between order statistics (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const m = sorted.length;
  if (m === 0) return NaN;
  const pos = q * (m - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(m - 1, lo + 1);
  const a = sorted[lo] as number;
  return a + (pos - lo) * ((sorted[hi] as number) - a);
}

function clip(v: number, lo: number | null, hi: number | null): number {
  return lo !== null && v < lo ? lo : hi !== null && v > hi ? hi : v;
}

function numericValue(c: NumericPrep, v0: number): number {
  const v = clip(Number.isNaN(v0) ? c.median : v0, c.lo, c.hi);
  return c.transform === 'log1p' ? Math.log1p(Math.max(0, v)) : v;
}

function allRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

type Source = Pick<FeatureMatrix, 'raw' | 'n' | 'd' | 'categories' | 'spec'>;

/**
 * The present (non-missing) values of each numeric column over `rows`, sorted:
 * what every quantile here and in the drift reference is read from. Sorting is
 * the costly part (a quarter of a second per column at 800,000 rows), so the
 * segment step sorts once for both.
 */
export function sortedColumns(fm: Pick<FeatureMatrix, 'raw' | 'd'>, rows: ArrayLike<number>): Float64Array[] {
  const { raw, d } = fm;
  const out: Float64Array[] = [];
  for (let j = 0; j < d; j++) {
    const col = new Float64Array(rows.length);
    let present = 0;
    for (let i = 0; i < rows.length; i++) {
      const v = raw[(rows[i] as number) * d + j] as number;
      if (!Number.isNaN(v)) col[present++] = v;
    }
    out.push(col.subarray(0, present).sort());
  }
  return out;
}

/** `rows`: the training rows (all rows when omitted); `sorted`: sortedColumns(fm, rows) when the caller has it. */
export function fitPrep(fm: Source, opts: PrepOptions, rows?: ArrayLike<number>, sorted0?: readonly Float64Array[]): Prep {
  const train = rows ?? allRows(fm.n);
  const m = train.length;
  const { raw, d } = fm;
  const numeric: NumericPrep[] = [];
  const sortedAll = sorted0 ?? sortedColumns(fm, train);
  for (let j = 0; j < d; j++) {
    const sorted = sortedAll[j] as Float64Array;
    const present = sorted.length;
    const median = present ? quantileSorted(sorted, 0.5) : 0;
    const lo = present && opts.winsorize.lower > 0 ? quantileSorted(sorted, opts.winsorize.lower) : null;
    const hi = present && opts.winsorize.upper < 1 ? quantileSorted(sorted, opts.winsorize.upper) : null;
    const c: NumericPrep = {
      column: fm.spec.columns[j] ?? `f${j}`,
      transform: fm.spec.transforms[j] ?? 'none',
      median,
      lo,
      hi,
      indicator: m > 0 && (m - present) / m > opts.missingIndicatorShare,
      center: 0,
      scale: 1,
    };
    // the scale is fitted on what it will scale: imputed, clipped, transformed training values
    const t = new Float64Array(m);
    for (let i = 0; i < m; i++) t[i] = numericValue(c, raw[(train[i] as number) * d + j] as number);
    if (opts.scaling === 'robust') {
      t.sort();
      c.center = m ? quantileSorted(t, 0.5) : 0;
      const iqr = m ? quantileSorted(t, 0.75) - quantileSorted(t, 0.25) : 0;
      c.scale = iqr > 1e-12 ? iqr : 1;
    } else {
      let s = 0;
      for (let i = 0; i < m; i++) s += t[i] as number;
      const mean = m ? s / m : 0;
      let s2 = 0;
      for (let i = 0; i < m; i++) s2 += ((t[i] as number) - mean) ** 2;
      const sd = m ? Math.sqrt(s2 / m) : 0;
      c.center = mean;
      // a constant column stays 0 instead of dividing by zero
      c.scale = sd > 1e-12 ? sd : 1;
    }
    numeric.push(c);
  }

  const tops = new Map((fm.spec.categorical ?? []).map((c) => [c.property, c.top]));
  const categorical = fm.categories.map((cat): CategoricalPrep => {
    const counts = new Float64Array(cat.dict.length);
    for (let i = 0; i < m; i++) {
      const code = cat.codes[train[i] as number] as number;
      counts[code] = (counts[code] as number) + 1;
    }
    const seen = cat.dict.map((v, code) => ({ v, n: counts[code] as number })).filter((x) => x.n > 0);
    // most frequent first; ties by value, so the encoding does not depend on row order
    seen.sort((a, b) => b.n - a.n || (a.v < b.v ? -1 : a.v > b.v ? 1 : 0));
    const top = tops.get(cat.property) ?? 10;
    return { property: cat.property, values: seen.slice(0, top).map((x) => x.v), other: seen.length > top };
  });
  return { version: 2, scaling: opts.scaling, numeric, categorical };
}

/** For each dictionary code of a column, its offset inside the column's one-hot block (-1: no column). */
function codeOffsets(p: CategoricalPrep, cat: CategoricalColumn): Int32Array {
  const at = new Map(p.values.map((v, i) => [v, i]));
  return Int32Array.from(cat.dict, (v) => at.get(v) ?? (p.other ? p.values.length : -1));
}

/** The model's input: n rows of prepColumns(p).length columns, row-major. */
export function applyPrep(p: Prep, fm: Pick<FeatureMatrix, 'raw' | 'n' | 'd' | 'categories'>): Float64Array {
  const { raw, n, d } = fm;
  if (d !== p.numeric.length) throw new Error(`the prep step was fitted on ${p.numeric.length} numeric features, the matrix has ${d}`);
  const cats = p.categorical.map((c) => {
    const cat = fm.categories.find((x) => x.property === c.property);
    if (!cat) throw new Error(`the prep step expects the categorical feature "${c.property}"`);
    return { codes: cat.codes, offsets: codeOffsets(c, cat), width: c.values.length + (c.other ? 1 : 0) };
  });
  const indicators = p.numeric.map((c, j) => (c.indicator ? j : -1)).filter((j) => j >= 0);
  const out = prepColumns(p).length;
  const X = new Float64Array(n * out);
  for (let r = 0; r < n; r++) {
    const o = r * out;
    for (let j = 0; j < d; j++) {
      const c = p.numeric[j] as NumericPrep;
      X[o + j] = (numericValue(c, raw[r * d + j] as number) - c.center) / c.scale;
    }
    let k = o + d;
    for (const j of indicators) X[k++] = Number.isNaN(raw[r * d + j]) ? 1 : 0;
    for (const c of cats) {
      const off = c.offsets[c.codes[r] as number] as number;
      if (off >= 0) X[k + off] = 1;
      k += c.width;
    }
  }
  return X;
}

/** A model saved before the prep step kept a plain scaler (medians, log1p, standardization): the same transform as a Prep. */
export function prepFromLegacyScaler(s: { transforms: Transform[]; medians: number[]; mean: number[]; std: number[] }, columns: readonly string[]): Prep {
  return {
    version: 2,
    scaling: 'standard',
    numeric: columns.map((column, j) => ({
      column,
      transform: s.transforms[j] ?? 'none',
      median: s.medians[j] ?? 0,
      lo: null,
      hi: null,
      indicator: false,
      center: s.mean[j] ?? 0,
      scale: s.std[j] ?? 1,
    })),
    categorical: [],
  };
}
