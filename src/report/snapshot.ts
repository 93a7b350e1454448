/**
 * The segment map's data in its stored form: a seeded sample of customers on
 * the two principal axes of the scaled features, with the axes' explained
 * variance and loadings. Pure: arrays in, JSON-ready object out.
 *
 * The report computes one from the store when it has to (a pass over the
 * transactions table for the sampled customers' features). The segment step
 * has the scaled matrix in memory and can save one with each model, in the
 * store's meta table under MAP_SNAPSHOT_KEY; the report then uses it as is:
 *
 *   store.models.setMeta(MAP_SNAPSHOT_KEY, JSON.stringify(
 *     mapSnapshot(X, fm.n, fm.d, (i) => (labels[i] < 0 ? null : ids[labels[i]]), spec.columns, { modelId, seed: seg.seed })));
 */
import { createRng, sampleIndices } from '../ml/random.js';
import { project2d } from './project.js';

/** One key, overwritten by each model: the snapshot names the model it belongs to. */
export const MAP_SNAPSHOT_KEY = 'report.map';
export const DEFAULT_SAMPLE = 5000;

export interface MapSnapshot {
  version: 1;
  modelId: number;
  seed: number;
  /** rows (customers in a segment) the sample was drawn from */
  population: number;
  columns: string[];
  explained: [number, number];
  /** one loading per column, for each axis */
  loadings: [number[], number[]];
  /** the sample, column-wise: coordinates and segment id of each customer */
  x: number[];
  y: number[];
  segment: string[];
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

/**
 * PCA on all n rows of X (n×d, scaled features), then a seeded sample of at
 * most `sampleSize` of the rows whose segment is not null, projected.
 */
export function mapSnapshot(
  X: Float64Array,
  n: number,
  d: number,
  segmentOf: (row: number) => string | null,
  columns: readonly string[],
  opts: { modelId: number; seed: number; sampleSize?: number },
): MapSnapshot {
  const rows: number[] = [];
  const segs: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = segmentOf(i);
    if (s === null) continue;
    rows.push(i);
    segs.push(s);
  }
  const m = Math.min(opts.sampleSize ?? DEFAULT_SAMPLE, rows.length);
  const pick = sampleIndices(rows.length, m, createRng(opts.seed)).sort();
  const proj = project2d(X, n, d, Array.from(pick, (p) => rows[p] as number));
  const out: MapSnapshot = {
    version: 1,
    modelId: opts.modelId,
    seed: opts.seed,
    population: rows.length,
    columns: [...columns],
    explained: [proj.explained[0], proj.explained[1]],
    loadings: [Array.from(proj.loadings[0], round), Array.from(proj.loadings[1], round)],
    x: [],
    y: [],
    segment: [],
  };
  pick.forEach((p, i) => {
    out.x.push(round(proj.coords[i * 2] as number));
    out.y.push(round(proj.coords[i * 2 + 1] as number));
    out.segment.push(segs[p] as string);
  });
  return out;
}

/** A stored snapshot, if it is one for this model; anything else is ignored (the report computes its own). */
export function parseSnapshot(json: string | undefined, modelId: number): MapSnapshot | null {
  if (!json) return null;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  const s = v as Partial<MapSnapshot> | null;
  const nums = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!s || s.version !== 1 || s.modelId !== modelId || typeof s.seed !== 'number' || typeof s.population !== 'number') return null;
  if (!Array.isArray(s.columns) || !nums(s.x) || !nums(s.y) || !Array.isArray(s.segment) || !s.segment.every((x) => typeof x === 'string')) return null;
  if (s.x.length !== s.y.length || s.x.length !== s.segment.length) return null;
  if (!Array.isArray(s.explained) || !nums(s.explained) || !Array.isArray(s.loadings) || !s.loadings.every(nums)) return null;
  return s as MapSnapshot;
}
