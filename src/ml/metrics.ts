/**
 * Clustering quality scores with scikit-learn's exact semantics (1.2), so a
 * number here means what the same-named number means in a notebook: Euclidean
 * silhouette, Davies-Bouldin, Calinski-Harabasz, and the (adjusted) Rand index.
 *
 * Labels may be any integers, in any order and with gaps; they are mapped to
 * 0..k-1 in ascending order first, as scikit-learn's LabelEncoder does.
 */
import { sqDist } from './distance.js';
import { MlInputError, assertInt, assertMatrix } from './errors.js';
import { createRng, sampleIndices } from './random.js';
import { layout, mlArena } from './wasm.js';

export type Labels = Int32Array | readonly number[];

export interface SilhouetteOptions {
  /**
   * Above this many rows the score is estimated from a random subset of this
   * size; `Infinity` always computes it exactly.
   */
  sampleSize: number;
  /** Seed for choosing the subset. */
  seed: number;
  /**
   * Which code computes the distances: `wasm` (WebAssembly SIMD, several
   * times faster), `js`, or `auto`: wasm where the runtime has it. The
   * distances are the same bits; only the order of their sums differs.
   */
  kernel: 'auto' | 'wasm' | 'js';
}

export const silhouetteDefaults: Readonly<SilhouetteOptions> = Object.freeze({ sampleSize: 10000, seed: 42, kernel: 'auto' });

/**
 * Mean silhouette coefficient. Exact is O(n²·d) time; besides a
 * cluster-ordered copy of the rows it needs only O(n + k) memory, never n×n.
 *
 * When n > sampleSize this does what scikit-learn's
 * `silhouette_score(sample_size=m)` does: draw m rows without replacement and
 * compute the silhouette of that subset on its own — distances only among the
 * sampled rows, not from them to all n — so estimates agree with scikit-learn.
 */
export function silhouette(
  data: Float64Array,
  n: number,
  d: number,
  labels: Labels,
  opts: Partial<SilhouetteOptions> = {},
): number {
  const sampleSize = opts.sampleSize ?? silhouetteDefaults.sampleSize;
  const seed = opts.seed ?? silhouetteDefaults.seed;
  const kernel = opts.kernel ?? silhouetteDefaults.kernel;
  if (kernel !== 'auto' && kernel !== 'wasm' && kernel !== 'js') throw new MlInputError(`kernel must be 'auto', 'wasm' or 'js', got ${String(kernel)}`);
  if (sampleSize !== Infinity) assertInt('sampleSize', sampleSize, 1);
  assertInt('seed', seed, Number.MIN_SAFE_INTEGER);
  assertMatrix(data, n, d);
  const full = encodeLabels(labels, n);

  let scores: Float64Array;
  if (n <= sampleSize) {
    assertLabelCount(full.k, n);
    scores = silhouetteCore(data, d, undefined, full, kernel);
  } else {
    const rows = sampleIndices(n, sampleSize, createRng(seed));
    const subLabels = new Int32Array(sampleSize);
    for (let s = 0; s < sampleSize; s++) subLabels[s] = full.codes[rows[s]!]!;
    // Re-encoded because clusters the sample missed must not count.
    const enc = encodeLabels(subLabels, sampleSize);
    assertLabelCount(enc.k, sampleSize);
    scores = silhouetteCore(data, d, rows, enc, kernel);
  }
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += scores[i]!;
  return sum / scores.length;
}

/**
 * Silhouette of every row: (b - a) / max(a, b) with a the mean distance to its
 * own cluster and b to the nearest other cluster; 0 for a cluster of one row.
 */
export function silhouetteSamples(data: Float64Array, n: number, d: number, labels: Labels): Float64Array {
  assertMatrix(data, n, d);
  const enc = encodeLabels(labels, n);
  assertLabelCount(enc.k, n);
  return silhouetteCore(data, d, undefined, enc, 'auto');
}

/**
 * Mean silhouette of several labellings of the same n rows (model selection
 * scores every candidate on one validation set), computing each distance
 * once for all of them: per pair, one distance and two additions per
 * labelling instead of one distance per labelling. Exact (no sampling).
 *
 * A negative label leaves the row out of that labelling, as if it were not
 * in the data (DBSCAN noise). Each result equals `silhouette` on the rows
 * a labelling keeps, up to summation order; NaN when those rows have fewer
 * than 2 or more than (rows - 1) clusters.
 */
export function silhouetteMany(data: Float64Array, n: number, d: number, labelings: readonly Labels[]): number[] {
  assertMatrix(data, n, d);
  const L = labelings.length;
  // Per labelling: codes 0..k-1 for kept rows, k for left-out ones (a spare
  // column that is never read), so the pair loop needs no branch.
  const offset = new Int32Array(L + 1);
  const ks: number[] = [];
  const sizes: Float64Array[] = [];
  const col = new Int32Array(n * L);
  labelings.forEach((labels, l) => {
    if (!isLabelContainer(labels)) throw new MlInputError('labels must be an Int32Array or an array of integers');
    if (labels.length !== n) throw new MlInputError(`labelling ${l} has ${labels.length} entries, expected ${n}`);
    const kept: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i]! >= 0) kept.push(i);
    const enc = encodeLabels(kept.map((i) => labels[i]!), kept.length, `labelling ${l}`);
    ks.push(enc.k);
    sizes.push(enc.counts);
    offset[l + 1] = offset[l]! + enc.k + 1;
    for (let i = 0; i < n; i++) col[i * L + l] = offset[l]! + enc.k;
    kept.forEach((i, p) => (col[i * L + l] = offset[l]! + enc.codes[p]!));
  });
  const S = offset[L]!;
  const acc = new Float64Array(n * S);
  for (let i = 0; i < n; i++) {
    const ib = i * d;
    const iS = i * S;
    const iL = i * L;
    for (let j = i + 1, jb = (i + 1) * d; j < n; j++, jb += d) {
      let q = 0;
      for (let t = 0; t < d; t++) {
        const g = data[ib + t]! - data[jb + t]!;
        q += g * g;
      }
      const dist = Math.sqrt(q);
      const jS = j * S;
      const jL = j * L;
      for (let l = 0; l < L; l++) {
        const cj = iS + col[jL + l]!;
        const ci = jS + col[iL + l]!;
        acc[cj] = acc[cj]! + dist;
        acc[ci] = acc[ci]! + dist;
      }
    }
  }
  const out: number[] = [];
  for (let l = 0; l < L; l++) {
    const k = ks[l]!;
    const size = sizes[l]!;
    let kept = 0;
    for (let c = 0; c < k; c++) kept += size[c]!;
    if (k < 2 || k > kept - 1) {
      out.push(NaN);
      continue;
    }
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const own = col[i * L + l]! - offset[l]!;
      if (own === k || size[own]! <= 1) continue;
      const row = i * S + offset[l]!;
      const a = acc[row + own]! / (size[own]! - 1);
      let b = Infinity;
      for (let c = 0; c < k; c++) {
        if (c === own) continue;
        const m = acc[row + c]! / size[c]!;
        if (m < b) b = m;
      }
      const denom = Math.max(a, b);
      sum += denom > 0 ? (b - a) / denom : 0;
    }
    out.push(sum / kept);
  }
  return out;
}

/** Lower is better; 0 when every cluster is a point or all centroids coincide. */
export function daviesBouldin(data: Float64Array, n: number, d: number, labels: Labels): number {
  assertMatrix(data, n, d);
  const enc = encodeLabels(labels, n);
  assertLabelCount(enc.k, n);
  const { k, codes, counts } = enc;
  const centroids = clusterMeans(data, n, d, enc);

  const intra = new Float64Array(k);
  for (let i = 0, base = 0; i < n; i++, base += d) {
    const c = codes[i]!;
    intra[c] = intra[c]! + Math.sqrt(sqDist(data, base, centroids, c * d, d));
  }
  for (let c = 0; c < k; c++) intra[c] = intra[c]! / counts[c]!;

  const gap = new Float64Array(k * k);
  let allTight = true;
  let allSame = true;
  for (let c = 0; c < k; c++) {
    if (Math.abs(intra[c]!) > ALLCLOSE_ATOL) allTight = false;
    for (let e = 0; e < k; e++) {
      const g = Math.sqrt(sqDist(centroids, c * d, centroids, e * d, d));
      gap[c * k + e] = g;
      if (g > ALLCLOSE_ATOL) allSame = false;
    }
  }
  // scikit-learn's np.allclose(..., 0) shortcut, same tolerance.
  if (allTight || allSame) return 0;

  let total = 0;
  for (let c = 0; c < k; c++) {
    let worst = 0;
    for (let e = 0; e < k; e++) {
      const g = gap[c * k + e]!;
      // Coincident centroids count as infinitely far apart, as in scikit-learn.
      if (g === 0) continue;
      const r = (intra[c]! + intra[e]!) / g;
      if (r > worst) worst = r;
    }
    total += worst;
  }
  return total / k;
}

/** Variance ratio criterion; higher is better. 1 when all rows are identical. */
export function calinskiHarabasz(data: Float64Array, n: number, d: number, labels: Labels): number {
  assertMatrix(data, n, d);
  const enc = encodeLabels(labels, n);
  assertLabelCount(enc.k, n);
  const { k, codes, counts } = enc;
  const means = clusterMeans(data, n, d, enc);

  const mean = new Float64Array(d);
  for (let i = 0, base = 0; i < n; i++, base += d) {
    for (let t = 0; t < d; t++) mean[t] = mean[t]! + data[base + t]!;
  }
  for (let t = 0; t < d; t++) mean[t] = mean[t]! / n;

  let extra = 0;
  for (let c = 0; c < k; c++) extra += counts[c]! * sqDist(means, c * d, mean, 0, d);
  let intra = 0;
  for (let i = 0, base = 0; i < n; i++, base += d) intra += sqDist(data, base, means, codes[i]! * d, d);

  return intra === 0 ? 1 : (extra * (n - k)) / (intra * (k - 1));
}

/** Rand index adjusted for chance: 1 for identical partitions, ~0 for random ones. */
export function adjustedRandIndex(a: Labels, b: Labels): number {
  const { tn, fp, fn, tp } = pairConfusion(a, b);
  if (fn === 0 && fp === 0) return 1;
  // The products reach n⁴, past 2^53, so they are formed exactly in BigInt and
  // rounded once, as scikit-learn does with Python integers.
  const [TN, FP, FN, TP] = [BigInt(tn), BigInt(fp), BigInt(fn), BigInt(tp)];
  const num = TP * TN - FN * FP;
  const den = (TP + FN) * (FN + TN) + (TP + FP) * (FP + TN);
  return (2 * Number(num)) / Number(den);
}

/** Fraction of sample pairs on which the two partitions agree. */
export function randIndex(a: Labels, b: Labels): number {
  const { tn, fp, fn, tp } = pairConfusion(a, b);
  const agree = tn + tp;
  const all = tn + fp + fn + tp;
  // No pairs, or no disagreement: scikit-learn calls both a perfect match.
  if (agree === all || all === 0) return 1;
  return agree / all;
}

// ---------------------------------------------------------------------------

const ALLCLOSE_ATOL = 1e-8;

/** Pair counts stay exact in doubles while n² < 2^53. */
const MAX_PAIR_ROWS = 94_906_265;

interface Encoded {
  /** Label of each row mapped to 0..k-1, ascending in the original values. */
  codes: Int32Array;
  k: number;
  counts: Float64Array;
}

function encodeLabels(labels: Labels, n: number, what = 'labels'): Encoded {
  if (!isLabelContainer(labels)) {
    throw new MlInputError(`${what} must be an Int32Array or an array of integers`);
  }
  if (labels.length !== n) throw new MlInputError(`${what} has ${labels.length} entries, expected ${n}`);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = labels[i]!;
    if (!Number.isSafeInteger(v)) throw new MlInputError(`${what}[${i}] must be an integer, got ${String(v)}`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const codes = new Int32Array(n);
  if (n === 0) return { codes, k: 0, counts: new Float64Array(0) };

  let k = 0;
  const span = max - min + 1;
  if (span <= 2 * n + 1024) {
    // Dense lookup table: one pass, no hashing, and ascending order for free.
    const table = new Int32Array(span).fill(-1);
    for (let i = 0; i < n; i++) table[labels[i]! - min] = 0;
    for (let s = 0; s < span; s++) if (table[s] === 0) table[s] = ++k;
    for (let i = 0; i < n; i++) codes[i] = table[labels[i]! - min]! - 1;
  } else {
    const distinct = Array.from(new Set(labels)).sort((x, y) => x - y);
    const index = new Map<number, number>();
    for (const v of distinct) index.set(v, k++);
    for (let i = 0; i < n; i++) codes[i] = index.get(labels[i]!)!;
  }
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) counts[codes[i]!] = counts[codes[i]!]! + 1;
  return { codes, k, counts };
}

/** Takes `unknown` so that a passing check does not narrow readonly number[] to any[]. */
function isLabelContainer(x: unknown): boolean {
  return x instanceof Int32Array || Array.isArray(x);
}

function assertLabelCount(k: number, n: number): void {
  if (k < 2 || k > n - 1) {
    throw new MlInputError(`number of labels is ${k}; valid values are 2 to n_samples - 1 (${Math.max(n - 1, 0)}) inclusive`);
  }
}

/**
 * Silhouette of the rows `rows` of `data` (all rows when undefined), labelled
 * by `enc`. Each distance is computed once, not twice: rows are copied into
 * cluster order, and for each pair of clusters (c, e) one pass over the c×e
 * block completes both the sum from every row of c to e and from every row of
 * e to c. Those sums are folded into a (own cluster) or b (nearest other) as
 * soon as a block ends, so nothing n×k or n×n is ever held: extra memory is
 * the sorted copy plus O(n + k).
 */
function silhouetteCore(data: Float64Array, d: number, rows: Int32Array | undefined, enc: Encoded, kernel: SilhouetteOptions['kernel']): Float64Array {
  const { codes, k, counts } = enc;
  const m = codes.length;
  const start = new Int32Array(k + 1);
  for (let c = 0; c < k; c++) start[c + 1] = start[c]! + counts[c]!;
  const next = start.slice(0, k);
  const order = new Int32Array(m);
  for (let s = 0; s < m; s++) order[next[codes[s]!]!++] = s;
  const rowsKernel = distanceRows(m, d, kernel);
  const { x, acc } = rowsKernel;
  for (let p = 0; p < m; p++) {
    const r = rows ? rows[order[p]!]! : order[p]!;
    x.set(data.subarray(r * d, r * d + d), p * d);
  }
  rowsKernel.ready();

  const a = new Float64Array(m);
  const b = new Float64Array(m).fill(Infinity);
  for (let c = 0; c < k; c++) {
    const c0 = start[c]!;
    const c1 = start[c + 1]!;
    for (let e = c; e < k; e++) {
      const e0 = start[e]!;
      const e1 = start[e + 1]!;
      acc.fill(0, c0, c1);
      acc.fill(0, e0, e1);
      for (let i = c0; i < c1; i++) {
        const j0 = e === c ? i + 1 : e0;
        acc[i] = acc[i]! + rowsKernel.row(i, j0, e1);
      }
      if (e === c) {
        for (let i = c0; i < c1; i++) a[i] = acc[i]!;
      } else {
        foldNearest(acc, b, c0, c1, counts[e]!);
        foldNearest(acc, b, e0, e1, counts[c]!);
      }
    }
  }

  const out = new Float64Array(m);
  for (let c = 0; c < k; c++) {
    const size = counts[c]!;
    if (size <= 1) continue;
    for (let p = start[c]!; p < start[c + 1]!; p++) {
      const ai = a[p]! / (size - 1);
      const bi = b[p]!;
      const denom = Math.max(ai, bi);
      // a = b = 0 (duplicates split across clusters) is 0/0; scikit-learn maps it to 0.
      out[order[p]!] = denom > 0 ? (bi - ai) / denom : 0;
    }
  }
  return out;
}

interface DistanceRows {
  /** m × d, row-major: the caller fills it, then calls `ready`. */
  x: Float64Array;
  acc: Float64Array;
  ready(): void;
  /** Distances from row i to rows [j0, j1): their sum, each also added to acc[j]. */
  row(i: number, j0: number, j1: number): number;
}

/** The silhouette's distance rows in WebAssembly memory, or in JavaScript. */
function distanceRows(m: number, d: number, kernel: SilhouetteOptions['kernel']): DistanceRows {
  if (kernel !== 'js') {
    const { offsets, end } = layout(0, [m * d * 8, m * d * 8, m * 8]);
    // The arena's earlier contents are no one's: every call lays out its own.
    const wasm = mlArena(end);
    if (wasm !== undefined) {
      const [xOff, xTOff, accOff] = offsets as [number, number, number];
      const { buffer } = wasm.memory;
      const x = new Float64Array(buffer, xOff, m * d);
      const xT = new Float64Array(buffer, xTOff, m * d);
      const { silhouetteRow } = wasm.exports;
      return {
        x,
        acc: new Float64Array(buffer, accOff, m),
        // Column-major too: the kernel reads four rows' column t at once.
        ready() {
          for (let p = 0; p < m; p++) for (let t = 0; t < d; t++) xT[t * m + p] = x[p * d + t]!;
        },
        row: (i, j0, j1) => silhouetteRow(xOff + i * d * 8, xTOff, m, d, j0, j1, accOff),
      };
    }
    if (kernel === 'wasm') throw new MlInputError("kernel 'wasm' is not available here: this runtime lacks WebAssembly SIMD or shared memory, or the rows are over 4 GiB");
  }
  const x = new Float64Array(m * d);
  const acc = new Float64Array(m);
  return { x, acc, ready() {}, row: (i, j0, j1) => blockRow(x, d, i, j0, j1, acc) };
}

/** Distances from row i to rows [j0, j1): their sum, each also added to acc[j]. */
function blockRow(x: Float64Array, d: number, i: number, j0: number, j1: number, acc: Float64Array): number {
  const ib = i * d;
  let sum = 0;
  for (let j = j0, jb = j0 * d; j < j1; j++, jb += d) {
    let s = 0;
    for (let t = 0; t < d; t++) {
      const diff = x[ib + t]! - x[jb + t]!;
      s += diff * diff;
    }
    const dist = Math.sqrt(s);
    sum += dist;
    acc[j] = acc[j]! + dist;
  }
  return sum;
}

function foldNearest(acc: Float64Array, b: Float64Array, p0: number, p1: number, size: number): void {
  for (let p = p0; p < p1; p++) {
    const mean = acc[p]! / size;
    if (mean < b[p]!) b[p] = mean;
  }
}

function clusterMeans(data: Float64Array, n: number, d: number, enc: Encoded): Float64Array {
  const { codes, k, counts } = enc;
  const means = new Float64Array(k * d);
  for (let i = 0, base = 0; i < n; i++, base += d) {
    const o = codes[i]! * d;
    for (let t = 0; t < d; t++) means[o + t] = means[o + t]! + data[base + t]!;
  }
  for (let c = 0; c < k; c++) {
    for (let t = 0; t < d; t++) means[c * d + t] = means[c * d + t]! / counts[c]!;
  }
  return means;
}

interface PairCounts {
  tn: number;
  fp: number;
  fn: number;
  tp: number;
}

/**
 * scikit-learn's pair_confusion_matrix: ordered pairs of distinct samples,
 * split by whether each partition puts them together. Built from the
 * contingency table, so O(n + cells), never O(n²).
 */
function pairConfusion(a: Labels, b: Labels): PairCounts {
  if (a.length !== b.length) {
    throw new MlInputError(`label arrays differ in length: ${a.length} vs ${b.length}`);
  }
  const n = a.length;
  if (n > MAX_PAIR_ROWS) throw new MlInputError(`at most ${MAX_PAIR_ROWS} labels are supported, got ${n}`);
  const ea = encodeLabels(a, n, 'labels a');
  const eb = encodeLabels(b, n, 'labels b');

  const cells = new Map<number, number>();
  const dense = ea.k * eb.k <= 4 * n + 1024 ? new Float64Array(ea.k * eb.k) : undefined;
  for (let i = 0; i < n; i++) {
    const key = ea.codes[i]! * eb.k + eb.codes[i]!;
    if (dense) dense[key] = dense[key]! + 1;
    else cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  let sumSquares = 0;
  // Σ cell × size of its b-cluster (resp. a-cluster): ordered pairs together in b (in a).
  let togetherB = 0;
  let togetherA = 0;
  const visit = (key: number, v: number): void => {
    sumSquares += v * v;
    togetherB += v * eb.counts[key % eb.k]!;
    togetherA += v * ea.counts[Math.floor(key / eb.k)]!;
  };
  if (dense) {
    for (let key = 0; key < dense.length; key++) if (dense[key]! > 0) visit(key, dense[key]!);
  } else {
    for (const [key, v] of cells) visit(key, v);
  }
  const tp = sumSquares - n;
  const fp = togetherB - sumSquares;
  const fn = togetherA - sumSquares;
  return { tn: n * n - fp - fn - sumSquares, fp, fn, tp };
}

