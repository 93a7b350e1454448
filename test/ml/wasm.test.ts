import { execFileSync } from 'node:child_process';
import { describe, it, expect } from 'vitest';
import { CHUNK_ROWS, kmeans, type KMeansOptions } from '../../src/ml/kmeans.js';
import { silhouette } from '../../src/ml/metrics.js';
import { mlArena } from '../../src/ml/wasm.js';
import { makeBlobs } from './reference-data.js';

describe('WebAssembly kernels', () => {
  it('are built from asm/*.ts as they stand', () => {
    // Exits 1 when the committed binary is stale; execFileSync throws then.
    const out = execFileSync(process.execPath, ['asm/build.mjs', '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/up to date/);
  }, 60_000);

  // Every sum runs in the same order in both kernels, so the models are the
  // same bits. k = 6 and 9 leave a partial block of four in the SIMD scan.
  const shapes: [number, number][] = [
    [12, 6],
    [5, 9],
    [3, 4],
    [1, 2],
  ];
  for (const [d, k] of shapes) {
    const n = 3 * CHUNK_ROWS + 77;
    const blobs = makeBlobs(n, d, k, { seed: 20 + d, scale: 1.6 });
    for (const bounds of ['elkan', 'hamerly'] as const) {
      it(`gives the JavaScript kernel's model bit for bit, d = ${d}, k = ${k}, ${bounds}`, () => {
        const opts: Partial<KMeansOptions> = { seed: 5, nInit: 2, tol: 0, bounds, threads: 2 };
        const wasm = kmeans(blobs.data, n, d, k, { ...opts, kernel: 'wasm' });
        const js = kmeans(blobs.data, n, d, k, { ...opts, kernel: 'js' });
        expect(wasm.iterations).toBeGreaterThan(3);
        expect(wasm.iterations).toBe(js.iterations);
        expect(wasm.labels).toEqual(js.labels);
        expect(wasm.inertia).toBe(js.inertia);
        expect(Array.from(wasm.centroids)).toEqual(Array.from(js.centroids));
      });
    }
  }

  // 1003 rows: runs of four and a tail; d = 1 and 7 exercise the column loop's ends.
  for (const d of [12, 7, 1]) {
    it(`silhouette gives the JavaScript kernel's value, d = ${d}`, () => {
      const n = 1003;
      const { data, labels } = makeBlobs(n, d, 5, { seed: 40 + d, scale: 2 });
      const wasm = silhouette(data, n, d, labels, { kernel: 'wasm' });
      const js = silhouette(data, n, d, labels, { kernel: 'js' });
      expect(Math.abs(wasm)).toBeGreaterThan(0.01);
      // Each distance is the same bits; the sums of distances add up in another order.
      expect(Math.abs(wasm - js)).toBeLessThan(1e-13);
    });
  }

  // Workers hold every shared memory they are sent until they collect garbage,
  // which idle ones never do: fits must reuse one memory, not leave one each.
  it('k-means fits reuse one arena memory, grown in place when a fit needs more', () => {
    const first = mlArena(1 << 20)!;
    expect(first).toBeDefined();
    const { data } = makeBlobs(6 * CHUNK_ROWS, 4, 3, { seed: 3 });
    kmeans(data, 6 * CHUNK_ROWS, 4, 3, { seed: 1, nInit: 1, threads: 2 });
    kmeans(data, 6 * CHUNK_ROWS, 4, 3, { seed: 2, nInit: 1, threads: 2 });
    const generation = first.generation;
    const before = first.memory.buffer.byteLength;
    const bigger = mlArena(before + (8 << 20))!;
    expect(bigger.generation).toBe(generation);
    expect(bigger.memory).toBe(first.memory);
    expect(bigger.memory.buffer.byteLength).toBeGreaterThanOrEqual(before + (8 << 20));
    // Fits after a grow still run on the workers over the grown memory.
    const a = kmeans(data, 6 * CHUNK_ROWS, 4, 3, { seed: 2, nInit: 1, threads: 2 });
    const b = kmeans(data, 6 * CHUNK_ROWS, 4, 3, { seed: 2, nInit: 1, threads: 1 });
    expect(a.labels).toEqual(b.labels);
    expect(a.inertia).toBe(b.inertia);
  });

  it('checks the kernel option', () => {
    const { data, labels } = makeBlobs(50, 2, 2, { seed: 1 });
    expect(() => kmeans(data, 50, 2, 2, { kernel: 'gpu' as 'js' })).toThrow(/kernel must be 'auto', 'wasm' or 'js'/);
    expect(() => silhouette(data, 50, 2, labels, { kernel: 'gpu' as 'js' })).toThrow(/kernel must be 'auto', 'wasm' or 'js'/);
  });
});
