import { describe, it, expect } from 'vitest';
import { kmeans as mlKmeans } from 'ml-kmeans';
import { MlInputError } from '../../src/ml/errors.js';
import { fromJSON, kmeans, predict, toJSON, type KMeansModel } from '../../src/ml/kmeans.js';
import { adjustedRandIndex } from '../../src/ml/metrics.js';
import { createRng, sampleIndices } from '../../src/ml/random.js';
import { loadReference, makeBlobs } from './reference-data.js';

function expectRel(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

function toRows(data: Float64Array, n: number, d: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * d, i * d + d)));
}

/** Sum of squared distances from each row to the centroid of its label. */
function objective(data: Float64Array, d: number, labels: ArrayLike<number>, centroids: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    for (let t = 0; t < d; t++) s += (data[i * d + t]! - centroids[c * d + t]!) ** 2;
  }
  return s;
}

/** The invariants any finished run must satisfy, whatever the seed. */
function expectConsistent(model: KMeansModel, data: Float64Array, n: number, d: number): void {
  expect(model.centroids).toHaveLength(model.k * d);
  expect(model.labels).toHaveLength(n);
  expect(model.labels.every((l) => l >= 0 && l < model.k)).toBe(true);
  // Every row is labelled with its nearest centroid...
  const { labels } = predict(model, data, n);
  expect(Array.from(labels)).toEqual(Array.from(model.labels));
  // ...and inertia is the objective of those labels.
  expectRel(model.inertia, objective(data, d, model.labels, model.centroids), 1e-12);
}

describe('k-means on iris against scikit-learn', () => {
  const iris = loadReference('iris');

  it('finds inertia 78.851441426146 and ARI 0.7302382723 with nInit=10', () => {
    const model = kmeans(iris.data, iris.n, iris.d, 3, { nInit: 10 });
    expectRel(model.inertia, 78.851441426146, 1e-6);
    expect(Math.abs(adjustedRandIndex(iris.labels, model.labels) - 0.7302382723)).toBeLessThan(1e-6);
    expect(model.converged).toBe(true);
    expectConsistent(model, iris.data, iris.n, iris.d);
  });

  it('finds the same optimum from other seeds', () => {
    for (const seed of [0, 1, 2, 3]) {
      const model = kmeans(iris.data, iris.n, iris.d, 3, { nInit: 10, seed });
      expectRel(model.inertia, 78.851441426146, 1e-6);
    }
  });
});

describe('k-means against ml-kmeans', () => {
  const n = 5000;
  const d = 4;
  const k = 5;
  const blobs = makeBlobs(n, d, k, { seed: 11 });
  const rows = toRows(blobs.data, n, d);

  it('reaches at most ml-kmeans inertia and the same partition', () => {
    // ml-kmeans has no nInit: run it from several seeds and keep its best.
    const theirs = [1, 2, 3, 4]
      .map((seed) => mlKmeans(rows, k, { seed, initialization: 'kmeans++' }))
      .map((r) => ({ labels: Int32Array.from(r.clusters), inertia: objective(blobs.data, d, r.clusters, r.centroids.flat()) }))
      .reduce((best, r) => (r.inertia < best.inertia ? r : best));
    const ours = kmeans(blobs.data, n, d, k, { nInit: 4 });
    expect(ours.inertia).toBeLessThanOrEqual(theirs.inertia * (1 + 1e-6));
    expect(adjustedRandIndex(ours.labels, theirs.labels)).toBeGreaterThan(0.999);
    expect(adjustedRandIndex(ours.labels, blobs.labels)).toBeGreaterThan(0.999);
    expectConsistent(ours, blobs.data, n, d);
  });

  it('reaches at most ml-kmeans inertia on overlapping blobs when run to convergence', () => {
    // Overlap creates local optima. With the default relative tol a run may
    // stop (as scikit-learn's does) a hair above the optimum, so tol = 0 here.
    const hard = makeBlobs(n, d, k, { seed: 5, scale: 2.5 });
    const hardRows = toRows(hard.data, n, d);
    const best = Math.min(
      ...[1, 2, 3, 4].map((seed) => {
        const r = mlKmeans(hardRows, k, { seed });
        return objective(hard.data, d, r.clusters, r.centroids.flat());
      }),
    );
    const ours = kmeans(hard.data, n, d, k, { nInit: 4, tol: 0 });
    expect(ours.inertia).toBeLessThanOrEqual(best * (1 + 1e-6));
    expectConsistent(ours, hard.data, n, d);
  });

  it('gives an identical model for the same seed', () => {
    const a = kmeans(blobs.data, n, d, k, { seed: 5, nInit: 2 });
    const b = kmeans(blobs.data, n, d, k, { seed: 5, nInit: 2 });
    expect(b).toEqual(a);
  });

  it('gives a valid model for a different seed', () => {
    const a = kmeans(blobs.data, n, d, k, { seed: 5 });
    const b = kmeans(blobs.data, n, d, k, { seed: 6 });
    expectConsistent(b, blobs.data, n, d);
    expect(adjustedRandIndex(a.labels, b.labels)).toBeGreaterThan(0.999);
    expectRel(b.inertia, a.inertia, 1e-9);
  });
});

describe('k-means options', () => {
  const { data } = makeBlobs(600, 2, 3, { seed: 4, scale: 4 });

  it('random init and explicit centroids also converge', () => {
    const random = kmeans(data, 600, 2, 3, { init: 'random', nInit: 3 });
    expectConsistent(random, data, 600, 2);
    // Starting from a solution, one step confirms it.
    const warm = kmeans(data, 600, 2, 3, { init: random.centroids });
    expect(warm.iterations).toBeLessThanOrEqual(2);
    expectRel(warm.inertia, random.inertia, 1e-9);
    expectConsistent(warm, data, 600, 2);
  });

  it('stops at maxIter and says it did not converge', () => {
    const model = kmeans(data, 600, 2, 3, { maxIter: 1, tol: 0, init: data.slice(0, 6) });
    expect(model.iterations).toBe(1);
    expect(model.converged).toBe(false);
    expectConsistent(model, data, 600, 2);
  });

  it('k = 1 is the mean and k = n puts every distinct row alone', () => {
    const one = kmeans(data, 600, 2, 1);
    const mean = [0, 1].map((t) => data.filter((_, i) => i % 2 === t).reduce((a, v) => a + v, 0) / 600);
    expectRel(one.centroids[0]!, mean[0]!, 1e-12);
    expectRel(one.centroids[1]!, mean[1]!, 1e-12);
    const x = Float64Array.from([0, 1, 5, 9]);
    expect(kmeans(x, 4, 1, 4).inertia).toBe(0);
  });
});

describe('empty clusters', () => {
  it('re-seed at the row farthest from its centre', () => {
    const x = Float64Array.from([0, 0.1, 0.5, 10, 10.1]);
    // The third centre attracts nothing and must move to 0.5.
    const model = kmeans(x, 5, 1, 3, { init: Float64Array.from([0.1, 10.05, 1000]) });
    expect(Array.from(model.centroids)).toEqual([0.05, 10.05, 0.5]);
    expect(Array.from(model.labels)).toEqual([0, 0, 2, 1, 1]);
    expectRel(model.inertia, 0.01, 1e-9);
  });

  it('survive fewer distinct rows than clusters', () => {
    const same = new Float64Array(12).fill(3);
    const model = kmeans(same, 6, 2, 3);
    expect(model.inertia).toBe(0);
    expect(model.centroids.every((v) => v === 3)).toBe(true);
    const two = Float64Array.from([1, 1, 1, 2, 2, 2, 2, 2]);
    const m2 = kmeans(two, 8, 1, 3, { nInit: 2 });
    expect(m2.inertia).toBe(0);
    expectConsistent(m2, two, 8, 1);
  });
});

describe('input checks', () => {
  const x = Float64Array.from([0, 0, 1, 1, 2, 2, 3, 3]);

  it('NaN names the row and column', () => {
    const bad = x.slice();
    bad[5] = NaN;
    expect(() => kmeans(bad, 4, 2, 2)).toThrow(MlInputError);
    expect(() => kmeans(bad, 4, 2, 2)).toThrow(/row 2, column 1/);
    bad[5] = Infinity;
    expect(() => kmeans(bad, 4, 2, 2)).toThrow(/row 2, column 1/);
  });

  it('k must be an integer between 1 and n', () => {
    expect(() => kmeans(x, 4, 2, 5)).toThrow(MlInputError);
    expect(() => kmeans(x, 4, 2, 0)).toThrow(MlInputError);
    expect(() => kmeans(x, 4, 2, 1.5)).toThrow(MlInputError);
  });

  it('data length must be n*d', () => {
    expect(() => kmeans(x, 3, 2, 2)).toThrow(/n\*d/);
    expect(() => kmeans(x, 4, 3, 2)).toThrow(MlInputError);
    expect(() => kmeans(new Float64Array(0), 0, 2, 1)).toThrow(MlInputError);
  });

  it('options are checked', () => {
    expect(() => kmeans(x, 4, 2, 2, { nInit: 0 })).toThrow(MlInputError);
    expect(() => kmeans(x, 4, 2, 2, { maxIter: -1 })).toThrow(MlInputError);
    expect(() => kmeans(x, 4, 2, 2, { tol: NaN })).toThrow(MlInputError);
    expect(() => kmeans(x, 4, 2, 2, { seed: 0.5 })).toThrow(MlInputError);
    expect(() => kmeans(x, 4, 2, 2, { init: new Float64Array(3) })).toThrow(MlInputError);
  });

  it('predict checks its input against the model', () => {
    const model = kmeans(x, 4, 2, 2);
    expect(() => predict(model, x, 3)).toThrow(MlInputError);
    expect(() => predict(model, Float64Array.from([0, NaN]), 1)).toThrow(/row 0, column 1/);
  });
});

describe('predict and JSON', () => {
  const blobs = makeBlobs(1000, 3, 4, { seed: 9 });
  const model = kmeans(blobs.data, 1000, 3, 4);

  it('predict gives labels and Euclidean distances to the nearest centroid', () => {
    const { labels, distances } = predict(model, blobs.data, 1000);
    expect(Array.from(labels)).toEqual(Array.from(model.labels));
    expectRel(distances.reduce((a, v) => a + v * v, 0), model.inertia, 1e-12);
  });

  it('round-trips through JSON text', () => {
    const json = JSON.parse(JSON.stringify(toJSON(model))) as unknown;
    expect(json).toMatchObject({ kind: 'kmeans', version: 1, k: 4, d: 3 });
    const restored = fromJSON(json);
    expect(restored.centroids).toEqual(model.centroids);
    expect(predict(restored, blobs.data, 1000)).toEqual(predict(model, blobs.data, 1000));
    expect(toJSON(restored)).toEqual(toJSON(model));
  });

  it('fromJSON rejects what toJSON would not write', () => {
    const good = toJSON(model);
    expect(() => fromJSON(null)).toThrow(MlInputError);
    expect(() => fromJSON({ ...good, kind: 'other' })).toThrow(MlInputError);
    expect(() => fromJSON({ ...good, version: 2 })).toThrow(MlInputError);
    expect(() => fromJSON({ ...good, centroids: good.centroids.slice(1) })).toThrow(MlInputError);
    expect(() => fromJSON({ ...good, centroids: good.centroids.map(String) })).toThrow(MlInputError);
  });
});

// random.ts has no test file of its own; k-means is what depends on it.
describe('seeded randomness', () => {
  it('replays a stream from its seed, and different seeds differ', () => {
    const draw = (seed: number): number[] => {
      const rng = createRng(seed);
      return Array.from({ length: 5 }, () => rng.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    // High bits of the seed count too.
    expect(draw(2 ** 40)).not.toEqual(draw(0));
    expect(draw(-1)).not.toEqual(draw(1));
  });

  it('next is uniform in [0, 1), int in range, normal standard', () => {
    const rng = createRng(1);
    const m = 200_000;
    let sum = 0;
    let sumSq = 0;
    let nSum = 0;
    let nSq = 0;
    let outside = 0;
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < m; i++) {
      const u = rng.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      sumSq += u * u;
      const b = rng.int(10);
      buckets[b] = buckets[b]! + 1;
      const z = rng.normal();
      nSum += z;
      nSq += z * z;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / m - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sumSq / m - 1 / 3)).toBeLessThan(0.005);
    for (const c of buckets) expect(Math.abs(c / m - 0.1)).toBeLessThan(0.005);
    expect(Math.abs(nSum / m)).toBeLessThan(0.01);
    expect(Math.abs(nSq / m - 1)).toBeLessThan(0.02);
  });

  it('sampleIndices draws distinct in-range indices, sparse or dense', () => {
    for (const [n, m] of [[1000, 10], [1000, 900], [5, 5], [7, 0]] as const) {
      const idx = sampleIndices(n, m, createRng(3));
      expect(idx).toHaveLength(m);
      expect(new Set(idx).size).toBe(m);
      expect(idx.every((i) => i >= 0 && i < n)).toBe(true);
      expect(sampleIndices(n, m, createRng(3))).toEqual(idx);
    }
  });

  it('rejects bad arguments', () => {
    expect(() => createRng(0.5)).toThrow(MlInputError);
    expect(() => createRng(Number.NaN)).toThrow(MlInputError);
    expect(() => createRng(1).int(0)).toThrow(MlInputError);
    expect(() => sampleIndices(3, 4, createRng(1))).toThrow(MlInputError);
  });
});
