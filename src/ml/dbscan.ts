/**
 * DBSCAN (Ester et al. 1996) with scikit-learn's semantics: a row is a core
 * point when at least `minPts` rows, itself included, lie within distance
 * `eps` (inclusive); clusters are the connected groups of core points plus the
 * non-core rows within `eps` of them; everything else is noise, label -1.
 *
 * Border rule (scikit-learn's): clusters are numbered 0, 1, ... in the order
 * of their lowest-numbered core point, and a border row within `eps` of core
 * points of several clusters joins the lowest-numbered of them, i.e. the first
 * cluster that reaches it. Core points and noise do not depend on any order.
 *
 * Neighbourhoods come from a spatial index, never from all pairs: a uniform
 * grid of side eps when d <= 3 (project with PCA first to use it on wide
 * data), a k-d tree otherwise. Memory is O(n·d): neighbourhoods are queried
 * when needed instead of stored, and rows already labelled are marked in the
 * index so the expansion skips regions it has swept (each row is labelled
 * once; a region of marked rows costs nothing).
 *
 * When `eps` is not given it is the knee of the sorted k-distance curve
 * (k = minPts, the row itself counted, so a row is core exactly when
 * eps >= its k-distance): the point of the curve, scaled to the unit square,
 * farthest below the chord joining its ends (Kneedle).
 */
import { MlInputError, assertInt, assertMatrix } from './errors.js';
import { float64Field, int32Field, jsonHeader, numberField } from './json.js';
import { createRng, sampleIndices } from './random.js';
import { buildGrid, buildKdTree, type RadiusIndex } from './spatial.js';

export interface DBSCANOptions {
  /** Neighbourhood radius (Euclidean); undefined picks it with `kneeEps`. */
  eps: number | undefined;
  /** Rows within eps, the row itself included, that make it a core point (scikit-learn's min_samples). */
  minPts: number;
  /** `auto`: a grid for d <= 3, else a k-d tree. */
  index: 'auto' | 'grid' | 'kdtree';
  /** Rows whose k-distance is computed to find eps; above it a seeded sample. */
  kneeSampleSize: number;
  /** Seed for that sample. */
  seed: number;
}

export const dbscanDefaults: Readonly<DBSCANOptions> = Object.freeze({
  eps: undefined,
  minPts: 5,
  index: 'auto',
  kneeSampleSize: 10000,
  seed: 42,
});

/** What assignment needs, and all that the JSON form keeps. */
export interface DBSCANCore {
  kind: 'dbscan';
  d: number;
  eps: number;
  minPts: number;
  /** Clusters, numbered 0 .. nClusters - 1. */
  nClusters: number;
  /** c*d, row-major: the core points, in training-row order. */
  corePoints: Float64Array;
  /** Cluster of each core point. */
  coreLabels: Int32Array;
}

export interface DBSCANModel extends DBSCANCore {
  /** Cluster of each training row, -1 for noise. */
  labels: Int32Array;
  /** 1 for core rows. */
  isCore: Uint8Array;
}

export interface DBSCANPrediction {
  /** Cluster of the nearest core point when it is within eps, else -1. */
  labels: Int32Array;
  /** Euclidean distance to the nearest core point (Infinity when there is none). */
  distances: Float64Array;
}

export interface DBSCANJSON {
  kind: 'dbscan';
  version: 1;
  d: number;
  eps: number;
  minPts: number;
  nClusters: number;
  corePoints: number[];
  coreLabels: number[];
}

/**
 * Clusters the n rows of `data` (n×d, row-major). Throws `MlInputError` for a
 * bad shape, a non-finite value or a bad option, and when eps must be chosen
 * but every k-distance is 0 (more than minPts copies of each row).
 */
export function dbscan(data: Float64Array, n: number, d: number, opts: Partial<DBSCANOptions> = {}): DBSCANModel {
  assertMatrix(data, n, d);
  const o = resolveOptions(opts, d);
  const eps = o.eps ?? kneeEps(kDistances(data, n, d, o.minPts, { sampleSize: o.kneeSampleSize, seed: o.seed }));
  const r2 = eps * eps;
  const index = radiusIndex(data, n, d, eps, o.index);

  const isCore = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (index.countWithin(data, i * d, r2, o.minPts) >= o.minPts) isCore[i] = 1;
  }

  // Depth-first expansion from each unlabelled core point in row order; a
  // row is labelled once, by the first cluster to reach it.
  const labels = new Int32Array(n).fill(-1);
  const neighbours = new Int32Array(n);
  const stack = new Int32Array(n);
  let nClusters = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] !== -1 || isCore[i] === 0) continue;
    const c = nClusters++;
    labels[i] = c;
    index.mark(i);
    let sp = 0;
    stack[sp++] = i;
    while (sp > 0) {
      const p = stack[--sp]!;
      // Labelled rows are marked in the index, so dense regions already
      // swept cost nothing the next time a core point's ball covers them.
      const m = index.withinUnmarked(data, p * d, r2, neighbours);
      for (let q = 0; q < m; q++) {
        const j = neighbours[q]!;
        labels[j] = c;
        index.mark(j);
        if (isCore[j] === 1) stack[sp++] = j;
      }
    }
  }

  let cores = 0;
  for (let i = 0; i < n; i++) cores += isCore[i]!;
  const corePoints = new Float64Array(cores * d);
  const coreLabels = new Int32Array(cores);
  for (let i = 0, c = 0; i < n; i++) {
    if (isCore[i] === 0) continue;
    corePoints.set(data.subarray(i * d, i * d + d), c * d);
    coreLabels[c++] = labels[i]!;
  }
  return { kind: 'dbscan', d, eps, minPts: o.minPts, nClusters, corePoints, coreLabels, labels, isCore };
}

/**
 * Each row's distance to its k-th nearest row, counting the row itself as the
 * first, sorted ascending: the k-distance curve. For n > sampleSize only a
 * seeded sample of rows is queried (against all n rows).
 */
export function kDistances(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  opts: { sampleSize?: number; seed?: number } = {},
): Float64Array {
  assertMatrix(data, n, d);
  assertInt('k', k, 1, Math.max(1, n));
  const sampleSize = opts.sampleSize ?? dbscanDefaults.kneeSampleSize;
  assertInt('sampleSize', sampleSize, 1);
  const seed = opts.seed ?? dbscanDefaults.seed;
  if (n === 0) return new Float64Array(0);
  const rows = n <= sampleSize ? null : sampleIndices(n, sampleSize, createRng(seed));
  const m = rows === null ? n : rows.length;
  const tree = buildKdTree(data, n, d);
  const idx = new Int32Array(k);
  const sq = new Float64Array(k);
  const out = new Float64Array(m);
  for (let s = 0; s < m; s++) {
    const i = rows === null ? s : rows[s]!;
    const got = tree.nearest(data, i * d, k, idx, sq);
    out[s] = Math.sqrt(sq[got - 1]!);
  }
  return out.sort();
}

/**
 * The knee of a k-distance curve (`kDistances`' output, ascending): with the
 * curve scaled to the unit square, the value at the point farthest below the
 * chord from its first to its last point. A knee at 0 moves to the smallest
 * positive value, since eps must be positive.
 */
export function kneeEps(sorted: Float64Array): number {
  const m = sorted.length;
  if (m === 0) throw new MlInputError('cannot choose eps: no rows');
  for (let i = 1; i < m; i++) {
    if (!(sorted[i]! >= sorted[i - 1]!)) throw new MlInputError('k-distances must be sorted ascending');
  }
  const first = sorted[0]!;
  const span = sorted[m - 1]! - first;
  let best = m - 1;
  if (span > 0 && m > 2) {
    let bestGap = -Infinity;
    for (let i = 0; i < m; i++) {
      const gap = i / (m - 1) - (sorted[i]! - first) / span;
      if (gap > bestGap) {
        bestGap = gap;
        best = i;
      }
    }
  }
  while (best < m && !(sorted[best]! > 0)) best++;
  if (best === m) {
    throw new MlInputError('cannot choose eps: every k-distance is 0 (too many duplicate rows); give eps');
  }
  return sorted[best]!;
}

/**
 * DBSCAN's assignment of new rows (n × model.d): the cluster of the nearest
 * core point when it lies within eps, else noise (-1). On training rows this
 * reproduces core points and noise exactly; a border row may go to a
 * different adjacent cluster than in training, whose rule was "first to reach".
 */
export function predict(model: DBSCANCore, data: Float64Array, n: number): DBSCANPrediction {
  assertCore(model);
  const { d, eps, corePoints, coreLabels } = model;
  assertMatrix(data, n, d);
  const labels = new Int32Array(n).fill(-1);
  const distances = new Float64Array(n).fill(Infinity);
  const cores = coreLabels.length;
  if (cores === 0) return { labels, distances };
  const tree = buildKdTree(corePoints, cores, d);
  const idx = new Int32Array(1);
  const sq = new Float64Array(1);
  const r2 = eps * eps;
  for (let i = 0; i < n; i++) {
    tree.nearest(data, i * d, 1, idx, sq);
    distances[i] = Math.sqrt(sq[0]!);
    if (sq[0]! <= r2) labels[i] = coreLabels[idx[0]!]!;
  }
  return { labels, distances };
}

export function toJSON(model: DBSCANCore): DBSCANJSON {
  assertCore(model);
  return {
    kind: 'dbscan',
    version: 1,
    d: model.d,
    eps: model.eps,
    minPts: model.minPts,
    nClusters: model.nClusters,
    corePoints: Array.from(model.corePoints),
    coreLabels: Array.from(model.coreLabels),
  };
}

/**
 * Accepts the parsed output of `toJSON` (typed arrays also pass); anything
 * else is an `MlInputError`.
 */
export function fromJSON(json: unknown): DBSCANCore {
  const j = jsonHeader(json, 'dbscan', 'DBSCAN');
  const model: DBSCANCore = {
    kind: 'dbscan',
    d: numberField(j, 'd', 'DBSCAN'),
    eps: numberField(j, 'eps', 'DBSCAN'),
    minPts: numberField(j, 'minPts', 'DBSCAN'),
    nClusters: numberField(j, 'nClusters', 'DBSCAN'),
    corePoints: float64Field(j.corePoints, 'DBSCAN JSON corePoints'),
    coreLabels: int32Field(j.coreLabels, 'DBSCAN JSON coreLabels'),
  };
  assertCore(model);
  return model;
}

// ---------------------------------------------------------------------------

function radiusIndex(data: Float64Array, n: number, d: number, eps: number, kind: DBSCANOptions['index']): RadiusIndex {
  if (kind === 'grid' || (kind === 'auto' && d <= 3)) {
    if (d > 3) throw new MlInputError(`index 'grid' needs d <= 3, got d = ${d}; project with PCA or use 'kdtree'`);
    const grid = buildGrid(data, n, d, eps);
    if (grid !== undefined) return grid;
  }
  return buildKdTree(data, n, d);
}

function resolveOptions(opts: Partial<DBSCANOptions>, d: number): DBSCANOptions {
  if (typeof opts !== 'object' || opts === null) throw new MlInputError('DBSCAN options must be an object');
  const o: DBSCANOptions = {
    eps: opts.eps ?? dbscanDefaults.eps,
    minPts: opts.minPts ?? dbscanDefaults.minPts,
    index: opts.index ?? dbscanDefaults.index,
    kneeSampleSize: opts.kneeSampleSize ?? dbscanDefaults.kneeSampleSize,
    seed: opts.seed ?? dbscanDefaults.seed,
  };
  if (o.eps !== undefined && (typeof o.eps !== 'number' || !(o.eps > 0) || !Number.isFinite(o.eps))) {
    throw new MlInputError(`eps must be a finite number > 0, got ${String(o.eps)}`);
  }
  assertInt('minPts', o.minPts, 1);
  if (o.index !== 'auto' && o.index !== 'grid' && o.index !== 'kdtree') {
    throw new MlInputError(`index must be 'auto', 'grid' or 'kdtree', got ${String(o.index)}`);
  }
  if (o.index === 'grid' && d > 3) {
    throw new MlInputError(`index 'grid' needs d <= 3, got d = ${d}; project with PCA or use 'kdtree'`);
  }
  assertInt('kneeSampleSize', o.kneeSampleSize, 1);
  assertInt('seed', o.seed, Number.MIN_SAFE_INTEGER);
  return o;
}

function assertCore(model: DBSCANCore): void {
  if (typeof model !== 'object' || model === null) throw new MlInputError('DBSCAN model must be an object');
  assertInt('model.d', model.d, 1);
  assertInt('model.minPts', model.minPts, 1);
  assertInt('model.nClusters', model.nClusters, 0);
  if (!(model.eps > 0) || !Number.isFinite(model.eps)) {
    throw new MlInputError(`model.eps must be a finite number > 0, got ${String(model.eps)}`);
  }
  if (!(model.coreLabels instanceof Int32Array)) throw new MlInputError('model.coreLabels must be an Int32Array');
  assertMatrix(model.corePoints, model.coreLabels.length, model.d, 'model.corePoints');
  for (let i = 0; i < model.coreLabels.length; i++) {
    const c = model.coreLabels[i]!;
    if (c < 0 || c >= model.nClusters) {
      throw new MlInputError(`model.coreLabels[${i}] = ${c} is outside [0, ${model.nClusters})`);
    }
  }
}
