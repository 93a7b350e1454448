/**
 * Spatial indexes over the rows of a row-major Float64Array, for the
 * neighbourhood queries DBSCAN and nearest-point assignment need without
 * comparing all pairs: a k-d tree for any dimension, and a uniform grid for
 * fixed-radius queries in 1 to 3 dimensions.
 *
 * Distances are squared Euclidean and a point at exactly the radius counts as
 * inside (`<=`), as in scikit-learn's radius queries. Indices returned are the
 * caller's row numbers; the indexes copy the rows, so later changes to the
 * caller's array do not affect them.
 */
import { MlInputError, assertInt, assertMatrix } from './errors.js';

export interface RadiusIndex {
  readonly n: number;
  readonly d: number;
  /**
   * Writes to `out` (length >= n) the rows within squared distance `r2` of the
   * point `q[qo .. qo + d)`, in no particular order; returns how many.
   */
  within(q: Float64Array, qo: number, r2: number, out: Int32Array): number;
  /** min(limit, rows within squared distance `r2`): counting stops at `limit`. */
  countWithin(q: Float64Array, qo: number, r2: number, limit: number): number;
  /**
   * Like `within`, but leaves out rows passed to `mark`; regions holding only
   * marked rows are skipped whole. For sweeps that visit each row once.
   */
  withinUnmarked(q: Float64Array, qo: number, r2: number, out: Int32Array): number;
  /** Removes `row` from what `withinUnmarked` reports, for good. */
  mark(row: number): void;
}

export interface KdTree extends RadiusIndex {
  /**
   * The min(k, n) rows nearest to `q[qo .. qo + d)`, nearest first, into
   * `outIndex` and their squared distances into `outSq`; returns how many.
   * Equal distances are ordered by row number.
   */
  nearest(q: Float64Array, qo: number, k: number, outIndex: Int32Array, outSq: Float64Array): number;
}

/** Points per leaf: below this a scan beats another level of boxes. */
const LEAF_SIZE = 16;

/**
 * A k-d tree over the n rows of `data` (n×d): median splits on the widest
 * side of each node's bounding box, which every query prunes against.
 */
export function buildKdTree(data: Float64Array, n: number, d: number): KdTree {
  assertMatrix(data, n, d);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const cap = 4 * Math.ceil(n / LEAF_SIZE) + 8;
  const start = new Int32Array(cap);
  const end = new Int32Array(cap);
  const left = new Int32Array(cap).fill(-1);
  const right = new Int32Array(cap).fill(-1);
  const parent = new Int32Array(cap).fill(-1);
  const bmin = new Float64Array(cap * d);
  const bmax = new Float64Array(cap * d);
  let nodes = 0;

  const stack: number[] = [];
  const newNode = (lo: number, hi: number): number => {
    const id = nodes++;
    start[id] = lo;
    end[id] = hi;
    const ob = id * d;
    for (let t = 0; t < d; t++) {
      bmin[ob + t] = Infinity;
      bmax[ob + t] = -Infinity;
    }
    for (let p = lo; p < hi; p++) {
      const base = perm[p]! * d;
      for (let t = 0; t < d; t++) {
        const v = data[base + t]!;
        if (v < bmin[ob + t]!) bmin[ob + t] = v;
        if (v > bmax[ob + t]!) bmax[ob + t] = v;
      }
    }
    stack.push(id);
    return id;
  };
  if (n > 0) newNode(0, n);
  while (stack.length > 0) {
    const id = stack.pop()!;
    const lo = start[id]!;
    const hi = end[id]!;
    if (hi - lo <= LEAF_SIZE) continue;
    let dim = 0;
    let wide = -1;
    for (let t = 0; t < d; t++) {
      const w = bmax[id * d + t]! - bmin[id * d + t]!;
      if (w > wide) {
        wide = w;
        dim = t;
      }
    }
    // All points equal: nothing to split, the node stays a (large) leaf.
    if (wide <= 0) continue;
    const mid = (lo + hi) >>> 1;
    quickselect(perm, data, d, dim, lo, hi, mid);
    left[id] = newNode(lo, mid);
    right[id] = newNode(mid, hi);
    parent[left[id]!] = id;
    parent[right[id]!] = id;
  }

  const pts = new Float64Array(n * d);
  for (let p = 0; p < n; p++) pts.set(data.subarray(perm[p]! * d, perm[p]! * d + d), p * d);
  const work = new Int32Array(Math.max(64, 2 * Math.ceil(Math.log2(n + 2)) + 8) * 2);

  // Marking state, built on first use: unmarked rows left under each node.
  let remaining: Int32Array | undefined;
  let marked: Uint8Array | undefined;
  let leafOf: Int32Array | undefined;
  let posOf: Int32Array | undefined;
  const initMarks = (): void => {
    remaining = new Int32Array(nodes);
    for (let id = 0; id < nodes; id++) remaining[id] = end[id]! - start[id]!;
    marked = new Uint8Array(n);
    leafOf = new Int32Array(n);
    posOf = new Int32Array(n);
    for (let id = 0; id < nodes; id++) {
      if (left[id]! >= 0) continue;
      for (let p = start[id]!; p < end[id]!; p++) leafOf[p] = id;
    }
    for (let p = 0; p < n; p++) posOf[perm[p]!] = p;
  };

  /**
   * Squared distance from q to node's box (0 inside). With `stop`, it may end early once the
   * sum passes stop, returning that partial sum: enough to say the box is out of a radius.
   */
  const boxMin = (id: number, q: Float64Array, qo: number, stop = Infinity): number => {
    let s = 0;
    const ob = id * d;
    for (let t = 0; t < d; t++) {
      const v = q[qo + t]!;
      const lo = bmin[ob + t]!;
      const hi = bmax[ob + t]!;
      const g = v < lo ? lo - v : v > hi ? v - hi : 0;
      s += g * g;
      if (s > stop) return s;
    }
    return s;
  };
  const boxOutside = (id: number, q: Float64Array, qo: number, r2: number): boolean => boxMin(id, q, qo, r2) > r2;
  // Squared diagonal of each box: a box fits in a ball of radius r only if
  // its diagonal is at most 2r, so most nodes skip the farthest-corner test.
  const diag2 = new Float64Array(nodes);
  for (let id = 0; id < nodes; id++) {
    let s = 0;
    for (let t = 0; t < d; t++) {
      const w = bmax[id * d + t]! - bmin[id * d + t]!;
      s += w * w;
    }
    diag2[id] = s;
  }
  const boxMax = (id: number, q: Float64Array, qo: number): number => {
    let s = 0;
    const ob = id * d;
    for (let t = 0; t < d; t++) {
      const v = q[qo + t]!;
      const g = Math.max(v - bmin[ob + t]!, bmax[ob + t]! - v);
      s += g * g;
    }
    return s;
  };
  const dist = (p: number, q: Float64Array, qo: number): number => {
    let s = 0;
    for (let t = 0, pb = p * d; t < d; t++) {
      const g = pts[pb + t]! - q[qo + t]!;
      s += g * g;
    }
    return s;
  };

  const scan = (q: Float64Array, qo: number, r2: number, out: Int32Array | null, limit: number): number => {
    if (n === 0) return 0;
    let count = 0;
    let sp = 0;
    work[sp++] = 0;
    while (sp > 0) {
      const id = work[--sp]!;
      if (boxOutside(id, q, qo, r2)) continue;
      const lo = start[id]!;
      const hi = end[id]!;
      if (diag2[id]! <= 4 * r2 && boxMax(id, q, qo) <= r2) {
        // The whole box is inside the ball.
        if (out === null) {
          count += hi - lo;
        } else {
          for (let p = lo; p < hi; p++) out[count++] = perm[p]!;
        }
      } else if (left[id]! < 0) {
        for (let p = lo; p < hi; p++) {
          if (dist(p, q, qo) <= r2) {
            if (out !== null) out[count] = perm[p]!;
            count++;
          }
        }
      } else {
        work[sp++] = left[id]!;
        work[sp++] = right[id]!;
      }
      if (count >= limit) return Math.min(count, limit);
    }
    return count;
  };

  const scanUnmarked = (q: Float64Array, qo: number, r2: number, out: Int32Array): number => {
    if (n === 0) return 0;
    if (remaining === undefined) initMarks();
    const rem = remaining!;
    const gone = marked!;
    let count = 0;
    let sp = 0;
    work[sp++] = 0;
    while (sp > 0) {
      const id = work[--sp]!;
      if (rem[id] === 0 || boxOutside(id, q, qo, r2)) continue;
      const lo = start[id]!;
      const hi = end[id]!;
      if (diag2[id]! <= 4 * r2 && boxMax(id, q, qo) <= r2) {
        for (let p = lo; p < hi; p++) if (gone[p] === 0) out[count++] = perm[p]!;
      } else if (left[id]! < 0) {
        for (let p = lo; p < hi; p++) if (gone[p] === 0 && dist(p, q, qo) <= r2) out[count++] = perm[p]!;
      } else {
        work[sp++] = left[id]!;
        work[sp++] = right[id]!;
      }
    }
    return count;
  };

  return {
    n,
    d,
    within(q, qo, r2, out) {
      return scan(q, qo, r2, out, Infinity);
    },
    countWithin(q, qo, r2, limit) {
      return scan(q, qo, r2, null, limit);
    },
    withinUnmarked: scanUnmarked,
    mark(row) {
      if (remaining === undefined) initMarks();
      const p = posOf![row]!;
      if (marked![p] === 1) return;
      marked![p] = 1;
      for (let id = leafOf![p]!; id >= 0; id = parent[id]!) remaining![id]!--;
    },
    nearest(q, qo, k, outIndex, outSq) {
      const m = Math.min(k, n);
      if (m <= 0) return 0;
      let have = 0;
      let sp = 0;
      work[sp++] = 0;
      while (sp > 0) {
        const id = work[--sp]!;
        if (have === m && boxMin(id, q, qo) > outSq[m - 1]!) continue;
        const l = left[id]!;
        if (l < 0) {
          for (let p = start[id]!, hi = end[id]!; p < hi; p++) {
            const s = dist(p, q, qo);
            const row = perm[p]!;
            if (have === m && !(s < outSq[m - 1]! || (s === outSq[m - 1]! && row < outIndex[m - 1]!))) continue;
            // Insertion into the sorted prefix: k is small.
            let at = have < m ? have++ : m - 1;
            while (at > 0 && (outSq[at - 1]! > s || (outSq[at - 1]! === s && outIndex[at - 1]! > row))) {
              outSq[at] = outSq[at - 1]!;
              outIndex[at] = outIndex[at - 1]!;
              at--;
            }
            outSq[at] = s;
            outIndex[at] = row;
          }
        } else {
          const r = right[id]!;
          // Nearer child popped first.
          if (boxMin(l, q, qo) <= boxMin(r, q, qo)) {
            work[sp++] = r;
            work[sp++] = l;
          } else {
            work[sp++] = l;
            work[sp++] = r;
          }
        }
      }
      return have;
    },
  };
}

/** Cells per axis at most: keeps cell coordinates exact to far below the margin. */
const MAX_CELLS_PER_AXIS = 2 ** 20;
/** Cells are this much wider than the radius, so rounding never hides a neighbour. */
const CELL_MARGIN = 1e-8;

/**
 * A uniform grid over the n rows of `data` (n×d, d in 1..3) answering radius
 * queries for radii up to `radius` by scanning the 3^d cells around the
 * query; cells are cubes a hair wider than `radius`. Only occupied cells are
 * stored. Returns undefined when the data's bounding box spans more than 2^20
 * cells on an axis or 2^52 in all (a radius tiny against the data's range);
 * use a k-d tree then.
 */
export function buildGrid(data: Float64Array, n: number, d: number, radius: number): RadiusIndex | undefined {
  assertMatrix(data, n, d);
  assertInt('grid dimension', d, 1, 3);
  if (!(radius > 0) || !Number.isFinite(radius)) throw new MlInputError(`grid radius must be > 0, got ${String(radius)}`);
  const cell = radius * (1 + CELL_MARGIN);
  const lo = new Float64Array(d).fill(Infinity);
  const hi = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) {
      const v = data[i * d + t]!;
      if (v < lo[t]!) lo[t] = v;
      if (v > hi[t]!) hi[t] = v;
    }
  }
  const dims = new Float64Array(d);
  const stride = new Float64Array(d);
  let cells = 1;
  for (let t = 0; t < d; t++) {
    dims[t] = n === 0 ? 1 : Math.floor((hi[t]! - lo[t]!) / cell) + 1;
    if (!(dims[t]! <= MAX_CELLS_PER_AXIS)) return undefined;
    stride[t] = cells;
    cells *= dims[t]!;
  }
  // Cell keys must stay exact integers in a double.
  if (!(cells <= 2 ** 52)) return undefined;

  const coord = (v: number, t: number): number => Math.floor((v - lo[t]!) / cell);
  const cellOf = new Map<number, number>();
  const countsList: number[] = [];
  const cellIds = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let key = 0;
    for (let t = 0; t < d; t++) key += coord(data[i * d + t]!, t) * stride[t]!;
    let c = cellOf.get(key);
    if (c === undefined) {
      c = countsList.length;
      cellOf.set(key, c);
      countsList.push(0);
    }
    countsList[c]!++;
    cellIds[i] = c;
  }
  const starts = new Int32Array(countsList.length + 1);
  for (let c = 0; c < countsList.length; c++) starts[c + 1] = starts[c]! + countsList[c]!;
  const fill = starts.slice(0, countsList.length);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[fill[cellIds[i]!]!++] = i;
  const pts = new Float64Array(n * d);
  for (let p = 0; p < n; p++) pts.set(data.subarray(perm[p]! * d, perm[p]! * d + d), p * d);

  // Offsets of the 3^d neighbouring cells, as coordinate deltas.
  const offsets: number[][] = [[]];
  for (let t = 0; t < d; t++) {
    const next: number[][] = [];
    for (const o of offsets) for (const delta of [-1, 0, 1]) next.push([...o, delta]);
    offsets.splice(0, offsets.length, ...next);
  }
  const qc = new Float64Array(d);
  const maxR2 = radius * radius;

  const scan = (
    q: Float64Array,
    qo: number,
    r2: number,
    out: Int32Array | null,
    limit: number,
    rem?: Int32Array,
    gone?: Uint8Array,
  ): number => {
    if (r2 > maxR2) throw new MlInputError(`query radius ${Math.sqrt(r2)} exceeds the grid's ${radius}`);
    for (let t = 0; t < d; t++) qc[t] = coord(q[qo + t]!, t);
    let count = 0;
    for (const o of offsets) {
      let key = 0;
      let inside = true;
      for (let t = 0; t < d; t++) {
        const c = qc[t]! + o[t]!;
        if (c < 0 || c >= dims[t]!) {
          inside = false;
          break;
        }
        key += c * stride[t]!;
      }
      if (!inside) continue;
      const c = cellOf.get(key);
      if (c === undefined || (rem !== undefined && rem[c] === 0)) continue;
      for (let p = starts[c]!, e = starts[c + 1]!; p < e; p++) {
        if (gone !== undefined && gone[p] === 1) continue;
        let s = 0;
        for (let t = 0, pb = p * d; t < d; t++) {
          const g = pts[pb + t]! - q[qo + t]!;
          s += g * g;
        }
        if (s <= r2) {
          if (out !== null) out[count] = perm[p]!;
          count++;
          if (count >= limit) return count;
        }
      }
    }
    return count;
  };

  let remaining: Int32Array | undefined;
  let marked: Uint8Array | undefined;
  let posOf: Int32Array | undefined;
  const initMarks = (): void => {
    remaining = Int32Array.from(countsList);
    marked = new Uint8Array(n);
    posOf = new Int32Array(n);
    for (let p = 0; p < n; p++) posOf[perm[p]!] = p;
  };

  return {
    n,
    d,
    within(q, qo, r2, out) {
      return scan(q, qo, r2, out, Infinity);
    },
    countWithin(q, qo, r2, limit) {
      return scan(q, qo, r2, null, limit);
    },
    withinUnmarked(q, qo, r2, out) {
      if (remaining === undefined) initMarks();
      return scan(q, qo, r2, out, Infinity, remaining!, marked!);
    },
    mark(row) {
      if (remaining === undefined) initMarks();
      const p = posOf![row]!;
      if (marked![p] === 1) return;
      marked![p] = 1;
      remaining![cellIds[row]!]!--;
    },
  };
}

/**
 * Reorders perm[lo, hi) so perm[k] holds the row whose coordinate `dim` is
 * the k-th smallest, smaller-or-equal ones before it and larger-or-equal after
 * (Hoare partitioning, which also splits runs of equal values evenly).
 */
function quickselect(perm: Int32Array, data: Float64Array, d: number, dim: number, lo: number, hi: number, k: number): void {
  let l = lo;
  let r = hi - 1;
  const val = (p: number): number => data[perm[p]! * d + dim]!;
  while (r > l) {
    const m = (l + r) >>> 1;
    const a = val(l);
    const b = val(m);
    const c = val(r);
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = l;
    let j = r;
    while (i <= j) {
      while (val(i) < pivot) i++;
      while (val(j) > pivot) j--;
      if (i <= j) {
        const tmp = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) r = j;
    else if (k >= i) l = i;
    else return;
  }
}
