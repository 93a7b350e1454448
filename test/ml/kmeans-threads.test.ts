import { describe, it, expect } from 'vitest';
import { CHUNK_ROWS, kmeans, type KMeansModel, type KMeansOptions } from '../../src/ml/kmeans.js';
import { makeBlobs } from './reference-data.js';

/** Bit for bit: labels, centroids, inertia, iterations. */
function expectIdentical(a: KMeansModel, b: KMeansModel): void {
  expect(a.labels).toEqual(b.labels);
  expect(Array.from(a.centroids)).toEqual(Array.from(b.centroids));
  expect(a.inertia).toBe(b.inertia);
  expect(a.iterations).toBe(b.iterations);
  expect(a.converged).toBe(b.converged);
}

// Enough chunks for the workers to join in; overlapping blobs so runs take many iterations.
const n = 6 * CHUNK_ROWS + 123;
const d = 5;
const blobs = makeBlobs(n, d, 7, { seed: 11, scale: 1.5 });

for (const kernel of ['wasm', 'js'] as const) describe(`k-means on worker threads, ${kernel} kernel`, () => {

  const cases: [string, Partial<KMeansOptions>][] = [
    ['k-means++, nInit 2', { seed: 7, nInit: 2 }],
    ['tol 0, run to stable labels', { seed: 1, nInit: 1, tol: 0 }],
    ['random init, maxIter 3', { seed: 2, nInit: 1, init: 'random', maxIter: 3, tol: 0 }],
  ];
  for (const [name, common] of cases) {
    const opts = { ...common, kernel };
    it(`${name}: one, two and three threads give the identical model`, () => {
      const one = kmeans(blobs.data, n, d, 7, { ...opts, threads: 1 });
      expect(one.iterations).toBeGreaterThan(1);
      expectIdentical(kmeans(blobs.data, n, d, 7, { ...opts, threads: 2 }), one);
      expectIdentical(kmeans(blobs.data, n, d, 7, { ...opts, threads: 3 }), one);
    });
  }

  it("Elkan's and Hamerly's bounds give the identical model", () => {
    const opts = { seed: 4, nInit: 1, tol: 0, kernel };
    const elkan = kmeans(blobs.data, n, d, 7, { ...opts, bounds: 'elkan', threads: 2 });
    expect(elkan.iterations).toBeGreaterThan(5);
    expectIdentical(kmeans(blobs.data, n, d, 7, { ...opts, bounds: 'hamerly', threads: 1 }), elkan);
    expect(() => kmeans(blobs.data, n, d, 7, { bounds: 'lloyd' as 'elkan' })).toThrow(/bounds/);
  });

  it('takes data over a SharedArrayBuffer without changing the result', () => {
    const shared = new Float64Array(new SharedArrayBuffer(n * d * 8));
    shared.set(blobs.data);
    expectIdentical(kmeans(shared, n, d, 7, { seed: 9, threads: 2, kernel }), kmeans(blobs.data, n, d, 7, { seed: 9, threads: 1, kernel }));
  });

  it('is a true k-means fixed point: every row sits at its nearest centroid, centroids are cluster means', () => {
    const m = kmeans(blobs.data, n, d, 7, { seed: 3, threads: 2, tol: 0, nInit: 1, kernel });
    expect(m.converged).toBe(true);
    const sums = new Float64Array(7 * d);
    const counts = new Float64Array(7);
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      let arg = -1;
      for (let j = 0; j < 7; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += (blobs.data[i * d + t]! - m.centroids[j * d + t]!) ** 2;
        if (s < best) [best, arg] = [s, j];
      }
      expect(m.labels[i]).toBe(arg);
      counts[arg] = counts[arg]! + 1;
      for (let t = 0; t < d; t++) sums[arg * d + t] = sums[arg * d + t]! + blobs.data[i * d + t]!;
    }
    for (let j = 0; j < 7 * d; j++) expect(m.centroids[j]).toBeCloseTo(sums[j]! / counts[Math.floor(j / d)]!, 9);
  });

  it('rejects a bad thread count', () => {
    expect(() => kmeans(blobs.data, n, d, 3, { threads: 0 })).toThrow(/threads/);
  });
});
