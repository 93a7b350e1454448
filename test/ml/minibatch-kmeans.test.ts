import { describe, it, expect } from 'vitest';
import { kmeans } from '../../src/ml/kmeans.js';
import { miniBatchKMeans } from '../../src/ml/minibatch-kmeans.js';
import { adjustedRandIndex } from '../../src/ml/metrics.js';
import { MlInputError } from '../../src/ml/errors.js';
import { makeBlobs } from './reference-data.js';

describe('mini-batch k-means', () => {
  const n = 30_000;
  const d = 6;
  const blobs = makeBlobs(n, d, 5, { seed: 21, scale: 8 });

  it('finds the blobs, within 1% of full k-means inertia, in fewer row visits', () => {
    const full = kmeans(blobs.data, n, d, 5, { seed: 1, nInit: 1 });
    const mb = miniBatchKMeans(blobs.data, n, d, 5, { seed: 1, batchSize: 512 });
    expect(adjustedRandIndex(mb.labels, blobs.labels)).toBeGreaterThan(0.99);
    expect(mb.inertia).toBeLessThanOrEqual(full.inertia * 1.01);
    // early stopping: far fewer than maxIter epochs of steps
    expect(mb.converged).toBe(true);
    expect(mb.iterations * 512).toBeLessThan(10 * n);
    expect(mb.labels.length).toBe(n);
  });

  it('gives the identical model for the same seed, and a valid one for another', () => {
    const a = miniBatchKMeans(blobs.data, n, d, 5, { seed: 7 });
    const b = miniBatchKMeans(blobs.data, n, d, 5, { seed: 7 });
    expect(Array.from(a.centroids)).toEqual(Array.from(b.centroids));
    expect(a.labels).toEqual(b.labels);
    const c = miniBatchKMeans(blobs.data, n, d, 5, { seed: 8 });
    expect(adjustedRandIndex(c.labels, a.labels)).toBeGreaterThan(0.99);
  });

  it('works from tiny batches, and checks its input', () => {
    // batches of 64 rows, re-seeding checks every step
    const small = makeBlobs(3000, 2, 3, { seed: 3, scale: 20 });
    const m = miniBatchKMeans(small.data, 3000, 2, 3, { seed: 2, batchSize: 64 });
    expect(adjustedRandIndex(m.labels, small.labels)).toBeGreaterThan(0.95);
    expect(() => miniBatchKMeans(small.data, 3000, 2, 0)).toThrow(MlInputError);
    expect(() => miniBatchKMeans(small.data, 3000, 2, 3, { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => miniBatchKMeans(small.data, 3000, 2, 3, { reassignmentRatio: 1 })).toThrow(/reassignmentRatio/);
  });
});
