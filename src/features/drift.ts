/**
 * Drift: the population stability index (PSI) of each feature, today's
 * customers against the model's training customers. The reference is fitted
 * with the model and saved in it: per numeric feature, the training deciles
 * as bin edges (plus a bin for missing values) and the share of training rows
 * in each bin; per categorical feature, the shares of its one-hot values and
 * "other". PSI = sum over bins of (actual - expected) * ln(actual / expected);
 * a share of 0 counts as EMPTY_SHARE so an empty bin gives a large but finite
 * value. Rule of thumb: under 0.1 stable, 0.1-0.25 moving, above 0.25 shifted.
 */
import type { FeatureMatrix } from './build.js';
import { quantileSorted, sortedColumns, type Prep } from './prep.js';

export const EMPTY_SHARE = 1e-4;

export interface NumericReference {
  column: string;
  /** ascending, distinct: bin i holds edges[i-1] < v <= edges[i]; the last bin v > edges[last]; then one bin for missing values */
  edges: number[];
  shares: number[];
}

export interface CategoricalReference {
  property: string;
  /** the prep's one-hot values; one more bin (last) for every other value */
  values: string[];
  shares: number[];
}

export interface DriftReference {
  numeric: NumericReference[];
  categorical: CategoricalReference[];
}

export interface FeatureDrift {
  feature: string;
  psi: number;
}

export function psi(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) throw new Error(`psi: ${expected.length} expected shares, ${actual.length} actual`);
  let s = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] as number, EMPTY_SHARE);
    const a = Math.max(actual[i] as number, EMPTY_SHARE);
    s += (a - e) * Math.log(a / e);
  }
  return s;
}

/** Index of the bin of v: edges.length + 1 bins of values, then the missing bin. */
export function binOf(edges: readonly number[], v: number): number {
  if (Number.isNaN(v)) return edges.length + 1;
  let lo = 0;
  let hi = edges.length;
  // first edge >= v
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((edges[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function allRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

type Source = Pick<FeatureMatrix, 'raw' | 'n' | 'd' | 'categories'>;

function numericShares(fm: Source, j: number, edges: readonly number[], rows: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 2).fill(0);
  for (let i = 0; i < rows.length; i++) {
    const b = binOf(edges, fm.raw[(rows[i] as number) * fm.d + j] as number);
    counts[b] = (counts[b] as number) + 1;
  }
  return counts.map((c) => (rows.length ? c / rows.length : 0));
}

function categoricalShares(fm: Source, property: string, values: readonly string[], rows: ArrayLike<number>): number[] {
  const cat = fm.categories.find((c) => c.property === property);
  if (!cat) throw new Error(`drift: the matrix has no categorical feature "${property}"`);
  const at = new Map(values.map((v, i) => [v, i]));
  const binOfCode = Int32Array.from(cat.dict, (v) => at.get(v) ?? values.length);
  const counts = new Array<number>(values.length + 1).fill(0);
  for (let i = 0; i < rows.length; i++) {
    const b = binOfCode[cat.codes[rows[i] as number] as number] as number;
    counts[b] = (counts[b] as number) + 1;
  }
  return counts.map((c) => (rows.length ? c / rows.length : 0));
}

/**
 * Fitted on the training rows (all rows when omitted), with `bins` quantile bins per numeric
 * feature; `sorted`: sortedColumns(fm, rows) when the caller has it.
 */
export function fitDriftReference(fm: Source, prep: Prep, bins: number, rows?: ArrayLike<number>, sorted0?: readonly Float64Array[]): DriftReference {
  const train = rows ?? allRows(fm.n);
  const sortedAll = sorted0 ?? sortedColumns(fm, train);
  const numeric = prep.numeric.map((c, j): NumericReference => {
    const sorted = sortedAll[j] as Float64Array;
    const m = sorted.length;
    const edges: number[] = [];
    for (let b = 1; b < bins && m > 0; b++) {
      const e = quantileSorted(sorted, b / bins);
      // ties (counts, a constant) collapse bins: an edge equal to the last adds nothing
      if (edges.length === 0 || e > (edges[edges.length - 1] as number)) edges.push(e);
    }
    return { column: c.column, edges, shares: numericShares(fm, j, edges, train) };
  });
  const categorical = prep.categorical.map((c): CategoricalReference => ({
    property: c.property,
    values: c.values,
    shares: categoricalShares(fm, c.property, c.values, train),
  }));
  return { numeric, categorical };
}

/** PSI of every feature of `fm` (all its rows) against the reference, largest first. */
export function driftOf(ref: DriftReference, fm: Source): FeatureDrift[] {
  if (fm.d !== ref.numeric.length) throw new Error(`drift: the reference has ${ref.numeric.length} numeric features, the matrix ${fm.d}`);
  const rows = allRows(fm.n);
  const out: FeatureDrift[] = [
    ...ref.numeric.map((r, j) => ({ feature: r.column, psi: psi(r.shares, numericShares(fm, j, r.edges, rows)) })),
    ...ref.categorical.map((r) => ({ feature: r.property, psi: psi(r.shares, categoricalShares(fm, r.property, r.values, rows)) })),
  ];
  return out.sort((a, b) => b.psi - a.psi || (a.feature < b.feature ? -1 : 1));
}
