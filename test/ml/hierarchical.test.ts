import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { MlInputError } from '../../src/ml/errors.js';
import {
  cutLabels,
  cutTree,
  fromJSON,
  hierarchical,
  hierarchicalMaxSamples,
  hierarchicalTree,
  linkageMatrix,
  predict,
  toJSON,
  type Linkage,
} from '../../src/ml/hierarchical.js';
import { adjustedRandIndex } from '../../src/ml/metrics.js';
import { createRng } from '../../src/ml/random.js';
import { loadReference, makeBlobs } from './reference-data.js';

/**
 * scipy 1.17.1's `linkage(X, method)` on raw iris, one [a, b, height, size]
 * per merge, written with
 *   json.dump({m: linkage(X, m).tolist() for m in ...}, f)   (full precision).
 */
const scipyIris = JSON.parse(
  readFileSync(new URL('./fixtures/iris-linkage.json', import.meta.url), 'utf8'),
) as Record<Linkage, [number, number, number, number][]>;

const linkages: Linkage[] = ['ward', 'average', 'complete'];

function rows(z: Float64Array): number[][] {
  return Array.from({ length: z.length / 4 }, (_, i) => Array.from(z.subarray(i * 4, i * 4 + 4)));
}

/**
 * The textbook O(n³) algorithm: repeatedly merge the closest pair of active
 * clusters (lowest ids first on ties), Lance-Williams updates on the full
 * matrix of Euclidean distances, exactly scipy's formulas — Ward's included,
 * which the implementation computes from centroids instead.
 */
function naiveLinkage(x: Float64Array, n: number, d: number, linkage: Linkage): number[][] {
  const dist: number[][] = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let t = 0; t < d; t++) s += (x[i * d + t]! - x[j * d + t]!) ** 2;
      return Math.sqrt(s);
    }),
  );
  const size = new Array<number>(n).fill(1);
  const id = Array.from({ length: n }, (_, i) => i);
  const alive = new Array<boolean>(n).fill(true);
  const out: number[][] = [];
  for (let step = 0; step < n - 1; step++) {
    let bi = -1;
    let bj = -1;
    let best = Infinity;
    for (let i = 0; i < n; i++) {
      if (!alive[i]) continue;
      for (let j = i + 1; j < n; j++) {
        if (alive[j] && dist[i]![j]! < best) {
          best = dist[i]![j]!;
          bi = i;
          bj = j;
        }
      }
    }
    const [ni, nj] = [size[bi]!, size[bj]!];
    for (let c = 0; c < n; c++) {
      if (!alive[c] || c === bi || c === bj) continue;
      const di = dist[c]![bi]!;
      const dj = dist[c]![bj]!;
      const nc = size[c]!;
      let v: number;
      if (linkage === 'average') v = (ni * di + nj * dj) / (ni + nj);
      else if (linkage === 'complete') v = Math.max(di, dj);
      else v = Math.sqrt(((nc + ni) * di * di + (nc + nj) * dj * dj - nc * best * best) / (nc + ni + nj));
      dist[c]![bj] = v;
      dist[bj]![c] = v;
    }
    out.push([Math.min(id[bi]!, id[bj]!), Math.max(id[bi]!, id[bj]!), best, ni + nj]);
    alive[bi] = false;
    size[bj] = ni + nj;
    id[bj] = n + step;
  }
  return out;
}

function uniform(n: number, d: number, seed: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n * d }, () => rng.next() * 10);
}

describe('hierarchical clustering on iris against scipy / scikit-learn', () => {
  const iris = loadReference('iris');

  it('Ward cut at k=3 has ARI 0.7311985567 against the true labels', () => {
    const model = hierarchical(iris.data, iris.n, iris.d, 3);
    expect(model.linkage).toBe('ward');
    expect(Math.abs(adjustedRandIndex(iris.labels, model.labels) - 0.7311985567)).toBeLessThan(1e-9);
  });

  it('average and complete cut at k=3 match scipy (ARI 0.7591987071, 0.6422512518)', () => {
    const average = hierarchical(iris.data, iris.n, iris.d, 3, { linkage: 'average' });
    const complete = hierarchical(iris.data, iris.n, iris.d, 3, { linkage: 'complete' });
    expect(Math.abs(adjustedRandIndex(iris.labels, average.labels) - 0.7591987071)).toBeLessThan(1e-9);
    expect(Math.abs(adjustedRandIndex(iris.labels, complete.labels) - 0.6422512518)).toBeLessThan(1e-9);
  });

  it('average and complete linkage matrices equal scipy, ids and heights', () => {
    for (const linkage of ['average', 'complete'] as const) {
      const z = rows(linkageMatrix(iris.data, iris.n, iris.d, linkage));
      expect(z).toEqual(scipyIris[linkage]);
    }
  });

  it('Ward heights equal scipy to 1e-12 (last merge 32.447606999592...) and every cut agrees', () => {
    const z = linkageMatrix(iris.data, iris.n, iris.d, 'ward');
    const ref = scipyIris.ward;
    expect(Math.abs(z[148 * 4 + 2]! - 32.44760699959244)).toBeLessThan(1e-12);
    for (let i = 0; i < 149; i++) {
      expect(Math.abs(z[i * 4 + 2]! - ref[i]![2])).toBeLessThanOrEqual(1e-12 * ref[i]![2]);
    }
    // Merges at equal heights (iris has duplicate rows) may come in another
    // order, as the two formulas round differently; the same merges happen
    // and cuts between distinct heights give scipy's partitions.
    const sizes = (zs: number[][]): number[] => zs.map((r) => r[3]!).sort((a, b) => a - b);
    expect(sizes(rows(z))).toEqual(sizes(ref));
    const refZ = Float64Array.from(ref.flat());
    for (let k = 1; k <= 40; k++) {
      expect(adjustedRandIndex(cutLabels(z, 150, k), cutLabels(refZ, 150, k))).toBe(1);
    }
  });
});

describe('hierarchical clustering against a naive O(n³) implementation', () => {
  for (const linkage of linkages) {
    for (const [n, d, seed] of [
      [60, 3, 1],
      [45, 1, 2],
      [37, 7, 3],
      [2, 2, 4],
    ] as const) {
      it(`${linkage} on ${n} x ${d} random points: same merges, heights to 1e-10`, () => {
        const x = uniform(n, d, seed);
        const ours = rows(linkageMatrix(x, n, d, linkage));
        const naive = naiveLinkage(x, n, d, linkage);
        expect(ours).toHaveLength(n - 1);
        ours.forEach((row, i) => {
          const ref = naive[i]!;
          expect([row[0], row[1], row[3]]).toEqual([ref[0], ref[1], ref[3]]);
          expect(Math.abs(row[2]! - ref[2]!)).toBeLessThanOrEqual(1e-10 * ref[2]!);
        });
      });
    }
  }

  it('merge heights never decrease, for every linkage', () => {
    const { data } = makeBlobs(400, 4, 5, { seed: 8, scale: 3 });
    for (const linkage of linkages) {
      const z = linkageMatrix(data, 400, 4, linkage);
      for (let i = 1; i < 399; i++) expect(z[i * 4 + 2]!).toBeGreaterThanOrEqual(z[(i - 1) * 4 + 2]!);
      expect(z[398 * 4 + 3]).toBe(400);
    }
  });

  it('terminates with valid trees on massive ties (identical rows, a lattice)', () => {
    const same = new Float64Array(200).fill(2);
    const lattice = Float64Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? Math.floor(i / 2) % 10 : Math.floor(i / 20)));
    for (const linkage of linkages) {
      expect(Array.from(linkageMatrix(same, 100, 2, linkage).filter((_, i) => i % 4 === 2))).toEqual(new Array(99).fill(0));
      const z = linkageMatrix(lattice, 200, 2, linkage);
      const seen = new Set<number>();
      for (let i = 0; i < 199; i++) {
        if (i > 0) expect(z[i * 4 + 2]!).toBeGreaterThanOrEqual(z[(i - 1) * 4 + 2]!);
        for (const c of [z[i * 4]!, z[i * 4 + 1]!]) {
          expect(c).toBeLessThan(200 + i);
          expect(seen.has(c)).toBe(false);
          seen.add(c);
        }
      }
      expect(z[198 * 4 + 3]).toBe(200);
    }
  });

  it('handles duplicate rows (zero heights) and one row', () => {
    const x = Float64Array.from([1, 1, 1, 1, 1, 1, 5, 5]);
    const z = rows(linkageMatrix(x, 4, 2, 'ward'));
    expect(z.slice(0, 2).map((r) => r[2])).toEqual([0, 0]);
    expect(z[2]![3]).toBe(4);
    expect(linkageMatrix(Float64Array.from([3]), 1, 1)).toHaveLength(0);
    expect(Array.from(hierarchical(Float64Array.from([3]), 1, 1, 1).labels)).toEqual([0]);
  });
});

describe('cutting the tree', () => {
  const { data, labels: truth } = makeBlobs(300, 2, 4, { seed: 5 });

  it('gives k clusters numbered by first appearance, centroids their means', () => {
    const tree = hierarchicalTree(data, 300, 2);
    for (const k of [1, 2, 4, 7]) {
      const model = cutTree(tree, data, 300, k);
      expect(model.k).toBe(k);
      expect(new Set(model.labels).size).toBe(k);
      expect(model.labels[0]).toBe(0);
      let seen = 0;
      for (const l of model.labels) {
        expect(l).toBeLessThanOrEqual(seen);
        if (l === seen) seen++;
      }
      for (let c = 0; c < k; c++) {
        const members = [...model.labels.keys()].filter((i) => model.labels[i] === c);
        const mean = members.reduce((s, i) => s + data[i * 2]!, 0) / members.length;
        expect(Math.abs(model.centroids[c * 2]! - mean)).toBeLessThan(1e-12);
      }
    }
    expect(adjustedRandIndex(cutTree(tree, data, 300, 4).labels, truth)).toBe(1);
  });

  it('cut at k equals undoing the last k-1 merges', () => {
    const z = Float64Array.from([0, 1, 1, 2, 2, 3, 2, 2, 4, 5, 3, 4]);
    // Leaves 0,1 merge (cluster 4), then 2,3 (cluster 5), then 4,5.
    expect(Array.from(cutLabels(z, 4, 1))).toEqual([0, 0, 0, 0]);
    expect(Array.from(cutLabels(z, 4, 2))).toEqual([0, 0, 1, 1]);
    expect(Array.from(cutLabels(z, 4, 3))).toEqual([0, 0, 1, 2]);
    expect(Array.from(cutLabels(z, 4, 4))).toEqual([0, 1, 2, 3]);
  });
});

describe('hierarchical clustering above maxSamples', () => {
  const n = 3000;
  const { data, labels: truth } = makeBlobs(n, 3, 4, { seed: 12 });

  it('builds the tree on a seeded sample and assigns the rest to the nearest centroid', () => {
    const model = hierarchical(data, n, 3, 4, { maxSamples: 400, seed: 7 });
    expect(model.sample).toHaveLength(400);
    expect(model.merges).toHaveLength(399 * 4);
    expect(Array.from(model.sample)).toEqual(Array.from(model.sample).sort((a, b) => a - b));
    expect(adjustedRandIndex(model.labels, truth)).toBeGreaterThan(0.99);
    const nearest = predict(model, data, n).labels;
    const inSample = new Set(model.sample);
    const differ = [...model.labels.keys()].filter((i) => !inSample.has(i) && model.labels[i] !== nearest[i]);
    expect(differ).toEqual([]);
    const again = hierarchical(data, n, 3, 4, { maxSamples: 400, seed: 7 });
    expect(again).toEqual(model);
    expect(hierarchical(data, n, 3, 4, { maxSamples: 400, seed: 8 }).sample).not.toEqual(model.sample);
  });

  it('uses the per-linkage default cap', () => {
    expect(hierarchicalMaxSamples).toEqual({ ward: 10000, average: 5000, complete: 5000 });
    const tree = hierarchicalTree(data.subarray(0, 1200 * 3), 1200, 3, { linkage: 'average' });
    expect(tree.sample).toHaveLength(1200);
  });
});

describe('hierarchical model JSON and input checks', () => {
  const { data } = makeBlobs(200, 2, 3, { seed: 2 });

  it('round-trips and predicts the same', () => {
    const model = hierarchical(data, 200, 2, 3, { linkage: 'complete' });
    const back = fromJSON(JSON.parse(JSON.stringify(toJSON(model))));
    expect(back.linkage).toBe('complete');
    expect(back.merges).toEqual(model.merges);
    expect(predict(back, data, 200)).toEqual(predict(model, data, 200));
  });

  it('rejects bad input', () => {
    expect(() => hierarchical(data, 200, 2, 0)).toThrow(MlInputError);
    expect(() => hierarchical(data, 200, 2, 201)).toThrow(MlInputError);
    expect(() => hierarchical(data, 200, 2, 3, { linkage: 'single' as Linkage })).toThrow(/linkage must be/);
    expect(() => hierarchical(data, 200, 2, 3, { maxSamples: 0 })).toThrow(MlInputError);
    expect(() => hierarchical(new Float64Array(0), 0, 2, 1)).toThrow(/at least one row/);
    expect(() => hierarchical(Float64Array.from([0, Infinity]), 1, 2, 1)).toThrow(/row 0, column 1/);
    expect(() => fromJSON({ kind: 'hierarchical', version: 2 })).toThrow(/version/);
    expect(() => cutLabels(Float64Array.from([0, 7, 1, 2]), 2, 1)).toThrow(/do not exist/);
  });
});
