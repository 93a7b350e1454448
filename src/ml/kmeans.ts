/**
 * K-means on a row-major Float64Array, following scikit-learn's KMeans
 * (algorithm="lloyd") closely enough that its numbers are our test oracle:
 * greedy k-means++ seeding, relative tolerance, best of `nInit` restarts by
 * inertia, empty clusters re-seeded at the points farthest from their centres.
 *
 * Assignment uses Hamerly's bounds (one upper, one lower bound per point) so
 * most points skip the k-centre scan once clusters settle; the bounds are exact,
 * so labels and centroids are those plain Lloyd iterations would give.
 */
import { sqDist } from './distance.js';
import { MlInputError, assertInt, assertMatrix } from './errors.js';
import { createRng, sampleIndices, type Rng } from './random.js';

export interface KMeansOptions {
  /** Seed for initialisation; the same seed gives the same model. */
  seed: number;
  /** Independent initialisations; the one with the lowest inertia wins. */
  nInit: number;
  maxIter: number;
  /**
   * Convergence threshold on the summed squared centroid shift, relative to the
   * data's mean per-feature variance (scikit-learn's meaning of `tol`).
   */
  tol: number;
  /**
   * `'kmeans++'`, `'random'` (k distinct rows), or explicit starting centroids
   * (k*d, row-major), which like scikit-learn implies a single run.
   */
  init: 'kmeans++' | 'random' | Float64Array;
}

export const kmeansDefaults: Readonly<KMeansOptions> = Object.freeze({
  seed: 42,
  nInit: 4,
  maxIter: 300,
  tol: 1e-4,
  init: 'kmeans++',
});

/** What prediction needs, and all that the JSON form keeps. */
export interface KMeansCentroids {
  k: number;
  d: number;
  /** k*d, row-major. */
  centroids: Float64Array;
}

export interface KMeansModel extends KMeansCentroids {
  /** Cluster of each training row, in [0, k). */
  labels: Int32Array;
  /** Sum of squared distances of rows to their centroid. */
  inertia: number;
  /** Lloyd iterations of the winning run. */
  iterations: number;
  /** Whether the winning run stopped on tolerance or stable labels, not maxIter. */
  converged: boolean;
}

export interface KMeansPrediction {
  labels: Int32Array;
  /** Euclidean (not squared) distance of each row to its nearest centroid. */
  distances: Float64Array;
}

export interface KMeansJSON {
  kind: 'kmeans';
  version: 1;
  k: number;
  d: number;
  /** k*d, row-major. */
  centroids: number[];
}

/**
 * Partitions the n rows of `data` (n×d, row-major) into k clusters. Throws
 * `MlInputError` for a bad shape, a non-finite value, k outside [1, n] or a
 * bad option. Fewer than k distinct rows leaves some centroids duplicated.
 */
export function kmeans(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  opts: Partial<KMeansOptions> = {},
): KMeansModel {
  assertMatrix(data, n, d);
  if (n === 0) throw new MlInputError('k-means needs at least one row');
  assertInt('k', k, 1, n);
  const o = resolveOptions(opts, k, d);

  const rng = createRng(o.seed);
  const tolAbs = o.tol * meanVariance(data, n, d);
  const ws = workspace(n, k, d);
  // Restarting from the same given centroids would only repeat the run.
  const nInit = o.init instanceof Float64Array ? 1 : o.nInit;

  let best: KMeansModel | undefined;
  const centers = new Float64Array(k * d);
  for (let run = 0; run < nInit; run++) {
    if (o.init instanceof Float64Array) centers.set(o.init);
    else if (o.init === 'random') seedRandom(data, d, k, rng, centers, n);
    else seedKMeansPlusPlus(data, n, d, k, rng, centers, ws.upper, ws.lower);

    const r = lloyd(data, n, d, k, centers, o.maxIter, tolAbs, ws);
    if (best === undefined || r.inertia < best.inertia) {
      best = {
        k,
        d,
        centroids: centers.slice(),
        labels: ws.labels.slice(),
        inertia: r.inertia,
        iterations: r.iterations,
        converged: r.converged,
      };
    }
  }
  return best!;
}

/**
 * The k starting centroids (k*d, row-major) that a k-means++ run from `seed`
 * begins with: scikit-learn's greedy k-means++. Passing them back as `init`
 * repeats that run's first restart.
 */
export function kmeansPlusPlus(data: Float64Array, n: number, d: number, k: number, seed: number): Float64Array {
  assertMatrix(data, n, d);
  assertInt('k', k, 1, n);
  const centers = new Float64Array(k * d);
  seedKMeansPlusPlus(data, n, d, k, createRng(seed), centers, new Float64Array(n), new Float64Array(n));
  return centers;
}

/** Nearest centroid of each row of `data` (n × model.d). */
export function predict(model: KMeansCentroids, data: Float64Array, n: number): KMeansPrediction {
  assertCentroids(model);
  const { k, d, centroids } = model;
  assertMatrix(data, n, d);
  const labels = new Int32Array(n);
  const distances = new Float64Array(n);
  for (let i = 0, base = 0; i < n; i++, base += d) {
    let best = Infinity;
    let bj = 0;
    for (let j = 0; j < k; j++) {
      const s = sqDist(data, base, centroids, j * d, d);
      if (s < best) {
        best = s;
        bj = j;
      }
    }
    labels[i] = bj;
    distances[i] = Math.sqrt(best);
  }
  return { labels, distances };
}

export function toJSON(model: KMeansCentroids): KMeansJSON {
  assertCentroids(model);
  return { kind: 'kmeans', version: 1, k: model.k, d: model.d, centroids: Array.from(model.centroids) };
}

/** Accepts the parsed output of `toJSON`; anything else is an `MlInputError`. */
export function fromJSON(json: unknown): KMeansCentroids {
  if (typeof json !== 'object' || json === null) throw new MlInputError('k-means JSON must be an object');
  const j = json as Partial<Record<keyof KMeansJSON, unknown>>;
  if (j.kind !== 'kmeans') throw new MlInputError(`k-means JSON has kind ${JSON.stringify(j.kind)}, expected "kmeans"`);
  if (j.version !== 1) throw new MlInputError(`k-means JSON version ${JSON.stringify(j.version)} is not supported`);
  if (typeof j.k !== 'number' || typeof j.d !== 'number') throw new MlInputError('k-means JSON needs numeric k and d');
  const values: unknown = j.centroids;
  if (!Array.isArray(values) || !values.every((v): v is number => typeof v === 'number')) {
    throw new MlInputError('k-means JSON centroids must be an array of numbers');
  }
  const model = { k: j.k, d: j.d, centroids: Float64Array.from(values) };
  assertCentroids(model);
  return model;
}

// ---------------------------------------------------------------------------

interface Workspace {
  labels: Int32Array;
  /** Upper bound on each row's distance to its centre; k-means++ scratch too. */
  upper: Float64Array;
  /** Lower bound on each row's distance to any other centre; k-means++ scratch too. */
  lower: Float64Array;
  sums: Float64Array;
  counts: Float64Array;
  /** Half the distance from each centre to its nearest other centre. */
  half: Float64Array;
  shift: Float64Array;
}

function workspace(n: number, k: number, d: number): Workspace {
  return {
    labels: new Int32Array(n),
    upper: new Float64Array(n),
    lower: new Float64Array(n),
    sums: new Float64Array(k * d),
    counts: new Float64Array(k),
    half: new Float64Array(k),
    shift: new Float64Array(k),
  };
}

interface RunResult {
  inertia: number;
  iterations: number;
  converged: boolean;
}

/** One run from the centres in `centers`, which it leaves holding the result. */
function lloyd(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
  maxIter: number,
  tolAbs: number,
  ws: Workspace,
): RunResult {
  ws.labels.fill(-1);
  ws.upper.fill(Infinity);
  ws.lower.fill(0);
  let iterations = 0;
  let converged = false;
  let stable = false;
  while (iterations < maxIter) {
    iterations++;
    halfGaps(centers, k, d, ws.half);
    const changed = assign(data, n, d, k, centers, ws, true);
    const relocated = relocateEmpty(data, n, d, k, centers, ws);
    const shiftTotal = moveCenters(centers, k, d, ws);
    // Labels unchanged means the new centres equal the old: nothing can move.
    if (changed === 0 && !relocated) {
      stable = true;
      converged = true;
      break;
    }
    if (shiftTotal <= tolAbs) {
      converged = true;
      break;
    }
  }
  if (!stable) {
    // The centres moved after the last assignment; relabel so the two agree.
    halfGaps(centers, k, d, ws.half);
    assign(data, n, d, k, centers, ws, false);
  }
  let inertia = 0;
  const labels = ws.labels;
  for (let i = 0, base = 0; i < n; i++, base += d) inertia += sqDist(data, base, centers, labels[i]! * d, d);
  return { inertia, iterations, converged };
}

/**
 * Hamerly's assignment step: a row whose upper bound is below both its lower
 * bound and half the gap to its centre's nearest neighbour cannot change
 * cluster, so only the rest pay for a full scan. Returns the number of rows
 * whose label changed, and (when `accumulate`) fills per-cluster sums/counts.
 */
function assign(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
  ws: Workspace,
  accumulate: boolean,
): number {
  const { labels, upper, lower, half, sums, counts } = ws;
  if (accumulate) {
    sums.fill(0);
    counts.fill(0);
  }
  let changed = 0;
  for (let i = 0, base = 0; i < n; i++, base += d) {
    let a = labels[i]!;
    let u = upper[i]!;
    const bound = a < 0 ? -1 : Math.max(half[a]!, lower[i]!);
    if (u > bound) {
      if (a >= 0) {
        u = Math.sqrt(sqDist(data, base, centers, a * d, d));
        upper[i] = u;
      }
      if (u > bound) {
        let b1 = Infinity;
        let b2 = Infinity;
        let j1 = 0;
        for (let j = 0, cb = 0; j < k; j++, cb += d) {
          const s = sqDist(data, base, centers, cb, d);
          if (s < b1) {
            b2 = b1;
            b1 = s;
            j1 = j;
          } else if (s < b2) {
            b2 = s;
          }
        }
        if (j1 !== a) {
          labels[i] = j1;
          a = j1;
          changed++;
        }
        upper[i] = Math.sqrt(b1);
        lower[i] = Math.sqrt(b2);
      }
    }
    if (accumulate) {
      counts[a] = counts[a]! + 1;
      for (let t = 0, sb = a * d; t < d; t++) sums[sb + t] = sums[sb + t]! + data[base + t]!;
    }
  }
  return changed;
}

/**
 * Re-seeds each empty cluster at the row farthest from its own centre, taken
 * out of its cluster's sums (scikit-learn's rule). Labels are left alone, as
 * scikit-learn does; the next assignment moves the row. Only rows whose
 * cluster keeps at least one other member qualify, so no new cluster empties.
 */
function relocateEmpty(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
  ws: Workspace,
): boolean {
  const { labels, sums, counts } = ws;
  const taken: number[] = [];
  for (let e = 0; e < k; e++) {
    if (counts[e]! > 0) continue;
    let far = -1;
    let farDist = -1;
    for (let i = 0, base = 0; i < n; i++, base += d) {
      const a = labels[i]!;
      if (counts[a]! <= 1 || taken.includes(i)) continue;
      const s = sqDist(data, base, centers, a * d, d);
      if (s > farDist) {
        farDist = s;
        far = i;
      }
    }
    if (far < 0) break;
    taken.push(far);
    const from = labels[far]!;
    counts[from] = counts[from]! - 1;
    counts[e] = 1;
    for (let t = 0; t < d; t++) {
      const v = data[far * d + t]!;
      sums[from * d + t] = sums[from * d + t]! - v;
      sums[e * d + t] = v;
    }
  }
  return taken.length > 0;
}

/**
 * Centres become their clusters' means; bounds widen by how far centres moved.
 * Returns the summed squared shift, the quantity `tol` is compared with.
 */
function moveCenters(centers: Float64Array, k: number, d: number, ws: Workspace): number {
  const { sums, counts, shift, labels, upper, lower } = ws;
  let total = 0;
  let max1 = 0;
  let max2 = 0;
  let arg1 = -1;
  for (let j = 0; j < k; j++) {
    const c = counts[j]!;
    let s2 = 0;
    if (c > 0) {
      for (let t = 0, o = j * d; t < d; t++) {
        const v = sums[o + t]! / c;
        const diff = v - centers[o + t]!;
        s2 += diff * diff;
        centers[o + t] = v;
      }
    }
    total += s2;
    const s = Math.sqrt(s2);
    shift[j] = s;
    if (s > max1) {
      max2 = max1;
      max1 = s;
      arg1 = j;
    } else if (s > max2) {
      max2 = s;
    }
  }
  if (max1 > 0) {
    for (let i = 0; i < labels.length; i++) {
      const a = labels[i]!;
      upper[i] = upper[i]! + shift[a]!;
      lower[i] = lower[i]! - (a === arg1 ? max2 : max1);
    }
  }
  return total;
}

function halfGaps(centers: Float64Array, k: number, d: number, half: Float64Array): void {
  half.fill(Infinity);
  for (let j = 0; j < k; j++) {
    for (let m = j + 1; m < k; m++) {
      const g = 0.5 * Math.sqrt(sqDist(centers, j * d, centers, m * d, d));
      if (g < half[j]!) half[j] = g;
      if (g < half[m]!) half[m] = g;
    }
  }
}

/**
 * Greedy k-means++ as in scikit-learn: each new centre is the best of
 * 2 + floor(ln k) candidates drawn with probability proportional to squared
 * distance, "best" meaning lowest resulting potential. `closest` and `cum` are
 * n-long scratch.
 */
function seedKMeansPlusPlus(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  rng: Rng,
  centers: Float64Array,
  closest: Float64Array,
  cum: Float64Array,
): void {
  const trials = 2 + Math.floor(Math.log(k));
  const first = rng.int(n);
  centers.set(data.subarray(first * d, first * d + d), 0);
  for (let i = 0, base = 0; i < n; i++, base += d) closest[i] = sqDist(data, base, data, first * d, d);
  if (k === 1) return;

  // The winning trial's distances become the next `closest`, saving a pass.
  let trial = cum;
  let best: Float64Array = new Float64Array(n);
  const ids = new Int32Array(trials);
  for (let c = 1; c < k; c++) {
    let run = 0;
    for (let i = 0; i < n; i++) {
      run += closest[i]!;
      cum[i] = run;
    }
    for (let t = 0; t < trials; t++) ids[t] = upperBound(cum, rng.next() * run);
    let bestId = -1;
    let bestPot = Infinity;
    for (let t = 0; t < trials; t++) {
      const id = ids[t]!;
      let pot = 0;
      for (let i = 0, base = 0; i < n; i++, base += d) {
        const s = sqDist(data, base, data, id * d, d);
        const m = s < closest[i]! ? s : closest[i]!;
        trial[i] = m;
        pot += m;
      }
      if (pot < bestPot || bestId < 0) {
        bestPot = pot;
        bestId = id;
        const swap = best;
        best = trial;
        trial = swap;
      }
    }
    closest.set(best);
    // `cum` may now be `best`; the next round overwrites it either way.
    centers.set(data.subarray(bestId * d, bestId * d + d), c * d);
  }
}

function seedRandom(data: Float64Array, d: number, k: number, rng: Rng, centers: Float64Array, n: number): void {
  const rows = sampleIndices(n, k, rng);
  for (let c = 0; c < k; c++) {
    const r = rows[c]!;
    centers.set(data.subarray(r * d, r * d + d), c * d);
  }
}

/**
 * First index whose cumulative weight exceeds `x`: a row of weight zero (an
 * existing centre) is never picked while any other weight remains.
 */
function upperBound(cum: Float64Array, x: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}


/** Mean over columns of the population variance: the scale `tol` is relative to. */
function meanVariance(data: Float64Array, n: number, d: number): number {
  const mean = new Float64Array(d);
  for (let i = 0, base = 0; i < n; i++, base += d) {
    for (let t = 0; t < d; t++) mean[t] = mean[t]! + data[base + t]!;
  }
  for (let t = 0; t < d; t++) mean[t] = mean[t]! / n;
  let ss = 0;
  for (let i = 0, base = 0; i < n; i++, base += d) {
    for (let t = 0; t < d; t++) {
      const diff = data[base + t]! - mean[t]!;
      ss += diff * diff;
    }
  }
  return ss / n / d;
}

function resolveOptions(opts: Partial<KMeansOptions>, k: number, d: number): KMeansOptions {
  if (typeof opts !== 'object' || opts === null) throw new MlInputError('k-means options must be an object');
  const o: KMeansOptions = {
    seed: opts.seed ?? kmeansDefaults.seed,
    nInit: opts.nInit ?? kmeansDefaults.nInit,
    maxIter: opts.maxIter ?? kmeansDefaults.maxIter,
    tol: opts.tol ?? kmeansDefaults.tol,
    init: opts.init ?? kmeansDefaults.init,
  };
  assertInt('seed', o.seed, Number.MIN_SAFE_INTEGER);
  assertInt('nInit', o.nInit, 1);
  assertInt('maxIter', o.maxIter, 1);
  if (!(o.tol >= 0) || !Number.isFinite(o.tol)) {
    throw new MlInputError(`tol must be a finite number >= 0, got ${String(o.tol)}`);
  }
  if (o.init instanceof Float64Array) {
    assertMatrix(o.init, k, d, 'init centroids');
  } else if (o.init !== 'kmeans++' && o.init !== 'random') {
    throw new MlInputError(`init must be 'kmeans++', 'random' or a Float64Array of k*d centroids, got ${String(o.init)}`);
  }
  return o;
}

function assertCentroids(model: KMeansCentroids): void {
  if (typeof model !== 'object' || model === null) throw new MlInputError('k-means model must be an object');
  assertInt('model.k', model.k, 1);
  assertInt('model.d', model.d, 1);
  assertMatrix(model.centroids, model.k, model.d, 'model.centroids');
}
