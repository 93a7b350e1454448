import { describe, it, expect } from 'vitest';
import { dbscan, toJSON as dbscanJSON } from '../../src/ml/dbscan.js';
import { MlInputError } from '../../src/ml/errors.js';
import { gmm } from '../../src/ml/gmm.js';
import { hierarchical } from '../../src/ml/hierarchical.js';
import { kmeans, predict } from '../../src/ml/kmeans.js';
import { createRng } from '../../src/ml/random.js';
import { stability, type ClusterFit } from '../../src/ml/stability.js';
import { makeBlobs } from './reference-data.js';

const kmeansFit =
  (k: number): ClusterFit =>
  (x, n, d, seed) => ({ kind: 'kmeans', ...kmeans(x, n, d, k, { seed, nInit: 1 }) });

describe('stability', () => {
  const n = 1500;
  const d = 2;
  const { data } = makeBlobs(n, d, 3, { seed: 4, scale: 8 });

  it('is 1 for the right k on clear blobs', () => {
    const r = stability(data, n, d, kmeansFit(3));
    expect(r.scores).toHaveLength(10);
    expect(r.min).toBe(1);
    expect(r.mean).toBe(1);
    expect(r.holdout).toHaveLength(300);
  });

  it('is lower for a k that splits blobs arbitrarily, and on structureless data', () => {
    const wrong = stability(data, n, d, kmeansFit(6), { rounds: 8 });
    expect(wrong.mean).toBeLessThan(0.95);
    expect(wrong.min).toBeLessThanOrEqual(wrong.mean);
    const rng = createRng(1);
    const flat = Float64Array.from({ length: n * d }, () => rng.next());
    expect(stability(flat, n, d, kmeansFit(7), { rounds: 8 }).mean).toBeLessThan(0.95);
  });

  it('is deterministic per seed; subsample and named holdout rows work', () => {
    const a = stability(data, n, d, kmeansFit(4), { rounds: 5, seed: 3 });
    expect(stability(data, n, d, kmeansFit(4), { rounds: 5, seed: 3 })).toEqual(a);
    const holdout = Int32Array.from({ length: 200 }, (_, i) => i * 7);
    const sub = stability(data, n, d, kmeansFit(3), { method: 'subsample', fraction: 0.5, holdout, rounds: 4 });
    expect(sub.holdout).toEqual(holdout);
    expect(sub.mean).toBe(1);
  });

  it('accepts any model kind or a labelling function', () => {
    const opts = { rounds: 3 };
    const viaFunction: ClusterFit = (x, m, dim, seed) => {
      const model = kmeans(x, m, dim, 3, { seed });
      return (rows, count) => predict(model, rows, count).labels;
    };
    expect(stability(data, n, d, viaFunction, opts).mean).toBe(1);
    expect(stability(data, n, d, (x, m, dim, seed) => gmm(x, m, dim, 3, { seed }), opts).mean).toBe(1);
    expect(stability(data, n, d, (x, m, dim) => hierarchical(x, m, dim, 3), opts).mean).toBe(1);
    const dens = stability(data, n, d, (x, m, dim) => dbscanJSON(dbscan(x, m, dim, { eps: 1, minPts: 5 })), opts);
    expect(dens.mean).toBeGreaterThan(0.9);
  });

  it('rejects bad options and fits that label the wrong number of rows', () => {
    expect(() => stability(data, n, d, kmeansFit(3), { rounds: 0 })).toThrow(MlInputError);
    expect(() => stability(data, n, d, kmeansFit(3), { holdout: 1 })).toThrow(MlInputError);
    expect(() => stability(data, n, d, kmeansFit(3), { fraction: 0 })).toThrow(MlInputError);
    expect(() => stability(data, n, d, kmeansFit(3), { holdout: Int32Array.from([1, 1, 2]) })).toThrow(/twice/);
    expect(() => stability(data, n, d, kmeansFit(3), { holdout: Int32Array.from([1, n]) })).toThrow(/outside/);
    expect(() => stability(data, n, d, () => () => [0, 1], { rounds: 1 })).toThrow(/labelled 2 rows/);
  });
});
