/**
 * K-means on a row-major Float64Array, following scikit-learn's KMeans
 * (algorithm="lloyd") closely enough that its numbers are our test oracle:
 * greedy k-means++ seeding, relative tolerance, best of `nInit` restarts by
 * inertia, empty clusters re-seeded at the points farthest from their centres.
 *
 * Assignment skips distance computations with exact bounds, so labels are
 * those plain Lloyd iterations would give: Hamerly's (one upper, one lower
 * bound per row) or, from ELKAN_MIN_DIMS columns while they fit in
 * ELKAN_MAX_BOUNDS, Elkan's (an upper bound and one lower bound per centre
 * for each row). The rows are cut into fixed chunks (kmeans-kernel.ts, and
 * its WebAssembly twin asm/kmeans.ts, used where the runtime has it) that
 * keep their own cluster sums, added up in chunk order; on large data the
 * chunks are shared between this thread and worker threads (kmeans-pool.ts).
 * The chunking never depends on the thread count, so one thread or many give
 * bit-identical models.
 */
import { availableParallelism } from 'node:os';
import { sqDist } from './distance.js';
import { MlInputError, assertInt, assertMatrix } from './errors.js';
import { CMD_ASSIGN, CMD_INERTIA, PARAMS, type KState } from './kmeans-kernel.js';
import { poolRunner, serialRunner, type ChunkRunner } from './kmeans-pool.js';
import { placeInArena } from './kmeans-wasm.js';
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
  /**
   * Threads to use, this one included (default: the machine's cores, at most
   * 8). Only a speed setting: the model is the same for any value.
   */
  threads: number;
  /**
   * Which bounds skip distance computations: Elkan's (one per row and
   * centre, n×k memory; far fewer distances when clusters overlap) or
   * Hamerly's (two per row). `auto`: Elkan from ELKAN_MIN_DIMS columns while
   * its bounds fit in ELKAN_MAX_BOUNDS, else Hamerly. Both are exact, so the
   * model does not depend on it.
   */
  bounds: 'auto' | 'elkan' | 'hamerly';
  /**
   * Which code computes the steps: `wasm` (WebAssembly with 128-bit SIMD,
   * about twice as fast on 1M x 12), `js`, or `auto`: wasm where the runtime
   * has it and the state fits in its 4 GiB memory. Only a speed setting: both
   * add up every sum in the same order, so the model is the same bits.
   */
  kernel: 'auto' | 'wasm' | 'js';
}

export const kmeansDefaults: Readonly<Omit<KMeansOptions, 'threads'>> = Object.freeze({
  seed: 42,
  nInit: 4,
  maxIter: 300,
  tol: 1e-4,
  init: 'kmeans++',
  bounds: 'auto',
  kernel: 'auto',
});

/** Elkan's n×k bounds up to this many (128 MB); Hamerly's beyond. */
export const ELKAN_MAX_BOUNDS = 16_000_000;
/**
 * Below this many columns Hamerly's bounds win: measured on 8 overlapping
 * blobs (1M x 12, k 3..16, and 250k x 24..96, k 5..20), Hamerly was 10-40%
 * faster up to 48 columns, even at 96, and Elkan's n×k bounds only paid off
 * from about 96 columns with k = 20.
 */
const ELKAN_MIN_DIMS = 64;

/** Rows per chunk: fixed, because the chunking decides the summation order. */
export const CHUNK_ROWS = 4096;
/** Workers join in from this many chunks up; below, their wake-ups cost more than they save. */
const PARALLEL_MIN_CHUNKS = 4;

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
  const tolAbs = o.tol === 0 ? 0 : o.tol * meanVariance(data, n, d);
  // Restarting from the same given centroids would only repeat the run.
  const nInit = o.init instanceof Float64Array ? 1 : o.nInit;
  const nChunks = Math.ceil(n / CHUNK_ROWS);
  const parallel = o.threads > 1 && nChunks >= PARALLEL_MIN_CHUNKS;
  const elkan = o.bounds === 'elkan' || (o.bounds === 'auto' && k > 1 && d >= ELKAN_MIN_DIMS && n * k <= ELKAN_MAX_BOUNDS);
  const placed = placeInArena(data, n, d, k, nChunks, CHUNK_ROWS, elkan);
  if (o.kernel === 'wasm' && placed === undefined) throw new MlInputError("kernel 'wasm' is not available here: this runtime lacks WebAssembly SIMD or shared memory, or the data is over 4 GiB");
  const kernel = placed && o.kernel !== 'js' ? 'wasm' : 'js';
  const s = placed?.state ?? state(data, n, d, k, nChunks, parallel, elkan);
  paramsFor(s.params, elkan);
  const runner = parallel ? poolRunner(s, Math.min(o.threads, nChunks) - 1, placed, kernel) : serialRunner(s, kernel === 'wasm' ? placed : undefined);
  // k-means++ scratch, only when it seeds.
  const scratch = o.init === 'kmeans++' ? { a: new Float64Array(n), b: new Float64Array(n) } : undefined;

  try {
    let best: KMeansModel | undefined;
    for (let run = 0; run < nInit; run++) {
      const centers = s.centers;
      if (o.init instanceof Float64Array) centers.set(o.init);
      else if (o.init === 'random') seedRandom(data, d, k, rng, centers, n);
      else seedKMeansPlusPlus(data, n, d, k, rng, centers, scratch!.a, scratch!.b);

      const r = lloyd(s, runner, o.maxIter, tolAbs);
      if (best === undefined || r.inertia < best.inertia) {
        best = {
          k,
          d,
          centroids: centers.slice(),
          labels: s.labels.slice(),
          inertia: r.inertia,
          iterations: r.iterations,
          converged: r.converged,
        };
      }
    }
    return best!;
  } finally {
    runner.close();
  }
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

/** The chunk state where there is no arena (kmeans-wasm.ts), over shared memory when workers take part. */
function state(data: Float64Array, n: number, d: number, k: number, nChunks: number, shared: boolean, elkan: boolean): KState {
  const f64 = (len: number): Float64Array => (shared ? new Float64Array(new SharedArrayBuffer(Math.max(1, len) * 8)) : new Float64Array(len));
  let rows = data;
  if (shared && !(data.buffer instanceof SharedArrayBuffer)) {
    rows = f64(n * d).subarray(0, n * d);
    rows.set(data);
  }
  return {
    n,
    d,
    k,
    chunkRows: CHUNK_ROWS,
    nChunks,
    data: rows,
    labels: shared ? new Int32Array(new SharedArrayBuffer(n * 4)) : new Int32Array(n),
    upper: f64(n),
    lowerAny: f64(elkan ? 0 : n),
    lower: f64(elkan ? n * k : 0),
    centers: f64(k * d),
    half: f64(k),
    halfPair: f64(k * k),
    totalShift: f64(k),
    otherShift: f64(k),
    partSums: f64(nChunks * k * d),
    partCounts: f64(nChunks * k),
    partValue: f64(nChunks),
    params: f64(PARAMS),
  };
}

function paramsFor(params: Float64Array, elkan: boolean): void {
  params[2] = elkan ? 1 : 0;
}

interface RunResult {
  inertia: number;
  iterations: number;
  converged: boolean;
}

/** One run from the centres in `s.centers`, which it leaves holding the result. */
function lloyd(s: KState, runner: ChunkRunner, maxIter: number, tolAbs: number): RunResult {
  const { d, k, centers, params } = s;
  s.labels.fill(-1);
  s.upper.fill(Infinity);
  s.lowerAny.fill(0);
  s.lower.fill(0);
  s.totalShift.fill(0);
  s.otherShift.fill(0);
  const shift = new Float64Array(k);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  let iterations = 0;
  let converged = false;
  let stable = false;
  const assign = (accumulate: boolean): number => {
    params[0] = CMD_ASSIGN;
    params[1] = accumulate ? 1 : 0;
    runner.run();
    let changed = 0;
    for (let c = 0; c < s.nChunks; c++) changed += s.partValue[c]!;
    return changed;
  };
  while (iterations < maxIter) {
    iterations++;
    halfGaps(centers, k, d, s.half, s.halfPair);
    const changed = assign(true);
    reduceChunks(s, sums, counts);
    const relocated = relocateEmpty(s, sums, counts);
    const move = moveCenters(centers, k, d, sums, counts, shift);
    for (let j = 0; j < k; j++) {
      s.totalShift[j] = s.totalShift[j]! + shift[j]!;
      s.otherShift[j] = s.otherShift[j]! + (j === move.arg1 ? move.max2 : move.max1);
    }
    // Labels unchanged means the new centres equal the old: nothing can move.
    if (changed === 0 && !relocated) {
      stable = true;
      converged = true;
      break;
    }
    if (move.total <= tolAbs) {
      converged = true;
      break;
    }
  }
  if (!stable) {
    // The centres moved after the last assignment; relabel so the two agree.
    halfGaps(centers, k, d, s.half, s.halfPair);
    assign(false);
  }
  params[0] = CMD_INERTIA;
  runner.run();
  let inertia = 0;
  for (let c = 0; c < s.nChunks; c++) inertia += s.partValue[c]!;
  return { inertia, iterations, converged };
}

/** Cluster sums and counts: the chunks' own, added in chunk order. */
function reduceChunks(s: KState, sums: Float64Array, counts: Float64Array): void {
  const { k, d, partSums, partCounts } = s;
  const kd = k * d;
  sums.fill(0);
  counts.fill(0);
  for (let c = 0; c < s.nChunks; c++) {
    for (let x = 0, o = c * kd; x < kd; x++) sums[x] = sums[x]! + partSums[o + x]!;
    for (let j = 0, o = c * k; j < k; j++) counts[j] = counts[j]! + partCounts[o + j]!;
  }
}

/**
 * Re-seeds each empty cluster at the row farthest from its own centre, taken
 * out of its cluster's sums (scikit-learn's rule). Labels are left alone, as
 * scikit-learn does; the next assignment moves the row. Only rows whose
 * cluster keeps at least one other member qualify, so no new cluster empties.
 */
function relocateEmpty(s: KState, sums: Float64Array, counts: Float64Array): boolean {
  const { n, d, k, data, labels, centers } = s;
  const taken: number[] = [];
  for (let e = 0; e < k; e++) {
    if (counts[e]! > 0) continue;
    let far = -1;
    let farDist = -1;
    for (let i = 0, base = 0; i < n; i++, base += d) {
      const a = labels[i]!;
      if (counts[a]! <= 1 || taken.includes(i)) continue;
      const q = sqDist(data, base, centers, a * d, d);
      if (q > farDist) {
        farDist = q;
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

interface Move {
  /** Summed squared shift: what `tol` is compared with. */
  total: number;
  /** Largest and second-largest shift, and which centre made the largest. */
  max1: number;
  max2: number;
  arg1: number;
}

/**
 * Centres become their clusters' means and `shift` how far each moved; the
 * chunks widen their rows' bounds by it at the start of the next assignment.
 */
function moveCenters(centers: Float64Array, k: number, d: number, sums: Float64Array, counts: Float64Array, shift: Float64Array): Move {
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
    const sh = Math.sqrt(s2);
    shift[j] = sh;
    if (sh > max1) {
      max2 = max1;
      max1 = sh;
      arg1 = j;
    } else if (sh > max2) {
      max2 = sh;
    }
  }
  return { total, max1, max2, arg1 };
}

/** Half the gap between every pair of centres, and from each to its nearest other. */
function halfGaps(centers: Float64Array, k: number, d: number, half: Float64Array, halfPair: Float64Array): void {
  half.fill(Infinity);
  for (let j = 0; j < k; j++) {
    for (let m = j + 1; m < k; m++) {
      const g = 0.5 * Math.sqrt(sqDist(centers, j * d, centers, m * d, d));
      halfPair[j * k + m] = g;
      halfPair[m * k + j] = g;
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
    threads: opts.threads ?? Math.min(8, availableParallelism()),
    bounds: opts.bounds ?? kmeansDefaults.bounds,
    kernel: opts.kernel ?? kmeansDefaults.kernel,
  };
  if (o.kernel !== 'auto' && o.kernel !== 'wasm' && o.kernel !== 'js') {
    throw new MlInputError(`kernel must be 'auto', 'wasm' or 'js', got ${String(o.kernel)}`);
  }
  if (o.bounds !== 'auto' && o.bounds !== 'elkan' && o.bounds !== 'hamerly') {
    throw new MlInputError(`bounds must be 'auto', 'elkan' or 'hamerly', got ${String(o.bounds)}`);
  }
  assertInt('threads', o.threads, 1, 256);
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
