import { describe, it, expect } from 'vitest';
import { MlInputError } from '../../src/ml/errors.js';
import { kmeans, type KMeansModel, type KMeansOptions } from '../../src/ml/kmeans.js';
import { kmeansParallel } from '../../src/ml/kmeans-parallel.js';
import { makeBlobs } from './reference-data.js';

/** Same labels, iterations and convergence; centroids and inertia up to summation order. */
function expectSameRun(par: KMeansModel, ref: KMeansModel): void {
  expect(par.labels).toEqual(ref.labels);
  expect(par.iterations).toBe(ref.iterations);
  expect(par.converged).toBe(ref.converged);
  expect(Math.abs(par.inertia - ref.inertia)).toBeLessThanOrEqual(1e-12 * ref.inertia);
  const scale = Math.max(...Array.from(ref.centroids, Math.abs));
  const worst = Math.max(...Array.from(ref.centroids, (v, i) => Math.abs(v - par.centroids[i]!)));
  expect(worst).toBeLessThanOrEqual(1e-12 * scale);
}

describe('parallel k-means against the single-threaded reference', () => {
  const n = 2000;
  const d = 3;
  const blobs = makeBlobs(n, d, 6, { seed: 3, scale: 3 });
  // Force the workers on small data.
  const par = { threads: 2, minRowsPerThread: 1 };

  const cases: [string, Partial<KMeansOptions>][] = [
    ['k-means++, nInit 3', { seed: 7, nInit: 3 }],
    ['tol 0, run to stable labels', { seed: 1, nInit: 1, tol: 0 }],
    ['random init, maxIter 3', { seed: 2, nInit: 2, init: 'random', maxIter: 3, tol: 0 }],
  ];
  for (const [name, opts] of cases) {
    it(`${name}: same run for the same seed`, async () => {
      const ref = kmeans(blobs.data, n, d, 6, opts);
      expectSameRun(await kmeansParallel(blobs.data, n, d, 6, { ...opts, ...par }), ref);
    });
  }

  it('three threads and data over a SharedArrayBuffer', async () => {
    const shared = new Float64Array(new SharedArrayBuffer(n * d * 8));
    shared.set(blobs.data);
    const ref = kmeans(blobs.data, n, d, 6, { seed: 9 });
    expectSameRun(await kmeansParallel(shared, n, d, 6, { seed: 9, threads: 3, minRowsPerThread: 1 }), ref);
  });

  it('re-seeds empty clusters like the reference', async () => {
    const x = Float64Array.from([0, 0.1, 0.5, 10, 10.1]);
    const init = Float64Array.from([0.1, 10.05, 1000]);
    const ref = kmeans(x, 5, 1, 3, { init });
    const got = await kmeansParallel(x, 5, 1, 3, { init, ...par });
    expect(Array.from(got.centroids)).toEqual([0.05, 10.05, 0.5]);
    expectSameRun(got, ref);
  });

  it('runs the reference itself below minRowsPerThread', async () => {
    const opts = { seed: 5, nInit: 2 };
    expect(await kmeansParallel(blobs.data, n, d, 6, { ...opts, threads: 4 })).toEqual(kmeans(blobs.data, n, d, 6, opts));
  });

  it('rejects what k-means rejects, and a bad thread count', async () => {
    await expect(kmeansParallel(blobs.data, n, d, 0, par)).rejects.toThrow(MlInputError);
    await expect(kmeansParallel(blobs.data, n, d, 3, { ...par, tol: -1 })).rejects.toThrow(MlInputError);
    await expect(kmeansParallel(blobs.data, n, d, 3, { threads: 0 })).rejects.toThrow(/threads/);
    await expect(kmeansParallel(blobs.data, n + 1, d, 3, par)).rejects.toThrow(MlInputError);
  });
});
