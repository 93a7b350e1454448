import { describe, it, expect } from 'vitest';
import { dbscan, fromJSON, kDistances, kneeEps, predict, toJSON, type DBSCANOptions } from '../../src/ml/dbscan.js';
import { MlInputError } from '../../src/ml/errors.js';
import { adjustedRandIndex } from '../../src/ml/metrics.js';
import { createRng } from '../../src/ml/random.js';
import { buildGrid, buildKdTree } from '../../src/ml/spatial.js';

function euclid(x: Float64Array, d: number, i: number, q: Float64Array, qo: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) s += (x[i * d + t]! - q[qo + t]!) ** 2;
  return Math.sqrt(s);
}

/**
 * scikit-learn's DBSCAN, transcribed: all-pairs neighbourhoods (distance <=
 * eps, the point itself included), core = at least minPts neighbours, then
 * `dbscan_inner`'s stack expansion from each unlabelled core point in order.
 */
function naiveDbscan(x: Float64Array, n: number, d: number, eps: number, minPts: number) {
  const hoods = Array.from({ length: n }, (_, i) => {
    const h: number[] = [];
    for (let j = 0; j < n; j++) if (euclid(x, d, j, x, i * d) <= eps) h.push(j);
    return h;
  });
  const core = hoods.map((h) => h.length >= minPts);
  const labels = new Array<number>(n).fill(-1);
  let label = 0;
  for (let start = 0; start < n; start++) {
    if (labels[start] !== -1 || !core[start]) continue;
    const stack: number[] = [];
    let i = start;
    for (;;) {
      if (labels[i] === -1) {
        labels[i] = label;
        if (core[i]) for (const j of hoods[i]!) if (labels[j] === -1) stack.push(j);
      }
      if (stack.length === 0) break;
      i = stack.pop()!;
    }
    label++;
  }
  return { labels, core };
}

/** Blobs plus uniform background noise: border points and noise both occur. */
function noisyBlobs(n: number, d: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const noise = rng.next() < 0.15;
    const c = rng.int(4);
    for (let t = 0; t < d; t++) x[i * d + t] = noise ? rng.next() * 20 - 10 : (t === c % d ? 5 : -2) + 0.8 * rng.normal();
  }
  return x;
}

describe('DBSCAN against a naive O(n²) scikit-learn transcription', () => {
  const cases: [string, number, number, number, number, Partial<DBSCANOptions>][] = [
    ['2-D grid', 800, 2, 0.7, 5, {}],
    ['2-D k-d tree', 800, 2, 0.7, 5, { index: 'kdtree' }],
    ['1-D grid', 500, 1, 0.05, 4, {}],
    ['3-D grid', 900, 3, 1.2, 6, {}],
    ['5-D k-d tree', 900, 5, 2.2, 5, {}],
    ['2-D, minPts 1', 400, 2, 0.3, 1, {}],
    ['2-D, eps covering everything', 300, 2, 100, 5, {}],
  ];
  for (const [name, n, d, eps, minPts, opts] of cases) {
    it(`${name}: same core points and identical labels`, () => {
      const x = noisyBlobs(n, d, n + d);
      const ours = dbscan(x, n, d, { eps, minPts, ...opts });
      const ref = naiveDbscan(x, n, d, eps, minPts);
      expect(Array.from(ours.isCore, (c) => c === 1)).toEqual(ref.core);
      expect(Array.from(ours.labels)).toEqual(ref.labels);
      expect(ours.nClusters).toBe(Math.max(-1, ...ref.labels) + 1);
    });
  }

  it('counts points at exactly eps as neighbours (lattice, eps = 1)', () => {
    const side = 12;
    const x = new Float64Array(side * side * 2);
    for (let i = 0; i < side * side; i++) {
      x[i * 2] = i % side;
      x[i * 2 + 1] = Math.floor(i / side);
    }
    for (const index of ['grid', 'kdtree'] as const) {
      const ours = dbscan(x, side * side, 2, { eps: 1, minPts: 5, index });
      const ref = naiveDbscan(x, side * side, 2, 1, 5);
      expect(Array.from(ours.labels)).toEqual(ref.labels);
      // Interior points have exactly 5 neighbours within 1, themselves included.
      expect(ours.isCore[side + 1]).toBe(1);
      expect(ours.isCore[0]).toBe(0);
    }
  });

  it('gives a border point to the first cluster that reaches it', () => {
    // Two dense groups; 2.5 is within eps of a core point of each (1.5 and
    // 3.5) but has only 3 neighbours itself, so it is a border point.
    const x = Float64Array.from([0, 0.5, 1, 1.5, 2.5, 3.5, 4, 4.5, 5]);
    const model = dbscan(x, 9, 1, { eps: 1, minPts: 4 });
    expect(Array.from(model.labels)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(model.isCore)).toEqual([0, 1, 1, 1, 0, 1, 1, 1, 0]);
    // Reversing the rows numbers the right group first, and it gets the point.
    const rev = x.slice().reverse();
    expect(Array.from(dbscan(rev, 9, 1, { eps: 1, minPts: 4 }).labels)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(naiveDbscan(rev, 9, 1, 1, 4).labels)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('handles duplicate rows and all-noise data', () => {
    const x = Float64Array.from([1, 1, 1, 1, 1, 1, 9, 9]);
    expect(Array.from(dbscan(x, 4, 2, { eps: 0.5, minPts: 3 }).labels)).toEqual([0, 0, 0, -1]);
    const sparse = Float64Array.from([0, 10, 20, 30]);
    const none = dbscan(sparse, 4, 1, { eps: 1, minPts: 2 });
    expect(Array.from(none.labels)).toEqual([-1, -1, -1, -1]);
    expect(none.nClusters).toBe(0);
    expect(Array.from(predict(none, sparse, 4).labels)).toEqual([-1, -1, -1, -1]);
  });
});

describe('choosing eps from the k-distance knee', () => {
  it('k-distances equal the brute-force distance to the k-th nearest row (self included)', () => {
    const n = 300;
    const d = 3;
    const x = noisyBlobs(n, d, 3);
    const k = 5;
    const brute = Array.from({ length: n }, (_, i) => {
      const ds = Array.from({ length: n }, (_, j) => euclid(x, d, j, x, i * d)).sort((a, b) => a - b);
      return ds[k - 1]!;
    }).sort((a, b) => a - b);
    const ours = kDistances(x, n, d, k);
    expect(brute.filter((v, i) => !(Math.abs(ours[i]! - v) < 1e-12))).toEqual([]);
    // A row is core exactly when eps >= its k-distance.
    const eps = ours[150]!;
    const cores = dbscan(x, n, d, { eps, minPts: k }).isCore.reduce((a, v) => a + v, 0);
    expect(cores).toBe(ours.filter((v) => v <= eps).length);
  });

  it('the knee is the point farthest below the chord', () => {
    // Flat then steep: the knee is the last flat point.
    const curve = Float64Array.from([1, 1.1, 1.2, 1.3, 1.4, 1.5, 5, 10, 20]);
    expect(kneeEps(curve)).toBe(1.5);
    expect(kneeEps(Float64Array.from([0, 0, 0, 2]))).toBe(2);
    expect(() => kneeEps(Float64Array.from([0, 0]))).toThrow(/give eps/);
    expect(() => kneeEps(Float64Array.from([2, 1]))).toThrow(/sorted/);
  });

  it('finds the blobs among background noise when eps is not given, deterministically', () => {
    const n = 3000;
    const rng = createRng(21);
    const data = new Float64Array(n * 2);
    const truth = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      if (rng.next() < 0.02) {
        data[i * 2] = rng.next() * 30 - 15;
        data[i * 2 + 1] = rng.next() * 30 - 15;
        continue;
      }
      const c = rng.int(4);
      truth[i] = c;
      data[i * 2] = (c === 0 ? 10 : c === 2 ? -10 : 0) + rng.normal();
      data[i * 2 + 1] = (c === 1 ? 10 : c === 3 ? -10 : 0) + rng.normal();
    }
    const model = dbscan(data, n, 2, { minPts: 10 });
    expect(model.nClusters).toBe(4);
    const both = [...model.labels.keys()].filter((i) => model.labels[i]! >= 0 && truth[i]! >= 0);
    expect(both.length).toBeGreaterThan(0.9 * n);
    expect(adjustedRandIndex(both.map((i) => model.labels[i]!), both.map((i) => truth[i]!))).toBe(1);
    expect(dbscan(data, n, 2, { minPts: 10 })).toEqual(model);
    // A sample of rows for the curve moves eps (the chord ends at the largest
    // k-distance, which a sample may miss) but finds the same blobs.
    const sampled = dbscan(data, n, 2, { minPts: 10, kneeSampleSize: 1000 });
    expect(sampled.eps).not.toBe(model.eps);
    expect(sampled.nClusters).toBe(4);
    const common = both.filter((i) => sampled.labels[i]! >= 0);
    expect(common.length).toBeGreaterThan(0.85 * n);
    expect(adjustedRandIndex(common.map((i) => sampled.labels[i]!), common.map((i) => truth[i]!))).toBe(1);
  });
});

describe('DBSCAN at scale', () => {
  it('clusters 50,000 2-D points in 10 blobs through the grid', () => {
    const n = 50_000;
    const rng = createRng(4);
    const x = new Float64Array(n * 2);
    const truth = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = rng.int(10);
      truth[i] = c;
      x[i * 2] = (c % 5) * 20 + rng.normal();
      x[i * 2 + 1] = Math.floor(c / 5) * 20 + rng.normal();
    }
    const model = dbscan(x, n, 2, { eps: 0.3, minPts: 10 });
    // Ten big clusters, one per blob; sparse blob tails may leave a few
    // specks of 10-odd rows.
    const sizes = new Map<number, number>();
    for (const l of model.labels) if (l >= 0) sizes.set(l, (sizes.get(l) ?? 0) + 1);
    const big = new Set([...sizes].filter(([, size]) => size > 1000).map(([l]) => l));
    expect(big.size).toBe(10);
    const kept = [...model.labels.keys()].filter((i) => big.has(model.labels[i]!));
    expect(kept.length).toBeGreaterThan(0.97 * n);
    expect(adjustedRandIndex(kept.map((i) => model.labels[i]!), kept.map((i) => truth[i]!))).toBe(1);
  });
});

describe('DBSCAN assignment of new rows', () => {
  const n = 1000;
  const x = noisyBlobs(n, 2, 77);
  const model = dbscan(x, n, 2, { eps: 0.6, minPts: 5 });

  it('reproduces core points and noise on the training rows', () => {
    const p = predict(model, x, n);
    const bad = [...model.labels.keys()].filter((i) => {
      if (model.isCore[i] === 1) return p.labels[i] !== model.labels[i] || p.distances[i] !== 0;
      if (model.labels[i] === -1) return p.labels[i] !== -1 || !(p.distances[i]! > model.eps);
      return p.labels[i]! < 0 || !(p.distances[i]! <= model.eps);
    });
    expect(bad).toEqual([]);
    expect(model.isCore.includes(0) && model.labels.includes(-1)).toBe(true);
  });

  it('matches a brute-force nearest core point for new rows, and survives JSON', () => {
    const rng = createRng(9);
    const m = 300;
    const q = Float64Array.from({ length: m * 2 }, () => rng.next() * 20 - 10);
    const back = fromJSON(JSON.parse(JSON.stringify(toJSON(model))));
    const p = predict(back, q, m);
    const cores = model.coreLabels.length;
    const bad: number[] = [];
    for (let i = 0; i < m; i++) {
      let best = Infinity;
      let label = -1;
      for (let c = 0; c < cores; c++) {
        const dist = euclid(model.corePoints, 2, c, q, i * 2);
        if (dist < best) {
          best = dist;
          label = model.coreLabels[c]!;
        }
      }
      if (!(Math.abs(p.distances[i]! - best) < 1e-12) || p.labels[i] !== (best <= model.eps ? label : -1)) bad.push(i);
    }
    expect(bad).toEqual([]);
  });

  it('rejects bad options and malformed JSON', () => {
    expect(() => dbscan(x, n, 2, { eps: 0 })).toThrow(MlInputError);
    expect(() => dbscan(x, n, 2, { eps: -1 })).toThrow(MlInputError);
    expect(() => dbscan(x, n, 2, { minPts: 0 })).toThrow(MlInputError);
    expect(() => dbscan(x.subarray(0, 1000), 250, 4, { index: 'grid' })).toThrow(/d <= 3/);
    expect(() => dbscan(x, n, 2, { index: 'ball' as 'grid' })).toThrow(MlInputError);
    expect(() => fromJSON({ ...toJSON(model), coreLabels: [0.5] })).toThrow(MlInputError);
    expect(() => fromJSON({ ...toJSON(model), nClusters: 0 })).toThrow(/outside/);
  });
});

describe('spatial indexes', () => {
  const n = 1000;
  const nq = 30;
  for (const d of [1, 2, 3, 6]) {
    const rng = createRng(d);
    // Rounded coordinates: many exact ties and duplicates.
    const x = Float64Array.from({ length: n * d }, () => Math.round(rng.normal() * 20) / 10);
    const queries = Float64Array.from({ length: nq * d }, () => Math.round(rng.normal() * 20) / 10);

    it(`k-d tree and grid radius queries equal brute force in ${d}-D`, () => {
      const tree = buildKdTree(x, n, d);
      const grid = d <= 3 ? buildGrid(x, n, d, 0.5) : undefined;
      const out = new Int32Array(n);
      for (let qi = 0; qi < nq; qi++) {
        // 3: whole boxes inside the ball, counted without looking at their points
        for (const r of [0.1, 0.5, 3]) {
          const brute: number[] = [];
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let t = 0; t < d; t++) s += (x[j * d + t]! - queries[qi * d + t]!) ** 2;
            if (s <= r * r) brute.push(j);
          }
          for (const index of grid === undefined || r > 0.5 ? [tree] : [tree, grid]) {
            const m = index.within(queries, qi * d, r * r, out);
            expect(Array.from(out.subarray(0, m)).sort((a, b) => a - b)).toEqual(brute);
            expect(index.countWithin(queries, qi * d, r * r, 3)).toBe(Math.min(3, brute.length));
          }
        }
      }
    });

    it(`k-d tree nearest neighbours equal brute force in ${d}-D, ties by row`, () => {
      const tree = buildKdTree(x, n, d);
      const idx = new Int32Array(7);
      const sq = new Float64Array(7);
      for (let qi = 0; qi < nq; qi++) {
        const all = Array.from({ length: n }, (_, j) => {
          let s = 0;
          for (let t = 0; t < d; t++) s += (x[j * d + t]! - queries[qi * d + t]!) ** 2;
          return [s, j] as const;
        }).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(tree.nearest(queries, qi * d, 7, idx, sq)).toBe(7);
        expect(Array.from(idx)).toEqual(all.slice(0, 7).map((e) => e[1]));
        expect(Array.from(sq)).toEqual(all.slice(0, 7).map((e) => e[0]));
      }
    });
  }

  it('marked rows leave withinUnmarked results', () => {
    const rng = createRng(3);
    const x = Float64Array.from({ length: 600 }, () => rng.next());
    for (const index of [buildKdTree(x, 300, 2), buildGrid(x, 300, 2, 0.3)!]) {
      const out = new Int32Array(300);
      const q = Float64Array.from([0.5, 0.5]);
      const before = Array.from(out.subarray(0, index.withinUnmarked(q, 0, 0.09, out))).sort((a, b) => a - b);
      for (let j = 0; j < 300; j += 2) index.mark(j);
      index.mark(0);
      const after = Array.from(out.subarray(0, index.withinUnmarked(q, 0, 0.09, out))).sort((a, b) => a - b);
      expect(after).toEqual(before.filter((j) => j % 2 === 1));
      expect(index.within(q, 0, 0.09, out)).toBe(before.length);
    }
  });

  it('the grid declines a radius tiny against the data range', () => {
    const x = Float64Array.from([0, 1e9]);
    expect(buildGrid(x, 2, 1, 1e-6)).toBeUndefined();
    expect(() => buildGrid(x, 2, 1, 0)).toThrow(MlInputError);
    const grid = buildGrid(Float64Array.from([0, 100]), 2, 1, 1)!;
    expect(() => grid.within(x, 0, 4, new Int32Array(2))).toThrow(/exceeds/);
  });
});
