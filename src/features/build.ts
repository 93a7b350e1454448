/**
 * Feature matrix from the store: the `rfm` preset's SQL aggregates over won
 * transactions plus configured numeric contact properties, as ONE row-major
 * Float64Array, and the configured categorical properties as codes into a
 * per-column dictionary. Customers without a purchase are set aside (they get
 * a fixed segment) when the feature set uses transactions. Nothing here is
 * fitted: src/features/prep.ts turns this into the model's input.
 */
import type { FeaturesConfig } from '../config/schema.js';
import type { FeaturesRepo } from '../store/features-repo.js';
import { UserError } from '../core/errors.js';

export type Transform = 'none' | 'log1p';

export interface FeatureSpec {
  preset: 'rfm' | 'none';
  /** the day recency is computed at, YYYY-MM-DD */
  asOf: string;
  /** asOf came from the config (a backtest): assignment keeps it; otherwise assignment uses its own day */
  asOfFixed?: boolean;
  columns: string[];
  transforms: Transform[];
  /** contact properties behind the extra columns, in column order */
  properties: string[];
  currency?: { base: string; rates: Record<string, number> };
  /** categorical contact properties, one-hot encoded with their `top` training values (absent in models saved before them) */
  categorical?: CategoricalSpec[];
  /** how the prep step is fitted (absent in models saved before it) */
  prep?: PrepOptions;
}

export interface CategoricalSpec {
  property: string;
  top: number;
}

export interface PrepOptions {
  missingIndicatorShare: number;
  winsorize: { lower: number; upper: number };
  scaling: 'standard' | 'robust';
}

/** A categorical column: one code per row into `dict` (a missing value is MISSING_CATEGORY). */
export interface CategoricalColumn {
  property: string;
  dict: string[];
  codes: Int32Array;
}

export const MISSING_CATEGORY = '(missing)';

export interface FeatureMatrix {
  spec: FeatureSpec;
  /** row order of the matrix */
  customerIds: string[];
  n: number;
  d: number;
  /** untransformed values, row-major n x d (for profiles) */
  raw: Float64Array;
  /** won revenue per row */
  revenue: Float64Array;
  /** customers with no won purchase (rfm only) */
  noPurchase: string[];
  /** categorical columns, rows in matrix order */
  categories: CategoricalColumn[];
  /** how many values were missing per column (imputed with the median) */
  missing: number[];
  /** currencies seen without a conversion rate */
  unconvertedCurrencies: string[];
}

export const RFM_COLUMNS = ['recency_days', 'frequency', 'monetary', 'avg_order_value', 'tenure_days'] as const;
const RFM_TRANSFORMS: Transform[] = ['log1p', 'log1p', 'log1p', 'log1p', 'none'];
const DAY_MS = 86_400_000;

export function featureSpec(cfg: FeaturesConfig, today: Date): FeatureSpec {
  const asOf = cfg.asOf ?? today.toISOString().slice(0, 10);
  const extraCols = cfg.extra.map((e) => e.property);
  const spec: FeatureSpec = {
    preset: cfg.preset,
    asOf,
    asOfFixed: cfg.asOf !== undefined,
    columns: [...(cfg.preset === 'rfm' ? RFM_COLUMNS : []), ...extraCols],
    transforms: [...(cfg.preset === 'rfm' ? RFM_TRANSFORMS : []), ...cfg.extra.map((e) => e.transform)],
    properties: extraCols,
  };
  if (cfg.currency) spec.currency = { base: cfg.currency.base, rates: cfg.currency.rates };
  spec.categorical = cfg.categorical.map((c) => ({ property: c.property, top: c.top }));
  spec.prep = { missingIndicatorShare: cfg.missingIndicatorShare, winsorize: { ...cfg.winsorize }, scaling: cfg.scaling };
  if (spec.columns.length === 0 && spec.categorical.length === 0) {
    throw new UserError('CONFIG_INVALID', 'features: `preset: none` needs at least one `extra` or `categorical` property to segment on', {
      exitCode: 2,
      where: { field: 'features.extra' },
    });
  }
  return spec;
}

/** `customerIds` restricts the matrix to those customers (assignment without retraining); missing ones are simply absent. */
export function buildFeatures(repo: FeaturesRepo, spec: FeatureSpec, opts: { customerIds?: readonly string[] } = {}): FeatureMatrix {
  const only = opts.customerIds;
  const asOfMs = Date.parse(`${spec.asOf}T23:59:59.999Z`);
  const rfm = spec.preset === 'rfm';
  const nExtra = spec.properties.length;
  const d = spec.columns.length;

  const ids = repo.activeCustomerIds(only);
  const rowOf = new Map<string, number>();
  ids.forEach((id, i) => rowOf.set(id, i));

  // per-customer aggregates, indexed by position in `ids`
  const count = new Float64Array(ids.length);
  const sum = new Float64Array(ids.length);
  const first = new Float64Array(ids.length).fill(Infinity);
  const last = new Float64Array(ids.length).fill(-Infinity);
  const unconverted = new Set<string>();
  if (rfm) {
    for (const a of repo.wonAggregates(only)) {
      const i = rowOf.get(a.customerId);
      if (i === undefined) continue;
      let rate = 1;
      if (spec.currency && a.currency !== spec.currency.base) {
        const r = spec.currency.rates[a.currency];
        if (r === undefined) unconverted.add(a.currency);
        else rate = r;
      }
      count[i] = (count[i] ?? 0) + a.count;
      sum[i] = (sum[i] ?? 0) + a.sum * rate;
      first[i] = Math.min(first[i] ?? Infinity, Date.parse(a.first));
      last[i] = Math.max(last[i] ?? -Infinity, Date.parse(a.last));
    }
  }

  const extras = nExtra ? new Float64Array(ids.length * nExtra).fill(NaN) : new Float64Array(0);
  for (const p of repo.contactProperties(spec.properties, only)) {
    const i = rowOf.get(p.customerId);
    if (i === undefined) continue;
    p.values.forEach((v, j) => {
      if (v !== null) extras[i * nExtra + j] = v;
    });
  }

  const cats = spec.categorical ?? [];
  const catCodes = cats.map(() => new Int32Array(ids.length));
  const dicts = cats.map(() => new Map<string, number>([[MISSING_CATEGORY, 0]]));
  for (const p of repo.contactCategories(cats.map((c) => c.property), only)) {
    const i = rowOf.get(p.customerId);
    if (i === undefined) continue;
    p.values.forEach((v, j) => {
      if (v === null) return;
      const dict = dicts[j] as Map<string, number>;
      let code = dict.get(v);
      if (code === undefined) dict.set(v, (code = dict.size));
      (catCodes[j] as Int32Array)[i] = code;
    });
  }

  const keep: number[] = [];
  const noPurchase: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (rfm && (count[i] ?? 0) === 0) noPurchase.push(ids[i] as string);
    else keep.push(i);
  }

  const n = keep.length;
  const raw = new Float64Array(n * d);
  const revenue = new Float64Array(n);
  const customerIds: string[] = new Array<string>(n);
  for (let r = 0; r < n; r++) {
    const i = keep[r] as number;
    customerIds[r] = ids[i] as string;
    let o = r * d;
    if (rfm) {
      const c = count[i] as number;
      const s = sum[i] as number;
      raw[o++] = Math.max(0, (asOfMs - (last[i] as number)) / DAY_MS);
      raw[o++] = c;
      raw[o++] = s;
      raw[o++] = s / c;
      raw[o++] = Math.max(0, (asOfMs - (first[i] as number)) / DAY_MS);
      revenue[r] = s;
    }
    for (let j = 0; j < nExtra; j++) raw[o++] = extras[i * nExtra + j] as number;
  }

  const categories: CategoricalColumn[] = cats.map((c, j) => {
    const all = catCodes[j] as Int32Array;
    const codes = new Int32Array(n);
    for (let r = 0; r < n; r++) codes[r] = all[keep[r] as number] as number;
    return { property: c.property, dict: [...(dicts[j] as Map<string, number>).keys()], codes };
  });

  // missing values are imputed by the prep step (src/features/prep.ts)
  const missing = new Array<number>(d).fill(0);
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let r = 0; r < n; r++) if (Number.isNaN(raw[r * d + j])) m++;
    missing[j] = m;
  }
  return { spec, customerIds, n, d, raw, revenue, noPurchase, categories, missing, unconvertedCurrencies: [...unconverted].sort() };
}
