/**
 * K-means with its assignment step spread over worker_threads: the same
 * algorithm as `kmeans` (kmeans.ts, the reference it is tested against) —
 * the same k-means++ draws from the same seed, Hamerly's bounds, the same
 * empty-cluster rule and stopping tests — with each worker labelling a
 * contiguous block of rows over shared memory and keeping its block's
 * per-cluster sums, updated only for rows that change cluster; the main
 * thread merges the blocks' sums in block order.
 *
 * Results equal the single-threaded ones up to floating-point rounding:
 * cluster sums are formed block by block (and updated incrementally) instead
 * of row by row, so centroids can differ in the last bits (labels, iterations
 * and inertia agree unless a row sits on a boundary to within that
 * rounding). Below `minRowsPerThread` rows per thread it simply runs
 * `kmeans`, giving identical results.
 *
 * Pass `data` over a SharedArrayBuffer to spare a copy of it.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MlInputError, assertInt, assertMatrix } from './errors.js';
import { kmeans, kmeansDefaults, type KMeansModel, type KMeansOptions } from './kmeans.js';
import { createRng, sampleIndices, type Rng } from './random.js';

export interface ParallelKMeansOptions extends KMeansOptions {
  /** Worker threads; defaults to the machine's available parallelism. */
  threads: number;
  /** Fewer rows than this per thread uses fewer threads (one: plain `kmeans`). */
  minRowsPerThread: number;
}

export const parallelKMeansDefaults: Readonly<Omit<ParallelKMeansOptions, 'threads'>> = Object.freeze({
  ...kmeansDefaults,
  minRowsPerThread: 50000,
});

/**
 * `kmeans` with the assignment step on worker threads; see the module
 * comment for how results compare. Rejects with `MlInputError` as `kmeans`
 * throws.
 */
export async function kmeansParallel(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  opts: Partial<ParallelKMeansOptions> = {},
): Promise<KMeansModel> {
  assertMatrix(data, n, d);
  if (n === 0) throw new MlInputError('k-means needs at least one row');
  assertInt('k', k, 1, n);
  const o = resolveOptions(opts, k, d);
  const threads = Math.min(o.threads, Math.floor(n / o.minRowsPerThread));
  const { threads: _threads, minRowsPerThread: _min, ...kmeansOpts } = o;
  if (threads <= 1) return kmeans(data, n, d, k, kmeansOpts);

  const pool = new Pool(data, n, d, k, threads);
  try {
    await pool.ready();
    const rng = createRng(o.seed);
    const tolAbs = o.tol * meanVariance(data, n, d);
    const nInit = o.init instanceof Float64Array ? 1 : o.nInit;
    const scratchA = new Float64Array(n);
    const scratchB = new Float64Array(n);
    let best: KMeansModel | undefined;
    for (let run = 0; run < nInit; run++) {
      const centers = pool.centers;
      if (o.init instanceof Float64Array) centers.set(o.init);
      else if (o.init === 'random') seedRandom(data, d, k, rng, centers, n);
      else seedKMeansPlusPlus(data, n, d, k, rng, centers, scratchA, scratchB);
      const r = await pool.lloyd(o.maxIter, tolAbs);
      if (best === undefined || r.inertia < best.inertia) {
        best = {
          k,
          d,
          centroids: centers.slice(),
          labels: pool.labels.slice(),
          inertia: r.inertia,
          iterations: r.iterations,
          converged: r.converged,
        };
      }
    }
    return best!;
  } finally {
    await pool.close();
  }
}

// ---------------------------------------------------------------------------

/**
 * The worker: Hamerly's assignment over rows [lo, hi), first applying the
 * bound updates of the previous centre move (exactly as `moveCenters` in
 * kmeans.ts does per row). Its per-cluster sums (its own slice of
 * `sums`/`counts`) are kept across iterations and updated only for rows that
 * changed cluster, so a settled iteration costs a bound check per row instead
 * of a pass over all the data. Plain JavaScript, run with `eval: true`, so it
 * works from the TypeScript sources and the build alike.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { n, d, k, w, lo, hi } = workerData;
const data = new Float64Array(workerData.data, workerData.dataOffset, n * d);
const labels = new Int32Array(workerData.labels);
const upper = new Float64Array(workerData.upper);
const lower = new Float64Array(workerData.lower);
const centers = new Float64Array(workerData.centers);
const half = new Float64Array(workerData.half);
const shift = new Float64Array(workerData.shift);
const sums = new Float64Array(workerData.sums, w * k * d * 8, k * d);
const counts = new Float64Array(workerData.counts, w * k * 8, k);
// Rows that changed cluster in this pass, and their previous cluster.
const moved = new Int32Array(hi - lo);
const from = new Int32Array(hi - lo);
function resum() {
  sums.fill(0);
  counts.fill(0);
  for (let i = lo, base = lo * d; i < hi; i++, base += d) {
    const a = labels[i];
    counts[a] = counts[a] + 1;
    for (let t = 0, sb = a * d; t < d; t++) sums[sb + t] = sums[sb + t] + data[base + t];
  }
}
parentPort.on('message', (msg) => {
  if (msg.cmd === 'reset') {
    labels.fill(-1, lo, hi);
    upper.fill(Infinity, lo, hi);
    lower.fill(0, lo, hi);
    parentPort.postMessage(0);
    return;
  }
  const move = msg.move;
  const arg1 = move ? move.arg1 : -1;
  const max1 = move ? move.max1 : 0;
  const max2 = move ? move.max2 : 0;
  let changed = 0;
  let fresh = false;
  for (let i = lo, base = lo * d; i < hi; i++, base += d) {
    let a = labels[i];
    if (a < 0) fresh = true;
    if (move) {
      upper[i] = upper[i] + shift[a];
      lower[i] = lower[i] - (a === arg1 ? max2 : max1);
    }
    let u = upper[i];
    const bound = a < 0 ? -1 : Math.max(half[a], lower[i]);
    if (u > bound) {
      if (a >= 0) {
        let s = 0;
        for (let t = 0, cb = a * d; t < d; t++) {
          const diff = data[base + t] - centers[cb + t];
          s += diff * diff;
        }
        u = Math.sqrt(s);
        upper[i] = u;
      }
      if (u > bound) {
        let b1 = Infinity;
        let b2 = Infinity;
        let j1 = 0;
        for (let j = 0, cb = 0; j < k; j++, cb += d) {
          let s = 0;
          for (let t = 0; t < d; t++) {
            const diff = data[base + t] - centers[cb + t];
            s += diff * diff;
          }
          if (s < b1) {
            b2 = b1;
            b1 = s;
            j1 = j;
          } else if (s < b2) {
            b2 = s;
          }
        }
        if (j1 !== a) {
          moved[changed] = i;
          from[changed] = a;
          changed++;
          labels[i] = j1;
        }
        upper[i] = Math.sqrt(b1);
        lower[i] = Math.sqrt(b2);
      }
    }
  }
  if (msg.accumulate) {
    // Cluster sums follow the rows that moved; when many moved (or on the
    // first pass) summing the block afresh is as cheap and drops drift.
    if (fresh || changed * 8 > hi - lo) {
      resum();
    } else {
      for (let c = 0; c < changed; c++) {
        const i = moved[c];
        const a0 = from[c];
        const a1 = labels[i];
        counts[a0] = counts[a0] - 1;
        counts[a1] = counts[a1] + 1;
        for (let t = 0, base = i * d, s0 = a0 * d, s1 = a1 * d; t < d; t++) {
          const v = data[base + t];
          sums[s0 + t] = sums[s0 + t] - v;
          sums[s1 + t] = sums[s1 + t] + v;
        }
      }
    }
  }
  parentPort.postMessage(changed);
});
parentPort.postMessage('ready');
`;

interface Move {
  arg1: number;
  max1: number;
  max2: number;
}

interface RunResult {
  inertia: number;
  iterations: number;
  converged: boolean;
}

/** Workers over shared row state, driven one step at a time. */
class Pool {
  readonly labels: Int32Array;
  readonly centers: Float64Array;
  private readonly data: Float64Array;
  private readonly half: Float64Array;
  private readonly shift: Float64Array;
  private readonly partSums: Float64Array;
  private readonly partCounts: Float64Array;
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private readonly workers: Worker[] = [];
  private readonly started: Promise<unknown>[] = [];

  constructor(
    data: Float64Array,
    private readonly n: number,
    private readonly d: number,
    private readonly k: number,
    threads: number,
  ) {
    let shared = data;
    if (!(data.buffer instanceof SharedArrayBuffer)) {
      shared = new Float64Array(new SharedArrayBuffer(n * d * 8));
      shared.set(data);
    }
    this.data = shared;
    const sab = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(Math.max(8, bytes));
    const buffers = {
      labels: sab(n * 4),
      upper: sab(n * 8),
      lower: sab(n * 8),
      centers: sab(k * d * 8),
      half: sab(k * 8),
      shift: sab(k * 8),
      sums: sab(threads * k * d * 8),
      counts: sab(threads * k * 8),
    };
    this.labels = new Int32Array(buffers.labels, 0, n);
    this.centers = new Float64Array(buffers.centers, 0, k * d);
    this.half = new Float64Array(buffers.half, 0, k);
    this.shift = new Float64Array(buffers.shift, 0, k);
    this.partSums = new Float64Array(buffers.sums, 0, threads * k * d);
    this.partCounts = new Float64Array(buffers.counts, 0, threads * k);
    this.sums = new Float64Array(k * d);
    this.counts = new Float64Array(k);
    for (let w = 0; w < threads; w++) {
      const lo = Math.floor((w * n) / threads);
      const hi = Math.floor(((w + 1) * n) / threads);
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { ...buffers, data: shared.buffer, dataOffset: shared.byteOffset, n, d, k, w, lo, hi },
      });
      this.workers.push(worker);
      this.started.push(reply(worker));
    }
  }

  async ready(): Promise<void> {
    await Promise.all(this.started);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** One run from `centers`, which it leaves holding the result; kmeans.ts's `lloyd`. */
  async lloyd(maxIter: number, tolAbs: number): Promise<RunResult> {
    const { n, d, k, centers } = this;
    await this.broadcast({ cmd: 'reset' });
    let iterations = 0;
    let converged = false;
    let stable = false;
    let move: Move | null = null;
    while (iterations < maxIter) {
      iterations++;
      halfGaps(centers, k, d, this.half);
      const changed = await this.assign(true, move);
      const relocated = relocateEmpty(this.data, n, d, k, centers, this.labels, this.sums, this.counts);
      const moved = moveCenters(centers, k, d, this.sums, this.counts, this.shift);
      move = moved.max1 > 0 ? moved : null;
      if (changed === 0 && !relocated) {
        stable = true;
        converged = true;
        break;
      }
      if (moved.total <= tolAbs) {
        converged = true;
        break;
      }
    }
    if (!stable) {
      halfGaps(centers, k, d, this.half);
      await this.assign(false, move);
    }
    let inertia = 0;
    const labels = this.labels;
    for (let i = 0, base = 0; i < n; i++, base += d) inertia += sqDist(this.data, base, centers, labels[i]! * d, d);
    return { inertia, iterations, converged };
  }

  /** Workers label their rows; block sums merged in block order. Returns labels changed. */
  private async assign(accumulate: boolean, move: Move | null): Promise<number> {
    const changed = await this.broadcast({ cmd: 'assign', accumulate, move });
    if (accumulate) {
      const { k, d, sums, counts, partSums, partCounts } = this;
      sums.fill(0);
      counts.fill(0);
      for (let w = 0; w < this.workers.length; w++) {
        for (let x = 0; x < k * d; x++) sums[x] = sums[x]! + partSums[w * k * d + x]!;
        for (let j = 0; j < k; j++) counts[j] = counts[j]! + partCounts[w * k + j]!;
      }
    }
    return changed.reduce((a, c) => a + c, 0);
  }

  private async broadcast(msg: object): Promise<number[]> {
    const replies = this.workers.map((w) => reply(w));
    for (const w of this.workers) w.postMessage(msg);
    return (await Promise.all(replies)) as number[];
  }
}

/** The worker's next message, or its error. */
function reply(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (value: unknown): void => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      resolve(value);
    };
    const onError = (err: Error): void => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      reject(err);
    };
    const onExit = (code: number): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      reject(new Error(`k-means worker exited with code ${code}`));
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });
}

// The helpers below mirror kmeans.ts line for line (they are private there),
// so both versions draw the same seeds and take the same steps.

/** kmeans.ts `relocateEmpty`. */
function relocateEmpty(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
  labels: Int32Array,
  sums: Float64Array,
  counts: Float64Array,
): boolean {
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

/** kmeans.ts `moveCenters`, with the per-row bound updates left to the workers. */
function moveCenters(
  centers: Float64Array,
  k: number,
  d: number,
  sums: Float64Array,
  counts: Float64Array,
  shift: Float64Array,
): Move & { total: number } {
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
  return { total, max1, max2, arg1 };
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

/** kmeans.ts `seedKMeansPlusPlus`: greedy k-means++, 2 + floor(ln k) trials per centre. */
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

function sqDist(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const diff = a[ao + t]! - b[bo + t]!;
    s += diff * diff;
  }
  return s;
}

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

function resolveOptions(opts: Partial<ParallelKMeansOptions>, k: number, d: number): ParallelKMeansOptions {
  if (typeof opts !== 'object' || opts === null) throw new MlInputError('k-means options must be an object');
  const o: ParallelKMeansOptions = {
    seed: opts.seed ?? parallelKMeansDefaults.seed,
    nInit: opts.nInit ?? parallelKMeansDefaults.nInit,
    maxIter: opts.maxIter ?? parallelKMeansDefaults.maxIter,
    tol: opts.tol ?? parallelKMeansDefaults.tol,
    init: opts.init ?? parallelKMeansDefaults.init,
    threads: opts.threads ?? availableParallelism(),
    minRowsPerThread: opts.minRowsPerThread ?? parallelKMeansDefaults.minRowsPerThread,
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
  assertInt('threads', o.threads, 1, 256);
  assertInt('minRowsPerThread', o.minRowsPerThread, 1);
  return o;
}
