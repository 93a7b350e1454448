/**
 * Agglomerative (hierarchical) clustering with Ward, average or complete
 * linkage, following scipy's `linkage` (and so scikit-learn's
 * AgglomerativeClustering): the same merge heights, the same linkage-matrix
 * layout, the same tree (merges at exactly equal heights may come in another
 * order, as Ward's two formulas round differently).
 *
 * The merges come from the nearest-neighbour chain algorithm (Murtagh 1983;
 * Müllner 2011), O(n²) time for these reducible linkages:
 * - Ward needs no distance matrix: the distance between clusters A and B is
 *   sqrt(2·|A|·|B| / (|A| + |B|))·‖mean A − mean B‖ — the value scipy's
 *   Lance-Williams update produces — so only centroids and sizes are kept,
 *   O(n·d) memory (a copy of the rows); candidates are abandoned as soon as
 *   their partial distance exceeds the best so far.
 * - Average and complete linkage keep the condensed distance matrix
 *   (n(n−1)/2 doubles, 100 MB at 5,000 rows) updated by Lance-Williams.
 * Merges are then sorted by height (stably, as scipy does) and numbered like
 * scipy: leaves are 0..n−1, row i of the linkage matrix creates cluster n+i.
 *
 * Above `maxSamples` rows the tree is built on a seeded sample and every other
 * row joins the nearest centroid of the clusters cut from it.
 */
import { MlInputError, assertInt, assertMatrix } from './errors.js';
import { float64Field, jsonHeader, numberField } from './json.js';
import { createRng, sampleIndices } from './random.js';

export type Linkage = 'ward' | 'average' | 'complete';

export interface HierarchicalOptions {
  linkage: Linkage;
  /**
   * Build the tree on at most this many rows (a seeded sample when n is
   * larger). Undefined means `hierarchicalMaxSamples[linkage]`.
   */
  maxSamples: number | undefined;
  /** Seed for the sample. */
  seed: number;
}

export const hierarchicalDefaults: Readonly<HierarchicalOptions> = Object.freeze({
  linkage: 'ward',
  maxSamples: undefined,
  seed: 42,
});

/**
 * Default row caps: Ward's memory is O(n·d), so its cap is about time (about
 * 2 s for 10,000 × 12 here); average and complete hold n(n−1)/2 doubles
 * (100 MB at 5,000 rows, about 1 s).
 */
export const hierarchicalMaxSamples: Readonly<Record<Linkage, number>> = Object.freeze({
  ward: 10000,
  average: 5000,
  complete: 5000,
});

/** A merge tree over `sample.length` leaves, reusable for any number of clusters. */
export interface HierarchicalTree {
  linkage: Linkage;
  d: number;
  /** Rows of the data the leaves are, ascending; all rows unless sampled. */
  sample: Int32Array;
  /**
   * (m−1)×4 row-major, m = sample.length, scipy's linkage matrix: cluster a,
   * cluster b (a < b), merge height, size of the new cluster. Ids < m are
   * leaves (leaf i is row sample[i]); row i creates cluster m + i. Heights
   * never decrease.
   */
  merges: Float64Array;
}

export interface HierarchicalModel extends HierarchicalTree {
  kind: 'hierarchical';
  /** Clusters, numbered by first appearance in row order. */
  k: number;
  /** k×d: the mean of each cluster's tree rows; what other rows are assigned by. */
  centroids: Float64Array;
  /** Cluster of every row of the data the model was fitted on. */
  labels: Int32Array;
}

export interface HierarchicalPrediction {
  labels: Int32Array;
  /** Euclidean distance to the nearest centroid. */
  distances: Float64Array;
}

export interface HierarchicalJSON {
  kind: 'hierarchical';
  version: 1;
  linkage: Linkage;
  k: number;
  d: number;
  centroids: number[];
  /** The merge tree (linkage matrix, row-major) for the dendrogram. */
  merges: number[];
}

/** What prediction needs: the JSON form, loaded. */
export interface HierarchicalCentroids {
  kind: 'hierarchical';
  linkage: Linkage;
  k: number;
  d: number;
  centroids: Float64Array;
  merges: Float64Array;
}

/**
 * Builds the tree and cuts it into k clusters. Throws `MlInputError` for a bad
 * shape, a non-finite value, k outside [1, rows the tree is built on] or a
 * bad option.
 */
export function hierarchical(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  opts: Partial<HierarchicalOptions> = {},
): HierarchicalModel {
  return cutTree(hierarchicalTree(data, n, d, opts), data, n, k);
}

/** The merge tree of the n rows of `data` (n×d, row-major), on a sample above maxSamples. */
export function hierarchicalTree(
  data: Float64Array,
  n: number,
  d: number,
  opts: Partial<HierarchicalOptions> = {},
): HierarchicalTree {
  assertMatrix(data, n, d);
  if (n === 0) throw new MlInputError('hierarchical clustering needs at least one row');
  const o = resolveOptions(opts);
  const cap = o.maxSamples ?? hierarchicalMaxSamples[o.linkage];
  let sample: Int32Array;
  let rows = data;
  if (n > cap) {
    sample = sampleIndices(n, cap, createRng(o.seed)).sort();
    rows = new Float64Array(cap * d);
    for (let s = 0; s < cap; s++) rows.set(data.subarray(sample[s]! * d, sample[s]! * d + d), s * d);
  } else {
    sample = new Int32Array(n);
    for (let i = 0; i < n; i++) sample[i] = i;
  }
  return { linkage: o.linkage, d, sample, merges: linkageMatrix(rows, sample.length, d, o.linkage) };
}

/**
 * Cuts `tree` (built from these n rows of `data`) into k clusters: undoing
 * its last k−1 merges. Rows outside the tree's sample join the nearest
 * cluster centroid.
 */
export function cutTree(tree: HierarchicalTree, data: Float64Array, n: number, k: number): HierarchicalModel {
  const { d, sample, merges, linkage } = tree;
  assertMatrix(data, n, d);
  const m = sample.length;
  assertMatrix(merges, Math.max(0, m - 1), 4, 'tree.merges');
  assertInt('k', k, 1, m);
  const leafLabels = cutLabels(merges, m, k);

  const centroids = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let s = 0; s < m; s++) {
    const c = leafLabels[s]!;
    const base = sample[s]! * d;
    if (base + d > data.length) throw new MlInputError(`tree sample row ${sample[s]} is outside the data`);
    counts[c] = counts[c]! + 1;
    for (let t = 0; t < d; t++) centroids[c * d + t] = centroids[c * d + t]! + data[base + t]!;
  }
  for (let c = 0; c < k; c++) for (let t = 0; t < d; t++) centroids[c * d + t] = centroids[c * d + t]! / counts[c]!;

  let labels: Int32Array;
  if (m === n) {
    labels = leafLabels;
  } else {
    labels = nearestCentroid(centroids, k, d, data, n).labels;
    for (let s = 0; s < m; s++) labels[sample[s]!] = leafLabels[s]!;
  }
  return { kind: 'hierarchical', linkage, d, sample, merges, k, centroids, labels };
}

/**
 * Cluster of each of the m leaves when the linkage matrix is cut into k
 * clusters (its first m−k merges kept), numbered by first appearance.
 */
export function cutLabels(merges: Float64Array, m: number, k: number): Int32Array {
  assertInt('m', m, 1);
  assertInt('k', k, 1, m);
  assertMatrix(merges, m - 1, 4, 'merges');
  const parent = new Int32Array(2 * m - 1);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (let i = 0; i < m - k; i++) {
    const a = merges[i * 4]!;
    const b = merges[i * 4 + 1]!;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a >= m + i || b >= m + i) {
      throw new MlInputError(`merges row ${i} joins clusters ${a} and ${b}, which do not exist yet`);
    }
    parent[find(a)] = m + i;
    parent[find(b)] = m + i;
  }
  const labels = new Int32Array(m);
  const code = new Map<number, number>();
  for (let s = 0; s < m; s++) {
    const root = find(s);
    let c = code.get(root);
    if (c === undefined) {
      c = code.size;
      code.set(root, c);
    }
    labels[s] = c;
  }
  return labels;
}

/**
 * scipy's linkage matrix ((n−1)×4, row-major) of the n rows of `data`: the
 * same as `scipy.cluster.hierarchy.linkage(X, method)` up to the order of
 * merges at exactly equal heights and rounding in the last bits.
 */
export function linkageMatrix(data: Float64Array, n: number, d: number, linkage: Linkage = 'ward'): Float64Array {
  assertMatrix(data, n, d);
  assertInt('n', n, 1);
  assertLinkage(linkage);
  const raw = linkage === 'ward' ? nnChainWard(data, n, d) : nnChainMatrix(data, n, d, linkage);
  return relabel(raw, n);
}

/** Nearest centroid of each of the n rows of `data` (n × model.d). */
export function predict(model: HierarchicalCentroids, data: Float64Array, n: number): HierarchicalPrediction {
  assertCentroids(model);
  assertMatrix(data, n, model.d);
  return nearestCentroid(model.centroids, model.k, model.d, data, n);
}

export function toJSON(model: HierarchicalCentroids): HierarchicalJSON {
  assertCentroids(model);
  return {
    kind: 'hierarchical',
    version: 1,
    linkage: model.linkage,
    k: model.k,
    d: model.d,
    centroids: Array.from(model.centroids),
    merges: Array.from(model.merges),
  };
}

/**
 * Accepts the parsed output of `toJSON` (typed arrays also pass); anything
 * else is an `MlInputError`.
 */
export function fromJSON(json: unknown): HierarchicalCentroids {
  const j = jsonHeader(json, 'hierarchical', 'hierarchical');
  const model: HierarchicalCentroids = {
    kind: 'hierarchical',
    linkage: j.linkage as Linkage,
    k: numberField(j, 'k', 'hierarchical'),
    d: numberField(j, 'd', 'hierarchical'),
    centroids: float64Field(j.centroids, 'hierarchical JSON centroids'),
    merges: float64Field(j.merges, 'hierarchical JSON merges'),
  };
  assertCentroids(model);
  return model;
}

// ---------------------------------------------------------------------------

/**
 * NN-chain for Ward on centroids. Output rows (in merge order, unsorted): slot
 * x, slot y (x < y), height, size; the merged cluster lives on in slot y.
 * Slot s always holds the cluster containing leaf s, which `relabel` uses.
 */
function nnChainWard(data: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(Math.max(0, n - 1) * 4);
  if (n < 2) return out;
  const cent = data.slice();
  const size = new Float64Array(n).fill(1);
  const active = new Int32Array(n);
  for (let i = 0; i < n; i++) active[i] = i;
  let m = n;
  const chain = new Int32Array(n);
  let len = 0;

  for (let step = 0; step < n - 1; step++) {
    if (len === 0) chain[len++] = active[0]!;
    let x: number;
    let y: number;
    let best: number;
    for (;;) {
      x = chain[len - 1]!;
      const xb = x * d;
      const nx = size[x]!;
      if (len >= 2) {
        y = chain[len - 2]!;
        const ny = size[y]!;
        // Summed exactly as in the scan below, so y ties with itself there.
        best = ((nx * ny) / (nx + ny)) * sqDistBounded(cent, xb, y * d, d, Infinity);
      } else {
        y = -1;
        best = Infinity;
      }
      for (let a = 0; a < m; a++) {
        const c = active[a]!;
        if (c === x) continue;
        const nc = size[c]!;
        const w = (nx * nc) / (nx + nc);
        // Stop summing once this candidate clearly cannot win; the slack
        // leaves the decision at rounding level to the exact test below.
        const limit = (best / w) * (1 + 1e-12);
        const s = sqDistBounded(cent, xb, c * d, d, limit);
        if (s < limit) {
          const v = w * s;
          if (v < best) {
            best = v;
            y = c;
          }
        }
      }
      if (len >= 2 && y === chain[len - 2]) break;
      chain[len++] = y;
    }
    len -= 2;
    if (x > y) {
      const tmp = x;
      x = y;
      y = tmp;
    }
    const nx = size[x]!;
    const ny = size[y]!;
    const nz = nx + ny;
    for (let t = 0; t < d; t++) cent[y * d + t] = (nx * cent[x * d + t]! + ny * cent[y * d + t]!) / nz;
    size[y] = nz;
    size[x] = 0;
    removeActive(active, m--, x);
    out[step * 4] = x;
    out[step * 4 + 1] = y;
    out[step * 4 + 2] = Math.sqrt(2 * best);
    out[step * 4 + 3] = nz;
  }
  return out;
}

/** NN-chain on the condensed distance matrix, Lance-Williams updates. */
function nnChainMatrix(data: Float64Array, n: number, d: number, linkage: 'average' | 'complete'): Float64Array {
  const out = new Float64Array(Math.max(0, n - 1) * 4);
  if (n < 2) return out;
  const pairs = (n * (n - 1)) / 2;
  let dist: Float64Array;
  try {
    dist = new Float64Array(pairs);
  } catch {
    throw new MlInputError(`${linkage} linkage on ${n} rows needs ${pairs} distances; lower maxSamples`);
  }
  // Row i's entries (j > i) start at rowStart(i) + j.
  const rowStart = (i: number): number => n * i - (i * (i + 1)) / 2 - i - 1;
  for (let i = 0, p = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) dist[p++] = Math.sqrt(sqDist(data, i * d, data, j * d, d));
  }
  const size = new Float64Array(n).fill(1);
  const active = new Int32Array(n);
  for (let i = 0; i < n; i++) active[i] = i;
  let m = n;
  const chain = new Int32Array(n);
  let len = 0;
  const average = linkage === 'average';

  for (let step = 0; step < n - 1; step++) {
    if (len === 0) chain[len++] = active[0]!;
    let x: number;
    let y: number;
    let best: number;
    for (;;) {
      x = chain[len - 1]!;
      if (len >= 2) {
        y = chain[len - 2]!;
        best = dist[x < y ? rowStart(x) + y : rowStart(y) + x]!;
      } else {
        y = -1;
        best = Infinity;
      }
      // Active ids ascend: those below x are in x's column, the rest in its row.
      let a = 0;
      for (; a < m; a++) {
        const c = active[a]!;
        if (c >= x) break;
        const v = dist[rowStart(c) + x]!;
        if (v < best) {
          best = v;
          y = c;
        }
      }
      const xs = rowStart(x);
      for (a++; a < m; a++) {
        const c = active[a]!;
        const v = dist[xs + c]!;
        if (v < best) {
          best = v;
          y = c;
        }
      }
      if (len >= 2 && y === chain[len - 2]) break;
      chain[len++] = y;
    }
    len -= 2;
    if (x > y) {
      const tmp = x;
      x = y;
      y = tmp;
    }
    const nx = size[x]!;
    const ny = size[y]!;
    const nz = nx + ny;
    removeActive(active, m--, x);
    const xs = rowStart(x);
    const ys = rowStart(y);
    for (let a = 0; a < m; a++) {
      const c = active[a]!;
      if (c === y) continue;
      const cs = rowStart(c);
      const ix = c < x ? cs + x : xs + c;
      const iy = c < y ? cs + y : ys + c;
      const dx = dist[ix]!;
      const dy = dist[iy]!;
      // scipy's Lance-Williams forms.
      dist[iy] = average ? (nx * dx + ny * dy) / nz : dx > dy ? dx : dy;
    }
    size[y] = nz;
    size[x] = 0;
    out[step * 4] = x;
    out[step * 4 + 1] = y;
    out[step * 4 + 2] = best;
    out[step * 4 + 3] = nz;
  }
  return out;
}

/** Drops `x` from the ascending list active[0, m), keeping the order. */
function removeActive(active: Int32Array, m: number, x: number): void {
  let lo = 0;
  let hi = m - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (active[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  active.copyWithin(lo, lo + 1, m);
}

/**
 * scipy's `label` step: merges in NN-chain order (slot pairs) become a linkage
 * matrix sorted by height (stable), with cluster ids n + row. A height is
 * first raised to its children's, so 1-ulp rounding can never put a merge
 * before the merges that formed its clusters.
 */
function relabel(raw: Float64Array, n: number): Float64Array {
  const rows = n - 1;
  const top = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const x = raw[r * 4]!;
    const y = raw[r * 4 + 1]!;
    const h = Math.max(raw[r * 4 + 2]!, top[x]!, top[y]!);
    raw[r * 4 + 2] = h;
    top[y] = h;
  }
  const order = Array.from({ length: rows }, (_, r) => r).sort((a, b) => raw[a * 4 + 2]! - raw[b * 4 + 2]! || a - b);
  const parent = new Int32Array(2 * n - 1);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  const out = new Float64Array(rows * 4);
  order.forEach((r, i) => {
    const a = find(raw[r * 4]!);
    const b = find(raw[r * 4 + 1]!);
    out[i * 4] = Math.min(a, b);
    out[i * 4 + 1] = Math.max(a, b);
    out[i * 4 + 2] = raw[r * 4 + 2]!;
    out[i * 4 + 3] = raw[r * 4 + 3]!;
    parent[a] = n + i;
    parent[b] = n + i;
  });
  return out;
}

function nearestCentroid(centroids: Float64Array, k: number, d: number, data: Float64Array, n: number): HierarchicalPrediction {
  const labels = new Int32Array(n);
  const distances = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    let bc = 0;
    for (let c = 0; c < k; c++) {
      const s = sqDist(data, i * d, centroids, c * d, d);
      if (s < best) {
        best = s;
        bc = c;
      }
    }
    labels[i] = bc;
    distances[i] = Math.sqrt(best);
  }
  return { labels, distances };
}

/**
 * Squared distance between rows at offsets `ao` and `bo` of `a`, summed four
 * coordinates at a time; stops early (returning a partial sum >= limit) once
 * the sum reaches `limit`.
 */
function sqDistBounded(a: Float64Array, ao: number, bo: number, d: number, limit: number): number {
  let s = 0;
  let t = 0;
  for (; t + 4 <= d && s < limit; t += 4) {
    const g0 = a[ao + t]! - a[bo + t]!;
    const g1 = a[ao + t + 1]! - a[bo + t + 1]!;
    const g2 = a[ao + t + 2]! - a[bo + t + 2]!;
    const g3 = a[ao + t + 3]! - a[bo + t + 3]!;
    s += g0 * g0 + g1 * g1 + g2 * g2 + g3 * g3;
  }
  for (; t < d && s < limit; t++) {
    const g = a[ao + t]! - a[bo + t]!;
    s += g * g;
  }
  return s;
}

function sqDist(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const g = a[ao + t]! - b[bo + t]!;
    s += g * g;
  }
  return s;
}

function assertLinkage(linkage: unknown): asserts linkage is Linkage {
  if (linkage !== 'ward' && linkage !== 'average' && linkage !== 'complete') {
    throw new MlInputError(`linkage must be 'ward', 'average' or 'complete', got ${String(linkage)}`);
  }
}

function resolveOptions(opts: Partial<HierarchicalOptions>): HierarchicalOptions {
  if (typeof opts !== 'object' || opts === null) throw new MlInputError('hierarchical options must be an object');
  const o: HierarchicalOptions = {
    linkage: opts.linkage ?? hierarchicalDefaults.linkage,
    maxSamples: opts.maxSamples ?? hierarchicalDefaults.maxSamples,
    seed: opts.seed ?? hierarchicalDefaults.seed,
  };
  assertLinkage(o.linkage);
  if (o.maxSamples !== undefined) assertInt('maxSamples', o.maxSamples, 1);
  assertInt('seed', o.seed, Number.MIN_SAFE_INTEGER);
  return o;
}

function assertCentroids(model: HierarchicalCentroids): void {
  if (typeof model !== 'object' || model === null) throw new MlInputError('hierarchical model must be an object');
  assertLinkage(model.linkage);
  assertInt('model.k', model.k, 1);
  assertInt('model.d', model.d, 1);
  assertMatrix(model.centroids, model.k, model.d, 'model.centroids');
  if (!(model.merges instanceof Float64Array) || model.merges.length % 4 !== 0) {
    throw new MlInputError('model.merges must be a Float64Array of rows of 4');
  }
}
