/**
 * Mini-batch k-means (Sculley 2010) for very large n, following scikit-learn's
 * MiniBatchKMeans (1.2): k-means++ on a seeded sample of `initSize` rows (best
 * of `nInit` by inertia on a validation batch), then steps that each draw
 * `batchSize` rows with replacement, move every centre toward the mean of
 * its batch rows with a per-centre learning rate 1 / (rows seen so far), and
 * re-seed at random batch rows the centres that have seen under
 * `reassignmentRatio` of the busiest one's rows. It stops after `maxIter`
 * epochs' worth of steps or when the smoothed batch inertia has not improved
 * for `maxNoImprovement` steps. Every row is then labelled by its nearest
 * final centre.
 *
 * Cost per step is batchSize·k·d, independent of n: the full data is read
 * only by the final labelling. The same seed gives the same model.
 */
import { MlInputError, assertInt, assertMatrix } from './errors.js';
import { kmeansPlusPlus, predict, type KMeansModel } from './kmeans.js';
import { createRng, sampleIndices } from './random.js';

export interface MiniBatchKMeansOptions {
  seed: number;
  /** Rows per step. */
  batchSize: number;
  /** Epochs: at most maxIter · n / batchSize steps. */
  maxIter: number;
  /** Stop when the smoothed batch inertia has not improved for this many steps. */
  maxNoImprovement: number;
  /** Rows k-means++ seeds on; undefined: 3 · batchSize (at least 3k), at most n. */
  initSize: number | undefined;
  /** Seedings tried; the one with the lowest inertia on a validation batch wins. */
  nInit: number;
  /** Centres that have seen fewer rows than this share of the busiest one's are re-seeded. */
  reassignmentRatio: number;
}

export const miniBatchDefaults: Readonly<MiniBatchKMeansOptions> = Object.freeze({
  seed: 42,
  batchSize: 1024,
  maxIter: 100,
  maxNoImprovement: 10,
  initSize: undefined,
  nInit: 3,
  reassignmentRatio: 0.01,
});

export function miniBatchKMeans(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  opts: Partial<MiniBatchKMeansOptions> = {},
): KMeansModel {
  assertMatrix(data, n, d);
  if (n === 0) throw new MlInputError('k-means needs at least one row');
  assertInt('k', k, 1, n);
  const o = resolveOptions(opts);
  const rng = createRng(o.seed);
  const batch = Math.min(o.batchSize, n);
  const initSize = Math.min(n, o.initSize ?? Math.max(3 * batch, 3 * k));
  if (initSize < k) throw new MlInputError(`initSize ${initSize} is below k = ${k}`);

  // Seeding: k-means++ on samples, judged on one validation batch.
  const validation = Int32Array.from({ length: batch }, () => rng.int(n));
  let centers: Float64Array = new Float64Array(0);
  let bestInertia = Infinity;
  const sample = new Float64Array(initSize * d);
  for (let t = 0; t < o.nInit; t++) {
    const rows = sampleIndices(n, initSize, rng);
    for (let s = 0; s < initSize; s++) sample.set(data.subarray(rows[s]! * d, rows[s]! * d + d), s * d);
    const c = kmeansPlusPlus(sample, initSize, d, k, rng.int(2 ** 31));
    let inertia = 0;
    for (let b = 0; b < batch; b++) inertia += nearest(data, validation[b]! * d, c, k, d).dist;
    if (inertia < bestInertia) {
      bestInertia = inertia;
      centers = c;
    }
  }

  const weight = new Float64Array(k);
  const bSums = new Float64Array(k * d);
  const bCounts = new Float64Array(k);
  const rows = new Int32Array(batch);
  const steps = Math.ceil((o.maxIter * n) / batch);
  const alpha = Math.min(1, (batch * 2) / (n + 1));
  let ewa = Infinity;
  let ewaMin = Infinity;
  let noImprovement = 0;
  let step = 0;
  let converged = false;
  let sinceReassign = 0;
  while (step < steps) {
    step++;
    bSums.fill(0);
    bCounts.fill(0);
    let inertia = 0;
    for (let b = 0; b < batch; b++) {
      const r = rng.int(n);
      rows[b] = r;
      const { j, dist } = nearest(data, r * d, centers, k, d);
      inertia += dist;
      bCounts[j] = bCounts[j]! + 1;
      for (let t = 0; t < d; t++) bSums[j * d + t] = bSums[j * d + t]! + data[r * d + t]!;
    }
    for (let j = 0; j < k; j++) {
      const c = bCounts[j]!;
      if (c === 0) continue;
      const w = weight[j]!;
      for (let t = 0, o2 = j * d; t < d; t++) centers[o2 + t] = (centers[o2 + t]! * w + bSums[o2 + t]!) / (w + c);
      weight[j] = w + c;
    }
    sinceReassign += batch;
    if (o.reassignmentRatio > 0 && (weight.some((w) => w === 0) || sinceReassign >= 10 * k)) {
      sinceReassign = 0;
      reassign(data, d, k, centers, weight, rows, o.reassignmentRatio, rng);
    }
    // The first step's inertia measures the seeding, not the learning: skipped, as scikit-learn does.
    if (step === 1) continue;
    const mean = inertia / batch;
    ewa = ewa === Infinity ? mean : ewa * (1 - alpha) + mean * alpha;
    if (ewa < ewaMin) {
      ewaMin = ewa;
      noImprovement = 0;
    } else if (++noImprovement >= o.maxNoImprovement) {
      converged = true;
      break;
    }
  }

  const model = { k, d, centroids: centers };
  const { labels, distances } = predict(model, data, n);
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += distances[i]! * distances[i]!;
  return { ...model, labels, inertia, iterations: step, converged };
}

/** Nearest centre to the row at `base` and its squared distance. */
function nearest(data: Float64Array, base: number, centers: Float64Array, k: number, d: number): { j: number; dist: number } {
  let best = Infinity;
  let bj = 0;
  for (let j = 0, cb = 0; j < k; j++, cb += d) {
    let q = 0;
    for (let t = 0; t < d; t++) {
      const g = data[base + t]! - centers[cb + t]!;
      q += g * g;
    }
    if (q < best) {
      best = q;
      bj = j;
    }
  }
  return { j: bj, dist: best };
}

/**
 * Centres that have seen under `ratio` of the busiest one's rows move to
 * distinct random rows of the current batch (at most half the batch), with
 * the smallest weight among the others, so they learn as fast as any.
 */
function reassign(
  data: Float64Array,
  d: number,
  k: number,
  centers: Float64Array,
  weight: Float64Array,
  rows: Int32Array,
  ratio: number,
  rng: ReturnType<typeof createRng>,
): void {
  let max = 0;
  for (let j = 0; j < k; j++) if (weight[j]! > max) max = weight[j]!;
  const low: number[] = [];
  for (let j = 0; j < k; j++) if (weight[j]! < ratio * max) low.push(j);
  if (low.length === 0 || low.length === k) return;
  low.sort((a, b) => weight[a]! - weight[b]! || a - b);
  const moved = low.slice(0, Math.max(1, Math.floor(rows.length / 2)));
  let minKept = Infinity;
  for (let j = 0; j < k; j++) if (!moved.includes(j) && weight[j]! < minKept) minKept = weight[j]!;
  const picks = sampleIndices(rows.length, Math.min(moved.length, rows.length), rng);
  moved.forEach((j, p) => {
    const r = rows[picks[p]!]!;
    centers.set(data.subarray(r * d, r * d + d), j * d);
    weight[j] = minKept;
  });
}

function resolveOptions(opts: Partial<MiniBatchKMeansOptions>): MiniBatchKMeansOptions {
  if (typeof opts !== 'object' || opts === null) throw new MlInputError('mini-batch k-means options must be an object');
  const o: MiniBatchKMeansOptions = {
    seed: opts.seed ?? miniBatchDefaults.seed,
    batchSize: opts.batchSize ?? miniBatchDefaults.batchSize,
    maxIter: opts.maxIter ?? miniBatchDefaults.maxIter,
    maxNoImprovement: opts.maxNoImprovement ?? miniBatchDefaults.maxNoImprovement,
    initSize: opts.initSize ?? miniBatchDefaults.initSize,
    nInit: opts.nInit ?? miniBatchDefaults.nInit,
    reassignmentRatio: opts.reassignmentRatio ?? miniBatchDefaults.reassignmentRatio,
  };
  assertInt('seed', o.seed, Number.MIN_SAFE_INTEGER);
  assertInt('batchSize', o.batchSize, 1);
  assertInt('maxIter', o.maxIter, 1);
  assertInt('maxNoImprovement', o.maxNoImprovement, 1);
  if (o.initSize !== undefined) assertInt('initSize', o.initSize, 1);
  assertInt('nInit', o.nInit, 1);
  if (!(o.reassignmentRatio >= 0 && o.reassignmentRatio < 1)) {
    throw new MlInputError(`reassignmentRatio must be in [0, 1), got ${String(o.reassignmentRatio)}`);
  }
  return o;
}
